"""Small functions that return components; they take Vars or plain values, never query data."""

"""What a route or a dashboard page asks for. Every function takes a `Session` and commits
what it changes; every query is scoped by the user it is given."""

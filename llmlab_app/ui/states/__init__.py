"""Event handlers and computed vars; every data access goes through `llmlab_app.services`."""

"""The REST API. `app` is the process-wide FastAPI app configured from `LLMLAB_*`."""

from llmlab_app.api.main import create_app, prepare_database

app = create_app()

__all__ = ["app", "create_app", "prepare_database"]

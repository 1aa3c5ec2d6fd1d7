"""The real LLMLab API (``llmlab_app.api:app``) under uvicorn, for the SDK's end-to-end tests."""

from __future__ import annotations

from pathlib import Path

from tests.live_server import start_api_server


class RealApp:
    """The API on a free port with its own SQLite database in ``data_dir``."""

    def __init__(self, data_dir: Path, *, rate_limit: str = "1000000/minute") -> None:
        self._server = start_api_server(
            data_dir, {"LLMLAB_RATE_LIMIT": rate_limit, "LLMLAB_AUTH_RATE_LIMIT": rate_limit}
        )
        self.url = self._server.base_url

    def stop(self) -> None:
        self._server.stop()

"""Events that could not be sent, kept on disk until LLMLab can take them.

One file per batch (``{"events": [...]}``, at most 1,000 events), written atomically, read back
oldest first. Re-sending a file twice is harmless: the server deduplicates by ``event_id``.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llmlab_sdk.http import encode_json

logger = logging.getLogger("llmlab")

_SUFFIX = ".json"


class EventSpool:
    """A directory of pending batches, shared safely by several processes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self._sequence = itertools.count()

    def write(self, events: Sequence[dict[str, Any]]) -> Path:
        """Persist one batch durably and return its file."""
        name = f"{time.time_ns():020d}-{os.getpid()}-{next(self._sequence):06d}"
        final = self.directory / f"{name}{_SUFFIX}"
        partial = self.directory / f".{name}.tmp"
        with partial.open("wb") as file:
            file.write(encode_json({"events": list(events)}))
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, final)
        return final

    def pending(self) -> list[Path]:
        """Spooled batch files, oldest first."""
        return sorted(self.directory.glob(f"*{_SUFFIX}"))

    def read(self, path: Path) -> bytes | None:
        """A batch file's body, or None if another process took it or it is unreadable."""
        try:
            body = path.read_bytes()
            events = json.loads(body)["events"]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.error("llmlab: unreadable spool file %s set aside (%s)", path, exc)
            path.replace(path.with_suffix(".bad"))
            return None
        return body if isinstance(events, list) else None

    def remove(self, path: Path) -> None:
        """Forget a batch once the server has it."""
        path.unlink(missing_ok=True)

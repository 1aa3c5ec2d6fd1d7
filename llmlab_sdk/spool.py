"""Events that could not be sent, or did not fit in memory, kept on disk until LLMLab takes them.

One file per batch (``{"events": [...]}``, at most 1,000 events), written atomically, read back
oldest first. Re-sending a file twice is harmless: the server deduplicates by ``event_id``.
The folder is created on the first write, and holds at most ``max_bytes`` (as this process
counts them: files other processes write to the same folder are counted from the next start).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llmlab_sdk.http import encode_json

logger = logging.getLogger("llmlab")

_SUFFIX = ".json"


class SpoolFull(Exception):
    """The spool holds ``max_bytes`` already; the batch was not written."""


class EventSpool:
    """A directory of pending batches, shared safely by several processes."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self._sequence = itertools.count()
        self._lock = threading.Lock()
        self._size = sum(_size_of(path) for path in self.pending())
        # Read on the caller's thread for every event that does not fit in memory: a plain
        # attribute, kept up to date by write() and remove().
        self.full = self._size >= max_bytes

    def write(self, events: Sequence[dict[str, Any]], *, durable: bool = True) -> Path:
        """Persist one batch (``durable``: through an fsync) and return its file.

        Raises ``SpoolFull`` when it would take the spool past ``max_bytes``, ``OSError`` when
        the folder cannot be written.
        """
        body = encode_json({"events": list(events)})
        with self._lock:
            if self._size + len(body) > self.max_bytes:
                self.full = True
                raise SpoolFull(f"the spool holds {self._size:,} of {self.max_bytes:,} bytes")
            self._size += len(body)
        try:
            return self._write_file(body, durable)
        except OSError:
            self._count_removed(len(body))
            raise

    def _write_file(self, body: bytes, durable: bool) -> Path:
        # The spooled calls carry the caller's metadata: for the owner's eyes only.
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{os.getpid()}-{next(self._sequence):06d}"
        final = self.directory / f"{name}{_SUFFIX}"
        partial = self.directory / f".{name}.tmp"
        with partial.open("wb") as file:
            file.write(body)
            if durable:
                file.flush()
                os.fsync(file.fileno())
        os.replace(partial, final)
        return final

    def pending(self) -> list[Path]:
        """Spooled batch files, oldest first."""
        return sorted(self.directory.glob(f"*{_SUFFIX}"))

    def has_pending(self) -> bool:
        """Whether any batch waits (stops at the first file: cheaper than ``pending()``)."""
        try:
            with os.scandir(self.directory) as entries:
                return any(entry.name.endswith(_SUFFIX) for entry in entries)
        except OSError:
            return False

    def read(self, path: Path) -> bytes | None:
        """A batch file's body, or None if another process took it or it is unreadable."""
        try:
            body = path.read_bytes()
            events = json.loads(body)["events"]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.error("llmlab: unreadable spool file %s set aside (%s)", path, exc)
            self._count_removed(_size_of(path))
            path.replace(path.with_suffix(".bad"))
            return None
        return body if isinstance(events, list) else None

    def remove(self, path: Path) -> None:
        """Forget a batch once the server has it."""
        size = _size_of(path)
        path.unlink(missing_ok=True)
        self._count_removed(size)

    def _count_removed(self, size: int) -> None:
        with self._lock:
            self._size = max(0, self._size - size)
            self.full = self._size >= self.max_bytes


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0

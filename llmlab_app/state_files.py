"""The dashboard's per-browser state on disk, readable by the server's user only.

Without Redis, Reflex pickles each browser's state into `.states/*.pkl` with the default
umask (mode 0644 in a 0755 folder). The state holds a session reference, so other users of
the machine must not read it: the folder becomes 0700 and everything the process creates from
then on 0600 (umask 077; the SQLite file and the development JWT secret gain from it too).
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_UMASK = 0o077


def protect_state_files(states_dir: Path) -> None:
    """Make `states_dir` (created if missing) and the pickles already in it private, and
    every file this process creates from now on."""
    os.umask(PRIVATE_UMASK)
    states_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    states_dir.chmod(0o700)
    for path in states_dir.glob("*.pkl"):
        path.chmod(0o600)

"""Files the server needs at run time besides Python code: the migrations and the dashboard's
frontend lock files.

The repository keeps them at its top level (`alembic/`, `reflex.lock/`); the wheel ships them
inside this package (`llmlab_app/migrations/`, `llmlab_app/frontend_lock/`, mapped by
setup.py). A clone or an editable install reads them where the repository keeps them.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_CLONE_ROOT = PACKAGE_DIR.parent


def migrations_dir() -> Path:
    """The alembic script folder (`env.py`, `versions/`)."""
    return _shipped("migrations", "alembic", marker="env.py")


def frontend_lock_dir() -> Path:
    """The folder Reflex installs the frontend's packages from (`package.json`, `bun.lock`)."""
    return _shipped("frontend_lock", "reflex.lock", marker="package.json")


def _shipped(name: str, clone_name: str, *, marker: str) -> Path:
    # The marker file tells our folder from a namesake: installed, `_CLONE_ROOT` is
    # site-packages, whose `alembic/` is the library.
    candidates = (PACKAGE_DIR / name, _CLONE_ROOT / clone_name)
    for folder in candidates:
        if (folder / marker).is_file():
            return folder
    looked = " or ".join(str(folder) for folder in candidates)
    raise FileNotFoundError(
        f"{clone_name} files are missing from this installation (looked in {looked}): "
        "reinstall llmlab[server]"
    )

"""Ships the repository's top-level migrations (`alembic/`) and the dashboard's frontend lock
files (`reflex.lock/`) inside the `llmlab_app` package, where an installed server finds them
(`llmlab_app/package_files.py`); and the packages with their data files. The project's
metadata and dependencies are in pyproject.toml.

A package-dir mapping, not a copy made by a build step: setuptools builds the wheel straight
from the folders the repository keeps, with nothing generated to go stale or to forget.
"""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["llmlab_core*", "llmlab_sdk*", "llmlab_cli*", "llmlab_app*"]),
        "llmlab_app.migrations",
        "llmlab_app.migrations.versions",
        "llmlab_app.frontend_lock",
    ],
    package_dir={
        "llmlab_app.migrations": "alembic",
        "llmlab_app.frontend_lock": "reflex.lock",
    },
    package_data={
        # The reviewed price corrections overlay is data the engine reads at run time.
        "llmlab_core.pricing": ["corrections.json"],
        "llmlab_app.migrations": ["script.py.mako"],
        "llmlab_app.frontend_lock": ["package.json", "bun.lock"],
    },
)

"""Reflex configuration for `reflex` commands run in this clone (`llmlab serve` writes its
own rxconfig.py into the folder it runs the dashboard from). bun comes from `.tools/`, where
scripts/install_bun.sh puts it; REFLEX_BUN_PATH still wins."""

from pathlib import Path

from llmlab_app.reflex_config import reflex_config

config = reflex_config(tools_dir=Path(__file__).resolve().parent / ".tools")

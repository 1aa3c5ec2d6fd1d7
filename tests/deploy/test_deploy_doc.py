"""docs/deploy.md lists every server setting, so that a new one cannot go undocumented."""

from __future__ import annotations

from pathlib import Path

from llmlab_app.config import Settings

DEPLOY_DOC = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"


def test_every_setting_is_in_the_deploy_guide():
    text = DEPLOY_DOC.read_text()
    missing = [
        f"LLMLAB_{name.upper()}"
        for name in Settings.model_fields
        if f"| `LLMLAB_{name.upper()}` |" not in text
    ]
    assert missing == []

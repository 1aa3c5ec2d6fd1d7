"""bench/price_crosscheck.py on a small LiteLLM-format table: agreement, an explained
disagreement, a corrected one, and an unexplained one that fails the run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _entry(provider: str, input_cost: float, output_cost: float, **extra: float) -> dict:
    return {
        "litellm_provider": provider,
        "mode": "chat",
        "input_cost_per_token": input_cost,
        "output_cost_per_token": output_cost,
        **extra,
    }


AGREEING = {
    "gpt-4o": _entry("openai", 2.5e-06, 1e-05, cache_read_input_token_cost=1.25e-06),
    # Explained in bench/price_disagreements.json: LiteLLM lacks the >200k tier.
    "claude-sonnet-4-5": _entry(
        "anthropic",
        3e-06,
        1.5e-05,
        cache_read_input_token_cost=3e-07,
        cache_creation_input_token_cost=3.75e-06,
        cache_creation_input_token_cost_above_1hr=6e-06,
    ),
    # Differs from the dataset, but the overlay corrects Sonnet 4 (claude-sonnet-4-long-context).
    "claude-sonnet-4": _entry(
        "anthropic",
        3e-06,
        1.5e-05,
        cache_read_input_token_cost=3e-07,
        cache_creation_input_token_cost=3.75e-06,
        cache_creation_input_token_cost_above_1hr=6e-06,
    ),
}


def _run(tmp_path: Path, table: dict) -> tuple[subprocess.CompletedProcess, dict]:
    source = tmp_path / "prices.json"
    source.write_text(json.dumps(table), encoding="utf-8")
    out = tmp_path / "result.json"
    result = subprocess.run(
        [
            sys.executable,
            str(BENCH / "price_crosscheck.py"),
            "--litellm",
            str(source),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=BENCH.parent,
    )
    return result, json.loads(out.read_text(encoding="utf-8"))


def test_every_disagreement_is_corrected_or_explained(tmp_path):
    result, report = _run(tmp_path, AGREEING)

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    verdicts = {(row["litellm_key"], row["verdict"]) for row in report["disagreements"]}
    assert ("claude-sonnet-4-5", "explained: litellm wrong") in verdicts
    assert ("claude-sonnet-4", "corrected: claude-sonnet-4-long-context") in verdicts
    assert not any(key == "gpt-4o" for key, _ in verdicts)
    assert "models compared" in result.stdout


def test_an_unexplained_disagreement_fails_the_run(tmp_path):
    table = AGREEING | {"gpt-4o-mini": _entry("openai", 9e-06, 9e-06)}

    result, report = _run(tmp_path, table)

    assert result.returncode == 1
    assert {row["litellm_key"] for row in report["unexplained"]} == {"gpt-4o-mini"}

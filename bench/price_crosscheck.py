"""Cross-check LLMLab's prices against LiteLLM's table, model by model.

    pip download litellm --no-deps -d /tmp/litellm-wheel      # the wheel only, ~43 MB
    .venv/bin/python bench/price_crosscheck.py --litellm /tmp/litellm-wheel [--json]

`--litellm` takes LiteLLM's `model_prices_and_context_window_backup.json`, a wheel holding it,
or a folder with such a wheel; without it the script looks for an installed `litellm` package
(it never imports it). LiteLLM is not a dependency of LLMLab.

For every OpenAI, Anthropic and Google model the dataset knows, the script finds LiteLLM's entry
(by the model's id and aliases, with LiteLLM's `gemini/` prefix for Google), prices a fixed set of
calls both ways with the name as LiteLLM users send it (so provider prefixes go through LLMLab's
resolution), and lists every disagreement. Each disagreement must be either a correction in
`llmlab_core/pricing/corrections.json` (with its source) or explained in
`bench/price_disagreements.json` ("the other table is wrong, because ..."); the script exits 1
when one is neither. It also counts LiteLLM chat models of these providers that LLMLab leaves
unpriced. Results go to bench/results/price_crosscheck.json; figures are in bench/README.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
import zipfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from llmlab_core import Usage, price_usage
from llmlab_core.pricing import corrections
from llmlab_core.pricing.dataset import dataset_version, snapshot

MEMBER = "litellm/model_prices_and_context_window_backup.json"
RESULTS = Path(__file__).parent / "results" / "price_crosscheck.json"
EXPLAINED = Path(__file__).parent / "price_disagreements.json"
PROVIDERS = {"openai": "openai", "anthropic": "anthropic", "google": "gemini"}
# Relative difference below which two prices agree (float rounding in LiteLLM's table).
TOLERANCE = Decimal("0.001")
AT = datetime.now(UTC)

USAGES = {
    "plain": Usage(input_tokens=10_000, output_tokens=2_000),
    "cached": Usage(input_tokens=100_000, cache_read_tokens=60_000, output_tokens=1_000),
    "cache_write": Usage(
        input_tokens=20_000,
        cache_write_tokens=10_000,
        cache_write_1h_tokens=4_000,
        output_tokens=500,
    ),
    "long_context": Usage(input_tokens=300_000, output_tokens=2_000),
}


@dataclass(frozen=True)
class Disagreement:
    model: str
    litellm_key: str
    usage: str
    llmlab_usd: str
    litellm_usd: str
    verdict: str  # "corrected: <id>", "explained: <verdict>", "unexplained"


def load_litellm(path: Path | None) -> tuple[dict[str, Any], str]:
    """LiteLLM's price table and where it came from (file, wheel, or installed package)."""
    if path is None:
        spec = importlib.util.find_spec("litellm")
        if spec is None or not spec.submodule_search_locations:
            sys.exit("no --litellm given and no litellm package installed; see the docstring")
        path = Path(next(iter(spec.submodule_search_locations))) / Path(MEMBER).name
    if path.is_dir():
        wheels = sorted(path.glob("litellm-*.whl"))
        if not wheels:
            sys.exit(f"no litellm wheel in {path}")
        path = wheels[-1]
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as wheel:
            return json.loads(wheel.read(MEMBER)), path.name
    return json.loads(path.read_text(encoding="utf-8")), str(path)


def _names(match: Any) -> list[str]:
    """Names a dataset match rule accepts verbatim (its `equals` and `starts_with` clauses)."""
    from genai_prices import types

    if isinstance(match, types.ClauseEquals):
        return [match.equals]
    if isinstance(match, types.ClauseStartsWith):
        return [match.starts_with]
    if isinstance(match, types.ClauseOr | types.ClauseAnd):
        clauses = match.or_ if isinstance(match, types.ClauseOr) else match.and_
        return [name for clause in clauses for name in _names(clause)]
    return []


def litellm_key(table: dict[str, Any], provider: str, info: Any) -> str | None:
    prefix = PROVIDERS[provider]
    for name in [info.id, *_names(info.match)]:
        for key in (
            (f"{prefix}/{name}", name) if provider == "google" else (name, f"{prefix}/{name}")
        ):
            entry = table.get(key)
            if entry and entry.get("mode") in (None, "chat", "responses"):
                return key
    return None


def _rate(entry: dict[str, Any], key: str, suffix: str) -> Decimal | None:
    value = entry.get(key + suffix, entry.get(key))
    return None if value is None else Decimal(str(value))


def litellm_cost(entry: dict[str, Any], usage: Usage) -> Decimal | None:
    """What LiteLLM's table bills for `usage` (whole request at the above-threshold rates)."""
    suffix = ""
    for key in entry:
        found = re.fullmatch(r"input_cost_per_token_above_(\d+)k_tokens", key)
        if found and usage.input_tokens > int(found.group(1)) * 1000:
            suffix = f"_above_{found.group(1)}k_tokens"
    input_rate = _rate(entry, "input_cost_per_token", suffix)
    output_rate = _rate(entry, "output_cost_per_token", suffix)
    if input_rate is None or output_rate is None:
        return None
    read = _rate(entry, "cache_read_input_token_cost", suffix) or input_rate
    write = _rate(entry, "cache_creation_input_token_cost", suffix) or input_rate
    one_hour = _rate(entry, "cache_creation_input_token_cost_above_1hr", "") or write
    uncached = usage.input_tokens - usage.cache_read_tokens - usage.cache_write_tokens
    return (
        uncached * input_rate
        + usage.cache_read_tokens * read
        + (usage.cache_write_tokens - usage.cache_write_1h_tokens) * write
        + usage.cache_write_1h_tokens * one_hour
        + usage.output_tokens * output_rate
    )


def _differ(ours: Decimal, theirs: Decimal) -> bool:
    if ours == theirs:
        return False
    return abs(ours - theirs) > TOLERANCE * max(abs(ours), abs(theirs))


def crosscheck(table: dict[str, Any]) -> dict[str, Any]:
    overlay = corrections.load_overlay()
    corrected = {(entry.provider, entry.model): entry.id for entry in overlay.corrections}
    explained: dict[str, Any] = json.loads(EXPLAINED.read_text(encoding="utf-8"))["litellm"]
    disagreements: list[Disagreement] = []
    compared = agreed = 0
    missing_in_litellm: list[str] = []
    matched_keys: set[str] = set()
    for provider in PROVIDERS:
        models = next(p for p in snapshot().providers if p.id == provider).models
        for info in models:
            key = litellm_key(table, provider, info)
            if key is None:
                missing_in_litellm.append(f"{provider}/{info.id}")
                continue
            matched_keys.add(key)
            compared += 1
            model_agrees = True
            for usage_name, usage in USAGES.items():
                ours = price_usage(key, usage, provider=provider, at=AT)
                theirs = litellm_cost(table[key], usage)
                if theirs is None or ours.cost_usd is None:
                    continue
                if not _differ(ours.cost_usd, theirs):
                    continue
                model_agrees = False
                correction = corrected.get((provider, ours.canonical_model or info.id))
                if correction:
                    verdict = f"corrected: {correction}"
                elif key in explained:
                    verdict = f"explained: {explained[key]['verdict']}"
                else:
                    verdict = "unexplained"
                disagreements.append(
                    Disagreement(
                        model=f"{provider}/{info.id}",
                        litellm_key=key,
                        usage=usage_name,
                        llmlab_usd=f"{ours.cost_usd.normalize():f}",
                        litellm_usd=f"{theirs.normalize():f}",
                        verdict=verdict,
                    )
                )
            agreed += model_agrees
    unpriced = sorted(
        key
        for key, entry in table.items()
        if isinstance(entry, dict)
        and entry.get("litellm_provider") in ("openai", "anthropic", "gemini")
        and entry.get("mode") == "chat"
        and price_usage(key, USAGES["plain"], at=AT).unpriced
    )
    stale = sorted(set(explained) - {d.litellm_key for d in disagreements})
    return {
        "compared_models": compared,
        "agreeing_models": agreed,
        "missing_in_litellm": missing_in_litellm,
        "disagreements": [asdict(d) for d in disagreements],
        "unexplained": [asdict(d) for d in disagreements if d.verdict == "unexplained"],
        "litellm_chat_names_llmlab_leaves_unpriced": unpriced,
        "explanations_no_longer_needed": stale,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--litellm", type=Path, help="LiteLLM JSON, wheel, or folder with a wheel")
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the results")
    args = parser.parse_args()
    table, origin = load_litellm(args.litellm)
    result = {
        "llmlab_dataset": f"genai-prices {dataset_version()} + {corrections.CORRECTIONS_FILE}",
        "litellm": origin,
        "priced_at": AT.date().isoformat(),
        **crosscheck(table),
    }
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print_summary(result)
    sys.exit(1 if result["unexplained"] else 0)


def _print_summary(result: dict[str, Any]) -> None:
    print(f"LLMLab: {result['llmlab_dataset']}; LiteLLM: {result['litellm']}")
    print(
        f"models compared: {result['compared_models']}, agreeing on every call: "
        f"{result['agreeing_models']}, without a LiteLLM entry: {len(result['missing_in_litellm'])}"
    )
    by_verdict: dict[str, int] = {}
    for row in result["disagreements"]:
        kind = row["verdict"].split(":")[0]
        by_verdict[kind] = by_verdict.get(kind, 0) + 1
    print(f"disagreeing calls: {len(result['disagreements'])} {by_verdict}")
    for row in result["disagreements"]:
        print(
            f"  {row['verdict']:<40} {row['litellm_key']:<42} {row['usage']:<13} "
            f"llmlab ${row['llmlab_usd']:<14} litellm ${row['litellm_usd']}"
        )
    unpriced = result["litellm_chat_names_llmlab_leaves_unpriced"]
    print(f"LiteLLM chat names of these providers LLMLab leaves unpriced: {len(unpriced)}")
    if result["explanations_no_longer_needed"]:
        print(f"explanations no longer needed: {result['explanations_no_longer_needed']}")


if __name__ == "__main__":
    main()

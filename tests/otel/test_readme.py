"""The README's "Send from any language (OpenTelemetry)" as written: each of its two sets of
environment variables, and its Python set-up, in a process of their own, with the host and
key replaced by the test server's; the instrumented calls then show in `/api/events`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gateway.conftest import GatewayAccount
from tests.sdk.fake_provider import FakeProvider

README = Path(__file__).resolve().parents[2] / "README.md"
HEADING = "## Send from any language (OpenTelemetry)"


def section() -> str:
    text = README.read_text()
    start = text.index(HEADING)
    end = text.index("\n## ", start + len(HEADING))
    return text[start:end]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section(), flags=re.DOTALL)


def exported_variables(block: str, live_account: GatewayAccount) -> dict[str, str]:
    variables = {}
    for line in block.strip().splitlines():
        name, value = line.removeprefix("export ").split("=", 1)
        variables[name] = value.replace("http://localhost:3000", live_account.base_url).replace(
            "llmlab_...", live_account.key
        )
    return variables


def test_the_readme_has_the_two_forms():
    first, second = blocks("bash")
    assert "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://localhost:3000/api/otel/v1/traces" in first
    assert "OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:3000/api/otel\n" in second
    for block in (first, second):
        assert "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf" in block
        assert "OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20llmlab_..." in block


@pytest.mark.parametrize("form", [0, 1], ids=["traces-endpoint", "base-endpoint"])
def test_the_readme_setup_runs_as_written(
    form, fake_provider: FakeProvider, live_account, tmp_path
):
    [setup] = blocks("python")
    calls = f"""
from openai import OpenAI

client = OpenAI(base_url={fake_provider.url + "/v1"!r}, api_key="sk-test")
for _ in range(2):
    client.chat.completions.create(model="gpt-4o", messages=[{{"role": "user", "content": "hi"}}])
provider.shutdown()
"""
    script = tmp_path / "app.py"
    script.write_text(setup + calls)
    env = os.environ | exported_variables(blocks("bash")[form], live_account)
    env["OTEL_RESOURCE_ATTRIBUTES"] = "llmlab.project=readme,llmlab.tags=docs"
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "Failed to export" not in done.stderr, done.stderr
    found = live_account.events(2)
    assert len(found) == 2
    assert {(e["project"], tuple(e["tags"]), e["model"]) for e in found} == {
        ("readme", ("docs",), "gpt-4o-2024-08-06")
    }

"""Another language: the official `openai` npm package under Node.js, pointed at the gateway,
makes a chat call and a streamed call; both are recorded."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from tests.sdk import fake_provider as fp
from tests.sdk.fake_provider import FakeProvider

from .conftest import GatewayAccount, expected_cost, tokens, usage

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed"),
]

OPENAI_NPM = "openai@6.49.0"
# Installed once per checkout (git-ignored), like the other tools under .tools/.
NPM_CACHE = Path(__file__).resolve().parents[2] / ".tools" / "node-openai"

SCRIPT = r"""
const OpenAI = require(process.env.OPENAI_MODULE);
const client = new OpenAI({
  apiKey: "sk-node-provider-key",
  baseURL: process.env.GATEWAY_URL,
  defaultHeaders: { "X-LLMLab-Key": process.env.LLMLAB_KEY, "X-LLMLab-Project": "node-app" },
  maxRetries: 0,
});
(async () => {
  const messages = [{ role: "user", content: "hi" }];
  const answer = await client.chat.completions.create({ model: "gpt-4o", messages });
  const chunks = [];
  const stream = await client.chat.completions.create({ model: "gpt-4o", messages, stream: true });
  for await (const chunk of stream) chunks.push(chunk);
  console.log(JSON.stringify({
    id: answer.id,
    content: answer.choices[0].message.content,
    stream_id: chunks[0].id,
    text: chunks.map((c) => (c.choices[0] && c.choices[0].delta.content) || "").join(""),
    usages: chunks.map((c) => c.usage ?? null),
  }));
})().catch((error) => { console.error(error); process.exit(1); });
"""


def openai_npm_package() -> Path:
    package = NPM_CACHE / "node_modules" / "openai"
    if not (package / "package.json").exists():
        subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(NPM_CACHE),
                "--no-save",
                "--ignore-scripts",
                "--no-audit",
                "--no-fund",
                OPENAI_NPM,
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return package


def test_the_official_node_client_is_tracked_through_the_gateway(
    gateway: GatewayAccount, provider: FakeProvider, tmp_path: Path
) -> None:
    script = tmp_path / "calls.js"
    script.write_text(SCRIPT)
    run = subprocess.run(
        ["node", str(script)],
        env=os.environ
        | {
            "OPENAI_MODULE": str(openai_npm_package()),
            "GATEWAY_URL": gateway.openai_url,
            "LLMLAB_KEY": gateway.key,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout)

    assert (seen["content"], seen["text"]) == ("Hello there", "Hello")
    assert seen["usages"] == [None, None]  # the usage chunk the gateway asked for is hidden
    events = gateway.events(2)
    assert [e["event_id"] for e in events] == [
        f"openai:{seen['id']}",
        f"openai:{seen['stream_id']}",
    ]
    for event in events:
        assert tokens(event) == usage(fp.OPENAI_CHAT_USAGE)
        assert event["project"] == "node-app"
        assert Decimal(event["cost_usd"]) == expected_cost(event) == Decimal("0.00472")
    assert provider.headers[0]["authorization"] == "Bearer sk-node-provider-key"
    assert (
        "node" in provider.headers[0]["user-agent"].lower()
        or provider.headers[0].get("x-stainless-lang") == "js"
    )

"""Importing the SDK stays light, and without a key it stays out of the way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from llmlab_sdk.config import load_config

HEAVY_PACKAGES = ("reflex", "sqlmodel", "sqlalchemy", "fastapi", "starlette", "llmlab_app")


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LLMLAB_")}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_importing_the_sdk_loads_no_server_or_provider_packages() -> None:
    result = run_python(
        """
        import json, sys
        import llmlab_sdk
        print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
        """
    )

    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout))
    assert loaded.isdisjoint(HEAVY_PACKAGES)
    assert loaded.isdisjoint({"openai", "anthropic", "google"})  # wrap() needs none of them


def test_without_a_key_calls_run_untouched_with_one_warning_and_no_thread() -> None:
    result = run_python(
        """
        import threading
        import llmlab_sdk

        @llmlab_sdk.track_cost(model="gpt-4o")
        def call(n):
            return {"n": n, "usage": {"prompt_tokens": 1, "completion_tokens": 1}}

        results = [call(n)["n"] for n in range(3)]
        assert results == [0, 1, 2]
        assert llmlab_sdk.flush(1)
        assert threading.active_count() == 1, threading.enumerate()
        print("ok")
        """
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    assert result.stderr.count("no API key") == 1


def test_environment_supplies_what_configure_leaves_out(tmp_path: Path) -> None:
    config = load_config(
        {
            "LLMLAB_API_KEY": "llmlab_env",
            "LLMLAB_BASE_URL": "https://llmlab.example.com",
            "LLMLAB_PROJECT": "from-env",
            "LLMLAB_SPOOL_DIR": str(tmp_path),
        },
        project="from-code",
    )

    assert config.api_key == "llmlab_env"
    assert config.base_url == "https://llmlab.example.com"
    assert config.project == "from-code"
    assert config.spool_dir == tmp_path
    assert config.active


def test_defaults_and_switching_off() -> None:
    assert load_config({}).base_url == "http://localhost:3000"
    assert not load_config({}).active
    assert not load_config({"LLMLAB_API_KEY": "k", "LLMLAB_ENABLED": "0"}).active


def test_bad_settings_are_refused_at_configure_time() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        load_config({}, batch_size=5000)
    with pytest.raises(ValueError, match="queue_full_policy"):
        load_config({}, queue_full_policy="drop_random")


def test_the_spool_is_on_by_default_in_the_llmlab_folder_one_per_server_and_key(
    tmp_path: Path,
) -> None:
    env = {"LLMLAB_API_KEY": "llmlab_a", "LLMLAB_HOME": str(tmp_path)}

    spool_dir = load_config(env).spool_dir
    other_key = load_config({**env, "LLMLAB_API_KEY": "llmlab_b"}).spool_dir
    other_server = load_config(env, base_url="https://llmlab.example.com").spool_dir

    assert spool_dir is not None and spool_dir.parent == tmp_path / "spool"
    assert len({spool_dir, other_key, other_server}) == 3
    assert load_config(env).spool_max_mb == 100
    assert load_config({"LLMLAB_API_KEY": "k"}).spool_dir.parent == Path.home() / ".llmlab/spool"


def test_the_spool_can_be_turned_off_or_moved() -> None:
    assert load_config({"LLMLAB_SPOOL": "0"}).spool_dir is None
    assert load_config({}, spool=False).spool_dir is None
    assert load_config({"LLMLAB_SPOOL": "0"}, spool=True).spool_dir is not None
    assert load_config({"LLMLAB_SPOOL_DIR": "~/spool"}).spool_dir == Path.home() / "spool"
    with pytest.raises(ValueError, match="spool_max_mb"):
        load_config({}, spool_max_mb=0)

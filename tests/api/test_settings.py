from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from llmlab_app.config import Settings


def test_production_refuses_a_missing_or_short_jwt_secret(tmp_path):
    with pytest.raises(ValidationError, match="LLMLAB_JWT_SECRET"):
        Settings(env="production", data_dir=tmp_path)
    with pytest.raises(ValidationError, match="LLMLAB_JWT_SECRET"):
        Settings(env="production", data_dir=tmp_path, jwt_secret="short")
    assert Settings(env="production", jwt_secret="s" * 32).jwt_secret == "s" * 32


def test_the_api_does_not_start_in_production_without_a_secret(tmp_path):
    env = {"LLMLAB_ENV": "production", "LLMLAB_DATA_DIR": str(tmp_path), "PATH": ""}
    result = subprocess.run(
        [sys.executable, "-c", "import llmlab_app.api"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "LLMLAB_JWT_SECRET must be set" in result.stderr


def test_development_secret_is_generated_once_private_and_kept(tmp_path):
    settings = Settings(env="development", data_dir=tmp_path)
    first = settings.resolved_jwt_secret()
    assert (
        len(first) >= 32
        and Settings(env="development", data_dir=tmp_path).resolved_jwt_secret() == first
    )
    assert (tmp_path / "jwt_secret").stat().st_mode & 0o777 == 0o600
    assert list(tmp_path.iterdir()) == [tmp_path / "jwt_secret"]

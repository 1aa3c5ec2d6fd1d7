"""Where the CLI keeps its settings: `~/.llmlab/config.toml` (or `$LLMLAB_HOME/config.toml`).

This is the only CLI module that reads `LLMLAB_*` environment variables. `LLMLAB_BASE_URL` and
`LLMLAB_API_KEY` win over the file, so scripts and CI can run without one. `LLMLAB_PRICES_FILE`
points the offline `llmlab prices` commands at a newer genai-prices data file.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from llmlab_cli.errors import CLIError

DEFAULT_BASE_URL = "http://localhost:3000"
CONFIG_FILENAME = "config.toml"
# Order of the keys in the written file.
FIELDS = (
    "base_url",
    "api_key",
    "api_key_id",
    "org_id",
    "org",
    "email",
    "access_token",
    "refresh_token",
)


@dataclass(frozen=True, slots=True)
class CLIConfig:
    """What the CLI knows about the server and the account it talks to.

    `api_key_id` is set only for a key the CLI created itself (by `llmlab login`), so that
    `llmlab logout` revokes that key and never one the user pasted in. `org_id` and `org` name
    the organisation the key belongs to once `llmlab orgs use` chose one (unset: the personal
    organisation).
    """

    base_url: str = DEFAULT_BASE_URL
    api_key: str | None = None
    api_key_id: str | None = None
    org_id: str | None = None
    org: str | None = None
    email: str | None = None
    access_token: str | None = None
    refresh_token: str | None = None

    def with_changes(self, **changes: str | None) -> CLIConfig:
        """A copy with `changes` applied."""
        return replace(self, **changes)

    def require_api_key(self) -> str:
        """The API key, or a `CLIError` telling the user how to get one."""
        if not self.api_key:
            raise CLIError(
                "no API key configured: run `llmlab init` (or set LLMLAB_API_KEY)",
            )
        return self.api_key


def llmlab_home(environ: Mapping[str, str] | None = None) -> Path:
    """The CLI's folder: `$LLMLAB_HOME`, else `~/.llmlab`."""
    env = os.environ if environ is None else environ
    home = env.get("LLMLAB_HOME")
    return Path(home).expanduser() if home else Path.home() / ".llmlab"


def prices_file(environ: Mapping[str, str] | None = None) -> Path | None:
    """`$LLMLAB_PRICES_FILE`: a genai-prices data file that replaces the bundled dataset, as on
    the server (None when unset)."""
    env = os.environ if environ is None else environ
    value = env.get("LLMLAB_PRICES_FILE")
    return Path(value).expanduser() if value else None


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    """The config file's path (it may not exist yet)."""
    return llmlab_home(environ) / CONFIG_FILENAME


def read_config_file(path: Path | None = None) -> CLIConfig:
    """The settings stored in the file alone (defaults when there is no file)."""
    path = path or config_path()
    if not path.exists():
        return CLIConfig()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CLIError(f"cannot read {path}: {exc}") from exc
    values = {name: raw[name] for name in FIELDS if isinstance(raw.get(name), str) and raw[name]}
    return CLIConfig(**values)


def load_config(environ: Mapping[str, str] | None = None) -> CLIConfig:
    """The settings in force: the file, overridden by `LLMLAB_BASE_URL` / `LLMLAB_API_KEY`."""
    env = os.environ if environ is None else environ
    config = read_config_file(config_path(env))
    if base_url := env.get("LLMLAB_BASE_URL"):
        config = config.with_changes(base_url=base_url)
    if api_key := env.get("LLMLAB_API_KEY"):
        # A key from the environment is not the one the CLI created: never revoke it on logout.
        config = config.with_changes(api_key=api_key, api_key_id=None)
    return config


def save_config(config: CLIConfig, path: Path | None = None) -> Path:
    """Write `config` atomically with mode 0600 (it holds secrets); returns the path."""
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(dump_toml(asdict(config)))
        # os.open's mode is masked by the umask; make sure no one else can read the key.
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def dump_toml(values: Mapping[str, str | None]) -> str:
    """A flat TOML document of string values (None values are left out)."""
    lines = ["# LLMLab CLI settings (written by `llmlab init` / `llmlab login`)."]
    lines += [f"{name} = {_toml_string(value)}" for name, value in values.items() if value]
    return "\n".join(lines) + "\n"


def _toml_string(value: str) -> str:
    escaped = []
    for char in value:
        if char in ('"', "\\"):
            escaped.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04X}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'

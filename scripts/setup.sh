#!/usr/bin/env bash
# Idempotent set-up of a fresh machine (Debian, Python 3.11, Node 20, package registries only):
#   .venv/ with the pinned dependencies, bun for Reflex from the npm registry, and with
#   --browser Chromium from Debian's packages for the browser tests.
# The server and the development tools by default; --server-only (what scripts/run asks for)
# installs the server alone, without test tools, linters or provider SDKs.
# Quick when everything is already in place.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

python="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating .venv" >&2
  "$python" -m venv .venv
fi

extras="server,dev"
[[ " $* " == *" --server-only "* ]] && extras="server"

# Reinstall only when the dependency files change, or when extras are asked for that the
# last install did not include (a venv set up for development also runs the server).
deps="$(cat pyproject.toml requirements.lock | sha256sum | cut -d' ' -f1)"
stamp=.venv/.llmlab-deps
installed="$(cat "$stamp" 2>/dev/null || true)"
if [[ "$installed" != "$deps server,dev" && "$installed" != "$deps $extras" ]]; then
  echo "setup: installing Python dependencies (pinned by requirements.lock)" >&2
  log=.venv/pip-install.log
  if ! { .venv/bin/python -m pip install --disable-pip-version-check --upgrade pip &&
    .venv/bin/python -m pip install --disable-pip-version-check \
      -c requirements.lock -e ".[$extras]"; } >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "setup: pip install failed; full log in $log" >&2
    exit 1
  fi
  echo "$deps $extras" > "$stamp"
fi

scripts/install_bun.sh >/dev/null

if [[ " $* " == *" --browser "* ]] && ! command -v chromium >/dev/null; then
  echo "setup: installing Chromium from Debian's packages" >&2
  sudo_cmd=()
  [[ "$(id -u)" == 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

#!/usr/bin/env bash
# Install bun from the npm registry into <repo>/.tools, because Reflex's own bun installer
# downloads a script from outside the package registries. Idempotent; prints the bun path.
# The logic ships with the server (llmlab_app/bun.py), which `llmlab serve` runs itself.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec "$repo_root/.venv/bin/python" -m llmlab_app.bun "$repo_root/.tools"

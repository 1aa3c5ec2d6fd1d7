#!/usr/bin/env bash
# Install bun from the npm registry into <repo>/.tools, because Reflex's own bun installer
# downloads a script from outside the package registries. Idempotent; prints the bun path.
set -euo pipefail

BUN_VERSION="1.4.5"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_dir="$repo_root/.tools"

case "$(uname -m)" in
  x86_64 | amd64) package="@oven/bun-linux-x64" ;;
  aarch64 | arm64) package="@oven/bun-linux-aarch64" ;;
  *) echo "install_bun.sh: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac

bun_path="$tools_dir/node_modules/$package/bin/bun"

if [[ -x "$bun_path" ]] && [[ "$("$bun_path" --version 2>/dev/null)" == "$BUN_VERSION" ]]; then
  echo "$bun_path"
  exit 0
fi

mkdir -p "$tools_dir"
npm install --prefix "$tools_dir" --no-save --ignore-scripts --no-audit --no-fund \
  "$package@$BUN_VERSION" >&2
"$bun_path" --version >/dev/null
echo "$bun_path"

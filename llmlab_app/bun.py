"""bun, the JavaScript runtime Reflex builds the dashboard with, from the npm registry.

Reflex's own installer downloads a script from outside the package registries; the npm
package `@oven/bun-<os>-<arch>` holds the same binary and installs with npm alone.
`python -m llmlab_app.bun TOOLS_DIR` installs it there and prints its path.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
from pathlib import Path

# Reflex 0.10.1 asks for bun >= 1.4.4.
BUN_VERSION = "1.4.5"
_SYSTEMS = {"Linux": "linux", "Darwin": "darwin"}
_ARCHITECTURES = {"x86_64": "x64", "amd64": "x64", "aarch64": "aarch64", "arm64": "aarch64"}


class BunUnavailable(RuntimeError):
    """bun is not installed and cannot be installed here; the message says what to do."""


def bun_package(system: str | None = None, machine: str | None = None) -> str:
    """The npm package holding bun for this machine, e.g. `@oven/bun-linux-x64`."""
    system = system or platform.system()
    machine = (machine or platform.machine()).lower()
    if system not in _SYSTEMS or machine not in _ARCHITECTURES:
        raise BunUnavailable(
            f"no bun package for {system} on {machine}: install bun {BUN_VERSION} yourself "
            "and set REFLEX_BUN_PATH to it"
        )
    return f"@oven/bun-{_SYSTEMS[system]}-{_ARCHITECTURES[machine]}"


def bun_binary(tools_dir: Path) -> Path:
    """Where `install_bun(tools_dir)` puts the bun binary."""
    return tools_dir / "node_modules" / bun_package() / "bin" / "bun"


def installed_bun(tools_dir: Path) -> Path | None:
    """bun under `tools_dir` when it is there and of `BUN_VERSION`, else None."""
    path = bun_binary(tools_dir)
    try:
        found = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return path if found.returncode == 0 and found.stdout.strip() == BUN_VERSION else None


def install_bun(tools_dir: Path) -> Path:
    """bun under `tools_dir`, installed there with npm first when missing or of another
    version (~2 s). Raises `BunUnavailable` with the reason when that fails."""
    if found := installed_bun(tools_dir):
        return found
    package = f"{bun_package()}@{BUN_VERSION}"
    npm = shutil.which("npm")
    if npm is None:
        raise BunUnavailable(
            f"npm is needed to install bun ({package}) for the dashboard build: install "
            "Node.js and npm, or set REFLEX_BUN_PATH to a bun binary"
        )
    tools_dir.mkdir(parents=True, exist_ok=True)
    command = [npm, "install", "--prefix", str(tools_dir), "--no-save", "--ignore-scripts"]
    result = subprocess.run(
        [*command, "--no-audit", "--no-fund", package], capture_output=True, text=True
    )
    found = installed_bun(tools_dir) if result.returncode == 0 else None
    if found is None:
        output = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise BunUnavailable(f"npm could not install {package}: " + " / ".join(output))
    return found


def main() -> None:
    """Install bun into the folder named on the command line; print its path."""
    if len(sys.argv) != 2:
        raise SystemExit(f"usage: {sys.executable} -m llmlab_app.bun TOOLS_DIR")
    try:
        print(install_bun(Path(sys.argv[1])))
    except BunUnavailable as exc:
        raise SystemExit(f"llmlab: {exc}") from exc


if __name__ == "__main__":
    main()

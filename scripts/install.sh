#!/usr/bin/env bash
# Install lsp-shim from this checkout as a uv tool (its own environment, never the project's),
# then run it once to show where it finds ruff. Usage: bash scripts/install.sh [TOOL]
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v uv >/dev/null 2>&1; then
    python3 -m pip install --user --quiet uv
    export PATH="$(python3 -m site --user-base)/bin:$PATH"
fi
# --compile-bytecode: the shim starts on every editor launch; compiling at install keeps that fast.
uv tool install --force --compile-bytecode .
bin=$(uv tool dir --bin)
echo
echo "Installed: $bin/lsp-shim, $bin/ruff-shim, $bin/ty-shim"
"$bin/lsp-shim" doctor "${1:-ruff}" || true
echo
echo "Next: point your editor at $bin/ruff-shim (lsp-shim configure vscode|pycharm|neovim|helix|zed|sublime|emacs)."

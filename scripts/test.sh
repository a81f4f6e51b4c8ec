#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh Debian/Ubuntu machine, then run it.
#   bash scripts/test.sh            # the whole suite (what CI runs)
#   bash scripts/test.sh -k follow  # extra arguments go to pytest
# Real-client tests (Neovim, code-server + Chromium, Wine) install their system packages through
# scripts/setup-*.sh, called from the tests themselves; each skips with the reason only when
# its packages cannot be installed at all.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
venv=${LSP_SHIM_TEST_VENV:-.venv-test}
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install -q --disable-pip-version-check -e ".[test]"

# The suite runs the installed console scripts (lsp-shim, ruff-shim, ty-shim) from this venv.
export PATH="$PWD/$venv/bin:$PATH"
# pytest exits 5 when it collects nothing; with `set -e` that fails the run, as it should.
exec "$venv/bin/python" -m pytest -q -rs "$@"

#!/usr/bin/env bash
# Install Debian's neovim (0.7.2 on bookworm) for tests/test_neovim.py. Idempotent: does nothing
# when nvim is already on PATH. Needs root (CI and developer machines run as root); without it,
# it says so and exits 1, and the test then skips with that reason.
set -euo pipefail

if command -v nvim >/dev/null 2>&1; then
    echo "setup-neovim: $(nvim --version | head -n 1) already installed"
    exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        echo "setup-neovim: need root to apt-get install neovim" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
apt_install() {
    "${SUDO[@]}" apt-get -q -o DPkg::Lock::Timeout=600 install -y --no-install-recommends neovim
}
# Try without an update first (fast when the package lists are fresh); update only if needed.
if ! apt_install; then
    "${SUDO[@]}" apt-get -q -o DPkg::Lock::Timeout=600 update
    apt_install
fi
echo "setup-neovim: $(nvim --version | head -n 1)"

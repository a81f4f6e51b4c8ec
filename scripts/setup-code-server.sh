#!/usr/bin/env bash
# Install what the real-VS-Code test (tests/test_vscode.py) needs, then build and package the
# extension(s).  Idempotent: a second run with everything in place takes a few seconds.
#
#   - Debian packages: headless Chromium, ripgrep, and the headers code-server's native
#     modules compile against (apt-get waits for the dpkg lock: others run apt-get too).
#   - code-server 4.100.3 (the newest that runs on node 20) from npm, into
#     ${LSP_SHIM_CODE_SERVER_DIR:-$HOME/.cache/lsp-shim-code-server}.
#   - vscode-ext/: npm ci, compile, package to vscode-ext/lsp-shim.vsix (offline, @vscode/vsce).
#   - tests/vscode/: the test-only extensions (probe, Ruff stand-in), packaged into $DIR.
#
# Prints "code-server: <path>", "vsix: <path>", "probe-vsix: <path>", "fake-ruff-vsix: <path>".  Exit status 3:
# code-server or Chromium could not be installed (the test skips then); any other failure (the
# extension does not build) is an error.  LSP_SHIM_SKIP_APT=1 or LSP_SHIM_NO_SYSTEM_INSTALL=1 skip
# the apt step (then missing packages mean exit 3).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${LSP_SHIM_CODE_SERVER_DIR:-$HOME/.cache/lsp-shim-code-server}
CS_VERSION=4.100.3
RG_CACHE_VERSION=1.15.11
RG_TARBALL=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz
APT_PACKAGES=(build-essential pkg-config python3 libkrb5-dev libxkbfile-dev libsecret-1-dev
              libx11-dev ripgrep chromium)

log() { printf '[setup-code-server] %s\n' "$*" >&2; }
export npm_config_yes=true npm_config_fund=false npm_config_audit=false \
       npm_config_update_notifier=false

# ---------------------------------------------------------------- Debian packages
apt_missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
        || apt_missing+=("$p")
done
if ((${#apt_missing[@]})) && [[ -z ${LSP_SHIM_SKIP_APT:-}${LSP_SHIM_NO_SYSTEM_INSTALL:-} ]]; then
    SUDO=()
    if [[ $(id -u) != 0 ]]; then
        command -v sudo >/dev/null || { log "need root (or sudo) to apt-get install ${apt_missing[*]}"; exit 3; }
        SUDO=(sudo -n)
    fi
    log "apt-get install ${apt_missing[*]}"
    APT=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=600)
    # Debian's lists may be stale or absent on a new machine: update once, then install.
    "${APT[@]}" update >/dev/null || log "apt-get update failed; trying the install anyway"
    "${APT[@]}" install --no-install-recommends "${apt_missing[@]}" >/dev/null \
        || { log "apt-get install ${apt_missing[*]} failed"; exit 3; }
fi
for tool in rg chromium node npm; do
    command -v "$tool" >/dev/null || { log "$tool is not installed"; exit 3; }
done

# ---------------------------------------------------------------- code-server
CS_BIN="$DIR/node_modules/.bin/code-server"
cs_installed_version() {
    node -e 'try{console.log(require(process.argv[1]).version)}catch(e){}' \
        "$DIR/node_modules/code-server/package.json" 2>/dev/null || true
}
if [[ ! -x $CS_BIN || $(cs_installed_version) != "$CS_VERSION" || ! -e $DIR/.installed-$CS_VERSION ]]; then
    log "installing code-server $CS_VERSION into $DIR (≈1 min)"
    mkdir -p "$DIR"
    # @vscode/ripgrep's postinstall downloads rg unless it finds this tarball in its cache dir:
    # give it Debian's rg.
    tmp=${TMPDIR:-/tmp}
    rgcache="$tmp/vscode-ripgrep-cache-$RG_CACHE_VERSION"
    if [[ ! -s $rgcache/$RG_TARBALL ]]; then
        mkdir -p "$rgcache"
        stage=$(mktemp -d)
        cp "$(command -v rg)" "$stage/rg"
        tar -C "$stage" -czf "$rgcache/$RG_TARBALL" rg
        rm -rf "$stage"
    fi
    [[ -f $DIR/package.json ]] || printf '{"name":"lsp-shim-code-server","private":true}\n' > "$DIR/package.json"
    (cd "$DIR" && npm install --unsafe-perm --loglevel=error "code-server@$CS_VERSION" >&2) \
        || { log "npm install code-server@$CS_VERSION failed"; exit 3; }
    "$CS_BIN" --version >/dev/null || { log "code-server does not run"; exit 3; }
    touch "$DIR/.installed-$CS_VERSION"
fi

# ---------------------------------------------------------------- the extension
EXT="$ROOT/vscode-ext"
newer_than() {  # newer_than TARGET PATH... : true when TARGET is missing or older than any file
    local target=$1; shift
    [[ -e $target ]] || return 0
    [[ -n $(find "$@" -newer "$target" -type f -print -quit 2>/dev/null) ]]
}
if [[ ! -d $EXT/node_modules ]] || newer_than "$EXT/node_modules/.package-lock.json" "$EXT/package-lock.json"; then
    log "npm ci in vscode-ext"
    (cd "$EXT" && npm ci --loglevel=error >&2)
fi
VSIX="$EXT/lsp-shim.vsix"
if newer_than "$VSIX" "$EXT/src" "$EXT/package.json" "$EXT/tsconfig.json" "$EXT/README.md"; then
    log "building and packaging vscode-ext"
    (cd "$EXT" && npm run --silent package >&2)  # vscode:prepublish compiles
fi

# ---------------------------------------------------------------- the test-only extension
PROBE="$ROOT/tests/vscode/probe"
PROBE_VSIX="$DIR/lsp-shim-test-probe.vsix"
if newer_than "$PROBE_VSIX" "$PROBE"; then
    log "packaging the test-only extension"
    (cd "$PROBE" && "$EXT/node_modules/.bin/vsce" package --skip-license --allow-missing-repository \
        --no-dependencies -o "$PROBE_VSIX" >&2)
fi

# A stand-in carrying the Ruff extension's id (test only: see tests/vscode/fake-ruff/README.md).
FAKE="$ROOT/tests/vscode/fake-ruff"
FAKE_VSIX="$DIR/lsp-shim-test-fake-ruff.vsix"
if newer_than "$FAKE_VSIX" "$FAKE"; then
    log "packaging the Ruff extension stand-in"
    (cd "$FAKE" && "$EXT/node_modules/.bin/vsce" package --skip-license --allow-missing-repository \
        --no-dependencies -o "$FAKE_VSIX" >&2)
fi

echo "code-server: $CS_BIN"
echo "vsix: $VSIX"
echo "probe-vsix: $PROBE_VSIX"
echo "fake-ruff-vsix: $FAKE_VSIX"

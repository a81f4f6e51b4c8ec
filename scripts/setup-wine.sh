#!/usr/bin/env bash
# Prepare the Wine proof used by tests/test_wine.py (Debian bookworm, run as root in CI).
#
#   scripts/setup-wine.sh
#
# Idempotent; a warm run only checks what exists. It installs wine64 and the MinGW
# compiler when missing, builds a stub bcryptprimitives.dll exporting ProcessPrng (Wine 8.0
# lacks it and recent Rust .exe files import it), creates a 64-bit Wine prefix with that DLL
# in system32, and extracts ruff.exe from ruff's win_amd64 wheel.
#
# Everything lives under ${LSP_SHIM_WINE_DIR:-$HOME/.cache/lsp-shim-wine}; the paths and the
# environment the tests need are written to "$DIR/env" (KEY=VALUE lines).
# Prints exactly one line on stdout. Exit codes:
#   0  ready
#   2  Wine cannot be installed on this machine (not Debian/apt, not root, apt failed):
#      the Wine tests skip with the printed reason
#   1  anything else went wrong (a real failure; details in "$DIR/setup.log")
# Knobs: LSP_SHIM_WINE_DIR, LSP_SHIM_WINE_RUFF_VERSION (default below), PYTHON (for pip).
set -euo pipefail

DIR=${LSP_SHIM_WINE_DIR:-$HOME/.cache/lsp-shim-wine}
RUFF_VERSION=${LSP_SHIM_WINE_RUFF_VERSION:-0.17.6}
PYTHON=${PYTHON:-python3}
WINE=/usr/lib/wine/wine64
WINESERVER=/usr/lib/wine/wineserver
MINGW_CC=x86_64-w64-mingw32-gcc
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DLL_SRC=$HERE/../tests/wine/processprng.c

export WINEPREFIX=$DIR/prefix
export WINEARCH=win64
export WINEDEBUG=-all
# No mono/gecko install prompts (nothing may be fetched), no menu entries. bcryptprimitives:
# use our native stub in system32.
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d;bcryptprimitives=n,b"
unset DISPLAY WAYLAND_DISPLAY
RUFF_DIR=$DIR/ruff-$RUFF_VERSION
RUFF_EXE=$RUFF_DIR/ruff.exe
DLL=$DIR/bcryptprimitives.dll
SYS_DLL=$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll
DLL_STAMP=$DLL.src-sha256
PREFIX_STAMP=$WINEPREFIX/.lsp-shim-prefix-ready
LOG=$DIR/setup.log
START=$(date +%s.%N)

mkdir -p "$DIR"

say() { printf 'setup-wine: %s\n' "$*"; }
# fail CODE MESSAGE: one line on stdout, the log's tail on stderr for CI.
fail() {
    local code=$1
    shift
    say "$* (log: $LOG)"
    if [[ -s $LOG ]]; then
        { echo "--- last lines of $LOG ---"; tail -n 25 "$LOG"; } >&2
    fi
    exit "$code"
}

write_env() {
    cat >"$DIR/env.tmp" <<ENV
WINE=$WINE
WINESERVER=$WINESERVER
WINEPREFIX=$WINEPREFIX
WINEARCH=$WINEARCH
WINEDEBUG=$WINEDEBUG
WINEDLLOVERRIDES=$WINEDLLOVERRIDES
RUFF_EXE=$RUFF_EXE
RUFF_VERSION=$RUFF_VERSION
ENV
    mv -f "$DIR/env.tmp" "$DIR/env"
}

ready() {
    local elapsed
    elapsed=$(awk -v s="$START" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
    write_env
    say "ready in ${elapsed}s ($1): ruff $RUFF_VERSION at $RUFF_EXE, WINEPREFIX=$WINEPREFIX (env: $DIR/env)"
    exit 0
}

# The DLL is rebuilt when processprng.c changes (content, not mtime: a fresh clone is newer).
src_sha() { sha256sum "$DLL_SRC" | cut -d' ' -f1; }
dll_current() { [[ -s $DLL && -f $DLL_STAMP && $(<"$DLL_STAMP") == "$(src_sha)" ]]; }

is_ready() {
    [[ -x $WINE && -f $PREFIX_STAMP && -s $RUFF_EXE && -s $SYS_DLL ]] && dll_current \
        && cmp -s "$DLL" "$SYS_DLL"
}

# Warm path: no lock, no subprocess beyond the checks.
if is_ready; then
    ready warm
fi

# One setup at a time per cache dir (parallel test runs share it).
exec 9>"$DIR/.lock"
if ! flock -w 900 9; then
    fail 1 "FAILED: another setup-wine.sh holds $DIR/.lock for 15 minutes"
fi
if is_ready; then
    ready "warm, after waiting for another setup"
fi
: >"$LOG"

# --- 1. packages -------------------------------------------------------------------------
# (No `cmd | grep -q` under pipefail: grep's early exit gives cmd SIGPIPE, the pipeline fails.)
pkg_installed() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == 'install ok installed' ]]; }
has_candidate() { [[ $(apt-cache policy "$1" 2>/dev/null) == *'Candidate: '[0-9]* ]]; }
need=()
[[ -x $WINE ]] && pkg_installed wine64 || need+=(wine64)
if ! dll_current && ! command -v "$MINGW_CC" >/dev/null; then
    need+=(gcc-mingw-w64-x86-64-win32)
fi
if ((${#need[@]})); then
    command -v apt-get >/dev/null || fail 2 "SKIP: cannot install ${need[*]}: no apt-get (not Debian)"
    [[ $(id -u) == 0 ]] || fail 2 "SKIP: cannot install ${need[*]}: apt-get needs root"
    export DEBIAN_FRONTEND=noninteractive
    apt_install() {
        apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${need[@]}" >>"$LOG" 2>&1
    }
    apt_update() { apt-get -o DPkg::Lock::Timeout=600 update >>"$LOG" 2>&1; }
    # Update the package lists only when they do not know the packages yet; retry once after
    # an update when the install fails (stale lists point at removed files).
    for p in "${need[@]}"; do
        if ! has_candidate "$p"; then
            apt_update || fail 2 "SKIP: cannot install Wine: apt-get update failed"
            break
        fi
    done
    if ! apt_install; then
        apt_update || fail 2 "SKIP: cannot install Wine: apt-get update failed"
        apt_install || fail 2 "SKIP: cannot install Wine: apt-get install ${need[*]} failed"
    fi
    [[ -x $WINE ]] || fail 2 "SKIP: cannot install Wine: $WINE missing after installing wine64"
fi

# --- 2. stub bcryptprimitives.dll ---------------------------------------------------------
if ! dll_current; then
    "$MINGW_CC" -shared -O2 -s -Wall -Werror -o "$DLL.tmp" "$DLL_SRC" -ladvapi32 >>"$LOG" 2>&1 \
        || fail 1 "FAILED: cannot build bcryptprimitives.dll from $DLL_SRC"
    mv -f "$DLL.tmp" "$DLL"
    src_sha >"$DLL_STAMP"
fi

# --- 3. Wine prefix -----------------------------------------------------------------------
if [[ ! -f $PREFIX_STAMP ]]; then
    rm -rf "$WINEPREFIX"
    mkdir -p "$WINEPREFIX"
    timeout 300 "$WINE" wineboot --init >>"$LOG" 2>&1 \
        || fail 1 "FAILED: wineboot --init failed for $WINEPREFIX"
    timeout 120 "$WINESERVER" -w >>"$LOG" 2>&1 || true
    [[ -d $WINEPREFIX/drive_c/windows/system32 ]] \
        || fail 1 "FAILED: wineboot left no drive_c/windows/system32 in $WINEPREFIX"
    touch "$PREFIX_STAMP"
fi
if ! cmp -s "$DLL" "$SYS_DLL"; then
    cp -f "$DLL" "$SYS_DLL.tmp" && mv -f "$SYS_DLL.tmp" "$SYS_DLL"
fi

# --- 4. ruff.exe from the win_amd64 wheel --------------------------------------------------
if [[ ! -s $RUFF_EXE ]]; then
    wheels=$(mktemp -d)
    trap 'rm -rf "$wheels"' EXIT
    "$PYTHON" -m pip download --disable-pip-version-check -q --no-deps --only-binary=:all: \
        --platform win_amd64 -d "$wheels" "ruff==$RUFF_VERSION" >>"$LOG" 2>&1 \
        || fail 1 "FAILED: pip download of ruff==$RUFF_VERSION (win_amd64) failed"
    mkdir -p "$RUFF_DIR"
    "$PYTHON" - "$wheels" "$RUFF_EXE.tmp" >>"$LOG" 2>&1 <<'PY' || fail 1 "FAILED: no ruff.exe in the ruff==$RUFF_VERSION wheel"
import pathlib, shutil, sys, zipfile
wheels, dest = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
(wheel,) = wheels.glob("ruff-*-win_amd64.whl")
with zipfile.ZipFile(wheel) as zf:
    (name,) = [n for n in zf.namelist() if n.endswith(".data/scripts/ruff.exe")]
    with zf.open(name) as src, dest.open("wb") as out:
        shutil.copyfileobj(src, out)
PY
    # Smoke check: without ProcessPrng ruff.exe exits 53 before printing anything.
    # (Output to a file, not $(...): wineserver inherits the pipe and would hold it open.)
    timeout 120 "$WINE" "$RUFF_EXE.tmp" --version >"$DIR/version.out" 2>>"$LOG" \
        || fail 1 "FAILED: ruff.exe --version under Wine exited $? (ProcessPrng stub not picked up?)"
    out=$(tr -d '\r' <"$DIR/version.out")
    rm -f "$DIR/version.out"
    [[ $out == "ruff $RUFF_VERSION" ]] || fail 1 "FAILED: ruff.exe --version printed '$out'"
    mv -f "$RUFF_EXE.tmp" "$RUFF_EXE"
fi

is_ready || fail 1 "FAILED: setup finished but the checks still fail"
ready fresh

"""A real editor: headless Neovim runs `ruff-shim server`, gets ruff's diagnostics, stops it,
and afterwards no shim or server process is left.

Debian's neovim (0.7.2) is installed by scripts/setup-neovim.sh when missing; the test skips,
with the script's own reason, only when that install is impossible (no root, no apt).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import psutil
import pytest
from conftest import script, tool_in

REPO = Path(__file__).resolve().parent.parent
LUA = Path(__file__).resolve().parent / "neovim" / "ruff_shim_client.lua"

pytestmark = pytest.mark.slow


def nvim() -> str:
    found = shutil.which("nvim")
    if found:
        return found
    setup = subprocess.run(
        ["bash", str(REPO / "scripts" / "setup-neovim.sh")],
        check=False,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    found = shutil.which("nvim")
    if not found:
        reason = (setup.stderr or setup.stdout).strip().splitlines()[-1:] or ["no output"]
        pytest.skip(f"nvim cannot be installed here: {reason[0]}")
    return found


def related(tmp: Path, shim: str) -> dict[int, tuple[str, str]]:
    """Processes whose command line or executable mentions the test's tmp dir or the shim."""
    found: dict[int, tuple[str, str]] = {}
    me = os.getpid()
    for proc in psutil.process_iter(["pid", "cmdline", "exe"]):
        try:
            if proc.pid == me:
                continue
            cmdline = " ".join(proc.info["cmdline"] or [])
            exe = proc.info["exe"] or ""
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if str(tmp) in cmdline or shim in cmdline or exe.startswith(str(tmp)):
            found[proc.pid] = (exe, cmdline)
    return found


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def tree(pid: int) -> dict[int, tuple[str, str]]:
    """Neovim's descendants (the shim, the server copy): pid -> (exe, cmdline)."""
    found: dict[int, tuple[str, str]] = {}
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return found
    for child in children:
        try:
            found[child.pid] = (child.exe(), " ".join(child.cmdline()))
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def test_neovim_gets_ruff_diagnostics_through_the_shim(
    tmp_path: Path, ruff_project: Path, shim_env: dict[str, str], store: Path
) -> None:
    nvim_exe = nvim()
    shim = script("ruff-shim")
    venv_ruff = tool_in(ruff_project / ".venv", "ruff")
    out = tmp_path / "nvim-result.txt"
    env = dict(shim_env)
    env.update(
        LSP_SHIM_TEST_CMD=shim,
        LSP_SHIM_TEST_ROOT=str(ruff_project),
        LSP_SHIM_TEST_OUT=str(out),
        # Keep Neovim's state, shada and lsp.log out of the real home.
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
        XDG_DATA_HOME=str(tmp_path / "xdg-data"),
        XDG_STATE_HOME=str(tmp_path / "xdg-state"),
        XDG_CACHE_HOME=str(tmp_path / "xdg-cache"),
    )
    started = time.monotonic()
    proc = subprocess.Popen(
        [nvim_exe, "--headless", "--clean", "-u", str(LUA), str(ruff_project / "a.py")],
        cwd=ruff_project,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    seen: dict[int, tuple[str, str]] = {}
    live: dict[int, tuple[str, str]] = {}  # the tree while the session is up (handshake)
    ready, go = Path(f"{out}.ready"), Path(f"{out}.go")
    deadline = started + 120
    while proc.poll() is None and time.monotonic() < deadline:
        seen.update(tree(proc.pid))
        if ready.exists() and not go.exists():
            live = tree(proc.pid)
            seen.update(live)
            seen.update(related(tmp_path, shim))
            go.touch()
        time.sleep(0.01)
    if proc.poll() is None:
        proc.kill()
    output = proc.communicate(timeout=10)[0].decode(errors="replace")
    elapsed = time.monotonic() - started
    result = out.read_text() if out.exists() else ""
    assert proc.returncode == 0, f"nvim exited {proc.returncode}:\n{result}\n{output}"

    facts = [line.split("=", 1) for line in result.splitlines() if "=" in line]
    diagnostics = [v for k, v in facts if k == "diagnostic"]
    assert any(d.startswith("F401|0|") for d in diagnostics), result  # `import os` unused
    assert ("server_name", "ruff") in [tuple(f) for f in facts], result
    assert ("stopped", "true") in [tuple(f) for f in facts], result
    assert ("server_exit", "0") in [tuple(f) for f in facts], result
    assert ("go", "true") in [tuple(f) for f in facts], result

    # The shim was really in the path, and ruff ran from the store's copy, not the venv's file.
    assert any(shim in cmd for _, cmd in live.values()), f"{shim} was not running: {live}"
    copies = [exe for exe, cmd in live.values() if exe.startswith(str(store)) and "server" in cmd]
    assert copies, f"ruff was not running from the store {store}: {live}"
    assert all(exe != str(venv_ruff) for exe, _ in seen.values()), seen

    # Everything the session started is gone within 2 s of Neovim's exit.
    def leftovers() -> dict[int, tuple[str, str]]:
        left = related(tmp_path, shim)
        left.update({pid: seen[pid] for pid in seen if psutil.pid_exists(pid) and alive(pid)})
        return left

    gone_by = time.monotonic() + 2.0
    left = leftovers()
    while left and time.monotonic() < gone_by:
        time.sleep(0.05)
        left = leftovers()
    assert not left, f"still running after the client stopped: {left}"
    assert elapsed < 60, f"the Neovim session took {elapsed:.1f}s"

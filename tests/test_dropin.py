"""Drop-in parity: `ruff-shim ARGS` is byte for byte `ruff ARGS` (stdout, stderr, exit code),
and every invocation runs the store's copy, never the installed file."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from conftest import RUFF_NEW, TY_VERSION, make_shim_env, make_venv, script, tool_in
from procs import OpenWatch, holdings, wait_for

LINUX = sys.platform.startswith("linux")


@dataclass
class Workspace:
    root: Path
    venv: Path
    store: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """One workspace with ruff and ty in its .venv, and a store already warm for both."""
    base = tmp_path_factory.mktemp("dropin")
    root = base / "proj"
    root.mkdir()
    (root / "a.py").write_text("import os\nx=1\n")
    (root / "ok.py").write_text("x = 1\n")
    venv = root / ".venv"
    make_venv(venv, f"ruff=={RUFF_NEW}", f"ty=={TY_VERSION}")
    for tool in ("ruff", "ty"):
        # uv hard-links these from its cache, shared with every other venv on the machine; the
        # inotify check below watches an inode, so give ours an inode of its own.
        exe = tool_in(venv, tool)
        shutil.copy2(exe, exe.with_name(exe.name + ".tmp"))
        os.replace(exe.with_name(exe.name + ".tmp"), exe)
    store = base / "store"
    env = make_shim_env(store)
    for tool in ("ruff-shim", "ty-shim"):
        subprocess.run(
            [script(tool), "--version"], env=env, cwd=root, check=True, capture_output=True
        )
    return Workspace(root, venv, store, env)


def run(cmd: list[str], ws: Workspace, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        cmd, input=stdin, capture_output=True, cwd=ws.root, env=ws.env, timeout=60
    )


def assert_same(
    tool: str, args: list[str], ws: Workspace, stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    """Run the real tool and the drop-in; identical results, and the source never opened."""
    real = run([str(tool_in(ws.venv, tool)), *args], ws, stdin)
    watch = OpenWatch([tool_in(ws.venv, tool)]) if LINUX else None
    try:
        shim = run([script(f"{tool}-shim"), *args], ws, stdin)
        if watch is not None:
            opened = watch.events()
            assert not opened, (
                f"`{tool}-shim {' '.join(args)}` opened the installed {tool}: {opened}"
            )
    finally:
        if watch is not None:
            watch.close()
    assert shim.stdout == real.stdout
    assert shim.stderr == real.stderr
    assert shim.returncode == real.returncode
    return real


RUFF_CASES = {
    "version": (["--version"], b"", 0),
    "check-stdin": (["check", "--stdin-filename", "x.py", "-"], b"import os\n", 1),
    "check-stdin-clean": (["check", "--stdin-filename", "x.py", "-"], b"x = 1\n", 0),
    "pycharm-check": (
        [
            "check",
            "--exit-zero",
            "--no-cache",
            "--force-exclude",
            "--no-fix",
            "--output-format",
            "json",
            "--stdin-filename",
            "x.py",
            "-",
        ],
        b"import os\n",
        0,
    ),
    "format-stdin": (["format", "-"], b"x=1\n", 0),
    "pycharm-format": (
        ["format", "--force-exclude", "--quiet", "--stdin-filename", "x.py", "-"],
        b"x=1\n",
        0,
    ),
    "format-syntax-error": (["format", "--stdin-filename", "x.py", "-"], b"def (:\n", 2),
    "unknown-option": (["--bogus"], b"", 2),
    "unknown-subcommand-option": (["check", "--no-such-flag"], b"", 2),
    "check-file": (["check", "--no-cache", "a.py"], b"", 1),
    "check-clean-file": (["check", "--no-cache", "ok.py"], b"", 0),
    "rule": (["rule", "F401"], b"", 0),
    "no-args": ([], b"", 2),
}


@pytest.mark.parametrize("case", sorted(RUFF_CASES))
def test_ruff_parity(case: str, ws: Workspace) -> None:
    args, stdin, code = RUFF_CASES[case]
    real = assert_same("ruff", args, ws, stdin)
    assert real.returncode == code, real  # the case tests what it claims to test


def test_ruff_version_is_what_vscode_parses(ws: Workspace) -> None:
    out = run([script("ruff-shim"), "--version"], ws).stdout.decode()
    assert out == f"ruff {RUFF_NEW}\n"


@pytest.mark.parametrize(
    "args,code", [(["--version"], 0), (["check", "--no-progress", "a.py"], 0), (["--bogus"], 2)]
)
def test_ty_parity(args: list[str], code: int, ws: Workspace) -> None:
    real = assert_same("ty", args, ws)
    assert real.returncode == code, real
    if args == ["--version"]:
        assert real.stdout.decode().startswith(f"ty {TY_VERSION}")


def test_one_copy_per_tool_identical_to_the_source(ws: Workspace) -> None:
    """The store holds exactly the copies: same bytes, a different file (not a hard link)."""
    run([script("ruff-shim"), "check", "--stdin-filename", "x.py", "-"], ws, b"x = 1\n")
    copies = sorted((ws.store / "copies").iterdir())
    by_source = {}
    for d in copies:
        meta = json.loads((d / "meta.json").read_text())
        by_source[Path(meta["source"])] = d / meta["file"]
    assert set(by_source) == {tool_in(ws.venv, "ruff"), tool_in(ws.venv, "ty")}, copies
    for source, copy in by_source.items():
        assert (
            hashlib.sha256(copy.read_bytes()).digest()
            == hashlib.sha256(source.read_bytes()).digest()
        )
        assert not os.path.samefile(copy, source)
        assert os.access(copy, os.X_OK)


def test_first_invocation_on_empty_store_runs_the_copy(ws: Workspace, tmp_path: Path) -> None:
    """Caught in the act: while `ruff-shim check -` waits for stdin, the running image is the copy."""
    store = tmp_path / "store"
    env = make_shim_env(store)
    proc = subprocess.Popen(
        [script("ruff-shim"), "check", "--stdin-filename", "x.py", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ws.root,
        env=env,
    )
    try:
        copies = store / "copies"

        def ruff_runs() -> bool:
            for p in [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]:
                try:
                    if Path(p.exe()).name.startswith("ruff"):
                        return True
                except psutil.Error:
                    pass
            return False

        assert wait_for(ruff_runs, 15), "ruff never started"
        exes = {
            Path(p.exe()) for p in [psutil.Process(proc.pid), *psutil.Process(proc.pid).children()]
        }
        ruff_exes = [e for e in exes if e.name.startswith("ruff")]
        assert ruff_exes and all(copies in e.parents for e in ruff_exes), exes
        assert not holdings(proc.pid, [ws.venv])
        out, err = proc.communicate(b"import os\n", timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, err
    assert b"F401" in out


@pytest.mark.skipif(not LINUX, reason="the open check uses Linux inotify")
def test_open_check_sees_an_exec_of_the_source(ws: Workspace) -> None:
    """Negative control for the check above: running the installed ruff is seen."""
    with OpenWatch([tool_in(ws.venv, "ruff")]) as watch:
        run([str(tool_in(ws.venv, "ruff")), "--version"], ws)
        assert "open" in {how for _, how in watch.events()}


@pytest.mark.parametrize(
    "args",
    [["server"], ["--config", "line-length = 100", "server"], ["--color", "never", "server"]],
)
def test_server_goes_through_the_relay(args: list[str], ws: Workspace) -> None:
    """`server`, also after global options with values, is relayed (the shim stays the parent),
    while a one-shot command replaces the shim with the copy."""
    from lspclient import LspClient

    client = LspClient([script("ruff-shim"), *args], env=ws.env, cwd=ws.root)
    try:
        assert "result" in client.initialize(ws.root)
        shim = psutil.Process(client.proc.pid)
        assert "python" in Path(shim.exe()).name.lower(), shim.exe()
        [server] = shim.children()
        assert Path(server.exe()).parent.parent == ws.store / "copies"
        assert client.shutdown_exit() == 0
    finally:
        client.close()

"""Windows code paths: what can be checked on any OS runs everywhere (structure layouts, long
paths, `.exe` resolution with a simulated Windows, file identity, no shell); the real calls
(Job Object, CTRL_BREAK) run on Windows, e.g. the windows-latest job of .github/workflows/ci.yml."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import script
from lsp_shim import resolve, store, winapi
from servers.echo_client import ECHO, Session, echo_command

WINDOWS = sys.platform == "win32"
windows_only = pytest.mark.skipif(
    not WINDOWS, reason="real Win32 calls; runs on windows-latest in CI"
)


# -- Job Object layout -----------------------------------------------------------------------


def test_job_structure_layout_matches_windows_headers() -> None:
    extended, flags_offset = winapi.job_structures()
    pointer = ctypes.sizeof(ctypes.c_void_p)
    if pointer == 8:
        assert ctypes.sizeof(extended) == 144  # JOBOBJECT_EXTENDED_LIMIT_INFORMATION on x64
        assert extended.IoInfo.offset == 64  # type: ignore[attr-defined]
        assert extended.ProcessMemoryLimit.offset == 112  # type: ignore[attr-defined]
    elif pointer == 4:
        assert ctypes.sizeof(extended) == 112
    else:
        pytest.skip(f"unusual pointer size {pointer}")
    assert flags_offset == 16  # after two LARGE_INTEGER time limits
    assert winapi.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE == 0x2000
    assert winapi.JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS == 9


def test_no_windows_calls_elsewhere() -> None:
    if WINDOWS:
        pytest.skip("POSIX behaviour")
    assert winapi.kill_on_close(1234) is False
    assert winapi.contain_children() is False
    assert winapi.spawn_flags() == 0
    assert winapi.interrupt(os.getpid()) is False
    assert "SIGHUP" in winapi.stop_signal_names()
    winapi.set_binary_stdio()  # a no-op, must not raise


@windows_only
def test_job_kills_its_processes_when_closed() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        job = winapi.Job()
        job.assign(int(child._handle))  # type: ignore[attr-defined]
        job.close()
        assert child.wait(10) is not None
    finally:
        if child.poll() is None:
            child.kill()


@windows_only
def test_kill_on_close_survives_our_death() -> None:
    """A parent that puts its child in a kill-on-close job and is then killed takes the child
    with it: what happens when an editor TerminateProcess-es the shim."""
    code = (
        "import subprocess, sys, time\n"
        "from lsp_shim import winapi\n"
        "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "assert winapi.kill_on_close(int(c._handle))\n"
        "print(c.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    pid = int(parent.stdout.readline())
    parent.kill()
    parent.wait(10)
    import psutil

    deadline = time.monotonic() + 10
    while psutil.pid_exists(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not psutil.pid_exists(pid)


@windows_only
def test_ctrl_break_reaches_a_server_in_its_own_group() -> None:
    code = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGBREAK, lambda *a: (print('break', flush=True), sys.exit(7)))\n"
        "print('ready', flush=True)\n"
        "time.sleep(30)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        text=True,
        creationflags=winapi.spawn_flags(),
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    assert winapi.interrupt(child.pid)
    assert child.wait(10) == 7
    assert "SIGBREAK" in winapi.stop_signal_names()


# -- long and non-ASCII paths ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("C:\\short\\ruff.exe", "C:\\short\\ruff.exe"),
        ("C:\\" + "a" * 300 + "\\ruff.exe", "\\\\?\\C:\\" + "a" * 300 + "\\ruff.exe"),
        ("C:/" + "b" * 300 + "/ruff.exe", "\\\\?\\C:\\" + "b" * 300 + "\\ruff.exe"),
        ("\\\\srv\\share\\" + "c" * 300, "\\\\?\\UNC\\srv\\share\\" + "c" * 300),
        ("\\\\?\\C:\\" + "d" * 300, "\\\\?\\C:\\" + "d" * 300),
        ("C:\\" + "\u00e9\u4e2d" * 150, "\\\\?\\C:\\" + "\u00e9\u4e2d" * 150),
    ],
)
def test_long_path_prefix(path: str, expected: str) -> None:
    assert winapi.long_path(path, windows=True) == expected
    assert winapi.long_path(path, windows=False) == path


def _deep_dir(base: Path) -> Path:
    """A directory whose path is longer than MAX_PATH, with non-ASCII names on the way."""
    here = base
    while len(str(here)) < 300:
        here = here / ("d\u00e9j\u00e0-\u4e2d\u6587-" + "x" * 30)
    here = Path(winapi.long_path(str(here)))  # \\?\ on Windows, unchanged elsewhere
    here.mkdir(parents=True)
    return here


def test_store_copies_from_a_long_non_ascii_path(tmp_path: Path) -> None:
    deep = _deep_dir(tmp_path)
    src = deep / "s\u00e9rveur-\u4e2d.exe"
    src.write_bytes(b"MZ" + os.urandom(1000))
    shadow = store.Store(str(tmp_path / "st")).open().shadow(winapi.long_path(str(src)))
    assert Path(shadow.copy).read_bytes() == src.read_bytes()
    assert Path(shadow.copy).name.isascii()


def test_session_with_server_at_long_non_ascii_path(
    tmp_path: Path, shim_env: dict[str, str]
) -> None:
    """The server script sits at a > 260-character non-ASCII path; --shadow copies it and
    the server receives the copy's path in its argv, unchanged otherwise."""
    deep = _deep_dir(tmp_path)
    server = deep / "\u00e9cho.py"
    server.write_bytes(ECHO.read_bytes())
    cmd = [script("lsp-shim"), "--shadow", str(server), "--", sys.executable, str(server)]
    s = Session(cmd, env=shim_env, cwd=tmp_path)
    try:
        s.initialize(tmp_path)
        argv = s.request(1, "echo/argv")["result"]["argv"]
        assert argv[0].startswith(shim_env["LSP_SHIM_STORE"]) and argv[0] != str(server)
        assert Path(argv[0]).read_bytes() == server.read_bytes()
        assert s.shutdown_exit() == 0
    finally:
        s.kill()


# -- no shell ------------------------------------------------------------------------------------


def test_arguments_reach_the_server_literally(tmp_path: Path, shim_env: dict[str, str]) -> None:
    """Shell metacharacters are plain bytes to the shim: no shell ever sees them."""
    nasty = [
        "a;b",
        "$(echo pwned)",
        "`id`",
        "x & y",
        "p|q",
        '"quoted"',
        "%PATH%",
        "*",
        "\u00e9\u4e2d",
        "",
    ]
    sentinel = tmp_path / "pwned"
    nasty.append(f"; touch {sentinel}")
    s = Session(echo_command(script("lsp-shim")) + nasty, env=shim_env, cwd=tmp_path)
    try:
        s.initialize(tmp_path)
        argv = s.request(1, "echo/argv")["result"]["argv"]
        assert argv[1:] == nasty
        assert s.shutdown_exit() == 0
    finally:
        s.kill()
    assert not sentinel.exists()


def test_spawn_never_uses_a_shell() -> None:
    from lsp_shim import spawn

    source = Path(spawn.__file__).read_text()
    assert "shell=True" not in source and "os.system" not in source and "/bin/sh" not in source


# -- .exe resolution (simulated Windows) ---------------------------------------------------------


@pytest.fixture
def as_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resolve, "WINDOWS", True)
    monkeypatch.setattr(resolve, "SCRIPTS", "Scripts")


def test_exe_names_only_real_executables(as_windows: None) -> None:
    env = {"PATHEXT": ".COM;.EXE;.BAT;.CMD;.VBS;.JS"}
    assert resolve.exe_names("ruff", env) == ["ruff.com", "ruff.exe"]
    assert resolve.exe_names("ruff", {}) == ["ruff.com", "ruff.exe"]
    assert resolve.exe_names("ruff.exe", env) == ["ruff.exe"]  # an explicit extension is kept
    assert resolve.exe_names("ruff", {"PATHEXT": ".BAT;.CMD"}) == ["ruff.exe"]


def test_resolves_ruff_exe_in_workspace_venv(as_windows: None, tmp_path: Path) -> None:
    scripts = tmp_path / "proj" / ".venv" / "Scripts"
    scripts.mkdir(parents=True)
    (scripts / "ruff.cmd").write_text("@echo off\n")  # never chosen: it would need a shell
    res = resolve.resolve("ruff", str(tmp_path / "proj"), {"PATH": ""})
    assert res.path is None
    (scripts / "ruff.exe").write_bytes(b"MZ" + b"\0" * 2000)
    res = resolve.resolve("ruff", str(tmp_path / "proj"), {"PATH": ""})
    assert res.path == str(scripts / "ruff.exe")


def test_resolve_command_on_path_finds_exe(as_windows: None, tmp_path: Path) -> None:
    (tmp_path / "srv.bat").write_text("@echo off\n")
    with pytest.raises(Exception, match="not found on PATH"):
        resolve.resolve_command("srv", {"PATH": str(tmp_path), "PATHEXT": ".BAT;.EXE"})
    (tmp_path / "srv.exe").write_bytes(b"MZ")
    assert resolve.resolve_command("srv", {"PATH": str(tmp_path), "PATHEXT": ".BAT;.EXE"}) == str(
        tmp_path / "srv.exe"
    )


# -- file identity (what stat keys rest on) -------------------------------------------------------


def test_file_id_is_stable_and_distinct(tmp_path: Path) -> None:
    a = tmp_path / "a"
    a.write_bytes(b"one")
    fid = winapi.file_id(str(a))
    if fid is None:
        pytest.skip("this file system reports no file ids")
    b = tmp_path / "b"
    a.rename(b)
    assert winapi.file_id(str(b)) == fid  # a rename keeps the identity
    c = tmp_path / "c"
    c.write_bytes(b"one")
    assert winapi.file_id(str(c)) != fid  # same content, another file
    key = store.stat_key(os.stat(b))
    time.sleep(0.01)
    b.write_bytes(b"two!")
    assert store.stat_key(os.stat(b)) != key  # a rewrite changes the key


# -- reading a source without locking it ----------------------------------------------------------


def test_open_shared_reads_the_file_and_is_not_inherited(tmp_path: Path) -> None:
    src = tmp_path / "ruff.exe"
    src.write_bytes(b"MZ" + os.urandom(300))
    fd = winapi.open_shared(str(src))
    try:
        assert os.read(fd, 1000) == src.read_bytes()
        assert not os.get_inheritable(fd)  # a server we start must not inherit the source
    finally:
        os.close(fd)


def test_open_shared_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        winapi.open_shared(str(tmp_path / "gone.exe"))


def test_store_reads_sources_through_open_shared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    real = winapi.open_shared

    def spy(path: str) -> int:
        opened.append(path)
        return real(path)

    monkeypatch.setattr(winapi, "open_shared", spy)
    src = tmp_path / "ruff.exe"
    src.write_bytes(b"MZ" + os.urandom(1000))
    shadow = store.Store(str(tmp_path / "st")).open().shadow(str(src))
    assert opened == [str(src)]
    assert Path(shadow.copy).read_bytes() == src.read_bytes()


@windows_only
def test_a_source_being_copied_can_be_replaced_and_deleted(tmp_path: Path) -> None:
    src = tmp_path / "ruff.exe"
    src.write_bytes(b"old")
    new = tmp_path / "new.exe"
    new.write_bytes(b"new")
    fd = os.open(src, os.O_RDONLY)  # what a plain open does to an installer: the problem
    try:
        with pytest.raises(PermissionError):
            os.replace(new, src)
    finally:
        os.close(fd)
    fd = winapi.open_shared(str(src))
    try:
        os.replace(new, src)  # an upgrade renaming the new binary into place
        os.remove(src)  # an uninstall
        assert os.read(fd, 10) == b"old"  # the copy goes on reading what it started with
    finally:
        os.close(fd)

"""Faults around a running session: a server killed or hanging, stdin closed early, the store
deleted or full, the source replaced while it is copied, many sessions at once, many cycles.

Each test ends by checking that no process it started is left behind.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from conftest import script, tmpfs
from lsp_shim import store as store_mod
from lsp_shim.store import Store, StoreError
from servers.echo_client import ECHO, Session, dumps, echo_command, frame

POSIX = sys.platform != "win32"


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def server_pid(s: Session) -> int:
    return int(s.request("argv", "echo/argv")["result"]["pid"])


def assert_gone(pids: list[int], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    alive = pids
    while time.monotonic() < deadline:
        alive = [
            p
            for p in pids
            if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE
        ]
        if not alive:
            return
        time.sleep(0.05)
    raise AssertionError(f"processes left behind: {alive}")


@pytest.fixture
def session(shim_env: dict[str, str], tmp_path: Path) -> Iterator[Session]:
    s = Session(echo_command(script("lsp-shim")), env=shim_env, cwd=tmp_path)
    s.initialize(tmp_path)
    yield s
    s.kill()


# -- the server --------------------------------------------------------------------------------


@pytest.mark.skipif(not POSIX, reason="SIGKILL")
def test_server_killed_mid_request(session: Session) -> None:
    """Never silent: the request in flight gets an answer (the shim restarts the server) or,
    without recovery, the editor sees EOF and the shim exits with 128+9. Nothing is left."""
    spid = server_pid(session)
    session.send({"jsonrpc": "2.0", "id": 5, "method": "echo/hang"})
    time.sleep(0.2)
    os.kill(spid, signal.SIGKILL)
    try:
        answer = session.wait_response(5, 10)
    except TimeoutError:
        assert session.eof.is_set() and session.proc.wait(5) == 128 + 9
    else:
        assert b'"error"' in answer
        assert server_pid(session) != spid  # a new server answers
        assert session.shutdown_exit() == 0
    assert_gone([spid, session.proc.pid])


@pytest.mark.skipif(not POSIX, reason="SIGKILL")
def test_server_killed_after_shutdown_exits_with_its_code(session: Session) -> None:
    spid = server_pid(session)
    kids = [p.pid for p in descendants(session.proc.pid)]
    session.request("shutdown", "shutdown")
    os.kill(spid, signal.SIGKILL)
    assert session.proc.wait(5) == 128 + 9
    assert session.eof.wait(5)
    assert_gone([*kids, session.proc.pid])


def test_hanging_server_and_cancel(session: Session) -> None:
    session.send({"jsonrpc": "2.0", "id": 7, "method": "echo/hang"})
    session.send({"jsonrpc": "2.0", "id": 8, "method": "echo/hang"})
    assert session.request(9, "echo", {"x": 1})["result"]["params"] == {"x": 1}  # not blocked
    session.send({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 7}})
    err = session.wait_response(7, 5)
    assert b'"code": -32800' in err or b'"code":-32800' in err
    stats = session.request("stats", "echo/stats")["result"]
    assert stats["cancels"] == 1 and stats["pending"] == 1  # 8 still hangs: nothing invented
    session.send({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 8}})
    session.wait_response(8, 5)
    assert session.request("stats2", "echo/stats")["result"]["pending"] == 0
    assert session.shutdown_exit() == 0


# -- the editor's side -----------------------------------------------------------------------------


def test_stdin_closed_before_anything(shim_env: dict[str, str], tmp_path: Path) -> None:
    proc = subprocess.run(
        echo_command(script("lsp-shim")),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=shim_env,
        cwd=tmp_path,
        timeout=30,
    )
    assert proc.returncode != 0 and b"closed stdin" in proc.stderr
    assert b"Traceback" not in proc.stderr


def test_stdin_closed_with_requests_in_flight(session: Session) -> None:
    kids = [p.pid for p in descendants(session.proc.pid)]
    session.send({"jsonrpc": "2.0", "id": 3, "method": "echo/hang"})
    session.write(frame(dumps({"jsonrpc": "2.0", "id": 4, "method": "echo"}))[:-5])  # partial
    session.close_stdin()
    code = session.proc.wait(10)
    assert code is not None
    assert session.eof.wait(5)
    assert_gone([*kids, session.proc.pid])


# -- the store --------------------------------------------------------------------------------------


def test_store_deleted_while_sessions_run(shim_env: dict[str, str], tmp_path: Path) -> None:
    store = Path(shim_env["LSP_SHIM_STORE"])
    sessions = [
        Session(echo_command(script("lsp-shim")), env=shim_env, cwd=tmp_path) for _ in range(2)
    ]
    try:
        for s in sessions:
            s.initialize(tmp_path)
        time.sleep(1.2)  # session records written
        shutil.rmtree(store)
        for i, s in enumerate(sessions):
            assert s.request(10 + i, "echo", {"i": i})["result"]["params"] == {"i": i}
        fresh = Session(echo_command(script("lsp-shim")), env=shim_env, cwd=tmp_path)
        try:
            fresh.initialize(tmp_path)
            assert (store / "copies").is_dir() and len(os.listdir(store / "copies")) == 1
            assert fresh.shutdown_exit() == 0
        finally:
            fresh.kill()
        for s in sessions:
            assert s.shutdown_exit() == 0
            assert "Traceback" not in s.stderr
    finally:
        for s in sessions:
            s.kill()


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs Linux and root")
    mnt = tmp_path / "tiny"
    mnt.mkdir(mode=0o700)
    with tmpfs(mnt, "size=8m,mode=0700"):
        yield mnt


def big_server(tmp_path: Path, mb: int = 12) -> Path:
    """An executable larger than the tmpfs: a shell script that execs the echo server,
    padded with a comment the shell never reads."""
    path = tmp_path / "install" / "big-server"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(f'#!/bin/sh\nexec "{sys.executable}" "{ECHO}" "$@"\n#'.encode())
        f.write(b"x" * (mb << 20))
    path.chmod(0o755)
    return path


@pytest.mark.skipif(not POSIX, reason="a shell-script server and a tmpfs")
def test_disk_full_falls_back_with_warning(
    small_tmpfs: Path, shim_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**shim_env, "LSP_SHIM_STORE": str(small_tmpfs)}
    server = big_server(tmp_path)
    s = Session([script("lsp-shim"), "--", str(server)], env=env, cwd=tmp_path)
    try:
        s.initialize(tmp_path)
        argv = s.request(1, "echo/argv")["result"]["argv"]
        assert argv[0] == str(ECHO)  # it runs (in place: the copy was impossible)
        assert s.wait_for(
            lambda: any(b'"window/showMessage"' in b and b"in place" in b for _, b in s.frames), 5
        )
        assert s.shutdown_exit() == 0
        err = s.stderr
        assert "No space left on device" in err and "in place" in err and "Traceback" not in err
    finally:
        s.kill()
    # No partial file anywhere in the store.
    leftovers = [
        str(p) for p in small_tmpfs.rglob("*") if p.is_file() and p.stat().st_size > 1 << 20
    ]
    assert leftovers == []
    assert not (small_tmpfs / "tmp").exists() or os.listdir(small_tmpfs / "tmp") == []
    assert not (small_tmpfs / "copies").exists() or os.listdir(small_tmpfs / "copies") == []


@pytest.mark.skipif(not POSIX, reason="a shell-script server and a tmpfs")
def test_disk_full_strict_refuses(
    small_tmpfs: Path, shim_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**shim_env, "LSP_SHIM_STORE": str(small_tmpfs)}
    server = big_server(tmp_path)
    s = Session([script("lsp-shim"), "--strict", "--", str(server)], env=env, cwd=tmp_path)
    try:
        init = s.request(0, "initialize", {"processId": os.getpid(), "capabilities": {}})
        assert "error" in init and "No space left on device" in init["error"]["message"]
        assert "--strict" in init["error"]["message"]
    finally:
        s.kill()
    assert not (small_tmpfs / "tmp").exists() or os.listdir(small_tmpfs / "tmp") == []


# -- the source replaced while it is copied ---------------------------------------------------------


@pytest.fixture
def versions(tmp_path: Path) -> tuple[Path, bytes, bytes]:
    a = os.urandom(3 << 20)
    b = os.urandom(3 << 20)  # same size: only content tells them apart
    src = tmp_path / "bin" / "server"
    src.parent.mkdir()
    src.write_bytes(a)
    src.chmod(0o755)
    return src, a, b


def _rewrite_during_copy(monkeypatch: pytest.MonkeyPatch, action: callable) -> list[int]:  # type: ignore[valid-type]
    real = store_mod._copy_hashing
    calls: list[int] = []

    def copying(src: int, target: str, h: object, mode: int) -> str:
        calls.append(1)
        digest = real(src, target, h, mode)  # type: ignore[arg-type]
        if len(calls) == 1:
            action()  # the installer strikes between the first byte and the check
        return digest

    monkeypatch.setattr(store_mod, "_copy_hashing", copying)
    return calls


def test_source_rewritten_in_place_mid_copy(
    versions: tuple[Path, bytes, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, _a, b = versions

    def rewrite() -> None:
        with open(src, "r+b") as f:
            f.write(b)

    calls = _rewrite_during_copy(monkeypatch, rewrite)
    shadow = Store(str(tmp_path / "store")).open().shadow(str(src))
    assert len(calls) == 2  # the first copy was thrown away
    assert Path(shadow.copy).read_bytes() == b
    assert os.listdir(os.path.join(tmp_path, "store", "copies")) == [
        os.path.basename(shadow.directory)
    ]


def test_source_replaced_by_rename_mid_copy(
    versions: tuple[Path, bytes, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, _a, b = versions
    new = tmp_path / "bin" / "server.new"
    new.write_bytes(b)

    calls = _rewrite_during_copy(monkeypatch, lambda: os.replace(new, src))
    shadow = Store(str(tmp_path / "store")).open().shadow(str(src))
    assert len(calls) == 2
    assert Path(shadow.copy).read_bytes() == b


def test_source_replaced_repeatedly_never_mixes(
    versions: tuple[Path, bytes, bytes], tmp_path: Path
) -> None:
    """A real race: an installer swapping two versions in as fast as it can while copies are
    made. Every copy is exactly one version, and its recorded hash is its own."""
    src, a, b = versions
    staged = [tmp_path / "bin" / "a.new", tmp_path / "bin" / "b.new"]
    stop = threading.Event()

    def installer() -> None:
        i = 0
        while not stop.is_set():
            staged[i % 2].write_bytes((a, b)[i % 2])
            os.replace(staged[i % 2], src)
            i += 1

    t = threading.Thread(target=installer, daemon=True)
    t.start()
    try:
        seen = set()
        for n in range(12):
            try:
                shadow = Store(str(tmp_path / f"store{n}")).open().shadow(str(src))
            except StoreError as exc:
                assert "kept changing" in str(exc)
                continue
            data = Path(shadow.copy).read_bytes()
            assert data in (a, b), "a copy mixing two versions"
            assert shadow.sha256 == hashlib.sha256(data).hexdigest()
            seen.add(data == a)
    finally:
        stop.set()
        t.join(10)


# -- load ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_32_sessions_at_once(shim_env: dict[str, str], tmp_path: Path) -> None:
    store = Path(shim_env["LSP_SHIM_STORE"])
    sessions = [
        Session(echo_command(script("lsp-shim")), env=shim_env, cwd=tmp_path) for _ in range(32)
    ]
    try:
        for s in sessions:
            s.send(
                {
                    "jsonrpc": "2.0",
                    "id": 0,
                    "method": "initialize",
                    "params": {"processId": os.getpid(), "capabilities": {}},
                }
            )
        for s in sessions:
            assert b'"echo"' in s.wait_response(0, 60)
        for i, s in enumerate(sessions):
            assert s.request(1, "echo", {"i": i})["result"]["params"] == {"i": i}
        assert len(os.listdir(store / "copies")) == 1, os.listdir(store / "copies")
        assert os.listdir(store / "tmp") == []
        pids = [p.pid for s in sessions for p in descendants(s.proc.pid)] + [
            s.proc.pid for s in sessions
        ]
        for s in sessions:
            assert s.shutdown_exit(30) == 0
        assert_gone(pids, 10)
    finally:
        for s in sessions:
            s.kill()


@pytest.mark.slow
def test_200_start_stop_cycles_leave_nothing(shim_env: dict[str, str], tmp_path: Path) -> None:
    """200 full sessions (4 editors starting and stopping in parallel, 50 cycles each)."""
    store = Path(shim_env["LSP_SHIM_STORE"])
    pids: list[int] = []
    failures: list[str] = []

    def editor(worker: int) -> None:
        for i in range(50):
            s = Session(echo_command(script("lsp-shim")), env=shim_env, cwd=tmp_path)
            try:
                s.initialize(tmp_path)
                if i % 10 == 0:
                    pids.append(server_pid(s))
                pids.append(s.proc.pid)
                code = s.shutdown_exit()
                if code != 0:
                    failures.append(f"worker {worker} cycle {i}: exit {code}: {s.stderr}")
            except Exception as exc:  # reported below with the others
                failures.append(f"worker {worker} cycle {i}: {exc!r}")
            finally:
                s.kill()

    workers = [threading.Thread(target=editor, args=(w,)) for w in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(300)
    assert failures == []
    assert len(pids) == 200 + 20
    assert_gone(pids, 10)
    assert len(os.listdir(store / "copies")) == 1, os.listdir(store / "copies")
    records = [n for n in os.listdir(store / "sessions") if not n.startswith(".")]
    assert records == [], f"session records left behind: {records}"
    assert os.listdir(store / "tmp") == []
    assert len(os.listdir(store / "index")) == 1

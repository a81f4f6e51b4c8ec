"""Lifecycle: exit codes, every way an editor or the shim can go away, and concurrent starts.

Real ruff where it can show the behaviour; tests/servers/fake_server.py for servers that exit
with a code, linger after EOF or `exit`, or ignore SIGTERM.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from conftest import fake_server_cmd, script
from lspclient import LspClient, frame, read_frame
from procs import gone, servers_of, wait_for, wait_gone

POSIX = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
DEADLINE = 2.0  # the bound for stopping a server whose editor or shim went away


def ruff_shim() -> list[str]:
    return [script("ruff-shim"), "server"]


def initialize(client: LspClient, root: Path, process_id: int | None = None) -> None:
    """initialize, insisting on a result (an error answer means the shim refused to start)."""
    resp = client.initialize(root, process_id=process_id)
    assert "result" in resp, f"{resp}; stderr: {client.stderr}"


def started(client: LspClient, root: Path, process_id: int | None = None) -> psutil.Process:
    """Initialize and return the server process (the shim's only child)."""
    initialize(client, root, process_id)
    servers = servers_of(client.proc.pid)
    assert len(servers) == 1, servers
    return servers[0]


def records(store: Path) -> list[Path]:
    sessions = store / "sessions"
    return sorted(sessions.glob("*.json")) if sessions.is_dir() else []


def wait_record(store: Path, shim_pid: int, timeout: float = 10.0) -> Path:
    found: list[Path] = []

    def has() -> bool:
        found[:] = [p for p in records(store) if p.name.startswith(f"{shim_pid}-")]
        return bool(found)

    assert wait_for(has, timeout), f"no session record for {shim_pid}: {records(store)}"
    return found[0]


# exit codes


def test_exit_code_after_exit_notification(project: Path, shim_env: dict[str, str]) -> None:
    client = LspClient(fake_server_cmd("--exit-code", "3"), env=shim_env, cwd=project)
    try:
        initialize(client, project)
        client.request("shutdown")
        client.notify("exit")
        assert client.proc.wait(5) == 3
    finally:
        client.close()


def test_exit_code_of_server_dying_at_start(project: Path, shim_env: dict[str, str]) -> None:
    client = LspClient(fake_server_cmd("--exit-at-start", "4"), env=shim_env, cwd=project)
    try:
        rid = client.request_async(
            "initialize", {"processId": None, "rootUri": None, "capabilities": {}}
        )
        assert client.proc.wait(5) == 4
        # The editor is told why instead of waiting for an answer that never comes.
        answer = client.response(rid, 5)
        assert "exited with code 4 before answering initialize" in answer["error"]["message"]
    finally:
        client.close()


def test_exit_code_of_server_exiting_after_initialize(
    project: Path, shim_env: dict[str, str]
) -> None:
    """It exits unasked right after initialize, every time: the shim ends with its code."""
    client = LspClient(fake_server_cmd("--exit-after-initialize", "3"), env=shim_env, cwd=project)
    try:
        initialize(client, project)
        assert client.proc.wait(30) == 3
        assert "Traceback" not in client.stderr
    finally:
        client.close()


# the editor goes away

CLIENT_SCRIPT = r"""
import json, os, subprocess, sys, time
sys.path.insert(0, sys.argv[1])
from lspclient import frame, read_frame
stdin, stdout = (int(x) for x in sys.argv[2].split(","))
cmd = sys.argv[3:]
if stdin < 0:
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    proc.stdin.write(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                            "params": {"processId": os.getpid(), "rootUri": None,
                                       "capabilities": {}}}))
    proc.stdin.flush()
    assert read_frame(proc.stdout) is not None
else:
    proc = subprocess.Popen(cmd, stdin=stdin, stdout=stdout, pass_fds=(stdin, stdout))
print(proc.pid, flush=True)
time.sleep(600)
"""


@POSIX
@pytest.mark.parametrize("pipes", ["closed", "kept-open"])
def test_client_sigkilled(
    pipes: str, ruff_project: Path, shim_env: dict[str, str], tmp_path: Path
) -> None:
    """The editor is SIGKILLed. "closed": its pipes die with it (stdin EOF); "kept-open": another
    process still holds them, so only the parent/editor watch can notice."""
    tests_dir = str(Path(__file__).parent)
    ours: list[int] = []
    if pipes == "closed":
        fds = "-1,-1"
        passed: tuple[int, ...] = ()
    else:
        shim_in_r, shim_in_w = os.pipe()
        shim_out_r, shim_out_w = os.pipe()
        fds = f"{shim_in_r},{shim_out_w}"
        passed = (shim_in_r, shim_out_w)
        ours = [shim_in_w, shim_out_r]
    editor = subprocess.Popen(
        [sys.executable, "-c", CLIENT_SCRIPT, tests_dir, fds, *ruff_shim()],
        stdout=subprocess.PIPE,
        env=shim_env,
        cwd=ruff_project,
        pass_fds=passed,
    )
    try:
        for fd in passed:
            os.close(fd)
        assert editor.stdout is not None
        shim_pid = int(editor.stdout.readline())
        if ours:
            # We speak for the editor over the pipes we kept (no processId: the parent watch).
            init = {"processId": None, "rootUri": ruff_project.as_uri(), "capabilities": {}}
            os.write(
                ours[0], frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init})
            )
            with os.fdopen(os.dup(ours[1]), "rb", buffering=0) as out:
                assert read_frame(out) is not None
        server = servers_of(shim_pid)[0]
        editor.kill()
        editor.wait()
        killed = time.monotonic()
        assert wait_gone(server.pid, DEADLINE), (
            f"server still runs {DEADLINE} s after the editor died"
        )
        assert wait_gone(shim_pid, 5.0), "the shim outlived its server"
        assert time.monotonic() - killed < DEADLINE + 5.0
    finally:
        for fd in ours:
            os.close(fd)
        if editor.poll() is None:
            editor.kill()


def test_editor_process_id_dies(
    ruff_project: Path, shim_env: dict[str, str], tmp_path: Path
) -> None:
    """The `processId` of initialize names the editor; when it dies, the server stops ≤ 2 s."""
    editor = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    client = LspClient(ruff_shim(), env=shim_env, cwd=ruff_project)
    try:
        server = started(client, ruff_project, process_id=editor.pid)
        time.sleep(1.0)  # the watch is running by now
        assert not gone(server.pid)
        editor.kill()
        editor.wait()
        assert wait_gone(server.pid, DEADLINE), "server outlived the editor named by processId"
        assert client.proc.wait(5) is not None
    finally:
        client.close()
        if editor.poll() is None:
            editor.kill()


def test_editor_process_id_already_dead(ruff_project: Path, shim_env: dict[str, str]) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    client = LspClient(ruff_shim(), env=shim_env, cwd=ruff_project)
    try:
        server = started(client, ruff_project, process_id=dead.pid)
        assert wait_gone(server.pid, DEADLINE + 1.0), "server kept running for a dead editor"
        client.proc.wait(5)
    finally:
        client.close()


# the shim goes away


@POSIX
def test_shim_sigkilled_server_stops_and_record_is_collected(
    ruff_project: Path, shim_env: dict[str, str], store: Path
) -> None:
    client = LspClient(ruff_shim(), env=shim_env, cwd=ruff_project)
    try:
        server = started(client, ruff_project)
        record = wait_record(store, client.proc.pid)
        client.proc.kill()  # eglot does this right after `exit`
        client.proc.wait()
        assert wait_gone(server.pid, DEADLINE), "server outlived the SIGKILLed shim"
        assert record.exists()  # nobody could remove it yet
    finally:
        client.close()
    ps = subprocess.run(
        [script("lsp-shim"), "ps", "--json"], env=shim_env, capture_output=True, check=True
    )
    assert client.proc.pid not in {r["pid"] for r in json.loads(ps.stdout)}
    # The next start collects the dead session's record.
    nxt = LspClient(ruff_shim(), env=shim_env, cwd=ruff_project)
    try:
        started(nxt, ruff_project)
        assert wait_for(lambda: not record.exists(), 10.0), f"{record} was not collected"
        ps = subprocess.run(
            [script("lsp-shim"), "ps", "--json"], env=shim_env, capture_output=True, check=True
        )
        assert [r["pid"] for r in json.loads(ps.stdout)] == [nxt.proc.pid]
        assert nxt.shutdown_exit() == 0
    finally:
        nxt.close()


def _kill_stubborn(project: Path, env: dict[str, str], pidfile: Path) -> int:
    """Start a server that ignores stdin EOF, SIGKILL its shim; the server's pid."""
    client = LspClient(
        fake_server_cmd("--ignore-eof", "--pidfile", str(pidfile)), env=env, cwd=project
    )
    try:
        initialize(client, project)
        wait_record(Path(env["LSP_SHIM_STORE"]), client.proc.pid)
        client.proc.kill()
        client.proc.wait()
    finally:
        client.close()
    return int(pidfile.read_text())


@POSIX
@pytest.mark.xfail(
    sys.platform == "darwin",
    reason="macOS has no parent-death signal: an EOF-ignoring server lives until the next start's gc",
    strict=True,
)
def test_shim_sigkilled_server_ignoring_eof_stops(
    project: Path, shim_env: dict[str, str], tmp_path: Path
) -> None:
    """A server that does not exit on stdin EOF still dies with the SIGKILLed shim."""
    pidfile = tmp_path / "server.pid"
    server_pid = -1
    try:
        server_pid = _kill_stubborn(project, shim_env, pidfile)
        assert wait_gone(server_pid, DEADLINE), "a server ignoring EOF outlived the SIGKILLed shim"
    finally:
        if server_pid > 0 and not gone(server_pid):
            os.kill(server_pid, signal.SIGKILL)


@POSIX
def test_next_start_stops_an_orphaned_server(
    project: Path, shim_env: dict[str, str], tmp_path: Path
) -> None:
    """Whatever kept it alive, the next start's gc stops the dead session's server."""
    pidfile = tmp_path / "server.pid"
    server_pid = _kill_stubborn(project, shim_env, pidfile)
    try:
        nxt = LspClient(fake_server_cmd(), env=shim_env, cwd=project)
        try:
            initialize(nxt, project)
            assert wait_gone(server_pid, 10.0), "the next start left the orphaned server running"
            assert nxt.shutdown_exit() == 0
        finally:
            nxt.close()
    finally:
        if not gone(server_pid):
            os.kill(server_pid, signal.SIGKILL)


# stdin, exit, signals


def test_stdin_eof_closes_the_server(ruff_project: Path, shim_env: dict[str, str]) -> None:
    client = LspClient(ruff_shim(), env=shim_env, cwd=ruff_project)
    try:
        server = started(client, ruff_project)
        assert client.proc.stdin is not None
        client.proc.stdin.close()
        assert wait_gone(server.pid, DEADLINE)
        client.proc.wait(5)
    finally:
        client.close()


def test_stdin_eof_terminates_a_lingering_server(
    project: Path, shim_env: dict[str, str], tmp_path: Path
) -> None:
    pidfile = tmp_path / "server.pid"
    client = LspClient(
        fake_server_cmd("--ignore-eof", "--pidfile", str(pidfile)), env=shim_env, cwd=project
    )
    try:
        initialize(client, project)
        server_pid = int(pidfile.read_text())
        assert client.proc.stdin is not None
        client.proc.stdin.close()
        assert wait_gone(server_pid, 5.0), "a server lingering after EOF was not terminated"
        client.proc.wait(5)
    finally:
        client.close()


@pytest.mark.parametrize("server", ["ruff", "lingering"])
def test_exit_returns_promptly_with_stdin_open(
    server: str, ruff_project: Path, shim_env: dict[str, str]
) -> None:
    """After `exit` the shim exits even though the editor keeps our stdin open."""
    cmd = ruff_shim() if server == "ruff" else fake_server_cmd("--ignore-exit", "--ignore-eof")
    client = LspClient(cmd, env=shim_env, cwd=ruff_project)
    try:
        srv = started(client, ruff_project)
        client.request("shutdown")
        client.notify("exit")
        t = time.monotonic()
        client.proc.wait(5 if server == "lingering" else 2)
        assert time.monotonic() - t < (3.5 if server == "lingering" else 1.0)
        if server == "ruff":
            assert client.proc.returncode == 0
        assert wait_gone(srv.pid, 2.0)
    finally:
        client.close()


@POSIX
@pytest.mark.parametrize(
    "server,signame",
    [
        ("ruff", "SIGTERM"),
        ("ruff", "SIGINT"),
        ("ruff", "SIGHUP"),
        ("ignoring-sigterm", "SIGTERM"),
    ],
)
def test_signal_to_the_shim_stops_the_server(
    server: str, signame: str, ruff_project: Path, shim_env: dict[str, str]
) -> None:
    cmd = ruff_shim() if server == "ruff" else fake_server_cmd("--ignore-term")
    client = LspClient(cmd, env=shim_env, cwd=ruff_project)
    try:
        srv = started(client, ruff_project)
        record = wait_record(Path(shim_env["LSP_SHIM_STORE"]), client.proc.pid)
        client.proc.send_signal(getattr(signal, signame))
        assert wait_gone(srv.pid, DEADLINE + 1.0), f"{signame} to the shim left the server running"
        client.proc.wait(5)
        assert "Traceback" not in client.stderr
        assert not record.exists(), "a stopped shim left its session record behind"
    finally:
        client.close()


# concurrency


@pytest.mark.slow
def test_sixteen_concurrent_first_starts_make_one_copy(
    ruff_project: Path, shim_env: dict[str, str], store: Path
) -> None:
    assert not store.exists()
    clients = [LspClient(ruff_shim(), env=shim_env, cwd=ruff_project) for _ in range(16)]
    results: dict[int, object] = {}

    def init(i: int) -> None:
        try:
            results[i] = clients[i].initialize(ruff_project)["result"]["serverInfo"]["name"]
        except Exception as exc:  # reported below with the index
            results[i] = exc

    try:
        threads = [threading.Thread(target=init, args=(i,)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert results == dict.fromkeys(range(16), "ruff"), results
        copies = sorted(p.name for p in (store / "copies").iterdir())
        assert len(copies) == 1, copies
        for c in clients:
            assert c.shutdown_exit() == 0
        assert wait_for(lambda: not any((store / "tmp").iterdir()), 5.0), "staging left behind"
    finally:
        for c in clients:
            c.close()

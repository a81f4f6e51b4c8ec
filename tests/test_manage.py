"""Management commands through the installed `lsp-shim`: ps, gc, locks, doctor."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lsp_shim
import psutil
import pytest
from conftest import RUFF_NEW, fake_server_cmd, script, tool_in
from lsp_shim import session
from lsp_shim.store import Store
from lspclient import LspClient
from procs import servers_of, wait_for

OLD = time.time() - 3600  # long past gc's grace period


def shim(
    *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [script("lsp-shim"), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=60
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def shim_json(*args: str, env: dict[str, str], cwd: Path | None = None) -> Any:
    result = shim(*args, "--json", env=env, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def ruff_venv(venv_factory: Callable[..., Path]) -> Path:
    return venv_factory("manage-ruff", f"ruff=={RUFF_NEW}")


# ps


def test_ps_lists_a_live_session(ruff_project: Path, shim_env: dict[str, str], store: Path) -> None:
    assert shim_json("ps", env=shim_env) == []
    client = LspClient([script("ruff-shim"), "server"], env=shim_env, cwd=ruff_project)
    try:
        client.initialize(ruff_project)
        server = servers_of(client.proc.pid)[0]
        assert wait_for(lambda: bool(shim_json("ps", env=shim_env)), 10)
        [rec] = shim_json("ps", env=shim_env)
        assert rec["pid"] == client.proc.pid
        assert rec["server"] == "ruff" and rec["version"] == RUFF_NEW
        assert rec["source"] == str(tool_in(ruff_project / ".venv", "ruff"))
        assert Path(rec["copy"]).parent.parent == store / "copies"
        assert rec["server_pid"] == server.pid
        assert rec["command"] == [rec["copy"], "server"]
        assert rec["workspace"] == str(ruff_project)
        text = shim("ps", env=shim_env).stdout
        assert str(client.proc.pid) in text and "ruff" in text and RUFF_NEW in text
        assert client.shutdown_exit() == 0
    finally:
        client.close()
    assert shim_json("ps", env=shim_env) == []
    assert "no live sessions" in shim("ps", env=shim_env).stdout
    assert not list((store / "sessions").glob("*.json")), "a clean exit left its record behind"


# gc


def _version(source: Path, store: Store, content: bytes) -> str:
    """Install `content` as the source and copy it; the copy's directory."""
    source.write_bytes(content)
    return store.shadow(str(source)).directory


def _age(directory: str, when: float = OLD) -> None:
    os.utime(directory, (when, when))


@pytest.fixture
def gc_store(tmp_path: Path, store: Path) -> dict[str, Any]:
    """Three versions of one server, one copy of another, a live and a dead session record."""
    st = Store(str(store)).open()
    src = tmp_path / "venv" / "bin" / "ruff"
    src.parent.mkdir(parents=True)
    other = tmp_path / "venv" / "bin" / "ty"
    other.write_bytes(b"ty binary")
    dirs = {
        "v1-in-use": _version(src, st, b"ruff v1"),
        "v2-unused": _version(src, st, b"ruff v2"),
        "v3-newest": _version(src, st, b"ruff v3"),
        "ty-only": st.shadow(str(other)).directory,
    }
    for d in dirs.values():
        _age(d)
    me = psutil.Process()
    live = {
        "pid": me.pid,
        "create_time": me.create_time(),
        "copy": os.path.join(dirs["v1-in-use"], "ruff"),
    }
    session.write(st.sessions, live)
    dead_proc = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_proc.wait()
    dead = {
        "pid": dead_proc.pid,
        "create_time": 12345.0,
        "copy": os.path.join(dirs["v2-unused"], "ruff"),
    }
    dead_path = session.write(st.sessions, dead)
    corrupt = Path(st.sessions, "999-1.json")
    corrupt.write_text("{not json")
    return {"store": st, "dirs": dirs, "dead": dead_path, "corrupt": str(corrupt)}


def test_gc_dry_run_removes_nothing(gc_store: dict[str, Any], shim_env: dict[str, str]) -> None:
    dirs = gc_store["dirs"]
    report = shim_json("gc", "--dry-run", env=shim_env)
    assert report["copies"] == [dirs["v2-unused"]]
    assert sorted(report["records"]) == sorted([gc_store["dead"], gc_store["corrupt"]])
    assert all(os.path.isdir(d) for d in dirs.values())
    assert os.path.exists(gc_store["dead"])
    text = shim("gc", "--dry-run", env=shim_env).stdout
    assert f"would remove copy {dirs['v2-unused']}" in text


def test_gc_keeps_newest_and_in_use(gc_store: dict[str, Any], shim_env: dict[str, str]) -> None:
    dirs = gc_store["dirs"]
    st: Store = gc_store["store"]
    report = shim_json("gc", env=shim_env)
    assert report["copies"] == [dirs["v2-unused"]]
    assert sorted(report["records"]) == sorted([gc_store["dead"], gc_store["corrupt"]])
    assert not os.path.exists(dirs["v2-unused"])
    assert not os.path.exists(gc_store["dead"]) and not os.path.exists(gc_store["corrupt"])
    assert shim_json("ps", env=shim_env) == [
        json.loads(Path(st.sessions).joinpath(os.listdir(st.sessions)[0]).read_text())
    ]  # the live record survives, and ps shows it
    for kept in ("v1-in-use", "v3-newest", "ty-only"):
        assert os.path.isdir(dirs[kept]), kept
    # The index no longer points at the removed copy; the others are still warm.
    names = {Path(st.index, n).read_text().strip() for n in os.listdir(st.index)}
    assert os.path.basename(dirs["v2-unused"]) not in names
    assert os.path.basename(dirs["v3-newest"]) in names
    assert shim_json("gc", env=shim_env)["copies"] == []  # nothing left to do


def test_gc_spares_recently_used_copies(gc_store: dict[str, Any], shim_env: dict[str, str]) -> None:
    _age(gc_store["dirs"]["v2-unused"], time.time())
    assert shim_json("gc", env=shim_env)["copies"] == []


def test_gc_spares_a_copy_a_start_picks_meanwhile(
    gc_store: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warm start touches the copy between gc's look and its delete: the copy stays."""
    from lsp_shim import cleanup

    victim = gc_store["dirs"]["v2-unused"]
    real_rename = os.rename

    def rename(src: str, dst: str) -> None:
        if src == victim:
            os.utime(victim)  # the start's touch lands just now
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    report = cleanup.collect(gc_store["store"])
    assert victim not in report.copies
    assert os.path.isfile(os.path.join(victim, "ruff"))


def test_a_start_collects_garbage(
    gc_store: dict[str, Any], shim_env: dict[str, str], project: Path
) -> None:
    client = LspClient(fake_server_cmd(), env=shim_env, cwd=project)
    try:
        assert "result" in client.initialize(project)
        unused = gc_store["dirs"]["v2-unused"]
        assert wait_for(lambda: not os.path.exists(unused), 10), "a start left an unused copy"
        assert wait_for(lambda: not os.path.exists(gc_store["dead"]), 10)
        assert os.path.isdir(gc_store["dirs"]["v3-newest"])
        assert client.shutdown_exit() == 0
    finally:
        client.close()


def test_gc_without_a_store(tmp_path: Path, shim_env: dict[str, str]) -> None:
    env = {**shim_env, "LSP_SHIM_STORE": str(tmp_path / "none")}
    result = shim("gc", env=env)
    assert result.returncode == 0 and "nothing to do" in result.stdout


# locks


@pytest.fixture
def running_ruff(ruff_venv: Path, tmp_path: Path) -> Any:
    """`ruff server` run in place from a private copy of the venv's file (our own inode)."""
    exe = tmp_path / "held" / "ruff"
    exe.parent.mkdir()
    shutil.copy2(tool_in(ruff_venv, "ruff"), exe)
    proc = subprocess.Popen([str(exe), "server"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert wait_for(
        lambda: any(m.path == str(exe) for m in psutil.Process(proc.pid).memory_maps()), 10
    )
    yield exe, proc
    proc.kill()
    proc.wait()


def _holders(result: list[dict[str, Any]], pid: int) -> list[str]:
    return [how for h in result[0]["holders"] if h["pid"] == pid for how in h["how"]]


def test_locks_names_the_running_ruff(running_ruff: Any, shim_env: dict[str, str]) -> None:
    exe, proc = running_ruff
    result = shim_json("locks", str(exe), env=shim_env)
    assert set(_holders(result, proc.pid)) >= {"exe", "mapped"}
    assert result[0]["path"] == str(exe)
    text = shim("locks", str(exe), env=shim_env).stdout
    assert f"pid {proc.pid} ruff (exe, mapped)" in text


def test_locks_finds_the_holder_through_a_hard_link(
    running_ruff: Any, shim_env: dict[str, str], tmp_path: Path
) -> None:
    exe, proc = running_ruff
    link = tmp_path / "other-venv-ruff"
    os.link(exe, link)
    result = shim_json("locks", str(link), env=shim_env)
    assert set(_holders(result, proc.pid)) >= {"exe", "mapped"}


def test_locks_sees_an_open_file(tmp_path: Path, shim_env: dict[str, str]) -> None:
    target = tmp_path / "data.bin"
    target.write_bytes(b"x")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; f = open(sys.argv[1]); print(1, flush=True); time.sleep(60)",
            str(target),
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline()
        result = shim_json("locks", str(target), env=shim_env)
        assert _holders(result, holder.pid) == ["open"]
    finally:
        holder.kill()
        holder.wait()


def test_locks_on_a_directory(running_ruff: Any, shim_env: dict[str, str], tmp_path: Path) -> None:
    """`lsp-shim locks .venv`: any file below it, and processes working inside it."""
    exe, proc = running_ruff
    inside = exe.parent / "sub"
    inside.mkdir()
    worker = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], cwd=inside, stdin=subprocess.DEVNULL
    )
    try:
        result = shim_json("locks", str(exe.parent), str(tmp_path / "elsewhere"), env=shim_env)
        assert set(_holders(result, proc.pid)) >= {"exe", "mapped"}
        assert _holders(result, worker.pid) == ["cwd"]
        assert result[1]["error"] == "no such file"
        empty = tmp_path / "empty-dir"
        empty.mkdir()
        assert shim_json("locks", str(empty), env=shim_env)[0]["holders"] == []
    finally:
        worker.kill()
        worker.wait()


def test_locks_on_free_and_missing_files(tmp_path: Path, shim_env: dict[str, str]) -> None:
    free = tmp_path / "free"
    free.write_text("")
    text = shim("locks", str(free), str(tmp_path / "missing"), env=shim_env).stdout
    assert f"{free}: not held by any process" in text
    assert f"{tmp_path / 'missing'}: no such file" in text


def test_locks_does_not_name_a_shim_session(ruff_project: Path, shim_env: dict[str, str]) -> None:
    """The user's question after "Access is denied": our session is not the culprit."""
    client = LspClient([script("ruff-shim"), "server"], env=shim_env, cwd=ruff_project)
    try:
        client.initialize(ruff_project)
        server = servers_of(client.proc.pid)[0]
        result = shim_json("locks", str(tool_in(ruff_project / ".venv", "ruff")), env=shim_env)
        pids = {h["pid"] for h in result[0]["holders"]}
        assert not pids & {client.proc.pid, server.pid}
        assert client.shutdown_exit() == 0
    finally:
        client.close()


# doctor


def test_doctor_lists_places_and_the_choice(ruff_project: Path, shim_env: dict[str, str]) -> None:
    result = shim("doctor", "ruff", env=shim_env, cwd=ruff_project)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    ruff = tool_in(ruff_project / ".venv", "ruff")
    assert f"workspace root: {ruff_project}" in out
    assert f"-> [workspace venv] {ruff}: ok" in out
    assert f"choice: {ruff} (workspace venv)" in out
    assert f"[uv tool bin dir] {shim_env['UV_TOOL_BIN_DIR']}" in out
    assert "warning" not in out


def test_doctor_when_nothing_is_found(
    project: Path, shim_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**shim_env, "HOME": str(tmp_path / "home")}
    result = shim("doctor", "ruff", env=env, cwd=project)
    assert result.returncode == 1
    assert "choice: none" in result.stdout


def test_doctor_warns_when_the_shim_runs_inside_the_served_venv(
    ruff_venv: Path, project: Path, shim_env: dict[str, str]
) -> None:
    """lsp-shim run by the very venv's interpreter it resolves ruff from: that venv is held."""
    launcher = Path(lsp_shim.__file__).resolve().parents[1]
    env = {**shim_env, "VIRTUAL_ENV": str(ruff_venv), "PYTHONPATH": str(launcher)}
    python = ruff_venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    result = subprocess.run(
        [str(python), "-m", "lsp_shim", "doctor", "ruff"],
        capture_output=True,
        text=True,
        env=env,
        cwd=project,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert f"warning: lsp-shim itself is installed in {ruff_venv}" in result.stdout


def test_python_dash_m(shim_env: dict[str, str]) -> None:
    version = subprocess.run(
        [sys.executable, "-m", "lsp_shim", "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout == f"lsp-shim {lsp_shim.__version__}\n"
    ps = subprocess.run(
        [sys.executable, "-m", "lsp_shim", "ps", "--json"],
        capture_output=True,
        text=True,
        env=shim_env,
        check=True,
    )
    assert json.loads(ps.stdout) == []

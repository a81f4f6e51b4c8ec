"""Bad input of every kind: a clear one-line message, LSP manners when an editor is waiting,
and never a Python traceback."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from conftest import RUFF_NEW, script, tmpfs, tool_in
from lspclient import LspClient, frame

POSIX = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes and scripts")
INIT_PARAMS = {"processId": None, "capabilities": {}}
SHIM_PROGS = ("lsp-shim:", "ruff-shim:", "ty-shim:")


@pytest.fixture(scope="module")
def ruff_venv(venv_factory: Callable[..., Path]) -> Path:
    """A venv with real ruff, outside any workspace (point VIRTUAL_ENV or a path at it)."""
    return venv_factory("bad-input-ruff", f"ruff=={RUFF_NEW}")


@pytest.fixture
def bare_env(shim_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """No ruff anywhere the shim looks (HOME too: ~/.local/bin is a place it searches)."""
    home = tmp_path / "home"
    home.mkdir()
    return {**shim_env, "HOME": str(home), "USERPROFILE": str(home)}


def run(
    cmd: list[str], env: dict[str, str], cwd: Path, stdin: bytes = b""
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, input=stdin, capture_output=True, env=env, cwd=cwd, timeout=60)
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode(), result.stderr.decode()
    )


def shim_lines(stderr: str) -> list[str]:
    """The shim's own lines on stderr (a server's log lines pass through it too)."""
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.startswith(SHIM_PROGS)]


def one_line(stderr: str, *needles: str) -> str:
    """The shim's single line on stderr, checked for the words that make it useful."""
    lines = shim_lines(stderr)
    assert len(lines) == 1, f"expected one line, got:\n{stderr}"
    for needle in needles:
        assert needle in lines[0], f"{needle!r} missing from: {lines[0]}"
    return lines[0]


def version_refused(env: dict[str, str], cwd: Path, *needles: str) -> str:
    """`ruff-shim --version` runs nothing: exit 2, no output, one line naming `needles`."""
    result = run([script("ruff-shim"), "--version"], env, cwd)
    assert (result.returncode, result.stdout) == (2, ""), result
    return one_line(result.stderr, *needles)


def refused_session(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[str, str]:
    """Speak LSP to a shim that cannot start a server: (initialize error message, stderr)."""
    client = LspClient(cmd, env=env, cwd=cwd)
    try:
        resp = client.request("initialize", {**INIT_PARAMS, "rootUri": cwd.as_uri()}, timeout=20)
        assert "error" in resp and "result" not in resp, resp
        assert resp["id"] == 1
        assert client.request("shutdown")["result"] is None
        client.notify("exit")
        assert client.proc.wait(5) != 0
        return resp["error"]["message"], client.stderr
    finally:
        client.close()


# a server that is not there


def test_missing_server_one_shot(bare_env: dict[str, str], project: Path) -> None:
    line = version_refused(bare_env, project, "ruff not found", "Looked in", "PATH")
    assert f"the workspace's .venv and venv from {project} upward" in line
    assert "LSP_SHIM_RUFF_PATH" in line


def test_missing_server_answers_initialize_with_the_message(
    bare_env: dict[str, str], project: Path
) -> None:
    message, stderr = refused_session([script("ruff-shim"), "server"], bare_env, project)
    assert "ruff not found" in message and "Looked in" in message
    one_line(stderr, "ruff not found")


def test_missing_command_of_generic_form(bare_env: dict[str, str], project: Path) -> None:
    cmd = [script("lsp-shim"), "--", "no-such-server", "--stdio"]
    message, stderr = refused_session(cmd, bare_env, project)
    assert "no-such-server not found" in message and "Looked in" in message
    one_line(stderr, "no-such-server not found")


def test_missing_shadow_file(bare_env: dict[str, str], project: Path) -> None:
    cmd = [script("lsp-shim"), "--shadow", "/no/such/file", "--", "node", "/no/such/file"]
    message, stderr = refused_session(cmd, bare_env, project)
    assert "--shadow /no/such/file: no such file" in message
    one_line(stderr, "/no/such/file")


# recursion onto the shim itself


def _plant_shim(venv_bin: Path, how: str) -> Path:
    venv_bin.mkdir(parents=True)
    planted = venv_bin / ("ruff" + (".exe" if os.name == "nt" else ""))
    if how == "symlink":
        planted.symlink_to(script("ruff-shim"))
    else:
        shutil.copy2(script("ruff-shim"), planted)
    return planted


@pytest.mark.parametrize("how", ["copy", "symlink"])
def test_shim_in_workspace_venv_is_skipped(
    how: str, project: Path, shim_env: dict[str, str], ruff_venv: Path
) -> None:
    if how == "symlink" and os.name == "nt":
        pytest.skip("symlinks need privileges on Windows")
    planted = _plant_shim(project / ".venv" / ("Scripts" if os.name == "nt" else "bin"), how)
    env = {**shim_env, "VIRTUAL_ENV": str(ruff_venv)}
    result = run([script("ruff-shim"), "--version"], env, project)
    assert (result.returncode, result.stdout, result.stderr) == (0, f"ruff {RUFF_NEW}\n", "")
    doctor = run([script("lsp-shim"), "doctor", "ruff"], env, project)
    assert doctor.returncode == 0, doctor.stderr
    assert f"{planted}: is lsp-shim itself (skipped)" in doctor.stdout
    assert f"choice: {tool_in(ruff_venv, 'ruff')}" in doctor.stdout


def test_only_the_shim_itself_found(bare_env: dict[str, str], project: Path) -> None:
    planted = _plant_shim(project / ".venv" / ("Scripts" if os.name == "nt" else "bin"), "copy")
    version_refused(bare_env, project, "ruff not found", f"found only lsp-shim itself at {planted}")


def test_depth_guard(shim_env: dict[str, str], project: Path, ruff_venv: Path) -> None:
    env = {**shim_env, "VIRTUAL_ENV": str(ruff_venv), "LSP_SHIM_DEPTH": "8"}
    version_refused(env, project, "started itself 8 times")


@POSIX
def test_loop_through_a_wrapper_ends(
    shim_env: dict[str, str], project: Path, tmp_path: Path
) -> None:
    """A wrapper script that calls the shim is not recognised as one: the depth guard ends it."""
    wrapper = tmp_path / "ruff"
    wrapper.write_text(f'#!/bin/sh\nexec "{script("ruff-shim")}" "$@"\n')
    wrapper.chmod(0o755)
    env = {**shim_env, "LSP_SHIM_RUFF_PATH": str(wrapper)}
    version_refused(env, project, "started itself")


# the store cannot be used


@pytest.fixture
def broken_store(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Makes a store path the shim cannot use, of the given kind."""
    mounts = ExitStack()

    def make(kind: str) -> Path:
        if kind == "file-as-store":
            store = tmp_path / "store-file"
            store.write_text("")
            return store
        parent = tmp_path / ("parent-file" if kind == "file-as-parent" else "ro")
        if kind == "file-as-parent":
            parent.write_text("")
        else:  # read-only parent
            parent.mkdir()
            parent.chmod(0o500)
            if os.geteuid() == 0:
                # Root ignores the mode: a read-only mount refuses even root.
                mounts.enter_context(tmpfs(parent, "ro,size=1m,mode=0500"))
        return parent / "store"

    with mounts:
        yield make


STORE_KINDS = [
    "file-as-store",
    "file-as-parent",
    "readonly-parent",
]


@POSIX
@pytest.mark.parametrize("kind", STORE_KINDS)
def test_unusable_store_runs_in_place_with_a_warning(
    kind: str,
    ruff_project: Path,
    shim_env: dict[str, str],
    broken_store: Callable[[str], Path],
) -> None:
    env = {**shim_env, "LSP_SHIM_STORE": str(broken_store(kind))}
    client = LspClient([script("ruff-shim"), "server"], env=env, cwd=ruff_project)
    try:
        init = client.initialize(ruff_project)
        assert init["result"]["serverInfo"]["name"] == "ruff"
        shown = client.wait_notification("window/showMessage")
        assert "running" in shown["params"]["message"] and "in place" in shown["params"]["message"]
        uri = client.open(ruff_project / "a.py", "x=1\n")
        fmt = client.request(
            "textDocument/formatting",
            {"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": True}},
        )
        assert "result" in fmt, (fmt, client.stderr[-3000:])
        assert any("x = 1" in e["newText"] for e in fmt["result"]), fmt
        assert client.shutdown_exit() == 0
        warning = shim_lines(client.stderr)[0]
        assert "warning" in warning and "in place" in warning
        assert str(tool_in(ruff_project / ".venv", "ruff")) in warning
    finally:
        client.close()


@POSIX
def test_unusable_store_is_reported_once(
    ruff_project: Path, shim_env: dict[str, str], broken_store: Callable[[str], Path]
) -> None:
    env = {**shim_env, "LSP_SHIM_STORE": str(broken_store("file-as-store"))}
    client = LspClient([script("ruff-shim"), "server"], env=env, cwd=ruff_project)
    try:
        client.initialize(ruff_project)
        client.wait_notification("window/showMessage")
        time.sleep(1.5)  # the session's bookkeeping has run by now
        assert client.shutdown_exit() == 0
        one_line(client.stderr, "warning", "in place")
    finally:
        client.close()


@POSIX
@pytest.mark.parametrize("kind", STORE_KINDS)
def test_unusable_store_one_shot(
    kind: str,
    ruff_project: Path,
    shim_env: dict[str, str],
    broken_store: Callable[[str], Path],
) -> None:
    env = {**shim_env, "LSP_SHIM_STORE": str(broken_store(kind))}
    result = run([script("ruff-shim"), "--version"], env, ruff_project)
    assert (result.returncode, result.stdout) == (0, f"ruff {RUFF_NEW}\n")
    one_line(result.stderr, "warning", "in place")


@POSIX
@pytest.mark.parametrize("form", ["--strict", "LSP_SHIM_STRICT"])
def test_strict_refuses_to_run_in_place(
    form: str, ruff_project: Path, shim_env: dict[str, str], broken_store: Callable[[str], Path]
) -> None:
    env = {**shim_env, "LSP_SHIM_STORE": str(broken_store("file-as-store"))}
    if form == "--strict":
        cmd = [script("lsp-shim"), "--strict", "--", "ruff", "server"]
    else:
        cmd = [script("ruff-shim"), "server"]
        env["LSP_SHIM_STRICT"] = "1"
    message, stderr = refused_session(cmd, env, ruff_project)
    assert "--strict" in message
    one_line(stderr, "--strict", "refusing")


# garbage


def _garbage(seed: int, size: int) -> bytes:
    """Random bytes without line ends, so they cannot end a header block by chance."""
    data = random.Random(seed).randbytes(size)
    return data.replace(b"\r", b"?").replace(b"\n", b"?")


def test_garbage_before_initialize(ruff_project: Path, shim_env: dict[str, str]) -> None:
    client = LspClient([script("ruff-shim"), "server"], env=shim_env, cwd=ruff_project)
    try:
        client.send_raw(_garbage(1, 3000))
        init = client.initialize(ruff_project)
        assert init["result"]["serverInfo"]["name"] == "ruff"
        assert client.shutdown_exit() == 0
        one_line(client.stderr, "error", "dropped 3000 bytes")
    finally:
        client.close()


def formatting(rid: int, uri: str) -> bytes:
    """A framed formatting request for `uri`."""
    options = {"tabSize": 4, "insertSpaces": True}
    params = {"textDocument": {"uri": uri}, "options": options}
    return frame(
        {"jsonrpc": "2.0", "id": rid, "method": "textDocument/formatting", "params": params}
    )


def test_garbage_between_messages(ruff_project: Path, shim_env: dict[str, str]) -> None:
    client = LspClient([script("ruff-shim"), "server"], env=shim_env, cwd=ruff_project)
    try:
        client.initialize(ruff_project)
        uri = client.open(ruff_project / "a.py", "x=1\n")
        # Garbage, a header that lies, then a good request in the same write.
        bad = _garbage(2, 500) + b"Content-Length: nope\r\n\r\n"
        good = formatting(99, uri)
        client.send_raw(bad + good)
        fmt = client.response(99)
        assert "result" in fmt, (fmt, client.stderr[-3000:])
        assert any("x = 1" in e["newText"] for e in fmt["result"]), fmt
        assert client.shutdown_exit() == 0
        lines = shim_lines(client.stderr)
        assert len(lines) == 2, client.stderr
        assert "dropped 500 bytes" in lines[0]
        assert "dropped 24 bytes" in lines[1] and "Content-Length: nope" in lines[1]
    finally:
        client.close()


def test_nesting_deeper_than_pythons_decoder(ruff_project: Path, shim_env: dict[str, str]) -> None:
    """Valid JSON too deep for Python's decoder is relayed like any other message (the shim
    reads some for its replay state and must not fall over them); the session goes on."""
    client = LspClient([script("ruff-shim"), "server"], env=shim_env, cwd=ruff_project)
    try:
        client.initialize(ruff_project)
        uri = client.open(ruff_project / "a.py", "x=1\n")
        nest = "[" * 3000 + "]" * 3000
        for method, rid in (("x/deep", ""), ("textDocument/didChange", ""), ("x/ask", '"id":900,')):
            body = f'{{"jsonrpc":"2.0",{rid}"method":"{method}","params":{{"a":{nest}}}}}'
            client.send_raw(frame_bytes(body.encode()))
        assert "error" in client.response(900)  # from ruff, or from the shim if ruff died of it
        params = {"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": True}}
        for _ in range(3):
            # ruff itself may exit on such nesting (serde's limit is 128): the shim restarts it
            # and answers what was in flight with "server cancelled", which editors retry.
            fmt = client.request("textDocument/formatting", params)
            if "result" in fmt:
                break
            assert fmt["error"]["code"] == -32802, fmt
        assert any("x = 1" in e["newText"] for e in fmt["result"]), fmt
        assert client.shutdown_exit() == 0
        assert "internal error" not in client.stderr and "Traceback" not in client.stderr
    finally:
        client.close()


def frame_bytes(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def test_stdin_closed_at_once(ruff_project: Path, shim_env: dict[str, str]) -> None:
    result = run([script("ruff-shim"), "server"], shim_env, ruff_project)
    assert result.returncode != 0
    one_line(result.stderr, "closed stdin")


# targets that cannot run


@POSIX
def test_non_executable_explicit_path(
    shim_env: dict[str, str], project: Path, tmp_path: Path
) -> None:
    target = tmp_path / "ruff"
    target.write_bytes(b"\x7fELF not really\n")
    target.chmod(0o644)
    env = {**shim_env, "LSP_SHIM_RUFF_PATH": str(target)}
    version_refused(env, project, "LSP_SHIM_RUFF_PATH", "not executable")


@POSIX
def test_non_executable_generic_command(
    shim_env: dict[str, str], project: Path, tmp_path: Path
) -> None:
    target = tmp_path / "server"
    target.write_text("#!/bin/sh\n")
    target.chmod(0o644)
    message, stderr = refused_session([script("lsp-shim"), "--", str(target)], shim_env, project)
    assert "not executable" in message
    one_line(stderr, "not executable")


@POSIX
def test_non_executable_in_workspace_venv_is_passed_over(
    project: Path, shim_env: dict[str, str], ruff_venv: Path
) -> None:
    bin_dir = project / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "ruff").write_text("not a program\n")
    env = {**shim_env, "VIRTUAL_ENV": str(ruff_venv)}
    result = run([script("ruff-shim"), "--version"], env, project)
    assert (result.returncode, result.stdout, result.stderr) == (0, f"ruff {RUFF_NEW}\n", "")


@POSIX
def test_executable_that_is_not_a_program(
    shim_env: dict[str, str], project: Path, tmp_path: Path
) -> None:
    target = tmp_path / "ruff"
    target.write_bytes(os.urandom(64).replace(b"#!", b"xx"))
    target.chmod(0o755)
    env = {**shim_env, "LSP_SHIM_RUFF_PATH": str(target)}
    message, stderr = refused_session([script("ruff-shim"), "server"], env, project)
    assert "cannot start" in message
    one_line(stderr, "cannot start")
    result = run([script("ruff-shim"), "--version"], env, project)
    assert result.returncode != 0
    one_line(result.stderr, str(target.name))


# bad command lines

BAD_COMMAND_LINES = [
    (["--bogus"], "unknown option --bogus"),
    (["--bogus", "--", "ruff", "server"], "unknown option --bogus"),
    (["--shadow"], "--shadow needs a value"),
    (["--store"], "--store needs a value"),
    (["--"], "no server command given"),
    (["--strict"], "no server command given"),
    (["--log-level", "loud", "--", "ruff", "server"], "--log-level loud: use one of debug"),
]


@pytest.mark.parametrize("args,needle", BAD_COMMAND_LINES)
def test_bad_options(args: list[str], needle: str, shim_env: dict[str, str], project: Path) -> None:
    result = run([script("lsp-shim"), *args], shim_env, project, stdin=b"")
    assert result.returncode == 2, result
    one_line(result.stderr, needle)


@pytest.mark.parametrize(
    "args",
    [
        ["ps", "--bogus"],
        ["gc", "--grace", "soon"],
        ["locks"],
        ["doctor", "--bogus"],
    ],
)
def test_bad_management_options(args: list[str], shim_env: dict[str, str], project: Path) -> None:
    result = run([script("lsp-shim"), *args], shim_env, project)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "usage: lsp-shim" in result.stderr and "error:" in result.stderr


def test_no_arguments_prints_usage(shim_env: dict[str, str], project: Path) -> None:
    result = run([script("lsp-shim")], shim_env, project)
    assert result.returncode == 2
    assert result.stdout.startswith("usage: lsp-shim")


@POSIX
@pytest.mark.parametrize("cmd", [["ruff-shim", "--version"], ["lsp-shim", "doctor"]])
def test_deleted_working_directory(
    cmd: list[str], shim_env: dict[str, str], tmp_path: Path
) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    proc = subprocess.Popen(
        [script(cmd[0]), *cmd[1:]],
        cwd=gone,
        env=shim_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: os.rmdir(gone),  # removed before the program starts
    )
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    one_line(err.decode(), "current directory no longer exists")


def _big_python_open(path: Path, lines: int, module: str) -> bytes:
    """A didOpen of a Python file over STREAM_MIN bytes whose last line is an unused import."""
    text = "x = 1\n" * (lines // 2) + "# é\n" + "x = 1\n" * (lines // 2) + f"import {module}\n"
    item = {"uri": path.as_uri(), "languageId": "python", "version": 1, "text": text}
    msg = {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": item}}
    return json.dumps(msg, ensure_ascii=False).encode()


def _unused_import_line(client: LspClient, path: Path) -> int:
    note = client.wait_notification(
        "textDocument/publishDiagnostics", 60, lambda n: n["params"]["uri"] == path.as_uri()
    )
    found = [d["range"]["start"]["line"] for d in note["params"]["diagnostics"]]
    assert len(found) == 1, note["params"]["diagnostics"][:3]
    return int(found[0])


def test_big_messages_stream_through_to_ruff(ruff_project: Path, shim_env: dict[str, str]) -> None:
    """A big didOpen goes on to ruff while it arrives: ruff gets every line, and what goes
    wrong after the header has gone costs neither side a message: an invalid byte reaches ruff
    as `?`; a length that lies is made up with spaces, and the next request is answered."""
    lines = 800_000  # 4.8 MB, over framing.STREAM_MIN
    client = LspClient([script("ruff-shim"), "server"], env=shim_env, cwd=ruff_project)
    try:
        client.initialize(ruff_project)
        uri = client.open(ruff_project / "a.py", "x=1\n")
        clean = ruff_project / "clean.py"
        client.send_raw(frame_bytes(_big_python_open(clean, lines, "os")))
        assert _unused_import_line(client, clean) == lines + 1

        broken = ruff_project / "broken.py"
        body = _big_python_open(broken, lines, "sys")
        body = body.replace("é".encode(), b"\xff\xfe", 1)  # two bytes that are not UTF-8
        client.send_raw(frame_bytes(body))
        assert _unused_import_line(client, broken) == lines + 1

        lying = ruff_project / "lying.py"
        body = _big_python_open(lying, lines, "json")
        client.send_raw(
            b"Content-Length: %d\r\n\r\n" % (len(body) + (2 << 20)) + body + formatting(77, uri)
        )
        assert "result" in client.response(77, 60)
        assert _unused_import_line(client, lying) == lines + 1
        assert client.shutdown_exit() == 0
        lines_out = shim_lines(client.stderr)
        assert len(lines_out) == 2, client.stderr[-3000:]
        assert "2 invalid UTF-8 bytes went on as '?'" in lines_out[0]
        assert "padded with spaces" in lines_out[1]
    finally:
        client.close()

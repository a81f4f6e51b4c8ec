"""The Windows rule, checked on Linux: while a session runs, nothing of the install is held.

A file is held when a process of the shim's tree runs it, maps it or has it open (procs.py).
Then the install is replaced under the running session (reinstall, delete and recreate the
whole venv, as `uv sync` / `uv tool upgrade` do) and the session must keep answering.
Negative controls prove the check flags a server that runs in place.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    RUFF_NEW,
    SERVERS,
    TY_VERSION,
    fake_server_cmd,
    make_venv,
    script,
    tool_in,
    uv,
    venv_python,
)
from lspclient import LspClient
from procs import holdings, wait_for

FORMAT_OPTIONS = {"tabSize": 4, "insertSpaces": True}


def ruff_command(form: str) -> list[str]:
    if form == "ruff-shim":
        return [script("ruff-shim"), "server"]
    return [script("lsp-shim"), "--", "ruff", "server"]


def assert_clean(client: LspClient, roots: list[Path]) -> None:
    # The server must be up (a tree of one process would prove nothing about the server).
    assert wait_for(lambda: len(_children(client)) > 0, 5.0), "the shim started no server"
    held = holdings(client.proc.pid, roots)
    assert not held, "the session holds files of the install:\n" + "\n".join(held)


def _children(client: LspClient) -> list[Any]:
    import psutil

    return psutil.Process(client.proc.pid).children(recursive=True)


def check_ruff_answers(client: LspClient, uri: str, version: int, name: str) -> None:
    """Edit the document (a new unused import `name`): fresh diagnostics and formatting arrive."""
    text = f"import {name}\nx=1\n"
    client.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"text": text}],
        },
    )
    client.wait_notification(
        "textDocument/publishDiagnostics",
        timeout=20,
        where=lambda n: any(f"`{name}`" in d["message"] for d in n["params"]["diagnostics"]),
    )
    fmt = client.request(
        "textDocument/formatting", {"textDocument": {"uri": uri}, "options": FORMAT_OPTIONS}
    )
    assert "result" in fmt, fmt
    assert any("x = 1" in e["newText"] for e in fmt["result"]), fmt


def reinstall(venv: Path, *packages: str) -> None:
    subprocess.run(
        [
            uv(),
            "pip",
            "install",
            "-q",
            "--reinstall",
            "--python",
            str(venv_python(venv)),
            *packages,
        ],
        check=True,
    )


@pytest.mark.parametrize("form", ["ruff-shim", "lsp-shim"])
def test_ruff_session_never_holds_the_venv(
    form: str, ruff_project: Path, shim_env: dict[str, str]
) -> None:
    venv = ruff_project / ".venv"
    client = LspClient(ruff_command(form), env=shim_env, cwd=ruff_project)
    try:
        client.initialize(ruff_project)
        doc = ruff_project / "a.py"
        uri = client.open(doc, doc.read_text())
        client.wait_notification("textDocument/publishDiagnostics")
        assert_clean(client, [venv])

        # Replace ruff's file in place while the session runs (what an upgrade does).
        tool_in(venv, "ruff").unlink()
        reinstall(venv, f"ruff=={RUFF_NEW}")
        check_ruff_answers(client, uri, 2, "sys")
        assert_clean(client, [venv])

        # Delete the whole venv and make it again (`rm -rf .venv && uv sync`).
        shutil.rmtree(venv)
        make_venv(venv, f"ruff=={RUFF_NEW}")
        check_ruff_answers(client, uri, 3, "json")
        assert_clean(client, [venv])
        assert client.shutdown_exit() == 0
    finally:
        client.close()


def test_ruff_from_uv_tool_dir_is_not_held(
    tmp_path: Path, project: Path, shim_env: dict[str, str]
) -> None:
    """ruff installed with `uv tool install`: a tool venv plus a link in the tool bin dir."""
    tool_venv = tmp_path / "uv-tools" / "ruff"
    make_venv(tool_venv, f"ruff=={RUFF_NEW}")
    bin_dir = Path(shim_env["UV_TOOL_BIN_DIR"])
    bin_dir.mkdir(parents=True)
    link = bin_dir / tool_in(tool_venv, "ruff").name
    if os.name == "nt":  # uv copies entry points there on Windows
        shutil.copy2(tool_in(tool_venv, "ruff"), link)
    else:
        link.symlink_to(tool_in(tool_venv, "ruff"))
    client = LspClient([script("ruff-shim"), "server"], env=shim_env, cwd=project)
    try:
        client.initialize(project)
        doc = project / "a.py"
        uri = client.open(doc, doc.read_text())
        client.wait_notification("textDocument/publishDiagnostics")
        assert_clean(client, [tool_venv, bin_dir])
        # `uv tool upgrade ruff` replaces the tool venv's files.
        reinstall(tool_venv, f"ruff=={RUFF_NEW}")
        check_ruff_answers(client, uri, 2, "sys")
        assert_clean(client, [tool_venv, bin_dir])
        assert client.shutdown_exit() == 0
    finally:
        client.close()


def test_ty_session_never_holds_the_venv(project: Path, shim_env: dict[str, str]) -> None:
    venv = project / ".venv"
    make_venv(venv, f"ty=={TY_VERSION}")
    doc = project / "a.py"
    doc.write_text('x: int = "a"\n')
    client = LspClient([script("ty-shim"), "server"], env=shim_env, cwd=project)
    try:
        client.initialize(
            project,
            capabilities={
                "textDocument": {"diagnostic": {}, "hover": {}},
                "workspace": {"configuration": True},
            },
        )
        uri = client.open(doc, doc.read_text())

        def ty_answers() -> None:
            diag = client.request("textDocument/diagnostic", {"textDocument": {"uri": uri}})
            codes = {d.get("code") for d in diag["result"]["items"]}
            assert "invalid-assignment" in codes, diag

        ty_answers()
        assert any(r["method"] == "workspace/configuration" for r in client.server_requests)
        assert_clean(client, [venv])
        shutil.rmtree(venv)
        make_venv(venv, f"ty=={TY_VERSION}")
        ty_answers()
        assert_clean(client, [venv])
        assert client.shutdown_exit() == 0
    finally:
        client.close()


def test_check_flags_ruff_running_in_place(ruff_project: Path, shim_env: dict[str, str]) -> None:
    """Negative control: `ruff server` run directly holds its own venv, and the check says so."""
    venv = ruff_project / ".venv"
    client = LspClient([str(tool_in(venv, "ruff")), "server"], env=shim_env, cwd=ruff_project)
    try:
        client.initialize(ruff_project)
        held = holdings(client.proc.pid, [venv])
        assert any(" exe " in line for line in held), held
        assert any(" mapped " in line for line in held), held
    finally:
        client.close()


def test_check_flags_a_hard_link_of_the_venv_file(
    ruff_project: Path, tmp_path: Path, shim_env: dict[str, str]
) -> None:
    """Negative control: running a hard link elsewhere (uv's cache) still counts as holding it."""
    venv = ruff_project / ".venv"
    elsewhere = tmp_path / "cache"
    elsewhere.mkdir()
    linked = elsewhere / "ruff"
    os.link(tool_in(venv, "ruff"), linked)
    client = LspClient([str(linked), "server"], env=shim_env, cwd=ruff_project)
    try:
        client.initialize(ruff_project)
        held = holdings(client.proc.pid, [venv])
        assert any(str(tool_in(venv, "ruff")) in line for line in held), held
    finally:
        client.close()


@pytest.mark.skipif(os.name == "nt", reason="a file as the store dir is a POSIX-style setup here")
def test_check_flags_the_shim_running_ruff_in_place(
    ruff_project: Path, tmp_path: Path, shim_env: dict[str, str]
) -> None:
    """Negative control through the shim's tree: with no usable store it runs the original."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    env = {**shim_env, "LSP_SHIM_STORE": str(blocker)}
    client = LspClient([script("ruff-shim"), "server"], env=env, cwd=ruff_project)
    try:
        client.initialize(ruff_project)
        held = holdings(client.proc.pid, [ruff_project / ".venv"])
        assert any(" exe " in line for line in held), held
    finally:
        client.close()


def test_shadowed_script_runs_from_the_store(project: Path, shim_env: dict[str, str]) -> None:
    """`lsp-shim --shadow FILE -- python FILE`: the runner gets the copy; FILE is never held."""
    client = LspClient(fake_server_cmd(), env=shim_env, cwd=project)
    try:
        assert "result" in client.initialize(project)
        assert wait_for(lambda: len(_children(client)) == 1, 5.0)
        [server] = _children(client)
        script_arg = Path(server.cmdline()[1])
        assert script_arg.name == "fake_server.py"
        assert Path(shim_env["LSP_SHIM_STORE"]) / "copies" in script_arg.parents, script_arg
        assert not holdings(client.proc.pid, [SERVERS])
        assert client.shutdown_exit() == 0
    finally:
        client.close()

"""Upgrades while the editor runs: the session switches to the new ruff without a restart."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import RUFF_NEW, RUFF_OLD, make_venv, script, tool_in, uv, venv_python
from lspclient import LspClient
from procs import holdings, wait_gone

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="drives uv installs in POSIX venvs")


def ps(env: dict[str, str]) -> list[dict[str, object]]:
    out = subprocess.run(
        [script("lsp-shim"), "ps", "--json"], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def wait_for(cond, timeout: float = 20.0, what: str = "") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def install(venv: Path, version: str) -> None:
    subprocess.run(
        [uv(), "pip", "install", "-q", "--python", str(venv_python(venv)), f"ruff=={version}"],
        check=True,
    )


def format_edits(client: LspClient, uri: str) -> list[dict[str, object]]:
    resp = client.request(
        "textDocument/formatting",
        {"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": True}},
    )
    assert "result" in resp, resp
    return resp["result"] or []


def test_upgrade_and_downgrade_switch_without_restart(
    project: Path, shim_env: dict[str, str]
) -> None:
    venv = project / ".venv"
    make_venv(venv, f"ruff=={RUFF_OLD}")
    client = LspClient([script("ruff-shim"), "server"], env=shim_env, cwd=project)
    try:
        init = client.initialize(project)
        assert init["result"]["serverInfo"]["version"] == RUFF_OLD
        uri = client.open(project / "a.py", "import os\nx=1\n")
        client.wait_notification("textDocument/publishDiagnostics")
        # An edit the new server must know about (replayed, not re-sent by the editor).
        client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": 2},
                "contentChanges": [
                    {
                        "range": {
                            "start": {"line": 1, "character": 0},
                            "end": {"line": 1, "character": 3},
                        },
                        "text": "y=2",
                    }
                ],
            },
        )
        wait_for(
            lambda: ps(shim_env) and ps(shim_env)[0]["version"] == RUFF_OLD, what="session record"
        )
        old_pid = int(ps(shim_env)[0]["server_pid"])  # type: ignore[call-overload]

        for before, after in ((RUFF_OLD, RUFF_NEW), (RUFF_NEW, RUFF_OLD)):
            install(venv, after)
            note = client.wait_notification(
                "window/showMessage",
                timeout=30,
                where=lambda n: "switched without restart" in n["params"]["message"],
            )
            assert f"{before} → {after}" in note["params"]["message"]
            rec = ps(shim_env)[0]
            assert rec["version"] == after
            new_pid = int(rec["server_pid"])  # type: ignore[call-overload]
            assert new_pid != old_pid
            assert wait_gone(old_pid, 5.0), "the replaced server is still running"
            # The running copy is the new version, and it knows the replayed edit.
            copy = str(rec["copy"])
            assert (
                subprocess.run([copy, "--version"], capture_output=True, text=True).stdout.split()[
                    -1
                ]
                == after
            )
            edits = format_edits(client, uri)
            assert any("y = 2" in str(e["newText"]) for e in edits), edits
            # The Windows rule still holds after the switch.
            assert holdings(client.proc.pid, [venv]) == []
            old_pid = new_pid
        assert client.shutdown_exit() == 0
    finally:
        client.close()


def test_venv_deleted_and_recreated(project: Path, shim_env: dict[str, str]) -> None:
    venv = project / ".venv"
    make_venv(venv, f"ruff=={RUFF_OLD}")
    client = LspClient([script("ruff-shim"), "server"], env=shim_env, cwd=project)
    try:
        client.initialize(project)
        uri = client.open(project / "a.py", "import os\nx=1\n")
        client.wait_notification("textDocument/publishDiagnostics")
        shutil.rmtree(venv)
        time.sleep(2.5)  # the follower sees the source missing and keeps serving
        assert format_edits(client, uri)
        make_venv(venv, f"ruff=={RUFF_NEW}")
        client.wait_notification(
            "window/showMessage",
            timeout=30,
            where=lambda n: f"→ {RUFF_NEW}" in n["params"]["message"],
        )
        assert format_edits(client, uri)
        assert client.shutdown_exit() == 0
    finally:
        client.close()


def test_uv_tool_upgrade(tmp_path: Path, project: Path, shim_env: dict[str, str]) -> None:
    tools, bins = tmp_path / "uv-tools", tmp_path / "uv-bin"
    env = dict(shim_env, UV_TOOL_DIR=str(tools), UV_TOOL_BIN_DIR=str(bins))
    subprocess.run([uv(), "tool", "install", "-q", f"ruff=={RUFF_OLD}"], env=env, check=True)
    assert tool_in(tools / "ruff", "ruff").exists()
    client = LspClient([script("ruff-shim"), "server"], env=env, cwd=project)
    try:
        init = client.initialize(project)
        assert init["result"]["serverInfo"]["version"] == RUFF_OLD
        uri = client.open(project / "a.py", "import os\nx=1\n")
        # `uv tool upgrade` must succeed while the session runs (it fails on Windows without the shim).
        subprocess.run(
            [uv(), "tool", "install", "-q", "--force", f"ruff=={RUFF_NEW}"], env=env, check=True
        )
        client.wait_notification(
            "window/showMessage",
            timeout=30,
            where=lambda n: f"{RUFF_OLD} → {RUFF_NEW}" in n["params"]["message"],
        )
        assert format_edits(client, uri)
        assert holdings(client.proc.pid, [tools, bins]) == []
        assert client.shutdown_exit() == 0
    finally:
        client.close()


def test_no_follow(project: Path, shim_env: dict[str, str]) -> None:
    venv = project / ".venv"
    make_venv(venv, f"ruff=={RUFF_OLD}")
    env = dict(shim_env, LSP_SHIM_NO_FOLLOW="1")
    client = LspClient([script("ruff-shim"), "server"], env=env, cwd=project)
    try:
        client.initialize(project)
        install(venv, RUFF_NEW)
        time.sleep(3.5)
        assert not [n for n in client.notifications if n["method"] == "window/showMessage"]
        assert ps(env)[0]["version"] == RUFF_OLD
        assert client.shutdown_exit() == 0
    finally:
        client.close()

"""A full LSP conversation with the real ruff through both entry points."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import script
from lspclient import LspClient


@pytest.mark.parametrize("form", ["ruff-shim", "lsp-shim"])
def test_full_conversation(form: str, ruff_project: Path, shim_env: dict[str, str]) -> None:
    cmd = (
        [script("ruff-shim"), "server"]
        if form == "ruff-shim"
        else [script("lsp-shim"), "--", "ruff", "server"]
    )
    client = LspClient(cmd, env=shim_env, cwd=ruff_project)
    try:
        init = client.initialize(ruff_project)
        assert init["result"]["serverInfo"]["name"] == "ruff"
        uri = client.open(ruff_project / "a.py", "import os\nx=1\n")
        diags = client.wait_notification("textDocument/publishDiagnostics")
        assert "F401" in {d["code"] for d in diags["params"]["diagnostics"]}
        fmt = client.request(
            "textDocument/formatting",
            {"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": True}},
        )
        assert any("x = 1" in e["newText"] for e in fmt["result"])
        assert client.shutdown_exit() == 0
    finally:
        client.close()

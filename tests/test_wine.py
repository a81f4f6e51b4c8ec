"""The Windows proof, under Wine: a running ruff.exe cannot be deleted, a shimmed one can.

Windows refuses to delete a running image, and any hard link to it; Linux does not, so only
Wine (which enforces the Windows rule in wineserver) can show the failure and the fix here.

(a) without the shim: ``wine64 ruff.exe server`` answers ``initialize``; then
    ``wine64 cmd /c del`` of ruff.exe, and of a hard link to it, leaves the files in place;
    after the server exits, both deletes work.
(b) with the shim: ``lsp-shim --shadow X/ruff.exe -- wine64 X/ruff.exe server``; while the
    session is live the same deletes remove both files, and the session still answers LSP
    requests, then shuts down with exit code 0.

``cmd /c del`` exits 0 even after "Access denied.", so every check looks at the file itself.
Setup (Wine, the ProcessPrng stub DLL, a prefix, ruff.exe) is ``scripts/setup-wine.sh``; the
tests skip only when it reports that Wine cannot be installed (exit 2).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lspclient import LspClient  # tests/ is on sys.path (tests/conftest.py, pytest rootdir)

REPO = Path(__file__).resolve().parent.parent
SETUP_SCRIPT = REPO / "scripts" / "setup-wine.sh"
LSP_SHIM = Path(sys.executable).parent / "lsp-shim"

# Fresh setup installs packages (apt waits up to 600 s for other engineers' locks) and boots a
# prefix; pytest-timeout counts fixture setup against the first test that uses it.
SETUP_TIMEOUT = 1500
WINE_TEST_TIMEOUT = SETUP_TIMEOUT + 300
LSP_TIMEOUT = 60.0  # one request; a cold wineserver plus ruff.exe start takes a few seconds
DEL_TIMEOUT = 60.0

pytestmark = [pytest.mark.slow, pytest.mark.timeout(WINE_TEST_TIMEOUT)]

UNFORMATTED = "x  =  [1,2 ,3]\n"
FORMATTED = "x = [1, 2, 3]\n"


# --------------------------------------------------------------------------------------------
# Wine environment


@dataclass(frozen=True)
class Wine:
    wine64: Path
    wineserver: Path
    ruff_exe: Path  # the cached pristine copy: tests copy it, never delete it
    ruff_version: str
    env: dict[str, str]  # environment for every Wine process (WINEPREFIX, WINEDEBUG, ...)

    def cmd(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.wine64), "cmd", "/c", *args],
            check=False,  # cmd exits 0 even after "Access denied.": callers check the file
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=DEL_TIMEOUT,
        )

    def delete(self, path: Path) -> str:
        """``cmd /c del`` the file through Windows semantics; returns what cmd printed."""
        done = self.cmd("del", win_path(path))
        return f"exit {done.returncode}, stdout {done.stdout.strip()!r}, stderr {done.stderr.strip()!r}"


def win_path(path: Path) -> str:
    """The Windows path of a Unix path through the default ``Z:`` -> ``/`` drive."""
    return "Z:" + str(path.resolve()).replace("/", "\\")


def win_uri(path: Path) -> str:
    """``file:///Z:/tmp/...``: the URI form ruff.exe expects for files of this machine."""
    return "file:///Z:" + path.resolve().as_posix()


@pytest.fixture(scope="session")
def wine() -> Wine:
    try:
        done = subprocess.run(
            ["bash", str(SETUP_SCRIPT)],
            check=False,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=SETUP_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{SETUP_SCRIPT} did not finish within {SETUP_TIMEOUT} s")
    lines = done.stdout.strip().splitlines()
    line = lines[-1] if lines else f"(no output; stderr: {done.stderr.strip()[-500:]!r})"
    if done.returncode == 2:
        pytest.skip(f"Wine cannot be installed here: {line}")
    if done.returncode != 0:
        pytest.fail(
            f"{SETUP_SCRIPT} failed (exit {done.returncode}): {line}\n{done.stderr[-3000:]}"
        )

    cache = Path(os.environ.get("LSP_SHIM_WINE_DIR", Path.home() / ".cache" / "lsp-shim-wine"))
    values: dict[str, str] = {}
    for raw in (cache / "env").read_text().splitlines():
        key, sep, value = raw.partition("=")
        if sep:
            values[key] = value
    dropped = ("DISPLAY", "WAYLAND_DISPLAY")  # headless: Wine must not open windows
    env = {
        k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("LSP_SHIM_")
    }
    for key in ("WINEPREFIX", "WINEARCH", "WINEDEBUG", "WINEDLLOVERRIDES"):
        env[key] = values[key]
    return Wine(
        wine64=Path(values["WINE"]),
        wineserver=Path(values["WINESERVER"]),
        ruff_exe=Path(values["RUFF_EXE"]),
        ruff_version=values["RUFF_VERSION"],
        env=env,
    )


@dataclass(frozen=True)
class Install:
    """A private "installed" ruff.exe (as in a venv's Scripts dir) plus a hard link to it."""

    exe: Path
    link: Path
    workspace: Path


@pytest.fixture
def install(wine: Wine, tmp_path: Path) -> Install:
    scripts = tmp_path / "venv" / "Scripts"
    scripts.mkdir(parents=True)
    exe = scripts / "ruff.exe"
    shutil.copy2(wine.ruff_exe, exe)
    link = tmp_path / "ruff-hardlink.exe"
    os.link(exe, link)
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "a.py").write_text(UNFORMATTED)
    return Install(exe=exe, link=link, workspace=workspace)


# --------------------------------------------------------------------------------------------
# LSP over pipes: tests/lspclient.py (it answers the server's own requests like an editor).


@pytest.fixture
def clients() -> Iterator[list[LspClient]]:
    started: list[LspClient] = []
    yield started
    for client in started:
        client.close()  # kills, by its pid, only a process the test left running


def describe(client: LspClient) -> str:
    code = client.proc.poll()
    state = "running" if code is None else f"exited {code}"
    return f"process {state}, stderr tail: {client.stderr[-2000:]!r}"


def result(client: LspClient, method: str, params: Any) -> Any:
    """The result of a request; an LSP error or no answer fails the test."""
    try:
        response = client.request(method, params, LSP_TIMEOUT)
    except TimeoutError:
        pytest.fail(f"no answer to {method} (in {LSP_TIMEOUT} s or before EOF); {describe(client)}")
    assert "error" not in response, f"{method} failed: {response['error']}; {describe(client)}"
    return response.get("result")


def initialize(client: LspClient, workspace: Path) -> dict[str, Any]:
    init: dict[str, Any] = result(
        client,
        "initialize",
        {
            "processId": None,  # a Linux pid means nothing to a Windows process
            "clientInfo": {"name": "lsp-shim test_wine"},
            "rootUri": win_uri(workspace),
            "workspaceFolders": [{"uri": win_uri(workspace), "name": workspace.name}],
            "capabilities": {
                "textDocument": {"formatting": {"dynamicRegistration": False}},
                "workspace": {"workspaceFolders": True},
            },
        },
    )
    client.notify("initialized", {})
    return init


def check_still_serving(client: LspClient, workspace: Path) -> None:
    """The session answers a real request: format a document."""
    doc = workspace / "a.py"
    uri = win_uri(doc)
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": UNFORMATTED}},
    )
    edits = result(
        client,
        "textDocument/formatting",
        {"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": True}},
    )
    assert isinstance(edits, list) and edits, f"formatting returned no edits: {edits!r}"
    assert FORMATTED.strip() in "".join(edit["newText"] for edit in edits), edits


def shutdown(client: LspClient) -> int:
    assert result(client, "shutdown", None) is None
    client.notify("exit")
    try:
        return client.proc.wait(60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the server did not exit 60 s after exit; {describe(client)}")


def mapped_files(pid: int) -> set[Path]:
    """Files mapped by a process and its descendants (Wine maps the .exe it runs)."""
    # psutil is a dependency of lsp-shim; imported here so collection never needs it.
    import psutil  # type: ignore[import-untyped,unused-ignore]

    root = psutil.Process(pid)
    paths: set[Path] = set()
    for proc in [root, *root.children(recursive=True)]:
        try:
            maps = proc.memory_maps(grouped=True)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        for region in maps:
            path = region.path.removesuffix(" (deleted)")
            if path.startswith("/"):
                paths.add(Path(path))
    return paths


def server_info(result: dict[str, Any]) -> str:
    info = result.get("serverInfo") or {}
    return f"{info.get('name')} {info.get('version')}"


# --------------------------------------------------------------------------------------------
# The tests


def test_wine_denies_deleting_running_ruff_exe(
    wine: Wine, install: Install, clients: list[LspClient]
) -> None:
    """(a) The problem: a running ruff.exe and its hard link cannot be deleted."""
    client = LspClient([str(wine.wine64), str(install.exe), "server"], env=wine.env)
    clients.append(client)
    init = initialize(client, install.workspace)
    assert "capabilities" in init, init
    assert server_info(init) == f"ruff {wine.ruff_version}", init.get("serverInfo")

    out = wine.delete(install.exe)
    assert install.exe.exists(), f"Wine deleted the running ruff.exe ({out}): the proof is void"
    out = wine.delete(install.link)
    assert install.link.exists(), f"Wine deleted a hard link of the running ruff.exe ({out})"

    check_still_serving(client, install.workspace)
    code = shutdown(client)
    assert code == 0, describe(client)

    out = wine.delete(install.exe)
    assert not install.exe.exists(), f"del of ruff.exe after the server exited failed: {out}"
    out = wine.delete(install.link)
    assert not install.link.exists(), f"del of the hard link after the server exited failed: {out}"


def test_wine_shim_frees_installed_ruff_exe(
    wine: Wine, install: Install, clients: list[LspClient], tmp_path: Path
) -> None:
    """(b) The fix: through lsp-shim, ruff.exe and its hard link delete while the server runs."""
    if not LSP_SHIM.exists():
        pytest.fail(f"{LSP_SHIM} is missing: install the package (pip install -e .)")
    store = tmp_path / "store"
    env = {**wine.env, "LSP_SHIM_STORE": str(store)}
    server = [str(wine.wine64), str(install.exe), "server"]
    client = LspClient([str(LSP_SHIM), "--shadow", str(install.exe), "--", *server], env=env)
    clients.append(client)
    init = initialize(client, install.workspace)
    assert server_info(init) == f"ruff {wine.ruff_version}", init.get("serverInfo")

    # (On a store failure the shim runs the original in place and says so on stderr.)
    out = wine.delete(install.exe)
    assert not install.exe.exists(), (
        f"installed ruff.exe still held through the shim: del said {out}; {describe(client)}"
    )
    out = wine.delete(install.link)
    assert not install.link.exists(), (
        f"hard link of ruff.exe still held through the shim: del said {out}; {describe(client)}"
    )

    # The Linux-side view of the same fact: Wine maps the PE image it runs, so the server under
    # the shim maps an .exe inside LSP_SHIM_STORE, and not the installed file (" (deleted)" now).
    exes = {p for p in mapped_files(client.proc.pid) if p.suffix.lower() == ".exe"}
    assert install.exe.resolve() not in exes, f"the shim runs the installed ruff.exe: {exes}"
    from_store = [p for p in exes if p.is_relative_to(store.resolve())]
    assert from_store, f"no .exe under LSP_SHIM_STORE={store} is mapped by the shim's tree: {exes}"

    check_still_serving(client, install.workspace)
    code = shutdown(client)
    assert code == 0, f"lsp-shim exit code {code}; {describe(client)}"

"""resolve.py: the documented search order, with fake executables in temporary directories."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from conftest import script
from lsp_shim import resolve
from lsp_shim.errors import ShimError

WINDOWS = sys.platform == "win32"
BIN = "Scripts" if WINDOWS else "bin"
EXE = ".exe" if WINDOWS else ""
POSIX = pytest.mark.skipif(WINDOWS, reason="a shell script stands in for an interpreter")


def fake_exe(directory: Path, name: str = "ruff") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / (name + EXE)
    path.write_bytes(b"#!/bin/sh\necho fake\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def places(tmp_path: Path) -> dict[str, Path]:
    """A fake ruff in every place resolution looks, and the environment pointing at them."""
    ws = tmp_path / "outer" / "ws"
    ws.mkdir(parents=True)
    interp_scripts = tmp_path / "interp-scripts"
    return {
        "explicit": fake_exe(tmp_path / "explicit"),
        "workspace .venv": fake_exe(ws / ".venv" / BIN),
        "workspace venv": fake_exe(ws / "venv" / BIN),
        "parent .venv": fake_exe(tmp_path / "outer" / ".venv" / BIN),
        "UV_PROJECT_ENVIRONMENT": fake_exe(tmp_path / "uv-project-env" / BIN),
        "VIRTUAL_ENV": fake_exe(tmp_path / "active-venv" / BIN),
        "CONDA_PREFIX": fake_exe(tmp_path / "conda" / BIN),
        "interpreter": fake_exe(interp_scripts),
        "UV_TOOL_BIN_DIR": fake_exe(tmp_path / "uv-tool-bin"),
        "XDG_BIN_HOME": fake_exe(tmp_path / "xdg-bin"),
        "XDG_DATA_HOME/../bin": fake_exe(tmp_path / "xdg" / "bin"),
        "~/.local/bin": fake_exe(tmp_path / "home" / ".local" / "bin"),
        "PATH first": fake_exe(tmp_path / "path1"),
        "PATH second": fake_exe(tmp_path / "path2"),
        "ws": ws,
    }


def env_for(
    places: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    return {
        "LSP_SHIM_RUFF_PATH": str(places["explicit"]),
        "UV_PROJECT_ENVIRONMENT": str(tmp_path / "uv-project-env"),
        "VIRTUAL_ENV": str(tmp_path / "active-venv"),
        "CONDA_PREFIX": str(tmp_path / "conda"),
        "UV_TOOL_BIN_DIR": str(tmp_path / "uv-tool-bin"),
        "XDG_BIN_HOME": str(tmp_path / "xdg-bin"),
        "XDG_DATA_HOME": str(tmp_path / "xdg" / "share"),
        "PATH": os.pathsep.join([str(tmp_path / "path1"), str(tmp_path / "path2")]),
    }


def fake_interpreter(tmp_path: Path) -> str:
    """An 'interpreter' that answers the scripts-dir question like Python would."""
    python = tmp_path / "python"
    python.write_text(f"#!/bin/sh\necho '{tmp_path / 'interp-scripts'}'\n")
    python.chmod(0o755)
    return str(python)


ORDER = [
    "explicit",
    "workspace .venv",
    "workspace venv",
    "parent .venv",
    "UV_PROJECT_ENVIRONMENT",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "interpreter",
    "UV_TOOL_BIN_DIR",
    "XDG_BIN_HOME",
    "XDG_DATA_HOME/../bin",
    "~/.local/bin",
    "PATH first",
    "PATH second",
]


@POSIX
def test_search_order(
    places: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Remove the winner each time: the next place in the documented order wins."""
    env = env_for(places, tmp_path, monkeypatch)
    python = fake_interpreter(tmp_path)
    for i, name in enumerate(ORDER):
        res = resolve.resolve("ruff", str(places["ws"]), env, python)
        assert res.path == str(places[name]), (
            f"step {i}: expected {name}, got {res.place} {res.path}"
        )
        if name == "explicit":
            del env["LSP_SHIM_RUFF_PATH"]
        else:
            places[name].unlink()
    res = resolve.resolve("ruff", str(places["ws"]), env, python)
    assert res.path is None


@POSIX
def test_doctor_mode_reports_every_place(
    places: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = env_for(places, tmp_path, monkeypatch)
    res = resolve.resolve("ruff", str(places["ws"]), env, fake_interpreter(tmp_path), stop=False)
    assert res.path == str(places["explicit"])
    found = [path for _, path, verdict in res.searched if verdict == "ok"]
    assert found == [str(places[name]) for name in ORDER]


def test_relative_uv_project_environment_is_under_the_workspace(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    exe = fake_exe(ws / "custom-env" / BIN)
    res = resolve.resolve("ruff", str(ws), {"UV_PROJECT_ENVIRONMENT": "custom-env", "PATH": ""})
    assert res.path == str(exe)
    assert res.place == "UV_PROJECT_ENVIRONMENT"


def test_workspace_venv_is_found_upward_nearest_first(tmp_path: Path) -> None:
    top = fake_exe(tmp_path / "a" / ".venv" / BIN)
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    assert resolve.resolve("ruff", str(deep), {"PATH": ""}).path == str(top)
    near = fake_exe(tmp_path / "a" / "b" / "venv" / BIN)
    assert resolve.resolve("ruff", str(deep), {"PATH": ""}).path == str(near)


@POSIX
def test_non_executable_and_directories_are_passed_over(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / ".venv" / BIN).mkdir(parents=True)
    (ws / ".venv" / BIN / "ruff").write_text("not executable")
    (ws / "venv" / BIN / "ruff").mkdir(parents=True)  # a directory named ruff
    good = fake_exe(tmp_path / "path")
    res = resolve.resolve("ruff", str(ws), {"PATH": str(tmp_path / "path")}, stop=False)
    assert res.path == str(good)
    verdicts = {path: verdict for _, path, verdict in res.searched}
    assert verdicts[str(ws / ".venv" / BIN / "ruff")] == "not executable"
    assert verdicts[str(ws / "venv" / BIN / "ruff")] == "not a file"


def test_shim_is_never_chosen(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / ".venv" / BIN).mkdir(parents=True)
    planted = ws / ".venv" / BIN / ("ruff" + EXE)
    planted.write_bytes(Path(script("ruff-shim")).read_bytes())
    planted.chmod(0o755)
    real = fake_exe(tmp_path / "path")
    res = resolve.resolve("ruff", str(ws), {"PATH": str(tmp_path / "path")})
    assert res.path == str(real)
    assert (res.searched[0][1], res.searched[0][2]) == (
        str(planted),
        "is lsp-shim itself (skipped)",
    )
    assert resolve.is_shim(script("ruff-shim"))
    assert resolve.is_shim(script("lsp-shim"))
    assert not resolve.is_shim(str(real))


def test_explicit_path_that_is_wrong_is_an_error(tmp_path: Path) -> None:
    env = {"LSP_SHIM_RUFF_PATH": str(tmp_path / "nope")}
    with pytest.raises(ShimError, match=r"LSP_SHIM_RUFF_PATH=.*is missing"):
        resolve.resolve("ruff", str(tmp_path), env)


def test_env_key() -> None:
    assert resolve.env_key("ruff") == "LSP_SHIM_RUFF_PATH"
    assert resolve.env_key("basedpyright-langserver") == "LSP_SHIM_BASEDPYRIGHT_LANGSERVER_PATH"


def test_not_found_message_is_one_line_naming_the_places(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    deep = tmp_path / "a" / "b" / "c" / "d" / "e" / "ws"  # many ancestors to look upward in
    env = {
        "PATH": str(tmp_path / "p"),
        "UV_PROJECT_ENVIRONMENT": str(tmp_path / "uvp"),
        "VIRTUAL_ENV": str(tmp_path / "v"),
        "CONDA_PREFIX": str(tmp_path / "c"),
        "UV_TOOL_BIN_DIR": str(tmp_path / "t"),
    }
    res = resolve.resolve("ruff", str(deep), env)
    assert res.path is None
    msg = resolve.not_found_message("ruff", res)
    assert "\n" not in msg
    assert f"the workspace's .venv and venv from {deep} upward" in msg
    assert f"UV_PROJECT_ENVIRONMENT: {tmp_path / 'uvp' / BIN}" in msg
    assert f"VIRTUAL_ENV: {tmp_path / 'v' / BIN}" in msg
    assert f"CONDA_PREFIX: {tmp_path / 'c' / BIN}" in msg
    assert f"uv tool bin dir: {tmp_path / 't'}, {tmp_path / 'home' / '.local' / 'bin'}" in msg
    assert "PATH" in msg and "LSP_SHIM_RUFF_PATH" in msg
    assert len(msg) < 1000


@POSIX
def test_resolve_command(tmp_path: Path) -> None:
    exe = fake_exe(tmp_path / "p2", "srv")
    env = {"PATH": os.pathsep.join([str(tmp_path / "p1"), str(tmp_path / "p2")])}
    assert resolve.resolve_command("srv", env) == str(exe)
    assert resolve.resolve_command(str(exe), env) == str(exe)
    with pytest.raises(ShimError, match="not found on PATH"):
        resolve.resolve_command("nothing", env)
    exe.chmod(0o644)
    with pytest.raises(ShimError, match="not executable"):
        resolve.resolve_command(str(exe), env)


def test_bad_interpreter_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ShimError, match="cannot ask the interpreter"):
        resolve.resolve("ruff", str(tmp_path), {"PATH": ""}, str(tmp_path / "no-python"))


def test_windows_names() -> None:
    env = {"PATHEXT": ".COM;.EXE;.BAT;.CMD"}
    if WINDOWS:
        assert resolve.exe_names("ruff", env) == ["ruff.com", "ruff.exe"]
    else:
        assert resolve.exe_names("ruff", env) == ["ruff"]


def test_server_resolves_from_the_initialize_workspace(
    ruff_project: Path, shim_env: dict[str, str], tmp_path: Path
) -> None:
    """The editor starts us elsewhere; the workspace folder of initialize picks the venv."""
    from lspclient import LspClient

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    client = LspClient([script("ruff-shim"), "server"], env=shim_env, cwd=elsewhere)
    try:
        init = client.initialize(ruff_project)
        assert init["result"]["serverInfo"]["name"] == "ruff", init
        assert client.shutdown_exit() == 0
    finally:
        client.close()

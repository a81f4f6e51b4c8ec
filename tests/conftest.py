"""Shared fixtures: the installed console scripts, a private store, and venvs holding real ruff/ty.

Venvs are made with uv (hard links from uv's cache, as on a user's machine), once per session.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

RUFF_OLD = "0.17.5"
RUFF_NEW = "0.17.6"
TY_VERSION = "0.0.105"
WINDOWS = sys.platform == "win32"
BIN = Path(sys.executable).parent
EXE = ".exe" if WINDOWS else ""


def script(name: str) -> str:
    """Absolute path of one of our installed console scripts."""
    path = BIN / (name + EXE)
    if not path.exists():
        pytest.fail(f"{path} is missing: install the project into the test venv (pip install -e .)")
    return str(path)


def uv() -> str:
    found = shutil.which("uv", path=str(BIN)) or shutil.which("uv")
    if not found:
        pytest.fail("uv is missing: pip install uv (it is in the test extra)")
    return found


def make_venv(path: Path, *packages: str) -> Path:
    """A venv at `path` with `packages` from PyPI; returns its scripts dir."""
    subprocess.run([uv(), "venv", "-q", "--python", sys.executable, str(path)], check=True)
    if packages:
        subprocess.run(
            [uv(), "pip", "install", "-q", "--python", str(venv_python(path)), *packages],
            check=True,
        )
    return path / ("Scripts" if WINDOWS else "bin")


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if WINDOWS else "bin/python")


def tool_in(venv: Path, tool: str) -> Path:
    return venv / ("Scripts" if WINDOWS else "bin") / (tool + EXE)


@contextmanager
def tmpfs(mnt: Path, options: str) -> Iterator[Path]:
    """A tmpfs mounted on the existing directory `mnt` (Linux, root); skips the test if the
    mount is refused; unmounted afterwards."""
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mnt)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"mount refused: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """An empty private store for one test."""
    return tmp_path / "store"


@pytest.fixture
def shim_env(store: Path) -> dict[str, str]:
    """Environment for running a shim: private store, no venv leaking in from the test runner."""
    return make_shim_env(store)


def make_shim_env(store: Path) -> dict[str, str]:
    """The `shim_env` fixture's environment for any store (also for module-scoped setups)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LSP_SHIM_")}
    for key in ("VIRTUAL_ENV", "CONDA_PREFIX", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH"):
        env.pop(key, None)
    env["LSP_SHIM_STORE"] = str(store)
    # PATH without the test venv, so resolution cannot fall back to the runner's own ruff.
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if p and Path(p) != BIN
    )
    env["UV_TOOL_BIN_DIR"] = str(store.parent / "no-uv-tools")
    return env


@pytest.fixture(scope="session")
def venv_factory(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """make(name, *packages) -> venv dir, cached per (name, packages) for the session."""
    cache: dict[tuple[str, ...], Path] = {}

    def make(name: str, *packages: str) -> Path:
        key = (name, *packages)
        if key not in cache:
            path = tmp_path_factory.mktemp("venvs") / name
            make_venv(path, *packages)
            cache[key] = path
        return cache[key]

    return make


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """A workspace folder with a Python file that has lint and format findings."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "a.py").write_text("import os\nx=1\n")
    yield root


@pytest.fixture
def ruff_project(project: Path) -> Path:
    """A workspace with its own .venv holding the newer ruff (a fresh venv per test)."""
    make_venv(project / ".venv", f"ruff=={RUFF_NEW}")
    return project


SERVERS = Path(__file__).parent / "servers"


def fake_server_cmd(*args: str) -> list[str]:
    """`lsp-shim` running tests/servers/fake_server.py (shadowed; the interpreter left alone)."""
    server = str(SERVERS / "fake_server.py")
    return [script("lsp-shim"), "--shadow", server, "--", sys.executable, server, *args]

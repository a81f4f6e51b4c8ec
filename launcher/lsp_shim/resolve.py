"""Find the real executable of a tool, in the documented order, never picking a shim."""

from __future__ import annotations

import os
import sys

from lsp_shim.errors import ShimError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

WINDOWS = sys.platform == "win32"
SCRIPTS = "Scripts" if WINDOWS else "bin"
_SHIM_MARKER = b"lsp_shim"
_SMALL = 1 << 20  # console-script launchers are tiny; real servers are megabytes


class Resolved:
    """The executable chosen for a tool, and every place looked at on the way."""

    __slots__ = ("path", "place", "root", "searched")

    def __init__(
        self, path: str | None, place: str, searched: list[tuple[str, str, str]], root: str = ""
    ) -> None:
        self.path = path
        self.place = place
        self.searched = searched  # (place, path, verdict)
        self.root = root  # the workspace root the upward venv search started from


def exe_names(tool: str, env: Mapping[str, str]) -> list[str]:
    """File names a tool may have on this platform."""
    if not WINDOWS or os.path.splitext(tool)[1]:
        return [tool]
    exts = env.get("PATHEXT", ".COM;.EXE;.BAT;.CMD").split(";")
    # Only real executables: Node and the shim itself cannot start .bat/.cmd without a shell.
    return [tool + e.lower() for e in exts if e.lower() in (".exe", ".com")] or [tool + ".exe"]


def env_key(tool: str) -> str:
    """Name of the env var holding an explicit path for a tool: LSP_SHIM_RUFF_PATH."""
    return "LSP_SHIM_" + "".join(c if c.isalnum() else "_" for c in tool).upper() + "_PATH"


WORKSPACE = "workspace venv"


def workspace_venvs(root: str) -> Iterator[str]:
    """The workspace's own virtual environments, from its root upward, nearest first."""
    here = os.path.abspath(root)
    while True:
        yield os.path.join(here, ".venv")
        yield os.path.join(here, "venv")
        parent = os.path.dirname(here)
        if parent == here:
            return
        here = parent


def uv_tool_bin_dirs(env: Mapping[str, str]) -> Iterator[str]:
    """Where `uv tool install` puts entry points, in uv's own order."""
    if env.get("UV_TOOL_BIN_DIR"):
        yield env["UV_TOOL_BIN_DIR"]
    if env.get("XDG_BIN_HOME"):
        yield env["XDG_BIN_HOME"]
    if env.get("XDG_DATA_HOME"):
        yield os.path.join(os.path.dirname(os.path.normpath(env["XDG_DATA_HOME"])), "bin")
    yield os.path.join(os.path.expanduser("~"), ".local", "bin")


def interpreter_scripts(python: str) -> str:
    """Ask an interpreter for its scripts directory."""
    import subprocess

    code = "import sysconfig; print(sysconfig.get_path('scripts'))"
    try:
        out = subprocess.run(
            [python, "-c", code], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        raise ShimError(
            f"cannot ask the interpreter {python} for its scripts directory ({exc}); "
            "set LSP_SHIM_PYTHON / --python to a working Python"
        ) from None
    return out


def candidate_dirs(
    root: str, env: Mapping[str, str], python: str | None
) -> Iterator[tuple[str, str]]:
    """(place, directory) pairs in resolution order, PATH last."""
    for venv in workspace_venvs(root):
        yield WORKSPACE, os.path.join(venv, SCRIPTS)
    project_env = env.get("UV_PROJECT_ENVIRONMENT")
    if project_env:
        # uv reads a relative value against the project root.
        venv = project_env if os.path.isabs(project_env) else os.path.join(root, project_env)
        yield "UV_PROJECT_ENVIRONMENT", os.path.join(venv, SCRIPTS)
    if env.get("VIRTUAL_ENV"):
        yield "VIRTUAL_ENV", os.path.join(env["VIRTUAL_ENV"], SCRIPTS)
    if env.get("CONDA_PREFIX"):
        yield "CONDA_PREFIX", os.path.join(env["CONDA_PREFIX"], SCRIPTS)
    if python:
        yield f"interpreter {python}", interpreter_scripts(python)
    for d in uv_tool_bin_dirs(env):
        yield "uv tool bin dir", d
    for d in env.get("PATH", os.defpath).split(os.pathsep):
        if d:
            yield "PATH", d


def is_shim(path: str) -> bool:
    """True if the file is one of our own console-script launchers (recursion guard)."""
    try:
        if os.stat(path).st_size >= _SMALL:
            return False
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return False
    if _SHIM_MARKER in data:
        return True
    if b"PK\x05\x06" in data:  # Windows launchers carry their script as an appended zip
        import io
        import zipfile

        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                return any(_SHIM_MARKER in z.read(n) for n in z.namelist() if n.endswith(".py"))
        except (zipfile.BadZipFile, OSError, ValueError):
            return False
    return False


def _verdict(path: str) -> str:
    """'ok' for a runnable file, else why not."""
    try:
        st = os.stat(path)
    except OSError:
        return "missing"
    if st.st_mode & 0o170000 != 0o100000:
        return "not a file"
    if not WINDOWS and not os.access(path, os.X_OK):
        return "not executable"
    if is_shim(path):
        return "is lsp-shim itself (skipped)"
    return "ok"


def resolve(
    tool: str, root: str, env: Mapping[str, str], python: str | None = None, stop: bool = True
) -> Resolved:
    """Find `tool`; with stop=False keep looking to report every place (for `doctor`)."""
    searched: list[tuple[str, str, str]] = []
    chosen: tuple[str, str] | None = None
    explicit = env.get(env_key(tool))
    if explicit:
        verdict = _verdict(explicit)
        searched.append((env_key(tool), explicit, verdict))
        if verdict != "ok":
            raise ShimError(
                f"{env_key(tool)}={explicit} is {verdict}; point it at the real {tool} executable "
                "or unset it"
            )
        chosen = (explicit, env_key(tool))
        if stop:
            return Resolved(explicit, env_key(tool), searched, root)
    names = exe_names(tool, env)
    seen: set[str] = set()
    for place, directory in candidate_dirs(root, env, python):
        for name in names:
            path = os.path.join(directory, name)
            if path in seen:
                continue
            seen.add(path)
            verdict = _verdict(path)
            if verdict == "missing" and (stop or place == "PATH"):
                if stop:
                    searched.append((place, path, verdict))
                continue
            searched.append((place, path, verdict))
            if verdict == "ok" and chosen is None:
                chosen = (path, place)
                if stop:
                    return Resolved(path, place, searched, root)
    if chosen:
        return Resolved(chosen[0], chosen[1], searched, root)
    return Resolved(None, "", searched, root)


def resolve_command(command: str, env: Mapping[str, str]) -> str:
    """Resolve the COMMAND of the generic form when it is a path or a plain PATH lookup."""
    if os.path.dirname(command):
        verdict = _verdict(command)
        if verdict != "ok":
            raise ShimError(f"{command} is {verdict}; give the path of an executable server")
        return os.path.abspath(command)
    for d in env.get("PATH", os.defpath).split(os.pathsep):
        for name in exe_names(command, env):
            path = os.path.join(d, name)
            if d and _verdict(path) == "ok":
                return path
    raise ShimError(f"{command} was not found on PATH; give its full path")


def not_found_message(tool: str, res: Resolved) -> str:
    """One line naming the places searched and the fix.

    The upward search yields two directories per ancestor of the workspace; they are named as
    one place, so the places after them (VIRTUAL_ENV, PATH, …) still fit on the line.
    """
    groups: dict[str, list[str]] = {}
    for place, path, _ in res.searched:
        dirs = groups.setdefault(place, [])
        directory = os.path.dirname(path)
        if place not in (WORKSPACE, "PATH") and directory not in dirs:
            dirs.append(directory)
    places: list[str] = []
    for place, dirs in groups.items():
        if place == WORKSPACE:
            root = res.root or os.getcwd()
            places.append(f"the workspace's .venv and venv from {os.path.abspath(root)} upward")
        elif place == "PATH":
            places.append("PATH")
        else:
            places.append(f"{place}: {', '.join(dirs)}")
    skipped = [p for _, p, v in res.searched if v.startswith("is lsp-shim")]
    hint = f" (found only lsp-shim itself at {skipped[0]})" if skipped else ""
    return (
        f"{tool} not found{hint}. Looked in {'; '.join(places)}. Install {tool} in the project's "
        f"venv (uv add --dev {tool}) or set {env_key(tool)} to its path"
    )

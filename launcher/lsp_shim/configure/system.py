"""The machine configure targets: platform, environment, home, and where the shims are.

Everything platform-dependent goes through `System` so tests can ask for the Windows or macOS
answer on Linux, and redirect HOME / APPDATA / XDG_CONFIG_HOME.
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath

from .errors import ConfigureError


@dataclass(frozen=True)
class System:
    platform: str = sys.platform  # "win32", "darwin", "linux", ...
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    @property
    def windows(self) -> bool:
        return self.platform == "win32"

    @property
    def macos(self) -> bool:
        return self.platform == "darwin"

    def path(self, *parts: str) -> PurePath:
        # Pure paths of the *target* platform, so a test on Linux can check Windows answers.
        return PureWindowsPath(*parts) if self.windows else PurePosixPath(*parts)

    def home(self) -> PurePath:
        env = self.environ
        if self.windows:
            home = env.get("USERPROFILE") or (env.get("HOMEDRIVE", "") + env.get("HOMEPATH", ""))
        else:
            home = env.get("HOME", "")
        if not home:
            raise ConfigureError(
                "cannot tell your home directory (HOME / USERPROFILE is unset)",
                "set it, or pass --project DIR instead of --user",
            )
        return self.path(home)

    def appdata(self) -> PurePath:
        """%APPDATA% on Windows (the roaming profile where VS Code, Zed, Sublime keep settings)."""
        value = self.environ.get("APPDATA")
        return self.path(value) if value else self.home() / "AppData" / "Roaming"

    def xdg_config_home(self) -> PurePath:
        value = self.environ.get("XDG_CONFIG_HOME")
        # The XDG spec says a relative value is invalid and must be ignored.
        if value and self.path(value).is_absolute():
            return self.path(value)
        return self.home() / ".config"

    def app_support(self) -> PurePath:
        return self.home() / "Library" / "Application Support"


@dataclass(frozen=True)
class Shims:
    """Absolute paths (as text, in the target platform's form) of the installed drop-ins."""

    ruff: str
    ty: str


def _exe(name: str) -> str:
    return name + ".exe" if sys.platform == "win32" else name


def find_shims() -> Shims:
    """The console scripts of the lsp-shim that runs this code.

    Next to sys.executable first (a venv's bin/ or Scripts/), then the scripts dir of this
    interpreter's install scheme, then PATH. The path is made absolute but symlinks are kept:
    `uv tool` links ~/.local/bin/ruff-shim into a tool venv that an upgrade may recreate, and the
    link is the stable name.
    """
    return Shims(ruff=_find("ruff-shim"), ty=_find("ty-shim"))


def _find(name: str) -> str:
    exe = _exe(name)
    candidates = [Path(sys.executable).parent / exe]
    # This interpreter's scheme, then its per-user scheme (pip install --user).
    user_scheme = f"{os.name}_user" if os.name == "nt" else "posix_user"
    for scheme in (None, user_scheme):
        try:
            scripts = (
                sysconfig.get_path("scripts", scheme) if scheme else sysconfig.get_path("scripts")
            )
        except KeyError:
            continue
        if scripts:
            candidates.append(Path(scripts) / exe)
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate.absolute())
    found = shutil.which(name)
    if found:
        return str(Path(found).absolute())
    raise ConfigureError(
        f"cannot find the {name} executable next to {sys.executable} or on PATH",
        "install lsp-shim in this environment (pip install lsp-shim) and run configure from it",
    )

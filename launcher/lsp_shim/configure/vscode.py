"""VS Code: `ruff.path` and `ty.path` in settings.json.

Verified against astral-sh/ruff-vscode package.json ("ruff.path": array of strings, scope
resource: the first existing entry wins) and astral-sh/ty-vscode package.json ("ty.path": array
of strings, scope window). Both can sit in the workspace's .vscode/settings.json or in the
user settings.json.
"""

from __future__ import annotations

from pathlib import PurePath

from . import jsonfile
from .plan import Context, Plan

HINT = "fix the JSON syntax (comments and trailing commas are fine) and run configure again"


def user_settings(ctx: Context) -> PurePath:
    s = ctx.system
    if s.windows:
        base = s.appdata()
    elif s.macos:
        base = s.app_support()
    else:
        base = s.xdg_config_home()
    return base / "Code" / "User" / "settings.json"


def settings_path(ctx: Context) -> PurePath:
    return user_settings(ctx) if ctx.user else ctx.project / ".vscode" / "settings.json"


def plan(ctx: Context) -> Plan:
    settings: list[jsonfile.Setting] = [
        (["ruff.path"], [ctx.shims.ruff]),
        (["ty.path"], [ctx.shims.ty]),
    ]
    return [jsonfile.edit(settings_path(ctx), settings, unit="    ", hint=HINT)]

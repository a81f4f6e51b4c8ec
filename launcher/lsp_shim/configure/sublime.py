"""Sublime Text: `command` in the user's LSP-ruff.sublime-settings.

Verified against sublimelsp/LSP-ruff LSP-ruff.sublime-settings (the package's default is
"command": ["$server_path", "server"], with $server_path the ruff it installs itself) and
sublimelsp/LSP docs/index.md ("command" is the client's server command line; user settings
override the package's). Sublime settings files are JSON with comments and trailing commas.
Sublime has no per-project settings file for LSP-ruff, so without --user this prints.
No ty package for Sublime was verified, so only ruff is configured.
"""

from __future__ import annotations

from pathlib import PurePath

from . import jsonfile
from .plan import Context, FileEdit, Plan, Snippet

HINT = "fix the JSON syntax (comments and trailing commas are fine) and run configure again"


def user_settings(ctx: Context) -> PurePath:
    s = ctx.system
    if s.windows:
        base = s.appdata() / "Sublime Text"
    elif s.macos:
        base = s.app_support() / "Sublime Text"
    else:
        base = s.xdg_config_home() / "sublime-text"
    return base / "Packages" / "User" / "LSP-ruff.sublime-settings"


def edit(ctx: Context) -> FileEdit:
    settings: list[jsonfile.Setting] = [(["command"], [ctx.shims.ruff, "server"])]
    return jsonfile.edit(user_settings(ctx), settings, unit="    ", hint=HINT)


def plan(ctx: Context) -> Plan:
    if ctx.user:
        return [edit(ctx)]
    return Snippet(
        text=edit(ctx).snippet,
        where=(
            f"Sublime Text keeps LSP-ruff settings per user: add this to {user_settings(ctx)} "
            f"(Preferences > Package Settings > LSP > Servers > LSP-ruff), or run "
            f"`lsp-shim configure sublime --user` to write it"
        ),
    )

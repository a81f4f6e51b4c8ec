"""Zed: `lsp.ruff.binary` and `lsp.ty.binary` in settings.json.

Verified against zed-industries/zed docs/src/configuring-languages.md ("lsp": {"<server>":
{"binary": {"path", "arguments", "env"}}}) and docs/src/languages/python.md (ruff and ty are
built-in language servers; ty is off until listed in languages.Python.language_servers, which
configure leaves to the user). The leaf keys are set one by one so a user's "env" survives.
"""

from __future__ import annotations

from pathlib import PurePath

from . import jsonfile
from .plan import Context, Plan

HINT = "fix the JSON syntax (comments and trailing commas are fine) and run configure again"


def user_settings(ctx: Context) -> PurePath:
    s = ctx.system
    if s.windows:
        return s.appdata() / "Zed" / "settings.json"
    # Zed uses ~/.config/zed on macOS as well as Linux.
    return s.xdg_config_home() / "zed" / "settings.json"


def plan(ctx: Context) -> Plan:
    path = user_settings(ctx) if ctx.user else ctx.project / ".zed" / "settings.json"
    settings: list[jsonfile.Setting] = []
    for server, shim in (("ruff", ctx.shims.ruff), ("ty", ctx.shims.ty)):
        settings.append((["lsp", server, "binary", "path"], shim))
        settings.append((["lsp", server, "binary", "arguments"], ["server"]))
    return [jsonfile.edit(path, settings, unit="  ", hint=HINT)]

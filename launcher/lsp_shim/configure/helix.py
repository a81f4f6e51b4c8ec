"""Helix: [language-server.ruff] and [language-server.ty] in languages.toml.

Verified against helix-editor/helix languages.toml (built-in: ruff = { command = "ruff",
args = ["server"] } and ty = { command = "ty", args = ["server"] }) and astral-sh/ruff
docs/editors/setup.md (the [language-server.ruff] table in the user's languages.toml). A user
table is merged over the built-in one, so setting command and args is enough; which servers
python uses stays the user's `language-servers` choice.
"""

from __future__ import annotations

from pathlib import PurePath

from . import tomledit
from .errors import ConfigureError
from .plan import Context, FileEdit, Plan

HINT = "fix the TOML syntax and run configure again"


def user_file(ctx: Context) -> PurePath:
    s = ctx.system
    if s.windows:
        return s.appdata() / "helix" / "languages.toml"
    # Helix uses ~/.config/helix on macOS too.
    return s.xdg_config_home() / "helix" / "languages.toml"


def plan(ctx: Context) -> Plan:
    path = user_file(ctx) if ctx.user else ctx.project / ".helix" / "languages.toml"
    tables: list[tuple[tuple[str, ...], dict[str, tomledit.TomlValue]]] = [
        (("language-server", "ruff"), {"command": ctx.shims.ruff, "args": ["server"]}),
        (("language-server", "ty"), {"command": ctx.shims.ty, "args": ["server"]}),
    ]

    def apply(old: str | None, newline: str) -> str:
        text = old or ""
        for table, values in tables:
            try:
                text = tomledit.set_table(text, table, values, newline)
            except tomledit.TomlLayoutError as e:
                name = tomledit.header(table)
                raise ConfigureError(
                    f"cannot edit {path}: {e}",
                    f"write it as a [{name}] table with command and args keys, then rerun",
                ) from None
            except tomledit.TomlEditError as e:
                raise ConfigureError(f"cannot parse {path}: {e}", HINT) from None
        return text

    snippet = "\n".join(
        f"[{tomledit.header(t)}]\n"
        + "".join(f"{k} = {tomledit.dump_value(v)}\n" for k, v in values.items())
        for t, values in tables
    )
    return [FileEdit(path=path, apply=apply, snippet=snippet, comment="#", problem_hint=HINT)]

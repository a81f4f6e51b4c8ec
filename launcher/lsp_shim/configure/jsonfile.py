"""Shared FileEdit for the JSONC settings files (VS Code, Zed, Sublime)."""

from __future__ import annotations

from pathlib import PurePath

from . import jsonc
from .errors import ConfigureError
from .plan import FileEdit

Setting = tuple[list[str], jsonc.JSON]


def edit(path: PurePath, settings: list[Setting], unit: str, hint: str) -> FileEdit:
    def apply(old: str | None, newline: str) -> str:
        text = old if old is not None else ""
        for key_path, value in settings:
            try:
                present, current = jsonc.get(text, key_path)
                if present and current == value:
                    continue  # equal value in the user's own formatting: leave it be
                text = jsonc.set_value(text, key_path, value, unit=unit, newline=newline)
            except jsonc.JsoncSyntaxError as e:
                raise ConfigureError(f"cannot parse {path}: {e}", hint) from None
            except ValueError as e:
                raise ConfigureError(f"cannot edit {path}: {e}", hint) from None
        return text

    return FileEdit(
        path=path, apply=apply, snippet=fragment(settings, unit), comment="//", problem_hint=hint
    )


def fragment(settings: list[Setting], unit: str) -> str:
    """The settings as one JSON object, for --print."""
    merged: dict[str, jsonc.JSON] = {}
    for key_path, value in settings:
        node = merged
        for key in key_path[:-1]:
            child = node.setdefault(key, {})
            assert isinstance(child, dict)
            node = child
        node[key_path[-1]] = value
    return jsonc.dump(merged, "", unit, "\n") + "\n"

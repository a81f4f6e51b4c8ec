"""What an editor module hands back: file edits to apply, or a snippet to print."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

from .system import Shims, System


@dataclass(frozen=True)
class Context:
    shims: Shims
    system: System
    project: PurePath  # absolute
    user: bool


@dataclass(frozen=True)
class FileEdit:
    """One file: `apply(old_text_or_None, newline) -> new_text`, plus a pasteable fragment."""

    path: PurePath
    apply: Callable[[str | None, str], str]
    snippet: str  # what --print shows for this file
    comment: str  # line-comment prefix of the format, for the --print header ("//", "#", ...)
    problem_hint: str  # how to fix the file if it cannot be parsed


@dataclass(frozen=True)
class Snippet:
    """For editors configured in code (Lua, Elisp): printed, never written."""

    text: str
    where: str  # one line: where to paste it


Plan = list[FileEdit] | Snippet

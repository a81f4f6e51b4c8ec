"""`lsp-shim configure EDITOR`: point an editor's ruff / ty at the ruff-shim / ty-shim drop-ins.

`main(argv)` takes the words after `configure`. It computes every file's new text first and
only then replaces files (temp file + rename), so an error never leaves a half-configured
editor; errors are one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from . import emacs, fileio, helix, neovim, pycharm, sublime, vscode, zed
from .errors import ConfigureError
from .plan import Context, FileEdit, Plan, Snippet
from .system import Shims, System, find_shims

EDITORS: dict[str, Callable[[Context], Plan]] = {
    "vscode": vscode.plan,
    "pycharm": pycharm.plan,
    "neovim": neovim.plan,
    "helix": helix.plan,
    "zed": zed.plan,
    "sublime": sublime.plan,
    "emacs": emacs.plan,
}
ALIASES = {"code": "vscode", "nvim": "neovim", "hx": "helix", "subl": "sublime"}
PROG = "lsp-shim configure"

__all__ = ["EDITORS", "ConfigureError", "main", "run"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints usage plus the message over several lines; we promise one line.
        raise ConfigureError(message, f"see `{PROG} --help`")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Make an editor start ruff (and ty, where the editor has it) through the\n"
            "drop-ins ruff-shim and ty-shim of this install, by absolute path. Existing\n"
            "settings files are merged into (comments kept) and a diff is printed."
        ),
    )
    p.add_argument("editor", metavar="EDITOR", help=", ".join(EDITORS))
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--project",
        metavar="DIR",
        type=Path,
        help="project whose settings to edit (default: the current directory)",
    )
    where.add_argument(
        "--user", action="store_true", help="edit the user-level settings file instead"
    )
    p.add_argument(
        "--print", action="store_true", dest="print_only", help="print the settings, write nothing"
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return run(args, System(), None, sys.stdout)
    except ConfigureError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        where = f" {e.filename}" if e.filename else ""
        print(
            f"{PROG}: error: cannot write{where}: {e.strerror or e}; "
            f"check the path and its permissions (nothing was half-written)",
            file=sys.stderr,
        )
        return 2
    except Exception as e:
        print(
            f"{PROG}: error: internal error {type(e).__name__}: {e}; please report it",
            file=sys.stderr,
        )
        return 2


def run(argv: list[str], system: System, shims: Shims | None, out: TextIO) -> int:
    """The command with its machine injected (tests pass a System and fixed Shims)."""
    ns = _parser().parse_args(argv)
    name = ALIASES.get(ns.editor.lower(), ns.editor.lower())
    if name not in EDITORS:
        raise ConfigureError(
            f"unknown editor {ns.editor!r}", f"choose one of: {', '.join(EDITORS)}"
        )
    project = (ns.project or Path.cwd()).absolute()
    if ns.project is not None and not project.is_dir():
        raise ConfigureError(f"--project {ns.project} is not a directory", "pass a project folder")
    ctx = Context(shims=shims or find_shims(), system=system, project=project, user=bool(ns.user))
    plan = EDITORS[name](ctx)
    if isinstance(plan, Snippet):
        out.write(plan.text)
        out.write(f"\n{_comment_for(name)} {plan.where}\n")
        return 0
    if ns.print_only:
        _print_plan(plan, out)
        return 0
    return _apply(name, plan, out)


def _comment_for(editor: str) -> str:
    return {"neovim": "--", "emacs": ";;", "helix": "#"}.get(editor, "//")


def _print_plan(plan: list[FileEdit], out: TextIO) -> None:
    for i, edit in enumerate(plan):
        if i:
            out.write("\n")
        close = " -->" if edit.comment == "<!--" else ""
        out.write(f"{edit.comment} {edit.path}{close}\n{edit.snippet}")


def _apply(editor: str, plan: list[FileEdit], out: TextIO) -> int:
    # Phase 1: every new text, or an error before anything is touched.
    staged: list[tuple[Path, fileio.Loaded | None, str]] = []
    for edit in plan:
        path = Path(edit.path)
        loaded = fileio.load(path)
        newline = loaded.newline if loaded else "\n"
        new = edit.apply(loaded.text if loaded else None, newline)
        staged.append((path, loaded, new))
    # Phase 2: write what changed.
    changed = 0
    for path, loaded, new in staged:
        old = loaded.text if loaded else None
        if new == old:
            out.write(f"unchanged: {path} (already configured)\n")
            continue
        fileio.atomic_write(path, new, bom=bool(loaded and loaded.bom))
        changed += 1
        out.write(f"{'updated' if loaded else 'created'}: {path}\n")
        out.write(fileio.unified_diff(path, old, new))
    if changed == 0:
        out.write(f"Nothing to do: {editor} already uses the shims.\n")
    return 0

"""Command lines: `lsp-shim` (generic form and management commands), `ruff-shim`, `ty-shim`.

The server path parses its few options by hand: argparse alone would cost ~7 ms per start.
"""

from __future__ import annotations

import os
import sys

from lsp_shim import log, watch
from lsp_shim.errors import ShimError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from lsp_shim.launch import Options

USAGE = """\
usage: lsp-shim [OPTIONS] -- COMMAND [ARGS…]     run a stdio language server from a private copy
       lsp-shim ps [--json]                      list live sessions
       lsp-shim gc [--dry-run] [--json]          remove dead records and unused copies
       lsp-shim locks [--json] PATH…             which processes hold these files (or dirs)
       lsp-shim doctor [ruff|ty|TOOL]            where the tool is looked for, and the choice
       lsp-shim configure EDITOR [--project DIR] [--user] [--print]
drop-ins: ruff-shim ARGS… and ty-shim ARGS… behave like ruff and ty.

options:
  --shadow PATH      copy PATH and run the copy where it appears in ARGS (for java/node/wine64
                     runners); repeatable; COMMAND itself is then left alone
  --python EXE       also look in this interpreter's scripts directory
  --workspace DIR    resolve from DIR instead of the editor's workspace
  --store DIR        the store of copies (default: the user cache dir; env LSP_SHIM_STORE)
  --log-file FILE    log there instead of stderr (env LSP_SHIM_LOG_FILE)
  --log-level LEVEL  debug, info, warning (default), error (env LSP_SHIM_LOG)
  --strict           refuse to run a server in place when it cannot be copied
  --no-follow        do not follow upgrades of the server binary (env LSP_SHIM_NO_FOLLOW=1)
"""

LOG_LEVELS = ("debug", "info", "warning", "error")
_VALUE_OPTIONS = ("--shadow", "--python", "--workspace", "--store", "--log-file", "--log-level")
_MANAGEMENT = ("ps", "gc", "locks", "doctor", "configure")


def _guard(prog: str, body: Callable[[], int]) -> int:
    """Turn every failure into one line on stderr; tracebacks only with LSP_SHIM_LOG=debug."""
    log.configure(prog=prog)
    watch.remember_parent()
    try:
        return body()
    except ShimError as exc:
        log.error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        # The environment, not a bug of ours: say what failed, plainly.
        if log.enabled("debug"):
            import traceback

            traceback.print_exc()
        log.error(_os_error_text(exc))
        return ShimError.exit_code
    except Exception as exc:
        if log.enabled("debug"):
            import traceback

            traceback.print_exc()
        log.error(f"internal error: {exc!r}; rerun with LSP_SHIM_LOG=debug and report it")
        return 70


def _os_error_text(exc: OSError) -> str:
    try:
        os.getcwd()
    except OSError:
        return (
            "the current directory no longer exists (deleted or moved); start the server from an "
            "existing folder"
        )
    where = f": {exc.filename}" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


def _finish(code: int) -> int:
    """Exit at once: relay threads may sit in blocking reads that nothing else would end."""
    os._exit(code)


# Global options of ruff that take a value and may come before the subcommand
# (`ruff --config "line-length = 100" server`); ty has none.
_GLOBAL_VALUE_OPTIONS = ("--config", "--color")


def subcommand(args: list[str]) -> str | None:
    """The tool's subcommand: the first argument that is neither an option nor its value."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _GLOBAL_VALUE_OPTIONS:
            skip = True
        elif arg == "--" or not arg.startswith("-"):
            return None if arg == "--" else arg
    return None


def dropin(tool: str, args: list[str]) -> int:
    """`ruff-shim ARGS…`: exactly `ruff ARGS…`, from the copy."""

    def body() -> int:
        from lsp_shim import launch

        opts = launch.Options()
        opts.tool = tool
        opts.command = list(args)
        if subcommand(args) == "server":
            return _finish(launch.serve(opts))
        return launch.run_once(opts)

    return _guard(f"{tool}-shim", body)


def ruff_main() -> int:
    return dropin("ruff", sys.argv[1:])


def ty_main() -> int:
    return dropin("ty", sys.argv[1:])


def parse_generic(argv: list[str]) -> Options:
    """Options before `--` (or before the first non-option), then COMMAND ARGS…"""
    from lsp_shim.launch import Options

    opts = Options()
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            i += 1
            break
        if not arg.startswith("-"):
            break
        name, eq, value = arg.partition("=")
        if name in _VALUE_OPTIONS:
            if not eq:
                i += 1
                if i >= len(argv):
                    raise ShimError(f"{name} needs a value; see lsp-shim --help")
                value = argv[i]
            if name == "--shadow":
                opts.shadows.append(value)
            elif name == "--python":
                opts.python = value
            elif name == "--workspace":
                opts.workspace = value
            elif name == "--store":
                opts.store = value
            elif name == "--log-file":
                log.configure(log_file=value)
            else:
                if value.lower() not in LOG_LEVELS:
                    raise ShimError(
                        f"--log-level {value}: use one of {', '.join(LOG_LEVELS)}; "
                        "see lsp-shim --help"
                    )
                log.configure(level=value)
        elif arg == "--strict":
            opts.strict = True
        elif arg == "--no-follow":
            opts.follow = False
        else:
            raise ShimError(f"unknown option {arg}; see lsp-shim --help")
        i += 1
    opts.command = argv[i:]
    if not opts.command:
        raise ShimError("no server command given; usage: lsp-shim [OPTIONS] -- COMMAND [ARGS…]")
    return opts


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv

    def body() -> int:
        if not args or args[0] in ("-h", "--help", "help"):
            sys.stdout.write(USAGE)
            return 0 if args else 2
        if args[0] == "--version":
            from lsp_shim import __version__

            sys.stdout.write(f"lsp-shim {__version__}\n")
            return 0
        if args[0] in _MANAGEMENT:
            from lsp_shim import manage

            return manage.main(args[0], args[1:])
        opts = parse_generic(args)
        from lsp_shim import launch

        return _finish(launch.serve(opts))

    return _guard("lsp-shim", body)

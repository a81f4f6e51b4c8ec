"""Management commands: ps, gc, locks, doctor (and configure, in its own package)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from lsp_shim.errors import ShimError
from lsp_shim.store import Store, StoreError, default_root

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _store(path: str | None) -> Store:
    return Store(path or default_root(os.environ))


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2) + "\n")


def cmd_ps(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="lsp-shim ps", description="List live sessions.")
    p.add_argument("--json", action="store_true")
    p.add_argument("--store")
    a = p.parse_args(argv)
    from lsp_shim import session

    records = session.live(_store(a.store).sessions)
    if a.json:
        _print_json(records)
        return 0
    if not records:
        print("no live sessions")
        return 0
    print(f"{'PID':>7} {'SERVER':<8} {'VERSION':<10} {'SERVER PID':>10}  COPY (SOURCE)")
    for r in records:
        print(
            f"{r.get('pid', ''):>7} {r.get('server', ''):<8} {r.get('version', ''):<10} "
            f"{r.get('server_pid', ''):>10}  {r.get('copy', '')} ({r.get('source', '')})"
        )
    return 0


def cmd_gc(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="lsp-shim gc", description="Remove dead records and unused copies."
    )
    p.add_argument("--dry-run", action="store_true", help="only say what would be removed")
    p.add_argument("--json", action="store_true")
    p.add_argument("--store")
    p.add_argument("--grace", type=float, default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    from lsp_shim import cleanup

    store = _store(a.store)
    if not os.path.isdir(store.root):
        print(f"no store at {store.root}; nothing to do")
        return 0
    try:
        store.open()
    except StoreError as exc:
        raise ShimError(str(exc)) from None
    grace = cleanup.GRACE if a.grace is None else a.grace
    report = cleanup.collect(store, dry_run=a.dry_run, grace=grace)
    if a.json:
        _print_json(report.as_dict())
        return 0
    verb = "would remove" if a.dry_run else "removed"
    for path in report.records:
        print(f"{verb} record {path}")
    for pid in report.servers:
        print(f"{'would stop' if a.dry_run else 'stopped'} orphaned server pid {pid}")
    for path in report.copies:
        print(f"{verb} copy {path}")
    for path in report.skipped:
        print(f"skipped {path} (still in use)")
    print(
        f"{len(report.kept)} copies kept (in use, newest per source, or used in the last minutes)"
    )
    return 0


def cmd_locks(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="lsp-shim locks",
        description="Which processes hold these files (a directory: any file below it).",
    )
    p.add_argument("--json", action="store_true")
    p.add_argument("paths", nargs="+", metavar="PATH")
    a = p.parse_args(argv)
    from lsp_shim import locks

    results = locks.holders(a.paths)
    if a.json:
        _print_json(results)
        return 0
    for r in results:
        if "error" in r:
            print(f"{r['path']}: {r['error']}")
        elif not r["holders"]:
            print(f"{r['path']}: not held by any process")
        else:
            print(f"{r['path']}: held by")
            for h in r["holders"]:
                print(f"  pid {h['pid']} {h['name']} ({', '.join(h['how'])})")
    return 0


def cmd_doctor(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="lsp-shim doctor", description="Show how a tool is resolved.")
    p.add_argument("tool", nargs="?", default="ruff")
    p.add_argument("--workspace", default=None)
    p.add_argument("--python", default=os.environ.get("LSP_SHIM_PYTHON"))
    a = p.parse_args(argv)
    from lsp_shim.resolve import resolve

    root = os.path.abspath(a.workspace or os.getcwd())
    res = resolve(a.tool, root, os.environ, a.python, stop=False)
    print(f"workspace root: {root}")
    print(f"store: {default_root(os.environ)}")
    print(f"lsp-shim runs on: {sys.executable}")
    print(f"places looked at for {a.tool}, in order:")
    for place, path, verdict in res.searched:
        mark = "->" if path == res.path else "  "
        print(f" {mark} [{place}] {path}: {verdict}")
    if not res.path:
        print(f"choice: none — {a.tool} is not installed anywhere lsp-shim looks")
        return 1
    print(f"choice: {res.path} ({res.place})")
    venv = os.path.dirname(os.path.dirname(os.path.abspath(res.path)))
    prefix = os.path.abspath(sys.prefix)
    if os.path.normcase(prefix) == os.path.normcase(venv) or os.path.normcase(prefix).startswith(
        os.path.normcase(venv) + os.sep
    ):
        print(
            f"warning: lsp-shim itself is installed in {venv}, the venv it serves; its own Python "
            "holds that venv open. Install it on its own: uv tool install lsp-shim"
        )
    return 0


def main(command: str, argv: list[str]) -> int:
    if command == "configure":
        from lsp_shim.configure import main as configure

        return configure(argv)
    handlers = {"ps": cmd_ps, "gc": cmd_gc, "locks": cmd_locks, "doctor": cmd_doctor}
    try:
        return handlers[command](argv)
    except SystemExit as exc:  # argparse already printed its one-line usage error
        return int(exc.code or 0)

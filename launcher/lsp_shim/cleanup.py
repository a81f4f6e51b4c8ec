"""Garbage collection: records of dead sessions, their orphaned servers, and unused copies."""

from __future__ import annotations

import os
import shutil
import time

from lsp_shim import session
from lsp_shim.store import read_small

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from lsp_shim.store import Store

GRACE = 120.0  # seconds a copy stays protected after a start touched it (its record may lag)


class Report:
    """What a gc pass removed or would remove."""

    def __init__(self) -> None:
        self.records: list[str] = []
        self.servers: list[int] = []
        self.copies: list[str] = []
        self.skipped: list[str] = []
        self.kept: list[str] = []

    def as_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "servers_stopped": self.servers,
            "copies": self.copies,
            "skipped_in_use": self.skipped,
            "kept": self.kept,
        }


def _meta(directory: str) -> dict[str, Any]:
    return session.read_json(os.path.join(directory, "meta.json"), 1 << 16)


def collect(store: Store, dry_run: bool = False, grace: float = GRACE) -> Report:
    """One pass; safe to run from many processes at once (every step tolerates losing a race)."""
    report = Report()
    in_use: set[str] = set()
    for path, rec in session.load_all(store.sessions):
        if rec and session.process_alive(rec.get("pid"), rec.get("create_time")):
            in_use.add(os.path.dirname(str(rec.get("copy", ""))))
            continue
        # The shim is gone (killed without cleanup): stop a server it left behind.
        orphan = session.process_of(rec.get("server_pid"), rec.get("server_create_time"))
        if orphan is not None:
            report.servers.append(orphan.pid)
            if not dry_run:
                _stop(orphan)
        report.records.append(path)
        if not dry_run:
            session.remove(path)
    now = time.time()
    newest: dict[str, tuple[float, str]] = {}
    copies: list[tuple[str, dict[str, Any], float]] = []
    try:
        names = os.listdir(store.copies)
    except OSError:
        names = []
    for name in names:
        directory = os.path.join(store.copies, name)
        meta = _meta(directory)
        try:
            used = os.stat(directory).st_mtime
        except OSError:
            continue
        created = float(meta.get("created", 0.0))
        source = str(meta.get("source", directory))
        copies.append((directory, meta, used))
        if source not in newest or created > newest[source][0]:
            newest[source] = (created, directory)
    keep_newest = {d for _, d in newest.values()}
    for directory, _, used in copies:
        if directory in in_use or directory in keep_newest or now - used < grace:
            report.kept.append(directory)
            continue
        if dry_run:
            report.copies.append(directory)
            continue
        if _remove_tree(directory, grace):
            report.copies.append(directory)
        else:
            report.skipped.append(directory)  # still running on Windows: try next time
    if not dry_run:
        _prune_index(store)
        _prune_tmp(store, now)
    return report


def _stop(proc: Any) -> None:
    import psutil

    try:
        proc.terminate()
        proc.wait(1.0)
    except psutil.TimeoutExpired:
        try:
            proc.kill()
        except psutil.Error:
            pass
    except psutil.Error:
        pass


def _remove_tree(directory: str, grace: float) -> bool:
    """Delete a copy; False when the OS refuses (Windows: the copy is running) or a start has
    just picked it."""
    # Rename first so no start can pick up a half-deleted copy; a running image can be renamed.
    doomed = f"{directory}.deleting-{os.getpid()}"
    try:
        os.rename(directory, doomed)
    except OSError:
        return False
    try:
        # A warm start touches the directory it uses: one that did so after our first look
        # must keep its copy (the rename does not change the directory's own mtime).
        recently_used = time.time() - os.stat(doomed).st_mtime < grace
    except OSError:
        recently_used = False
    if recently_used:
        try:
            os.rename(doomed, directory)
            return False
        except OSError:
            pass
    shutil.rmtree(doomed, ignore_errors=True)
    if os.path.exists(doomed):
        try:
            os.rename(doomed, directory)  # keep it usable; gc tries again later
        except OSError:
            pass
        return False
    return True


def _prune_index(store: Store) -> None:
    """Drop index entries whose copy is gone."""
    try:
        names = os.listdir(store.index)
    except OSError:
        return
    for name in names:
        path = os.path.join(store.index, name)
        target = read_small(path)
        if target is None:
            continue
        if not os.path.isdir(os.path.join(store.copies, target.decode("utf-8", "replace").strip())):
            session.remove(path)


def _prune_tmp(store: Store, now: float) -> None:
    """Staging dirs left by a crashed copy (older than an hour)."""
    try:
        names = os.listdir(store.tmp)
    except OSError:
        return
    for name in names:
        path = os.path.join(store.tmp, name)
        try:
            if now - os.lstat(path).st_mtime > 3600:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass

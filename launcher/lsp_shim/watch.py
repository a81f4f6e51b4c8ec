"""Watch the editor: when it dies without closing our stdin, stop the server within 2 s."""

from __future__ import annotations

import os
import sys
import time

from lsp_shim import log

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

INTERVAL = 0.5


def editor_probe(pid: int | None, not_after: float) -> Callable[[], bool] | None:
    """A cheap 'is the editor still there' check, or None if the pid is unusable.

    A process that started after us cannot be the editor that started us: pid reuse.
    """
    import psutil

    if not isinstance(pid, int) or pid <= 0:
        return None
    try:
        proc = psutil.Process(pid)
        if proc.create_time() > not_after + 1.0:
            return None
    except psutil.Error:
        return lambda: False
    return proc.is_running  # compares the create time, so a reused pid reads as gone


_startup_parent: int | None = None


def remember_parent() -> None:
    """Note our parent at startup, before the slow steps (resolve, copy, initialize, gc).

    The watch starts only after those; an editor that dies meanwhile would otherwise never be
    seen, because on POSIX we are re-parented and getppid() then names the new parent.
    """
    global _startup_parent
    if _startup_parent is None:
        _startup_parent = os.getppid()


def parent_probe() -> Callable[[], bool]:
    """Is the process that started us alive? POSIX: free via getppid; Windows: psutil."""
    original = _startup_parent if _startup_parent is not None else os.getppid()
    if sys.platform != "win32":
        return lambda: os.getppid() == original
    import psutil

    try:
        parent = psutil.Process(original)
        if parent.create_time() > psutil.Process().create_time():
            return lambda: False  # the pid was reused: the parent that started us is gone
    except psutil.Error:
        return lambda: False
    return parent.is_running


def watch(
    probes: list[Callable[[], bool]],
    done: Callable[[], bool],
    on_gone: Callable[[], None],
    every_second: Callable[[], None] | None = None,
) -> None:
    """Poll the probes until `done()`; call on_gone once when any reports its process gone.

    `every_second` (the upgrade follower) runs on every other tick.
    """
    ticks = 0
    while not done():
        ticks += 1
        if every_second is not None and ticks % 2 == 0:
            try:
                every_second()
            except Exception as exc:  # following is a convenience; never fatal
                log.warning(f"checking the server binary failed: {exc!r}")
        for probe in probes:
            try:
                alive = probe()
            except Exception:  # a vanished process can surface as any psutil error
                alive = False
            if not alive:
                log.info("the editor is gone; stopping the server")
                on_gone()
                return
        time.sleep(INTERVAL)

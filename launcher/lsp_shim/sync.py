"""Small thread primitives on `_thread` (importing `threading` costs ~3 ms at startup)."""

from __future__ import annotations

import _thread
import io
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_SMALL = 65536
_writev = getattr(os, "writev", None)  # POSIX only
BATCH = 64  # routine items that wake the consumer


class Flag:
    """A one-way event: set once, waited on by any number of threads."""

    __slots__ = ("_lock", "is_set")

    def __init__(self) -> None:
        self._lock = _thread.allocate_lock()
        self._lock.acquire()
        self.is_set = False

    def set(self) -> None:
        if not self.is_set:
            self.is_set = True
            self._lock.release()

    def wait(self, timeout: float = -1) -> bool:
        if self.is_set:
            return True
        if self._lock.acquire(True, timeout):
            self._lock.release()
        return self.is_set


class Inbox:
    """Many producers, one consumer; the consumer takes everything queued at once."""

    __slots__ = ("_items", "_lock", "_wake")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._lock = _thread.allocate_lock()
        self._wake = _thread.allocate_lock()
        self._wake.acquire()

    def put(self, item: Any, wake: bool = True) -> None:
        """Queue an item; with wake=False the consumer is only woken once a batch is waiting.

        Routine items (every relayed message) then cost a lock and an append, not a thread
        wake-up and a GIL hand-off on the message path.
        """
        with self._lock:
            self._items.append(item)
            waiting = len(self._items)
        if wake or waiting >= BATCH:
            try:
                self._wake.release()
            except RuntimeError:  # already signalled
                pass

    def take(self, timeout: float = -1) -> list[Any]:
        """Wait up to `timeout` (forever if negative) for items; return all of them."""
        if not self._items:
            self._wake.acquire(True, timeout)
        else:
            self._wake.acquire(False)
        with self._lock:
            items, self._items = self._items, []
        return items


class Sink:
    """One output stream; whole messages only, from any thread."""

    __slots__ = ("_lock", "broken", "fd")

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._lock = _thread.allocate_lock()
        self.broken = False

    def send(self, header: bytes, body: bytes | bytearray) -> bool:
        """Write one message; False once the other end is gone."""
        with self._lock:
            if self.broken:
                return False
            try:
                if not header:
                    write_all(self.fd, body)
                elif _writev is not None:
                    # One system call and no joined copy of the body.
                    sent = _writev(self.fd, (header, body))
                    if sent < len(header):
                        write_all(self.fd, header[sent:])
                        sent = len(header)
                    if sent < len(header) + len(body):
                        write_all(self.fd, memoryview(body)[sent - len(header) :])
                elif len(body) < _SMALL:
                    write_all(self.fd, header + body)
                else:
                    write_all(self.fd, header)
                    write_all(self.fd, body)
            except OSError:
                self.broken = True
                return False
            return True

    def begin(self, header: bytes) -> bool:
        """Start a message whose body follows in pieces (`write`, then `end`); the sink is
        held for it meanwhile. False, and not held, once the other end is gone."""
        self._lock.acquire()
        self.write(header)
        if self.broken:
            self._lock.release()
            return False
        return True

    def write(self, data: bytes | memoryview) -> None:
        """A piece of the message begun with `begin`."""
        if not self.broken:
            try:
                write_all(self.fd, data)
            except OSError:
                self.broken = True

    def end(self) -> None:
        self._lock.release()

    def send_raw(self, framed: bytes) -> bool:
        """Write a message the shim composed (already framed)."""
        return self.send(b"", framed)

    def close(self) -> None:
        with self._lock:
            self.broken = True
            try:
                os.close(self.fd)
            except OSError:
                pass


def write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    """Write all of `data` to `fd`, however many calls the OS needs."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def raw_stream(fd: int) -> io.FileIO:
    """Unbuffered reads that return whatever the pipe holds (a buffered read(n) waits for n)."""
    return io.FileIO(fd, "rb", closefd=False)


def exit_later(delay: float, code: int) -> None:
    """End the process after `delay` s whatever it is doing (an editor that never says exit)."""

    def run() -> None:
        import time

        time.sleep(delay)
        os._exit(code)

    _thread.start_new_thread(run, ())

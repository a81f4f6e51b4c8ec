"""Relay LSP messages between editor and server, byte for byte, noticing only lifecycle messages.

Two plain threads pump whole frames (one per direction); a frame is written under a lock so
the shim's own messages never land inside a relayed one. Bodies are never re-encoded.
"""

from __future__ import annotations

import _thread
import io
import os
import time

from lsp_shim import log
from lsp_shim.framing import FrameReader
from lsp_shim.lsp import is_response_to, peek

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from lsp_shim.spawn import Child

_SMALL = 65536


class Sink:
    """One output stream; whole messages only, from any thread."""

    __slots__ = ("fd", "_lock", "broken")

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
                if len(body) < _SMALL:
                    _write_all(self.fd, header + body)
                else:
                    _write_all(self.fd, header)
                    _write_all(self.fd, body)
            except OSError:
                self.broken = True
                return False
            return True

    def send_raw(self, framed: bytes) -> bool:
        """Write a message the shim composed (already framed)."""
        with self._lock:
            if self.broken:
                return False
            try:
                _write_all(self.fd, framed)
            except OSError:
                self.broken = True
                return False
            return True


def _write_all(fd: int, data: bytes | bytearray) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def raw_stream(fd: int) -> io.FileIO:
    """Unbuffered reads that return whatever the pipe holds (a buffered read(n) would wait for n)."""
    return io.FileIO(fd, "rb", closefd=False)


class Relay:
    """Pumps one editor session to one server process and applies the lifecycle rules."""

    def __init__(
        self,
        child: Child,
        client_in: FrameReader,
        client_out: Sink,
        init_id: object = None,
        notices: list[bytes] | None = None,
    ) -> None:
        self.child = child
        self.client_in = client_in
        self.client_out = client_out
        self.server_in = Sink(child.stdin)
        self.init_id = init_id
        self.init_result: dict[str, Any] | None = None
        self.notices = notices or []  # shown to the user once the server has answered initialize
        self.shutdown_seen = False
        self.exit_seen = False
        self.client_eof = False
        self.drained = _thread.allocate_lock()
        self.drained.acquire()
        self.initialized = _thread.allocate_lock()
        self.initialized.acquire()

    def start(self, first: tuple[bytes, bytes | bytearray] | None) -> None:
        _thread.start_new_thread(self._server_loop, ())
        _thread.start_new_thread(self._client_loop, (first,))

    def _client_loop(self, first: tuple[bytes, bytes | bytearray] | None) -> None:
        send = self.server_in.send
        frame = first or self.client_in.next()
        while frame is not None:
            header, body = frame
            msg = peek(body)
            if not send(header, body):
                log.debug("server stdin closed; a client message was not delivered")
            if msg is not None:
                self._after_client(msg)
            frame = self.client_in.next()
        self.client_eof = True
        log.debug("client closed stdin; closing the server's stdin")
        self.child.close_stdin()
        if not self.exit_seen:
            self.stop_later(2.0)

    def _after_client(self, msg: dict[str, Any]) -> None:
        method = msg.get("method")
        if method == "exit":
            self.exit_seen = True
            # Editors (and pytest-lsp) wait for us after `exit`; a lingering server must not stall them.
            self.stop_later(1.0)
        elif method == "shutdown":
            self.shutdown_seen = True
        elif method == "initialize" and self.init_id is None:
            self.init_id = msg.get("id")

    def _server_loop(self) -> None:
        reader = FrameReader(raw_stream(self.child.stdout), lambda m: log.error(f"server output: {m}"))
        send = self.client_out.send
        waiting = True
        frame = reader.next()
        while frame is not None:
            header, body = frame
            send(header, body)
            if waiting and self.init_id is not None:
                msg = is_response_to(body, self.init_id)
                if msg is not None:
                    waiting = False
                    result = msg.get("result")
                    self.init_result = result if isinstance(result, dict) else {}
                    for notice in self.notices:
                        self.client_out.send_raw(notice)
                    self.initialized.release()
            frame = reader.next()
        self.drained.release()

    def stop_later(self, delay: float) -> None:
        """Terminate the server if it is still running after `delay` s, kill it a second later."""
        _thread.start_new_thread(self._stop_after, (delay,))

    def _stop_after(self, delay: float) -> None:
        time.sleep(delay)
        if self.child.returncode is None:
            log.info(f"server still running {delay:g} s after the editor let go; terminating it")
            self.child.signal()
            time.sleep(1.0)
            self.child.signal(kill=True)

"""One server process: its stdin sink, the threads that pump its stdout and stderr, its exit."""

from __future__ import annotations

import _thread
import os

from lsp_shim import log
from lsp_shim.framing import FrameReader
from lsp_shim.sync import Flag, Sink, raw_stream

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from lsp_shim.spawn import Child

TAIL = 20  # stderr lines kept for a crash report


class Backend:
    """A server generation: 1 is the one the editor initialized; later ones replace it."""

    def __init__(self, gen: int, child: Child, copy: str) -> None:
        self.gen = gen
        self.child = child
        self.copy = copy
        self.sink = Sink(child.stdin)
        self.version = ""
        self.init_result: dict[str, Any] | None = None
        self.pending: dict[str, object] = {}  # client requests it owes an answer: key -> id
        self.early: set[str] = set()  # answers seen before their request's event
        self.lock = _thread.allocate_lock()  # orders "answered" against "cut"
        self.cut = False  # after this its answers are dropped (the shim answered for it)
        self.retiring = False
        self.retire_deadline = 0.0
        self.tail: list[str] = []
        self.drained = Flag()  # its stdout reached EOF
        self.exited = Flag()
        self._internal: dict[str, dict[str, Any]] = {}

    def start(
        self,
        on_message: Callable[[Backend, bytes, bytes | bytearray], None],
        on_exit: Callable[[Backend, int], None],
    ) -> None:
        _thread.start_new_thread(self._pump, (on_message,))
        _thread.start_new_thread(self._tee_stderr, ())
        _thread.start_new_thread(self._wait, (on_exit,))

    def _pump(self, on_message: Callable[[Backend, bytes, bytes | bytearray], None]) -> None:
        reader = FrameReader(
            raw_stream(self.child.stdout),
            lambda m: log.error(f"server output: {m}"),
            reply=self.sink.send_raw,  # a server request the reader drops still gets an answer
        )
        frame = reader.next()
        while frame is not None:
            try:
                on_message(self, frame[0], frame[1])
            except Exception as exc:  # one odd message must not stop the pump
                log.error(f"could not relay a server message: {exc!r}")
            frame = reader.next()
        self.drained.set()

    def _tee_stderr(self) -> None:
        """Pass the server's stderr on (editors show it) and keep its last lines."""
        fd = self.child.stderr
        partial = b""
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            log.passthrough(chunk)
            lines = (partial + chunk).split(b"\n")
            partial = lines.pop()
            self.tail.extend(line.decode("utf-8", "replace") for line in lines[-TAIL:])
            del self.tail[:-TAIL]
        if partial:
            self.tail.append(partial.decode("utf-8", "replace"))

    def _wait(self, on_exit: Callable[[Backend, int], None]) -> None:
        code = self.child.wait()
        self.drained.wait(2.0)  # its last messages (a shutdown result) go out first
        self.exited.set()
        on_exit(self, code)

    def deliver_internal(self, msg: dict[str, Any]) -> None:
        """An answer to a request the shim itself sent this server."""
        self._internal[str(msg.get("id"))] = msg

    def wait_internal(self, rid: str, timeout: float) -> dict[str, Any] | None:
        """Wait for the answer to our request `rid`; None on timeout or if the server died."""
        import time

        deadline = time.monotonic() + timeout
        # Polling is fine here: this only runs while a replacement server starts.
        while rid not in self._internal and time.monotonic() < deadline and not self.drained.is_set:
            time.sleep(0.005)
        return self._internal.pop(rid, None)

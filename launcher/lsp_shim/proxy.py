"""Relay LSP messages between the editor and the current server, byte for byte.

The first server's traffic passes untouched. Once a server has been replaced (upgrade or
crash), the few server→client *requests* get ids `lsp-shim:<gen>:<id>` so answers find their
server, and registrations are de-duplicated. Every client message is also handed to the
controller (as a reference, decoded later on its own thread) so it can replay state.
"""

from __future__ import annotations

import _thread

from lsp_shim import log, lsp
from lsp_shim.jsonfast import loads
from lsp_shim.registrations import Registry
from lsp_shim.sync import Flag, Inbox, Sink

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from lsp_shim.backend import Backend
    from lsp_shim.framing import FrameReader

# Inbox events (tuples whose first item is one of these).
CLIENT = 1  # (CLIENT, backend or None, body, head(body))
ANSWERED = 2  # (ANSWERED, backend, id key or body): a server's response went to the editor
EXITED = 3  # (EXITED, backend, code)
CLIENT_EOF = 4  # (CLIENT_EOF,)
SOURCE_CHANGED = 5  # (SOURCE_CHANGED, copy, version)
STOP = 6  # (STOP, reason): a signal, or the editor died
PREFIX = "lsp-shim:"


class Relay:
    """Routes messages; the controller decides which backend is current."""

    def __init__(self, client_in: FrameReader, client_out: Sink, inbox: Inbox) -> None:
        self.client_in = client_in
        self.client_out = client_out
        self.inbox = inbox
        self.route = _thread.allocate_lock()  # held while choosing + sending to a backend
        self.current: Backend | None = None
        self.backends: dict[int, Backend] = {}
        self.held: list[tuple[bytes, bytes | bytearray]] = []  # client messages during a restart
        self.remapping = False  # True once any server after the first has spoken
        self.registry = Registry()
        self.reg_lock = _thread.allocate_lock()
        self.init_id: object = None
        self.init_result: dict[str, Any] | None = None
        self.initialized = Flag()  # the editor has the first server's initialize result
        self.notices: list[bytes] = []
        self.exit_seen = False
        self.shutdown_seen = False
        self._internal_ids = 0
        self._streamed_to: Backend | None = None  # got the body being read; route held

    def start(self, first: tuple[bytes, bytes | bytearray] | None) -> None:
        self.client_in.tee = self._stream
        _thread.start_new_thread(self._client_loop, (first,))

    # editor → server

    def _client_loop(self, first: tuple[bytes, bytes | bytearray] | None) -> None:
        frame = first or self.client_in.next()
        while frame is not None:
            header, body = frame
            streamed, self._streamed_to = self._streamed_to, None
            if streamed is None and not self.remapping and lsp.routine(body):
                self._send(frame, None, False, None)  # most messages: nothing to read first
            else:
                keys = lsp.head(body)
                if streamed is None and self.remapping and lsp.is_response(body, keys):
                    self._client_answer(header, body)
                else:
                    msg = lsp.peek(body, keys)
                    if msg is not None:
                        self._lifecycle(msg)
                    self._send(frame, keys, msg is not None, streamed)
            del frame, header, body  # a big body is not kept alive while we wait for the next
            frame = self.client_in.next()
        if self._streamed_to is not None:  # the editor stopped inside a streamed message
            self._streamed_to = None
            self.route.release()
        self.inbox.put((CLIENT_EOF,))

    def _send(
        self,
        frame: tuple[bytes, bytes | bytearray],
        keys: dict[str, bytes] | None,
        wake: bool,
        streamed: Backend | None,
    ) -> None:
        """Send an editor message to the current server (unless it went on while it arrived),
        then hand it to the controller."""
        header, body = frame
        if streamed is None:
            self.route.acquire()
            b = self.current
            if b is None:
                self.held.append(frame)
            elif not b.sink.send(header, body):
                log.debug("server stdin closed; a client message was not delivered")
        else:
            b = streamed  # sent while it arrived, under the route taken then (_stream)
        # After sending, so the controller's decoding never delays a message; still under the
        # lock, so a switch sees every message sent to the old server.
        try:
            if keys is None:
                keys = lsp.head(body)  # only the controller needs it: read after the send
            self.inbox.put((CLIENT, b, body, keys), wake=wake or len(body) > lsp.BIG)
        finally:
            self.route.release()

    def _stream(self, header: bytes) -> Sink | None:
        """Called by the reader when a big body starts to arrive: the current server gets it
        piece by piece, so the server reads while the editor still writes. The route stays
        held until the message is handed on, as for a message sent whole. None: read it whole
        (no server yet, or answers may need their ids mapped)."""
        if self.remapping:
            return None
        self.route.acquire()
        b = self.current
        if b is not None and b.sink.begin(header):
            self._streamed_to = b
            return b.sink
        self.route.release()
        return None

    def _lifecycle(self, msg: dict[str, Any]) -> None:
        method = msg.get("method")
        if method == "exit":
            self.exit_seen = True
        elif method == "shutdown":
            self.shutdown_seen = True
        elif method == "initialize" and self.init_id is None:
            self.init_id = msg.get("id")

    def _client_answer(self, header: bytes, body: bytes | bytearray) -> None:
        """The editor answered a server→client request: send it to the server that asked."""
        msg = lsp.decode(body)
        rid = msg.get("id") if msg else None
        if isinstance(rid, str) and rid.startswith(PREFIX):
            gen_text, _, orig = rid[len(PREFIX) :].partition(":")
            if not gen_text.isdigit():
                return  # an answer to the shim's own request
            target = self.backends.get(int(gen_text))
            if target is not None and msg is not None:
                msg["id"] = loads(orig)
                target.sink.send_raw(lsp.frame(msg))
            return
        first = self.backends.get(1)
        if first is not None and not first.exited.is_set:
            first.sink.send(header, body)
        else:
            log.debug(
                f"dropped an answer to a request of a server that is gone: {bytes(body[:80])!r}"
            )

    # server → editor

    def from_server(self, b: Backend, header: bytes, body: bytes | bytearray) -> None:
        """Called on each backend's pump thread for every message it sends."""
        key = lsp.answer_id(body)  # how servers answer: classified without reading the head
        keys = None if key is not None else lsp.head(body)
        if key is None and not lsp.is_response(body, keys):
            if b.retiring:
                return  # a replaced server's late notifications are stale
            if self._maybe_request(b, body, keys):
                msg = lsp.decode(body)
                if msg is not None and "id" in msg and isinstance(msg.get("method"), str):
                    self._server_request(b, header, body, msg)
                    return
            self.client_out.send(header, body)
            return
        # Answers to the shim's own requests exist only once a replacement server has spoken.
        if self.remapping and key is None and b'"lsp-shim:' in body:
            msg = lsp.decode(body)
            if msg is not None and str(msg.get("id", "")).startswith(PREFIX):
                b.deliver_internal(msg)
                return
        with b.lock:
            if b.cut:
                log.debug("dropped a late answer from a replaced server (already answered)")
                return
            self.client_out.send(header, body)
            # Under the same lock as the send, so a cut never falls between them; after it, so
            # the editor gets its answer first. The id key comes from what classified it.
            self.inbox.put((ANSWERED, b, key or lsp.leading_id(body, keys) or body), wake=False)
        if b.gen == 1 and not self.initialized.is_set and self.init_id is not None:
            msg = lsp.is_response_to(body, self.init_id)
            if msg is not None:
                result = msg.get("result")
                self.init_result = b.init_result = result if isinstance(result, dict) else {}
                for notice in self.notices:
                    self.client_out.send_raw(notice)
                self.initialized.set()

    @staticmethod
    def _maybe_request(b: Backend, body: bytes | bytearray, keys: dict[str, bytes] | None) -> bool:
        """Must this server message be decoded? Only requests a replacement server sends
        (their ids are remapped) and registrations (tracked); notifications pass untouched."""
        if b.gen == 1:
            method = lsp.method_of(body, keys)
            if method is not None:
                return method.endswith("registerCapability")
            return b"Capability" in body and b'"id"' in body
        if keys and "id" in keys:
            return True
        return b'"id"' in body

    def _server_request(
        self, b: Backend, header: bytes, body: bytes | bytearray, msg: dict[str, Any]
    ) -> None:
        method = msg["method"]
        raw = msg.get("params")
        params: dict[str, Any] = raw if isinstance(raw, dict) else {}
        if b.gen == 1:
            if method == "client/registerCapability":
                with self.reg_lock:
                    self.registry.observed(1, list(params.get("registrations") or []))
            elif method == "client/unregisterCapability":
                with self.reg_lock:
                    self.registry.unregister(1, list(params.get("unregisterations") or []))
            self.client_out.send(header, body)
            return
        rid = PREFIX + f"{b.gen}:" + lsp.id_key(msg["id"])
        if method == "client/registerCapability":
            with self.reg_lock:
                forward, drop = self.registry.register(
                    b.gen, list(params.get("registrations") or [])
                )
            if drop:
                self.request_client("client/unregisterCapability", {"unregisterations": drop})
            if not forward:
                b.sink.send_raw(lsp.result_response(msg["id"], None))
                return
            msg["params"] = {**params, "registrations": forward}
        elif method == "client/unregisterCapability":
            with self.reg_lock:
                known = self.registry.unregister(b.gen, list(params.get("unregisterations") or []))
            if not known:
                b.sink.send_raw(lsp.result_response(msg["id"], None))
                return
            msg["params"] = {**params, "unregisterations": known}
        msg["id"] = rid
        self.client_out.send_raw(lsp.frame(msg))

    def request_client(self, method: str, params: Any) -> None:
        """A request of the shim's own to the editor; its answer is swallowed."""
        self._internal_ids += 1
        rid = f"{PREFIX}shim-{self._internal_ids}"
        self.client_out.send_raw(
            lsp.frame({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        )

    def notify_client(self, framed: bytes) -> None:
        self.client_out.send_raw(framed)


def stop_later(b: Backend, delay: float) -> None:
    """Terminate a server still running after `delay` s; kill it a second later."""
    _thread.start_new_thread(_stop_after, (b, delay))


def _stop_after(b: Backend, delay: float) -> None:
    if b.exited.wait(delay):
        return
    log.info(f"server still running {delay:g} s after it was told to stop; terminating it")
    b.child.signal()
    if not b.exited.wait(1.0):
        b.child.signal(kill=True)

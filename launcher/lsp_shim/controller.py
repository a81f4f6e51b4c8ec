"""The session's decisions, on one thread: track what the editor said, bring up replacement
servers (after an upgrade or a crash), retire old ones, and decide when the shim exits."""

from __future__ import annotations

import time

from lsp_shim import heap, log, lsp, spawn
from lsp_shim.backend import Backend
from lsp_shim.docstate import TRACKED, ClientState
from lsp_shim.proxy import (
    ANSWERED,
    CLIENT,
    CLIENT_EOF,
    EXITED,
    SOURCE_CHANGED,
    STOP,
    Relay,
    stop_later,
)
from lsp_shim.sync import exit_later

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

CONTENT_MODIFIED = -32801
SERVER_CANCELLED = -32802
CRASH_WINDOW = 180.0
CRASH_LIMIT = 5  # restarts allowed within the window; the next crash gives up
RETIRE_WAIT = 2.0
IDLE = 0.3  # seconds without events before big messages are decoded for the replay state
# Bytes of big messages that may wait for a quiet moment; past that they are decoded at once
# (an editor sending a big document's full text on every keystroke is never quiet).
BACKLOG_MAX = 64 << 20
ORPHAN_WAIT = 10.0  # seconds a replacement has to adopt its predecessor's registrations
INIT_TIMEOUT = 10.0


class Controller:
    """Owns the backends; `run()` returns the shim's exit code."""

    def __init__(
        self,
        relay: Relay,
        argv_for: Callable[[str], list[str]],
        env: dict[str, str],
        name: str,
        notify: str,
        on_switch: Callable[[Backend], None],
    ) -> None:
        self.relay = relay
        self.argv_for = argv_for  # command line for a given copy of the server
        self.env = env
        self.name = name
        self.notify = notify  # "message", "log" or "none"
        self.on_switch = on_switch
        self.state = ClientState()
        self.state_ok = True
        self.encoding_known = False
        self.next_gen = 2
        self.crashes: list[float] = []
        self.client_eof = False
        self.stopping = False
        self.held_pending: dict[str, object] = {}
        self.retiring: list[Backend] = []
        self.orphan_deadline = 0.0
        self.refusal: tuple[str, int] | None = None  # (why, exit code) once no server can run
        self.backlog: list[dict[str, Any] | bytes | bytearray] = []
        self.backlog_bytes = 0  # of the big messages in it

    def attach(self, b: Backend) -> None:
        self.relay.backends[b.gen] = b
        b.start(self.relay.from_server, lambda be, code: self.relay.inbox.put((EXITED, be, code)))

    def run(self) -> int:
        # Nothing here may delay the first answer: wait for it (or a second) before decoding.
        self.relay.initialized.wait(1.0)
        while True:
            timeout = self._next_deadline()
            if self.backlog:
                timeout = IDLE if timeout < 0 else min(timeout, IDLE)
            events = self.relay.inbox.take(timeout)
            quiet = not events
            events.reverse()
            while events:  # popped, so no event (a big body) outlives its handling
                code = self.handle(events.pop())
                if code is not None:
                    return code
            if quiet and self.backlog:
                self._apply_backlog()
            self._check_retiring()
            self._drop_orphans()

    # events

    def handle(self, event: tuple[Any, ...]) -> int | None:
        kind = event[0]
        if kind == CLIENT and self.refusal is not None:
            return self._refused(event[2])
        if kind == CLIENT:
            self._client(event[1], event[2], event[3])
        elif kind == ANSWERED:
            self._answered(event[1], event[2])
        elif kind == EXITED:
            return self._exited(event[1], event[2])
        elif kind == CLIENT_EOF:
            if self.refusal is not None:
                return self.refusal[1]
            self.client_eof = True
            b = self.relay.current
            if b is not None:
                b.child.close_stdin()
                if not self.relay.exit_seen:
                    stop_later(b, 2.0)
        elif kind == SOURCE_CHANGED:
            self._switch(event[1], event[2])
        elif kind == STOP:
            self.stopping = True
            b = self.relay.current
            if b is not None:
                log.info(f"{event[1]}: stopping the server")
                b.child.signal()
                stop_later(b, 1.0)
        return None

    def _client(
        self, b: Backend | None, body: bytes | bytearray, keys: dict[str, bytes] | None
    ) -> None:
        method = lsp.method_of(body, keys)
        if method is not None and method not in TRACKED:
            # A request the replay state ignores (formatting, hover, …): its head says all we
            # need, so the common case decodes nothing.
            rid = lsp.head_id(keys)
            if rid is not None:
                self._track_request(b, lsp.id_key(rid), rid)
                return
        big = len(body) > lsp.BIG
        key = lsp.leading_id(body) if big else None
        # A big message is almost always didOpen/didChange (no id): its decoding waits for a
        # quiet moment, so it never holds the GIL while the relay has work.
        msg = None if big and key is None else lsp.decode(body)
        if msg is not None:
            method = msg.get("method")
            if "id" in msg and isinstance(method, str):
                self._track_request(b, lsp.id_key(msg["id"]), msg["id"])
            if method == "exit" and self.relay.current is not None:
                stop_later(self.relay.current, 1.0)  # editors wait for us after `exit`
        if self.state_ok:
            self.backlog.append(msg if msg is not None else body)
            if big:
                self.backlog_bytes += len(body)
            if (not big and len(self.backlog) == 1) or self.backlog_bytes > BACKLOG_MAX:
                self._apply_backlog()

    def _track_request(self, b: Backend | None, key: str, rid: object) -> None:
        if b is None:
            self.held_pending[key] = rid
        elif b.cut:
            # Sent to a server that died (or was retired) after its debts were settled.
            self.relay.client_out.send_raw(
                lsp.error_response(rid, SERVER_CANCELLED, f"{self.name} exited; retry")
            )
        elif key in b.early:
            b.early.discard(key)  # its answer overtook this event
        else:
            b.pending[key] = rid

    def _apply_backlog(self) -> None:
        """Feed queued editor messages to the replay state, in order."""
        items, self.backlog = self.backlog, []
        big = self.backlog_bytes > 0
        self.backlog_bytes = 0
        items.reverse()
        while items:
            item = items.pop()  # popped, so each big body is freed once it has been read
            msg: dict[str, Any] | None
            if isinstance(item, dict):
                msg = item
            elif len(item) > lsp.BIG:
                msg = lsp.decode_texts(item)
                log.debug(f"read a {len(item)} byte editor message for the replay state")
            else:
                msg = lsp.decode(item)
            del item
            method = msg.get("method") if msg else None
            if not self.state_ok or msg is None or not isinstance(method, str):
                continue
            try:
                if not self.encoding_known and self.relay.init_result is not None:
                    self.state.set_encoding(self.relay.init_result.get("capabilities"))
                    self.encoding_known = True
                self.state.observe(msg)
            except Exception as exc:  # never let state tracking break the relay
                self.state_ok = False
                log.warning(
                    f"stopped tracking editor state ({exc!r}); a server restart will not replay "
                    "documents"
                )
        if big:
            msg = None  # the last big message's decoded text goes before the heap is trimmed
            heap.give_back()  # what decoding it took, glibc would otherwise keep

    def _answered(self, b: Backend, answer: str | bytes | bytearray) -> None:
        """`answer` is the answer's id key when the relay could read it, else its body."""
        if isinstance(answer, str):
            key: str | None = answer
        else:
            body = answer
            key = lsp.leading_id(body)
        if key is None:
            msg = lsp.decode(body)
            if msg is None or "id" not in msg:
                return
            key = lsp.id_key(msg["id"])
        if b.pending.pop(key, None) is None and len(b.early) < 10000:
            b.early.add(key)

    def _exited(self, b: Backend, code: int) -> int | None:
        self.relay.backends.pop(b.gen, None)
        if b in self.retiring:
            self.retiring.remove(b)
            return None
        if b is not self.relay.current:
            return None
        asked = self.relay.exit_seen or self.relay.shutdown_seen
        if not self.relay.initialized.is_set and not (asked or self.client_eof or self.stopping):
            return self._refuse_after_early_exit(b, code)
        self._answer_pending(
            b, SERVER_CANCELLED, f"{self.name} exited; lsp-shim restarted it, retry"
        )
        if asked or self.client_eof or self.stopping or not self.relay.initialized.is_set:
            if code and not asked:
                log.warning(f"server exited with code {code} without being asked to")
            return code
        return self._recover(b, code)

    def _refuse_after_early_exit(self, b: Backend, code: int) -> int | None:
        """The server died before answering initialize: the editor gets the reason as the answer.

        Restarting would only repeat it (a broken binary, a bad config). A server that ran exits
        the shim with its code at once; one that could not even be executed is treated like a
        missing server: LSP manners until `exit`.
        """
        last = next((line.strip() for line in reversed(b.tail) if line.strip()), "")
        if last.startswith("setpriv:"):  # the exec itself failed: no server ever ran
            text = f"cannot start {self.name}: {last.removeprefix('setpriv:').strip()}"
        else:
            text = f"{self.name} exited with code {code} before answering initialize"
            text += f" ({last})" if last else ""
        log.error(text)
        self._answer_pending(b, lsp.REQUEST_FAILED, f"lsp-shim: {text}")
        if not last.startswith("setpriv:"):
            return code  # a server that ran and died: exit with its code at once
        self.refusal = (text, code or 1)
        with self.relay.route:
            self.relay.current = None
            self.relay.held.clear()
        exit_later(10.0, code or 1)  # if the editor never says exit
        return None

    def _refused(self, body: bytes | bytearray) -> int | None:
        """Answer the editor while no server can run: shutdown yes, exit ends, the rest fails."""
        assert self.refusal is not None
        self.relay.held.clear()
        reply, is_exit = lsp.answer_without_server(body, self.refusal[0])
        if is_exit:
            return self.refusal[1]
        if reply is not None:
            self.relay.client_out.send_raw(reply)
        return None

    # crash recovery

    def _recover(self, dead: Backend, code: int) -> int | None:
        with self.relay.route:
            self.relay.current = None  # hold the editor's messages until the new server is ready
        while True:
            now = time.monotonic()
            self.crashes = [t for t in self.crashes if now - t < CRASH_WINDOW] + [now]
            tail = "\n".join(dead.tail[-10:])
            if len(self.crashes) > CRASH_LIMIT:
                text = (
                    f"{self.name} crashed {len(self.crashes)} times in {CRASH_WINDOW / 60:.0f} minutes "
                    f"(last exit code {code}); lsp-shim stopped restarting it. Last stderr lines:\n{tail}"
                )
                log.error(text)
                self.relay.notify_client(lsp.show_message(text, 1))
                return code or 1
            log.warning(
                f"{self.name} exited with code {code} without being asked to; restarting it"
            )
            b = self._bring_up(dead.copy)
            if b is not None:
                self._activate(b)
                self._tell(
                    f"{self.name} crashed (exit code {code}) and was restarted; your session continues"
                )
                return None
            dead = self._last_failed or dead
            code = self._last_failed_code

    # switching

    def _switch(self, copy: str, version: str) -> None:
        old = self.relay.current
        if old is None or self.relay.shutdown_seen or self.stopping:
            return
        new = self._bring_up(copy)
        if new is None:
            log.warning(f"the new {self.name} at {copy} did not start; staying on the current one")
            return
        new.version = version or _server_version(new) or new.version
        self._activate(new)
        old.retiring = True
        old.retire_deadline = time.monotonic() + RETIRE_WAIT
        self.retiring.append(old)
        before = old.version or _server_version(old) or "?"
        after = new.version or "?"
        self._tell(f"{self.name} {before} → {after}, switched without restart")
        changed = _capability_diff(self.relay.init_result, new.init_result)
        if changed:
            self._tell(
                f"{self.name} {after} offers different capabilities ({', '.join(changed)}); "
                "restart the editor's language client to use them",
                kind=2,
            )

    def _bring_up(self, copy: str) -> Backend | None:
        """Start and initialize a server from `copy` with the editor's recorded params."""
        self._last_failed: Backend | None = None
        self._last_failed_code = 1
        gen = self.next_gen
        self.next_gen += 1
        try:
            child = spawn.start(self.argv_for(copy), self.env)
        except OSError as exc:
            log.error(f"cannot start {copy}: {exc}")
            return None
        b = Backend(gen, child, copy)
        self.relay.remapping = True
        self.attach(b)
        rid = f"lsp-shim:init-{gen}"
        params = self.state.initialize_params()
        b.sink.send_raw(
            lsp.frame({"jsonrpc": "2.0", "id": rid, "method": "initialize", "params": params})
        )
        answer = b.wait_internal(rid, INIT_TIMEOUT)
        if answer is None or not isinstance(answer.get("result"), dict):
            self._last_failed = b
            b.child.signal(kill=True)
            b.exited.wait(2.0)
            self._last_failed_code = b.child.returncode or 1
            self.relay.backends.pop(gen, None)
            return None
        b.init_result = answer["result"]
        info = b.init_result.get("serverInfo")
        if isinstance(info, dict) and info.get("version"):
            b.version = str(info["version"])
        return b

    def _activate(self, b: Backend) -> None:
        """Replay the editor's state into `b` and route the editor to it, atomically."""
        with self.relay.route:
            self._drain_state_events()
            for msg in self.state.replay():
                b.sink.send_raw(lsp.frame(msg))
            for header, body in self.relay.held:
                b.sink.send(header, body)
            self.relay.held.clear()
            b.pending.update(self.held_pending)
            self.held_pending.clear()
            self.relay.current = b
        self.on_switch(b)

    def _drain_state_events(self) -> None:
        """Apply queued editor messages now (the caller holds the route lock)."""
        later = []
        for event in self.relay.inbox.take(0):
            if event[0] in (CLIENT, ANSWERED):
                self.handle(event)
            else:
                later.append(event)
        for event in later:
            self.relay.inbox.put(event)
        self._apply_backlog()

    # retiring replaced servers

    def _next_deadline(self) -> float:
        waiting = [b.retire_deadline for b in self.retiring if not b.cut]
        if self.orphan_deadline:
            waiting.append(self.orphan_deadline)
        if not waiting:
            return -1
        return max(0.0, min(waiting) - time.monotonic()) + 0.01

    def _check_retiring(self) -> None:
        now = time.monotonic()
        for b in list(self.retiring):
            if b.cut:
                continue
            if b.pending and now < b.retire_deadline:
                continue
            with b.lock:
                b.cut = True
            self._drain_state_events()
            self._answer_pending(
                b, CONTENT_MODIFIED, f"{self.name} was upgraded while this ran; retry"
            )
            b.sink.send_raw(
                lsp.frame(
                    {"jsonrpc": "2.0", "id": f"lsp-shim:shutdown-{b.gen}", "method": "shutdown"}
                )
            )
            b.sink.send_raw(lsp.frame({"jsonrpc": "2.0", "method": "exit"}))
            stop_later(b, 2.0)
            with self.relay.reg_lock:
                self.relay.registry.orphan(b.gen)
            # The replacement usually registers the same things within moments (adopting them);
            # whatever it has not claimed by then is unregistered.
            self.orphan_deadline = time.monotonic() + ORPHAN_WAIT

    def _drop_orphans(self) -> None:
        if not self.orphan_deadline or time.monotonic() < self.orphan_deadline:
            return
        self.orphan_deadline = 0.0
        with self.relay.reg_lock:
            leftovers = self.relay.registry.leftovers()
        if leftovers:
            self.relay.request_client(
                "client/unregisterCapability", {"unregisterations": leftovers}
            )

    def _answer_pending(self, b: Backend, code: int, text: str) -> None:
        with b.lock:
            b.cut = True
            for rid in b.pending.values():
                self.relay.client_out.send_raw(lsp.error_response(rid, code, text))
            b.pending.clear()

    def _tell(self, text: str, kind: int = 3) -> None:
        log.info(text)
        if self.notify == "message":
            self.relay.notify_client(lsp.show_message(text, kind))
        elif self.notify == "log":
            self.relay.notify_client(lsp.log_message(text, kind))


def _server_version(b: Backend) -> str:
    info = (b.init_result or {}).get("serverInfo")
    return str(info.get("version", "")) if isinstance(info, dict) else ""


def _capability_diff(told: dict[str, Any] | None, now: dict[str, Any] | None) -> list[str]:
    """Top-level server capabilities that differ from what the editor was told."""
    a = (told or {}).get("capabilities") or {}
    b = (now or {}).get("capabilities") or {}
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))

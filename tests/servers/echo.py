"""A tiny, fast stdio LSP loopback server for relay tests (standard library only).

Requests are answered with `{"jsonrpc":"2.0","id":ID,"result":BODY}` where BODY is the request's
body byte for byte, so a client can check both directions of a relay exactly. Special methods:

  initialize / shutdown / exit     the usual lifecycle (exit code 0 after shutdown, else 1)
  echo/burst {notes, asks, size, tag}
                                   send `notes` notifications `echo/note` and `asks` requests
                                   `echo/ask` (ids "ask-TAG-I") to the client, interleaved,
                                   then answer {"sent": notes + asks}
  echo/hang                        never answered, unless cancelled with $/cancelRequest
                                   (then an error -32800 RequestCancelled)
  echo/stats                       {"received", "sha", "answers", "answers_sha", "cancels",
                                   "pending"}: counts and SHA-256 over every client body in
                                   order (client requests + notifications except the lifecycle
                                   ones and echo/stats, and separately the
                                   client's answers to echo/ask), each prefixed by its length
  echo/emit {"hex": H, "then": R}  write the bytes H verbatim to stdout (bad output on purpose),
                                   then answer R (any JSON) as the result, normally framed
  echo/argv                        {"argv", "cwd", "pid"}
  echo/exit {"code": N, "hex": H}  write the bytes H (optional), then exit at once with code N
  echo/sleep {"seconds": S}        answer after S seconds (blocks everything: a slow server)
Notifications other than exit are only counted; `$/cancelRequest` for an unknown id is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time

_SEP = b"\r\n\r\n"
_LIFECYCLE = ("initialize", "initialized", "shutdown", "exit", "echo/stats")  # not in "received"


def note_payload(tag: str, i: int, size: int) -> str:
    """Deterministic filler the client can recompute to check a notification byte for byte."""
    seed = f"{tag}:{i}:"
    return (seed * (size // len(seed) + 1))[:size]


class Server:
    def __init__(self) -> None:
        self.buf = bytearray()
        self.received = 0
        self.sha = hashlib.sha256()
        self.answers = 0
        self.answers_sha = hashlib.sha256()
        self.cancels = 0
        self.pending: dict[str, bytes] = {}  # hanging request id (json text) -> raw id
        self.shutdown = False
        self.out = bytearray()

    # -- io ---------------------------------------------------------------------------------

    def frames(self):  # type: ignore[no-untyped-def]
        buf = self.buf
        while True:
            end = buf.find(_SEP)
            while end < 0:
                self.flush()  # about to block: everything owed goes out first
                chunk = os.read(0, 1 << 20)
                if not chunk:
                    return
                buf += chunk
                end = buf.find(_SEP)
            length = -1
            for line in bytes(buf[:end]).split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if length < 0:
                sys.stderr.write(f"echo: header without Content-Length: {bytes(buf[:end])!r}\n")
                sys.exit(3)
            start = end + 4
            while len(buf) < start + length:
                self.flush()
                chunk = os.read(0, max(1 << 20, start + length - len(buf)))
                if not chunk:
                    return
                buf += chunk
            body = bytes(buf[start : start + length])
            del buf[: start + length]
            yield body

    def send(self, body: bytes) -> None:
        self.out += b"Content-Length: %d\r\n\r\n" % len(body)
        self.out += body

    def flush(self) -> None:
        if not self.out:
            return
        view = memoryview(self.out)
        while view:
            view = view[os.write(1, view) :]
        view.release()
        self.out.clear()

    def respond(self, rid: bytes, result: bytes) -> None:
        self.send(b'{"jsonrpc":"2.0","id":' + rid + b',"result":' + result + b"}")

    def error(self, rid: bytes, code: int, message: str) -> None:
        err = json.dumps({"code": code, "message": message}).encode()
        self.send(b'{"jsonrpc":"2.0","id":' + rid + b',"error":' + err + b"}")

    # -- dispatch -----------------------------------------------------------------------------

    def run(self) -> int:
        for body in self.frames():
            try:
                msg = json.loads(body)
            except ValueError as exc:
                sys.stderr.write(f"echo: invalid JSON from the relay ({exc}): {body[:80]!r}\n")
                return 4
            code = self.handle(body, msg)
            if code is not None:
                self.flush()
                return code
            if len(self.out) > (1 << 16):
                self.flush()
        self.flush()
        return 0 if self.shutdown else 1

    def handle(self, body: bytes, msg: dict) -> int | None:  # type: ignore[type-arg]
        method = msg.get("method")
        has_id = "id" in msg
        if method is None:  # the client's answer to one of our echo/ask requests
            self.answers += 1
            self.answers_sha.update(b"%d:" % len(body))
            self.answers_sha.update(body)
            return None
        if method not in _LIFECYCLE:
            self.received += 1
            self.sha.update(b"%d:" % len(body))
            self.sha.update(body)
        rid = json.dumps(msg["id"]).encode() if has_id else b""
        params = msg.get("params") or {}
        if not has_id:
            if method == "exit":
                return 0 if self.shutdown else 1
            if method == "$/cancelRequest":
                key = json.dumps(params.get("id"))
                raw = self.pending.pop(key, None)
                if raw is not None:
                    self.cancels += 1
                    self.error(raw, -32800, "cancelled")
            return None
        if method == "initialize":
            self.respond(rid, b'{"capabilities":{},"serverInfo":{"name":"echo","version":"1.0"}}')
        elif method == "shutdown":
            self.shutdown = True
            self.respond(rid, b"null")
        elif method == "echo/burst":
            self.burst(rid, params)
        elif method == "echo/hang":
            self.pending[json.dumps(msg["id"])] = rid
        elif method == "echo/stats":
            stats = {
                "received": self.received,
                "sha": self.sha.hexdigest(),
                "answers": self.answers,
                "answers_sha": self.answers_sha.hexdigest(),
                "cancels": self.cancels,
                "pending": len(self.pending),
            }
            self.respond(rid, json.dumps(stats).encode())
        elif method == "echo/emit":
            self.out += bytes.fromhex(params["hex"])
            self.flush()
            self.respond(rid, json.dumps(params.get("then")).encode())
        elif method == "echo/argv":
            info = {"argv": sys.argv, "cwd": os.getcwd(), "pid": os.getpid()}
            self.respond(rid, json.dumps(info).encode())
        elif method == "echo/exit":
            self.out += bytes.fromhex(params.get("hex", ""))
            self.flush()
            os._exit(int(params.get("code", 0)))
        elif method == "echo/sleep":
            self.flush()
            time.sleep(float(params.get("seconds", 1)))
            self.respond(rid, b"true")
        else:
            self.respond(rid, body)
        return None

    def burst(self, rid: bytes, params: dict) -> None:  # type: ignore[type-arg]
        notes = int(params.get("notes", 0))
        asks = int(params.get("asks", 0))
        size = int(params.get("size", 0))
        tag = str(params.get("tag", ""))
        i = j = 0
        while i < notes or j < asks:
            if i < notes:
                payload = json.dumps({"tag": tag, "i": i, "pad": note_payload(tag, i, size)})
                self.send(
                    b'{"jsonrpc":"2.0","method":"echo/note","params":' + payload.encode() + b"}"
                )
                i += 1
            if j < asks:
                ask = json.dumps(
                    {
                        "jsonrpc": "2.0",
                        "id": f"ask-{tag}-{j}",
                        "method": "echo/ask",
                        "params": {"tag": tag, "j": j},
                    }
                )
                self.send(ask.encode())
                j += 1
            if len(self.out) > (1 << 16):
                self.flush()
        self.respond(rid, b'{"sent":%d}' % (notes + asks))


def main() -> int:
    if sys.platform == "win32":
        import msvcrt

        msvcrt.setmode(0, os.O_BINARY)
        msvcrt.setmode(1, os.O_BINARY)
    try:
        return Server().run()
    except BrokenPipeError:
        return 5


if __name__ == "__main__":
    sys.exit(main())

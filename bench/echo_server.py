#!/usr/bin/env python3
"""A tiny, fast stdio LSP server for relay benchmarks: it answers every request at once.

- `initialize` → empty capabilities and serverInfo {name: "echo"}; `shutdown` → null;
  `exit` → exits 0 (also on stdin EOF).
- any other request → a response whose `result` is the request's `params`, unchanged.
- notification `bench/ping` → a notification `bench/pong` carrying the same params
  (server→client traffic, like publishDiagnostics); other notifications are swallowed.

Standard library only; plain blocking os.read/os.write on fds 0/1; one `json.loads` per message.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

SEP = b"\r\n\r\n"


def send(obj: dict[str, Any]) -> None:
    body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
    data = memoryview(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    while data:
        data = data[os.write(1, data) :]


def handle(msg: dict[str, Any]) -> bool:
    """Answer one message; False once the session should end."""
    method = msg.get("method")
    if "id" in msg and method is not None:
        if method == "initialize":
            result: Any = {"capabilities": {}, "serverInfo": {"name": "echo", "version": "1"}}
        elif method == "shutdown":
            result = None
        else:
            result = msg.get("params")
        send({"jsonrpc": "2.0", "id": msg["id"], "result": result})
    elif method == "bench/ping":
        send({"jsonrpc": "2.0", "method": "bench/pong", "params": msg.get("params")})
    elif method == "exit":
        return False
    return True


def main() -> int:
    buf = bytearray()
    while True:
        chunk = os.read(0, 1 << 20)
        if not chunk:
            return 0
        buf += chunk
        while True:
            end = buf.find(SEP)
            if end < 0:
                break
            length = -1
            for line in bytes(buf[:end]).split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length < 0:
                sys.stderr.write(f"echo_server: bad header {bytes(buf[:end])[:100]!r}\n")
                del buf[: end + 4]
                continue
            if len(buf) < end + 4 + length:
                break
            body = bytes(buf[end + 4 : end + 4 + length])
            del buf[: end + 4 + length]
            try:
                msg = json.loads(body)
            except ValueError:
                sys.stderr.write("echo_server: invalid JSON\n")
                continue
            if isinstance(msg, dict) and not handle(msg):
                return 0


if __name__ == "__main__":
    sys.exit(main())

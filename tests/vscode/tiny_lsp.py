"""A minimal stdio language server for the VS Code test (standard library only).

It publishes one warning, source "tiny-lsp", on the first line of every document it is sent, and
reports its pid in the message, so the test can tell that VS Code's `lspShim.servers` entry ran
it through `lsp-shim -- python tiny_lsp.py`.
"""

from __future__ import annotations

import json
import os
import sys
from typing import BinaryIO


def read_message(stream: BinaryIO) -> dict[str, object] | None:
    length = None
    while True:
        line = stream.readline()
        if not line:
            return None
        line = line.strip()
        if not line:
            break
        name, _, value = line.decode("ascii").partition(":")
        if name.lower() == "content-length":
            length = int(value)
    if length is None:
        return None
    return json.loads(stream.read(length))


def send(message: dict[str, object]) -> None:
    body = json.dumps(message).encode()
    sys.stdout.buffer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    sys.stdout.buffer.flush()


def publish(uri: str) -> None:
    diagnostic = {
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 1}},
        "severity": 2,
        "source": "tiny-lsp",
        "code": "TINY1",
        "message": f"hello from tiny-lsp (pid {os.getpid()})",
    }
    send(
        {
            "jsonrpc": "2.0",
            "method": "textDocument/publishDiagnostics",
            "params": {"uri": uri, "diagnostics": [diagnostic]},
        }
    )


def main() -> int:
    stdin = sys.stdin.buffer
    shutdown = False
    while True:
        msg = read_message(stdin)
        if msg is None:
            return 0 if shutdown else 1
        method = msg.get("method")
        params = msg.get("params") or {}
        assert isinstance(params, dict)
        if method == "initialize":
            send(
                {
                    "jsonrpc": "2.0",
                    "id": msg["id"],
                    "result": {
                        "capabilities": {"textDocumentSync": 1},
                        "serverInfo": {"name": "tiny-lsp", "version": "1.0"},
                    },
                }
            )
        elif method in ("textDocument/didOpen", "textDocument/didChange"):
            publish(params["textDocument"]["uri"])
        elif method == "shutdown":
            shutdown = True
            send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
        elif method == "exit":
            return 0 if shutdown else 1
        elif "id" in msg:  # any other request: "method not found"
            send(
                {
                    "jsonrpc": "2.0",
                    "id": msg["id"],
                    "error": {"code": -32601, "message": f"unhandled {method}"},
                }
            )


if __name__ == "__main__":
    sys.exit(main())

"""A scripted stdio LSP server for crash, switch and replay tests (stdlib only, starts fast).

It keeps the text of open documents as the *replay* gives it (didOpen and full changes), so a
test can compare a replacement server's view with the editor's. Requests:
  test/text {uri}       -> the text it holds (null if unknown)
  test/info             -> {pid, version}
  test/sleep {seconds}  -> answered after that long (from a thread: the server stays responsive)
  test/hang             -> never answered
Notifications: test/die {code} exits at once after a line on stderr.
VERSION below is rewritten by tests to make "a new release" of this server.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any

VERSION = "1"
GLOB = "**/*.scripted"
EXTRA: dict[str, Any] = {}  # extra server capabilities of "a new release"

out_lock = threading.Lock()
texts: dict[str, str] = {}


def send(msg: dict[str, Any]) -> None:
    body = json.dumps(msg).encode()
    with out_lock:
        sys.stdout.buffer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        sys.stdout.buffer.flush()


def read() -> dict[str, Any] | None:
    length = -1
    while True:
        line = sys.stdin.buffer.readline()
        if not line:
            return None
        line = line.strip()
        if not line:
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = sys.stdin.buffer.read(length)
    return json.loads(body) if len(body) == length else None


def reply(rid: Any, result: Any) -> None:
    send({"jsonrpc": "2.0", "id": rid, "result": result})


def main() -> int:
    shutdown = False
    while True:
        msg = read()
        if msg is None:
            return 0
        method, rid, params = msg.get("method"), msg.get("id"), msg.get("params") or {}
        if method is None:
            continue  # an answer to our registration request
        if method == "initialize":
            offered = params.get("capabilities", {}).get("general", {}).get(
                "positionEncodings"
            ) or ["utf-16"]
            enc = next((e for e in offered if e in ("utf-8", "utf-16", "utf-32")), "utf-16")
            reply(
                rid,
                {
                    "capabilities": {
                        "positionEncoding": enc,
                        "textDocumentSync": {"openClose": True, "change": 2},
                        **EXTRA,
                    },
                    "serverInfo": {"name": "scripted", "version": VERSION},
                },
            )
        elif method == "initialized":
            send(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "client/registerCapability",
                    "params": {
                        "registrations": [
                            {
                                "id": "scripted-watch",
                                "method": "workspace/didChangeWatchedFiles",
                                "registerOptions": {"watchers": [{"globPattern": GLOB}]},
                            }
                        ]
                    },
                }
            )
        elif method == "textDocument/didOpen":
            td = params["textDocument"]
            texts[td["uri"]] = td["text"]
            send(
                {
                    "jsonrpc": "2.0",
                    "method": "textDocument/publishDiagnostics",
                    "params": {
                        "uri": td["uri"],
                        "version": td.get("version"),
                        "diagnostics": [
                            {
                                "range": {
                                    "start": {"line": 0, "character": 0},
                                    "end": {"line": 0, "character": 1},
                                },
                                "message": f"scripted {VERSION} holds {len(td['text'])} chars",
                            }
                        ],
                    },
                }
            )
        elif method == "textDocument/didChange":
            for ch in params.get("contentChanges", []):
                if "range" not in ch:
                    texts[params["textDocument"]["uri"]] = ch["text"]
                else:
                    texts.pop(params["textDocument"]["uri"], None)  # we do not track edits
        elif method == "test/text":
            reply(rid, texts.get(params["uri"]))
        elif method == "test/info":
            reply(rid, {"pid": os.getpid(), "version": VERSION})
        elif method == "test/sleep":
            threading.Thread(
                target=lambda r=rid, s=params["seconds"]: (time.sleep(s), reply(r, "slept")),
                daemon=True,
            ).start()
        elif method == "test/hang":
            pass
        elif method == "test/die":
            sys.stderr.write(f"scripted {VERSION}: dying on request with code {params['code']}\n")
            sys.stderr.flush()
            os._exit(params["code"])
        elif method == "shutdown":
            shutdown = True
            reply(rid, None)
        elif method == "exit":
            return 0 if shutdown else 1
        elif rid is not None:
            send(
                {"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": f"no {method}"}}
            )


if __name__ == "__main__":
    sys.exit(main())

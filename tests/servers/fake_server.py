"""A tiny stdio LSP server for the faults real ruff cannot produce (stdlib only, any platform).

Run it through the generic form: `lsp-shim --shadow fake_server.py -- PYTHON fake_server.py ARGS`.

  --exit-after-initialize N   answer initialize, then exit with code N at once
  --exit-at-start N           exit with code N before reading anything
  --exit-code N               the exit code after the `exit` notification (default 0)
  --ignore-eof                keep running after stdin closes (a server that lingers)
  --ignore-term               ignore SIGTERM (only SIGKILL stops it)
  --ignore-exit               do not exit on the `exit` notification
  --pidfile PATH              write our pid there first thing
  --log PATH                  append one line per received method (or "response")
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from typing import Any, BinaryIO


def read_message(stream: BinaryIO) -> dict[str, Any] | None:
    length = -1
    while True:
        line = stream.readline()
        if not line:
            return None
        line = line.rstrip(b"\r\n")
        if not line:
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length < 0:
        return None
    body = stream.read(length)
    if len(body) < length:
        return None
    value = json.loads(body)
    return value if isinstance(value, dict) else {}


def write_message(stream: BinaryIO, message: dict[str, Any]) -> None:
    body = json.dumps(message).encode("utf-8")
    stream.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    stream.flush()


def option(args: list[str], name: str) -> str | None:
    if name in args:
        return args[args.index(name) + 1]
    return None


def linger() -> None:
    while True:
        time.sleep(3600)


def main(args: list[str]) -> int:
    pidfile = option(args, "--pidfile")
    if pidfile:
        with open(pidfile, "w", encoding="utf-8") as f:
            f.write(str(os.getpid()))
    if "--ignore-term" in args and hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    at_start = option(args, "--exit-at-start")
    if at_start is not None:
        return int(at_start)
    log_path = option(args, "--log")
    exit_after = option(args, "--exit-after-initialize")
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        msg = read_message(stdin)
        if msg is None:
            break
        method = msg.get("method")
        if log_path:
            with open(log_path, "a", encoding="utf-8") as f:
                f.write(f"{method or 'response'}\n")
        if method == "initialize":
            write_message(
                stdout,
                {
                    "jsonrpc": "2.0",
                    "id": msg["id"],
                    "result": {
                        "capabilities": {},
                        "serverInfo": {"name": "fake", "version": "1.0"},
                    },
                },
            )
            if exit_after is not None:
                return int(exit_after)
        elif method == "exit":
            if "--ignore-exit" not in args:
                return int(option(args, "--exit-code") or 0)
        elif method is not None and "id" in msg:
            write_message(stdout, {"jsonrpc": "2.0", "id": msg["id"], "result": None})
    if "--ignore-eof" in args:
        linger()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""A small synchronous LSP client over real pipes, for driving the shim like an editor does."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Any


def frame(msg: dict[str, Any]) -> bytes:
    body = json.dumps(msg).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read_frame(stream: Any) -> tuple[bytes, bytes] | None:
    """One (header, body) from a buffered binary stream, or None at EOF."""
    header = b""
    while not header.endswith(b"\r\n\r\n"):
        c = stream.read(1)
        if not c:
            return None
        header += c
    length = 0
    for line in header.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    body = b""
    while len(body) < length:
        chunk = stream.read(length - len(body))
        if not chunk:
            return None
        body += chunk
    return header, body


class LspClient:
    """Start `cmd`, speak LSP to it; answers the server's own requests like a plain editor."""

    def __init__(
        self,
        cmd: list[str],
        env: dict[str, str] | None = None,
        cwd: str | Path | None = None,
        stderr: Any = subprocess.PIPE,
    ) -> None:
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
            cwd=cwd,
        )
        self._next = 1
        self._responses: dict[object, dict[str, Any]] = {}
        self._cond = threading.Condition()
        self.notifications: list[dict[str, Any]] = []
        self.server_requests: list[dict[str, Any]] = []
        self.raw: list[bytes] = []
        self.eof = threading.Event()
        self._write_lock = threading.Lock()
        self._stderr: list[bytes] = []
        threading.Thread(target=self._reader, daemon=True).start()
        if self.proc.stderr is not None:
            threading.Thread(target=self._err_reader, daemon=True).start()

    def _err_reader(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line)

    @property
    def stderr(self) -> str:
        return b"".join(self._stderr).decode("utf-8", "replace")

    def _reader(self) -> None:
        assert self.proc.stdout is not None
        while True:
            got = read_frame(self.proc.stdout)
            if got is None:
                break
            self.raw.append(got[0] + got[1])
            msg = json.loads(got[1])
            with self._cond:
                if "method" in msg and "id" in msg:
                    self.server_requests.append(msg)
                    self._answer(msg)
                elif "method" in msg:
                    self.notifications.append(msg)
                else:
                    self._responses[msg.get("id")] = msg
                self._cond.notify_all()
        self.eof.set()
        with self._cond:
            self._cond.notify_all()

    def _answer(self, msg: dict[str, Any]) -> None:
        result: Any = None
        if msg["method"] == "workspace/configuration":
            result = [None for _ in msg.get("params", {}).get("items", [])]
        self.send({"jsonrpc": "2.0", "id": msg["id"], "result": result})

    def send(self, msg: dict[str, Any]) -> None:
        self.send_raw(frame(msg))

    def send_raw(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        with self._write_lock:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()

    def request_async(self, method: str, params: Any = None) -> int:
        rid = self._next
        self._next += 1
        msg: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        return rid

    def response(self, rid: object, timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while rid not in self._responses:
                left = deadline - time.monotonic()
                if left <= 0 or self.eof.is_set():
                    raise TimeoutError(f"no response to {rid}; stderr: {self.stderr[-2000:]}")
                self._cond.wait(left)
            return self._responses.pop(rid)

    def request(self, method: str, params: Any = None, timeout: float = 20.0) -> dict[str, Any]:
        return self.response(self.request_async(method, params), timeout)

    def notify(self, method: str, params: Any = None) -> None:
        msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)

    def wait_notification(
        self, method: str, timeout: float = 20.0, where: Any = None
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for n in self.notifications:
                    if n["method"] == method and (where is None or where(n)):
                        self.notifications.remove(n)
                        return n
                left = deadline - time.monotonic()
                if left <= 0 or self.eof.is_set():
                    raise TimeoutError(f"no {method}; stderr: {self.stderr[-2000:]}")
                self._cond.wait(left)

    def initialize(self, root: Path, process_id: int | None = None, **caps: Any) -> dict[str, Any]:
        params = {
            "processId": process_id if process_id is not None else os.getpid(),
            "rootUri": root.as_uri(),
            "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
            "capabilities": caps.get(
                "capabilities",
                {
                    "textDocument": {"publishDiagnostics": {}, "formatting": {}},
                    "workspace": {"configuration": True, "workspaceFolders": True},
                },
            ),
        }
        resp = self.request("initialize", params)
        self.notify("initialized", {})
        return resp

    def open(self, path: Path, text: str, language: str = "python", version: int = 1) -> str:
        uri = path.as_uri()
        self.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": language,
                    "version": version,
                    "text": text,
                }
            },
        )
        return uri

    def shutdown_exit(self, timeout: float = 10.0) -> int:
        self.request("shutdown", None, timeout)
        self.notify("exit")
        return self.proc.wait(timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

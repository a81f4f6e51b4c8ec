"""A fast raw LSP client for high-volume relay tests against tests/servers/echo.py.

Unlike tests/lspclient.py it reads in large chunks, keeps every frame exactly as received, and
writes through one writer thread that may cut the byte stream at random points, so a relay in
between sees messages split anywhere. Answers to server→client requests are queued to the same
writer, so a full pipe can never deadlock the reader.
"""

from __future__ import annotations

import json
import os
import queue
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ECHO = Path(__file__).with_name("echo.py")
WINDOWS = sys.platform == "win32"


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def dumps(msg: dict[str, Any]) -> bytes:
    return json.dumps(msg, separators=(",", ":")).encode()


def echo_command(shim: str, *shim_args: str, server: Path = ECHO) -> list[str]:
    """`lsp-shim -- python echo.py`; on Windows the script is shadowed instead of python.exe
    (a python.exe copied away from its DLLs cannot start)."""
    if WINDOWS:
        return [shim, *shim_args, "--shadow", str(server), "--", sys.executable, str(server)]
    return [shim, *shim_args, "--", sys.executable, str(server)]


class Session:
    """One process speaking LSP on its stdio; frames in, frames out, nothing interpreted twice."""

    def __init__(
        self,
        cmd: list[str],
        env: dict[str, str] | None = None,
        cwd: str | Path | None = None,
        chunker: random.Random | None = None,
        on_request: Callable[[dict[str, Any], bytes], bytes | None] | None = None,
    ) -> None:
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
        )
        self.chunker = chunker
        self.on_request = on_request
        self.frames: list[tuple[bytes, bytes]] = []  # everything received, in order
        self.responses: dict[Any, list[bytes]] = {}
        self.cond = threading.Condition()
        self.eof = threading.Event()
        self.stderr_chunks: list[bytes] = []
        self._out: queue.Queue[bytes | None] = queue.Queue()
        self._writer_done = threading.Event()
        self.write_error: BaseException | None = None
        self.reader_error: BaseException | None = None
        self._threads = [
            threading.Thread(target=t, daemon=True) for t in (self._reader, self._writer, self._err)
        ]
        for thread in self._threads:
            thread.start()

    # -- plumbing -------------------------------------------------------------------------------

    def _err(self) -> None:
        assert self.proc.stderr is not None
        fd = self.proc.stderr.fileno()
        while chunk := os.read(fd, 65536):
            self.stderr_chunks.append(chunk)

    @property
    def stderr(self) -> str:
        """What the process wrote to stderr (all of it, once the process has exited)."""
        if self.proc.poll() is not None:
            self._threads[2].join(5)
        return b"".join(self.stderr_chunks).decode("utf-8", "replace")

    def _reader(self) -> None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        buf = bytearray()
        try:
            while True:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    chunk = os.read(fd, 1 << 20)
                    if not chunk:
                        break
                    buf += chunk
                    continue
                header = bytes(buf[: end + 4])
                length = int(header.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                while len(buf) < end + 4 + length:
                    chunk = os.read(fd, max(1 << 20, end + 4 + length - len(buf)))
                    if not chunk:
                        raise EOFError(f"EOF inside a message: {header!r}")
                    buf += chunk
                body = bytes(buf[end + 4 : end + 4 + length])
                del buf[: end + 4 + length]
                self._dispatch(header, body)
        except BaseException as exc:  # surfaced by the test through reader_error
            self.reader_error = exc
        finally:
            self.eof.set()
            with self.cond:
                self.cond.notify_all()

    def _dispatch(self, header: bytes, body: bytes) -> None:
        msg = json.loads(body)
        with self.cond:
            self.frames.append((header, body))
            if "method" not in msg:
                self.responses.setdefault(msg.get("id"), []).append(body)
            self.cond.notify_all()
        if "method" in msg and "id" in msg:
            answer = self.on_request(msg, body) if self.on_request else None
            if answer is None:
                answer = dumps({"jsonrpc": "2.0", "id": msg["id"], "result": None})
            self.write(frame(answer))

    def _writer(self) -> None:
        assert self.proc.stdin is not None
        fd = self.proc.stdin.fileno()
        pending = bytearray()
        rng = self.chunker
        target = rng.choice((rng.randint(1, 64), rng.randint(1, 65536))) if rng else 0
        try:
            while True:
                item = self._out.get()
                if item is None:
                    break
                pending += item
                # Cut the stream at a random point unless nothing else is queued right now.
                while rng and len(pending) >= target:
                    _write_all(fd, memoryview(pending)[:target])
                    del pending[:target]
                    target = rng.choice((rng.randint(1, 64), rng.randint(1, 65536)))
                if pending and (not rng or self._out.empty()):
                    if rng and len(pending) > 1:
                        # Nothing else queued: still split it, pausing so the relay reads a part.
                        cut = rng.randint(1, len(pending) - 1)
                        _write_all(fd, memoryview(pending)[:cut])
                        time.sleep(0.0005)
                        del pending[:cut]
                    _write_all(fd, pending)
                    pending.clear()
        except OSError as exc:
            self.write_error = exc
        finally:
            self._writer_done.set()

    # -- api ------------------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        self._out.put(data)

    def send(self, msg: dict[str, Any]) -> None:
        self.write(frame(dumps(msg)))

    def request(
        self, rid: Any, method: str, params: Any = None, timeout: float = 30.0
    ) -> dict[str, Any]:
        msg: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        return json.loads(self.wait_response(rid, timeout))

    def wait_response(self, rid: Any, timeout: float = 30.0) -> bytes:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not self.responses.get(rid):
                left = deadline - time.monotonic()
                if left <= 0 or self.eof.is_set():
                    raise TimeoutError(f"no response to {rid!r}; stderr: {self.stderr[-3000:]}")
                self.cond.wait(min(left, 0.5))
            return self.responses[rid].pop(0)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 0.5))
        return True

    def initialize(self, root: Path | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"processId": os.getpid(), "capabilities": {}}
        if root is not None:
            params["rootUri"] = root.as_uri()
        resp = self.request(0, "initialize", params)
        self.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        return resp

    def close_stdin(self) -> None:
        self._out.put(None)
        self._writer_done.wait(10)
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.close()
        except OSError:
            pass

    def shutdown_exit(self, timeout: float = 15.0) -> int:
        self.request("shutdown", "shutdown", None, timeout)
        self.send({"jsonrpc": "2.0", "method": "exit"})
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        self._out.put(None)


def _write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]

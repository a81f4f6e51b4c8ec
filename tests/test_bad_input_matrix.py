"""The bad-input matrix of docs/bad-input.md, through a real shim process, from both sides.

Each case sends one kind of bad input followed (in the same write) by a good request, and
checks: the behaviour the table documents (forwarded, repaired, dropped with a logged error, or
answered with a JSON-RPC error), that the good request is still answered byte for byte, that
the shim logged the problem, and that its memory stayed bounded.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, NamedTuple

import lsp_shim
import psutil
import pytest
from conftest import script
from servers.echo_client import Session, dumps, echo_command, frame

RSS_BOUND = 64 << 20  # growth allowed while handling one bad message (PREALLOC is 16 MB)


def req(rid: int, method: str = "echo", **params: Any) -> bytes:
    return dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})


GOOD = req(77, pad="after")
LIAR = req(50, pad="liar")


class Case(NamedTuple):
    data: bytes  # what the bad peer writes (before a good message)
    behaviour: str  # "repaired" | "dropped" | "answered" | "replaced"
    logged: str  # words the shim's log line must contain
    answered_id: object = None  # for "answered"/"replaced": the id of the error message


CASES: dict[str, Case] = {
    "malformed-header": Case(
        b"Content-Length 5\r\n\r\n" + req(11), "answered", "malformed header", 11
    ),
    "no-content-length": Case(
        b"Content-Type: x\r\n\r\n" + req(12), "answered", "no Content-Length", 12
    ),
    "length-not-a-number": Case(
        b"Content-Length: 1e3\r\n\r\n" + req(13), "answered", "not a number", 13
    ),
    "lf-only-header": Case(
        b"Content-Length: %d\n\n" % len(req(14)) + req(14), "answered", "not a number", 14
    ),
    "length-too-short": Case(
        b"Content-Length: %d\r\n\r\n" % (len(LIAR) - 7) + LIAR, "repaired", "corrected header"
    ),
    "length-too-long": Case(
        b"Content-Length: %d\r\n\r\n" % (len(LIAR) + 9) + LIAR, "repaired", "corrected header"
    ),
    "length-2GB": Case(b"Content-Length: 2147483648\r\n\r\n" + req(15), "answered", "exceeds", 15),
    "length-255MB-lie": Case(
        b"Content-Length: %d\r\n\r\n" % (255 << 20) + req(16), "repaired", "corrected header"
    ),
    "invalid-json": Case(
        frame(b'{"jsonrpc":"2.0","id":17,"method":"echo","params":{"x":'),
        "answered",
        "invalid JSON",
        17,
    ),
    "invalid-utf8": Case(
        frame(b'{"jsonrpc":"2.0","id":18,"method":"echo","params":{"x":"\xff\xfe"}}'),
        "answered",
        "UTF-8",
        18,
    ),
    "not-an-object": Case(frame(b"[1,2,3]"), "dropped", "not a JSON object"),
    "empty-body": Case(frame(b""), "dropped", "empty body"),
    "binary-garbage": Case(bytes(range(256)) * 3, "dropped", "not an LSP message"),
    "header-too-long": Case(b"X-Junk: " + b"y" * 20000 + b"\r\n", "dropped", "not an LSP message"),
    "invalid-json-notification": Case(
        frame(b'{"jsonrpc":"2.0","method":"x","params":'), "dropped", "invalid JSON"
    ),
}
# What the client gets for each case when the bad bytes come from the *server* (responses are
# replaced by an error response with their id so the editor never waits forever).
SERVER_CASES: dict[str, Case] = {
    **{k: v for k, v in CASES.items() if v.behaviour in ("dropped", "repaired")},
    "bad-response": Case(
        frame(b'{"jsonrpc":"2.0","id":"c-1","result":{"x":'), "replaced", "invalid JSON", "c-1"
    ),
    "bad-response-utf8": Case(
        frame(b'{"jsonrpc":"2.0","id":"c-2","result":"\xff"}'), "replaced", "UTF-8", "c-2"
    ),
    "bad-server-request": Case(
        frame(b'{"jsonrpc":"2.0","id":"s-1","method":"x","params":['),
        "answered",
        "invalid JSON",
        "s-1",
    ),
}
# Answering a dropped request needs the relay to hand FrameReader a way back to the sender
# (FrameReader(..., reply=sink.send_raw) in launch.py and backend.py). Until it does, those
# cases check everything else and then report xfail instead of passing.
_CORE = Path(lsp_shim.__file__).parent
RELAY_REPLIES = all("reply=" in (_CORE / name).read_text() for name in ("launch.py", "backend.py"))
NO_REPLY = "the relay does not pass FrameReader(reply=...) yet (launch.py, backend.py)"


def _rss(pid: int) -> int:
    return int(psutil.Process(pid).memory_info().rss)


def _shim(env: dict[str, str], tmp_path: Path) -> tuple[Session, int]:
    s = Session(echo_command(script("lsp-shim")), env=env, cwd=tmp_path)
    s.initialize(tmp_path)
    s.request(1, "echo", {"warm": True})
    time.sleep(0.3)  # let bookkeeping (psutil import, session record) settle before measuring
    return s, _rss(s.proc.pid)


def _param(name: str, case: Case) -> Any:
    return pytest.param(name, case, id=name)


@pytest.mark.parametrize(("name", "case"), [_param(k, v) for k, v in CASES.items()])
def test_client_side(name: str, case: Case, shim_env: dict[str, str], tmp_path: Path) -> None:
    s, base = _shim(shim_env, tmp_path)
    try:
        s.write(case.data + frame(GOOD))
        good = s.wait_response(77, 20)
        assert good == b'{"jsonrpc":"2.0","id":77,"result":' + GOOD + b"}"
        assert s.proc.poll() is None
        assert _rss(s.proc.pid) - base < RSS_BOUND
        if case.behaviour == "repaired":
            assert s.wait_response(50 if b'"id":50' in case.data else 16, 5)
        if case.behaviour == "answered" and RELAY_REPLIES:
            err = json.loads(s.wait_response(case.answered_id, 5))
            assert (
                err["error"]["code"] in (-32700, -32600) and "lsp-shim" in err["error"]["message"]
            )
        stats = s.request("stats", "echo/stats")["result"]
        # Dropped means dropped: the server saw only the good messages (+ a repaired one).
        assert stats["received"] == 2 + (case.behaviour == "repaired")
        assert s.shutdown_exit() == 0
        assert case.logged in s.stderr and "editor input" in s.stderr, s.stderr
        assert "Traceback" not in s.stderr
        if case.behaviour == "answered" and not RELAY_REPLIES:
            pytest.xfail(NO_REPLY)
    finally:
        s.kill()


@pytest.mark.parametrize(("name", "case"), [_param(k, v) for k, v in SERVER_CASES.items()])
def test_server_side(name: str, case: Case, shim_env: dict[str, str], tmp_path: Path) -> None:
    """The echo server writes the bad bytes itself (echo/emit), then answers normally."""
    s, base = _shim(shim_env, tmp_path)
    try:
        resp = s.request(2, "echo/emit", {"hex": case.data.hex(), "then": "still-here"}, 20)
        assert resp["result"] == "still-here"
        assert s.request(3, "echo", {"pad": "after"})["result"]["params"] == {"pad": "after"}
        assert s.proc.poll() is None
        assert _rss(s.proc.pid) - base < RSS_BOUND
        if case.behaviour == "repaired":  # it was a request to the client: it arrived whole
            want = LIAR if b'"id":50' in case.data else req(16)
            assert s.wait_for(lambda: any(b == want for _, b in s.frames), 5)
        if case.behaviour == "replaced":
            err = json.loads(s.wait_response(case.answered_id, 5))
            assert err["error"]["code"] == -32603 and "malformed" in err["error"]["message"]
        if case.behaviour == "answered" and RELAY_REPLIES:  # the server got an error reply
            assert s.wait_for(lambda: s.request("st", "echo/stats")["result"]["answers"] == 1, 5)
        # Nothing else reached the editor: no frame carries the bad bytes.
        assert all(case.data not in h + b for h, b in s.frames if b'"echo/emit"' not in b)
        assert s.shutdown_exit() == 0
        assert case.logged in s.stderr and "server output" in s.stderr, s.stderr
        if case.behaviour == "answered" and not RELAY_REPLIES:
            pytest.xfail(NO_REPLY)
    finally:
        s.kill()


def test_client_eof_mid_message(shim_env: dict[str, str], tmp_path: Path) -> None:
    s, _ = _shim(shim_env, tmp_path)
    try:
        s.write(frame(req(5, pad="x" * 1000))[:-300])
        s.close_stdin()
        assert s.proc.wait(10) is not None
        assert "stream ended inside a message" in s.stderr
    finally:
        s.kill()


def test_server_eof_mid_message(shim_env: dict[str, str], tmp_path: Path) -> None:
    """The server dies half-way through a message: logged, the shim exits with its code."""
    s, _ = _shim(shim_env, tmp_path)
    try:
        partial = frame(req(9, pad="y" * 1000))[:-300]
        # After shutdown the exit is expected, so the shim ends with the server (no restart).
        s.request("shutdown", "shutdown")
        s.send(
            {
                "jsonrpc": "2.0",
                "id": 3,
                "method": "echo/exit",
                "params": {"code": 3, "hex": partial.hex()},
            }
        )
        assert s.proc.wait(10) == 3
        assert s.eof.wait(5)
        assert "stream ended inside a message" in s.stderr and "server output" in s.stderr
    finally:
        s.kill()


def test_garbage_flood_stays_bounded(shim_env: dict[str, str], tmp_path: Path) -> None:
    """64 MB of junk with no header in it: read, dropped in bounded pieces, then a good message."""
    s, base = _shim(shim_env, tmp_path)
    try:
        junk = b"\x00garbage-without-any-header " * 4096
        peak = 0
        for _ in range(64 << 20 // len(junk)):
            s.write(junk)
        s.write(frame(GOOD))
        s.wait_response(77, 60)
        peak = _rss(s.proc.pid) - base
        assert peak < RSS_BOUND
        assert s.shutdown_exit() == 0
    finally:
        s.kill()

"""Relay fidelity through a real shim process: `lsp-shim -- python tests/servers/echo.py`.

Both directions at once, server→client requests and notifications interleaved with client
requests, notifications and cancellations, the client's byte stream cut at random points.
Every message must arrive byte for byte, in order, exactly once; the echo server checks the
client→server side with a running SHA-256, the test checks the server→client side.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import script
from servers.echo import note_payload
from servers.echo_client import Session, dumps, echo_command, frame

SEED = int(os.environ.get("LSP_SHIM_FUZZ_SEED", "") or time.time_ns() % 100_000)


def _note_body(tag: str, i: int, size: int) -> bytes:
    payload = json.dumps({"tag": tag, "i": i, "pad": note_payload(tag, i, size)})
    return b'{"jsonrpc":"2.0","method":"echo/note","params":' + payload.encode() + b"}"


def _pad(rng: random.Random, size: int) -> str:
    """Filler with the characters that matter to a relay: escapes, CR LF, headers, non-ASCII."""
    pieces = ["x", "Content-Length: 12\r\n\r\n", "\u00e9\u4e2d\U0001f600", '"exit"', "\\", "{}[]"]
    out: list[str] = []
    n = 0
    while n < size:
        piece = rng.choice(pieces) if rng.random() < 0.05 else "a" * rng.randint(1, 64)
        out.append(piece)
        n += len(piece)
    return "".join(out)[:size]


class Plan:
    """The traffic one test sends, and what it must get back."""

    def __init__(
        self,
        rng: random.Random,
        echoes: int,
        notifs: int,
        bursts: int,
        hangs: int,
        notes: int,
        asks: int,
        big: tuple[int, ...] = (),
    ) -> None:
        self.rng = rng
        self.echoes, self.notifs, self.bursts, self.hangs = echoes, notifs, bursts, hangs
        self.notes, self.asks, self.big = notes, asks, big
        self.client_sha = hashlib.sha256()  # what the server must have received, in order
        self.client_count = 0
        self.expected_echo: dict[int, bytes] = {}
        self.sent_order: list[int] = []

    def _body(self, msg: dict[str, Any], pretty: bool = False) -> bytes:
        # Raw CR LF (even blank lines) is legal whitespace between JSON tokens.
        body = (
            json.dumps(msg, indent=1).replace("\n", "\r\n\r\n").encode() if pretty else dumps(msg)
        )
        self.client_count += 1
        self.client_sha.update(b"%d:" % len(body))
        self.client_sha.update(body)
        return body

    def messages(self) -> Iterator[bytes]:
        rng = self.rng
        kinds = (
            ["echo"] * self.echoes
            + ["notif"] * self.notifs
            + ["burst"] * self.bursts
            + ["hang"] * self.hangs
            + ["big"] * len(self.big)
        )
        rng.shuffle(kinds)
        big = list(self.big)
        cancels: list[tuple[int, int]] = []  # (send after this many messages, id)
        rid = 1000
        for n, kind in enumerate(kinds):
            rid += 1
            if kind in ("echo", "big"):
                size = (
                    big.pop()
                    if kind == "big"
                    else rng.choice(
                        (
                            0,
                            1,
                            rng.randint(0, 300),
                            rng.randint(0, 4000),
                            rng.randint(0, 70000) if rng.random() < 0.02 else 10,
                        )
                    )
                )
                body = self._body(
                    {
                        "jsonrpc": "2.0",
                        "id": rid,
                        "method": "echo",
                        "params": {"pad": _pad(rng, size) if kind == "echo" else "y" * size},
                    }
                )
                self.expected_echo[rid] = b'{"jsonrpc":"2.0","id":%d,"result":' % rid + body + b"}"
                self.sent_order.append(rid)
            elif kind == "notif":
                body = self._body(
                    {
                        "jsonrpc": "2.0",
                        "method": "echo/n",
                        "params": {"pad": _pad(rng, rng.randint(0, 200))},
                    },
                    pretty=rng.random() < 0.1,
                )
            elif kind == "burst":
                body = self._body(
                    {
                        "jsonrpc": "2.0",
                        "id": rid,
                        "method": "echo/burst",
                        "params": {
                            "notes": self.notes,
                            "asks": self.asks,
                            "size": rng.randint(0, 300),
                            "tag": str(rid),
                        },
                    }
                )
            else:
                body = self._body({"jsonrpc": "2.0", "id": rid, "method": "echo/hang"})
                cancels.append((n + rng.randint(1, 20), rid))
            yield frame(body)
            while cancels and cancels[0][0] <= n:
                _, cid = cancels.pop(0)
                yield frame(
                    self._body(
                        {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": cid}}
                    )
                )
        for _, cid in cancels:
            yield frame(
                self._body({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": cid}})
            )


def _run(plan: Plan, env: dict[str, str], tmp_path: Path, chunk_seed: int, timeout: float) -> None:
    answers_sha = hashlib.sha256()
    answers = 0

    def answer(msg: dict[str, Any], body: bytes) -> bytes:
        nonlocal answers
        reply = dumps(
            {
                "jsonrpc": "2.0",
                "id": msg["id"],
                "result": {"j": msg["params"]["j"], "pad": "z" * (answers % 97)},
            }
        )
        answers += 1
        answers_sha.update(b"%d:" % len(reply))
        answers_sha.update(reply)
        return reply

    s = Session(
        echo_command(script("lsp-shim")),
        env=env,
        cwd=tmp_path,
        chunker=random.Random(chunk_seed),
        on_request=answer,
    )
    try:
        assert s.initialize(tmp_path)["result"]["serverInfo"]["name"] == "echo"
        for data in plan.messages():
            s.write(data)
        want_answers = plan.bursts * plan.asks
        deadline = time.monotonic() + timeout
        expected_responses = plan.echoes + len(plan.big) + plan.bursts + plan.hangs
        ok = s.wait_for(
            lambda: (
                sum(len(v) for k, v in s.responses.items() if k != 0) >= expected_responses
                and answers >= want_answers
            ),
            timeout,
        )
        assert ok, (
            f"timed out: {sum(len(v) for v in s.responses.values())}/{expected_responses} responses, {answers}/{want_answers} asks answered; seed {SEED}; stderr {s.stderr[-2000:]}"
        )
        # Let the last answers to echo/ask drain through the writer before asking for stats.
        stats = s.request("stats", "echo/stats", None, max(5.0, deadline - time.monotonic()))[
            "result"
        ]
        assert s.reader_error is None and s.write_error is None

        # client → server: everything, in order, exactly once (the server hashed what it got).
        assert stats["received"] == plan.client_count
        assert stats["sha"] == plan.client_sha.hexdigest(), (
            f"client→server bytes differ (seed {SEED})"
        )
        assert stats["answers"] == want_answers
        assert stats["answers_sha"] == answers_sha.hexdigest()
        assert stats["cancels"] == plan.hangs and stats["pending"] == 0

        # server → client: every frame byte for byte, in order, none extra.
        echo_seen: list[int] = []
        notes_seen: dict[str, int] = {}
        asks_seen: set[str] = set()
        cancelled: set[int] = set()
        bursts_done: set[int] = set()
        for header, body in s.frames:
            assert header == b"Content-Length: %d\r\n\r\n" % len(body)
            msg = json.loads(body)
            method = msg.get("method")
            if method == "echo/note":
                p = msg["params"]
                assert p["i"] == notes_seen.get(p["tag"], 0), (
                    f"note out of order: {p['tag']} {p['i']}"
                )
                assert body == _note_body(p["tag"], p["i"], len(p["pad"]))
                notes_seen[p["tag"]] = p["i"] + 1
            elif method == "echo/ask":
                assert msg["id"] not in asks_seen
                asks_seen.add(msg["id"])
            elif "error" in msg:
                assert msg["error"]["code"] == -32800 and msg["id"] not in cancelled
                cancelled.add(msg["id"])
            elif msg["id"] in plan.expected_echo:
                assert body == plan.expected_echo[msg["id"]], (
                    f"echo {msg['id']} differs (seed {SEED})"
                )
                echo_seen.append(msg["id"])
            elif msg["id"] in (0, "stats"):
                continue
            else:
                assert (
                    msg["result"] == {"sent": plan.notes + plan.asks}
                    and msg["id"] not in bursts_done
                )
                bursts_done.add(msg["id"])
        assert echo_seen == plan.sent_order, "echo answers lost, duplicated or reordered"
        assert len(cancelled) == plan.hangs and len(bursts_done) == plan.bursts
        assert all(v == plan.notes for v in notes_seen.values()) and len(notes_seen) == (
            plan.bursts if plan.notes else 0
        )
        assert len(asks_seen) == want_answers
        assert s.shutdown_exit() == 0
    finally:
        s.kill()


def test_relay_small_mixed(shim_env: dict[str, str], tmp_path: Path) -> None:
    """A quick version of the 100k run (seconds): the same checks on 3,000 messages."""
    plan = Plan(random.Random(SEED), echoes=800, notifs=300, bursts=20, hangs=30, notes=25, asks=8)
    _run(plan, shim_env, tmp_path, SEED + 1, 60)


@pytest.mark.slow
def test_relay_100k_messages(shim_env: dict[str, str], tmp_path: Path) -> None:
    """≥ 100,000 messages through one shim process, both directions at once, bounded time."""
    plan = Plan(
        random.Random(SEED), echoes=30_500, notifs=10_000, bursts=200, hangs=500, notes=100, asks=20
    )
    total = (
        2 * plan.echoes
        + plan.notifs
        + 2 * plan.bursts
        + 3 * plan.hangs
        + plan.bursts * (plan.notes + 2 * plan.asks)
    )
    assert total >= 100_000
    start = time.monotonic()
    _run(plan, shim_env, tmp_path, SEED + 1, 90)
    elapsed = time.monotonic() - start
    assert elapsed < 60, f"{total} messages took {elapsed:.1f} s"


@pytest.mark.slow
def test_relay_big_messages(shim_env: dict[str, str], tmp_path: Path) -> None:
    """Messages from 0 B to 16 MB, both directions, among small ones, stream cut at random."""
    sizes = (0, 1, 65535, 65536, 65537, 1 << 20, (16 << 20) - 1, 16 << 20)
    plan = Plan(
        random.Random(SEED), echoes=200, notifs=50, bursts=3, hangs=3, notes=10, asks=3, big=sizes
    )
    _run(plan, shim_env, tmp_path, SEED + 2, 120)

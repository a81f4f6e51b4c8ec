"""Crash recovery, switches with requests in flight, registrations and exact replay of documents."""

from __future__ import annotations

import json
import random
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from conftest import script
from lspclient import LspClient
from procs import peak_rss, wait_for

SERVER = Path(__file__).parent / "servers" / "scripted.py"
SERVER_CANCELLED = -32802
CONTENT_MODIFIED = -32801


@pytest.fixture
def server_file(tmp_path: Path) -> Path:
    path = tmp_path / "srv" / "scripted.py"
    path.parent.mkdir()
    shutil.copy(SERVER, path)
    return path


def start(server_file: Path, env: dict[str, str], cwd: Path) -> LspClient:
    cmd = [script("lsp-shim"), "--shadow", str(server_file), "--", sys.executable, str(server_file)]
    return LspClient(cmd, env=env, cwd=cwd)


def release(
    server_file: Path, version: str, glob: str | None = None, extra: str | None = None
) -> None:
    """Publish "a new version" of the server in place, as an installer would."""
    text = re.sub(r'VERSION = "[^"]*"', f'VERSION = "{version}"', server_file.read_text())
    if glob:
        text = re.sub(r'GLOB = "[^"]*"', f'GLOB = "{glob}"', text)
    if extra:
        text = re.sub(r"EXTRA: dict\[str, Any\] = \{\}", f"EXTRA: dict[str, Any] = {extra}", text)
    tmp = server_file.with_suffix(".new")
    tmp.write_text(text)
    tmp.replace(server_file)


def init(client: LspClient, root: Path, encoding: str = "utf-16") -> dict[str, Any]:
    params = {
        "processId": None,
        "rootUri": root.as_uri(),
        "capabilities": {
            "general": {"positionEncodings": [encoding]},
            "textDocument": {"synchronization": {}},
        },
    }
    resp = client.request("initialize", params)
    client.notify("initialized", {})
    return resp


def wait_note(client: LspClient, text: str, timeout: float = 20) -> dict[str, Any]:
    return client.wait_notification(
        "window/showMessage", timeout, where=lambda n: text in n["params"]["message"]
    )


def info(client: LspClient) -> dict[str, Any]:
    return client.request("test/info")["result"]  # type: ignore[no-any-return]


def test_document_model_loads_only_for_a_replay(
    server_file: Path, project: Path, shim_env: dict[str, str]
) -> None:
    """pygls costs ~20 MiB: editing without a switch must not load it; a switch must."""
    env = {**shim_env, "LSP_SHIM_LOG": "debug"}
    client = start(server_file, env, project)
    try:
        init(client, project)
        uri = client.open(project / "a.py", "x = 1\n")
        for version in range(2, 50):
            change = {"range": rng_at(0, 0), "text": "#"}
            client.notify(
                "textDocument/didChange",
                {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]},
            )
        info(client)
        info(client)  # the controller has seen every edit by now
        assert "document model" not in client.stderr
        release(server_file, "2")
        wait_note(client, "1 → 2")
        assert client.request("test/text", {"uri": uri})["result"] == "#" * 48 + "x = 1\n"
        assert "loading pygls' document model" in client.stderr
        assert client.shutdown_exit() == 0
    finally:
        client.close()


def rng_at(line: int, char: int) -> dict[str, Any]:
    pos = {"line": line, "character": char}
    return {"start": pos, "end": pos}


def test_crash_restarts_answers_in_flight_and_replays(
    server_file: Path, project: Path, shim_env: dict[str, str]
) -> None:
    client = start(server_file, shim_env, project)
    try:
        init(client, project)
        uri = client.open(project / "a.py", "héllo\n")
        client.wait_notification("textDocument/publishDiagnostics")
        first_pid = info(client)["pid"]
        hung = client.request_async("test/hang")
        client.notify("test/die", {"code": 9})
        answer = client.response(hung)
        assert answer["error"]["code"] == SERVER_CANCELLED
        wait_note(client, "restarted")
        # Diagnostics resume from the new server, which got the document replayed.
        client.wait_notification("textDocument/publishDiagnostics")
        assert info(client)["pid"] != first_pid
        assert client.request("test/text", {"uri": uri})["result"] == "héllo\n"
        assert client.shutdown_exit() == 0
    finally:
        client.close()


@pytest.mark.parametrize("escaped", [False, True], ids=["utf8-json", "ascii-json"])
def test_big_document_is_settled_when_quiet_kept_compact_and_replayed(
    escaped: bool, server_file: Path, project: Path, shim_env: dict[str, str]
) -> None:
    """A big didOpen is read for the replay state once the session is quiet (not whenever some
    later message happens to wake the controller), costs about its UTF-8 size to keep although
    one emoji makes a Python str 4 bytes per character (and glibc would keep what decoding it
    took), and comes back exactly after a crash. Editors send non-ASCII as UTF-8 (VS Code) or
    as \\u escapes (Python clients); both are read."""
    env = {**shim_env, "LSP_SHIM_LOG": "debug"}
    client = start(server_file, env, project)
    try:
        init(client, project)
        info(client)
        time.sleep(0.5)  # the controller is idle now: only a wake-up gets it to the message
        shim = psutil.Process(client.proc.pid)
        base = shim.memory_info().rss
        text = "naïve 😀 — " + ("x" * 90 + "\n") * 80_000  # 7.2 MB of UTF-8
        size = len(text.encode())
        uri = (project / "big.txt").as_uri()
        item = {"uri": uri, "languageId": "plaintext", "version": 1, "text": text}
        msg = {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": item}}
        body = json.dumps(msg, ensure_ascii=escaped).encode()
        client.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        read = wait_for(lambda: "editor message for the replay state" in client.stderr, 5)
        assert read, "the big message was never read while quiet"
        if sys.platform.startswith("linux"):  # glibc's heap, whose behaviour heap.py manages
            # The message is stored and the heap trimmed next.
            settled = wait_for(lambda: shim.memory_info().rss - base < 1.3 * size, 3)
            grown = shim.memory_info().rss - base
            assert settled, f"keeping {size} bytes costs {grown} bytes"
            peak = peak_rss(shim.pid) - base
            # Reading it took at most a few copies (\\u escapes need a full decode: more).
            limit = 9 if escaped else 6
            assert peak < limit * size, f"reading a {size} byte document peaked at {peak} bytes"
        client.notify("test/die", {"code": 9})
        wait_note(client, "restarted")
        assert client.request("test/text", {"uri": uri})["result"] == text
        assert client.shutdown_exit() == 0
    finally:
        client.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmHWM")
def test_big_full_text_changes_without_a_pause_stay_bounded(
    server_file: Path, project: Path, shim_env: dict[str, str]
) -> None:
    """An editor that sends a big document's full text on every keystroke is never quiet: the
    bodies waiting to be read for the replay state are bounded (64 MiB), not kept until a pause."""
    client = start(server_file, shim_env, project)
    try:
        init(client, project)
        info(client)
        shim = psutil.Process(client.proc.pid)
        base = shim.memory_info().rss
        uri = client.open(project / "big.txt", "", language="plaintext")
        line = "x" * 99 + "\n"
        for version in range(2, 32):  # 30 × 8 MB, back to back
            text = f"{version}\n" + line * 80_000
            client.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": uri, "version": version},
                    "contentChanges": [{"text": text}],
                },
            )
        assert client.request("test/text", {"uri": uri})["result"] == text
        peak = peak_rss(shim.pid) - base
        # The limit, one message being read, and what reading one takes: far below all of it.
        assert peak < (64 + 96) << 20, f"{30 * len(text) >> 20} MiB sent: peak {peak >> 20} MiB"
        assert client.shutdown_exit() == 0
    finally:
        client.close()


def test_crash_loop_guard_trips_on_sixth_crash(
    server_file: Path, project: Path, shim_env: dict[str, str]
) -> None:
    client = start(server_file, shim_env, project)
    try:
        init(client, project)
        for n in range(1, 6):
            client.notify("test/die", {"code": 5})
            wait_note(client, "restarted")
            assert info(client)["version"] == "1", f"no working server after crash {n}"
        client.notify("test/die", {"code": 5})
        note = wait_note(client, "stopped restarting")
        assert note["params"]["type"] == 1
        assert "6 times" in note["params"]["message"]
        assert "dying on request with code 5" in note["params"]["message"]  # last stderr lines
        assert client.proc.wait(10) == 5
    finally:
        client.close()


def test_switch_lets_in_flight_finish_and_cancels_the_rest(
    server_file: Path, project: Path, shim_env: dict[str, str]
) -> None:
    client = start(server_file, shim_env, project)
    try:
        init(client, project)
        slow = client.request_async("test/sleep", {"seconds": 0.5})
        hung = client.request_async("test/hang")
        release(server_file, "2")
        wait_note(client, "scripted 1 → 2, switched without restart")
        assert client.response(slow)["result"] == "slept"  # the old server finished it
        assert client.response(hung, timeout=10)["error"]["code"] == CONTENT_MODIFIED
        assert info(client)["version"] == "2"
        assert client.shutdown_exit() == 0
    finally:
        client.close()


def test_changed_capabilities_are_reported(
    server_file: Path, project: Path, shim_env: dict[str, str]
) -> None:
    client = start(server_file, shim_env, project)
    try:
        init(client, project)
        release(server_file, "2", extra='{"hoverProvider": True}')
        wait_note(client, "1 → 2, switched")
        note = wait_note(client, "different capabilities")
        assert "(hoverProvider)" in note["params"]["message"]
        assert "restart" in note["params"]["message"]
        release(server_file, "3", extra='{"hoverProvider": True}')
        wait_note(client, "2 → 3, switched")
        info(client)
        # Still differs from what the editor was told at initialize: said again.
        assert any("different capabilities" in n["params"]["message"] for n in client.notifications)
        assert client.shutdown_exit() == 0
    finally:
        client.close()


def registration_log(client: LspClient) -> list[tuple[str, str]]:
    events = []
    for req in client.server_requests:
        if req["method"] == "client/registerCapability":
            events += [("+", r["id"]) for r in req["params"]["registrations"]]
        elif req["method"] == "client/unregisterCapability":
            events += [("-", u["id"]) for u in req["params"]["unregisterations"]]
    return events


def assert_no_duplicates(events: list[tuple[str, str]]) -> set[str]:
    live: set[str] = set()
    for op, rid in events:
        if op == "+":
            assert rid not in live, f"registration {rid} reached the client twice: {events}"
            live.add(rid)
        else:
            live.discard(rid)
    return live


def test_registrations_are_not_duplicated_across_switches(
    server_file: Path, project: Path, shim_env: dict[str, str]
) -> None:
    client = start(server_file, shim_env, project)
    try:
        init(client, project)
        info(client)  # the server answers in order: its registration has passed by now
        assert registration_log(client) == [("+", "scripted-watch")], client.server_requests
        release(server_file, "2")  # identical registration: answered by the shim
        wait_note(client, "1 → 2")
        info(client)
        assert registration_log(client) == [("+", "scripted-watch")], client.server_requests
        release(server_file, "3", glob="**/*.other")  # different options: replaced, same id
        wait_note(client, "2 → 3")
        info(client)
        events = registration_log(client)
        assert events[1:] == [("-", "scripted-watch"), ("+", "scripted-watch")], events
        assert assert_no_duplicates(events) == {"scripted-watch"}
        assert client.shutdown_exit() == 0
    finally:
        client.close()


# Text that exercises every unit width and every line-break rule, including the characters
# Python's splitlines() treats as breaks but LSP does not.
ALPHABET = [
    "a",
    "b",
    " ",
    "é",
    "e\u0301",
    "中",
    "文",
    "😀",
    "👍🏽",
    "\n",
    "\r\n",
    "\r",
    "\f",
    "\v",
    "\u2028",
    "\x85",
    "\t",
]


def units(s: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(s.encode("utf-8"))
    if encoding == "utf-16":
        return len(s.encode("utf-16-le")) // 2
    return len(s)


_BREAK = re.compile(r"\r\n|\r|\n")


def position(text: str, offset: int, encoding: str) -> dict[str, int]:
    """LSP position of a code-point offset that never splits a \r\n pair."""
    before = text[:offset]
    breaks = list(_BREAK.finditer(before))
    line_start = breaks[-1].end() if breaks else 0
    return {"line": len(breaks), "character": units(before[line_start:], encoding)}


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8", "utf-32"])
def test_replay_is_exact_after_random_edits(
    encoding: str, server_file: Path, project: Path, shim_env: dict[str, str]
) -> None:
    rng = random.Random(f"replay-{encoding}")
    text = "".join(rng.choice(ALPHABET) for _ in range(200))
    client = start(server_file, shim_env, project)
    try:
        resp = init(client, project, encoding)
        assert resp["result"]["capabilities"]["positionEncoding"] == encoding
        uri = client.open(project / "doc.txt", text, language="plaintext")
        for version in range(2, 302):
            # Edit boundaries never split a \r\n pair (the editor would not either).
            cuts = [
                i
                for i in range(len(text) + 1)
                if not (0 < i < len(text) and text[i - 1] == "\r" and text[i] == "\n")
            ]
            a, b = sorted(rng.sample(cuts, 2)) if len(cuts) > 1 else (0, 0)
            new = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 4)))
            if (text[a - 1 : a] == "\r" and new.startswith("\n")) or (
                new.endswith("\r") and text[b : b + 1] == "\n"
            ):
                new = "x" + new + "x"  # keep the pair structure unambiguous
            rng_ = {"start": position(text, a, encoding), "end": position(text, b, encoding)}
            client.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": uri, "version": version},
                    "contentChanges": [{"range": rng_, "text": new}],
                },
            )
            text = text[:a] + new + text[b:]
        release(server_file, "2")
        wait_note(client, "1 → 2")
        assert client.request("test/text", {"uri": uri})["result"] == text
        assert client.shutdown_exit() == 0
    finally:
        client.close()

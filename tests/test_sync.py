"""sync.Sink: a message goes out whole and in order, however the OS splits the write."""

from __future__ import annotations

import os
import threading

import pytest
from lsp_shim import sync


def _drain(fd: int, out: bytearray) -> None:
    while chunk := os.read(fd, 65536):
        out += chunk


@pytest.mark.parametrize("size", [0, 10, 70_000, 3_000_000])
@pytest.mark.parametrize("split", [None, 1, 7, 4096])
def test_sink_writes_header_and_body_whole(
    monkeypatch: pytest.MonkeyPatch, size: int, split: int | None
) -> None:
    """`split` makes writev write at most that many bytes per call, as a signal can."""
    if split is not None and sync._writev is not None:
        real = sync._writev

        def short_writev(fd: int, parts: tuple[bytes, ...]) -> int:
            joined = b"".join(bytes(p) for p in parts)
            return real(fd, [joined[:split]])

        monkeypatch.setattr(sync, "_writev", short_writev)
    r, w = os.pipe()
    got = bytearray()
    reader = threading.Thread(target=_drain, args=(r, got))
    reader.start()
    sink = sync.Sink(w)
    body = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    header = b"Content-Length: %d\r\n\r\n" % len(body)
    assert sink.send(header, body)
    assert sink.send(header, bytearray(body))
    assert sink.send_raw(b"raw")
    sink.close()
    reader.join(10)
    os.close(r)
    assert bytes(got) == (header + body) * 2 + b"raw"
    assert not sink.send(header, body)  # closed: refused, not raised


def test_sink_streams_a_message_in_pieces_and_holds_off_other_writers() -> None:
    r, w = os.pipe()
    got = bytearray()
    reader = threading.Thread(target=_drain, args=(r, got))
    reader.start()
    sink = sync.Sink(w)
    assert sink.begin(b"Content-Length: 6\r\n\r\n")
    other = threading.Thread(target=sink.send_raw, args=(b"raw",))
    other.start()
    other.join(0.2)
    assert other.is_alive()  # waits for the streamed message to end
    sink.write(b"abc")
    sink.write(memoryview(b"def"))
    sink.end()
    other.join(10)
    sink.close()
    reader.join(10)
    os.close(r)
    assert bytes(got) == b"Content-Length: 6\r\n\r\nabcdefraw"


def test_sink_begin_on_a_closed_pipe_is_refused_and_not_held() -> None:
    r, w = os.pipe()
    os.close(r)
    sink = sync.Sink(w)
    assert not sink.begin(b"Content-Length: 6\r\n\r\n")
    assert not sink.send_raw(b"x")  # would block forever if begin had kept the sink
    sink.close()

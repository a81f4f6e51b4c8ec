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

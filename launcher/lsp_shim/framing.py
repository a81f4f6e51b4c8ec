"""LSP base-protocol framing: cut a byte stream into (header, body) pairs without decoding bodies.

The relay forwards the exact bytes it read, so a header is kept as received (case, order,
`Content-Type`); only `Content-Length` is interpreted. Garbage between messages is dropped with
a reported error and the reader re-synchronises on the next `Content-Length` header, so one bad
message never costs the ones after it.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Protocol

    class RawStream(Protocol):
        def read(self, n: int, /) -> bytes | None: ...
        def readinto(self, b: bytearray | memoryview, /) -> int | None: ...


MAX_BODY = 256 * 1024 * 1024  # larger than any real message; bounds memory against a lying header
MAX_HEADER = 8192
CHUNK = 65536
_SEP = b"\r\n\r\n"
_KEY = b"content-length"


def parse_header(block: bytes | bytearray) -> int:
    """Return the body length declared by a header block (without its final blank line).

    Raises ValueError naming the problem when the block is not a valid LSP header.
    """
    length = -1
    for line in bytes(block).split(b"\r\n"):
        name, sep, value = line.partition(b":")
        if not sep or not name.strip() or name != name.strip():
            raise ValueError(f"malformed header line {line[:60]!r}")
        if name.lower() == _KEY:
            digits = value.strip()
            if not digits.isdigit():
                raise ValueError(f"Content-Length is not a number: {digits[:30]!r}")
            if length >= 0:
                raise ValueError("Content-Length given twice")
            length = int(digits)
    if length < 0:
        raise ValueError("header has no Content-Length")
    if length > MAX_BODY:
        raise ValueError(f"Content-Length {length} exceeds the {MAX_BODY} byte limit")
    return length


def header_for(body: bytes) -> bytes:
    """The header the shim writes for a message it composes itself."""
    return b"Content-Length: %d\r\n\r\n" % len(body)


def _resync_point(buf: bytearray, start: int) -> int:
    """Index of the next `Content-Length` after `start` (case-insensitive), or -1."""
    low = bytes(buf[start:]).lower()
    i = low.find(_KEY, 1)
    return -1 if i < 0 else start + i


class FrameReader:
    """Reads whole messages from a raw stream; `next()` returns (header, body) or None at EOF."""

    __slots__ = ("_stream", "_buf", "_pos", "_eof", "_on_error")

    def __init__(self, stream: RawStream, on_error: Callable[[str], None]) -> None:
        self._stream = stream
        self._buf = bytearray()
        self._pos = 0
        self._eof = False
        self._on_error = on_error

    def _fill(self) -> bool:
        """Read more bytes into the buffer; False at EOF."""
        if self._eof:
            return False
        if self._pos:
            del self._buf[: self._pos]
            self._pos = 0
        chunk = self._stream.read(CHUNK)
        if not chunk:
            self._eof = True
            return False
        self._buf += chunk
        return True

    def next(self) -> tuple[bytes, bytes | bytearray] | None:
        """The next well-formed message, skipping (and reporting) anything malformed."""
        while True:
            buf = self._buf
            end = buf.find(_SEP, self._pos)
            if end < 0:
                if len(buf) - self._pos > MAX_HEADER:
                    self._skip_garbage(len(buf) - 3)
                    continue
                if not self._fill():
                    self._report_tail()
                    return None
                continue
            start = self._pos
            try:
                length = parse_header(buf[start:end])
            except ValueError as exc:
                self._skip_garbage(end + 4, str(exc))
                continue
            header = bytes(buf[start : end + 4])
            self._pos = end + 4
            body = self._read_body(length)
            if body is None:
                self._on_error(
                    f"stream ended inside a message ({len(self._buf) - self._pos} of {length} "
                    "body bytes); dropped it"
                )
                self._buf.clear()
                self._pos = 0
                return None
            return header, body

    def _read_body(self, length: int) -> bytes | bytearray | None:
        have = len(self._buf) - self._pos
        if have >= length:
            body = bytes(self._buf[self._pos : self._pos + length])
            self._pos += length
            return body
        # Large body: read straight into its final buffer instead of growing ours.
        body_buf = bytearray(length)
        view = memoryview(body_buf)
        view[:have] = self._buf[self._pos :]
        got = have
        while got < length:
            n = self._stream.readinto(view[got:])
            if not n:
                self._eof = True
                self._buf = bytearray(body_buf[:got])
                self._pos = 0
                return None
            got += n
        self._buf.clear()
        self._pos = 0
        return body_buf

    def _skip_garbage(self, upto: int, why: str = "") -> None:
        """Drop bytes that are not a message, up to the next plausible header."""
        start = self._pos
        nxt = _resync_point(self._buf, start)
        cut = nxt if 0 <= nxt < upto else upto
        dropped = bytes(self._buf[start:cut])
        self._pos = cut
        reason = why or "no header end within limit"
        self._on_error(f"dropped {len(dropped)} bytes that are not an LSP message ({reason}): {dropped[:60]!r}")

    def _report_tail(self) -> None:
        rest = self._buf[self._pos :]
        if rest.strip():
            self._on_error(f"stream ended inside a header; dropped {len(rest)} bytes: {bytes(rest[:60])!r}")
        self._buf.clear()
        self._pos = 0

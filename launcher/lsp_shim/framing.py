"""LSP base-protocol framing: cut a byte stream into (header, body) pairs without decoding bodies.

The relay forwards the exact bytes it read, so a header is kept as received (case, order,
`Content-Type`); only `Content-Length` is interpreted. What the reader does with bad input is
the table in docs/bad-input.md; in short:

* a header it cannot use (malformed, no or a huge `Content-Length`) is dropped with a reported
  error and the reader re-synchronises on the next `Content-Length`, so it costs no later message;
* a body that is not a JSON object in UTF-8 is never forwarded (servers such as ruff exit on
  one): it is dropped with a reported error, and if its id can be recovered, a request is
  answered with a JSON-RPC error (through `reply`) and a response is replaced by an error
  response with the same id, so nobody waits forever;
* a `Content-Length` that lies is detected where the stream proves it: a new header inside the
  body (too long) or bytes that are not a header right after it (too short); the message is
  repaired when its real body is a valid JSON object, else dropped as above.

The common case costs no JSON decoding: an O(1) look at the body's first and last bytes, an
ASCII test at C speed, one search for a blank line. Everything else runs only on bad input.

A body of STREAM_MIN bytes or more may be passed on while it arrives, through `tee` (set by the
relay): a 20 MiB didOpen then reaches the server about as soon as it would without the shim.
Each piece is checked before it goes on, but once the header has gone, the message can no
longer be dropped: an invalid UTF-8 byte goes on as `?`, and a body cut short by a new header
is padded with spaces (JSON allows trailing whitespace) to the length the server was promised.
"""

from __future__ import annotations

from codecs import utf_8_decode  # loaded with the interpreter (io needs it): no start-up cost

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Protocol

    class RawStream(Protocol):
        def read(self, n: int, /) -> bytes | None: ...
        def readinto(self, b: bytearray | memoryview, /) -> int | None: ...

    class Out(Protocol):
        """Where a streamed body goes: `write` its pieces, then `end` (always called)."""

        def write(self, data: bytes | memoryview, /) -> object: ...
        def end(self) -> None: ...

    Frame = tuple[bytes, bytes | bytearray]


MAX_BODY = 256 * 1024 * 1024  # larger than any real message; bounds memory against a lying header
MAX_HEADER = 8192
CHUNK = 65536
PREALLOC = 16 * 1024 * 1024  # a body up to this size gets its buffer at once; beyond, it grows
_SEP = b"\r\n\r\n"
_CANONICAL = b"Content-Length: "
_CANONICAL_MAX = len(_CANONICAL) + len(str(MAX_BODY)) + len(_SEP)  # longest canonical header
_FAST_MAX = 1 << 20  # bodies the fast path gathers in the buffer; larger ones are read directly
STREAM_MIN = 4 << 20  # a body this long may be passed on while it arrives (see `tee`)
_GROW = 1 << 20  # past PREALLOC, a body grows by reads of this size (no zero-filled pages first)
# UTF-8 is validated by decoding, in pieces of this size: a piece's text (up to 4 bytes per
# character) then stays below glibc's raised mmap threshold (see heap.keep_free_pages), and
# reusing heap pages is ~6x faster than faulting in fresh ones for every piece.
_PIECE = 1 << 18
# Characters allowed in a header field name (RFC 9110 token); anything else is not a header.
_TCHAR = b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_KEY = b"content-length"
_WS = b" \t\r\n"
PARSE_ERROR = -32700
INVALID_REQUEST = -32600


def parse_header(block: bytes | bytearray) -> int:
    """Return the body length declared by a header block (without its final blank line).

    Raises ValueError naming the problem when the block is not a valid LSP header.
    """
    length = -1
    for line in bytes(block).split(b"\r\n"):
        name, sep, value = line.partition(b":")
        if not sep or not name or name.translate(None, _TCHAR):
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


def header_for(body: bytes | bytearray) -> bytes:
    """The header the shim writes for a message it composes (or repairs) itself."""
    return b"Content-Length: %d\r\n\r\n" % len(body)


def plausible(body: bytes | bytearray) -> bool:
    """Cheap test that a body can be a JSON-RPC message: a `{…}` object in valid UTF-8.

    O(1) for the envelope; the UTF-8 check is `isascii()` at C speed, decoding in bounded
    chunks only for bodies that hold non-ASCII text.
    """
    return _envelope(body) and (body.isascii() or _valid_utf8(body))


def _envelope(body: bytes | bytearray) -> bool:
    """The first and last non-blank bytes are `{` and `}`."""
    n = len(body)
    if n < 2:
        return False
    if body[0] != 0x7B or body[-1] != 0x7D:  # the common case skips the whitespace scan
        first, last = 0, n - 1
        while first < n and body[first] in _WS:
            first += 1
        while last > first and body[last] in _WS:
            last -= 1
        if last <= first or body[first] != 0x7B or body[last] != 0x7D:
            return False
    return True


def _valid_utf8(body: bytes | bytearray) -> bool:
    if len(body) <= _PIECE:
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True
    with memoryview(body) as view:
        try:
            utf8_upto(view, 0, len(view), final=True)
        except UnicodeDecodeError:
            return False
    return True


def utf8_upto(view: memoryview, start: int, stop: int, final: bool) -> int:
    """Where the whole UTF-8 characters of view[start:stop] end (at `stop` when `final`).

    Raises UnicodeDecodeError with `start`/`end` as indexes into `view`.
    """
    i = start
    while i < stop:
        j = min(stop, i + _PIECE)
        try:
            used = utf_8_decode(view[i:j], "strict", final and j == stop)[1]
        except UnicodeDecodeError as exc:
            exc.start += i
            exc.end += i
            raise
        if not used:
            break  # an incomplete character at the end; more bytes are to come
        i += used
    return i


def header_at(buf: bytes | bytearray, sep: int, floor: int) -> int:
    """If the blank line at `sep` ends a header block holding a `Content-Length` that starts at
    or after `floor`, the index where that header starts; else -1.

    Raw CR LF cannot occur inside a JSON string and `Content-Length:` cannot occur outside one,
    so a valid JSON body never contains such a block: a hit proves the declared length lied.
    """
    lo = max(floor, sep - MAX_HEADER)
    window = bytes(buf[lo:sep]).lower()
    at = window.rfind(_KEY)
    while at >= 0:
        try:
            parse_header(buf[lo + at : sep])
        except ValueError:
            at = window.rfind(_KEY, 0, at)
            continue
        # A `Content-Type` line may come first; it belongs to the new message too.
        ct = window.rfind(b"content-type", 0, at)
        if ct >= 0:
            try:
                parse_header(buf[lo + ct : sep])
                return lo + ct
            except ValueError:
                pass
        return lo + at
    return -1


class FrameReader:
    """Reads whole messages from a raw stream; `next()` returns (header, body) or None at EOF.

    `on_error(text)` reports every dropped or repaired byte; `reply(frame)` (optional) sends a
    message back to the peer this stream comes from, used to answer a request that had to be
    dropped.
    """

    __slots__ = (
        "_buf",
        "_eof",
        "_fixed",
        "_inbuf",
        "_on_error",
        "_out",
        "_pos",
        "_reply",
        "_rescan",
        "_sent",
        "_stream",
        "_streamed",
        "_want",
        "_why",
        "tee",
    )

    def __init__(
        self,
        stream: RawStream,
        on_error: Callable[[str], None],
        reply: Callable[[bytes], object] | None = None,
    ) -> None:
        self._stream = stream
        self._buf = bytearray()
        self._pos = 0
        self._eof = False
        self._on_error = on_error
        self._reply = reply
        self._inbuf = False  # the last body still sits in _buf, just before _pos
        self._why = ""  # why the last header was rejected; its body is dropped next
        self._rescan = False  # a dropped body is searched again for the next header
        self._want = 0  # bytes the fast path wants read before it looks again (0: give up)
        # tee(header) -> Out, or None to read the body whole: lets a big body go on as it arrives.
        self.tee: Callable[[bytes], Out | None] | None = None
        self._out: Out | None = None  # where the body being read is streamed to
        self._sent = 0  # bytes of that body passed on so far
        self._fixed = 0  # invalid UTF-8 bytes in it passed on as `?`
        self._streamed = False  # the last body read was passed on already

    def next(self) -> Frame | None:
        """The next well-formed message; bad input is dropped, answered or repaired (see above)."""
        frame = self._fast()
        # The buffer ran dry, or a body has not all arrived yet (servers often write header and
        # body separately): read what is wanted and look again before the general path.
        while frame is None and self._want and self._fill(self._want):
            frame = self._fast()
        if frame is not None:
            return frame
        while True:
            self._streamed = False  # set by _frame when it passes a big body on
            got = self._frame()
            if got is None:
                return None
            header, body, lied = got
            if self._streamed:
                self._report_streamed(body, lied)
                return header, body
            if not lied and plausible(body) and self._followed_by_header():
                return header, body
            frame = self._judge(header, body, lied)
            if frame is not None:
                return frame

    def _fast(self) -> Frame | None:
        """A message with a canonical header whose whole body is in the buffer and passes every
        check the general path makes; else None and nothing consumed. (Most messages.)"""
        buf = self._buf
        pos = self._pos
        have = len(buf)
        self._want = 0
        if pos == have:
            self._want = CHUNK
            return None
        if not buf.startswith(_CANONICAL, pos) or self._rescan:
            return None
        sep = buf.find(_SEP, pos, pos + _CANONICAL_MAX)
        if sep < 0:
            if have - pos < _CANONICAL_MAX:
                self._want = CHUNK
            return None
        digits = buf[pos + len(_CANONICAL) : sep]
        if not digits.isdigit():
            return None
        start = sep + 4
        stop = start + int(digits)
        if stop > have:
            # Wait for the rest only while nothing so far could be a next header (a length
            # that lies must never make us wait for bytes that will not come: see _embedded).
            if stop - start <= _FAST_MAX and buf.find(b"\r", start, have) < 0:
                self._want = max(CHUNK, stop - have)
            return None
        if stop < have and not buf.startswith(b"Content-", stop):
            return None
        # No CR in the body: no header can hide in it (see _embedded).
        if buf.find(b"\r", start, stop) >= 0:
            return None
        header = bytes(buf[pos:start])
        if stop == have:
            # The buffer holds just this message: it becomes the body (dropping a prefix of a
            # bytearray is O(1)), which saves copying the body out of it.
            del buf[:start]
            body = buf
            if not plausible(body):
                buf[:0] = header  # as it was, less what was already consumed
                self._pos = 0
                return None
            self._buf = bytearray()
            self._pos = 0
        else:
            body = buf[start:stop]
            if not plausible(body):
                return None
            self._pos = stop
        self._why = ""
        return header, body

    # -- reading ------------------------------------------------------------------------------

    def _fill(self, size: int = CHUNK) -> bool:
        """Read more bytes (up to `size`) into the buffer; False at EOF."""
        if self._eof:
            return False
        if self._pos:
            del self._buf[: self._pos]
            self._pos = 0
        chunk = self._stream.read(size)
        if not chunk:
            self._eof = True
            return False
        self._buf += chunk
        return True

    def _frame(self) -> tuple[bytes, bytes | bytearray, str] | None:
        """The next (header, body, why-the-length-lied or "") as framed, None at EOF."""
        while True:
            buf = self._buf
            start = self._pos
            if self._rescan:
                # The last body was dropped: its length may have eaten the start of the next
                # header, so the next message starts at the first `Content-Length` from there.
                low = bytes(buf[start:]).lower()
                at = low.find(_KEY)
                if at < 0:
                    self._pos = max(start, len(buf) - len(_KEY))
                    if not self._fill():
                        self._report_tail()
                        return None
                    continue
                self._pos = start = start + at
                self._rescan = False
            # Blank lines between messages are harmless; skip them without a word.
            while start < len(buf) and buf[start] in _WS:
                start += 1
            self._pos = start
            end = buf.find(_SEP, start)
            if end < 0:
                if len(buf) - start > MAX_HEADER:
                    sub = self._skip_garbage(len(buf) - 3)
                    if sub is not None:
                        return sub[0], sub[1], ""
                    continue
                if not self._fill():
                    self._report_tail()
                    return None
                continue
            try:
                if end - start > MAX_HEADER:
                    raise ValueError(f"header longer than {MAX_HEADER} bytes")
                length = parse_header(buf[start:end])
            except ValueError as exc:
                # Bytes right after a rejected header are its body: say so, not "bad header".
                why, self._why = self._why, str(exc)
                orphan = why and not bytes(buf[start : start + 8]).lower().startswith(b"content-")
                sub = self._skip_garbage(
                    end + 4, f"its header was unusable: {why}" if orphan else str(exc)
                )
                if sub is not None:
                    return sub[0], sub[1], ""
                continue
            header = bytes(buf[start : end + 4])
            self._why = ""
            self._pos = end + 4
            got = self._read_body(length, header)
            if got is None:
                gone = " (its first bytes had gone on already)" if self._streamed else ""
                self._on_error(
                    f"stream ended inside a message ({len(self._buf) - self._pos} of {length} "
                    f"body bytes); dropped it{gone}"
                )
                self._buf.clear()
                self._pos = 0
                return None
            body, lied = got
            return header, body, lied

    def _read_body(self, length: int, header: bytes) -> tuple[bytes | bytearray, str] | None:
        """The body (or, if a new header shows up inside it, the bytes before that header)."""
        buf = self._buf
        pos = self._pos
        have = len(buf) - pos
        self._inbuf = have >= length
        if have >= length:
            cut = self._embedded(buf, pos, pos + length)
            if cut >= 0:
                body = buf[pos:cut]
                self._pos = cut
                return (
                    body,
                    f"Content-Length said {length} but a new message starts after {len(body)}",
                )
            body = buf[pos : pos + length]
            self._pos = pos + length
            return body, ""
        cut = self._embedded(buf, pos, len(buf))
        if cut >= 0:
            body = buf[pos:cut]
            self._pos = cut
            return body, f"Content-Length said {length} but a new message starts after {len(body)}"
        if self.tee is not None and length >= STREAM_MIN:
            # The header goes first: the server sets up for the body while we do.
            self._start_stream(header)
        # An incomplete body: read straight into its own buffer instead of growing ours; only
        # the last piece goes through read(), so what follows the body lands in our buffer.
        body_buf = bytearray(min(length, max(PREALLOC, have)))
        with memoryview(buf) as view:
            body_buf[:have] = view[pos:]
        buf.clear()
        self._pos = 0
        got = have
        rest = b""
        while got < length:
            need = length - got
            if got == len(body_buf) and need > CHUNK:
                # Full: grow by what arrives, so no page is zero-filled before it is written.
                chunk = self._stream.read(min(need - CHUNK, _GROW)) or b""
                n = len(chunk)
                body_buf += chunk
            elif need <= CHUNK:
                chunk = self._stream.read(CHUNK) or b""
                n = min(len(chunk), need)
                if n:
                    body_buf[got : got + n] = chunk[:n]
                    rest = chunk[n:]
            else:
                with memoryview(body_buf) as view:
                    n = self._stream.readinto(view[got:]) or 0
            if not n:
                self._eof = True
                self._buf = body_buf[:got]
                self._end_stream(0)
                return None
            cut = self._embedded(body_buf, max(0, got - 3), got + n, 0)
            got += n
            if self._out is not None:
                # Held back: the start of a header found in the next piece must not have gone.
                upto = cut if cut >= 0 else got - MAX_HEADER - len(_SEP)
                self._pass_on(body_buf, upto, cut >= 0)
                if cut >= 0:
                    self._end_stream(length - cut)
            if cut >= 0:
                # The length lied: what follows the embedded header goes back to our buffer.
                self._buf = body_buf[cut:got] + rest
                del body_buf[cut:]
                return (
                    body_buf,
                    f"Content-Length said {length} but a new message starts after {cut}",
                )
        del body_buf[length:]
        self._buf = bytearray(rest)
        if self._out is not None:
            self._pass_on(body_buf, length, True)
            self._end_stream(0)
        return body_buf, ""

    # -- streaming a big body -----------------------------------------------------------------

    def _start_stream(self, header: bytes) -> None:
        assert self.tee is not None
        self._out = self.tee(header)
        self._sent = self._fixed = 0

    def _pass_on(self, body: bytearray, upto: int, final: bool) -> None:
        """Send body[_sent:upto] on, as far as it holds whole UTF-8 characters (all of it when
        `final`); an invalid byte becomes `?` in place, so what goes on is what we keep."""
        out = self._out
        assert out is not None
        while self._sent < upto:
            with memoryview(body) as view:
                try:
                    ok = utf8_upto(view, self._sent, upto, final)
                    bad = 0
                except UnicodeDecodeError as exc:
                    ok, bad = exc.start, exc.end - exc.start
                if ok > self._sent:
                    out.write(view[self._sent : ok])
            self._sent = ok
            if not bad:
                return
            body[ok : ok + bad] = b"?" * bad
            self._fixed += bad

    def _end_stream(self, pad: int) -> None:
        """Finish the streamed message: `pad` spaces make up what a lying length promised."""
        out, self._out = self._out, None
        if out is None:
            return
        self._streamed = True
        try:
            spaces = b" " * min(pad, _GROW)
            while pad > 0:
                out.write(spaces[:pad])
                pad -= len(spaces)
        finally:
            out.end()

    def _report_streamed(self, body: bytes | bytearray, lied: str) -> None:
        """Say what was wrong with a body that had gone on before all of it was read."""
        problems = []
        if lied:
            problems.append(f"{lied}; the server got it padded with spaces")
        if self._fixed:
            problems.append(f"{self._fixed} invalid UTF-8 bytes went on as '?'")
        if not lied and not self._followed_by_header():
            problems.append("more bytes follow it that are not a header")
        if not _envelope(body):
            problems.append("it is not a JSON object")
        if not problems:
            return
        self._on_error(
            f"a {len(body)} byte message passed on while it arrived was not as declared: "
            + "; ".join(problems)
        )

    @staticmethod
    def _embedded(buf: bytes | bytearray, lo: int, hi: int, floor: int = -1) -> int:
        """Start of a header (at or after `floor`, default `lo`) whose blank line ends in
        buf[lo:hi]: proof of a lying Content-Length; or -1."""
        floor = lo if floor < 0 else floor
        # A one-byte find runs at memchr speed (a four-byte find is ~20x slower); valid bodies
        # rarely hold a raw CR at all, so this is usually a single pass.
        i = buf.find(b"\r", lo, hi)
        hits = 0
        while i >= 0:
            if buf.startswith(_SEP, i, hi):
                at = header_at(buf, i, floor)
                if at >= 0:
                    return at
            hits += 1
            if hits > 16:  # CR-heavy (pretty-printed) body: let the substring search skip ahead
                sep = buf.find(_SEP, i + 1, hi)
                while sep >= 0:
                    at = header_at(buf, sep, floor)
                    if at >= 0:
                        return at
                    sep = buf.find(_SEP, sep + 1, hi)
                return -1
            i = buf.find(b"\r", i + 1, hi)
        return -1

    def _followed_by_header(self) -> bool:
        """What already follows a body must start a header; else its length was too short."""
        buf = self._buf
        pos = self._pos
        if pos >= len(buf) or buf.startswith(b"Content-", pos):
            return True
        nxt = bytes(buf[pos : pos + 8]).lower()
        return b"content-".startswith(nxt) or nxt[:1] in (b"\r", b"\n", b" ", b"\t")

    # -- bad input (cold) ---------------------------------------------------------------------

    def _judge(self, header: bytes, body: bytes | bytearray, lied: str) -> Frame | None:
        """Repair, replace or drop a message that failed the cheap checks."""
        from lsp_shim import lsp

        split = bool(lied)  # the body was cut at a header found inside it: _pos is that header
        if not lied and not self._followed_by_header():
            if lsp.decode(body) is not None:
                return header, body  # fine itself; the junk after it is dropped on its own
            buf, end = self._buf, self._pos
            # Too long, ending inside the next header: look for a header that starts in the
            # body's tail and ends in what follows it.
            n = len(body)
            tail = bytes(body[max(0, n - MAX_HEADER) :])
            window = tail + bytes(buf[end : end + MAX_HEADER])
            sep = window.find(_SEP, max(0, len(tail) - 3))
            at = header_at(window, sep, 0) if sep >= 0 else -1
            if 0 <= at < len(tail):
                k = n - len(tail) + at
                if self._inbuf:
                    self._pos = end - (n - k)  # the header's first bytes are still in _buf
                else:
                    buf[end:end] = body[k:]
                body = body[:k]
                split = True
                lied = f"Content-Length said {n} but a new message starts after {k}"
            else:
                # Too short: the real body runs up to the next header, if that is already here.
                # (or, if none has arrived yet, to the end of what has).
                i = bytes(buf[end:]).lower().find(_KEY)
                nxt = end + i if i > 0 else len(buf)
                if nxt > end:
                    longer = bytes(body) + bytes(buf[end:nxt])
                    if lsp.decode(longer) is not None:
                        self._pos = nxt
                        self._on_error(
                            f"Content-Length said {len(body)} but the message is {len(longer)} "
                            "bytes; forwarded it with a corrected header"
                        )
                        return header_for(longer), longer
                lied = (
                    f"Content-Length said {len(body)} but more bytes follow that are not a header"
                )
        if lied and lsp.decode(body) is not None:
            self._on_error(f"{lied}; forwarded the message with a corrected header")
            return header_for(body), body
        if not split:
            # A too-long length can end inside the next header: search the dropped body's tail
            # for it (see _frame). Only the tail matters; an earlier header would have split it.
            keep = min(len(body), MAX_HEADER)
            if self._inbuf:
                self._pos -= keep
            else:
                self._buf[self._pos : self._pos] = body[len(body) - keep :]
            self._rescan = True
        return self._drop(body, lied)

    def _drop(self, body: bytes | bytearray, lied: str, what: str = "a message") -> Frame | None:
        """Drop a message; answer it if it was a request, stand in for it if it was a response."""
        from lsp_shim import lsp

        why = lied or _what_is_wrong(body)
        kind, rid = salvage_id(body) if b'"id"' in body else ("", None)
        head = bytes(body[:60])
        if kind == "request" and self._reply is not None:
            self._on_error(
                f"dropped {what} ({why}): {head!r}; answered request {rid!r} with an error"
            )
            code = PARSE_ERROR if "JSON" in why or "UTF-8" in why else INVALID_REQUEST
            self._reply(
                lsp.error_response(rid, code, f"lsp-shim: dropped a malformed request ({why})")
            )
            return None
        if kind == "response":
            self._on_error(f"dropped {what} ({why}): {head!r}; passed on an error for id {rid!r}")
            msg = lsp.error_response(
                rid, lsp.INTERNAL_ERROR, f"lsp-shim: the answer was malformed ({why})"
            )
            cut = msg.index(_SEP) + 4
            return msg[:cut], msg[cut:]
        self._on_error(f"dropped {what} ({why}): {head!r}")
        return None

    def _skip_garbage(self, upto: int, why: str = "") -> Frame | None:
        """Drop bytes that are not a message, up to the next plausible header."""
        start = self._pos
        nxt = _resync_point(self._buf, start)
        cut = nxt if 0 <= nxt < upto else upto
        dropped = bytes(self._buf[start:cut])
        self._pos = cut
        reason = why or "no header end within limit"
        return self._drop(dropped, reason, f"{len(dropped)} bytes that are not an LSP message")

    def _report_tail(self) -> None:
        rest = self._buf[self._pos :]
        if rest.strip():
            self._on_error(
                f"stream ended inside a header; dropped {len(rest)} bytes: {bytes(rest[:60])!r}"
            )
        self._buf.clear()
        self._pos = 0


def _resync_point(buf: bytearray, start: int) -> int:
    """Index of the next `Content-Length` after `start` (case-insensitive), or -1."""
    low = bytes(buf[start:]).lower()
    i = low.find(_KEY, 1)
    return -1 if i < 0 else start + i


def _what_is_wrong(body: bytes | bytearray) -> str:
    try:
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"invalid UTF-8 at byte {exc.start}"
    stripped = text.strip()
    if not stripped:
        return "empty body"
    if stripped[0] != "{":
        return "not a JSON object"
    return "invalid JSON"


def salvage_id(body: bytes | bytearray) -> tuple[str, object]:
    """Best-effort ("request" | "response" | "", id) of a message that does not decode.

    Looks for the first `"id":` with a number or string value; a request is told by `"method"`,
    a response by `"result"`/`"error"`; anything else counts as unknown and gets no answer.
    """
    import re

    text = bytes(body[:65536]).decode("utf-8", "replace")
    m = re.search(r'"id"\s*:\s*(-?\d{1,18}|"(?:[^"\\]|\\.){0,200}")', text)
    if not m:
        return "", None
    raw = m.group(1)
    rid: object = int(raw) if raw[0] != '"' else raw[1:-1]
    if re.search(r'"method"\s*:', text):
        return "request", rid
    if re.search(r'"(result|error)"\s*:', text):
        return "response", rid
    return "", None

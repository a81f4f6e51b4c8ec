"""framing.FrameReader on hand-made streams: every cut of the stream, header spellings, garbage."""

from __future__ import annotations

import json

import pytest
from lsp_shim import framing
from lsp_shim.framing import FrameReader, header_for, parse_header


class CutStream:
    """A raw stream that returns its bytes in the given pieces, then EOF (like a pipe)."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = [p for p in pieces if p]

    def read(self, n: int) -> bytes:
        if not self.pieces:
            return b""
        piece = self.pieces[0]
        out, rest = piece[:n], piece[n:]
        if rest:
            self.pieces[0] = rest
        else:
            self.pieces.pop(0)
        return out

    def readinto(self, b: bytearray | memoryview) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


def body(i: int, text: str = "") -> bytes:
    msg = {"jsonrpc": "2.0", "id": i, "method": "textDocument/hover", "params": {"text": text}}
    return json.dumps(msg, ensure_ascii=False).encode("utf-8")


def read_all(pieces: list[bytes]) -> tuple[list[tuple[bytes, bytes]], list[str]]:
    errors: list[str] = []
    reader = FrameReader(CutStream(pieces), errors.append)
    frames: list[tuple[bytes, bytes]] = []
    while (got := reader.next()) is not None:
        frames.append((bytes(got[0]), bytes(got[1])))
    return frames, errors


# Three headers as editors and servers really spell them.
B1, B2, B3 = body(1, "plain"), body(2, "ünïcödé ✓"), body(3, "x" * 300)
MESSAGES = [
    (header_for(B1), B1),
    (
        b"content-length: %d\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n"
        % len(B2),
        B2,
    ),
    (
        b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nCONTENT-LENGTH:%d\r\n\r\n"
        % len(B3),
        B3,
    ),
]
STREAM = b"".join(h + b for h, b in MESSAGES)


def test_whole_stream() -> None:
    assert read_all([STREAM]) == (MESSAGES, [])


@pytest.mark.parametrize("cut", range(1, len(STREAM)))
def test_split_at_every_byte(cut: int) -> None:
    assert read_all([STREAM[:cut], STREAM[cut:]]) == (MESSAGES, [])


def test_one_byte_at_a_time() -> None:
    assert read_all([STREAM[i : i + 1] for i in range(len(STREAM))]) == (MESSAGES, [])


def test_body_larger_than_a_read_chunk() -> None:
    big = body(9, "y" * (framing.CHUNK * 3 + 17))
    msg = (header_for(big), big)
    pieces = [msg[0] + big[:5000], big[5000 : framing.CHUNK * 2], big[framing.CHUNK * 2 :]]
    assert read_all(pieces) == ([msg], [])


def test_header_kept_byte_for_byte() -> None:
    """The relay forwards the header as received: case, order and Content-Type untouched."""
    frames, _ = read_all([STREAM])
    assert frames[1][0].startswith(b"content-length: ")
    assert b"Content-Type: application/vscode-jsonrpc; charset=utf-8" in frames[2][0]


def test_resync_after_garbage_before_the_first_message() -> None:
    frames, errors = read_all([b"\x00\xffgarbage that is no header at all" + STREAM])
    assert frames == MESSAGES
    assert len(errors) == 1 and "dropped" in errors[0]


def test_resync_after_garbage_with_blank_lines() -> None:
    """Garbage that ends in a blank line looks like a header block: it is dropped as one."""
    frames, errors = read_all([b"hello\r\n\r\n" + STREAM])
    assert frames == MESSAGES
    assert len(errors) == 1


def test_garbage_between_messages_costs_no_message() -> None:
    h1, b1 = MESSAGES[0]
    rest = b"".join(h + b for h, b in MESSAGES[1:])
    for junk in (b"junk", b"Content-Length: x\r\n\r\n", b"Content-Length: 5\r\nBad Header\r\n\r\n"):
        frames, errors = read_all([h1 + b1 + junk + rest])
        assert frames == MESSAGES, junk
        assert errors, junk
    # A stray line end between messages (some clients write one) may pass silently.
    assert read_all([h1 + b1 + b"\r\n" + rest])[0] == MESSAGES


def test_more_garbage_than_a_header_may_be() -> None:
    junk = b"A" * (framing.MAX_HEADER * 3)
    frames, errors = read_all([junk + STREAM])
    assert frames == MESSAGES
    assert errors and all("dropped" in e for e in errors)


def test_eof_inside_a_body_reports_it() -> None:
    h, b = MESSAGES[0]
    frames, errors = read_all([h + b[:-3]])
    assert frames == []
    assert len(errors) == 1


def test_eof_inside_a_header_reports_it() -> None:
    frames, errors = read_all([STREAM + b"Content-Len"])
    assert frames == MESSAGES
    assert len(errors) == 1


def test_clean_eof_reports_nothing() -> None:
    assert read_all([]) == ([], [])


@pytest.mark.parametrize(
    "block,length",
    [
        (b"Content-Length: 12", 12),
        (b"content-length:0", 0),
        (b"CONTENT-LENGTH: 7 ", 7),
        (b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: 3", 3),
    ],
)
def test_parse_header_accepts(block: bytes, length: int) -> None:
    assert parse_header(block) == length


@pytest.mark.parametrize(
    "block",
    [
        b"Content-Type: text/plain",  # no length
        b"Content-Length: 1\r\nContent-Length: 1",  # twice
        b"Content-Length: -1",
        b"Content-Length: 1e3",
        b"Content-Length:",
        b"no colon here\r\nContent-Length: 1",
        b"Content-Length: %d" % (framing.MAX_BODY + 1),
    ],
)
def test_parse_header_rejects(block: bytes) -> None:
    with pytest.raises(ValueError):
        parse_header(block)


def test_header_for() -> None:
    assert header_for(b'{"a":1}') == b"Content-Length: 7\r\n\r\n"
    assert header_for("é".encode()) == b"Content-Length: 2\r\n\r\n"


def _long_body(bad_at: int | None, size: int = framing._FAST_MAX + 3 * framing._PIECE) -> bytes:
    """A request whose text holds multi-byte characters throughout; with `bad_at`, one byte of
    a character near that offset becomes invalid (a stray continuation byte)."""
    raw = bytearray(body(7, "é漢😀 x" * (size // 12)))
    if bad_at is not None:
        at = raw.index("é".encode(), min(bad_at, len(raw) - 40))
        raw[at] = 0x80  # é's lead byte replaced by a continuation byte
    return bytes(raw)


@pytest.mark.parametrize(
    "bad_at", [None, 60, framing._PIECE - 2, framing._PIECE, 2 * framing._PIECE + 5, -1]
)
@pytest.mark.parametrize("piece", [framing.CHUNK, 100_000, 1 << 20])
def test_long_body_utf8_checked_as_it_arrives(bad_at: int | None, piece: int) -> None:
    """A body longer than the fast path gathers is checked while it arrives, wherever the bad
    byte sits relative to the pieces it is checked in: a request with a bad byte is dropped and
    answered, a good one comes through byte for byte."""
    data = _long_body(None if bad_at is None else (bad_at if bad_at >= 0 else 10**9))
    nxt = body(8)
    stream = header_for(data) + data + header_for(nxt) + nxt
    answered: list[bytes] = []
    errors: list[str] = []
    reader = FrameReader(
        CutStream([stream[i : i + piece] for i in range(0, len(stream), piece)]),
        errors.append,
        reply=answered.append,
    )
    first = reader.next()
    assert first is not None
    if bad_at is None:
        assert bytes(first[1]) == data and not errors and not answered
        first = reader.next()
        assert first is not None
    else:
        assert errors and "UTF-8" in errors[0]
        assert answered and b'"id":7' in answered[0].replace(b" ", b"")
    assert bytes(first[1]) == nxt  # the next message is never lost
    assert reader.next() is None


def test_character_cut_short_near_the_end_of_a_long_body() -> None:
    data = bytearray(_long_body(None))
    cut = data.rindex("😀".encode())
    data[cut + 2 : cut + 4] = b"  "  # the emoji loses its last two bytes
    answered: list[bytes] = []
    reader = FrameReader(
        CutStream([header_for(bytes(data)), bytes(data)]), lambda m: None, reply=answered.append
    )
    assert reader.next() is None and answered  # dropped (and answered), not forwarded


# -- a big body passed on while it arrives (FrameReader.tee) ----------------------------------


class Out:
    """Where the reader streams a body to; records what it got and when it was ended."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.ended = 0

    def write(self, data: bytes | memoryview) -> None:
        assert not self.ended
        self.data += data

    def end(self) -> None:
        self.ended += 1


class Streaming:
    """A reader over `stream` in 1 MiB pieces whose tee records into `outs`."""

    def __init__(self, stream: bytes, accept: bool = True) -> None:
        self.outs: list[Out] = []
        self.headers: list[bytes] = []
        self.errors: list[str] = []
        self.answered: list[bytes] = []
        self.seen_before_last_read: int = -1
        piece = 1 << 20
        self.source = CutStream([stream[i : i + piece] for i in range(0, len(stream), piece)])
        self.reader = FrameReader(self, self.errors.append, reply=self.answered.append)
        self.reader.tee = self.tee
        self.accept = accept

    def read(self, n: int) -> bytes:
        self._note()
        return self.source.read(n)

    def readinto(self, b: bytearray | memoryview) -> int:
        self._note()
        return self.source.readinto(b)

    def _note(self) -> None:
        if len(self.source.pieces) == 1 and self.outs:
            self.seen_before_last_read = len(self.outs[-1].data)

    def tee(self, header: bytes) -> Out | None:
        self.headers.append(header)
        if not self.accept:
            return None
        self.outs.append(Out())
        self.outs[-1].write(header)
        return self.outs[-1]


def _big_request(size: int, rid: int = 7) -> bytes:
    return body(rid, "é漢😀 x" * (size // 12))


def test_big_body_goes_on_while_it_arrives() -> None:
    data = _big_request(framing.STREAM_MIN + (1 << 20))
    nxt = body(8)
    s = Streaming(header_for(data) + data + header_for(nxt) + nxt)
    first = s.reader.next()
    assert first is not None and bytes(first[1]) == data
    assert [bytes(o.data) for o in s.outs] == [header_for(data) + data]
    assert s.outs[0].ended == 1 and not s.errors
    # Most of it had gone on before the reader asked for the last piece.
    assert s.seen_before_last_read > len(data) - (2 << 20)
    second = s.reader.next()
    assert second is not None and bytes(second[1]) == nxt and len(s.outs) == 1


def test_smaller_bodies_are_read_whole() -> None:
    data = _big_request(framing.STREAM_MIN - 4096)
    s = Streaming(header_for(data) + data)
    first = s.reader.next()
    assert first is not None and bytes(first[1]) == data and not s.headers


@pytest.mark.parametrize("where", [0.1, 0.5, 0.999])
def test_streamed_invalid_utf8_goes_on_as_question_marks(where: float) -> None:
    """Once the header has gone, the message cannot be dropped: each invalid byte becomes `?`,
    and the server and the replay state get the same bytes."""
    data = bytearray(_big_request(framing.STREAM_MIN + (1 << 20)))
    at = data.index(b" x", int(len(data) * where)) + 1
    data[at] = 0xFF  # an ASCII byte made invalid: exactly one byte to fix
    nxt = body(8)
    s = Streaming(header_for(data) + bytes(data) + header_for(nxt) + nxt)
    first = s.reader.next()
    assert first is not None
    fixed = data[:at] + b"?" + data[at + 1 :]
    assert bytes(first[1]) == fixed
    assert bytes(s.outs[0].data) == header_for(data) + fixed
    assert json.loads(fixed.decode())["id"] == 7
    assert len(s.errors) == 1 and "1 invalid UTF-8 bytes went on as '?'" in s.errors[0]
    assert not s.answered  # the server has the request: it answers
    second = s.reader.next()
    assert second is not None and bytes(second[1]) == nxt


@pytest.mark.parametrize("offset", [-9, -1, 0, 7])
def test_streamed_body_cut_short_by_a_new_header_is_padded(offset: int) -> None:
    """A length that lies by more than what has gone on: the server gets the real body and
    spaces up to the promised length (still the same JSON); the next message is not lost,
    even when its header starts (`offset` bytes) before the piece where the lie shows."""
    claimed = (3 << 20) + (5 << 20)
    header = b"Content-Length: %d\r\n\r\n" % claimed
    real = body(7, "x" * ((3 << 20) + offset - len(header) - len(body(7))))
    nxt = body(8)
    s = Streaming(header + real + header_for(nxt) + nxt)
    first = s.reader.next()
    assert first is not None and bytes(first[1]) == real
    got = bytes(s.outs[0].data)
    assert got == header + real + b" " * (claimed - len(real))
    assert json.loads(got[len(header) :]) == json.loads(real)
    assert s.outs[0].ended == 1
    assert len(s.errors) == 1 and "padded with spaces" in s.errors[0]
    second = s.reader.next()
    assert second is not None and bytes(second[1]) == nxt


def test_lie_seen_in_the_first_read_is_never_streamed() -> None:
    nxt = body(8)
    s = Streaming(b"Content-Length: 200000000\r\n\r\n" + body(1) + header_for(nxt) + nxt)
    frames = []
    while (got := s.reader.next()) is not None:
        frames.append(bytes(got[1]))
    assert frames == [body(1), nxt] and not s.headers


def test_eof_inside_a_streamed_body() -> None:
    data = _big_request(framing.STREAM_MIN + (1 << 20))
    s = Streaming(header_for(data) + data[: -(1 << 20)])
    assert s.reader.next() is None
    assert s.outs[0].ended == 1
    assert len(s.errors) == 1 and "had gone on already" in s.errors[0]


def test_declined_tee_reads_the_body_whole() -> None:
    """No server to stream to: the body is read whole and judged as always (a bad one dropped
    and answered)."""
    data = bytearray(_big_request(framing.STREAM_MIN + (1 << 20)))
    data[len(data) // 2] = 0xFF
    s = Streaming(header_for(data) + bytes(data), accept=False)
    assert s.reader.next() is None
    assert len(s.headers) == 1 and not s.outs
    assert s.answered and "UTF-8" in s.errors[0]

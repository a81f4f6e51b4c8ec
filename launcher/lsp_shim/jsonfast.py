"""Parse JSON without importing `json` (whose `re` import alone costs ~6 ms at startup).

Uses the C scanner behind the stdlib decoder; falls back to `json` where it is missing.
Only used to *read* messages the shim must understand; relayed bytes are never re-encoded.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, ClassVar

_WS = " \t\n\r"


class _Context:
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float
    memo: ClassVar[dict[str, str]] = {}


def _make() -> Callable[[str, int], tuple[Any, int]] | None:
    try:
        import _json

        # typeshed types the context as a scanner; any object with these attributes works.
        return _json.make_scanner(_Context())  # type: ignore[arg-type]
    except (ImportError, AttributeError, TypeError):
        return None


_scan = _make()


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """Decode one JSON document; raise ValueError on anything invalid (bad UTF-8 included, and
    nesting too deep for the decoder)."""
    return _loads(data if isinstance(data, str) else str(data, "utf-8"))  # no copy of the bytes


def loads_utf8_strings(data: bytes | bytearray, long: int, key: str = "text") -> Any:
    """Like loads(), but a non-ASCII string of at least `long` UTF-8 bytes that is the value of
    a `key` member (a document's text) comes back as those bytes; every other string is a str
    (an ASCII str already takes one byte per character).

    A document's text as a str takes up to 4 bytes per character (one emoji is enough), and
    decoding the message first makes a str of all of it as well. Without a \\u escape in the
    message, it is parsed as Latin-1 instead: its structure is ASCII and each byte becomes one
    character, so a string comes out as its UTF-8 bytes at one byte per character. `data` must
    be valid UTF-8 (the relay only forwards such bodies).
    """
    if data.find(b"\\u") >= 0:  # an escape could stand for any character: decode properly
        value, codec = loads(data), "utf-8"
    else:
        value, codec = _loads(str(data, "latin-1")), "latin-1"
    try:
        return _Walk(codec, long, key).value(value, False)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


class _Walk:
    """Turns the strings of a decoded value into what loads_utf8_strings promises."""

    def __init__(self, codec: str, long: int, key: str) -> None:
        self.codec = codec  # how the strings were decoded: their UTF-8 is s.encode(codec)
        self.long = long
        self.key = key

    def value(self, value: Any, is_text: bool) -> Any:
        if isinstance(value, str):
            if value.isascii():
                return value
            raw = value.encode(self.codec, "surrogatepass")
            return (
                raw if is_text and len(raw) >= self.long else raw.decode("utf-8", "surrogatepass")
            )
        if isinstance(value, dict):
            return {self.value(k, False): self.value(v, k == self.key) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, False) for v in value]
        return value


def _loads(text: str) -> Any:
    try:
        return _scan_all(text)
    except RecursionError:
        # Valid JSON, but deeper than Python's decoder goes: to the shim it cannot be read.
        raise ValueError("JSON nested too deeply") from None


def _scan_all(text: str) -> Any:
    if _scan is None:
        import json

        return json.loads(text)
    start = 0
    end = len(text)
    while start < end and text[start] in _WS:
        start += 1
    try:
        value, pos = _scan(text, start)
    except Exception:
        # The C scanner reports errors through json.decoder, which we did not import: let the
        # full decoder produce the precise message (errors are rare, so its cost does not matter).
        import json

        return json.loads(text)
    while pos < end and text[pos] in _WS:
        pos += 1
    if pos != end:
        raise ValueError(f"extra data after JSON at offset {pos}")
    return value


def dumps(value: Any) -> bytes:
    """Encode a message the shim itself writes (errors, notices): off the relay's hot path."""
    import json

    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

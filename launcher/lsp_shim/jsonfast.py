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


def loads_utf8_strings(data: bytes | bytearray, long: int) -> Any:
    """Like loads(), but every string of at least `long` UTF-8 bytes comes back as those bytes.

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
        return _walk(value, lambda s: _long_utf8(s.encode(codec, "surrogatepass"), long))
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _long_utf8(raw: bytes, long: int) -> str | bytes:
    return raw if len(raw) >= long else raw.decode("utf-8", "surrogatepass")


def _walk(value: Any, convert: Callable[[str], str | bytes]) -> Any:
    """`value` with every non-ASCII string (keys stay strings) passed through `convert`."""
    if isinstance(value, str):
        return value if value.isascii() else convert(value)
    if isinstance(value, dict):
        return {
            k if k.isascii() else _text(convert(k)): _walk(v, convert) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_walk(v, convert) for v in value]
    return value


def _text(key: str | bytes) -> str:
    return key if isinstance(key, str) else key.decode("utf-8", "surrogatepass")


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

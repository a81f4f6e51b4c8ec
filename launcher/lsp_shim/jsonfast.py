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
    """Decode one JSON document; raise ValueError on anything invalid (bad UTF-8 included)."""
    text = data if isinstance(data, str) else str(data, "utf-8")  # no copy of the bytes first
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

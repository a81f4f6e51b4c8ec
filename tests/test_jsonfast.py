"""jsonfast: the C scanner without `json`, and the decoding that keeps long strings as UTF-8."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from lsp_shim.jsonfast import loads, loads_utf8_strings

LONG = 24  # bytes; small so that generated strings cross it both ways

# Any character JSON and UTF-8 can carry (lone surrogates have no UTF-8 form to send).
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
keys = st.sampled_from(["text", "uri", "é"]) | text
values = st.recursive(
    st.none() | st.booleans() | st.integers() | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)


def promised(value: Any, is_text: bool = False) -> Any:
    """What loads_utf8_strings promises: a non-ASCII `text` member of LONG bytes or more as
    bytes."""
    if isinstance(value, str):
        raw = value.encode()
        return raw if is_text and not value.isascii() and len(raw) >= LONG else value
    if isinstance(value, dict):
        return {k: promised(v, k == "text") for k, v in value.items()}
    if isinstance(value, list):
        return [promised(v) for v in value]
    return value


@given(st.dictionaries(keys, values, max_size=5), st.booleans())
@example({"text": "naïve 😀 — 測試 " * 3, "uri": "file:///é" * 9}, False)
@example({"text": "C:\\users\\é" * 5}, False)  # a \u that is no escape
@example({"text": "é" * 30, "a": ["é" * 30]}, True)  # escapes take the other path
@example({"text": "0" * 24}, False)  # ASCII stays a str
def test_long_texts_come_back_as_their_utf8(obj: dict[str, Any], ascii_only: bool) -> None:
    body = json.dumps(obj, ensure_ascii=ascii_only).encode()
    assert loads_utf8_strings(body, LONG) == promised(obj)
    assert loads_utf8_strings(bytearray(body), LONG) == promised(obj)


def test_invalid_json_is_a_value_error() -> None:
    for bad in (b'{"a": nul}', b'{"a":1,}', b'{"a":"\xc3"}'):
        with pytest.raises(ValueError):
            loads(bad)
    with pytest.raises(ValueError):
        loads_utf8_strings(b'{"a": nul}', LONG)


@pytest.mark.parametrize("depth", [5_000, 100_000])
def test_nesting_too_deep_is_a_value_error(depth: int) -> None:
    """Valid JSON deeper than Python's decoder goes: unreadable to the shim, never a crash."""
    deep = b'{"a":' + b"[" * depth + b"]" * depth + b"}"
    with pytest.raises(ValueError, match="nested too deeply"):
        loads(deep)
    with pytest.raises(ValueError, match="nested too deeply"):
        loads_utf8_strings(deep, LONG)

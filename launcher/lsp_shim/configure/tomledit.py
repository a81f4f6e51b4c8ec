"""A minimal TOML editor: set keys of one [table] in place, keep comments and layout.

Helix's languages.toml is the only TOML file configure writes. The editor finds the table's
header and its key lines with a small scanner (strings, comments and multi-line arrays are
understood, so a "[" inside a value is never taken for a header), splices the new values in,
and then re-parses the result with tomllib to prove that only the intended keys changed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

try:  # Python 3.11+
    import tomllib as _toml
except ModuleNotFoundError:  # pragma: no cover - Python 3.10 without tomllib
    try:
        import tomli as _toml  # type: ignore[no-redef,import-not-found,unused-ignore]
    except ModuleNotFoundError:
        _toml = None  # type: ignore[assignment,unused-ignore]

TomlValue = str | list[str]

_BARE = re.compile(r"[A-Za-z0-9_-]+")


class TomlEditError(ValueError):
    """The file is not valid TOML."""


class TomlLayoutError(TomlEditError):
    """The table is written in a form this editor does not rewrite (inline, dotted, twice)."""


def loads(text: str) -> dict[str, Any] | None:
    """Parsed document, or None when no TOML parser is available (Python 3.10 without tomli)."""
    if _toml is None:
        return None
    try:
        data: dict[str, Any] = _toml.loads(text)
    except _toml.TOMLDecodeError as e:
        raise TomlEditError(str(e)) from None
    return data


def dump_value(value: TomlValue) -> str:
    # A JSON string is a valid TOML basic string: same escapes, \uXXXX for control characters.
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in value) + "]"


@dataclass
class _KeyLine:
    key: tuple[str, ...]
    value_start: int
    value_end: int
    line_end: int  # index just past the line (or of EOF) where the value ends


@dataclass
class _Table:
    name: tuple[str, ...]
    header_end: int  # index just past the header line
    keys: list[_KeyLine]


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)

    def fail(self, msg: str, pos: int) -> TomlEditError:
        line = self.text.count("\n", 0, pos) + 1
        return TomlEditError(f"{msg} at line {line}")

    def line_end(self, i: int) -> int:
        j = self.text.find("\n", i)
        return self.n if j < 0 else j + 1

    def skip_blank(self, i: int) -> int:
        while i < self.n and self.text[i] in " \t":
            i += 1
        return i

    def string_end(self, i: int) -> int:
        t = self.text
        for quote in ('"""', "'''"):
            if t.startswith(quote, i):
                j = i + 3
                while True:
                    k = t.find(quote, j)
                    if k < 0:
                        raise self.fail("unterminated multi-line string", i)
                    if quote == '"""' and _escaped(t, k):
                        j = k + 1
                        continue
                    # Up to two extra quotes may close the string ("""a""""").
                    end = k + 3
                    while end < self.n and t[end] == quote[0] and end - k < 5:
                        end += 1
                    return end
        q = t[i]
        j = i + 1
        while j < self.n and t[j] != "\n":
            if q == '"' and t[j] == "\\":
                j += 2
                continue
            if t[j] == q:
                return j + 1
            j += 1
        raise self.fail("unterminated string", i)

    def value_end(self, i: int) -> int:
        """End of the value starting at i (arrays and inline tables may span lines)."""
        t = self.text
        if i < self.n and t[i] in "\"'":
            return self.string_end(i)
        if i < self.n and t[i] in "[{":
            depth = 0
            j = i
            while j < self.n:
                c = t[j]
                if c in "\"'":
                    j = self.string_end(j)
                    continue
                if c == "#":
                    j = self.line_end(j)
                    continue
                if c in "[{":
                    depth += 1
                elif c in "]}":
                    depth -= 1
                    if depth == 0:
                        return j + 1
                j += 1
            raise self.fail("unterminated array or inline table", i)
        j = i
        while j < self.n and t[j] not in "#\r\n":
            j += 1
        while j > i and t[j - 1] in " \t":
            j -= 1
        return j

    def key(self, i: int) -> tuple[tuple[str, ...], int]:
        """A dotted key starting at i; returns (parts, index after the key)."""
        parts: list[str] = []
        t = self.text
        while True:
            i = self.skip_blank(i)
            if i < self.n and t[i] in "\"'":
                end = self.string_end(i)
                raw = t[i:end]
                parts.append(json.loads(raw) if raw[0] == '"' else raw[1:-1])
                i = end
            else:
                m = _BARE.match(t, i)
                if not m:
                    raise self.fail("expected a key", i)
                parts.append(m.group(0))
                i = m.end()
            i = self.skip_blank(i)
            if i < self.n and t[i] == ".":
                i += 1
                continue
            return tuple(parts), i

    def tables(self) -> list[_Table]:
        """Every table in document order; the first one (name ()) is the root."""
        t = self.text
        tables = [_Table((), 0, [])]
        i = 0
        while i < self.n:
            i = self.skip_blank(i)
            if i >= self.n:
                break
            c = t[i]
            if c in "\r\n":
                i += 1
            elif c == "#":
                i = self.line_end(i)
            elif c == "[":
                array = t.startswith("[[", i)
                name, j = self.key(i + (2 if array else 1))
                close = "]]" if array else "]"
                if not t.startswith(close, j):
                    raise self.fail("malformed table header", i)
                end = self.line_end(j)
                # An array-of-tables element gets a name no [table] can match.
                tables.append(_Table(("[[", *name) if array else name, end, []))
                i = end
            else:
                key, j = self.key(i)
                if j >= self.n or t[j] != "=":
                    raise self.fail("expected '='", j)
                start = self.skip_blank(j + 1)
                end = self.value_end(start)
                tables[-1].keys.append(_KeyLine(key, start, end, self.line_end(end)))
                i = self.line_end(end)
        return tables


def _escaped(text: str, k: int) -> bool:
    backslashes = 0
    while k - 1 - backslashes >= 0 and text[k - 1 - backslashes] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def _lookup(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = data
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _without(data: dict[str, Any], table: tuple[str, ...], keys: list[str]) -> dict[str, Any]:
    """A deep copy of data with table.keys removed, to compare everything else."""
    copy: dict[str, Any] = json.loads(json.dumps(data, default=str))
    chain: list[dict[str, Any]] = [copy]
    for part in table:
        child = chain[-1].get(part)
        if not isinstance(child, dict):
            return copy
        chain.append(child)
    for key in keys:
        chain[-1].pop(key, None)
    # A table that only exists to hold those keys (the one set_table appends) counts as absent.
    for parent, part, child in reversed(list(zip(chain, table, chain[1:], strict=False))):
        if child:
            break
        del parent[part]
    return copy


def header(name: tuple[str, ...]) -> str:
    return ".".join(p if _BARE.fullmatch(p) else json.dumps(p) for p in name)


def set_table(
    text: str, table: tuple[str, ...], values: dict[str, TomlValue], newline: str = "\n"
) -> str:
    """`text` with keys of [table] set; the table is appended when absent."""
    before = loads(text)
    if before is not None and all(_lookup(before, (*table, k)) == v for k, v in values.items()):
        return text  # already set, however the user spelled it
    scanner = _Scanner(text)
    tables = [t for t in scanner.tables() if t.name == table]
    if len(tables) > 1:
        raise TomlLayoutError(f"[{header(table)}] is defined twice")
    if tables:
        new = _edit_table(text, tables[0], values, newline)
        _verify(before, new, table, values)
        return new
    lines = [f"[{header(table)}]"] + [f"{k} = {dump_value(v)}" for k, v in values.items()]
    body = newline.join(lines) + newline
    stripped = text.rstrip()
    new = (stripped + newline + newline if stripped else "") + body
    try:
        _verify(before, new, table, values)
    except TomlEditError:
        # The table exists without its own header: an inline table or dotted keys.
        raise TomlLayoutError(
            f"{header(table)} is defined inline or with dotted keys, which this editor does "
            f"not rewrite"
        ) from None
    return new


def _edit_table(text: str, table: _Table, values: dict[str, TomlValue], nl: str) -> str:
    # Edits are applied from the end of the text backwards so earlier offsets stay valid.
    edits: list[tuple[int, int, str]] = []
    missing: list[str] = []
    for key, value in values.items():
        lines = [k for k in table.keys if k.key == (key,)]
        if lines:
            last = lines[-1]
            edits.append((last.value_start, last.value_end, dump_value(value)))
        else:
            missing.append(key)
    if missing:
        anchor = table.keys[-1].line_end if table.keys else table.header_end
        added = "".join(f"{k} = {dump_value(values[k])}{nl}" for k in missing)
        if anchor > 0 and not text[:anchor].endswith("\n"):
            added = nl + added
        edits.append((anchor, anchor, added))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _verify(
    before: dict[str, Any] | None, text: str, table: tuple[str, ...], values: dict[str, TomlValue]
) -> None:
    """Re-parse: the keys hold the new values and nothing else in the document changed."""
    after = loads(text)
    if after is None or before is None:
        return
    for key, value in values.items():
        if _lookup(after, (*table, key)) != value:
            raise TomlLayoutError(f"{header(table)}.{key} is also set in a form this editor skips")
    if _without(before, table, list(values)) != _without(after, table, list(values)):
        raise TomlLayoutError(f"editing [{header(table)}] would change other settings")

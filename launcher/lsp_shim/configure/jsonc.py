"""A minimal JSONC editor: set one key's value in place, leave every other byte alone.

VS Code's settings.json, Zed's settings.json and Sublime's .sublime-settings are JSON with
// and /* */ comments and trailing commas. json.loads rejects them and re-dumping would drop the
user's comments and layout, so this module parses just enough to know where each member's key
and value sit, then splices text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TypeAlias

JSON: TypeAlias = "bool | int | float | str | list[JSON] | dict[str, JSON] | None"

_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_LITERALS = ("true", "false", "null")


class JsoncSyntaxError(ValueError):
    def __init__(self, message: str, text: str, pos: int) -> None:
        line = text.count("\n", 0, pos) + 1
        col = pos - (text.rfind("\n", 0, pos) + 1) + 1
        super().__init__(f"{message} at line {line} column {col}")


@dataclass
class Node:
    kind: str  # "object" | "array" | "string" | "number" | "literal"
    start: int
    end: int  # exclusive
    members: list[Member] = field(default_factory=list)  # objects only


@dataclass
class Member:
    key: str
    key_start: int
    value: Node
    comma: int | None  # index of the comma after the value, if any


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text

    def fail(self, message: str, pos: int) -> JsoncSyntaxError:
        return JsoncSyntaxError(message, self.text, pos)

    def skip(self, i: int) -> int:
        """Skip whitespace and comments."""
        text, n = self.text, len(self.text)
        while i < n:
            c = text[i]
            if c in " \t\r\n\ufeff":
                i += 1
            elif text.startswith("//", i):
                j = text.find("\n", i)
                i = n if j < 0 else j
            elif text.startswith("/*", i):
                j = text.find("*/", i + 2)
                if j < 0:
                    raise self.fail("unterminated /* comment", i)
                i = j + 2
            else:
                break
        return i

    def string_end(self, i: int) -> int:
        text, n = self.text, len(self.text)
        j = i + 1
        while j < n:
            c = text[j]
            if c == "\\":
                j += 2
            elif c == '"':
                return j + 1
            elif c == "\n":
                break
            else:
                j += 1
        raise self.fail("unterminated string", i)

    def value(self, i: int) -> Node:
        text = self.text
        if i >= len(text):
            raise self.fail("expected a value", i)
        c = text[i]
        if c == "{":
            return self.obj(i)
        if c == "[":
            return self.array(i)
        if c == '"':
            return Node("string", i, self.string_end(i))
        m = _NUMBER.match(text, i)
        if m:
            return Node("number", i, m.end())
        for lit in _LITERALS:
            if text.startswith(lit, i):
                return Node("literal", i, i + len(lit))
        raise self.fail(f"unexpected {text[i]!r}", i)

    def obj(self, start: int) -> Node:
        node = Node("object", start, start)
        i = self.skip(start + 1)
        while True:
            if i < len(self.text) and self.text[i] == "}":
                node.end = i + 1
                return node
            if i >= len(self.text) or self.text[i] != '"':
                raise self.fail("expected a quoted key or '}'", i)
            key_end = self.string_end(i)
            key = json.loads(self.text[i:key_end])
            j = self.skip(key_end)
            if j >= len(self.text) or self.text[j] != ":":
                raise self.fail("expected ':'", j)
            value = self.value(self.skip(j + 1))
            member = Member(key=key, key_start=i, value=value, comma=None)
            node.members.append(member)
            i = self.skip(value.end)
            if i < len(self.text) and self.text[i] == ",":
                member.comma = i
                i = self.skip(i + 1)
            elif i >= len(self.text) or self.text[i] != "}":
                raise self.fail("expected ',' or '}'", i)

    def array(self, start: int) -> Node:
        i = self.skip(start + 1)
        while True:
            if i < len(self.text) and self.text[i] == "]":
                return Node("array", start, i + 1)
            value = self.value(i)
            i = self.skip(value.end)
            if i < len(self.text) and self.text[i] == ",":
                i = self.skip(i + 1)
            elif i >= len(self.text) or self.text[i] != "]":
                raise self.fail("expected ',' or ']'", i)

    def document(self) -> Node | None:
        i = self.skip(0)
        if i == len(self.text):
            return None  # empty (or comments only): the editors treat it as {}
        node = self.value(i)
        end = self.skip(node.end)
        if end != len(self.text):
            raise self.fail("unexpected text after the top-level value", end)
        return node


def parse(text: str) -> Node | None:
    """The document's top node, or None for an empty / comments-only file."""
    return _Parser(text).document()


def strip(text: str) -> str:
    """Plain JSON from JSONC: comments blanked, trailing commas dropped (positions kept)."""
    out = list(text)
    p = _Parser(text)
    i, n = 0, len(text)
    last_comma: int | None = None
    while i < n:
        c = text[i]
        if c == '"':
            i = p.string_end(i)
            last_comma = None
        elif text.startswith("//", i) or text.startswith("/*", i):
            j = p.skip(i)
            for k in range(i, j):
                if out[k] not in "\r\n":
                    out[k] = " "
            i = j
        elif c == ",":
            last_comma = i
            i += 1
        elif c in "}]":
            if last_comma is not None:
                out[last_comma] = " "
            last_comma = None
            i += 1
        elif c in " \t\r\n\ufeff":
            i += 1
        else:
            last_comma = None
            i += 1
    return "".join(out)


def loads(text: str) -> JSON:
    """Parse JSONC to Python values (an empty document is {})."""
    if parse(text) is None:
        return {}
    value: JSON = json.loads(strip(text))
    return value


def _line_indent(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1
    m = re.match(r"[ \t]*", text[start:pos])
    return m.group(0) if m else ""


def _starts_line(text: str, pos: int) -> bool:
    start = text.rfind("\n", 0, pos) + 1
    return text[start:pos].strip() == ""


def guess_indent(text: str, default: str) -> str:
    """One level of indentation as the file already uses it (the first top-level member's)."""
    root = parse(text)
    if root is not None and root.kind == "object" and root.members:
        first = root.members[0].key_start
        if _starts_line(text, first):
            indent = _line_indent(text, first)
            if indent:
                return indent
    return default


def dump(value: JSON, indent: str, unit: str, newline: str) -> str:
    """Serialise a value placed at `indent`; short scalar lists stay on one line like VS Code's."""
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = indent + unit
        items = [
            f"{inner}{json.dumps(k, ensure_ascii=False)}: {dump(v, inner, unit, newline)}"
            for k, v in value.items()
        ]
        return "{" + newline + ("," + newline).join(items) + newline + indent + "}"
    if isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value):
            return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in value) + "]"
        inner = indent + unit
        items = [inner + dump(v, inner, unit, newline) for v in value]
        return "[" + newline + ("," + newline).join(items) + newline + indent + "]"
    return json.dumps(value, ensure_ascii=False)


def _nest(path: list[str], value: JSON) -> JSON:
    for key in reversed(path):
        value = {key: value}
    return value


def get(text: str, path: list[str]) -> tuple[bool, JSON]:
    """(present, value) of the member at `path`; the last duplicate key wins, as in the editors."""
    node = parse(text)
    for key in path:
        if node is None or node.kind != "object":
            return False, None
        found = [m for m in node.members if m.key == key]
        if not found:
            return False, None
        node = found[-1].value
    if node is None:
        return False, None
    return True, loads(text[node.start : node.end])


def set_value(
    text: str, path: list[str], value: JSON, *, unit: str = "    ", newline: str = "\n"
) -> str:
    """`text` with the member at `path` set to `value`, creating parent objects as needed.

    Only the old value's span (or the insertion point) changes; comments, order, spacing and
    trailing commas elsewhere are untouched. Raises JsoncSyntaxError on malformed input and
    ValueError when a parent on the path holds a non-object.
    """
    if not path:
        raise ValueError("empty key path")
    root = parse(text)
    if root is None:
        # Empty or comments-only file: keep its comments, then the new object.
        body = dump(_nest(path, value), "", unit, newline)
        prefix = text.rstrip()
        return (prefix + newline if prefix else "") + body + newline
    if root.kind != "object":
        raise ValueError("the top-level value is not an object")
    unit = guess_indent(text, unit)
    node = root
    for depth, key in enumerate(path):
        found = [m for m in node.members if m.key == key]
        if not found:
            return _insert(text, node, path[depth:], value, unit, newline)
        member = found[-1]
        if depth == len(path) - 1:
            indent = _line_indent(text, member.key_start)
            if not _starts_line(text, member.key_start):
                new = json.dumps(value, ensure_ascii=False)  # an inline object stays inline
            else:
                new = dump(value, indent, unit, newline)
            return text[: member.value.start] + new + text[member.value.end :]
        if member.value.kind != "object":
            dotted = ".".join(path[: depth + 1])
            raise ValueError(f'"{dotted}" holds a {member.value.kind}, not an object')
        node = member.value
    raise AssertionError("unreachable")


def _insert(text: str, obj: Node, path: list[str], value: JSON, unit: str, nl: str) -> str:
    key_json = json.dumps(path[0], ensure_ascii=False)
    rest = _nest(path[1:], value)
    close = obj.end - 1  # index of '}'
    if not obj.members:
        outer = _line_indent(text, obj.start)
        inner_text = text[obj.start + 1 : close]
        member = f"{outer}{unit}{key_json}: {dump(rest, outer + unit, unit, nl)}"
        if inner_text.strip() == "":
            return text[: obj.start + 1] + nl + member + nl + outer + text[close:]
        # Only comments inside: put the member first and keep the comments after it.
        return text[: obj.start + 1] + nl + member + text[obj.start + 1 :]
    last = obj.members[-1]
    after = (last.comma + 1) if last.comma is not None else last.value.end
    line_end = _rest_of_line_end(text, after)
    if line_end is not None and _starts_line(text, last.key_start):
        # Multi-line object: a new line after the last member's line (after its comment, too).
        indent = _line_indent(text, last.key_start)
        trailing = "," if last.comma is not None else ""
        line = f"{indent}{key_json}: {dump(rest, indent, unit, nl)}{trailing}{nl}"
        if line_end == len(text) or text[line_end - 1] != "\n":
            line = nl + line.rstrip("\r\n")
        new = text[:line_end] + line + text[line_end:]
        if last.comma is None:
            new = new[: last.value.end] + "," + new[last.value.end :]
        return new
    # One-line object such as {"a": 1}: stay on that line.
    piece = f" {key_json}: {json.dumps(rest, ensure_ascii=False)}"
    if last.comma is None:
        piece = "," + piece
    return text[:after] + piece + text[after:]


def _rest_of_line_end(text: str, i: int) -> int | None:
    """If only blanks and comments follow `i` on its line, the index just past that line."""
    n = len(text)
    while i < n:
        if text[i] in " \t\r":
            i += 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            return n if j < 0 else j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0 or "\n" in text[i:j]:
                return None
            i = j + 2
        elif text[i] == "\n":
            return i + 1
        else:
            return None
    return n

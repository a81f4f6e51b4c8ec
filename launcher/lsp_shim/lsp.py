"""What the shim understands of LSP messages: pure functions over message bodies."""

from __future__ import annotations

from lsp_shim.jsonfast import dumps, loads, loads_utf8_strings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# A message this large takes milliseconds to decode (holding the GIL): the replay state decodes
# it only in a quiet moment, and its relay wakes the controller so that moment is noticed.
BIG = 1 << 20

# Methods the relay must notice on the client→server path; everything else passes unread.
_WATCHED = (b'"initialize"', b'"shutdown"', b'"exit"')


def peek(body: bytes | bytearray, keys: dict[str, bytes] | None = None) -> dict[str, Any] | None:
    """The decoded message if it may be one the relay reacts to, else None (the common case).

    The head (or else a C-speed substring test) skips decoding for almost every message;
    `keys` is `head(body)` when the caller already has it.
    """
    method = method_of(body, keys)
    if method is not None:
        if method not in ("initialize", "shutdown", "exit"):
            return None
    elif not _names_watched(body):
        return None
    try:
        msg = loads(body)
    except ValueError:
        return None
    return msg if isinstance(msg, dict) else None


_ROUTINE_MAX = 4096


def routine(body: bytes | bytearray) -> bool:
    """True when `peek(body)` is None for certain, told by three C-speed searches of a small
    body: such a message can go on before its head is read. False says nothing."""
    return len(body) <= _ROUTINE_MAX and not _names_watched(body)


def _names_watched(body: bytes | bytearray) -> bool:
    """A watched method name appears anywhere in the body (three C-speed searches)."""
    init, shutdown, exit_ = _WATCHED
    return body.find(init) >= 0 or body.find(shutdown) >= 0 or body.find(exit_) >= 0


_ANSWER = b'{"jsonrpc":"2.0","id":'


def answer_id(body: bytes | bytearray) -> str | None:
    """The id key (see `id_key`) of a response written as servers write them,
    `{"jsonrpc":"2.0","id":<int>,"result"` (or `"error"`), read in well under a microsecond;
    None says nothing."""
    if not body.startswith(_ANSWER):
        return None
    start = len(_ANSWER)
    comma = body.find(b",", start, start + 21)
    token = body[start:comma]
    if comma < 0 or not token.isdigit() or (token[:1] == b"0" and len(token) > 1):
        return None
    for member in (b'"result":', b'"error":'):
        if body.startswith(member, comma + 1):
            value = comma + 1 + len(member)
            # A nested value ends what head() reads; after a plain one, a "method" member
            # could follow and make it no answer (as is_response judges it).
            if body[value : value + 1] in (b"{", b"[") or body.find(b'"method"') < 0:
                return token.decode()
    return None


def decode(body: bytes | bytearray) -> dict[str, Any] | None:
    """The decoded message, or None when it is not a JSON object."""
    try:
        msg = loads(body)
    except ValueError:
        return None
    return msg if isinstance(msg, dict) else None


_TEXTS = ("textDocument/didOpen", "textDocument/didChange")


def decode_texts(body: bytes | bytearray) -> dict[str, Any] | None:
    """decode() for a big message; in a didOpen or didChange, a `text` of BIG bytes or more (the
    document's text) stays UTF-8 bytes (see jsonfast.loads_utf8_strings)."""
    if method_of(body) not in _TEXTS:
        return decode(body)
    try:
        msg = loads_utf8_strings(body, BIG)
    except ValueError:
        return None
    return msg if isinstance(msg, dict) else None


_WS = frozenset(b" \t\r\n")
_QUOTE, _COLON, _COMMA, _OBJECT, _ARRAY, _BACKSLASH = b'":,{[\\'
_TOKEN_END = frozenset(b",} \t\r\n")


def _string_end(text: bytes, start: int) -> int:
    """Index of the quote closing the JSON string that opens at `start`, or -1."""
    end = text.find(b'"', start + 1)
    while end >= 0:
        backslashes = len(text[start + 1 : end]) - len(text[start + 1 : end].rstrip(b"\\"))
        if backslashes % 2 == 0:
            return end
        end = text.find(b'"', end + 1)
    return -1


def _compact_head(text: bytes, whole: bool) -> dict[str, bytes] | None:
    """head() for compact JSON without escapes; None when the text is not that simple."""
    # (find() rather than `in`: `in` on bytes first tries the needle as an int, and the
    # TypeError it formats and clears costs more than the search.)
    if text[:2] != b'{"' or text.find(b"\\") >= 0:
        return None
    nested = text.find(b"{", 1)
    other = text.find(b"[", 1)
    if other >= 0 and (other < nested or nested < 0):
        nested = other
    if nested >= 0:
        prefix = text[1:nested]
    elif whole and text[-1:] == b"}":
        prefix = text[1:-1]
    else:
        return None
    if len(prefix.split()) != 1:  # whitespace (or worse) between tokens
        return None
    keys: dict[str, bytes] = {}
    value = b""
    for part in prefix.split(b","):
        # `"key":value`; a comma or bracket inside a string shows as a part that is not
        # exactly that shape, and then the general loop decides.
        close = part.find(b'"', 1)
        if close < 0 or part[:1] != b'"' or part[close + 1 : close + 2] != b":":
            return None
        value = part[close + 2 :]
        quotes = value.count(b'"')
        if quotes and (quotes != 2 or value[:1] != b'"' or value[-1:] != b'"'):
            return None
        keys[part[1:close].decode("ascii", "replace")] = value
    if nested >= 0 and value:
        return None  # the bracket did not open the last key's value
    return keys


def head(body: bytes | bytearray) -> dict[str, bytes] | None:
    """The leading top-level keys with simple values (raw JSON tokens), read from the first
    bytes only; the first key with an object or array value maps to b"". None if unreadable.

    Keys before the first nested value are top-level for certain, so this classifies most
    messages ({"jsonrpc":"2.0","id":1,"result":…}, {"jsonrpc":"2.0","method":"x",…}) without
    scanning or decoding the body. It runs on every message, so the loop is written for speed
    (byte values compared as ints, whitespace skipped inline), after a shortcut for the
    compact JSON nearly every client and server writes.
    """
    text = bytes(body[:256])
    compact = _compact_head(text, len(body) <= 256)
    if compact is not None:
        return compact
    n = len(text)
    i = 0
    while i < n and text[i] in _WS:
        i += 1
    if i >= n or text[i] != _OBJECT:
        return None
    keys: dict[str, bytes] = {}
    i += 1
    while True:
        while i < n and text[i] in _WS:
            i += 1
        if i >= n or text[i] != _QUOTE:
            return keys
        end = text.find(b'"', i + 1)
        if end < 0:
            return keys  # cut off by the bytes read
        key = text[i + 1 : end].decode("ascii", "replace")
        i = end + 1
        while i < n and text[i] in _WS:
            i += 1
        if i >= n:
            return keys
        if text[i] != _COLON:
            return None
        i += 1
        while i < n and text[i] in _WS:
            i += 1
        if i >= n:
            return keys
        first = text[i]
        if first in (_OBJECT, _ARRAY):
            keys[key] = b""
            return keys
        if first == _QUOTE:
            end = text.find(b'"', i + 1)
            if end > 0 and text[end - 1] == _BACKSLASH:
                end = _string_end(text, i)
            if end < 0:
                return keys
            keys[key] = text[i : end + 1]
            i = end + 1
        else:
            j = i
            while j < n and text[j] not in _TOKEN_END:
                j += 1
            if j >= n:
                return keys
            keys[key] = text[i:j]
            i = j
        while i < n and text[i] in _WS:
            i += 1
        if i >= n or text[i] != _COMMA:
            return keys
        i += 1


def is_response(body: bytes | bytearray, keys: dict[str, bytes] | None = None) -> bool:
    """A response (no top-level "method"), told from the head when it can be, else by a scan."""
    keys = keys or head(body)
    if keys:
        if "method" in keys:
            return False
        if "result" in keys or "error" in keys:
            return True
    return b'"method"' not in body


def method_of(body: bytes | bytearray, keys: dict[str, bytes] | None = None) -> str | None:
    """The method named in the head, or None when the head does not say."""
    keys = keys or head(body)
    token = keys.get("method") if keys else None
    if not token or token[:1] != b'"' or token.find(b"\\") >= 0:
        return None  # absent, or escaped (never in practice): the caller falls back to a scan
    return token[1:-1].decode("utf-8", "replace")


def id_key(rid: object) -> str:
    """The key a request id is tracked by: its compact JSON (one spelling per value)."""
    # Ids are almost always small ints or plain strings: skip the encoder (~5 µs) for those.
    if type(rid) is int:
        return str(rid)
    if type(rid) is str and rid.isascii() and rid.isprintable() and not ('"' in rid or "\\" in rid):
        return f'"{rid}"'
    return dumps(rid).decode()


def head_id(keys: dict[str, bytes] | None) -> object:
    """The id a message's head holds (see `head`), decoded; None when absent, null or unreadable."""
    token = keys.get("id") if keys else None
    if not token:
        return None
    try:
        return loads(token)
    except ValueError:
        return None


def leading_id(body: bytes | bytearray, keys: dict[str, bytes] | None = None) -> str | None:
    """The request-id key (see `id_key`) when the head of the message holds the id, read without
    decoding the body; exact when not None (see `head`). `keys` is `head(body)` if known."""
    # Decoded first so "\u00e9" and "é", or 1e3 and 1000.0, give the same key.
    rid = head_id(keys or head(body))
    return None if rid is None else id_key(rid)


def is_response_to(body: bytes | bytearray, request_id: object) -> dict[str, Any] | None:
    """The decoded message if it answers `request_id`."""
    if b'"result"' not in body and b'"error"' not in body:
        return None
    msg = decode(body)
    if msg is None or "method" in msg or msg.get("id") != request_id:
        return None
    return msg


def uri_to_path(uri: str, windows: bool) -> str | None:
    """Path of a file: URI (percent-decoded; drive letters on Windows); None for other schemes."""
    if not uri.startswith("file:"):
        return None
    rest = uri[5:]
    if rest.startswith("//"):
        rest = rest[2:]
        slash = rest.find("/")
        host, rest = (rest, "") if slash < 0 else (rest[:slash], rest[slash:])
        if host and host != "localhost":
            rest = "//" + host + rest  # UNC share
    path = _unquote(rest)
    if windows:
        if len(path) >= 3 and path[0] == "/" and path[2] == ":":
            path = path[1:]
        path = path.replace("/", "\\")
    return path or None


def _unquote(text: str) -> str:
    """Percent-decoding without importing urllib (its `re` import costs milliseconds)."""
    if "%" not in text:
        return text
    out = bytearray()
    i = 0
    raw = text.encode("utf-8")
    while i < len(raw):
        c = raw[i]
        if c == 0x25 and i + 2 < len(raw) + 0 and _ishex(raw[i + 1 : i + 3]):
            out.append(int(raw[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(c)
            i += 1
    return out.decode("utf-8", "replace")


def _ishex(pair: bytes) -> bool:
    return len(pair) == 2 and all(chr(b) in "0123456789abcdefABCDEF" for b in pair)


def workspace_root(params: dict[str, Any], windows: bool) -> str | None:
    """The first workspace folder, else rootUri, else rootPath of `initialize` params."""
    folders = params.get("workspaceFolders")
    if isinstance(folders, list):
        for folder in folders:
            if isinstance(folder, dict) and isinstance(folder.get("uri"), str):
                path = uri_to_path(folder["uri"], windows)
                if path:
                    return path
    uri = params.get("rootUri")
    if isinstance(uri, str):
        path = uri_to_path(uri, windows)
        if path:
            return path
    root = params.get("rootPath")
    return root if isinstance(root, str) and root else None


def answer_without_server(body: bytes | bytearray, why: str) -> tuple[bytes | None, bool]:
    """While no server can run: (the reply to this editor message or None, whether it is
    `exit`). shutdown succeeds, every other request fails with `why`."""
    msg = decode(body) or {}
    method = msg.get("method")
    if method == "exit":
        return None, True
    if "id" not in msg or not isinstance(method, str):
        return None, False
    if method == "shutdown":
        return result_response(msg["id"], None), False
    return error_response(msg["id"], SERVER_NOT_INITIALIZED, f"lsp-shim: {why}"), False


def frame(message: dict[str, Any]) -> bytes:
    """A whole framed message the shim composes itself."""
    body = dumps(message)
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def error_response(request_id: object, code: int, message: str) -> bytes:
    return frame({"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}})


def result_response(request_id: object, result: object) -> bytes:
    return frame({"jsonrpc": "2.0", "id": request_id, "result": result})


def show_message(text: str, kind: int = 2) -> bytes:
    """window/showMessage (1 error, 2 warning, 3 info, 4 log)."""
    return frame(
        {
            "jsonrpc": "2.0",
            "method": "window/showMessage",
            "params": {"type": kind, "message": text},
        }
    )


def log_message(text: str, kind: int = 3) -> bytes:
    return frame(
        {"jsonrpc": "2.0", "method": "window/logMessage", "params": {"type": kind, "message": text}}
    )


INTERNAL_ERROR = -32603
REQUEST_FAILED = -32803
SERVER_NOT_INITIALIZED = -32002

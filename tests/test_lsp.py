"""lsp.py: file URIs to paths on both platforms, the workspace root of initialize, messages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lsp_shim import lsp


@pytest.mark.parametrize(
    "uri,path",
    [
        ("file:///home/me/proj", "/home/me/proj"),
        ("file:///home/me/my%20proj/a.py", "/home/me/my proj/a.py"),
        ("file:///tmp/caf%C3%A9", "/tmp/café"),
        ("file:///tmp/café", "/tmp/café"),  # not encoded at all (some clients)
        ("file:///tmp/100%25", "/tmp/100%"),
        ("file:///tmp/a%zzb", "/tmp/a%zzb"),  # a lone % is kept, not an error
        ("file:///tmp/end%2", "/tmp/end%2"),
        ("file://localhost/etc/x", "/etc/x"),
        ("file:/tmp/short", "/tmp/short"),
        ("file:///", "/"),
    ],
)
def test_uri_to_path_posix(uri: str, path: str) -> None:
    assert lsp.uri_to_path(uri, windows=False) == path


@pytest.mark.parametrize(
    "uri,path",
    [
        ("file:///c%3A/Users/me/proj", "c:\\Users\\me\\proj"),  # VS Code's spelling
        ("file:///C:/Users/me/proj", "C:\\Users\\me\\proj"),
        ("file:///d%3a/x%20y", "d:\\x y"),
        ("file:///C:", "C:"),
        ("file:///Z:/tmp/caf%C3%A9", "Z:\\tmp\\café"),
        ("file://server/share/dir", "\\\\server\\share\\dir"),  # UNC
        ("file://localhost/C:/x", "C:\\x"),
    ],
)
def test_uri_to_path_windows(uri: str, path: str) -> None:
    assert lsp.uri_to_path(uri, windows=True) == path


@pytest.mark.parametrize("uri", ["untitled:Untitled-1", "vscode-remote://ssh/x", "http://x/y", ""])
def test_uri_to_path_other_schemes(uri: str) -> None:
    assert lsp.uri_to_path(uri, windows=False) is None
    assert lsp.uri_to_path(uri, windows=True) is None


@pytest.mark.parametrize(
    "params,root",
    [
        (
            {
                "workspaceFolders": [
                    {"uri": "file:///ws/first", "name": "a"},
                    {"uri": "file:///ws/second", "name": "b"},
                ],
                "rootUri": "file:///ws/root",
                "rootPath": "/ws/path",
            },
            "/ws/first",
        ),
        ({"workspaceFolders": None, "rootUri": "file:///ws/root", "rootPath": "/p"}, "/ws/root"),
        ({"workspaceFolders": [], "rootUri": None, "rootPath": "/ws/path"}, "/ws/path"),
        # A folder that is not a file: URI is passed over, not fatal.
        (
            {"workspaceFolders": [{"uri": "untitled:x"}, {"uri": "file:///ws/b"}]},
            "/ws/b",
        ),
        ({"workspaceFolders": [{"name": "no uri"}, 3, "x"], "rootUri": 5}, None),
        ({"rootPath": ""}, None),
        ({}, None),
    ],
)
def test_workspace_root(params: dict[str, Any], root: str | None) -> None:
    assert lsp.workspace_root(params, windows=False) == root


def test_workspace_root_windows() -> None:
    params = {"workspaceFolders": [{"uri": "file:///c%3A/Users/me/proj", "name": "proj"}]}
    assert lsp.workspace_root(params, windows=True) == "c:\\Users\\me\\proj"


def test_peek_decodes_only_lifecycle_messages() -> None:
    assert lsp.peek(b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}') == {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {},
    }
    assert lsp.peek(b'{"jsonrpc":"2.0","method":"textDocument/didChange"}') is None
    assert lsp.peek(b'{"method":"exit"') is None  # broken JSON is never fatal
    assert lsp.peek(b'["exit"]') is None


def test_is_response_to() -> None:
    answer = b'{"jsonrpc":"2.0","id":7,"result":{"capabilities":{}}}'
    assert lsp.is_response_to(answer, 7) is not None
    assert lsp.is_response_to(answer, 8) is None
    assert lsp.is_response_to(b'{"jsonrpc":"2.0","id":7,"method":"x","result":1}', 7) is None
    assert lsp.is_response_to(b'{"jsonrpc":"2.0","id":"7","error":{}}', "7") is not None


def _unframe(data: bytes) -> dict[str, Any]:
    header, _, body = data.partition(b"\r\n\r\n")
    assert header == b"Content-Length: %d" % len(body)
    value = json.loads(body)
    assert isinstance(value, dict)
    return value


def test_composed_messages_are_framed_json() -> None:
    err = _unframe(lsp.error_response(3, lsp.REQUEST_FAILED, "ruff not found — é"))
    assert err == {
        "jsonrpc": "2.0",
        "id": 3,
        "error": {"code": -32803, "message": "ruff not found — é"},
    }
    assert _unframe(lsp.result_response("a", None)) == {"jsonrpc": "2.0", "id": "a", "result": None}
    shown = _unframe(lsp.show_message("hello", 1))
    assert shown["method"] == "window/showMessage" and shown["params"] == {
        "type": 1,
        "message": "hello",
    }
    logged = _unframe(lsp.log_message("hi"))
    assert logged["method"] == "window/logMessage" and logged["params"]["type"] == 3


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (b'{"jsonrpc":"2.0","id":5,"result":null}', "5"),
        (b' {\r\n "jsonrpc" : "2.0" , "id" : "x" , "result": 1}', '"x"'),
        (b'{"id":"caf\\u00e9","result":1}', '"caf\xe9"'),  # escapes normalised like dumps()
        (b'{"id":-3,"error":{}}', "-3"),
        (b'{"result":1,"id":3}', "3"),  # both keys come before any nested value: top-level
        (b'{"result":{"id":1},"id":3}', None),  # after a nested value: the caller decodes
        (b'{"jsonrpc":"2.0","method":"x","params":{"id":1}}', None),  # nested id is not the id
        (b'{"id":"a\\"b"}', '"a\\"b"'),  # an escaped quote inside the id
        (b"[]", None),
    ],
)
def test_leading_id(body: bytes, key: str | None) -> None:
    from lsp_shim.lsp import leading_id

    assert leading_id(body) == key


@pytest.mark.parametrize(
    ("body", "response", "method"),
    [
        (b'{"jsonrpc":"2.0","id":5,"result":{"method":"x"}}', True, None),  # nested "method"
        (b'{"jsonrpc":"2.0","id":5,"result":null}', True, None),
        (b'{"jsonrpc":"2.0","id":2,"error":{"code":1}}', True, None),
        (
            b'{"jsonrpc":"2.0","method":"textDocument/didChange","params":{}}',
            False,
            "textDocument/didChange",
        ),
        (
            b'{"jsonrpc":"2.0","id":1,"method":"client/registerCapability"}',
            False,
            "client/registerCapability",
        ),
        (b'{"params":{"x":1},"method":"exit","jsonrpc":"2.0"}', False, None),  # head says nothing
        (b'{"params":{"x":1},"id":3,"result":1}', True, None),  # a scan decides
    ],
)
def test_head_classifies_without_decoding(body: bytes, response: bool, method: str | None) -> None:
    assert lsp.is_response(body) is response
    assert lsp.method_of(body) == method
    assert (lsp.peek(body) is not None) is (
        json.loads(body).get("method") in ("initialize", "shutdown", "exit")
    )


_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    # Quotes, backslashes, control and non-ASCII characters: what escaping gets wrong.
    | st.text(
        st.sampled_from('a"\\é漢\n\x01/𝄞,:{}[] ') | st.characters(exclude_categories=["Cs"]),
        max_size=40,
    )
)
_values = _scalars | st.lists(_scalars, max_size=3) | st.dictionaries(st.text(max_size=5), _scalars)
_keys = st.sampled_from(["jsonrpc", "id", "method", "result", "error", "params", "x-y"])


@given(
    pairs=st.lists(st.tuples(_keys, _values), max_size=6, unique_by=lambda kv: kv[0]),
    spaces=st.sampled_from(["", " ", "\r\n  ", "\t"]),
    ascii_only=st.booleans(),
)
@settings(max_examples=400, deadline=None)
def test_head_agrees_with_a_full_decode(
    pairs: list[tuple[str, Any]], spaces: str, ascii_only: bool
) -> None:
    """Every key head() reports is a top-level key with exactly that value, and it reports each
    key that precedes the first nested value (when those fit in the bytes it reads)."""
    sep = (spaces + "," + spaces, spaces + ":" + spaces)
    text = (
        spaces + "{" + spaces + json.dumps(dict(pairs), separators=sep, ensure_ascii=ascii_only)[1:]
    )
    body = text.encode()
    truth = json.loads(body)
    keys = lsp.head(body)
    assert keys is not None
    for key, token in keys.items():
        assert key in truth
        if token == b"":
            assert isinstance(truth[key], (dict, list))
        else:
            assert json.loads(token) == truth[key]
    # What must be found: the keys up to and including the first nested value, when the bytes
    # up to that value's first character (or a last scalar's end) fit in what head() reads.
    expected: list[tuple[str, Any]] = []
    for key, value in pairs:
        nested = isinstance(value, (dict, list))
        expected.append((key, 0 if nested else value))
        if nested:
            break
    probe = json.dumps(dict(expected), separators=sep, ensure_ascii=ascii_only).encode()
    if 2 * len(spaces) + len(probe) < 250:
        assert list(keys) == [key for key, _ in expected]


@given(
    rid=st.integers()
    | st.text(st.sampled_from('a"\\é\x7f\x01 /') | st.characters(exclude_categories=["Cs"]))
    | st.floats(allow_nan=False)
    | st.none()
    | st.booleans()
)
@example(rid="0" * 8 + "\x1f" * 60)  # escapes make its token longer than what head() reads
def test_id_key_is_the_compact_json_of_the_id(rid: object) -> None:
    assert lsp.id_key(rid) == json.dumps(rid, ensure_ascii=False, separators=(",", ":"))
    body = json.dumps({"jsonrpc": "2.0", "id": rid, "result": None}).encode()
    if rid is None:
        assert lsp.leading_id(body) is None
    elif len(body) <= 200:  # the id lies within the bytes head() reads
        assert lsp.leading_id(body) == lsp.id_key(rid)
    else:  # a very long id may be cut off: then no key, never a wrong one
        assert lsp.leading_id(body) in (None, lsp.id_key(rid))


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (b'{"jsonrpc":"2.0","id":47,"result":[{"newText":"x"}]}', "47"),
        (b'{"jsonrpc":"2.0","id":0,"error":{"code":-32800}}', "0"),
        (bytearray(b'{"jsonrpc":"2.0","id":3,"result":null}'), "3"),
        (b'{"jsonrpc":"2.0","id":1,"method":"client/registerCapability"}', None),  # a request
        (b'{"jsonrpc":"2.0","id":"a","result":1}', None),  # a string id: the head decides
        (b'{"jsonrpc":"2.0","id":-1,"result":1}', None),
        (b'{"jsonrpc":"2.0","id":007,"result":1}', None),  # not JSON: never a wrong key
        (b'{"jsonrpc":"2.0","id":1 ,"result":1}', None),
        (b'{"jsonrpc": "2.0", "id": 1, "result": 1}', None),  # not compact: the head decides
        (b'{"jsonrpc":"2.0","id":' + b"9" * 30 + b',"result":1}', None),  # too long to look at
        (b'{"jsonrpc":"2.0","id":5', None),
        (b'{"jsonrpc":"2.0","id":2,"result":null}', "2"),
        (b'{"jsonrpc":"2.0","id":0,"result":null,"method":null}', None),  # what the head says
        (b'{"jsonrpc":"2.0","id":0,"result":[],"method":"x"}', "0"),  # the head stops at []
    ],
)
def test_answer_id_reads_the_common_answer_only(body: bytes, key: str | None) -> None:
    assert lsp.answer_id(body) == key
    if key is not None:
        assert lsp.is_response(body) and lsp.leading_id(body) == key


@pytest.mark.parametrize(
    ("body", "routine"),
    [
        (b'{"jsonrpc":"2.0","id":4,"method":"textDocument/formatting","params":{}}', True),
        (b'{"jsonrpc":"2.0","method":"exit"}', False),
        (b'{"jsonrpc":"2.0","id":9,"method":"shutdown"}', False),
        (b'{"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}', False),
        (b'{"method":"x","params":{"name":"exit"}}', False),  # a false alarm costs only time
        (b'{"method":"x","params":{"t":"' + b"a" * 5000 + b'"}}', False),  # big: not searched
    ],
)
def test_routine_only_when_peek_has_nothing_to_say(body: bytes, routine: bool) -> None:
    assert lsp.routine(body) is routine
    if routine:
        assert lsp.peek(body) is None


@given(
    pairs=st.lists(st.tuples(_keys, _values), max_size=6, unique_by=lambda kv: kv[0]),
    method=st.sampled_from(["initialize", "shutdown", "exit", "textDocument/hover", None]),
    rid=st.none() | st.integers(-5, 10**9) | st.text(max_size=5),
    compact=st.booleans(),
)
@example(pairs=[("result", None), ("method", None)], method=None, rid=0, compact=True)
@settings(max_examples=400, deadline=None)
def test_shortcuts_agree_with_the_head(
    pairs: list[tuple[str, Any]], method: str | None, rid: object, compact: bool
) -> None:
    """`routine` never hides a message peek() would decode; `answer_id` only names a response,
    by the key leading_id() gives."""
    msg: dict[str, Any] = {"jsonrpc": "2.0"}
    if rid is not None:
        msg["id"] = rid
    if method is not None:
        msg["method"] = method
    msg.update(pairs)
    sep = (",", ":") if compact else (", ", ": ")
    body = json.dumps(msg, separators=sep, ensure_ascii=False).encode()
    if lsp.routine(body):
        assert lsp.peek(body) is None
    key = lsp.answer_id(body)
    if key is not None:
        assert lsp.is_response(body)
        assert lsp.leading_id(body) == key

"""The replay state as plain data: what a replacement server is told, message by message."""

from __future__ import annotations

from typing import Any

from lsp_shim.docstate import ClientState, lsp_lines


def note(method: str, params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": method, "params": params}


def rng(l1: int, c1: int, l2: int, c2: int) -> dict[str, Any]:
    return {"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}}


def test_lsp_lines_break_only_on_lsp_line_endings() -> None:
    assert lsp_lines("a\fb\u2028c\x85d\r\ne\rf\ng") == ["a\fb\u2028c\x85d\r\n", "e\r", "f\n", "g"]
    assert lsp_lines("") == []
    assert lsp_lines("x\n") == ["x\n"]


def test_initialize_params_follow_workspace_folder_changes() -> None:
    s = ClientState()
    a, b, c = ({"uri": f"file:///{n}", "name": n} for n in "abc")
    s.observe(
        {
            "id": 1,
            "method": "initialize",
            "params": {"rootUri": "file:///a", "workspaceFolders": [a, b]},
        }
    )
    s.observe(
        note("workspace/didChangeWorkspaceFolders", {"event": {"added": [c], "removed": [a]}})
    )
    params = s.initialize_params()
    assert params["workspaceFolders"] == [b, c]
    assert params["rootUri"] == "file:///a"
    assert s.init_params is not None and s.init_params["workspaceFolders"] == [a, b]  # not mutated


def test_replay_order_configuration_and_documents() -> None:
    s = ClientState()
    s.observe(note("workspace/didChangeConfiguration", {"settings": {"ruff": {"lineLength": 88}}}))
    doc = {"uri": "file:///x.py", "languageId": "python", "version": 1, "text": "a = 1\nb = 2\n"}
    s.observe(note("textDocument/didOpen", {"textDocument": doc}))
    s.observe(
        note(
            "textDocument/didChange",
            {
                "textDocument": {"uri": doc["uri"], "version": 5},
                "contentChanges": [
                    {"range": rng(1, 4, 1, 5), "text": "3"},
                    {"range": rng(2, 0, 2, 0), "text": "c = 😀\n"},
                ],
            },
        )
    )
    s.observe(note("textDocument/didOpen", {"textDocument": {**doc, "uri": "file:///gone.py"}}))
    s.observe(note("textDocument/didClose", {"textDocument": {"uri": "file:///gone.py"}}))
    out = s.replay()
    assert [m["method"] for m in out] == [
        "initialized",
        "workspace/didChangeConfiguration",
        "textDocument/didOpen",
    ]
    assert out[1]["params"] == {"settings": {"ruff": {"lineLength": 88}}}
    assert out[2]["params"]["textDocument"] == {
        "uri": "file:///x.py",
        "languageId": "python",
        "version": 5,
        "text": "a = 1\nb = 3\nc = 😀\n",
    }


def test_full_change_replaces_text() -> None:
    s = ClientState()
    s.observe(
        note(
            "textDocument/didOpen",
            {"textDocument": {"uri": "u", "languageId": "python", "version": 1, "text": "old"}},
        )
    )
    s.observe(
        note(
            "textDocument/didChange",
            {"textDocument": {"uri": "u", "version": 2}, "contentChanges": [{"text": "new"}]},
        )
    )
    assert s.text_of("u") == "new"


def test_utf8_positions_after_negotiation() -> None:
    s = ClientState()
    s.set_encoding({"positionEncoding": "utf-8"})
    s.observe(
        note(
            "textDocument/didOpen",
            {"textDocument": {"uri": "u", "languageId": "python", "version": 1, "text": "é😀x\n"}},
        )
    )
    # 'x' starts at byte 6 (é = 2 bytes, 😀 = 4 bytes).
    s.observe(
        note(
            "textDocument/didChange",
            {
                "textDocument": {"uri": "u", "version": 2},
                "contentChanges": [{"range": rng(0, 6, 0, 7), "text": "y"}],
            },
        )
    )
    assert s.text_of("u") == "é😀y\n"


def test_notebooks_replay_with_their_cells() -> None:
    s = ClientState()
    nb_uri = "file:///n.ipynb"

    def cell(n: int) -> dict[str, Any]:
        return {"kind": 2, "document": f"vscode-notebook-cell:/n.ipynb#{n}"}

    def item(n: int, text: str) -> dict[str, Any]:
        uri = f"vscode-notebook-cell:/n.ipynb#{n}"
        return {"uri": uri, "languageId": "python", "version": 1, "text": text}

    s.observe(
        note(
            "notebookDocument/didOpen",
            {
                "notebookDocument": {
                    "uri": nb_uri,
                    "notebookType": "jupyter-notebook",
                    "version": 1,
                    "cells": [cell(1), cell(2)],
                },
                "cellTextDocuments": [item(1, "import os\n"), item(2, "x=1\n")],
            },
        )
    )
    s.observe(
        note(
            "notebookDocument/didChange",
            {
                "notebookDocument": {"uri": nb_uri, "version": 2},
                "change": {
                    "cells": {
                        "structure": {
                            "array": {"start": 1, "deleteCount": 1, "cells": [cell(3)]},
                            "didOpen": [item(3, "y=2\n")],
                            "didClose": [{"uri": item(2, "")["uri"]}],
                        },
                        "textContent": [
                            {
                                "document": {"uri": item(1, "")["uri"], "version": 2},
                                "changes": [{"range": rng(0, 7, 0, 9), "text": "sys"}],
                            }
                        ],
                    }
                },
            },
        )
    )
    out = s.replay()
    assert [m["method"] for m in out] == ["initialized", "notebookDocument/didOpen"]
    params = out[1]["params"]
    assert params["notebookDocument"]["version"] == 2
    assert [c["document"] for c in params["notebookDocument"]["cells"]] == [
        cell(1)["document"],
        cell(3)["document"],
    ]
    assert [d["text"] for d in params["cellTextDocuments"]] == ["import sys\n", "y=2\n"]
    s.observe(
        note(
            "notebookDocument/didClose",
            {"notebookDocument": {"uri": nb_uri}, "cellTextDocuments": []},
        )
    )
    assert s.replay() == [note("initialized", {})]


def test_long_edit_logs_are_folded(monkeypatch: Any) -> None:
    from lsp_shim import docstate

    monkeypatch.setattr(docstate, "COMPACT", 3)
    s = ClientState()
    uri = "file:///x.py"
    item = {"uri": uri, "languageId": "python", "version": 1, "text": "abc\n"}
    s.observe(note("textDocument/didOpen", {"textDocument": item}))
    doc = s.documents[uri]
    for version in range(2, 6):
        change = {"range": rng(0, 0, 0, 0), "text": str(version)}
        s.observe(
            note(
                "textDocument/didChange",
                {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]},
            )
        )
    assert len(doc.log) <= 3  # folded once it passed the bound
    assert s.text_of(uri) == "5432abc\n" and doc.log == [] and doc.version == 5


def test_long_wide_texts_are_kept_as_utf8(monkeypatch: Any) -> None:
    """A str with one emoji takes 4 bytes per character; the state keeps such texts as UTF-8
    and gives back exactly what it was told, lone surrogates (from JSON escapes) included."""
    from lsp_shim import docstate

    monkeypatch.setattr(docstate, "PACK", 1000)
    s = ClientState()
    wide = "naïve 😀 — \ud800 " + "x" * 2000 + "\n"
    latin = "naïve " + "x" * 2000 + "\n"  # one byte per character as a str: left alone
    for uri, text in (("w", wide), ("l", latin), ("short", "😀")):
        item = {"uri": uri, "languageId": "python", "version": 1, "text": text}
        s.observe(note("textDocument/didOpen", {"textDocument": item}))
    assert isinstance(s.documents["w"].text, bytes)
    assert len(s.documents["w"].text) < len(wide) * 2
    assert isinstance(s.documents["l"].text, str) and isinstance(s.documents["short"].text, str)
    assert s.text_of("w") == wide and s.text_of("l") == latin and s.text_of("short") == "😀"
    # Edits apply to the packed text, and a whole-text change is packed too.
    change = {"range": rng(0, 0, 0, 5), "text": "naive"}
    s.observe(
        note(
            "textDocument/didChange",
            {"textDocument": {"uri": "w", "version": 2}, "contentChanges": [change]},
        )
    )
    assert s.text_of("w") == "naive" + wide[5:]
    assert isinstance(s.documents["w"].text, bytes)
    s.observe(
        note(
            "textDocument/didChange",
            {"textDocument": {"uri": "l", "version": 2}, "contentChanges": [{"text": wide}]},
        )
    )
    assert isinstance(s.documents["l"].text, bytes) and s.text_of("l") == wide


def test_texts_given_as_utf8_bytes() -> None:
    """A big message's strings arrive as UTF-8 bytes (lsp.decode_texts): kept as they are,
    applied as text, replayed as text."""
    s = ClientState()
    text = "naïve 😀\nsecond line\n"
    item = {"uri": "u", "languageId": "python", "version": 1, "text": text.encode()}
    s.observe(note("textDocument/didOpen", {"textDocument": item}))
    assert s.documents["u"].text == text.encode()
    change = {"range": rng(1, 0, 1, 6), "text": "2nd 😀".encode()}
    s.observe(
        note(
            "textDocument/didChange",
            {"textDocument": {"uri": "u", "version": 2}, "contentChanges": [change]},
        )
    )
    assert s.text_of("u") == "naïve 😀\n2nd 😀 line\n"
    whole = {"text": "all new ✓".encode()}
    s.observe(
        note(
            "textDocument/didChange",
            {"textDocument": {"uri": "u", "version": 3}, "contentChanges": [whole]},
        )
    )
    (opened,) = [m for m in s.replay() if m["method"] == "textDocument/didOpen"]
    assert opened["params"]["textDocument"]["text"] == "all new ✓"


def test_messages_of_the_wrong_shape_are_skipped() -> None:
    """The server rejects them; tracking goes on with the next message, and nothing a replay
    would choke on enters an edit log."""
    s = ClientState()
    good = {"uri": "u", "languageId": "python", "version": 1, "text": "a\nb\n"}
    bad_opens: list[Any] = [5, {"text": "x"}, {"uri": 5, "text": "x"}, {"uri": "v", "text": 5}]
    for td in [*bad_opens, good]:
        s.observe(note("textDocument/didOpen", {"textDocument": td}))
    assert list(s.documents) == ["u"]
    bad_changes: list[Any] = [
        5,
        [5],
        [{"text": 5}],
        [{"range": 5, "text": "x"}],
        [{"range": {"start": {"line": "0", "character": 0}, "end": {}}, "text": "x"}],
        [{"range": rng(0, 0, 0, -1), "text": "x"}],
        [{"range": rng(0, 0, 0, 0), "text": "ok"}, {"range": {"start": None}, "text": "x"}],
    ]
    for changes in bad_changes:
        s.observe(
            note(
                "textDocument/didChange",
                {"textDocument": {"uri": "u", "version": 9}, "contentChanges": changes},
            )
        )
    s.observe(note("textDocument/didChange", {"textDocument": 5, "contentChanges": []}))
    s.observe(note("textDocument/didClose", {"textDocument": {"uri": 5}}))
    s.observe(note("textDocument/didClose", {}))
    doc = s.documents["u"]
    assert doc.log == [] and doc.version == 1 and s.text_of("u") == "a\nb\n"
    change = {"range": rng(1, 0, 1, 1), "text": "B"}
    s.observe(
        note(
            "textDocument/didChange",
            {"textDocument": {"uri": "u", "version": 2}, "contentChanges": [change]},
        )
    )
    assert s.text_of("u") == "a\nB\n"

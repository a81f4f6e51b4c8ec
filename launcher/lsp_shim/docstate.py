"""What the editor has told the server so far, kept so a fresh server can be brought to the same
state: initialize params, workspace folders, configuration, open text and notebook documents.

Plain data over decoded messages; pygls' document model is imported on the first open document,
never on the startup path.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeGuard

    from pygls.workspace import TextDocument


def lsp_lines(text: str) -> list[str]:
    """Lines with their endings, split the LSP way.

    LSP breaks lines only on \n, \r\n and \r; str.splitlines also breaks on \f, \v,
    \x1c-\x1e, \x85, U+2028 and U+2029, which would put every later edit on the wrong line.
    """
    import re  # this module loads at startup; `re` would cost milliseconds there

    lines: list[str] = []
    start = 0
    for m in re.finditer(r"\r\n|\r|\n", text):
        lines.append(text[start : m.end()])
        start = m.end()
    if start < len(text):
        lines.append(text[start:])
    return lines


_doc_class: Any = None


def _document_class() -> Any:
    """pygls' TextDocument with LSP line splitting (imported lazily: ~0.3 s, +20 MiB)."""
    global _doc_class
    if _doc_class is None:
        from lsp_shim import log

        log.debug("loading pygls' document model to apply editor edits")
        from pygls.workspace import TextDocument

        class LspTextDocument(TextDocument):
            @property
            def lines(self) -> list[str]:
                return lsp_lines(self.source)

        _doc_class = LspTextDocument
    return _doc_class


def make_document(
    uri: str, text: str, version: int | None, language: str | None, encoding: str
) -> TextDocument:
    from lsprotocol import types
    from pygls.workspace import PositionCodec

    cls = _document_class()
    return cls(  # type: ignore[no-any-return]
        uri,
        source=text,
        version=version,
        language_id=language,
        sync_kind=types.TextDocumentSyncKind.Incremental,
        position_codec=PositionCodec(encoding=encoding),
    )


def apply_changes(doc: TextDocument, changes: list[dict[str, Any]]) -> None:
    """Apply contentChanges in order (ranged ones incrementally, others as full text)."""
    from lsprotocol import types

    for ch in changes:
        text = _unpack(ch.get("text", ""))
        rng = ch.get("range")
        if isinstance(rng, dict):
            s, e = rng["start"], rng["end"]
            change: Any = types.TextDocumentContentChangePartial(
                range=types.Range(
                    start=types.Position(line=s["line"], character=s["character"]),
                    end=types.Position(line=e["line"], character=e["character"]),
                ),
                text=text,
            )
        else:
            change = types.TextDocumentContentChangeWholeDocument(text=text)
        doc.apply_change(change)


COMPACT = 2000  # logged changes per document before pygls folds them into its text
PACK = 1 << 20  # characters; a longer text is kept as UTF-8 when that is smaller (see _pack)


def _pack(text: str | bytes) -> str | bytes:
    """A long text with characters beyond Latin-1 takes 2 or 4 bytes per character as a str
    (one emoji makes it 4); as UTF-8 it is usually about a quarter of that. Others stay str.
    (The text of a big message arrives as UTF-8 bytes already: lsp.decode_texts.)"""
    if isinstance(text, bytes) or len(text) < PACK or sys.getsizeof(text) < 2 * len(text):
        return text
    return text.encode("utf-8", "surrogatepass")  # lone surrogates (from JSON escapes) too


def _unpack(text: str | bytes) -> str:
    return text if isinstance(text, str) else text.decode("utf-8", "surrogatepass")


class Doc:
    """An open document: its text at some version plus the edits since, unapplied.

    pygls (+20 MiB, ~0.3 s to import) is loaded only when the text is needed: for a replay, or
    to fold a long edit log. Most sessions never pay for it.
    """

    __slots__ = ("encoding", "language", "log", "text", "uri", "version")

    def __init__(
        self, uri: str, text: str | bytes, version: int | None, language: str | None, encoding: str
    ) -> None:
        self.uri = uri
        self.language = language
        self.version = version
        self.text = _pack(text)
        self.log: list[dict[str, Any]] = []
        self.encoding = encoding

    def change(self, changes: list[dict[str, Any]], version: int | None) -> None:
        for ch in changes:
            if isinstance(ch.get("range"), dict):
                self.log.append(ch)
            else:  # a whole-text change makes everything before it moot
                self.text = _pack(ch.get("text", ""))
                self.log.clear()
        if version is not None:
            self.version = version
        if len(self.log) > COMPACT:
            self.source()

    def source(self) -> str:
        """The current text (applying the edit log with pygls' document model)."""
        text = _unpack(self.text)
        if self.log:
            doc = make_document(self.uri, text, self.version, self.language, self.encoding)
            apply_changes(doc, self.log)
            text = doc.source
            self.text = _pack(text)
            self.log = []
        return text


class ClientState:
    """The replayable state of one editor session."""

    def __init__(self) -> None:
        self.init_params: dict[str, Any] | None = None
        self.folders: list[dict[str, Any]] | None = None
        self.settings: dict[str, Any] | None = None  # last didChangeConfiguration params
        self.encoding = "utf-16"
        self.documents: dict[str, Doc] = {}
        self.notebooks: dict[str, dict[str, Any]] = {}  # uri -> notebookDocument (cells, …)

    def set_encoding(self, server_capabilities: dict[str, Any] | None) -> None:
        enc = (server_capabilities or {}).get("positionEncoding")
        if enc in ("utf-8", "utf-16", "utf-32"):
            self.encoding = enc

    def observe(self, msg: dict[str, Any]) -> None:
        """Update from one client→server message."""
        method = msg.get("method")
        params = msg.get("params")
        if not isinstance(method, str) or not isinstance(params, (dict, type(None))):
            return
        p: dict[str, Any] = params or {}
        handler = _HANDLERS.get(method)
        if handler is not None:
            handler(self, p)

    def _initialize(self, p: dict[str, Any]) -> None:
        self.init_params = p
        folders = p.get("workspaceFolders")
        self.folders = list(folders) if isinstance(folders, list) else None

    # A message of the wrong shape is skipped, as the server rejects it: it must not stop the
    # tracking of everything after it, nor sit in an edit log that a replay would choke on.

    def _did_open(self, p: dict[str, Any]) -> None:
        td = p.get("textDocument")
        if not _is_item(td) or not isinstance(td.get("text", ""), (str, bytes)):
            return
        self.documents[td["uri"]] = Doc(
            td["uri"], td.get("text", ""), td.get("version"), td.get("languageId"), self.encoding
        )

    def _did_change(self, p: dict[str, Any]) -> None:
        td = p.get("textDocument")
        changes = p.get("contentChanges", [])
        if not _is_item(td) or not isinstance(changes, list) or not all(map(_is_change, changes)):
            return
        doc = self.documents.get(td["uri"])
        if doc is None:
            return
        doc.change(changes, td.get("version"))

    def _did_close(self, p: dict[str, Any]) -> None:
        td = p.get("textDocument")
        if _is_item(td):
            self.documents.pop(td["uri"], None)

    def _configuration(self, p: dict[str, Any]) -> None:
        self.settings = p

    def _folders(self, p: dict[str, Any]) -> None:
        event = p.get("event", {})
        current = list(self.folders or [])
        removed = {f.get("uri") for f in event.get("removed", [])}
        current = [f for f in current if f.get("uri") not in removed]
        current += list(event.get("added", []))
        self.folders = current

    def _nb_open(self, p: dict[str, Any]) -> None:
        nb = _deepcopy(p["notebookDocument"])
        self.notebooks[nb["uri"]] = nb
        for cell in p.get("cellTextDocuments", []):
            self._did_open({"textDocument": cell})

    def _nb_change(self, p: dict[str, Any]) -> None:
        ref = p["notebookDocument"]
        nb = self.notebooks.get(ref["uri"])
        if nb is None:
            return
        nb["version"] = ref.get("version", nb.get("version"))
        change = p.get("change", {})
        if "metadata" in change:
            nb["metadata"] = change["metadata"]
        cells = change.get("cells") or {}
        structure = cells.get("structure")
        if structure:
            arr = structure["array"]
            start, delete = arr["start"], arr["deleteCount"]
            nb["cells"][start : start + delete] = _deepcopy(arr.get("cells") or [])
            for cell in structure.get("didOpen") or []:
                self._did_open({"textDocument": cell})
            for cell in structure.get("didClose") or []:
                self.documents.pop(cell["uri"], None)
        for data in cells.get("data") or []:
            for i, cell in enumerate(nb["cells"]):
                if cell.get("document") == data.get("document"):
                    nb["cells"][i] = _deepcopy(data)
        for tc in cells.get("textContent") or []:
            self._did_change({"textDocument": tc["document"], "contentChanges": tc["changes"]})

    def _nb_close(self, p: dict[str, Any]) -> None:
        nb = self.notebooks.pop(p["notebookDocument"]["uri"], None)
        for cell in p.get("cellTextDocuments", []):
            self.documents.pop(cell["uri"], None)
        if nb:
            for cell in nb.get("cells", []):
                self.documents.pop(cell.get("document", ""), None)

    def initialize_params(self) -> dict[str, Any]:
        """The client's initialize params, with the workspace folders as they are now."""
        params: dict[str, Any] = _deepcopy(self.init_params or {})
        if self.folders is not None:
            params["workspaceFolders"] = _deepcopy(self.folders)
        return params

    def replay(self) -> list[dict[str, Any]]:
        """Notifications that bring a freshly initialized server to the editor's current state."""
        out: list[dict[str, Any]] = [_note("initialized", {})]
        if self.settings is not None:
            out.append(_note("workspace/didChangeConfiguration", self.settings))
        cell_uris: set[str] = set()
        for nb in self.notebooks.values():
            cells = [c.get("document") for c in nb.get("cells", [])]
            cell_uris.update(c for c in cells if c)
            out.append(
                _note(
                    "notebookDocument/didOpen",
                    {
                        "notebookDocument": nb,
                        "cellTextDocuments": [self._item(u) for u in cells if u in self.documents],
                    },
                )
            )
        for uri in self.documents:
            if uri not in cell_uris:
                out.append(_note("textDocument/didOpen", {"textDocument": self._item(uri)}))
        return out

    def _item(self, uri: str) -> dict[str, Any]:
        doc = self.documents[uri]
        return {
            "uri": uri,
            "languageId": doc.language or "",
            "version": doc.version or 0,
            "text": doc.source(),
        }

    def text_of(self, uri: str) -> str | None:
        doc = self.documents.get(uri)
        return None if doc is None else doc.source()


def _is_item(td: object) -> TypeGuard[dict[str, Any]]:
    """A text document identifier (or item): an object with a string uri."""
    return isinstance(td, dict) and isinstance(td.get("uri"), str)


def _is_change(ch: Any) -> bool:
    """A contentChanges entry pygls can apply: text, and a range of whole-number positions."""
    if not isinstance(ch, dict) or not isinstance(ch.get("text", ""), (str, bytes)):
        return False
    rng = ch.get("range")
    if rng is None:
        return True
    if not isinstance(rng, dict):
        return False
    for end in (rng.get("start"), rng.get("end")):
        if not isinstance(end, dict):
            return False
        for field in ("line", "character"):
            n = end.get(field)
            if type(n) is not int or n < 0:
                return False
    return True


def _deepcopy(value: Any) -> Any:
    import copy

    return copy.deepcopy(value)


def _note(method: str, params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": method, "params": params}


_HANDLERS = {
    "initialize": ClientState._initialize,
    "textDocument/didOpen": ClientState._did_open,
    "textDocument/didChange": ClientState._did_change,
    "textDocument/didClose": ClientState._did_close,
    "workspace/didChangeConfiguration": ClientState._configuration,
    "workspace/didChangeWorkspaceFolders": ClientState._folders,
    "notebookDocument/didOpen": ClientState._nb_open,
    "notebookDocument/didChange": ClientState._nb_change,
    "notebookDocument/didClose": ClientState._nb_close,
}
TRACKED = frozenset(_HANDLERS)  # the methods a replay needs to see

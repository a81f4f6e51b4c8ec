"""PyCharm: built-in Ruff/ty (.idea/pyLspTools.xml), the Ruff plugin (.idea/ruff.xml), LSP4IJ.

Sources (public repositories, checked with the search tools):
- Built-in tools, JetBrains/intellij-community python sources: LSP_TOOLS_STORAGE_FILE =
  "pyLspTools.xml". PyCharm 2025.3 stores one component per tool, e.g. <component
  name="RuffConfiguration"> with options enabled / executableDiscoveryMode (INTERPRETER|PATH) /
  pathToExecutable (PyLspToolConfiguration). Later builds keep <component name="PyToolsState">
  with <option name="tools"><map><entry key="ruff"><value><ToolEntry> holding enabled /
  discoveryMode / customPathToExecutable (PyToolsState.kt), e.g. the .idea/pyLspTools.xml of
  randolf-scholz/tsdm and mlidbom/JAStudio (keys "ruff", "ty"). Both forms are written.
  Not verifiable here: the newest development sources move the custom path out of the project
  into the machine-wide options/pyToolCustomExecutablePaths.xml and drop the per-project path;
  with such a build, set the path once in Settings | Python | Tools | Ruff (Path mode).
- Ruff plugin, koxudaxi/ruff-pycharm-plugin RuffConfigService.kt: @State(name =
  "RuffConfigService", storages = [Storage("ruff.xml")]), fields globalRuffExecutablePath,
  alwaysUseGlobalRuff (when true the global path wins over the interpreter's ruff),
  useRuffServer (run `ruff server` rather than ruff-lsp).
- LSP4IJ, redhat-developer/lsp4ij docs/UserDefinedLanguageServerTemplate.md and the template
  deserializer: template.json keys id, name, programArgs {default|windows|mac|unix} (one command
  line), fileTypeMappings [{fileType: {name, patterns}, languageId}].
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import PurePath

from . import xmledit
from .errors import ConfigureError
from .plan import Context, FileEdit, Plan, Snippet
from .system import Shims

PLACEHOLDER = Shims(ruff="/ABSOLUTE/PATH/TO/ruff-shim", ty="/ABSOLUTE/PATH/TO/ty-shim")
XML_HINT = "fix the XML (or delete the file and let configure recreate it) and run configure again"
LSP4IJ_DIR = ("lsp-shim", "lsp4ij")


def pylsptools(old: str | None, shims: Shims, newline: str = "\n") -> str:
    root = xmledit.parse(old)
    before = _canonical(root)
    # Later builds: one ToolEntry per tool. ty gets the path but is not switched on.
    state = xmledit.component(root, "PyToolsState")
    for tool, shim, enable in (("ruff", shims.ruff, True), ("ty", shims.ty, False)):
        entry = xmledit.map_entry_bean(state, "tools", tool, "ToolEntry")
        options = {"customPathToExecutable": shim, "discoveryMode": "PATH"}
        if enable:
            options["enabled"] = "true"
        xmledit.set_options(entry, options)
    # PyCharm 2025.3: a component per tool.
    for name, shim, enable in (
        ("RuffConfiguration", shims.ruff, True),
        ("TyConfiguration", shims.ty, False),
    ):
        options = {"executableDiscoveryMode": "PATH", "pathToExecutable": shim}
        if enable:
            options["enabled"] = "true"
        xmledit.set_options(xmledit.component(root, name), options)
    return _result(old, root, before, newline)


def ruff_xml(old: str | None, shims: Shims, newline: str = "\n") -> str:
    root = xmledit.parse(old)
    before = _canonical(root)
    xmledit.set_options(
        xmledit.component(root, "RuffConfigService"),
        {
            "alwaysUseGlobalRuff": "true",
            "globalRuffExecutablePath": shims.ruff,
            "useRuffServer": "true",
        },
    )
    return _result(old, root, before, newline)


def _canonical(root: ET.Element) -> str:
    return ET.canonicalize(ET.tostring(root, encoding="unicode"), strip_text=True)


def _result(old: str | None, root: ET.Element, before: str, newline: str) -> str:
    if old is not None and old.strip() and _canonical(root) == before:
        return old  # already configured: keep the file byte for byte
    return xmledit.serialize(root, newline)


def command_line(shim: str) -> str:
    # programArgs is one command line; quote a path with spaces ("C:\Program Files\...").
    exe = f'"{shim}"' if any(c in shim for c in ' \t"') else shim
    return f"{exe} server"


def lsp4ij_template(server: str, shim: str) -> str:
    names = {"ruff": "Ruff (lsp-shim)", "ty": "ty (lsp-shim)"}
    template = {
        "id": f"{server}-shim",
        "name": names[server],
        "programArgs": {"default": command_line(shim)},
        "fileTypeMappings": [{"fileType": {"name": "Python"}, "languageId": "python"}],
    }
    return json.dumps(template, indent=2) + "\n"


Render = Callable[[str | None, Shims, str], str]


def _xml_edit(path: PurePath, render: Render, shims: Shims) -> FileEdit:
    def apply(old: str | None, newline: str) -> str:
        try:
            return render(old, shims, newline)
        except xmledit.XmlEditError as e:
            raise ConfigureError(f"cannot parse {path}: {e}", XML_HINT) from None

    return FileEdit(
        path=path,
        apply=apply,
        snippet=render(None, shims, "\n"),
        comment="<!--",
        problem_hint=XML_HINT,
    )


def _whole_file(path: PurePath, text: str) -> FileEdit:
    # The template folders are ours: replaced as a whole.
    return FileEdit(
        path=path, apply=lambda old, nl: text, snippet=text, comment="//", problem_hint=""
    )


def files(idea: PurePath, shims: Shims) -> list[FileEdit]:
    templates = idea.joinpath(*LSP4IJ_DIR)
    return [
        _xml_edit(idea / "pyLspTools.xml", pylsptools, shims),
        _xml_edit(idea / "ruff.xml", ruff_xml, shims),
        _whole_file(templates / "ruff-shim" / "template.json", lsp4ij_template("ruff", shims.ruff)),
        _whole_file(templates / "ty-shim" / "template.json", lsp4ij_template("ty", shims.ty)),
    ]


def plan(ctx: Context) -> Plan:
    if ctx.user:
        return Snippet(
            text=(
                f"Settings | Python | Tools | Ruff: Enable, Execution mode: Path, "
                f"{ctx.shims.ruff}\n"
                f"Settings | Python | Tools | ty (optional): Execution mode: Path, "
                f"{ctx.shims.ty}\n"
            ),
            where=(
                "PyCharm keeps no user-level file that is safe to edit while the IDE runs: "
                "set this in the IDE, or run configure without --user for a project's .idea/"
            ),
        )
    return files(ctx.project / ".idea", ctx.shims)


def render_templates(shims: Shims = PLACEHOLDER) -> dict[str, str]:
    """The files of pycharm-config/ (relative path -> text), from the same code configure runs."""
    edits = files(PurePath(".idea"), shims)
    pyls, ruff, ruff_t, ty_t = (e.apply(None, "\n") for e in edits)
    return {
        "builtin/.idea/pyLspTools.xml": pyls,
        "ruff-plugin/.idea/ruff.xml": ruff,
        "lsp4ij/ruff-shim/template.json": ruff_t,
        "lsp4ij/ty-shim/template.json": ty_t,
    }

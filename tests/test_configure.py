"""`lsp-shim configure`: merges that keep the user's files, idempotence, parse checks, --print.

Pure functions are tested directly; the real console script is run for the end-to-end cases.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path, PureWindowsPath

import pytest
from lsp_shim.configure import jsonc, pycharm, run, tomledit, xmledit
from lsp_shim.configure.errors import ConfigureError
from lsp_shim.configure.plan import Context
from lsp_shim.configure.system import Shims, System

tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LSP_SHIM = BIN / ("lsp-shim.exe" if os.name == "nt" else "lsp-shim")
SHIMS = Shims(ruff="/opt/tools/bin/ruff-shim", ty="/opt/tools/bin/ty-shim")


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Never touch the real user's settings or store.
    monkeypatch.setenv("LSP_SHIM_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("USERPROFILE", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("APPDATA", str(tmp_path / "appdata"))


def configure(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = run(list(argv), System(), SHIMS, out)
    return code, out.getvalue()


def parse_jsonc(text: str) -> object:
    return json.loads(jsonc.strip(text))


# --- JSONC ------------------------------------------------------------------------------------

VSCODE_USER = """\
{
    // Editor
    "editor.fontSize": 14, // keep me
    /* a block
       comment */
    "files.exclude": {
        "**/.git": true,
    },
    "ruff.path": [
        "/old/ruff", // old
    ],
    "python.defaultInterpreterPath": "C:\\\\py\\\\python.exe",
}
"""


def test_jsonc_replace_keeps_comments_and_trailing_commas() -> None:
    new = jsonc.set_value(VSCODE_USER, ["ruff.path"], ["/opt/ruff-shim"])
    assert "// Editor" in new and "// keep me" in new and "/* a block" in new
    assert '"ruff.path": ["/opt/ruff-shim"],' in new
    assert '"**/.git": true,' in new  # trailing comma untouched
    data = parse_jsonc(new)
    assert isinstance(data, dict)
    assert data["ruff.path"] == ["/opt/ruff-shim"]
    assert data["editor.fontSize"] == 14
    assert data["python.defaultInterpreterPath"] == "C:\\\\py\\\\python.exe".replace("\\\\", "\\")


def test_jsonc_insert_after_last_member_and_its_comment() -> None:
    text = '{\n    "a": 1, // one\n    "b": 2 // two\n}\n'
    new = jsonc.set_value(text, ["ty.path"], ["/x/ty-shim"])
    assert new == '{\n    "a": 1, // one\n    "b": 2, // two\n    "ty.path": ["/x/ty-shim"]\n}\n'
    assert parse_jsonc(new) == {"a": 1, "b": 2, "ty.path": ["/x/ty-shim"]}


def test_jsonc_insert_keeps_trailing_comma_style() -> None:
    new = jsonc.set_value('{\n  "a": 1,\n}\n', ["b"], True)
    assert new == '{\n  "a": 1,\n  "b": true,\n}\n'


def test_jsonc_nested_creation_uses_file_indent() -> None:
    text = '{\n\t"theme": "x",\n\t"lsp": {\n\t\t"ruff": {"initialization_options": {}}\n\t}\n}'
    new = jsonc.set_value(text, ["lsp", "ty", "binary", "path"], "/x/ty-shim")
    assert '\t\t"ty": {\n\t\t\t"binary": {\n\t\t\t\t"path": "/x/ty-shim"\n\t\t\t}\n\t\t}' in new
    new = jsonc.set_value(new, ["lsp", "ruff", "binary", "path"], "/x/ruff-shim")
    data = parse_jsonc(new)
    assert isinstance(data, dict)
    assert data["lsp"]["ruff"] == {"initialization_options": {}, "binary": {"path": "/x/ruff-shim"}}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", '{\n    "k": [1]\n}\n'),
        ("  \n", '{\n    "k": [1]\n}\n'),
        ("// only a comment\n", '// only a comment\n{\n    "k": [1]\n}\n'),
        ("{}", '{\n    "k": [1]\n}'),
        ("{ // empty\n}", '{\n    "k": [1] // empty\n}'),
        ('{"a": 1}', '{"a": 1, "k": [1]}'),
        ('{"a": 1,}', '{"a": 1, "k": [1]}'),
    ],
)
def test_jsonc_edge_documents(text: str, expected: str) -> None:
    new = jsonc.set_value(text, ["k"], [1])
    assert new == expected
    assert parse_jsonc(new) == ({"a": 1, "k": [1]} if '"a"' in text else {"k": [1]})


def test_jsonc_crlf_and_duplicate_keys() -> None:
    text = '{\r\n  "k": 1,\r\n  "k": 2\r\n}\r\n'
    new = jsonc.set_value(text, ["k"], 3, newline="\r\n")
    assert new == '{\r\n  "k": 1,\r\n  "k": 3\r\n}\r\n'  # the last duplicate is the live one
    new = jsonc.set_value(text, ["j"], 0, newline="\r\n")
    assert new == '{\r\n  "k": 1,\r\n  "k": 2,\r\n  "j": 0\r\n}\r\n'


def test_jsonc_strings_that_look_like_comments() -> None:
    text = '{"url": "http://x//y", "glob": "/*.py", "esc": "a\\"b//"}'
    assert parse_jsonc(text) == {"url": "http://x//y", "glob": "/*.py", "esc": 'a"b//'}
    new = jsonc.set_value(text, ["url"], "z")
    assert parse_jsonc(new) == {"url": "z", "glob": "/*.py", "esc": 'a"b//'}


@pytest.mark.parametrize(
    "text",
    ['{"a": 1', '{"a" 1}', '{"a": 1 "b": 2}', '{"a": /* open', "[1, 2]", '{"a": tru}', "{} x"],
)
def test_jsonc_malformed(text: str) -> None:
    with pytest.raises(ValueError):
        jsonc.set_value(text, ["k"], 1)


def test_jsonc_parent_not_an_object() -> None:
    with pytest.raises(ValueError, match='"lsp" holds a literal'):
        jsonc.set_value('{"lsp": null}', ["lsp", "ruff"], 1)


# --- TOML -------------------------------------------------------------------------------------

HELIX = """\
# my helix config
[[language]]
name = "python"
language-servers = [ "ruff", "pylsp" ]  # both
roots = [
  "pyproject.toml",  # [not a header]
  "[x]",
]

[language-server.ruff]
command = 'ruff' # was the default

[language-server.ruff.config.settings]
lineLength = 80

[language-server.pylsp]
command = "pylsp"
"""


def test_toml_edit_keeps_comments_and_other_tables() -> None:
    values: dict[str, tomledit.TomlValue] = {
        "command": "C:\\bin\\ruff-shim.exe",
        "args": ["server"],
    }
    new = tomledit.set_table(HELIX, ("language-server", "ruff"), values)
    assert "# my helix config" in new and "# was the default" in new and "# [not a header]" in new
    assert 'command = "C:\\\\bin\\\\ruff-shim.exe" # was the default\nargs = ["server"]\n' in new
    data = tomllib.loads(new)
    assert data["language-server"]["ruff"] == {
        "command": "C:\\bin\\ruff-shim.exe",
        "args": ["server"],
        "config": {"settings": {"lineLength": 80}},
    }
    assert data["language"] == tomllib.loads(HELIX)["language"]
    assert data["language-server"]["pylsp"] == {"command": "pylsp"}
    # Second run: nothing to do.
    assert tomledit.set_table(new, ("language-server", "ruff"), values) == new


def test_toml_appends_missing_table() -> None:
    new = tomledit.set_table(
        HELIX, ("language-server", "ty"), {"command": "/t", "args": ["server"]}
    )
    assert new.startswith(HELIX)
    assert new.endswith('\n\n[language-server.ty]\ncommand = "/t"\nargs = ["server"]\n')
    assert tomllib.loads(new)["language-server"]["ty"] == {"command": "/t", "args": ["server"]}
    assert tomledit.set_table("", ("a", "b"), {"k": "v"}) == '[a.b]\nk = "v"\n'


def test_toml_inline_table_is_refused_not_broken() -> None:
    text = '[language-server]\nruff = { command = "ruff", args = ["server"] }\n'
    with pytest.raises(tomledit.TomlLayoutError, match="inline or with dotted keys"):
        tomledit.set_table(text, ("language-server", "ruff"), {"command": "/x"})


def test_toml_malformed() -> None:
    with pytest.raises(tomledit.TomlEditError):
        tomledit.set_table("[a\nb = 1\n", ("a",), {"k": "v"})


# --- XML --------------------------------------------------------------------------------------

PY_LSP_TOOLS = """\
<?xml version="1.0" encoding="UTF-8"?>
<project version="4">
  <!-- shared with the team -->
  <component name="PyToolsState">
    <option name="tools">
      <map>
        <entry key="black">
          <value>
            <ToolEntry>
              <option name="enabled" value="true" />
            </ToolEntry>
          </value>
        </entry>
        <entry key="ruff">
          <value>
            <ToolEntry>
              <option name="discoveryMode" value="INTERPRETER" />
            </ToolEntry>
          </value>
        </entry>
      </map>
    </option>
  </component>
  <component name="PyrightConfiguration">
    <option name="enabled" value="true" />
  </component>
</project>"""


def test_pylsptools_merge_keeps_other_tools_and_comments() -> None:
    new = pycharm.pylsptools(PY_LSP_TOOLS, SHIMS)
    assert "<!-- shared with the team -->" in new
    root = ET.fromstring(new)
    entries = {e.get("key"): e for e in root.iter("entry")}
    assert set(entries) == {"black", "ruff", "ty"}
    black = entries["black"].find("value/ToolEntry/option")
    assert black is not None and black.get("value") == "true"
    ruff = {o.get("name"): o.get("value") for o in entries["ruff"].iter("option")}
    assert ruff == {
        "customPathToExecutable": SHIMS.ruff,
        "discoveryMode": "PATH",
        "enabled": "true",
    }
    ty = {o.get("name"): o.get("value") for o in entries["ty"].iter("option")}
    assert ty == {"customPathToExecutable": SHIMS.ty, "discoveryMode": "PATH"}  # not switched on
    names = [c.get("name") for c in root if c.tag == "component"]
    assert names == ["PyToolsState", "PyrightConfiguration", "RuffConfiguration", "TyConfiguration"]
    assert pycharm.pylsptools(new, SHIMS) == new


def test_ruff_plugin_xml_keeps_existing_options() -> None:
    old = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<project version="4">\n'
        '  <component name="RuffConfigService">\n'
        '    <option name="globalRuffExecutablePath" value="/opt/homebrew/bin/ruff" />\n'
        '    <option name="runRuffOnSave" value="true" />\n'
        "  </component>\n</project>"
    )
    new = pycharm.ruff_xml(old, SHIMS)
    comp = ET.fromstring(new).find("component[@name='RuffConfigService']")
    assert comp is not None
    assert [(o.get("name"), o.get("value")) for o in comp] == [
        ("alwaysUseGlobalRuff", "true"),
        ("globalRuffExecutablePath", SHIMS.ruff),
        ("runRuffOnSave", "true"),
        ("useRuffServer", "true"),
    ]
    assert pycharm.ruff_xml(new, SHIMS) == new


def test_xml_already_configured_file_is_returned_byte_for_byte() -> None:
    configured = pycharm.ruff_xml(None, SHIMS).rstrip("\n")  # as IntelliJ writes: no final newline
    assert pycharm.ruff_xml(configured, SHIMS) == configured


def test_xml_malformed_and_wrong_root() -> None:
    with pytest.raises(xmledit.XmlEditError):
        pycharm.ruff_xml("<project><component></project>", SHIMS)
    with pytest.raises(xmledit.XmlEditError, match="not <project>"):
        pycharm.ruff_xml("<application/>", SHIMS)


def test_pycharm_config_templates_match_what_configure_writes() -> None:
    """pycharm-config/ in the repo is exactly configure's output, with a placeholder path."""
    for rel, text in pycharm.render_templates().items():
        committed = (REPO / "pycharm-config" / rel).read_text(encoding="utf-8")
        assert committed == text, (
            f"pycharm-config/{rel} is stale: python -m lsp_shim.configure.regen"
        )


def test_lsp4ij_template_shape_and_quoting() -> None:
    data = json.loads(pycharm.lsp4ij_template("ruff", "C:\\Program Files\\x\\ruff-shim.exe"))
    assert data["id"] == "ruff-shim"
    assert data["programArgs"] == {"default": '"C:\\Program Files\\x\\ruff-shim.exe" server'}
    assert data["fileTypeMappings"] == [{"fileType": {"name": "Python"}, "languageId": "python"}]


# --- user-level locations ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "env", "expected"),
    [
        ("linux", {"HOME": "/h"}, "/h/.config/Code/User/settings.json"),
        ("linux", {"HOME": "/h", "XDG_CONFIG_HOME": "/x"}, "/x/Code/User/settings.json"),
        ("linux", {"HOME": "/h", "XDG_CONFIG_HOME": "rel"}, "/h/.config/Code/User/settings.json"),
        ("darwin", {"HOME": "/Users/u"}, "/Users/u/Library/Application Support/Code/User/settings.json"),
        ("win32", {"APPDATA": "C:\\Users\\u\\AppData\\Roaming"}, "C:\\Users\\u\\AppData\\Roaming\\Code\\User\\settings.json"),
    ],
)  # fmt: skip
def test_vscode_user_settings_location(platform: str, env: dict[str, str], expected: str) -> None:
    from lsp_shim.configure import vscode

    ctx = Context(shims=SHIMS, system=System(platform, env), project=Path("/p"), user=True)
    assert str(vscode.user_settings(ctx)) == expected


def test_other_user_locations() -> None:
    from lsp_shim.configure import helix, sublime, zed

    def ctx(platform: str, env: dict[str, str]) -> Context:
        return Context(shims=SHIMS, system=System(platform, env), project=Path("/p"), user=True)

    win = ctx("win32", {"APPDATA": "C:\\A", "USERPROFILE": "C:\\U"})
    assert helix.user_file(win) == PureWindowsPath("C:\\A\\helix\\languages.toml")
    assert zed.user_settings(win) == PureWindowsPath("C:\\A\\Zed\\settings.json")
    assert sublime.user_settings(win) == PureWindowsPath(
        "C:\\A\\Sublime Text\\Packages\\User\\LSP-ruff.sublime-settings"
    )
    mac = ctx("darwin", {"HOME": "/Users/u"})
    assert str(helix.user_file(mac)) == "/Users/u/.config/helix/languages.toml"
    assert str(zed.user_settings(mac)) == "/Users/u/.config/zed/settings.json"
    assert str(sublime.user_settings(mac)) == (
        "/Users/u/Library/Application Support/Sublime Text/Packages/User/LSP-ruff.sublime-settings"
    )
    lin = ctx("linux", {"HOME": "/h"})
    assert str(sublime.user_settings(lin)) == (
        "/h/.config/sublime-text/Packages/User/LSP-ruff.sublime-settings"
    )
    with pytest.raises(ConfigureError, match="home directory"):
        helix.user_file(ctx("linux", {}))


# --- the command, in process --------------------------------------------------------------------


def test_every_editor_writes_parseable_files_and_is_idempotent(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    for editor in ("vscode", "pycharm", "helix", "zed"):
        code, out = configure(editor, "--project", str(project))
        assert code == 0 and "created: " in out, out
        code, out = configure(editor, "--project", str(project))
        assert code == 0 and f"Nothing to do: {editor} already uses the shims." in out, out
        assert "created" not in out and "updated" not in out
    settings = parse_jsonc((project / ".vscode/settings.json").read_text())
    assert settings == {"ruff.path": [SHIMS.ruff], "ty.path": [SHIMS.ty]}
    zed = parse_jsonc((project / ".zed/settings.json").read_text())
    assert zed == {
        "lsp": {
            "ruff": {"binary": {"path": SHIMS.ruff, "arguments": ["server"]}},
            "ty": {"binary": {"path": SHIMS.ty, "arguments": ["server"]}},
        }
    }
    helix = tomllib.loads((project / ".helix/languages.toml").read_text())
    assert helix["language-server"]["ruff"] == {"command": SHIMS.ruff, "args": ["server"]}
    idea = project / ".idea"
    for name in ("pyLspTools.xml", "ruff.xml"):
        ET.fromstring((idea / name).read_text())
    for server in ("ruff", "ty"):
        json.loads((idea / f"lsp-shim/lsp4ij/{server}-shim/template.json").read_text())


def test_user_flag_writes_under_redirected_config_home(tmp_path: Path) -> None:
    code, out = configure("vscode", "--user")
    target = tmp_path / "xdg" / "Code" / "User" / "settings.json"
    assert code == 0 and f"created: {target}" in out
    code, out = configure("sublime", "--user")
    target = tmp_path / "xdg/sublime-text/Packages/User/LSP-ruff.sublime-settings"
    assert parse_jsonc(target.read_text()) == {"command": [SHIMS.ruff, "server"]}


def test_failed_parse_writes_nothing(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / ".vscode").mkdir(parents=True)
    bad = '{\n  "a": 1\n  "b": 2\n}\n'
    (project / ".vscode/settings.json").write_text(bad)
    with pytest.raises(
        ConfigureError, match=r"cannot parse .*settings.json: expected ',' or '}' at line 3"
    ):
        configure("vscode", "--project", str(project))
    assert (project / ".vscode/settings.json").read_text() == bad
    assert os.listdir(project / ".vscode") == ["settings.json"]  # no temp file left behind


def test_symlinked_settings_file_is_written_through(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "settings.json"
    real.parent.mkdir()
    real.write_text('{\n  // mine\n  "a": 1\n}\n')
    link = tmp_path / "proj" / ".vscode" / "settings.json"
    link.parent.mkdir(parents=True)
    link.symlink_to(real)
    configure("vscode", "--project", str(tmp_path / "proj"))
    assert link.is_symlink()
    assert parse_jsonc(real.read_text()) == {
        "a": 1,
        "ruff.path": [SHIMS.ruff],
        "ty.path": [SHIMS.ty],
    }


def test_crlf_and_bom_survive(tmp_path: Path) -> None:
    path = tmp_path / ".vscode" / "settings.json"
    path.parent.mkdir()
    path.write_bytes(b'\xef\xbb\xbf{\r\n    "a": 1\r\n}\r\n')
    configure("vscode", "--project", str(tmp_path))
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf{\r\n")
    assert b'\r\n    "ty.path": ["/opt/tools/bin/ty-shim"]\r\n}\r\n' in data
    assert b"\n" not in data.replace(b"\r\n", b"")


def test_print_writes_nothing(tmp_path: Path) -> None:
    code, out = configure("zed", "--project", str(tmp_path), "--print")
    assert code == 0 and not (tmp_path / ".zed").exists()
    first, _, body = out.partition("\n")
    assert first == f"// {tmp_path / '.zed' / 'settings.json'}"
    assert json.loads(body)["lsp"]["ty"]["binary"] == {"path": SHIMS.ty, "arguments": ["server"]}
    code, out = configure("helix", "--project", str(tmp_path), "--print")
    toml_body = out.partition("\n")[2]
    assert tomllib.loads(toml_body)["language-server"]["ty"]["command"] == SHIMS.ty
    code, out = configure("pycharm", "--project", str(tmp_path), "--print")
    assert out.count("<!-- ") == 2 and not (tmp_path / ".idea").exists()


def test_snippet_editors_print_lua_and_elisp(tmp_path: Path) -> None:
    code, out = configure("neovim", "--project", str(tmp_path))
    assert code == 0
    assert "vim.lsp.config('ruff', { cmd = { \"/opt/tools/bin/ruff-shim\", 'server' } })" in out
    assert out.rstrip().endswith("(configure never edits it)")
    code, out = configure("emacs")
    assert '(setq lsp-ruff-server-command \'("/opt/tools/bin/ruff-shim" "server"))' in out
    from lsp_shim.configure import emacs, neovim

    assert neovim.lua_string('C:\\a "b"') == '"C:\\\\a \\"b\\""'
    assert emacs.elisp_string("C:\\a") == '"C:\\\\a"'


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["vim"], "unknown editor 'vim'; choose one of: vscode, pycharm, neovim, helix, zed"),
        (["vscode", "--user", "--project", "."], "not allowed with argument"),
        (["vscode", "--bogus"], "unrecognized arguments: --bogus"),
        ([], "the following arguments are required: EDITOR"),
    ],
)
def test_usage_errors(argv: list[str], message: str) -> None:
    with pytest.raises(ConfigureError, match=message):
        configure(*argv)


# --- the real console script --------------------------------------------------------------------

needs_script = pytest.mark.skipif(
    not LSP_SHIM.exists(), reason=f"{LSP_SHIM} is not installed (pip install -e .)"
)


def script(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LSP_SHIM), "configure", *argv],
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )


@needs_script
def test_console_script_vscode_round_trip(tmp_path: Path) -> None:
    settings = tmp_path / ".vscode" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(VSCODE_USER)
    first = script("vscode", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert f"updated: {settings}" in first.stdout and '+    "ruff.path": [' in first.stdout
    data = parse_jsonc(settings.read_text())
    assert isinstance(data, dict)
    shim = BIN / ("ruff-shim.exe" if os.name == "nt" else "ruff-shim")
    assert data["ruff.path"] == [str(shim)] and Path(data["ruff.path"][0]).is_absolute()
    assert data["editor.fontSize"] == 14 and "// keep me" in settings.read_text()
    second = script("vscode", "--project", str(tmp_path), cwd=REPO)
    assert second.returncode == 0, second.stderr
    assert "Nothing to do: vscode already uses the shims." in second.stdout


@needs_script
def test_console_script_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / ".helix" / "languages.toml"
    bad.parent.mkdir()
    bad.write_text("[language-server.ruff\ncommand = 1\n")
    for argv in (["helix"], ["notepad"]):
        result = script(*argv, cwd=tmp_path)
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
        assert "; " in lines[0]  # problem; fix
    assert bad.read_text() == "[language-server.ruff\ncommand = 1\n"


@needs_script
def test_console_script_print_and_snippets(tmp_path: Path) -> None:
    result = script("neovim", cwd=tmp_path)
    assert result.returncode == 0 and "vim.lsp.config('ruff'" in result.stdout
    result = script("vscode", "--print", cwd=tmp_path)
    assert result.returncode == 0 and not (tmp_path / ".vscode").exists()
    assert "ruff.path" in parse_jsonc(result.stdout.partition("\n")[2])  # type: ignore[operator]


def test_windows_style_shim_paths_round_trip(tmp_path: Path) -> None:
    win = Shims(
        ruff="C:\\Program Files\\Tools\\Scripts\\ruff-shim.exe",
        ty="C:\\Program Files\\Tools\\Scripts\\ty-shim.exe",
    )
    for editor in ("vscode", "zed", "helix", "pycharm"):
        assert run([editor, "--project", str(tmp_path)], System(), win, io.StringIO()) == 0
    assert parse_jsonc((tmp_path / ".vscode/settings.json").read_text())["ruff.path"] == [win.ruff]  # type: ignore[index]
    zed = parse_jsonc((tmp_path / ".zed/settings.json").read_text())
    assert zed["lsp"]["ty"]["binary"]["path"] == win.ty  # type: ignore[index]
    helix = tomllib.loads((tmp_path / ".helix/languages.toml").read_text())
    assert helix["language-server"]["ruff"]["command"] == win.ruff
    root = ET.fromstring((tmp_path / ".idea/ruff.xml").read_text())
    assert root.find("component/option[@name='globalRuffExecutablePath']").get("value") == win.ruff  # type: ignore[union-attr]
    template = json.loads((tmp_path / ".idea/lsp-shim/lsp4ij/ty-shim/template.json").read_text())
    assert template["programArgs"]["default"] == f'"{win.ty}" server'

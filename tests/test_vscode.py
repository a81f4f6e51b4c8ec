"""The VS Code extension (vscode-ext/): unit tests of its pure logic, and the extension for real
in a VS Code extension host (code-server 4.100.3 + headless Chromium, see tests/vscode/driver.py).

The end-to-end test installs the built .vsix into a fresh code-server profile, opens a workspace
whose .venv holds ruff and whose bad.py has an unused import, and checks through a test-only
extension (tests/vscode/probe) that
  - the built-in client started ruff through `ruff-shim server` and Ruff's F401 diagnostic
    arrived,
  - the session is visible to `lsp-shim ps --json` and runs from a copy in the store, while no
    process holds the venv's ruff (`lsp-shim locks` and psutil agree),
  - "use lsp-shim for the Ruff extension" writes ruff.path into .vscode/settings.json and the undo
    command takes it out again,
and that nothing is left running afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXT = ROOT / "vscode-ext"
sys.path.insert(0, str(Path(__file__).resolve().parent / "vscode"))

import driver  # noqa: E402


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is not installed (node 20 + npm are part of this machine kind)")
    return npm


def test_extension_unit_tests() -> None:
    """`npm test` in vscode-ext: tsc (strict) + node's test runner over the pure modules."""
    npm = _npm()
    env = {
        **os.environ,
        "npm_config_yes": "true",
        "npm_config_fund": "false",
        "npm_config_audit": "false",
    }
    if not (EXT / "node_modules" / ".package-lock.json").exists():
        subprocess.run(
            [npm, "ci", "--loglevel=error"],
            cwd=EXT,
            env=env,
            check=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
        )
    proc = subprocess.run(
        [npm, "test"],
        cwd=EXT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    # node's TAP summary: "# pass N" / "# fail 0"
    summary = {
        k: int(v)
        for k, v in (
            line[2:].split(" ", 1)
            for line in out.splitlines()
            if line.startswith("# ") and line[2:].split(" ", 1)[0] in ("pass", "fail", "tests")
        )
        if v.strip().isdigit()
    }
    assert summary.get("fail") == 0 and summary.get("pass", 0) >= 20, out[-3000:]


def _shim_bin() -> Path:
    here = Path(sys.executable).parent
    if (here / "ruff-shim").exists() and (here / "lsp-shim").exists():
        return here
    found = shutil.which("ruff-shim")
    if found and (Path(found).parent / "lsp-shim").exists():
        return Path(found).parent
    pytest.fail(
        f"the console scripts ruff-shim/lsp-shim are neither next to {sys.executable} nor on "
        "PATH: install the project (pip install -e .) into the test environment"
    )


def _make_venv_with_ruff(venv: Path) -> None:
    uv = Path(sys.executable).parent / "uv"
    uv_cmd = [str(uv)] if uv.exists() else ([shutil.which("uv")] if shutil.which("uv") else None)
    if uv_cmd:
        subprocess.run([*uv_cmd, "venv", "-q", str(venv)], check=True, timeout=300)
        # --link-mode copy: uv's default hard-links ruff to its cache, and every other venv on this
        # machine with the same ruff (other tests, benchmarks) would then "hold" our file too.
        subprocess.run(
            [
                *uv_cmd,
                "pip",
                "install",
                "-q",
                "--link-mode",
                "copy",
                "--python",
                str(venv / "bin" / "python"),
                "ruff",
            ],
            check=True,
            timeout=600,
        )
    else:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "ruff"],
            check=True,
            timeout=600,
        )


def _shim_json(bin_dir: Path, env: dict[str, str], *args: str) -> object:
    proc = subprocess.run(
        [str(bin_dir / "lsp-shim"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, f"lsp-shim {' '.join(args)}: {proc.returncode}\n{proc.stderr}"
    return json.loads(proc.stdout)


def _our_processes(marker: str) -> list[tuple[int, str]]:
    """Processes (other than this one) whose command line or executable mentions `marker`."""
    import psutil

    found = []
    for p in psutil.process_iter(["pid", "cmdline", "exe"]):
        if p.info["pid"] == os.getpid():
            continue
        text = " ".join(p.info["cmdline"] or []) + " " + (p.info["exe"] or "")
        if marker in text:
            found.append((p.info["pid"], text[:200]))
    return found


def _assert_no_leftovers(tmp_path: Path) -> None:
    """Nothing still runs from our profile, workspace or store once the session is closed."""
    import psutil

    deadline = time.monotonic() + 10
    left = _our_processes(str(tmp_path))
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = _our_processes(str(tmp_path))
    for pid, _ in left:  # ours by construction (they name our tmp dir): end them, then fail
        try:
            psutil.Process(pid).kill()
        except psutil.Error:
            pass
    assert left == [], left


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_extension_in_code_server(tmp_path: Path) -> None:
    import psutil

    if sys.platform != "linux":
        pytest.skip(
            "code-server + Chromium are installed by a Debian script (scripts/setup-code-server.sh)"
        )
    try:
        setup = driver.run_setup()
    except driver.SetupUnavailable as exc:
        pytest.skip(str(exc))
    try:
        driver.chromium_binary()
    except driver.SetupUnavailable as exc:
        pytest.skip(str(exc))
    print(f"setup-code-server.sh: {setup.seconds:.1f}s")

    bin_dir = _shim_bin()
    ws = tmp_path / "ws"
    (ws / ".vscode").mkdir(parents=True)
    t0 = time.monotonic()
    _make_venv_with_ruff(ws / ".venv")
    print(f"workspace venv with ruff: {time.monotonic() - t0:.1f}s")
    venv_ruff = ws / ".venv" / "bin" / "ruff"
    assert venv_ruff.exists()
    (ws / "bad.py").write_text("import os\n")
    (ws / "notes.txt").write_text("plain text for tiny-lsp\n")
    tiny = [sys.executable, str(Path(driver.__file__).with_name("tiny_lsp.py"))]
    (ws / ".vscode" / "settings.json").write_text(
        json.dumps(
            {
                "lspShim.path": str(bin_dir / "lsp-shim"),
                "lspShim.statusBar.refreshSeconds": 0,
                # Any stdio server runs through `lsp-shim -- COMMAND ARGS`.
                "lspShim.servers": [
                    {
                        "name": "tiny",
                        "command": tiny[0],
                        "args": tiny[1:],
                        "documentSelector": ["plaintext"],
                    }
                ],
            },
            indent=2,
        )
    )

    store = tmp_path / "store"
    out = tmp_path / "probe.json"
    # debug: the shim's own log lines must show up in the extension's output channel.
    shim_env = {"LSP_SHIM_STORE": str(store), "LSP_SHIM_LOG": "debug"}
    t0 = time.monotonic()
    session = driver.start(
        setup,
        tmp_path / "profile",
        ws,
        {**shim_env, "LSP_SHIM_PROBE_OUT": str(out), "LSP_SHIM_PROBE_EXTRA_FILE": "notes.txt"},
    )
    try:
        result = driver.wait_for_result(session, out, timeout=240)
        print(f"code-server start → probe done: {time.monotonic() - t0:.1f}s")
        print(json.dumps({k: result.get(k) for k in ("steps", "errors", "diagnostics")}, indent=1))
        assert result["errors"] == [], result["errors"]

        # Ruff's diagnostic reached VS Code through the built-in client.
        diags = result["diagnostics"]
        assert isinstance(diags, list)
        assert any(d.get("code") == "F401" and "os" in d.get("message", "") for d in diags), diags

        # The extension's own view: its client runs `ruff-shim server`, and `ps` lists the session.
        sessions = result["sessions"]
        assert isinstance(sessions, dict)
        clients = sessions["clients"]
        assert sorted((c["id"], c["command"], c["args"], c["state"]) for c in clients) == [
            ("custom:tiny", str(bin_dir / "lsp-shim"), ["--", *tiny], "running"),
            ("ruff", str(bin_dir / "ruff-shim"), ["server"], "running"),
        ], clients
        assert "error" not in sessions, sessions
        mine = [s for s in sessions["mine"] if s["server"] == "ruff"]
        assert mine, sessions
        assert len(sessions["mine"]) == 2, sessions

        # The server listed in lspShim.servers answered through `lsp-shim -- python tiny_lsp.py`.
        extra = result["extraDiagnostics"]
        assert [(d["source"], d["code"]) for d in extra] == [("tiny-lsp", "TINY1")], extra

        # The shim's view, asked from outside while the server runs.
        env = {**os.environ, **shim_env}
        ps = _shim_json(bin_dir, env, "ps", "--json")
        assert isinstance(ps, list)
        ruff_sessions = [s for s in ps if s.get("server") == "ruff"]
        assert len(ruff_sessions) == 1, ps
        s = ruff_sessions[0]
        assert os.path.realpath(s["source"]) == os.path.realpath(venv_ruff), s
        assert os.path.realpath(s["copy"]).startswith(os.path.realpath(store) + os.sep), s
        assert s["parent_pid"] == result["hostPid"], (s, result["hostPid"])

        # Nobody holds the installed ruff: the Windows rule (exe, mapping, open file).
        locks = _shim_json(bin_dir, env, "locks", "--json", str(venv_ruff))
        assert locks == [{"path": locks[0]["path"], "holders": []}], locks
        real = os.path.realpath(venv_ruff)
        holders = []
        for p in psutil.process_iter(["pid", "exe"]):
            try:
                as_exe = bool(p.info["exe"]) and os.path.realpath(p.info["exe"]) == real
                if as_exe or any(os.path.realpath(m.path) == real for m in p.memory_maps()):
                    holders.append(p.info["pid"])
            except (psutil.Error, OSError):
                continue
        assert holders == [], holders
        server = psutil.Process(s["server_pid"])
        assert os.path.realpath(server.exe()) == os.path.realpath(s["copy"])

        # The status bar menu's actions, run by the probe through their commands.
        assert result["whoHolds"] == locks, result["whoHolds"]
        assert isinstance(result.get("gcDryRun"), str), result.get("gcDryRun")
        restart = result["restart"]
        assert len(restart["oldPids"]) == 1, restart
        assert len(restart["newPids"]) == 1 and restart["newPids"] != restart["oldPids"], restart
        assert any(d.get("code") == "F401" for d in result["diagnosticsAfterRestart"]), result

        # The output channel carries the shim's stderr (its log lines start with "ruff-shim:").
        channel = "\n".join(
            p.read_text(errors="replace")
            for p in (tmp_path / "profile").glob(
                "user-data/logs/*/exthost*/output_logging_*/*LSP Shim.log"
            )
        )
        assert "starting Ruff (lsp-shim)" in channel, channel[-3000:]
        assert any(line.startswith("ruff-shim: ") for line in channel.splitlines()), channel[-3000:]

        # The "use lsp-shim for the Ruff extension" command and its undo.
        ruff_shim = str(bin_dir / "ruff-shim")
        assert result["useShim"] == {
            "setting": "ruff.path",
            "scope": "workspace",
            "value": [ruff_shim],
        }
        after_use = json.loads(str(result["settingsAfterUse"]))
        assert after_use["ruff.path"] == [ruff_shim]
        assert after_use["lspShim.path"] == str(bin_dir / "lsp-shim")
        after_undo = json.loads(str(result["settingsAfterUndo"]))
        assert "ruff.path" not in after_undo, after_undo
        final = json.loads((ws / ".vscode" / "settings.json").read_text())
        assert final["ruff.path"] == [ruff_shim], final
    except BaseException:
        print(session.log_tail(80))
        raise
    finally:
        session.close()

    _assert_no_leftovers(tmp_path)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_builtin_client_yields_to_the_ruff_extension(tmp_path: Path) -> None:
    """With charliermarsh.ruff installed (a stand-in: the real one cannot be downloaded here),
    the built-in client stays off, the one-time offer is made, and the command still works."""
    if sys.platform != "linux":
        pytest.skip(
            "code-server + Chromium are installed by a Debian script (scripts/setup-code-server.sh)"
        )
    try:
        setup = driver.run_setup()
    except driver.SetupUnavailable as exc:
        pytest.skip(str(exc))
    bin_dir = _shim_bin()
    ws = tmp_path / "ws"
    (ws / ".vscode").mkdir(parents=True)
    (ws / "bad.py").write_text("import os\n")
    settings = {"lspShim.path": str(bin_dir / "lsp-shim"), "lspShim.statusBar.refreshSeconds": 0}
    (ws / ".vscode" / "settings.json").write_text(json.dumps(settings, indent=2))
    out = tmp_path / "probe.json"
    env = {
        "LSP_SHIM_STORE": str(tmp_path / "store"),
        "LSP_SHIM_PROBE_OUT": str(out),
        "LSP_SHIM_PROBE_MODE": "official",
    }
    session = driver.start(setup, tmp_path / "profile", ws, env, extra_vsix=(setup.fake_ruff_vsix,))
    try:
        result = driver.wait_for_result(session, out, timeout=180)
        assert result["errors"] == [], result["errors"]
        sessions = result["sessions"]
        assert isinstance(sessions, dict)
        assert sessions["clients"] == [], sessions
        assert sessions["mine"] == [], sessions
        assert result["diagnostics"] == [], result["diagnostics"]
        channel = "\n".join(
            p.read_text(errors="replace")
            for p in (tmp_path / "profile").glob(
                "user-data/logs/*/exthost*/output_logging_*/*LSP Shim.log"
            )
        )
        assert "offering (once) to point ruff.path at ruff-shim" in channel, channel[-3000:]
        assert "starting Ruff" not in channel, channel[-3000:]
        ruff_shim = str(bin_dir / "ruff-shim")
        assert result["useShim"] == {
            "setting": "ruff.path",
            "scope": "workspace",
            "value": [ruff_shim],
        }
        final = json.loads((ws / ".vscode" / "settings.json").read_text())
        assert final == {**settings, "ruff.path": [ruff_shim]}, final
    except BaseException:
        print(session.log_tail(80))
        raise
    finally:
        session.close()
    _assert_no_leftovers(tmp_path)

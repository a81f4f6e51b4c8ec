"""Run the LSP Shim extension in a real VS Code extension host: code-server + headless Chromium.

Used by tests/test_vscode.py; also runnable by hand:

    python tests/vscode/driver.py WORKSPACE OUT.json [--keep]

`scripts/setup-code-server.sh` must have run (it prints the paths this module reads). Everything
listens on 127.0.0.1 only; code-server and Chromium start in their own sessions (setsid) and
their process groups are killed at the end. Chromium sends everything but loopback to a dead
loopback proxy, and code-server's extension gallery points at a dead loopback port, so nothing
leaves the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETUP = ROOT / "scripts" / "setup-code-server.sh"
DEAD = "http://127.0.0.1:9"  # discard port: nothing listens, connections fail at once

USER_SETTINGS = {
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "extensions.autoCheckUpdates": False,
    "extensions.autoUpdate": False,
    "extensions.ignoreRecommendations": True,
    "workbench.enableExperiments": False,
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": False,
    "security.workspace.trust.enabled": False,
    "npm.fetchOnlinePackageInfo": False,
    "json.schemaDownload.enable": False,
    "typescript.disableAutomaticTypeAcquisition": True,
}


class SetupUnavailable(RuntimeError):
    """code-server (or Chromium) could not be installed on this machine."""


@dataclass
class Setup:
    code_server: Path
    vsix: Path
    probe_vsix: Path
    fake_ruff_vsix: Path
    seconds: float


def run_setup(timeout: float = 1500) -> Setup:
    """Run scripts/setup-code-server.sh (idempotent). Exit 3 means "cannot install"."""
    t0 = time.monotonic()
    proc = subprocess.run(
        ["bash", str(SETUP)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    tail = "\n".join((proc.stderr or "").strip().splitlines()[-25:])
    if proc.returncode == 3:
        raise SetupUnavailable(f"setup-code-server.sh could not install code-server:\n{tail}")
    if proc.returncode != 0:
        raise RuntimeError(f"setup-code-server.sh failed (exit {proc.returncode}):\n{tail}")
    paths = dict(line.split(": ", 1) for line in proc.stdout.splitlines() if ": " in line)
    return Setup(
        code_server=Path(paths["code-server"]),
        vsix=Path(paths["vsix"]),
        probe_vsix=Path(paths["probe-vsix"]),
        fake_ruff_vsix=Path(paths["fake-ruff-vsix"]),
        seconds=time.monotonic() - t0,
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise SetupUnavailable("chromium is not installed")


@dataclass
class Session:
    """A running code-server + Chromium pair; `close()` kills both process groups."""

    base: Path
    workspace: Path
    port: int
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?folder={self.workspace}"

    def log_tail(self, lines: int = 40) -> str:
        out = []
        # The "LSP Shim" output channel (the shim's stderr) as VS Code logs it, and the host's log.
        channels = sorted(
            self.base.glob("user-data/logs/*/exthost*/output_logging_*/*LSP Shim.log")
        )
        hosts = sorted(self.base.glob("user-data/logs/*/exthost*/remoteexthost.log"))
        for p in [*self.logs, *channels, *hosts]:
            try:
                text = p.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                continue
            out.append(f"--- {p.name} ---\n" + "\n".join(text))
        return "\n".join(out)

    def close(self, grace: float = 5.0) -> None:
        for proc in reversed(self.procs):
            _kill_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _kill_group(proc, signal.SIGKILL)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.procs.clear()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _kill_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    # The group id is the leader's pid (start_new_session=True ran setsid()); the group may
    # outlive its leader, so signal it even when the leader has exited.
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _spawn(session: Session, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
    log_path = session.base / f"{name}.log"
    session.logs.append(log_path)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=session.env,
            cwd=str(session.base),
            start_new_session=True,  # setsid: its own process group, killed as a whole
        )
    session.procs.append(proc)
    return proc


def _wait_healthy(session: Session, timeout: float) -> None:
    url = f"http://127.0.0.1:{session.port}/healthz"
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if session.procs[0].poll() is not None:
            raise RuntimeError(
                f"code-server exited ({session.procs[0].returncode}):\n{session.log_tail()}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last = exc
        time.sleep(0.2)
    raise RuntimeError(f"code-server not healthy after {timeout}s ({last}):\n{session.log_tail()}")


def start(
    setup: Setup,
    base: Path,
    workspace: Path,
    extra_env: dict[str, str],
    drop_env: tuple[str, ...] = ("VIRTUAL_ENV", "CONDA_PREFIX", "UV_PROJECT_ENVIRONMENT"),
    extra_vsix: tuple[Path, ...] = (),
) -> Session:
    """Install the extension, the probe and `extra_vsix` into a fresh profile under `base`,
    start code-server and Chromium."""
    base.mkdir(parents=True, exist_ok=True)
    ud, ext = base / "user-data", base / "extensions"
    (ud / "User").mkdir(parents=True, exist_ok=True)
    (ud / "User" / "settings.json").write_text(json.dumps(USER_SETTINGS, indent=2))
    env = {k: v for k, v in os.environ.items() if k not in drop_env}
    env.update(
        XDG_CONFIG_HOME=str(base / "xdg-config"),
        XDG_DATA_HOME=str(base / "xdg-data"),
        XDG_CACHE_HOME=str(base / "xdg-cache"),
        # The extension gallery: a dead loopback port instead of the internet.
        EXTENSIONS_GALLERY=json.dumps(
            {
                "serviceUrl": f"{DEAD}/api",
                "itemUrl": f"{DEAD}/item",
                "resourceUrlTemplate": f"{DEAD}/files/{{publisher}}/{{name}}/{{version}}/{{path}}",
            }
        ),
    )
    env.update(extra_env)
    session = Session(base=base, workspace=workspace, port=free_port(), env=env)
    common = ["--user-data-dir", str(ud), "--extensions-dir", str(ext)]
    installs: list[str] = []
    for vsix in (setup.vsix, setup.probe_vsix, *extra_vsix):
        installs += ["--install-extension", str(vsix)]
    install = subprocess.run(
        [str(setup.code_server), *common, *installs],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        start_new_session=True,
    )
    if install.returncode != 0:
        raise RuntimeError(f"--install-extension failed:\n{install.stdout}\n{install.stderr}")
    try:
        _spawn(
            session,
            "code-server",
            [
                str(setup.code_server),
                *common,
                "--auth",
                "none",
                "--bind-addr",
                f"127.0.0.1:{session.port}",
                "--disable-telemetry",
                "--disable-update-check",
                "--disable-workspace-trust",
                "--disable-getting-started-override",
                "--log",
                "info",
                str(workspace),
            ],
        )
        _wait_healthy(session, 60)
        _spawn(
            session,
            "chromium",
            [
                chromium_binary(),
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                # No crashpad handler: it daemonizes into its own session, out of our process group.
                "--disable-breakpad",
                f"--user-data-dir={base / 'chromium'}",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-sync",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-default-apps",
                "--disable-domain-reliability",
                "--no-pings",
                "--disable-client-side-phishing-detection",
                "--metrics-recording-only",
                # Everything but loopback (implicitly bypassed) goes to a dead loopback proxy.
                f"--proxy-server={DEAD}",
                "--window-size=1280,900",
                session.url(),
            ],
        )
    except BaseException:
        session.close()
        raise
    return session


def wait_for_result(session: Session, out: Path, timeout: float) -> dict[str, object]:
    """Wait until the probe wrote `"done": true`; return what it wrote (or the last partial)."""
    deadline = time.monotonic() + timeout
    data: dict[str, object] = {}
    while time.monotonic() < deadline:
        for proc in session.procs:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"{proc.args[0]} exited ({proc.returncode}):\n{session.log_tail()}"
                )
        try:
            data = json.loads(out.read_text())
        except (OSError, ValueError):
            data = data or {}
        if data.get("done"):
            return data
        time.sleep(0.25)
    raise TimeoutError(
        f"the probe did not finish in {timeout}s; last result: {json.dumps(data)[:2000]}\n"
        f"{session.log_tail()}"
    )


def main(argv: list[str]) -> int:
    import argparse
    import tempfile

    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("workspace", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--keep", action="store_true", help="leave code-server running until Ctrl-C")
    args = ap.parse_args(argv)

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # Background jobs start with SIGINT ignored; make SIGINT and SIGTERM both end the session
    # cleanly (the `with` block kills the process groups).
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    setup = run_setup()
    base = Path(tempfile.mkdtemp(prefix="lsp-shim-vscode-"))
    with start(
        setup, base, args.workspace.resolve(), {"LSP_SHIM_PROBE_OUT": str(args.out.resolve())}
    ) as s:
        print(f"code-server on {s.url()} (profile {base})", file=sys.stderr)
        print(json.dumps(wait_for_result(s, args.out.resolve(), 180), indent=2))
        if args.keep:
            try:
                while True:
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Shared parts of the benchmarks: a single-threaded LSP client over plain pipes, the
environment a user has (the shim in its own venv, ruff in the workspace's `.venv`), the
peers' command lines, statistics and Markdown tables.

The measuring client is the same object for every contender, so its own cost (framing, one
`json.loads` per received message, selector waits) is identical across them. It never uses
threads: writes are non-blocking and interleaved with reads, so a 20 MB write cannot deadlock
against a server that answers while we are still writing.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped,unused-ignore]

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WINDOWS = sys.platform == "win32"
EXE = ".exe" if WINDOWS else ""
RUFF_OLD = "0.17.5"
RUFF_NEW = "0.17.6"
MIB = 1024 * 1024


# --------------------------------------------------------------------------- framing


def frame(msg: dict[str, Any]) -> bytes:
    body = json.dumps(msg, ensure_ascii=False).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def request_bytes(rid: int, method: str, params: Any = None) -> bytes:
    msg: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        msg["params"] = params
    return frame(msg)


def notification_bytes(method: str, params: Any = None) -> bytes:
    msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        msg["params"] = params
    return frame(msg)


class ConnectionClosed(RuntimeError):
    pass


class Conn:
    """One LSP conversation with a child process over its stdin/stdout pipes.

    Every received message is decoded with `json.loads` (cost identical for all contenders);
    server→client requests are answered at once like a plain editor does (null result, or a
    list of nulls for `workspace/configuration`). Notifications are kept for inspection.
    """

    READ = 1 << 20

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        self.proc = proc
        self.wfd = proc.stdin.fileno()
        self.rfd = proc.stdout.fileno()
        os.set_blocking(self.wfd, False)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.rfd, selectors.EVENT_READ)
        self.buf = bytearray()
        self.eof = False
        self.next_id = 1
        self.responses: dict[object, tuple[dict[str, Any], int]] = {}
        self.notifications: list[tuple[dict[str, Any], int]] = []
        self.pending_out = bytearray()  # our answers to server requests, sent with the next write

    # -- low level
    def _read_some(self, timeout: float | None) -> bool:
        """Wait up to `timeout` for output; parse what arrived. False on timeout."""
        if self.eof:
            raise ConnectionClosed("server closed stdout")
        if not self.sel.select(timeout):
            return False
        data = os.read(self.rfd, self.READ)
        now = time.perf_counter_ns()
        if not data:
            self.eof = True
            raise ConnectionClosed("server closed stdout")
        self.buf += data
        self._parse(now)
        return True

    def _parse(self, now: int) -> None:
        buf = self.buf
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            length = -1
            for line in bytes(buf[:end]).split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length < 0:
                raise ValueError(f"bad header from server: {bytes(buf[:end])[:200]!r}")
            if len(buf) < end + 4 + length:
                return
            body = bytes(buf[end + 4 : end + 4 + length])
            del buf[: end + 4 + length]
            self._dispatch(json.loads(body), now)

    def _dispatch(self, msg: dict[str, Any], now: int) -> None:
        if "method" in msg:
            if "id" in msg:
                result: Any = None
                if msg["method"] == "workspace/configuration":
                    result = [None for _ in (msg.get("params") or {}).get("items", [])]
                self.pending_out += frame({"jsonrpc": "2.0", "id": msg["id"], "result": result})
            else:
                self.notifications.append((msg, now))
        else:
            self.responses[msg.get("id")] = (msg, now)

    def write(self, data: bytes | bytearray | memoryview, deadline: float = 120.0) -> None:
        """Write everything, reading whatever the other side sends meanwhile."""
        if self.pending_out:
            data = bytes(self.pending_out) + bytes(data)
            self.pending_out.clear()
        view = memoryview(data)
        limit = time.monotonic() + deadline
        while view:
            try:
                n = os.write(self.wfd, view)
                view = view[n:]
                continue
            except BlockingIOError:
                pass
            except BrokenPipeError:
                raise ConnectionClosed("server closed stdin") from None
            if time.monotonic() > limit:
                raise TimeoutError("write did not complete")
            self.sel.register(self.wfd, selectors.EVENT_WRITE)
            try:
                events = self.sel.select(1.0)
            finally:
                self.sel.unregister(self.wfd)
            for key, _ in events:
                if key.fd == self.rfd:
                    data_in = os.read(self.rfd, self.READ)
                    if not data_in:
                        self.eof = True
                        raise ConnectionClosed("server closed stdout")
                    self.buf += data_in
                    self._parse(time.perf_counter_ns())

    def flush_answers(self) -> None:
        if self.pending_out:
            self.write(b"")

    # -- messages
    def new_id(self) -> int:
        rid = self.next_id
        self.next_id += 1
        return rid

    def send_request(self, method: str, params: Any = None) -> int:
        rid = self.new_id()
        self.write(request_bytes(rid, method, params))
        return rid

    def notify(self, method: str, params: Any = None) -> None:
        self.write(notification_bytes(method, params))

    def wait_response(self, rid: object, timeout: float = 60.0) -> tuple[dict[str, Any], int]:
        """The response to `rid` and the perf_counter_ns at which its last byte was read."""
        limit = time.monotonic() + timeout
        while rid not in self.responses:
            left = limit - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no response to request {rid}")
            self._read_some(left)
            if self.pending_out:
                self.flush_answers()
        return self.responses.pop(rid)

    def request(self, method: str, params: Any = None, timeout: float = 60.0) -> dict[str, Any]:
        return self.wait_response(self.send_request(method, params), timeout)[0]

    def wait_notification(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 60.0
    ) -> tuple[dict[str, Any], int]:
        limit = time.monotonic() + timeout
        while True:
            for i, (msg, t) in enumerate(self.notifications):
                if predicate(msg):
                    del self.notifications[i]
                    return msg, t
            left = limit - time.monotonic()
            if left <= 0:
                raise TimeoutError("notification did not arrive")
            self._read_some(left)
            if self.pending_out:
                self.flush_answers()

    def drain(self, seconds: float) -> None:
        """Read (and answer) whatever arrives for `seconds`."""
        limit = time.monotonic() + seconds
        try:
            while (left := limit - time.monotonic()) > 0:
                self._read_some(left)
                self.flush_answers()
        except ConnectionClosed:
            pass

    def close(self) -> None:
        self.sel.close()


# --------------------------------------------------------------------------- LSP payloads


def initialize_params(root: Path, pull_diagnostics: bool = False) -> dict[str, Any]:
    # No dynamic registration for formatting: rass routes only statically declared capabilities.
    text_doc: dict[str, Any] = {
        "synchronization": {"didSave": True},
        "formatting": {},
        "publishDiagnostics": {},
    }
    if pull_diagnostics:
        text_doc["diagnostic"] = {"dynamicRegistration": True}
    return {
        "processId": os.getpid(),
        "clientInfo": {"name": "lsp-shim-bench"},
        "rootUri": root.as_uri(),
        "rootPath": str(root),
        "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
        "capabilities": {
            "textDocument": text_doc,
            "workspace": {"configuration": True, "workspaceFolders": True},
            "window": {"showMessage": {}, "workDoneProgress": True},
            "general": {"positionEncodings": ["utf-16"]},
        },
    }


def python_source(lines: int) -> str:
    """A deterministic Python file of exactly `lines` lines that ruff's formatter rewrites."""
    out: list[str] = ["import os, sys", "from typing import Any", ""]
    i = 0
    while len(out) < lines - 1:
        out += [
            f"def f{i}(a,b = {i}, *args, **kw) -> Any:",
            f"    '''Function {i}: does things with caf\u00e9 and \u6f22\u5b57.'''",
            f"    x = {{ 'k{i}':a+b, \"v\": [1,2,3 ,4], 'n' : None }}",
            f"    if a>b and (b<{i} or a==b) : return x['k{i}']",
            "    y=[ v*2 for v in args if v%2==0 ]",
            "    return sys.path[0] if y else os.sep",
            "",
        ]
        i += 1
    out = [*out[: lines - 1], "print( 'done' )"]
    return "\n".join(out) + "\n"


def big_text(size: int) -> str:
    """About `size` bytes of code-like text with quotes, backslashes, tabs and non-ASCII
    (so the JSON string has escapes), as a large generated file would have."""
    unit = (
        '    value = compute("na\u00efve \u2014 \u6e2c\u8a66 \U0001f600", \'x\', r"\\d+\\s*")\t# comment\n'
        "    items.append({'key': value, \"n\": 12345, 'path': 'C:\\\\tmp\\\\x'})\n"
    )
    reps = size // len(unit.encode()) + 1
    return (unit * reps)[:size]


# --------------------------------------------------------------------------- environment


def uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if not found:
        raise SystemExit("uv is needed to build the venvs: pip install uv")
    return found


def scripts_dir(venv: Path) -> Path:
    return venv / ("Scripts" if WINDOWS else "bin")


def venv_python(venv: Path) -> Path:
    return scripts_dir(venv) / ("python" + EXE)


def make_venv(path: Path, packages: Sequence[str], python: str | None = None) -> Path:
    """A venv at `path` holding `packages` (uv, from the registry); returns its scripts dir."""
    subprocess.run(
        [uv(), "venv", "-q", "--python", python or sys.executable, str(path)], check=True
    )
    if packages:
        subprocess.run(
            [uv(), "pip", "install", "-q", "--python", str(venv_python(path)), *packages],
            check=True,
        )
    return scripts_dir(path)


def add_shim_options(p: argparse.ArgumentParser) -> None:
    """How the shim under test is installed; shared by every benchmark."""
    p.add_argument("--python", help="interpreter for the shim's own venv (default: this one)")
    p.add_argument("--ref", help="build the shim from this git commit instead of the working tree")
    p.add_argument("--extras", help="install the shim with these optional extras")
    p.add_argument(
        "--shim-bin", help="use the shims in this scripts dir instead of building a venv"
    )
    p.add_argument("--workdir", help="keep venvs and logs here (default: a new temp dir)")


def shim_under_test(a: argparse.Namespace, work: Path) -> tuple[Path, str]:
    """(scripts dir holding ruff-shim/lsp-shim, a label saying what it is)."""
    if a.shim_bin:
        path = Path(a.shim_bin).resolve()
        return path, f"scripts dir {path}"
    label = source_label(a.ref) + (f", extras [{a.extras}]" if a.extras else ", no extras")
    print(f"[bench] installing the shim into its own venv ({label})", file=sys.stderr, flush=True)
    return install_shim_venv(work / "shim-venv", a.python, a.ref, a.extras), label


def source_label(ref: str | None) -> str:
    """What the shim under test was built from: a commit, or the working tree on top of one."""
    head = (
        subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", ref or "HEAD"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        or "?"
    )
    if ref:
        return f"commit {head}"
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--", "launcher", "pyproject.toml"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"working tree at {head}" + (" + uncommitted changes" if dirty else "")


def install_shim_venv(
    path: Path, python: str | None = None, ref: str | None = None, extras: str | None = None
) -> Path:
    """The shim installed the way a user does (`uv tool install <checkout>`): its own venv,
    a regular (non-editable) install of the working tree, or of commit `ref`. The sources are
    copied out first so the build leaves nothing behind in the checkout. Returns the scripts dir."""
    src = path.parent / (path.name + "-src")
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    if ref:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", "--format=tar", ref, "pyproject.toml", "launcher"],
            capture_output=True,
            check=True,
        ).stdout
        import io
        import tarfile

        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(src)
    else:
        shutil.copy2(REPO / "pyproject.toml", src / "pyproject.toml")
        shutil.copytree(
            REPO / "launcher",
            src / "launcher",
            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc"),
        )
    readme = REPO / "README.md"
    if readme.exists():
        shutil.copy2(readme, src / "README.md")
    else:
        (src / "README.md").write_text("lsp-shim\n")
    bin_dir = scripts_dir(path)
    if not venv_python(path).exists():
        make_venv(path, [], python)
    subprocess.run(
        # --compile-bytecode: what a user's first run leaves in __pycache__; without it every
        # start would compile the package again wherever PYTHONDONTWRITEBYTECODE is set.
        [
            uv(),
            "pip",
            "install",
            "-q",
            "--compile-bytecode",
            "--reinstall-package",
            "lsp-shim",
            "--python",
            str(venv_python(path)),
            f"{src}[{extras}]" if extras else str(src),
        ],
        check=True,
    )
    return bin_dir


def shim_env(store: Path, work: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """A user's environment: no venv activated, no shim variables but a private store, and a
    PATH without the benchmark runner's venv (resolution must find the workspace's `.venv`)."""
    runner_bin = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("LSP_SHIM_")}
    for key in ("VIRTUAL_ENV", "CONDA_PREFIX", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH"):
        env.pop(key, None)
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if p and Path(p) != runner_bin
    )
    env["LSP_SHIM_STORE"] = str(store)
    env["UV_TOOL_BIN_DIR"] = str(work / "no-uv-tools")
    if extra:
        env.update(extra)
    return env


def peer_command(name: str) -> str | None:
    """A peer relay's console script: next to the runner's interpreter, else on PATH."""
    here = Path(sys.executable).parent / (name + EXE)
    return str(here) if here.exists() else shutil.which(name)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DevtoolsReceiver:
    """`lsp-devtools record` listening on loopback: without it the agent retries TCP forever."""

    def __init__(self, exe: str, log_path: Path) -> None:
        self.port = free_port()
        self.log = open(log_path, "wb")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            [
                exe,
                "record",
                "--bind",
                "127.0.0.1",
                "-p",
                str(self.port),
                "--capture-raw",
                "--to-file",
                os.devnull,
                "--on-disconnect",
                "continue",
            ],
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        limit = time.monotonic() + 30
        while time.monotonic() < limit:
            if self.proc.poll() is not None:
                raise RuntimeError(f"lsp-devtools record exited; see {log_path}")
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("lsp-devtools record did not listen")

    def stop(self) -> None:
        stop_tree(self.proc)
        self.log.close()


# --------------------------------------------------------------------------- processes


def spawn(
    argv: Sequence[str], env: dict[str, str] | None, cwd: Path, stderr: Any
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        env=env,
        cwd=str(cwd),
        bufsize=0,
    )


def stop_tree(proc: subprocess.Popen[Any], grace: float = 2.0) -> None:
    """Terminate a process we started and everything it started (by pid, never by name)."""
    try:
        kids = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        kids = []
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    for kid in kids:
        try:
            kid.kill()
        except psutil.Error:
            pass


def load_average() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "?"
    return f"{one:.2f}/{five:.2f}"


def rss(pid: int) -> int:
    return int(psutil.Process(pid).memory_info().rss)


def ctx_switches(pid: int) -> int:
    """Context switches (voluntary + involuntary) of all threads of `pid`: each is a wake-up.
    psutil's num_ctx_switches counts the main thread only on Linux."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        c = psutil.Process(pid).num_ctx_switches()
        return int(c.voluntary + c.involuntary)
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/status", "rb") as f:
                for line in f:
                    if line.startswith(
                        (b"voluntary_ctxt_switches:", b"nonvoluntary_ctxt_switches:")
                    ):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def cpu_ns(pid: int) -> int | None:
    """CPU time of all threads of `pid` in ns from /proc/PID/task/*/schedstat (Linux), far finer
    than cpu_times' clock ticks; None where it is not available."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    total = 0
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat", "rb") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def peak_rss(pid: int) -> int | None:
    """VmHWM (Linux): the most resident memory the process ever had."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def python_pass_ms(python: str, runs: int) -> list[float]:
    """Wall time of `python -c pass` (spawn to exit), same Popen path as the contenders."""
    out = []
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        p = subprocess.Popen([python, "-c", "pass"], stdin=subprocess.DEVNULL)
        p.wait()
        out.append((time.perf_counter_ns() - t0) / 1e6)
    return out


def bare_python_rss(python: str, runs: int = 5) -> list[int]:
    """RSS of an idle `python` that has only run site (as `python -c pass` does)."""
    out = []
    for _ in range(runs):
        p = subprocess.Popen(
            [python, "-c", "import os; os.write(1, b'r'); os.read(0, 1)"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
        )
        assert p.stdout is not None and p.stdin is not None
        p.stdout.read(1)
        time.sleep(0.05)
        out.append(rss(p.pid))
        p.stdin.write(b"x")
        p.stdin.close()
        p.wait(5)
        p.stdout.close()
    return out


# --------------------------------------------------------------------------- statistics, tables


def median(xs: Iterable[float]) -> float:
    data = list(xs)
    return statistics.median(data) if data else float("nan")


def percentile(xs: Iterable[float], q: float) -> float:
    data = sorted(xs)
    if not data:
        return float("nan")
    k = (len(data) - 1) * q / 100.0
    lo = int(k)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def fmt(x: float | None, digits: int = 2) -> str:
    if x is None or x != x:
        return "—"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.{digits}f}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("✅ met" if ok else "❌ missed")


def workdir(keep: str | None, prefix: str) -> Path:
    if keep:
        path = Path(keep).resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path
    return Path(tempfile.mkdtemp(prefix=prefix))

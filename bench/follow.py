#!/usr/bin/env python3
"""Upgrade following: how long from an upgraded ruff landing on disk to the first answer from
the new server, and what following costs on the relay round trip.

    python bench/follow.py [--switches 10] [--sessions 10] [--requests 50]

Part 1: one live `ruff-shim server` session while ruff in the workspace `.venv` is toggled
between two versions with `uv pip install` (`--switches` times). A thread stats the installed
binary every 0.5 ms and notes when it changes ("landed"); meanwhile the client sends the cheap
request `workspace/executeCommand ruff.printDebugInformation` every `--probe-ms`, whose answer
names the version and executable of the server that answered. The figure is the time from
landing to the first answer from the new version. The shim's notice
("ruff A → B, switched without restart") and `lsp-shim ps --json` are checked too.

Part 2: `textDocument/formatting` round trips through sessions with following on and with
`LSP_SHIM_NO_FOLLOW=1`, alternating, and the ratio of their medians (with a bootstrap 95 % CI).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lspbench as L

FORMAT_OPTIONS = {"tabSize": 4, "insertSpaces": True}
NOTICE = "switched without restart"


def say(msg: str) -> None:
    print(f"[follow] {msg}", file=sys.stderr, flush=True)


class LandingWatch(threading.Thread):
    """Stats `path` every 0.5 ms; `landed` is the perf_counter_ns of the first complete new file."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.before = self._key()
        self.landed: int | None = None
        self.stop = threading.Event()

    def _key(self) -> tuple[int, int, int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

    def run(self) -> None:
        while not self.stop.is_set():
            key = self._key()
            now = time.perf_counter_ns()
            if key is not None and key != self.before and key[2] > 0:
                self.landed = now
                return
            time.sleep(0.0005)


def parse_debug(result: Any) -> tuple[str, str]:
    """(version, executable) from ruff.printDebugInformation's answer."""
    version = executable = ""
    if isinstance(result, str):
        for line in result.splitlines():
            key, _, value = line.partition("=")
            key, value = key.strip(), value.strip()
            if key == "version" and not version:
                version = value
            elif key == "executable" and not executable:
                executable = value
    return version, executable


class FollowBench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = L.workdir(args.workdir, "lsp-shim-follow-")
        self.ws = self.work / "ws"
        self.logs = self.work / "logs"
        self.logs.mkdir(exist_ok=True)
        self.store = self.work / "store"

    def setup(self) -> None:
        a = self.args
        say(f"work dir: {self.work}")
        self.shim_bin, self.label = L.shim_under_test(a, self.work)
        self.shim = str(self.shim_bin / ("ruff-shim" + L.EXE))
        self.lsp_shim = str(self.shim_bin / ("lsp-shim" + L.EXE))
        venv = self.ws / ".venv"
        self.venv_python = str(L.venv_python(venv))
        self.ruff = L.scripts_dir(venv) / ("ruff" + L.EXE)
        if not self.ruff.exists():
            self.ws.mkdir(parents=True, exist_ok=True)
            L.make_venv(venv, [f"ruff=={a.new}"])
        # Both versions into uv's cache first, so a switch costs a link, not a download.
        self.install(a.new)
        self.install(a.old)
        self.source = L.python_source(1000)
        self.doc = self.ws / "module.py"
        self.doc.write_text(self.source, encoding="utf-8")

    def install(self, version: str) -> subprocess.Popen[bytes]:
        p = self.start_install(version)
        if p.wait() != 0:
            raise SystemExit(f"uv pip install ruff=={version} failed")
        return p

    def start_install(self, version: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [L.uv(), "pip", "install", "-q", "--python", self.venv_python, f"ruff=={version}"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def env(self, follow: bool) -> dict[str, str]:
        extra = {} if follow else {"LSP_SHIM_NO_FOLLOW": "1"}
        return L.shim_env(self.store, self.work, extra)

    def open_session(
        self, follow: bool, log_name: str
    ) -> tuple[subprocess.Popen[bytes], L.Conn, Any]:
        err = open(self.logs / log_name, "ab")  # noqa: SIM115 (closed in close_session)
        p = L.spawn([self.shim, "server"], self.env(follow), self.ws, err)
        c = L.Conn(p)
        c.request("initialize", L.initialize_params(self.ws), timeout=60)
        c.notify("initialized", {})
        uri = self.doc.as_uri()
        c.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": "python",
                    "version": 1,
                    "text": self.source,
                }
            },
        )
        c.wait_notification(
            lambda m: (
                m["method"] == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri
            ),
            timeout=30,
        )
        return p, c, err

    def close_session(self, p: subprocess.Popen[bytes], c: L.Conn, err: Any) -> None:
        try:
            c.request("shutdown", None, timeout=10)
            c.notify("exit")
            p.wait(5)
        except Exception:
            pass
        c.close()
        L.stop_tree(p)
        err.close()

    def probe(self, c: L.Conn) -> tuple[str, str, int]:
        rid = c.send_request(
            "workspace/executeCommand", {"command": "ruff.printDebugInformation", "arguments": []}
        )
        resp, t = c.wait_response(rid, timeout=30)
        version, exe = parse_debug(resp.get("result"))
        return version, exe, t

    def ps_version(self, pid: int) -> str:
        out = subprocess.run(
            [self.lsp_shim, "ps", "--json"], capture_output=True, text=True, env=self.env(True)
        )
        try:
            records = json.loads(out.stdout or "[]")
        except ValueError:
            return "?"
        for r in records if isinstance(records, list) else []:
            if r.get("pid") == pid:
                return str(r.get("version", ""))
        return "(no record)"

    # ------------------------------------------------------------------ part 1
    def switches(self) -> list[dict[str, Any]]:
        a = self.args
        self.install(a.old)
        p, c, err = self.open_session(True, "follow.log")
        rows: list[dict[str, Any]] = []
        try:
            current, _, _ = self.probe(c)
            if current != a.old:
                raise SystemExit(f"expected ruff {a.old} in the session, got {current!r}")
            for k in range(a.switches):
                target = a.new if current == a.old else a.old
                time.sleep(a.settle)  # the previous switch's old server retires meanwhile
                watch = LandingWatch(self.ruff)
                watch.start()
                t_start = time.perf_counter_ns()
                inst = self.start_install(target)
                t_uv_end: int | None = None
                first_new: int | None = None
                exe = ""
                limit = time.monotonic() + a.timeout
                while time.monotonic() < limit:
                    if t_uv_end is None and inst.poll() is not None:
                        t_uv_end = time.perf_counter_ns()
                    version, exe, t = self.probe(c)
                    if version == target:
                        first_new = t
                        break
                    time.sleep(a.probe_ms / 1000)
                if inst.wait() != 0:
                    raise SystemExit(f"uv pip install ruff=={target} failed")
                t_uv_end = t_uv_end or time.perf_counter_ns()
                watch.stop.set()
                landed = watch.landed or t_uv_end
                notice_t: int | None = None
                notice_text = ""
                if first_new is not None:
                    try:
                        msg, notice_t = c.wait_notification(
                            lambda m: (
                                m["method"] in ("window/showMessage", "window/logMessage")
                                and NOTICE in str(m.get("params", {}).get("message", ""))
                            ),
                            timeout=5,
                        )
                        notice_text = msg["params"]["message"]
                    except TimeoutError:
                        pass
                row = {
                    "switch": f"{current} → {target}",
                    "landed_ms": (landed - t_start) / 1e6,
                    "uv_ms": (t_uv_end - t_start) / 1e6,
                    "first_new_ms": None if first_new is None else (first_new - landed) / 1e6,
                    "notice_ms": None if notice_t is None else (notice_t - landed) / 1e6,
                    "notice": notice_text,
                    "exe": exe,
                    "ps": self.ps_version(p.pid) if first_new is not None else "",
                    "landing_seen": watch.landed is not None,
                }
                rows.append(row)
                first_ms = None if first_new is None else (first_new - landed) / 1e6
                say(
                    f"switch {k + 1}/{a.switches}: {row['switch']}: first answer from the new server "
                    f"{L.fmt(first_ms)} ms after landing; notice {notice_text!r}; "
                    f"ps says {row['ps']}"
                )
                if first_new is None:
                    say(f"no answer from ruff {target} within {a.timeout} s: is following on?")
                    break
                current = target
        finally:
            self.close_session(p, c, err)
        return rows

    # ------------------------------------------------------------------ part 2
    def round_trips(self) -> dict[str, list[float]]:
        a = self.args
        out: dict[str, list[float]] = {"on": [], "off": []}
        params = {"textDocument": {"uri": self.doc.as_uri()}, "options": FORMAT_OPTIONS}
        for i in range(a.sessions):
            order = [("on", True), ("off", False)]
            if i % 2:
                order.reverse()
            for key, follow in order:
                p, c, err = self.open_session(follow, f"rtt-{key}.log")
                try:
                    for k in range(a.warmup_requests + a.requests):
                        rid = c.new_id()
                        data = L.request_bytes(rid, "textDocument/formatting", params)
                        t = time.perf_counter_ns()
                        c.write(data)
                        _, tr = c.wait_response(rid)
                        if k >= a.warmup_requests:
                            out[key].append((tr - t) / 1e6)
                finally:
                    self.close_session(p, c, err)
            say(f"round trips: session pair {i + 1}/{a.sessions}")
        return out

    # ------------------------------------------------------------------ report
    def run(self) -> str:
        a = self.args
        load_before = L.load_average()
        self.setup()
        rows = [] if a.skip_switches else self.switches()
        rtt = {"on": [], "off": []} if a.skip_rtt else self.round_trips()
        lines = [
            "## lsp-shim upgrade-following benchmark",
            "",
            f"Shim under test: {self.label}; ruff toggled {a.old} ⇄ {a.new} in the workspace "
            f"`.venv` with `uv pip install` (both versions in uv's cache). Load average before "
            f"{load_before}, after {L.load_average()} on {os.cpu_count()} cores.",
            "",
        ]
        if rows:
            lines += ["### Landing → first answer from the new server", ""]
            done = [r for r in rows if r["first_new_ms"] is not None]
            table_rows = [
                [
                    str(i + 1),
                    r["switch"],
                    L.fmt(r["uv_ms"]),
                    L.fmt(r["landed_ms"]),
                    L.fmt(r["first_new_ms"]),
                    L.fmt(r["notice_ms"]),
                    r["ps"] or "—",
                    "yes" if r["notice"] else "no",
                ]
                for i, r in enumerate(rows)
            ]
            lines.append(
                L.markdown_table(
                    [
                        "#",
                        "switch",
                        "uv install (ms)",
                        "binary landed (ms after start)",
                        "landed → first new answer (ms)",
                        "landed → notice (ms)",
                        "`ps --json` version",
                        "notice seen",
                    ],
                    table_rows,
                )
            )
            if done:
                firsts = [r["first_new_ms"] for r in done]
                notices = [r["notice_ms"] for r in done if r["notice_ms"] is not None]
                lines += [
                    "",
                    L.markdown_table(
                        ["figure", "median", "min", "max", "n"],
                        [
                            [
                                "landed → first answer from the new server",
                                f"{L.fmt(L.median(firsts))} ms",
                                f"{L.fmt(min(firsts))} ms",
                                f"{L.fmt(max(firsts))} ms",
                                str(len(firsts)),
                            ],
                            [
                                'landed → "switched without restart" notice',
                                f"{L.fmt(L.median(notices))} ms" if notices else "—",
                                f"{L.fmt(min(notices))} ms" if notices else "—",
                                f"{L.fmt(max(notices))} ms" if notices else "—",
                                str(len(notices)),
                            ],
                        ],
                    ),
                ]
                lines.append(
                    f"\nProbe every {a.probe_ms} ms (`ruff.printDebugInformation`, answered "
                    f"with the server's version), so figures are upper bounds within that."
                )
            if len(done) < len(rows) or len(rows) < a.switches:
                lines.append(
                    f"\n**{a.switches - len(done)} of {a.switches} switches did not happen** "
                    f"within {a.timeout} s."
                )
        if rtt["on"] and rtt["off"]:
            on, off = L.median(rtt["on"]), L.median(rtt["off"])
            lo, hi = bootstrap_ratio(rtt["on"], rtt["off"])
            ok = lo <= 1.0 <= hi or on / off <= 1.02
            lines += [
                "",
                "### Relay round trip: following on vs `--no-follow`",
                "",
                L.markdown_table(
                    ["`textDocument/formatting`, 1,000-line file", "median", "p90", "n"],
                    [
                        [
                            "following on (default)",
                            f"{L.fmt(on, 3)} ms",
                            f"{L.fmt(L.percentile(rtt['on'], 90), 3)} ms",
                            str(len(rtt["on"])),
                        ],
                        [
                            "`LSP_SHIM_NO_FOLLOW=1`",
                            f"{L.fmt(off, 3)} ms",
                            f"{L.fmt(L.percentile(rtt['off'], 90), 3)} ms",
                            str(len(rtt["off"])),
                        ],
                        [
                            "ratio on / off",
                            f"×{on / off:.3f}",
                            "",
                            f"95 % CI ×{lo:.3f} – ×{hi:.3f}",
                        ],
                        [
                            "target: nothing measurable (CI holds 1.00, or ≤ ×1.02)",
                            L.verdict(ok),
                            "",
                            "",
                        ],
                    ],
                ),
            ]
        return "\n".join(lines)


def bootstrap_ratio(a: list[float], b: list[float], rounds: int = 2000) -> tuple[float, float]:
    rng = random.Random(1)
    ratios = []
    for _ in range(rounds):
        ra = [a[rng.randrange(len(a))] for _ in a]
        rb = [b[rng.randrange(len(b))] for _ in b]
        ratios.append(L.median(ra) / L.median(rb))
    return L.percentile(ratios, 2.5), L.percentile(ratios, 97.5)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--switches", type=int, default=10, help="version switches to time (default 10)")
    p.add_argument(
        "--sessions", type=int, default=10, help="session pairs for the round-trip ratio"
    )
    p.add_argument("--requests", type=int, default=50, help="formatting requests per session")
    p.add_argument("--warmup-requests", type=int, default=5)
    p.add_argument("--probe-ms", type=float, default=10.0, help="interval between probe requests")
    p.add_argument("--settle", type=float, default=3.0, help="seconds between switches")
    p.add_argument("--timeout", type=float, default=30.0, help="give up on a switch after this")
    p.add_argument("--old", default=L.RUFF_OLD)
    p.add_argument("--new", default=L.RUFF_NEW)
    L.add_shim_options(p)
    p.add_argument("--skip-switches", action="store_true")
    p.add_argument("--skip-rtt", action="store_true")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    print(FollowBench(args).run(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

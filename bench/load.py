#!/usr/bin/env python3
"""Relay under sustained load, and an idle session's CPU.

    python bench/load.py [--seconds 60] [--rate 2000] [--idle-seconds 60]

Load: a mixed stream of `--rate` messages/s for `--seconds`, sent on a fixed schedule (open
loop) to bench/echo_server.py, once directly and once through
`lsp-shim -- PYTHON bench/echo_server.py`; the added latency is the difference of the two
latency distributions. Every request and `bench/ping` must come back (checked by sequence
number and payload size). Shim RSS is sampled from start to end; CPU use is recorded.

Idle: a `ruff-shim server` session (ruff from the workspace `.venv`, following upgrades on) and
a `lsp-shim -- PYTHON bench/echo_server.py` session sit idle after initialize + didOpen while
psutil reads the shim processes' cpu_times and context switches over `--idle-seconds`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import selectors
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lspbench as L
import psutil  # type: ignore[import-untyped,unused-ignore]

ECHO = L.BENCH / "echo_server.py"

# (name, weight, payload bytes, kind): kind "req" gets a response, "ping" a bench/pong
# notification back, "note" and "cancel" nothing.
MIX = [
    ("request, small", 55, 150, "req"),
    ("request, 8 KB", 10, 8_000, "req"),
    ("request, 200 KB", 1, 200_000, "req"),
    ("didChange-like notification, 1 KB", 20, 1_000, "note"),
    ("bench/ping → bench/pong notification, 600 B", 12, 600, "ping"),
    ("$/cancelRequest", 2, 0, "cancel"),
]


def say(msg: str) -> None:
    print(f"[load] {msg}", file=sys.stderr, flush=True)


def payload(size: int) -> str:
    unit = 'caf\u00e9 \u6f22\u5b57 "q" \\ tab\t line\n '
    return (unit * (size // len(unit) + 1))[:size]


class Traffic:
    """Deterministic mixed messages, built from prepared payloads (cheap bytes formatting)."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.kinds = [m for m in MIX]
        self.weights = [m[1] for m in MIX]
        self.payloads = {m[2]: json.dumps(payload(m[2]), ensure_ascii=False).encode() for m in MIX}
        self.data_len = {m[2]: len(payload(m[2])) for m in MIX}

    def make(self, seq: int) -> tuple[bytes, str, int]:
        """(framed message, kind, payload size)"""
        _, _, size, kind = self.rng.choices(self.kinds, self.weights)[0]
        data = self.payloads[size]
        if kind == "req":
            body = (
                b'{"jsonrpc":"2.0","id":%d,"method":"bench/echo","params":{"seq":%d,"data":%s}}'
                % (seq, seq, data)
            )
        elif kind == "ping":
            body = b'{"jsonrpc":"2.0","method":"bench/ping","params":{"seq":%d,"data":%s}}' % (
                seq,
                data,
            )
        elif kind == "note":
            body = (
                b'{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"textDocument":'
                b'{"uri":"file:///tmp/x.py","version":%d},"contentChanges":[{"text":%s}]}}'
                % (seq, data)
            )
        else:
            body = b'{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":%d}}' % max(
                0, seq - 3
            )
        return b"Content-Length: %d\r\n\r\n" % len(body) + body, kind, size


@dataclass
class LoadResult:
    name: str
    offered: int = 0
    sent_seconds: float = 0.0
    bytes_out: int = 0
    bytes_in: int = 0
    latencies: dict[str, list[float]] = field(default_factory=dict)  # kind -> ms
    expected: int = 0
    received: int = 0
    bad: int = 0
    max_lag_ms: float = 0.0
    rss: list[tuple[float, int]] = field(default_factory=list)
    peak: int | None = None
    relay_cpu: float | None = None  # seconds of CPU over the measured window
    server_cpu: float | None = None
    wall: float = 0.0
    missing: list[Any] = field(default_factory=list)  # (seq, (sent ns, kind, size)) never answered


def run_load(
    name: str,
    argv: list[str],
    env: dict[str, str],
    cwd: Path,
    log: Path,
    rate: float,
    seconds: float,
    warmup: float,
    relay: bool,
) -> LoadResult:
    """Open-loop load; latency from the moment a message's last byte entered the pipe."""
    res = LoadResult(name)
    traffic = Traffic()
    with open(log, "ab") as err:
        p = L.spawn(argv, env, cwd, err)
        conn = L.Conn(p)
        try:
            conn.request(
                "initialize",
                {"processId": os.getpid(), "rootUri": cwd.as_uri(), "capabilities": {}},
                timeout=60,
            )
            conn.notify("initialized", {})
            proc = psutil.Process(p.pid)
            server = proc.children(recursive=True)[-1] if relay else proc
            # warm-up at the same rate, not measured
            _pump(conn, traffic, rate, warmup, LoadResult("warmup"), seq0=1_000_000, proc=None)
            cpu0 = proc.cpu_times()
            scpu0 = server.cpu_times()
            t0 = time.perf_counter()
            _pump(conn, traffic, rate, seconds, res, seq0=10, proc=proc if relay else None)
            res.wall = time.perf_counter() - t0
            cpu1 = proc.cpu_times()
            scpu1 = server.cpu_times()
            if relay:
                res.relay_cpu = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
                res.peak = L.peak_rss(p.pid)
            res.server_cpu = (scpu1.user + scpu1.system) - (scpu0.user + scpu0.system)
            conn.request("shutdown", None, timeout=30)
            conn.notify("exit")
            p.wait(5)
        finally:
            conn.close()
            L.stop_tree(p)
    return res


def _pump(
    conn: L.Conn,
    traffic: Traffic,
    rate: float,
    seconds: float,
    res: LoadResult,
    seq0: int,
    proc: Any,
) -> None:
    n = int(rate * seconds)
    interval = 1e9 / rate
    res.offered = n
    sel = selectors.DefaultSelector()
    sel.register(conn.rfd, selectors.EVENT_READ)
    writing = False
    out = bytearray()
    out_total = 0  # bytes handed to os.write so far
    stamps: list[tuple[int, int, str]] = []  # (stream end offset, seq, kind) not yet written
    stamp_i = 0
    sent_at: dict[int, tuple[int, str, int]] = {}  # seq -> (ns, kind, size)
    queued_total = 0
    expected = 0
    nxt = 0
    start = time.perf_counter_ns()
    next_rss = 0.0
    last_send = start
    drain_limit: float | None = None

    def on_message(msg: dict[str, Any], now: int) -> None:
        if "id" in msg and "method" not in msg:
            seq = msg["id"]
            params = msg.get("result") or {}
        elif msg.get("method") == "bench/pong":
            params = msg.get("params") or {}
            seq = params.get("seq")
        else:
            return
        entry = sent_at.pop(seq, None) if isinstance(seq, int) else None
        if entry is None:
            res.bad += 1
            return
        ns, kind, size = entry
        if params.get("seq") != seq or len(params.get("data", "")) != traffic.data_len[size]:
            res.bad += 1
        res.received += 1
        res.latencies.setdefault(kind, []).append((now - ns) / 1e6)

    while True:
        now = time.perf_counter_ns()
        while nxt < n and start + nxt * interval <= now:
            seq = seq0 + nxt
            data, kind, size = traffic.make(seq)
            out += data
            queued_total += len(data)
            res.bytes_out += len(data)
            if kind in ("req", "ping"):
                stamps.append((queued_total, seq, kind + ":" + str(size)))
                expected += 1
            lag = (now - (start + nxt * interval)) / 1e6
            res.max_lag_ms = max(res.max_lag_ms, lag)
            nxt += 1
            last_send = now
        if out:
            try:
                k = os.write(conn.wfd, out)
                del out[:k]
                out_total += k
                t = time.perf_counter_ns()
                while stamp_i < len(stamps) and stamps[stamp_i][0] <= out_total:
                    _, seq, tag = stamps[stamp_i]
                    kind, size_text = tag.split(":")
                    sent_at[seq] = (t, kind, int(size_text))
                    stamp_i += 1
            except BlockingIOError:
                pass
        if out and not writing:
            sel.register(conn.wfd, selectors.EVENT_WRITE)
            writing = True
        elif not out and writing:
            sel.unregister(conn.wfd)
            writing = False
        if proc is not None and (now - start) / 1e9 >= next_rss:
            res.rss.append(((now - start) / 1e9, L.rss(proc.pid)))
            next_rss += 5.0
        if nxt >= n and not out:
            if drain_limit is None:
                drain_limit = time.monotonic() + 5
            if not sent_at or time.monotonic() > drain_limit:
                break
            timeout: float | None = 0.05
        else:
            timeout = (
                max(0.0, (start + nxt * interval - time.perf_counter_ns()) / 1e9)
                if nxt < n
                else 0.05
            )
        for key, _ in sel.select(timeout):
            if key.fd != conn.rfd:
                continue
            data_in = os.read(conn.rfd, 1 << 20)
            t = time.perf_counter_ns()
            if not data_in:
                raise L.ConnectionClosed("server closed stdout during the load")
            res.bytes_in += len(data_in)
            conn.buf += data_in
            before = len(conn.notifications)
            conn._parse(t)
            # Conn files responses and notifications; consume them here.
            for rid in list(conn.responses):
                msg, ts = conn.responses.pop(rid)
                on_message(msg, ts)
            for msg, ts in conn.notifications[before:]:
                on_message(msg, ts)
            del conn.notifications[before:]
    if writing:
        sel.unregister(conn.wfd)
    sel.close()
    res.expected += expected
    res.sent_seconds = (last_send - start) / 1e9
    if proc is not None:
        res.rss.append(((time.perf_counter_ns() - start) / 1e9, L.rss(proc.pid)))
    res.bad += len(sent_at)
    res.missing = sorted(sent_at.items())[:20]
    if sent_at:
        say(f"{name_of(res)}: {len(sent_at)} answers never came, first: {res.missing[:5]}")


def name_of(res: LoadResult) -> str:
    return res.name


def idle_cpu(
    sessions: list[tuple[str, list[str], dict[str, str], Path, Any]], seconds: float, logs: Path
) -> list[dict[str, Any]]:
    """Start each session, let it settle, then read the relay process's CPU over `seconds`."""
    started = []
    for name, argv, env, cwd, prepare in sessions:
        err = open(logs / f"idle-{name}.log", "ab")  # noqa: SIM115 (closed below)
        p = L.spawn(argv, env, cwd, err)
        conn = L.Conn(p)
        conn.request("initialize", L.initialize_params(cwd), timeout=60)
        conn.notify("initialized", {})
        if prepare:
            prepare(conn)
        started.append((name, p, conn, err))
    time.sleep(3.0)  # bookkeeping after initialize, first gc, imports
    procs = []
    for name, p, conn, _err in started:
        conn.drain(0.1)
        proc = psutil.Process(p.pid)
        procs.append(
            (
                name,
                proc,
                proc.cpu_times(),
                L.ctx_switches(p.pid),
                proc.num_threads(),
                L.cpu_ns(p.pid),
            )
        )
    t0 = time.perf_counter()
    time.sleep(seconds)
    wall = time.perf_counter() - t0
    out = []
    for (name, proc, cpu0, ctx0, threads, ns0), (_, p, conn, err) in zip(
        procs, started, strict=True
    ):
        cpu1 = proc.cpu_times()
        ctx1 = L.ctx_switches(p.pid)
        ns1 = L.cpu_ns(p.pid)
        precise = (ns1 - ns0) / 1e9 if ns0 is not None and ns1 is not None else None
        used = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
        switches = ctx1 - ctx0
        out.append(
            {
                "name": name,
                "cpu_s": used,
                "pct": 100 * used / wall,
                "precise_s": precise,
                "wall": wall,
                "wakeups": switches / wall,
                "threads": threads,
                "rss": L.rss(p.pid),
            }
        )
        try:
            conn.request("shutdown", None, timeout=10)
            conn.notify("exit")
            p.wait(5)
        except Exception:
            pass
        conn.close()
        L.stop_tree(p)
        err.close()
    return out


def idle_lines(idle: list[dict[str, Any]]) -> list[str]:
    if not idle:
        return []
    return [
        "",
        f"### Idle session CPU over {idle[0]['wall']:.0f} s (shim process only)",
        "",
        L.markdown_table(
            [
                "session",
                "CPU (cpu_times)",
                "% of one core",
                "CPU (schedstat)",
                "% of one core",
                "target < 0.1 %",
                "wake-ups/s",
                "threads",
                "RSS",
            ],
            [
                [
                    i["name"],
                    f"{i['cpu_s'] * 1000:.0f} ms",
                    f"{i['pct']:.3f} %",
                    "—" if i["precise_s"] is None else f"{i['precise_s'] * 1000:.1f} ms",
                    "—" if i["precise_s"] is None else f"{100 * i['precise_s'] / i['wall']:.4f} %",
                    L.verdict(
                        (i["pct"] if i["precise_s"] is None else 100 * i["precise_s"] / i["wall"])
                        < 0.1
                    ),
                    f"{i['wakeups']:.1f}",
                    str(i["threads"]),
                    f"{L.fmt(i['rss'] / L.MIB)} MiB",
                ]
                for i in idle
            ],
        ),
        "",
        "psutil cpu_times is user + system in clock ticks (10 ms: ±0.017 % over 60 s); "
        "schedstat is the kernel's per-thread run time in ns (Linux), which the target is "
        "judged on where available; "
        "wake-ups are voluntary + involuntary context switches of all the shim's threads.",
    ]


def report(
    args: argparse.Namespace,
    direct: LoadResult | None,
    shim: LoadResult | None,
    idle: list[dict[str, Any]],
    label: str,
    load_before: str,
) -> str:
    if direct is None or shim is None:
        head = [
            "## lsp-shim idle benchmark",
            "",
            f"Shim under test: {label}; load part skipped (--seconds 0). Load average before "
            f"{load_before}, after {L.load_average()} on {os.cpu_count()} cores.",
        ]
        return "\n".join(head + idle_lines(idle))

    def lat(r: LoadResult, q: float, kinds: tuple[str, ...] = ("req", "ping")) -> float:
        xs = [x for k in kinds for x in r.latencies.get(k, [])]
        return L.percentile(xs, q)

    rows = []
    for q, title in ((50, "p50"), (90, "p90"), (99, "p99"), (99.9, "p99.9")):
        d, s = lat(direct, q), lat(shim, q)
        rows.append(
            [
                f"latency {title} (all answered messages)",
                f"{L.fmt(d, 3)} ms",
                f"{L.fmt(s, 3)} ms",
                f"+{L.fmt(s - d, 3)} ms",
            ]
        )
    for kind, title in (("req", "requests → response"), ("ping", "ping → pong notification")):
        d, s = lat(direct, 99, (kind,)), lat(shim, 99, (kind,))
        rows.append(
            [f"  p99, {title}", f"{L.fmt(d, 3)} ms", f"{L.fmt(s, 3)} ms", f"+{L.fmt(s - d, 3)} ms"]
        )
    dmax, smax = lat(direct, 100), lat(shim, 100)
    rows.append(["latency max", f"{L.fmt(dmax, 3)} ms", f"{L.fmt(smax, 3)} ms", ""])

    def rates(r: LoadResult) -> tuple[float, float, float]:
        span = r.sent_seconds or float("nan")  # first to last scheduled send
        return r.offered / span, (r.bytes_out + r.bytes_in) / 1e6 / span, r.received / span

    dm, dmb, db = rates(direct)
    sm, smb, sb = rates(shim)
    rows += [
        [f"messages sent / s (offered {args.rate:g}/s)", L.fmt(dm), L.fmt(sm), f"×{sm / dm:.3f}"],
        ["messages answered / s (responses + pongs)", L.fmt(db), L.fmt(sb), f"×{sb / db:.3f}"],
        [
            "relay throughput, both directions",
            f"{L.fmt(dmb)} MB/s",
            f"{L.fmt(smb)} MB/s",
            f"×{smb / dmb:.3f}",
        ],
        [
            "answers expected / received / lost or wrong",
            f"{direct.expected} / {direct.received} / {direct.bad}",
            f"{shim.expected} / {shim.received} / {shim.bad}",
            "",
        ],
        [
            "client's worst lag behind the schedule",
            f"{L.fmt(direct.max_lag_ms)} ms",
            f"{L.fmt(shim.max_lag_ms)} ms",
            "",
        ],
        [
            "CPU of the echo server (% of a core)",
            f"{L.fmt(100 * (direct.server_cpu or 0) / direct.wall)} %",
            f"{L.fmt(100 * (shim.server_cpu or 0) / shim.wall)} %",
            "",
        ],
        [
            "CPU of the shim process (% of a core)",
            "—",
            f"{L.fmt(100 * (shim.relay_cpu or 0) / shim.wall)} %",
            "",
        ],
    ]
    if shim.rss:
        first, last = shim.rss[0][1] / L.MIB, shim.rss[-1][1] / L.MIB
        top = max(r for _, r in shim.rss) / L.MIB
        rows.append(
            [
                "shim RSS at start → end (max sampled every 5 s)",
                "—",
                f"{L.fmt(first)} → {L.fmt(last)} MiB (max {L.fmt(top)})",
                f"{last - first:+.2f} MiB",
            ]
        )
        rows.append(
            [
                "  shim RSS samples, MiB (every 5 s)",
                "—",
                " ".join(f"{r / L.MIB:.1f}" for _, r in shim.rss),
                "",
            ]
        )
        if shim.peak:
            rows.append(["shim peak RSS (VmHWM)", "—", f"{L.fmt(shim.peak / L.MIB)} MiB", ""])
    added99 = lat(shim, 99) - lat(direct, 99)
    lines = [
        "## lsp-shim load benchmark",
        "",
        f"Shim under test: {label}. {args.rate} messages/s for {args.seconds:g} s "
        f"({int(args.rate * args.seconds)} messages) after {args.warmup:g} s of warm-up, each way: "
        f"direct `{Path(args.echo_python).name} bench/echo_server.py` and "
        f"`lsp-shim -- {Path(args.echo_python).name} bench/echo_server.py`. Load average before "
        f"{load_before}, after {L.load_average()} on {os.cpu_count()} cores.",
        "",
        "Mix: " + ", ".join(f"{w} % {name}" for name, w, _, _ in MIX) + ".",
        "",
        L.markdown_table(["figure", "direct", "through lsp-shim", "added / ratio"], rows),
        "",
        f"Added p99 latency: **{L.fmt(added99, 3)} ms**.",
    ]
    return "\n".join(lines + idle_lines(idle))


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--seconds", type=float, default=60.0, help="load duration (default 60; 0: idle part only)"
    )
    p.add_argument("--rate", type=float, default=2000.0, help="messages per second (default 2000)")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds of unmeasured load first")
    p.add_argument("--idle-seconds", type=float, default=60.0, help="idle CPU window (0: skip)")
    p.add_argument(
        "--echo-python",
        default=os.path.realpath(getattr(sys, "_base_executable", sys.executable)),
        help="interpreter that runs echo_server.py (both ways)",
    )
    p.add_argument("--ruff", default=L.RUFF_NEW, help="ruff version for the idle ruff-shim session")
    L.add_shim_options(p)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = parse(argv)
    load_before = L.load_average()
    work = L.workdir(a.workdir, "lsp-shim-load-")
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    say(f"work dir: {work}")
    shim_bin, label = L.shim_under_test(a, work)
    lsp_shim = str(shim_bin / ("lsp-shim" + L.EXE))
    store = work / "store"
    env = L.shim_env(store, work)
    echo_cmd = [a.echo_python, str(ECHO)]

    direct: LoadResult | None = None
    shim: LoadResult | None = None
    if a.seconds > 0:
        say(f"direct: {a.rate:g} msg/s for {a.seconds:g} s")
        direct = run_load(
            "direct", echo_cmd, env, work, logs / "direct.log", a.rate, a.seconds, a.warmup, False
        )
        say(f"through lsp-shim: {a.rate:g} msg/s for {a.seconds:g} s")
        shim = run_load(
            "shim",
            [lsp_shim, "--", *echo_cmd],
            env,
            work,
            logs / "shim.log",
            a.rate,
            a.seconds,
            a.warmup,
            True,
        )
    idle: list[dict[str, Any]] = []
    if a.idle_seconds > 0:
        ws = work / "ws"
        if not (L.scripts_dir(ws / ".venv") / ("ruff" + L.EXE)).exists():
            ws.mkdir(exist_ok=True)
            L.make_venv(ws / ".venv", [f"ruff=={a.ruff}"])
        doc = ws / "module.py"
        doc.write_text(L.python_source(1000), encoding="utf-8")

        def open_doc(conn: L.Conn) -> None:
            conn.notify(
                "textDocument/didOpen",
                {
                    "textDocument": {
                        "uri": doc.as_uri(),
                        "languageId": "python",
                        "version": 1,
                        "text": doc.read_text(),
                    }
                },
            )
            conn.wait_notification(
                lambda m: m["method"] == "textDocument/publishDiagnostics", timeout=30
            )

        say(f"idle sessions for {a.idle_seconds:g} s")
        idle = idle_cpu(
            [
                (
                    "`ruff-shim server` (following on)",
                    [str(shim_bin / ("ruff-shim" + L.EXE)), "server"],
                    env,
                    ws,
                    open_doc,
                ),
                (
                    "`lsp-shim -- python echo_server.py`",
                    [lsp_shim, "--", *echo_cmd],
                    env,
                    work,
                    None,
                ),
            ],
            a.idle_seconds,
            logs,
        )
    print(report(a, direct, shim, idle, label, load_before), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

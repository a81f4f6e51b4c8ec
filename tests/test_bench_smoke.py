"""The benchmarks in bench/ still run: each in a tiny mode, printing its table.

Nothing here is about speed (figures from a few runs on a busy CI machine mean nothing); it
only keeps the bench code from rotting. It does check what a relay must never do whatever the
speed: lose or corrupt a message under load.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
BIN = Path(sys.executable).parent  # the test venv, where the project's console scripts live

pytestmark = pytest.mark.slow


def run_bench(script: str, *args: str, timeout: float = 280) -> str:
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), "--shim-bin", str(BIN), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=str(REPO),
    )
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("|")]


def test_startup_relay_prints_its_table(tmp_path: Path) -> None:
    out = run_bench(
        "startup_relay.py",
        "--runs",
        "1",
        "--requests",
        "3",
        "--big-mb",
        "1",
        "--workdir",
        str(tmp_path),
    )
    assert "| metric | ruff direct | ruff-shim" in out, out
    rows = table_rows(out)
    for needle in (
        "spawn → initialize",
        "cold",
        "round trip",
        "throughput",
        "relay RSS",
        "`python -c pass`",
        "bare Python RSS",
    ):
        assert any(needle in r for r in rows), f"no row with {needle!r}:\n{out}"
    assert "Errors:" not in out, out


def test_follow_prints_its_table(tmp_path: Path) -> None:
    out = run_bench(
        "follow.py",
        "--switches",
        "1",
        "--sessions",
        "1",
        "--requests",
        "3",
        "--settle",
        "0.2",
        "--workdir",
        str(tmp_path),
    )
    assert "### Landing → first answer from the new server" in out, out
    assert re.search(r"\| 1 \| 0\.17\.\d → 0\.17\.\d \|", out), out
    assert "following on vs `--no-follow`" in out, out


def test_load_prints_its_table_and_loses_nothing(tmp_path: Path) -> None:
    out = run_bench(
        "load.py",
        "--seconds",
        "1",
        "--rate",
        "300",
        "--warmup",
        "0.2",
        "--idle-seconds",
        "1",
        "--workdir",
        str(tmp_path),
    )
    assert "| figure | direct | through lsp-shim |" in out, out
    lost = [r for r in table_rows(out) if r.startswith("| answers expected")]
    assert lost, out
    cells = [c.strip() for c in lost[0].strip("|").split("|")]
    for cell in cells[1:3]:
        expected, received, bad = (int(x) for x in cell.split(" / "))
        assert expected > 0 and received == expected and bad == 0, lost[0]
    assert "Idle session CPU" in out, out

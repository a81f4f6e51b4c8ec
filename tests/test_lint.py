"""The code stays clean: ruff's lint and format checks and mypy --strict, as configured in
pyproject.toml. A finding fails the test and is printed in full."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

CHECKS = {
    "ruff-check": ["-m", "ruff", "check", "--no-cache", "launcher", "tests"],
    "ruff-format": ["-m", "ruff", "format", "--check", "--no-cache", "launcher"],
    "mypy": ["-m", "mypy", "--strict", "launcher/lsp_shim"],
    # Windows and macOS code paths are type-checked here too, where they cannot run.
    "mypy-win32": ["-m", "mypy", "--strict", "--platform", "win32", "launcher/lsp_shim"],
    "mypy-darwin": ["-m", "mypy", "--strict", "--platform", "darwin", "launcher/lsp_shim"],
}


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_clean(check: str) -> None:
    result = subprocess.run(
        [sys.executable, *CHECKS[check]],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{check} found problems:\n{result.stdout}\n{result.stderr}"

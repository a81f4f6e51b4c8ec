"""Records of live sessions in the store: one JSON file per shim process, named by pid and start."""

from __future__ import annotations

import os

from lsp_shim.jsonfast import dumps, loads
from lsp_shim.store import read_small, write_file_atomic

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    import psutil


def record_name(pid: int, create_time: float) -> str:
    return f"{pid}-{int(create_time * 1000)}.json"


def write(sessions_dir: str, record: dict[str, Any]) -> str:
    """Create or replace a session's record; returns its path."""
    name = record_name(record["pid"], record["create_time"])
    write_file_atomic(sessions_dir, name, dumps(record))
    return os.path.join(sessions_dir, name)


def remove(path: str | None) -> None:
    if path:
        try:
            os.unlink(path)
        except OSError:
            pass


def load_all(sessions_dir: str) -> list[tuple[str, dict[str, Any]]]:
    """Every readable record as (path, record); unreadable ones as (path, {})."""
    out: list[tuple[str, dict[str, Any]]] = []
    try:
        names = os.listdir(sessions_dir)
    except OSError:
        return out
    for name in sorted(names):
        if not name.endswith(".json") or name.startswith("."):
            continue
        path = os.path.join(sessions_dir, name)
        data = read_json(path)
        out.append((path, data))
    return out


def read_json(path: str, limit: int = 1 << 20) -> dict[str, Any]:
    """A small JSON object from the store, never through a symlink; {} if absent or unreadable."""
    raw = read_small(path, limit)
    if raw is None:
        return {}
    try:
        value = loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def process_alive(pid: object, create_time: object) -> bool:
    """True if `pid` runs and started at `create_time` (guards against pid reuse)."""
    import psutil

    if not isinstance(pid, int) or not isinstance(create_time, (int, float)):
        return False
    try:
        return abs(psutil.Process(pid).create_time() - create_time) < 0.05
    except (psutil.Error, OSError):
        return False


def process_of(pid: object, create_time: object) -> psutil.Process | None:
    """The psutil handle for a recorded process if it is still that process."""
    import psutil

    if not process_alive(pid, create_time):
        return None
    try:
        return psutil.Process(pid)  # type: ignore[arg-type]
    except psutil.Error:
        return None


def live(sessions_dir: str) -> list[dict[str, Any]]:
    """Records of sessions whose shim still runs."""
    return [
        r
        for _, r in load_all(sessions_dir)
        if r and process_alive(r.get("pid"), r.get("create_time"))
    ]

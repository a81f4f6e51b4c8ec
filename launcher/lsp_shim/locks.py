"""Which processes hold a file: run it, map it, or have it open — matched by file identity,
so a hard link in another venv counts (that is what makes Windows say "Access is denied")."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    import psutil

FileId = tuple[int, int]


def file_id(path: str) -> FileId | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _linux_maps(pid: int) -> Iterator[FileId]:
    """Mapped files from /proc/PID/maps (psutil reads smaps, which is far slower)."""
    if sys.platform == "win32":
        return
    try:
        with open(f"/proc/{pid}/maps", "rb") as f:
            lines = f.read().splitlines()
    except OSError:
        return
    for line in lines:
        parts = line.split(None, 5)
        if len(parts) < 6 or not parts[5].startswith(b"/"):
            continue
        major, _, minor = parts[3].partition(b":")
        inode = int(parts[4])
        if inode:
            yield (os.makedev(int(major, 16), int(minor, 16)), inode)


def _mapped(proc: psutil.Process, cache: dict[str, FileId | None]) -> Iterator[FileId]:
    if sys.platform.startswith("linux"):
        yield from _linux_maps(proc.pid)
        return
    if sys.platform == "darwin":
        return  # psutil has no memory_maps on macOS; the exe check covers the image there
    for m in proc.memory_maps(grouped=True):
        fid = cache.setdefault(m.path, file_id(m.path))
        if fid:
            yield fid


def _files_below(directory: str) -> Iterator[FileId]:
    """Identity of every regular file under a directory (symlinks not followed)."""
    for dirpath, _dirs, files in os.walk(directory):
        for name in files:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            if st.st_mode & 0o170000 == 0o100000:
                yield (st.st_dev, st.st_ino)


def _inside(path: str, directory: str) -> bool:
    path, directory = os.path.normcase(path), os.path.normcase(directory)
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def holders(paths: list[str]) -> list[dict[str, Any]]:
    """For each path: the processes holding it and how (exe, mapped, open; cwd for a directory).

    A directory stands for every file below it (what `uv sync` or deleting a venv needs free),
    and a process whose working directory is inside it holds it too (Windows refuses to delete
    such a directory).
    """
    import psutil

    targets: dict[FileId, list[int]] = {}
    directories: list[tuple[int, str]] = []
    results: list[dict[str, Any]] = []
    for i, path in enumerate(paths):
        results.append({"path": os.path.abspath(path), "holders": []})
        fid = file_id(path)
        if fid is None:
            results[-1]["error"] = "no such file"
            continue
        if os.path.isdir(path):
            directories.append((i, os.path.realpath(path)))
            for below in _files_below(path):
                targets.setdefault(below, []).append(i)
        else:
            targets.setdefault(fid, []).append(i)
    cache: dict[str, FileId | None] = {}
    me = os.getpid()
    for proc in psutil.process_iter(["pid", "name"]):
        if proc.pid == me:
            continue
        found: dict[int, set[str]] = {}
        try:
            exe = proc.exe()
            fid = cache.setdefault(exe, file_id(exe)) if exe else None
            for i in targets.get(fid, []) if fid else []:
                found.setdefault(i, set()).add("exe")
            for fid in _mapped(proc, cache):
                for i in targets.get(fid, []):
                    found.setdefault(i, set()).add("mapped")
            for f in proc.open_files():
                fid = cache.setdefault(f.path, file_id(f.path))
                for i in targets.get(fid, []) if fid else []:
                    found.setdefault(i, set()).add("open")
            if directories:
                cwd = proc.cwd()
                for i, directory in directories:
                    if cwd and _inside(cwd, directory):
                        found.setdefault(i, set()).add("cwd")
        except (psutil.Error, OSError):
            continue
        for i, how in found.items():
            results[i]["holders"].append(
                {"pid": proc.pid, "name": proc.info.get("name") or "", "how": sorted(how)}
            )
    return results

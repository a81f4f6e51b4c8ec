"""Process helpers for the tests: what a process tree holds, and waiting for processes to end.

`holdings` is the rule Windows enforces, checked with psutil on any OS: a file is held when a
process runs it (exe), maps it (memory maps: the image and its libraries), or has it open; a
folder is held by a process working in it (cwd).
Files are matched by path prefix *and* by identity (device, inode), so a hard link of a venv's
file elsewhere (uv links from its cache) counts as the venv's file too.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import psutil

FileId = tuple[int, int]


def tree(pid: int) -> list[psutil.Process]:
    """The process and all its descendants (empty if it is gone)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def file_ids(roots: Iterable[Path]) -> dict[FileId, str]:
    """Identity -> path of every regular file under `roots` (symlinks not followed)."""
    ids: dict[FileId, str] = {}
    for root in roots:
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                path = os.path.join(dirpath, name)
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                if st.st_mode & 0o170000 == 0o100000:
                    ids[(st.st_dev, st.st_ino)] = path
    return ids


def _linux_maps(pid: int) -> list[tuple[str, FileId | None]]:
    """(path, identity) of every file-backed mapping, straight from /proc (deleted files too)."""
    out: list[tuple[str, FileId | None]] = []
    try:
        with open(f"/proc/{pid}/maps", "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return out
    for line in lines:
        parts = line.split(None, 5)
        if len(parts) < 6 or not parts[5].startswith("/"):
            continue
        major, _, minor = parts[3].partition(":")
        inode = int(parts[4])
        fid = (os.makedev(int(major, 16), int(minor, 16)), inode) if inode else None
        out.append((parts[5], fid))
    return out


def _identity(path: str) -> FileId | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def files_of(proc: psutil.Process) -> list[tuple[str, str, FileId | None]]:
    """(how, path, identity) for the exe, mapped and open files, and the cwd of `proc`."""
    out: list[tuple[str, str, FileId | None]] = []
    exe = proc.exe()
    if exe:
        proc_exe = f"/proc/{proc.pid}/exe"
        # /proc/PID/exe resolves to the running inode even when its path was deleted or replaced.
        fid = _identity(proc_exe) if os.path.exists(proc_exe) else _identity(exe)
        out.append(("exe", exe, fid))
    if sys.platform.startswith("linux"):
        out += [("mapped", path, fid) for path, fid in _linux_maps(proc.pid)]
    else:
        out += [("mapped", m.path, _identity(m.path)) for m in proc.memory_maps(grouped=True)]
    out += [("open", f.path, _identity(f.path)) for f in proc.open_files()]
    # A working directory inside a folder stops Windows from deleting that folder.
    out.append(("cwd", proc.cwd(), None))
    return out


def _under(path: str, roots: list[str]) -> bool:
    path = os.path.normcase(path)
    return any(path == r or path.startswith(r + os.sep) for r in roots)


def holdings(pid: int, roots: Iterable[Path]) -> list[str]:
    """What the process tree of `pid` holds under `roots`, as readable lines (empty = clean)."""
    roots = list(roots)
    prefixes: list[str] = []
    for r in roots:
        prefixes.append(os.path.normcase(os.path.abspath(r)))
        prefixes.append(os.path.normcase(os.path.realpath(r)))
    ids = file_ids(roots)
    found: list[str] = []
    procs = tree(pid)
    assert procs, f"process {pid} is not running"
    for proc in procs:
        try:
            entries = files_of(proc)
        except psutil.Error:
            continue  # exited meanwhile
        for how, path, fid in entries:
            clean = path.removesuffix(" (deleted)")
            if _under(clean, prefixes) or (fid is not None and fid in ids):
                where = ids.get(fid, clean) if fid is not None else clean
                found.append(f"pid {proc.pid} ({proc.name()}) {how} {path} [= {where}]")
    return found


def peak_rss(pid: int) -> int:
    """The most memory the process ever had resident (VmHWM), in bytes; Linux only."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) * 1024


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    """Poll until `predicate()` is true; False on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def gone(pid: int) -> bool:
    """True once `pid` no longer runs (a zombie counts as gone: it holds no files)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return True


def wait_gone(pid: int, timeout: float) -> bool:
    return wait_for(lambda: gone(pid), timeout)


def servers_of(pid: int, timeout: float = 10.0) -> list[psutil.Process]:
    """The children of the shim `pid` once it has started its server."""
    found: list[psutil.Process] = []

    def ready() -> bool:
        nonlocal found
        try:
            found = psutil.Process(pid).children()
        except psutil.Error:
            return True
        return bool(found)

    wait_for(ready, timeout)
    return found


class OpenWatch:
    """Linux inotify on some files: did anything open or read them (exec opens the file too)?

    Use as a context manager; `events()` lists (path, "open"/"access") seen so far.
    """

    IN_ACCESS = 0x1
    IN_OPEN = 0x20

    def __init__(self, paths: Iterable[Path]) -> None:
        import ctypes

        self._libc = ctypes.CDLL(None, use_errno=True)
        self._fd = self._libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self._fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self._names: dict[int, str] = {}
        self._seen: list[tuple[str, str]] = []
        for path in paths:
            wd = self._libc.inotify_add_watch(
                self._fd, os.fsencode(path), self.IN_ACCESS | self.IN_OPEN
            )
            if wd < 0:
                raise OSError(ctypes.get_errno(), f"cannot watch {path}")
            self._names[wd] = str(path)

    def events(self) -> list[tuple[str, str]]:
        import struct

        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                break
            i = 0
            while i < len(data):
                wd, mask, _cookie, length = struct.unpack_from("iIII", data, i)
                i += 16 + length
                how = "open" if mask & self.IN_OPEN else "access"
                self._seen.append((self._names.get(wd, "?"), how))
        return list(self._seen)

    def close(self) -> None:
        os.close(self._fd)

    def __enter__(self) -> OpenWatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

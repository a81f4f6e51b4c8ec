"""The shadow store: private, content-keyed copies of server binaries, shared by all sessions.

Layout under the root (every directory 0700):
  copies/<name>-<sha256[:20]>/<file>   one copy per distinct binary, plus meta.json
  index/<dev>-<ino>-<size>-<mtime_ns>  which copy a source with that stat data maps to
  tmp/                                 staging; a copy becomes visible only by an atomic rename
  sessions/                            live-session records (session.py)
A warm start costs a few stat calls and one tiny read; it never reads the binary.
"""

from __future__ import annotations

import os
import sys

from lsp_shim.errors import ShimError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from hashlib import _Hash
    from typing import Mapping

WINDOWS = sys.platform == "win32"
APP = "lsp-shim"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+")


class StoreError(ShimError):
    """The store cannot hold a copy; callers may fall back to running the original."""


def default_root(env: Mapping[str, str]) -> str:
    """platformdirs.user_cache_dir("lsp-shim", appauthor=False), computed without importing it.

    `import platformdirs` costs ~20 ms here; tests/test_store.py checks the two agree.
    """
    if env.get("LSP_SHIM_STORE"):
        return os.path.abspath(env["LSP_SHIM_STORE"])
    home = os.path.expanduser("~")
    if WINDOWS:
        base = env.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local")
        return os.path.join(base, APP, "Cache")
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Caches", APP)
    xdg = env.get("XDG_CACHE_HOME", "").strip()
    return os.path.join(xdg or os.path.join(home, ".cache"), APP)


def safe_name(name: str, limit: int = 60) -> str:
    """A file name that cannot escape its directory, whatever the outside world called it."""
    cleaned = "".join(c if c in _SAFE else "_" for c in name)[:limit].lstrip(".")
    return cleaned or "server"


def stat_key(st: os.stat_result) -> str:
    """Identity of a file's current content as far as stat can tell (file id on Windows)."""
    return f"{st.st_dev:x}-{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}"


def check_private_dir(path: str) -> None:
    """Refuse a directory that is a symlink, owned by someone else, or writable by others."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        raise StoreError(f"cannot use store {path}: {exc.strerror}") from None
    if (st.st_mode & 0o170000) != 0o040000:
        raise StoreError(f"store path {path} is not a directory (a symlink?); remove it or set LSP_SHIM_STORE")
    if WINDOWS:
        return  # per-user profile ACLs protect LOCALAPPDATA; POSIX modes mean little there
    if st.st_uid != os.geteuid():
        raise StoreError(
            f"store {path} belongs to uid {st.st_uid}, not you; remove it or set LSP_SHIM_STORE"
        )
    if st.st_mode & 0o022:
        raise StoreError(
            f"store {path} is writable by others (mode {st.st_mode & 0o777:o}); "
            f"run chmod 700 {path} or set LSP_SHIM_STORE"
        )


def make_private_dir(path: str) -> None:
    """Create a 0700 directory (and parents) or check the existing one."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create store directory {path}: {exc.strerror}; "
            "set LSP_SHIM_STORE to a writable directory"
        ) from None
    check_private_dir(path)


def write_file_atomic(directory: str, name: str, data: bytes) -> None:
    """Write `name` in `directory` through a fresh temp file and a rename (never follows links)."""
    tmp = os.path.join(directory, f".{name}.{os.getpid()}.{os.urandom(4).hex()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _BINARY, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    try:
        os.replace(tmp, os.path.join(directory, name))
    except OSError:
        _unlink(tmp)
        raise


def read_small(path: str) -> bytes | None:
    """Read a small file without following a symlink; None if it is not there."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _BINARY)
    except OSError:
        return None
    try:
        return os.read(fd, 4096)
    finally:
        os.close(fd)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


class Shadow:
    """A copy ready to run: its path, its directory in the store and whether it already existed."""

    __slots__ = ("copy", "directory", "warm", "sha256")

    def __init__(self, copy: str, directory: str, warm: bool, sha256: str = "") -> None:
        self.copy = copy
        self.directory = directory
        self.warm = warm
        self.sha256 = sha256


class Store:
    """Owns the directory tree of copies; one instance per process."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.copies = os.path.join(root, "copies")
        self.index = os.path.join(root, "index")
        self.tmp = os.path.join(root, "tmp")
        self.sessions = os.path.join(root, "sessions")

    def open(self) -> Store:
        """Create or validate the tree; raises StoreError with the fix."""
        if os.path.lexists(self.root):
            check_private_dir(self.root)
        else:
            self.ensure_tree()
        return self

    def ensure_tree(self) -> None:
        """Create the subdirectories; off the warm path, which only needs the root checked."""
        make_private_dir(self.root)
        for d in (self.copies, self.index, self.tmp, self.sessions):
            if not os.path.isdir(d) or os.path.islink(d):
                make_private_dir(d)

    def lookup(self, source: str) -> Shadow | None:
        """Warm path: the copy already made for this exact source file, from stat data alone."""
        try:
            st = os.stat(source)
        except OSError:
            return None
        entry = read_small(os.path.join(self.index, stat_key(st)))
        if not entry:
            return None
        name = entry.decode("utf-8", "replace").strip()
        if safe_name(name, 200) != name:
            return None
        directory = os.path.join(self.copies, name)
        copy = os.path.join(directory, safe_name(os.path.basename(source)))
        try:
            cst = os.lstat(copy)
        except OSError:
            return None
        if cst.st_size != st.st_size or (cst.st_mode & 0o170000) != 0o100000:
            return None
        touch(directory)
        return Shadow(copy, directory, warm=True)

    def shadow(self, source: str) -> Shadow:
        """The copy for `source`, made now if needed; raises StoreError when impossible."""
        found = self.lookup(source)
        if found:
            return found
        for _ in range(3):
            made = self._copy(source)
            if made:
                return made
        raise StoreError(f"{source} kept changing while it was copied; try again once it is installed")

    def _copy(self, source: str) -> Shadow | None:
        """Copy and verify; None if the source changed meanwhile (the caller retries)."""
        import hashlib
        import shutil
        import time

        try:
            before = os.stat(source)
        except OSError as exc:
            raise StoreError(f"cannot read {source}: {exc.strerror}") from None
        self.ensure_tree()
        base = safe_name(os.path.basename(source))
        stage = os.path.join(self.tmp, f"{os.getpid()}-{os.urandom(6).hex()}")
        try:
            os.mkdir(stage, 0o700)
            target = os.path.join(stage, base)
            digest = _copy_hashing(source, target, hashlib.sha256())
            after = os.stat(source)
            if stat_key(after) != stat_key(before):
                shutil.rmtree(stage, ignore_errors=True)
                return None
            # Read the copy back: a truncated or altered copy must never run.
            check = _hash_file(target, hashlib.sha256())
            if check != digest or os.path.getsize(target) != before.st_size:
                raise StoreError(f"the copy of {source} does not match it (disk problem?)")
            os.chmod(target, (before.st_mode & 0o755) | 0o700)
            meta = {
                "source": os.path.abspath(source),
                "sha256": digest,
                "size": before.st_size,
                "file": base,
                "created": time.time(),
            }
            from lsp_shim.jsonfast import dumps

            write_file_atomic(stage, "meta.json", dumps(meta))
            name = f"{safe_name(os.path.splitext(base)[0], 40)}-{digest[:20]}"
            final = os.path.join(self.copies, name)
            try:
                os.rename(stage, final)
            except OSError:
                # Another session finished the same copy first: use theirs.
                shutil.rmtree(stage, ignore_errors=True)
                existing = os.path.join(final, base)
                if not os.path.isfile(existing) or os.path.getsize(existing) != before.st_size:
                    raise StoreError(f"cannot place the copy of {source} in {final}") from None
            write_file_atomic(self.index, stat_key(before), name.encode())
            return Shadow(os.path.join(final, base), final, warm=False, sha256=digest)
        except OSError as exc:
            shutil.rmtree(stage, ignore_errors=True)
            raise StoreError(
                f"cannot copy {source} into the store {self.root}: {exc.strerror or exc}"
            ) from None
        except StoreError:
            shutil.rmtree(stage, ignore_errors=True)
            raise


def touch(path: str) -> None:
    """Mark a copy as just used, so a concurrent gc leaves it alone."""
    try:
        os.utime(path)
    except OSError:
        pass


def _copy_hashing(source: str, target: str, h: _Hash) -> str:
    """Copy bytes (never a hard link) while hashing them; returns the hex digest."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _BINARY
    with open(source, "rb") as src:
        fd = os.open(target, flags, 0o700)
        try:
            while True:
                chunk = src.read(1 << 20)
                if not chunk:
                    break
                h.update(chunk)
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
    return h.hexdigest()


def _hash_file(path: str, h: _Hash) -> str:
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            h.update(chunk)
    return h.hexdigest()

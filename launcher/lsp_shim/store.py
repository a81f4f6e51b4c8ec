"""The shadow store: private, content-keyed copies of server binaries, shared by all sessions.

Layout under the root (every directory 0700, owned by the user):
  copies/<name>-<sha256[:20]>/<file>   one copy per distinct binary, plus meta.json and
                                       `verified`: the copy's stat data when it was verified
  index/<source stat key>              which copy (dir name) a source with that stat data maps to
  tmp/                                 staging; a copy becomes visible only by an atomic rename
  sessions/                            live-session records (session.py)

Security (SECURITY.md): the root must be a real directory owned by the user and writable by
nobody else, under ancestors no other user controls; nothing is created through a symlink
(O_EXCL | O_NOFOLLOW, mkdir, lstat checks); a copy is hashed while copied and read back and
hashed again before it is first used. The warm path never reads the binary: it trusts a copy
only while the copy's own stat data (device, inode, size, mtime, ctime) is exactly what was
recorded after that verification, so any later write to the copy (which changes mtime and
ctime) makes the shim verify it again by hash, and replace it if it differs.
"""

from __future__ import annotations

import os
import sys

from lsp_shim.errors import ShimError
from lsp_shim.sync import write_all

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from hashlib import _Hash

WINDOWS = sys.platform == "win32"
APP = "lsp-shim"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+")
_WIN_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{p}{i}" for p in ("COM", "LPT") for i in "0123456789"]
)
_S_IFMT = 0o170000
_S_IFDIR = 0o040000
_S_IFREG = 0o100000
_S_ISVTX = 0o1000
VERIFIED = "verified"  # in a copy's directory: copy_key() of the copy when its hash was checked


def _euid() -> int:
    """Our effective uid (-1 on Windows, where ownership is not checked)."""
    if sys.platform == "win32":
        return -1
    return os.geteuid()


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
    """A file name that cannot escape its directory, whatever the outside world called it.

    Only [A-Za-z0-9._+-] survive; no leading or trailing dots (no "..", no hidden names, no
    name Windows would silently shorten), and no Windows device name (CON, NUL, COM1, …).
    """
    cleaned = "".join(c if c in _SAFE else "_" for c in name)[:limit].strip(".")
    if cleaned.split(".")[0].upper() in _WIN_RESERVED:
        cleaned = "_" + cleaned
    return cleaned or "server"


def stat_key(st: os.stat_result) -> str:
    """Identity of a file's current content as far as stat can tell (file id on Windows)."""
    return f"{st.st_dev:x}-{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}"


def copy_key(st: os.stat_result) -> str:
    """stat_key plus the change time, which no ordinary write or utime() can preserve."""
    return f"{stat_key(st)}-{st.st_ctime_ns:x}"


def check_private_dir(path: str) -> None:
    """Refuse a directory that is a symlink, owned by someone else, or writable by others."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        raise StoreError(f"cannot use store {path}: {exc.strerror}") from None
    if (st.st_mode & _S_IFMT) != _S_IFDIR:
        raise StoreError(
            f"store path {path} is not a directory (a symlink?); remove it or set LSP_SHIM_STORE"
        )
    if WINDOWS:
        return  # per-user profile ACLs protect LOCALAPPDATA; POSIX modes mean little there
    if st.st_uid != _euid():
        raise StoreError(
            f"store {path} belongs to uid {st.st_uid}, not you; remove it or set LSP_SHIM_STORE"
        )
    if st.st_mode & 0o022:
        raise StoreError(
            f"store {path} is writable by others (mode {st.st_mode & 0o777:o}); "
            f"run chmod 700 {path} or set LSP_SHIM_STORE"
        )


def check_ancestors(path: str) -> None:
    """Refuse a store below a directory another user could use to swap it out.

    An ancestor must be owned by root or the user, and not world-writable unless sticky
    (/tmp is fine: nobody can rename someone else's entry there). Group write is allowed
    (user-private groups are common); SECURITY.md says so.
    """
    if WINDOWS:
        return
    me = _euid()
    here = os.path.dirname(os.path.abspath(path))
    while True:
        try:
            st = os.stat(here)  # following links is fine: we check where they lead
        except OSError:
            return  # not there yet: makedirs will create it as ours
        if st.st_uid not in (0, me):
            raise StoreError(
                f"the store {path} lies under {here}, which belongs to uid {st.st_uid}; "
                "set LSP_SHIM_STORE to a directory of your own"
            )
        if st.st_mode & 0o002 and not st.st_mode & _S_ISVTX:
            raise StoreError(
                f"the store {path} lies under {here}, which anyone may write to; "
                "set LSP_SHIM_STORE to a directory of your own"
            )
        parent = os.path.dirname(here)
        if parent == here:
            return
        here = parent


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
    """Write `name` in `directory` through a fresh temp file and a rename (never follows links:
    the temp name is created with O_EXCL | O_NOFOLLOW, and a rename replaces a planted link
    itself, not its target)."""
    tmp = os.path.join(directory, f".{name}.{os.getpid()}.{os.urandom(4).hex()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _BINARY | _CLOEXEC, 0o600)
    try:
        write_all(fd, data)
    except OSError:
        os.close(fd)
        _unlink(tmp)
        raise
    os.close(fd)
    try:
        os.replace(tmp, os.path.join(directory, name))
    except OSError:
        _unlink(tmp)
        raise


def read_small(path: str, limit: int = 4096) -> bytes | None:
    """Read up to `limit` bytes of a file without following a symlink; None if it is not there
    (or is a link)."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _BINARY | _CLOEXEC)
    except OSError:
        return None
    try:
        chunks: list[bytes] = []
        while limit > 0 and (chunk := os.read(fd, min(limit, 1 << 16))):
            chunks.append(chunk)
            limit -= len(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _private_file(st: os.stat_result) -> bool:
    """A regular file (not a link) that only the user may write."""
    if (st.st_mode & _S_IFMT) != _S_IFREG:
        return False
    return WINDOWS or (st.st_uid == _euid() and not st.st_mode & 0o022)


class Shadow:
    """A copy ready to run: its path, its directory in the store and whether it already existed."""

    __slots__ = ("copy", "directory", "sha256", "warm")

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
        check_ancestors(self.root)
        if os.path.lexists(self.root):
            check_private_dir(self.root)
        else:
            self.ensure_tree()
        return self

    def ensure_tree(self) -> None:
        """Create (or check) the root and its subdirectories; off the warm path."""
        check_ancestors(self.root)
        make_private_dir(self.root)
        for d in (self.copies, self.index, self.tmp, self.sessions):
            if os.path.lexists(d):
                check_private_dir(d)
            else:
                make_private_dir(d)

    def lookup(self, source: str) -> Shadow | None:
        """Warm path: the copy already made for this exact source file, from stat data alone.

        About ten system calls and no read of the binary; any doubt (a link, another owner, a copy whose
        stat data changed since it was verified) answers None, and shadow() then re-verifies.
        """
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
        recorded = (read_small(os.path.join(directory, VERIFIED)) or b"").decode("ascii", "replace")
        try:
            dst = os.lstat(directory)
            cst = os.lstat(copy)
        except OSError:
            return None
        if (dst.st_mode & _S_IFMT) != _S_IFDIR or not _private_file(cst):
            return None
        if cst.st_size != st.st_size or copy_key(cst) != recorded.strip():
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
        raise StoreError(
            f"{source} kept changing while it was copied; try again once it is installed"
        )

    def _copy(self, source: str) -> Shadow | None:
        """Copy and verify; None if the source changed meanwhile (the caller retries)."""
        import shutil

        self.ensure_tree()
        base = safe_name(os.path.basename(source))
        stage = os.path.join(self.tmp, f"{os.getpid()}-{os.urandom(6).hex()}")
        try:
            made = self._stage_and_place(source, stage, base)
        except OSError as exc:
            shutil.rmtree(stage, ignore_errors=True)
            raise StoreError(
                f"cannot copy {source} into the store {self.root}: {exc.strerror or exc}"
            ) from None
        except StoreError:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        if made is None:
            shutil.rmtree(stage, ignore_errors=True)
            return None
        final, source_key, digest = made
        try:
            write_file_atomic(self.index, source_key, os.path.basename(final).encode())
        except OSError:
            pass  # the copy is good; only the next start's fast path is lost
        return Shadow(os.path.join(final, base), final, warm=False, sha256=digest)

    def _stage_and_place(self, source: str, stage: str, base: str) -> tuple[str, str, str] | None:
        """Copy `source` into `stage`, verify it, move it into copies/; (final dir, source stat
        key, sha256), or None if the source changed during the copy."""
        import hashlib
        import time

        from lsp_shim.winapi import open_shared

        try:
            src = open_shared(source)
        except OSError as exc:
            raise StoreError(f"cannot read {source}: {exc.strerror}") from None
        try:
            before = os.fstat(src)
            if (before.st_mode & _S_IFMT) != _S_IFREG:
                raise StoreError(f"{source} is not a regular file")
            os.mkdir(stage, 0o700)
            target = os.path.join(stage, base)
            digest = _copy_hashing(src, target, hashlib.sha256(), before.st_mode)
            # The bytes copied belong to one consistent version only if the file read did not
            # change meanwhile, and the path still names that file.
            after = os.fstat(src)
        finally:
            os.close(src)
        try:
            now: os.stat_result | None = os.stat(source)
        except OSError:
            now = None
        if now is None or copy_key(after) != copy_key(before) or copy_key(now) != copy_key(before):
            return None
        # Read the copy back: a truncated or altered copy must never run.
        if os.path.getsize(target) != before.st_size or _hash_file(target) != digest:
            raise StoreError(f"the copy of {source} does not match it (disk problem?)")
        meta = {
            "source": os.path.abspath(source),
            "source_key": stat_key(before),
            "sha256": digest,
            "size": before.st_size,
            "file": base,
            "created": time.time(),
        }
        from lsp_shim.jsonfast import dumps

        write_file_atomic(stage, "meta.json", dumps(meta))
        # Renaming the directory later changes nothing in the copy's own stat data.
        write_file_atomic(stage, VERIFIED, copy_key(os.lstat(target)).encode())
        final = os.path.join(
            self.copies, f"{safe_name(os.path.splitext(base)[0], 40)}-{digest[:20]}"
        )
        self._place(stage, final, base, digest)
        return final, stat_key(before), digest

    def _place(self, stage: str, final: str, base: str, digest: str) -> None:
        """Rename the staged copy into place; an existing entry must prove it is the same."""
        import shutil

        for _ in range(3):
            try:
                os.rename(stage, final)
                return
            except OSError:
                pass
            # Someone placed it first (another session), or something else sits there.
            try:
                dst = os.lstat(final)
            except FileNotFoundError:
                continue  # a gc removed it meanwhile: try again
            if (dst.st_mode & _S_IFMT) != _S_IFDIR or (not WINDOWS and dst.st_uid != _euid()):
                raise StoreError(
                    f"{final} in the store is not a directory of yours (a planted link?); "
                    "refusing to use it: remove it"
                )
            existing = os.path.join(final, base)
            try:
                est = os.lstat(existing)
                ok = _private_file(est) and _hash_file(existing) == digest
                if ok:
                    # Verified by hash just now: record its stat data for the warm path.
                    mark = read_small(os.path.join(final, VERIFIED))
                    if (mark or b"").decode("ascii", "replace").strip() != copy_key(est):
                        write_file_atomic(final, VERIFIED, copy_key(est).encode())
            except OSError:
                ok = False
            if ok:
                shutil.rmtree(stage, ignore_errors=True)
                return
            # A copy that no longer matches its own name: set it aside, never run it.
            from lsp_shim import log

            aside = os.path.join(self.tmp, f"tampered-{os.getpid()}-{os.urandom(4).hex()}")
            log.warning(f"the copy in {final} was altered since it was made; replacing it")
            try:
                os.rename(final, aside)
            except OSError:
                raise StoreError(
                    f"{final} was altered and cannot be replaced (still running?)"
                ) from None
            shutil.rmtree(aside, ignore_errors=True)
        raise StoreError(f"cannot place a copy in {final}")


def touch(path: str) -> None:
    """Mark a copy as just used, so a concurrent gc leaves it alone."""
    try:
        os.utime(path)
    except OSError:
        pass


def _copy_hashing(src: int, target: str, h: _Hash, mode: int) -> str:
    """Copy bytes from an open file (never a hard link) while hashing them; the hex digest.

    The target is created with O_EXCL | O_NOFOLLOW and gets its mode through its own fd.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _BINARY | _CLOEXEC
    fd = os.open(target, flags, 0o700)
    try:
        while True:
            chunk = os.read(src, 1 << 20)
            if not chunk:
                break
            h.update(chunk)
            write_all(fd, chunk)
        if sys.platform != "win32":
            os.fchmod(fd, (mode & 0o755) | 0o700)
    finally:
        os.close(fd)
    return h.hexdigest()


def _hash_file(path: str) -> str:
    import hashlib

    h = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _BINARY | _CLOEXEC)
    try:
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            h.update(chunk)
    finally:
        os.close(fd)
    return h.hexdigest()

"""Attacks on the shadow store, one test each: the store must refuse or repair, never follow a
planted link, never hand out a copy that differs from its source, never let a name escape."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import script
from lsp_shim import session, store
from lsp_shim.store import Store, StoreError, safe_name, stat_key
from servers.echo_client import frame

POSIX = sys.platform != "win32"
ROOT = POSIX and os.geteuid() == 0
NOBODY = 65534
posix_only = pytest.mark.skipif(
    not POSIX, reason="POSIX ownership and modes; Windows relies on profile ACLs"
)
needs_root = pytest.mark.skipif(not ROOT, reason="chown to another user needs root")


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A fake server binary (an executable file with known content)."""
    path = tmp_path / "install" / "bin" / "srv"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"#!/bin/sh\necho genuine\n" + os.urandom(4096))
    path.chmod(0o755)
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy_dir_name(src: Path) -> str:
    return f"{safe_name(src.name, 40)}-{sha(src)[:20]}"


def test_tree_is_private(tmp_path: Path, source: Path) -> None:
    st = Store(str(tmp_path / "store")).open()
    shadow = st.shadow(str(source))
    for d in (st.root, st.copies, st.index, st.tmp, st.sessions, shadow.directory):
        mode = os.lstat(d).st_mode
        assert stat.S_ISDIR(mode)
        if POSIX:
            assert mode & 0o077 == 0, f"{d} is {oct(mode)}"
    if POSIX:
        for f in os.listdir(shadow.directory):
            assert os.lstat(os.path.join(shadow.directory, f)).st_mode & 0o022 == 0
    assert Path(shadow.copy).read_bytes() == source.read_bytes()
    assert os.access(shadow.copy, os.X_OK)


@posix_only
@needs_root
def test_refuses_store_owned_by_another_user(tmp_path: Path, source: Path) -> None:
    root = tmp_path / "store"
    root.mkdir(mode=0o700)
    os.chown(root, NOBODY, NOBODY)
    with pytest.raises(StoreError, match="belongs to uid"):
        Store(str(root)).open()


@posix_only
@pytest.mark.parametrize("mode", [0o770, 0o707, 0o777, 0o720])
def test_refuses_store_writable_by_others(tmp_path: Path, mode: int) -> None:
    root = tmp_path / "store"
    root.mkdir()
    root.chmod(mode)
    with pytest.raises(StoreError, match="writable by others"):
        Store(str(root)).open()


@posix_only
@pytest.mark.parametrize("sub", ["copies", "index", "tmp", "sessions"])
def test_refuses_unsafe_subdirectory(tmp_path: Path, source: Path, sub: str) -> None:
    st = Store(str(tmp_path / "store")).open()
    st.ensure_tree()
    os.chmod(os.path.join(st.root, sub), 0o777)
    with pytest.raises(StoreError, match="writable by others"):
        st.shadow(str(source))


@posix_only
def test_refuses_symlinked_root(tmp_path: Path) -> None:
    real = tmp_path / "elsewhere"
    real.mkdir(mode=0o700)
    (tmp_path / "store").symlink_to(real)
    with pytest.raises(StoreError, match="not a directory"):
        Store(str(tmp_path / "store")).open()
    assert list(real.iterdir()) == [], "nothing may be created through the link"


@posix_only
@pytest.mark.parametrize("sub", ["copies", "index", "tmp", "sessions"])
def test_refuses_symlinked_subdirectory(tmp_path: Path, source: Path, sub: str) -> None:
    root = tmp_path / "store"
    root.mkdir(mode=0o700)
    trap = tmp_path / "trap"
    trap.mkdir(mode=0o700)
    (root / sub).symlink_to(trap)
    with pytest.raises(StoreError, match="not a directory"):
        Store(str(root)).open().shadow(str(source))
    assert list(trap.iterdir()) == []


@posix_only
def test_refuses_store_under_directory_others_control(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # world-writable, no sticky bit: anyone may rename our store away
    with pytest.raises(StoreError, match="anyone may write"):
        Store(str(shared / "store")).open()
    shared.chmod(0o1777)  # like /tmp: fine
    Store(str(shared / "store")).open()
    if ROOT:
        theirs = tmp_path / "theirs"
        theirs.mkdir(mode=0o755)
        os.chown(theirs, NOBODY, NOBODY)
        with pytest.raises(StoreError, match="belongs to uid"):
            Store(str(theirs / "store")).open()


@posix_only
def test_symlink_planted_where_a_copy_goes(tmp_path: Path, source: Path) -> None:
    """copies/<name> → a directory holding an evil file of the same name and size."""
    st = Store(str(tmp_path / "store")).open()
    st.ensure_tree()
    evil_dir = tmp_path / "evil"
    evil_dir.mkdir()
    evil = evil_dir / source.name
    evil.write_bytes(b"#!/bin/sh\necho EVIL!!\n".ljust(source.stat().st_size, b"#"))
    evil.chmod(0o755)
    before = evil.read_bytes()
    os.symlink(evil_dir, os.path.join(st.copies, copy_dir_name(source)))
    with pytest.raises(StoreError, match="planted link"):
        st.shadow(str(source))
    assert evil.read_bytes() == before and sorted(p.name for p in evil_dir.iterdir()) == [
        source.name
    ]


@posix_only
def test_symlink_planted_where_the_copy_file_goes(tmp_path: Path, source: Path) -> None:
    """Inside a genuine copy directory, the file itself replaced by a link to an evil file."""
    st = Store(str(tmp_path / "store")).open()
    first = st.shadow(str(source))
    evil = tmp_path / "evil"
    evil.write_bytes(b"x" * source.stat().st_size)
    os.unlink(first.copy)
    os.symlink(evil, first.copy)
    again = Store(st.root).open().shadow(str(source))
    assert not os.path.islink(again.copy)
    assert Path(again.copy).read_bytes() == source.read_bytes()
    assert evil.read_bytes() == b"x" * source.stat().st_size


@posix_only
def test_symlink_planted_where_an_index_entry_goes(tmp_path: Path, source: Path) -> None:
    """index/<key> → a file elsewhere naming another copy: never read, replaced by a real entry."""
    st = Store(str(tmp_path / "store")).open()
    st.ensure_tree()
    decoy = tmp_path / "decoy"
    decoy.write_bytes(b"decoy-0000")
    entry = os.path.join(st.index, stat_key(os.stat(source)))
    os.symlink(decoy, entry)
    assert st.lookup(str(source)) is None  # O_NOFOLLOW: the link is not read
    shadow = st.shadow(str(source))
    assert Path(shadow.copy).read_bytes() == source.read_bytes()
    assert not os.path.islink(entry) and decoy.read_bytes() == b"decoy-0000"
    assert st.lookup(str(source)) is not None


@posix_only
def test_symlink_planted_where_a_session_record_goes(tmp_path: Path) -> None:
    st = Store(str(tmp_path / "store")).open()
    st.ensure_tree()
    victim = tmp_path / "victim"
    victim.write_text("precious")
    record = {"pid": 4242, "create_time": 1.5}
    os.symlink(victim, os.path.join(st.sessions, session.record_name(4242, 1.5)))
    path = session.write(st.sessions, record)
    assert victim.read_text() == "precious"
    assert not os.path.islink(path) and b"4242" in Path(path).read_bytes()


@posix_only
def test_write_file_atomic_never_writes_through_links(tmp_path: Path) -> None:
    d = tmp_path / "d"
    d.mkdir(mode=0o700)
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (d / "name").symlink_to(victim)
    store.write_file_atomic(str(d), "name", b"new")
    assert victim.read_text() == "precious" and (d / "name").read_bytes() == b"new"
    assert store.read_small(str(d / "name")) == b"new"
    (d / "link").symlink_to(victim)
    assert store.read_small(str(d / "link")) is None
    (d / "big").write_bytes(b"r" * 300_000)
    assert store.read_small(str(d / "big"), 1 << 20) == b"r" * 300_000
    assert store.read_small(str(d / "big")) == b"r" * 4096


def test_tampered_copy_is_never_handed_out(tmp_path: Path, source: Path) -> None:
    """Same size, mtime put back: the changed ctime gives it away; the copy is replaced."""
    st = Store(str(tmp_path / "store")).open()
    first = st.shadow(str(source))
    before = os.stat(first.copy)
    data = bytearray(Path(first.copy).read_bytes())
    data[-100:] = b"E" * 100
    with open(first.copy, "r+b") as f:
        f.write(data)
    os.utime(first.copy, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(first.copy).st_size == before.st_size
    fresh = Store(st.root).open()
    assert fresh.lookup(str(source)) is None, "the warm path must not trust a modified copy"
    again = fresh.shadow(str(source))
    assert Path(again.copy).read_bytes() == source.read_bytes()
    assert fresh.lookup(str(source)) is not None  # warm again after the repair
    assert not any(n.startswith("tampered") for n in os.listdir(fresh.tmp))


def test_truncated_copy_is_never_handed_out(tmp_path: Path, source: Path) -> None:
    st = Store(str(tmp_path / "store")).open()
    first = st.shadow(str(source))
    with open(first.copy, "r+b") as f:
        f.truncate(10)
    again = Store(st.root).open().shadow(str(source))
    assert Path(again.copy).read_bytes() == source.read_bytes()


def test_copy_is_verified_before_first_use(
    tmp_path: Path, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy that comes out different from what was read (a disk fault) is never placed."""
    real = store._copy_hashing

    def corrupting(src: int, target: str, h: object, mode: int) -> str:
        digest = real(src, target, h, mode)  # type: ignore[arg-type]
        with open(target, "r+b") as f:
            f.seek(5)
            f.write(b"!")
        return digest

    monkeypatch.setattr(store, "_copy_hashing", corrupting)
    st = Store(str(tmp_path / "store")).open()
    with pytest.raises(StoreError, match="does not match"):
        st.shadow(str(source))
    assert os.listdir(st.copies) == [] and os.listdir(st.tmp) == []
    assert st.lookup(str(source)) is None


def test_warm_path_reads_no_binary(
    tmp_path: Path, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    st = Store(str(tmp_path / "store")).open()
    made = st.shadow(str(source))
    opened: list[str] = []
    real_open = os.open

    def spy(path: str, *a: object, **k: object) -> int:
        opened.append(str(path))
        return real_open(path, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", spy)
    found = Store(st.root).open().lookup(str(source))
    assert found is not None and found.copy == made.copy and found.warm
    assert str(source) not in opened and made.copy not in opened
    assert len(opened) <= 2, opened  # the index entry and the `verified` mark


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "..",
        ".",
        "a/b\\c",
        "x\x00y",
        "CON",
        "nul.exe",
        "com1",
        "ruff.",
        " ",
        "\u202eexe.ffur",
        "A" * 500,
        "/abs/path",
        "C:\\Windows\\x",
    ],
)
def test_outside_names_cannot_escape(name: str) -> None:
    cleaned = safe_name(name)
    assert cleaned and "/" not in cleaned and "\\" not in cleaned and "\x00" not in cleaned
    assert not cleaned.startswith(".") and not cleaned.endswith(".")
    assert cleaned.split(".")[0].upper() not in store._WIN_RESERVED
    assert len(cleaned) <= 60
    base = os.path.abspath("/store/copies")
    assert os.path.dirname(os.path.abspath(os.path.join(base, cleaned))) == base


def test_source_with_hostile_file_name_stays_inside(tmp_path: Path) -> None:
    src = tmp_path / "..evil name;rm -rf"
    src.write_bytes(b"#!/bin/sh\n")
    src.chmod(0o755)
    st = Store(str(tmp_path / "store")).open()
    shadow = st.shadow(str(src))
    assert os.path.dirname(os.path.dirname(shadow.copy)) == st.copies
    assert Path(shadow.copy).read_bytes() == src.read_bytes()


def test_index_entry_naming_a_path_outside_is_ignored(tmp_path: Path, source: Path) -> None:
    st = Store(str(tmp_path / "store")).open()
    st.ensure_tree()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / source.name).write_bytes(source.read_bytes())
    entry = os.path.join(st.index, stat_key(os.stat(source)))
    for target in (b"../../outside", str(outside).encode(), b"..", b"x/../../outside"):
        Path(entry).write_bytes(target)
        assert st.lookup(str(source)) is None


@posix_only
@needs_root
def test_shim_refuses_foreign_store_and_says_why(tmp_path: Path, shim_env: dict[str, str]) -> None:
    """Through the real CLI: --strict refuses with a clear one-line error, no traceback."""
    root = Path(shim_env["LSP_SHIM_STORE"])
    root.mkdir(mode=0o700)
    os.chown(root, NOBODY, NOBODY)
    server = Path(__file__).parent / "servers" / "echo.py"
    proc = subprocess.run(
        [script("lsp-shim"), "--strict", "--", sys.executable, str(server)],
        input=frame(b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}'),
        env=shim_env,
        capture_output=True,
        timeout=30,
    )
    assert b"belongs to uid" in proc.stderr and b"Traceback" not in proc.stderr
    assert b'"error"' in proc.stdout and b"belongs to uid" in proc.stdout

"""store.py: content-keyed private copies; the warm path reads nothing; refusal of unsafe stores."""

from __future__ import annotations

import builtins
import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import platformdirs
import pytest
from lsp_shim import store as store_mod
from lsp_shim.store import Store, StoreError, default_root
from procs import OpenWatch

POSIX = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes and owners")
LINUX = sys.platform.startswith("linux")
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A 'server binary' of its own (a private inode: nothing else on the machine opens it)."""
    path = tmp_path / "venv" / "bin" / "ruff"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x7fELF" + os.urandom(300_000))
    path.chmod(0o755)
    return path


@pytest.fixture
def st(tmp_path: Path) -> Store:
    return Store(str(tmp_path / "store")).open()


def sha(path: Path | str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_copy_is_a_separate_file_with_the_same_bytes(st: Store, source: Path) -> None:
    links_before = source.stat().st_nlink
    shadow = st.shadow(str(source))
    assert not shadow.warm
    copy = Path(shadow.copy)
    assert sha(copy) == sha(source)
    assert copy.stat().st_ino != source.stat().st_ino  # never a hard link
    assert not os.path.samefile(copy, source)
    assert source.stat().st_nlink == links_before
    assert copy.name == source.name  # tools parse argv[0]; clap prints it
    assert Path(st.copies) in copy.parents


@POSIX
def test_exec_bit_kept(st: Store, source: Path) -> None:
    mode = Path(st.shadow(str(source)).copy).stat().st_mode
    assert mode & stat.S_IXUSR
    assert os.access(st.shadow(str(source)).copy, os.X_OK)


def test_warm_path_is_recognised(st: Store, source: Path) -> None:
    first = st.shadow(str(source))
    second = Store(st.root).open().shadow(str(source))
    assert second.warm and second.copy == first.copy


def test_warm_path_opens_no_source(
    st: Store, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the first copy, every way of opening the source fails: the warm start still works."""
    first = st.shadow(str(source)).copy
    real_os_open, real_open = os.open, builtins.open
    target = os.path.normcase(os.path.abspath(source))

    def refuse(path: Any) -> None:
        if (
            isinstance(path, (str, bytes, os.PathLike))
            and os.path.normcase(os.path.abspath(os.fsdecode(path))) == target
        ):
            raise PermissionError(13, "the warm path must not open the source", str(path))

    def guarded_os_open(path: Any, *args: Any, **kwargs: Any) -> int:
        refuse(path)
        return real_os_open(path, *args, **kwargs)

    def guarded_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        refuse(file)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_os_open)
    monkeypatch.setattr(builtins, "open", guarded_open)
    with pytest.raises(PermissionError), open(source, "rb"):  # the guard works
        pass
    again = Store(st.root).open().shadow(str(source))
    assert again.warm and again.copy == first


@pytest.mark.skipif(IS_ROOT or sys.platform == "win32", reason="root reads unreadable files")
def test_warm_path_with_an_unreadable_source(st: Store, source: Path) -> None:
    first = st.shadow(str(source)).copy
    source.chmod(0o111)  # executable, not readable
    try:
        again = Store(st.root).open().shadow(str(source))
        assert again.warm and again.copy == first
    finally:
        source.chmod(0o755)


@pytest.mark.skipif(not LINUX, reason="inotify")
def test_warm_path_reads_no_content_inotify(st: Store, source: Path) -> None:
    st.shadow(str(source))
    with OpenWatch([source]) as watch:
        assert Store(st.root).open().shadow(str(source)).warm
        assert watch.events() == []
    with OpenWatch([source]) as watch:  # control: a cold copy does read it
        source.write_bytes(source.read_bytes() + b"changed")
        watch.events()
        assert not Store(st.root).open().shadow(str(source)).warm
        assert "open" in {how for _, how in watch.events()}


def test_changed_source_gets_a_new_copy(st: Store, source: Path) -> None:
    old = st.shadow(str(source)).copy
    source.write_bytes(b"\x7fELF new version")
    new = st.shadow(str(source))
    assert not new.warm and new.copy != old
    assert Path(old).exists()  # a running session may still use it
    assert Path(new.copy).read_bytes() == b"\x7fELF new version"


def test_same_content_from_two_venvs_is_one_copy(st: Store, source: Path, tmp_path: Path) -> None:
    other = tmp_path / "other-venv" / "bin" / "ruff"
    other.parent.mkdir(parents=True)
    other.write_bytes(source.read_bytes())
    other.chmod(0o755)
    assert st.shadow(str(source)).copy == st.shadow(str(other)).copy
    assert len(os.listdir(st.copies)) == 1


def test_staging_is_cleaned(st: Store, source: Path) -> None:
    st.shadow(str(source))
    assert os.listdir(st.tmp) == []


def test_warm_lookup_marks_the_copy_used(st: Store, source: Path) -> None:
    directory = st.shadow(str(source)).directory
    os.utime(directory, (1_000_000, 1_000_000))
    st.shadow(str(source))
    assert os.stat(directory).st_mtime > 1_000_000  # gc leaves recently used copies alone


@POSIX
def test_directories_are_private(st: Store, source: Path) -> None:
    st.shadow(str(source))
    for dirpath, dirnames, _ in os.walk(st.root):
        for d in [dirpath, *(os.path.join(dirpath, n) for n in dirnames)]:
            assert stat.S_IMODE(os.stat(d).st_mode) == 0o700, d


@POSIX
def test_refuses_a_world_writable_store(tmp_path: Path) -> None:
    root = tmp_path / "store"
    root.mkdir()
    root.chmod(0o777)
    with pytest.raises(StoreError, match="writable by others"):
        Store(str(root)).open()


@pytest.mark.skipif(not IS_ROOT, reason="giving a directory away needs root")
def test_refuses_a_store_of_another_user(tmp_path: Path) -> None:
    root = tmp_path / "store"
    root.mkdir(mode=0o700)
    os.chown(root, 65534, -1)
    with pytest.raises(StoreError, match="belongs to uid 65534"):
        Store(str(root)).open()


@POSIX
def test_refuses_a_symlinked_store(tmp_path: Path) -> None:
    real = tmp_path / "elsewhere"
    real.mkdir(mode=0o700)
    (tmp_path / "store").symlink_to(real)
    with pytest.raises(StoreError, match="not a directory"):
        Store(str(tmp_path / "store")).open()


def test_a_file_in_the_way_is_a_store_error(tmp_path: Path, source: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreError):
        Store(str(blocker)).open()
    with pytest.raises(StoreError, match="cannot create"):
        Store(str(blocker / "store")).open()


def test_default_root_is_platformdirs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LSP_SHIM_STORE", raising=False)
    expected = platformdirs.user_cache_dir("lsp-shim", appauthor=False)
    assert default_root(os.environ) == expected
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_root(os.environ) == platformdirs.user_cache_dir("lsp-shim", appauthor=False)
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_root(os.environ) == expected


def test_store_env_var_overrides(tmp_path: Path) -> None:
    assert default_root({"LSP_SHIM_STORE": str(tmp_path / "s")}) == str(tmp_path / "s")


def test_safe_name() -> None:
    assert store_mod.safe_name("ruff") == "ruff"
    assert store_mod.safe_name("../../etc/passwd") == "_.._etc_passwd"
    assert store_mod.safe_name("..") == "server"
    assert "/" not in store_mod.safe_name("a/b\\c") and "\\" not in store_mod.safe_name("a/b\\c")


RACE = """
import sys
from lsp_shim.store import Store
print(Store(sys.argv[1]).open().shadow(sys.argv[2]).copy)
"""


def test_concurrent_first_copies_agree(tmp_path: Path, source: Path) -> None:
    """Eight processes copy the same source into an empty store at once: one copy, same path."""
    root = tmp_path / "store"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACE, str(root), str(source)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(8)
    ]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
    paths = {o.strip() for o, _ in outs}
    assert len(paths) == 1
    assert len(os.listdir(root / "copies")) == 1
    assert sha(paths.pop().decode()) == sha(source)
    assert os.listdir(root / "tmp") == []


def test_a_copy_deleted_from_its_directory_is_made_again(st: Store, source: Path) -> None:
    """Something (a cleaner, an antivirus) removed the copy but left its directory and meta.json:
    the next start must make it again, not fall back to running the original for good."""
    first = st.shadow(str(source))
    os.unlink(first.copy)
    again = Store(st.root).open().shadow(str(source))
    assert Path(again.copy).is_file()
    assert sha(again.copy) == sha(source)

"""Reading and replacing the user's files without ever leaving a half-written one."""

from __future__ import annotations

import difflib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigureError

_BOM = "\ufeff"


@dataclass(frozen=True)
class Loaded:
    """A file's text as the editors see it, plus what must be restored on write."""

    text: str
    bom: bool
    newline: str


def newline_of(text: str) -> str:
    # Keep a CRLF file CRLF: inserted lines use whatever the file already uses.
    return "\r\n" if "\r\n" in text else "\n"


def load(path: Path) -> Loaded | None:
    """The file's text, or None when it does not exist.

    Read with newline="" so CRLF survives the round trip untouched.
    """
    try:
        with path.open("r", encoding="utf-8", newline="") as f:
            raw = f.read()
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as e:
        raise ConfigureError(
            f"{path} is not UTF-8 text ({e.reason} at byte {e.start})",
            "save it as UTF-8 and run configure again",
        ) from None
    except OSError as e:
        raise ConfigureError(
            f"cannot read {path}: {e.strerror}", "check the path and its permissions"
        ) from None
    bom = raw.startswith(_BOM)
    text = raw[1:] if bom else raw
    return Loaded(text=text, bom=bom, newline=newline_of(text))


def real_target(path: Path) -> Path:
    """Where to write: through symlinks, so a dotfile manager's link is not replaced by a copy."""
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def atomic_write(path: Path, text: str, bom: bool = False) -> None:
    """Write to a temp file beside the target, then rename over it.

    A crash or a full disk leaves the old file intact; os.replace is atomic on one volume
    (on Windows too). The old file's permission bits are kept.
    """
    target = real_target(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = ((_BOM if bom else "") + text).encode("utf-8")
    mode: int | None = None
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        pass
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def unified_diff(path: Path, old: str | None, new: str) -> str:
    """A unified diff for the change summary; line endings normalised so CRLF files read well."""
    old_lines = [] if old is None else old.replace("\r\n", "\n").splitlines(keepends=True)
    new_lines = new.replace("\r\n", "\n").splitlines(keepends=True)
    diff = difflib.unified_diff(
        old_lines,
        new_lines,
        fromfile="/dev/null" if old is None else f"a/{path.name}",
        tofile=f"b/{path.name}",
    )
    out = []
    for line in diff:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)

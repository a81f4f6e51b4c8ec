"""Minimal logging to stderr or a file; `logging` costs milliseconds we do not have at startup."""

from __future__ import annotations

import os
import sys

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}
_fd = 2
_threshold = _LEVELS.get(os.environ.get("LSP_SHIM_LOG", "warning").lower(), 30)
_prog = "lsp-shim"


def configure(
    prog: str | None = None, log_file: str | None = None, level: str | None = None
) -> None:
    """Set the program name shown in lines, an optional log file and the level."""
    global _fd, _threshold, _prog
    if prog:
        _prog = prog
    if level:
        _threshold = _LEVELS.get(level.lower(), _threshold)
    path = log_file or os.environ.get("LSP_SHIM_LOG_FILE")
    if path:
        try:
            _fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError as exc:
            _write(
                2,
                f"{_prog}: warning: cannot open log file {path}: {exc.strerror}; logging to stderr\n",
            )


def _write(fd: int, text: str) -> None:
    try:
        os.write(fd, text.encode("utf-8", "replace"))
    except OSError:
        pass


def log(level: str, message: str) -> None:
    """Write one line if `level` passes the threshold."""
    if _LEVELS[level] >= _threshold:
        _write(_fd, f"{_prog}: {level}: {message}\n")


def debug(message: str) -> None:
    log("debug", message)


def info(message: str) -> None:
    log("info", message)


def warning(message: str) -> None:
    log("warning", message)


def error(message: str) -> None:
    log("error", message)


def passthrough(data: bytes) -> None:
    """Relay a server's own stderr bytes unchanged to where our log goes."""
    try:
        os.write(_fd, data)
    except OSError:
        pass


def enabled(level: str) -> bool:
    return _LEVELS[level] >= _threshold


def prog() -> str:
    return _prog


del sys

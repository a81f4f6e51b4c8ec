"""The Windows-only pieces, each small and importable (and mostly testable) on any OS.

* binary stdio: the C runtime must not translate \\n on the LSP pipes;
* a Job Object with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE: when the shim dies, even by
  TerminateProcess, Windows closes its handles and kills every process in the job;
* CTRL_BREAK: the server runs in its own process group, so a console Ctrl+C/Ctrl+Break reaches
  the shim (which stops the server in order) and the shim can send the server CTRL_BREAK alone;
* long paths: a path of 260 characters or more gets the \\\\?\\ prefix;
* file identity: os.stat on Windows fills st_dev (volume serial) and st_ino (file id), which is
  what store.stat_key() uses; file_id() says whether the volume provides one;
* reading a source to copy it: os.open shares it for reading and writing but not deleting, so
  an installer that renames or deletes the binary during our copy would get "Access is denied";
  open_shared() lets it (the store then sees the change and copies again).

Nothing here is imported at startup on POSIX; tests/test_winapi.py checks structure layouts
with ctypes on every OS and the real calls on Windows.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

WINDOWS = sys.platform == "win32"
JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x2000
JOB_OBJECT_LIMIT_BREAKAWAY_OK = 0x0800
JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS = 9
CREATE_NEW_PROCESS_GROUP = 0x00000200
CTRL_BREAK_EVENT = 1
MAX_PATH = 260
GENERIC_READ = 0x80000000
FILE_SHARE_ALL = 0x1 | 0x2 | 0x4  # FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE
OPEN_EXISTING = 3
FILE_FLAG_SEQUENTIAL_SCAN = 0x08000000
INVALID_HANDLE_VALUE = -1
_jobs: list[Job] = []  # jobs stay open for our lifetime; closing the last handle kills the tree


def set_binary_stdio() -> None:
    """Stop the C runtime from translating \\n on the LSP pipes."""
    if sys.platform == "win32":
        import msvcrt
        import os

        for fd in (0, 1):
            msvcrt.setmode(fd, os.O_BINARY)


def job_structures() -> tuple[type, int]:
    """JOBOBJECT_EXTENDED_LIMIT_INFORMATION and its LimitFlags offset (usable on any OS).

    Field types follow the Windows headers: LARGE_INTEGER is 64-bit, DWORD 32-bit, SIZE_T and
    ULONG_PTR pointer-sized; ctypes applies the same natural alignment as MSVC, so the layout
    (144 bytes on x64, 112 on x86) can be checked on Linux too.
    """
    import ctypes

    class Basic(ctypes.Structure):
        _fields_ = [
            ("PerProcessUserTimeLimit", ctypes.c_int64),
            ("PerJobUserTimeLimit", ctypes.c_int64),
            ("LimitFlags", ctypes.c_uint32),
            ("MinimumWorkingSetSize", ctypes.c_size_t),
            ("MaximumWorkingSetSize", ctypes.c_size_t),
            ("ActiveProcessLimit", ctypes.c_uint32),
            ("Affinity", ctypes.c_size_t),
            ("PriorityClass", ctypes.c_uint32),
            ("SchedulingClass", ctypes.c_uint32),
        ]

    class IoCounters(ctypes.Structure):
        _fields_ = [
            (name, ctypes.c_uint64)
            for name in ("Read", "Write", "Other", "ReadBytes", "WriteBytes", "OtherBytes")
        ]

    class Extended(ctypes.Structure):
        _fields_ = [
            ("BasicLimitInformation", Basic),
            ("IoInfo", IoCounters),
            ("ProcessMemoryLimit", ctypes.c_size_t),
            ("JobMemoryLimit", ctypes.c_size_t),
            ("PeakProcessMemoryUsed", ctypes.c_size_t),
            ("PeakJobMemoryUsed", ctypes.c_size_t),
        ]

    return Extended, Basic.LimitFlags.offset


def _last_error() -> int:
    import ctypes

    return int(getattr(ctypes, "get_last_error")())  # noqa: B009 - Windows only


def _kernel32() -> Any:
    """kernel32 with the prototypes we call (a HANDLE is pointer-sized: never let ctypes
    truncate it to a C int)."""
    import ctypes
    from ctypes import wintypes

    k = getattr(ctypes, "WinDLL")("kernel32", use_last_error=True)  # noqa: B009 - Windows only
    k.CreateJobObjectW.argtypes = [ctypes.c_void_p, wintypes.LPCWSTR]
    k.CreateJobObjectW.restype = wintypes.HANDLE
    k.SetInformationJobObject.argtypes = [
        wintypes.HANDLE,
        ctypes.c_int,
        ctypes.c_void_p,
        wintypes.DWORD,
    ]
    k.SetInformationJobObject.restype = wintypes.BOOL
    k.AssignProcessToJobObject.argtypes = [wintypes.HANDLE, wintypes.HANDLE]
    k.AssignProcessToJobObject.restype = wintypes.BOOL
    k.CloseHandle.argtypes = [wintypes.HANDLE]
    k.CloseHandle.restype = wintypes.BOOL
    k.GetCurrentProcess.argtypes = []
    k.GetCurrentProcess.restype = wintypes.HANDLE
    k.CreateFileW.argtypes = [
        wintypes.LPCWSTR,
        wintypes.DWORD,
        wintypes.DWORD,
        ctypes.c_void_p,
        wintypes.DWORD,
        wintypes.DWORD,
        wintypes.HANDLE,
    ]
    k.CreateFileW.restype = ctypes.c_ssize_t  # compared with INVALID_HANDLE_VALUE (-1)
    return k


class Job:
    """A kill-on-close Job Object. Every process assigned to it (and, by default, all their
    descendants) is killed when the job's last handle closes, i.e. when we exit or are killed."""

    def __init__(self) -> None:
        import ctypes

        self._k = _kernel32()
        k = self._k
        handle = k.CreateJobObjectW(None, None)
        if not handle:
            raise OSError(_last_error(), "CreateJobObjectW failed")
        self.handle: int | None = handle
        extended, _ = job_structures()
        info = extended()
        info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
        ok = k.SetInformationJobObject(
            handle,
            JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS,
            ctypes.byref(info),
            ctypes.sizeof(info),
        )
        if not ok:
            err = _last_error()
            self.close()
            raise OSError(err, "SetInformationJobObject failed")

    def assign(self, process_handle: int) -> None:

        if not self._k.AssignProcessToJobObject(self.handle, process_handle):
            raise OSError(_last_error(), "AssignProcessToJobObject failed")

    def assign_self(self) -> None:
        """Put the shim itself in the job: every process it starts from now on is born inside
        it (no window between spawn and assignment), and all die with the shim."""
        self.assign(self._k.GetCurrentProcess())

    def close(self) -> None:
        """Closing the last handle kills every process still in the job."""
        if self.handle:
            self._k.CloseHandle(self.handle)
            self.handle = None


def kill_on_close(process_handle: int) -> bool:
    """Put a process in a Job Object that dies with us, even if we are killed; False on failure."""
    if not WINDOWS:
        return False
    try:
        job = Job()
        job.assign(process_handle)
    except OSError:
        return False
    _jobs.append(job)
    return True


def contain_children() -> bool:
    """Put the shim in a kill-on-close job before it starts anything; False on failure (for
    instance an old Windows that forbids nested jobs: then use kill_on_close per child)."""
    if not WINDOWS:
        return False
    try:
        job = Job()
        job.assign_self()
    except OSError:
        return False
    _jobs.append(job)
    return True


def spawn_flags() -> int:
    """creationflags for the server: its own process group, so console Ctrl+C/Ctrl+Break goes
    to the shim (which stops the server in order) and interrupt() can target the server."""
    return CREATE_NEW_PROCESS_GROUP if WINDOWS else 0


def interrupt(pid: int) -> bool:
    """Send CTRL_BREAK to a server started with spawn_flags(); False if that is impossible."""
    if not WINDOWS:
        return False
    import os

    try:
        os.kill(pid, CTRL_BREAK_EVENT)
    except OSError:
        return False
    return True


def stop_signal_names() -> tuple[str, ...]:
    """Signals that mean "stop" to the shim on this OS (SIGBREAK is Ctrl+Break on Windows)."""
    return ("SIGTERM", "SIGINT", "SIGBREAK") if WINDOWS else ("SIGTERM", "SIGINT", "SIGHUP")


def long_path(path: str, windows: bool = WINDOWS) -> str:
    """A path Win32 calls accept beyond MAX_PATH: absolute, backslashes, the \\\\?\\ prefix.

    Short paths and POSIX paths come back unchanged; so does a path already prefixed.
    """
    if not windows or len(path) < MAX_PATH - 12 or path.startswith("\\\\?\\"):
        return path
    import ntpath

    full = ntpath.normpath(ntpath.abspath(path) if WINDOWS else path)
    if full.startswith("\\\\"):  # UNC: \\server\share\… → \\?\UNC\server\share\…
        return "\\\\?\\UNC\\" + full[2:]
    return "\\\\?\\" + full


def open_shared(path: str) -> int:
    """A read-only fd on `path` that never stops others from renaming or deleting the file
    (FILE_SHARE_DELETE on Windows; any open does that on POSIX). Raises OSError."""
    import os

    if not WINDOWS:
        return os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    import msvcrt

    k = _kernel32()
    handle = k.CreateFileW(
        long_path(os.path.abspath(path)),
        GENERIC_READ,
        FILE_SHARE_ALL,
        None,
        OPEN_EXISTING,
        FILE_FLAG_SEQUENTIAL_SCAN,
        None,
    )
    if handle == INVALID_HANDLE_VALUE:
        import ctypes

        err = _last_error()
        raise getattr(ctypes, "WinError")(err, None)  # noqa: B009 - Windows only
    to_fd = getattr(msvcrt, "open_osfhandle")  # noqa: B009 - Windows only
    try:
        # The fd owns the handle from here: closing the fd closes it.
        return int(to_fd(handle, os.O_RDONLY | getattr(os, "O_BINARY", 0)))
    except OSError:
        k.CloseHandle(handle)
        raise


def file_id(path: str) -> tuple[int, int] | None:
    """(volume, file id) of a file, as os.stat reports them; None where the file system has no
    stable file id (st_ino 0, e.g. some network or FAT volumes on Windows)."""
    import os

    st = os.stat(path)
    if not st.st_ino:
        return None
    return st.st_dev, st.st_ino

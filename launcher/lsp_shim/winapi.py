"""The few Windows-only calls: binary stdio, and a kill-on-close Job Object for the server.

Kept tiny and import-free on other platforms; tests/test_winapi.py checks the structure layout.
"""

from __future__ import annotations

import sys

WINDOWS = sys.platform == "win32"
JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x2000
JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS = 9
_jobs: list[int] = []  # handles stay open for our lifetime; closing the last one kills the tree


def set_binary_stdio() -> None:
    """Stop the C runtime from translating \\n on the LSP pipes."""
    if WINDOWS:
        import msvcrt
        import os

        for fd in (0, 1):
            msvcrt.setmode(fd, os.O_BINARY)


def job_structures() -> tuple[type, int]:
    """JOBOBJECT_EXTENDED_LIMIT_INFORMATION and its LimitFlags offset (usable on any OS)."""
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


def kill_on_close(process_handle: int) -> bool:
    """Put a process in a Job Object that dies with us, even if we are killed; False on failure."""
    if not WINDOWS:
        return False
    import ctypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    extended, _ = job_structures()
    job = kernel32.CreateJobObjectW(None, None)
    if not job:
        return False
    info = extended()
    info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
    ok = kernel32.SetInformationJobObject(
        job, JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS, ctypes.byref(info), ctypes.sizeof(info)
    ) and kernel32.AssignProcessToJobObject(job, process_handle)
    if not ok:
        kernel32.CloseHandle(job)
        return False
    _jobs.append(job)
    return True

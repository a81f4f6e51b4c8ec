"""glibc's heap, tuned from Python: no page faults per message, no memory kept after a big one.

glibc adapts two thresholds to what a program frees (its documented dynamic mmap threshold):
a block at least that big is mapped on its own and unmapped when freed, and free memory at the
top of a heap is given back only past twice that size. Both start low (128 KiB, 256 KiB) and
rise up to 32 MiB, 64 MiB after big frees. Elsewhere (Windows, macOS, musl) both calls do
nothing.
"""

from __future__ import annotations

import sys

_LINUX = sys.platform.startswith("linux")
_trim: object = None  # glibc's malloc_trim once looked up; False where there is none


def keep_free_pages() -> None:
    """Let each thread keep a few MiB of freed heap instead of returning it to the OS at once.

    Otherwise every message of some tens of KiB faults its pages in again (~20 faults per
    formatting round trip, ~4 µs each in a VM). Freeing one 2 MiB mapped block raises the trim
    threshold to twice that; no `ctypes`/`mallopt` import on the startup path.
    """
    bytes(2 << 20)


def give_back() -> None:
    """Return free heap to the OS now: after a big message, glibc would keep up to twice the
    size of the largest block freed (tens of MiB) for the rest of the session."""
    global _trim
    if not _LINUX:
        return
    if _trim is None:
        try:
            import ctypes

            _trim = ctypes.CDLL(None).malloc_trim
        except (ImportError, OSError, AttributeError):  # no ctypes, or not glibc
            _trim = False
    if callable(_trim):
        _trim(0)

"""heap.py: glibc tuning that must never fail, wherever it runs."""

from __future__ import annotations

import platform
import sys

import pytest
from lsp_shim import heap


def test_give_back_trims_on_glibc_and_is_idempotent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_trim", None)
    heap.give_back()
    heap.give_back()
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert callable(heap._trim)
    else:
        assert heap._trim in (None, False)


def test_give_back_without_ctypes_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_trim", None)
    monkeypatch.setattr(heap, "_LINUX", True)
    monkeypatch.setitem(sys.modules, "ctypes", None)  # import ctypes now raises ImportError
    heap.give_back()
    assert heap._trim is False


def test_give_back_elsewhere_never_loads_ctypes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_trim", None)
    monkeypatch.setattr(heap, "_LINUX", False)
    monkeypatch.setitem(sys.modules, "ctypes", None)
    heap.give_back()
    assert heap._trim is None

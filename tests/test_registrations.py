"""Registration bookkeeping across server generations, as plain data."""

from __future__ import annotations

from typing import Any

from lsp_shim.registrations import Registry


def reg(
    rid: str, method: str = "workspace/didChangeWatchedFiles", glob: str = "**/*.py"
) -> dict[str, Any]:
    return {"id": rid, "method": method, "registerOptions": {"watchers": [{"globPattern": glob}]}}


def test_identical_registration_is_adopted_not_sent() -> None:
    r = Registry()
    r.observed(1, [reg("w")])
    r.orphan(1)  # the first server retired before its replacement registered
    forward, drop = r.register(2, [reg("w2")])  # same method and options, other id
    assert forward == [] and drop == []
    # The replacement's own id is translated when it later unregisters.
    assert r.unregister(2, [{"id": "w2", "method": "workspace/didChangeWatchedFiles"}]) == [
        {"id": "w", "method": "workspace/didChangeWatchedFiles"}
    ]
    assert r.live == {}


def test_changed_registration_replaces_the_old_one_first() -> None:
    r = Registry()
    r.observed(1, [reg("w", glob="*.py")])
    forward, drop = r.register(2, [reg("w", glob="*.pyi")])
    assert drop == [{"id": "w", "method": "workspace/didChangeWatchedFiles"}]
    assert forward == [reg("w", glob="*.pyi")]
    assert list(r.live) == ["w"] and r.live["w"][0] == 2


def test_unadopted_orphans_are_left_over_and_others_kept() -> None:
    r = Registry()
    r.observed(1, [reg("a"), reg("b", method="textDocument/formatting")])
    r.orphan(1)
    r.register(2, [reg("a2")])  # adopts a; b stays an orphan
    assert r.leftovers() == [{"id": "b", "method": "textDocument/formatting"}]
    assert set(r.live) == {"a"}
    assert r.leftovers() == []


def test_unknown_unregistration_is_not_forwarded() -> None:
    r = Registry()
    r.observed(1, [reg("a")])
    assert r.unregister(2, [{"id": "nope", "method": "x"}]) == []
    assert set(r.live) == {"a"}

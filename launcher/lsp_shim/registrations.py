"""Dynamic registrations the editor holds, by owner, so a replacement server's registrations
reach the editor without duplicates: identical ones are answered locally, others replace."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _key(reg: dict[str, Any]) -> str:
    from lsp_shim.jsonfast import dumps

    return dumps([reg.get("method"), reg.get("registerOptions")]).decode()


class Registry:
    """Registrations live at the client: client-side id -> (owner generation, key, method)."""

    def __init__(self) -> None:
        self.live: dict[str, tuple[int, str, str]] = {}
        self.alias: dict[tuple[int, str], str] = {}  # (generation, server's id) -> client-side id

    def observed(self, gen: int, regs: list[dict[str, Any]]) -> None:
        """A registration passed through unchanged (the first server's)."""
        for reg in regs:
            rid = str(reg.get("id"))
            self.live[rid] = (gen, _key(reg), str(reg.get("method")))
            self.alias[(gen, rid)] = rid

    def register(
        self, gen: int, regs: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """For a replacement server: (registrations to forward, unregistrations to send first).

        Identical registrations the editor already holds are adopted, not sent again; a
        different one with a clashing id or method first unregisters the old one.
        """
        forward: list[dict[str, Any]] = []
        unregister: list[dict[str, Any]] = []
        for reg in regs:
            rid = str(reg.get("id"))
            key = _key(reg)
            method = str(reg.get("method"))
            same = next((cid for cid, (_, k, _m) in self.live.items() if k == key), None)
            if same is not None:
                self.live[same] = (gen, key, method)
                self.alias[(gen, rid)] = same
                continue
            for cid, (owner, _k, m) in list(self.live.items()):
                if owner != gen and (cid == rid or m == method):
                    unregister.append({"id": cid, "method": m})
                    del self.live[cid]
            self.live[rid] = (gen, key, method)
            self.alias[(gen, rid)] = rid
            forward.append(reg)
        return forward, unregister

    def unregister(self, gen: int, unregs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A server's unregistrations translated to the ids the editor knows."""
        out: list[dict[str, Any]] = []
        for u in unregs:
            cid = self.alias.pop((gen, str(u.get("id"))), None)
            if cid is not None and cid in self.live:
                del self.live[cid]
                out.append({"id": cid, "method": u.get("method")})
        return out

    def orphan(self, gen: int) -> None:
        """A retired server's registrations wait for its replacement to adopt them."""
        for cid, (owner, key, method) in list(self.live.items()):
            if owner == gen:
                self.live[cid] = (ORPHAN, key, method)

    def leftovers(self, gen: int = -1) -> list[dict[str, Any]]:
        """Registrations still owned by `gen` (default: orphans nobody adopted): to unregister."""
        gen = ORPHAN if gen == -1 else gen
        out = [{"id": c, "method": m} for c, (owner, _k, m) in self.live.items() if owner == gen]
        for item in out:
            del self.live[item["id"]]
        return out


ORPHAN = 0  # owner of registrations whose server retired; generations count from 1

"""Notice that the installed server binary changed (upgrade, downgrade, reinstall, venv rebuilt)
and prepare its copy, at about one stat per second and nothing on the message path."""

from __future__ import annotations

import os

from lsp_shim import log
from lsp_shim.store import Store, StoreError, stat_key

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


class Follower:
    """Call `tick()` about once a second; `on_ready(copy, version)` fires once per new binary."""

    def __init__(
        self,
        source: str,
        known: str | None,
        store: Store,
        copy_dir: str,
        probe_version: bool,
        on_ready: Callable[[str, str], None],
    ) -> None:
        self.source = source
        self.store = store
        self.copy_dir = copy_dir  # the copy the session runs now
        self.probe_version = probe_version
        self.on_ready = on_ready
        self.known = known
        self.candidate: str | None = None
        self.missing_said = False

    def tick(self) -> None:
        key = _key(self.source)
        if key is None:
            if not self.missing_said:
                log.info(f"{self.source} is gone (being reinstalled?); still serving from the copy")
                self.missing_said = True
            self.candidate = None
            return
        self.missing_said = False
        if key == self.known:
            self.candidate = None
            return
        if key != self.candidate:
            self.candidate = key  # wait one more tick: the installer may still be writing it
            return
        self.candidate = None
        try:
            shadow = self.store.shadow(self.source)
        except StoreError as exc:
            log.warning(f"{self.source} changed but cannot be copied yet ({exc}); will retry")
            return
        self.known = key
        if os.path.normcase(shadow.directory) == os.path.normcase(self.copy_dir):
            return  # same content reinstalled: nothing to switch
        version: str | None = ""
        if self.probe_version:
            version = run_version(shadow.copy)
            if version is None:
                log.warning(f"the new {self.source} does not answer --version; not switching to it")
                return
        self.copy_dir = shadow.directory
        self.on_ready(shadow.copy, version or "")


def _key(path: str) -> str | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return stat_key(st) if st.st_size else None


def run_version(copy: str) -> str | None:
    """`COPY --version` → "0.17.6" (the last word of the first line), or None if it fails."""
    import subprocess

    try:
        out = subprocess.run([copy, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0 or not out.stdout.strip():
        return None
    return out.stdout.strip().splitlines()[0].split()[-1]

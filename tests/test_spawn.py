"""The server dies with the shim on Linux, by either way of arming the parent-death signal."""

from __future__ import annotations

import subprocess
import sys

import pytest
from procs import wait_gone

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="Linux parent-death signal"
)

PARENT = """
import os, sys, time
from lsp_shim import spawn
if sys.argv[1] == "fork":
    spawn._setpriv = lambda: None
elif spawn._setpriv() is None:
    print("no-setpriv", flush=True)
    sys.exit(0)
child = spawn.start(["/bin/sleep", "60"], dict(os.environ))
print(child.pid, flush=True)
# Once the server runs: before that, a shim killed within the ~1 ms setpriv needs is left to gc.
deadline = time.monotonic() + 5
while os.readlink(f"/proc/{child.pid}/exe").endswith("setpriv") and time.monotonic() < deadline:
    time.sleep(0.001)
os.kill(os.getpid(), 9)
"""


@pytest.mark.parametrize("way", ["setpriv", "fork"])
def test_server_dies_with_a_sigkilled_parent(way: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", PARENT, way], capture_output=True, text=True, timeout=30
    )
    if out.stdout.strip() == "no-setpriv":
        pytest.skip("util-linux setpriv with --pdeathsig is not installed")
    pid = int(out.stdout.split()[0])
    assert wait_gone(pid, 2.0), f"the child {pid} outlived its SIGKILLed parent ({way})"


def test_exec_failure_is_an_oserror() -> None:
    from lsp_shim import spawn

    with pytest.raises(OSError):
        spawn.start(["/nonexistent/server"], {})

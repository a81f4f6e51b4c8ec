"""Start the server with piped stdio; wait for it; stop it. The server never outlives us.

Linux forks and sets PR_SET_PDEATHSIG before exec, so even a SIGKILLed shim takes its server
along; macOS uses os.posix_spawn (the server still sees stdin EOF, and the next start's gc
stops an orphan); Windows uses subprocess plus a kill-on-close Job Object (winapi.py).
`subprocess` is avoided on POSIX: importing it costs ~15 ms of every start.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

WINDOWS = sys.platform == "win32"


class Child:
    """A running server. Only one thread may call wait()."""

    def __init__(
        self, pid: int, stdin: int, stdout: int, stderr: int, popen: object = None
    ) -> None:
        self.pid = pid
        self.stdin = stdin  # write end, ours
        self.stdout = stdout  # read end, ours
        self.stderr = (
            stderr  # read end, ours: relayed to our stderr, last lines kept for crash reports
        )
        self.returncode: int | None = None
        self._popen = popen

    def wait(self) -> int:
        """Block until the server exits; its exit code (128+N for signal N on POSIX)."""
        if self._popen is not None:
            code = int(self._popen.wait())  # type: ignore[attr-defined]
        else:
            while True:
                try:
                    _, status = os.waitpid(self.pid, 0)
                    break
                except ChildProcessError:
                    status = 0
                    break
            code = os.waitstatus_to_exitcode(status)
            if code < 0:
                code = 128 - code
        self.returncode = code
        return code

    def signal(self, kill: bool = False) -> None:
        """Ask the server to stop (SIGTERM / TerminateProcess), or kill it."""
        if self.returncode is not None:
            return
        try:
            if self._popen is not None:
                self._popen.kill() if kill else self._popen.terminate()  # type: ignore[attr-defined]
            else:
                os.kill(self.pid, 9 if kill else 15)
        except OSError:
            pass

    def close_stdin(self) -> None:
        try:
            os.close(self.stdin)
        except OSError:
            pass


def start(argv: list[str], env: dict[str, str]) -> Child:
    """Run argv[0] (an absolute path) with argv; raises OSError if it cannot start.

    Call from the main thread: Linux delivers the parent-death signal when the *thread* that
    forked the server ends.
    """
    if sys.platform == "win32":  # spelled out so type checkers narrow the platform
        return _start_windows(argv, env)
    child_in, our_in = os.pipe()
    our_out, child_out = os.pipe()
    our_err, child_err = os.pipe()
    if sys.platform.startswith("linux"):
        _widen_pipes(our_in, our_out, 0)
    try:
        setpriv = _setpriv() if sys.platform.startswith("linux") else None
        if sys.platform.startswith("linux") and setpriv is None:
            pid = _fork_exec(argv, env, (child_in, child_out, child_err))
        else:
            if setpriv is not None:
                _check_executable(argv[0])  # setpriv would report it only as its own exit
                argv = [setpriv, "--pdeathsig", "KILL", "--", *argv]
            pid = os.posix_spawn(
                argv[0],
                argv,
                env,
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, child_in, 0),
                    (os.POSIX_SPAWN_DUP2, child_out, 1),
                    (os.POSIX_SPAWN_DUP2, child_err, 2),
                ],
            )
    except OSError:
        for fd in (child_in, our_in, our_out, child_out, our_err, child_err):
            os.close(fd)
        raise
    for fd in (child_in, child_out, child_err):
        os.close(fd)
    return Child(pid, our_in, our_out, our_err)


_SETPRIV = ("/usr/bin/setpriv", "/bin/setpriv")
PIPE_SIZE = 1 << 20


def _widen_pipes(*fds: int) -> None:
    """1 MiB pipes (Linux; 64 KiB by default): a big didOpen crosses in far fewer reads and
    writes. Best effort: fd 0 may not be a pipe, and unprivileged users have a cap."""
    if sys.platform == "win32":
        return
    import fcntl

    for fd in fds:
        try:
            fcntl.fcntl(fd, 1031, PIPE_SIZE)  # F_SETPIPE_SZ
        except OSError:
            pass


def _check_executable(path: str) -> None:
    """Raise the OSError exec would raise: setpriv reports failures only as its own exit, and
    its execvp would hand a file that is neither ELF nor `#!` script to the shell."""
    import errno

    if not os.path.exists(path):
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
    if os.path.isdir(path) or not os.access(path, os.X_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != b"\x7fELF" and not magic.startswith(b"#!"):
        raise OSError(errno.ENOEXEC, os.strerror(errno.ENOEXEC), path)


def _setpriv() -> str | None:
    """util-linux's setpriv when it can arm the parent-death signal (2.33+), else None.

    `posix_spawn` through it costs ~1.4 ms; forking this process and loading ctypes in the
    child costs ~6 ms of every start. Support is read from the binary: no process is started.
    """
    for path in _SETPRIV:
        try:
            with open(path, "rb") as f:
                if b"pdeathsig" in f.read(1 << 20):
                    return path
        except OSError:
            continue
    return None


def _fork_exec(argv: list[str], env: dict[str, str], stdio: tuple[int, int, int]) -> int:
    """fork, set PR_SET_PDEATHSIG(SIGKILL), exec; exec errors come back through a pipe."""
    if sys.platform == "win32":
        raise OSError("fork is POSIX-only")
    parent = os.getpid()
    err_r, err_w = os.pipe()  # close-on-exec: EOF means the exec succeeded
    pid = os.fork()
    if pid == 0:  # the child: nothing here may raise past os._exit
        try:
            os.close(err_r)
            for target, fd in enumerate(stdio):
                os.dup2(fd, target)
            import ctypes  # in the child only: the shim's own start does not pay for it

            ctypes.CDLL(None, use_errno=True).prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL
            if os.getppid() != parent:
                os._exit(1)  # the shim died before the signal was armed
            os.execve(argv[0], argv, env)
        except OSError as exc:
            os.write(err_w, str(exc.errno or 0).encode())
        except BaseException:
            pass
        os._exit(127)
    os.close(err_w)
    try:
        failure = os.read(err_r, 64)
    finally:
        os.close(err_r)
    if failure:
        os.waitpid(pid, 0)
        errno = int(failure or 0)
        raise OSError(errno, os.strerror(errno) if errno else "exec failed", argv[0])
    return pid


def _start_windows(argv: list[str], env: dict[str, str]) -> Child:
    import subprocess

    from lsp_shim import winapi

    pipe = subprocess.PIPE
    contained = _contain(winapi)
    popen = subprocess.Popen(
        argv,
        stdin=pipe,
        stdout=pipe,
        stderr=pipe,
        env=env,
        bufsize=0,
        creationflags=winapi.spawn_flags(),
    )
    if not contained:
        winapi.kill_on_close(int(popen._handle))  # type: ignore[attr-defined]
    assert popen.stdin and popen.stdout and popen.stderr
    return Child(
        popen.pid, popen.stdin.fileno(), popen.stdout.fileno(), popen.stderr.fileno(), popen
    )


_contained: list[bool] = []


def _contain(winapi: Any) -> bool:
    """Put the shim itself in a kill-on-close job once, before its first child, so grandchildren
    started before any per-child assignment are inside it too; False where nesting is refused."""
    if not _contained:
        _contained.append(winapi.contain_children())
    return _contained[0]


def run_replacing(argv: list[str], env: dict[str, str]) -> int:
    """Run a non-server command with our stdio: exec on POSIX; a child on Windows (no exec there)."""
    if not WINDOWS:
        os.execve(argv[0], argv, env)
    import subprocess

    from lsp_shim import winapi

    contained = _contain(winapi)
    popen = subprocess.Popen(argv, env=env)
    if not contained:
        winapi.kill_on_close(int(popen._handle))  # type: ignore[attr-defined]
    while True:
        try:
            return int(popen.wait())
        except KeyboardInterrupt:
            continue  # the console delivered Ctrl-C to the child too; let it decide

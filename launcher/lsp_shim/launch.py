"""One run of the shim: resolve → copy → spawn → relay (or exec for one-shot commands)."""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # `signal` costs ~4 ms at startup
import _thread
import os
import sys
import time

from lsp_shim import heap, log, lsp, spawn
from lsp_shim.backend import Backend
from lsp_shim.controller import Controller
from lsp_shim.errors import ShimError
from lsp_shim.framing import FrameReader
from lsp_shim.proxy import SOURCE_CHANGED, STOP, Relay
from lsp_shim.resolve import not_found_message, resolve, resolve_command
from lsp_shim.store import Store, StoreError, default_root, stat_key
from lsp_shim.sync import Inbox, Sink, exit_later, raw_stream

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from lsp_shim.follow import Follower

MAX_DEPTH = 8
WINDOWS = sys.platform == "win32"


class Options:
    """What the command line asked for; plain data handed down the pipeline."""

    def __init__(self) -> None:
        self.tool: str | None = None  # "ruff"/"ty" for the drop-ins; None for the generic form
        self.command: list[str] = []  # drop-in: the tool's args; generic: COMMAND ARGS…
        self.shadows: list[str] = []
        self.python: str | None = os.environ.get("LSP_SHIM_PYTHON") or None
        self.workspace: str | None = None
        self.store: str | None = None
        self.strict = os.environ.get("LSP_SHIM_STRICT", "") not in ("", "0")
        self.follow = os.environ.get("LSP_SHIM_NO_FOLLOW", "") in ("", "0")


class Plan:
    """The resolved command line and where its binary came from."""

    def __init__(
        self, argv: list[str], source: str, copy: str, notices: list[bytes], key: str | None
    ) -> None:
        self.argv = argv
        self.source = source
        self.copy = copy
        self.notices = notices
        self.key = key  # the source's stat identity when it was copied

    def argv_for(self, copy: str) -> list[str]:
        """The same command line running another copy of the same server."""
        return [copy if a == self.copy else a for a in self.argv]


def child_env() -> dict[str, str]:
    """Our environment plus the nesting depth (a shim resolving to a shim must not loop forever)."""
    env = dict(os.environ)
    depth = int(env.get("LSP_SHIM_DEPTH", "0") or 0)
    if depth >= MAX_DEPTH:
        raise ShimError(
            f"lsp-shim started itself {depth} times in a row: a shim is configured as the server "
            "it should run; point the setting at the real server or set LSP_SHIM_<TOOL>_PATH"
        )
    env["LSP_SHIM_DEPTH"] = str(depth + 1)
    return env


def open_store(opts: Options) -> Store:
    return Store(opts.store or default_root(os.environ)).open()


def source_key(source: str) -> str | None:
    """Stat identity of the source as copied: the follower's baseline for noticing a change."""
    try:
        return stat_key(os.stat(source))
    except OSError:
        return None


def shadow_or_fallback(opts: Options, source: str) -> tuple[str, bytes | None]:
    """The copy to run; on a store problem the original, with a loud warning (unless --strict)."""
    try:
        return open_store(opts).shadow(source).copy, None
    except StoreError as exc:
        if opts.strict:
            raise ShimError(f"{exc} (--strict: refusing to run {source} in place)") from None
        text = f"{exc}; running {source} in place, so it stays locked while it runs"
        log.warning(text)
        return source, lsp.show_message(f"lsp-shim: {text}", 2)


def find_tool(tool: str, root: str, python: str | None) -> str:
    res = resolve(tool, root, os.environ, python)
    if not res.path:
        raise ShimError(not_found_message(tool, res))
    log.debug(f"{tool}: using {res.path} ({res.place})")
    return res.path


def plan(opts: Options, root: str) -> Plan:
    """Resolve the server and shadow what must be shadowed; raises ShimError with the fix."""
    notices: list[bytes] = []
    if opts.tool:
        source = find_tool(opts.tool, root, opts.python)
        key = source_key(source)
        copy, notice = shadow_or_fallback(opts, source)
        notices += [notice] if notice else []
        return Plan([copy, *opts.command], source, copy, notices, key)
    if not opts.command:
        raise ShimError("no server command given; usage: lsp-shim [OPTIONS] -- COMMAND [ARGS…]")
    command, args = opts.command[0], opts.command[1:]
    if opts.shadows:
        # The runner (java, node, wine64) stays where it is; only the named files are copied.
        runner = resolve_command(command, os.environ)
        rewritten = list(args)
        first_source = first_copy = ""
        first_key = None
        for shadow in opts.shadows:
            if not os.path.isfile(shadow):
                raise ShimError(
                    f"--shadow {shadow}: no such file; give the file the server runs from"
                )
            key = source_key(shadow)
            copy, notice = shadow_or_fallback(opts, shadow)
            log.debug(f"--shadow {shadow}: running the copy {copy}")
            notices += [notice] if notice else []
            target = os.path.abspath(shadow)
            rewritten = [
                copy if a == shadow or os.path.abspath(a) == target else a for a in rewritten
            ]
            if not first_source:
                first_source, first_copy, first_key = target, copy, key
        return Plan([runner, *rewritten], first_source, first_copy, notices, first_key)
    if os.path.dirname(command):
        source = resolve_command(command, os.environ)
    else:
        source = find_tool(command, root, opts.python)
    key = source_key(source)
    copy, notice = shadow_or_fallback(opts, source)
    notices += [notice] if notice else []
    return Plan([copy, *args], source, copy, notices, key)


def run_once(opts: Options) -> int:
    """A one-shot drop-in command (`ruff check -`): run the copy with our own stdio."""
    env = child_env()
    p = plan(opts, opts.workspace or os.getcwd())
    return spawn.run_replacing(p.argv, env)


def _first_initialize(frame: tuple[bytes, bytes | bytearray] | None) -> dict[str, Any] | None:
    if frame is None or b'"initialize"' not in frame[1]:
        return None
    msg = lsp.decode(frame[1])
    if msg is None or msg.get("method") != "initialize" or "id" not in msg:
        return None
    return msg


def serve(opts: Options) -> int:
    """Relay a whole LSP session; returns the exit code (the server's, normally)."""
    from lsp_shim import winapi

    winapi.set_binary_stdio()
    heap.keep_free_pages()
    client_out = Sink(1)
    # A request the reader must drop (bad body) is answered with an error, never left pending.
    client_in = FrameReader(
        raw_stream(0), lambda m: log.error(f"editor input: {m}"), reply=client_out.send_raw
    )
    # Editors send initialize right after spawning us; its workspace decides which venv's server.
    first = client_in.next()
    missing = [s for s in opts.shadows if not os.path.isfile(s)]
    if missing:  # named even when the editor sent nothing, and answered when it did
        problem = f"--shadow {missing[0]}: no such file; give the file the server runs from"
        return refuse(problem, _first_initialize(first), client_in, client_out)
    if first is None:
        log.error("the editor closed stdin before sending any message")
        return 1
    init = _first_initialize(first)
    params = init.get("params") if init else None
    params = params if isinstance(params, dict) else {}
    root = opts.workspace or lsp.workspace_root(params, WINDOWS) or os.getcwd()
    try:
        env = child_env()
        p = plan(opts, root)
        try:
            child = _start(p.argv, env)
        except FileNotFoundError:
            # A gc elsewhere removed the copy between lookup and start: copy again, once.
            p = plan(opts, root)
            try:
                child = _start(p.argv, env)
            except FileNotFoundError as exc:
                raise ShimError(f"cannot start {p.argv[0]}: {exc.strerror}") from None
    except ShimError as exc:
        return refuse(str(exc), init, client_in, client_out)
    inbox = Inbox()
    relay = Relay(client_in, client_out, inbox)
    relay.notices = p.notices
    relay.init_id = init.get("id") if init else None
    first_backend = Backend(1, child, p.copy)
    relay.current = first_backend
    name = opts.tool or os.path.splitext(os.path.basename(p.source))[0]
    notify = os.environ.get("LSP_SHIM_NOTIFY", "message")
    book = _Bookkeeping(opts, p, relay, root, params.get("processId"))
    ctl = Controller(relay, p.argv_for, env, name, notify, book.switched)
    ctl.attach(first_backend)
    relay.start(first)
    _thread.start_new_thread(book.run, ())
    _install_signals(inbox)
    try:
        return ctl.run()
    finally:
        book.finish()


def _start(argv: list[str], env: dict[str, str]) -> spawn.Child:
    try:
        return spawn.start(argv, env)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ShimError(
            f"cannot start {argv[0]}: {exc.strerror or exc}; check that it is an executable for "
            "this platform"
        ) from None


def _install_signals(inbox: Inbox) -> None:
    from lsp_shim import winapi

    def stop(signum: int, frame: object) -> None:
        inbox.put((STOP, f"signal {signum}"))

    for name in winapi.stop_signal_names():
        number = getattr(_signal, name, None)
        if number is not None:
            try:
                _signal.signal(number, stop)
            except (OSError, ValueError):
                pass


def refuse(
    message: str, init: dict[str, Any] | None, client_in: FrameReader, client_out: Sink
) -> int:
    """No server can run: say why, to the editor's UI too, and keep LSP manners until exit."""
    log.error(message)
    if init is None:
        return 2
    client_out.send_raw(
        lsp.error_response(init.get("id"), lsp.REQUEST_FAILED, f"lsp-shim: {message}")
    )
    # Some editors wait for shutdown/exit answers; bound the wait in case nobody asks.
    exit_later(10.0, 1)
    frame = client_in.next()
    while frame is not None:
        reply, is_exit = lsp.answer_without_server(frame[1], message)
        if is_exit:
            break
        if reply is not None:
            client_out.send_raw(reply)
        frame = client_in.next()
    return 1


class _Bookkeeping:
    """Off the startup path: record the session, collect garbage, then watch editor and binary."""

    def __init__(self, opts: Options, p: Plan, relay: Relay, root: str, editor_pid: object) -> None:
        self.opts = opts
        self.plan = p
        self.relay = relay
        self.root = root
        self.editor_pid = editor_pid if isinstance(editor_pid, int) else None
        self.record: dict[str, Any] = {}
        self.record_path: str | None = None
        self.finished = False
        self.create_time = time.time()
        self.store: Store | None = None

    def run(self) -> None:
        # Wait for the initialize answer (or 1 s) so imports here never delay it.
        self.relay.initialized.wait(1.0)
        try:
            self._record_and_collect()
        except Exception as exc:  # bookkeeping must never take the session down
            log.warning(f"session bookkeeping failed: {exc!r}")
        self._watch()

    def _record_and_collect(self) -> None:
        import psutil

        from lsp_shim import cleanup

        me = psutil.Process()
        self.create_time = me.create_time()
        b = self.relay.current
        info = self.relay.init_result or {}
        raw = info.get("serverInfo")
        server_info: dict[str, Any] = raw if isinstance(raw, dict) else {}
        name = self.opts.tool or os.path.splitext(os.path.basename(self.plan.source))[0]
        self.record = {
            "pid": me.pid,
            "create_time": self.create_time,
            "server": str(server_info.get("name") or name),
            "version": str(server_info.get("version") or ""),
            "source": self.plan.source,
            "copy": self.plan.copy,
            "command": self.plan.argv,
            "server_pid": None,
            "server_create_time": 0.0,
            "parent_pid": os.getppid(),
            "editor_pid": self.editor_pid,
            "workspace": self.root,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.create_time)),
            "restarts": 0,
        }
        if b is not None:
            b.version = b.version or self.record["version"]
            self._server_fields(b)
        if self.plan.notices:
            return  # the store already failed and the user was told; no record, no gc
        self.store = open_store(self.opts)
        self.store.ensure_tree()
        self._write()
        cleanup.collect(self.store)

    def _server_fields(self, b: Backend) -> None:
        import psutil

        try:
            ct = psutil.Process(b.child.pid).create_time()
        except psutil.Error:
            ct = 0.0
        self.record.update(server_pid=b.child.pid, server_create_time=ct, copy=b.copy)
        if b.version:
            self.record["version"] = b.version

    def _write(self) -> None:
        from lsp_shim import session

        if self.store is not None and self.record and not self.finished:
            self.record_path = session.write(self.store.sessions, self.record)

    def switched(self, b: Backend) -> None:
        """A new server took over: the record shows what runs now."""
        if not self.record:
            return
        try:
            self._server_fields(b)
            self.record["command"] = self.plan.argv_for(b.copy)
            self.record["restarts"] = int(self.record.get("restarts", 0)) + 1
            self._write()
        except Exception as exc:
            log.warning(f"could not update the session record: {exc!r}")

    def _watch(self) -> None:
        from lsp_shim import watch

        probes = [watch.parent_probe()]
        editor = watch.editor_probe(self.editor_pid, self.create_time)
        if editor is not None:
            probes.append(editor)
        follower = self._follower()
        inbox = self.relay.inbox

        def gone() -> None:
            inbox.put((STOP, "the editor is gone"))

        tick = follower.tick if follower is not None else None
        watch.watch(probes, lambda: self.finished, gone, tick)

    def _follower(self) -> Follower | None:
        if not self.opts.follow or self.store is None or self.plan.source == self.plan.copy:
            return None
        from lsp_shim.follow import Follower

        inbox = self.relay.inbox
        probe = bool(self.opts.tool) or os.path.splitext(os.path.basename(self.plan.source))[0] in (
            "ruff",
            "ty",
        )
        return Follower(
            self.plan.source,
            self.plan.key,
            self.store,
            os.path.dirname(self.plan.copy),
            probe,
            lambda copy, version: inbox.put((SOURCE_CHANGED, copy, version)),
        )

    def finish(self) -> None:
        from lsp_shim import session

        self.finished = True
        session.remove(self.record_path)

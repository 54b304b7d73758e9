"""Every core serving: ``kgraph serve --processes N``, a master and N forked serving processes.

The master holds the listening socket and the graphs: it loads them as one
server does (:func:`kgraph.serving.serve_corpus`: the first load, reloads on
``SIGHUP`` and with ``--watch``, their failures and readiness) but answers no
request. Each graph, once built, prepared and frozen (``gc.freeze()``), is
served by N processes forked from the master: uvicorn on the inherited socket,
with an app that serves that graph (:func:`follow_master` as its lifespan) and
loads nothing. Forked, they share the graph's memory with the master page by
page (copy-on-write) until a page is written; the frozen graph is out of the
cyclic collector's sight, which would otherwise write to every object it visits.

A reload builds the new graph in the master while the old processes serve,
then hands over: N new processes are forked and set up (their app not yet
accepting connections); the old ones hand the new graph's ``graphChanged``
event to their subscribers and answer on for half a second, closing each
connection after its answer (a client's keep-alive connection then ends after
an answer rather than under a request it just sent), or until they hold no
HTTP connection, when that comes sooner; they are stopped as
uvicorn stops on SIGTERM (in-flight requests finish, websockets close with
1012, "service restart": a client reconnects, to a new process); a moment
later the new ones begin to accept. The socket is the master's throughout, so
no connection is refused: one not yet accepted waits in its backlog, and no
client gets an answer from the new graph and then one from the old. A reload
that fails leaves the processes serving, told why (``/readyz``,
``stats.reloadError``), as are changes seen and not served yet
(``pending_seconds``, staleness).

Before the first load, N processes answer without a graph (``/healthz`` 200,
``/readyz`` 503 "loading", or "failed" with the reason), as a single process
does. A serving process that ends unexpectedly is replaced (said in the log;
later and later while they keep failing at start). SIGTERM or SIGINT stop
them all gracefully, then the master.

Master and each process talk over a socket pair, one JSON object a line: the
process says ``{"ready": true}`` once set up; the master answers ``{"go":
true}`` when it may accept connections, sends ``{"status": …}`` (load error,
last reload, pending changes) when that changes, and ``{"retire": …}`` (the
new graph's change) before stopping it. A process whose master is gone (the
pair closed) stops.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import gc
import json
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

import anyio
import anyio.to_thread
import uvicorn
from anyio.abc import TaskGroup
from prometheus_client import multiprocess
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kgraph.api.events import GraphChange
from kgraph.app import create_app
from kgraph.connections import open_connections
from kgraph.corpus.fingerprint import FingerprintElsewhere
from kgraph.graph.queries import link_count
from kgraph.middleware.observe import MULTIPROCESS_DIR, Metrics
from kgraph.serving import AppState, LoadReport, Pending, Served, serve_corpus
from kgraph.settings import Settings

__all__ = ["Retirement", "Status", "View", "follow_master", "serve_processes"]

log = logging.getLogger("kgraph")

#: How long new serving processes may take to start before a reload gives up on them.
_READY_SECONDS = 60.0
#: How often the master looks for processes that ended and for news to tell them.
_TICK_SECONDS = 0.2
#: uvicorn's graceful shutdown (``timeout_graceful_shutdown``) and a margin: then SIGKILL.
_STOP_SECONDS = 15.0
#: A process that ends sooner than this after its start failed at starting: the next
#: one waits 1 s, 2, 4… up to 30 s while they keep failing.
_QUICK_SECONDS = 2.0
_RETRY_SECONDS = (1.0, 30.0)
#: How long retiring processes answer on at most (each answer closing its connection)
#: before they stop accepting: a client's keep-alive connection then ends after an
#: answer, rather than under a request it has just sent. Less once none holds an HTTP
#: connection: no client is left to answer.
_DRAIN_SECONDS = 0.5
#: How often a retiring process looks whether it still holds connections.
_DRAINED_POLL_SECONDS = 0.01
#: How long the master waits for retiring processes to say they stopped accepting.
_CLOSE_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Status:
    """What a serving process tells of the master's loads besides its graph."""

    #: Why the first load failed (nothing is served then).
    error: str | None = None
    #: The last reload, when one was done.
    last_reload: LoadReport | None = None
    #: When the oldest change to the corpus not served yet was seen (``time.monotonic()``,
    #: the same clock in every process of the machine).
    pending: float | None = None

    @classmethod
    def of(cls, state: AppState) -> Status:
        """The master's status now."""
        return cls(error=state.error, last_reload=state.last_reload, pending=state.pending.oldest())

    def as_dict(self) -> dict[str, Any]:
        reload = self.last_reload
        return {
            "error": self.error,
            "reload": None
            if reload is None
            else {"at": reload.at.isoformat(), "seconds": reload.seconds, "error": reload.error},
            "pending": self.pending,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Status:
        reload = data.get("reload")
        return cls(
            error=data.get("error"),
            last_reload=None
            if reload is None
            else LoadReport(
                at=datetime.datetime.fromisoformat(reload["at"]),
                seconds=float(reload["seconds"]),
                error=reload.get("error"),
            ),
            pending=data.get("pending"),
        )

    def apply(self, state: AppState) -> None:
        """Make ``state`` (a serving process's) say what the master says."""
        state.error = self.error
        state.last_reload = self.last_reload
        state.pending = Pending(since=self.pending)


@dataclass(frozen=True, slots=True)
class View:
    """What a serving process serves: the master's graph (``None`` before the first) and status."""

    served: Served | None
    status: Status


def _change(served: Served) -> GraphChange:
    kg = served.graph
    return GraphChange(
        version=served.version,
        loaded_at=kg.loaded_at,
        articles=len(kg.articles),
        links=link_count(kg),
    )


def _change_dict(change: GraphChange | None) -> dict[str, Any] | None:
    if change is None:
        return None
    return {
        "version": change.version,
        "loaded_at": change.loaded_at.isoformat(),
        "articles": change.articles,
        "links": change.links,
    }


def _send(channel: socket.socket, message: dict[str, Any]) -> None:
    """Send one message; a peer gone or not reading loses it (it is ending)."""
    with contextlib.suppress(OSError):
        channel.send(json.dumps(message).encode() + b"\n")


async def _messages(channel: socket.socket) -> AsyncIterator[dict[str, Any]]:
    """The messages coming over ``channel`` until either end is closed.

    The master closes its end of a process that ended (:meth:`_Master._ended`)
    maybe before this read its end of file, even before this began: that ends
    the messages too, rather than failing the master's task group (and the
    master with it). A closed socket's descriptor is -1: a ``ValueError`` to wait on.
    """
    pending = b""
    while True:
        try:
            await anyio.wait_readable(channel)
            data = channel.recv(65536)
        except BlockingIOError:
            continue
        except (OSError, ValueError, anyio.ClosedResourceError):
            return
        if not data:
            return
        *lines, pending = (pending + data).split(b"\n")
        for line in lines:
            yield json.loads(line)


# -- a serving process ----------------------------------------------------------------


class Retirement:
    """ASGI middleware: once the process is retiring, every answer closes its connection.

    ``server``: the uvicorn server running it, whose listening stops at :meth:`close`.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.begun = False
        self.server: uvicorn.Server | None = None

    def close(self) -> None:
        """Accept no more connections (those accepted are answered, then closed)."""
        if self.server is not None:
            for listening in self.server.servers:
                listening.close()

    async def drained(self) -> None:
        """Return once no HTTP connection is open (websockets apart: they close at the stop);
        never, when the server does not count them."""
        while self.server is None or open_connections(self.server.config.http) != 0:
            await anyio.sleep(_DRAINED_POLL_SECONDS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.begun or scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", ()) if k != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, sending)


@contextlib.asynccontextmanager
async def follow_master(
    state: AppState, *, view: View, channel: socket.socket, retirement: Retirement
) -> AsyncIterator[None]:
    """Serve ``view`` while the block runs, as the master tells: the lifespan of a serving process.

    Loads nothing: the graph is the master's, forked. Says it is ready, then
    waits for the master's ``go`` before the app starts (uvicorn accepts
    connections once its lifespan has started); takes the master's status as
    it changes; on ``retire``, hands the new graph's change to its
    subscribers and closes each connection after its answer (``retirement``)
    until the master stops it; stops when the master is gone.
    """
    state.served = view.served
    view.status.apply(state)
    served = view.served
    if served is not None:
        kg = served.graph
        state.metrics.serving(
            version=served.version,
            articles=len(kg.articles),
            links=link_count(kg),
            files=len(kg.files),
            errors=len(kg.diagnostics),
        )
    channel.setblocking(False)
    go = anyio.Event()
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(_follow, state, channel, retirement, go, tasks)
        _send(channel, {"ready": True})
        await go.wait()
        yield
        tasks.cancel_scope.cancel()


async def _follow(
    state: AppState,
    channel: socket.socket,
    retirement: Retirement,
    go: anyio.Event,
    tasks: TaskGroup,
) -> None:
    async for message in _messages(channel):
        if "status" in message:
            Status.from_dict(message["status"]).apply(state)
        if message.get("go"):
            go.set()
        if message.get("close"):
            retirement.close()
            _send(channel, {"closed": True})
        if "retire" in message:
            retirement.begun = True
            tasks.start_soon(_say_drained, channel, retirement)
            change = message["retire"]
            if change is not None:
                state.events.publish(
                    GraphChange(
                        version=change["version"],
                        loaded_at=datetime.datetime.fromisoformat(change["loaded_at"]),
                        articles=change["articles"],
                        links=change["links"],
                    )
                )
    log.warning("serving process %d: the master is gone; stopping", os.getpid())
    os.kill(os.getpid(), signal.SIGTERM)
    go.set()  # if it was still waiting: starts, and stops at once


async def _say_drained(channel: socket.socket, retirement: Retirement) -> None:
    """Tell the master once a retiring process holds no connection: none waits for an answer."""
    await retirement.drained()
    _send(channel, {"drained": True})


def _serve_child(
    settings: Settings,
    listener: socket.socket,
    view: View,
    channel: socket.socket,
    inherited: list[socket.socket],
    server: Callable[[ASGIApp], uvicorn.Server],
) -> NoReturn:
    """The forked process: serve ``view`` with uvicorn until stopped, then exit (never return)."""
    code = 0
    try:
        # The master's event loop's: its wakeup pipe and signal handlers are not ours.
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # reloading is the master's job
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, signal.SIG_DFL)
        for other in inherited:  # the master's ends of the other processes' pairs
            other.close()
        app = create_app(
            settings,
            serving=lambda state: follow_master(
                state, view=view, channel=channel, retirement=retirement
            ),
        )
        retirement = Retirement(app)
        retirement.server = server(retirement)
        retirement.server.run(sockets=[listener])
    except BaseException:
        log.exception("serving process %d failed", os.getpid())
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        # Nothing of the master's (exit handlers, temp folders) is this process's to end.
        os._exit(code)


# -- the master -----------------------------------------------------------------------


@dataclass(eq=False)
class _Process:
    pid: int
    channel: socket.socket
    view: View
    started: float = field(default_factory=time.monotonic)
    ready: anyio.Event = field(default_factory=anyio.Event)
    #: Set once it said it is ready, or its end of the pair closed.
    answered: anyio.Event = field(default_factory=anyio.Event)
    #: Set once it said it accepts no more connections, or its end of the pair closed.
    closed: anyio.Event = field(default_factory=anyio.Event)
    #: Set once, retiring, it said it holds no connection, or its end of the pair closed.
    drained: anyio.Event = field(default_factory=anyio.Event)
    retiring: float | None = None  # since when (monotonic)

    @property
    def version(self) -> int:
        return self.view.served.version if self.view.served is not None else 0

    @property
    def serving(self) -> str:
        """What it serves, for the log."""
        return f"graph version {self.version}" if self.version else "no graph yet"


class _Master:
    def __init__(
        self,
        settings: Settings,
        listener: socket.socket,
        fingerprinting: FingerprintElsewhere | None,
        server: Callable[[ASGIApp], uvicorn.Server],
    ) -> None:
        self.settings = settings
        self.listener = listener
        self.fingerprinting = fingerprinting
        self.count = settings.processes
        self.server = server
        self.state = AppState(settings=settings, metrics=Metrics(serves_requests=False))
        self.processes: dict[int, _Process] = {}
        self.view: View | None = None
        self.stopping = False
        self.failures = 0  # processes in a row that ended soon after starting
        self.tasks: TaskGroup | None = None

    async def run(self) -> None:
        try:
            async with anyio.create_task_group() as tasks:
                self.tasks = tasks
                tasks.start_soon(self._stop_on_signal, tasks.cancel_scope)
                await self._roll()  # nothing loaded yet: processes that say so
                tasks.start_soon(self._supervise)
                async with serve_corpus(
                    self.state, fingerprinting=self.fingerprinting, after_load=self._roll
                ):
                    await anyio.sleep_forever()
        finally:
            self.stopping = True
            self._stop_all()

    async def _stop_on_signal(self, scope: anyio.CancelScope) -> None:
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async for number in signals:
                log.info(
                    "%s: stopping %d serving processes",
                    signal.Signals(number).name,
                    len(self.processes),
                )
                scope.cancel()
                return

    # Forking, from a worker thread: the child starts with no event loop running
    # (uvicorn runs its own); it becomes its process's main thread.
    def _fork(self, view: View) -> tuple[int, socket.socket]:
        ours, theirs = socket.socketpair()
        inherited = [p.channel for p in self.processes.values()]
        # No log line half written when forking: a lock of the stream held by a
        # thread that the child does not have would stop the child's first line.
        handlers = {h for name in (None, "kgraph") for h in logging.getLogger(name).handlers}
        for handler in handlers:
            handler.acquire()
        try:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            # Whatever was made since the graph's freeze: out of the collector's
            # sight too, so that no collection in a child writes to shared pages.
            gc.freeze()
            pid = os.fork()
            if pid == 0:
                ours.close()
                # A context of its own: nothing of the master's tasks' (anyio's included).
                contextvars.Context().run(
                    _serve_child,
                    self.settings,
                    self.listener,
                    view,
                    theirs,
                    inherited,
                    self.server,
                )
        finally:
            for handler in handlers:
                handler.release()
        theirs.close()
        ours.setblocking(False)
        return pid, ours

    async def _start(self, view: View) -> _Process:
        pid, channel = await anyio.to_thread.run_sync(self._fork, view)
        process = _Process(pid=pid, channel=channel, view=view)
        self.processes[pid] = process
        assert self.tasks is not None  # started within run()
        self.tasks.start_soon(self._listen, process)
        return process

    async def _listen(self, process: _Process) -> None:
        async for message in _messages(process.channel):
            if message.get("ready"):
                process.ready.set()
                process.answered.set()
            if message.get("closed"):
                process.closed.set()
            if message.get("drained"):
                process.drained.set()
        process.answered.set()
        process.closed.set()
        process.drained.set()

    async def _roll(self) -> None:
        """Serve the master's graph: fork processes for a new one, retire the old; or tell news."""
        state = self.state
        status = Status.of(state)
        if self.view is not None and state.served is self.view.served:
            self._tell(status)
            return
        view = View(served=state.served, status=status)
        older = [p for p in self.processes.values() if p.retiring is None]
        fresh = [await self._start(view) for _ in range(self.count)]
        with anyio.move_on_after(_READY_SECONDS):
            for process in fresh:
                await process.answered.wait()
        if older and not any(p.ready.is_set() for p in fresh):
            log.error(
                "the serving processes of graph version %d did not start: version %d serves on",
                view.served.version if view.served is not None else 0,
                older[0].version,
            )
            for process in fresh:
                self._stop(process)
            return
        self.view = view
        if older:
            # The old processes answer alone, closing connections after their answers,
            # then stop accepting; then the new ones accept: no client gets an answer
            # of the new graph, then one of the old on a connection opened later.
            change = _change(view.served) if view.served is not None else None
            for process in older:
                process.retiring = time.monotonic()  # killed if not gone in time
                _send(process.channel, {"retire": _change_dict(change)})
            # Half a second for the clients' next requests on connections kept
            # alive, each answered and closed; less when none is open.
            with anyio.move_on_after(_DRAIN_SECONDS):
                for process in older:
                    await process.drained.wait()
            for process in older:
                _send(process.channel, {"close": True})
            with anyio.move_on_after(_CLOSE_SECONDS):
                for process in older:
                    await process.closed.wait()
            # Their last connections answered (uvicorn's graceful stop), after a moment.
            assert self.tasks is not None  # started within run()
            self.tasks.start_soon(self._stop_later, older)
        for process in fresh:
            _send(process.channel, {"go": True})
        log.info(
            "%d serving processes (%s) %s",
            len(fresh),
            ", ".join(str(p.pid) for p in fresh),
            f"serve graph version {view.served.version}"
            if view.served is not None
            else "answer until the first graph is loaded",
        )

    async def _stop_later(self, processes: list[_Process]) -> None:
        await anyio.sleep(_DRAIN_SECONDS)
        for process in processes:
            self._stop(process)

    def _stop(self, process: _Process) -> None:
        """Stop ``process`` gracefully (uvicorn on SIGTERM: in-flight requests finish)."""
        if process.retiring is None:
            process.retiring = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)

    def _tell(self, status: Status) -> None:
        """Tell the current processes the master's status, when it changed."""
        view = self.view
        if view is None or status == view.status:
            return
        self.view = View(served=view.served, status=status)
        for process in self.processes.values():
            if process.retiring is None:
                _send(process.channel, {"status": status.as_dict()})

    async def _supervise(self) -> None:
        while True:
            await anyio.sleep(_TICK_SECONDS)
            # The old processes keep their status until replaced (the reload that
            # settled their pending changes is not theirs to serve).
            if self.view is not None and self.state.served is self.view.served:
                self._tell(Status.of(self.state))
            now = time.monotonic()
            for process in list(self.processes.values()):
                ended = _reap(process.pid)
                if ended is None:
                    if process.retiring is not None and now - process.retiring > _STOP_SECONDS:
                        log.warning("serving process %d did not stop: killed", process.pid)
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(process.pid, signal.SIGKILL)
                    continue
                self._ended(process, ended)
                if process.retiring is None and not self.stopping and self.tasks is not None:
                    self.tasks.start_soon(self._replace, process, ended, now)

    def _ended(self, process: _Process, how: str) -> None:
        del self.processes[process.pid]
        multiprocess.mark_process_dead(process.pid)  # type: ignore[no-untyped-call]
        with contextlib.suppress(Exception):
            anyio.notify_closing(process.channel)
        process.channel.close()
        if process.retiring is not None:
            log.info("serving process %d (%s) stopped", process.pid, process.serving)

    async def _replace(self, process: _Process, how: str, now: float) -> None:
        quick = now - process.started < _QUICK_SECONDS
        self.failures = self.failures + 1 if quick else 0
        delay = (
            min(_RETRY_SECONDS[0] * 2 ** (self.failures - 1), _RETRY_SECONDS[1]) if quick else 0.0
        )
        log.error(
            "serving process %d (%s) ended unexpectedly (%s): starting another%s",
            process.pid,
            process.serving,
            how,
            f" in {delay:g} s" if delay else "",
        )
        if delay:
            await anyio.sleep(delay)
        if not self.stopping and self.view is not None:
            process = await self._start(self.view)
            _send(process.channel, {"go": True})  # beside its siblings, at once

    def _stop_all(self) -> None:
        """Stop every serving process gracefully (SIGTERM), then kill what outlives the grace."""
        for process in self.processes.values():
            _send(process.channel, {"go": True})  # one still starting stops once started
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + _STOP_SECONDS
        while self.processes and time.monotonic() < deadline:
            for process in list(self.processes.values()):
                if _reap(process.pid) is not None:
                    del self.processes[process.pid]
                    multiprocess.mark_process_dead(process.pid)  # type: ignore[no-untyped-call]
                    process.channel.close()
            time.sleep(0.05)
        for process in self.processes.values():
            log.warning("serving process %d did not stop: killed", process.pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(process.pid, 0)
            process.channel.close()
        self.processes.clear()


def _reap(pid: int) -> str | None:
    """How process ``pid`` ended, once it has (reaped), else ``None``."""
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return "gone"
    if done == 0:
        return None
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"


def serve_processes(
    settings: Settings,
    listener: socket.socket,
    *,
    fingerprinting: FingerprintElsewhere | None,
    backlog: int,
    server: Callable[[ASGIApp], uvicorn.Server],
) -> None:
    """Be the master of ``settings.processes`` serving processes until SIGTERM or SIGINT.

    ``listener``: the bound socket they all accept on, listening from now on
    (a connection waits in its backlog of ``backlog`` until a process takes it);
    ``server``: the uvicorn server of an app, as ``kgraph serve`` configures it.
    ``PROMETHEUS_MULTIPROC_DIR`` must be set before prometheus-client was
    imported (see :mod:`kgraph.middleware.observe`).
    """
    listener.listen(backlog)
    log.info(
        "master (pid %d) of %d serving processes; their metrics in %s",
        os.getpid(),
        settings.processes,
        os.environ.get(MULTIPROCESS_DIR),
    )
    master = _Master(settings, listener, fingerprinting, server)
    anyio.run(master.run)

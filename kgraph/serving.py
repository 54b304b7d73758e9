"""The graphs the app serves: the first load, reloads, the corpus watch and SIGHUP, and readiness.

:func:`serve_corpus` is the app's lifespan: it runs the loop below for as long
as the app runs. :class:`AppState` holds what it serves, and answers for it:
whether the server is ready (:meth:`AppState.readiness`) and the context of a
request (:meth:`AppState.context`).

Reloads (``--watch`` once files settle, or ``SIGHUP``) build a new graph off the
event loop and swap it in whole: a request holds the graph it started with, so
it sees the old graph or the new one, never a mix. A reload that fails leaves
the old graph serving and says why (log, ``stats.reloadError``, ``/readyz``);
so does one that takes longer than ``reload_timeout``, which is abandoned (its
reading stopped) so that the next change can reload. Changes seen but not yet
served are counted from when they were seen: once older than
``max_staleness``, ``/readyz`` stops saying ready.

The watch follows the corpus folder by its path: a folder swapped in under
the same name (``mv corpus.new corpus``) is watched and read in its turn, and
a folder gone for a while is waited for.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import gc
import hashlib
import logging
import math
import os
import secrets
import signal
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import overload

import anyio
import anyio.to_thread
import watchfiles
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from starlette.types import Scope

from kgraph.api.context import Context
from kgraph.api.events import GraphChange, GraphEvents
from kgraph.budget import Budget, under
from kgraph.corpus.fingerprint import FingerprintElsewhere
from kgraph.errors import CorpusError, KgraphError, LoadCancelled
from kgraph.graph import KnowledgeGraph
from kgraph.graph.load import Loaded, load_corpus
from kgraph.graph.queries import link_count
from kgraph.graph.snapshot import fingerprint
from kgraph.graph.takeovers import (
    CopyTakeover,
    copy_takeovers,
    find_takeovers,
    record_takeovers,
)
from kgraph.middleware.observe import Metrics
from kgraph.settings import Settings

__all__ = [
    "AppState",
    "LoadReport",
    "Pending",
    "Served",
    "public_corpus",
    "public_text",
    "reload_on_hangup",
    "request_reload",
    "serve_corpus",
    "serve_graphs",
    "watch_corpus",
]

log = logging.getLogger("kgraph")

#: The reason of the reload asked for when the watch is armed again: it catches
#: up on what the watch may have missed, and is skipped when nothing changed.
REARMED = "the watch of the corpus folder was armed again"
# How often the watch checks that the corpus path is still the folder it watches.
_FOLDER_CHECK_SECONDS = 1.0
# The watcher's thread sees that it must stop (the server stopping, the folder
# replaced) only between two of its waits: 5 s by default, which every shutdown
# of a watching server waited out.
_WATCH_WAIT_MS = 500
# A watch that fails is armed again after 1 s, then 2, 4… up to 30 s while it
# keeps failing; one that ran this long before failing starts from 1 s again.
_RETRY_SECONDS = (1.0, 30.0)
_STEADY_SECONDS = 60.0
# Takeovers named one by one in the log; the rest are counted.
_LOGGED_TAKEOVERS = 10


@dataclass(frozen=True, slots=True)
class Served:
    """The graph being served, with its version (1 for the first load, +1 per reload)."""

    graph: KnowledgeGraph
    version: int
    warm: bool = False  # loaded from a snapshot
    #: The fingerprint of the corpus as listed for this graph (snapshots on, warm or cold).
    fingerprint: str | None = None
    #: Names this graph among every server's (see :attr:`identity`), when no fingerprint does.
    process: str = ""

    @property
    def identity(self) -> str:
        """A name of this graph that cursors carry: the same on every server process
        that read the same corpus with the same code (a hash of the corpus's
        fingerprint), else this process's own name and the version."""
        if self.fingerprint is not None:
            return hashlib.sha256(self.fingerprint.encode()).hexdigest()[:16]
        return f"{self.process}-{self.version}"


@dataclass
class LoadReport:
    """The last load or reload: when, how long, and why it failed if it did."""

    at: datetime.datetime
    seconds: float
    error: str | None = None


def _oldest(*times: float | None) -> float | None:
    known = [t for t in times if t is not None]
    return min(known) if known else None


@dataclass(slots=True)
class Pending:
    """Changes to the corpus (and reloads asked for) that the served graph does not show yet.

    Times are ``time.monotonic()``: ``since`` is the oldest change that no
    reload has begun to read, ``reading`` the oldest one the running reload
    reads. A reload that ends, served or refused (a corpus it cannot use, said
    in ``reload_error``), settles what it read; an abandoned one leaves it pending.

    >>> pending = Pending()
    >>> pending.seen(now=10.0); pending.begin(); pending.seen(now=12.0)
    >>> pending.oldest()
    10.0
    >>> pending.abandoned(); pending.oldest()
    10.0
    >>> pending.begin(); pending.settled(); pending.oldest() is None
    True
    """

    since: float | None = None
    reading: float | None = None

    def seen(self, now: float | None = None) -> None:
        """A change was seen (or a reload asked for) now."""
        if self.since is None:
            self.since = time.monotonic() if now is None else now

    def begin(self) -> None:
        """A reload begins: it reads every change seen so far."""
        self.reading = _oldest(self.reading, self.since)
        self.since = None

    def settled(self) -> None:
        """The reload ended: what it read is served, or was judged and refused."""
        self.reading = None

    def abandoned(self) -> None:
        """The reload was abandoned: what it read is pending again."""
        self.since = _oldest(self.reading, self.since)
        self.reading = None

    def oldest(self) -> float | None:
        """When the oldest change not served yet was seen, if there is one."""
        return _oldest(self.reading, self.since)


@dataclass(slots=True)
class AppState:
    """What the app holds: the graph once loaded, or why loading failed."""

    settings: Settings
    served: Served | None = None
    #: This process's own name, for graphs no fingerprint names (see :attr:`Served.identity`).
    process: str = field(default_factory=lambda: secrets.token_hex(6))
    #: Why the first load failed (nothing is served then).
    error: str | None = None
    #: The last reload, kept while its failure leaves an older graph serving.
    last_reload: LoadReport | None = None
    events: GraphEvents = field(default_factory=GraphEvents)
    metrics: Metrics = field(default_factory=Metrics)
    pending: Pending = field(default_factory=Pending)
    #: The budget of the last graph's snapshot being written (:func:`_save`).
    saving: Budget | None = None

    @property
    def graph(self) -> KnowledgeGraph | None:
        """The graph being served, if any."""
        return self.served.graph if self.served is not None else None

    @property
    def reload_error(self) -> str | None:
        """Why the last reload failed, while an older graph serves."""
        last = self.last_reload
        return last.error if last is not None else None

    def generation(self) -> tuple[int, str | None] | None:
        """What answers depend on besides the request: the graph's version and reload error.

        ``None`` while no graph is served.
        """
        if self.served is None:
            return None
        return self.served.version, self.reload_error

    def copy_takeovers(self) -> tuple[CopyTakeover, ...]:
        """The articles whose title or url a newly placed copy took over (see :mod:`takeovers`)."""
        return copy_takeovers(self.served.graph) if self.served is not None else ()

    def pending_seconds(self) -> float | None:
        """How long ago the oldest change not served yet was seen, if there is one."""
        oldest = self.pending.oldest()
        return None if oldest is None else time.monotonic() - oldest

    def readiness(self) -> tuple[int, dict[str, object]]:
        """``/readyz``'s answer: 200 with the graph's counts once one serves; 503 before,
        if loading failed, or stale.

        Stale: changes to the corpus seen longer than ``max_staleness`` ago are
        not served (reloads abandoned, or none coming); the counts say what serves.
        """
        settings = self.settings
        served = self.served
        if served is None:
            status = "failed" if self.error else "loading"
            return 503, {"status": status, "error": public_text(settings, self.error)}
        kg = served.graph
        body: dict[str, object] = {
            "status": "ready",
            "files": len(kg.files),
            "articles": len(kg.articles),
            "links": link_count(kg),
            "parse_errors": len(kg.diagnostics),
            "load_seconds": round(kg.load_seconds, 3),
            "warm_start": served.warm,
            "graph_version": served.version,
            "loaded_at": kg.loaded_at.isoformat(),
        }
        if self.reload_error is not None:
            # Still ready: the older graph serves; the detail says the newer one failed.
            body["reload_error"] = public_text(settings, self.reload_error)
        pending = self.pending_seconds()
        if pending is not None:
            body["pending_seconds"] = round(pending, 1)
        if takeovers := self.copy_takeovers():
            body["copy_takeovers"] = len(takeovers)
        if (stale := self.stale_reason()) is not None:
            body["status"] = "stale"
            body["error"] = public_text(settings, stale)
            return 503, body
        return 200, body

    def context(self, scope: Scope) -> Context:
        """The context of a request with ``scope``: the graph served at its start."""
        served = self.served
        settings = self.settings
        return Context(
            graph=served.graph if served is not None else None,
            load_error=public_text(settings, self.error),
            graph_version=served.version if served is not None else 0,
            graph_id=served.identity if served is not None else "",
            reload_error=public_text(settings, self.reload_error),
            events=self.events,
            scope=scope,
            corpus=public_corpus(settings) if settings.production else None,
        )

    def stale_reason(self) -> str | None:
        """Why the served graph is too old to call the server ready, if it is.

        It is when changes seen longer than ``max_staleness`` ago are not
        served: reloads abandoned, or not coming. A reload that failed on the
        corpus it read is no reason (the older graph serving is the decision).
        """
        age = self.pending_seconds()
        limit = self.settings.max_staleness
        if self.served is None or age is None or age <= limit:
            return None
        return (
            f"changes to the corpus seen {age:.0f} s ago are not served yet"
            f" (max_staleness is {limit:g} s): the graph of version {self.served.version}"
            " is out of date"
        )


def public_corpus(settings: Settings) -> str:
    """The corpus folder as responses name it: its name alone in production."""
    return settings.corpus.name if settings.production else str(settings.corpus)


@overload
def public_text(settings: Settings, text: str) -> str: ...
@overload
def public_text(settings: Settings, text: None) -> None: ...
def public_text(settings: Settings, text: str | None) -> str | None:
    """``text`` (an error) with the corpus's absolute path put as its name, in production.

    Paths under the corpus then read relative to it: a response tells no one
    where the server keeps its files.
    """
    if text is None or not settings.production:
        return text
    folder = settings.corpus
    for spelling in dict.fromkeys((str(folder.resolve()), str(folder.absolute()), str(folder))):
        if spelling not in (".", ""):
            text = text.replace(spelling, folder.name or "corpus")
    return text


@dataclass(frozen=True, slots=True)
class _Built:
    loaded: Loaded
    takeovers: tuple[CopyTakeover, ...]


def _build(
    settings: Settings,
    *,
    first: bool,
    previous: KnowledgeGraph | None,
    cancelled: threading.Event,
    fingerprinting: FingerprintElsewhere | None = None,
) -> _Built:
    """Load the graph (:func:`load_corpus`, prepared) and the copy takeovers since ``previous``.

    For the ``first`` load, a snapshot of an unchanged corpus is loaded instead
    of the files (a reload reads the files); ``fingerprinting``, the corpus's
    fingerprint being taken already, is the first load's (see :func:`load_corpus`).

    Raises
    ------
    LoadCancelled
        When ``cancelled`` is set before the graph is done.
    """
    loaded = load_corpus(
        settings.corpus,
        cache=settings.cache,
        cache_dir=settings.cache_dir,
        warm=first,
        workers=settings.workers,
        cancelled=cancelled.is_set,
        fingerprinting=fingerprinting,
    )
    kg = loaded.graph
    takeovers: tuple[CopyTakeover, ...] = ()
    if previous is not None:
        takeovers = find_takeovers(previous, kg)
        record_takeovers(kg, takeovers)
    if cancelled.is_set():
        # Abandoned: no freeze or collection on behalf of a graph nobody will serve.
        raise LoadCancelled("the load was abandoned")
    # The graph is hundreds of thousands of long-lived objects: out of the cyclic
    # collector's sight, its full collections stop costing requests 100 ms pauses.
    # On a reload, what the last freeze hid (the older graph, gone once no request
    # holds it) is given back first, so that its cycles are collected rather than
    # kept for good. The first load has nothing older, and leaves no cycles to
    # collect (none at the dev corpus or at 200k articles), where a full collection
    # of the new graph costs 0.2 s and 2.6 s: frozen as it is.
    if not first:
        gc.unfreeze()
        gc.collect()
    gc.freeze()
    return _Built(loaded=loaded, takeovers=takeovers)


def _log_takeovers(takeovers: tuple[CopyTakeover, ...], known: tuple[CopyTakeover, ...]) -> None:
    """Warn of each takeover new since the last graph (those known were told already)."""
    told = {(t.id, t.path) for t in known}
    fresh = [t for t in takeovers if (t.id, t.path) not in told]
    for takeover in fresh[:_LOGGED_TAKEOVERS]:
        log.warning(
            "article %d: the new file %s comes first of its copies and takes over its title"
            " %r -> %r and url %s -> %s (from %s)",
            takeover.id,
            takeover.path,
            takeover.previous_title,
            takeover.title,
            takeover.previous_url,
            takeover.url,
            takeover.previous_path,
        )
    if len(fresh) > _LOGGED_TAKEOVERS:
        log.warning("%d more articles taken over by new files", len(fresh) - _LOGGED_TAKEOVERS)


async def _load(
    state: AppState, *, first: bool, fingerprinting: FingerprintElsewhere | None = None
) -> Loaded | None:
    """Load (``first``) or reload the graph and swap it in; a failure keeps what serves.

    ``fingerprinting``: the corpus's fingerprint being taken, for the first load. A reload not
    done within ``reload_timeout`` is abandoned: its reading is stopped, its
    changes stay pending, the failure is reported. Returns the graph served
    when its snapshot is still to be written (:func:`_save`), else ``None``.
    """
    settings = state.settings
    started = time.perf_counter()
    now = datetime.datetime.now(datetime.UTC)
    previous = state.served
    stop = threading.Event()
    timeout = math.inf if first else settings.reload_timeout
    abandoned = False
    try:
        with anyio.move_on_after(timeout) as deadline:
            built = await anyio.to_thread.run_sync(
                lambda: _build(
                    settings,
                    first=first,
                    previous=previous.graph if previous is not None else None,
                    cancelled=stop,
                    fingerprinting=fingerprinting,
                ),
                abandon_on_cancel=True,
            )
        abandoned = deadline.cancelled_caught
    except Exception as err:
        reason = str(err) if isinstance(err, KgraphError) else f"unexpected error: {err!r}"
        _failed(state, first=first, reason=reason, started=started, now=now, err=err)
        return None
    finally:
        # Abandoned, or the server stops: the thread reads no further.
        stop.set()
    if abandoned:
        state.pending.abandoned()
        _failed(
            state,
            first=first,
            reason=f"the reload did not finish within {timeout:g} s (reload_timeout) and was"
            " abandoned; the next change or SIGHUP reloads again",
            started=started,
            now=now,
        )
        return None
    loaded = built.loaded
    kg = loaded.graph
    version = previous.version + 1 if previous is not None else 1
    state.served = Served(
        graph=kg,
        version=version,
        warm=loaded.warm,
        fingerprint=loaded.fingerprint,
        process=state.process,
    )
    state.error = None
    state.pending.settled()
    seconds = time.perf_counter() - started
    if not first:
        state.last_reload = LoadReport(at=now, seconds=seconds)
        _log_takeovers(built.takeovers, _known_takeovers(previous))
    links = link_count(kg)
    state.metrics.loaded(ok=True, seconds=seconds)
    state.metrics.serving(
        version=version,
        articles=len(kg.articles),
        links=links,
        files=len(kg.files),
        errors=len(kg.diagnostics),
    )
    state.events.publish(
        GraphChange(version=version, loaded_at=kg.loaded_at, articles=len(kg.articles), links=links)
    )
    log.info(
        "%s %s: version %d, %d articles, %d links, %d parse errors in %.2f s",
        "loaded" if first else "reloaded",
        settings.corpus,
        version,
        len(kg.articles),
        links,
        len(kg.diagnostics),
        seconds,
    )
    return loaded if loaded.unsaved else None


async def _save(state: AppState, loaded: Loaded) -> None:
    """Write the snapshot of a graph just served, after it went live.

    The next start is warm, this one does not wait for it; nor does the next
    reload wait for good on a cache folder that hangs, or on the suggestions
    below. The prepared graph is written first, then again with every wanted
    article's suggestions (all at once, kgraph.graph.meant: seconds on dev, most
    of an hour at a million articles): whole-corpus reports of broken links are
    ready at the next start; until then a report works out the few it shows.
    """
    timeout = state.settings.reload_timeout
    # No deadline: past reload_timeout it goes on, and writes when it is done;
    # cancelled when the server stops (the suggestions check it as they go),
    # which would otherwise wait for it to end, or when a newer graph's begins:
    # an older graph's, still running past reload_timeout, is no use any more
    # (and would hold that graph for as long as it ran).
    if state.saving is not None:
        state.saving.cancel()
    budget = state.saving = Budget(math.inf)

    def save() -> None:
        with under(budget):
            loaded.save(early=True)

    try:
        with anyio.move_on_after(timeout) as deadline:
            await anyio.to_thread.run_sync(save, abandon_on_cancel=True)
        if deadline.cancelled_caught:
            log.warning(
                "the graph snapshot is still being written after %g s (reload_timeout):"
                " reloads no longer wait for it",
                timeout,
            )
    except anyio.get_cancelled_exc_class():
        budget.cancel()
        raise
    except Exception:  # a snapshot is an optimisation: never the reason reloads stop
        log.exception("writing the graph snapshot failed")


def _known_takeovers(previous: Served | None) -> tuple[CopyTakeover, ...]:
    return copy_takeovers(previous.graph) if previous is not None else ()


def _failed(
    state: AppState,
    *,
    first: bool,
    reason: str,
    started: float,
    now: datetime.datetime,
    err: BaseException | None = None,
) -> None:
    """Report a load or reload that failed; what serves keeps serving."""
    settings = state.settings
    seconds = time.perf_counter() - started
    state.metrics.loaded(ok=False, seconds=seconds)
    unexpected = err is not None and not isinstance(err, KgraphError)
    if first:
        state.error = reason
        log.error("loading %s failed: %s", settings.corpus, reason, exc_info=unexpected)
        return
    if err is not None:
        state.pending.settled()  # the corpus was read and refused: no longer pending
    state.last_reload = LoadReport(at=now, seconds=seconds, error=reason)
    log.error(
        "reloading %s failed, the graph of version %d keeps serving: %s",
        settings.corpus,
        state.served.version if state.served else 0,
        reason,
        exc_info=unexpected,
    )


async def _unchanged(state: AppState) -> bool:
    """Whether the corpus is as the served graph read it (by its fingerprint, when known)."""
    served = state.served
    if served is None or served.fingerprint is None:
        return False
    try:
        now = await anyio.to_thread.run_sync(
            lambda: fingerprint(state.settings.corpus), abandon_on_cancel=True
        )
    except (OSError, CorpusError):
        return False
    return now == served.fingerprint


async def serve_graphs(
    state: AppState,
    requests: MemoryObjectReceiveStream[str],
    *,
    fingerprinting: FingerprintElsewhere | None = None,
    after_load: Callable[[], Awaitable[None]] | None = None,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """The first load, then one reload per burst of requests (never two at once).

    ``fingerprinting``: the corpus's fingerprint being taken already, for
    the first load (see :func:`~kgraph.graph.load.load_corpus`). ``after_load``: awaited after each
    load or reload, served or failed, once nothing of it runs any more but its
    snapshot, written after it (the master of serving processes forks them
    then, see :mod:`kgraph.processes`).
    """
    task_status.started()
    unsaved = await _load(state, first=True, fingerprinting=fingerprinting)
    if after_load is not None:
        await after_load()
    if unsaved is not None:
        await _save(state, unsaved)
    async with requests:
        async for reason in requests:
            reasons = {reason}
            # Requests that came while a reload ran are served by the next one.
            while True:
                try:
                    reasons.add(requests.receive_nowait())
                except anyio.WouldBlock:
                    break
            state.pending.seen()  # a SIGHUP's request too
            state.pending.begin()
            # A watch armed again asks to catch up: nothing to do when nothing changed.
            if reasons == {REARMED} and await _unchanged(state):
                log.info("%s is unchanged since it was read: no reload", state.settings.corpus)
                state.pending.settled()
                continue
            log.info("reloading %s: %s", state.settings.corpus, "; ".join(sorted(reasons)))
            unsaved = await _load(state, first=False)
            if after_load is not None:
                await after_load()
            if unsaved is not None:
                await _save(state, unsaved)


@contextlib.asynccontextmanager
async def serve_corpus(
    state: AppState,
    *,
    fingerprinting: FingerprintElsewhere | None = None,
    after_load: Callable[[], Awaitable[None]] | None = None,
) -> AsyncIterator[None]:
    """Serve the corpus of ``state`` while the block runs: the app's lifespan.

    The first load starts at once (the app answers meanwhile, ``/readyz`` says
    503); reloads follow SIGHUP, and the corpus watch with ``--watch``.
    ``fingerprinting`` and ``after_load`` as :func:`serve_graphs` takes them.
    """
    send, receive = anyio.create_memory_object_stream[str](1)
    # Both ends closed when the app stops, even while the first load still runs.
    async with send, receive, anyio.create_task_group() as tasks:
        await tasks.start(
            functools.partial(serve_graphs, fingerprinting=fingerprinting, after_load=after_load),
            state,
            receive,
        )
        tasks.start_soon(reload_on_hangup, send)
        if state.settings.watch:
            tasks.start_soon(watch_corpus, state, send)
        yield
        tasks.cancel_scope.cancel()


def request_reload(reload: MemoryObjectSendStream[str], reason: str) -> None:
    # When a reload is already due, it will see this change too.
    with contextlib.suppress(anyio.WouldBlock):
        reload.send_nowait(reason)


def _is_corpus_change(change: watchfiles.Change, path: str) -> bool:
    """A change that can matter to the graph: an article file, or a folder (no suffix)."""
    name = Path(path).name
    if name.startswith("."):
        return False
    return name.endswith(".md") or not Path(name).suffix


def _identity(folder: Path) -> tuple[int, int] | None:
    """The folder at ``folder`` now, as ``(st_dev, st_ino)``; ``None`` when it is missing."""
    try:
        status = os.stat(folder)
    except OSError:
        return None
    return (status.st_dev, status.st_ino)


async def _follow_folder(folder: Path, identity: tuple[int, int], replaced: anyio.Event) -> None:
    """Set ``replaced`` once ``folder`` is no longer the folder of ``identity`` (or is gone)."""
    while True:
        await anyio.sleep(_FOLDER_CHECK_SECONDS)
        if _identity(folder) != identity:
            log.info("the corpus folder %s was replaced or removed", folder)
            replaced.set()
            return


def _reason(err: BaseException) -> str:
    """What went wrong, looking into exception groups (the watch's task group makes them)."""
    while isinstance(err, BaseExceptionGroup) and err.exceptions:
        err = err.exceptions[0]
    return str(err) or type(err).__name__


async def watch_corpus(state: AppState, reload: MemoryObjectSendStream[str]) -> None:
    """Request a reload after each settled burst of changes, for as long as the app runs.

    The watch is armed again whenever it ends or fails (the watcher's own
    error), and whenever the corpus path names another folder than the one
    watched (a folder swapped in under its name, or removed and made again); a
    missing folder is waited for. A reload then catches up on what it may have
    missed, unless the corpus is unchanged. A watch failing again and again is
    armed again less and less often (1 s, 2 s, 4 s … 30 s).
    """
    settings = state.settings
    settle = settings.watch_settle_ms
    armed_before = False
    retry = _RETRY_SECONDS[0]
    missing = False
    while True:
        identity = _identity(settings.corpus)
        if identity is None:
            if not missing:
                log.warning("the corpus folder %s is missing: waiting for it", settings.corpus)
                missing = True
            await anyio.sleep(_FOLDER_CHECK_SECONDS)
            continue
        missing = False
        armed_at = time.monotonic()
        replaced = anyio.Event()
        try:
            if armed_before:
                state.pending.seen()
                request_reload(reload, REARMED)
            log.info("watching %s for changes", settings.corpus)
            armed_before = True
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(_follow_folder, settings.corpus, identity, replaced)
                async for changes in watchfiles.awatch(
                    settings.corpus,
                    watch_filter=_is_corpus_change,
                    step=settle,
                    debounce=max(settle * 10, 1_600),
                    stop_event=replaced,
                    rust_timeout=_WATCH_WAIT_MS,
                ):
                    state.pending.seen()
                    request_reload(reload, f"{len(changes)} changed paths")
                tasks.cancel_scope.cancel()
            if replaced.is_set():
                retry = _RETRY_SECONDS[0]
                continue
            failure = "the watch ended"
        except Exception as err:
            failure = f"watching failed ({_reason(err)})"
        if time.monotonic() - armed_at > _STEADY_SECONDS:
            retry = _RETRY_SECONDS[0]
        log.warning("%s: %s; arming it again in %g s", settings.corpus, failure, retry)
        await anyio.sleep(retry)
        retry = min(retry * 2, _RETRY_SECONDS[1])


async def reload_on_hangup(reload: MemoryObjectSendStream[str]) -> None:
    with anyio.open_signal_receiver(signal.SIGHUP) as signals:
        async for _ in signals:
            request_reload(reload, "SIGHUP")

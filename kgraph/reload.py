"""The graphs the app serves: the first load, reloads, the corpus watch and SIGHUP.

Reloads (``--watch`` once files settle, or ``SIGHUP``) build a new graph off the
event loop and swap it in whole: a request holds the graph it started with, so
it sees the old graph or the new one, never a mix. A reload that fails leaves
the old graph serving and says why (log, ``stats.reloadError``, ``/readyz``).
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import logging
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import anyio.to_thread
import watchfiles
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from kgraph.api.events import GraphChange, GraphEvents
from kgraph.errors import KgraphError
from kgraph.graph import KnowledgeGraph, load_graph, queries
from kgraph.graph.curation import curation_report
from kgraph.graph.snapshot import load_or_build, save_snapshot
from kgraph.observe import Metrics
from kgraph.settings import Settings

__all__ = [
    "AppState",
    "LoadReport",
    "Served",
    "reload_on_hangup",
    "request_reload",
    "serve_graphs",
    "watch_corpus",
]

log = logging.getLogger("kgraph")


@dataclass(frozen=True, slots=True)
class Served:
    """The graph being served, with its version (1 for the first load, +1 per reload)."""

    graph: KnowledgeGraph
    version: int
    warm: bool = False  # loaded from a snapshot


@dataclass
class LoadReport:
    """The last load or reload: when, how long, and why it failed if it did."""

    at: datetime.datetime
    seconds: float
    error: str | None = None


@dataclass(slots=True)
class AppState:
    """What the app holds: the graph once loaded, or why loading failed."""

    settings: Settings
    served: Served | None = None
    #: Why the first load failed (nothing is served then).
    error: str | None = None
    #: The last reload, kept while its failure leaves an older graph serving.
    last_reload: LoadReport | None = None
    events: GraphEvents = field(default_factory=GraphEvents)
    metrics: Metrics = field(default_factory=Metrics)

    @property
    def graph(self) -> KnowledgeGraph | None:
        """The graph being served, if any."""
        return self.served.graph if self.served is not None else None

    @property
    def reload_error(self) -> str | None:
        """Why the last reload failed, while an older graph serves."""
        last = self.last_reload
        return last.error if last is not None else None


def _build(settings: Settings, *, first: bool) -> tuple[KnowledgeGraph, str | None, bool]:
    """Load the graph and build what the first queries would otherwise wait for.

    For the ``first`` load, a snapshot of an unchanged corpus is loaded instead
    of the files (a reload reads the files). Returns the graph, the corpus
    fingerprint taken before a build (for the snapshot to be written once
    serving; ``None`` when there is nothing to write) and whether the graph
    came from a snapshot.
    """
    print_: str | None = None
    if settings.cache:
        kg, print_ = load_or_build(
            settings.corpus, workers=settings.workers, cache_dir=settings.cache_dir, read=first
        )
    else:
        kg = load_graph(settings.corpus, workers=settings.workers)
    warm = settings.cache and print_ is None
    curation_report(kg)
    queries.title_words(kg)  # the search index, so that the first search does not wait
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
    return kg, print_, warm


async def _load(state: AppState, *, first: bool) -> None:
    """Load (``first``) or reload the graph and swap it in; a failure keeps what serves."""
    settings = state.settings
    started = time.perf_counter()
    now = datetime.datetime.now(datetime.UTC)
    try:
        kg, unsaved, warm = await anyio.to_thread.run_sync(
            lambda: _build(settings, first=first), abandon_on_cancel=True
        )
    except Exception as err:
        reason = str(err) if isinstance(err, KgraphError) else f"unexpected error: {err!r}"
        seconds = time.perf_counter() - started
        state.metrics.loaded(ok=False, seconds=seconds)
        if first:
            state.error = reason
            log.error(
                "loading %s failed: %s",
                settings.corpus,
                reason,
                exc_info=not isinstance(err, KgraphError),
            )
        else:
            state.last_reload = LoadReport(at=now, seconds=seconds, error=reason)
            log.error(
                "reloading %s failed, the graph of version %d keeps serving: %s",
                settings.corpus,
                state.served.version if state.served else 0,
                reason,
                exc_info=not isinstance(err, KgraphError),
            )
        return
    version = state.served.version + 1 if state.served is not None else 1
    state.served = Served(graph=kg, version=version, warm=warm)
    state.error = None
    seconds = time.perf_counter() - started
    if not first:
        state.last_reload = LoadReport(at=now, seconds=seconds)
    links = kg.graph.number_of_edges()
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
    if unsaved is not None:
        # After going live: the next start is warm, this one does not wait for it.
        try:
            await anyio.to_thread.run_sync(
                lambda: save_snapshot(
                    kg, settings.corpus, fingerprint=unsaved, cache_dir=settings.cache_dir
                ),
                abandon_on_cancel=True,
            )
        except Exception:  # a snapshot is an optimisation: never the reason reloads stop
            log.exception("writing the graph snapshot failed")


async def serve_graphs(
    state: AppState,
    requests: MemoryObjectReceiveStream[str],
    *,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """The first load, then one reload per burst of requests (never two at once)."""
    task_status.started()
    await _load(state, first=True)
    async with requests:
        async for reason in requests:
            # Requests that came while a reload ran are served by the next one.
            while True:
                try:
                    requests.receive_nowait()
                except anyio.WouldBlock:
                    break
            log.info("reloading %s: %s", state.settings.corpus, reason)
            await _load(state, first=False)


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


async def watch_corpus(state: AppState, reload: MemoryObjectSendStream[str]) -> None:
    """Request a reload after each settled burst of changes, for as long as the app runs.

    The watch is armed again whenever it ends or fails (the folder removed and
    made again, the watcher's own error): a reload then catches up on what it
    may have missed.
    """
    settings = state.settings
    settle = settings.watch_settle_ms
    armed_before = False
    while True:
        try:
            if armed_before:
                request_reload(reload, "the watch of the corpus folder was armed again")
            log.info("watching %s for changes", settings.corpus)
            armed_before = True
            async for changes in watchfiles.awatch(
                settings.corpus,
                watch_filter=_is_corpus_change,
                step=settle,
                debounce=max(settle * 10, 1_600),
            ):
                request_reload(reload, f"{len(changes)} changed paths")
        except Exception as err:
            log.warning("watching %s failed (%s): trying again in 1 s", settings.corpus, err)
        await anyio.sleep(1)


async def reload_on_hangup(reload: MemoryObjectSendStream[str]) -> None:
    with anyio.open_signal_receiver(signal.SIGHUP) as signals:
        async for _ in signals:
            request_reload(reload, "SIGHUP")

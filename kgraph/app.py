"""The HTTP application: ``create_app(settings)`` returns a Starlette app.

The lifespan starts loading the corpus in a worker thread and the app answers
at once: ``/healthz`` says the process is alive, ``/readyz`` says 503 until the
graph is built, then 200 with its counts; ``/graphql`` serves the API (POST
JSON, GET for queries, GraphiQL for a browser). Nothing happens at import time.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from kgraph import __version__
from kgraph.api import Context, create_schema
from kgraph.api.guard import RequestGuard
from kgraph.errors import KgraphError
from kgraph.graph import KnowledgeGraph, load_graph
from kgraph.graph.curation import curation_report
from kgraph.graph.snapshot import fingerprint, load_snapshot, save_snapshot
from kgraph.settings import Settings

__all__ = ["AppState", "create_app"]

log = logging.getLogger("kgraph")


@dataclass(slots=True)
class AppState:
    """What the app holds: the graph once loaded, or why loading failed."""

    settings: Settings
    graph: KnowledgeGraph | None = None
    error: str | None = None
    #: Whether the graph came from a snapshot (a warm start) rather than the files.
    warm: bool = False


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.kgraph
    return state


async def healthz(request: Request) -> JSONResponse:
    """The process is alive (whether or not the graph is loaded)."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """200 with the graph's counts once it is loaded; 503 before (or if loading failed)."""
    state = _state(request)
    if state.graph is None:
        status = "failed" if state.error else "loading"
        return JSONResponse({"status": status, "error": state.error}, status_code=503)
    kg = state.graph
    return JSONResponse(
        {
            "status": "ready",
            "files": len(kg.files),
            "articles": len(kg.articles),
            "links": kg.graph.number_of_edges(),
            "parse_errors": len(kg.diagnostics),
            "load_seconds": round(kg.load_seconds, 3),
            "warm_start": state.warm,
        }
    )


async def index(request: Request) -> JSONResponse:
    """What is served: the corpus and its summary figures."""
    state = _state(request)
    body: dict[str, object] = {"kgraph": __version__, "corpus": str(state.settings.corpus)}
    if state.graph is not None:
        body["summary"] = curation_report(state.graph).summary.as_dict()
    return JSONResponse(body, status_code=200 if state.graph is not None else 503)


def _load_and_warm(settings: Settings) -> tuple[KnowledgeGraph, str | None]:
    """Load the graph and build what the first queries would otherwise wait for.

    With the cache on, a snapshot of an unchanged corpus is loaded instead of
    the files; otherwise the graph is built and the corpus fingerprint taken
    before the build is returned, for the snapshot to be written once serving.
    """
    kg: KnowledgeGraph | None = None
    print_: str | None = None
    if settings.cache:
        print_ = fingerprint(settings.corpus)
        kg = load_snapshot(settings.corpus, settings.cache_dir, fingerprint=print_)
        if kg is not None:
            log.info("warm start: the graph of %s from its snapshot", settings.corpus)
            print_ = None
    if kg is None:
        kg = load_graph(settings.corpus, workers=settings.workers)
    curation_report(kg)
    return kg, print_


async def _load(state: AppState) -> None:
    settings = state.settings
    try:
        kg, unsaved = await anyio.to_thread.run_sync(
            lambda: _load_and_warm(settings), abandon_on_cancel=True
        )
    except KgraphError as err:
        state.error = str(err)
        log.error("loading %s failed: %s", settings.corpus, err)
        return
    state.warm = unsaved is None and settings.cache
    state.graph = kg
    log.info(
        "loaded %s: %d articles, %d links, %d parse errors in %.2f s",
        settings.corpus,
        len(kg.articles),
        kg.graph.number_of_edges(),
        len(kg.diagnostics),
        kg.load_seconds,
    )
    if unsaved is not None:
        # After going ready: the next start is warm, this one does not wait for it.
        await anyio.to_thread.run_sync(
            lambda: save_snapshot(
                kg, settings.corpus, fingerprint=unsaved, cache_dir=settings.cache_dir
            ),
            abandon_on_cancel=True,
        )


class _GraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view, handing each request the graph of that moment."""

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        state: AppState = request.app.state.kgraph
        return Context(graph=state.graph, load_error=state.error)


def create_app(settings: Settings) -> Starlette:
    """Build the app serving the corpus of ``settings``."""
    state = AppState(settings=settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_load, state)
            yield
            tasks.cancel_scope.cancel()

    graphql = _GraphQL(
        create_schema(),
        graphql_ide="graphiql" if settings.ide else None,
        allow_queries_via_get=True,
    )
    app = Starlette(
        routes=[
            Route("/", index),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", graphql, methods=["GET", "POST"]),
        ],
        middleware=[Middleware(RequestGuard, path="/graphql")],
        lifespan=lifespan,
    )
    app.state.kgraph = state
    return app

"""The HTTP application: ``create_app(settings)`` returns a Starlette app.

The routes, composed with their middlewares and the serving loop as the
lifespan. The lifespan starts loading the corpus in a worker thread and the
app answers at once: ``/healthz`` says the process is alive, ``/readyz`` says
503 until the graph is built, then 200 with its counts; ``/graphql`` serves the
API (POST JSON, GET for queries, GraphiQL for a browser, subscriptions over
graphql-transport-ws); ``/metrics`` the Prometheus metrics. Nothing happens at
import time.

Loading, reloading, watching the corpus and readiness live in
:mod:`kgraph.serving`; the view of ``/graphql`` in :mod:`kgraph.api.view`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from kgraph import __version__
from kgraph.api import create_schema
from kgraph.api.cache import Answers, ResponseCache
from kgraph.api.errors import refusal
from kgraph.api.persisted import PersistedQueries
from kgraph.api.view import GraphQLView
from kgraph.corpus.fingerprint import FingerprintElsewhere
from kgraph.graph.curation import curation_report
from kgraph.middleware.admission import Admission
from kgraph.middleware.guard import Deadline, RequestGuard
from kgraph.middleware.headers import CrossOrigin, SecurityHeaders
from kgraph.middleware.observe import Observe
from kgraph.middleware.ready import UntilReady
from kgraph.middleware.sockets import SocketGuard
from kgraph.serving import AppState, public_corpus, serve_corpus
from kgraph.settings import Settings

__all__ = ["Serving", "create_app"]

#: Answers shorter than this go as they are: gzip would save little, and a
#: small answer is most of the requests.
GZIP_MINIMUM_BYTES = 1024
#: zlib's default: a topicGraph answer (170 kB) to 36 kB in a couple of
#: milliseconds; 9 (Starlette's default) saves little more for several times the work.
GZIP_LEVEL = 6


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.kgraph
    return state


async def healthz(request: Request) -> JSONResponse:
    """The process is alive (whether or not the graph is loaded)."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """200 with the graph's counts once it is loaded; 503 before, if loading failed, or stale."""
    status, body = _state(request).readiness()
    return JSONResponse(body, status_code=status)


async def index(request: Request) -> Response:
    """The explorer page for browsers; for other clients, what is served and its summary figures."""
    if "text/html" in request.headers.get("accept", ""):
        web: StaticFiles = request.app.state.web
        return await web.get_response("index.html", request.scope)
    state = _state(request)
    body: dict[str, object] = {"kgraph": __version__, "corpus": public_corpus(state.settings)}
    kg = state.graph
    if kg is not None:
        body["summary"] = curation_report(kg).summary.as_dict()
    return JSONResponse(body, status_code=200 if kg is not None else 503)


async def http_error(request: Request, error: Exception) -> Response:
    """Starlette's own errors (404, 405) as JSON, like every other error kgraph answers."""
    if not isinstance(error, StarletteHTTPException):
        raise error
    return JSONResponse(
        refusal(error.status_code, error.detail),
        status_code=error.status_code,
        headers=error.headers,
    )


async def metrics(request: Request) -> Response:
    """The Prometheus metrics of this process."""
    return Response(
        _state(request).metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
    )


#: What gives the app its graphs while it runs (part of its lifespan): by
#: default :func:`kgraph.serving.serve_corpus`, which loads, reloads and watches.
Serving = Callable[[AppState], AbstractAsyncContextManager[None]]


def create_app(
    settings: Settings,
    *,
    fingerprinting: FingerprintElsewhere | None = None,
    serving: Serving | None = None,
) -> Starlette:
    """Build the app serving the corpus of ``settings``.

    ``fingerprinting``: the corpus's fingerprint being taken already, by a
    child process that ``kgraph serve`` starts before its imports
    (:func:`kgraph.snapshot_files.fingerprint_ahead`), for the first load.
    ``serving``: what gives the app its
    graphs instead of loading them itself (a serving process of ``--processes``
    serves the graph its master loaded, see :mod:`kgraph.processes`).
    """
    state = AppState(settings=settings)
    schema = create_schema(
        introspection=settings.introspection, suggestions=not settings.production
    )

    # The fingerprint handed over is the folder as it was at startup: for the first load only.
    unused = [fingerprinting]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            graphs = (
                serving(state)
                if serving is not None
                else serve_corpus(state, fingerprinting=unused.pop() if unused else None)
            )
            async with graphs:
                yield
        finally:
            # uvicorn re-raises the signal that stopped it: no exit handler runs after this.
            schema.validator.close()

    graphql = GraphQLView(
        schema,
        context=state.context,
        graphql_ide="graphiql" if settings.ide else None,
        allow_queries_via_get=True,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
        # Browsers apply no CORS to websockets: pages of the allowed origins may subscribe.
        allowed_origins=[o for o in settings.cors_origins if o != "*"],
    )
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES, compresslevel=GZIP_LEVEL),
        Middleware(Observe, metrics=state.metrics),
        Middleware(Admission, limit=settings.limit_concurrency),
    ]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CrossOrigin,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["content-type", "x-request-id", "traceparent"],
                # A page may read its request's id, to quote it when something fails.
                expose_headers=["x-request-id"],
                max_age=600,
            )
        )
    middleware.append(
        Middleware(
            RequestGuard,
            path="/graphql",
            body_timeout=settings.header_timeout,
        )
    )
    middleware.append(Middleware(SocketGuard, per_client=settings.client_subscriptions))
    # The answers of repeated queries (kgraph.api.cache), for this app alone.
    answers = Answers()
    # The explorer (kgraph/web/): a page of plain files that only calls /graphql.
    web = StaticFiles(packages=[("kgraph", "web")])
    app = Starlette(
        routes=[
            # First: nearly every request is one, and routes are tried in order.
            Route(
                "/graphql",
                UntilReady(
                    PersistedQueries(
                        ResponseCache(
                            Deadline(graphql, timeout=settings.request_timeout),
                            state.generation,
                            answers,
                        )
                    ),
                    state,
                ),
                methods=["GET", "POST"],
            ),
            Route("/", index),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            WebSocketRoute("/graphql", graphql),
            Mount("/static", web, name="static"),
        ],
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={StarletteHTTPException: http_error},
    )
    app.state.kgraph = state
    app.state.web = web
    app.state.answers = answers
    return app

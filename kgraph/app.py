"""The HTTP application: ``create_app(settings)`` returns a Starlette app.

The lifespan starts loading the corpus in a worker thread and the app answers
at once: ``/healthz`` says the process is alive, ``/readyz`` says 503 until the
graph is built, then 200 with its counts; ``/graphql`` serves the API (POST
JSON, GET for queries, GraphiQL for a browser, subscriptions over
graphql-transport-ws); ``/metrics`` the Prometheus metrics. Nothing happens at
import time.

Loading, reloading and watching the corpus live in :mod:`kgraph.reload`.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, overload

import anyio
import anyio.to_thread
from cross_web import HTTPException
from graphql import GraphQLError, OperationType, get_operation_ast, parse
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry import UNSET
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from kgraph import __version__
from kgraph.admission import Admission
from kgraph.api import Context, create_schema
from kgraph.api.cache import Answers, ResponseCache
from kgraph.api.errors import OPERATION_RESOLUTION_FAILURE, SERVICE_UNAVAILABLE, refusal
from kgraph.api.guard import Deadline, RequestGuard
from kgraph.api.limits import MAX_RESPONSE_BYTES
from kgraph.api.media import GRAPHQL_RESPONSE, media_type
from kgraph.api.persisted import PersistedQueries
from kgraph.api.sockets import SocketGuard
from kgraph.corpus import CorpusListing
from kgraph.graph.curation import curation_report
from kgraph.headers import CrossOrigin, SecurityHeaders
from kgraph.observe import Observe
from kgraph.reload import AppState, reload_on_hangup, serve_graphs, watch_corpus
from kgraph.settings import Settings

__all__ = ["create_app"]

log = logging.getLogger("kgraph")

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
    """200 with the graph's counts once it is loaded; 503 before, if loading failed, or stale.

    Stale: changes to the corpus seen longer than ``max_staleness`` ago are not
    served (reloads abandoned, or none coming); the counts say what serves.
    """
    state = _state(request)
    settings = state.settings
    served = state.served
    if served is None:
        status = "failed" if state.error else "loading"
        error = public_text(settings, state.error)
        return JSONResponse({"status": status, "error": error}, status_code=503)
    kg = served.graph
    body: dict[str, object] = {
        "status": "ready",
        "files": len(kg.files),
        "articles": len(kg.articles),
        "links": kg.graph.number_of_edges(),
        "parse_errors": len(kg.diagnostics),
        "load_seconds": round(kg.load_seconds, 3),
        "warm_start": served.warm,
        "graph_version": served.version,
        "loaded_at": kg.loaded_at.isoformat(),
    }
    if state.reload_error is not None:
        # Still ready: the older graph serves; the detail says the newer one failed.
        body["reload_error"] = public_text(settings, state.reload_error)
    pending = state.pending_seconds()
    if pending is not None:
        body["pending_seconds"] = round(pending, 1)
    if takeovers := state.copy_takeovers():
        body["copy_takeovers"] = len(takeovers)
    if (stale := state.stale_reason()) is not None:
        body["status"] = "stale"
        body["error"] = public_text(settings, stale)
        return JSONResponse(body, status_code=503)
    return JSONResponse(body)


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


def _is_subscription(query: str, operation_name: str | None) -> bool:
    try:
        document = parse(query)
    except GraphQLError:
        return False  # the GraphQL layer reports the syntax error
    operation = get_operation_ast(document, operation_name)
    return operation is not None and operation.operation is OperationType.SUBSCRIPTION


#: Where, in a request's ASGI scope, the view notes an answer's media type and
#: whether the request failed before execution (answered 400 in GraphQL-over-HTTP's type).
_ANSWER_KEY = "kgraph.answer"


class _GraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view, handing each request the graph of that moment, and
    GraphiQL from kgraph's own files to a browser opening ``/graphql``.

    Its refusals (no query, an unknown operation name…) are JSON with a code
    like every other error; an answer takes the media type the client accepts
    (:mod:`kgraph.api.media`).
    """

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        if isinstance(request, WebSocket):
            return await super().run(request, context, root_value)
        try:
            response: Response = await super().run(request, context, root_value)
        except HTTPException as err:
            unknown = isinstance(err.__cause__, CannotGetOperationTypeError)
            code = OPERATION_RESOLUTION_FAILURE if unknown else None
            return JSONResponse(refusal(err.status_code, err.reason, code), err.status_code)
        answered = request.scope.get(_ANSWER_KEY)
        if answered is not None:
            media, failed = answered
            response.headers["content-type"] = media
            # The same URL answers JSON or GraphQL-over-HTTP's type: caches must tell them apart.
            response.headers["vary"] = "Accept"
            if failed:
                response.status_code = 400
        return response

    async def process_result(self, request: Request, result: Any) -> GraphQLHTTPResponse:
        answer = await super().process_result(request, result)
        media = media_type(request.headers.get("accept"))
        # Failed before execution: no data, and no error of a field (they have a path).
        failed = (
            media == GRAPHQL_RESPONSE
            and result.data is None
            and bool(result.errors)
            and not any(error.path for error in result.errors)
        )
        if failed:
            answer.pop("data", None)
        request.scope[_ANSWER_KEY] = (media, failed)
        return answer

    async def execute_operation(
        self,
        request: Request,
        request_adapter: Any,
        request_data: Any,
        context: Context,
        root_value: None,
        sub_response: Any,
    ) -> Any:
        query = getattr(request_data, "query", None)
        # Only a query naming a subscription is parsed here (twice, then).
        if (
            isinstance(query, str)
            and "subscription" in query
            and _is_subscription(query, request_data.operation_name)
        ):
            raise HTTPException(
                400,
                "subscriptions are served over WebSocket (graphql-transport-ws) at"
                " /graphql, not over HTTP",
            )
        return await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )

    def encode_json(self, data: object) -> str | bytes:
        encoded = super().encode_json(data)
        if len(encoded) <= MAX_RESPONSE_BYTES:
            return encoded
        # The cost limit keeps honest answers far below this (2.4 MB at most as
        # measured); past it, a client asked for the same data many times over.
        log.warning("refused an answer of %d bytes", len(encoded))
        error = {
            "message": f"the answer would be {len(encoded):,} bytes, over the limit of"
            f" {MAX_RESPONSE_BYTES:,}: ask for fewer fields, aliases or smaller pages",
            "extensions": {"code": "RESPONSE_TOO_LARGE"},
        }
        return json.dumps({"data": None, "errors": [error]})

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL from the app's own files (the bundle ``make web`` builds), not from a CDN."""
        web: StaticFiles = request.app.state.web
        return await web.get_response("graphiql.html", request.scope)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return _context(request.app.state.kgraph, request.scope)


def _context(state: AppState, scope: Scope) -> Context:
    """The context of a request with ``scope``: the graph served at its start."""
    served = state.served
    settings = state.settings
    return Context(
        graph=served.graph if served is not None else None,
        load_error=public_text(settings, state.error),
        graph_version=served.version if served is not None else 0,
        reload_error=public_text(settings, state.reload_error),
        events=state.events,
        scope=scope,
        corpus=public_corpus(settings) if settings.production else None,
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


class _UntilReady:
    """``/graphql`` over HTTP answers 503 until a graph is served, so that a load
    balancer passes the request to a replica that is ready (websockets go through:
    subscriptions wait for graphs anyway)."""

    def __init__(self, app: ASGIApp, state: AppState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.state.served is None:
            reason = (
                f"the graph failed to load: {self.state.error}"
                if self.state.error
                else "the graph is still loading: retry when /readyz answers 200"
            )
            response = JSONResponse(
                refusal(503, reason, SERVICE_UNAVAILABLE),
                status_code=503,
                headers={"retry-after": "1"},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def create_app(settings: Settings, *, listing: CorpusListing | None = None) -> Starlette:
    """Build the app serving the corpus of ``settings``.

    ``listing``: the corpus folder listed already (``kgraph serve`` lists it to
    refuse an empty one before binding its port); the first load reads it
    rather than listing the folder again.
    """
    state = AppState(settings=settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        send, receive = anyio.create_memory_object_stream[str](1)
        async with anyio.create_task_group() as tasks, send:
            await tasks.start(functools.partial(serve_graphs, listing=listing), state, receive)
            tasks.start_soon(reload_on_hangup, send)
            if settings.watch:
                tasks.start_soon(watch_corpus, state, send)
            yield
            tasks.cancel_scope.cancel()

    graphql = _GraphQL(
        create_schema(introspection=settings.introspection, suggestions=not settings.production),
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
                _UntilReady(
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

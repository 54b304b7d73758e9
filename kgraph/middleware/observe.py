"""What a running server tells about itself: Prometheus metrics and one log line per request.

:class:`Metrics` holds the app's own registry (no global one: two apps in one
process count apart), with the process's figures and the build's. Under
``kgraph serve --processes N`` (N > 1) prometheus-client's multiprocess mode
holds the values (``PROMETHEUS_MULTIPROC_DIR``, set by the master before
prometheus-client is imported): ``/metrics`` then sums the counters and
histograms of every serving process, past ones included, and takes each graph
gauge from the process that set it last. :class:`Observe`
is the ASGI middleware that gives every HTTP request its id (the client's
``X-Request-ID``, the trace id of its ``traceparent``, or a new one; returned in
``X-Request-ID``), times it, labels it by GraphQL operation (the root field the
schema extension notes through the ASGI scope, see :data:`kgraph.scope.SCOPE_KEY`) or by
route, counts it and logs it.
"""

from __future__ import annotations

import logging
import os
import platform
import re
import time
import uuid
from importlib.metadata import version
from typing import Any, Final

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
    multiprocess,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kgraph import __version__
from kgraph.logs import REQUEST_ID
from kgraph.scope import SCOPE_KEY

__all__ = ["MULTIPROCESS_DIR", "REQUEST_ID_HEADER", "Metrics", "Observe", "request_id"]

access_log = logging.getLogger("kgraph.access")

_ROUTES = frozenset({"/", "/graphql", "/healthz", "/readyz", "/metrics"})
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: The header a request's id comes in (nginx's ``$request_id``) and goes back out in.
REQUEST_ID_HEADER = b"x-request-id"
#: What a client's request id may be: short, and nothing a log line or header could be forged with.
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
#: W3C trace context: version, trace id, parent id, flags (the trace id is the request's).
_TRACEPARENT = re.compile(rb"[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}")


def request_id(headers: list[tuple[bytes, bytes]]) -> str:
    r"""The id of a request: its ``X-Request-ID``, else its ``traceparent``'s trace id, else new.

    >>> request_id([(b"x-request-id", b"abc-1")])
    'abc-1'
    >>> request_id([(b"traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")])
    '4bf92f3577b34da6a3ce929d0e0e4736'
    >>> len(request_id([(b"x-request-id", b"bad\nid")]))
    32
    """
    found = {name.lower(): value for name, value in headers}
    given = found.get(REQUEST_ID_HEADER, b"").strip()
    if _REQUEST_ID.fullmatch(given):
        return given.decode("ascii")
    trace = _TRACEPARENT.fullmatch(found.get(b"traceparent", b"").strip().lower())
    if trace is not None and trace.group(1) != b"0" * 32:
        return trace.group(1).decode("ascii")
    return uuid.uuid4().hex


#: Where prometheus-client keeps the values of every process, in multiprocess mode.
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


class Metrics:
    """The server's metrics, in a registry of its own.

    ``serves_requests``: false for the master of serving processes, which
    loads graphs but answers no request (it has no ``kgraph_process_graph_version``).
    """

    def __init__(self, *, serves_requests: bool = True) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        # The graph and the last load, as the process that set them last says (the
        # master at each load, each serving process at its start: the same values).
        latest: Final = "livemostrecent"
        self.requests = Counter(
            "kgraph_requests",
            "HTTP requests answered, by GraphQL operation (or route) and status",
            ["operation", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "kgraph_request_duration_seconds",
            "Time to answer an HTTP request, by GraphQL operation (or route)",
            ["operation"],
            buckets=_BUCKETS,
            registry=registry,
        )
        self.errors = Counter(
            "kgraph_graphql_errors",
            "GraphQL errors returned, by operation",
            ["operation"],
            registry=registry,
        )
        self.articles = Gauge(
            "kgraph_graph_articles",
            "Articles in the served graph",
            registry=registry,
            multiprocess_mode=latest,
        )
        self.links = Gauge(
            "kgraph_graph_links",
            "Links in the served graph",
            registry=registry,
            multiprocess_mode=latest,
        )
        self.files = Gauge(
            "kgraph_graph_files", "Files of the served corpus", registry=registry,
            multiprocess_mode=latest,
        )  # fmt: skip
        self.parse_errors = Gauge(
            "kgraph_graph_parse_errors", "Files of the served corpus that could not be read",
            registry=registry, multiprocess_mode=latest,
        )  # fmt: skip
        self.version = Gauge(
            "kgraph_graph_version", "Version of the served graph (1 for the first load)",
            registry=registry, multiprocess_mode=latest,
        )  # fmt: skip
        self.loads = Counter(
            "kgraph_graph_loads",
            "Graph loads and reloads, by result",
            ["result"],
            registry=registry,
        )
        self.load_seconds = Gauge(
            "kgraph_graph_last_load_seconds",
            "Duration of the last load or reload",
            registry=registry,
            multiprocess_mode=latest,
        )
        self.load_success = Gauge(
            "kgraph_graph_last_load_success",
            "1 when the last load or reload succeeded, 0 when it failed",
            registry=registry,
            multiprocess_mode=latest,
        )
        # One series per serving process (labelled pid, in multiprocess mode): which
        # graph each serves, while a reload replaces them. Not the master's.
        self.process_version: Gauge | None = None
        if serves_requests:
            self.process_version = Gauge(
                "kgraph_process_graph_version",
                "Version of the graph this serving process serves (by pid with --processes > 1)",
                registry=registry,
                multiprocess_mode="liveall",
            )
        # process_* (CPU, memory, open files, start time) and python_info, as
        # prometheus_client's default registry has them.
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        self.build = Info("kgraph_build", "What this server runs", registry=registry)
        self.build.info(
            {
                "version": __version__,
                "python": platform.python_version(),
                "strawberry": version("strawberry-graphql"),
            }
        )
        # In multiprocess mode /metrics reads every process's values; the build and
        # the platform are the same in each (process_* are per process: left out).
        self.shared: CollectorRegistry | None = None
        if os.environ.get(MULTIPROCESS_DIR):
            self.shared = CollectorRegistry()
            multiprocess.MultiProcessCollector(self.shared)  # type: ignore[no-untyped-call]
            PlatformCollector(registry=self.shared)
            self.shared.register(self.build)
        # The labelled children per (operation, status): looked up once each, not per request.
        self._children: dict[tuple[str, str], tuple[Any, Any]] = {}

    def answered(self, operation: str, status: int, seconds: float) -> None:
        """Count one HTTP request answered with ``status`` and time it."""
        key = (operation, str(status))
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(operation=operation, status=key[1]),
                self.latency.labels(operation=operation),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def loaded(self, *, ok: bool, seconds: float) -> None:
        """Count a load or reload and its outcome."""
        self.loads.labels(result="success" if ok else "failure").inc()
        self.load_seconds.set(seconds)
        self.load_success.set(1 if ok else 0)

    def serving(self, *, version: int, articles: int, links: int, files: int, errors: int) -> None:
        """Describe the graph now served."""
        self.version.set(version)
        self.articles.set(articles)
        self.links.set(links)
        self.files.set(files)
        self.parse_errors.set(errors)
        if self.process_version is not None:
            self.process_version.set(version)

    def render(self) -> bytes:
        """The metrics in the Prometheus text format (in multiprocess mode: all processes')."""
        return generate_latest(self.shared if self.shared is not None else self.registry)


class Observe:
    """Give every HTTP request its id; time, count and log it (one log line each)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None
        identity = request_id(scope["headers"])
        # Every log record of the request carries it (worker threads copy the context).
        token = REQUEST_ID.set(identity)

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    (k, v) for k, v in message.get("headers", ()) if k.lower() != REQUEST_ID_HEADER
                ]
                message = {**message, "headers": [*headers, (REQUEST_ID_HEADER, identity.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except BaseException:
            status = status or 500  # what the client gets when the app fails before answering
            raise
        finally:
            # No answer and no failure: the client left first (499, as nginx says).
            self._record(scope, status or 499, time.perf_counter() - started)
            REQUEST_ID.reset(token)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        path: str = scope["path"]
        noted: dict[str, Any] = scope.get(SCOPE_KEY) or {}
        if "label" in noted:
            operation = str(noted["label"])  # a root field of the schema: a bounded set
        else:
            operation = path if path in _ROUTES else "other"
        self.metrics.answered(operation, status, seconds)
        errors = int(noted.get("errors", 0))
        if errors:
            self.metrics.errors.labels(operation=operation).inc(errors)
        access_log.info(
            "%s %s%s %d %.2fms",
            scope["method"],
            path,
            f" {operation}" if operation != path else "",
            status,
            seconds * 1000,
            # ECS names (OpenTelemetry's for GraphQL); kgraph's own under kgraph.*.
            extra={
                "http.request.method": scope["method"],
                "url.path": path,
                "http.response.status_code": status,
                "event.duration": round(seconds * 1e9),  # nanoseconds, as ECS has it
                "kgraph.operation": operation,
                "kgraph.graphql_errors": errors,
                # The client's name for it: in the log, whose lines cost nothing to keep apart.
                **({"graphql.operation.name": name} if (name := noted.get("operation")) else {}),
            },
        )

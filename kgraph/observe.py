"""What a running server tells about itself: Prometheus metrics and one log line per request.

:class:`Metrics` holds the app's own registry (no global one: two apps in one
process count apart). :class:`Observe` is the ASGI middleware that times every
HTTP request, labels it by GraphQL operation (named by the schema extension
through the ASGI scope, see :data:`SCOPE_KEY`) or by route, counts it and logs
it.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SCOPE_KEY", "Metrics", "Observe", "operation_label"]

#: The ASGI scope key where the GraphQL layer notes ``operation`` and ``errors``.
SCOPE_KEY = "kgraph.graphql"

access_log = logging.getLogger("kgraph.access")

_ROUTES = frozenset({"/", "/graphql", "/healthz", "/readyz", "/metrics"})
_NAME = re.compile(r"[^A-Za-z0-9_]")
# Operation names come from clients: past this many, new ones count as "other",
# so no client can grow the metrics without bound.
_MAX_OPERATIONS = 200
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def operation_label(name: object) -> str:
    """A GraphQL operation name as a metric label: ``anonymous`` when unnamed.

    >>> operation_label("ArticlePage"), operation_label(None), operation_label("a-b c")
    ('ArticlePage', 'anonymous', 'a_b_c')
    """
    if not name or not isinstance(name, str):
        return "anonymous"
    return _NAME.sub("_", name)[:64]


class Metrics:
    """The server's metrics, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
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
            "kgraph_graph_articles", "Articles in the served graph", registry=registry
        )
        self.links = Gauge("kgraph_graph_links", "Links in the served graph", registry=registry)
        self.files = Gauge("kgraph_graph_files", "Files of the served corpus", registry=registry)
        self.parse_errors = Gauge(
            "kgraph_graph_parse_errors", "Files of the served corpus that could not be read",
            registry=registry,
        )  # fmt: skip
        self.version = Gauge(
            "kgraph_graph_version", "Version of the served graph (1 for the first load)",
            registry=registry,
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
        )
        self.load_success = Gauge(
            "kgraph_graph_last_load_success",
            "1 when the last load or reload succeeded, 0 when it failed",
            registry=registry,
        )
        self._operations: set[str] = set()
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

    def label(self, operation: str) -> str:
        """``operation``, or ``other`` once too many distinct names were seen."""
        if operation in self._operations or operation in _ROUTES:
            return operation
        if len(self._operations) >= _MAX_OPERATIONS:
            return "other"
        self._operations.add(operation)
        return operation

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

    def render(self) -> bytes:
        """The metrics in the Prometheus text format."""
        return generate_latest(self.registry)


class Observe:
    """Time, count and log every HTTP request (one log line each)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except BaseException:
            status = status or 500  # what the client gets when the app fails before answering
            raise
        finally:
            # No answer and no failure: the client left first (499, as nginx says).
            self._record(scope, status or 499, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        path: str = scope["path"]
        noted: dict[str, Any] = scope.get(SCOPE_KEY) or {}
        if "operation" in noted:
            operation = self.metrics.label(operation_label(noted["operation"]))
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
            extra={
                "method": scope["method"],
                "path": path,
                "operation": operation,
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
                "graphql_errors": errors,
            },
        )

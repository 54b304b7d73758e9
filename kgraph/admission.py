"""Requests served at once: at most a limit, beyond it 503; health probes always answered.

uvicorn's own ``limit_concurrency`` counts open connections as well as
requests, and answers 503 to everything past it, ``/healthz`` included: 256
silent sockets locked every client out. Connections are bounded by
:mod:`kgraph.connections` instead; this middleware counts requests being
served and never turns away the probes that tell an orchestrator the process
is alive and ready.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["PROBES", "Admission"]

#: Paths answered whatever the load: cheap, and what a load balancer looks at.
PROBES = frozenset({"/healthz", "/readyz", "/metrics"})


class Admission:
    """Serve at most ``limit`` HTTP requests at once (probes aside); 503 beyond."""

    def __init__(self, app: ASGIApp, limit: int = 256) -> None:
        self.app = app
        self.limit = limit
        self.serving = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBES:
            await self.app(scope, receive, send)
            return
        if self.serving >= self.limit:
            body = json.dumps(
                {"errors": [{"message": f"over {self.limit} requests at once: retry shortly"}]}
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"retry-after", b"1"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        self.serving += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.serving -= 1

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
import logging

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kgraph.api.errors import refusal

__all__ = ["PROBES", "SEND_TIMEOUT", "Admission"]

log = logging.getLogger("kgraph")

#: Paths answered whatever the load: cheap, and what a load balancer looks at.
PROBES = frozenset({"/healthz", "/readyz", "/metrics"})

#: Seconds a client may take to accept each part of a response (it reads
#: nothing: the server's buffers are full). Past it, the connection is dropped.
SEND_TIMEOUT = 30.0


class Admission:
    """Serve at most ``limit`` HTTP requests at once (probes aside); 503 beyond.

    A request counts until its response starts, not until the client has read
    it: a client that reads nothing holds no slot, and its connection is
    dropped once a part of the response waits ``send_timeout``.
    """

    def __init__(self, app: ASGIApp, limit: int = 256, send_timeout: float = SEND_TIMEOUT) -> None:
        self.app = app
        self.limit = limit
        self.send_timeout = send_timeout
        self.serving = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBES:
            await self.app(scope, receive, send)
            return
        if self.serving >= self.limit:
            message = f"over {self.limit} requests at once: retry shortly"
            body = json.dumps(refusal(503, message)).encode()
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
        counted = True
        stalled = False

        def release() -> None:
            nonlocal counted
            if counted:
                counted = False
                self.serving -= 1

        async def send_in_time(message: Message) -> None:
            nonlocal stalled
            if stalled:
                return  # the connection is being dropped: uvicorn closes it
            if message["type"] == "http.response.start":
                # The answer is made: what is left is handing it over, which waits for
                # the client when it reads nothing (uvicorn pauses on a full buffer).
                # Counted until the body, four such clients pipelining requests for a
                # 17 KB style sheet held every slot, each send waiting send_timeout.
                release()
            try:
                with anyio.move_on_after(self.send_timeout) as waiting:
                    await send(message)
            except RuntimeError as err:
                # A client that hangs up with requests pipelined: uvicorn tells only
                # the last of them, and the one being answered writes to a closed
                # transport. Its client is gone: nothing is lost but a traceback.
                if "closed" not in str(err):
                    raise
                stalled = True
                return
            if waiting.cancelled_caught:
                stalled = True
                client = scope.get("client") or ("?",)
                log.warning(
                    "%s read nothing of a response for %g s: dropped", client[0], self.send_timeout
                )

        try:
            await self.app(scope, receive, send_in_time)
        finally:
            release()

"""``/graphql`` over HTTP answers 503 until a graph serves, for a load balancer to pass it on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from kgraph.api.errors import SERVICE_UNAVAILABLE, refusal
from kgraph.serving import public_text

if TYPE_CHECKING:
    from kgraph.serving import AppState

__all__ = ["UntilReady"]


class UntilReady:
    """Answer HTTP requests 503 until ``state`` serves a graph, so that a load
    balancer passes them to a replica that is ready (websockets go through:
    subscriptions wait for graphs anyway)."""

    def __init__(self, app: ASGIApp, state: AppState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.state.served is None:
            reason = (
                f"the graph failed to load: {public_text(self.state.settings, self.state.error)}"
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

"""Security headers: `nosniff` on every response; HTML limited to its own assets, unframed;
CORS for the configured origins."""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kgraph.api.errors import refusal

__all__ = ["PAGE_POLICY", "CrossOrigin", "SecurityHeaders"]


class CrossOrigin(CORSMiddleware):
    """Starlette's CORS, a refused preflight answered in JSON like every other refusal."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        kept = {
            key: value
            for key, value in response.headers.items()
            if key not in ("content-type", "content-length")
        }
        message = bytes(response.body).decode("utf-8", "replace")
        return JSONResponse(
            refusal(response.status_code, message), status_code=response.status_code, headers=kept
        )


#: The explorer's policy: its own scripts, styles and API only. Style
#: attributes stay allowed (topic colours are set per element).
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline';"
    " img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none';"
    " form-action 'self'; frame-ancestors 'none'"
)

#: GraphiQL (kgraph/web/graphiql.html and its bundle): its own files only, like
#: the explorer; its editors set styles at run time and its CSS holds its fonts.
IDE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none';"
    " base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeaders:
    """Add ``X-Content-Type-Options: nosniff`` to every response; to HTML, a CSP and no framing."""

    def __init__(self, app: ASGIApp, ide_path: str = "/graphql") -> None:
        self.app = app
        self.ide_path = ide_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = IDE_POLICY if scope["path"] == self.ide_path else PAGE_POLICY

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["x-content-type-options"] = "nosniff"
                if headers.get("content-type", "").startswith("text/html"):
                    headers["content-security-policy"] = policy
                    headers["x-frame-options"] = "DENY"
                    headers["referrer-policy"] = "no-referrer"
            await send(message)

        await self.app(scope, receive, send_with_headers)

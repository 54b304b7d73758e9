"""``/graphql`` over HTTP and WebSocket: strawberry's ASGI view, as kgraph answers.

Refusals are JSON with a code, an answer takes the media type the client
accepts (:mod:`kgraph.api.media`), an answer past :data:`MAX_RESPONSE_BYTES`
is refused, subscriptions go over WebSocket only, and GraphiQL comes from the
app's own files.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError, OperationType, get_operation_ast, parse
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope
from starlette.websockets import WebSocket
from strawberry import UNSET
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.base import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError

from kgraph.api.context import Context
from kgraph.api.errors import OPERATION_RESOLUTION_FAILURE, refusal
from kgraph.api.limits import MAX_RESPONSE_BYTES
from kgraph.api.media import GRAPHQL_RESPONSE, media_type

__all__ = ["GraphQLView"]

log = logging.getLogger("kgraph")


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


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's ASGI view, handing each request the graph of that moment, and
    GraphiQL from kgraph's own files to a browser opening ``/graphql``.

    ``context`` makes a request's :class:`Context` from its ASGI scope (the
    app's serving loop knows which graph serves). Its refusals (no query, an
    unknown operation name…) are JSON with a code like every other error; an
    answer takes the media type the client accepts (:mod:`kgraph.api.media`).
    """

    def __init__(
        self, schema: BaseSchema, *, context: Callable[[Scope], Context], **options: Any
    ) -> None:
        super().__init__(schema, **options)
        self.make_context = context

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
        return self.make_context(request.scope)

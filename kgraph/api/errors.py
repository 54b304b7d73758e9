"""The code of every error kgraph answers, in ``extensions.code``.

GraphQL errors take theirs from :class:`ErrorCodes`, a schema extension that
reads what failed and where (parsing, validation, the request's variables, a
resolver); refusals at the HTTP layer (a body too large, no query, a wrong
method) take theirs from their status, through :func:`refusal`. The names are
those Apollo's clients and servers use, where one exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import MaskErrors, SchemaExtension

from kgraph.errors import ArticleNotFound, DeadlineExceeded, GraphNotReady, QueryError

__all__ = [
    "BAD_REQUEST",
    "BAD_USER_INPUT",
    "COST_LIMIT",
    "DEADLINE_EXCEEDED",
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "HTTP_CODES",
    "INTERNAL_SERVER_ERROR",
    "NOT_FOUND",
    "OPERATION_RESOLUTION_FAILURE",
    "PERSISTED_QUERY_NOT_FOUND",
    "SERVICE_UNAVAILABLE",
    "CodedMaskErrors",
    "ErrorCodes",
    "refusal",
    "without_suggestions",
]

#: An argument the schema takes but whose value cannot be served (a `first` out of range…).
BAD_USER_INPUT = "BAD_USER_INPUT"
#: An article the operation starts from is not in the graph.
NOT_FOUND = "NOT_FOUND"
#: The query text is not GraphQL (or over the token limit).
GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
#: The query does not fit the schema or the protections (depth, aliases, introspection).
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
#: The operation could return more objects than one request may (kgraph.api.limits).
COST_LIMIT = "COST_LIMIT"
#: An automatic persisted query the server does not know (kgraph.api.persisted).
PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
#: The request ran past its deadline (kgraph.middleware.guard).
DEADLINE_EXCEEDED = str(DeadlineExceeded.extensions["code"])
#: An error nobody planned for: masked, and logged.
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
#: The graph is not loaded (yet, or at all).
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
#: A request the HTTP layer cannot take as a GraphQL request.
BAD_REQUEST = "BAD_REQUEST"
#: ``operationName`` names no operation of the document (or is needed and missing).
OPERATION_RESOLUTION_FAILURE = "OPERATION_RESOLUTION_FAILURE"

#: The codes of refusals at the HTTP layer, by status.
HTTP_CODES: Mapping[int, str] = {
    400: BAD_REQUEST,
    404: NOT_FOUND,
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    408: "REQUEST_TIMEOUT",
    413: "PAYLOAD_TOO_LARGE",
    414: "URI_TOO_LONG",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "TOO_MANY_REQUESTS",
    431: "REQUEST_HEADER_FIELDS_TOO_LARGE",
    500: INTERNAL_SERVER_ERROR,
    503: SERVICE_UNAVAILABLE,
}

# graphql-core's hints ("Did you mean 'title'?") name fields, types and values of the schema.
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def refusal(status: int, message: str, code: str | None = None) -> dict[str, Any]:
    """The JSON body of an HTTP refusal: one error, with the code of ``status`` unless given.

    >>> refusal(413, "request body over 65,536 bytes")["errors"][0]["extensions"]
    {'code': 'PAYLOAD_TOO_LARGE'}
    """
    code = code or HTTP_CODES.get(status, BAD_REQUEST if status < 500 else INTERNAL_SERVER_ERROR)
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def without_suggestions(message: str) -> str:
    """``message`` without graphql-core's "Did you mean …?" hints.

    >>> without_suggestions("Cannot query field 'titel' on type 'Article'. Did you mean 'title'?")
    "Cannot query field 'titel' on type 'Article'."
    """
    return _SUGGESTION.sub("", message)


def _code(error: GraphQLError, parsed: bool, invalid: bool) -> str:
    """The code of ``error``: by where it failed, then by what raised it."""
    if not parsed:
        return GRAPHQL_PARSE_FAILED
    if invalid:
        return GRAPHQL_VALIDATION_FAILED
    original = error.original_error
    if isinstance(original, ArticleNotFound):
        return NOT_FOUND
    if isinstance(original, GraphNotReady):
        return SERVICE_UNAVAILABLE
    if isinstance(original, QueryError):
        return BAD_USER_INPUT
    if isinstance(original, GraphQLError):
        # An argument's value the schema's types refuse (graphql-core raised it).
        code = (original.extensions or {}).get("code")
        return str(code) if code else BAD_USER_INPUT
    if original is None and not error.path:
        # Refused before any field ran: the request's variables do not fit their types.
        return BAD_USER_INPUT
    return INTERNAL_SERVER_ERROR


class ErrorCodes(SchemaExtension):
    """Give every error of a result its ``extensions.code``; hide the schema's hints if asked.

    Listed after :class:`CodedMaskErrors` (extensions leave an operation in
    the reverse order), so that it sees the errors before they are masked.
    ``suggestions=False`` (production) takes graphql-core's "Did you mean …?"
    out of messages: they tell a stranger the schema that introspection hides.
    """

    def __init__(self, *, suggestions: bool = True) -> None:
        super().__init__()
        self.suggestions = suggestions
        self.invalid: frozenset[int] = frozenset()

    def on_validate(self) -> Iterator[None]:
        yield
        # The validation errors, by identity: they come back in the result as they are.
        self.invalid = frozenset(map(id, self.execution_context.pre_execution_errors or ()))

    def on_operation(self) -> Iterator[None]:
        yield
        self.code(self.execution_context.result)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        # Subscriptions' results (over websockets) go out before the operation ends.
        self.code(result)
        yield

    def code(self, result: Any) -> None:
        """Give the errors of ``result`` (an execution result) their codes, in place."""
        errors: list[GraphQLError] | None = getattr(result, "errors", None)
        if not errors:
            return
        parsed = self.execution_context.graphql_document is not None
        result.errors = [self.coded(e, parsed) for e in errors]

    def coded(self, error: GraphQLError, parsed: bool) -> GraphQLError:
        """``error`` with its code (a new error: validation errors are cached and shared)."""
        extensions = dict(error.extensions or {})
        extensions.setdefault("code", _code(error, parsed, id(error) in self.invalid))
        message = error.message if self.suggestions else without_suggestions(error.message)
        return GraphQLError(
            message,
            error.nodes,
            error.source,
            error.positions,
            error.path,
            error.original_error,
            extensions,
        )


class CodedMaskErrors(MaskErrors):
    """strawberry's :class:`MaskErrors`, the masked errors coded ``INTERNAL_SERVER_ERROR``."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": INTERNAL_SERVER_ERROR}
        return masked

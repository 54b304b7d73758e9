"""Which media type a GraphQL answer takes: GraphQL-over-HTTP's, when the client accepts it.

``application/graphql-response+json`` (the GraphQL-over-HTTP spec) lets the
status say whether the request ran: a document that does not parse or
validate, variables that do not fit, an operation refused before execution,
are answered 400 without ``data``. ``application/json``, the default, answers
200 whatever happened, as clients written before the spec expect.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["GRAPHQL_RESPONSE", "JSON", "media_type"]

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def _quality(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def media_type(accept: str | None) -> str:
    """The media type of an answer to a request of this ``Accept`` header.

    GraphQL-over-HTTP's where the client prefers it (or likes it as well as
    JSON); JSON otherwise, also when the header names neither (the spec lets a
    server answer JSON then rather than 406).

    >>> media_type("application/graphql-response+json, application/json;q=0.9")
    'application/graphql-response+json'
    >>> media_type("application/json"), media_type(None), media_type("*/*")
    ('application/json', 'application/json', 'application/json')
    >>> media_type("application/graphql-response+json;q=0.5, application/json")
    'application/json'
    """
    qualities = dict(_qualities((accept or "").split(",")))
    wanted = qualities.get(GRAPHQL_RESPONSE, 0.0)
    if wanted > 0 and wanted >= qualities.get(JSON, 0.0):
        return GRAPHQL_RESPONSE
    return JSON


def _qualities(ranges: Iterable[str]) -> Iterable[tuple[str, float]]:
    for media_range in ranges:
        name, *parameters = media_range.split(";")
        if name.strip():
            yield name.strip().lower(), _quality(parameters)

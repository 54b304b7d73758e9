"""A schema extension noting each operation's name, kind and errors (metrics, logs, cache)."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from kgraph.observe import SCOPE_KEY

__all__ = ["NoteOperation"]


class NoteOperation(SchemaExtension):
    """Write the operation's name, its number of errors and whether it is a query into the
    request's ASGI scope.

    The HTTP middleware (:class:`kgraph.observe.Observe`) reads them once the
    response is sent, to label the request's metrics and its log line; the
    response cache (:mod:`kgraph.api.cache`) keeps the answers of queries only.
    """

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        scope = getattr(context.context, "scope", None)
        if scope is None:
            return
        errors = context.pre_execution_errors or []
        result = context.result
        if result is not None and result.errors:
            errors = result.errors
        name: str | None = None
        query = False
        try:
            name = context.operation_name
            # Strawberry's OperationType, whose values are GraphQL's keywords.
            query = context.operation_type.value == "query"
        except Exception:  # a document too broken to name: the operation stays anonymous
            pass
        scope[SCOPE_KEY] = {"operation": name, "errors": len(errors), "query": query}

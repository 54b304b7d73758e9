"""A schema extension noting each operation's name and error count for metrics and logs."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from kgraph.observe import SCOPE_KEY

__all__ = ["NoteOperation"]


class NoteOperation(SchemaExtension):
    """Write the operation's name and its number of errors into the request's ASGI scope.

    The HTTP middleware (:class:`kgraph.observe.Observe`) reads them once the
    response is sent, to label the request's metrics and its log line.
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
        try:
            name = context.operation_name
        except Exception:  # a document too broken to name: the operation stays anonymous
            name = None
        scope[SCOPE_KEY] = {"operation": name, "errors": len(errors)}

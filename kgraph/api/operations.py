"""A schema extension noting each operation's name, label, kind and errors (metrics, logs…)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
    get_operation_ast,
)
from strawberry.extensions import SchemaExtension

from kgraph.scope import SCOPE_KEY

__all__ = ["NoteOperation", "operation_label"]


def _root_fields(document: DocumentNode, selection_set: SelectionSetNode) -> list[str]:
    """The fields an operation selects at its root, through fragments (one level of them)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    names: list[str] = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            names.append(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            names += [
                s.name.value for s in selection.selection_set.selections if isinstance(s, FieldNode)
            ]
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            spread = fragments[selection.name.value].selection_set.selections
            names += [s.name.value for s in spread if isinstance(s, FieldNode)]
    return names


def operation_label(
    document: DocumentNode | None, operation_name: str | None, known: Collection[str]
) -> str:
    """The metrics label of an operation: the root field it asks for, from the schema's ``known``.

    Not the client's operation name: clients choose those, and every new one
    would be a new time series. The schema's root fields are few and fixed:
    ``several`` for an operation asking for more than one, ``introspection``
    for one asking only for the schema, ``invalid`` for anything else.

    >>> from graphql import parse
    >>> label = lambda text: operation_label(parse(text), None, {"article", "stats"})
    >>> label("query Page { article(id: 1) { id } }")
    'article'
    >>> label("{ a: stats { files } b: stats { links } }")
    'stats'
    >>> label("{ stats { files } article(id: 1) { id } }"), label("{ __schema { types { name } } }")
    ('several', 'introspection')
    >>> label("{ nope }")
    'invalid'
    """
    operation = get_operation_ast(document, operation_name) if document is not None else None
    if operation is None:
        return "invalid"
    fields = set(_root_fields(document, operation.selection_set)) - {"__typename"}  # type: ignore[arg-type]
    if not fields or not fields <= {*known, "__schema", "__type"}:
        return "invalid"
    if fields <= {"__schema", "__type"}:
        return "introspection"
    fields -= {"__schema", "__type"}
    return fields.pop() if len(fields) == 1 else "several"


class NoteOperation(SchemaExtension):
    """Write the operation's name, its metrics label, its number of errors and whether it
    is a query into the request's ASGI scope.

    The HTTP middleware (:class:`kgraph.middleware.observe.Observe`) reads them once the
    response is sent, to label the request's metrics and write its log line;
    the response cache (:mod:`kgraph.api.cache`) keeps the answers of queries
    only. ``root_fields`` says which root fields the schema has (read once
    the schema is built).
    """

    def __init__(self, root_fields: Callable[[], Collection[str]]) -> None:
        super().__init__()
        self.root_fields = root_fields

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
        label = operation_label(context.graphql_document, name, self.root_fields())
        scope[SCOPE_KEY] = {
            "operation": name,
            "label": label,
            "errors": len(errors),
            "query": query,
        }

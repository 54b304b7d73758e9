"""Prepared queries: a query text strawberry accepted once runs again without its pipeline.

Strawberry takes every request through parsing, validation and the schema's
extensions (tokens, depth, aliases, cost, masking, metrics): some 0.3 ms of
Python before the first resolver runs, most of a small query's time. Frontends
send a handful of query texts with varying variables, so the outcome of all of
that is known after the first request: a query text that the full pipeline
parsed and validated (same schema, same rules) is kept with its document, and
the next request with the same text and operation name runs only what depends
on the request: the cost limit (it counts variables), execution, the logging
and masking of errors, and the operation's note for metrics. A request whose
cost is over the limit takes the full pipeline again, which refuses it.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from inspect import isawaitable
from typing import TYPE_CHECKING, Any

from graphql import DocumentNode, OperationType, execute, get_operation_ast
from graphql.execution import ExecutionResult as GraphQLExecutionResult
from strawberry.execution import optimized_is_awaitable
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.schema._graphql_core import execution_context_class_kwargs
from strawberry.types import ExecutionResult

from kgraph.api.limits import cost_error
from kgraph.observe import SCOPE_KEY

if TYPE_CHECKING:
    import strawberry

__all__ = ["PrepareQueries", "PreparedQueries"]

#: Distinct query texts kept; the least recently used is dropped past it.
MAX_PREPARED = 256
#: Longer texts are not kept: a parsed document takes ~100 times its text, and
#: frontends' queries are a few hundred bytes.
MAX_PREPARED_TEXT = 4 * 1024
#: All kept texts together: with the above, at most ~25 MB of documents.
MAX_PREPARED_TOTAL = 256 * 1024


@dataclass(frozen=True, slots=True)
class Prepared:
    """A document that passed parsing and validation, and the name of its operation."""

    document: DocumentNode
    operation: str | None


class PreparedQueries:
    """The query texts of ``schema`` that passed its pipeline, and how to run them again.

    ``mask`` is the schema's :class:`~strawberry.extensions.MaskErrors`: the
    same rule and message mask errors on both paths.
    """

    def __init__(
        self,
        schema: strawberry.Schema,
        mask: MaskErrors,
        size: int = MAX_PREPARED,
        total: int = MAX_PREPARED_TOTAL,
    ) -> None:
        self.schema = schema
        self.mask = mask
        self._size = size
        self._total = total
        self._text = 0  # characters of the kept query texts
        # In order of last use: the first is the next to go.
        self._prepared: dict[tuple[str, str | None], Prepared] = {}

    def __len__(self) -> int:
        return len(self._prepared)

    def queries(self) -> list[tuple[str, str | None]]:
        """The kept (query text, operation name) pairs, least recently used first."""
        return list(self._prepared)

    def remember(self, query: str, operation_name: str | None, document: DocumentNode) -> None:
        """Keep ``document``, which the full pipeline accepted for ``query``, as prepared."""
        key = (query, operation_name)
        if key in self._prepared or len(query) > MAX_PREPARED_TEXT:
            return
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation is not OperationType.QUERY:
            return  # only queries: they are allowed over GET and POST alike
        while self._prepared and (
            len(self._prepared) >= self._size or self._text + len(query) > self._total
        ):
            oldest = next(iter(self._prepared))
            del self._prepared[oldest]
            self._text -= len(oldest[0])
        name = operation.name.value if operation.name else None
        self._prepared[key] = Prepared(document=document, operation=name)
        self._text += len(query)

    async def run(
        self,
        query: object,
        operation_name: object,
        variables: object,
        context: Any,
        scope: MutableMapping[str, Any],
    ) -> ExecutionResult | None:
        """Run ``query`` if it is prepared and within the cost limit; ``None`` otherwise.

        ``None`` means: take strawberry's full pipeline, which answers (or
        refuses) the request as on its first time. The request's values come
        as sent: a query that is no text, a name that is no text (a list
        cannot even be looked up) or variables that are no object are
        strawberry's to refuse.
        """
        if (
            not isinstance(query, str)
            or not isinstance(operation_name, str | None)
            or not isinstance(variables, dict | None)
        ):
            return None
        key = (query, operation_name)
        prepared = self._prepared.pop(key, None)
        if prepared is None:
            return None
        self._prepared[key] = prepared  # now the most recently used
        if cost_error(prepared.document, operation_name, variables or {}):
            return None
        schema = self.schema
        result = execute(
            schema._schema,
            prepared.document,
            variable_values=variables,
            operation_name=operation_name,
            context_value=context,
            # Strawberry's check, typed as a plain predicate where graphql-core wants a guard.
            is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
            # How strawberry passes its executor class to this graphql-core version.
            **execution_context_class_kwargs(schema.execution_context_class),
        )
        if isawaitable(result):
            result = await result
        assert isinstance(result, GraphQLExecutionResult)
        errors = result.errors
        if errors:
            # As on the full path: the originals are handed on as strawberry does (logged;
            # field suggestions stripped where configured), then masked for the client.
            schema._process_errors(errors)
            errors = [
                self.mask.anonymise_error(e) if self.mask.should_mask_error(e) else e
                for e in errors
            ]
        scope[SCOPE_KEY] = {"operation": prepared.operation, "errors": len(errors or ())}
        return ExecutionResult(data=result.data, errors=errors)


class PrepareQueries(SchemaExtension):
    """Hand each query text that reaches execution to the schema's :class:`PreparedQueries`.

    Execution is reached only once parsing and validation passed; what the
    cost limit decides is not kept (it depends on the variables).
    """

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        prepared: PreparedQueries | None = getattr(context.schema, "prepared", None)
        if (
            prepared is not None
            and isinstance(context.query, str)
            and context.graphql_document is not None
            and not context.pre_execution_errors
        ):
            # The name the request gave (``operation_name`` falls back to the document's).
            given = getattr(context, "_provided_operation_name", None)
            prepared.remember(context.query, given, context.graphql_document)
        yield

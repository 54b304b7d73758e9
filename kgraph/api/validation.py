"""Validation off the event loop, under the request's deadline, cached by query text.

graphql-core's rules are not all linear: ``OverlappingFieldsCanBeMerged``
compares fields pairwise, so 400 repeats of ``stats { files }`` (2,000
tokens, within the token limit) take 0.34 s to validate on this machine. On
the event loop that is 0.34 s in which no other request is answered. A
document of more than :data:`INLINE_FIELDS` fields is validated away from the
loop: that rule in a worker process (:mod:`kgraph.api.overlaps`; in a thread
when there is none), the linear rest in a worker thread (at most
:data:`VALIDATION_WORKERS` at once, stopped at the request's deadline); a text
validated once is not validated again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    Node,
    OverlappingFieldsCanBeMergedRule,
    ValidationRule,
    build_schema,
    validate,
)
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from kgraph import budget
from kgraph.api.offload import off_loop
from kgraph.api.overlaps import Overlaps
from kgraph.errors import DeadlineExceeded

__all__ = ["INLINE_FIELDS", "VALIDATION_WORKERS", "ValidateInline", "ValidateOffLoop", "Validator"]

#: Validations that run at once; more wait (within their requests' deadlines).
VALIDATION_WORKERS = 2
#: Documents of at most this many fields (as written, fragments once) are
#: validated on the event loop: their pairwise checks take a millisecond or two.
INLINE_FIELDS = 100
#: Query texts whose validation is remembered, and the longest text remembered.
CACHED_TEXTS = 256
CACHED_TEXT_CHARS = 16 * 1024
#: Nodes visited between two looks at the clock.
_CLOCK_EVERY = 64
#: How an error of a validation cut short by its deadline starts.
STOPPED = "validation stopped:"


def _fields_within(document: DocumentNode, most: int) -> bool:
    """Whether ``document`` writes at most ``most`` fields (each fragment counted once)."""
    count = 0
    stack: list[Any] = [d for d in document.definitions if hasattr(d, "selection_set")]
    while stack:
        node = stack.pop()
        if isinstance(node, FieldNode):
            count += 1
            if count > most:
                return False
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            stack.extend(selection_set.selections)
    return True


class _Deadline(ValidationRule):
    """Stop validating once the request's budget has run out."""

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.visited = 0

    def enter(self, node: Node, *_args: Any) -> None:
        self.visited += 1
        if self.visited % _CLOCK_EVERY == 0:
            budget.checkpoint()


class Validator:
    """The schema to validate against, the results so far, and the workers' limit.

    Validation needs graphql-core's form of the schema, which strawberry keeps
    private: :meth:`bind` rebuilds it from the schema's SDL (its public
    printout). Validation only reads types, arguments and directives, which
    the SDL holds in full; the schema takes no custom scalar as input, whose
    literal parsing the SDL would not carry.
    """

    def __init__(self) -> None:
        self.schema: GraphQLSchema | None = None
        self.limiter = anyio.CapacityLimiter(VALIDATION_WORKERS)
        #: Documents validated so far (a text validated before is not counted again).
        self.runs = 0
        #: The names of the schema's root query fields.
        self.root_fields: frozenset[str] = frozenset()
        self._results: OrderedDict[str, list[GraphQLError]] = OrderedDict()
        self.overlaps: Overlaps | None = None

    def bind(self, sdl: str) -> GraphQLSchema:
        """Validate against the schema printed as ``sdl``; return graphql-core's form of it."""
        self.schema = schema = build_schema(sdl)
        self.overlaps = Overlaps(sdl)
        query = schema.query_type
        self.root_fields = frozenset(query.fields if query is not None else ())
        return schema

    def close(self) -> None:
        """Stop the worker process of :mod:`kgraph.api.overlaps`, if one was started."""
        if self.overlaps is not None:
            self.overlaps.close()

    def cached(self, query: str) -> list[GraphQLError] | None:
        """The errors of ``query`` when it was validated before."""
        errors = self._results.get(query)
        if errors is not None:
            self._results.move_to_end(query)
        return errors

    def remember(self, query: str, errors: list[GraphQLError]) -> None:
        if len(query) > CACHED_TEXT_CHARS:
            return
        self._results[query] = errors
        if len(self._results) > CACHED_TEXTS:
            self._results.popitem(last=False)

    def validate(self, document: DocumentNode, rules: tuple[type[Any], ...]) -> list[GraphQLError]:
        """The document's errors under ``rules`` (in the calling thread)."""
        self.runs += 1
        return self._check(document, rules)

    def _check(self, document: DocumentNode, rules: tuple[type[Any], ...]) -> list[GraphQLError]:
        assert self.schema is not None, "Validator.bind was not called"
        try:
            return validate(self.schema, document, (*rules, _Deadline))
        except DeadlineExceeded as err:
            return [GraphQLError(f"{STOPPED} {err}", extensions=dict(DeadlineExceeded.extensions))]

    async def validate_large(
        self, document: DocumentNode, query: object, rules: tuple[type[Any], ...]
    ) -> list[GraphQLError]:
        """The document's errors, found off the event loop: see the module's docstring."""
        overlaps = self.overlaps
        pairwise = OverlappingFieldsCanBeMergedRule
        if overlaps is None or not isinstance(query, str) or pairwise not in rules:
            return await off_loop(lambda: self.validate(document, rules), self.limiter)
        linear = tuple(rule for rule in rules if rule is not pairwise)
        errors = await off_loop(lambda: self.validate(document, linear), self.limiter)
        if any(e.message.startswith(STOPPED) for e in errors):
            return errors
        found = await overlaps.errors(query)
        if found is None:  # no worker process: the rule in a thread, as the rest
            found = await off_loop(lambda: self._check(document, (pairwise,)), self.limiter)
        return errors + found

    def errors(self, context: ExecutionContext) -> list[GraphQLError] | None:
        """The errors of a validated text, or ``None`` when it still needs validating."""
        query = context.query
        return self.cached(query) if isinstance(query, str) else None

    def keep(self, context: ExecutionContext, errors: list[GraphQLError]) -> None:
        """Remember ``errors`` for the context's text (not when validation was cut short)."""
        query = context.query
        if isinstance(query, str) and not any(e.message.startswith(STOPPED) for e in errors):
            self.remember(query, errors)


class ValidateOffLoop(SchemaExtension):
    """Validate in a worker thread instead of strawberry's validation on the event loop.

    Errors set here are what strawberry reports (it validates only when no
    extension did).
    """

    def __init__(self, validator: Validator) -> None:
        super().__init__()
        self.validator = validator

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.validation_rules:
            errors = self.validator.errors(context)
            if errors is None:
                rules = tuple(context.validation_rules)
                if _fields_within(document, INLINE_FIELDS):
                    # Small: faster here than a thread's round trip, and never
                    # queued behind the large documents of other clients.
                    errors = self.validator.validate(document, rules)
                else:
                    errors = await self.validator.validate_large(document, context.query, rules)
                self.validator.keep(context, errors)
            context.pre_execution_errors = errors
        yield


class ValidateInline(SchemaExtension):
    """:class:`ValidateOffLoop` for ``execute_sync``: validation in the calling thread."""

    def __init__(self, validator: Validator) -> None:
        super().__init__()
        self.validator = validator

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.validation_rules:
            errors = self.validator.errors(context)
            if errors is None:
                errors = self.validator.validate(document, tuple(context.validation_rules))
                self.validator.keep(context, errors)
            context.pre_execution_errors = errors
        yield

"""Protections of the schema: depth, aliases, tokens, cost, and which errors to mask."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
)
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

from kgraph.api.pagination import MAX_FIRST
from kgraph.errors import QueryError

__all__ = [
    "COMPUTE_WEIGHTS",
    "MAX_ALIASES",
    "MAX_COST",
    "MAX_QUERY_DEPTH",
    "MAX_TOKENS",
    "VALIDATION_RULES",
    "CostLimitRule",
    "should_mask_error",
]

MAX_QUERY_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 2_000
MAX_COST = 20_000

#: Items a list field returns when it takes no ``first``: its most in practice.
LIST_SIZES: Mapping[str, int] = {
    "topics": 50,
    "links": 5,
    "copies": 3,
    "referrers": 20,
    "suggestions": 3,
    "suggested": 5,
    "subjectSpellings": 50,
    "spellings": 5,
    "parseErrors": 100,
    "steps": 20,
}

#: Fields whose ``nodes`` and ``edges`` are drawable-graph lists sized by the
#: field's ``limit`` (already counted): a node costs 1, its edges about 4.
_DRAWN = frozenset({"subgraph", "topicGraph", "topicMap"})
_EDGES_PER_NODE = 4

#: Fields that compute rather than look up: each object they return counts
#: this many times (a path search, a similarity ranking).
COMPUTE_WEIGHTS: Mapping[str, int] = {
    "learningPath": 500,
    "learningPaths": 500,
    "linkSuggestions": 50,
    "similar": 20,
    "suggestions": 20,
}

#: Arguments that size a list field.
_SIZE_ARGUMENTS = ("first", "limit", "k")


def _first(field: FieldNode, default: int | None) -> int | None:
    """The size a list field asks for: its ``first``, ``limit`` or ``k``, else ``default``."""
    for argument in field.arguments or ():
        if argument.name.value not in _SIZE_ARGUMENTS:
            continue
        if isinstance(argument.value, IntValueNode):
            return max(int(argument.value.value), 0)
        # A variable: validation is cached per document, without variables,
        # so count the most it may be.
        return MAX_FIRST
    return default


class CostLimitRule(ValidationRule):
    """Refuse operations that could return too many objects.

    An object field costs the product of the list sizes of itself and every
    list above it: ``first``, ``limit`` or ``k`` where given (its default
    where not), the sizes of :data:`LIST_SIZES` for lists without them, 1 for
    anything else; times its :data:`COMPUTE_WEIGHTS` for fields that search.
    Scalars cost nothing more than their object; an operation costs the sum.
    """

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        fragments = {
            d.name.value: d
            for d in self.context.document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        defaults = _FIRST_DEFAULTS

        def cost(
            selection_set: SelectionSetNode | None, factor: int, seen: frozenset[str], parent: str
        ) -> int:
            total = 0
            for selection in selection_set.selections if selection_set else ():
                if isinstance(selection, FieldNode):
                    name = selection.name.value
                    if parent in _DRAWN and name == "edges":
                        size: int | None = _EDGES_PER_NODE
                    else:
                        size = _first(selection, defaults.get(name, LIST_SIZES.get(name)))
                    inner = factor * (size if size is not None else 1)
                    if selection.selection_set is not None:  # scalars come with their object
                        own = inner * COMPUTE_WEIGHTS.get(name, 1)
                        total += own + cost(selection.selection_set, inner, seen, name)
                elif isinstance(selection, InlineFragmentNode):
                    total += cost(selection.selection_set, factor, seen, parent)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    if name in fragments and name not in seen:
                        total += cost(fragments[name].selection_set, factor, seen | {name}, parent)
                if total > MAX_COST:
                    break
            return total

        total = cost(node.selection_set, 1, frozenset(), "")
        if total > MAX_COST:
            name = node.name.value if node.name else "anonymous"
            self.report_error(
                GraphQLError(
                    f"operation '{name}' could return about {total:,} objects, over the"
                    f" limit of {MAX_COST:,}: ask for smaller pages (lower `first`)"
                    " or fewer nested lists",
                    node,
                )
            )


#: ``first`` defaults of the schema's fields, for fields called without it.
_FIRST_DEFAULTS: dict[str, int] = {
    "neighbours": 50,
    "subgraph": 200,
    "topicGraph": 500,
    "topicMap": 50,
    "learningPaths": 3,
    "similar": 10,
    "readingOrder": 50,
    **dict.fromkeys(
        (
            "articles backlinks orphans deadEnds isolated wantedArticles overLinked brokenLinks"
            " duplicateLinks selfLinks staleLinks urlMismatches duplicateArticles islands"
            " linkSuggestions"
        ).split(),
        20,
    ),
}

#: Built once: the depth and alias limiters make a new rule class per call,
#: which would defeat the validation cache if made per request.
VALIDATION_RULES = (
    depth_rule(MAX_QUERY_DEPTH, None, None),
    aliases_rule(MAX_ALIASES),
    CostLimitRule,
)


def should_mask_error(error: GraphQLError) -> bool:
    """Mask unexpected errors; let syntax, validation and :class:`QueryError` through."""
    original = error.original_error
    if original is None:
        return False
    return not isinstance(original, QueryError | GraphQLError)

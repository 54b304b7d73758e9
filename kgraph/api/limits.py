"""Protections of the schema: depth, aliases, tokens, cost, and which errors to mask."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    ValidationContext,
    ValidationRule,
    ValueNode,
    VariableNode,
    get_operation_ast,
    value_from_ast,
    value_from_ast_untyped,
)
from strawberry.extensions import SchemaExtension

from kgraph.api.errors import COST_LIMIT
from kgraph.api.nodes import MAX_NODES
from kgraph.api.pagination import MAX_FIRST
from kgraph.errors import QueryError
from kgraph.graph.bridges import PER_ARTICLE
from kgraph.graph.paths import MAX_PATHS
from kgraph.graph.subgraphs import MAX_LIMIT

__all__ = [
    "COMPUTE_WEIGHTS",
    "EXPORT_WEIGHTS",
    "LAYOUT_PAIRS_PER_COST",
    "MAX_ALIASES",
    "MAX_COST",
    "MAX_EXPANDED_FIELDS",
    "MAX_QUERY_DEPTH",
    "MAX_RESPONSE_BYTES",
    "MAX_TOKENS",
    "SCALAR_WEIGHT",
    "SEARCH_WEIGHT",
    "TEXT_WEIGHTS",
    "VALIDATION_RULES",
    "CostLimiter",
    "Expansion",
    "cost_error",
    "expansions",
    "list_sizes",
    "operation_cost",
    "should_mask_error",
]

MAX_QUERY_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 2_000
MAX_COST = 20_000
MAX_RESPONSE_BYTES = 8 * 1024 * 1024

#: Items a list field returns when it takes no ``first``: its most in practice.
LIST_SIZES: Mapping[str, int] = {
    "topics": 50,
    "links": 5,
    "copies": 3,
    "suggestions": 3,
    "suggested": 5,
    "subjectSpellings": 50,
    "spellings": 5,
    "steps": 20,
    "nearDuplicates": PER_ARTICLE,
    # One node per topic, as `topics`.
    "topicMap": 50,
}

#: Fields whose ``nodes`` and ``edges`` are drawable-graph lists sized by the
#: field's ``limit`` (already counted): a node costs 1, its edges about 4.
_DRAWN = frozenset({"subgraph", "topicGraph", "topicMap"})
_EDGES_PER_NODE = 4

#: The JSON exports of a drawable graph, and what each of its nodes and edges
#: weighs in them against an object of ``nodes`` or ``edges``: every field of
#: the node (keywords too) in one object, written out (see ``LAYOUT_PAIRS_PER_COST``
#: for the measurement).
EXPORT_WEIGHTS: Mapping[str, int] = {"cytoscape": 1, "d3": 1, "graphology": 1}

#: A server-side layout of ``n`` nodes costs ``n * n`` over this: the spring
#: layouts compare every pair of nodes at each step (measured: networkx's
#: spring layout 57 ms at 200 nodes, ours 0.5 s at 1,000 and 2 s at 2,000),
#: so one layout of 2,000 nodes costs the whole of :data:`MAX_COST`.
LAYOUT_PAIRS_PER_COST = 200

#: Text fields far longer than an object's other fields, and what each weighs
#: against an object: an answer is 1.4 kB on average in the dev corpus (an
#: article's id, title and url about 150 B), so that 15 pages of 100 articles
#: with their answers and their backlinks' answers (9,000 objects, 25 MB of
#: JSON, 0.3 s of the event loop to write) are refused for their size. A list
#: of keywords is as slow to complete as an object (16 µs against 10 µs). An
#: answer rendered as HTML takes 413 µs of the event loop (Markdown and maths,
#: mean of 500 dev answers), some 40 objects: 500 of them are the 0.2 s the
#: costliest operation may hold it.
TEXT_WEIGHTS: Mapping[str, float] = {
    "answer": 10,
    "answerRaw": 10,
    "answerHtml": 40,
    "keywords": 1,
}

#: What any other scalar field weighs against an object. Every field is
#: resolved on the event loop, where an object takes about 10 µs and a scalar
#: field 2-4 µs (dev corpus, in process): 4,500 objects of 12 fields each took
#: 0.21 s there, in which no other request was answered. Weighed so, the
#: costliest operation allowed holds the event loop about 0.2 s.
SCALAR_WEIGHT = 0.2

#: Fields that compute rather than look up: each object they return counts
#: this many times (a path search, a similarity ranking).
COMPUTE_WEIGHTS: Mapping[str, int] = {
    "learningPath": 500,
    "learningPaths": 500,
    "learningPathSearch": 500,
    "linkSuggestions": 50,
    "similar": 20,
    "missingLinks": 20,
    "suggestions": 20,
    # RefD ranks up to 17 candidates, each reading two neighbourhoods.
    "prerequisites": 50,
    # The whole plan of the topic is placed to count it (0.3 s for dev's largest topic
    # from a start asked for; from the default start it is kept with the graph).
    "readingOrder": 20,
    "readingPlan": 20,
}

#: What each object of ``articles`` counts when its filter has a ``search``:
#: the matches are ranked (thousands for a common word), as ``similar`` ranks
#: its candidates.
SEARCH_WEIGHT = 20

#: Arguments that size a list field, and the most each may be; ``last`` first:
#: given, it replaces ``first`` (see :class:`kgraph.api.pagination.Paging`).
_SIZE_ARGUMENTS: Mapping[str, int] = {
    "last": MAX_FIRST,
    "first": MAX_FIRST,
    "limit": MAX_LIMIT,
    "k": MAX_PATHS,
    "ids": MAX_NODES,
}

#: The size of a list field called without its sizing argument, by field name.
ListSizes = Mapping[str, int]


def list_sizes(schema: GraphQLSchema) -> dict[str, int]:
    """The defaults of the schema's sizing arguments (``first``, ``limit``, ``k``), by field name.

    The schema states each default once; the cost reads it from there. A
    name that several types' fields share takes the largest of their defaults.

    >>> from graphql import build_schema
    >>> list_sizes(build_schema("type Query { a(first: Int = 5): [Int] b(k: Int = 3): [Int] }"))
    {'a': 5, 'b': 3}
    """
    sizes: dict[str, int] = {}
    for named in schema.type_map.values():
        if named.name.startswith("__") or not isinstance(
            named, GraphQLObjectType | GraphQLInterfaceType
        ):
            continue
        for name, field in named.fields.items():
            for argument in _SIZE_ARGUMENTS:
                found = field.args.get(argument)
                if found is None:
                    continue
                default = found.default_value
                if default is Undefined and found.ast_node and found.ast_node.default_value:
                    # A schema built from SDL keeps the default as written.
                    default = value_from_ast(found.ast_node.default_value, found.type)
                if isinstance(default, int):
                    sizes[name] = max(sizes.get(name, 0), default)
    return sizes


class _Unknown:
    """A variable's value where the request's variables are not known."""


_UNKNOWN = _Unknown()

Variables = Mapping[str, Any] | None


def _value(node: ValueNode, variables: Variables) -> Any:
    """An argument's value, with the request's variables put in.

    A variable not given is :data:`graphql.Undefined`; where ``variables`` is
    ``None`` (not known), every variable is ``_UNKNOWN``.
    """
    if isinstance(node, VariableNode):
        if variables is None:
            return _UNKNOWN
        return variables.get(node.name.value, Undefined)
    if isinstance(node, ObjectValueNode):
        return {item.name.value: _value(item.value, variables) for item in node.fields}
    if isinstance(node, ListValueNode):
        return [_value(item, variables) for item in node.values]
    return value_from_ast_untyped(node)


def _size(field: FieldNode, default: int | None, variables: Variables) -> int | None:
    """The size a list field asks for: its ``last``, ``first``, ``limit``, ``k`` or
    the count of its ``ids``, else ``default``.

    A variable counts by its value (at most the argument's most); by the
    argument's most where the variables are not known (or its value is not a
    whole number).
    """
    given = {argument.name.value: argument for argument in field.arguments or ()}
    for name, most in _SIZE_ARGUMENTS.items():
        argument = given.get(name)
        if argument is None:
            continue
        value = _value(argument.value, variables)
        if name == "last" and (value is Undefined or value is None):
            continue  # not given: `first` decides
        if value is Undefined or value is None:  # not given: the field's default
            return default if default is not None else most
        if isinstance(value, list):  # ids
            return min(len(value), most)
        if isinstance(value, float) and value.is_integer() and abs(value) <= most:
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            # Beyond its most, the argument's own range check refuses it anyway.
            return min(max(value, 0), most)
        return most
    return default


def _searches(field: FieldNode, variables: Variables) -> bool:
    """Whether a field's ``filter`` has a ``search`` (or may have, unknown variables)."""
    for argument in field.arguments or ():
        if argument.name.value != "filter":
            continue
        given = _value(argument.value, variables)
        if given is _UNKNOWN:
            return True
        if isinstance(given, Mapping):
            search = given.get("search", Undefined)
            return search is not None and search is not Undefined
    return False


def _layout_cost(field: FieldNode, nodes: int | None, variables: Variables) -> int:
    """What laying out a drawable graph of ``nodes`` nodes costs: nothing without a layout.

    ``CIRCULAR`` places the nodes in one pass; the others compare pairs of
    nodes (:data:`LAYOUT_PAIRS_PER_COST`). An unknown variable counts as such a layout.
    """
    for argument in field.arguments or ():
        if argument.name.value != "layout":
            continue
        layout = _value(argument.value, variables)
        if layout is None or layout is Undefined or layout in ("NONE", "CIRCULAR"):
            return 0
        return (nodes or 0) ** 2 // LAYOUT_PAIRS_PER_COST
    return 0


def _with_defaults(operation: OperationDefinitionNode, variables: Variables) -> Variables:
    """The request's variables, with the operation's defaults for those not given."""
    if variables is None:
        return None
    merged = dict(variables)
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name not in merged and definition.default_value is not None:
            merged[name] = value_from_ast_untyped(definition.default_value)
    return merged


def operation_cost(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Variables,
    sizes: ListSizes,
) -> int:
    """About how many objects ``operation`` could return, stopping once over :data:`MAX_COST`.

    An object field costs the product of the list sizes of itself and every
    list above it: ``first``, ``limit`` or ``k`` where given (its default
    where not), the sizes of :data:`LIST_SIZES` for lists without them, 1 for
    anything else; times its :data:`COMPUTE_WEIGHTS` for fields that compute
    (:data:`SEARCH_WEIGHT` for ``articles`` with a ``search``). A scalar field
    costs :data:`SCALAR_WEIGHT` of an object for each object it is asked of
    (long text its :data:`TEXT_WEIGHTS`, a drawn graph's JSON export its
    nodes and edges, :data:`EXPORT_WEIGHTS`); an operation costs the sum,
    rounded up.

    A variable counts by its value in ``variables``; with ``variables`` of
    ``None`` (not known), by the most its argument takes: 100 for ``first``
    and ``last``, 2,000 for ``limit``, 10 for ``k``. ``sizes`` are the fields'
    defaults (:func:`list_sizes` of the schema).

    >>> from graphql import parse
    >>> document = parse("query($l: Int!) { subgraph(center: [1], limit: $l) { nodes { id } } }")
    >>> operation = document.definitions[0]
    >>> sizes = {"subgraph": 200}
    >>> operation_cost(document, operation, {"l": 10}, sizes)
    22
    >>> operation_cost(document, operation, None, sizes)
    4400
    """
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    known = _with_defaults(operation, variables)
    # A fragment's cost at factor 1, by the field it is spread in: the cost is
    # linear in the factor (short of the stop over MAX_COST, which a product
    # keeps over it), so each fragment is counted once however often it is spread.
    spread: dict[tuple[str, str], float] = {}

    def fragment(name: str, parent: str, seen: frozenset[str]) -> float:
        key = (name, parent)
        found = spread.get(key)
        if found is None:
            if name not in fragments or name in seen:
                return 0
            found = spread[key] = cost(fragments[name].selection_set, 1, seen | {name}, parent)
        return found

    def cost(
        selection_set: SelectionSetNode | None, factor: int, seen: frozenset[str], parent: str
    ) -> float:
        total = 0.0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if parent in _DRAWN and name == "edges":
                    size: int | None = _EDGES_PER_NODE
                else:
                    default = sizes.get(name, LIST_SIZES.get(name))
                    size = _size(selection, default, known)
                inner = factor * (size if size is not None else 1)
                if selection.selection_set is not None:  # scalars come with their object
                    weight = COMPUTE_WEIGHTS.get(name, 1)
                    if name == "articles" and _searches(selection, known):
                        weight = SEARCH_WEIGHT
                    total += inner * weight + cost(selection.selection_set, inner, seen, name)
                    if name in _DRAWN:
                        total += factor * _layout_cost(selection, size, known)
                elif parent in _DRAWN and name in EXPORT_WEIGHTS:
                    # A drawing library's JSON of the whole graph: its nodes and edges.
                    total += factor * (1 + _EDGES_PER_NODE) * EXPORT_WEIGHTS[name]
                else:
                    total += factor * TEXT_WEIGHTS.get(name, SCALAR_WEIGHT)
            elif isinstance(selection, InlineFragmentNode):
                total += cost(selection.selection_set, factor, seen, parent)
            elif isinstance(selection, FragmentSpreadNode):
                total += factor * fragment(selection.name.value, parent, seen)
            if total > MAX_COST:
                break
        return total

    return math.ceil(cost(operation.selection_set, 1, frozenset(), ""))


def cost_error(
    document: DocumentNode, operation_name: str | None, variables: Variables, sizes: ListSizes
) -> GraphQLError | None:
    """The error refusing the operation to run, when it costs over :data:`MAX_COST`."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:  # execution says which operation is missing
        return None
    return _refusal(operation, operation_cost(document, operation, variables, sizes))


def _refusal(operation: OperationDefinitionNode, total: int) -> GraphQLError | None:
    if total <= MAX_COST:
        return None
    name = operation.name.value if operation.name else "anonymous"
    return GraphQLError(
        f"operation '{name}' could return about {total:,} objects, over the"
        f" limit of {MAX_COST:,}: ask for smaller pages (lower `first`)"
        " or fewer nested lists",
        operation,
        extensions={"code": COST_LIMIT, "cost": total, "limit": MAX_COST},
    )


class CostLimiter(SchemaExtension):
    """Refuse operations that could return too many objects (:func:`operation_cost`);
    report the cost of every operation counted in the result's ``extensions.cost``.

    Not a validation rule: rules see the document but not the variables
    (graphql-core's ``ValidationContext`` holds neither, and strawberry's
    validation cache is keyed by the document), so the cost is counted once
    validation has passed, with the request's variables, before execution.
    Counted: a client sees what an operation costs against :data:`MAX_COST`
    before it nears it, as GitHub's ``rateLimit.cost`` tells.
    """

    def __init__(self, sizes: ListSizes) -> None:
        super().__init__()
        #: The defaults of the schema's sizing arguments (:func:`list_sizes`).
        self.sizes = sizes
        self.cost: int | None = None

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        operation = (
            get_operation_ast(document, context.operation_name) if document is not None else None
        )
        if document is not None and operation is not None:
            self.cost = operation_cost(document, operation, context.variables or {}, self.sizes)
            error = _refusal(operation, self.cost)
            if error is not None:
                # A result set here is returned instead of executing the operation.
                context.result = ExecutionResult(data=None, errors=[error])
        yield

    def get_results(self) -> dict[str, Any]:
        return {"cost": self.cost} if self.cost is not None else {}


# --- validation: depth, aliases and size of the operation with its fragments expanded -----

#: The most fields an operation may have once every fragment spread is
#: replaced by the fragment's fields: 2,000 tokens without fragments make at
#: most about a thousand fields; fragments spread several times multiply theirs.
MAX_EXPANDED_FIELDS = 10_000


@dataclass(frozen=True, slots=True)
class Expansion:
    """What a selection set amounts to once every fragment in it is expanded.

    ``depth`` is how many fields deep it nests below its owner (introspection
    fields, ``__schema`` and the like, not followed: GraphiQL's own query
    nests deeper than any limit); ``aliases`` counts its aliased fields and
    ``fields`` all of its fields, each as often as it would be expanded.
    """

    depth: int = 0
    aliases: int = 0
    fields: int = 0


_NOTHING = Expansion()


def expansions(document: DocumentNode) -> list[tuple[OperationDefinitionNode, Expansion]]:
    """Each operation of ``document`` with its :class:`Expansion`, in linear time.

    A fragment's expansion is worked out once, however often it is spread:
    fragments that each spread the next twice expand to exponentially many
    fields, which expanding them one spread at a time would take as long to
    count. A fragment spread within itself (refused by graphql-core's
    ``NoFragmentCycles``) counts as nothing where it recurs.

    >>> from graphql import parse
    >>> document = parse(
    ...     "query { ...A } fragment A on Query { a: stats { ...B } b: stats { ...B } }"
    ...     " fragment B on Stats { files links }"
    ... )
    >>> expansions(document)[0][1]
    Expansion(depth=1, aliases=2, fields=6)
    """
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    known: dict[str, Expansion] = {}
    expanding: set[str] = set()

    def fragment(name: str) -> Expansion:
        found = known.get(name)
        if found is not None:
            return found
        definition = fragments.get(name)
        if definition is None or name in expanding:
            return _NOTHING
        expanding.add(name)
        found = known[name] = selections(definition.selection_set)
        expanding.discard(name)
        return found

    def selections(selection_set: SelectionSetNode | None) -> Expansion:
        depth = aliases = fields = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                fields += 1
                aliases += selection.alias is not None
                if selection.selection_set is None:
                    continue
                inner = selections(selection.selection_set)
                if not selection.name.value.startswith("__"):
                    depth = max(depth, 1 + inner.depth)
                aliases += inner.aliases
                fields += inner.fields
                continue
            if isinstance(selection, InlineFragmentNode):
                inner = selections(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                inner = fragment(selection.name.value)
            else:
                continue
            depth = max(depth, inner.depth)
            aliases += inner.aliases
            fields += inner.fields
        return Expansion(depth, aliases, fields)

    return [
        (d, selections(d.selection_set))
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    ]


def _name(operation: OperationDefinitionNode) -> str:
    return operation.name.value if operation.name else "anonymous"


def _rule(
    check: Callable[[OperationDefinitionNode, Expansion], str | None],
) -> type[ValidationRule]:
    """A validation rule reporting what ``check`` says of each operation's expansion."""

    class Rule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            for operation, expansion in expansions(context.document):
                message = check(operation, expansion)
                if message is not None:
                    context.report_error(GraphQLError(message, operation))

    Rule.__name__ = Rule.__qualname__ = check.__name__.title().replace("_", "") + "Rule"
    Rule.__doc__ = check.__doc__
    return Rule


def _depth_limit(operation: OperationDefinitionNode, expansion: Expansion) -> str | None:
    """Refuse operations nesting fields more than :data:`MAX_QUERY_DEPTH` deep."""
    if expansion.depth <= MAX_QUERY_DEPTH:
        return None
    return (
        f"'{_name(operation)}' exceeds maximum operation depth of {MAX_QUERY_DEPTH}"
        f" (it nests {expansion.depth} deep, fragments included): ask for fewer levels"
    )


def _alias_limit(operation: OperationDefinitionNode, expansion: Expansion) -> str | None:
    """Refuse operations of more than :data:`MAX_ALIASES` aliases, fragments expanded."""
    if expansion.aliases <= MAX_ALIASES:
        return None
    return f"{expansion.aliases} aliases found. Allowed: {MAX_ALIASES}"


def _expansion_limit(operation: OperationDefinitionNode, expansion: Expansion) -> str | None:
    """Refuse operations of more than :data:`MAX_EXPANDED_FIELDS` fields, fragments expanded."""
    if expansion.fields <= MAX_EXPANDED_FIELDS:
        return None
    return (
        f"operation '{_name(operation)}' would have {expansion.fields:,} fields once its"
        f" fragments are expanded, over the limit of {MAX_EXPANDED_FIELDS:,}: spread each"
        " fragment fewer times (a fragment spreading another twice doubles its fields)"
    )


#: Built once: rule classes made per request would defeat caching validation.
#: Ours rather than strawberry's depth and alias limiters, which expand each
#: fragment spread anew: 20 fragments that each spread the next twice (823
#: bytes) took them minutes.
VALIDATION_RULES: tuple[type[ValidationRule], ...] = (
    _rule(_depth_limit),
    _rule(_alias_limit),
    _rule(_expansion_limit),
)


def should_mask_error(error: GraphQLError) -> bool:
    """Mask unexpected errors; let syntax, validation and :class:`QueryError` through."""
    original = error.original_error
    if original is None:
        return False
    return not isinstance(original, QueryError | GraphQLError)

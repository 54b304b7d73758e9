"""The schema's protections against expensive requests: fragments, exports and layouts."""

from __future__ import annotations

import asyncio
import json
import math
import time
from typing import Any

import pytest
import strawberry
from graphql import OperationDefinitionNode, build_schema, parse, specified_rules, validate

from kgraph.api import Context, create_schema
from kgraph.api.limits import (
    EXPORT_WEIGHTS,
    LAYOUT_PAIRS_PER_COST,
    MAX_ALIASES,
    MAX_COST,
    MAX_EXPANDED_FIELDS,
    MAX_QUERY_DEPTH,
    MAX_RESPONSE_BYTES,
    SCALAR_WEIGHT,
    VALIDATION_RULES,
    expansions,
    operation_cost,
)
from kgraph.graph import KnowledgeGraph
from kgraph.graph.subgraphs import KAMADA_KAWAI_MAX_NODES

#: The defaults of the schema's sizing arguments, as the server counts costs with.
SIZES = create_schema().list_sizes


@pytest.fixture(scope="module")
def schema() -> strawberry.Schema:
    return create_schema()


def run(schema: strawberry.Schema, kg: KnowledgeGraph, query: str, **variables: Any) -> Any:
    return asyncio.run(
        schema.execute(query, variable_values=variables, context_value=Context(graph=kg))
    )


def errors(result: Any) -> list[str]:
    assert result.errors, result.data
    return [str(error.message) for error in result.errors]


def _cost(query: str, variables: dict[str, Any] | None = None) -> int:
    document = parse(query)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    return operation_cost(document, operation, variables or {}, SIZES)


def _doubling(levels: int, on: str = "Stats", leaf: str = "files") -> str:
    """Fragments that each spread the next twice: 2**levels copies of ``leaf`` in 800-odd bytes."""
    top = "query Q { stats { ...F0 } }" if on == "Stats" else "query Q { ...F0 }"
    chain = [f"fragment F{i} on {on} {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    return "\n".join([top, *chain, f"fragment F{levels} on {on} {{ {leaf} }}"])


@pytest.mark.parametrize("levels", [20, 60])
def test_doubling_fragments_are_refused_in_milliseconds(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph, levels: int
) -> None:
    # Strawberry's depth and alias rules expanded every spread: 16 levels took
    # 0.28 s, each more doubling it (20 levels: seconds; 60: never).
    rules = (*specified_rules, *VALIDATION_RULES)
    served = build_schema(str(schema))
    for text in (
        _doubling(levels),
        _doubling(levels, "Query", "articles(first: 100) { nodes { articleId } }"),
    ):
        document = parse(text)
        start = time.perf_counter()
        found = validate(served, document, rules)
        operation = document.definitions[0]
        assert isinstance(operation, OperationDefinitionNode)
        cost = operation_cost(document, operation, {}, SIZES)
        assert time.perf_counter() - start < 0.5  # about 5 ms at 60 levels
        assert [e.message for e in found] == [
            f"operation 'Q' would have {expansions(document)[0][1].fields:,} fields once its"
            f" fragments are expanded, over the limit of {MAX_EXPANDED_FIELDS:,}: spread each"
            " fragment fewer times (a fragment spreading another twice doubles its fields)"
        ]
        assert cost > MAX_COST or "articles" not in text
    start = time.perf_counter()
    message = errors(run(schema, seeds_graph, _doubling(levels)))
    assert time.perf_counter() - start < 0.5
    assert "fragments are expanded, over the limit of 10,000" in message[0]


def test_expansion_counts_every_spread_of_a_fragment() -> None:
    document = parse(_doubling(3))
    # stats, then 8 copies of files.
    assert expansions(document)[0][1].fields == 1 + 2**3
    assert expansions(parse(_doubling(13)))[0][1].fields == 1 + 2**13 <= MAX_EXPANDED_FIELDS
    assert expansions(parse(_doubling(14)))[0][1].fields > MAX_EXPANDED_FIELDS


def test_what_expands_within_the_limit_still_runs(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    result = run(schema, seeds_graph, _doubling(10))
    assert result.errors is None
    assert result.data == {"stats": {"files": len(seeds_graph.files)}}


def test_depth_counts_through_fragments(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    # article, 5 times links and target, then id: 11 levels of fields, 10 of them with fields below.
    inline = "{ article(id: 168904) { " + "links { target { " * 5 + "id" + " } }" * 5 + " } }"
    assert expansions(parse(inline))[0][1].depth == 11
    spread = (
        "query Deep { article(id: 168904) { ...L } }"
        " fragment L on Article { links { target { ...M } } }"
        " fragment M on Article { links { target { links { target { links { target {"
        " links { target { articleId } } } } } } } } }"
    )
    assert expansions(parse(spread))[0][1].depth == 11
    for query, name in ((inline, "anonymous"), (spread, "Deep")):
        message = errors(run(schema, seeds_graph, query))[0]
        assert message.startswith(f"'{name}' exceeds maximum operation depth of {MAX_QUERY_DEPTH}")
        assert "it nests 11 deep" in message
    within = "{ article(id: 168904) { " + "links { target { " * 4 + "id" + " } }" * 4 + " } }"
    assert run(schema, seeds_graph, within).errors is None


def test_introspection_is_not_held_to_the_depth_limit(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    # GraphiQL's schema query nests ofType a dozen deep.
    deep = (
        "{ __schema { types { fields { type "
        + "{ ofType " * 12
        + "{ name }"
        + " }" * 12
        + " } } } }"
    )
    assert run(schema, seeds_graph, deep).errors is None


def test_aliases_count_each_spread_of_a_fragment(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    eight = " ".join(f"a{i}: files" for i in range(8))
    query = f"{{ one: stats {{ ...S }} }} fragment S on Stats {{ {eight} }}"
    assert run(schema, seeds_graph, query).errors is None  # 9 aliases
    twice = f"{{ one: stats {{ ...S }} two: stats {{ ...S }} }} fragment S on Stats {{ {eight} }}"
    assert errors(run(schema, seeds_graph, twice)) == [
        f"{2 + 2 * 8} aliases found. Allowed: {MAX_ALIASES}"
    ]


def test_a_fragment_costs_what_its_fields_written_out_cost() -> None:
    fields = "nodes { id backlinks(first: 5) { id } } edges { id }"
    inline = f"{{ a: subgraph(center: [1], limit: 30) {{ {fields} }} b: articles(first: 7) {{ nodes {{ id backlinks(first: 5) {{ id }} }} }} }}"
    spread = (
        "{ a: subgraph(center: [1], limit: 30) { ...Drawn } b: articles(first: 7) { ...Page } }"
        f" fragment Drawn on Subgraph {{ {fields} }}"
        " fragment Page on ArticleConnection { nodes { ...Linked } }"
        " fragment Linked on Article { id backlinks(first: 5) { id } }"
    )
    objects = 30 + 30 + 30 * 5 + 4 * 30 + 7 + 7 + 7 * 5
    ids = 30 + 30 * 5 + 4 * 30 + 7 + 7 * 5  # one scalar field asked of each
    assert _cost(spread) == _cost(inline) == math.ceil(objects + SCALAR_WEIGHT * ids)


def test_an_export_costs_what_its_nodes_and_edges_cost() -> None:
    drawn = 'topicGraph(key: "biology", limit: 100) { %s }'
    # The graph's 100 nodes and about 400 edges, as the lists of them count.
    listed = _cost("{ " + drawn % "nodes { id } edges { id }" + " }")
    assert listed == math.ceil(100 + 500 + SCALAR_WEIGHT * 500)
    for export in EXPORT_WEIGHTS:
        assert _cost("{ " + drawn % export + " }") == 100 + 500
    assert _cost("{ " + drawn % "cytoscape d3 graphology" + " }") == 100 + 3 * 500


def test_exports_of_big_graphs_are_refused(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    # Ten of these answered 43.7 MB for a cost of 20,000.
    exports = " ".join(
        f'g{i}: topicGraph(key: "biology", limit: 2000) {{ cytoscape d3 graphology }}'
        for i in range(10)
    )
    assert "over the limit of 20,000" in errors(run(schema, seeds_graph, f"{{ {exports} }}"))[0]
    one = '{ topicGraph(key: "biology", limit: 2000) { cytoscape } }'
    assert run(schema, seeds_graph, one).errors is None
    two = '{ topicGraph(key: "biology", limit: 2000) { cytoscape d3 } }'
    assert "over the limit" in errors(run(schema, seeds_graph, two))[0]


def test_layouts_cost_by_the_square_of_their_nodes() -> None:
    def laid(layout: str) -> int:
        return _cost(
            f"{{ subgraph(center: [1], limit: 1000, layout: {layout}) {{ nodes {{ id }} }} }}"
        )

    bare = laid("NONE")
    assert laid("CIRCULAR") == bare
    assert laid("SPRING") == laid("KAMADA_KAWAI") == bare + 1000**2 // LAYOUT_PAIRS_PER_COST
    query = "query($l: Layout) { subgraph(center: [1], limit: 1000, layout: $l) { nodes { id } } }"
    assert _cost(query, {"l": "SPRING"}) == laid("SPRING")
    assert _cost(query, {"l": None}) == _cost(query, {}) == bare
    document = parse(query)
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    assert operation_cost(document, operation, None, SIZES) >= laid(
        "SPRING"
    )  # not known: the worst


def test_many_layouts_are_refused_and_big_kamada_kawai_layouts_too(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    springs = " ".join(
        f"s{i}: subgraph(center: [168904], limit: 1000, layout: SPRING) {{ nodes {{ x }} }}"
        for i in range(5)
    )
    assert "over the limit" in errors(run(schema, seeds_graph, f"{{ {springs} }}"))[0]
    # The topic map of the seeds has 6 nodes; a Kamada-Kawai layout of more is refused.
    assert (
        run(schema, seeds_graph, "{ topicMap(layout: KAMADA_KAWAI) { nodes { x } } }").errors
        is None
    )
    big = (
        "{ subgraph(center: [168904], depth: 3, limit: %d, layout: KAMADA_KAWAI) { nodes { x } } }"
    )
    fits = run(schema, seeds_graph, big % KAMADA_KAWAI_MAX_NODES)
    assert fits.errors is None
    assert len(fits.data["subgraph"]["nodes"]) > 1
    many_centers = ", ".join(
        str(i) for i in sorted(seeds_graph.articles)[: KAMADA_KAWAI_MAX_NODES + 1]
    )
    message = errors(
        run(
            schema,
            seeds_graph,
            f"{{ subgraph(center: [{many_centers}], limit: 100, layout: KAMADA_KAWAI) {{ nodes {{ x }} }} }}",
        )
    )[0]
    assert message.startswith(
        f"the KAMADA_KAWAI layout takes at most {KAMADA_KAWAI_MAX_NODES} nodes, and this graph"
    )
    assert "or for the SPRING layout" in message


def test_the_response_cap_holds_the_largest_answers_the_cost_limit_lets_through(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    # On the dev corpus a full topic graph (2,000 nodes) with every node field
    # and an export comes to 2.4 MB, a page of 100 articles with every text 0.6 MB.
    everything = (
        '{ topicGraph(key: "biology", limit: 2000, layout: CIRCULAR) {'
        " nodes { id label topic inDegree outDegree wanted weight x y keywords internalLinks }"
        " cytoscape } }"
    )
    result = run(schema, seeds_graph, everything)
    assert result.errors is None
    per_node = len(json.dumps(result.data).encode()) / len(result.data["topicGraph"]["nodes"])
    assert 2_000 * per_node * 2 < MAX_RESPONSE_BYTES

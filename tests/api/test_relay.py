"""Relay's conventions: connections for long lists, paging both ways, global ids and `node`."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest
import strawberry
from graphql import (
    GraphQLInterfaceType,
    GraphQLObjectType,
    OperationDefinitionNode,
    build_schema,
    get_named_type,
    get_nullable_type,
    is_list_type,
    parse,
)
from strawberry.types import ExecutionResult

from kgraph.api import Context, create_schema
from kgraph.api.limits import operation_cost
from kgraph.api.pagination import MAX_FIRST
from kgraph.graph import KnowledgeGraph

#: List fields that are not connections, and why none can exceed 100 entries.
#: Every other list field of an object type must be a connection (the
#: ``nodes`` and ``edges`` of a connection are one page: 100 at the most).
BOUNDED = {
    "Query.nodes": "at most 100 ids, checked",
    "Query.topics": "subject areas: 18 in the dev corpus, tens on the whole site",
    "Query.learningPaths": "k is 1 to 10",
    "PathSearch.paths": "k is 1 to 10",
    "LearningPath.steps": "a path is whole: maxHops (at most 100) steps after the start",
    "Subgraph.nodes": "a drawing is whole, sized by `limit` (at most 2,000) and costed by it",
    "Subgraph.edges": "the links among a drawing's nodes",
    "Article.topics": "one per copy's subject",
    "Article.copies": "one file per subject folder at the most",
    "DuplicateArticle.copies": "as Article.copies",
    "Article.links": "its files' related entries: related_article1 to 5 in the corpus",
    "Article.keywords": "a file's keywords: a handful",
    "SubgraphNode.keywords": "as Article.keywords",
    "Article.prerequisites": "first is 1 to 100, of at most 17 candidates",
    "WantedArticle.suggestions": "3 at the most",
    "LinkSuggestion.suggested": "5 at the most",
    "ReadingStep.nearDuplicates": "an article's bridges: 8 at the most",
    "RelatedReasons.commonNeighbours": "3 at the most",
    "RelatedReasons.sharedTerms": "3 at the most",
    "RelatedReasons.sharedKeywords": "keywords of one article",
    "SimilarArticle.sharedKeywords": "keywords of one article",
    "Step.sharedKeywords": "keywords of one article",
    "Step.sharedTerms": "3 at the most",
    "Topic.spellings": "spellings of one subject",
    "TopicSpelling.spellings": "spellings of one subject",
    "Curation.subjectSpellings": "one per topic",
    "Finding.ranks": "one or two",
}


@pytest.fixture(scope="module")
def schema() -> strawberry.Schema:
    return create_schema()


def execute(
    schema: strawberry.Schema, kg: KnowledgeGraph, query: str, version: int = 1, **variables: Any
) -> ExecutionResult:
    # Each version another graph (as a reload of a changed corpus gives).
    context = Context(graph=kg, graph_version=version, graph_id=f"g{version}")
    return asyncio.run(schema.execute(query, variable_values=variables, context_value=context))


def run(
    schema: strawberry.Schema, kg: KnowledgeGraph, query: str, version: int = 1, **variables: Any
) -> Any:
    result = execute(schema, kg, query, version, **variables)
    assert result.errors is None, result.errors
    return result.data


def _connection(named: Any) -> bool:
    return isinstance(named, GraphQLObjectType) and named.name.endswith("Connection")


def test_every_list_that_can_exceed_100_is_a_connection(schema: strawberry.Schema) -> None:
    served = build_schema(str(schema))
    lists: set[str] = set()
    for named in served.type_map.values():
        if named.name.startswith("__") or not isinstance(named, GraphQLObjectType):
            continue
        for name, field in named.fields.items():
            if _connection(named) and name in ("nodes", "edges"):
                continue  # one page
            if is_list_type(get_nullable_type(field.type)):
                lists.add(f"{named.name}.{name}")
            if _connection(get_named_type(field.type)):
                # A connection takes both ways of paging, and says how long the list is.
                assert {"first", "after", "last", "before"} <= set(field.args), name
                assert "totalCount" in get_named_type(field.type).fields
    assert lists - set(BOUNDED) == set(), "list fields that should be connections"
    assert set(BOUNDED) - lists == set(), "fields BOUNDED names that are no lists"


def test_page_info_is_relays(schema: strawberry.Schema) -> None:
    page_info = build_schema(str(schema)).type_map["PageInfo"]
    assert isinstance(page_info, GraphQLObjectType)
    assert set(page_info.fields) == {"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"}


PAGE = """query($first: Int, $after: String, $last: Int, $before: String) {
  curation { wantedArticles(first: $first, after: $after, last: $last, before: $before) {
    totalCount edges { cursor node { articleId } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }"""


def test_paging_forwards_and_backwards_gives_the_same_entries(
    schema: strawberry.Schema, dev_graph: KnowledgeGraph
) -> None:
    forwards: list[int] = []
    after = None
    while True:
        page = run(schema, dev_graph, PAGE, first=MAX_FIRST, after=after)["curation"]
        page = page["wantedArticles"]
        forwards += [edge["node"]["articleId"] for edge in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    backwards: list[int] = []
    before = None
    while True:
        page = run(schema, dev_graph, PAGE, last=MAX_FIRST, before=before)["curation"]
        page = page["wantedArticles"]
        backwards = [edge["node"]["articleId"] for edge in page["edges"]] + backwards
        assert page["pageInfo"]["hasNextPage"] == (before is not None)
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    total = page["totalCount"]
    assert total > 10 * MAX_FIRST  # many pages: 3,084 wanted articles
    assert backwards == forwards
    assert len(forwards) == len(set(forwards)) == total


def test_a_window_between_two_cursors(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    every = run(
        schema, seeds_graph, "{ articles(first: 100) { edges { cursor node { articleId } } } }"
    )
    edges = every["articles"]["edges"]
    query = (
        "query($a: String, $b: String, $f: Int, $l: Int) {"
        " articles(after: $a, before: $b, first: $f, last: $l) {"
        " nodes { articleId } pageInfo { hasNextPage hasPreviousPage } } }"
    )
    ids = [edge["node"]["articleId"] for edge in edges]
    between = {"a": edges[4]["cursor"], "b": edges[20]["cursor"]}
    first = run(schema, seeds_graph, query, **between, f=3)["articles"]
    assert [n["articleId"] for n in first["nodes"]] == ids[5:8]
    last = run(schema, seeds_graph, query, **between, l=3)["articles"]
    assert [n["articleId"] for n in last["nodes"]] == ids[17:20]
    assert last["pageInfo"] == {"hasNextPage": True, "hasPreviousPage": True}
    # Without `first` (20 by default), `last` counts back from the end of the list.
    tail = run(schema, seeds_graph, query, l=2)["articles"]
    assert [n["articleId"] for n in tail["nodes"]] == ids[-2:]


def test_related_articles_page_backwards(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    query = (
        "query($l: Int, $b: String) { similar(id: 52002, first: 100, last: $l, before: $b) {"
        " totalCount edges { cursor node { article { articleId } } } } }"
    )
    every = run(schema, seeds_graph, query)["similar"]
    ids = [edge["node"]["article"]["articleId"] for edge in every["edges"]]
    assert len(ids) == every["totalCount"] > 3
    back = run(schema, seeds_graph, query, l=2, b=every["edges"][3]["cursor"])["similar"]
    assert [edge["node"]["article"]["articleId"] for edge in back["edges"]] == ids[1:3]


@pytest.mark.parametrize(
    ("cursor", "message"),
    [
        ("nope", "`after` is not a cursor of this list"),
        ("b2Zmc2V0OjQ=", "`after` is not a cursor of this list"),  # 0.1's "offset:4"
        # Digits past what int() takes (4,300): refused, not an internal error.
        (
            base64.urlsafe_b64encode(b"kgraph:v1:" + b"9" * 4400).decode(),
            "`after` is not a cursor of this list",
        ),
    ],
    ids=["nope", "0.1", "4,400 digits"],
)
def test_a_cursor_not_of_kgraph_is_refused(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph, cursor: str, message: str
) -> None:
    query = "query($a: String) { articles(after: $a) { totalCount } }"
    result = execute(schema, seeds_graph, query, a=cursor)
    assert result.errors is not None
    assert result.errors[0].message.startswith(message)
    assert result.errors[0].extensions == {"code": "BAD_USER_INPUT"}


def test_a_cursor_of_another_graph_version_is_refused(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    query = "query($b: String) { articles(last: 2, before: $b) { pageInfo { startCursor } } }"
    cursor = run(schema, seeds_graph, query, version=3)["articles"]["pageInfo"]["startCursor"]
    assert run(schema, seeds_graph, query, version=3, b=cursor)["articles"]["pageInfo"]
    result = execute(schema, seeds_graph, query, version=4, b=cursor)
    assert result.errors is not None
    assert result.errors[0].message == (
        "`before` is a cursor of graph version 3, but the graph was reloaded (version 4 now)"
        " and its lists may have changed: restart paging from the first page"
    )
    assert result.errors[0].extensions == {"code": "BAD_USER_INPUT"}


#: For each type implementing Node: a query for some of its objects' global ids.
NODES = {
    "Article": "{ articles(first: 3) { nodes { id articleId title } } }",
    "Topic": "{ topics { id key name } }",
    "WantedArticle": "{ curation { wantedArticles { nodes { id articleId title } } } }",
}


def _objects(data: Any) -> list[dict[str, Any]]:
    """The objects of a ``NODES`` answer."""
    found = data
    while isinstance(found, dict) and "id" not in found:
        (found,) = found.values()
        if isinstance(found, dict) and "nodes" in found:
            found = found["nodes"]
    return found  # type: ignore[no-any-return]


def test_node_round_trips_every_node_type(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    served = build_schema(str(schema))
    node = served.type_map["Node"]
    assert isinstance(node, GraphQLInterfaceType)
    implementing = {t.name for t in served.get_implementations(node).objects}
    assert implementing == set(NODES)
    for type_name, query in NODES.items():
        objects = _objects(run(schema, seeds_graph, query))
        assert objects, type_name
        fields = " ".join(key for key in objects[0] if key != "id")
        by_id = f"query($id: ID!) {{ node(id: $id) {{ __typename id ... on {type_name} {{ {fields} }} }} }}"
        for each in objects:
            found = run(schema, seeds_graph, by_id, id=each["id"])["node"]
            assert found == {"__typename": type_name, **each}
        ids = [each["id"] for each in objects]
        many = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
        assert run(schema, seeds_graph, many, ids=ids)["nodes"] == [{"id": i} for i in ids]


def test_a_global_id_the_graph_does_not_hold_is_null(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    from strawberry.relay import to_base64

    query = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    missing = [to_base64("Article", 424242), to_base64("Topic", "history"), to_base64("Nope", 1)]
    assert run(schema, seeds_graph, query, ids=missing)["nodes"] == [None, None, None]
    result = execute(schema, seeds_graph, query, ids=[to_base64("Article", 1)] * (MAX_FIRST + 1))
    assert result.errors is not None
    assert result.errors[0].message == "`nodes` takes 1 to 100 ids, got 101"


def test_article_lookup_keeps_the_numeric_id(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    found = run(schema, seeds_graph, "{ article(by: {id: 168904}) { id articleId } }")["article"]
    assert found["articleId"] == 168904
    again = run(schema, seeds_graph, "query($id: ID!) { node(id: $id) { id } }", id=found["id"])
    assert again["node"]["id"] == found["id"]


def _cost(schema: Any, query: str, variables: dict[str, Any] | None = None) -> int:
    document = parse(query)
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return operation_cost(document, operation, variables, schema.list_sizes)


def test_the_cost_counts_last_and_ids(schema: strawberry.Schema) -> None:
    page = "query($n: Int) {{ articles({}) {{ nodes {{ title }} }} }}"
    assert _cost(schema, page.format("last: 7")) == _cost(schema, page.format("first: 7"))
    # `last` replaces `first`, given or defaulted; a null `last` leaves `first` to count.
    assert _cost(schema, page.format("first: 90, last: 7")) == _cost(
        schema, page.format("first: 7")
    )
    bare = "{ articles { nodes { title } } }"
    assert _cost(schema, page.format("last: $n"), {"n": None}) == _cost(schema, bare)
    assert _cost(schema, page.format("last: $n"), None) == _cost(schema, page.format("first: 100"))
    ids = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    assert _cost(schema, ids, {"ids": ["a", "b", "c"]}) < _cost(schema, ids, {"ids": ["a"] * 9})
    assert _cost(schema, ids, None) == _cost(schema, ids, {"ids": ["a"] * 100})


def test_the_cost_reads_defaults_from_the_schema(schema: strawberry.Schema) -> None:
    sizes = schema.list_sizes  # type: ignore[attr-defined]
    assert (sizes["neighbours"], sizes["similar"], sizes["subgraph"], sizes["learningPaths"]) == (
        50,
        10,
        200,
        3,
    )
    assert _cost(schema, "{ neighbours(id: 1) { nodes { distance } } }") == _cost(
        schema, "{ neighbours(id: 1, first: 50) { nodes { distance } } }"
    )

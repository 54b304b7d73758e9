"""Prepared queries answer as strawberry's full pipeline does, over HTTP and in process."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from graphql import parse

from conftest import SEEDS, kgraph_server
from kgraph.api import Context, create_schema
from kgraph.api.prepared import MAX_PREPARED_TEXT, PreparedQueries
from kgraph.graph import KnowledgeGraph
from kgraph.observe import SCOPE_KEY


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with kgraph_server("--corpus", str(SEEDS)) as server:
        yield server.base


ARTICLE = "query($id: Int) { article(id: $id) { id title url inDegree topics { key } } }"
TWO_OPERATIONS = (
    "query One { article(id: 168904) { title } } query Two { stats { articles links } }"
)
DEEP = "{ article(id: 168904) {" + " links { target {" * 6 + " id" + " } }" * 6 + " } }"
COSTLY = (
    "query($n: Int) { articles(first: $n) { nodes { backlinks(first: 100)"
    " { backlinks(first: 10) { id } } } } }"
)

#: (name, body): every kind of answer, good or not, that a request can get.
CASES: list[tuple[str, dict[str, Any]]] = [
    ("article", {"query": ARTICLE, "variables": {"id": 168904}}),
    ("another article", {"query": ARTICLE, "variables": {"id": 168912}}),
    ("missing article", {"query": ARTICLE, "variables": {"id": -1}}),
    ("no variables", {"query": ARTICLE}),  # a QueryError: give id or url
    ("bad variable", {"query": ARTICLE, "variables": {"id": "x"}}),
    ("unknown variable", {"query": ARTICLE, "variables": {"id": 168904, "other": 1}}),
    ("operation One", {"query": TWO_OPERATIONS, "operationName": "One"}),
    ("operation Two", {"query": TWO_OPERATIONS, "operationName": "Two"}),
    ("no operation name", {"query": TWO_OPERATIONS}),
    ("unknown operation", {"query": TWO_OPERATIONS, "operationName": "Three"}),
    ("operation name a list", {"query": ARTICLE, "variables": {"id": 1}, "operationName": []}),
    ("search (async)", {"query": '{ articles(filter: {search: "ATP pump"}) { nodes { id } } }'}),
    ("syntax error", {"query": "{ article(id: 1) { id "}),
    ("unknown field", {"query": "{ article(id: 1) { nope } }"}),
    ("too deep", {"query": DEEP}),
    ("small pages", {"query": COSTLY, "variables": {"n": 2}}),
    ("big pages", {"query": COSTLY, "variables": {"n": 100}}),
    ("introspection", {"query": "{ __schema { queryType { name } } }"}),
    (
        "everything",
        {
            "query": "{ stats { files articles links } topics { key articleCount } "
            "curation { summary { orphans deadEnds } } "
            "learningPath(from: 168904, to: 168912) { hops steps { article { id } rank } } }"
        },
    ),
]


def _post(base: str, body: dict[str, Any]) -> tuple[int, str, Any]:
    """Status, media type and body (JSON when it is) of a POST of ``body``."""
    response = httpx.post(f"{base}/graphql", json=body, timeout=30)
    media = response.headers["content-type"]
    return response.status_code, media, response.json() if "json" in media else response.text


#: Cases strawberry refuses before GraphQL runs, with a 400 and a plain-text reason.
_REFUSED = {"unknown operation", "operation name a list"}


@pytest.mark.parametrize(("name", "body"), CASES, ids=[name for name, _ in CASES])
def test_a_repeated_request_gets_the_same_answer(
    base: str, name: str, body: dict[str, Any]
) -> None:
    # A text of its own, so that the first request takes the full pipeline.
    body = {**body, "query": f"{body['query']} # {name}"}
    first = _post(base, body)
    assert [_post(base, body) for _ in range(2)] == [first, first]
    assert first[0] == (400 if name in _REFUSED else 200)


def test_extensions_that_are_no_object_are_refused_also_when_prepared(base: str) -> None:
    body = {"query": f"{ARTICLE} # extensions", "variables": {"id": 168904}}
    assert _post(base, body)[0] == 200
    response = httpx.post(f"{base}/graphql", json={**body, "extensions": "x"})
    assert response.status_code == 400


def test_the_cost_limit_still_counts_the_variables_of_a_prepared_query(base: str) -> None:
    assert "errors" not in _post(base, {"query": COSTLY, "variables": {"n": 2}})[2]
    _, _, refused = _post(base, {"query": COSTLY, "variables": {"n": 100}})
    assert refused["data"] is None
    assert "over the limit of 20,000" in refused["errors"][0]["message"]
    assert "errors" not in _post(base, {"query": COSTLY, "variables": {"n": 3}})[2]


def test_get_and_post_answer_a_prepared_query_alike(base: str) -> None:
    body = {"query": ARTICLE, "variables": {"id": 168904}}
    posted = _post(base, body)
    for _ in range(2):
        response = httpx.get(
            f"{base}/graphql",
            params={"query": ARTICLE, "variables": json.dumps(body["variables"])},
        )
        assert (response.status_code, response.json()) == (200, posted[2])


def test_prepared_operations_are_counted_in_metrics(base: str) -> None:
    def answered() -> float:
        metrics = httpx.get(f"{base}/metrics").text
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("kgraph_requests_total{") and 'operation="Two"' in line
        )

    before = answered()
    for _ in range(3):
        _post(base, {"query": TWO_OPERATIONS, "operationName": "Two"})
    assert answered() == before + 3


def test_a_query_is_prepared_once_it_passed_the_pipeline(seeds_graph: KnowledgeGraph) -> None:
    schema = create_schema()
    prepared = schema.prepared
    assert isinstance(prepared, PreparedQueries)
    context = Context(graph=seeds_graph)
    scope: dict[str, Any] = {}

    async def scenario() -> None:
        variables = {"id": 168904}
        assert await prepared.run(ARTICLE, None, variables, context, scope) is None
        full = await schema.execute(ARTICLE, variable_values=variables, context_value=context)
        assert len(prepared) == 1
        again = await prepared.run(ARTICLE, None, variables, context, scope)
        assert again is not None
        assert (again.data, again.errors) == (full.data, full.errors)
        assert scope[SCOPE_KEY] == {"operation": None, "errors": 0}
        # Refused ones are not kept: a syntax error, a failed validation.
        for bad in ("{ article(id: 1) { id ", "{ article(id: 1) { nope } }"):
            assert (await schema.execute(bad, context_value=context)).errors
        assert len(prepared) == 1

    asyncio.run(scenario())


def test_prepared_queries_keep_the_most_recently_used(seeds_graph: KnowledgeGraph) -> None:
    schema = create_schema()
    prepared = PreparedQueries(schema, schema.prepared.mask, size=3)
    document = parse("{ stats { files } }")
    texts = [f"{{ stats {{ files }} }} # {number}" for number in range(5)]
    for text in texts[:3]:
        prepared.remember(text, None, document)
    # A use makes a text the most recent: the next one in pushes out the oldest other.
    context = Context(graph=seeds_graph)
    assert asyncio.run(prepared.run(texts[0], None, None, context, {})) is not None
    prepared.remember(texts[3], None, document)
    assert prepared.queries() == [(texts[2], None), (texts[0], None), (texts[3], None)]
    # Long texts are not kept, and all kept texts share a budget of characters.
    prepared.remember("#" * (MAX_PREPARED_TEXT + 1), None, document)
    assert len(prepared) == 3
    budget = PreparedQueries(schema, schema.prepared.mask, total=len(texts[0]) * 2)
    for text in texts:
        budget.remember(text, None, document)
    assert budget.queries() == [(texts[3], None), (texts[4], None)]
    # Only queries: a subscription is never prepared.
    prepared.remember(
        "subscription { graphChanged { version } }",
        None,
        parse("subscription { graphChanged { version } }"),
    )
    assert len(prepared) == 3

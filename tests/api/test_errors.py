"""Every error carries its ``extensions.code``; the cost is reported; GraphQL-over-HTTP's media type.

In process for the schema (codes, hints, cost); over HTTP, on a real server,
for the refusals of the HTTP layer and the media types.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import strawberry
from graphql import OperationDefinitionNode, parse

from conftest import SEEDS, kgraph_server
from kgraph.api import Context, create_schema
from kgraph.api.limits import MAX_COST, operation_cost
from kgraph.api.media import GRAPHQL_RESPONSE, media_type
from kgraph.graph import KnowledgeGraph

COSTLY = "{ articles(first: 100) { nodes { backlinks(first: 100) { nodes { backlinks(first: 100) { nodes { articleId } } } } } } }"

#: The defaults of the schema's sizing arguments, as the server counts costs with.
SIZES = create_schema().list_sizes


@pytest.fixture(scope="module")
def schema() -> strawberry.Schema:
    return create_schema()


@pytest.fixture(scope="module")
def production() -> strawberry.Schema:
    return create_schema(introspection=False, suggestions=False)


def run(schema: strawberry.Schema, kg: Any, query: str, **variables: Any) -> Any:
    return asyncio.run(
        schema.execute(query, variable_values=variables, context_value=Context(graph=kg))
    )


def codes(result: Any) -> list[str]:
    assert result.errors, result.data
    return [error.extensions["code"] for error in result.errors]


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ articles(first: 1000) { totalCount } }", {}, "BAD_USER_INPUT"),
        ('{ curation(topic: "nope") { summary { files } } }', {}, "BAD_USER_INPUT"),
        ("{ article { articleId } }", {}, "BAD_USER_INPUT"),
        ('{ articles(after: "nope") { totalCount } }', {}, "BAD_USER_INPUT"),
        ("query($f: Int!) { articles(first: $f) { totalCount } }", {"f": "x"}, "BAD_USER_INPUT"),
        ("query($f: Int!) { articles(first: $f) { totalCount } }", {}, "BAD_USER_INPUT"),
        ("{ neighbours(id: 1) { nodes { distance } } }", {}, "NOT_FOUND"),
        ("{ similar(id: 1) { totalCount } }", {}, "NOT_FOUND"),
        ("{ learningPath(from: 1, to: 168904) { hops } }", {}, "NOT_FOUND"),
        ("{ subgraph(center: [1]) { truncated } }", {}, "NOT_FOUND"),
        ("{ article(id: 1) { titel } }", {}, "GRAPHQL_VALIDATION_FAILED"),
        ("{ subgraph(center: [1], direction: UP) { truncated } }", {}, "GRAPHQL_VALIDATION_FAILED"),
        ("{ stats { files ", {}, "GRAPHQL_PARSE_FAILED"),
        ("{ " + "stats { files } " * 700 + "}", {}, "GRAPHQL_PARSE_FAILED"),  # tokens
        (COSTLY, {}, "COST_LIMIT"),
    ],
)
def test_every_error_has_its_code(
    schema: strawberry.Schema,
    seeds_graph: KnowledgeGraph,
    query: str,
    variables: dict[str, Any],
    code: str,
) -> None:
    assert set(codes(run(schema, seeds_graph, query, **variables))) == {code}


def test_unexpected_errors_are_masked_with_their_code(schema: strawberry.Schema) -> None:
    # A context whose graph is not a graph: the resolver fails unexpectedly.
    result = run(schema, object(), "{ stats { files } }")
    assert [e.formatted for e in result.errors] == [
        {
            "message": "Internal server error: it has been logged.",
            "locations": [{"line": 1, "column": 3}],
            "path": ["stats"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR"},
        }
    ]


def test_the_cost_limit_says_the_cost_and_the_limit(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    result = run(schema, seeds_graph, COSTLY)
    extensions = result.errors[0].extensions
    assert extensions["limit"] == MAX_COST
    assert extensions["cost"] > MAX_COST
    assert result.extensions == {"cost": extensions["cost"]}


def test_every_operation_reports_its_cost(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    query = "query($n: Int) { articles(first: $n) { nodes { articleId title } } }"
    document = parse(query)
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    for n in (10, 50):
        cost = operation_cost(document, operation, {"n": n}, SIZES)
        assert run(schema, seeds_graph, query, n=n).extensions == {"cost": cost}
    assert operation_cost(document, operation, {"n": 10}, SIZES) < cost
    # Refused before execution: nothing was counted.
    assert run(schema, seeds_graph, "{ nope }").extensions == {}


def test_production_hides_the_schemas_names_in_hints(
    schema: strawberry.Schema, production: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    query = "{ article(id: 168904) { titel } }"
    hinted = run(schema, seeds_graph, query).errors[0].message
    assert "Did you mean 'title'" in hinted
    plain = run(production, seeds_graph, query).errors[0]
    assert plain.message == "Cannot query field 'titel' on type 'Article'."
    assert plain.extensions == {"code": "GRAPHQL_VALIDATION_FAILED"}
    # Hints in the variables' errors too (an input field, an enum value).
    variables = {"f": {"topik": "biology"}}
    query = "query($f: ArticleFilter) { articles(filter: $f) { totalCount } }"
    assert "Did you mean" in run(schema, seeds_graph, query, **variables).errors[0].message
    assert "Did you mean" not in run(production, seeds_graph, query, **variables).errors[0].message


def test_the_graphql_over_http_media_type_is_chosen_by_preference() -> None:
    assert media_type("application/graphql-response+json") == GRAPHQL_RESPONSE
    assert media_type("application/json, application/graphql-response+json") == GRAPHQL_RESPONSE
    assert media_type("application/json;q=0.9, application/graphql-response+json") == (
        GRAPHQL_RESPONSE
    )
    assert media_type("application/graphql-response+json;q=0, application/json") == (
        "application/json"
    )
    assert media_type("text/html") == "application/json"


# --- over HTTP -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with (
        kgraph_server("--corpus", str(SEEDS)) as server,
        httpx.Client(base_url=server.base, timeout=30) as client,
    ):
        yield client


GRAPHQL_JSON = {"accept": GRAPHQL_RESPONSE}


@pytest.mark.parametrize(
    ("method", "kwargs", "status", "code"),
    [
        ("POST", {"json": {"variables": {}}}, 400, "BAD_REQUEST"),
        (
            "POST",
            {"json": {"query": "query A { stats { files } }", "operationName": "B"}},
            400,
            "OPERATION_RESOLUTION_FAILURE",
        ),
        (
            "POST",
            {"content": b"{bad", "headers": {"content-type": "application/json"}},
            400,
            "BAD_REQUEST",
        ),
        (
            "POST",
            {"content": b"{}", "headers": {"content-type": "text/plain"}},
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        ("POST", {"json": {"query": "{ stats { files } }", "x": "a" * 70_000}}, 413, None),
        ("GET", {"params": {"query": "{ stats { files } }" + " " * 17_000}}, 414, None),
        ("GET", {"params": {"query": "mutation { x }"}}, 400, "BAD_REQUEST"),
        ("PUT", {}, 405, "METHOD_NOT_ALLOWED"),
        ("GET", {"url": "/nope"}, 404, "NOT_FOUND"),
        (
            "POST",
            {"json": {"query": "{ stats { files } }", "extensions": {"persistedQuery": 1}}},
            400,
            "BAD_REQUEST",
        ),
    ],
)
def test_every_refusal_is_json_with_a_code(
    client: httpx.Client, method: str, kwargs: dict[str, Any], status: int, code: str | None
) -> None:
    url = kwargs.pop("url", "/graphql")
    response = client.request(method, url, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert "data" not in body  # refused: nothing ran
    assert body["errors"][0]["extensions"]["code"] == (
        code or body["errors"][0]["extensions"]["code"]
    )
    assert body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ stats { files ", "GRAPHQL_PARSE_FAILED"),
        ("{ stats { nope } }", "GRAPHQL_VALIDATION_FAILED"),
        (COSTLY, "COST_LIMIT"),
    ],
)
def test_a_request_error_is_400_without_data_in_graphql_over_http(
    client: httpx.Client, query: str, code: str
) -> None:
    spec = client.post("/graphql", json={"query": query}, headers=GRAPHQL_JSON)
    assert spec.status_code == 400
    assert spec.headers["content-type"] == GRAPHQL_RESPONSE
    assert "data" not in spec.json()
    assert spec.json()["errors"][0]["extensions"]["code"] == code
    legacy = client.post("/graphql", json={"query": query})
    assert legacy.status_code == 200
    assert legacy.headers["content-type"] == "application/json"
    assert legacy.json()["data"] is None
    assert legacy.json()["errors"][0]["extensions"]["code"] == code


def test_a_field_error_is_200_with_data_in_graphql_over_http(client: httpx.Client) -> None:
    query = '{ stats { files } article(id: 1, url: "/x") { articleId } }'
    response = client.post("/graphql", json={"query": query}, headers=GRAPHQL_JSON)
    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    body = response.json()
    assert body["data"] == {"stats": {"files": 53}, "article": None}
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_cached_answers_keep_their_body_and_media_type(client: httpx.Client) -> None:
    params = {"query": "{ article(id: 168904) { title } }"}
    first = client.get("/graphql", params=params)
    again = client.get("/graphql", params=params)
    assert first.content == again.content
    assert first.json()["extensions"] == {"cost": 2}
    assert "accept" in first.headers["vary"].lower()
    spec = client.get("/graphql", params=params, headers=GRAPHQL_JSON)
    spec_again = client.get("/graphql", params=params, headers=GRAPHQL_JSON)
    assert spec.headers["content-type"] == spec_again.headers["content-type"] == GRAPHQL_RESPONSE
    assert spec.content == spec_again.content == first.content
    assert again.headers["content-type"] == "application/json"


def test_production_answers_no_hints_over_http() -> None:
    with kgraph_server("--corpus", str(SEEDS), "--production") as server:
        response = httpx.post(
            f"{server.base}/graphql", json={"query": "{ article(id: 168904) { titel } }"}
        )
    error = response.json()["errors"][0]
    assert error["message"] == "Cannot query field 'titel' on type 'Article'."
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}


def test_a_persisted_query_not_found_takes_the_accepted_media_type(client: httpx.Client) -> None:
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}
    spec = client.post("/graphql", json={"extensions": extensions}, headers=GRAPHQL_JSON)
    legacy = client.post("/graphql", json={"extensions": extensions})
    assert spec.status_code == legacy.status_code == 200
    assert spec.headers["content-type"] == GRAPHQL_RESPONSE
    assert legacy.headers["content-type"] == "application/json"
    assert spec.json() == legacy.json()
    assert spec.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


def test_a_subscriptions_errors_have_their_codes(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    async def first() -> Any:
        subscribed = await schema.subscribe(
            "subscription { graphChanged { nope } }", context_value=Context(graph=seeds_graph)
        )
        if not hasattr(subscribed, "__aiter__"):
            return subscribed
        async for result in subscribed:
            return result
        return None

    assert codes(asyncio.run(first())) == ["GRAPHQL_VALIDATION_FAILED"]

"""Repeated requests over HTTP: the same answer every time, whatever the answer is."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from conftest import SEEDS, kgraph_server


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
    # A text of its own, so that the first request is answered afresh.
    body = {**body, "query": f"{body['query']} # {name}"}
    first = _post(base, body)
    assert [_post(base, body) for _ in range(2)] == [first, first]
    assert first[0] == (400 if name in _REFUSED else 200)


def test_extensions_that_are_no_object_are_refused_also_when_repeated(base: str) -> None:
    body = {"query": f"{ARTICLE} # extensions", "variables": {"id": 168904}}
    assert _post(base, body)[0] == 200
    response = httpx.post(f"{base}/graphql", json={**body, "extensions": "x"})
    assert response.status_code == 400


def test_the_cost_limit_still_counts_the_variables_of_a_repeated_query(base: str) -> None:
    assert "errors" not in _post(base, {"query": COSTLY, "variables": {"n": 2}})[2]
    _, _, refused = _post(base, {"query": COSTLY, "variables": {"n": 100}})
    assert refused["data"] is None
    assert "over the limit of 20,000" in refused["errors"][0]["message"]
    assert "errors" not in _post(base, {"query": COSTLY, "variables": {"n": 3}})[2]


def test_get_and_post_answer_a_repeated_query_alike(base: str) -> None:
    body = {"query": ARTICLE, "variables": {"id": 168904}}
    posted = _post(base, body)
    for _ in range(2):
        response = httpx.get(
            f"{base}/graphql",
            params={"query": ARTICLE, "variables": json.dumps(body["variables"])},
        )
        assert (response.status_code, response.json()) == (200, posted[2])


def test_repeated_operations_are_counted_in_metrics(base: str) -> None:
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

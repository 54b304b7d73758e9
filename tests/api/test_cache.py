"""Repeated requests over HTTP: the same answer every time, whatever the answer is."""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from conftest import SEEDS, article_text, kgraph_server
from kgraph.api.cache import PARTIAL_KEY, Answer, Answers, ResponseCache
from kgraph.api.persisted import QueryTexts
from kgraph.app import create_app
from kgraph.graph import KnowledgeGraph
from kgraph.scope import SCOPE_KEY
from kgraph.settings import Settings


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with kgraph_server("--corpus", str(SEEDS)) as server:
        yield server.base


ARTICLE_TITLE = "What is the role of ATP in the sodium-potassium pump?"
ARTICLE = "query($id: Int) { article(id: $id) { articleId title url inDegree topics { key } } }"
TWO_OPERATIONS = (
    "query One { article(id: 168904) { title } } query Two { stats { articles links } }"
)
DEEP = "{ article(id: 168904) {" + " links { target {" * 6 + " id" + " } }" * 6 + " } }"
COSTLY = (
    "query($n: Int) { articles(first: $n) { nodes { backlinks(first: 100)"
    " { nodes { backlinks(first: 10) { nodes { articleId } } } } } } }"
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
    (
        "operation name a list",
        {"query": ARTICLE, "variables": {"id": 1}, "operationName": []},
    ),
    (
        "search (async)",
        {"query": '{ articles(filter: {search: "ATP pump"}) { nodes { articleId } } }'},
    ),
    ("syntax error", {"query": "{ article(id: 1) { articleId "}),
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
            "learningPath(from: 168904, to: 168912) { hops steps { article { articleId } rank } } }"
        },
    ),
]


def _post(base: str, body: dict[str, Any]) -> tuple[int, str, Any]:
    """Status, media type and body (JSON when it is) of a POST of ``body``."""
    response = httpx.post(f"{base}/graphql", json=body, timeout=30)
    media = response.headers["content-type"]
    return response.status_code, media, response.json() if "json" in media else response.text


def _exactly(response: httpx.Response) -> tuple[int, str | None, str | None, bytes]:
    """What must not change between repeats: status, media type, length and the bytes."""
    headers = response.headers
    return (
        response.status_code,
        headers.get("content-type"),
        headers.get("content-length"),
        response.content,
    )


#: Cases strawberry refuses before GraphQL runs, with a 400 and a plain-text reason.
_REFUSED = {"unknown operation", "operation name a list"}


@pytest.mark.parametrize(("name", "body"), CASES, ids=[name for name, _ in CASES])
def test_a_repeated_request_gets_the_same_answer(
    base: str, name: str, body: dict[str, Any]
) -> None:
    # A text of its own, so that the first request is answered afresh.
    body = {**body, "query": f"{body['query']} # {name}"}
    with httpx.Client(base_url=base, timeout=30) as client:
        answers = [_exactly(client.post("/graphql", json=body)) for _ in range(3)]
    assert answers == [answers[0]] * 3
    assert answers[0][0] == (400 if name in _REFUSED else 200)
    assert answers[0][1] == "application/json"


@pytest.mark.parametrize(
    ("name", "body"),
    [(name, body) for name, body in CASES if isinstance(body.get("operationName"), str | None)],
    ids=[name for name, body in CASES if isinstance(body.get("operationName"), str | None)],
)
def test_a_repeated_get_gets_the_same_answer(base: str, name: str, body: dict[str, Any]) -> None:
    params = {"query": f"{body['query']} # GET {name}"}
    if "variables" in body:
        params["variables"] = json.dumps(body["variables"])
    if body.get("operationName") is not None:
        params["operationName"] = body["operationName"]
    with httpx.Client(base_url=base, timeout=30) as client:
        answers = [_exactly(client.get("/graphql", params=params)) for _ in range(3)]
    assert answers == [answers[0]] * 3


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
            if line.startswith("kgraph_requests_total{") and 'operation="stats"' in line
        )

    before = answered()
    for _ in range(3):
        _post(base, {"query": TWO_OPERATIONS, "operationName": "Two"})
    assert answered() == before + 3


def test_a_get_answer_is_tagged_and_revalidated(base: str) -> None:
    params = {"query": ARTICLE, "variables": json.dumps({"id": 168904})}
    with httpx.Client(base_url=base, timeout=30) as client:
        first = client.get("/graphql", params=params)
        etag = first.headers["etag"]
        assert etag.startswith('W/"')
        assert first.headers["cache-control"] == "no-cache"
        again = client.get("/graphql", params=params, headers={"if-none-match": etag})
        assert (again.status_code, again.content) == (304, b"")
        assert again.headers["etag"] == etag
        listed = client.get("/graphql", params=params, headers={"if-none-match": f'"x", {etag}'})
        assert listed.status_code == 304
        other = client.get("/graphql", params=params, headers={"if-none-match": '"other"'})
        assert (other.status_code, other.content) == (200, first.content)
        # Another article, another tag; a POST is not tagged.
        params["variables"] = json.dumps({"id": 168912})
        assert client.get("/graphql", params=params).headers["etag"] != etag
        posted = client.post("/graphql", json={"query": ARTICLE, "variables": {"id": 168904}})
        assert posted.content == first.content
        assert "etag" not in posted.headers
        # Errors are not tagged: they are answered afresh each time.
        failing = client.get("/graphql", params={"query": "{ article(id: 1) { nope } }"})
        assert "etag" not in failing.headers


def test_a_304_is_counted_as_its_operation(base: str) -> None:
    query = "query Tagged { topicMap { truncated } }"
    with httpx.Client(base_url=base, timeout=30) as client:
        etag = client.get("/graphql", params={"query": query}).headers["etag"]
        for _ in range(2):
            response = client.get(
                "/graphql", params={"query": query}, headers={"if-none-match": etag}
            )
            assert response.status_code == 304
        # Counted once the request ends, which can be after its client has its answer.
        counted = 'kgraph_requests_total{operation="topicMap",status="304"} 2.0'
        deadline = time.monotonic() + 5
        while counted not in (metrics := client.get("/metrics").text):
            assert time.monotonic() < deadline, metrics
            time.sleep(0.05)


def test_large_answers_are_gzipped_when_asked(base: str) -> None:
    query = '{ topicGraph(key: "biology") { nodes { id label } edges { source target } } }'
    with httpx.Client(base_url=base, timeout=30) as client:
        plain = client.post(
            "/graphql", json={"query": query}, headers={"accept-encoding": "identity"}
        )
        assert "content-encoding" not in plain.headers
        assert len(plain.content) > 1024
        for _ in range(2):  # afresh, then from the cache
            zipped = client.post(
                "/graphql", json={"query": query}, headers={"accept-encoding": "gzip"}
            )
            assert zipped.headers["content-encoding"] == "gzip"
            assert int(zipped.headers["content-length"]) < len(plain.content)
            assert zipped.content == plain.content  # httpx unzips
        small = client.post(
            "/graphql", json={"query": "{ stats { files } }"}, headers={"accept-encoding": "gzip"}
        )
        assert "content-encoding" not in small.headers


def test_repeated_queries_are_answered_from_the_cache(seeds_graph: KnowledgeGraph) -> None:
    app = create_app(Settings(corpus=SEEDS))
    answers: Answers = app.state.answers

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://kgraph") as client,
        ):
            with anyio.fail_after(30):
                while (await client.get("/readyz")).status_code != 200:
                    await anyio.sleep(0.02)
            body = {"query": ARTICLE, "variables": {"id": 168904}}
            first = await client.post("/graphql", json=body)
            assert (len(answers), answers.hits) == (1, 0)
            # The same request, spelled otherwise (other spacing, GET): the same answer.
            same = await client.post(
                "/graphql",
                content=json.dumps(body, indent=2),
                headers={"content-type": "application/json"},
            )
            got = await client.get(
                "/graphql", params={"query": ARTICLE, "variables": '{"id": 168904}'}
            )
            assert same.content == got.content == first.content
            assert (len(answers), answers.hits) == (1, 2)
            # Other variables, an error, a subscription: not the same, or not kept.
            await client.post("/graphql", json={**body, "variables": {"id": 168912}})
            await client.post("/graphql", json={**body, "variables": {"id": -1}})
            await client.post("/graphql", json={"query": "{ article(id: 1) { nope } }"})
            await client.post(
                "/graphql", json={"query": "subscription { graphChanged { version } }"}
            )
            assert (len(answers), answers.hits) == (3, 2)

    anyio.run(scenario)


def _answer(body: bytes) -> Answer:
    return Answer(headers=(), body=body, etag=b"", note={})


def test_answers_keep_one_generation_within_their_budget() -> None:
    size = _answer(b"x" * 100).size + 1  # a key of one character
    answers = Answers(budget=3 * size, largest=size)
    assert answers.get(1, "a") is None
    for key in "abc":
        answers.put(1, key, _answer(b"x" * 100))
    assert answers.get(1, "a") is not None  # now the most recently used
    answers.put(1, "d", _answer(b"x" * 100))
    assert [key for key in "abcd" if answers.get(1, key) is not None] == ["a", "c", "d"]
    assert answers.size == 3 * size
    answers.put(1, "e", _answer(b"x" * 101))  # over the largest kept
    assert answers.get(1, "e") is None
    answers.put(1, "ee", _answer(b"x" * 100))  # a longer key counts too
    assert answers.get(1, "ee") is None
    # An answer of a generation no longer served is not kept; a new one empties the cache.
    answers.put(0, "f", _answer(b"x"))
    assert answers.get(1, "f") is None
    assert answers.get(2, "a") is None
    assert (len(answers), answers.size) == (0, 0)


def test_a_reload_starts_a_new_generation(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    query = "{ stats { graphVersion articles } }"
    with kgraph_server("--corpus", str(corpus)) as server:
        params = {"query": query}
        first = httpx.get(f"{server.base}/graphql", params=params)
        assert first.json()["data"]["stats"] == {"graphVersion": 1, "articles": 52}
        assert httpx.get(f"{server.base}/graphql", params=params).content == first.content
        (corpus / "biology" / "new-one.md").write_text(article_text(990001))
        server.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while httpx.get(f"{server.base}/readyz").json().get("graph_version") != 2:
            assert time.monotonic() < deadline, server.output
            time.sleep(0.05)
        after = httpx.get(
            f"{server.base}/graphql",
            params=params,
            headers={"if-none-match": first.headers["etag"]},
        )
        assert after.status_code == 200
        assert after.json()["data"]["stats"] == {"graphVersion": 2, "articles": 53}
        assert after.headers["etag"] != first.headers["etag"]


def _persisted(sha256: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256}}


def test_a_persisted_query_round_trip(base: str) -> None:
    query = "query Persisted($id: Int) { article(id: $id) { articleId title } }"
    sha256 = hashlib.sha256(query.encode()).hexdigest()
    variables = {"id": 168904}
    with httpx.Client(base_url=base, timeout=30) as client:
        # Unknown: the client is told so, and sends the text with its hash.
        unknown = client.post(
            "/graphql", json={"variables": variables, "extensions": _persisted(sha256)}
        )
        assert unknown.status_code == 200
        assert unknown.json() == {
            "errors": [
                {
                    "message": "PersistedQueryNotFound",
                    "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
                }
            ]
        }
        full = client.post(
            "/graphql",
            json={"query": query, "variables": variables, "extensions": _persisted(sha256)},
        )
        assert full.json()["data"] == {"article": {"articleId": 168904, "title": ARTICLE_TITLE}}
        # Known now: by hash alone, over POST and GET (a short URL with an ETag).
        by_hash = client.post(
            "/graphql", json={"variables": variables, "extensions": _persisted(sha256)}
        )
        assert by_hash.content == full.content
        params = {"variables": json.dumps(variables), "extensions": json.dumps(_persisted(sha256))}
        got = client.get("/graphql", params=params)
        assert (got.status_code, got.content) == (200, full.content)
        assert "etag" in got.headers
        again = client.get(
            "/graphql", params=params, headers={"if-none-match": got.headers["etag"]}
        )
        assert again.status_code == 304
        other = client.get(
            "/graphql",
            params={**params, "variables": json.dumps({"id": 168912})},
        )
        assert other.json()["data"]["article"]["articleId"] == 168912
        metrics = client.get("/metrics").text
    assert 'kgraph_requests_total{operation="article",status="200"}' in metrics


def test_a_persisted_query_is_checked(base: str) -> None:
    query = "{ stats { files } }"
    with httpx.Client(base_url=base, timeout=30) as client:
        wrong = client.post("/graphql", json={"query": query, "extensions": _persisted("0" * 64)})
        assert wrong.status_code == 400
        assert wrong.json()["errors"][0]["message"] == "provided sha does not match query"
        # Nothing was kept under the wrong hash.
        assert (
            client.post("/graphql", json={"extensions": _persisted("0" * 64)}).json()["errors"][0][
                "message"
            ]
            == "PersistedQueryNotFound"
        )
        for odd in ({"version": 2, "sha256Hash": "0" * 64}, {"version": 1}, "x"):
            refused = client.post(
                "/graphql", json={"query": query, "extensions": {"persistedQuery": odd}}
            )
            assert refused.status_code == 400
            assert "persistedQuery" in refused.json()["errors"][0]["message"]
        # Other extensions are no business of the protocol.
        plain = client.post("/graphql", json={"query": query, "extensions": {"tracing": True}})
        assert plain.json() == {"data": {"stats": {"files": 53}}, "extensions": {"cost": 2}}


def test_query_texts_keep_the_most_recently_used() -> None:
    entry = len("a") + 10 + 100  # the hash, the text, what an entry takes besides
    texts = QueryTexts(budget=3 * entry)
    for name in "abc":
        texts.add(name, name * 10)
    assert texts.get("a") == "a" * 10
    texts.add("d", "d" * 10)
    assert [name for name in "abcd" if texts.get(name)] == ["a", "c", "d"]
    texts.add("e", "e" * 3 * entry)  # larger than the whole budget
    assert (len(texts), texts.size) == (3, 3 * entry)


@pytest.mark.parametrize(
    ("note", "partial", "kept"),
    [
        ({"operation": None, "errors": 0, "query": True}, False, True),
        ({"operation": None, "errors": 0, "query": True}, True, False),  # cut by a time bound
        ({"operation": None, "errors": 1, "query": True}, False, False),
        ({"operation": None, "errors": 0, "query": False}, False, False),  # a mutation
        ({}, False, False),  # refused before GraphQL ran
    ],
)
def test_only_whole_answers_of_queries_are_kept(
    note: dict[str, Any], partial: bool, kept: bool
) -> None:
    async def view(scope: Any, receive: Any, send: Any) -> None:
        scope[SCOPE_KEY] = note
        if partial:
            scope[PARTIAL_KEY] = True
        body = b'{"data":{}}'
        headers = [(b"content-type", b"application/json"), (b"content-length", b"11")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    answers = Answers()
    cache = ResponseCache(view, lambda: 1, answers)
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "method": "GET", "query_string": b"query=%7Bx%7D", "headers": []}
    anyio.run(cache, scope, receive, send)
    assert (len(answers), sent[-1]["body"]) == (int(kept), b'{"data":{}}')

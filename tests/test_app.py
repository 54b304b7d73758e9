"""The HTTP app, end to end: a real ``kgraph serve`` process on a free port of 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import httpx
import networkx as nx
import pytest
from starlette.applications import Starlette

from conftest import SEEDS, WriteArticle, article_text, kgraph_server
from kgraph.app import create_app
from kgraph.corpus.fingerprint import FingerprintElsewhere
from kgraph.graph import KnowledgeGraph, load_graph
from kgraph.graph.answers import AnswerStore
from kgraph.graph.curation import suggest_every_wanted
from kgraph.graph.load import load_corpus
from kgraph.graph.relatedness import prepare_relatedness
from kgraph.graph.snapshot import load_snapshot, save_snapshot
from kgraph.settings import Settings


@contextmanager
def serving(corpus: Path, *options: str) -> Iterator[str]:
    """Run ``kgraph serve --corpus CORPUS`` on a free port until the block ends; yield its url."""
    with kgraph_server("--corpus", str(corpus), *options) as server:
        yield server.base
    assert f"serving {corpus} on {server.base}/" in server.output


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serving(SEEDS) as base:
        yield base


def graphql(base: str, query: str, **variables: object) -> dict[str, Any]:
    response = httpx.post(f"{base}/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_healthz(server: str) -> None:
    response = httpx.get(f"{server}/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_has_the_counts(server: str) -> None:
    body = httpx.get(f"{server}/readyz").json()
    assert body["status"] == "ready"
    assert (body["files"], body["articles"], body["links"], body["parse_errors"]) == (
        53,
        52,
        113,
        0,
    )


def test_index_serves_the_summary(server: str) -> None:
    body = httpx.get(f"{server}/").json()
    assert body["summary"]["articles"] == 52
    assert body["corpus"] == str(SEEDS)


def _listings_until_ready(app: Starlette, corpus: Path) -> tuple[int, bool]:
    """Run ``app`` until ``/readyz`` is 200: the listings of ``corpus`` meanwhile, and
    whether the graph came from a snapshot."""
    listings = 0
    scandir = os.scandir
    top = os.path.realpath(corpus)

    def counting(path: Any = ".") -> Any:
        nonlocal listings
        if not isinstance(path, int) and os.path.realpath(os.fspath(path)) == top:
            listings += 1
        return scandir(path)

    async def scenario() -> bool:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://kgraph") as client,
        ):
            with anyio.fail_after(60):
                while (response := await client.get("/readyz")).status_code != 200:
                    await anyio.sleep(0.02)
            warm: bool = response.json()["warm_start"]
            return warm

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "scandir", counting)
        warm = anyio.run(scenario)
    return listings, warm


def test_a_start_lists_the_corpus_folder_once(tmp_path: Path) -> None:
    corpus = Path(shutil.copytree(SEEDS, tmp_path / "corpus"))
    cold = Settings(corpus=corpus, cache_dir=tmp_path / "cold")
    # The first load lists the folder, fingerprints that listing and reads it.
    assert _listings_until_ready(create_app(cold), corpus) == (1, False)
    warm = Settings(corpus=corpus, cache_dir=tmp_path / "warm")
    assert load_corpus(corpus, cache_dir=warm.cache_dir).save() is not None
    assert _listings_until_ready(create_app(warm), corpus) == (1, True)
    # kgraph serve has a child process take the fingerprint of a large corpus from
    # before its imports: the warm load lists nothing itself.
    ahead = FingerprintElsewhere(corpus)
    assert _listings_until_ready(create_app(warm, fingerprinting=ahead), corpus) == (0, True)
    # A stale snapshot: the child's fingerprint says so, and the load lists the folder.
    (corpus / "chemistry" / "a-new-article.md").write_text(article_text(987654, title="New?"))
    ahead = FingerprintElsewhere(corpus)
    assert _listings_until_ready(create_app(warm, fingerprinting=ahead), corpus) == (1, False)


def test_readyz_is_503_while_loading_and_when_loading_fails(tmp_path: Path) -> None:
    corpus = tmp_path / "vanishing"
    corpus.mkdir()
    app = create_app(Settings(corpus=corpus))

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://kgraph") as client,
        ):
            first = await client.get("/readyz")
            assert first.status_code == 503
            assert first.json()["status"] in ("loading", "failed")
            with anyio.fail_after(10):
                while (response := await client.get("/readyz")).json()["status"] == "loading":
                    await anyio.sleep(0.02)
            assert response.status_code == 503
            assert response.json() == {
                "status": "failed",
                "error": f"no *.md article files in corpus folder: {corpus}",
            }
            assert (await client.get("/healthz")).status_code == 200
            # /graphql says so too, as 503, so a load balancer tries another replica.
            query = await client.post("/graphql", json={"query": "{ stats { files } }"})
            assert query.status_code == 503
            assert query.headers["retry-after"] == "1"
            assert query.json() == {
                "errors": [
                    {
                        "message": "the graph failed to load: "
                        f"no *.md article files in corpus folder: {corpus}",
                        "extensions": {"code": "SERVICE_UNAVAILABLE"},
                    }
                ]
            }

    anyio.run(scenario)


def test_graphql_over_post_and_get(server: str) -> None:
    posted = graphql(server, "{ article(id: 168904) { title } }")
    assert posted == {
        "data": {"article": {"title": "What is the role of ATP in the sodium-potassium pump?"}},
        "extensions": {"cost": 2},
    }
    got = httpx.get(f"{server}/graphql", params={"query": "{ stats { articles } }"})
    assert got.json() == {"data": {"stats": {"articles": 52}}, "extensions": {"cost": 2}}


def test_get_never_runs_a_mutation(server: str) -> None:
    response = httpx.get(f"{server}/graphql", params={"query": "mutation { x }"})
    assert response.status_code == 400
    assert "mutations are not allowed when using GET" in response.text


def test_post_must_be_json_and_small(server: str) -> None:
    form = httpx.post(f"{server}/graphql", data={"query": "{ stats { files } }"})
    assert form.status_code == 415
    assert "Content-Type: application/json" in form.json()["errors"][0]["message"]
    big = httpx.post(
        f"{server}/graphql", json={"query": "{ stats { files } }", "variables": {"x": "a" * 70_000}}
    )
    assert big.status_code == 413
    assert big.json() == {
        "errors": [
            {
                "message": "request body over 65,536 bytes",
                "extensions": {"code": "PAYLOAD_TOO_LARGE"},
            }
        ]
    }

    def chunks() -> Iterator[bytes]:
        yield b'{"query": "{ stats { files } }", "variables": {"x": "'
        for _ in range(70):
            yield b"a" * 1024
        yield b'"}}'

    streamed = httpx.post(
        f"{server}/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    bad_json = httpx.post(
        f"{server}/graphql", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 400


def test_graphiql_for_browsers(server: str, tmp_path: Path) -> None:
    page = httpx.get(f"{server}/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    # Its own bundle (make web), no CDN: the policy lets the page fetch nothing else.
    assert '<script src="/static/dist/graphiql.js"' in page.text
    assert "https:" not in page.text
    assert "https:" not in page.headers["content-security-policy"]
    bundle = httpx.get(f"{server}/static/dist/graphiql.js")
    assert bundle.status_code == 200
    assert bundle.headers["content-type"].startswith("text/javascript")
    with serving(SEEDS, "--no-ide") as quiet:
        assert httpx.get(f"{quiet}/graphql", headers={"accept": "text/html"}).status_code == 404
        assert graphql(quiet, "{ stats { files } }")["data"] == {"stats": {"files": 53}}


def test_a_second_start_is_warm_and_serves_the_same_graph(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    query = "{ stats { articles links } article(id: 168904) { answer backlinks { nodes { articleId } } } }"
    with serving(SEEDS, "--cache-dir", str(cache)) as cold:
        assert httpx.get(f"{cold}/readyz").json()["warm_start"] is False
        first = graphql(cold, query)
        # The snapshot is written once the server is ready.
        deadline = time.monotonic() + 30
        while not list(cache.glob("*.kgsnap")) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert len(list(cache.glob("*.kgsnap"))) == 1
    # Every wanted article's suggestions were worked out before it was written.
    kept = load_snapshot(SEEDS, cache)
    assert kept is not None
    assert not suggest_every_wanted(kept)
    with serving(SEEDS, "--cache-dir", str(cache)) as warm:
        assert httpx.get(f"{warm}/readyz").json()["warm_start"] is True
        assert graphql(warm, query) == first
    with serving(SEEDS, "--cache-dir", str(cache), "--no-cache") as uncached:
        assert httpx.get(f"{uncached}/readyz").json()["warm_start"] is False
        assert graphql(uncached, query) == first


@pytest.fixture(scope="module")
def dev_server(dev_corpus: Path) -> Iterator[str]:
    with serving(dev_corpus) as base:
        yield base


def test_dev_article_by_id_and_by_url(dev_server: str) -> None:
    query = "query($id: Int, $url: String) { article(id: $id, url: $url) { articleId title url answer } }"
    by_id = graphql(dev_server, query, id=168904)["data"]["article"]
    by_url = graphql(dev_server, query, url=by_id["url"])["data"]["article"]
    assert by_id == by_url
    assert by_id["title"] == "What is the role of ATP in the sodium-potassium pump?"
    assert "\n\nThe role of ATP in this process is fundamental." in by_id["answer"]
    assert "\\n" not in by_id["answer"]
    assert graphql(dev_server, "{ article(id: 1) { articleId } }")["data"] == {"article": None}


def test_dev_search_finds_the_seed_article(dev_server: str) -> None:
    found = graphql(
        dev_server,
        '{ articles(filter: {search: "sodium potassium pump"}) { totalCount nodes { articleId } } }',
    )["data"]["articles"]
    assert 168904 in [n["articleId"] for n in found["nodes"]]


def _sample(kg: KnowledgeGraph) -> list[int]:
    graph = kg.graph
    hub = max(graph, key=graph.in_degree)
    busy = max(graph, key=graph.out_degree)
    return [168904, hub, busy, *sorted(graph)[::997]]


@pytest.mark.parametrize("direction", ["OUT", "IN", "BOTH"])
def test_dev_neighbours_equal_the_graph(
    dev_server: str, dev_graph: KnowledgeGraph, direction: str
) -> None:
    graph = dev_graph.graph
    query = "query($id: Int!, $d: Direction!) { neighbours(id: $id, direction: $d, first: 100) { nodes { article { articleId } distance } } }"
    for article_id in _sample(dev_graph):
        found = graphql(dev_server, query, id=article_id, d=direction)["data"]["neighbours"][
            "nodes"
        ]
        successors, predecessors = (
            set(graph.successors(article_id)),
            set(graph.predecessors(article_id)),
        )
        expected = {"OUT": successors, "IN": predecessors, "BOTH": successors | predecessors}[
            direction
        ]
        assert {n["article"]["articleId"] for n in found} == expected, article_id
        assert {n["distance"] for n in found} <= {1}


def test_dev_neighbours_at_depth_2(dev_server: str, dev_graph: KnowledgeGraph) -> None:
    graph = dev_graph.graph
    views = {
        "OUT": graph,
        "IN": graph.reverse(copy=False),
        "BOTH": graph.to_undirected(as_view=True),
    }
    query = "query($id: Int!, $d: Direction!) { neighbours(id: $id, direction: $d, depth: 2, first: 100) { nodes { article { articleId } distance } } }"
    checked = 0
    for article_id in _sample(dev_graph):
        for direction, view in views.items():
            expected = nx.single_source_shortest_path_length(view, article_id, cutoff=2)
            del expected[article_id]
            if len(expected) > 100:
                continue
            found = graphql(dev_server, query, id=article_id, d=direction)["data"]["neighbours"][
                "nodes"
            ]
            assert {n["article"]["articleId"]: n["distance"] for n in found} == expected
            checked += 2 in expected.values()
    assert checked >= 5  # the sample did reach distance 2


def test_dev_topic_computer_science(
    dev_server: str, dev_corpus: Path, dev_graph: KnowledgeGraph
) -> None:
    topic = graphql(
        dev_server, '{ topic(key: "computer-science") { key name spellings articleCount } }'
    )["data"]["topic"]
    assert topic["name"] == "Computer Science"
    assert sorted(topic["spellings"]) == ["Computer Science", "Computer science"]
    folder_ids = {
        a.id
        for a in dev_graph.articles.values()
        if any(c.path.startswith("computer-science/") for c in a.copies)
    }
    assert len(list((dev_corpus / "computer-science").glob("*.md"))) >= len(folder_ids)
    assert topic["articleCount"] == len(folder_ids)


def test_dev_pages_through_a_topic_without_repeats_or_gaps(
    dev_server: str, dev_graph: KnowledgeGraph
) -> None:
    query = (
        'query($after: String) { topic(key: "physics") { articles(first: 100, after: $after) {'
        " totalCount pageInfo { hasNextPage endCursor } nodes { articleId } } } }"
    )
    seen: list[int] = []
    after = None
    while True:
        page = graphql(dev_server, query, after=after)["data"]["topic"]["articles"]
        seen += [n["articleId"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert page["totalCount"] == len(seen) == len(set(seen))
    assert seen == list(dev_graph.by_topic["physics"])
    assert len(seen) > 500


def test_dev_searches_do_not_hold_up_other_requests(dev_server: str) -> None:
    """Fifteen searches for a word of most articles, back to back: /healthz still answers at once."""
    searches = " ".join(
        f'a{i}: articles(filter: {{search: "the"}}) {{ totalCount nodes {{ articleId title }} }}'
        for i in range(15)
    )
    heavy = f"{{ {searches} }}"
    # The first search also builds the title index.
    assert graphql(dev_server, heavy)["data"]["a14"]["totalCount"] > 5_000
    spans: list[tuple[float, float]] = []
    failures: list[str] = []
    stop = threading.Event()

    def fire() -> None:
        with httpx.Client(base_url=dev_server, timeout=30) as client:
            while not stop.is_set():
                started = time.perf_counter()
                response = client.post("/graphql", json={"query": heavy})
                spans.append((started, time.perf_counter()))
                if response.status_code != 200 or "errors" in response.json():
                    failures.append(response.text[:300])

    calls: list[tuple[float, float]] = []
    firing = threading.Thread(target=fire)
    with httpx.Client(base_url=dev_server, timeout=30) as client:
        client.get("/healthz")  # connected before anything is timed
        firing.start()
        try:
            deadline = time.perf_counter() + 1.5
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                assert client.get("/healthz").status_code == 200
                calls.append((started, time.perf_counter()))
                time.sleep(0.01)
        finally:
            stop.set()
            firing.join()
    assert not failures, failures[0]
    during = [(s, e) for s, e in calls if any(a <= s <= b for a, b in spans)]
    # Answered before the search it started during was: the search was still running.
    meanwhile = [(s, e) for s, e in during if any(a <= s and e < b for a, b in spans)]
    assert len(during) >= 10, (len(calls), len(spans))
    assert len(meanwhile) >= 5, (len(during), len(spans))
    slowest = max(e - s for s, e in during)
    assert slowest < 0.1, f"/healthz took {slowest * 1000:.0f} ms during a search"


def test_unexpected_errors_are_masked_over_http(
    tmp_path: Path, write_article: WriteArticle, caplog: pytest.LogCaptureFixture
) -> None:
    write_article("biology/cell.md", 1, title="What is a cell?")
    write_article("biology/gene.md", 2, title="What is a gene?", related=[(1, 1, None)])
    corpus, cache = tmp_path / "corpus", tmp_path / "cache"
    kg = load_graph(corpus)
    # What a load derives from the answers (the relatedness model reads them
    # all) is kept in the snapshot, as a real load's would be.
    prepare_relatedness(kg)
    # A snapshot of the unchanged corpus whose graph is not what the files
    # read (an answer whose bytes are not UTF-8): the server starts warm
    # from it, and the `answer` resolver fails in a way nobody planned for.
    damaged = AnswerStore.write([(1, b"\xff not UTF-8"), (2, kg.answers.utf8(2))])
    assert save_snapshot(replace(kg, answers=damaged), corpus, cache_dir=cache) is not None
    app = create_app(Settings(corpus=corpus, cache_dir=cache))

    async def scenario() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://kgraph") as client,
        ):
            with anyio.fail_after(10):
                while (ready := await client.get("/readyz")).status_code != 200:
                    await anyio.sleep(0.02)
            assert ready.json()["warm_start"] is True
            fine = await client.post("/graphql", json={"query": "{ article(id: 2) { answer } }"})
            assert fine.json()["data"] == {"article": {"answer": "An answer.\nOn two lines."}}
            failing = {"query": "{ article(id: 1) { articleId title answer } }"}
            first = await client.post("/graphql", json=failing)
            # The second time: masked and logged the same.
            again = await client.post("/graphql", json=failing)
            assert (again.status_code, again.json()) == (first.status_code, first.json())
            return first

    response = anyio.run(scenario)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"article": None}
    assert [e["message"] for e in body["errors"]] == ["Internal server error: it has been logged."]
    assert body["errors"][0]["path"] == ["article", "answer"]
    for leak in ("Traceback", ".py", str(tmp_path), "utf-8", "decode", "0xff"):
        assert leak not in response.text, leak
    # The client is told nothing; the log has the whole story.
    logged = [r.exc_info[1] for r in caplog.records if r.levelname == "ERROR" and r.exc_info]
    assert [type(err) for err in logged] == [UnicodeDecodeError, UnicodeDecodeError]

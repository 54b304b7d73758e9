"""Live reload with a real server: files change while clients query; SIGHUP; the subscription."""

from __future__ import annotations

import json
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from conftest import SEEDS, RunningServer, article_text, kgraph_server

STATS = "query Consistency { stats { graphVersion articles links files parseErrors } articles(first: 1) { totalCount } topics { articleCount } }"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SEEDS, tmp_path / "corpus"))


def wait_for(
    server: RunningServer, version: int, timeout: float = 30, **expected: int
) -> dict[str, Any]:
    """The stats once the server serves graph ``version`` or later, with the ``expected`` counts.

    One change may come as two reloads (a file created, then written): what
    counts is that the graph ends up right, so later versions are waited for too.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stats: dict[str, Any] = server.graphql(STATS)["stats"]
        if stats["graphVersion"] >= version and all(
            stats[key] == value for key, value in expected.items()
        ):
            return stats
        time.sleep(0.05)
    pytest.fail(f"graph version {version} {expected} not served in {timeout} s:\n{server.output}")


class Client(threading.Thread):
    """Queries the server in a loop until stopped; keeps every answer."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.answers: list[tuple[int, dict[str, Any]]] = []
        self.failures: list[BaseException] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=30) as client:
            while not self.stop.is_set():
                try:
                    response = client.post("/graphql", json={"query": STATS})
                    self.answers.append((response.status_code, response.json()))
                except Exception as err:  # a request that failed on the way counts too
                    self.failures.append(err)


@pytest.fixture
def clients(corpus: Path) -> Iterator[tuple[RunningServer, list[Client]]]:
    with kgraph_server("--corpus", str(corpus), "--watch", "--watch-settle-ms", "150") as server:
        loops = [Client(server.base) for _ in range(3)]
        for loop in loops:
            loop.start()
        yield server, loops
        for loop in loops:
            loop.stop.set()
            loop.join(timeout=30)


def test_changes_reload_while_clients_query(
    corpus: Path, clients: tuple[RunningServer, list[Client]]
) -> None:
    server, loops = clients
    first = wait_for(server, 1)
    assert (first["articles"], first["files"], first["parseErrors"]) == (52, 53, 0)

    # Added: a new article linking to the seed article.
    (corpus / "biology" / "new-one.md").write_text(
        article_text(990001, title="A new article?", related=[(1, 168904, None)])
    )
    wait_for(server, 2, articles=53, links=first["links"] + 1, files=54)

    # Edited: its link removed.
    (corpus / "biology" / "new-one.md").write_text(article_text(990001, title="Edited?"))
    edited = wait_for(server, 3, articles=53, links=first["links"])
    assert edited["files"] == 54

    # Deleted.
    (corpus / "biology" / "new-one.md").unlink()
    wait_for(server, 4, articles=52, files=53)

    # Corrupted: a parse error, and the rest keeps serving.
    (corpus / "biology" / "broken.md").write_text("---\nid: [unclosed\n---\n")
    wait_for(server, 5, articles=52, files=54, parseErrors=1)
    errors = server.graphql("{ curation { parseErrors { path line message } } }")
    assert [e["path"] for e in errors["curation"]["parseErrors"]] == ["biology/broken.md"]
    assert server.graphql("{ article(id: 168904) { id } }")["article"] == {"id": 168904}

    time.sleep(0.3)  # a few more answers from the last graph
    for loop in loops:
        loop.stop.set()
        loop.join(timeout=30)
    assert [failure for loop in loops for failure in loop.failures] == []
    answers = [answer for loop in loops for answer in loop.answers]
    assert len(answers) > 50
    # No request failed, and each answer is one graph's: the same counts for a version,
    # and a total count that agrees with the stats of the same response.
    seen: dict[int, tuple[int, int, int, int]] = {}
    for status, body in answers:
        assert status == 200, body
        assert "errors" not in body, body
        stats = body["data"]["stats"]
        counts = (stats["articles"], stats["links"], stats["files"], stats["parseErrors"])
        assert seen.setdefault(stats["graphVersion"], counts) == counts
        assert body["data"]["articles"]["totalCount"] == stats["articles"]
        assert sum(topic["articleCount"] for topic in body["data"]["topics"]) >= stats["articles"]
    assert set(seen) >= {1, 5}


def test_a_failed_reload_keeps_the_old_graph_serving(corpus: Path) -> None:
    with kgraph_server("--corpus", str(corpus), "--watch", "--watch-settle-ms", "150") as server:
        before = wait_for(server, 1)
        for folder in list(corpus.iterdir()):
            shutil.rmtree(folder) if folder.is_dir() else folder.unlink()
        deadline = time.monotonic() + 30
        while "reloading" not in server.output:
            assert time.monotonic() < deadline, server.output
            time.sleep(0.05)
        deadline = time.monotonic() + 30
        while (stats := server.graphql("{ stats { graphVersion reloadError articles } }")["stats"])[
            "reloadError"
        ] is None:
            assert time.monotonic() < deadline, server.output
            time.sleep(0.05)
        assert stats["graphVersion"] == before["graphVersion"]
        assert stats["articles"] == 52
        assert "no *.md article files" in stats["reloadError"]
        ready = httpx.get(f"{server.base}/readyz")
        assert ready.status_code == 200
        assert "no *.md article files" in ready.json()["reload_error"]
        # Files back: the next reload succeeds and clears the error.
        shutil.copytree(SEEDS, corpus, dirs_exist_ok=True)
        wait_for(server, 2, articles=52, files=53)
        assert server.graphql("{ stats { reloadError } }")["stats"]["reloadError"] is None
        assert "keeps serving" in server.output


def test_sighup_reloads(corpus: Path) -> None:
    with kgraph_server("--corpus", str(corpus)) as server:
        assert wait_for(server, 1)["graphVersion"] == 1
        (corpus / "biology" / "new-one.md").write_text(article_text(990001))
        time.sleep(0.5)  # not watched: nothing changes by itself
        assert server.graphql(STATS)["stats"]["graphVersion"] == 1
        server.process.send_signal(signal.SIGHUP)
        wait_for(server, 2, articles=53)
        assert "SIGHUP" in server.output


@contextmanager
def subscribed(server: RunningServer) -> Iterator[ClientConnection]:
    """A graphql-transport-ws connection subscribed to ``graphChanged``."""
    url = server.base.replace("http://", "ws://") + "/graphql"
    with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as socket:
        socket.send(json.dumps({"type": "connection_init"}))
        assert json.loads(socket.recv(timeout=10))["type"] == "connection_ack"
        query = "subscription { graphChanged { version loadedAt articles links } }"
        socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        yield socket


def test_the_subscription_gets_one_event_per_reload(corpus: Path) -> None:
    with kgraph_server("--corpus", str(corpus)) as server:
        with subscribed(server) as socket:
            time.sleep(0.3)  # subscribed before the first reload
            for number in range(3):
                (corpus / "biology" / f"new-{number}.md").write_text(article_text(990001 + number))
                server.process.send_signal(signal.SIGHUP)
                wait_for(server, 2 + number)
            events = []
            for _ in range(3):
                message = json.loads(socket.recv(timeout=10))
                assert message["type"] == "next", message
                events.append(message["payload"]["data"]["graphChanged"])
            with pytest.raises(TimeoutError):
                socket.recv(timeout=0.5)  # exactly one event per reload
        assert [event["version"] for event in events] == [2, 3, 4]
        assert [event["articles"] for event in events] == [53, 54, 55]
        assert all(event["links"] == 113 for event in events)

"""Live reload with a real server: files change while clients query; SIGHUP; the subscription."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from conftest import SEEDS, RunningServer, article_text, kgraph_server
from kgraph.budget import Budget
from kgraph.graph.curation import every_wanted_suggested
from kgraph.graph.load import load_corpus
from kgraph.serving import AppState, _save
from kgraph.settings import Settings

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
    errors = server.graphql("{ curation { parseErrors { nodes { path line message } } } }")
    assert [e["path"] for e in errors["curation"]["parseErrors"]["nodes"]] == ["biology/broken.md"]
    assert server.graphql("{ article(id: 168904) { articleId } }")["article"] == {
        "articleId": 168904
    }

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


# The watch against a corpus folder that misbehaves: each case bounded in time,
# with the reloads it cost counted (graph_version in /readyz) and what it serves.


def readyz(server: RunningServer) -> tuple[int, dict[str, Any]]:
    response = httpx.get(f"{server.base}/readyz", timeout=10)
    return response.status_code, response.json()


def wait_ready(server: RunningServer, timeout: float = 30, **expected: object) -> dict[str, Any]:
    """The /readyz body once it holds the ``expected`` values (its status code as ``code``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code, body = readyz(server)
        body["code"] = code
        if all(body.get(key) == value for key, value in expected.items()):
            return body
        time.sleep(0.05)
    pytest.fail(f"/readyz never had {expected} in {timeout} s: {body}\n{server.output}")


def steady_version(server: RunningServer, seconds: float) -> int:
    """The graph version after ``seconds`` in which it must not change (no reload loop)."""
    version: int = readyz(server)[1]["graph_version"]
    time.sleep(seconds)
    assert readyz(server)[1]["graph_version"] == version, server.output
    return version


def watching(corpus: Path, *options: str) -> Any:
    return kgraph_server("--corpus", str(corpus), "--watch", "--watch-settle-ms", "100", *options)


def test_a_file_name_that_is_not_utf8_is_reported_once(corpus: Path) -> None:
    with watching(corpus) as server:
        wait_ready(server, graph_version=1)
        named = os.open(os.fsencode(corpus / "biology") + b"/caf\xe9.md", os.O_CREAT | os.O_WRONLY)
        os.write(named, article_text(990001).encode())
        os.close(named)

        body = wait_ready(server, parse_errors=1, files=54, articles=52)
        # Reading it made events the watch cannot name, which failed the watch,
        # whose catch-up reload read it again: a reload a second, for good.
        version = steady_version(server, 2.0)
        assert version <= 3, server.output
        assert body["code"] == 200
        [error] = server.graphql("{ curation { parseErrors { nodes { path line message } } } }")[
            "curation"
        ]["parseErrors"]["nodes"]
        assert error == {
            "path": "biology/caf\\xe9.md",
            "line": None,
            "message": "file name is not UTF-8 (byte 0xe9): not read; rename it with UTF-8"
            " characters",
        }
        # Renamed, it is read.
        os.rename(os.fsencode(corpus / "biology") + b"/caf\xe9.md", corpus / "biology" / "cafe.md")
        wait_ready(server, parse_errors=0, files=54, articles=53)


def test_a_fifo_is_reported_and_blocks_nothing(corpus: Path) -> None:
    os.mkfifo(corpus / "biology" / "x.md")
    # A cold start reads past it.
    with watching(corpus) as server:
        body = wait_ready(server, graph_version=1)
        assert (body["files"], body["parse_errors"], body["articles"]) == (54, 1, 52)
        os.mkfifo(corpus / "physics" / "y.md")
        wait_ready(server, files=55, parse_errors=2)
        # The reader is not stuck: later changes still reload.
        (corpus / "biology" / "new-one.md").write_text(article_text(990001))
        body = wait_ready(server, files=56, parse_errors=2, articles=53)
        errors = server.graphql("{ curation { parseErrors { nodes { path message } } } }")[
            "curation"
        ]
        assert [e["path"] for e in errors["parseErrors"]["nodes"]] == [
            "biology/x.md",
            "physics/y.md",
        ]
        assert all("named pipe" in e["message"] for e in errors["parseErrors"]["nodes"])
        assert steady_version(server, 0.5) <= 5


def test_the_watch_follows_a_folder_swapped_in_under_its_name(tmp_path: Path) -> None:
    corpus = Path(shutil.copytree(SEEDS, tmp_path / "corpus"))
    with watching(corpus) as server:
        wait_ready(server, graph_version=1)
        fresh = Path(shutil.copytree(SEEDS, tmp_path / "corpus.new"))
        (fresh / "biology" / "new-one.md").write_text(article_text(990001))
        os.rename(corpus, tmp_path / "corpus.old")
        os.rename(fresh, corpus)
        wait_ready(server, articles=53, files=54, code=200)
        # The folder now at the path is the one watched: its changes reload.
        (corpus / "biology" / "new-two.md").write_text(article_text(990002))
        wait_ready(server, articles=54, files=55)
        # A change in the old folder is not the corpus's.
        (tmp_path / "corpus.old" / "biology" / "stray.md").write_text(article_text(990003))
        # Gone for a while, then back: the watch waits, then follows it again.
        os.rename(corpus, tmp_path / "corpus.away")
        time.sleep(1.5)  # more than a check of the folder
        assert server.process.poll() is None
        os.rename(tmp_path / "corpus.away", corpus)
        (corpus / "biology" / "new-three.md").write_text(article_text(990004))
        body = wait_ready(server, articles=55, files=56, code=200)
        assert "reload_error" not in body
        assert "was replaced or removed" in server.output


def test_links_out_of_the_corpus_are_refused(corpus: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text(article_text(990009, title="Secret?"))
    with watching(corpus) as server:
        wait_ready(server, graph_version=1)
        (corpus / "biology" / "out.md").symlink_to(outside / "secret.md")
        (corpus / "elsewhere").symlink_to(outside, target_is_directory=True)
        # A link that stays inside reads as a copy, as it always did.
        seed = next((corpus / "biology").glob("what-is-the-role-of-atp*.md"))
        (corpus / "physics" / "atp.md").symlink_to(seed)
        body = wait_ready(server, files=55, parse_errors=2, articles=52)
        assert body["code"] == 200
        assert server.graphql("{ article(id: 990009) { articleId } }")["article"] is None
        errors = server.graphql("{ curation { parseErrors { nodes { path line message } } } }")
        assert {e["path"]: e["message"] for e in errors["curation"]["parseErrors"]["nodes"]} == {
            "biology/out.md": "symbolic link leads outside the corpus folder: not read;"
            " copy the file into the corpus instead",
            "elsewhere": "symbolic link to a folder outside the corpus folder: not followed",
        }
        copies = server.graphql("{ article(id: 168904) { copies { path } } }")["article"]["copies"]
        assert "physics/atp.md" in [copy["path"] for copy in copies]
        assert steady_version(server, 0.5) <= 5


def test_a_new_copy_that_takes_over_an_article_is_reported(corpus: Path) -> None:
    with watching(corpus) as server:
        wait_ready(server, graph_version=1)
        before = server.graphql("{ article(id: 168904) { title url } }")["article"]
        # Sorts before biology/: the first copy, whose title and url the article takes.
        (corpus / "aaa").mkdir()
        (corpus / "aaa" / "first.md").write_text(
            article_text(168904, title="Taken over?", url="/learn/aaa/questions/first")
        )
        body = wait_ready(server, files=54, articles=52, copy_takeovers=1)
        after = server.graphql("{ article(id: 168904) { title url } }")["article"]
        assert after == {"title": "Taken over?", "url": "/learn/aaa/questions/first"}
        assert body["code"] == 200
        assert "article 168904: the new file aaa/first.md comes first" in server.output
        assert repr(before["title"]) in server.output
        query = (
            "{ curation { copyTakeovers { nodes { id path title previousPath previousTitle } } } }"
        )
        (taken,) = server.graphql(query)["curation"]["copyTakeovers"]["nodes"]
        assert taken["id"] == 168904
        assert (taken["path"], taken["title"]) == ("aaa/first.md", "Taken over?")
        assert taken["previousPath"].startswith("biology/")
        assert taken["previousTitle"] == before["title"]
        # Still reported after an unrelated reload; gone once the file is.
        (corpus / "biology" / "new-one.md").write_text(article_text(990001))
        wait_ready(server, files=55, articles=53, copy_takeovers=1)
        (corpus / "aaa" / "first.md").unlink()
        body = wait_ready(server, files=54, articles=53)
        assert "copy_takeovers" not in body
        assert server.graphql(query)["curation"]["copyTakeovers"]["nodes"] == []
        assert server.output.count("comes first of its copies") == 1


def _spawned_workers(parent: int) -> set[int]:
    """The reading processes (multiprocessing's spawned children) of process ``parent``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == parent and b"spawn_main" in command and fields[0] != "Z":
            found.add(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_stuck_reload_is_abandoned_and_the_next_one_serves(corpus: Path) -> None:
    options = ("--workers", "2", "--reload-timeout", "1", "--max-staleness", "3")
    with kgraph_server("--corpus", str(corpus), *options) as server:
        wait_ready(server, graph_version=1)
        (corpus / "biology" / "new-one.md").write_text(article_text(990001))
        server.process.send_signal(signal.SIGHUP)
        # The reading workers stop as a stuck read would stop them (before
        # they have imported anything: a spawned reader takes longer to start).
        stopped: set[int] = set()
        deadline = time.monotonic() + 10
        while len(stopped) < 2 and time.monotonic() < deadline:
            for pid in _spawned_workers(server.process.pid) - stopped:
                os.kill(pid, signal.SIGSTOP)
                stopped.add(pid)
            time.sleep(0.002)
        try:
            assert len(stopped) == 2, server.output
            body = wait_ready(server, timeout=10, code=200, graph_version=1, articles=52)
            body = wait_ready(
                server,
                timeout=10,
                graph_version=1,
                code=200,
                **{
                    "reload_error": "the reload did not finish within 1 s (reload_timeout) and was"
                    " abandoned; the next change or SIGHUP reloads again"
                },
            )
            assert body["pending_seconds"] < 3
            stats = server.graphql("{ stats { graphVersion reloadError articles } }")["stats"]
            assert (stats["graphVersion"], stats["articles"]) == (1, 52)
            assert "abandoned" in stats["reloadError"]
            # Its workers are ended, stopped as they are.
            deadline = time.monotonic() + 10
            while _spawned_workers(server.process.pid) & stopped:
                assert time.monotonic() < deadline, server.output
                time.sleep(0.05)
            # The change stays unserved: past max_staleness, not ready.
            body = wait_ready(server, timeout=10, code=503, status="stale")
            assert body["graph_version"] == 1
            assert "not served yet (max_staleness is 3 s)" in body["error"]
            metrics = httpx.get(f"{server.base}/metrics").text
            assert 'kgraph_graph_loads_total{result="failure"} 1.0' in metrics
            # The next reload is not held up by the abandoned one.
            server.process.send_signal(signal.SIGHUP)
            body = wait_ready(server, timeout=30, code=200, graph_version=2, articles=53)
            assert "reload_error" not in body
            assert "pending_seconds" not in body
        finally:
            for pid in stopped:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)


def test_a_cursor_from_before_a_reload_is_refused(corpus: Path) -> None:
    page = "query($after: String) { articles(first: 5, after: $after) { pageInfo { endCursor } } }"
    with kgraph_server("--corpus", str(corpus)) as server:
        wait_for(server, 1)
        cursor = server.graphql(page)["articles"]["pageInfo"]["endCursor"]
        # Good for every request of the version it was made in.
        assert server.graphql(page, after=cursor)["articles"]["pageInfo"]["endCursor"]
        (corpus / "biology" / "new-one.md").write_text(article_text(990001))
        server.process.send_signal(signal.SIGHUP)
        wait_for(server, 2, articles=53)
        body = httpx.post(
            f"{server.base}/graphql", json={"query": page, "variables": {"after": cursor}}
        ).json()
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert "the graph was reloaded" in error["message"]
        assert "restart paging" in error["message"]
        assert body["data"] is None


def test_a_cursor_is_good_on_every_server_of_the_same_corpus(corpus: Path) -> None:
    # Two replicas (as compose's scale profile runs them behind nginx): a page asked of
    # one continues on the other; a server that does not keep snapshots names its
    # graphs itself, and its cursors are refused elsewhere.
    page = "query($after: String) { articles(first: 5, after: $after) { nodes { articleId } pageInfo { endCursor } } }"
    with (
        kgraph_server("--corpus", str(corpus)) as one,
        kgraph_server("--corpus", str(corpus)) as other,
        kgraph_server("--corpus", str(corpus), "--no-cache") as alone,
    ):
        cursor = one.graphql(page)["articles"]["pageInfo"]["endCursor"]
        assert other.graphql(page, after=cursor) == one.graphql(page, after=cursor)
        body = httpx.post(
            f"{alone.base}/graphql", json={"query": page, "variables": {"after": cursor}}
        ).json()
        (error,) = body["errors"]
        assert "restart paging" in error["message"], error
        assert "another server" in error["message"], error


def test_a_newer_graphs_snapshot_stops_an_older_one_still_being_written(
    dev_corpus: Path, tmp_path: Path
) -> None:
    """A snapshot written past reload_timeout goes on in its thread, holding its graph,
    until the snapshot of a newer graph begins: then it stops, its suggestions left undone.

    (Every wanted article's suggestions take seconds on dev, most of an hour at a million
    articles, where reloads could otherwise pile such threads up.)
    """
    cache = tmp_path / "cache"
    state = AppState(settings=Settings(corpus=dev_corpus, cache_dir=cache, reload_timeout=0.2))
    older = load_corpus(dev_corpus, cache_dir=cache)
    newer = load_corpus(SEEDS, cache_dir=cache)

    async def both() -> Budget | None:
        await _save(state, older)  # back after 0.2 s; its thread goes on
        first = state.saving
        await _save(state, newer)
        return first

    first = anyio.run(both)
    assert first is not None
    assert first.cancelled
    assert state.saving is not None
    assert not state.saving.cancelled
    # The newer one's save goes on to the end (past reload_timeout on a busy machine).
    deadline = time.monotonic() + 30
    while not every_wanted_suggested(newer.graph):
        assert time.monotonic() < deadline
        assert not state.saving.cancelled
        time.sleep(0.05)
    # Not cancelled, the older thread's suggestions were done in 3-5 s.
    deadline = time.monotonic() + 12
    while time.monotonic() < deadline:
        assert not every_wanted_suggested(older.graph)
        time.sleep(0.1)

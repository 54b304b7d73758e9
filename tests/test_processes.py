"""``kgraph serve --processes 2`` for real: a master, two forked serving processes, reloads, deaths."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import anyio
import httpx
import pytest
import uvicorn
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from conftest import SEEDS, RunningServer, article_text, free_port, kgraph_server
from kgraph.connections import ConnectionLimits, open_connections, protocol_class
from kgraph.processes import Retirement, _messages
from kgraph.settings import Settings, cores

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc")

VERSION = "{ stats { graphVersion articles } }"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SEEDS, tmp_path / "corpus"))


def serving_pids(server: RunningServer) -> set[int]:
    """The master's forked children (from any of its threads) alive: its serving processes.

    Not the corpus readers it may spawn (another command line).
    """
    master = server.process.pid
    command = Path(f"/proc/{master}/cmdline").read_bytes()
    found: set[int] = set()
    for task in Path(f"/proc/{master}/task").iterdir():
        try:
            found |= {int(pid) for pid in (task / "children").read_text().split()}
        except FileNotFoundError:  # a thread that just ended
            continue
    return {pid for pid in found if _alive(pid) and _command(pid) == command}


def _command(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def wait_until(condition: Callable[[], bool], server: RunningServer, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"exit code {server.process.poll()}\n{server.output}"
        time.sleep(0.05)


def versions_by_pid(server: RunningServer) -> dict[int, float]:
    """``kgraph_process_graph_version`` of every live serving process, by pid."""
    text = httpx.get(f"{server.base}/metrics").text
    return {
        int(sample.labels["pid"]): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "kgraph_process_graph_version"
    }


def metric(server: RunningServer, name: str, **labels: str) -> float:
    text = httpx.get(f"{server.base}/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    raise AssertionError(f"no sample {name} {labels}")


def answers(server: RunningServer, count: int) -> list[dict[str, int]]:
    """``count`` answers to :data:`VERSION`, each on a connection of its own."""
    return [server.graphql(VERSION)["stats"] for _ in range(count)]


def test_one_process_per_core_by_default() -> None:
    assert Settings().processes == cores() >= 1
    assert Settings.resolve({}, {"KGRAPH_PROCESSES": "3"}).processes == 3


def test_two_processes_serve_and_metrics_add_up(corpus: Path) -> None:
    with kgraph_server("--corpus", str(corpus), "--processes", "2") as server:
        wait_until(lambda: len(serving_pids(server)) == 2, server)
        pids = serving_pids(server)
        assert all(answer == {"graphVersion": 1, "articles": 52} for answer in answers(server, 40))
        # Whichever process answers /metrics counts every process's requests.
        assert metric(server, "kgraph_requests_total", operation="stats", status="200") == 40
        assert versions_by_pid(server) == dict.fromkeys(pids, 1.0)
        assert metric(server, "kgraph_graph_loads_total", result="success") == 1
        assert metric(server, "kgraph_graph_articles") == 52
        said = re.search(r"their metrics in (\S+)", server.output)
        assert said is not None, server.output
        multiproc = said.group(1)
        assert Path(multiproc).is_dir()
    # SIGTERM stopped them all, and the master removed its metrics folder.
    assert not any(_alive(pid) for pid in pids)
    assert not Path(multiproc).exists()
    assert "SIGTERM: stopping 2 serving processes" in server.output


def test_sighup_replaces_every_process_with_the_new_graph(corpus: Path) -> None:
    with kgraph_server("--corpus", str(corpus), "--processes", "2") as server:
        wait_until(lambda: len(serving_pids(server)) == 2, server)
        old = serving_pids(server)
        url = server.base.replace("http://", "ws://") + "/graphql"
        with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as socket:
            socket.send(json.dumps({"type": "connection_init"}))
            assert json.loads(socket.recv(timeout=10))["type"] == "connection_ack"
            query = "subscription { graphChanged { version articles } }"
            socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
            time.sleep(0.3)
            (corpus / "biology" / "new-one.md").write_text(article_text(990001))
            server.process.send_signal(signal.SIGHUP)
            # The subscriber of a process being replaced hears of the new graph…
            message = json.loads(socket.recv(timeout=30))
            assert message["payload"]["data"]["graphChanged"] == {"version": 2, "articles": 53}
            # … then its socket closes ("service restart"): it reconnects to a new process.
            with pytest.raises(ConnectionClosed) as closed:
                socket.recv(timeout=30)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1012
        wait_until(
            lambda: len(serving_pids(server)) == 2 and not serving_pids(server) & old, server
        )
        new = serving_pids(server)
        assert all(answer == {"graphVersion": 2, "articles": 53} for answer in answers(server, 20))
        assert versions_by_pid(server) == dict.fromkeys(new, 2.0)
        assert metric(server, "kgraph_graph_version") == 2
        assert metric(server, "kgraph_graph_loads_total", result="success") == 2


def test_a_client_keeping_its_connection_alive_over_a_reload_is_answered_throughout(
    corpus: Path,
) -> None:
    # Its connection holds a retiring process to the whole drain: each request it
    # sends is answered (the one after the retirement with its connection closed),
    # never cut off, and no answer of the new graph comes before one of the old.
    with kgraph_server("--corpus", str(corpus), "--processes", "2") as server:
        wait_until(lambda: len(serving_pids(server)) == 2, server)
        seen: list[int] = []
        with httpx.Client(base_url=server.base, timeout=30) as client:

            def ask() -> None:
                response = client.post("/graphql", json={"query": VERSION})
                assert response.status_code == 200, response.text
                seen.append(response.json()["data"]["stats"]["graphVersion"])

            ask()
            (corpus / "biology" / "new-one.md").write_text(article_text(990001))
            server.process.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 30
            while not seen or seen[-1] == 1:
                assert time.monotonic() < deadline, server.output
                ask()
                time.sleep(0.02)
            for _ in range(20):
                ask()
        assert seen == sorted(seen)
        assert (seen[0], seen[-1]) == (1, 2)


def test_a_retiring_process_is_drained_once_it_holds_no_http_connection() -> None:
    app = Starlette(routes=[Route("/", lambda request: PlainTextResponse("ok"))])
    retirement = Retirement(app)
    port = free_port()
    config = uvicorn.Config(
        retirement,
        host="127.0.0.1",
        port=port,
        http=protocol_class(ConnectionLimits()),
        log_config=None,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    retirement.server = server
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()

    async def drained_within(seconds: float) -> bool:
        with anyio.move_on_after(seconds):
            await retirement.drained()
            return True
        return False

    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        with (
            httpx.Client(base_url=f"http://127.0.0.1:{port}") as first,
            httpx.Client(base_url=f"http://127.0.0.1:{port}") as second,
        ):
            assert first.get("/").text == second.get("/").text == "ok"  # both kept alive
            assert open_connections(config.http) == 2
            retirement.begun = True
            assert not anyio.run(drained_within, 0.3)
            # Answered with its connection closed: one client left.
            assert first.get("/").headers["connection"] == "close"
            deadline = time.monotonic() + 10
            while open_connections(config.http) != 1:
                assert time.monotonic() < deadline
                time.sleep(0.01)
            assert not anyio.run(drained_within, 0.3)
        assert anyio.run(drained_within, 10)
        assert open_connections(config.http) == 0
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_a_failed_reload_keeps_the_processes_serving_and_says_why(corpus: Path) -> None:
    with kgraph_server("--corpus", str(corpus), "--processes", "2") as server:
        wait_until(lambda: len(serving_pids(server)) == 2, server)
        pids = serving_pids(server)
        for folder in list(corpus.iterdir()):
            shutil.rmtree(folder) if folder.is_dir() else folder.unlink()
        server.process.send_signal(signal.SIGHUP)
        wait_until(lambda: "keeps serving" in server.output, server)

        def readyz() -> list[httpx.Response]:
            return [httpx.get(f"{server.base}/readyz") for _ in range(10)]

        # Every process says so, soon (the master tells them).
        wait_until(lambda: all("reload_error" in r.json() for r in readyz()), server)
        for response in readyz():
            assert response.status_code == 200
            assert "no *.md article files" in response.json()["reload_error"]
            assert response.json()["graph_version"] == 1
        stats = server.graphql("{ stats { graphVersion reloadError } }")["stats"]
        assert stats["graphVersion"] == 1
        assert "no *.md article files" in stats["reloadError"]
        assert serving_pids(server) == pids


def test_a_process_killed_is_replaced(corpus: Path) -> None:
    with kgraph_server("--corpus", str(corpus), "--processes", "2") as server:
        wait_until(lambda: len(serving_pids(server)) == 2, server)
        killed = min(serving_pids(server))
        os.kill(killed, signal.SIGKILL)
        wait_until(lambda: len(serving_pids(server) - {killed}) == 2, server)
        assert f"serving process {killed} (graph version 1) ended unexpectedly" in server.output
        assert "killed by SIGKILL" in server.output
        assert all(answer["graphVersion"] == 1 for answer in answers(server, 20))
        wait_until(lambda: set(versions_by_pid(server)) == serving_pids(server), server)


def test_serving_processes_stop_when_their_master_is_killed(corpus: Path, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    port = free_port()
    options = ["--port", str(port), "--corpus", str(corpus), "--processes", "2"]
    with log.open("w") as out:
        master = subprocess.Popen(
            [sys.executable, "-m", "kgraph", "serve", *options],
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    server = RunningServer(base=f"http://127.0.0.1:{port}", process=master)
    try:
        wait_until(lambda: _ready(server.base), server)
        wait_until(lambda: len(serving_pids(server)) == 2, server)
        pids = serving_pids(server)
    finally:
        master.kill()
        master.wait()
        said = re.search(r"their metrics in (\S+)", log.read_text())
        if said:  # nobody is left to remove it
            shutil.rmtree(said.group(1), ignore_errors=True)
    deadline = time.monotonic() + 20
    while any(_alive(pid) for pid in pids):
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    assert log.read_text().count("the master is gone; stopping") == 2


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@pytest.mark.parametrize("listening", [True, False], ids=["while-listening", "before-listening"])
def test_messages_end_when_the_master_closes_its_end_first(listening: bool) -> None:
    """A process that ended can be reaped (its end closed) before its end of file is read.

    That must end its messages, not fail the master's task group (which ended the master).
    """

    async def main() -> list[dict[str, object]]:
        ours, theirs = socket.socketpair()
        ours.setblocking(False)
        got: list[dict[str, object]] = []

        async def listen() -> None:
            async for message in _messages(ours):
                got.append(message)

        theirs.send(b'{"ready": true}\n')
        async with anyio.create_task_group() as tasks:
            if listening:
                tasks.start_soon(listen)
                await anyio.sleep(0.2)  # read the message, waiting for more
            anyio.notify_closing(ours)
            ours.close()
            if not listening:
                await listen()
        theirs.close()
        return got

    assert anyio.run(main) == ([{"ready": True}] if listening else [])


def test_a_master_stopped_before_its_snapshot_is_whole_stops_at_once(
    dev_corpus: Path, tmp_path: Path
) -> None:
    """The graph's snapshot is written first, then again with every wanted article's suggestions
    (3 s of CPU on dev, most of an hour at a million articles): SIGTERM stops those,
    where the master used to wait for them and write its snapshot again before it ended."""
    cache = tmp_path / "cache"
    options = ["--corpus", str(dev_corpus), "--processes", "2", "--cache-dir", str(cache)]
    with kgraph_server(*options) as server:
        wait_until(lambda: "wrote the graph snapshot" in server.output, server, timeout=60)
        started = time.monotonic()
        server.process.terminate()
        server.process.wait(timeout=30)
        stopped = time.monotonic() - started
    assert server.output.count("wrote the graph snapshot") == 1, server.output
    assert stopped < 10
    assert len(list(cache.glob("*.kgsnap"))) == 1

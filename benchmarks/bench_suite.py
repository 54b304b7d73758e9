"""kgraph's benchmark suite: ingest, warm start, memory and HTTP, each beside its alternative.

Run with ``make bench`` (never part of ``make test``). Every figure is the median
of repeated runs with its spread (max - min), and every pair is measured in the
same run so that its ratio means something:

1. ``ingest``: cold load of the dev corpus as ``kgraph check`` and ``serve`` load it
   (``load_corpus``, no snapshot), ``kgraph check --no-cache`` and ``kgraph check``
   from a warm snapshot, each against the naive plain reading
   (``benchmarks/naive_ingest.py``: one process, PyYAML's ``CSafeLoader`` per file,
   a networkx graph; nothing of kgraph), all as whole processes (interpreter start
   and imports included), rounds interleaved; same nodes and edges (with ranks) checked;
   beside them a floor (``benchmarks/floor_ingest.py``: two processes picking ids
   alone), the least that any reader in Python costs on the same machine, and the
   cold load with its readers' work done (their chunks, recorded once, handed over
   from a file): the loading process's own share, which no faster reader shortens;
   then the scale curve: the cold load against the naive reading on the generated
   corpora of ``--sizes`` (past 200,000 articles, one round);
2. ``start``: ``kgraph serve`` until ``/readyz`` says ready, cold vs warm (snapshot),
   on the dev corpus and the generated ones of ``--start-sizes``; every file of the
   corpus read once just before each start (the page cache warmed, its seconds
   shown), so that a start is measured, not this VM's disk: its DAMON reclaim pages a
   corpus out a minute after it was read, and 1M cold starts took 124-244 s by how
   much of the corpus's 6 GB happened to be resident;
3. ``memory``: peak RSS of a serving process (no snapshot), every curation report
   asked once, on the dev corpus and generated corpora of 36,000, 200,000 and
   1,000,000 articles;
4. ``load``: wrk (2 threads, 32 connections) against a server on 127.0.0.1 with the
   dev corpus: p50/p95/p99, requests/s and errors per query, and GraphQL
   ``article`` vs a bare Starlette JSON route of the same process;
5. ``latency``: sequential requests over one keep-alive connection, per query;
6. ``paths``: ``learningPath`` in the server vs the bare ``networkx`` call on the same pairs;
7. ``soak``: 30 s of wrk (32 connections) on a mix of queries with two reloads
   (SIGHUP) during the load: errors, p99 and throughput, and that both reloads landed;
8. ``hostile``: 60 s of 32 wrk clients on ordinary queries (8 of them on ``article``
   alone) while 300 idle sockets are kept open and 2 heavy queries at a time are
   sent and abandoned: errors, ``article`` p99 and the server's RSS growth;
9. ``commands``: wall time of ``kgraph path``, ``export`` and ``check`` processes on
   the dev corpus, from the files (``--no-cache``) and from a warm snapshot, and
   whether ``check`` reports the same from both;
10. ``processes``: ``article`` throughput (wrk -t2 -c32, as ``load``) of ``kgraph serve
   --processes 1`` and ``--processes 2`` on the dev corpus, round by round, and the
   memory of the serving processes together (PSS of the master and its children)
   against the RSS of the single process, both after the load. wrk runs on the same
   machine, so on 2 cores it takes CPU from either server alike;
11. ``curation``: ``kgraph serve --no-watch`` cold (a fresh cache folder), the
    first ``curation { brokenLinks(first: 20) { nodes { fix } } }`` once ``/readyz``
    is 200 and again after a SIGHUP reload, and the peak RSS of the serving process
    once every curation report was asked once, on dev and a generated 200,000
    (the first of ``--start-sizes``).

Every other section's servers run as one process (``KGRAPH_PROCESSES=1``): their
figures are of one serving process, as before ``--processes`` existed.

Prints a table per section and writes ``benchmarks/results.json``. Corpora are
unpacked or generated under ``benchmarks/.work/`` (ignored by git) and reused.

Options: ``--only SECTION[,SECTION]``, ``--sizes 36000,200000,1000000`` (memory),
``--start-sizes 200000,1000000`` (start; past 200,000 once), ``--rounds N``, ``--duration SECONDS`` (per wrk run).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import os
import platform
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import networkx as nx

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / ".work"
TARBALL = Path(
    os.environ.get("KGRAPH_DEV_CORPUS", REPO.parent / "shared/corpora/quicktakes-dev.tar.xz")
)
SEED = 1
SECTIONS = (
    "ingest", "start", "memory", "load", "soak", "hostile", "latency", "paths", "commands",
    "processes",
    "curation",
)  # fmt: skip

sys.path.insert(0, str(REPO))

from kgraph.corpus import discover, parse_article  # noqa: E402
from kgraph.graph import KnowledgeGraph, load_graph  # noqa: E402

# -- corpora ---------------------------------------------------------------------------


def dev_corpus() -> Path:
    """The dev corpus, unpacked once under .work/."""
    target = WORK / "quicktakes-dev"
    if not (target / ".complete").is_file():
        if not TARBALL.is_file():
            raise SystemExit(f"the dev corpus archive is missing: {TARBALL}")
        shutil.rmtree(target, ignore_errors=True)
        with tarfile.open(TARBALL) as archive:
            archive.extractall(target, filter="data")
        (target / ".complete").write_text("")
    return target


def generated(count: int) -> Path:
    """A generated corpus of ``count`` articles (seed 1), made once under .work/."""
    target = WORK / f"generated-{count}"
    if not (target / ".complete").is_file():
        shutil.rmtree(target, ignore_errors=True)
        print(f"generating {count:,} articles into {target} …", flush=True)
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "kgraph",
                "generate",
                str(count),
                str(target),
                "--seed",
                str(SEED),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(f"  generated in {time.perf_counter() - started:.1f} s", flush=True)
        (target / ".complete").write_text("")
    return target


# -- figures ---------------------------------------------------------------------------


def figure(values: list[float], digits: int = 3) -> dict[str, Any]:
    """Median and spread of repeated measurements."""
    return {
        "median": round(statistics.median(values), digits),
        "spread": round(max(values) - min(values), digits),
        "runs": [round(v, digits) for v in values],
    }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        # A process may end (and be reaped) at any step: its own listing as well.
        with contextlib.suppress(OSError, ValueError):
            for tasks in list(Path(f"/proc/{todo.pop()}/task").glob("*/children")):
                with contextlib.suppress(OSError, ValueError):
                    children = [int(child) for child in tasks.read_text().split()]
                    found += children
                    todo += children
    return found


def _rss_mb(pid: int) -> float:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb(pid: int) -> float:
    """The peak resident set (VmHWM) of a live process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


# -- servers ---------------------------------------------------------------------------


class Server:
    """A server process on a free port of 127.0.0.1, with the time it took to be ready."""

    def __init__(
        self, process: subprocess.Popen[bytes], base: str, ready: float, helpers_mb: float = 0.0
    ) -> None:
        self.process, self.base, self.ready = process, base, ready
        #: The largest resident set seen of a process it started before it was ready
        #: (its readers, the fingerprint's, search's own), sampled every half second.
        self.helpers_mb = helpers_mb

    def graphql(self, query: str, **variables: object) -> dict[str, Any]:
        response = httpx.post(
            f"{self.base}/graphql", json={"query": query, "variables": variables}, timeout=60
        )
        body: dict[str, Any] = response.json()
        if response.status_code != 200 or "errors" in body:
            raise SystemExit(f"request failed: {response.status_code} {body}")
        return body


@contextmanager
def serving(command: list[str], port: int, timeout: float = 900) -> Iterator[Server]:
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    helpers = 0.0
    sampled = started
    try:
        with httpx.Client(timeout=5) as client:
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"server exited early: {' '.join(command)}")
                try:
                    if client.get(f"{base}/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.perf_counter() - started > timeout:
                    raise SystemExit(f"server not ready in {timeout:.0f} s")
                if time.perf_counter() - sampled >= 0.5:
                    sampled = time.perf_counter()
                    sizes = [_rss_mb(pid) for pid in _descendants(process.pid)]
                    helpers = max([helpers, *sizes])
                time.sleep(0.02)
        yield Server(process, base, time.perf_counter() - started, helpers)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def kgraph_serve(corpus: Path, *options: str) -> tuple[list[str], int]:
    port = free_port()
    command = [sys.executable, "-m", "kgraph", "serve", "--corpus", str(corpus)]
    return [*command, "--port", str(port), "--no-ide", *options], port


def bare_server(corpus: Path, cache: Path) -> tuple[list[str], int]:
    port = free_port()
    return [sys.executable, str(HERE / "bare_server.py"), str(corpus), str(port), str(cache)], port


def wait_for_snapshot(cache: Path, timeout: float = 3600) -> None:
    deadline = time.monotonic() + timeout
    while not list(cache.glob("*.kgsnap")):
        if time.monotonic() > deadline:
            raise SystemExit(f"no snapshot written in {cache}")
        time.sleep(0.1)


# A few queries a frontend would send, so that peak memory includes what they build.
TOUCH = (
    "{ curation { summary { orphans } } }",
    "query($id: Int!) { similar(id: $id) { nodes { score } } neighbours(id: $id, depth: 2) { nodes { distance } } }",
    "query($id: Int!) { learningPath(from: $id, to: $id, options: {bridges: true}) { hops } }",
)


def every_report(server: Server) -> None:
    """Ask every curation report of the whole corpus once (:data:`EVERY_REPORT`): a page
    each, fixes and suggestions included, what a curator's first visit builds."""
    server.graphql(EVERY_REPORT)


def touch(server: Server, some_id: int) -> None:
    for query in TOUCH:
        variables = {"id": some_id} if "$id" in query else {}
        server.graphql(query, **variables)


# -- 1. ingest -------------------------------------------------------------------------


# kgraph's cold load as `kgraph check` and `kgraph serve` run it (load_corpus, no
# snapshot), in a process of its own, like the naive reading: both print the same
# digest of their graph (benchmarks/naive_ingest.py's graph_digest) and are timed
# from start to exit. Not prepared: the derived reports and models that `serve`
# builds next are not part of reading the corpus (`check` is timed on its own).
_KGRAPH_LOAD = """
import json, sys
if __name__ == "__main__":
    from kgraph.graph.load import load_corpus
    graph = load_corpus(sys.argv[1], cache=False, prepared=False).graph.graph
    sys.path.insert(0, sys.argv[2])
    from naive_ingest import graph_digest
    print(json.dumps(graph_digest(graph)))
"""


# The same load, its readers' work already done: the chunks that the reading
# processes sent in a recorded load (_RECORD_CHUNKS) are given to the loading
# process from a file, in order, where the reading processes would have sent
# them. What is left is the loading process's own share (interpreter, imports,
# listing, taking the chunks, the build, the digest, exit): a bound on the cold
# load that no faster reader can pass, since the readers' CPU comes on top on
# the same two cores. It swaps kgraph's own private reader loop (_read_all).
_PARENT_ALONE = """
import json, pickle, sys
if __name__ == "__main__":
    import kgraph.corpus.read as read

    def replay(root, paths, workers, cancelled):
        with open(sys.argv[3], "rb") as chunks:
            while True:
                try:
                    yield pickle.load(chunks)
                except EOFError:
                    return

    read._read_all = replay
    from kgraph.graph.load import load_corpus
    graph = load_corpus(sys.argv[1], cache=False, prepared=False).graph.graph
    sys.path.insert(0, sys.argv[2])
    from naive_ingest import graph_digest
    print(json.dumps(graph_digest(graph)))
"""
_RECORD_CHUNKS = """
import pickle, sys
if __name__ == "__main__":
    import kgraph.corpus.read as read

    real = read._read_all
    with open(sys.argv[2], "wb") as out:

        def record(*args):
            for chunk in real(*args):
                pickle.dump(chunk, out, protocol=5)
                yield chunk

        read._read_all = record
        from kgraph.graph.load import load_corpus
        load_corpus(sys.argv[1], cache=False, prepared=False)
"""


def _process(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds of one process from start to exit (interpreter and imports included),
    the CPU seconds (user + system) of it and its children, and its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert result.returncode in (0, 1), result.stderr  # check: 1 when a finding fails it
    return seconds, cpu, result.stdout


def bench_ingest(rounds: int, sizes: list[int]) -> dict[str, Any]:
    """Cold ingest and `kgraph check` against the naive plain reading, whole processes, interleaved;
    then the cold load against the naive reading on generated corpora of ``sizes``."""
    corpus = dev_corpus()
    with tempfile.TemporaryDirectory(prefix="kgraph-ingest-") as scratch:
        cache = Path(scratch) / "cache"
        chunks = Path(scratch) / "chunks"
        _process([sys.executable, "-c", _RECORD_CHUNKS, str(corpus), str(chunks)])
        check = [sys.executable, "-m", "kgraph", "check", str(corpus), "--cache-dir", str(cache)]
        runs: dict[str, list[str]] = {
            "naive (CSafeLoader, one process)": [
                sys.executable, str(HERE / "naive_ingest.py"), str(corpus)
            ],
            "kgraph cold load": [sys.executable, "-c", _KGRAPH_LOAD, str(corpus), str(HERE)],
            "kgraph load, readers' work done": [
                sys.executable, "-c", _PARENT_ALONE, str(corpus), str(HERE), str(chunks)
            ],
            "floor (two processes, ids only)": [
                sys.executable, str(HERE / "floor_ingest.py"), str(corpus)
            ],
            "kgraph check --no-cache": [*check, "--no-cache"],
            "kgraph check, warm snapshot": check,
        }  # fmt: skip
        _process(check)  # leaves the snapshot the warm checks read
        timings: dict[str, list[float]] = {name: [] for name in runs}
        cpu: dict[str, list[float]] = {name: [] for name in runs}
        outputs: dict[str, list[str]] = {name: [] for name in runs}
        for _ in range(rounds):
            for name, command in runs.items():
                seconds, used, output = _process(command)
                timings[name].append(seconds)
                cpu[name].append(used)
                outputs[name].append(output)
    naive, cold = outputs["naive (CSafeLoader, one process)"], outputs["kgraph cold load"]
    replayed = outputs["kgraph load, readers' work done"]
    digests = {json.loads(out)["edges_digest"] for out in naive + cold + replayed}
    graph = json.loads(naive[0])
    same_graph = len(digests) == 1 and all(
        json.loads(out) == graph for out in naive + cold + replayed
    )
    checks = outputs["kgraph check --no-cache"] + outputs["kgraph check, warm snapshot"]
    same_check = all(_same_report(checks[0], out) for out in checks)
    median = {name: statistics.median(values) for name, values in timings.items()}
    base = median["naive (CSafeLoader, one process)"]
    ratios = {
        "naive_over_cold_load": round(base / median["kgraph cold load"], 2),
        "naive_over_check_cold": round(base / median["kgraph check --no-cache"], 2),
        "naive_over_check_warm": round(base / median["kgraph check, warm snapshot"], 2),
        # What no reader in Python passes on this machine (benchmarks/floor_ingest.py).
        "naive_over_floor": round(base / median["floor (two processes, ids only)"], 2),
        # What no faster reader lets the cold load pass (_PARENT_ALONE).
        "naive_over_readers_done": round(base / median["kgraph load, readers' work done"], 2),
    }
    result = {
        "corpus": "dev",
        "files": len(discover(corpus)),
        "seconds": {name: figure(values) for name, values in timings.items()},
        # User + system seconds of each process and its reading processes: what
        # the wall times cost, and a steadier figure on a busy machine.
        "cpu_seconds": {name: figure(values) for name, values in cpu.items()},
        "ratios": ratios,
        "ratio_naive_over_kgraph": ratios["naive_over_cold_load"],
        # What "same graph" compares: the node set, and the edge set with each
        # edge's rank, as digests of their sorted lists.
        "graph": graph,
        "identical_graph": same_graph,
        "same_check_report": same_check,
        "cpu_load_before": os.getloadavg()[0],
    }
    print("\n1. cold ingest of the dev corpus: whole processes, rounds interleaved")
    print(f"  {'':<34}{'wall s':>8}{'±':>7}{'naive/':>8}{'CPU s':>8}{'±':>7}")
    for name, values in timings.items():
        f, c = figure(values), figure(cpu[name])
        print(
            f"  {name:<34}{f['median']:>8.2f}{f['spread']:>7.2f}{base / f['median']:>7.2f}x"
            f"{c['median']:>8.2f}{c['spread']:>7.2f}"
        )
    print(
        f"  naive / kgraph cold load {ratios['naive_over_cold_load']:.2f}x (target 5x),"
        f" / check {ratios['naive_over_check_cold']:.2f}x (target 3x);"
        f" same nodes and edges (with ranks): {same_graph}; check cold = warm: {same_check}"
    )
    print(
        f"  naive / floor {ratios['naive_over_floor']:.2f}x: reading the ids alone, the least any reader"
        " does (benchmarks/floor_ingest.py: two processes, nothing checked)"
    )
    print(
        f"  naive / load with the readers' work done {ratios['naive_over_readers_done']:.2f}x:"
        " the loading process's own share, which no faster reader shortens (their CPU comes"
        " on top, on the same cores)"
    )
    result["scale"] = _ingest_scale(rounds, sizes)
    return result


def _ingest_scale(rounds: int, sizes: list[int]) -> dict[str, Any]:
    """The cold load against the naive reading on generated corpora, whole processes, interleaved."""
    print("\n  the same on generated corpora (naive reading vs kgraph cold load)")
    print(f"  {'corpus':<22}{'files':>10}{'naive s':>9}{'kgraph s':>10}{'naive/':>8}{'graph':>7}")
    scale: dict[str, Any] = {}
    for size in sizes:
        corpus = generated(size)
        runs = {
            "naive": [sys.executable, str(HERE / "naive_ingest.py"), str(corpus)],
            "kgraph": [sys.executable, "-c", _KGRAPH_LOAD, str(corpus), str(HERE)],
        }
        timings: dict[str, list[float]] = {name: [] for name in runs}
        outputs: list[str] = []
        # A million articles' naive reading takes minutes: once.
        for _ in range(rounds if size <= 200_000 else 1):
            for name, command in runs.items():
                seconds, _used, output = _process(command)
                timings[name].append(seconds)
                outputs.append(output)
        naive, kgraph = figure(timings["naive"]), figure(timings["kgraph"])
        same = len(set(outputs)) == 1
        row = {
            "files": len(discover(corpus)),
            "naive_s": naive,
            "cold_load_s": kgraph,
            "naive_over_cold_load": round(naive["median"] / kgraph["median"], 2),
            "identical_graph": same,
        }
        scale[f"generated {size:,}"] = row
        print(
            f"  {f'generated {size:,}':<22}{row['files']:>10,}{naive['median']:>9.1f}"
            f"{kgraph['median']:>10.1f}{row['naive_over_cold_load']:>7.2f}x{same!s:>7}"
        )
    return scale


# -- 2. start --------------------------------------------------------------------------


def _ask_all(server: Server, some_id: int, refused: list[str]) -> None:
    """:func:`touch` and :func:`every_report`; a request the server refuses is noted, not fatal.

    At a million articles a start's queries run beside every wanted article's
    suggestions being worked out (before its snapshot): one may pass the
    request deadline. The start's times are still measured; the refusal is
    reported with them.
    """
    try:
        touch(server, some_id)
        every_report(server)
    except SystemExit as refusal:
        refused.append(str(refusal)[:300])


def read_into_page_cache(corpus: Path) -> float:
    """Read every file of ``corpus`` once (8 threads); the seconds it took."""
    started = time.perf_counter()
    paths = [Path(folder) / name for folder, _, names in os.walk(corpus) for name in names]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for _ in pool.map(Path.read_bytes, paths, chunksize=256):
            pass
    return time.perf_counter() - started


def _starts(corpus: Path, rounds: int, some_id: int) -> dict[str, Any]:
    cold_ready, warm_ready, cold_rss, warm_rss = [], [], [], []
    helpers_rss: list[float] = []
    refused: list[str] = []
    pre_read: list[float] = []
    with tempfile.TemporaryDirectory(prefix="kgraph-cache-") as scratch:
        for number in range(rounds):
            cache = Path(scratch) / f"cold-{number}"
            pre_read.append(read_into_page_cache(corpus))
            command, port = kgraph_serve(corpus, "--cache-dir", str(cache))
            with serving(command, port) as server:
                cold_ready.append(server.ready)
                _ask_all(server, some_id, refused)
                cold_rss.append(peak_rss_mb(server.process.pid))
                helpers_rss.append(server.helpers_mb)
                wait_for_snapshot(cache)
        cache = Path(scratch) / "cold-0"
        for _ in range(rounds):
            pre_read.append(read_into_page_cache(corpus))
            command, port = kgraph_serve(corpus, "--cache-dir", str(cache))
            with serving(command, port) as server:
                assert httpx.get(f"{server.base}/readyz").json()["warm_start"] is True
                warm_ready.append(server.ready)
                _ask_all(server, some_id, refused)
                warm_rss.append(peak_rss_mb(server.process.pid))
    return {
        "cold_ready_s": figure(cold_ready, 2),
        "warm_ready_s": figure(warm_ready, 2),
        "ratio_warm_over_cold": round(
            statistics.median(warm_ready) / statistics.median(cold_ready), 3
        ),
        "cold_peak_rss_mb": figure(cold_rss, 0),
        # The largest of its readers and search's own process, beside it (sampled).
        "cold_helper_peak_rss_mb": figure(helpers_rss, 0),
        "warm_peak_rss_mb": figure(warm_rss, 0),
        # Reading every file once before each start (the page cache warmed).
        "pre_read_s": figure(pre_read, 1),
        "refused": refused,
    }


def _an_id(corpus: Path) -> int:
    for path in discover(corpus)[:50]:
        try:
            return parse_article((corpus / path).read_bytes(), path).id
        except Exception:
            continue
    raise SystemExit(f"no readable article in {corpus}")


def bench_start(rounds: int, sizes: list[int]) -> dict[str, Any]:
    corpora = {"dev": dev_corpus(), **{f"generated {n:,}": generated(n) for n in sizes}}
    result: dict[str, Any] = {}
    print(
        "\n2. server start until ready (s): cold (files) vs warm (snapshot),"
        " every file read just before each start"
    )
    print(
        f"  {'corpus':<20}{'cold':>8}{'±':>6}{'warm':>8}{'±':>6}{'warm/cold':>11}{'pre-read s':>12}"
    )
    for (name, corpus), size in zip(corpora.items(), [0, *sizes], strict=True):
        # Past 200,000 articles a cold start and its snapshot take many minutes: once.
        runs = rounds if size <= 200_000 else 1
        row = _starts(corpus, runs, _an_id(corpus))
        result[name] = row
        print(
            f"  {name:<20}{row['cold_ready_s']['median']:>8.2f}{row['cold_ready_s']['spread']:>6.2f}"
            f"{row['warm_ready_s']['median']:>8.2f}{row['warm_ready_s']['spread']:>6.2f}"
            f"{row['ratio_warm_over_cold']:>11.3f}{row['pre_read_s']['median']:>12.1f}"
        )
        for refusal in row["refused"]:
            print(f"    refused: {refusal}")
    return result


# -- 3. memory -------------------------------------------------------------------------


def bench_memory(rounds: int, sizes: list[int]) -> dict[str, Any]:
    corpora = {"dev": dev_corpus(), **{f"generated {n:,}": generated(n) for n in sizes}}
    result: dict[str, Any] = {}
    print(
        "\n3. peak RSS of a serving process (MB), cold start without snapshot, every report asked"
    )
    print(f"  {'corpus':<22}{'articles':>10}{'peak MB':>9}{'±':>6}{'ready s':>9}{'kB/article':>12}")
    for (name, corpus), size in zip(corpora.items(), [0, *sizes], strict=True):
        some_id = _an_id(corpus)
        # A million articles take minutes per start: measured once.
        runs = rounds if size <= 200_000 else 1
        rss, ready = [], []
        articles = 0
        for _ in range(runs):
            command, port = kgraph_serve(corpus, "--no-cache")
            with serving(command, port) as server:
                touch(server, some_id)
                every_report(server)
                articles = server.graphql("{ stats { articles } }")["data"]["stats"]["articles"]
                rss.append(peak_rss_mb(server.process.pid))
                ready.append(server.ready)
        row = {"articles": articles, "peak_rss_mb": figure(rss, 0), "ready_s": figure(ready, 2)}
        row["kb_per_article"] = round(statistics.median(rss) * 1024 / articles, 2)
        result[name] = row
        print(
            f"  {name:<22}{articles:>10,}{row['peak_rss_mb']['median']:>9.0f}"
            f"{row['peak_rss_mb']['spread']:>6.0f}{row['ready_s']['median']:>9.1f}"
            f"{row['kb_per_article']:>12.2f}"
        )
    return result


# -- 4. load (wrk) ---------------------------------------------------------------------

_LUA = """
local requests = {}
local i = 0
-- Requests are formatted once wrk has set the host header: in init, not at load.
init = function(_)
  requests = {%s}
end
request = function()
  i = i %% #requests + 1
  return requests[i]
end
done = function(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    '\\nRESULT {"requests": %%d, "duration_us": %%d, "errors": %%d, "non_2xx": %%d,'
    .. ' "p50_us": %%d, "p95_us": %%d, "p99_us": %%d, "max_us": %%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


#: Every request new to the response cache: the article ids in turn, and a request
#: number among the variables (one the query does not declare: GraphQL ignores it,
#: the cache key holds it), different in each of wrk's threads and runs.
_LUA_DISTINCT = """
local ids = {%s}
local i = 0
local threads = 0
-- Each run of wrk its own request numbers (a round repeating the last one's would be
-- answered from the cache).
local run = os.time()
setup = function(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end
request = function()
  i = i + 1
  local id = ids[(i + thread_number * 7919) %% #ids + 1]
  local number = run .. "-" .. thread_number .. "-" .. i
  local body = %s .. id .. [==[, "request": "]==] .. number .. '"}}'
  return wrk.format("POST", "/graphql", {["Content-Type"] = "application/json"}, body)
end
""" + _LUA[_LUA.index("done = function") :]


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def _wrk_script(scratch: Path, name: str, requests: list[tuple[str, str, str | None]]) -> Path:
    rendered = []
    for method, path, body in requests:
        if body is None:
            rendered.append(f"wrk.format({_lua_string(method)}, {_lua_string(path)})")
        else:
            rendered.append(
                f"wrk.format({_lua_string(method)}, {_lua_string(path)}, "
                f'{{["Content-Type"] = "application/json"}}, {_lua_string(body)})'
            )
    script = scratch / f"{name.replace(' ', '_')}.lua"
    script.write_text(_LUA % ",\n".join(rendered))
    return script


def _wrk_distinct_script(scratch: Path, name: str, query: str, ids: list[int]) -> Path:
    """A wrk script asking ``query`` (whose one variable is ``$id``) with new variables each time."""
    prefix = json.dumps({"query": query})[:-1] + ', "variables": {"id": '
    script = scratch / f"{name.replace(' ', '_').replace(',', '')}.lua"
    script.write_text(_LUA_DISTINCT % (", ".join(map(str, ids)), _lua_string(prefix)))
    return script


def _wrk(
    base: str, script: Path, duration: float, threads: int, connections: int
) -> dict[str, Any]:
    output = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "-s", str(script), base],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    raw = json.loads(line[len("RESULT ") :])
    seconds = raw["duration_us"] / 1e6
    return {
        "requests_per_s": raw["requests"] / seconds,
        "p50_ms": raw["p50_us"] / 1000,
        "p95_ms": raw["p95_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "errors": raw["errors"] + raw["non_2xx"],
        "requests": raw["requests"],
    }


#: The load section's row for ``ARTICLE`` asked with new variables each request.
DISTINCT = "article, new variables"

#: Queries both the load and the latency sections send (``$id``: an article id).
ARTICLE = "query($id: Int) { article(id: $id) { articleId title url inDegree } }"
NEIGHBOURS_1 = (
    "query($id: Int!) { neighbours(id: $id) { nodes { distance article { articleId title } } } }"
)
NEIGHBOURS_2 = "query($id: Int!) { neighbours(id: $id, depth: 2) { nodes { distance article { articleId title } } } }"
SUBGRAPH_2 = "query($id: Int!) { subgraph(center: [$id], depth: 2) { nodes { id } edges { id } } }"


def _cases(
    kg: KnowledgeGraph, ids: list[int], pairs: list[tuple[int, int]]
) -> dict[str, list[tuple[str, str, str | None]]]:
    def post(query: str, variables: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
        return [
            ("POST", "/graphql", json.dumps({"query": query, "variables": v})) for v in variables
        ]

    one = [{"id": i} for i in ids]
    two = [{"from": s, "to": t} for s, t in pairs]
    return {
        "article": post(ARTICLE, one),
        "bare Starlette route": [("GET", f"/bare/article/{i}", None) for i in ids],
        "neighbours depth 1": post(NEIGHBOURS_1, one),
        "neighbours depth 2": post(NEIGHBOURS_2, one),
        "learningPath": post(
            "query($from: Int!, $to: Int!) { learningPath(from: $from, to: $to) "
            "{ hops steps { article { articleId } via rank } } }",
            two,
        ),
        "subgraph depth 2": post(SUBGRAPH_2, one),
        "curation summary": post(
            "{ curation { summary { orphans deadEnds brokenLinks staleLinks maxInDegree } } }", [{}]
        ),
    }


def _check_requests(base: str, requests: list[tuple[str, str, str | None]]) -> None:
    """Every request of a case answers 200 with no GraphQL error (wrk cannot see those)."""
    with httpx.Client(base_url=base, timeout=30) as client:
        for method, path, body in requests:
            response = client.request(
                method, path, content=body, headers={"content-type": "application/json"}
            )
            if response.status_code != 200 or "errors" in response.json():
                raise SystemExit(f"bad benchmark request {path} {body}: {response.text[:300]}")


def _sample(
    kg: KnowledgeGraph, count: int, seed: int = 7
) -> tuple[list[int], list[tuple[int, int]]]:
    """Article ids, and pairs of them: half inside one linked piece, so that many have a path."""
    rng = random.Random(seed)
    ids = rng.sample(sorted(kg.articles), count)
    piece_of: dict[int, int] = {}
    members: dict[int, list[int]] = {}
    for number, piece in enumerate(nx.weakly_connected_components(kg.graph)):
        members[number] = sorted(piece)
        for node in piece:
            piece_of[node] = number
    pairs = []
    for n, source in enumerate(ids):
        near = members[piece_of[source]]
        target = rng.choice(near) if n % 2 and len(near) > 1 else rng.choice(ids)
        pairs.append((source, target))
    return ids, pairs


def bench_load(rounds: int, duration: float) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: `make bench` installs it (apt-get install wrk)")
    corpus = dev_corpus()
    kg = load_graph(corpus)
    ids, pairs = _sample(kg, 500)
    result: dict[str, Any] = {"tool": "wrk -t2 -c32", "duration_s": duration, "rounds": rounds}
    rows: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="kgraph-wrk-") as scratch:
        command, port = bare_server(corpus, Path(scratch) / "cache")
        with serving(command, port) as server:
            scripts: dict[str, Path] = {}
            for name, requests in _cases(kg, ids, pairs).items():
                _check_requests(server.base, requests[:100])
                scripts[name] = _wrk_script(Path(scratch), name, requests)
                _wrk(server.base, scripts[name], 2, 2, 32)  # warm up
            # The same text as "article", new to the response cache every time.
            scripts[DISTINCT] = _wrk_distinct_script(Path(scratch), DISTINCT, ARTICLE, ids)
            # Round by round, every query in turn: a pair's runs are minutes apart
            # at most, so a change in the machine's load shifts both alike.
            runs: dict[str, list[dict[str, Any]]] = {name: [] for name in scripts}
            for _ in range(rounds):
                for name, script in scripts.items():
                    runs[name].append(_wrk(server.base, script, duration, 2, 32))
            for name, done in runs.items():
                rows[name] = {
                    key: figure([run[key] for run in done], 3 if key != "requests_per_s" else 0)
                    for key in ("requests_per_s", "p50_ms", "p95_ms", "p99_ms")
                }
                rows[name]["errors"] = sum(run["errors"] for run in done)
                rows[name]["requests"] = sum(run["requests"] for run in done)
    result["queries"] = rows
    # The ratio of each round's pair, then their median.
    ratios = [
        graphql["requests_per_s"] / bare["requests_per_s"]
        for graphql, bare in zip(runs["article"], runs["bare Starlette route"], strict=True)
    ]
    result["ratio_graphql_article_over_bare_throughput"] = round(statistics.median(ratios), 3)
    result["ratios_by_round"] = [round(ratio, 3) for ratio in ratios]
    distinct = [
        new["requests_per_s"] / bare["requests_per_s"]
        for new, bare in zip(runs[DISTINCT], runs["bare Starlette route"], strict=True)
    ]
    result["ratio_new_variables_over_bare_throughput"] = round(statistics.median(distinct), 3)
    print(f"\n4. load: wrk, 2 threads, 32 connections, {duration:g} s x {rounds} (dev corpus)")
    print(
        f"  {'query':<24}{'req/s':>9}{'±':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"
    )
    for name, row in rows.items():
        print(
            f"  {name:<24}{row['requests_per_s']['median']:>9.0f}{row['requests_per_s']['spread']:>7.0f}"
            f"{row['p50_ms']['median']:>9.2f}{row['p95_ms']['median']:>9.2f}"
            f"{row['p99_ms']['median']:>9.2f}{row['errors']:>8}"
        )
    print(
        f"  GraphQL article / bare route throughput: {result['ratio_graphql_article_over_bare_throughput']:.2f}"
        f" (median of the rounds' {', '.join(f'{r:.2f}' for r in ratios)});"
        f" with new variables each request: {result['ratio_new_variables_over_bare_throughput']:.2f}"
    )
    return result


# -- 7. soak: load with reloads ---------------------------------------------------------


def _mixed_load() -> tuple[Path, KnowledgeGraph, dict[str, Any], list[Any]]:
    """The dev corpus, its graph, the cases of ``_cases`` and a shuffled mix of ordinary queries."""
    corpus = dev_corpus()
    kg = load_graph(corpus)
    ids, pairs = _sample(kg, 500)
    cases = _cases(kg, ids, pairs)
    mix = [
        request
        for name in ("article", "neighbours depth 1", "neighbours depth 2", "learningPath")
        for request in cases[name][:100]
    ]
    random.Random(3).shuffle(mix)
    return corpus, kg, cases, mix


def bench_soak(duration: float) -> dict[str, Any]:
    corpus, _, _, mix = _mixed_load()
    with tempfile.TemporaryDirectory(prefix="kgraph-soak-") as scratch:
        command, port = kgraph_serve(corpus, "--cache-dir", str(Path(scratch) / "cache"))
        with serving(command, port) as server:
            _check_requests(server.base, mix[:50])
            script = _wrk_script(Path(scratch), "soak", mix)
            versions = []

            def hang_up() -> None:
                # Two reloads while the load runs, each waited for.
                for at in (duration / 3, 2 * duration / 3):
                    time.sleep(max(0.0, at - (time.perf_counter() - began)))
                    server.process.send_signal(signal.SIGHUP)
                    deadline = time.monotonic() + 60
                    while time.monotonic() < deadline:
                        version = httpx.get(f"{server.base}/readyz").json()["graph_version"]
                        if version > len(versions) + 1:
                            versions.append(version)
                            break
                        time.sleep(0.2)

            began = time.perf_counter()
            reloader = threading.Thread(target=hang_up)
            reloader.start()
            run = _wrk(server.base, script, duration, 2, 32)
            reloader.join()
            final = httpx.get(f"{server.base}/readyz").json()["graph_version"]
    result = {
        "tool": "wrk -t2 -c32",
        "duration_s": duration,
        "requests": run["requests"],
        "errors": run["errors"],
        "requests_per_s": round(run["requests_per_s"]),
        "p50_ms": run["p50_ms"],
        "p95_ms": run["p95_ms"],
        "p99_ms": run["p99_ms"],
        "reloads_during_load": len(versions),
        "final_graph_version": final,
    }
    print(
        f"\n7. soak: {duration:g} s, wrk 2 threads 32 connections, mixed queries, 2 reloads (dev corpus)"
    )
    print(
        f"  {run['requests']:,} requests, {run['errors']} errors, {run['requests_per_s']:.0f} req/s,"
        f" p50 {run['p50_ms']:.2f} ms, p99 {run['p99_ms']:.2f} ms; graph version {final}"
        f" after {len(versions)} reloads"
    )
    return result


# -- 8. hostile: load under idle sockets and abandoned heavy queries ------------------


def rss_mb(pid: int) -> float:
    """The resident set (VmRSS) of a live process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def _idle_sockets(base: str, count: int, stop: threading.Event) -> list[int]:
    """Keep ``count`` silent connections open (from 127.0.0.20 and up, 50 an address) until
    ``stop``; the server closes them after its header timeout and they are opened again.
    Returns how many were opened in all."""
    host, port = base.removeprefix("http://").split(":")
    opened = [0]
    held: list[socket.socket | None] = [None] * count

    def connect(i: int) -> socket.socket | None:
        try:
            sock = socket.create_connection(
                (host, int(port)), timeout=2, source_address=(f"127.0.0.{20 + i // 50}", 0)
            )
        except OSError:
            return None
        sock.setblocking(False)
        opened[0] += 1
        return sock

    while not stop.is_set():
        for i, sock in enumerate(held):
            if sock is not None:
                try:
                    if sock.recv(1) == b"":  # closed by the server
                        sock.close()
                        sock = None
                except BlockingIOError:
                    pass
                except OSError:
                    sock.close()
                    sock = None
            held[i] = sock if sock is not None else connect(i)
        stop.wait(0.2)
    for sock in held:
        if sock is not None:
            sock.close()
    return opened


def _abandon(base: str, query: str, stop: threading.Event, counts: dict[str, int]) -> None:
    """Send ``query`` and leave after 0.3 s, again and again until ``stop``."""
    transport = httpx.HTTPTransport(local_address="127.0.0.40")
    with httpx.Client(transport=transport, timeout=0.3) as client:
        while not stop.is_set():
            try:
                client.post(f"{base}/graphql", json={"query": query})
                counts["finished"] += 1
            except httpx.TimeoutException:
                counts["abandoned"] += 1
            except httpx.HTTPError:
                counts["failed"] += 1


def bench_hostile(duration: float) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: `make bench` installs it (apt-get install wrk)")
    corpus, kg, cases, mix = _mixed_load()
    hubs = sorted(kg.articles, key=lambda a: -kg.graph.in_degree(a))[:15]
    heavy = (
        "{ "
        + " ".join(
            f"s{i}: similar(id: {a}, first: 50) {{ nodes {{ score article {{ articleId title }} }} }}"
            for i, a in enumerate(hubs)
        )
        + " }"
    )
    with tempfile.TemporaryDirectory(prefix="kgraph-hostile-") as scratch:
        command, port = kgraph_serve(corpus, "--cache-dir", str(Path(scratch) / "cache"))
        with serving(command, port) as server:
            _check_requests(server.base, mix[:50])
            heavy_ms = _timed(lambda: server.graphql(heavy))
            mixed = _wrk_script(Path(scratch), "hostile mix", mix)
            article = _wrk_script(Path(scratch), "hostile article", cases["article"])
            _wrk(server.base, mixed, 3, 2, 32)  # warm up
            rss_before = rss_mb(server.process.pid)
            stop = threading.Event()
            counts = {"finished": 0, "abandoned": 0, "failed": 0}
            opened: list[int] = []
            attackers = [
                threading.Thread(
                    target=lambda: opened.extend(_idle_sockets(server.base, 300, stop))
                ),
                *(
                    threading.Thread(target=_abandon, args=(server.base, heavy, stop, counts))
                    for _ in range(2)
                ),
            ]
            for thread in attackers:
                thread.start()
            time.sleep(1)  # the sockets are open
            runs: dict[str, dict[str, Any]] = {}

            def run(name: str, script: Path, connections: int) -> None:
                runs[name] = _wrk(server.base, script, duration, 1, connections)

            loads = [
                threading.Thread(target=run, args=("mix", mixed, 24)),
                threading.Thread(target=run, args=("article", article, 8)),
            ]
            for thread in loads:
                thread.start()
            for thread in loads:
                thread.join()
            rss_after = rss_mb(server.process.pid)
            stop.set()
            for thread in attackers:
                thread.join()
            healthy = httpx.get(f"{server.base}/healthz", timeout=5).status_code == 200
    result = {
        "tool": "wrk: 24 connections on a mix, 8 on article; 300 idle sockets; 2 abandoned heavy",
        "duration_s": duration,
        "heavy_query_ms": round(heavy_ms, 1),
        "idle_sockets_opened": opened[0] if opened else 0,
        "heavy_queries": counts,
        "mix": {k: runs["mix"][k] for k in ("requests", "errors", "requests_per_s", "p99_ms")},
        "article": {
            k: runs["article"][k]
            for k in ("requests", "errors", "requests_per_s", "p50_ms", "p99_ms")
        },
        "errors": runs["mix"]["errors"] + runs["article"]["errors"],
        "rss_mb_before": round(rss_before, 1),
        "rss_mb_after": round(rss_after, 1),
        "rss_growth": round(rss_after / rss_before - 1, 4),
        "healthy_after": healthy,
    }
    print(
        f"\n8. hostile: {duration:g} s of 32 wrk clients, 300 idle sockets, 2 abandoned heavy"
        " queries at a time (dev corpus)"
    )
    print(
        f"  ordinary: {result['errors']} errors in {runs['mix']['requests'] + runs['article']['requests']:,}"
        f" requests; article p50 {runs['article']['p50_ms']:.2f} ms, p99 {runs['article']['p99_ms']:.2f} ms;"
        f" mix p99 {runs['mix']['p99_ms']:.2f} ms"
    )
    print(
        f"  heavy query alone {heavy_ms:.0f} ms: {counts['abandoned']} abandoned,"
        f" {counts['finished']} finished, {counts['failed']} failed; idle sockets opened"
        f" {result['idle_sockets_opened']}"
    )
    print(
        f"  RSS {rss_before:.0f} -> {rss_after:.0f} MB ({result['rss_growth']:+.1%});"
        f" /healthz after: {'200' if healthy else 'failed'}"
    )
    return result


# -- 5. latency (sequential) and 6. paths vs networkx ---------------------------------


def _sequential(client: httpx.Client, payloads: list[dict[str, Any]]) -> list[float]:
    timings = []
    for payload in payloads:
        started = time.perf_counter()
        response = client.post("/graphql", json=payload)
        elapsed = time.perf_counter() - started
        if response.status_code != 200 or "errors" in response.json():
            raise SystemExit(f"request failed: {response.status_code} {response.text[:300]}")
        timings.append(elapsed * 1000)
    return timings


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def bench_latency_and_paths(rounds: int, requests: int, sections: set[str]) -> dict[str, Any]:
    corpus = dev_corpus()
    kg = load_graph(corpus)
    ids, pairs = _sample(kg, 500)
    steps = "hops cost bridges steps { article { articleId } via rank }"
    two = [{"from": s, "to": t} for s, t in pairs]
    one = [{"id": i} for i in ids]
    cases: dict[str, tuple[str, list[dict[str, Any]]]] = {
        "article": (ARTICLE, one),
        "neighbours depth 1": (NEIGHBOURS_1, one),
        "neighbours depth 2": (NEIGHBOURS_2, one),
        "curation summary+orphans(100)": ("{ curation { summary { orphans deadEnds brokenLinks } orphans(first: 100) { totalCount nodes { articleId title } } } }", [{}]),
        "learningPath": (f"query($from: Int!, $to: Int!) {{ learningPath(from: $from, to: $to) {{ {steps} }} }}", two),
        "learningPath with bridges": (f"query($from: Int!, $to: Int!) {{ learningPath(from: $from, to: $to, options: {{bridges: true}}) {{ {steps} }} }}", two),
        "learningPaths k=3": (f"query($from: Int!, $to: Int!) {{ learningPaths(from: $from, to: $to, k: 3) {{ {steps} }} }}", two),
        "similar": ("query($id: Int!) { similar(id: $id) { nodes { article { articleId } score sharedKeywords } } }", one),
        "subgraph depth 2": (SUBGRAPH_2, one),
    }  # fmt: skip
    if "latency" not in sections:
        cases = {"learningPath": cases["learningPath"]}
    result: dict[str, Any] = {}
    rows: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="kgraph-seq-") as scratch:
        command, port = kgraph_serve(corpus, "--cache-dir", str(Path(scratch) / "cache"))
        with (
            serving(command, port) as server,
            httpx.Client(base_url=server.base, timeout=30) as client,
        ):
            for name, (query, variables) in cases.items():
                payloads = [
                    {"query": query, "variables": variables[i % len(variables)]}
                    for i in range(requests)
                ]
                _sequential(client, payloads[:200])  # warm up
                runs = [_sequential(client, payloads) for _ in range(rounds)]
                rows[name] = {
                    "p50_ms": figure([statistics.median(run) for run in runs]),
                    "p95_ms": figure([percentile(run, 95) for run in runs]),
                    "p99_ms": figure([percentile(run, 99) for run in runs]),
                    "requests_per_round": requests,
                }
    if "latency" in sections:
        result["latency"] = rows
        print(
            f"\n5. sequential latency, one keep-alive connection, {requests} requests x {rounds} (dev corpus)"
        )
        print(f"  {'query':<32}{'p50 ms':>9}{'±':>7}{'p95 ms':>9}{'p99 ms':>9}")
        for name, row in rows.items():
            print(
                f"  {name:<32}{row['p50_ms']['median']:>9.2f}{row['p50_ms']['spread']:>7.2f}"
                f"{row['p95_ms']['median']:>9.2f}{row['p99_ms']['median']:>9.2f}"
            )
    if "paths" in sections:
        # The bare call: networkx's shortest path (bidirectional BFS) on the same pairs.
        def bare(source: int, target: int) -> None:
            with contextlib.suppress(nx.NetworkXNoPath):
                nx.shortest_path(kg.graph, source, target)

        bare_runs = []
        for _ in range(rounds):
            bare_runs.append(
                [
                    _timed(lambda s=s, t=t: bare(s, t))
                    for s, t in pairs * (requests // len(pairs) or 1)
                ]
            )
        bare_p50 = figure([statistics.median(run) for run in bare_runs], 4)
        bare_p95 = figure([percentile(run, 95) for run in bare_runs], 4)
        server_row = rows["learningPath"]
        result["paths"] = {
            "server_http_p50_ms": server_row["p50_ms"],
            "server_http_p95_ms": server_row["p95_ms"],
            "networkx_p50_ms": bare_p50,
            "networkx_p95_ms": bare_p95,
            "ratio_server_over_networkx_p50": round(
                server_row["p50_ms"]["median"] / bare_p50["median"], 1
            ),
        }
        print("\n6. learningPath over HTTP vs nx.shortest_path in process, same 500 pairs (ms)")
        print(f"  {'':<24}{'p50':>9}{'p95':>9}")
        print(
            f"  {'server (HTTP, GraphQL)':<24}{server_row['p50_ms']['median']:>9.3f}{server_row['p95_ms']['median']:>9.3f}"
        )
        print(f"  {'networkx (bare call)':<24}{bare_p50['median']:>9.4f}{bare_p95['median']:>9.4f}")
        print(
            f"  the server's p50 is {result['paths']['ratio_server_over_networkx_p50']}x the bare call's"
        )
    return result


# -- main ------------------------------------------------------------------------------


#: The commands timed: two articles 13 links apart in the dev corpus (3 paths), a
#: topic's graph, and the check report in both formats.
COMMANDS = {
    "path": ["path", "73461", "40880", "--k", "3"],
    "export": ["export", "--format", "graphology", "--topic", "biology"],
    "check": ["check"],
    "check --format json": ["check", "--format", "json"],
}


def _command(args: list[str], corpus: Path, cache: Path, *options: str) -> tuple[float, str]:
    """Wall seconds of one ``kgraph ARGS`` process, and what it printed."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "kgraph", *args, str(corpus), "--cache-dir", str(cache), *options],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    assert result.returncode in (0, 1), result.stderr  # check: 1 when a finding fails it
    return seconds, result.stdout


def _same_report(cold: str, warm: str) -> bool:
    """Whether two outputs of a command agree, but for the load's time (``check``)."""
    if cold.startswith("{"):
        first, second = json.loads(cold), json.loads(warm)
        first.pop("load_seconds", None)
        second.pop("load_seconds", None)
        return bool(first == second)
    timed = " read in "
    return [line for line in cold.splitlines() if timed not in line] == [
        line for line in warm.splitlines() if timed not in line
    ]


def bench_commands(rounds: int) -> dict[str, Any]:
    """``kgraph path``, ``export`` and ``check`` as a user runs them, cold and warm."""
    corpus = dev_corpus()
    print("\n== commands: kgraph path, export and check processes on the dev corpus ==")
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as scratch:
        cache = Path(scratch) / "cache"
        # Reads the files, works out every wanted article's suggestions and saves the
        # snapshot with them: the snapshot a server (or an earlier JSON check) leaves.
        _command(COMMANDS["check --format json"], corpus, cache)
        for name, args in COMMANDS.items():
            cold = [_command(args, corpus, cache, "--no-cache") for _ in range(rounds)]
            warm = [_command(args, corpus, cache) for _ in range(rounds)]
            results[name] = {
                "cold_s": figure([s for s, _ in cold], 2),
                "warm_s": figure([s for s, _ in warm], 2),
                "same_output": all(_same_report(cold[0][1], out) for _, out in warm),
            }
            print(
                f"{name:22} cold {results[name]['cold_s']['median']:6.2f} s"
                f"  warm {results[name]['warm_s']['median']:6.2f} s"
                f"  same output: {results[name]['same_output']}"
            )
    return results


# -- 10. processes: every core serving ----------------------------------------------


def _serving_pids(master: int) -> list[int]:
    """``master`` and the serving processes it forked (from any of its threads)."""
    command = Path(f"/proc/{master}/cmdline").read_bytes()
    children: list[int] = []
    for task in Path(f"/proc/{master}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):
            children += [int(pid) for pid in (task / "children").read_text().split()]
    forked = []
    for pid in children:
        with contextlib.suppress(FileNotFoundError):
            if Path(f"/proc/{pid}/cmdline").read_bytes() == command:  # not a corpus reader
                forked.append(pid)
    return [master, *sorted(forked)]


def _rollup_mb(pid: int, field: str) -> float:
    """A field of ``/proc/PID/smaps_rollup`` (``Rss``, ``Pss``…), in MB."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for {pid}")


def bench_processes(rounds: int, duration: float) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: `make bench` installs it (apt-get install wrk)")
    corpus = dev_corpus()
    kg = load_graph(corpus)
    ids, _ = _sample(kg, 500)
    requests = _cases(kg, ids, [])["article"]
    runs: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
    memory: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="kgraph-processes-") as scratch:
        cache = Path(scratch) / "cache"
        script = _wrk_script(Path(scratch), "article", requests)
        # Both start warm from the same snapshot (a cold start leaves the loader's
        # freed memory in the master's heap, a warm one does not).
        command, port = kgraph_serve(corpus, "--processes", "1", "--cache-dir", str(cache))
        with serving(command, port):
            wait_for_snapshot(cache)
        for _ in range(rounds):
            for count in (1, 2):
                command, port = kgraph_serve(
                    corpus, "--processes", str(count), "--cache-dir", str(cache)
                )
                with serving(command, port) as server:
                    _check_requests(server.base, requests[:100])
                    _wrk(server.base, script, 2, 2, 32)  # warm up every process
                    runs[count].append(_wrk(server.base, script, duration, 2, 32))
                    pids = _serving_pids(server.process.pid)
                    if count == 2 and len(pids) != 3:
                        raise SystemExit(f"expected a master and 2 serving processes: {pids}")
                    memory[count].append(
                        {
                            "rss_mb": sum(_rollup_mb(pid, "Rss") for pid in pids),
                            "pss_mb": sum(_rollup_mb(pid, "Pss") for pid in pids),
                        }
                    )
    ratios = [
        two["requests_per_s"] / one["requests_per_s"]
        for one, two in zip(runs[1], runs[2], strict=True)
    ]
    memory_ratios = [
        two["pss_mb"] / one["rss_mb"] for one, two in zip(memory[1], memory[2], strict=True)
    ]
    rows: dict[str, Any] = {}
    for count in (1, 2):
        rows[f"--processes {count}"] = {
            "requests_per_s": figure([run["requests_per_s"] for run in runs[count]], 0),
            "p50_ms": figure([run["p50_ms"] for run in runs[count]], 3),
            "p99_ms": figure([run["p99_ms"] for run in runs[count]], 3),
            "errors": sum(run["errors"] for run in runs[count]),
            "rss_mb": figure([m["rss_mb"] for m in memory[count]], 0),
            "pss_mb": figure([m["pss_mb"] for m in memory[count]], 0),
        }
    result: dict[str, Any] = {
        "tool": "wrk -t2 -c32 on the same machine",
        "cpus": os.cpu_count(),
        "duration_s": duration,
        "rounds": rounds,
        "servers": rows,
        "ratio_throughput_2_over_1": round(statistics.median(ratios), 3),
        "ratios_by_round": [round(r, 3) for r in ratios],
        "ratio_pss_2_over_rss_1": round(statistics.median(memory_ratios), 3),
        "memory_ratios_by_round": [round(r, 3) for r in memory_ratios],
    }
    print(
        f"\n10. processes: article, wrk -t2 -c32 {duration:g} s x {rounds} (dev corpus,"
        f" wrk on the same {os.cpu_count()} CPUs)"
    )
    print(
        f"  {'server':<16}{'req/s':>9}{'±':>7}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
        f"{'RSS MB':>9}{'PSS MB':>9}"
    )
    for name, row in rows.items():
        print(
            f"  {name:<16}{row['requests_per_s']['median']:>9.0f}"
            f"{row['requests_per_s']['spread']:>7.0f}{row['p50_ms']['median']:>9.2f}"
            f"{row['p99_ms']['median']:>9.2f}{row['errors']:>8}"
            f"{row['rss_mb']['median']:>9.0f}{row['pss_mb']['median']:>9.0f}"
        )
    print(
        f"  throughput 2 / 1 process: {result['ratio_throughput_2_over_1']:.2f}"
        f" (rounds {', '.join(f'{r:.2f}' for r in ratios)}; target >= 1.6);"
        f" PSS of master + 2 / RSS of 1: {result['ratio_pss_2_over_rss_1']:.2f}"
        f" (rounds {', '.join(f'{r:.2f}' for r in memory_ratios)}; target <= 1.4)"
    )
    return result


# -- 11. curation ----------------------------------------------------------------------

FIRST_FIXES = "{ curation { brokenLinks(first: 20) { totalCount nodes { fix } } } }"
# Every curation report of the API asked once (a page each), suggestions included.
EVERY_REPORT = """{ curation {
  summary { orphans wantedArticles }
  orphans { nodes { articleId } }
  deadEnds { nodes { articleId } }
  isolated { nodes { articleId } }
  wantedArticles { nodes { articleId suggestions { articleId } } }
  overLinked { totalCount }
  brokenLinks { nodes { fix } }
  duplicateLinks { nodes { fix } }
  selfLinks { nodes { fix } }
  staleLinks { nodes { fix } }
  urlMismatches { nodes { fix } }
  duplicateArticles { totalCount }
  subjectSpellings { key }
  islands { totalCount }
  linkSuggestions { nodes { article { articleId } suggested { score } } }
  copyTakeovers { totalCount }
  parseErrors { totalCount }
} }"""


def _graph_version(server: Server) -> int | None:
    """The version of the graph served; ``None`` while ``/readyz`` does not answer in 60 s.

    (At 200,000 articles a reload's full garbage collection, two graphs in the
    heap, has kept the event loop from answering for over 5 s.)
    """
    try:
        version: int = httpx.get(f"{server.base}/readyz", timeout=60).json()["graph_version"]
    except httpx.TransportError:
        return None
    return version


def _reloaded(server: Server, timeout: float = 900) -> float:
    """SIGHUP the server and wait for its next graph version: the seconds it took."""
    before = _graph_version(server)
    started = time.perf_counter()
    server.process.send_signal(signal.SIGHUP)
    while _graph_version(server) in (before, None):
        if time.perf_counter() - started > timeout:
            raise SystemExit(f"no reload in {timeout:.0f} s")
        time.sleep(0.02)
    return time.perf_counter() - started


def _curation_round(corpus: Path, cache: Path) -> dict[str, float]:
    """One cold start on a fresh cache folder: the first fixes after ready and after a reload."""
    command, port = kgraph_serve(corpus, "--no-watch", "--cache-dir", str(cache))
    with serving(command, port) as server:
        first = _timed(lambda: server.graphql(FIRST_FIXES))
        every = _timed(lambda: server.graphql(EVERY_REPORT))
        rss = peak_rss_mb(server.process.pid)
        reload_s = _reloaded(server)
        after_reload = _timed(lambda: server.graphql(FIRST_FIXES))
        server.graphql(EVERY_REPORT)
        return {
            "ready_s": server.ready,
            "first_fixes_ms": first,
            "every_report_ms": every,
            "peak_rss_mb": rss,
            "reload_s": reload_s,
            "first_fixes_after_reload_ms": after_reload,
            "peak_rss_after_reload_mb": peak_rss_mb(server.process.pid),
        }


def bench_curation(rounds: int, size: int) -> dict[str, Any]:
    """The first whole-corpus report of broken links' fixes, after a cold start and a reload.

    The issue's first figures: ``curation { brokenLinks(first: 20) { nodes { fix } } }``
    right after ``/readyz`` turns 200 on a cold start (``--no-watch``, a fresh
    cache folder: no snapshot), then after a SIGHUP reload; and the peak RSS of
    the serving process once every curation report was asked once (targets:
    300 ms and 250 MB on dev, 2 s and 1 GB at 200,000 articles).
    """
    corpora = {"dev": dev_corpus(), f"generated {size:,}": generated(size)}
    result: dict[str, Any] = {}
    print("\n11. curation: first brokenLinks fixes after a cold start (ms), after a reload")
    print(
        f"  {'corpus':<20}{'ready s':>9}{'first ms':>10}{'every ms':>10}{'peak MB':>9}"
        f"{'reload s':>10}{'after ms':>10}{'peak MB':>9}"
    )
    for name, corpus in corpora.items():
        runs: list[dict[str, float]] = []
        with tempfile.TemporaryDirectory(prefix="kgraph-curation-") as scratch:
            for number in range(rounds if size <= 200_000 or name == "dev" else 1):
                runs.append(_curation_round(corpus, Path(scratch) / f"cache-{number}"))
        row = {key: figure([run[key] for run in runs], 1) for key in runs[0]}
        result[name] = row
        print(
            f"  {name:<20}{row['ready_s']['median']:>9.1f}{row['first_fixes_ms']['median']:>10.0f}"
            f"{row['every_report_ms']['median']:>10.0f}{row['peak_rss_mb']['median']:>9.0f}"
            f"{row['reload_s']['median']:>10.1f}"
            f"{row['first_fixes_after_reload_ms']['median']:>10.0f}"
            f"{row['peak_rss_after_reload_mb']['median']:>9.0f}"
        )
    return result


def _commit() -> str:
    """The short commit of the code measured, ``-dirty`` when kgraph or benchmarks/ differ from it
    (the results files aside: a section run on its own writes them for the next one)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, check=False
        ).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git(
        "status", "--porcelain", "--", "kgraph", "benchmarks", ":!benchmarks/*results.json"
    )
    return head + ("-dirty" if changed else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help="sections to run")
    parser.add_argument(
        "--sizes",
        default="36000,200000,1000000",
        help="generated sizes for memory and the ingest curve",
    )
    parser.add_argument(
        "--start-sizes", default="200000", help="generated sizes for start (the first: curation)"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run")
    parser.add_argument("--requests", type=int, default=1000, help="sequential requests per round")
    parser.add_argument("--output", type=Path, default=HERE / "results.json")
    args = parser.parse_args()
    sections = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = sections - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown sections {sorted(unknown)}: choose from {', '.join(SECTIONS)}")
    WORK.mkdir(exist_ok=True)
    # Servers are one process unless a section says otherwise (`processes` does).
    os.environ.setdefault("KGRAPH_PROCESSES", "1")
    print(
        f"kgraph benchmarks on {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs"
    )
    results: dict[str, Any] = {}
    if args.output.is_file():
        results = json.loads(args.output.read_text())  # sections not run keep their last figures
    results["machine"] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
    }
    results.pop("http_sequential", None)  # the layout before this suite
    results.pop("corpus", None)
    results.pop("server_ready_seconds", None)
    start_sizes = [int(part) for part in args.start_sizes.split(",") if part.strip()]
    started = time.perf_counter()
    if "ingest" in sections:
        results["ingest"] = bench_ingest(
            args.rounds, [int(part) for part in args.sizes.split(",") if part.strip()]
        )
    if "start" in sections:
        results["start"] = bench_start(args.rounds, start_sizes)
    if "memory" in sections:
        sizes = [int(part) for part in args.sizes.split(",") if part.strip()]
        results["memory"] = bench_memory(min(args.rounds, 2), sizes)
    if "load" in sections:
        results["load"] = bench_load(args.rounds, args.duration)
    if "soak" in sections:
        results["soak"] = bench_soak(max(args.duration * 3, 30))
    if "hostile" in sections:
        results["hostile"] = bench_hostile(max(args.duration * 6, 60))
    if sections & {"latency", "paths"}:
        results.update(bench_latency_and_paths(args.rounds, args.requests, sections))
    if "commands" in sections:
        results["commands"] = bench_commands(args.rounds)
    if "processes" in sections:
        results["processes"] = bench_processes(args.rounds, args.duration)
    if "curation" in sections:
        results["curation"] = bench_curation(args.rounds, start_sizes[0])
    # Which code each section measured: sections not run keep their own.
    commit = _commit()
    commits = results.setdefault("commits", {})
    for name in sections:
        commits[name] = commit
    results["seconds"] = round(time.perf_counter() - started, 1)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {args.output} ({results['seconds']:.0f} s)")
    # The verdicts of the figures just written (sections not run keep their last ones).
    from report import targets  # benchmarks/, beside this script

    print("\nAgainst the targets of the performance issue (dev corpus unless named):\n")
    print("\n".join(targets(results)))


if __name__ == "__main__":
    main()

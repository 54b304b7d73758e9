"""HTTP latency of the GraphQL API on the dev corpus: a real server, real requests.

Run with ``make bench`` (not part of ``make test``). Starts ``kgraph serve`` on a
free port of 127.0.0.1 with the dev corpus (unpacked to a temp folder from
``KGRAPH_DEV_CORPUS`` or ``../shared/corpora/quicktakes-dev.tar.xz``), sends
sequential requests over one keep-alive connection, prints a table and writes
``benchmarks/results.json``.
"""

from __future__ import annotations

import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import networkx as nx

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TARBALL = Path(
    os.environ.get("KGRAPH_DEV_CORPUS", REPO.parent / "shared/corpora/quicktakes-dev.tar.xz")
)
REQUESTS = int(os.environ.get("KGRAPH_BENCH_REQUESTS", "1000"))
ROUNDS = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure(client: httpx.Client, payloads: list[dict[str, Any]]) -> list[float]:
    timings = []
    for payload in payloads:
        started = time.perf_counter()
        response = client.post("/graphql", json=payload)
        elapsed = time.perf_counter() - started
        body = response.json()
        if response.status_code != 200 or "errors" in body:
            raise SystemExit(f"request failed: {response.status_code} {body}")
        timings.append(elapsed * 1000)
    return timings


def main() -> None:
    if not TARBALL.is_file():
        raise SystemExit(f"the dev corpus archive is missing: {TARBALL}")
    with tempfile.TemporaryDirectory(prefix="kgraph-bench-") as scratch:
        corpus = Path(scratch) / "corpus"
        with tarfile.open(TARBALL) as archive:
            archive.extractall(corpus, filter="data")
        sys.path.insert(0, str(REPO))
        from kgraph.graph import load_graph

        kg = load_graph(corpus)
        rng = random.Random(7)
        ids = rng.sample(sorted(kg.articles), 500)
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "kgraph", "serve", "--corpus", str(corpus), "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            started = time.perf_counter()
            while True:
                try:
                    if httpx.get(f"{base}/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
            ready = time.perf_counter() - started
            one = [{"id": i} for i in ids]
            # Half the pairs inside one weakly connected piece, so that many have a path.
            pieces = {n: i for i, c in enumerate(nx.weakly_connected_components(kg.graph)) for n in c}
            by_piece: dict[int, list[int]] = {}
            for n, i in pieces.items():
                by_piece.setdefault(i, []).append(n)
            pairs = []
            for n, source in enumerate(ids):
                near = by_piece[pieces[source]]
                target = rng.choice(near) if n % 2 and len(near) > 1 else rng.choice(ids)
                pairs.append({"from": source, "to": target})
            path = "hops cost bridges steps { article { id } via rank }"
            cases = {
                "article": ("query($id: Int) { article(id: $id) { id title url inDegree } }", one),
                "neighbours depth 1": ("query($id: Int!) { neighbours(id: $id) { distance article { id title } } }", one),
                "neighbours depth 2": ("query($id: Int!) { neighbours(id: $id, depth: 2) { distance article { id title } } }", one),
                "curation summary+orphans(100)": ("{ curation { summary { orphans deadEnds brokenLinks } orphans(first: 100) { totalCount nodes { id title } } } }", [{}]),
                "learningPath": (f"query($from: Int!, $to: Int!) {{ learningPath(from: $from, to: $to) {{ {path} }} }}", pairs),
                "learningPath with bridges": (f"query($from: Int!, $to: Int!) {{ learningPath(from: $from, to: $to, options: {{keywordBridges: true}}) {{ {path} }} }}", pairs),
                "learningPaths k=3": (f"query($from: Int!, $to: Int!) {{ learningPaths(from: $from, to: $to, k: 3) {{ {path} }} }}", pairs),
                "similar": ("query($id: Int!) { similar(id: $id) { article { id } score sharedKeywords } }", one),
                "subgraph depth 2": ("query($id: Int!) { subgraph(center: [$id], depth: 2) { nodes { id } edges { id } } }", one),
            }
            rows: dict[str, Any] = {}
            with httpx.Client(base_url=base, timeout=10) as client:
                for name, (query, variables) in cases.items():
                    payloads = [
                        {"query": query, "variables": variables[i % len(variables)]}
                        for i in range(REQUESTS)
                    ]
                    measure(client, payloads[:200])  # warm up
                    medians, p95s, p99s = [], [], []
                    for _ in range(ROUNDS):
                        timings = measure(client, payloads)
                        medians.append(statistics.median(timings))
                        p95s.append(percentile(timings, 95))
                        p99s.append(percentile(timings, 99))
                    rows[name] = {
                        "requests_per_round": REQUESTS,
                        "rounds": ROUNDS,
                        "p50_ms": round(statistics.median(medians), 3),
                        "p50_spread_ms": round(max(medians) - min(medians), 3),
                        "p95_ms": round(statistics.median(p95s), 3),
                        "p99_ms": round(statistics.median(p99s), 3),
                    }
        finally:
            server.terminate()
            server.wait(timeout=15)
    results = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "corpus": {"articles": len(kg.articles), "links": kg.graph.number_of_edges()},
        "server_ready_seconds": round(ready, 2),
        "http_sequential": rows,
    }
    print(f"dev corpus: {len(kg.articles):,} articles; server ready in {ready:.2f} s")
    print(f"{'query':<32}{'p50 ms':>9}{'±':>7}{'p95 ms':>9}{'p99 ms':>9}")
    for name, row in rows.items():
        print(
            f"{name:<32}{row['p50_ms']:>9.2f}{row['p50_spread_ms']:>7.2f}"
            f"{row['p95_ms']:>9.2f}{row['p99_ms']:>9.2f}"
        )
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {HERE / 'results.json'}")


if __name__ == "__main__":
    main()

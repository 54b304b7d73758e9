"""A prober for tests/test_attacks.py, in a process of its own so that the test's own
work (300 websocket handshakes…) cannot slow down what it measures.

Run as ``python prober.py BASE ARTICLE_ID``: until its standard input closes, it asks
``/healthz`` three times, then an ``article`` query (a text of its own each time, as a
new client's would be), every 50 ms, and prints one JSON line per answer:
``{"what": "health" | "article", "seconds": …, "failure": null | "…"}``.
"""

from __future__ import annotations

import json
import sys
import threading
import time

import httpx

QUERY = "query Probe{n}($id: Int!) {{ article(id: $id) {{ articleId title }} }}"


def main() -> None:
    base, article_id = sys.argv[1], int(sys.argv[2])
    stop = threading.Event()

    def until_stdin_closes() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=until_stdin_closes, daemon=True).start()
    with httpx.Client(base_url=base, timeout=5) as client:
        turn = 0
        while not stop.is_set():
            started = time.monotonic()
            what, failure = ("article", None) if turn % 4 == 3 else ("health", None)
            try:
                if what == "article":
                    body = {"query": QUERY.format(n=turn), "variables": {"id": article_id}}
                    answer = client.post("/graphql", json=body)
                    payload = answer.json()
                    if answer.status_code != 200 or payload["data"]["article"] is None:
                        failure = f"article: {answer.status_code} {payload}"
                else:
                    answer = client.get("/healthz")
                    if answer.status_code != 200:
                        failure = f"healthz: {answer.status_code}"
            except httpx.HTTPError as err:
                failure = f"{type(err).__name__}: {err}"
            seconds = time.monotonic() - started
            print(json.dumps({"what": what, "seconds": seconds, "failure": failure}), flush=True)
            turn += 1
            stop.wait(0.05)


if __name__ == "__main__":
    main()

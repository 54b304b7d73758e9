"""A floor for cold ingest: the least that any reader of the corpus in Python does.

Not a reader anyone would ship: it bounds from below what reading the corpus
costs a Python process on this machine, so that the ingest section can tell
how far kgraph's cold load is from what is possible at all. Two processes
(forked, one per core of the benchmark machine) each take every ``*.md`` file
of a share of the corpus and do only what no reader can skip: open, read and
close the file (read at its size), find the front matter's end, and pick the article's ``id``
and its related entries' ids with one regular expression each. The parent
builds a networkx ``DiGraph`` of those links (one node per id, an edge per
related id that is an article, its first rank kept).

It checks nothing, reads no other field, keeps no text and resolves no link
by url, so its graph is not the corpus's (the benchmark does not compare it):
any real reader does all of this and more.

Prints one JSON line: the nodes and edges it found.

Usage: ``python benchmarks/floor_ingest.py CORPUS``
"""

from __future__ import annotations

import json
import os
import re
import sys
from multiprocessing import get_context

import networkx as nx

_ID = re.compile(rb"\nid: (-?[0-9]+)\n")
_RELATED_ID = re.compile(rb"\n    id: (-?[0-9]+)\n")
_CHUNK = 500


def _links(job: tuple[str, list[str]]) -> list[tuple[int, list[int]]]:
    """Each file's id and its related entries' ids, in file order (files without an id left out)."""
    root, paths = job
    found = []
    for path in paths:
        descriptor = os.open(os.path.join(root, path), os.O_RDONLY)
        try:
            # At its size: a read of a megabyte at once costs three times as much.
            data = os.read(descriptor, os.fstat(descriptor).st_size + 1)
        finally:
            os.close(descriptor)
        head = data[: data.find(b"\n---", 3) + 1]
        article = _ID.search(head)
        if article is not None:
            found.append((int(article.group(1)), [int(i) for i in _RELATED_ID.findall(head)]))
    return found


def main(root: str) -> None:
    paths = sorted(
        os.path.relpath(os.path.join(folder, name), root)
        for folder, _, names in os.walk(root)
        for name in names
        if name.endswith(".md")
    )
    jobs = [(root, paths[at : at + _CHUNK]) for at in range(0, len(paths), _CHUNK)]
    with get_context("fork").Pool(2) as pool:
        files = [file for chunk in pool.imap(_links, jobs) for file in chunk]
    graph: nx.DiGraph[int] = nx.DiGraph()
    graph.add_nodes_from(article for article, _ in files)
    for article, related in files:
        for rank, target in enumerate(related, 1):
            if target != article and target in graph and not graph.has_edge(article, target):
                graph.add_edge(article, target, rank=rank)
    print(json.dumps({"nodes": graph.number_of_nodes(), "edges": graph.number_of_edges()}))


if __name__ == "__main__":
    main(sys.argv[1])

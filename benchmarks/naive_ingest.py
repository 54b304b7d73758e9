"""The naive baseline of cold ingest: one process, PyYAML's C loader per file, a plain graph.

Independent of kgraph (nothing of it is imported): what anyone would write to
load the corpus. For every ``*.md`` file below the folder, in sorted path
order: read its bytes, split off the front matter (between the first line
``---`` and the next line starting ``---``), ``yaml.load`` it with
``CSafeLoader``, then build a networkx ``DiGraph`` as CORPUS.md defines the
links, kept plain:

- a node per distinct ``id``;
- each ``related_articleN`` entry resolves to its ``id`` when an article has
  it, else to the article whose file has its ``url`` (first file in path order),
  else to nothing (a broken link);
- an edge S → T for every entry that resolved to an article other than S, with
  the lowest N that gave it as ``rank``.

That is every rule of CORPUS.md that changes the node and edge sets; what the
naive reader leaves out (copies' paths, findings, wanted articles, topics,
text normalisation, parse errors' reasons) changes neither.

Prints one JSON line: counts and a digest of the sorted node list and of the
sorted ``(source, target, rank)`` edge list, which the benchmark compares with
the same digest of kgraph's graph (``graph_digest``, computed the same way).

Usage: ``python benchmarks/naive_ingest.py CORPUS``
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from typing import Any

import networkx as nx
import yaml


def graph_digest(graph: Any) -> dict[str, Any]:
    """Counts and digests of a graph's sorted nodes and sorted (source, target, rank) edges."""
    nodes = sorted(graph.nodes)
    edges = sorted((u, v, data["rank"]) for u, v, data in graph.edges(data=True))
    return {
        "nodes": len(nodes),
        "edges": len(edges),
        "nodes_digest": hashlib.blake2b(repr(nodes).encode(), digest_size=16).hexdigest(),
        "edges_digest": hashlib.blake2b(repr(edges).encode(), digest_size=16).hexdigest(),
    }


def corpus_files(root: str) -> list[str]:
    """Every ``*.md`` file below ``root`` (README.md and hidden entries left out), sorted."""
    found = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        for name in names:
            if name.endswith(".md") and name.lower() != "readme.md" and not name.startswith("."):
                found.append(os.path.relpath(os.path.join(folder, name), root))
    return sorted(path.replace(os.sep, "/") for path in found)


def front_matter(data: bytes) -> dict[str, Any] | None:
    """The YAML front matter of one file's bytes, or ``None`` when it has none."""
    text = data.decode("utf-8")
    if not text.startswith("---\n"):
        return None
    end = text.find("\n---", 3)
    if end < 0:
        return None
    fields = yaml.load(text[4 : end + 1], Loader=yaml.CSafeLoader)
    return fields if isinstance(fields, dict) else None


def naive_graph(root: str) -> nx.DiGraph:
    """The link graph of the corpus at ``root``, read plainly."""
    files: list[tuple[int, str | None, list[tuple[int, Any, Any]]]] = []
    for path in corpus_files(root):
        with open(os.path.join(root, path), "rb") as handle:
            try:
                fields = front_matter(handle.read())
            except (UnicodeDecodeError, yaml.YAMLError):
                continue
        if fields is None or type(fields.get("id")) is not int:
            continue
        related = []
        for key, entry in fields.items():
            rank = key[15:] if isinstance(key, str) and key.startswith("related_article") else ""
            if rank.isdigit() and isinstance(entry, dict):
                related.append((int(rank), entry.get("id"), entry.get("url")))
        files.append((fields["id"], fields.get("url"), related))
    ids = {article_id for article_id, _, _ in files}
    by_url: dict[str, int] = {}
    for article_id, url, _ in files:
        if isinstance(url, str):
            by_url.setdefault(url, article_id)  # files in path order: the first one wins
    graph = nx.DiGraph()
    graph.add_nodes_from(ids)
    for source, _, related in files:
        for rank, target_id, url in related:
            if type(target_id) is int and target_id in ids:
                target = target_id
            elif isinstance(url, str) and url in by_url:
                target = by_url[url]
            else:
                continue  # a broken link
            if target == source:
                continue
            known = graph.get_edge_data(source, target)
            if known is None:
                graph.add_edge(source, target, rank=rank)
            elif rank < known["rank"]:
                known["rank"] = rank
    return graph


if __name__ == "__main__":
    print(json.dumps(graph_digest(naive_graph(sys.argv[1]))))

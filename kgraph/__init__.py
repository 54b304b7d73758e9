"""kgraph: a knowledge graph of Q&A learning articles, served over GraphQL.

The small public surface::

    from kgraph import read_corpus, build_graph
    graph = build_graph(read_corpus("seeds"))

Its names are imported on first use, so that a process reading corpus files
(``kgraph.corpus``) does not import networkx.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["KnowledgeGraph", "__version__", "build_graph", "load_graph", "read_corpus"]

_HOMES = {
    "read_corpus": "kgraph.corpus",
    "KnowledgeGraph": "kgraph.graph",
    "build_graph": "kgraph.graph",
    "load_graph": "kgraph.graph",
}

if TYPE_CHECKING:
    from kgraph.corpus import read_corpus
    from kgraph.graph import KnowledgeGraph, build_graph, load_graph


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'kgraph' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)

"""kgraph: a knowledge graph of Q&A learning articles, served over GraphQL.

The small public surface::

    from kgraph import read_corpus, build_graph
    graph = build_graph(read_corpus("seeds"))
"""

from kgraph.corpus import read_corpus
from kgraph.graph import KnowledgeGraph, build_graph, load_graph

__version__ = "0.1.0"

__all__ = ["KnowledgeGraph", "__version__", "build_graph", "load_graph", "read_corpus"]

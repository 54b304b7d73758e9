"""The knowledge graph: build it from a read corpus, then query it with free functions."""

from kgraph.graph.build import build_graph, load_graph
from kgraph.graph.knowledge import KnowledgeGraph
from kgraph.graph.summary import Summary, summarize

__all__ = ["KnowledgeGraph", "Summary", "build_graph", "load_graph", "summarize"]

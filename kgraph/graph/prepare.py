"""What the first queries of a graph would otherwise wait for, built once after a load.

The server builds it before serving a graph; a command builds it before saving the
graph's snapshot, so that a warm start (server or command) finds it in the snapshot.
"""

from __future__ import annotations

from kgraph.graph.bridges import prepare_bridges
from kgraph.graph.curation import curation_report, prepare_suggestions
from kgraph.graph.knowledge import KnowledgeGraph
from kgraph.graph.relatedness import prepare_relatedness
from kgraph.graph.search import prepare_search

__all__ = ["prepare"]


def prepare(kg: KnowledgeGraph) -> None:
    """Build the curation report and the indexes and models that queries share.

    The index of search, the indexes of broken links' suggestions (the first
    report took 8 s on dev without), the relatedness model of ``similar`` and the
    bridges of learning paths (0.6 s on dev, for every ``kgraph path`` that
    started from a snapshot without them).
    """
    curation_report(kg)
    prepare_search(kg)
    prepare_suggestions(kg)
    prepare_relatedness(kg)
    prepare_bridges(kg)

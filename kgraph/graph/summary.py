"""Count what a built graph holds: the figures of ``kgraph check`` and ``stats``."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass

import networkx as nx

from kgraph.graph.knowledge import KnowledgeGraph
from kgraph.graph.table import copy_counts
from kgraph.model import FindingKind

__all__ = ["Summary", "summarize"]


@dataclass(frozen=True, slots=True)
class Summary:
    """The figures of CORPUS.md's reference table, in its order, then extras."""

    files: int
    parse_errors: int
    articles: int
    duplicate_articles: int
    references: int
    links: int
    broken_links: int
    wanted_articles: int
    stale_links: int
    url_mismatches: int
    duplicate_links: int
    self_links: int
    orphans: int
    dead_ends: int
    isolated: int
    topics: int
    max_in_degree: int
    # Extras: how fragmented the link graph is.
    components: int
    largest_component: int

    def as_dict(self) -> dict[str, int]:
        """The figures as a plain mapping, keys in declaration order."""
        return asdict(self)


def summarize(kg: KnowledgeGraph) -> Summary:
    """Count every figure of the graph.

    >>> from kgraph.corpus import CorpusReading
    >>> from kgraph.graph import build_graph
    >>> summarize(build_graph(CorpusReading("c", (), (), ()))).articles
    0
    """
    graph = kg.graph
    kinds = Counter(finding.kind for finding in kg.findings)
    in_degree = dict(graph.in_degree())
    out_degree = dict(graph.out_degree())
    components = [len(c) for c in nx.weakly_connected_components(graph)]
    return Summary(
        files=len(kg.files),
        parse_errors=len(kg.diagnostics),
        articles=len(kg.articles),
        duplicate_articles=sum(1 for _, count in copy_counts(kg.articles) if count > 1),
        references=kg.references,
        links=graph.number_of_edges(),
        broken_links=kinds[FindingKind.BROKEN_LINK],
        wanted_articles=len(kg.wanted),
        stale_links=kinds[FindingKind.STALE_LINK],
        url_mismatches=kinds[FindingKind.URL_MISMATCH],
        duplicate_links=kinds[FindingKind.DUPLICATE_LINK],
        self_links=kinds[FindingKind.SELF_LINK],
        orphans=sum(1 for n in graph if in_degree[n] == 0),
        dead_ends=sum(1 for n in graph if out_degree[n] == 0),
        isolated=sum(1 for n in graph if in_degree[n] == 0 and out_degree[n] == 0),
        topics=len(kg.topics),
        max_in_degree=max(in_degree.values(), default=0),
        components=len(components),
        largest_component=max(components, default=0),
    )

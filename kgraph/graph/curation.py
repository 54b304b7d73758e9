"""Rank what curators fix: orphans, dead ends, wanted and over-linked articles, copies."""

from __future__ import annotations

from kgraph.graph.knowledge import KnowledgeGraph
from kgraph.model import Article, Topic, Wanted

__all__ = [
    "dead_ends",
    "duplicate_articles",
    "isolated",
    "most_linked",
    "most_wanted",
    "orphans",
    "subject_spellings",
]


def orphans(kg: KnowledgeGraph) -> list[int]:
    """Articles no other article links to; most outgoing links first, then id.

    An orphan that links out is the easiest to knit in: its own related
    articles are the first candidates to link back.
    """
    graph = kg.graph
    return sorted(
        (n for n, degree in graph.in_degree() if degree == 0),
        key=lambda n: (-graph.out_degree(n), n),
    )


def dead_ends(kg: KnowledgeGraph) -> list[int]:
    """Articles that link nowhere; most linked-to first (readers get stuck there), then id."""
    graph = kg.graph
    return sorted(
        (n for n, degree in graph.out_degree() if degree == 0),
        key=lambda n: (-graph.in_degree(n), n),
    )


def isolated(kg: KnowledgeGraph) -> list[int]:
    """Articles with no link in or out, by id."""
    graph = kg.graph
    return [n for n in graph if graph.in_degree(n) == 0 and graph.out_degree(n) == 0]


def most_linked(kg: KnowledgeGraph) -> list[tuple[int, int]]:
    """``(article id, in-degree)`` of linked-to articles, highest in-degree first, then id."""
    return sorted(
        ((n, d) for n, d in kg.graph.in_degree() if d > 0), key=lambda item: (-item[1], item[0])
    )


def most_wanted(kg: KnowledgeGraph) -> list[Wanted]:
    """Wanted (missing) articles, most referring articles first, then id."""
    return sorted(kg.wanted.values(), key=lambda w: (-len(w.referrers), w.id))


def duplicate_articles(kg: KnowledgeGraph) -> list[Article]:
    """Articles with copies in several files, most copies first, then id."""
    return sorted(
        (a for a in kg.articles.values() if len(a.copies) > 1),
        key=lambda a: (-len(a.copies), a.id),
    )


def subject_spellings(kg: KnowledgeGraph) -> list[Topic]:
    """Topics whose subject is spelled more than one way, by key."""
    return [topic for topic in kg.topics.values() if len(topic.spellings) > 1]

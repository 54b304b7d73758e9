"""Look articles up: filters, search, and neighbourhoods by distance."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from kgraph.corpus import topic_key, words
from kgraph.errors import ArticleNotFound
from kgraph.graph.knowledge import KnowledgeGraph

__all__ = ["Direction", "Neighbour", "find_articles", "neighbours"]


class Direction(StrEnum):
    """Which links to follow: outgoing, incoming, or both."""

    OUT = "out"
    IN = "in"
    BOTH = "both"


@dataclass(frozen=True, slots=True)
class Neighbour:
    """An article reached from a start article.

    ``rank`` is the lowest rank of a link that reaches it from the previous
    distance; ``via`` is the article at that previous distance.
    """

    id: int
    distance: int
    rank: int
    via: int


def _steps(kg: KnowledgeGraph, node: int, direction: Direction) -> Iterator[tuple[int, int]]:
    """``(neighbour, rank)`` of each link of ``node`` in ``direction``."""
    graph = kg.graph
    if direction is not Direction.IN:
        for target, data in graph.succ[node].items():
            yield target, data["rank"]
    if direction is not Direction.OUT:
        for source, data in graph.pred[node].items():
            yield source, data["rank"]


def neighbours(
    kg: KnowledgeGraph, article_id: int, direction: Direction, depth: int, first: int
) -> list[Neighbour]:
    """Articles within ``depth`` links of ``article_id``, nearest first.

    Ordered by distance, then rank, then id; at most ``first``. The search
    stops at the distance where ``first`` is reached, so the work is bounded
    by what is returned.

    Raises
    ------
    ArticleNotFound
        When ``article_id`` is not an article of the graph.

    Examples
    --------
    >>> from kgraph.graph import load_graph
    >>> kg = load_graph("seeds")
    >>> [(n.id, n.distance, n.rank) for n in neighbours(kg, 168904, Direction.OUT, 1, 10)]
    [(168902, 1, 1), (168897, 1, 2), (168906, 1, 3), (168903, 1, 5)]
    """
    if article_id not in kg.articles:
        raise ArticleNotFound(article_id)
    seen = {article_id}
    frontier = [article_id]
    found: list[Neighbour] = []
    for distance in range(1, depth + 1):
        best: dict[int, tuple[int, int]] = {}
        for node in frontier:
            for other, rank in _steps(kg, node, direction):
                if other in seen:
                    continue
                known = best.get(other)
                if known is None or (rank, node) < known:
                    best[other] = (rank, node)
        layer = sorted(best.items(), key=lambda item: (item[1][0], item[0]))
        found.extend(Neighbour(other, distance, rank, via) for other, (rank, via) in layer)
        if len(found) >= first or not layer:
            break
        seen.update(best)
        frontier = [other for other, _ in layer]
    return found[:first]


def _intersect(sets: Iterable[Iterable[int]]) -> set[int] | None:
    result: set[int] | None = None
    for ids in sets:
        result = set(ids) if result is None else result.intersection(ids)
        if not result:
            return set()
    return result


def find_articles(
    kg: KnowledgeGraph,
    *,
    topic: str | None = None,
    keyword: str | None = None,
    search: str | None = None,
) -> list[int]:
    """Ids of the articles matching every given filter.

    ``topic`` is a topic key or any spelling of its subject; ``keyword`` one
    keyword (case-insensitive); ``search`` words that must all occur in the
    title, question or keywords. Ordered by relevance when searching (more
    search words in the title first), else by id.

    >>> from kgraph.graph import load_graph
    >>> kg = load_graph("seeds")
    >>> find_articles(kg, search="sodium potassium pump")[:1]
    [168904]
    >>> find_articles(kg, topic="Computer science", keyword="recursion")
    [52005, 52009]
    """
    filters: list[Iterable[int]] = []
    if topic is not None:
        filters.append(kg.by_topic.get(topic_key(topic), ()))
    if keyword is not None:
        filters.append(kg.by_keyword.get(" ".join(keyword.split()).casefold(), ()))
    query = list(dict.fromkeys(words(search))) if search is not None else []
    filters.extend(kg.by_word.get(word, ()) for word in query)
    if search is not None and not query:
        filters.append(())  # a search with no word matches nothing
    matched = _intersect(filters)
    ids = sorted(kg.articles) if matched is None else sorted(matched)
    if not query:
        return ids

    def relevance(article_id: int) -> tuple[int, int]:
        title = set(words(kg.articles[article_id].title))
        return (-sum(word in title for word in query), article_id)

    return sorted(ids, key=relevance)

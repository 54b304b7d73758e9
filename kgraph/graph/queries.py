"""Look articles up: filters, search, an article's links, and neighbourhoods by distance."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

from kgraph.budget import checkpoint
from kgraph.corpus import topic_key, words
from kgraph.errors import ArticleNotFound
from kgraph.graph.knowledge import KnowledgeGraph
from kgraph.graph.search import search as search_articles
from kgraph.graph.table import titles
from kgraph.model import FindingKind

__all__ = [
    "Direction",
    "Found",
    "Neighbour",
    "OutgoingLink",
    "backlinks",
    "find_articles",
    "in_degree",
    "link_count",
    "neighbours",
    "out_degree",
    "outgoing_links",
    "title_words",
]


# How many articles a loop handles between two looks at the request's budget.
_CLOCK_EVERY = 1024


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
        for done, node in enumerate(frontier):
            if done % _CLOCK_EVERY == 0:
                checkpoint()
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


_TITLE_WORDS = ("kgraph.graph.queries", "title words")
# Concurrent first searches of a graph would each build its title index: one
# builds it, the others wait for it.
_BUILDING = threading.Lock()


def title_words(kg: KnowledgeGraph) -> Mapping[str, tuple[int, ...]]:
    """Each searchable word of a title → the ids of the articles whose title has it.

    Built once per graph, on first use (a tenth of a second on the dev corpus),
    then kept with it.

    >>> from kgraph.graph import load_graph
    >>> sorted(title_words(load_graph("seeds"))["pump"])
    [168904]
    """

    def build() -> Mapping[str, tuple[int, ...]]:
        index: dict[str, set[int]] = {}
        for article_id, title in titles(kg.articles):
            for word in words(title):
                index.setdefault(word, set()).add(article_id)
        # Tuples, a quarter of the memory of sets: a search intersects its
        # (set of) matches with them, which takes any iterable.
        return {word: tuple(sorted(ids)) for word, ids in index.items()}

    with _BUILDING:
        return kg.derived(_TITLE_WORDS, build)


@dataclass(frozen=True, slots=True)
class Found:
    """What :func:`find_articles` found: ids in order and, for a search, their scores.

    ``scores[i]`` is the relevance of ``ids[i]``, in [0, 1] (see
    :func:`kgraph.graph.search.search`); ``None`` when nothing was searched.
    """

    ids: list[int]
    scores: list[float] | None = None


def find_articles(
    kg: KnowledgeGraph,
    *,
    topic: str | None = None,
    keyword: str | None = None,
    search: str | None = None,
) -> Found:
    """The articles matching every given filter, most relevant first when searching.

    ``topic`` is a topic key or any spelling of its subject; ``keyword`` one
    keyword (case-insensitive); ``search`` words ranked by
    :func:`kgraph.graph.search.search` (relevance, typos forgiven), among the
    articles the other filters leave. Without a search: by id.

    >>> from kgraph.graph import load_graph
    >>> kg = load_graph("seeds")
    >>> find_articles(kg, search="sodium potasium pump").ids[:1]
    [168904]
    >>> find_articles(kg, topic="Computer science", keyword="recursion")
    Found(ids=[52005, 52009], scores=None)
    """
    filters: list[Iterable[int]] = []
    if topic is not None:
        filters.append(kg.by_topic.get(topic_key(topic), ()))
    if keyword is not None:
        filters.append(kg.by_keyword.get(" ".join(keyword.split()).casefold(), ()))
    matched = _intersect(filters)
    if search is not None:
        hits = search_articles(kg, search, within=matched)
        return Found(ids=hits.ids, scores=hits.scores)
    return Found(ids=sorted(kg.articles if matched is None else matched))


@dataclass(frozen=True, slots=True)
class OutgoingLink:
    """An outgoing related entry of an article: to an article or to a wanted one.

    Exactly one of ``target`` (an article id of the graph) and ``wanted`` (the
    id of a missing article) is set.
    """

    rank: int
    target: int | None = None
    wanted: int | None = None


def outgoing_links(kg: KnowledgeGraph, article_id: int) -> list[OutgoingLink]:
    """The related entries of an article, by rank then id, broken ones included.

    A link to an article comes once, at its lowest rank; so does a broken
    entry naming a wanted (missing) article.

    >>> from kgraph.graph import load_graph
    >>> [(n.rank, n.target, n.wanted) for n in outgoing_links(load_graph("seeds"), 168911)]
    [(1, 168912, None), (2, 168913, None), (3, None, 168999), (4, 168916, None)]
    """
    ordered = [
        (data["rank"], target, OutgoingLink(rank=data["rank"], target=target))
        for target, data in kg.graph.succ[article_id].items()
    ]
    missing: dict[int, int] = {}
    for finding in kg.findings_by_article.get(article_id, ()):
        stated = finding.stated_id
        if finding.kind is FindingKind.BROKEN_LINK and stated is not None and stated in kg.wanted:
            missing[stated] = min(missing.get(stated, finding.rank), finding.rank)
    ordered.extend(
        (rank, wanted, OutgoingLink(rank=rank, wanted=wanted)) for wanted, rank in missing.items()
    )
    ordered.sort(key=lambda item: (item[0], item[1]))
    return [link for _, _, link in ordered]


def backlinks(kg: KnowledgeGraph, article_id: int, first: int) -> list[int]:
    """Ids of the articles linking to ``article_id``, strongest link (lowest rank) first.

    Ties go by id; at most ``first``.

    >>> from kgraph.graph import load_graph
    >>> backlinks(load_graph("seeds"), 168904, 4)
    [84001, 168903, 168914, 168902]
    """
    incoming = kg.graph.pred[article_id]
    return sorted(incoming, key=lambda source: (incoming[source]["rank"], source))[:first]


def in_degree(kg: KnowledgeGraph, article_id: int) -> int:
    """How many distinct articles link to ``article_id``."""
    return len(kg.graph.pred[article_id])


def out_degree(kg: KnowledgeGraph, article_id: int) -> int:
    """How many distinct articles ``article_id`` links to."""
    return len(kg.graph.succ[article_id])


def link_count(kg: KnowledgeGraph) -> int:
    """How many links (distinct source → target pairs) the graph holds.

    Counted once per graph: networkx counts them over every article's links
    (20 ms at 200,000 articles, each ``/readyz``), and in a serving process
    forked from the one that loaded the graph, touching each article's links
    copies the pages they sit on (its first ``/readyz`` took 35 ms).
    """
    return kg.derived("links", lambda: int(kg.graph.number_of_edges()))

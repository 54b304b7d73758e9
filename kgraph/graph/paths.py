"""Learning paths: how to get from one article to another by links, and by shared keywords."""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import networkx as nx

from kgraph.errors import ArticleNotFound, QueryError
from kgraph.graph.knowledge import KnowledgeGraph
from kgraph.graph.similarity import shared_keywords

__all__ = [
    "MAX_HOPS",
    "MAX_KEYWORD_HOLDERS",
    "MAX_PATHS",
    "LearningPath",
    "PathOptions",
    "PathWeight",
    "Step",
    "StepVia",
    "bridge_cost",
    "learning_path",
    "learning_paths",
]

#: The largest ``max_hops`` a query may ask for.
MAX_HOPS = 100

#: The most paths :func:`learning_paths` may be asked for.
MAX_PATHS = 10

#: A keyword held by more articles than this is no bridge: it says little about
#: what two articles share, and reading its articles would cost the most. It
#: never cuts in on the dev corpus, whose commonest keyword is on 730 articles.
MAX_KEYWORD_HOLDERS = 2_000

# The key of the undirected view in ``KnowledgeGraph.memo``.
_UNDIRECTED = ("paths", "undirected view")

#: The highest rank a link can have: the cost of a link is at most this.
_MAX_RANK = 5


class PathWeight(StrEnum):
    """What a path costs: one per link, or the rank of each link (1 = most related)."""

    HOPS = "hops"
    RANK = "rank"


class StepVia(StrEnum):
    """How a step of a path is reached from the previous one."""

    START = "start"
    LINK = "link"
    KEYWORDS = "keywords"


@dataclass(frozen=True, slots=True)
class PathOptions:
    """What a learning path may go through, and what it costs.

    ``directed`` follows links only from the article that lists them;
    ``same_topic`` keeps every step in a topic of the source article; ``avoid``
    keeps those articles out of every path; a path of more than ``max_hops``
    steps is no path; ``keyword_bridges`` steps between articles sharing a
    keyword where no link path exists.
    """

    directed: bool = True
    weight: PathWeight = PathWeight.HOPS
    same_topic: bool = False
    avoid: frozenset[int] = frozenset()
    max_hops: int = 20
    keyword_bridges: bool = False


@dataclass(frozen=True, slots=True)
class Step:
    """One article of a learning path, and how it is reached from the previous one.

    ``rank`` is the rank of the link taken (the lowest of the links joining the
    two articles when walking links either way), ``None`` for the start and for
    a keyword bridge; ``shared_keywords`` are the keywords it shares with the
    previous article, in that article's spelling, rarest first (empty for the
    start, never empty for a bridge); ``topic_change`` says the two articles
    have no topic in common.
    """

    article: int
    via: StepVia
    rank: int | None
    shared_keywords: tuple[str, ...]
    topic_change: bool


@dataclass(frozen=True, slots=True)
class LearningPath:
    """A walk from one article to another.

    ``hops`` is the number of steps after the start; ``bridges`` how many of
    them are keyword bridges; ``cost`` the number of links (``HOPS``) or the sum
    of their ranks (``RANK``), plus :func:`bridge_cost` for each bridge.
    """

    steps: tuple[Step, ...]
    hops: int
    cost: float
    bridges: int


def bridge_cost(kg: KnowledgeGraph) -> int:
    """What a keyword bridge costs: more than any path of links could.

    A path of links visits each article once, so it costs at most the highest
    rank times the number of articles; a bridge costs more, so fewer bridges
    always win, and links decide between paths of as many bridges.

    >>> from kgraph.graph import load_graph
    >>> bridge_cost(load_graph("seeds"))
    265
    """
    return (len(kg.articles) + 1) * _MAX_RANK


def _check(kg: KnowledgeGraph, source: int, target: int, options: PathOptions) -> None:
    for article_id in (source, target):
        if article_id not in kg.articles:
            raise ArticleNotFound(article_id)
        if article_id in options.avoid:
            raise QueryError(f"article {article_id} is an end of the path: it cannot be avoided")
    if not 1 <= options.max_hops <= MAX_HOPS:
        raise QueryError(f"max_hops must be between 1 and {MAX_HOPS}, not {options.max_hops}")


def _undirected(kg: KnowledgeGraph) -> nx.Graph[int]:
    """The graph with its links walkable either way: a view, made once per graph.

    Making the view checks every node (networkx asserts that successors and
    predecessors hold the same nodes), some milliseconds on a large corpus.
    """
    return kg.derived(_UNDIRECTED, lambda: kg.graph.to_undirected(as_view=True))


def _view(kg: KnowledgeGraph, source: int, options: PathOptions) -> nx.Graph[int]:
    """The links a path may follow, as a view: the graph itself is never copied."""
    view = kg.graph if options.directed else _undirected(kg)
    avoid = options.avoid
    if options.same_topic:
        articles, topics = kg.articles, frozenset(kg.articles[source].topics)

        def keep(node: int) -> bool:
            return node not in avoid and not topics.isdisjoint(articles[node].topics)

        return nx.subgraph_view(view, filter_node=keep)
    if avoid:
        return nx.subgraph_view(view, filter_node=lambda node: node not in avoid)
    return view


def _rank(kg: KnowledgeGraph, u: int, v: int, directed: bool) -> int:
    """The rank of the link ``u`` → ``v``; either way, the lower one, unless ``directed``."""
    graph = kg.graph
    if directed:
        return int(graph.succ[u][v]["rank"])
    links = (graph.succ[u].get(v), graph.pred[u].get(v))
    return min(int(data["rank"]) for data in links if data is not None)


_Weight = Callable[[Any, Any, Any], float]


def _weight(kg: KnowledgeGraph, options: PathOptions) -> _Weight | None:
    """The weight function networkx is given: ``None`` counts links."""
    if options.weight is PathWeight.HOPS:
        return None
    if options.directed:
        return lambda u, v, data: data["rank"]
    return lambda u, v, data: _rank(kg, u, v, False)


def _link_path(
    kg: KnowledgeGraph, view: nx.Graph[int], source: int, target: int, options: PathOptions
) -> list[int] | None:
    """The cheapest path of links, searched from both ends at once; ``None`` when there is none."""
    weight = _weight(kg, options)
    try:
        if weight is None:
            return nx.bidirectional_shortest_path(view, source, target)
        _, path = nx.bidirectional_dijkstra(view, source, target, weight=weight)
    except nx.NetworkXNoPath:
        return None
    return path


# A node of the bridged search: an article id, or a case-folded keyword joining
# every article that holds it. Article → keyword costs a bridge, keyword →
# article costs nothing, so a keyword's articles are read once per direction.
_Node = int | str


def _bridged_path(
    kg: KnowledgeGraph, view: nx.Graph[int], source: int, target: int, options: PathOptions
) -> list[_Node] | None:
    """The path of fewest bridges, then lowest cost, found from both ends at once.

    A bidirectional Dijkstra over articles and keywords, a bridge costing
    :func:`bridge_cost`: totals compare as (bridges, link cost) would. Each
    article and each keyword is settled at most once per direction and keywords
    on more than :data:`MAX_KEYWORD_HOLDERS` articles are skipped, so the work
    is at most twice the links plus the keyword index.
    """
    big = bridge_cost(kg)
    by_rank = options.weight is PathWeight.RANK
    articles, by_keyword = kg.articles, kg.by_keyword
    if isinstance(view, nx.DiGraph):
        adjacency: tuple[Mapping[int, Mapping[int, Any]], ...] = (view.succ, view.pred)
    else:
        adjacency = (view.adj, view.adj)

    def steps(node: _Node, side: int) -> Iterator[tuple[_Node, int]]:
        if isinstance(node, str):
            cost = 0 if side == 0 else big
            for holder in by_keyword[node]:
                if holder in view:
                    yield holder, cost
            return
        for other, data in adjacency[side][node].items():
            if not by_rank:
                yield other, 1
            elif options.directed:
                yield other, data["rank"]
            else:
                yield other, _rank(kg, node, other, False)
        cost = big if side == 0 else 0
        for keyword in articles[node].keywords:
            folded = keyword.casefold()
            if len(by_keyword.get(folded, ())) <= MAX_KEYWORD_HOLDERS:
                yield folded, cost

    # Side 0 searches forward from the source, side 1 backward from the target.
    settled: tuple[dict[_Node, int], dict[_Node, int]] = ({}, {})
    seen: tuple[dict[_Node, int], dict[_Node, int]] = ({source: 0}, {target: 0})
    previous: tuple[dict[_Node, _Node], dict[_Node, _Node]] = ({}, {})
    order = itertools.count()  # ids and keywords do not compare: ties go by push order
    fringes: tuple[list[tuple[int, int, _Node]], ...] = (
        [(0, next(order), source)],
        [(0, next(order), target)],
    )
    best, meeting = math.inf, None
    while fringes[0] and fringes[1]:
        # Grow the smaller fringe: a keyword can push hundreds of articles.
        side = 0 if len(fringes[0]) <= len(fringes[1]) else 1
        distance, _, node = heapq.heappop(fringes[side])
        if node in settled[side]:
            continue
        settled[side][node] = distance
        if node in settled[1 - side]:
            break  # settled from both ends: nothing cheaper than `best` is left
        for other, cost in steps(node, side):
            reach = distance + cost
            if other in settled[side]:
                continue
            known = seen[side].get(other)
            if known is None or reach < known:
                seen[side][other] = reach
                previous[side][other] = node
                heapq.heappush(fringes[side], (reach, next(order), other))
                across = seen[1 - side].get(other)
                if across is not None and reach + across < best:
                    best, meeting = reach + across, other
    if meeting is None:
        return None
    path: list[_Node] = [meeting]
    while path[-1] != source:
        path.append(previous[0][path[-1]])
    path.reverse()
    while path[-1] != target:
        path.append(previous[1][path[-1]])
    return path


def _learning_path(kg: KnowledgeGraph, path: Sequence[_Node], options: PathOptions) -> LearningPath:
    """A path of article ids (keywords between two marking a bridge) as steps."""
    articles = kg.articles
    first = path[0]
    assert isinstance(first, int)
    steps = [Step(first, StepVia.START, None, (), False)]
    link_cost = bridges = 0
    bridged = False
    for node in path[1:]:
        if isinstance(node, str):
            bridged = True
            continue
        before = steps[-1].article
        if bridged:
            via, rank = StepVia.KEYWORDS, None
            bridges += 1
        else:
            via, rank = StepVia.LINK, _rank(kg, before, node, options.directed)
            link_cost += rank if options.weight is PathWeight.RANK else 1
        steps.append(
            Step(
                article=node,
                via=via,
                rank=rank,
                shared_keywords=shared_keywords(kg, before, node),
                topic_change=set(articles[before].topics).isdisjoint(articles[node].topics),
            )
        )
        bridged = False
    return LearningPath(
        steps=tuple(steps),
        hops=len(steps) - 1,
        cost=float(link_cost + bridges * bridge_cost(kg)),
        bridges=bridges,
    )


def learning_path(
    kg: KnowledgeGraph, source: int, target: int, options: PathOptions = PathOptions()
) -> LearningPath | None:
    """The cheapest way from article ``source`` to article ``target``, or ``None``.

    Follows links (either way unless ``options.directed``), searching from both
    ends at once; the cheapest path has the fewest links (``PathWeight.HOPS``)
    or the lowest sum of ranks (``PathWeight.RANK``). It is ``None`` when no
    path exists, or when the cheapest takes more than ``options.max_hops``
    steps. A path from an article to itself has no step but its start.

    With ``options.keyword_bridges``, a pair that no link path joins may still
    be joined by stepping between articles that share a keyword: the path
    takes the fewest such bridges, then costs the least. A pair that links
    join never gets a bridge.

    Raises
    ------
    ArticleNotFound
        When ``source`` or ``target`` is not an article of the graph.
    QueryError
        When ``source`` or ``target`` is avoided, or ``max_hops`` is not
        between 1 and :data:`MAX_HOPS`.

    Examples
    --------
    >>> from kgraph.graph import load_graph
    >>> kg = load_graph("seeds")
    >>> path = learning_path(kg, 168904, 168912)
    >>> [step.article for step in path.steps], path.hops, path.cost
    ([168904, 168897, 168911, 168912], 3, 3.0)
    >>> [(step.via.value, step.rank) for step in path.steps]
    [('start', None), ('link', 2), ('link', 3), ('link', 1)]

    By rank, two links of ranks 2 and 1 beat one link of rank 5:

    >>> direct = learning_path(kg, 168904, 168903)
    >>> [step.article for step in direct.steps], direct.cost
    ([168904, 168903], 1.0)
    >>> by_rank = learning_path(kg, 168904, 168903, PathOptions(weight=PathWeight.RANK))
    >>> [step.article for step in by_rank.steps], by_rank.cost
    ([168904, 168897, 168903], 3.0)

    No link leads from computer science to physics, but a keyword does:

    >>> learning_path(kg, 52003, 73006) is None
    True
    >>> bridged = learning_path(kg, 52003, 73006, PathOptions(keyword_bridges=True))
    >>> [(step.article, step.via.value) for step in bridged.steps]
    [(52003, 'start'), (52004, 'link'), (73006, 'keywords')]
    >>> bridged.steps[-1].shared_keywords
    ('collisions',)
    >>> bridged.bridges, bridged.cost, bridged.steps[-1].topic_change
    (1, 266.0, True)
    """
    _check(kg, source, target, options)
    if source == target:
        return _learning_path(kg, [source], options)
    view = _view(kg, source, options)
    if target not in view:
        return None
    path: Sequence[_Node] | None = _link_path(kg, view, source, target, options)
    if path is None and options.keyword_bridges:
        path = _bridged_path(kg, view, source, target, options)
    if path is None:
        return None
    found = _learning_path(kg, path, options)
    if found.hops <= options.max_hops:
        return found
    if found.bridges == 0 and options.weight is PathWeight.RANK:
        # The cheapest path is too long, but a dearer one may fit the hop
        # limit: look in order of cost, as learning_paths does (bounded in time).
        within = learning_paths(kg, source, target, 1, replace(options, keyword_bridges=False))
        return within[0] if within else None
    return None


def learning_paths(
    kg: KnowledgeGraph,
    source: int,
    target: int,
    k: int = 3,
    options: PathOptions = PathOptions(),
    *,
    time_budget: float = 0.5,
) -> list[LearningPath]:
    """Up to ``k`` distinct paths of links from ``source`` to ``target``, cheapest first.

    Paths visit each article once and come in order of cost (Yen's algorithm).
    Paths of more than ``options.max_hops`` steps are passed over. The
    listing ends after ``k`` paths, or once ``time_budget`` seconds have
    passed (the clock is read between paths). With
    ``options.keyword_bridges``, a pair that no link path joins gets its one
    bridged path, as :func:`learning_path` finds it.

    Raises
    ------
    ArticleNotFound
        When ``source`` or ``target`` is not an article of the graph.
    QueryError
        When ``k`` is not between 1 and :data:`MAX_PATHS`, or as
        :func:`learning_path` does.

    Examples
    --------
    >>> from kgraph.graph import load_graph
    >>> kg = load_graph("seeds")
    >>> paths = learning_paths(kg, 168904, 168912, 2)
    >>> [([step.article for step in path.steps], path.cost) for path in paths]
    [([168904, 168897, 168911, 168912], 3.0), ([168904, 168906, 168897, 168911, 168912], 4.0)]
    """
    _check(kg, source, target, options)
    if not 1 <= k <= MAX_PATHS:
        raise QueryError(f"k must be between 1 and {MAX_PATHS}, not {k}")
    if source == target:
        return [_learning_path(kg, [source], options)]
    view = _view(kg, source, options)
    if target not in view:
        return []
    deadline = time.perf_counter() + time_budget
    found: list[LearningPath] = []
    try:
        for path in nx.shortest_simple_paths(view, source, target, weight=_weight(kg, options)):
            if len(path) - 1 <= options.max_hops:
                found.append(_learning_path(kg, path, options))
            elif options.weight is PathWeight.HOPS:
                break  # in order of hops, every later path is too long as well
            if len(found) == k or time.perf_counter() >= deadline:
                break
    except nx.NetworkXNoPath:
        pass
    if not found and options.keyword_bridges:
        bridged = learning_path(kg, source, target, options)
        if bridged is not None:
            found.append(bridged)
    return found

"""Learning paths: from one article to another by links, and by bridges between related articles."""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections import deque
from collections.abc import Callable, Collection, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

import networkx as nx

from kgraph import budget
from kgraph.errors import ArticleNotFound, QueryError
from kgraph.graph.bridges import bridges as bridges_of
from kgraph.graph.knowledge import KnowledgeGraph
from kgraph.graph.relatedness import pair
from kgraph.graph.similarity import shared_keywords

__all__ = [
    "MAX_HOPS",
    "MAX_PATHS",
    "LearningPath",
    "LearningPaths",
    "PathOptions",
    "PathWeight",
    "Shortfall",
    "Step",
    "StepVia",
    "find_learning_paths",
    "learning_path",
    "learning_paths",
]

#: The largest ``max_hops`` a query may ask for.
MAX_HOPS = 100

#: The most paths :func:`learning_paths` may be asked for.
MAX_PATHS = 10

# The keys of values kept with the graph in ``KnowledgeGraph.memo``.
_UNDIRECTED = ("paths", "undirected view")
_HIGHEST_RANK = ("paths", "highest rank")
_RANKS = ("paths", "ranks")

# How many states a search settles between two readings of the clock.
_CLOCK_EVERY = 256


class PathWeight(StrEnum):
    """What a path costs: one per link, or the rank of each link (1 = most related)."""

    HOPS = "hops"
    RANK = "rank"


class StepVia(StrEnum):
    """How a step of a path is reached from the previous one.

    ``LINK``: the previous article links to it; ``BACKLINK``: it links to the
    previous article (paths that walk links either way); ``RELATED``: a
    bridge, no link, between related articles (:mod:`kgraph.graph.bridges`).
    """

    START = "start"
    LINK = "link"
    BACKLINK = "backlink"
    RELATED = "related"


@dataclass(frozen=True, slots=True)
class PathOptions:
    """What a learning path may go through, and what it costs.

    ``directed`` follows links only from the article that lists them;
    ``same_topic`` keeps every step in a topic of the source article; ``avoid``
    keeps those articles out of every path; a path of more than ``max_hops``
    steps is no path, and the best of those that fit is taken; ``bridges``
    steps between related articles (:mod:`kgraph.graph.bridges`) where no
    link path (that fits) exists.
    """

    directed: bool = True
    weight: PathWeight = PathWeight.HOPS
    same_topic: bool = False
    avoid: frozenset[int] = frozenset()
    max_hops: int = 20
    bridges: bool = False


@dataclass(frozen=True, slots=True)
class Step:
    """One article of a learning path, and how it is reached from the previous one.

    ``rank`` is the rank of the link taken (the lowest of the links joining the
    two articles when walking links either way), ``None`` for the start and for
    a bridge; ``score`` how related the two articles are (the relatedness
    model's score, 0 to 1; ``None`` for the start); ``shared_keywords`` the
    keywords it shares with the previous article, in that article's spelling,
    rarest first, and ``shared_terms`` the words adding most to their text
    likeness (both empty for the start); ``topic_change`` says the two
    articles have no topic in common.
    """

    article: int
    via: StepVia
    rank: int | None
    shared_keywords: tuple[str, ...]
    topic_change: bool
    score: float | None = None
    shared_terms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LearningPath:
    """A walk from one article to another.

    ``hops`` is the number of steps after the start; ``bridges`` how many of
    them are bridges; ``cost`` counts one for each link (``HOPS``) or the
    link's rank (``RANK``), and for a bridge of score ``s`` what ``1 / s``
    links (of the highest rank, by ``RANK``) would cost: a bridge of score 0.5
    costs as much as two links. ``strength`` is the lowest score of its steps
    (``None`` for a path of no step): how weak its weakest step is.
    """

    steps: tuple[Step, ...]
    hops: int
    cost: float
    bridges: int
    strength: float | None = None


_Ranks = Mapping[int, Mapping[int, int]]


def _highest_rank(kg: KnowledgeGraph) -> int:
    """The highest rank of the graph's links (1 without links), found once per graph.

    The corpus format numbers related articles freely (``related_article7`` is
    rank 7): no highest rank is fixed in advance.
    """

    def compute() -> int:
        return max((int(data["rank"]) for _, _, data in kg.graph.edges(data=True)), default=1)

    return kg.derived(_HIGHEST_RANK, compute)


def _ranks_of(kg: KnowledgeGraph, directed: bool) -> tuple[_Ranks, _Ranks]:
    """The ranks of the links out of each article, and into it, made once per graph and way.

    ``ranks[u][v]`` is the rank of the link ``u`` → ``v``, or (not
    ``directed``) the lower rank of the links between ``u`` and ``v``,
    whichever way; then both mappings are the same. The searches read these
    plain dicts many times faster than networkx's views of the graph.
    """

    def compute() -> tuple[_Ranks, _Ranks]:
        ahead: dict[int, dict[int, int]] = {node: {} for node in kg.graph}
        behind: dict[int, dict[int, int]] = ahead if not directed else {n: {} for n in kg.graph}
        for u, v, data in kg.graph.edges(data=True):
            rank = int(data["rank"])
            if directed:
                ahead[u][v] = behind[v][u] = rank
            else:
                ahead[u][v] = ahead[v][u] = min(rank, ahead[u].get(v, rank))
        return ahead, behind

    return kg.derived((_RANKS, directed), compute)


def _dearest_link(kg: KnowledgeGraph, options: PathOptions) -> int:
    """What the dearest link costs: 1 by ``HOPS``, the highest rank by ``RANK``."""
    return 1 if options.weight is PathWeight.HOPS else max(_highest_rank(kg), 1)


def _bridge_cost(score: float, dearest: int) -> float:
    """What a bridge of ``score`` costs: as much as ``1 / score`` of the dearest links."""
    return dearest / score


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


def _keep(kg: KnowledgeGraph, source: int, options: PathOptions) -> Callable[[int], bool] | None:
    """Which articles a path may pass through; ``None`` for all of them."""
    avoid = options.avoid
    if options.same_topic:
        # The articles sharing a topic with the source: those its topics list.
        topics = frozenset(kg.articles[source].topics)
        members = kg.derived(
            ("paths", "same topic", topics),
            lambda: frozenset().union(*(kg.by_topic.get(topic, ()) for topic in topics)),
        )

        def keep(node: int) -> bool:
            return node not in avoid and node in members

        return keep
    if avoid:
        return lambda node: node not in avoid
    return None


def _view(kg: KnowledgeGraph, source: int, options: PathOptions) -> nx.Graph[int]:
    """The links a path may follow, as a view: the graph itself is never copied."""
    view = kg.graph if options.directed else _undirected(kg)
    keep = _keep(kg, source, options)
    return view if keep is None else nx.subgraph_view(view, filter_node=keep)


def _rank(kg: KnowledgeGraph, u: int, v: int, directed: bool) -> int:
    """The rank of the link ``u`` → ``v``; either way, the lower one, unless ``directed``."""
    return _ranks_of(kg, directed)[0][u][v]


_Weight = Callable[[Any, Any, Any], float]


def _weight(kg: KnowledgeGraph, options: PathOptions) -> _Weight | None:
    """The weight function networkx is given: ``None`` counts links."""
    if options.weight is PathWeight.HOPS:
        return None
    if options.directed:
        return lambda u, v, data: data["rank"]
    either = _ranks_of(kg, False)[0]
    return lambda u, v, data: either[u][v]


_LinkCosts = Callable[[int], Iterator[tuple[int, int]]]


def _link_costs(
    kg: KnowledgeGraph, source: int, options: PathOptions
) -> tuple[_LinkCosts, _LinkCosts]:
    """The links a path from ``source`` may follow out of an article, and into it.

    Each as ``(other article, cost)``, the cost 1 (``HOPS``) or the rank.
    """
    ahead, behind = _ranks_of(kg, options.directed)
    keep = _keep(kg, source, options)
    by_rank = options.weight is PathWeight.RANK

    def along(ranks: _Ranks) -> _LinkCosts:
        def links(node: int) -> Iterator[tuple[int, int]]:
            for other, rank in ranks[node].items():
                if keep is None or keep(other):
                    yield other, rank if by_rank else 1

        return links

    return along(ahead), along(behind)


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


_Step = tuple[int, int]


def _bridged_steps(
    kg: KnowledgeGraph, source: int, options: PathOptions
) -> tuple[_Steps[int], _Steps[int]]:
    """The steps of a bridged search, forwards and backwards: links, then bridges.

    Each as ``(other article, cost, hops)``; a bridge goes both ways and costs
    :func:`_bridge_cost` of its score.
    """
    ahead, behind = _link_costs(kg, source, options)
    keep = _keep(kg, source, options)
    found = bridges_of(kg)
    dearest = _dearest_link(kg, options)

    def along(links: _LinkCosts) -> _Steps[int]:
        def steps(node: int) -> Iterator[tuple[int, float, int]]:
            for other, cost in links(node):
                yield other, cost, 1
            for other, score in found.of(node):
                if keep is None or keep(other):
                    yield other, _bridge_cost(score, dearest), 1

        return steps

    return along(ahead), along(behind)


def _bridged_path(
    kg: KnowledgeGraph,
    source: int,
    target: int,
    options: PathOptions,
    *,
    banned_steps: Collection[_Step] = (),
) -> tuple[float, list[int]] | None:
    """The cheapest path of links and bridges, found from both ends at once, with its cost.

    A bidirectional Dijkstra over articles: a link costs 1 or its rank, a
    bridge as :func:`_bridge_cost` says, so a path with strong bridges beats a
    shorter one with a weak bridge. ``banned_steps`` (either way) are never
    taken. The clock is read every :data:`_CLOCK_EVERY` settled articles.
    """
    forward, backward = _bridged_steps(kg, source, options)
    sides = (forward, backward)
    settled: tuple[dict[int, float], dict[int, float]] = ({}, {})
    seen: tuple[dict[int, float], dict[int, float]] = ({source: 0.0}, {target: 0.0})
    previous: tuple[dict[int, int], dict[int, int]] = ({}, {})
    fringes: tuple[list[tuple[float, int]], ...] = ([(0.0, source)], [(0.0, target)])
    best, meeting = math.inf, None
    popped = 0
    while fringes[0] and fringes[1]:
        if fringes[0][0][0] + fringes[1][0][0] >= best:
            break  # no path through the fringes can beat the one found
        side = 0 if fringes[0][0][0] <= fringes[1][0][0] else 1
        distance, node = heapq.heappop(fringes[side])
        popped += 1
        if popped % _CLOCK_EVERY == 0:
            budget.checkpoint()
        if node in settled[side]:
            continue
        settled[side][node] = distance
        for other, cost, _ in sides[side](node):
            step = (node, other) if side == 0 else (other, node)
            if other in settled[side] or step in banned_steps or step[::-1] in banned_steps:
                continue
            reach = distance + cost
            known = seen[side].get(other)
            if known is None or reach < known:
                seen[side][other] = reach
                previous[side][other] = node
                heapq.heappush(fringes[side], (reach, other))
                across = seen[1 - side].get(other)
                if across is not None and reach + across < best:
                    best, meeting = reach + across, other
    if meeting is None:
        return None
    path = [meeting]
    while path[-1] != source:
        path.append(previous[0][path[-1]])
    path.reverse()
    while path[-1] != target:
        path.append(previous[1][path[-1]])
    return best, path


# --- searches within a hop limit ---------------------------------------------------------

_N = TypeVar("_N", bound=Hashable)


# Seconds by which a listing stops before its request's deadline (see find_learning_paths).
_BEFORE_REQUEST = 0.002


class _OutOfTime(Exception):
    """A search met its deadline."""


def _past(deadline: float) -> bool:
    """Whether ``deadline`` (a ``time.perf_counter()`` reading) has passed.

    Raises
    ------
    DeadlineExceeded
        When the request's budget ran out or was cancelled (:func:`kgraph.budget.checkpoint`).
    """
    if time.perf_counter() > deadline:
        return True
    budget.checkpoint()
    return False


_Steps = Callable[[_N], Iterable[tuple[_N, float, int]]]


_Guide = tuple[dict[_N, int], dict[_N, float]]


def _to_target(
    source: _N, target: _N, steps_back: _Steps[_N], max_hops: int, deadline: float = math.inf
) -> _Guide[_N] | None:
    """The fewest hops, and the lowest cost, from each node to ``target``.

    ``None`` when ``source`` is more than ``max_hops`` hops away: the costs
    are then not worked out.

    Only nodes at most ``max_hops`` hops away are found, and the costs are
    of paths through them alone: the rest cannot be on a path within the
    limit. ``steps_back(node)`` gives ``(previous, cost, hops)`` for each step
    into ``node``, hops 0 or 1. Both figures are lower bounds for any path
    that a search of the same steps, fewer of them or within the limit can
    find: the guide of :func:`_cheapest_within`.

    Raises
    ------
    _OutOfTime
        When ``deadline`` passes, as :func:`_cheapest_within` does.
    DeadlineExceeded
        When the request's budget runs out first, or is cancelled.
    """
    hops = {target: 0}
    queue = deque([target])  # a 0-1 breadth-first search
    clock = itertools.count(1)
    while queue:
        node = queue.popleft()
        if next(clock) % _CLOCK_EVERY == 0 and _past(deadline):
            raise _OutOfTime
        here = hops[node]
        for other, _, step in steps_back(node):
            reach = here + step
            if reach <= max_hops and reach < hops.get(other, max_hops + 1):
                hops[other] = reach
                if step:
                    queue.append(other)
                else:
                    queue.appendleft(other)
    if source not in hops:
        return None
    costs: dict[_N, float] = {}
    order = itertools.count()
    fringe: list[tuple[float, int, _N]] = [(0.0, next(order), target)]
    while fringe:
        cost, _, node = heapq.heappop(fringe)
        if node in costs:
            continue
        costs[node] = cost
        if len(costs) % _CLOCK_EVERY == 0 and _past(deadline):
            raise _OutOfTime
        for other, step_cost, _ in steps_back(node):
            if other in hops and other not in costs:
                heapq.heappush(fringe, (cost + step_cost, next(order), other))
    return hops, costs


def _cheapest_within(
    source: _N,
    target: _N,
    steps: _Steps[_N],
    to_target: _Guide[_N],
    max_hops: int,
    *,
    start_hops: int = 0,
    banned: Collection[_N] = (),
    banned_steps: Collection[tuple[_N, _N]] = (),
    deadline: float = math.inf,
) -> tuple[float, list[_N]] | None:
    """The cheapest walk from ``source`` to ``target`` within ``max_hops`` hops, with its cost.

    An A* search over (node, hops so far) states: ``steps(node)`` gives
    ``(next, cost, hops)``; ``to_target`` (see :func:`_to_target`) gives the
    fewest hops, which prune states that cannot reach the target in time, and
    the lowest cost, which guides the search. A state is passed over once its
    node was settled with as few hops, more cheaply (states of a node settle
    in order of cost, then hops), so each node settles at most once per hop
    count, and in practice once or twice; of states as promising, the dearest
    (the nearest the target) goes first. Costs must not be negative; the walk
    found is then a simple path. Hops are counted from ``start_hops``;
    ``banned`` nodes and ``banned_steps`` are never taken.

    Raises
    ------
    _OutOfTime
        When ``deadline`` (a ``time.perf_counter()`` reading) passes; the
        clock is read every :data:`_CLOCK_EVERY` settled states.
    DeadlineExceeded
        When the request's budget runs out first, or is cancelled.
    """
    beyond = max_hops + 1
    hops_left, cost_left = to_target
    if start_hops + hops_left.get(source, beyond) > max_hops:
        return None
    order = itertools.count()  # nodes need not compare: ties go by push order
    fewest: dict[_N, int] = {}  # node → the fewest hops it was settled with
    spent: dict[tuple[_N, int], float] = {(source, start_hops): 0.0}
    previous: dict[tuple[_N, int], tuple[_N, int]] = {}
    fringe = [(cost_left[source], -0.0, start_hops, next(order), source)]
    settled = 0
    while fringe:
        _, minus_cost, hops, _, node = heapq.heappop(fringe)
        cost = -minus_cost
        if hops >= fewest.get(node, beyond):
            continue  # as cheap a state of the node with as few hops was settled
        fewest[node] = hops
        if node == target:
            path, state = [node], (node, hops)
            while state in previous:
                state = previous[state]
                path.append(state[0])
            path.reverse()
            return cost, path
        settled += 1
        if settled % _CLOCK_EVERY == 0 and _past(deadline):
            raise _OutOfTime
        for other, step_cost, step_hops in steps(node):
            reach_hops = hops + step_hops
            left = hops_left.get(other)
            if left is None or reach_hops + left > max_hops:
                continue
            if reach_hops >= fewest.get(other, beyond) or other in banned:
                continue
            if (node, other) in banned_steps:
                continue
            reach, state = cost + step_cost, (other, reach_hops)
            known = spent.get(state)
            if known is None or reach < known:
                spent[state] = reach
                previous[state] = (node, hops)
                guess = reach + cost_left[other]
                heapq.heappush(fringe, (guess, -reach, reach_hops, next(order), other))
    return None


def _link_steps(
    kg: KnowledgeGraph, source: int, options: PathOptions
) -> tuple[_Steps[int], _Steps[int]]:
    """The steps of :func:`_cheapest_within` along links, forwards and backwards."""
    ahead, behind = _link_costs(kg, source, options)

    def forward(node: int) -> Iterator[tuple[int, float, int]]:
        for other, cost in ahead(node):
            yield other, cost, 1

    def backward(node: int) -> Iterator[tuple[int, float, int]]:
        for other, cost in behind(node):
            yield other, cost, 1

    return forward, backward


def _link_path_within(
    kg: KnowledgeGraph, source: int, target: int, options: PathOptions
) -> list[int] | None:
    """The cheapest path of links of at most ``options.max_hops`` hops; ``None`` when none fits.

    Gives up at once when even the path of fewest hops is too long.
    """
    forward, backward = _link_steps(kg, source, options)
    to_target = _to_target(source, target, backward, options.max_hops)
    if to_target is None:
        return None
    found = _cheapest_within(source, target, forward, to_target, options.max_hops)
    return None if found is None else found[1]


def _bridged_path_within(
    kg: KnowledgeGraph, source: int, target: int, options: PathOptions
) -> list[int] | None:
    """The cheapest path of links and bridges of at most ``options.max_hops`` hops.

    Searched by :func:`_cheapest_within` (exact, but it first reads every
    article within the limit of the target: only when the cheapest path of
    all is too long).
    """
    forward, backward = _bridged_steps(kg, source, options)
    to_target = _to_target(source, target, backward, options.max_hops)
    if to_target is None:
        return None
    found = _cheapest_within(source, target, forward, to_target, options.max_hops)
    return None if found is None else found[1]


def _best_path(
    kg: KnowledgeGraph, view: nx.Graph[int], source: int, target: int, options: PathOptions
) -> tuple[list[int], bool] | None:
    """The best path of at most ``options.max_hops`` hops, and whether it takes bridges.

    A path of links when one fits; else, with ``options.bridges``, the
    cheapest of links and bridges. The unbounded searches run first, being
    the fastest and most often short enough; only when their path is too long
    does a search within the limit follow, and (for links) only when the path
    of fewest hops fits.
    """
    links = _link_path(kg, view, source, target, options)
    path: list[int] | None = links
    if links is not None and len(links) - 1 > options.max_hops:
        path = None
        fewest = links if options.weight is PathWeight.HOPS else None
        if fewest is None:
            fewest = nx.bidirectional_shortest_path(view, source, target)
        if len(fewest) - 1 <= options.max_hops:
            path = _link_path_within(kg, source, target, options)
    if path is not None:
        return path, False
    if not options.bridges:
        return None
    found = _bridged_path(kg, source, target, options)
    if found is not None and len(found[1]) - 1 <= options.max_hops:
        return found[1], True
    within = _bridged_path_within(kg, source, target, options)
    return None if within is None else (within, True)


def _link_cost(kg: KnowledgeGraph, u: int, v: int, options: PathOptions) -> int:
    return 1 if options.weight is PathWeight.HOPS else _rank(kg, u, v, options.directed)


def _more_link_paths(
    kg: KnowledgeGraph,
    first: list[int],
    k: int,
    options: PathOptions,
    deadline: float,
) -> tuple[list[list[int]], bool]:
    """``first`` (the best path) and up to ``k - 1`` more within the hop limit, cheapest first.

    Yen's algorithm: each path found is the root of candidates that leave it
    at one of its articles, the cheapest way within the hop limit that none
    of the paths found with the same root takes; the cheapest candidate is
    the next path. As Lawler noted, a path need only be left from where it
    left the path it came from: earlier, its candidates are known already.
    The clock is read before each such search and inside it, so the listing
    ends soon after ``deadline`` with the paths found so far; the flag says
    whether it ended on its own (``k`` paths, or no more to find) rather than
    by the clock.
    """
    target, max_hops = first[-1], options.max_hops
    forward, backward = _link_steps(kg, first[0], options)
    found = [first]
    if k == 1:
        return found, True
    try:
        to_target = _to_target(first[0], target, backward, max_hops, deadline)
    except _OutOfTime:
        to_target = None
    if to_target is None:  # out of time (the first path is within the limit)
        return found, False
    known = {tuple(first)}
    # (cost, hops, path, the index of the article where it leaves its parent)
    candidates: list[tuple[float, int, tuple[int, ...], int]] = []
    leaves = 0
    while len(found) < k:
        last = found[-1]
        root_cost = 0.0
        for i, spur in enumerate(last[:-1]):
            if i < leaves:
                root_cost += _link_cost(kg, spur, last[i + 1], options)
                continue
            if _past(deadline):
                return found, False
            root = last[: i + 1]
            taken = {(path[i], path[i + 1]) for path in found if path[: i + 1] == root}
            try:
                spur_path = _cheapest_within(
                    spur,
                    target,
                    forward,
                    to_target,
                    max_hops,
                    start_hops=i,
                    banned=frozenset(root[:-1]),
                    banned_steps=taken,
                    deadline=deadline,
                )
            except _OutOfTime:
                return found, False
            if spur_path is not None:
                cost, rest = spur_path
                whole = (*root[:-1], *rest)
                if whole not in known:
                    known.add(whole)
                    heapq.heappush(candidates, (root_cost + cost, len(whole), whole, i))
            root_cost += _link_cost(kg, spur, last[i + 1], options)
        if not candidates:
            break
        _, _, best, leaves = heapq.heappop(candidates)
        found.append(list(best))
    return found, True


def _more_bridged_paths(
    kg: KnowledgeGraph,
    first: list[int],
    k: int,
    options: PathOptions,
    deadline: float,
) -> tuple[list[list[int]], bool]:
    """``first`` (the best bridged path) and up to ``k - 1`` more, cheapest first.

    Each path found leads to candidates: for each of its bridges, the
    cheapest path that takes neither it nor the bridges its own parent left
    out; the cheapest candidate not found yet is the next path (as Yen's
    algorithm does with every step, here only with bridges: the links of an
    island are the ways through it, the bridges the choices). The flag says
    whether the listing ended on its own rather than by the clock.
    """
    source, target = first[0], first[-1]
    graph = kg.graph

    def linked(u: int, v: int) -> bool:
        return graph.has_edge(u, v) or (not options.directed and graph.has_edge(v, u))

    found = [first]
    known = {tuple(first)}
    left_out: dict[tuple[int, ...], frozenset[_Step]] = {tuple(first): frozenset()}
    candidates: list[tuple[float, int, tuple[int, ...]]] = []
    while len(found) < k:
        last = tuple(found[-1])
        for step in itertools.pairwise(last):
            if linked(*step):
                continue
            if _past(deadline):
                return found, False
            banned = left_out[last] | {step}
            result = _bridged_path(kg, source, target, options, banned_steps=banned)
            if result is None:
                continue
            cost, path = result
            if len(path) - 1 > options.max_hops or tuple(path) in known:
                continue
            known.add(tuple(path))
            left_out[tuple(path)] = banned
            heapq.heappush(candidates, (cost, len(path), tuple(path)))
        if not candidates:
            break
        _, _, best = heapq.heappop(candidates)
        found.append(list(best))
    return found, True


def _learning_path(kg: KnowledgeGraph, path: Sequence[int], options: PathOptions) -> LearningPath:
    """A path of article ids as steps, each saying how it is reached and how related it is."""
    articles, graph = kg.articles, kg.graph
    found = bridges_of(kg)
    dearest = _dearest_link(kg, options)
    steps = [Step(path[0], StepVia.START, None, (), False)]
    cost = 0.0
    bridges = 0
    for before, node in itertools.pairwise(path):
        forwards = graph.has_edge(before, node)
        if forwards or (not options.directed and graph.has_edge(node, before)):
            via = StepVia.LINK if forwards else StepVia.BACKLINK
            link_rank = _rank(kg, before, node, options.directed)
            cost += link_rank if options.weight is PathWeight.RANK else 1
            rank: int | None = link_rank
        else:
            via, rank = StepVia.RELATED, None
        related = pair(kg, before, node)
        score = related.score
        if via is StepVia.RELATED:
            # The score it was taken by: its text's (links play no part in a bridge).
            score = found.score(before, node) or _NO_SCORE
            bridges += 1
            cost += _bridge_cost(score, dearest)
        steps.append(
            Step(
                article=node,
                via=via,
                rank=rank,
                shared_keywords=shared_keywords(kg, before, node),
                topic_change=set(articles[before].topics).isdisjoint(articles[node].topics),
                score=round(score, 4),
                shared_terms=related.shared_terms,
            )
        )
    scores = [step.score for step in steps[1:] if step.score is not None]
    return LearningPath(
        steps=tuple(steps),
        hops=len(steps) - 1,
        cost=round(cost, 2),
        bridges=bridges,
        strength=min(scores) if scores else None,
    )


# A bridge that is no longer one (never, while the graph is the one searched).
_NO_SCORE = 1e-3


def learning_path(
    kg: KnowledgeGraph, source: int, target: int, options: PathOptions = PathOptions()
) -> LearningPath | None:
    """The cheapest way from article ``source`` to article ``target``, or ``None``.

    Follows links (either way unless ``options.directed``), searching from both
    ends at once; the cheapest path has the fewest links (``PathWeight.HOPS``)
    or the lowest sum of ranks (``PathWeight.RANK``) among the paths of at
    most ``options.max_hops`` steps; when the cheapest of all is longer, a
    search within the limit (exact, over articles and hops so far) finds the
    cheapest that fits. It is ``None`` when no path fits, found at once when
    even the path of fewest steps is too long. A path from an article to
    itself has no step but its start.

    With ``options.bridges``, a pair that no link path of at most
    ``max_hops`` steps joins may still be joined by bridges, steps between
    related articles (:mod:`kgraph.graph.bridges`): of the paths that fit,
    the cheapest, a bridge of score ``s`` costing as much as ``1 / s`` links.
    A pair that links join within the limit never gets a bridge.

    Raises
    ------
    ArticleNotFound
        When ``source`` or ``target`` is not an article of the graph.
    QueryError
        When ``source`` or ``target`` is avoided, or ``max_hops`` is not
        between 1 and :data:`MAX_HOPS`.
    DeadlineExceeded
        When the request's budget runs out, or is cancelled, during the search.

    Examples
    --------
    >>> from kgraph.graph import load_graph
    >>> kg = load_graph("seeds")
    >>> path = learning_path(kg, 168904, 168912)
    >>> [step.article for step in path.steps], path.hops, path.cost
    ([168904, 168897, 168911, 168912], 3, 3.0)
    >>> [(step.via.value, step.rank) for step in path.steps]
    [('start', None), ('link', 2), ('link', 3), ('link', 1)]

    By rank, two links of ranks 2 and 1 beat one link of rank 5, unless one
    step is all that is allowed:

    >>> direct = learning_path(kg, 168904, 168903)
    >>> [step.article for step in direct.steps], direct.cost
    ([168904, 168903], 1.0)
    >>> by_rank = learning_path(kg, 168904, 168903, PathOptions(weight=PathWeight.RANK))
    >>> [step.article for step in by_rank.steps], by_rank.cost
    ([168904, 168897, 168903], 3.0)
    >>> one_step = PathOptions(weight=PathWeight.RANK, max_hops=1)
    >>> [step.article for step in learning_path(kg, 168904, 168903, one_step).steps]
    [168904, 168903]

    No link leads from glycolysis (a dead end) to Gibbs free energy, but a
    bridge to the production of ATP in respiration, whose links reach it:

    >>> learning_path(kg, 168912, 84002) is None
    True
    >>> bridged = learning_path(kg, 168912, 84002, PathOptions(bridges=True))
    >>> [(step.article, step.via.value) for step in bridged.steps]
    [(168912, 'start'), (168911, 'related'), (168913, 'link'), (84002, 'link')]
    >>> [step.score for step in bridged.steps]
    [None, 0.2781, 0.7665, 0.5349]
    >>> bridged.steps[1].shared_keywords
    ('glycolysis', 'cellular respiration', 'NADH', 'ATP')
    >>> bridged.bridges, bridged.cost, bridged.strength, bridged.steps[-1].topic_change
    (1, 5.6, 0.2781, True)
    """
    _check(kg, source, target, options)
    budget.checkpoint()
    if source == target:
        return _learning_path(kg, [source], options)
    view = _view(kg, source, options)
    if target not in view:
        return None
    best = _best_path(kg, view, source, target, options)
    return None if best is None else _learning_path(kg, best[0], options)


class Shortfall(StrEnum):
    """Why :func:`find_learning_paths` found fewer paths than asked for.

    ``NO_PATH``: none joins the two articles under the options;
    ``NO_MORE``: every distinct path within the limits was listed;
    ``TIME_BOUND``: the time bound ended the search (more may exist).
    """

    NO_PATH = "no_path"
    NO_MORE = "no_more"
    TIME_BOUND = "time_bound"


@dataclass(frozen=True, slots=True)
class LearningPaths:
    """The paths :func:`find_learning_paths` found, whether the list is complete, and why short.

    ``complete`` is false when the time bound (or the request's deadline)
    ended the search before ``k`` paths were found or it was shown that there
    are no more: a search given more time may list more. ``shortfall`` and
    ``explanation`` say, in a code and in words, why there are fewer than
    ``k`` paths (both ``None`` when there are ``k``).
    """

    paths: tuple[LearningPath, ...]
    complete: bool
    shortfall: Shortfall | None = None
    explanation: str | None = None


def _explained(
    found: tuple[LearningPath, ...],
    complete: bool,
    k: int,
    options: PathOptions,
    *,
    seconds: float,
) -> LearningPaths:
    """``found``, with why when it holds fewer than ``k`` paths, in words a user can act on."""
    if len(found) >= k:
        return LearningPaths(found, complete)
    if not found:
        untried = [
            hint
            for hint, given in (
                ("directed: false", not options.directed),
                ("bridges", options.bridges),
            )
            if not given
        ]
        hint = f"; try {' or '.join(untried)}" if untried else ""
        where = f"within {options.max_hops} hops"
        if options.same_topic or options.avoid:
            where += " keeping to the start's topics" if options.same_topic else ""
            where += " avoiding the given articles" if options.avoid else ""
        return LearningPaths(found, complete, Shortfall.NO_PATH, f"no path {where}{hint}")
    if not complete:
        return LearningPaths(
            found,
            complete,
            Shortfall.TIME_BOUND,
            f"the search stopped at its time bound ({seconds:.2g} s) after {len(found)} of"
            f" {k} paths; more may exist (fewer hops or fewer options search faster)",
        )
    paths = f"{len(found)} distinct {'path' if len(found) == 1 else 'paths'}"
    if any(path.bridges for path in found):
        text = (
            f"only {paths} with bridges: no other choice of bridges over the score floor"
            f" joins them within {options.max_hops} hops"
        )
    else:
        text = f"only {paths} of links within {options.max_hops} hops"
        if options.bridges:
            text += " (bridges are taken only where no path of links exists)"
        elif options.directed:
            text += "; directed: false or bridges may find more"
    return LearningPaths(found, complete, Shortfall.NO_MORE, text)


def find_learning_paths(
    kg: KnowledgeGraph,
    source: int,
    target: int,
    k: int = 3,
    options: PathOptions = PathOptions(),
    *,
    time_budget: float = 0.5,
) -> LearningPaths:
    """Up to ``k`` distinct paths of links from ``source`` to ``target``, cheapest first.

    Paths visit each article once, take at most ``options.max_hops`` steps
    and come in order of cost (Yen's algorithm, each search kept within the
    hop limit); the first is :func:`learning_path`'s. The listing ends after
    ``k`` paths, or soon after ``time_budget`` seconds (at most what the
    request has left, :func:`kgraph.budget.remaining`), then not ``complete``:
    the clock is read inside every search after the first path's, which is
    always given. With ``options.bridges``, a pair that no link path within
    the limit joins gets bridged paths: the first as :func:`learning_path`
    finds it, then the cheapest without one of the bridges of a path found
    (each path so found is distinct, and leaves out the bridges its parent
    left out too), cheapest first.

    Raises
    ------
    ArticleNotFound
        When ``source`` or ``target`` is not an article of the graph.
    QueryError
        When ``k`` is not between 1 and :data:`MAX_PATHS`, or as
        :func:`learning_path` does.
    DeadlineExceeded
        When the request is cancelled, or its deadline passes while the first
        path is searched for.

    Examples
    --------
    >>> from kgraph.graph import load_graph
    >>> kg = load_graph("seeds")
    >>> found = find_learning_paths(kg, 168904, 168912, 2)
    >>> [([step.article for step in path.steps], path.cost) for path in found.paths]
    [([168904, 168897, 168911, 168912], 3.0), ([168904, 168906, 168897, 168911, 168912], 4.0)]
    >>> found.complete, find_learning_paths(kg, 168904, 168912, 10, time_budget=0.0).complete
    (True, False)
    """
    _check(kg, source, target, options)
    if not 1 <= k <= MAX_PATHS:
        raise QueryError(f"k must be between 1 and {MAX_PATHS}, not {k}")
    budget.checkpoint()
    # The listing's own deadline comes a little before the request's: set at
    # the request's own, a check landing between the two (the listing's clock
    # read, then the request's) raised DeadlineExceeded instead of returning
    # the paths found so far.
    seconds = min(time_budget, max(0.0, budget.remaining() - _BEFORE_REQUEST))
    if source == target:
        alone = (_learning_path(kg, [source], options),)
        if k == 1:
            return LearningPaths(alone, complete=True)
        return LearningPaths(
            alone, True, Shortfall.NO_MORE, "from an article to itself the only path is itself"
        )
    deadline = time.perf_counter() + seconds
    view = _view(kg, source, options)
    if target not in view:
        return _explained((), True, k, options, seconds=seconds)
    best = _best_path(kg, view, source, target, options)
    if best is None:
        return _explained((), True, k, options, seconds=seconds)
    first, bridged = best
    more = _more_bridged_paths if bridged else _more_link_paths
    found, complete = more(kg, first, k, options, deadline)
    listed = tuple(_learning_path(kg, path, options) for path in found)
    return _explained(listed, complete, k, options, seconds=seconds)


def learning_paths(
    kg: KnowledgeGraph,
    source: int,
    target: int,
    k: int = 3,
    options: PathOptions = PathOptions(),
    *,
    time_budget: float = 0.5,
) -> list[LearningPath]:
    """The paths of :func:`find_learning_paths`, without saying whether the time bound cut them.

    >>> from kgraph.graph import load_graph
    >>> [path.hops for path in learning_paths(load_graph("seeds"), 168904, 168912, 2)]
    [3, 4]
    """
    found = find_learning_paths(kg, source, target, k, options, time_budget=time_budget)
    return list(found.paths)

"""Learning paths: how to get from one article to another by links, and by shared keywords."""

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
from kgraph.graph.knowledge import KnowledgeGraph
from kgraph.graph.similarity import shared_keywords

__all__ = [
    "MAX_HOPS",
    "MAX_KEYWORD_HOLDERS",
    "MAX_PATHS",
    "LearningPath",
    "LearningPaths",
    "PathOptions",
    "PathWeight",
    "Step",
    "StepVia",
    "bridge_cost",
    "find_learning_paths",
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
    steps is no path, and the best of those that fit is taken; ``keyword_bridges``
    steps between articles sharing a keyword where no link path (that fits) exists.
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


def bridge_cost(kg: KnowledgeGraph) -> int:
    """What a keyword bridge costs: more than any path of links could.

    A path of links visits each article once, so it costs at most the highest
    rank of the graph (at least 1, a link's cost by ``HOPS``) times the number
    of articles; a bridge costs more, so fewer bridges always win, and links
    decide between paths of as many bridges.

    >>> from kgraph.graph import load_graph
    >>> bridge_cost(load_graph("seeds"))
    265
    """
    return (len(kg.articles) + 1) * max(_highest_rank(kg), 1)


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
        articles, topics = kg.articles, frozenset(kg.articles[source].topics)

        def keep(node: int) -> bool:
            return node not in avoid and not topics.isdisjoint(articles[node].topics)

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


# A node of the bridged search: an article id, or a case-folded keyword joining
# every article that holds it. Article → keyword costs a bridge, keyword →
# article costs nothing, so a keyword's articles are read once per direction.
_Node = int | str


def _bridged_path(
    kg: KnowledgeGraph, source: int, target: int, options: PathOptions
) -> list[_Node] | None:
    """The path of fewest bridges, then lowest cost, found from both ends at once.

    A bidirectional Dijkstra over articles and keywords, a bridge costing
    :func:`bridge_cost`: totals compare as (bridges, link cost) would. Each
    article and each keyword is settled at most once per direction and keywords
    on more than :data:`MAX_KEYWORD_HOLDERS` articles are skipped, so the work
    is at most twice the links plus the keyword index.
    """
    big = bridge_cost(kg)
    articles, by_keyword = kg.articles, kg.by_keyword
    links = _link_costs(kg, source, options)
    keep = _keep(kg, source, options)

    def steps(node: _Node, side: int) -> Iterator[tuple[_Node, int]]:
        if isinstance(node, str):
            cost = 0 if side == 0 else big
            for holder in by_keyword[node]:
                if keep is None or keep(holder):
                    yield holder, cost
            return
        yield from links[side](node)
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
    popped = 0
    while fringes[0] and fringes[1]:
        # Grow the smaller fringe: a keyword can push hundreds of articles.
        side = 0 if len(fringes[0]) <= len(fringes[1]) else 1
        distance, _, node = heapq.heappop(fringes[side])
        popped += 1
        if popped % _CLOCK_EVERY == 0:
            budget.checkpoint()
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


# --- searches within a hop limit ---------------------------------------------------------

_N = TypeVar("_N", bound=Hashable)


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
) -> list[_Node] | None:
    """The path of fewest bridges, then lowest cost, of at most ``options.max_hops`` hops.

    The graph of :func:`_bridged_path`, but a bridge's hop and cost both go
    on the step into the keyword, searched by :func:`_cheapest_within`.
    """
    big = bridge_cost(kg)
    ahead, behind = _link_costs(kg, source, options)
    keep = _keep(kg, source, options)
    articles, by_keyword = kg.articles, kg.by_keyword

    def keywords(article: int) -> Iterator[str]:
        for keyword in articles[article].keywords:
            folded = keyword.casefold()
            if len(by_keyword.get(folded, ())) <= MAX_KEYWORD_HOLDERS:
                yield folded

    def holders(keyword: str) -> Iterator[int]:
        return (holder for holder in by_keyword[keyword] if keep is None or keep(holder))

    def forward(node: _Node) -> Iterator[tuple[_Node, float, int]]:
        if isinstance(node, str):
            for holder in holders(node):
                yield holder, 0, 0
            return
        for other, cost in ahead(node):
            yield other, cost, 1
        for keyword in keywords(node):
            yield keyword, big, 1

    def backward(node: _Node) -> Iterator[tuple[_Node, float, int]]:
        if isinstance(node, str):
            for holder in holders(node):
                yield holder, big, 1
            return
        for other, cost in behind(node):
            yield other, cost, 1
        for keyword in keywords(node):
            yield keyword, 0, 0

    start: _Node = source  # the search's nodes are articles and keywords
    goal: _Node = target
    to_target = _to_target(start, goal, backward, options.max_hops)
    if to_target is None:
        return None
    found = _cheapest_within(start, goal, forward, to_target, options.max_hops)
    return None if found is None else found[1]


def _hops(path: Sequence[_Node]) -> int:
    """The hops of a path of articles and keywords: a bridge is one hop."""
    return sum(isinstance(node, int) for node in path) - 1


def _best_path(
    kg: KnowledgeGraph, view: nx.Graph[int], source: int, target: int, options: PathOptions
) -> Sequence[_Node] | None:
    """The best path of at most ``options.max_hops`` hops, or ``None``.

    The fewest bridges first (none unless ``options.keyword_bridges``), then
    the lowest cost. The unbounded searches run first, being the fastest and
    most often short enough; only when their path is too long does a search
    within the limit follow, and only when the path of fewest hops fits.
    """
    links = _link_path(kg, view, source, target, options)
    path: Sequence[_Node] | None = links
    if links is not None and len(links) - 1 > options.max_hops:
        path = None
        fewest = links if options.weight is PathWeight.HOPS else None
        if fewest is None:
            fewest = nx.bidirectional_shortest_path(view, source, target)
        if len(fewest) - 1 <= options.max_hops:
            path = _link_path_within(kg, source, target, options)
    if path is not None or not options.keyword_bridges:
        return path
    if links is None:
        path = _bridged_path(kg, source, target, options)
        if path is None or _hops(path) <= options.max_hops:
            return path
    return _bridged_path_within(kg, source, target, options)


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
    or the lowest sum of ranks (``PathWeight.RANK``) among the paths of at
    most ``options.max_hops`` steps; when the cheapest of all is longer, a
    search within the limit (exact, over articles and hops so far) finds the
    cheapest that fits. It is ``None`` when no path fits, found at once when
    even the path of fewest steps is too long. A path from an article to
    itself has no step but its start.

    With ``options.keyword_bridges``, a pair that no link path of at most
    ``max_hops`` steps joins may still be joined by stepping between articles
    that share a keyword: of the paths that fit, the one of fewest such
    bridges, then of lowest cost. A pair that links join within the limit
    never gets a bridge.

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
    budget.checkpoint()
    if source == target:
        return _learning_path(kg, [source], options)
    view = _view(kg, source, options)
    if target not in view:
        return None
    path = _best_path(kg, view, source, target, options)
    return None if path is None else _learning_path(kg, path, options)


@dataclass(frozen=True, slots=True)
class LearningPaths:
    """The paths :func:`find_learning_paths` found, and whether the list is complete.

    ``complete`` is false when the time bound (or the request's deadline)
    ended the search before ``k`` paths were found or it was shown that there
    are no more: a search given more time may list more.
    """

    paths: tuple[LearningPath, ...]
    complete: bool


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
    always given. With ``options.keyword_bridges``, a pair that no link path
    within the limit joins gets its one bridged path, as :func:`learning_path`
    finds it.

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
    if source == target:
        return LearningPaths((_learning_path(kg, [source], options),), complete=True)
    deadline = time.perf_counter() + min(time_budget, budget.remaining())
    view = _view(kg, source, options)
    if target not in view:
        return LearningPaths((), complete=True)
    best = _best_path(kg, view, source, target, options)
    if best is None:
        return LearningPaths((), complete=True)
    first = [node for node in best if isinstance(node, int)]
    if len(first) < len(best):  # a bridged path: the one there is
        return LearningPaths((_learning_path(kg, best, options),), complete=True)
    found, complete = _more_link_paths(kg, first, k, options, deadline)
    return LearningPaths(tuple(_learning_path(kg, path, options) for path in found), complete)


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

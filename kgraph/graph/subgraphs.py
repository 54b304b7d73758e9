"""Drawable subgraphs: neighbourhoods, topics and the topic map, optionally laid out."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import networkx as nx

from kgraph.budget import checkpoint
from kgraph.corpus import topic_key
from kgraph.errors import ArticleNotFound, QueryError
from kgraph.graph.bridges import bridges as bridges_of
from kgraph.graph.knowledge import KnowledgeGraph
from kgraph.graph.paths import StepVia
from kgraph.graph.prerequisites import concept, level_scores
from kgraph.graph.queries import Direction
from kgraph.graph.table import first_topics
from kgraph.model import FindingKind, Topic

__all__ = [
    "KAMADA_KAWAI_MAX_NODES",
    "MAX_DEPTH",
    "MAX_LIMIT",
    "MAX_READING",
    "SPRING_MAX_NODES",
    "Edge",
    "Layout",
    "Node",
    "ReadingStep",
    "Subgraph",
    "in_pixels",
    "layout_positions",
    "reading_order",
    "reading_plan",
    "subgraph",
    "topic_graph",
    "topic_map",
    "whole_reading_plan",
]

#: Bounds of the arguments; outside them a query raises ``QueryError``.
MAX_DEPTH = 3
MAX_LIMIT = 2_000
MAX_READING = 100
#: The most nodes Kamada-Kawai lays out; above, a query is refused. Its solver
#: (scipy inside networkx) cannot be stopped midway and converges in its own
#: time, quadratic per step: measured here on 2,000-odd subgraphs of the dev
#: corpus each, 50 nodes take 12 ms (median; 32 ms at the 99th percentile),
#: 60 nodes 19 ms (147 ms), 100 nodes up to 0.6 s around a hub.
KAMADA_KAWAI_MAX_NODES = 50
#: Up to this many nodes ``SPRING`` is networkx's spring layout (50 steps that
#: cannot be stopped midway: 57 ms at 200 nodes, 235 ms at 400, 1.4 s at 500);
#: above, our own (:func:`_big_spring`), which stops at the request's deadline.
SPRING_MAX_NODES = 200
# How many nodes or edges a loop handles between two looks at the request's budget.
_CLOCK_EVERY = 256
#: The seed of every random layout, so the same request gives the same picture.
LAYOUT_SEED = 7


class Layout(StrEnum):
    """How to place the nodes: not at all, or with one of networkx's layouts."""

    NONE = "none"
    SPRING = "spring"
    KAMADA_KAWAI = "kamada_kawai"
    CIRCULAR = "circular"


@dataclass(frozen=True, slots=True)
class Node:
    """One node to draw: an article, a wanted (missing) article, or a topic.

    ``in_degree`` and ``out_degree`` count links of the whole graph, not only
    those drawn (a wanted article's ``in_degree`` is its number of referrers;
    in the topic map, links from and to other topics). ``weight`` is how many
    articles the node stands for: 1, or a topic's article count in the topic
    map. ``x`` and ``y`` lie in [0, 1] when laid out, else ``None``.
    ``keywords`` are an article's, in its order (none for the others);
    ``internal_links`` counts the links among a topic's articles in the topic
    map (the weight of its self-loop), ``None`` for articles.
    """

    id: int
    label: str
    topic: str | None
    in_degree: int
    out_degree: int
    wanted: bool
    x: float | None = None
    y: float | None = None
    weight: int = 1
    keywords: tuple[str, ...] = ()
    internal_links: int | None = None


@dataclass(frozen=True, slots=True)
class Edge:
    """One link to draw, ``source`` → ``target``, with a stable ``id``.

    ``rank`` is the link's rank (1 is strongest); ``weight`` how many links it
    stands for: 1, or the link count between two topics in the topic map
    (whose ``rank`` is then the strongest of them).
    """

    id: str
    source: int
    target: int
    rank: int
    weight: int = 1


@dataclass(frozen=True, slots=True)
class Subgraph:
    """Nodes and the edges among them; ``omitted_nodes`` were cut by the limit."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    truncated: bool
    omitted_nodes: int


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise QueryError(f"{name} must be between {low} and {high}, got {value}")


def _broken_links(kg: KnowledgeGraph, article_id: int) -> dict[int, int]:
    """Wanted id → the lowest rank of ``article_id``'s broken links to it."""
    found: dict[int, int] = {}
    for finding in kg.findings_by_article.get(article_id, ()):
        wanted = finding.stated_id
        if finding.kind is FindingKind.BROKEN_LINK and wanted is not None and wanted in kg.wanted:
            found[wanted] = min(found.get(wanted, finding.rank), finding.rank)
    return found


def _steps(kg: KnowledgeGraph, node: int, direction: Direction) -> Iterator[tuple[int, int]]:
    """``(neighbour, rank)`` of each link of article ``node`` in ``direction``.

    Wanted articles are reached by outgoing broken links and lead nowhere.
    """
    graph = kg.graph
    if direction is not Direction.IN:
        for target, data in graph.succ[node].items():
            yield target, data["rank"]
        yield from _broken_links(kg, node).items()
    if direction is not Direction.OUT:
        for source, data in graph.pred[node].items():
            yield source, data["rank"]


def _article_node(kg: KnowledgeGraph, article_id: int) -> Node:
    article = kg.articles[article_id]
    return Node(
        id=article_id,
        label=article.title,
        topic=article.topics[0] if article.topics else None,
        in_degree=kg.graph.in_degree(article_id),
        out_degree=kg.graph.out_degree(article_id),
        wanted=False,
        keywords=article.keywords,
    )


def _wanted_node(kg: KnowledgeGraph, wanted_id: int) -> Node:
    wanted = kg.wanted[wanted_id]
    key = topic_key(wanted.subject) if wanted.subject else None
    return Node(
        id=wanted_id,
        label=wanted.title or str(wanted_id),
        topic=key if key in kg.topics else None,
        in_degree=len(wanted.referrers),
        out_degree=0,
        wanted=True,
    )


def _edges_among(kg: KnowledgeGraph, ids: Iterable[int]) -> tuple[Edge, ...]:
    """Every link and broken link between two of ``ids``, by source then target."""
    chosen = set(ids)
    edges: list[Edge] = []
    for done, source in enumerate(sorted(chosen)):
        if done % _CLOCK_EVERY == 0:
            checkpoint()
        if source not in kg.articles:
            continue
        targets = {t: d["rank"] for t, d in kg.graph.succ[source].items() if t in chosen}
        targets.update((t, r) for t, r in _broken_links(kg, source).items() if t in chosen)
        edges.extend(
            Edge(f"{source}->{target}", source, target, rank)
            for target, rank in sorted(targets.items())
        )
    return tuple(edges)


def _finish(
    kg: KnowledgeGraph,
    nodes: list[Node],
    edges: tuple[Edge, ...],
    omitted: int,
    layout: Layout,
) -> Subgraph:
    positions = layout_positions(nodes, edges, layout)
    if positions:
        nodes = [replace(n, x=positions[n.id][0], y=positions[n.id][1]) for n in nodes]
    return Subgraph(tuple(nodes), edges, truncated=omitted > 0, omitted_nodes=omitted)


def subgraph(
    kg: KnowledgeGraph,
    center: Sequence[int],
    depth: int = 1,
    direction: Direction = Direction.BOTH,
    limit: int = 200,
    layout: Layout = Layout.NONE,
) -> Subgraph:
    """The articles within ``depth`` links of the ``center`` articles, nearest first.

    Wanted (missing) articles count as nodes one outgoing (broken) link away
    from the articles naming them, with ``wanted=True``; the walk does not go
    on through them. Nodes are ordered centers first (as given), then by
    distance, the lowest rank of a link reaching them from the previous
    distance, and id; the first ``limit`` are kept and ``omitted_nodes`` says
    how many more were within reach. Edges are every link among the kept
    nodes, whatever ``direction``.

    Raises
    ------
    ArticleNotFound
        When a center is not an article of the graph.
    QueryError
        When ``depth`` is not in 1..3, ``limit`` not in 1..2,000, or there are
        no centers or more centers than ``limit``.

    Examples
    --------
    >>> from kgraph.graph import load_graph
    >>> kg = load_graph("seeds")
    >>> sg = subgraph(kg, [168911], direction=Direction.OUT)
    >>> [(n.id, n.wanted) for n in sg.nodes]
    [(168911, False), (168912, False), (168913, False), (168999, True), (168916, False)]
    >>> sg.edges[0]
    Edge(id='168911->168912', source=168911, target=168912, rank=1, weight=1)
    """
    _check_range("depth", depth, 1, MAX_DEPTH)
    _check_range("limit", limit, 1, MAX_LIMIT)
    centers = list(dict.fromkeys(center))
    if not centers:
        raise QueryError("subgraph needs at least one center article")
    if len(centers) > limit:
        raise QueryError(f"{len(centers)} centers do not fit in a limit of {limit} nodes")
    for article_id in centers:
        if article_id not in kg.articles:
            raise ArticleNotFound(article_id)
    order = list(centers)
    seen = set(centers)
    frontier = list(centers)
    for _ in range(depth):
        best: dict[int, int] = {}
        for done, node in enumerate(frontier):
            if done % _CLOCK_EVERY == 0:
                checkpoint()
            if node not in kg.articles:
                continue  # a wanted article: nothing leads on from it
            for other, rank in _steps(kg, node, direction):
                if other not in seen and rank < best.get(other, rank + 1):
                    best[other] = rank
        if not best:
            break
        frontier = sorted(best, key=lambda other: (best[other], other))
        order.extend(frontier)
        seen.update(frontier)
    kept = order[:limit]
    checkpoint()
    nodes = [_article_node(kg, i) if i in kg.articles else _wanted_node(kg, i) for i in kept]
    return _finish(kg, nodes, _edges_among(kg, kept), len(order) - len(kept), layout)


def _topic(kg: KnowledgeGraph, key: str) -> Topic:
    topic = kg.topics.get(key) or kg.topics.get(topic_key(key))
    if topic is None:
        raise QueryError(f"topic {key!r} is not in the graph")
    return topic


def _most_linked(kg: KnowledgeGraph, ids: Iterable[int]) -> list[int]:
    """``ids`` by in-degree in the whole graph, highest first, then by id."""
    in_degree = kg.graph.in_degree
    return sorted(ids, key=lambda i: (-in_degree(i), i))


def topic_graph(
    kg: KnowledgeGraph, key: str, limit: int = 500, layout: Layout = Layout.NONE
) -> Subgraph:
    """A topic's articles, most linked first, and the links among them.

    ``key`` is a topic key or any spelling of its subject. Articles are
    ordered by in-degree (in the whole graph) descending, then id, and cut at
    ``limit``; wanted articles are not drawn.

    Raises
    ------
    QueryError
        When the topic is unknown or ``limit`` is not in 1..2,000.

    >>> from kgraph.graph import load_graph
    >>> sg = topic_graph(load_graph("seeds"), "Physics", limit=3)
    >>> len(sg.nodes), sg.omitted_nodes
    (3, 5)
    """
    _check_range("limit", limit, 1, MAX_LIMIT)
    ordered = _most_linked(kg, _topic(kg, key).article_ids)
    kept = ordered[:limit]
    checkpoint()
    nodes = [_article_node(kg, i) for i in kept]
    return _finish(kg, nodes, _edges_among(kg, kept), len(ordered) - len(kept), layout)


def topic_map(kg: KnowledgeGraph, layout: Layout = Layout.NONE) -> Subgraph:
    """One node per topic and one edge per ordered pair of topics joined by links.

    Topics are numbered 0, 1, … in key order (the node ``id``); ``topic`` is
    the key, ``label`` the name and ``weight`` the article count. An edge's
    ``weight`` is the number of links from the first topic's articles to the
    second's, its ``rank`` the strongest of them; the links inside a topic
    are a self-loop. An article of several topics counts in each for
    ``weight`` but its links only in its first topic (its ``Node.topic``
    elsewhere), so the edge weights add up to the number of links. A node's
    ``internal_links`` counts the links among the topic's articles, every copy's
    topic counting as :func:`topic_graph` and a topic's curation count them (so
    it can exceed the self-loop's weight: philosophy's articles filed first
    under another topic link among themselves too).

    >>> from kgraph.graph import load_graph
    >>> sg = topic_map(load_graph("seeds"))
    >>> [(n.id, n.topic, n.weight, n.internal_links) for n in sg.nodes][:2]
    [(0, 'biology', 16, 34), (1, 'chemistry', 8, 11)]
    """
    return kg.derived(("topic_map", layout), lambda: _topic_map(kg, layout))


def _topic_map(kg: KnowledgeGraph, layout: Layout) -> Subgraph:
    keys = sorted(kg.topics)
    index = {key: i for i, key in enumerate(keys)}
    counts: dict[tuple[int, int], list[int]] = {}  # (source, target) → [links, best rank]
    first = first_topics(kg.articles)
    rank: int
    for done, (source, target, rank) in enumerate(kg.graph.edges(data="rank")):
        if done % _CLOCK_EVERY == 0:
            checkpoint()
        pair = (index[first[source]], index[first[target]])
        known = counts.setdefault(pair, [0, rank])
        known[0] += 1
        known[1] = min(known[1], rank)
    internal = dict.fromkeys(range(len(keys)), 0)
    for key in keys:
        members = set(kg.by_topic.get(key, ()))
        internal[index[key]] = sum(
            1 for member in members for target in kg.graph.successors(member) if target in members
        )
    inbound = dict.fromkeys(range(len(keys)), 0)
    outbound = dict.fromkeys(range(len(keys)), 0)
    for (a, b), (links, _) in counts.items():
        if a != b:
            outbound[a] += links
            inbound[b] += links
    nodes = [
        Node(
            i,
            kg.topics[key].name,
            key,
            inbound[i],
            outbound[i],
            wanted=False,
            weight=len(kg.topics[key].article_ids),
            internal_links=internal[i],
        )
        for i, key in enumerate(keys)
    ]
    edges = tuple(
        Edge(f"{a}->{b}", a, b, rank, weight=links)
        for (a, b), (links, rank) in sorted(counts.items())
    )
    return _finish(kg, nodes, edges, 0, layout)


@dataclass(frozen=True, slots=True)
class ReadingStep:
    """One article of a reading order, why it comes next, and the copies read with it.

    ``via``: ``START`` for the first article (and for a fresh start when
    nothing read leads on), else how ``after`` (an article read before)
    joins it: ``LINK`` (``after`` links to it), ``BACKLINK`` (it links to
    ``after``) or ``RELATED`` (a bridge of ``score``). ``near_duplicates``:
    articles of the topic that tell the same question again, read with this
    one and not listed on their own, the closest first.
    """

    id: int
    via: StepVia
    after: int | None
    score: float | None
    near_duplicates: tuple[int, ...]


def reading_order(
    kg: KnowledgeGraph, topic: str, start: int | None = None, first: int = 50
) -> list[int]:
    """The articles of :func:`reading_plan`, in its order.

    >>> from kgraph.graph import load_graph
    >>> kg = load_graph("seeds")
    >>> for article_id in reading_order(kg, "mathematics", first=3):
    ...     print(kg.articles[article_id].title)
    What is a derivative?
    What is a definite integral?
    What is the Fundamental Theorem of Calculus?
    """
    return [step.id for step in reading_plan(kg, topic, start, first)]


def reading_plan(
    kg: KnowledgeGraph, topic: str, start: int | None = None, first: int = 50
) -> list[ReadingStep]:
    """An order to read a topic in: foundations first, each next article related to one read.

    Starts at ``start`` (by default the topic's most foundational article:
    :func:`kgraph.graph.prerequisites.level_scores`, then in-degree, then id).
    Each next article is one joined to an article already read, by a link
    (either way) or a bridge (:mod:`kgraph.graph.bridges`), inside the topic:
    of those, the most foundational, a strong relation (a link counts 1, a
    bridge its score) adding half of it. When none is left, the most
    foundational article not read yet follows (a fresh ``START``). An article
    that is a near-duplicate of one read (a bridge of score 0.55 or more, or
    0.35 and the same concept: the same question told again) is read with it:
    listed in its ``near_duplicates``, not on its own. At most ``first`` steps.

    Raises
    ------
    ArticleNotFound
        When ``start`` is not an article of the graph.
    QueryError
        When the topic is unknown, ``start`` is not in it, or ``first`` is not
        in 1..100.

    >>> from kgraph.graph import load_graph
    >>> kg = load_graph("seeds")
    >>> [(s.id, s.via.value, s.after) for s in reading_plan(kg, "mathematics", first=2)]
    [(61001, 'start', None), (61004, 'backlink', 61001)]
    """
    _check_range("first", first, 1, MAX_READING)
    return _reading_plan(kg, topic, start, first)


def whole_reading_plan(
    kg: KnowledgeGraph, topic: str, start: int | None = None
) -> tuple[ReadingStep, ...]:
    """Every step of :func:`reading_plan`: each article of the topic read once, on its
    own or as a near-duplicate of a step. From the default start, kept with the graph.

    Raises
    ------
    ArticleNotFound, QueryError
        As :func:`reading_plan`.

    >>> from kgraph.graph import load_graph
    >>> kg = load_graph("seeds")
    >>> plan = whole_reading_plan(kg, "mathematics")
    >>> len(plan), plan[:2] == tuple(reading_plan(kg, "mathematics", first=2))
    (10, True)
    """
    if start is not None:
        return tuple(_reading_plan(kg, topic, start, None))
    key = _topic(kg, topic).key
    return kg.derived(("reading_plan", key), lambda: tuple(_reading_plan(kg, key, None, None)))


def _reading_plan(
    kg: KnowledgeGraph, topic: str, start: int | None, first: int | None
) -> list[ReadingStep]:
    """:func:`reading_plan` of at most ``first`` steps (``None``: all of them)."""
    found = _topic(kg, topic)
    members = set(found.article_ids)
    if first is None:
        first = len(members)
    if start is not None and start not in kg.articles:
        raise ArticleNotFound(start)
    if start is not None and start not in members:
        raise QueryError(f"article {start} is not in topic {found.key!r}")
    foundational = level_scores(kg, found.key)
    graph = kg.graph

    def rank(article_id: int) -> tuple[float, int, int]:
        return (-foundational[article_id], -graph.in_degree(article_id), article_id)

    if start is None:
        start = min(members, key=rank)
    bridges = bridges_of(kg)
    plan: list[ReadingStep] = []
    read: set[int] = set()
    # Each unread article joined to one read: its strongest relation (strength, via, after, score).
    frontier: dict[int, tuple[float, StepVia, int, float | None]] = {}
    # The frontier by what is read next (the most foundational, a strong relation adding
    # half of it; then in-degree, then id); an article offered a stronger relation is
    # pushed again and its older entries skipped: each step costs a log, not the frontier.
    ahead: list[tuple[float, int, int, float]] = []
    # Fresh starts, the most foundational first (those read meanwhile skipped).
    unread = iter(sorted(members, key=rank))

    def offer(other: int, strength: float, via: StepVia, after: int, score: float | None) -> None:
        if other not in frontier or strength > frontier[other][0]:
            frontier[other] = (strength, via, after, score)
            key = -(foundational[other] + strength / 2)
            heapq.heappush(ahead, (key, -graph.in_degree(other), other, strength))

    def take(article_id: int, via: StepVia, after: int | None, score: float | None) -> None:
        read.add(article_id)
        frontier.pop(article_id, None)
        copies = []
        related = bridges.of(article_id)  # the closest first
        mine = concept(kg, article_id)
        for other, strength in related:
            if other not in members or other in read:
                continue
            same = strength >= _SAME_CONCEPT and concept(kg, other) == mine
            if strength >= _NEAR_DUPLICATE or same:  # the same question again: read with this one
                read.add(other)
                frontier.pop(other, None)
                copies.append(other)
        plan.append(ReadingStep(article_id, via, after, score, tuple(copies)))
        for other in graph.successors(article_id):
            if other in members and other not in read:
                offer(other, 1.0, StepVia.LINK, article_id, None)
        for other in graph.predecessors(article_id):
            if other in members and other not in read:
                offer(other, 1.0, StepVia.BACKLINK, article_id, None)
        for other, strength in related:
            if other in members and other not in read:
                offer(other, strength, StepVia.RELATED, article_id, strength)

    def next_joined() -> int | None:
        while ahead:
            _, _, article_id, strength = heapq.heappop(ahead)
            if article_id in frontier and frontier[article_id][0] == strength:
                return article_id
        return None

    take(start, StepVia.START, None, None)
    while len(plan) < first and len(read) < len(members):
        if len(plan) % 64 == 0:
            checkpoint()
        best = next_joined()
        if best is not None:
            _, via, after, score = frontier[best]
            take(best, via, after, score)
        else:
            fresh = next(i for i in unread if i not in read)
            take(fresh, StepVia.START, None, None)
    return plan


# A bridge this strong joins two tellings of one question; so does a weaker one
# between two articles of the same concept.
_NEAR_DUPLICATE = 0.55
_SAME_CONCEPT = 0.35


def _normalised(positions: Mapping[int, Any]) -> dict[int, tuple[float, float]]:
    """Positions scaled per axis into [0, 1]; an axis with no spread sits at 0.5."""
    if not positions:
        return {}
    spans = []
    for axis in (0, 1):
        values = [float(p[axis]) for p in positions.values()]
        low, high = min(values), max(values)
        spans.append((low, high - low))

    def scale(value: float, axis: int) -> float:
        low, width = spans[axis]
        return 0.5 if width <= 1e-12 else round((float(value) - low) / width, 6)

    return {node: (scale(p[0], 0), scale(p[1], 1)) for node, p in positions.items()}


#: Bounds of :func:`in_pixels`'s side, in pixels.
MIN_PIXELS = 1
MAX_PIXELS = 100_000


def in_pixels(sg: Subgraph, size: int) -> Subgraph:
    """``sg`` with its layout in pixels: ``x`` and ``y`` from [0, 1] to [0, ``size``].

    Cytoscape.js's preset layout and sigma.js draw positions as they are, in
    pixels at zoom 1 (a node is about 30 pixels wide in Cytoscape.js): positions
    in [0, 1] put every node on one spot. Nodes without a position stay without.

    Raises
    ------
    QueryError
        When ``size`` is not between :data:`MIN_PIXELS` and :data:`MAX_PIXELS`.

    Examples
    --------
    >>> sg = Subgraph((Node(1, "A?", None, 0, 0, False, 0.25, 1.0),), (), False, 0)
    >>> node = in_pixels(sg, 800).nodes[0]
    >>> (node.x, node.y)
    (200.0, 800.0)
    """
    if not MIN_PIXELS <= size <= MAX_PIXELS:
        raise QueryError(f"`size` must be between {MIN_PIXELS} and {MAX_PIXELS} pixels, got {size}")
    nodes = tuple(
        node
        if node.x is None or node.y is None
        else replace(node, x=round(node.x * size, 2), y=round(node.y * size, 2))
        for node in sg.nodes
    )
    return replace(sg, nodes=nodes)


def layout_positions(
    nodes: Sequence[Node], edges: Sequence[Edge], layout: Layout
) -> dict[int, tuple[float, float]]:
    """Node id → ``(x, y)`` in [0, 1], the same for the same nodes and edges.

    ``SPRING`` is networkx's spring layout seeded with 7 up to
    :data:`SPRING_MAX_NODES` nodes; above, a faster force layout (see
    :func:`_big_spring`). Edge weights pull harder in the spring layouts;
    ``NONE`` gives ``{}``. The request's budget is checked before and after
    the layout (and at each step of :func:`_big_spring`).

    Raises
    ------
    QueryError
        For ``KAMADA_KAWAI`` above :data:`KAMADA_KAWAI_MAX_NODES` nodes: its
        solver cannot be stopped, and takes seconds on a hundred nodes.

    >>> nodes = [Node(i, str(i), None, 0, 0, False) for i in (1, 2, 3, 4)]
    >>> layout_positions(nodes, [], Layout.CIRCULAR)[1]
    (1.0, 0.5)
    """
    if layout is Layout.NONE or not nodes:
        return {}
    if layout is Layout.KAMADA_KAWAI and len(nodes) > KAMADA_KAWAI_MAX_NODES:
        raise QueryError(
            f"the KAMADA_KAWAI layout takes at most {KAMADA_KAWAI_MAX_NODES} nodes, and this"
            f" graph has {len(nodes)}: ask for a lower `limit`, or for the SPRING layout"
        )
    checkpoint()
    graph: nx.Graph[int] = nx.Graph()
    graph.add_nodes_from(node.id for node in nodes)
    for edge in edges:
        if edge.source != edge.target:
            known = graph.get_edge_data(edge.source, edge.target, {"weight": 0})["weight"]
            graph.add_edge(edge.source, edge.target, weight=known + edge.weight)
    positions: Mapping[int, Any]  # numpy arrays from networkx, pairs from ours
    if layout is Layout.CIRCULAR:
        positions = nx.circular_layout(graph)
    elif layout is Layout.KAMADA_KAWAI:
        positions = nx.kamada_kawai_layout(graph, weight=None)
    elif len(graph) <= SPRING_MAX_NODES:
        positions = nx.spring_layout(graph, seed=LAYOUT_SEED)
    else:
        positions = _big_spring(graph)
    checkpoint()
    return _normalised(positions)


def _big_spring(graph: nx.Graph[int], iterations: int = 40) -> dict[int, tuple[float, float]]:
    """A Fruchterman-Reingold layout in float32 numpy, for graphs too big for networkx's.

    Repulsion between every pair, attraction along edges, a temperature that
    cools linearly; random start seeded with :data:`LAYOUT_SEED`. Each step
    compares every pair of nodes (50 ms at 2,000 nodes): the request's budget
    is checked between steps.
    """
    import numpy as np

    ids = list(graph)
    n = len(ids)
    where = {node: i for i, node in enumerate(ids)}
    rng = np.random.default_rng(LAYOUT_SEED)
    pos = rng.random((n, 2), dtype=np.float32)
    pairs = np.array([(where[u], where[v]) for u, v in graph.edges], dtype=np.intp).reshape(-1, 2)
    weights = np.array([w for _, _, w in graph.edges(data="weight", default=1)], np.float32)
    k = np.float32(1 / np.sqrt(n))
    temperature = np.float32(0.1)
    cooling = temperature / (iterations + 1)
    for _ in range(iterations):
        checkpoint()
        dx = pos[:, 0, None] - pos[None, :, 0]
        dy = pos[:, 1, None] - pos[None, :, 1]
        d2 = dx * dx + dy * dy
        np.maximum(d2, np.float32(1e-4), out=d2)
        push = k * k / d2
        force = np.stack(((dx * push).sum(axis=1), (dy * push).sum(axis=1)), axis=1)
        if len(pairs):
            delta = pos[pairs[:, 0]] - pos[pairs[:, 1]]
            pull = (np.sqrt((delta * delta).sum(axis=1)) * weights / k)[:, None] * delta
            np.add.at(force, pairs[:, 0], -pull)
            np.add.at(force, pairs[:, 1], pull)
        length = np.sqrt((force * force).sum(axis=1))
        np.maximum(length, np.float32(1e-9), out=length)
        pos += force * (np.minimum(length, temperature) / length)[:, None]
        temperature -= cooling
    return {node: (float(pos[i, 0]), float(pos[i, 1])) for i, node in enumerate(ids)}

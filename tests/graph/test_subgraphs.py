"""Drawable subgraphs and their exports: node sets, cuts, wanted nodes, layouts, formats."""

from __future__ import annotations

import json
import re
from collections import deque
from pathlib import Path
from xml.etree import ElementTree

import networkx as nx
import pytest

from conftest import SEED_FILE
from kgraph.errors import ArticleNotFound, QueryError
from kgraph.graph import KnowledgeGraph, load_graph
from kgraph.graph.bridges import bridges as bridges_of
from kgraph.graph.export import (
    to_cytoscape,
    to_d3,
    to_dot,
    to_graphology,
    to_networkx,
    write_gexf,
    write_graphml,
)
from kgraph.graph.paths import StepVia
from kgraph.graph.prerequisites import level_scores
from kgraph.graph.queries import Direction
from kgraph.graph.subgraphs import (
    Edge,
    Layout,
    Node,
    Subgraph,
    reading_order,
    reading_plan,
    subgraph,
    topic_graph,
    topic_map,
)
from kgraph.model import FindingKind

SEED_ARTICLE = 168911
SEED_WANTED = 168999


def _broken(kg: KnowledgeGraph, article_id: int) -> set[int]:
    return {
        f.stated_id
        for f in kg.findings_by_article.get(article_id, ())
        if f.kind is FindingKind.BROKEN_LINK and f.stated_id is not None
    } & kg.wanted.keys()


def _step(kg: KnowledgeGraph, node: int, direction: Direction) -> set[int]:
    if node not in kg.articles:
        return set()
    found: set[int] = set()
    if direction is not Direction.IN:
        found |= set(kg.graph.succ[node]) | _broken(kg, node)
    if direction is not Direction.OUT:
        found |= set(kg.graph.pred[node])
    return found


def _reachable(
    kg: KnowledgeGraph, centers: list[int], depth: int, direction: Direction
) -> dict[int, int]:
    """Node → distance, by a plain breadth-first walk (the reference)."""
    distance = dict.fromkeys(centers, 0)
    queue = deque(centers)
    while queue:
        node = queue.popleft()
        if distance[node] == depth:
            continue
        for other in _step(kg, node, direction):
            if other not in distance:
                distance[other] = distance[node] + 1
                queue.append(other)
    return distance


def _most_linked(kg: KnowledgeGraph) -> int:
    return min(kg.graph.nodes, key=lambda i: (-kg.graph.in_degree(i), i))


def _ids(sg: Subgraph) -> list[int]:
    return [n.id for n in sg.nodes]


def _check_edges(kg: KnowledgeGraph, sg: Subgraph) -> None:
    ids = set(_ids(sg))
    assert len(ids) == len(sg.nodes)
    assert len({e.id for e in sg.edges}) == len(sg.edges)
    expected = set()
    for source in ids & kg.articles.keys():
        expected |= {(source, t) for t in kg.graph.succ[source] if t in ids}
        expected |= {(source, t) for t in _broken(kg, source) if t in ids}
    assert {(e.source, e.target) for e in sg.edges} == expected
    for edge in sg.edges:
        assert edge.id == f"{edge.source}->{edge.target}"
        link = kg.link(edge.source, edge.target)
        if link is not None:
            assert edge.rank == link.rank


@pytest.mark.parametrize("direction", list(Direction))
def test_depth_one_is_the_center_and_its_neighbours(
    seeds_graph: KnowledgeGraph, direction: Direction
) -> None:
    for center in seeds_graph.articles:
        sg = subgraph(seeds_graph, [center], direction=direction, limit=2000)
        assert sg.nodes[0].id == center
        assert set(_ids(sg)) == {center} | _step(seeds_graph, center, direction)
        assert not sg.truncated
        _check_edges(seeds_graph, sg)


@pytest.mark.parametrize("direction", list(Direction))
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_depths_match_a_breadth_first_walk(
    seeds_graph: KnowledgeGraph, depth: int, direction: Direction
) -> None:
    for center in list(seeds_graph.articles)[::5]:
        sg = subgraph(seeds_graph, [center], depth=depth, direction=direction, limit=2000)
        reach = _reachable(seeds_graph, [center], depth, direction)
        assert set(_ids(sg)) == set(reach)
        distances = [reach[i] for i in _ids(sg)]
        assert distances == sorted(distances)


@pytest.mark.corpus
@pytest.mark.parametrize("direction", list(Direction))
def test_dev_neighbourhoods(dev_graph: KnowledgeGraph, direction: Direction) -> None:
    top = _most_linked(dev_graph)
    for depth in (1, 2):
        sg = subgraph(dev_graph, [top], depth=depth, direction=direction, limit=2000)
        assert set(_ids(sg)) == set(_reachable(dev_graph, [top], depth, direction))
        _check_edges(dev_graph, sg)


def test_several_centers_come_first_and_union(seeds_graph: KnowledgeGraph) -> None:
    centers = [168904, 52005, 168904]
    sg = subgraph(seeds_graph, centers, depth=2, limit=2000)
    assert _ids(sg)[:2] == [168904, 52005]
    assert set(_ids(sg)) == set(_reachable(seeds_graph, [168904, 52005], 2, Direction.BOTH))


def test_the_cut_keeps_the_nearest_and_counts_the_rest(seeds_graph: KnowledgeGraph) -> None:
    full = subgraph(seeds_graph, [168904], depth=3, limit=2000)
    reach = _reachable(seeds_graph, [168904], 3, Direction.BOTH)
    assert len(full.nodes) == len(reach)
    for limit in (1, 3, 7, len(reach) - 1):
        cut = subgraph(seeds_graph, [168904], depth=3, limit=limit)
        assert _ids(cut) == _ids(full)[:limit]
        assert cut.truncated
        assert len(cut.nodes) + cut.omitted_nodes == len(reach)
        _check_edges(seeds_graph, cut)
    # Within one distance: by the rank of the link reaching them, then id.
    out = subgraph(seeds_graph, [168904], direction=Direction.OUT)
    assert _ids(out) == [168904, 168902, 168897, 168906, 168903]


@pytest.mark.corpus
def test_dev_cut_adds_up(dev_graph: KnowledgeGraph) -> None:
    top = _most_linked(dev_graph)
    reach = _reachable(dev_graph, [top], 3, Direction.BOTH)
    sg = subgraph(dev_graph, [top], depth=3, limit=100)
    assert len(sg.nodes) == 100
    assert sg.omitted_nodes == len(reach) - 100
    assert max(reach[i] for i in _ids(sg)) <= min(
        d for i, d in reach.items() if i not in set(_ids(sg))
    )


def test_wanted_articles_are_nodes(seeds_graph: KnowledgeGraph) -> None:
    sg = subgraph(seeds_graph, [SEED_ARTICLE])
    wanted = {n.id: n for n in sg.nodes if n.wanted}
    assert set(wanted) == {SEED_WANTED}
    node = wanted[SEED_WANTED]
    assert node.label == seeds_graph.wanted[SEED_WANTED].title
    assert node.in_degree == 2
    assert node.topic == "biology"
    edge = next(e for e in sg.edges if e.target == SEED_WANTED)
    assert (edge.source, edge.rank) == (SEED_ARTICLE, 3)
    # Only outgoing links lead to wanted articles, and the walk stops there.
    assert SEED_WANTED not in _ids(subgraph(seeds_graph, [SEED_ARTICLE], direction=Direction.IN))
    assert 168913 in _ids(subgraph(seeds_graph, [SEED_ARTICLE], depth=1))


def test_seed_alone_shows_its_wanted_articles(tmp_path: Path) -> None:
    folder = tmp_path / "alone"
    folder.mkdir()
    (folder / SEED_FILE.name).write_text(SEED_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    kg = load_graph(folder)
    (article,) = kg.articles
    sg = subgraph(kg, [article])
    assert {n.id for n in sg.nodes if n.wanted} == set(kg.wanted)
    assert len(kg.wanted) == 4
    assert len(sg.edges) == 4


def test_bad_arguments(seeds_graph: KnowledgeGraph) -> None:
    with pytest.raises(ArticleNotFound):
        subgraph(seeds_graph, [1])
    with pytest.raises(ArticleNotFound):
        subgraph(seeds_graph, [SEED_WANTED])
    with pytest.raises(QueryError, match="between 1 and 3"):
        subgraph(seeds_graph, [SEED_ARTICLE], depth=4)
    with pytest.raises(QueryError, match="between 1 and 2000"):
        subgraph(seeds_graph, [SEED_ARTICLE], limit=0)
    with pytest.raises(QueryError, match="center"):
        subgraph(seeds_graph, [])
    with pytest.raises(QueryError, match="limit"):
        subgraph(seeds_graph, [168904, 52005], limit=1)
    with pytest.raises(QueryError, match="not in the graph"):
        topic_graph(seeds_graph, "astrology")
    with pytest.raises(QueryError, match="between 1 and 100"):
        reading_order(seeds_graph, "biology", first=101)
    with pytest.raises(QueryError, match="not in topic"):
        reading_order(seeds_graph, "biology", start=52005)


@pytest.mark.parametrize("layout", [Layout.SPRING, Layout.KAMADA_KAWAI, Layout.CIRCULAR])
def test_layouts_are_deterministic_and_normalised(
    seeds_graph: KnowledgeGraph, layout: Layout
) -> None:
    first = subgraph(seeds_graph, [168904], depth=3, layout=layout)
    again = subgraph(seeds_graph, [168904], depth=3, layout=layout)
    assert first == again
    xs = [n.x for n in first.nodes]
    ys = [n.y for n in first.nodes]
    assert all(v is not None and 0 <= v <= 1 for v in xs + ys)
    assert min(xs) == 0  # type: ignore[type-var]
    assert max(xs) == 1  # type: ignore[type-var]
    single = subgraph(seeds_graph, [52099 - 98], depth=1, direction=Direction.IN, layout=layout)
    if len(single.nodes) == 1:
        assert (single.nodes[0].x, single.nodes[0].y) == (0.5, 0.5)


def test_no_layout_leaves_positions_empty(seeds_graph: KnowledgeGraph) -> None:
    sg = subgraph(seeds_graph, [168904])
    assert all(n.x is None and n.y is None for n in sg.nodes)


@pytest.mark.corpus
def test_big_layouts_are_deterministic(dev_graph: KnowledgeGraph) -> None:
    # How fast they are is measured by benchmarks/ (subgraph depth 2), not here.
    top = _most_linked(dev_graph)
    sg = subgraph(dev_graph, [top], depth=2, limit=2000, layout=Layout.SPRING)
    assert sg == subgraph(dev_graph, [top], depth=2, limit=2000, layout=Layout.SPRING)
    # 2,000 nodes: the cheaper force layout.
    centers = sorted(dev_graph.graph.nodes, key=lambda i: (-dev_graph.graph.in_degree(i), i))
    big = subgraph(dev_graph, centers[:300], depth=3, limit=2000, layout=Layout.SPRING)
    assert len(big.nodes) == 2000
    assert big == subgraph(dev_graph, centers[:300], depth=3, limit=2000, layout=Layout.SPRING)
    assert all(0 <= n.x <= 1 and 0 <= n.y <= 1 for n in big.nodes)  # type: ignore[operator]


def test_topic_graph_most_linked_first(seeds_graph: KnowledgeGraph) -> None:
    topic = seeds_graph.topics["biology"]
    sg = topic_graph(seeds_graph, "Biology", limit=2000)
    degree = seeds_graph.graph.in_degree
    assert sorted(_ids(sg)) == sorted(topic.article_ids)
    assert _ids(sg) == sorted(_ids(sg), key=lambda i: (-degree(i), i))
    assert not any(n.wanted for n in sg.nodes)
    _check_edges(seeds_graph, sg)
    cut = topic_graph(seeds_graph, "biology", limit=5)
    assert _ids(cut) == _ids(sg)[:5]
    assert (cut.truncated, cut.omitted_nodes) == (True, len(topic.article_ids) - 5)


@pytest.mark.parametrize("name", ["seeds_graph", "dev_graph"])
def test_topic_map_counts_every_link(name: str, request: pytest.FixtureRequest) -> None:
    kg: KnowledgeGraph = request.getfixturevalue(name)
    sg = topic_map(kg)
    assert [n.topic for n in sg.nodes] == sorted(kg.topics)
    assert [n.id for n in sg.nodes] == list(range(len(kg.topics)))
    assert [n.weight for n in sg.nodes] == [
        len(kg.topics[k].article_ids) for k in sorted(kg.topics)
    ]
    assert sum(e.weight for e in sg.edges) == kg.graph.number_of_edges()
    assert sum(n.out_degree for n in sg.nodes) == sum(
        e.weight for e in sg.edges if e.source != e.target
    )
    assert len({(e.source, e.target) for e in sg.edges}) == len(sg.edges)
    # A topic's internal links: those between two of its articles, every copy's topic
    # counting, as its topicGraph draws them; the self-loop counts first topics only.
    inside = dict.fromkeys(sorted(kg.topics), 0)
    for source, target in kg.graph.edges:
        for topic in set(kg.articles[source].topics) & set(kg.articles[target].topics):
            inside[topic] += 1
    assert [n.internal_links for n in sg.nodes] == list(inside.values())
    for key, node in zip(sorted(kg.topics), sg.nodes, strict=True):
        size = len(kg.topics[key].article_ids)
        if 1 <= size <= 2000:  # a topic drawn whole
            assert node.internal_links == len(topic_graph(kg, key, limit=size).edges), key
    loops = {e.source: e.weight for e in sg.edges if e.source == e.target}
    assert all((n.internal_links or 0) >= loops.get(n.id, 0) for n in sg.nodes)
    laid = topic_map(kg, Layout.SPRING)
    assert laid == topic_map(kg, Layout.SPRING)


def test_article_nodes_carry_keywords(seeds_graph: KnowledgeGraph) -> None:
    sg = subgraph(seeds_graph, [SEED_ARTICLE], depth=2)
    for node in sg.nodes:
        if node.wanted:
            assert (node.keywords, node.internal_links) == ((), None)
        else:
            assert node.keywords == seeds_graph.articles[node.id].keywords
            assert node.internal_links is None
    assert any(node.keywords for node in sg.nodes)


@pytest.mark.parametrize("name", ["seeds_graph", "dev_graph"])
def test_reading_order(name: str, request: pytest.FixtureRequest) -> None:
    kg: KnowledgeGraph = request.getfixturevalue(name)
    found = bridges_of(kg)
    for key, topic in kg.topics.items():
        members = set(topic.article_ids)
        order = reading_order(kg, key, first=100)
        assert len(order) == len(set(order)) <= min(100, len(members))
        assert set(order) <= members
        score = level_scores(kg, key)
        degree = kg.graph.in_degree
        assert order[0] == min(members, key=lambda i: (-score[i], -degree(i), i))
        # Foundations first: the first ten are more foundational than the topic on the whole.
        head = order[:10]
        assert sum(score[i] for i in head) / len(head) >= sum(score.values()) / len(members)
        # Each next article is joined (a link either way, or a bridge) to one read before,
        # unless none of those listed later is: then the most foundational of the rest.
        inside = kg.graph.subgraph(members).to_undirected(as_view=True)
        near = {
            i: {*inside[i], *(other for other, _ in found.of(i) if other in members)} for i in order
        }
        reachable = set(near[order[0]])
        for i, article in enumerate(order[1:], 1):
            if article not in reachable:
                assert not reachable & set(order[i + 1 :]), (key, article)
            reachable |= near[article]
        # The plan behind the order: why each comes next, and what it was read with.
        plan = reading_plan(kg, key, first=100)
        assert [step.id for step in plan] == order
        listed = [*order, *(d for step in plan for d in step.near_duplicates)]
        assert len(listed) == len(set(listed))
        assert set(listed) <= members
        assert plan[0].via is StepVia.START
        assert plan[0].after is None
        for at, step in enumerate(plan):
            if step.via is StepVia.START:
                assert (step.after, step.score) == (None, None)
                continue
            assert step.after in order[:at], (key, step)
            if step.via is StepVia.LINK:
                assert kg.graph.has_edge(step.after, step.id)
                assert step.score is None
            elif step.via is StepVia.BACKLINK:
                assert kg.graph.has_edge(step.id, step.after)
                assert step.score is None
            else:
                assert step.score == found.score(step.after, step.id) is not None
            for copy in step.near_duplicates:
                assert (found.score(step.id, copy) or 0) >= 0.35, (key, step.id, copy)
    # Near-duplicates of an article read are listed with it, not on their own: dev's
    # biology has some.
    if name == "dev_graph":
        biology = reading_plan(kg, "biology", first=100)
        assert len(biology) == 100
        assert sum(len(step.near_duplicates) for step in biology) >= 5


def test_reading_order_from_a_start(seeds_graph: KnowledgeGraph) -> None:
    order = reading_order(seeds_graph, "biology", start=SEED_ARTICLE, first=100)
    assert order[0] == SEED_ARTICLE
    assert set(order) <= set(seeds_graph.topics["biology"].article_ids)
    assert len(order) >= len(seeds_graph.topics["biology"].article_ids) - 2
    assert reading_order(seeds_graph, "biology", start=SEED_ARTICLE, first=2) == order[:2]


@pytest.fixture
def drawn(seeds_graph: KnowledgeGraph) -> Subgraph:
    return subgraph(seeds_graph, [SEED_ARTICLE], depth=2, layout=Layout.SPRING)


def _ends_are_nodes(nodes: set[str], edges: list[tuple[str, str]]) -> None:
    assert all(isinstance(n, str) for n in nodes)
    assert all(s in nodes and t in nodes for s, t in edges)


def test_cytoscape(drawn: Subgraph, seeds_graph: KnowledgeGraph) -> None:
    data = json.loads(json.dumps(to_cytoscape(drawn)))
    nodes = data["elements"]["nodes"]
    assert [n["data"]["id"] for n in nodes] == [str(i) for i in _ids(drawn)]
    assert all(set(n["position"]) == {"x", "y"} for n in nodes)
    edges = data["elements"]["edges"]
    assert all(isinstance(e["data"]["id"], str) for e in edges)
    _ends_are_nodes(
        {n["data"]["id"] for n in nodes},
        [(e["data"]["source"], e["data"]["target"]) for e in edges],
    )
    plain = to_cytoscape(subgraph(seeds_graph, [SEED_ARTICLE]))
    assert "position" not in plain["elements"]["nodes"][0]


def test_d3(drawn: Subgraph) -> None:
    data = json.loads(json.dumps(to_d3(drawn)))
    _ends_are_nodes(
        {n["id"] for n in data["nodes"]}, [(e["source"], e["target"]) for e in data["links"]]
    )
    graph = nx.node_link_graph(data, directed=True, multigraph=False, edges="links")
    assert graph.number_of_nodes() == len(drawn.nodes)
    assert graph.number_of_edges() == len(drawn.edges)


def test_graphology(drawn: Subgraph) -> None:
    data = json.loads(json.dumps(to_graphology(drawn)))
    assert data["options"] == {"type": "directed", "multi": False, "allowSelfLoops": False}
    _ends_are_nodes(
        {n["key"] for n in data["nodes"]}, [(e["source"], e["target"]) for e in data["edges"]]
    )
    assert len({e["key"] for e in data["edges"]}) == len(data["edges"])
    assert all({"x", "y", "label"} <= n["attributes"].keys() for n in data["nodes"])


def test_graphology_topic_map_allows_self_loops(seeds_graph: KnowledgeGraph) -> None:
    assert to_graphology(topic_map(seeds_graph))["options"]["allowSelfLoops"] is True


def _same_graph(drawn: Subgraph, graph: nx.Graph[int]) -> None:
    assert set(graph.nodes) == set(_ids(drawn))
    assert set(graph.edges) == {(e.source, e.target) for e in drawn.edges}
    wanted = next(n for n in drawn.nodes if n.wanted)
    assert graph.nodes[wanted.id]["label"] == wanted.label
    assert "keywords" not in graph.nodes[wanted.id]
    for node in drawn.nodes:
        if node.keywords:
            assert graph.nodes[node.id]["keywords"] == "; ".join(node.keywords)
            assert graph.nodes[node.id]["keywords"].split("; ") == list(node.keywords)
    assert graph.nodes[SEED_ARTICLE]["keywords"].split("; ") == list(
        next(n for n in drawn.nodes if n.id == SEED_ARTICLE).keywords
    )


def test_json_exports_carry_keyword_lists(drawn: Subgraph) -> None:
    keywords = {str(n.id): list(n.keywords) for n in drawn.nodes}
    assert any(keywords.values())
    cytoscape = to_cytoscape(drawn)["elements"]["nodes"]
    assert {n["data"]["id"]: n["data"]["keywords"] for n in cytoscape} == keywords
    assert {n["id"]: n["keywords"] for n in to_d3(drawn)["nodes"]} == keywords
    graphology = to_graphology(drawn)["nodes"]
    assert {n["key"]: n["attributes"]["keywords"] for n in graphology} == keywords


def test_graphml_round_trip(drawn: Subgraph, tmp_path: Path) -> None:
    write_graphml(drawn, tmp_path / "g.graphml")
    graph = nx.read_graphml(tmp_path / "g.graphml", node_type=int)
    _same_graph(drawn, graph)
    assert graph.nodes[SEED_ARTICLE]["wanted"] is False


def test_gexf_round_trip(drawn: Subgraph, tmp_path: Path) -> None:
    write_gexf(drawn, tmp_path / "g.gexf")
    graph = nx.read_gexf(tmp_path / "g.gexf", node_type=int)
    _same_graph(drawn, graph)


def test_gexf_says_what_the_limit_left_out(seeds_graph: KnowledgeGraph, tmp_path: Path) -> None:
    namespace = {"g": "http://www.gexf.net/1.2draft"}
    for limit, said in (
        (3, "truncated: true; omitted_nodes: 13"),
        (500, "truncated: false; omitted_nodes: 0"),
    ):
        write_gexf(topic_graph(seeds_graph, "biology", limit=limit), tmp_path / "t.gexf")
        root = ElementTree.parse(tmp_path / "t.gexf").getroot()
        assert root.findtext("g:meta/g:description", namespaces=namespace) == said
        assert len(nx.read_gexf(tmp_path / "t.gexf")) == min(limit, 16)


def test_networkx_has_no_none(seeds_graph: KnowledgeGraph) -> None:
    graph = to_networkx(subgraph(seeds_graph, [SEED_ARTICLE]))
    for _, data in graph.nodes(data=True):
        assert None not in data.values()
        assert "x" not in data


def test_dot(drawn: Subgraph) -> None:
    text = to_dot(drawn)
    assert text.startswith("digraph kgraph {")
    assert text.endswith("}")
    for node in drawn.nodes:
        assert f'"{node.id}" [label=' in text
    assert text.count(" -> ") == len(drawn.edges)
    assert "style=dashed" in text


# DOT's grammar (graphviz.org/doc/info/lang.html), as much as to_dot writes: a
# digraph of node and edge statements with attribute lists; an ID is a name, a
# numeral or a double-quoted string, in which a backslash escapes what follows.
_DOT_TOKEN = re.compile(
    r"""\s*(?:(?P<string>"(?:[^"\\]|\\.)*")"""
    r"""|(?P<name>[A-Za-z_\x80-\uffff][A-Za-z_0-9\x80-\uffff]*)"""
    r"""|(?P<numeral>-?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?))"""
    r"""|(?P<arrow>->)|(?P<mark>[{}\[\];,=]))""",
    re.DOTALL,
)

DotAttributes = dict[str, str]


def _dot_tokens(text: str) -> list[tuple[str, str]]:
    tokens, at = [], 0
    while text[at:].strip():
        match = _DOT_TOKEN.match(text, at)
        assert match is not None, f"not DOT at {text[at : at + 30]!r}"
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        at = match.end()
    return tokens


def _parse_dot(text: str) -> tuple[dict[str, DotAttributes], list[tuple[str, str, DotAttributes]]]:
    """The nodes and edges of a DOT digraph, ids and values unquoted; fails on anything else."""
    tokens = _dot_tokens(text)
    at = 0

    def take(*kinds: str) -> tuple[str, str]:
        nonlocal at
        assert at < len(tokens), "DOT ends too soon"
        kind, value = tokens[at]
        assert kind in kinds or value in kinds, f"expected {kinds}, got {value!r}"
        at += 1
        return kind, value

    def identifier() -> str:
        kind, value = take("string", "name", "numeral")
        if kind != "string":
            return value
        escapes = {"n": "\n", "\\": "\\", '"': '"'}
        return re.sub(r"\\(.)", lambda m: escapes.get(m[1], "\\" + m[1]), value[1:-1], flags=re.S)

    def attributes() -> DotAttributes:
        found: DotAttributes = {}
        take("[")
        while tokens[at][1] != "]":
            key = identifier()
            take("=")
            assert key not in found, f"{key} given twice"
            found[key] = identifier()
            if tokens[at][1] == ",":
                take(",")
        take("]")
        return found

    assert take("name") == ("name", "digraph")
    identifier()
    take("{")
    nodes: dict[str, DotAttributes] = {}
    edges: list[tuple[str, str, DotAttributes]] = []
    while tokens[at][1] != "}":
        first = identifier()
        if tokens[at][0] == "arrow":
            take("arrow")
            second = identifier()
            edges.append((first, second, attributes()))
        else:
            assert first not in nodes, f"node {first} twice"
            nodes[first] = attributes()
        take(";")
    take("}")
    assert at == len(tokens), "text after the graph"
    return nodes, edges


def _check_dot(sg: Subgraph) -> None:
    nodes, edges = _parse_dot(to_dot(sg))
    assert list(nodes) == [str(n.id) for n in sg.nodes]
    for node in sg.nodes:
        attributes = nodes[str(node.id)]
        assert attributes["label"] == node.label
        assert attributes.get("topic") == node.topic
        assert attributes.get("keywords") == ("; ".join(node.keywords) or None)
        assert (attributes.get("style") == "dashed") == node.wanted
        if node.internal_links is not None:
            assert attributes["internal_links"] == str(node.internal_links)
        if node.x is not None and node.y is not None:
            x, y = attributes["pos"].removesuffix("!").split(",")
            assert (float(x), float(y)) == pytest.approx((node.x * 10, node.y * 10), abs=1e-4)
    assert [(s, t) for s, t, _ in edges] == [(str(e.source), str(e.target)) for e in sg.edges]
    for (_, _, attributes), edge in zip(edges, sg.edges, strict=True):
        assert attributes == {"rank": str(edge.rank), "weight": str(edge.weight)}


def test_dot_follows_the_grammar(drawn: Subgraph, seeds_graph: KnowledgeGraph) -> None:
    _check_dot(drawn)
    _check_dot(topic_map(seeds_graph, Layout.CIRCULAR))
    tricky = [
        'Say "hi"',
        "a back\\slash, and \\N",
        "two\nlines\r\nthree",
        "ends in a backslash\\",
        "digraph { } -> ; [x=1]",
        "ünïcode — ≈",
    ]
    nodes = tuple(
        Node(i, label, f"topic {i}", 0, 0, i % 2 == 0, keywords=(label, '"k"'))
        for i, label in enumerate(tricky, 1)
    )
    edges = (Edge("1->2", 1, 2, 3),)
    sg = Subgraph(nodes, edges, False, 0)
    parsed, _ = _parse_dot(to_dot(sg))
    expected = [label.replace("\r\n", "\n") for label in tricky]
    assert [attributes["label"] for attributes in parsed.values()] == expected
    with pytest.raises(AssertionError):
        _parse_dot('digraph kgraph {\n  "1" [label="unclosed];\n}')

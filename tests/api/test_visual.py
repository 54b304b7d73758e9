"""Learning paths, similar articles and drawable subgraphs through the schema, on the seeds."""

from __future__ import annotations

import asyncio
from itertools import pairwise
from typing import Any

import networkx as nx
import pytest
import strawberry

from kgraph.api import Context, create_schema
from kgraph.graph import KnowledgeGraph
from kgraph.graph.subgraphs import reading_plan


@pytest.fixture(scope="module")
def schema() -> strawberry.Schema:
    return create_schema()


def execute(schema: strawberry.Schema, kg: KnowledgeGraph, query: str, **variables: Any) -> Any:
    return asyncio.run(
        schema.execute(query, variable_values=variables, context_value=Context(graph=kg))
    )


def data(schema: strawberry.Schema, kg: KnowledgeGraph, query: str, **variables: Any) -> Any:
    result = execute(schema, kg, query, **variables)
    assert result.errors is None, result.errors
    return result.data


PATH = "hops cost bridges steps { article { articleId } via rank sharedKeywords topicChange }"


def test_learning_path_explains_each_step(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    path = data(schema, seeds_graph, f"{{ learningPath(from: 168904, to: 168912) {{ {PATH} }} }}")[
        "learningPath"
    ]
    assert path["hops"] == 3
    assert path["bridges"] == 0
    steps = path["steps"]
    assert [s["article"]["articleId"] for s in steps] == [168904, 168897, 168911, 168912]
    assert [s["via"] for s in steps] == ["START", "LINK", "LINK", "LINK"]
    assert steps[0]["rank"] is None
    for before, step in pairwise(steps):
        assert (
            step["rank"]
            == seeds_graph.graph.edges[
                before["article"]["articleId"], step["article"]["articleId"]
            ]["rank"]
        )


def test_learning_path_edge_cases(schema: strawberry.Schema, seeds_graph: KnowledgeGraph) -> None:
    same = data(schema, seeds_graph, f"{{ learningPath(from: 52001, to: 52001) {{ {PATH} }} }}")
    assert same["learningPath"]["hops"] == 0
    assert data(schema, seeds_graph, "{ learningPath(from: 168918, to: 52001) { hops } }") == {
        "learningPath": None
    }
    assert data(schema, seeds_graph, "{ learningPaths(from: 168918, to: 52001) { hops } }") == {
        "learningPaths": []
    }
    unknown = execute(schema, seeds_graph, "{ learningPath(from: 424242, to: 52001) { hops } }")
    assert unknown.errors is not None
    assert "424242" in unknown.errors[0].message


def test_learning_paths_are_distinct_and_ordered(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    found = data(
        schema,
        seeds_graph,
        "{ learningPaths(from: 168904, to: 168912, k: 3, options: {weight: RANK, directed: false}) { cost steps { article { articleId } } } }",
    )["learningPaths"]
    assert 1 <= len(found) <= 3
    walks = [tuple(s["article"]["articleId"] for s in p["steps"]) for p in found]
    assert len(set(walks)) == len(walks)
    costs = [p["cost"] for p in found]
    assert costs == sorted(costs)
    undirected = seeds_graph.graph.to_undirected(as_view=True)
    for walk in walks:
        assert len(set(walk)) == len(walk)
        assert all(undirected.has_edge(a, b) for a, b in pairwise(walk))


def test_bridges_reach_where_links_do_not(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    query = (
        "query($o: PathOptions) { learningPath(from: 168912, to: 84002, options: $o) {"
        f" {PATH} strength steps {{ score sharedTerms }} }} }}"
    )
    assert data(schema, seeds_graph, query, o=None)["learningPath"] is None
    path = data(schema, seeds_graph, query, o={"bridges": True})["learningPath"]
    assert path is not None
    assert [(s["article"]["articleId"], s["via"]) for s in path["steps"]] == [
        (168912, "START"),
        (168911, "RELATED"),
        (168913, "LINK"),
        (84002, "LINK"),
    ]
    assert (path["bridges"], path["cost"], path["strength"]) == (1, 5.6, 0.2781)
    bridge = path["steps"][1]
    assert (bridge["rank"], bridge["score"]) == (None, 0.2781)
    assert "glycolysis" in bridge["sharedKeywords"]
    assert "glycolysis" in bridge["sharedTerms"]
    assert path["steps"][0]["score"] is None
    assert all(0 <= s["score"] < 1 for s in path["steps"][1:])
    # The deprecated name still asks for bridges.
    old = data(schema, seeds_graph, query, o={"keywordBridges": True})["learningPath"]
    assert old == path
    linked = data(
        schema,
        seeds_graph,
        "{ learningPath(from: 168904, to: 168912, options: {bridges: true}) { bridges hops } }",
    )
    assert linked["learningPath"] == {"bridges": 0, "hops": 3}


def test_path_options(schema: strawberry.Schema, seeds_graph: KnowledgeGraph) -> None:
    avoided = data(
        schema,
        seeds_graph,
        "{ learningPath(from: 168904, to: 168912, options: {avoid: [168897]}) { steps { article { articleId } } } }",
    )["learningPath"]
    assert avoided is None or 168897 not in [s["article"]["articleId"] for s in avoided["steps"]]
    cut = data(
        schema,
        seeds_graph,
        "{ learningPath(from: 168904, to: 168912, options: {maxHops: 2}) { hops } }",
    )
    assert cut == {"learningPath": None}


def test_similar(schema: strawberry.Schema, seeds_graph: KnowledgeGraph) -> None:
    query = """query($after: String) { similar(id: 52002, first: 3, after: $after) {
        totalCount pageInfo { hasNextPage endCursor }
        nodes { article { articleId } score sharedKeywords linked
                reasons { sharedKeywords sharedTerms text commonNeighbours { articleId } } } } }"""
    page = data(schema, seeds_graph, query)["similar"]
    found = page["nodes"]
    assert [f["article"]["articleId"] for f in found] == [52003, 52001, 52005]
    assert [f["linked"] for f in found] == [True, True, False]
    assert 1 > found[0]["score"] >= found[1]["score"] >= found[2]["score"] > 0
    assert all(f["score"] == round(f["score"], 4) for f in found)
    best = found[0]["reasons"]
    assert "binary search" in best["sharedKeywords"]
    assert "binary" in best["sharedTerms"]
    assert best["commonNeighbours"] == [{"articleId": 52001}]
    assert page["pageInfo"]["hasNextPage"]
    assert page["totalCount"] > 3
    after = page["pageInfo"]["endCursor"]
    following = data(schema, seeds_graph, query, after=after)["similar"]["nodes"]
    assert not {f["article"]["articleId"] for f in following} & {52003, 52001, 52005}
    assert following[0]["score"] <= found[-1]["score"]


def test_missing_links_are_related_articles_not_linked_either_way(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    found = data(
        schema,
        seeds_graph,
        "{ article(id: 52002) { missingLinks(first: 5) { nodes { article { articleId } linked } } } }",
    )["article"]["missingLinks"]["nodes"]
    graph = seeds_graph.graph
    linked = set(graph.successors(52002)) | set(graph.predecessors(52002))
    assert found
    assert not {f["article"]["articleId"] for f in found} & linked
    assert not any(f["linked"] for f in found)


def test_subgraph_depth_1_is_center_and_neighbours(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    sg = data(
        schema,
        seeds_graph,
        "{ subgraph(center: [168911], layout: SPRING) { nodes { id wanted x y } edges { id source target rank } truncated omittedNodes cytoscape d3 graphology } }",
    )["subgraph"]
    graph = seeds_graph.graph
    articles = {n["id"] for n in sg["nodes"] if not n["wanted"]}
    assert articles == {168911} | set(graph.successors(168911)) | set(graph.predecessors(168911))
    assert {n["id"] for n in sg["nodes"] if n["wanted"]} == {168999}
    assert all(0.0 <= n["x"] <= 1.0 and 0.0 <= n["y"] <= 1.0 for n in sg["nodes"])
    ids = {n["id"] for n in sg["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in sg["edges"])
    assert len({e["id"] for e in sg["edges"]}) == len(sg["edges"])
    assert (sg["truncated"], sg["omittedNodes"]) == (False, 0)
    elements = sg["cytoscape"]["elements"]
    assert all(isinstance(n["data"]["id"], str) and "position" in n for n in elements["nodes"])
    assert {e["data"]["source"] for e in elements["edges"]} <= {
        n["data"]["id"] for n in elements["nodes"]
    }
    assert {n["id"] for n in sg["d3"]["nodes"]} >= {link["source"] for link in sg["d3"]["links"]}
    assert len(sg["graphology"]["nodes"]) == len(sg["nodes"])
    again = data(
        schema, seeds_graph, "{ subgraph(center: [168911], layout: SPRING) { nodes { id x y } } }"
    )
    assert again["subgraph"]["nodes"] == [
        {"id": n["id"], "x": n["x"], "y": n["y"]} for n in sg["nodes"]
    ]


def test_exports_in_pixels_are_the_layout_scaled(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    # What Cytoscape.js's preset layout and sigma.js draw as they are: pixels.
    sg = data(
        schema,
        seeds_graph,
        "{ subgraph(center: [168911], layout: SPRING) { nodes { id x y }"
        " cytoscape(size: 1000) d3(size: 800) graphology(size: 1000) plain: cytoscape } }",
    )["subgraph"]
    unit = {str(n["id"]): (n["x"], n["y"]) for n in sg["nodes"]}
    cytoscape = {n["data"]["id"]: n["position"] for n in sg["cytoscape"]["elements"]["nodes"]}
    assert cytoscape == {
        key: {"x": round(x * 1000, 2), "y": round(y * 1000, 2)} for key, (x, y) in unit.items()
    }
    # Spread over the square, not on one spot as 0-to-1 positions draw.
    xs = [p["x"] for p in cytoscape.values()]
    assert min(xs) == 0.0
    assert max(xs) == 1000.0
    assert {n["id"]: (n["x"], n["y"]) for n in sg["d3"]["nodes"]} == {
        key: (round(x * 800, 2), round(y * 800, 2)) for key, (x, y) in unit.items()
    }
    graphology = {
        n["key"]: (n["attributes"]["x"], n["attributes"]["y"]) for n in sg["graphology"]["nodes"]
    }
    assert graphology == {k: (p["x"], p["y"]) for k, p in cytoscape.items()}
    # Without a size, as before: the layout's 0 to 1 (the change is an added argument).
    plain = {n["data"]["id"]: n["position"] for n in sg["plain"]["elements"]["nodes"]}
    assert plain == {key: {"x": x, "y": y} for key, (x, y) in unit.items()}
    refused = execute(
        schema, seeds_graph, "{ subgraph(center: [168911], layout: SPRING) { cytoscape(size: 0) } }"
    )
    assert refused.errors
    assert "`size` must be between 1 and 100000 pixels, got 0" in refused.errors[0].message


def test_subgraph_truncation_and_limits(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    sg = data(
        schema,
        seeds_graph,
        "{ subgraph(center: [168904], depth: 3, limit: 5) { nodes { id } truncated omittedNodes } }",
    )["subgraph"]
    assert len(sg["nodes"]) == 5
    assert sg["truncated"] is True
    undirected = seeds_graph.graph.to_undirected(as_view=True)
    reachable = nx.single_source_shortest_path_length(undirected, 168904, cutoff=3)
    assert sg["omittedNodes"] >= len(reachable) - 5
    for query, message in (
        ("{ subgraph(center: [168904], depth: 4) { truncated } }", "depth"),
        ("{ subgraph(center: [168904], limit: 5000) { truncated } }", "limit"),
        ("{ subgraph(center: [424242]) { truncated } }", "424242"),
    ):
        result = execute(schema, seeds_graph, query)
        assert result.errors is not None
        assert message in result.errors[0].message


def test_topic_graph_map_and_reading_order(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    cs = data(
        schema,
        seeds_graph,
        '{ topicGraph(key: "computer-science") { nodes { id } edges { source target } } }',
    )["topicGraph"]
    assert {n["id"] for n in cs["nodes"]} == set(seeds_graph.by_topic["computer-science"])
    topic_map = data(
        schema,
        seeds_graph,
        "{ topicMap(layout: CIRCULAR) { nodes { label topic weight x } edges { weight } } }",
    )["topicMap"]
    assert {n["topic"] for n in topic_map["nodes"]} == set(seeds_graph.topics)
    assert {n["topic"]: n["weight"] for n in topic_map["nodes"]}["computer-science"] == 10
    assert all(n["x"] is not None for n in topic_map["nodes"])
    assert sum(e["weight"] for e in topic_map["edges"]) == seeds_graph.graph.number_of_edges()
    order = data(
        schema,
        seeds_graph,
        '{ readingOrder(topic: "biology", first: 100) { totalCount nodes { articleId } } }',
    )["readingOrder"]
    assert order["totalCount"] == len(order["nodes"])
    order = order["nodes"]
    ids = [a["articleId"] for a in order]
    assert len(ids) == len(set(ids)) == len(seeds_graph.by_topic["biology"])
    started = data(
        schema,
        seeds_graph,
        '{ readingOrder(topic: "biology", start: 168904, first: 3) { nodes { articleId } } }',
    )["readingOrder"]["nodes"]
    assert started[0]["articleId"] == 168904
    plan = data(
        schema,
        seeds_graph,
        '{ readingPlan(topic: "biology", first: 100) { nodes { article { articleId } via after {'
        " articleId } score nearDuplicates { articleId } } } }",
    )["readingPlan"]["nodes"]
    expected = reading_plan(seeds_graph, "biology", first=100)
    assert [step["article"]["articleId"] for step in plan] == ids == [step.id for step in expected]
    assert [
        (
            s["via"],
            s["after"] and s["after"]["articleId"],
            s["score"],
            [d["articleId"] for d in s["nearDuplicates"]],
        )
        for s in plan
    ] == [
        (
            step.via.name,
            step.after,
            None if step.score is None else round(step.score, 4),
            list(step.near_duplicates),
        )
        for step in expected
    ]
    assert {s["via"] for s in plan} >= {"START", "LINK"}


def test_path_options_take_null_for_their_default(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    query = f"query($o: PathOptions) {{ learningPath(from: 168904, to: 168903, options: $o) {{ {PATH} }} }}"
    default = data(schema, seeds_graph, query, o=None)["learningPath"]
    assert [s["article"]["articleId"] for s in default["steps"]] == [168904, 168903]
    every = {
        "directed": None,
        "weight": None,
        "sameTopic": None,
        "avoid": None,
        "maxHops": None,
        "bridges": None,
        "keywordBridges": None,
    }
    for field in every:
        assert data(schema, seeds_graph, query, o={field: None})["learningPath"] == default
    assert data(schema, seeds_graph, query, o=every)["learningPath"] == default
    inline = data(
        schema,
        seeds_graph,
        f"{{ learningPath(from: 168904, to: 168903, options: {{directed: null, maxHops: null}}) {{ {PATH} }} }}",
    )
    assert inline["learningPath"] == default
    # Null is the default, not false: a value given still counts.
    by_rank = data(schema, seeds_graph, query, o={"weight": "RANK", "directed": None})
    assert by_rank["learningPath"]["cost"] == 3.0
    either = data(
        schema,
        seeds_graph,
        "{ learningPaths(from: 168904, to: 168912, options: {directed: null, avoid: null}) { hops } }",
    )["learningPaths"]
    assert either[0]["hops"] == 3


def test_path_options_are_nullable_in_the_schema(schema: strawberry.Schema) -> None:
    sdl = schema.as_str()
    options = sdl[sdl.index("input PathOptions {") :]
    options = options[: options.index("}")]
    for line in (
        "directed: Boolean = true",
        "weight: PathWeight = HOPS",
        "sameTopic: Boolean = false",
        "avoid: [Int!] = []",
        "maxHops: Int = 20",
        "bridges: Boolean = false",
        'keywordBridges: Boolean = null @deprecated(reason: "Use `bridges`',
    ):
        assert line in options


def test_k_null_means_three(schema: strawberry.Schema, seeds_graph: KnowledgeGraph) -> None:
    found = data(
        schema, seeds_graph, "{ learningPaths(from: 168904, to: 168912, k: null) { hops } }"
    )
    assert len(found["learningPaths"]) == 3


def test_max_hops_by_rank_takes_the_cheapest_path_that_fits(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    query = "query($o: PathOptions) { learningPath(from: 168904, to: 168903, options: $o) { hops cost } }"
    assert data(schema, seeds_graph, query, o={"weight": "RANK"})["learningPath"] == {
        "hops": 2,
        "cost": 3.0,
    }
    assert data(schema, seeds_graph, query, o={"weight": "RANK", "maxHops": 1})["learningPath"] == {
        "hops": 1,
        "cost": 5.0,
    }


def test_subgraph_nodes_carry_keywords_and_topic_map_internal_links(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    sg = data(
        schema,
        seeds_graph,
        "{ subgraph(center: [168911]) { nodes { id wanted keywords internalLinks } cytoscape } }",
    )["subgraph"]
    for node in sg["nodes"]:
        assert node["internalLinks"] is None
        expected = [] if node["wanted"] else list(seeds_graph.articles[node["id"]].keywords)
        assert node["keywords"] == expected
    assert any(node["keywords"] for node in sg["nodes"])
    cytoscape = {
        n["data"]["id"]: n["data"]["keywords"] for n in sg["cytoscape"]["elements"]["nodes"]
    }
    assert cytoscape == {str(n["id"]): n["keywords"] for n in sg["nodes"]}
    topics = data(
        schema,
        seeds_graph,
        "{ topicMap { nodes { id internalLinks keywords } edges { source target weight } } }",
    )["topicMap"]
    # The links among a topic's articles, every copy's topic counting (as topicGraph draws
    # them); the self-loop counts a link under its articles' first topics only.
    loops = {e["source"]: e["weight"] for e in topics["edges"] if e["source"] == e["target"]}
    for node, key in zip(topics["nodes"], sorted(seeds_graph.topics), strict=True):
        members = set(seeds_graph.by_topic[key])
        inside = seeds_graph.graph.subgraph(members).number_of_edges()
        assert node["internalLinks"] == inside >= loops.get(node["id"], 0)
    assert sum(n["internalLinks"] for n in topics["nodes"]) > 0
    assert all(n["keywords"] == [] for n in topics["nodes"])


def test_learning_paths_say_whether_their_list_is_complete(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    found = data(
        schema,
        seeds_graph,
        "{ learningPaths(from: 168904, to: 168912, k: 2) { hops complete }"
        " learningPath(from: 168904, to: 168912) { complete } }",
    )
    assert found["learningPaths"] == [{"hops": 3, "complete": True}, {"hops": 4, "complete": True}]
    assert found["learningPath"] == {"complete": True}


def test_learning_path_search_says_why_fewer_than_k(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    fields = "paths { hops } complete shortfall explanation"
    found = data(
        schema,
        seeds_graph,
        f"{{ enough: learningPathSearch(from: 168904, to: 168912, k: 2) {{ {fields} }}"
        f" none: learningPathSearch(from: 168912, to: 168904) {{ {fields} }}"
        f" paths: learningPaths(from: 168904, to: 168912, k: 2) {{ hops }} }}",
    )
    assert found["enough"] == {
        "paths": found["paths"],
        "complete": True,
        "shortfall": None,
        "explanation": None,
    }
    assert found["none"] == {
        "paths": [],
        "complete": True,
        "shortfall": "NO_PATH",
        "explanation": "no path within 20 hops; try directed: false or bridges",
    }

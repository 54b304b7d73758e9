"""A request's per-request graph work stops at its budget's checkpoints once the budget is spent."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from conftest import SEEDS
from kgraph import budget
from kgraph.errors import DeadlineExceeded
from kgraph.graph import KnowledgeGraph, curation, export, load_graph, paths, queries, similarity
from kgraph.graph.subgraphs import (
    Edge,
    Layout,
    Node,
    layout_positions,
    reading_order,
    subgraph,
    topic_graph,
    topic_map,
)
from kgraph.model import FindingKind


@pytest.fixture
def kg() -> KnowledgeGraph:
    """The seeds, loaded anew: nothing kept with the graph (title index, topic map) yet."""
    return load_graph(SEEDS)


def _work(kg: KnowledgeGraph) -> dict[str, Callable[[], Any]]:
    broken = kg.findings_of(FindingKind.BROKEN_LINK)[0]
    drawn = subgraph(kg, [168904], depth=2)
    return {
        "subgraph": lambda: subgraph(kg, [168904], depth=3),
        "topic graph": lambda: topic_graph(kg, "biology"),
        "topic map": lambda: topic_map(kg),
        "reading order": lambda: reading_order(kg, "biology"),
        "layout": lambda: layout_positions(drawn.nodes, drawn.edges, Layout.CIRCULAR),
        "neighbours": lambda: queries.neighbours(kg, 168904, queries.Direction.BOTH, 3, 100),
        "search": lambda: queries.find_articles(kg, search="the pump"),
        "similar": lambda: similarity.similar(kg, 52002),
        "wanted suggestions": lambda: curation.wanted_suggestions(kg, kg.wanted[52099]),
        "finding fix": lambda: curation.finding_fix(kg, broken),
        "cytoscape": lambda: export.to_cytoscape(drawn),
        "d3": lambda: export.to_d3(drawn),
        "graphology": lambda: export.to_graphology(drawn),
        "learning path": lambda: paths.learning_path(kg, 168904, 168912),
        "learning paths": lambda: paths.find_learning_paths(kg, 168904, 168912, 5),
    }


@pytest.mark.parametrize(
    "name",
    [
        "subgraph",
        "topic graph",
        "topic map",
        "reading order",
        "layout",
        "neighbours",
        "search",
        "similar",
        "wanted suggestions",
        "finding fix",
        "cytoscape",
        "d3",
        "graphology",
        "learning path",
        "learning paths",
    ],
)
def test_a_cancelled_request_stops_its_graph_work(kg: KnowledgeGraph, name: str) -> None:
    work = _work(kg)[name]
    with budget.within(60.0) as spent:
        spent.cancel()
        with pytest.raises(DeadlineExceeded, match="cancelled"):
            work()
    work()  # outside a request: unbounded, and the same work succeeds


def test_the_big_spring_layout_stops_at_the_deadline_between_steps() -> None:
    # 1,500 nodes: about 1 s of layout, each of its 40 steps some tens of milliseconds.
    nodes = [Node(i, str(i), None, 0, 0, False) for i in range(1_500)]
    edges = [Edge(f"{i}->{i + 1}", i, i + 1, 1) for i in range(1_499)]
    start = time.perf_counter()
    with budget.within(0.1), pytest.raises(DeadlineExceeded, match="deadline"):
        layout_positions(nodes, edges, Layout.SPRING)
    assert time.perf_counter() - start < 0.5

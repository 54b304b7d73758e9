"""The curation report's long lists as arrays: the records a list of them would hold."""

from __future__ import annotations

import pickle
import statistics
from array import array

import networkx as nx
import pytest

from kgraph.graph import KnowledgeGraph
from kgraph.graph.curation import (
    Island,
    Islands,
    RankedArticle,
    RankedArticles,
    curation_report,
    most_linked,
)


def _ranked_records(kg: KnowledgeGraph, keep: set[int] | None = None) -> list[RankedArticle]:
    """The over-linked list worked out record by record, as the report once held it."""
    degrees = [d for _, d in kg.graph.in_degree()] or [0]
    mean, spread = statistics.fmean(degrees), statistics.pstdev(degrees) or 1.0
    links = kg.graph.number_of_edges() or 1
    return [
        RankedArticle(id=n, in_degree=d, z_score=(d - mean) / spread, share=d / links)
        for n, d in most_linked(kg)
        if keep is None or n in keep
    ]


def _island_records(graph: nx.DiGraph[int]) -> list[Island]:
    pieces = [tuple(sorted(p)) for p in nx.weakly_connected_components(graph)]
    pieces.sort(key=lambda p: (-len(p), p[0]))
    return [Island(article_ids=p) for p in pieces[1:]]


@pytest.mark.parametrize("topic", [None, "physics", "chemistry", "no such topic"])
def test_report_lists_hold_the_records(seeds_graph: KnowledgeGraph, topic: str | None) -> None:
    report = curation_report(seeds_graph, topic)
    members = None if topic is None else set(seeds_graph.by_topic.get(topic, ()))
    expected = _ranked_records(seeds_graph, members)
    assert list(report.over_linked) == expected
    assert report.over_linked == expected
    assert len(report.over_linked) == len(expected)
    for z in (-1.0, 0.0, 1.0, 2.5):  # a topic's ranking (narrowed by .only) too
        assert report.over_linked.at_least(z) == [r for r in expected if r.z_score >= z]
    graph = seeds_graph.graph if members is None else seeds_graph.graph.subgraph(members)
    assert list(report.islands) == _island_records(graph)
    assert len(report.islands) == len(_island_records(graph))


def test_dev_report_lists_hold_the_records(dev_graph: KnowledgeGraph) -> None:
    report = curation_report(dev_graph)
    assert list(report.over_linked) == _ranked_records(dev_graph)
    # The over-linked: a prefix of the ranking, the same as a filter of it.
    for z in (0.0, 1.5, 3.0, 50.0, -1.0):
        over = report.over_linked.at_least(z)
        assert over == [r for r in _ranked_records(dev_graph) if r.z_score >= z]
    assert 0 < len(report.over_linked.at_least(3.0)) < len(report.over_linked)
    islands = _island_records(dev_graph.graph)
    assert len(islands) > 1000
    assert list(report.islands) == islands
    # A snapshot carries the arrays; the records come back the same.
    again = pickle.loads(pickle.dumps(report, protocol=5))
    assert list(again.over_linked) == list(report.over_linked)
    assert list(again.islands) == islands


def test_records_are_indexed_and_sliced_like_a_list() -> None:
    ranked = RankedArticles(array("q", [7, 3, 9]), array("q", [5, 4, 1]), 2.0, 1.5, 20)
    as_list = [
        RankedArticle(id=7, in_degree=5, z_score=2.0, share=0.25),
        RankedArticle(id=3, in_degree=4, z_score=4 / 3, share=0.2),
        RankedArticle(id=9, in_degree=1, z_score=-2 / 3, share=0.05),
    ]
    assert ranked == as_list
    assert ranked != as_list[:2]
    assert ranked[0] == as_list[0]
    assert ranked[-1] == as_list[-1]
    assert ranked[1:] == as_list[1:]
    assert ranked[::-1] == as_list[::-1]
    for outside in (3, -4):
        with pytest.raises(IndexError):
            ranked[outside]
    assert ranked.only(lambda n, d: d >= 4 and n != 3) == as_list[:1]
    assert ranked.only(lambda n, d: False) == []

    islands = Islands.of([(1, 2, 3), (4, 5), (6,)])
    assert list(islands) == [Island((1, 2, 3)), Island((4, 5)), Island((6,))]
    assert islands[-1] == Island((6,))
    assert islands[1:2] == [Island((4, 5))]
    assert [i.size for i in islands] == [3, 2, 1]
    assert Islands.of([]) == []
    assert len(Islands.of([])) == 0
    with pytest.raises(ValueError, match="ends"):
        Islands(array("q", [1, 2]), array("q", [1]))
    with pytest.raises(ValueError, match="in-degrees"):
        RankedArticles(array("q", [1]), array("q"), 0.0, 1.0, 1)

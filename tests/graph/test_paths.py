"""Learning paths: every rule and option on small corpora, then conformance and speed on dev."""

from __future__ import annotations

import itertools
import math
import random
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from conftest import WriteArticle
from kgraph import budget
from kgraph.errors import ArticleNotFound, DeadlineExceeded, QueryError
from kgraph.graph import KnowledgeGraph, load_graph
from kgraph.graph.bridges import MIN_SCORE
from kgraph.graph.bridges import bridges as bridges_of
from kgraph.graph.paths import (
    MAX_HOPS,
    MAX_PATHS,
    LearningPath,
    PathOptions,
    PathWeight,
    Shortfall,
    StepVia,
    find_learning_paths,
    learning_path,
    learning_paths,
)

# An article of a small corpus: its subject, its keywords, and its links as (rank, target).
Spec = tuple[str, Sequence[str], Sequence[tuple[int, int]]]

BRIDGES = PathOptions(bridges=True)
RANK = PathOptions(weight=PathWeight.RANK)


def _u(n: int) -> str:
    return f"/learn/questions/a{n}"


def _corpus(
    tmp_path: Path, write_article: WriteArticle, specs: Mapping[int, Spec]
) -> KnowledgeGraph:
    """One file per article, with its own subject, keywords and ranked links."""
    for article_id, (subject, keywords, related) in specs.items():
        path = write_article(
            f"{subject.lower()}/a{article_id}.md",
            article_id,
            subject=subject,
            url=_u(article_id),
            related=[(rank, target, _u(target)) for rank, target in related],
        )
        text = path.read_text(encoding="utf-8")
        # Each article its own keywords: a unique one when none is given.
        own = ", ".join(keywords) if keywords else f"only-{article_id}"
        path.write_text(text.replace("one, two, three", own), encoding="utf-8")
    return load_graph(tmp_path / "corpus")


def _chain(*links: tuple[int, int, int]) -> dict[int, Spec]:
    """Biology articles with no shared keyword, linked as (source, rank, target)."""
    related: dict[int, list[tuple[int, int]]] = {}
    for source, rank, target in links:
        related.setdefault(target, [])
        related.setdefault(source, []).append((rank, target))
    return {article_id: ("Biology", (), ranked) for article_id, ranked in related.items()}


def _ids(path: LearningPath | None) -> list[int] | None:
    return None if path is None else [step.article for step in path.steps]


def _dearest(kg: KnowledgeGraph, weight: PathWeight) -> int:
    """What a bridge of score 1 costs: the dearest link (1 by HOPS, the highest rank by RANK)."""
    if weight is PathWeight.HOPS:
        return 1
    return max((int(d["rank"]) for _, _, d in kg.graph.edges(data=True)), default=1)


def _check_walk(kg: KnowledgeGraph, path: LearningPath, options: PathOptions) -> None:
    """``path`` is a real walk: links that exist (or bridges), and figures that add up."""
    graph, found = kg.graph, bridges_of(kg)
    first, *rest = path.steps
    assert (first.via, first.rank, first.shared_keywords, first.topic_change, first.score) == (
        StepVia.START,
        None,
        (),
        False,
        None,
    )
    cost, bridges = 0.0, 0
    for before, step in zip(path.steps, rest, strict=False):
        u, v = before.article, step.article
        assert u != v
        topics = set(kg.articles[u].topics)
        assert step.topic_change == topics.isdisjoint(kg.articles[v].topics)
        if step.via is StepVia.RELATED:
            bridges += 1
            assert step.rank is None
            score = found.score(u, v)
            assert score is not None
            assert score >= MIN_SCORE
            assert step.score == round(score, 4)
            assert not graph.has_edge(u, v)
            assert options.directed or not graph.has_edge(v, u)
            cost += _dearest(kg, options.weight) / score
            continue
        assert step.score is not None
        assert 0 <= step.score < 1
        if step.via is StepVia.BACKLINK:
            assert not options.directed
            assert not graph.has_edge(u, v)
        else:
            assert step.via is StepVia.LINK
        ranks = [graph[u][v]["rank"]] if graph.has_edge(u, v) else []
        if not options.directed and graph.has_edge(v, u):
            ranks.append(graph[v][u]["rank"])
        assert ranks, f"no link {u} -> {v}"
        assert step.rank == min(ranks)
        cost += min(ranks) if options.weight is PathWeight.RANK else 1
    assert len({step.article for step in path.steps}) == len(path.steps)  # simple
    assert path.hops == len(path.steps) - 1 <= options.max_hops
    assert path.bridges == bridges
    assert path.cost == round(cost, 2)
    scores = [step.score for step in rest if step.score is not None]
    assert path.strength == (min(scores) if scores else None)
    assert not {step.article for step in path.steps} & options.avoid


def _weighted(kg: KnowledgeGraph, directed: bool, weight: PathWeight) -> nx.Graph[int]:
    """The links as a plain weighted graph (``w``): either way, a pair costs its lower rank."""
    graph: nx.Graph[int] = nx.DiGraph() if directed else nx.Graph()
    graph.add_nodes_from(kg.graph)
    for u, v, data in kg.graph.edges(data=True):
        cost = data["rank"] if weight is PathWeight.RANK else 1
        if not graph.has_edge(u, v) or graph[u][v]["w"] > cost:
            graph.add_edge(u, v, w=cost)
    return graph


def _cheapest_within(graph: nx.Graph[int], source: int, target: int, max_hops: int) -> float | None:
    """The reference: Bellman-Ford in layers, one hop more per layer, ``max_hops`` layers."""
    best = {source: 0.0}
    improved = dict(best)
    for _ in range(max_hops):
        reached: dict[int, float] = {}
        for u, cost in improved.items():
            for v, data in graph.adj[u].items():
                if cost + data["w"] < min(best.get(v, math.inf), reached.get(v, math.inf)):
                    reached[v] = cost + data["w"]
        best.update(reached)
        improved = reached
    return best.get(target)


# --- the rules, on small corpora -------------------------------------------------------


def test_an_article_to_itself_is_zero_hops(seeds_graph: KnowledgeGraph) -> None:
    path = learning_path(seeds_graph, 168904, 168904)
    assert path is not None
    assert (_ids(path), path.hops, path.cost, path.bridges) == ([168904], 0, 0.0, 0)
    assert path.steps[0].via is StepVia.START
    assert learning_paths(seeds_graph, 168904, 168904, 5) == [path]


def test_unknown_articles_and_bad_options_are_errors(seeds_graph: KnowledgeGraph) -> None:
    kg = seeds_graph
    for source, target in ((999, 168904), (168904, 999)):
        with pytest.raises(ArticleNotFound, match="999"):
            learning_path(kg, source, target)
        with pytest.raises(ArticleNotFound, match="999"):
            learning_paths(kg, source, target)
    for avoided in (168904, 168912):
        options = PathOptions(avoid=frozenset({avoided}))
        with pytest.raises(QueryError, match=f"{avoided}.*avoided"):
            learning_path(kg, 168904, 168912, options)
        with pytest.raises(QueryError, match=str(avoided)):
            learning_paths(kg, 168904, 168912, options=options)
    for k in (0, -1, MAX_PATHS + 1):
        with pytest.raises(QueryError, match="k must be between 1 and 10"):
            learning_paths(kg, 168904, 168912, k)
    for max_hops in (0, MAX_HOPS + 1):
        with pytest.raises(QueryError, match="max_hops must be between 1 and 100"):
            learning_path(kg, 168904, 168912, PathOptions(max_hops=max_hops))
    assert len(learning_paths(kg, 168904, 168912, MAX_PATHS)) <= MAX_PATHS
    assert learning_paths(kg, 168904, 168912, 1)[0].hops == 3
    assert learning_path(kg, 168904, 168912, PathOptions(max_hops=MAX_HOPS)) is not None


def test_seeds_paths_are_walks(seeds_graph: KnowledgeGraph) -> None:
    kg = seeds_graph
    for options in (PathOptions(), RANK, PathOptions(directed=False), BRIDGES):
        for source in kg.articles:
            for target in kg.articles:
                path = learning_path(kg, source, target, options)
                if path is not None:
                    _check_walk(kg, path, options)
                    assert (path.steps[0].article, path.steps[-1].article) == (source, target)


def test_avoid_keeps_an_article_off_every_path(tmp_path: Path, write_article: WriteArticle) -> None:
    kg = _corpus(tmp_path, write_article, _chain((1, 1, 2), (2, 1, 4), (1, 2, 3), (3, 1, 4)))
    assert _ids(learning_path(kg, 1, 4)) == [1, 2, 4]
    avoid_two = PathOptions(avoid=frozenset({2}))
    assert _ids(learning_path(kg, 1, 4, avoid_two)) == [1, 3, 4]
    assert [_ids(p) for p in learning_paths(kg, 1, 4, 5, avoid_two)] == [[1, 3, 4]]
    assert len(learning_paths(kg, 1, 4, 5)) == 2
    avoid_both = PathOptions(avoid=frozenset({2, 3, 99}))  # an unknown id is no matter
    assert learning_path(kg, 1, 4, avoid_both) is None
    assert learning_paths(kg, 1, 4, 5, avoid_both) == []


def test_same_topic_keeps_every_step_in_the_source_topics(
    tmp_path: Path, write_article: WriteArticle
) -> None:
    specs: dict[int, Spec] = {
        1: ("Biology", (), [(1, 2), (2, 3)]),
        2: ("Chemistry", (), [(1, 4), (2, 6)]),
        3: ("Biology", (), [(1, 5)]),
        5: ("Biology", (), [(1, 4)]),
        4: ("Biology", (), []),
        6: ("Chemistry", (), []),
    }
    kg = _corpus(tmp_path, write_article, specs)
    path = learning_path(kg, 1, 4)
    assert _ids(path) == [1, 2, 4]
    assert path is not None
    assert [step.topic_change for step in path.steps] == [False, True, True]
    same = PathOptions(same_topic=True)
    path = learning_path(kg, 1, 4, same)
    assert _ids(path) == [1, 3, 5, 4]
    assert path is not None
    assert not any(step.topic_change for step in path.steps)
    assert all(_ids(p) == [1, 3, 5, 4] for p in learning_paths(kg, 1, 4, 3, same))
    assert learning_path(kg, 1, 6) is not None
    assert learning_path(kg, 1, 6, same) is None  # the target is off topic
    assert learning_paths(kg, 1, 6, 3, same) == []


def test_max_hops_cuts_longer_paths(tmp_path: Path, write_article: WriteArticle) -> None:
    kg = _corpus(
        tmp_path, write_article, _chain((1, 1, 2), (2, 1, 3), (1, 2, 4), (4, 1, 5), (5, 1, 3))
    )
    assert _ids(learning_path(kg, 1, 3, PathOptions(max_hops=2))) == [1, 2, 3]
    assert learning_path(kg, 1, 3, PathOptions(max_hops=1)) is None
    assert [p.hops for p in learning_paths(kg, 1, 3, 5)] == [2, 3]
    assert [p.hops for p in learning_paths(kg, 1, 3, 5, PathOptions(max_hops=2))] == [2]
    assert learning_paths(kg, 1, 3, 5, PathOptions(max_hops=1)) == []


def test_directed_or_either_way(tmp_path: Path, write_article: WriteArticle) -> None:
    kg = _corpus(tmp_path, write_article, _chain((1, 2, 2), (3, 4, 2)))
    assert learning_path(kg, 1, 3) is None
    assert learning_paths(kg, 1, 3) == []
    either = PathOptions(directed=False)
    path = learning_path(kg, 1, 3, either)
    assert _ids(path) == [1, 2, 3]
    assert path is not None
    assert [step.rank for step in path.steps] == [None, 2, 4]  # 3 -> 2, taken backwards
    assert [_ids(p) for p in learning_paths(kg, 1, 3, 3, either)] == [[1, 2, 3]]


def test_rank_prefers_a_longer_path_of_low_ranks(
    tmp_path: Path, write_article: WriteArticle
) -> None:
    kg = _corpus(tmp_path, write_article, _chain((1, 5, 4), (1, 1, 2), (2, 1, 3), (3, 1, 4)))
    hops = learning_path(kg, 1, 4)
    by_rank = learning_path(kg, 1, 4, RANK)
    assert hops is not None
    assert by_rank is not None
    assert (_ids(hops), hops.cost, hops.steps[1].rank) == ([1, 4], 1.0, 5)
    assert (_ids(by_rank), by_rank.cost, by_rank.hops) == ([1, 2, 3, 4], 3.0, 3)
    assert [(_ids(p), p.cost) for p in learning_paths(kg, 1, 4, 3, RANK)] == [
        ([1, 2, 3, 4], 3.0),
        ([1, 4], 5.0),
    ]
    assert [(_ids(p), p.cost) for p in learning_paths(kg, 1, 4, 3)] == [
        ([1, 4], 1.0),
        ([1, 2, 3, 4], 3.0),
    ]


def test_either_way_a_link_costs_its_lower_rank(
    tmp_path: Path, write_article: WriteArticle
) -> None:
    kg = _corpus(tmp_path, write_article, _chain((1, 5, 2), (2, 1, 1), (1, 1, 3), (3, 2, 2)))
    options = PathOptions(directed=False, weight=PathWeight.RANK)
    path = learning_path(kg, 1, 2, options)
    assert path is not None
    assert (_ids(path), path.cost, path.steps[1].rank) == ([1, 2], 1.0, 1)
    assert _ids(learning_path(kg, 1, 2, RANK)) == [1, 3, 2]


def test_learning_paths_are_distinct_simple_and_cheapest_first(
    tmp_path: Path, write_article: WriteArticle
) -> None:
    # A ladder: many paths from 1 to 9, of several lengths and costs.
    links = [(1, 1, 2), (1, 2, 3), (2, 1, 4), (3, 3, 4), (2, 4, 5), (4, 1, 5), (3, 2, 6)]
    links += [(5, 1, 9), (6, 5, 9), (4, 3, 6), (6, 1, 5), (5, 2, 2)]
    kg = _corpus(tmp_path, write_article, _chain(*links))
    for options in (PathOptions(), RANK, PathOptions(directed=False)):
        found = learning_paths(kg, 1, 9, MAX_PATHS, options)
        assert len(found) > 3
        assert len({tuple(_ids(p) or ()) for p in found}) == len(found)
        assert [p.cost for p in found] == sorted(p.cost for p in found)
        for path in found:
            _check_walk(kg, path, options)
        best = learning_path(kg, 1, 9, options)
        assert best is not None
        assert found[0].cost == best.cost
        assert len(learning_paths(kg, 1, 9, 2, options)) == 2


def _random_corpus(
    tmp_path: Path, write_article: WriteArticle, articles: int, links: range, seed: int
) -> KnowledgeGraph:
    """Biology articles with a random number of random links each (in ``links``), of ranks 1-5."""
    rng = random.Random(seed)
    specs: dict[int, Spec] = {}
    for article_id in range(1, articles + 1):
        others = [i for i in range(1, articles + 1) if i != article_id]
        targets = rng.sample(others, rng.choice(links))
        specs[article_id] = ("Biology", (), [(rng.randint(1, 5), t) for t in targets])
    return _corpus(tmp_path, write_article, specs)


def test_max_hops_gives_the_cheapest_path_that_fits(
    tmp_path: Path, write_article: WriteArticle
) -> None:
    kg = _random_corpus(tmp_path, write_article, 14, range(4), 4)
    binding = 0
    for directed in (True, False):
        for weight in PathWeight:
            reference = _weighted(kg, directed, weight)
            for max_hops in (1, 2, 3, 5):
                options = PathOptions(directed=directed, weight=weight, max_hops=max_hops)
                for source in kg.articles:
                    for target in kg.articles:
                        if source == target:
                            continue
                        path = learning_path(kg, source, target, options)
                        expected = _cheapest_within(reference, source, target, max_hops)
                        assert (path and path.cost) == expected, (source, target, options)
                        if path is None:
                            continue
                        _check_walk(kg, path, options)
                        unbounded = learning_path(
                            kg, source, target, replace(options, max_hops=MAX_HOPS)
                        )
                        assert unbounded is not None
                        binding += unbounded.hops > max_hops
    assert binding > 20  # the hop limit often rules the cheapest path out


def test_learning_paths_within_max_hops_are_the_cheapest_that_fit(
    tmp_path: Path, write_article: WriteArticle
) -> None:
    kg = _random_corpus(tmp_path, write_article, 10, range(2, 5), 9)
    full = 0  # pairs with more paths than are listed
    for directed in (True, False):
        for weight in PathWeight:
            reference = _weighted(kg, directed, weight)
            for max_hops in (2, 3, 6):
                options = PathOptions(directed=directed, weight=weight, max_hops=max_hops)
                for source in kg.articles:
                    for target in kg.articles:
                        if source == target:
                            continue
                        simple = nx.all_simple_paths(reference, source, target, cutoff=max_hops)
                        costs = sorted(
                            sum(reference[u][v]["w"] for u, v in itertools.pairwise(walk))
                            for walk in simple
                        )
                        found = learning_paths(
                            kg, source, target, MAX_PATHS, options, time_budget=60.0
                        )
                        assert [p.cost for p in found] == costs[:MAX_PATHS]
                        full += len(costs) > MAX_PATHS
                        assert len({tuple(_ids(p) or ()) for p in found}) == len(found)
                        for path in found:
                            _check_walk(kg, path, options)
    assert full > 100


def test_max_hops_by_rank_on_a_chain_and_a_shortcut(
    tmp_path: Path, write_article: WriteArticle
) -> None:
    # A chain of 29 links of rank 1, and a shortcut of two links of rank 20
    # through its middle article 15: by rank, the chain is cheapest.
    links = [(i, 1, i + 1) for i in range(1, 30)] + [(1, 20, 15), (15, 20, 30)]
    kg = _corpus(tmp_path, write_article, _chain(*links))
    # (hops, cost) of every path: chain; chain to 15, then across; across, then chain; shortcut.
    every = [(29, 29.0), (15, 34.0), (16, 35.0), (2, 40.0)]
    for max_hops in (1, 2, 14, 15, 16, 28, 29, MAX_HOPS):
        options = PathOptions(weight=PathWeight.RANK, max_hops=max_hops)
        fitting = [(h, c) for h, c in every if h <= max_hops]
        path = learning_path(kg, 1, 30, options)
        assert (path and (path.hops, path.cost)) == (fitting[0] if fitting else None), max_hops
        found = learning_paths(kg, 1, 30, MAX_PATHS, options)
        assert [(p.hops, p.cost) for p in found] == fitting, max_hops
    assert _ids(learning_path(kg, 1, 30, PathOptions(weight=PathWeight.RANK, max_hops=2))) == [
        1,
        15,
        30,
    ]


def _grid(tmp_path: Path, write_article: WriteArticle, side: int) -> KnowledgeGraph:
    """A square of articles, each linking right and down with random ranks: paths galore."""
    rng = random.Random(1)
    links = []
    for row in range(side):
        for column in range(side):
            article = row * side + column + 1
            if column + 1 < side:
                links.append((article, rng.randint(1, 2), article + 1))
            if row + 1 < side:
                links.append((article, rng.randint(1, 2), article + side))
    return _corpus(tmp_path, write_article, _chain(*links))


def test_a_hard_pair_keeps_the_time_budget(tmp_path: Path, write_article: WriteArticle) -> None:
    # Either way and by rank, each next path across the grid costs a search
    # for each of the 70 articles of the path before (Yen's algorithm), each
    # over a good part of the grid's 1,296 articles: ten paths take longer
    # than a budget of a quarter of that, which must cut in within the
    # listing (networkx's listing read the clock only between paths, and
    # overran budgets of 50 ms by up to 400 ms on such grids).
    side = 36
    kg = _grid(tmp_path, write_article, side)
    options = PathOptions(directed=False, weight=PathWeight.RANK, max_hops=MAX_HOPS)
    source, target = 1, side * side

    def elapsed(budget: float) -> tuple[float, int]:
        start = time.perf_counter()
        found = learning_paths(kg, source, target, MAX_PATHS, options, time_budget=budget)
        return time.perf_counter() - start, len(found)

    elapsed(0.0)  # warm up: the undirected view and the ranks
    first_only = min(elapsed(0.0)[0] for _ in range(3))
    every, count = min(elapsed(60.0) for _ in range(2))
    assert count == MAX_PATHS
    budget = (every - first_only) / 4
    for _ in range(3):
        seconds, count = elapsed(budget)
        assert count < MAX_PATHS  # the budget did cut the listing
        if seconds < first_only + budget + 0.02:
            break
    else:
        pytest.fail(
            f"a budget of {budget:.3f} s took {seconds:.3f} s, the first path {first_only:.3f} s"
        )
    found = learning_paths(kg, source, target, 2, options, time_budget=60.0)
    assert [p.cost for p in found] == sorted(p.cost for p in found)
    assert len(found) == 2
    # Every path takes at least 70 hops: with fewer allowed, the answer is at once none.
    fewest = 2 * (side - 1)
    for directed in (True, False):
        too_few = replace(options, max_hops=fewest - 1, directed=directed)
        start = time.perf_counter()
        assert learning_path(kg, source, target, too_few) is None
        assert learning_paths(kg, source, target, MAX_PATHS, too_few) == []
        assert time.perf_counter() - start < 0.25  # was twice the budget: over 1 s
        fits = replace(options, max_hops=fewest, directed=directed)
        path = learning_path(kg, source, target, fits)
        assert path is not None
        assert path.hops == fewest
        reference = _weighted(kg, directed, PathWeight.RANK)
        assert path.cost == _cheapest_within(reference, source, target, fewest)


def test_the_time_budget_still_lists_the_first_path(seeds_graph: KnowledgeGraph) -> None:
    found = learning_paths(seeds_graph, 168904, 168912, MAX_PATHS, time_budget=0.0)
    assert [_ids(p) for p in found] == [[168904, 168897, 168911, 168912]]


def test_the_listing_says_whether_it_is_complete(
    tmp_path: Path, write_article: WriteArticle
) -> None:
    kg = _corpus(tmp_path, write_article, _chain((1, 1, 2), (2, 1, 4), (1, 2, 3), (3, 1, 4)))
    both = find_learning_paths(kg, 1, 4, MAX_PATHS, time_budget=60.0)
    assert ([_ids(p) for p in both.paths], both.complete) == ([[1, 2, 4], [1, 3, 4]], True)
    assert find_learning_paths(kg, 1, 4, 1, time_budget=0.0).complete  # as many as asked
    cut = find_learning_paths(kg, 1, 4, MAX_PATHS, time_budget=0.0)
    assert ([_ids(p) for p in cut.paths], cut.complete) == ([[1, 2, 4]], False)
    assert learning_paths(kg, 1, 4, MAX_PATHS) == list(both.paths)
    for source, target in ((4, 1), (1, 1)):  # no path; the path of no step
        assert find_learning_paths(kg, source, target, MAX_PATHS, time_budget=0.0).complete


def test_fewer_paths_than_asked_say_why(tmp_path: Path, write_article: WriteArticle) -> None:
    kg = _corpus(tmp_path, write_article, _chain((1, 1, 2), (2, 1, 4), (1, 2, 3), (3, 1, 4)))
    enough = find_learning_paths(kg, 1, 4, 2)
    assert (enough.shortfall, enough.explanation) == (None, None)
    both = find_learning_paths(kg, 1, 4, 3, time_budget=60.0)
    assert (len(both.paths), both.shortfall) == (2, Shortfall.NO_MORE)
    assert both.explanation == (
        "only 2 distinct paths of links within 20 hops; directed: false or bridges may find more"
    )
    cut = find_learning_paths(kg, 1, 4, 3, time_budget=0.0)
    assert (len(cut.paths), cut.shortfall) == (1, Shortfall.TIME_BOUND)
    assert cut.explanation is not None
    assert cut.explanation.startswith("the search stopped at its time bound (0 s) after 1 of 3")
    none = find_learning_paths(kg, 4, 1, 3)
    assert (none.paths, none.shortfall) == ((), Shortfall.NO_PATH)
    assert none.explanation == "no path within 20 hops; try directed: false or bridges"
    hint = find_learning_paths(kg, 4, 1, 3, PathOptions(directed=False, bridges=True, max_hops=1))
    assert hint.explanation == "no path within 1 hops"
    itself = find_learning_paths(kg, 1, 1, 3)
    assert (len(itself.paths), itself.shortfall) == (1, Shortfall.NO_MORE)
    assert find_learning_paths(kg, 1, 1, 1).shortfall is None


def test_the_time_budget_keeps_within_the_request_budget(
    tmp_path: Path, write_article: WriteArticle
) -> None:
    side = 36
    kg = _grid(tmp_path, write_article, side)
    options = PathOptions(directed=False, weight=PathWeight.RANK, max_hops=MAX_HOPS)
    source, target = 1, side * side
    start = time.perf_counter()
    every = find_learning_paths(kg, source, target, MAX_PATHS, options, time_budget=60.0)
    took = time.perf_counter() - start
    assert (len(every.paths), every.complete) == (MAX_PATHS, True)
    # The request has a quarter of that left: the listing stops then, incomplete, not at 60 s.
    start = time.perf_counter()
    with budget.within(took / 4):
        cut = find_learning_paths(kg, source, target, MAX_PATHS, options, time_budget=60.0)
    assert time.perf_counter() - start < took / 4 + 0.1
    assert not cut.complete
    assert cut.paths == every.paths[: len(cut.paths)]
    # A request cancelled (its client left) stops the search, even for its first path.
    with budget.within(60.0) as request:
        request.cancel()
        with pytest.raises(DeadlineExceeded):
            find_learning_paths(kg, source, target, MAX_PATHS, options)


# --- keyword bridges ---------------------------------------------------------------------


def test_bridges_only_where_no_link_path(tmp_path: Path, write_article: WriteArticle) -> None:
    # Every article says the same but its keywords: those make its text.
    specs: dict[int, Spec] = {
        1: ("Biology", ["shared", "rare"], [(1, 2)]),
        2: ("Biology", ["two"], [(1, 3)]),
        3: ("Biology", ["three"], [(1, 4)]),
        4: ("Chemistry", ["shared", "rare"], []),
        5: ("Physics", ["five"], []),
        6: ("Physics", ["six"], []),
    }
    kg = _corpus(tmp_path, write_article, specs)
    # 1 and 4 say the same, but links join them: no bridge, however long the links.
    path = learning_path(kg, 1, 4, BRIDGES)
    assert path is not None
    assert (_ids(path), path.bridges, path.cost) == ([1, 2, 3, 4], 0, 3.0)
    # Backwards there is no link path: one bridge, which costs 1 / its score.
    score = bridges_of(kg).score(4, 1)
    assert score is not None
    assert score > 0.5
    path = learning_path(kg, 4, 1, BRIDGES)
    assert path is not None
    assert (_ids(path), path.bridges, path.hops) == ([4, 1], 1, 1)
    assert path.cost == round(1 / score, 2)
    step = path.steps[1]
    assert (step.via, step.rank, step.score) == (StepVia.RELATED, None, round(score, 4))
    assert step.shared_keywords == ("shared", "rare")
    assert set(step.shared_terms) == {"shared", "rare"}
    assert step.topic_change
    assert path.strength == step.score
    _check_walk(kg, path, BRIDGES)
    assert learning_path(kg, 4, 1) is None
    assert [_ids(p) for p in learning_paths(kg, 4, 1, 3, BRIDGES)] == [[4, 1]]
    assert learning_paths(kg, 4, 1, 3) == []
    # After a bridge, links again: 4 ~ 1 -> 2.
    path = learning_path(kg, 4, 2, BRIDGES)
    assert path is not None
    assert (_ids(path), path.bridges, path.cost) == ([4, 1, 2], 1, round(1 + 1 / score, 2))
    # 6 shares nothing and has no link: nothing reaches it.
    assert bridges_of(kg).of(6) == []
    assert learning_path(kg, 4, 6, BRIDGES) is None
    assert learning_paths(kg, 4, 6, 3, BRIDGES) == []
    # A link path longer than max_hops is no path: the best within the limit is a bridge.
    assert learning_path(kg, 1, 4, PathOptions(max_hops=2)) is None
    path = learning_path(kg, 1, 4, PathOptions(bridges=True, max_hops=2))
    assert path is not None
    assert (_ids(path), path.bridges) == ([1, 4], 1)
    assert [_ids(p) for p in learning_paths(kg, 1, 4, 3, PathOptions(max_hops=2))] == []
    bridged = learning_paths(kg, 1, 4, 3, PathOptions(bridges=True, max_hops=2))
    assert [_ids(p) for p in bridged] == [[1, 4]]


def test_one_shared_word_is_no_bridge(tmp_path: Path, write_article: WriteArticle) -> None:
    # 1 and 2 share one keyword of five each: too little to learn by (today's
    # keyword bridges took it); 3 says what 1 says.
    specs: dict[int, Spec] = {
        1: ("Biology", ["function", "membrane", "lipid", "bilayer", "protein"], []),
        2: ("Mathematics", ["function", "integral", "limit", "area", "calculus"], []),
        3: ("Chemistry", ["membrane", "lipid", "bilayer", "protein", "phospholipid"], []),
    }
    kg = _corpus(tmp_path, write_article, specs)
    assert bridges_of(kg).score(1, 2) is None
    assert learning_path(kg, 1, 2, BRIDGES) is None
    path = learning_path(kg, 1, 3, BRIDGES)
    assert path is not None
    assert _ids(path) == [1, 3]
    assert path.steps[1].score is not None
    assert path.steps[1].score >= MIN_SCORE


def test_strong_bridges_beat_a_weak_short_cut(tmp_path: Path, write_article: WriteArticle) -> None:
    # 1 ~ 9 directly on a weak bridge (four words of six, those the most
    # articles hold), or 1 ~ 2 (the same words) -> 3 -> 9 by links: two hops
    # more, but every step strong.
    specs: dict[int, Spec] = {
        1: ("Biology", ["alpha", "beta", "gamma", "delta", "omega", "sigma"], []),
        2: ("Biology", ["alpha", "beta", "gamma", "delta", "omega", "sigma"], [(1, 3)]),
        3: ("Biology", ["zeta"], [(1, 9)]),
        9: ("Biology", ["beta", "gamma", "delta", "omega", "kappa", "iota"], []),
    }
    kg = _corpus(tmp_path, write_article, specs)
    weak, strong = bridges_of(kg).score(1, 9), bridges_of(kg).score(1, 2)
    assert weak is not None
    assert strong is not None
    assert weak < strong
    path = learning_path(kg, 1, 9, BRIDGES)
    assert path is not None
    assert _ids(path) == [1, 2, 3, 9]
    assert path.cost == round(1 / strong + 2, 2) < round(1 / weak, 2)
    assert [s.via for s in path.steps[1:]] == [StepVia.RELATED, StepVia.LINK, StepVia.LINK]
    _check_walk(kg, path, BRIDGES)
    # Both ways are listed, the cheaper first; each takes other bridges.
    found = find_learning_paths(kg, 1, 9, 3, BRIDGES)
    assert [_ids(p) for p in found.paths] == [[1, 2, 3, 9], [1, 9]]
    assert found.complete
    assert found.shortfall is Shortfall.NO_MORE
    assert found.explanation is not None
    assert found.explanation.startswith("only 2 distinct paths with bridges")
    for each in found.paths:
        _check_walk(kg, each, BRIDGES)
    # Within one hop, only the weak bridge fits.
    assert _ids(learning_path(kg, 1, 9, PathOptions(bridges=True, max_hops=1))) == [1, 9]


def test_bridges_respect_topics_and_direction(tmp_path: Path, write_article: WriteArticle) -> None:
    specs: dict[int, Spec] = {
        1: ("Biology", ["k", "q"], []),
        2: ("Chemistry", ["k", "q"], [(1, 3)]),
        3: ("Biology", ["m"], []),
        4: ("Biology", ["k", "q"], []),
        5: ("Biology", [], [(1, 4)]),
        6: ("Biology", [], [(2, 5)]),
    }
    kg = _corpus(tmp_path, write_article, specs)
    assert _ids(learning_path(kg, 1, 3, BRIDGES)) == [1, 2, 3]
    # A bridge may not land off topic either.
    assert learning_path(kg, 1, 3, PathOptions(bridges=True, same_topic=True)) is None
    # Links after a bridge follow their direction unless told otherwise: 4 <- 5 <- 6.
    assert learning_path(kg, 1, 6, BRIDGES) is None
    either = PathOptions(bridges=True, directed=False)
    path = learning_path(kg, 1, 6, either)
    assert path is not None
    assert (_ids(path), path.bridges) == ([1, 4, 5, 6], 1)
    assert [step.via for step in path.steps] == [
        StepVia.START,
        StepVia.RELATED,
        StepVia.BACKLINK,
        StepVia.BACKLINK,
    ]
    assert [step.rank for step in path.steps] == [None, None, 1, 2]
    _check_walk(kg, path, either)


def _bridge_reference(kg: KnowledgeGraph, directed: bool, weight: PathWeight) -> nx.Graph[int]:
    """Links and bridges as one weighted graph (``w``): a bridge of score s costs dearest / s.

    A link between the same two articles is cheaper and wins.
    """
    graph = _weighted(kg, directed, weight)
    found, dearest = bridges_of(kg), _dearest(kg, weight)
    for u in kg.articles:
        for v, score in found.of(u):
            for a, b in ((u, v), (v, u)) if directed else ((u, v),):
                if not graph.has_edge(a, b):
                    graph.add_edge(a, b, w=dearest / score)
    return graph


def _reference_cost(reference: nx.Graph[int], source: int, target: int) -> float | None:
    try:
        cost, _ = nx.bidirectional_dijkstra(reference, source, target, weight="w")
    except nx.NetworkXNoPath:
        return None
    return round(float(cost), 2)


def _keyword_corpus(
    tmp_path: Path, write_article: WriteArticle, seed: int, articles: int = 40
) -> KnowledgeGraph:
    """Articles of two topics, each with up to 3 of 12 keywords and up to 2 random links."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(12)]
    specs: dict[int, Spec] = {}
    for article_id in range(1, articles + 1):
        subject = rng.choice(["Biology", "Chemistry"])
        keywords = rng.sample(words, rng.randint(0, 3))
        others = [i for i in range(1, articles + 1) if i != article_id]
        targets = rng.sample(others, rng.randint(0, 2))
        specs[article_id] = (subject, keywords, [(rng.randint(1, 5), t) for t in targets])
    return _corpus(tmp_path, write_article, specs)


def test_bridged_paths_match_a_reference_on_random_corpora(
    tmp_path: Path, write_article: WriteArticle
) -> None:
    kg = _keyword_corpus(tmp_path, write_article, 20_251_125)
    assert len(bridges_of(kg).others) > 40  # bridges enough to matter
    bridged = 0
    for directed in (True, False):
        for weight in PathWeight:
            options = PathOptions(directed=directed, weight=weight, bridges=True, max_hops=MAX_HOPS)
            plain = replace(options, bridges=False)
            reference = _bridge_reference(kg, directed, weight)
            for source in kg.articles:
                for target in kg.articles:
                    path = learning_path(kg, source, target, options)
                    if learning_path(kg, source, target, plain) is not None:
                        continue  # links only: checked against networkx elsewhere
                    assert (path and path.cost) == _reference_cost(reference, source, target)
                    if path is not None:
                        bridged += 1
                        _check_walk(kg, path, options)
    assert bridged > 100


def test_bridged_paths_within_max_hops_match_a_reference(
    tmp_path: Path, write_article: WriteArticle
) -> None:
    kg = _keyword_corpus(tmp_path, write_article, 11, articles=30)
    for directed in (True, False):
        for weight in PathWeight:
            reference = _bridge_reference(kg, directed, weight)
            for max_hops in (1, 2, 3):
                options = PathOptions(
                    directed=directed, weight=weight, bridges=True, max_hops=max_hops
                )
                plain = replace(options, bridges=False)
                for source in kg.articles:
                    for target in kg.articles:
                        if learning_path(kg, source, target, plain) is not None:
                            continue
                        path = learning_path(kg, source, target, options)
                        expected = _cheapest_within(reference, source, target, max_hops)
                        expected = None if expected is None else round(expected, 2)
                        assert (path and path.cost) == expected, (source, target, options)
                        if path is not None:
                            _check_walk(kg, path, options)


# --- the dev corpus ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def dev_pairs(dev_graph: KnowledgeGraph) -> list[tuple[int, int]]:
    """200 pairs; half of them in one weakly connected component, so many have paths."""
    rng = random.Random(20_251_125)
    component: dict[int, list[int]] = {}
    for nodes in nx.weakly_connected_components(dev_graph.graph):
        members = sorted(nodes)
        for node in members:
            component[node] = members
    ids = sorted(dev_graph.articles)
    pairs = []
    for i in range(200):
        source = rng.choice(ids)
        target = rng.choice(component[source] if i % 2 == 0 else ids)
        pairs.append((source, target))
    return pairs


def _hops_or_none(graph: nx.Graph[int], source: int, target: int) -> int | None:
    try:
        return int(nx.shortest_path_length(graph, source, target))
    except nx.NetworkXNoPath:
        return None


def test_dev_paths_are_shortest(
    dev_graph: KnowledgeGraph, dev_pairs: list[tuple[int, int]]
) -> None:
    kg = dev_graph
    either = kg.graph.to_undirected(as_view=True)
    succ, pred = kg.graph.succ, kg.graph.pred

    def either_rank(u: int, v: int, _: object) -> float:
        return min(int(d["rank"]) for d in (succ[u].get(v), pred[u].get(v)) if d is not None)

    lowest: dict[bool, Any] = {True: "rank", False: either_rank}
    found = {True: 0, False: 0}
    ranked = {True: 0, False: 0}
    for source, target in dev_pairs:
        for directed, graph in ((True, kg.graph), (False, either)):
            options = PathOptions(directed=directed, max_hops=MAX_HOPS)
            path = learning_path(kg, source, target, options)
            expected = _hops_or_none(graph, source, target)
            assert (None if path is None else path.hops) == expected
            if path is not None:
                found[directed] += 1
                _check_walk(kg, path, options)
        for directed, graph in ((True, kg.graph), (False, either)):
            options = PathOptions(directed=directed, weight=PathWeight.RANK, max_hops=MAX_HOPS)
            path = learning_path(kg, source, target, options)
            try:
                cost, _ = nx.bidirectional_dijkstra(graph, source, target, weight=lowest[directed])
            except nx.NetworkXNoPath:
                assert path is None
            else:
                assert path is not None
                assert path.cost == cost
                _check_walk(kg, path, options)
                ranked[directed] += 1
    assert found[True] >= 60
    assert found[False] >= found[True]
    assert ranked == found


def test_dev_several_paths(dev_graph: KnowledgeGraph, dev_pairs: list[tuple[int, int]]) -> None:
    kg = dev_graph
    either = PathOptions(directed=False)
    every = (PathOptions(), RANK, either, replace(either, weight=PathWeight.RANK))
    for options in every:
        for source, target in dev_pairs:
            found = learning_paths(kg, source, target, 3, options)
            assert len(found) <= 3
            assert len({tuple(_ids(p) or ()) for p in found}) == len(found)
            assert [p.cost for p in found] == sorted(p.cost for p in found)
            best = learning_path(kg, source, target, options)
            assert (best is None) == (not found)
            if best is not None:
                assert found[0].cost == best.cost
            for path in found:
                _check_walk(kg, path, options)


@pytest.fixture(scope="module")
def dev_linked_pairs(dev_graph: KnowledgeGraph) -> list[tuple[int, int, int, int | None]]:
    """200 pairs of distinct articles of the largest piece, with their fewest hops.

    Each as ``(source, target, hops either way, hops along links or None)``.
    """
    either = dev_graph.graph.to_undirected(as_view=True)
    largest = max((sorted(piece) for piece in nx.connected_components(either)), key=len)
    rng = random.Random(2)
    pairs: list[tuple[int, int, int, int | None]] = []
    while len(pairs) < 200:
        source, target = rng.sample(largest, 2)
        hops = int(nx.shortest_path_length(either, source, target))
        pairs.append((source, target, hops, _hops_or_none(dev_graph.graph, source, target)))
    return pairs


def test_dev_rank_within_max_hops(
    dev_graph: KnowledgeGraph, dev_linked_pairs: list[tuple[int, int, int, int | None]]
) -> None:
    # With max_hops the fewest hops, the cheapest path by rank is often too
    # long: the path that fits must still be found, and be the cheapest of those.
    kg = dev_graph
    references = {d: _weighted(kg, d, PathWeight.RANK) for d in (True, False)}
    binding = {True: 0, False: 0}
    seconds = []
    for source, target, either_hops, hops in dev_linked_pairs:
        for directed, max_hops in ((False, either_hops), (True, hops)):
            if max_hops is None or max_hops > MAX_HOPS:
                continue
            options = PathOptions(directed=directed, weight=PathWeight.RANK, max_hops=max_hops)
            start = time.perf_counter()
            path = learning_path(kg, source, target, options)
            seconds.append(time.perf_counter() - start)
            assert path is not None, (source, target, options)
            _check_walk(kg, path, options)
            reference = references[directed]
            assert path.cost == _cheapest_within(reference, source, target, max_hops)
            unbounded = learning_path(kg, source, target, replace(options, max_hops=MAX_HOPS))
            assert unbounded is not None
            binding[directed] += unbounded.hops > max_hops
            found = learning_paths(kg, source, target, 3, options)
            assert found[0].cost == path.cost
            assert [p.cost for p in found] == sorted(p.cost for p in found)
            assert len({tuple(_ids(p) or ()) for p in found}) == len(found)
            for each in found:
                _check_walk(kg, each, options)
            if max_hops > 1:  # one hop fewer: no path, and at once
                start = time.perf_counter()
                assert (
                    learning_path(kg, source, target, replace(options, max_hops=max_hops - 1))
                    is None
                )
                seconds.append(time.perf_counter() - start)
    assert binding[False] >= 20
    assert binding[True] >= 2
    assert statistics.quantiles(seconds, n=20)[-1] < 0.2  # p95; the target is 50 ms


@pytest.fixture(scope="module")
def dev_keyword_pairs(dev_graph: KnowledgeGraph) -> list[tuple[int, int]]:
    rng = random.Random(7)
    ids = sorted(i for i, article in dev_graph.articles.items() if article.keywords)
    return [(rng.choice(ids), rng.choice(ids)) for _ in range(200)]


def test_dev_bridges(dev_graph: KnowledgeGraph, dev_keyword_pairs: list[tuple[int, int]]) -> None:
    kg = dev_graph
    options = PathOptions(bridges=True, max_hops=MAX_HOPS)
    found = 0
    for source, target in dev_keyword_pairs:
        path = learning_path(kg, source, target, options)
        if path is None:
            continue
        found += 1
        _check_walk(kg, path, options)
        linked = nx.has_path(kg.graph, source, target)
        assert (path.bridges == 0) == linked
    assert found >= 0.95 * len(dev_keyword_pairs)


def test_dev_bridged_paths_are_cheapest(
    dev_graph: KnowledgeGraph, dev_keyword_pairs: list[tuple[int, int]]
) -> None:
    kg = dev_graph
    reference = _bridge_reference(kg, True, PathWeight.HOPS)
    options = PathOptions(bridges=True, max_hops=MAX_HOPS)
    checked = 0
    for source, target in dev_keyword_pairs[:40]:
        if nx.has_path(kg.graph, source, target):
            continue
        path = learning_path(kg, source, target, options)
        assert (path and path.cost) == _reference_cost(reference, source, target)
        checked += 1
    assert checked >= 30


def _timings(call: object, pairs: Sequence[tuple[int, int]]) -> tuple[float, float]:
    """p50 and p95 of ``call(source, target)``, in milliseconds."""
    assert callable(call)
    seconds = []
    for source, target in pairs:
        start = time.perf_counter()
        call(source, target)
        seconds.append(time.perf_counter() - start)
    cuts = statistics.quantiles(seconds, n=100)
    return cuts[49] * 1000, cuts[94] * 1000


def test_dev_paths_are_fast(
    dev_graph: KnowledgeGraph,
    dev_pairs: list[tuple[int, int]],
    dev_keyword_pairs: list[tuple[int, int]],
    record_property: Callable[[str, object], None],
) -> None:
    kg = dev_graph
    either = PathOptions(directed=False)
    learning_path(kg, *dev_pairs[0], either)  # warm up: the undirected view is made once
    measured = {
        "learning_path": _timings(lambda s, t: learning_path(kg, s, t), dev_pairs),
        "learning_path either way": _timings(
            lambda s, t: learning_path(kg, s, t, either), dev_pairs
        ),
        "learning_path by rank": _timings(lambda s, t: learning_path(kg, s, t, RANK), dev_pairs),
        "learning_path with bridges": _timings(
            lambda s, t: learning_path(kg, s, t, BRIDGES), dev_keyword_pairs
        ),
        "learning_paths k=3": _timings(lambda s, t: learning_paths(kg, s, t, 3), dev_pairs),
        "learning_paths k=3 by rank": _timings(
            lambda s, t: learning_paths(kg, s, t, 3, RANK), dev_pairs
        ),
    }
    for name, (p50, p95) in measured.items():
        record_property(name, f"p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        print(f"{name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    # Targets: 50 ms, 200 ms with bridges, 500 ms for three paths; bounds are 4x, for slow CI.
    for name in ("learning_path", "learning_path either way", "learning_path by rank"):
        assert measured[name][1] < 200
    assert measured["learning_path with bridges"][1] < 800
    assert measured["learning_paths k=3"][1] < 2000
    assert measured["learning_paths k=3 by rank"][1] < 2000


def test_max_hops_with_rank_finds_a_dearer_path_that_fits(seeds_graph: KnowledgeGraph) -> None:
    # By rank, 168904 → 168903 is cheapest through 168897 (2 hops, cost 3); the
    # direct rank-5 link is the only path within one hop.
    options = PathOptions(weight=PathWeight.RANK, max_hops=1)
    found = learning_path(seeds_graph, 168904, 168903, options)
    assert found is not None
    assert (found.hops, found.cost) == (1, 5.0)
    assert [p.hops for p in learning_paths(seeds_graph, 168904, 168903, 5, options)] == [1]

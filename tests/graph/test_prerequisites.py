"""Prerequisites (RefD) and levels on small explicit corpora, and the reading order built on them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from conftest import WriteArticle
from kgraph.graph import KnowledgeGraph, load_graph
from kgraph.graph.paths import StepVia
from kgraph.graph.prerequisites import Level, level, level_score, prerequisites, refd
from kgraph.graph.subgraphs import reading_order, reading_plan

# id: (title, keywords, links)
Spec = tuple[str, Sequence[str], Sequence[int]]


def _corpus(tmp_path: Path, write_article: WriteArticle, specs: dict[int, Spec]) -> KnowledgeGraph:
    for article_id, (title, keywords, links) in specs.items():
        path = write_article(
            f"physics/a{article_id}.md",
            article_id,
            title=title,
            subject="Physics",
            url=f"/learn/physics/questions/a{article_id}",
            related=[
                (rank, target, f"/learn/physics/questions/a{target}")
                for rank, target in enumerate(links, 1)
            ],
        )
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("one, two, three", ", ".join(keywords)), encoding="utf-8")
    return load_graph(tmp_path / "corpus")


# A definition, and articles that build on it: they name "vector", it names none of them.
VECTORS: dict[int, Spec] = {
    1: ("What is a vector?", ["vector", "magnitude", "direction"], [2]),
    2: (
        "How are vectors added to find a resultant force?",
        ["resultant force", "vector", "addition"],
        [1, 3],
    ),
    3: (
        "How does the resultant force affect acceleration?",
        ["acceleration", "resultant force", "vector"],
        [2],
    ),
    4: ("What is momentum?", ["momentum", "mass", "velocity"], [5]),
    5: (
        "How does momentum change in collisions with a vector of velocity?",
        ["collisions", "momentum", "vector"],
        [4],
    ),
    6: (
        "What is the role of vectors in projectile motion?",
        ["projectile motion", "vector", "trajectory"],
        [1],
    ),
}


@pytest.fixture
def vectors(tmp_path: Path, write_article: WriteArticle) -> KnowledgeGraph:
    return _corpus(tmp_path, write_article, VECTORS)


def test_a_definition_is_a_prerequisite_of_what_builds_on_it(vectors: KnowledgeGraph) -> None:
    kg = vectors
    # 2 names "vector" (1's concept), 1 does not name "resultant force" (2's): 1 reads first.
    assert refd(kg, 1, 2) > 0.1
    assert refd(kg, 2, 1) == -refd(kg, 1, 2)
    assert refd(kg, 1, 1) == 0.0
    assert 1 in [p.id for p in prerequisites(kg, 2)]
    assert 1 in [p.id for p in prerequisites(kg, 3)]
    assert 2 not in [p.id for p in prerequisites(kg, 1)]
    assert prerequisites(kg, 1) == []
    scores = [p.score for p in prerequisites(kg, 3)]
    assert scores == sorted(scores, reverse=True)
    assert all(0.1 < score <= 1 for score in scores)


def test_levels_put_definitions_first(vectors: KnowledgeGraph) -> None:
    kg = vectors
    # "vector" is named by five articles, "acceleration" by one; a definition
    # reads before "How does ... affect ...?".
    assert level(kg, 1) is Level.FOUNDATIONAL
    assert level(kg, 3) is Level.ADVANCED
    assert level_score(kg, 1) > level_score(kg, 2) > level_score(kg, 3)


def test_the_reading_order_starts_with_foundations(vectors: KnowledgeGraph) -> None:
    kg = vectors
    order = reading_order(kg, "physics", first=10)
    assert order[0] == 1
    assert sorted(order) == sorted(kg.by_topic["physics"])
    # What builds on an article comes after it.
    assert order.index(1) < order.index(2) < order.index(3)
    started = reading_order(kg, "physics", start=4, first=10)
    assert started[0] == 4
    assert reading_order(kg, "physics", start=4, first=2) == started[:2]


# A long linked series names "notation" five times; "function" is named by three
# articles that no link joins: across the topic, "function" is the more general.
SERIES: dict[int, Spec] = {
    **{
        n: (
            f"How is notation used in chapter {n} of the history of physics?",
            ["notation"],
            [n + 1],
        )
        for n in range(1, 5)
    },
    5: ("What is notation in physics?", ["notation", "symbols"], [1]),
    6: ("What is a function?", ["function", "input", "output"], []),
    7: ("How is a function graphed on a plane?", ["function", "graph"], []),
    8: ("How does a function model motion along a line?", ["function", "motion"], []),
}


def test_a_concept_across_the_topic_is_more_general_than_a_series(
    tmp_path: Path, write_article: WriteArticle
) -> None:
    kg = _corpus(tmp_path, write_article, SERIES)
    # Two definitions: the one of the concept named across unconnected parts of the topic
    # is the more foundational, though a series of five names the other.
    assert level_score(kg, 6) > level_score(kg, 5)
    assert reading_order(kg, "physics", first=10)[0] == 6


# The same question told twice, and an article that builds on it.
RETOLD: dict[int, Spec] = {
    1: ("What is kinetic energy of a moving body?", ["kinetic energy", "mass", "speed"], [3]),
    2: ("What is kinetic energy of a body in motion?", ["kinetic energy", "mass", "speed"], []),
    3: ("How does kinetic energy change in a collision?", ["collision", "kinetic energy"], [1]),
    4: ("What is torque?", ["torque", "lever", "rotation"], []),
}


def test_the_reading_plan_reads_a_retelling_with_its_original(
    tmp_path: Path, write_article: WriteArticle
) -> None:
    kg = _corpus(tmp_path, write_article, RETOLD)
    plan = reading_plan(kg, "physics", start=1, first=10)
    assert next((step.id, step.near_duplicates) for step in plan) == (1, (2,))
    assert [step.id for step in plan] == reading_order(kg, "physics", start=1, first=10)
    assert 2 not in [step.id for step in plan]
    following = {step.id: step for step in plan}
    assert (following[3].via, following[3].after, following[3].score) == (StepVia.LINK, 1, None)
    # Nothing read leads to torque: a fresh start, after everything joined to what was read.
    assert [step.id for step in plan][-1] == 4
    assert (following[4].via, following[4].after) == (StepVia.START, None)

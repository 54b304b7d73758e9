"""Keyword similarity: weights, scores, order and bounds on small corpora, the seeds and dev."""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import networkx as nx
import pytest

from conftest import WriteArticle
from kgraph.errors import ArticleNotFound
from kgraph.graph import KnowledgeGraph, load_graph
from kgraph.graph.similarity import (
    MAX_CANDIDATES,
    MAX_POSTINGS,
    Similar,
    keyword_weight,
    shared_keywords,
    similar,
)

# An article of a small corpus: its keywords, and the ids it lists as related.
Spec = tuple[Sequence[str], Sequence[int]]


def _u(n: int) -> str:
    return f"/learn/biology/questions/a{n}"


def _corpus(
    tmp_path: Path, write_article: WriteArticle, specs: Mapping[int, Spec]
) -> KnowledgeGraph:
    """Write one file per article, with its own keywords (``article_text`` gives all the same)."""
    for article_id, (keywords, related) in specs.items():
        path = write_article(
            f"biology/a{article_id}.md",
            article_id,
            url=_u(article_id),
            related=[(rank, target, _u(target)) for rank, target in enumerate(related, 1)],
        )
        text = path.read_text(encoding="utf-8")
        assert "page_keywords: one, two, three\n" in text
        path.write_text(text.replace("one, two, three", ", ".join(keywords)), encoding="utf-8")
    return load_graph(tmp_path / "corpus")


def _w(articles: int, holders: int) -> float:
    return math.log(articles / holders)


def _ids(found: Iterable[Similar]) -> list[int]:
    return [s.id for s in found]


# Eight articles: "rare" on 2, "common" on 5, "everywhere" on all; x<n> on one each.
RARE_AND_COMMON: Mapping[int, Spec] = {
    1: (["Rare", "common", "everywhere", "x1"], [2]),
    2: (["rare", "everywhere", "x2"], []),
    3: (["common", "everywhere", "x3"], [1]),
    4: (["common", "everywhere", "x4", "x4b"], []),
    5: (["everywhere", "common", "x5"], []),
    6: (["common", "everywhere", "x6"], []),
    7: (["everywhere", "x7"], []),
    8: (["everywhere", "x8"], []),
}


@pytest.fixture
def rare_and_common(tmp_path: Path, write_article: WriteArticle) -> KnowledgeGraph:
    return _corpus(tmp_path, write_article, RARE_AND_COMMON)


def test_keyword_weight_is_idf(rare_and_common: KnowledgeGraph) -> None:
    kg = rare_and_common
    assert keyword_weight(kg, "rare") == pytest.approx(_w(8, 2))
    assert keyword_weight(kg, "  COMMON ") == pytest.approx(_w(8, 5))
    assert keyword_weight(kg, "rare") > keyword_weight(kg, "common") > 0.0
    # One article, no article, or every article: nothing to tell articles apart by.
    assert keyword_weight(kg, "x1") == 0.0
    assert keyword_weight(kg, "nowhere") == 0.0
    assert keyword_weight(kg, "everywhere") == 0.0


def test_a_rare_keyword_outweighs_a_common_one(rare_and_common: KnowledgeGraph) -> None:
    kg = rare_and_common
    found = similar(kg, 1)
    # Besides "everywhere", which every article holds, 2 shares "rare" and 3…6
    # share "common"; 7 and 8 share nothing else.
    assert _ids(found) == [2, 3, 4, 5, 6]
    rare, common = _w(8, 2), _w(8, 5)
    norm = math.hypot(rare, common)  # x1 and "everywhere" weigh 0
    assert found[0].score == pytest.approx(rare**2 / (norm * rare))
    assert found[1].score == pytest.approx(common**2 / (norm * common))
    assert found[0].score > found[1].score
    assert [s.shared_keywords for s in found[:2]] == [
        ("Rare", "everywhere"),
        ("common", "everywhere"),
    ]


def test_a_keyword_on_every_article_makes_none_alike(rare_and_common: KnowledgeGraph) -> None:
    assert similar(rare_and_common, 7) == []
    assert shared_keywords(rare_and_common, 7, 8) == ("everywhere",)


def test_linked_either_way_and_exclude_linked(rare_and_common: KnowledgeGraph) -> None:
    kg = rare_and_common
    # 1 → 2 and 3 → 1; nothing joins 1 and 4, 5, 6.
    assert [(s.id, s.linked) for s in similar(kg, 1)] == [
        (2, True),
        (3, True),
        (4, False),
        (5, False),
        (6, False),
    ]
    # Linked articles leave room for others: still `first` of them.
    assert _ids(similar(kg, 1, 2, exclude_linked=True)) == [4, 5]
    assert [s.linked for s in similar(kg, 3, exclude_linked=True)] == [False, False, False]
    assert _ids(similar(kg, 2, exclude_linked=True)) == []


def test_order_is_score_then_id(tmp_path: Path, write_article: WriteArticle) -> None:
    kg = _corpus(
        tmp_path,
        write_article,
        {
            1: (["a", "b", "c"], []),
            2: (["a", "b", "c"], []),  # the same keywords: score 1
            3: (["a", "pad1", "pad2"], []),
            4: (["a"], []),
            5: (["a"], []),
            6: (["b", "pad1"], []),
            7: (["c", "pad2"], []),
            8: (["pad1", "pad2"], []),
        },
    )
    found = similar(kg, 1)
    # 2 holds the same keywords; 6 and 7 share one of the rarer keywords, 4 and 5
    # the commonest one, and so does 3, which holds more keywords besides.
    assert _ids(found) == [2, 6, 7, 4, 5, 3]
    assert found[0].score == pytest.approx(1.0)
    scores = [s.score for s in found]
    assert scores == sorted(scores, reverse=True)
    assert scores[1] == scores[2] > scores[3] == scores[4] > scores[5]  # ties: lower id first
    assert _ids(similar(kg, 1, 3)) == _ids(found)[:3]
    assert similar(kg, 1, 0) == []
    assert similar(kg, 1, -1) == []


def test_shared_keywords_in_the_first_spelling_rarest_first(
    tmp_path: Path, write_article: WriteArticle
) -> None:
    kg = _corpus(
        tmp_path,
        write_article,
        {
            1: (["Wide", "Narrow", "Middle", "also narrow", "own"], []),
            2: (["narrow", "middle", "wide", "ALSO NARROW"], []),
            3: (["middle", "wide"], []),
            4: (["wide"], []),
            5: (["filler"], []),
        },
    )
    # Two articles hold each narrow keyword: they keep 1's order between them.
    assert shared_keywords(kg, 1, 2) == ("Narrow", "also narrow", "Middle", "Wide")
    assert shared_keywords(kg, 2, 1) == ("narrow", "ALSO NARROW", "middle", "wide")
    assert shared_keywords(kg, 1, 5) == ()
    assert similar(kg, 1)[0].shared_keywords == shared_keywords(kg, 1, 2)


def test_unknown_articles_are_errors(rare_and_common: KnowledgeGraph) -> None:
    with pytest.raises(ArticleNotFound, match="article 99 is not in the graph"):
        similar(rare_and_common, 99)
    with pytest.raises(ArticleNotFound) as error:
        shared_keywords(rare_and_common, 1, 98)
    assert error.value.article_id == 98
    with pytest.raises(ArticleNotFound):
        shared_keywords(rare_and_common, 97, 1)


def _synthetic(kg: KnowledgeGraph, keywords: Mapping[int, tuple[str, ...]]) -> KnowledgeGraph:
    """``kg`` with its articles replaced by copies of one holding ``keywords`` (id → keywords)."""
    model = next(iter(kg.articles.values()))
    articles = {
        article_id: replace(model, id=article_id, keywords=own)
        for article_id, own in sorted(keywords.items())
    }
    index: dict[str, list[int]] = {}
    for article_id, article in articles.items():
        for keyword in article.keywords:
            index.setdefault(keyword.casefold(), []).append(article_id)
    graph: nx.DiGraph[int] = nx.DiGraph()
    graph.add_nodes_from(articles)
    return replace(
        kg,
        articles=MappingProxyType(articles),
        by_keyword=MappingProxyType({k: tuple(ids) for k, ids in index.items()}),
        graph=nx.freeze(graph),
    )


def test_a_keyword_on_too_many_articles_finds_no_candidate(seeds_graph: KnowledgeGraph) -> None:
    crowd = MAX_POSTINGS + 1
    keywords: dict[int, tuple[str, ...]] = {n: ("crowded", f"own{n}") for n in range(1, crowd + 1)}
    keywords[1] = ("crowded", "pair")
    keywords[2] = ("pair", "crowded")
    # As many articles again without it, so that "crowded" weighs log 2.
    keywords.update(dict.fromkeys(range(crowd + 1, 2 * crowd + 1), ("elsewhere",)))
    kg = _synthetic(seeds_graph, keywords)
    assert keyword_weight(kg, "crowded") == pytest.approx(math.log(2))
    # Article 3 shares "crowded" only: too common to be read, it finds nothing.
    assert similar(kg, 3) == []
    # Found through "pair", article 2 is scored on every keyword it shares:
    # on "pair" alone its score would be pair² / (pair² + crowded²), about 0.99.
    (found,) = similar(kg, 1)
    assert (found.id, found.shared_keywords) == (2, ("pair", "crowded"))
    assert found.score == pytest.approx(1.0)


def test_at_most_max_candidates_are_scored(seeds_graph: KnowledgeGraph) -> None:
    # Every holder of "kw" shares as much with 1 and holds as many keywords, so
    # they are scored by id; the best match, the highest id, lies beyond the cap.
    last = MAX_CANDIDATES + 12
    keywords: dict[int, tuple[str, ...]] = {n: ("kw", "pad", f"own{n}") for n in range(2, last)}
    keywords[1] = ("kw",)
    keywords[last] = ("kw", "mine", "alone")  # keywords no other article holds weigh 0
    keywords.update(dict.fromkeys(range(last + 1, 2 * last), ("elsewhere",)))
    kg = _synthetic(seeds_graph, keywords)
    assert similar(kg, 1, 1)[0].id == 2
    assert similar(kg, 1, 1)[0].score == pytest.approx(math.sqrt(0.5), rel=1e-2)
    assert similar(kg, last, 1)[0].score == pytest.approx(1.0)  # 1 is found from the other side
    # With MAX_CANDIDATES candidates in all, the best match is scored.
    for n in range(MAX_CANDIDATES + 1, last):
        del keywords[n]
    fewer = _synthetic(seeds_graph, keywords)
    assert similar(fewer, 1, 1)[0].id == last
    assert similar(fewer, 1, 1)[0].score == pytest.approx(1.0)


def test_seeds_every_article(seeds_graph: KnowledgeGraph) -> None:
    kg = seeds_graph
    everything = len(kg.articles)
    listed = 0
    for article_id in kg.articles:
        found = similar(kg, article_id, everything)
        assert article_id not in _ids(found)
        assert len(set(_ids(found))) == len(found)
        keys = [(-s.score, s.id) for s in found]
        assert keys == sorted(keys)
        for s in found:
            assert 0.0 < s.score <= 1.0 + 1e-12
            assert s.shared_keywords == shared_keywords(kg, article_id, s.id) != ()
            linked = kg.graph.has_edge(article_id, s.id) or kg.graph.has_edge(s.id, article_id)
            assert s.linked is linked
            # Symmetric to the last bit.
            back = {b.id: b.score for b in similar(kg, s.id, everything)}
            assert back[article_id] == s.score
        listed += len(found)
    assert listed > 0


def test_seeds_pump_article(seeds_graph: KnowledgeGraph) -> None:
    found = similar(seeds_graph, 168904, 3)
    assert _ids(found) == [168914, 84001, 168903]
    assert found[0].shared_keywords == (
        "electrochemical gradient",
        "resting membrane potential",
        "sodium-potassium pump",
        "ATP",
    )
    # The DNA article shares no keyword with any other.
    assert similar(seeds_graph, 168918) == []


def _reference(kg: KnowledgeGraph, article_id: int, first: int) -> list[tuple[int, float]]:
    """Top ``first`` by brute force: every article sharing a keyword, no bound."""
    total = len(kg.articles)

    def weight(keyword: str) -> float:
        holders = len(kg.by_keyword[keyword.casefold()])
        return math.log(total / holders) if holders > 1 else 0.0

    ours = {k.casefold(): weight(k) for k in kg.articles[article_id].keywords}
    norm = math.sqrt(math.fsum(w * w for w in ours.values()))
    others = {o for k, w in ours.items() if w > 0 for o in kg.by_keyword[k]} - {article_id}
    scores = []
    for other in others:
        theirs = {k.casefold(): weight(k) for k in kg.articles[other].keywords}
        dot = math.fsum(w * w for k, w in theirs.items() if k in ours)
        length = math.sqrt(math.fsum(w * w for w in theirs.values()))
        scores.append((-dot / (norm * length), other))
    return [(other, -score) for score, other in sorted(scores)[:first]]


@pytest.fixture(scope="module")
def dev_sample(dev_graph: KnowledgeGraph) -> list[int]:
    return random.Random(20_251_125).sample(sorted(dev_graph.articles), 200)


def test_dev_bounds_change_no_result(dev_graph: KnowledgeGraph, dev_sample: list[int]) -> None:
    for article_id in dev_sample[:100]:
        found = similar(dev_graph, article_id)
        expected = _reference(dev_graph, article_id, 10)
        assert _ids(found) == [other for other, _ in expected]
        assert [s.score for s in found] == pytest.approx([score for _, score in expected])


def test_dev_similar_articles(dev_graph: KnowledgeGraph, dev_sample: list[int]) -> None:
    kg = dev_graph
    physics = keyword_weight(kg, "physics")
    assert physics == pytest.approx(math.log(len(kg.articles) / len(kg.by_keyword["physics"])))
    # The commonest keyword weighs least.
    assert physics == min(keyword_weight(kg, k) for k, ids in kg.by_keyword.items() if len(ids) > 1)
    linked = 0
    for article_id in dev_sample:
        found = similar(kg, article_id)
        assert article_id not in _ids(found)
        for s in found:
            assert s.linked is (
                kg.graph.has_edge(article_id, s.id) or kg.graph.has_edge(s.id, article_id)
            )
            assert s.shared_keywords == shared_keywords(kg, article_id, s.id) != ()
        linked += sum(s.linked for s in found)
        unlinked = similar(kg, article_id, exclude_linked=True)
        assert not any(s.linked for s in unlinked)
        assert [s for s in found if not s.linked] == unlinked[
            : len(found) - sum(s.linked for s in found)
        ]
    assert linked > 0


def test_dev_similar_is_fast(dev_graph: KnowledgeGraph, dev_sample: list[int]) -> None:
    similar(dev_graph, dev_sample[0])  # warm up
    seconds = []
    for article_id in dev_sample:
        started = time.perf_counter()
        similar(dev_graph, article_id)
        seconds.append(time.perf_counter() - started)
    p95 = statistics.quantiles(seconds, n=20)[-1]
    assert p95 < 0.050, (
        f"p95 {p95 * 1000:.1f} ms, median {statistics.median(seconds) * 1000:.1f} ms"
    )

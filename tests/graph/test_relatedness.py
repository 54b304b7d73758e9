"""The relatedness model: text and shared neighbours on small explicit corpora, and the seeds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from conftest import WriteArticle
from kgraph import budget
from kgraph.errors import ArticleNotFound, DeadlineExceeded
from kgraph.graph import KnowledgeGraph, load_graph
from kgraph.graph.relatedness import related, relatedness_model

# An article: its title, its keywords, and the ids it lists as related.
Spec = tuple[str, Sequence[str], Sequence[int]]


def _u(n: int) -> str:
    return f"/learn/biology/questions/a{n}"


def _corpus(
    tmp_path: Path, write_article: WriteArticle, specs: Mapping[int, Spec]
) -> KnowledgeGraph:
    for article_id, (title, keywords, links) in specs.items():
        path = write_article(
            f"biology/a{article_id}.md",
            article_id,
            title=title,
            url=_u(article_id),
            related=[(rank, target, _u(target)) for rank, target in enumerate(links, 1)],
        )
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("one, two, three", ", ".join(keywords)), encoding="utf-8")
    return load_graph(tmp_path / "corpus")


# Filler articles so that words and keywords are neither unique nor everywhere.
FILLER: dict[int, Spec] = {
    100 + n: (f"Filler topic number {n} of cells?", ["cells", f"filler {n % 3}"], [])
    for n in range(8)
}


def test_a_co_linked_pair_outranks_an_unrelated_one(
    tmp_path: Path, write_article: WriteArticle
) -> None:
    # 1 and 2 are linked with the same three articles (10, 11, 12); 3 with none of them.
    kg = _corpus(
        tmp_path,
        write_article,
        {
            1: ("What is osmosis?", ["osmosis"], [10, 11, 12]),
            2: ("How do plants take up water?", ["roots"], [10, 11, 12]),
            3: ("What is a prime number?", ["primes"], []),
            10: ("What is diffusion?", ["diffusion"], []),
            11: ("What are membranes?", ["membranes"], []),
            12: ("What is turgor pressure?", ["turgor"], []),
            **FILLER,
        },
    )
    found = related(kg, 1, 20).items
    ids = [r.id for r in found]
    assert ids[0] in (10, 11, 12) or ids.index(2) < 4
    assert 3 not in ids or ids.index(2) < ids.index(3)
    two = next(r for r in found if r.id == 2)
    assert not two.linked
    assert set(two.common_neighbours) == {10, 11, 12}
    assert 0 < two.score < 1


def test_shared_text_relates_articles_without_links(
    tmp_path: Path, write_article: WriteArticle
) -> None:
    kg = _corpus(
        tmp_path,
        write_article,
        {
            1: ("How does photosynthesis use sunlight?", ["photosynthesis", "chlorophyll"], []),
            2: ("Why is chlorophyll green in photosynthesis?", ["chlorophyll"], []),
            3: ("What is a prime number?", ["primes"], []),
            4: ("How do primes factor numbers?", ["primes"], []),
            **FILLER,
        },
    )
    found = related(kg, 1, 3).items
    assert found[0].id == 2
    assert "chlorophyll" in found[0].shared_terms
    assert found[0].common_neighbours == ()
    assert found[0].text > 0
    assert all(r.id != 3 or r.score < found[0].score for r in found)


def test_a_link_back_counts_and_excluding_links_leaves_them_out(
    tmp_path: Path, write_article: WriteArticle
) -> None:
    kg = _corpus(
        tmp_path,
        write_article,
        {
            1: ("What is osmosis?", ["osmosis"], []),
            2: ("What is diffusion?", ["diffusion"], [1]),  # links to 1
            3: ("What is a prime number?", ["primes"], []),
            **FILLER,
        },
    )
    found = related(kg, 1, 5).items
    assert found[0].id == 2
    assert found[0].linked
    assert 2 not in [r.id for r in related(kg, 1, 5, exclude_linked=True).items]


def test_pages_follow_one_another(seeds_graph: KnowledgeGraph) -> None:
    whole = related(seeds_graph, 52002, 30)
    first = related(seeds_graph, 52002, 4)
    second = related(seeds_graph, 52002, 4, skip=4)
    assert whole.total == first.total == second.total >= 8
    assert [r.id for r in first.items + second.items] == [r.id for r in whole.items[:8]]
    assert related(seeds_graph, 52002, 5, skip=whole.total).items == []
    scores = [r.score for r in whole.items]
    assert scores == sorted(scores, reverse=True)


def test_the_model_is_built_once_per_graph(seeds_graph: KnowledgeGraph) -> None:
    model = relatedness_model(seeds_graph)
    assert relatedness_model(seeds_graph) is model
    assert model.text.shape[0] == len(seeds_graph.articles)


def test_an_unknown_article_and_a_cancelled_request(seeds_graph: KnowledgeGraph) -> None:
    with pytest.raises(ArticleNotFound):
        related(seeds_graph, 999_999_999)
    with budget.within(5) as work:
        work.cancel()
        with pytest.raises(DeadlineExceeded):
            related(seeds_graph, 52002)

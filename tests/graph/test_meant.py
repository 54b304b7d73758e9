"""Every wanted article's suggestions at once (kgraph.graph.meant), on the seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SEEDS, WriteArticle
from kgraph.graph import KnowledgeGraph, load_graph
from kgraph.graph.curation import (
    FIRST_PAGE,
    _suggested_key,
    curation_report,
    suggest_every_wanted,
    suggest_first_pages,
    wanted_suggestions,
)
from kgraph.graph.load import load_corpus
from kgraph.graph.meant import meant_articles
from kgraph.graph.snapshot import load_snapshot
from kgraph.model import Wanted

ATP_PUMP = 168904  # What is the role of ATP in the sodium-potassium pump?


@pytest.fixture(scope="module")
def kg() -> KnowledgeGraph:
    return load_graph(SEEDS)


def _asking(title: str, referrers: tuple[int, ...], subject: str = "Biology") -> Wanted:
    return Wanted(id=-1, title=title, subject=subject, url=None, referrers=referrers)


def _damaged(kg: KnowledgeGraph) -> list[Wanted]:
    """Every linked article asked for by half its title and by a letter dropped, by its linkers."""
    asked = []
    for target in sorted(kg.graph):
        referrers = tuple(sorted(kg.graph.predecessors(target)))[:3]
        if not referrers:
            continue
        title = kg.articles[target].title
        kept = title.split()
        half = " ".join(kept[: max(2, len(kept) // 2)])
        longest = max(kept, key=len)
        typo = title.replace(longest, longest[:2] + longest[3:], 1)
        asked += [_asking(half, referrers), _asking(typo, referrers)]
    return asked


def test_all_at_once_equals_one_at_a_time(kg: KnowledgeGraph) -> None:
    asked = [*kg.wanted.values(), *_damaged(kg)]
    together = meant_articles(kg, asked)
    assert together == [meant_articles(kg, [wanted])[0] for wanted in asked]
    # Something was found for most of them: the comparison compares rankings.
    assert sum(bool(found) for found in together) > len(asked) // 2


def test_a_misspelt_or_half_title_finds_the_article_meant(kg: KnowledgeGraph) -> None:
    misspelt = _asking("What is the role of ATP in the sodium-potasium pump?", (168911,))
    half = _asking("What is the role of ATP", (168911,))
    assert [found[0] for found in meant_articles(kg, [misspelt, half])] == [ATP_PUMP, ATP_PUMP]


def test_an_article_naming_the_missing_one_is_never_suggested(kg: KnowledgeGraph) -> None:
    named = _asking("What is the role of ATP in the sodium-potasium pump?", (ATP_PUMP,))
    assert ATP_PUMP not in meant_articles(kg, [named])[0]


def test_the_same_title_is_the_suggestion_case_and_punctuation_aside(kg: KnowledgeGraph) -> None:
    same = _asking("what is the ROLE of ATP in the sodium potassium pump", (168911,))
    assert meant_articles(kg, [same]) == [(ATP_PUMP,)]


def test_no_more_than_the_limit(kg: KnowledgeGraph) -> None:
    asked = _damaged(kg)
    assert all(len(found) <= 1 for found in meant_articles(kg, asked, limit=1))
    assert max(len(found) for found in meant_articles(kg, asked, limit=5)) > 3


def test_the_snapshot_works_them_out_and_keeps_them(tmp_path: Path) -> None:
    loaded = load_corpus(SEEDS, cache_dir=tmp_path)
    # Left to the snapshot (a server writes it once serving): saving does the work.
    assert loaded.save() is not None
    assert not suggest_every_wanted(loaded.graph)
    warm = load_snapshot(SEEDS, tmp_path)
    assert warm is not None
    assert not suggest_every_wanted(warm)
    assert wanted_suggestions(warm, warm.wanted[168999]) == [ATP_PUMP]
    assert wanted_suggestions(warm, warm.wanted[52099]) == []


def test_the_first_pages_come_with_the_load_the_same_as_all_at_once(
    tmp_path: Path, write_article: WriteArticle
) -> None:
    """Before a server is ready: the suggestions of the reports' first pages, none of the rest."""
    for n in range(1, 7):  # six articles, each naming a missing one (ids 101-106)
        write_article(
            f"biology/a{n}.md", n, title=f"What is cell part {n}?", related=[(1, 100 + n, None)]
        )
    corpus = tmp_path / "corpus"

    def kept(kg: KnowledgeGraph) -> set[int]:
        return {w.id for w in kg.wanted.values() if _suggested_key(w) in kg.memo}

    def first(kg: KnowledgeGraph, size: int) -> set[int]:
        report = curation_report(kg)
        named = {f.stated_id for f in report.broken_links[:size] if f.stated_id is not None}
        return (named | {w.id for w in report.wanted[:size]}) & set(kg.wanted)

    prepared = load_corpus(corpus, cache_dir=tmp_path / "cache").graph
    assert kept(prepared) == first(prepared, FIRST_PAGE) == set(prepared.wanted)
    kg = load_graph(corpus)
    suggest_first_pages(kg, 2)
    assert kept(kg) == first(kg, 2)
    assert 2 <= len(kept(kg)) < len(kg.wanted) == 6
    early = {i: wanted_suggestions(kg, kg.wanted[i]) for i in kept(kg)}
    assert suggest_every_wanted(kg)
    assert {i: wanted_suggestions(kg, kg.wanted[i]) for i in early} == early
    assert early == {i: wanted_suggestions(prepared, prepared.wanted[i]) for i in early}

"""Search by relevance: typos, completions, phrases, fields, ties, copies and the budget."""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from conftest import Related, article_text
from kgraph import budget
from kgraph.corpus import words
from kgraph.errors import DeadlineExceeded, LoadCancelled
from kgraph.graph import KnowledgeGraph, load_graph, queries
from kgraph.graph import search as search_module
from kgraph.graph.bridges import Bridges, bridges, build_bridges
from kgraph.graph.build import _keyword_index
from kgraph.graph.load import load_corpus
from kgraph.graph.search import (
    SearchElsewhere,
    SearchIndex,
    _hand_over,
    build_index,
    corrections,
    indexed,
    search,
    search_elsewhere,
    search_index,
    word_index,
)
from kgraph.model import Article


def _write(
    root: Path,
    article_id: int,
    title: str,
    *,
    keywords: str = "alpha",
    description: str = "Nothing said.",
    related: Sequence[Related] = (),
    path: str | None = None,
    subject: str = "Biology",
) -> None:
    text = article_text(article_id, title=title, subject=subject, related=related)
    text = text.replace("page_keywords: one, two, three", f"page_keywords: {keywords}")
    text = text.replace("page_description: A description.", f"page_description: {description}")
    target = root / (path or f"biology/a{article_id}.md")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


@pytest.fixture
def kg(tmp_path: Path) -> KnowledgeGraph:
    root = tmp_path / "corpus"
    _write(root, 1, "What is photosynthesis?", keywords="photosynthesis, plants")
    _write(root, 2, "How do plants make sugar from light?", description="Photosynthesis explained.")
    _write(root, 3, "What is binary search?", keywords="binary search, algorithms")
    _write(root, 4, "Why search a binary tree for a value?", keywords="trees")
    _write(root, 5, "What is mitochondria?", related=[(1, 6, None)])
    _write(root, 6, "What is cytoplasm?", related=[(1, 7, None)])
    _write(root, 7, "What is ribosome?", related=[(1, 6, None)])
    _write(root, 8, "What is ribosome?", related=[(1, 6, None)], subject="Chemistry")
    _write(root, 9, "What is potassium?", path="biology/potassium.md")
    _write(root, 9, "What is potassium?", path="chemistry/potassium.md", subject="Chemistry")
    return load_graph(root)


def test_a_typo_still_finds_the_title(kg: KnowledgeGraph) -> None:
    for typed in ("photosynhtesis", "photosyntesis", "photosynthesiss", "photozynthesis"):
        assert search(kg, f"what is {typed}").ids[0] == 1, typed
    assert search(kg, "bianry search").ids[0] == 3


def test_long_words_forgive_two_typos(kg: KnowledgeGraph) -> None:
    index = search_index(kg)
    assert corrections(index, "photosynthese") == {"photosynthesis": 2}
    assert corrections(index, "mitochondira") == {"mitochondria": 1}
    assert corrections(index, "ribosmoe") == {"ribosome": 1}
    # Short words hold one typo at most.
    assert corrections(index, "ribsome") == {"ribosome": 1}
    assert corrections(index, "rbismoe") == {}
    assert search(kg, "photosynthese").ids[:2] == [1, 2]


def test_the_last_word_is_completed_as_typed(kg: KnowledgeGraph) -> None:
    assert search(kg, "mitoch").ids == [5]
    assert search(kg, "what is ribo").ids[:2] == [7, 8]
    # A word followed by a space or a sign is finished: no completion.
    assert 5 not in search(kg, "mitoch ").ids
    assert 5 not in search(kg, "mitoch?").ids


def test_an_exact_phrase_outranks_the_same_words_scattered(kg: KnowledgeGraph) -> None:
    found = search(kg, "binary search")
    assert found.ids[:2] == [3, 4]
    assert found.scores[0] > found.scores[1]
    # Article 4 holds "binary tree" as a phrase: it goes first, though longer.
    assert search(kg, "binary tree").ids[0] == 4


def test_the_title_outranks_a_match_in_the_answer_alone(kg: KnowledgeGraph) -> None:
    found = search(kg, "photosynthesis")
    assert found.ids == [1, 2]  # 2 says it in its answer's summary only
    assert 1 >= found.scores[0] > found.scores[1] > 0


def test_equal_scores_go_to_the_most_linked_then_the_lowest_id(kg: KnowledgeGraph) -> None:
    # 7 and 8 have the same text; 6 links to neither, 5 and 7 link to 6.
    assert search(kg, "ribosome").ids == [7, 8]
    cytoplasm = search(kg, "what is")
    tied = [
        i for i, s in zip(cytoplasm.ids, cytoplasm.scores, strict=True) if s == cytoplasm.scores[0]
    ]
    assert tied[0] == 6  # linked from three articles


def test_each_article_comes_once_whatever_its_copies(kg: KnowledgeGraph) -> None:
    found = search(kg, "potassium potassium what")
    assert found.ids.count(9) == 1
    assert len(found.ids) == len(set(found.ids))
    assert len(kg.articles[9].copies) == 2


def test_a_text_without_words_finds_nothing(kg: KnowledgeGraph) -> None:
    for text in ("", "   ", "?!", "—"):
        assert search(kg, text).ids == []
        assert queries.find_articles(kg, search=text).ids == []


def test_stop_words_alone_still_rank(kg: KnowledgeGraph) -> None:
    found = search(kg, "what is")
    assert set(found.ids) == {1, 3, 5, 6, 7, 8, 9}
    assert all(0 < s <= 1 for s in found.scores)


def test_find_articles_ranks_a_search_among_the_filtered(kg: KnowledgeGraph) -> None:
    found = queries.find_articles(kg, search="what is ribosome", topic="chemistry")
    assert found.ids == [8, 9]
    assert found.scores is not None
    assert found.scores[0] > found.scores[1]
    plain = queries.find_articles(kg, topic="chemistry")
    assert plain == queries.Found(ids=[8, 9])


def test_a_cancelled_search_stops(kg: KnowledgeGraph) -> None:
    search_index(kg)  # built beforehand: the search itself is stopped
    with budget.within(1) as spent:
        spent.cancel()
        with pytest.raises(DeadlineExceeded):
            search(kg, "photosynthese binary search")


def test_a_cancelled_first_search_stops_building_the_index(kg: KnowledgeGraph) -> None:
    with budget.within(1) as spent:
        spent.cancel()
        with pytest.raises(DeadlineExceeded):
            search(kg, "ribosome")
    assert search(kg, "ribosome").ids == [7, 8]  # built by the next search


def test_the_word_index_holds_each_word_of_titles_questions_and_keywords(
    seeds_graph: KnowledgeGraph,
) -> None:
    """Every word of an article's title, question or keywords leads to it, and nothing else does."""
    expected: dict[str, list[int]] = {}
    for article_id in sorted(seeds_graph.articles):
        article = seeds_graph.articles[article_id]
        text = " ".join((article.title, article.question or "", *article.keywords))
        for word in dict.fromkeys(words(text)):
            expected.setdefault(word, []).append(article_id)
    index = word_index(seeds_graph)
    assert {word: list(index[word]) for word in index} == expected
    assert len(index) == len(expected)
    missing = next(w for w in search_index(seeds_graph).terms if w not in expected)  # an answer's
    assert missing not in index
    assert index.get(missing) is None
    with pytest.raises(KeyError):
        index[missing]


def _same_index(built: SearchIndex, expected: SearchIndex) -> None:
    for field in dataclasses.fields(SearchIndex):
        value, wanted = getattr(built, field.name), getattr(expected, field.name)
        if isinstance(wanted, sp.csc_array):
            assert value.shape == wanted.shape, field.name
            for part in ("data", "indices", "indptr"):
                assert np.array_equal(getattr(value, part), getattr(wanted, part)), field.name
        elif isinstance(wanted, np.ndarray):
            assert value.dtype == wanted.dtype, field.name
            assert np.array_equal(value, wanted), field.name
        else:
            assert value == wanted, field.name


def _bare(kg: KnowledgeGraph) -> KnowledgeGraph:
    """``kg`` without anything derived from it yet (a shared fixture's memo is left alone)."""
    return dataclasses.replace(kg, memo={}, computing={})


def test_the_index_built_in_another_process_is_the_one_built_here(
    dev_graph: KnowledgeGraph, elsewhere_from_one: Path
) -> None:
    kg = _bare(dev_graph)
    with search_elsewhere(kg.articles) as elsewhere:
        assert elsewhere.elsewhere
        assert list(elsewhere_from_one.iterdir())  # the texts, sent
        built = elsewhere.wait(kg)
        [folder] = elsewhere_from_one.iterdir()
        assert not {"texts", "index"} & {path.name for path in folder.iterdir()}  # read: removed
        assert elsewhere.process is not None  # finding the bridges next
        found = elsewhere.bridges(kg)
        assert found.ids is built.ids  # held once, as when built here
        assert elsewhere.process is not None  # making the keyword index last
        keywords = elsewhere.keywords(kg)
        assert elsewhere.process is None  # done with: ended
        assert not list(elsewhere_from_one.iterdir())  # and its folder removed
    _same_index(built, build_index(dev_graph))
    assert indexed(kg)
    assert search_index(kg) is built  # kept with the graph
    expected = build_bridges(_bare(dev_graph))
    for field in dataclasses.fields(Bridges):
        assert np.array_equal(getattr(found, field.name), getattr(expected, field.name))
    assert len(found.others) > len(found.ids)  # some bridges, not none on either side
    assert keywords is not None
    terms, starts, ids = keywords
    wanted_terms, wanted_starts, wanted_ids = _keyword_index(dev_graph.articles)
    assert list(terms) == wanted_terms
    assert (starts, ids) == (wanted_starts, wanted_ids)
    assert len(wanted_terms) > 1000


def test_the_index_is_built_here_when_not_worth_another_process(
    seeds_graph: KnowledgeGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    kg = _bare(seeds_graph)
    assert len(kg.articles) < search_module.ELSEWHERE_FROM
    with search_elsewhere(kg.articles) as elsewhere:
        assert not elsewhere.elsewhere
        _same_index(elsewhere.wait(kg), build_index(seeds_graph))
    monkeypatch.setattr(search_module, "ELSEWHERE_FROM", 1)
    with search_elsewhere(kg.articles, process=False) as elsewhere:
        assert not elsewhere.elsewhere


def test_a_failed_process_leaves_the_index_to_this_one(
    seeds_graph: KnowledgeGraph, elsewhere_from_one: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kg = _bare(seeds_graph)
    with search_elsewhere(kg.articles) as elsewhere:
        assert elsewhere.process is not None
        elsewhere.process.kill()
        with caplog.at_level(logging.WARNING, "kgraph.graph.search"):
            built = elsewhere.wait(kg)
        assert elsewhere.bridges(kg).of(168904) == build_bridges(seeds_graph).of(168904)
    assert "search index could not be built in another process (exit -9); building it here" in (
        caplog.text
    )
    _same_index(built, build_index(seeds_graph))
    assert not list(elsewhere_from_one.iterdir())


def test_an_index_sent_for_other_articles_is_not_given_to_this_graph(
    seeds_graph: KnowledgeGraph, elsewhere_from_one: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kg = _bare(seeds_graph)
    fewer = dict(list(kg.articles.items())[1:])
    with search_elsewhere(fewer) as elsewhere, caplog.at_level(logging.WARNING):
        built = elsewhere.wait(kg)
    assert "(sent the articles of another graph)" in caplog.text
    _same_index(built, build_index(seeds_graph))


def test_a_cancelled_load_ends_the_process_building_the_index(
    seeds_graph: KnowledgeGraph, elsewhere_from_one: Path
) -> None:
    kg = _bare(seeds_graph)
    with search_elsewhere(kg.articles) as elsewhere:
        assert elsewhere.process is not None
        pid = elsewhere.process.pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)  # never done: the wait ends by cancellation alone
        with pytest.raises(LoadCancelled, match="cancelled while its search index was built"):
            elsewhere.wait(kg, cancelled=lambda: True)
        assert elsewhere.process is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # ended and reaped
    assert not list(elsewhere_from_one.iterdir())
    assert not indexed(kg)  # the next wait builds it


def test_a_prepared_cold_load_starts_the_index_before_the_graph_is_built(
    seeds_graph: KnowledgeGraph, elsewhere_from_one: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Started with the articles (before links are resolved), waited for by prepare."""
    seen: list[int] = []
    original = search_module.search_elsewhere

    def counting(articles: Mapping[int, Article], **options: bool) -> SearchElsewhere:
        seen.append(len(articles))
        return original(articles, **options)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search_module, "search_elsewhere", counting)
        with caplog.at_level(logging.INFO, "kgraph.graph.search"):
            loaded = load_corpus("seeds", cache=False)
    assert seen == [52]  # once: by the load, not again by prepare
    assert "search index of 52 articles built in another process" in caplog.text
    assert "bridges of 52 articles found in another process" in caplog.text
    assert "keyword index of 52 articles made in another process" in caplog.text
    assert dict(loaded.graph.by_keyword) == dict(seeds_graph.by_keyword)
    assert bridges(loaded.graph).of(168904) == build_bridges(seeds_graph).of(168904)
    _same_index(search_index(loaded.graph), build_index(load_graph("seeds")))
    assert not list(elsewhere_from_one.iterdir())


def test_a_commands_load_takes_the_keyword_index_from_the_other_process_first(
    seeds_graph: KnowledgeGraph, elsewhere_from_one: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """`kgraph check`'s load: the keyword index comes before the bridges, on its first use,
    and the process stays for the bridges that the snapshot's preparation takes next."""
    with caplog.at_level(logging.INFO, "kgraph.graph.search"):
        loaded = load_corpus("seeds", cache=False, prepared=False, searched=True)
        try:
            assert loaded.searching is not None
            process = loaded.searching.process
            assert process is not None
            assert "keyword index" not in caplog.text  # not until asked for
            assert dict(loaded.graph.by_keyword) == dict(seeds_graph.by_keyword)
            assert "keyword index of 52 articles made in another process" in caplog.text
            assert loaded.searching.process is process  # still there: the bridges are next
            found = loaded.searching.bridges(loaded.graph)
            assert "bridges of 52 articles found in another process" in caplog.text
            assert found.of(168904) == build_bridges(seeds_graph).of(168904)
            assert loaded.searching.process is None  # the last it handed over: ended
        finally:
            loaded.close()
    assert not list(elsewhere_from_one.iterdir())


def test_a_commands_snapshot_takes_the_bridges_and_keyword_index_from_the_other_process(
    seeds_graph: KnowledgeGraph,
    elsewhere_from_one: Path,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    """A command that never asked for the keyword index: its snapshot's preparation takes
    the bridges, then the keyword index, both made by the other process, neither lost when
    the first is taken."""
    with caplog.at_level(logging.INFO, "kgraph.graph.search"):
        loaded = load_corpus("seeds", cache_dir=tmp_path / "cache", prepared=False, searched=True)
        try:
            loaded.searched()
            assert loaded.save() is not None
        finally:
            loaded.close()
    assert "bridges of 52 articles found in another process" in caplog.text
    assert "keyword index of 52 articles made in another process" in caplog.text
    assert "could not be built in another process" not in caplog.text
    assert dict(loaded.graph.by_keyword) == dict(seeds_graph.by_keyword)
    assert not list(elsewhere_from_one.iterdir())


def test_a_process_whose_parent_is_gone_stops_and_removes_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "kgraph-search-x"
    folder.mkdir()
    (folder / "texts").write_bytes(b"")
    assert _hand_over(os.getppid(), str(folder), "index", [1, 2])
    assert (folder / "index").exists()
    assert not (folder / "index.part").exists()
    assert not _hand_over(-1, str(folder), "bridges", [3])  # another parent than its own
    assert not folder.exists()

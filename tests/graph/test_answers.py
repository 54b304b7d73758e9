"""Answers out of the heap: the store, and the graph's answers through it."""

from __future__ import annotations

import mmap
import pickle

import pytest

from conftest import SEEDS
from kgraph.corpus import discover, parse_article
from kgraph.errors import ArticleNotFound
from kgraph.graph import KnowledgeGraph
from kgraph.graph.answers import AnswerStore, page_aligned


def test_a_store_gives_each_answer_back() -> None:
    texts = {-2: "", 5: "x \\neq 0$.\\nNext", 9: "é ∑ 😀", 12: "\ud800 a lone surrogate"}
    store = AnswerStore.write(
        (i, text.encode("utf-8", "surrogatepass")) for i, text in sorted(texts.items())
    )
    assert {i: store.raw(i) for i in texts} == texts
    assert isinstance(store.data, mmap.mmap)
    assert b"".join(store.chunks(size=3)) == bytes(store.data)
    assert store.size == sum(len(t.encode("utf-8", "surrogatepass")) for t in texts.values())
    with pytest.raises(ArticleNotFound):
        store.raw(6)
    copied = pickle.loads(pickle.dumps(store))
    assert {i: copied.raw(i) for i in texts} == texts


def test_a_store_refuses_ids_out_of_order_and_may_be_empty() -> None:
    with pytest.raises(ValueError, match="ascending"):
        AnswerStore.write([(3, b"a"), (3, b"b")])
    empty = AnswerStore.write([])
    assert (len(empty), empty.size, list(empty.chunks())) == (0, 0, [])
    with pytest.raises(ArticleNotFound):
        empty.raw(1)


def test_mappings_start_on_a_page() -> None:
    step = mmap.ALLOCATIONGRANULARITY
    assert [page_aligned(n) for n in (0, 1, step, step + 1)] == [0, step, step, 2 * step]


def test_the_graph_answers_as_each_articles_first_file_writes_it(
    seeds_graph: KnowledgeGraph,
) -> None:
    first: dict[int, str] = {}
    for path in discover(SEEDS):  # sorted: an article's first copy comes first
        parsed = parse_article((SEEDS / path).read_bytes(), path)
        first.setdefault(parsed.id, parsed.answer_raw)
    assert {i: seeds_graph.answer_raw(i) for i in seeds_graph.articles} == first
    assert list(seeds_graph.answers.ids) == sorted(seeds_graph.articles)

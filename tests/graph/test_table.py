"""A graph's articles as columns (what a snapshot carries): the same records, made on demand."""

from __future__ import annotations

import datetime
import pickle
from array import array
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pytest

from kgraph.graph import KnowledgeGraph
from kgraph.graph.table import (
    ArticleTable,
    copy_counts,
    copy_topics,
    first_topics,
    head,
    keyword_count,
    titles,
)
from kgraph.model import Article, Copy, RelatedEntry


def _article(article_id: int, **fields: object) -> Article:
    values: dict[str, object] = {
        "id": article_id,
        "title": f"Title {article_id}?",
        "question": None,
        "description": None,
        "keywords": (),
        "date": None,
        "score": None,
        "no_index": False,
        "copies": (Copy(f"t/{article_id}.md", None, "Topic", "topic", ()),),
        "topics": ("topic",),
    }
    values.update(fields)
    return Article(**values)  # type: ignore[arg-type]


def _round_trip(articles: dict[int, Article]) -> ArticleTable:
    table = ArticleTable.of(MappingProxyType(articles))
    assert table is not None
    loaded = pickle.loads(pickle.dumps(table, protocol=5))
    assert isinstance(loaded, ArticleTable)
    return loaded


def test_every_dev_article_is_the_same_record_in_the_same_order(dev_graph: KnowledgeGraph) -> None:
    articles = dev_graph.articles
    table = _round_trip(dict(articles))
    assert len(table) == len(articles) == 19_962
    assert list(table) == list(articles)
    assert list(table.values()) == list(articles.values())
    assert table == articles
    assert articles == table
    # The whole-corpus questions, from the columns, as from the records.
    assert list(copy_counts(table)) == list(copy_counts(articles))
    assert copy_topics(table) == copy_topics(articles)
    assert list(titles(table)) == list(titles(articles))
    assert first_topics(table) == first_topics(articles)
    some = list(articles)[::97]
    assert [keyword_count(table, i) for i in some] == [keyword_count(articles, i) for i in some]
    several = [i for i, count in copy_counts(articles) if count > 1]
    assert several  # the dev corpus has articles in several files
    fresh = _round_trip(dict(articles))  # nothing made yet: heads from the columns
    for article_id in [*several[:50], *list(articles)[:50], min(articles) - 1]:
        assert head(fresh, article_id) == head(articles, article_id)


def test_edge_values_come_back_exactly() -> None:
    articles = {
        -7: _article(-7, question="Title -7?", description=""),
        0: _article(0, question="Another question", keywords=("a", "B", "a"), score=0.0),
        3: _article(
            3,
            title="Lone \udc80 surrogate and ∑ maths $x^2$",
            date=datetime.date(1, 1, 1),
            score=-1.5,
            no_index=True,
            copies=(
                Copy("b/3.md", "/b/3", "Beta", "beta", ()),
                Copy("a/3.md", None, "Alpha", "alpha", ()),
            ),
            topics=("beta", "alpha"),
        ),
        9: _article(9, date=datetime.date(2025, 1, 2), score=float("inf"), keywords=("",)),
    }
    table = _round_trip(articles)
    for article_id, article in articles.items():
        made = table[article_id]
        assert made == article
        assert (made.question is None) == (article.question is None)
        assert made.score == article.score
        assert type(made.score) is type(article.score)
    assert table[-7].question == table[-7].title
    assert table[3].url == "/b/3"
    assert table[3].copies[1].url is None
    assert head(table, 3) == ("b/3.md", articles[3].title, "/b/3")


def test_a_record_is_made_once_and_kept() -> None:
    table = _round_trip({1: _article(1), 2: _article(2)})
    assert table[2] is table[2]
    assert list(table.values())[1] is table[2]
    assert 2 in table
    assert 5 not in table
    assert "2" not in table  # type: ignore[comparison-overlap]
    assert None not in table
    with pytest.raises(KeyError):
        table[5]
    with pytest.raises(TypeError):
        table[1] = _article(1)  # type: ignore[index]


def test_keys_find_what_they_would_find_in_a_dict_made_or_not() -> None:
    articles: dict[Any, Article] = {1: _article(1), 2: _article(2)}
    for made in (False, True):
        table: Mapping[Any, Article] = _round_trip(articles)
        if made:
            list(table.values())
        found: tuple[Any, ...] = (np.int64(2), 2.0, True)
        for key in found:
            assert (key in table) == (key in articles), key
            assert table.get(key) == articles.get(key)
        missing: tuple[Any, ...] = ("2", None, 2.5, np.float64(1.5), (1,))
        for key in missing:
            assert key not in table, key
            assert table.get(key) is None
        with pytest.raises(KeyError):
            keyword_count(table, 3)


def test_what_columns_cannot_hold_stays_records() -> None:
    related = (RelatedEntry(1, 2, "T", "S", None),)
    with_related = _article(1, copies=(Copy("t/1.md", None, "Topic", "topic", related),))
    assert ArticleTable.of({1: with_related}) is None
    assert ArticleTable.of({2: _article(2), 1: _article(1)}) is None  # not by ascending id
    assert ArticleTable.of({1: _article(2)}) is None  # keyed by another id
    assert ArticleTable.of({1: _article(1, copies=())}) is None  # no file
    empty = ArticleTable.of({})
    assert empty is not None
    assert len(empty) == 0
    assert list(empty.values()) == []


def test_columns_that_do_not_match_are_refused() -> None:
    table = _round_trip({1: _article(1, keywords=("k",)), 2: _article(2, keywords=("k", "l"))})
    columns = table.__reduce__()[1][0]  # type: ignore[index]
    assert isinstance(columns, dict)
    ArticleTable(columns)
    for name, wrong in (
        ("titles", columns["titles"][:1]),  # a column short
        ("ids", columns["ids"][::-1]),  # ids not ascending
        ("titles", array("i", [0, 99])),  # a text past the last
        ("keywords", array("i", [len(columns["words"])] * len(columns["keywords"]))),
        ("copy_ends", array("i", [0, 2, 1])),  # a file counted back
    ):
        with pytest.raises(ValueError, match="do not match"):
            ArticleTable({**columns, name: wrong})

"""A graph's articles as columns: what a snapshot carries and a warm start serves.

A built graph holds its articles as :class:`~kgraph.model.Article` records:
at 200,000 articles, 2.4 million Python objects (records, copies, tuples,
strings), which a warm start unpickled one by one (0.9 s of its 4 s).
An :class:`ArticleTable` holds the same articles as a dozen arrays, one
buffer of UTF-8 text and the strings that articles share (subjects, topic
keys, keywords), each once: it unpickles about as fast as it copies those
buffers (0.13 s), and the serving processes forked from the one that loaded
it share them page by page.

It is a read-only ``Mapping[int, Article]`` that iterates by ascending id,
as a built graph's ``articles`` does: ``table[i]`` makes the record of
article ``i`` (a few microseconds; then kept, so that an article asked for
again costs a dict lookup) equal to the one it was made from. The functions
:func:`titles`, :func:`copy_counts`, :func:`copy_topics`, :func:`first_topics`,
:func:`head` and :func:`keyword_count` answer the questions that read much of
a corpus, of either kind of ``articles``: a table's from its columns, without
making a record of each article.
"""

from __future__ import annotations

import bisect
import datetime
import operator
from array import array
from collections.abc import ItemsView, Iterator, Mapping, ValuesView
from sys import intern
from typing import Any

import numpy as np
import numpy.typing as npt

from kgraph.model import Article, Copy

__all__ = [
    "ArticleTable",
    "copy_counts",
    "copy_topics",
    "first_topics",
    "head",
    "keyword_count",
    "titles",
]

_NONE = -1  # an absent text (question, description, url) or an absent date
_TITLE = -2  # a question that repeats the title


class _Texts:
    """Strings written one after another as UTF-8 (lone surrogates kept): slot → text."""

    def __init__(self) -> None:
        # One buffer grown in place: no list of a million pieces beside it, no
        # copy of it joined (a snapshot is written while the server serves).
        self.data = bytearray()
        self.ends = array("q")

    def add(self, text: str) -> int:
        self.data += text.encode("utf-8", "surrogatepass")
        self.ends.append(len(self.data))
        return len(self.ends) - 1


class _Words:
    """Shared strings (subjects, topic keys, keywords) by number, in first-seen order."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}

    def add(self, word: str) -> int:
        number = self.numbers.get(word)
        if number is None:
            number = self.numbers[word] = len(self.numbers)
        return number


class ArticleTable(Mapping[int, Article]):
    """Article id → its :class:`~kgraph.model.Article`, made on demand from columns.

    Built with :meth:`of` from a graph's articles; pickles as its columns.

    >>> from kgraph.graph import load_graph
    >>> kg = load_graph("seeds")
    >>> table = ArticleTable.of(kg.articles)
    >>> table == kg.articles, list(table) == list(kg.articles), len(table)
    (True, True, 52)
    >>> table[168904].title == kg.articles[168904].title, 5 in table
    (True, False)
    """

    __slots__ = (
        "_columns",
        "_copies",
        "_copy_ends",
        "_dates",
        "_descriptions",
        "_keyword_ends",
        "_keywords",
        "_made",
        "_no_index",
        "_paths",
        "_questions",
        "_scored",
        "_scores",
        "_subjects",
        "_text",
        "_text_ends",
        "_titles",
        "_topic_ends",
        "_topics",
        "_urls",
        "_words",
        "ids",
    )

    def __init__(self, columns: dict[str, Any]) -> None:
        # array.array columns: an item reads as a Python int in tens of nanoseconds.
        self.ids: array[int] = columns["ids"]
        self._titles: array[int] = columns["titles"]
        self._questions: array[int] = columns["questions"]
        self._descriptions: array[int] = columns["descriptions"]
        self._keyword_ends: array[int] = columns["keyword_ends"]
        self._keywords: array[int] = columns["keywords"]
        self._dates: array[int] = columns["dates"]
        self._scores: array[float] = columns["scores"]
        self._scored: bytes = columns["scored"]
        self._no_index: bytes = columns["no_index"]
        self._copy_ends: array[int] = columns["copy_ends"]
        self._paths: array[int] = columns["paths"]
        self._urls: array[int] = columns["urls"]
        self._subjects: array[int] = columns["subjects"]
        self._copies: array[int] = columns["copies"]  # each copy's topic key, by word
        self._topic_ends: array[int] = columns["topic_ends"]
        self._topics: array[int] = columns["topics"]
        self._text: bytes | bytearray = columns["text"]
        self._text_ends: array[int] = columns["text_ends"]
        # Shared in this process as a built graph shares them (kgraph.model.article_file).
        self._words: tuple[str, ...] = tuple(map(intern, columns["words"]))
        # The columns as given (the words shared): what the table pickles as.
        self._columns = {**columns, "words": self._words}
        # The records made so far, kept: an article asked for again (a path search
        # reads its neighbours' topics over and over) costs a dict lookup.
        self._made: dict[int, Article] = {}
        n = len(self.ids)
        if not (
            len(self._titles) == len(self._questions) == len(self._descriptions) == n
            and len(self._dates) == len(self._scores) == len(self._scored) == n
            and len(self._no_index) == n
            and len(self._keyword_ends) == len(self._copy_ends) == len(self._topic_ends) == n + 1
            and len(self._paths) == len(self._urls) == len(self._subjects) == len(self._copies)
            and self._copy_ends[-1] == len(self._paths)
            and self._keyword_ends[-1] == len(self._keywords)
            and self._topic_ends[-1] == len(self._topics)
            and (self._text_ends[-1] if self._text_ends else 0) == len(self._text)
            and self._numbers_fit()
        ):
            raise ValueError("the columns of an article table do not match")

    def _numbers_fit(self) -> bool:
        """Whether ids ascend and every number points inside the columns it numbers."""

        def numbers(column: array[int]) -> npt.NDArray[np.signedinteger[Any]]:
            # Read in place: ends rise below 2**31, so their differences fit too.
            kind = {"q": np.int64, "i": np.intc}[column.typecode]
            return np.frombuffer(column, dtype=kind)

        def within(column: array[int], low: int, high: int) -> bool:
            values = numbers(column)
            return not len(values) or bool(values.min() >= low and values.max() < high)

        def rising(column: array[int], step: int = 0) -> bool:
            return bool((np.diff(numbers(column)) >= step).all())

        texts, words = len(self._text_ends), len(self._words)
        ends = (self._keyword_ends, self._copy_ends, self._topic_ends)
        return (
            rising(self.ids, 1)
            and rising(self._text_ends)
            and all(column[0] == 0 and rising(column) for column in ends)
            and within(self._titles, 0, texts)
            and within(self._paths, 0, texts)
            and within(self._questions, _TITLE, texts)
            and within(self._descriptions, _NONE, texts)
            and within(self._urls, _NONE, texts)
            and within(self._dates, _NONE, datetime.date.max.toordinal() + 1)
            and all(
                within(column, 0, words)
                for column in (self._keywords, self._subjects, self._copies, self._topics)
            )
        )

    @classmethod
    def of(cls, articles: Mapping[int, Article]) -> ArticleTable | None:
        """The table of ``articles`` (a built graph's), or ``None`` when columns cannot hold them.

        Columns hold articles by ascending id whose copies carry no related
        entries (a built graph's); anything else stays as it is.
        """
        if isinstance(articles, ArticleTable):
            return articles
        texts, words = _Texts(), _Words()
        # Ids as 64-bit integers; numbers of texts, words and entries (and dates'
        # ordinals) as 32-bit ones: a billion is far beyond any corpus.
        ids, titles, questions, descriptions = array("q"), array("i"), array("i"), array("i")
        keyword_ends, keywords = array("i", [0]), array("i")
        dates, scores, scored, no_index = array("i"), array("d"), bytearray(), bytearray()
        copy_ends, paths, urls = array("i", [0]), array("i"), array("i")
        subjects, copies = array("i"), array("i")
        topic_ends, topics = array("i", [0]), array("i")
        previous: int | None = None
        for article_id, article in articles.items():
            if article_id != article.id or (previous is not None and article_id <= previous):
                return None
            previous = article_id
            if not article.copies:
                return None  # a built graph's article has a file, at least
            ids.append(article_id)
            titles.append(texts.add(article.title))
            question = article.question
            questions.append(
                _NONE
                if question is None
                else _TITLE
                if question == article.title
                else texts.add(question)
            )
            description = article.description
            descriptions.append(_NONE if description is None else texts.add(description))
            keywords.extend(words.add(keyword) for keyword in article.keywords)
            keyword_ends.append(len(keywords))
            dates.append(_NONE if article.date is None else article.date.toordinal())
            scores.append(0.0 if article.score is None else article.score)
            scored.append(article.score is not None)
            no_index.append(article.no_index)
            for copy in article.copies:
                if copy.related:
                    return None
                paths.append(texts.add(copy.path))
                urls.append(_NONE if copy.url is None else texts.add(copy.url))
                subjects.append(words.add(copy.subject))
                copies.append(words.add(copy.topic))
            copy_ends.append(len(paths))
            topics.extend(words.add(topic) for topic in article.topics)
            topic_ends.append(len(topics))
        return cls(
            {
                "ids": ids,
                "titles": titles,
                "questions": questions,
                "descriptions": descriptions,
                "keyword_ends": keyword_ends,
                "keywords": keywords,
                "dates": dates,
                "scores": scores,
                "scored": bytes(scored),
                "no_index": bytes(no_index),
                "copy_ends": copy_ends,
                "paths": paths,
                "urls": urls,
                "subjects": subjects,
                "copies": copies,
                "topic_ends": topic_ends,
                "topics": topics,
                "text": texts.data,
                "text_ends": texts.ends,
                "words": tuple(words.numbers),
            }
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (ArticleTable, (self._columns,))

    # -- the mapping --------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[int]:
        return iter(self.ids)

    def _position(self, article_id: object) -> int:
        """Where ``article_id`` is in the columns, else -1.

        Any key equal to an id finds it, as in a dict (a numpy integer, ``2.0``).
        """
        try:
            article_id = operator.index(article_id)  # type: ignore[arg-type]
        except TypeError:
            if not (isinstance(article_id, float) and article_id.is_integer()):
                return -1
            article_id = int(article_id)
        ids = self.ids
        at = bisect.bisect_left(ids, article_id)
        return at if at < len(ids) and ids[at] == article_id else -1

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._made or self._position(article_id) >= 0

    def __getitem__(self, article_id: int) -> Article:
        made = self._made.get(article_id)
        if made is None:
            at = self._position(article_id)
            if at < 0:
                raise KeyError(article_id)
            # Two threads may make the same record: the first one kept is everyone's.
            made = self._made.setdefault(self.ids[at], self._article(at))
        return made

    def values(self) -> ValuesView[Article]:
        return _Values(self)

    def items(self) -> ItemsView[int, Article]:
        return _Items(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ArticleTable) and other._columns == self._columns:
            return True
        return Mapping.__eq__(self, other)

    __hash__ = None  # type: ignore[assignment]  # a mapping, as a dict is

    def __repr__(self) -> str:
        return f"<ArticleTable of {len(self):,} articles>"

    # -- records ------------------------------------------------------------------------

    def _slot(self, slot: int) -> str:
        ends = self._text_ends
        return self._text[ends[slot - 1] if slot else 0 : ends[slot]].decode(
            "utf-8", "surrogatepass"
        )

    def _copy(self, c: int) -> Copy:
        url = self._urls[c]
        words = self._words
        return Copy(
            self._slot(self._paths[c]),
            None if url == _NONE else self._slot(url),
            words[self._subjects[c]],
            words[self._copies[c]],
            (),
        )

    def _article(self, at: int) -> Article:
        slot, word = self._slot, self._words.__getitem__
        title = slot(self._titles[at])
        question = self._questions[at]
        description = self._descriptions[at]
        date = self._dates[at]
        first, end = self._copy_ends[at], self._copy_ends[at + 1]
        keywords = self._keywords[self._keyword_ends[at] : self._keyword_ends[at + 1]]
        topics = self._topics[self._topic_ends[at] : self._topic_ends[at + 1]]
        return Article(
            self.ids[at],
            title,
            None if question == _NONE else title if question == _TITLE else slot(question),
            None if description == _NONE else slot(description),
            tuple(map(word, keywords)),
            None if date == _NONE else datetime.date.fromordinal(date),
            self._scores[at] if self._scored[at] else None,
            bool(self._no_index[at]),
            (self._copy(first),) if end == first + 1 else tuple(map(self._copy, range(first, end))),
            tuple(map(word, topics)),
        )

    def _each(self) -> Iterator[Article]:
        made, make = self._made, self._article
        for at, article_id in enumerate(self.ids):
            article = made.get(article_id)
            if article is None:
                article = made.setdefault(article_id, make(at))
            yield article

    # -- whole-corpus questions, from the columns ---------------------------------------

    def _copy_counts(self) -> Iterator[tuple[int, int]]:
        ends = self._copy_ends
        return ((i, ends[at + 1] - ends[at]) for at, i in enumerate(self.ids))

    def _copy_topics(self) -> dict[str, str]:
        slot, words = self._slot, self._words
        return {
            slot(path): words[topic] for path, topic in zip(self._paths, self._copies, strict=True)
        }

    def _first_topics(self) -> dict[int, str]:
        words, topics, ends = self._words, self._topics, self._topic_ends
        return {article_id: words[topics[ends[at]]] for at, article_id in enumerate(self.ids)}

    def _keyword_count(self, article_id: int) -> int:
        made = self._made.get(article_id)
        if made is not None:
            return len(made.keywords)
        at = self._position(article_id)
        if at < 0:
            raise KeyError(article_id)
        return self._keyword_ends[at + 1] - self._keyword_ends[at]

    def _title_pairs(self) -> Iterator[tuple[int, str]]:
        return zip(self.ids, map(self._slot, self._titles), strict=True)

    def _head(self, article_id: int) -> tuple[str, str, str | None] | None:
        made = self._made.get(article_id)
        if made is not None:
            return made.copies[0].path, made.title, made.url
        at = self._position(article_id)
        if at < 0:
            return None
        first = self._copy_ends[at]
        url = self._urls[first]
        return (
            self._slot(self._paths[first]),
            self._slot(self._titles[at]),
            None if url == _NONE else self._slot(url),
        )


# Whole-corpus questions of a graph's articles, a dict of records or a table:
# a table answers them from its columns, without making a record of each article.


def copy_counts(articles: Mapping[int, Article]) -> Iterator[tuple[int, int]]:
    """``(article id, how many files hold it)`` of every article, in the mapping's order."""
    if isinstance(articles, ArticleTable):
        return articles._copy_counts()
    return ((i, len(a.copies)) for i, a in articles.items())


def copy_topics(articles: Mapping[int, Article]) -> dict[str, str]:
    """Every file of an article → the topic key of its subject."""
    if isinstance(articles, ArticleTable):
        return articles._copy_topics()
    return {c.path: c.topic for a in articles.values() for c in a.copies}


def titles(articles: Mapping[int, Article]) -> Iterator[tuple[int, str]]:
    """``(article id, title)`` of every article, in the mapping's order."""
    if isinstance(articles, ArticleTable):
        return articles._title_pairs()
    return ((i, a.title) for i, a in articles.items())


def first_topics(articles: Mapping[int, Article]) -> dict[int, str]:
    """Every article → its first topic key (that of its first file)."""
    if isinstance(articles, ArticleTable):
        return articles._first_topics()
    return {i: a.topics[0] for i, a in articles.items()}


def keyword_count(articles: Mapping[int, Article], article_id: int) -> int:
    """How many keywords an article has.

    Raises
    ------
    KeyError
        When there is no such article.
    """
    if isinstance(articles, ArticleTable):
        return articles._keyword_count(article_id)
    return len(articles[article_id].keywords)


def head(articles: Mapping[int, Article], article_id: int) -> tuple[str, str, str | None] | None:
    """The first file, title and url of an article (``None`` when there is none such)."""
    if isinstance(articles, ArticleTable):
        return articles._head(article_id)
    article = articles.get(article_id)
    return None if article is None else (article.copies[0].path, article.title, article.url)


class _Values(ValuesView[Article]):
    _mapping: ArticleTable

    def __iter__(self) -> Iterator[Article]:
        return self._mapping._each()


class _Items(ItemsView[int, Article]):
    _mapping: ArticleTable

    def __iter__(self) -> Iterator[tuple[int, Article]]:
        table = self._mapping
        return zip(table.ids, table._each(), strict=True)

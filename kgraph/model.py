"""Frozen records of the domain: what files say and what the graph is made of.

Nothing here knows about files, networkx or GraphQL; every other layer shares
these types.
"""

from __future__ import annotations

import copyreg
import datetime
from dataclasses import dataclass, fields
from enum import StrEnum
from operator import attrgetter
from sys import intern

__all__ = [
    "Article",
    "ArticleFile",
    "Copy",
    "Diagnostic",
    "Finding",
    "FindingKind",
    "Link",
    "RelatedEntry",
    "Topic",
    "Wanted",
    "article_file",
    "decode_text",
    "encode_text",
    "pickled_as_call",
    "related_entry",
    "shared_text",
]


def encode_text(text: str) -> bytes:
    """A long text as a file's record carries it: UTF-8 bytes (any lone surrogate kept).

    Answers are most of a corpus's bytes and are read one at a time: as bytes
    they take one byte per ASCII character whatever else they hold (a ``str``
    with one character past U+00FF takes two or four per character), cross
    between processes as one copy, and decode in a microsecond or two on use.
    They were zlib-packed until issue 17: 38 µs a file, a third of the line
    reader's time per file, for half of their size. A built graph keeps them
    out of the heap, in a mapped file (:mod:`kgraph.graph.answers`).

    >>> decode_text(encode_text("x \\neq 0$.\\nNext")) == "x \\neq 0$.\\nNext"
    True
    """
    return text.encode("utf-8", "surrogatepass")


def decode_text(data: bytes) -> str:
    """The text that :func:`encode_text` encoded."""
    return data.decode("utf-8", "surrogatepass")


#: The range of an article's id and of a related entry's ``N``: GraphQL's ``Int``
#: (32-bit signed), in which the API gives both. A file whose id or ``N`` lies
#: outside it is a parse error; a related entry's id outside it names nothing.
INT_MIN = -(2**31)
INT_MAX = 2**31 - 1


def in_int_range(value: int) -> bool:
    """Whether ``value`` fits GraphQL's ``Int`` (:data:`INT_MIN` … :data:`INT_MAX`).

    >>> in_int_range(168904), in_int_range(-13), in_int_range(2**31)
    (True, True, False)
    """
    return INT_MIN <= value <= INT_MAX


@dataclass(frozen=True, slots=True)
class RelatedEntry:
    """One ``related_articleN`` entry of a file, as written."""

    rank: int
    id: int | None
    title: str | None
    subject: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class Copy:
    """One file of an article: where it lives and what it links to.

    ``related`` as the file lists them; empty in a built graph's articles,
    which keep the links they make instead (see :class:`Article`).
    """

    path: str
    url: str | None
    subject: str
    topic: str
    related: tuple[RelatedEntry, ...]


@dataclass(frozen=True, slots=True)
class ArticleFile:
    """Everything one readable file says about its article."""

    id: int
    title: str
    question: str | None
    answer_utf8: bytes  # the answer as written, see encode_text
    description: str | None
    keywords: tuple[str, ...]
    date: datetime.date | None
    score: float | None
    no_index: bool
    copy: Copy

    @property
    def answer_raw(self) -> str:
        """The answer as written (escaped line breaks)."""
        return decode_text(self.answer_utf8)


@dataclass(frozen=True, slots=True)
class Article:
    """One node of the graph: an article id and all of its copies.

    Text fields come from the first copy in sorted path order; ``topics`` is
    the union of the copies' topic keys, in that order. The copies come without
    their related entries (``related`` is empty): the graph holds what those said
    as its links, findings and wanted articles. The answer is not here: the
    graph keeps every answer out of the heap (:meth:`KnowledgeGraph.answer_raw
    <kgraph.graph.KnowledgeGraph.answer_raw>`).
    """

    id: int
    title: str
    question: str | None
    description: str | None
    keywords: tuple[str, ...]
    date: datetime.date | None
    score: float | None
    no_index: bool
    copies: tuple[Copy, ...]
    topics: tuple[str, ...]

    @property
    def url(self) -> str | None:
        """The url of the first copy."""
        return self.copies[0].url

    @property
    def urls(self) -> tuple[str, ...]:
        """Every copy's url, in copy order."""
        return tuple(c.url for c in self.copies if c.url is not None)

    @property
    def subject(self) -> str:
        """The subject as the first copy spells it."""
        return self.copies[0].subject


@dataclass(frozen=True, slots=True)
class Wanted:
    """A missing article: an id that related entries name but no file has.

    ``title``, ``subject`` and ``url`` are those of the first entry naming it
    (sorted path order, then rank); ``referrers`` the distinct articles naming it, by id.
    """

    id: int
    title: str | None
    subject: str | None
    url: str | None
    referrers: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Link:
    """A directed edge: ``source`` lists ``target`` among its related articles.

    ``rank`` is the lowest ``N`` of ``related_articleN`` that gave it;
    ``paths`` the files (copies of ``source``) that list it.
    """

    source: int
    target: int
    rank: int
    paths: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Topic:
    """A subject, keyed by its slug; ``name`` is its most common spelling."""

    key: str
    name: str
    spellings: tuple[tuple[str, int], ...]
    article_ids: tuple[int, ...]
    files: int


class FindingKind(StrEnum):
    """What is wrong (or odd) about one related entry."""

    BROKEN_LINK = "broken_link"
    STALE_LINK = "stale_link"
    URL_MISMATCH = "url_mismatch"
    DUPLICATE_LINK = "duplicate_link"
    SELF_LINK = "self_link"


@dataclass(frozen=True, slots=True)
class Finding:
    """One related entry that ingest had to correct, drop or could not resolve.

    ``target`` is the article the entry resolved to (``None`` for a broken
    link, whose missing id is ``stated_id``); ``first_rank`` is, for a
    duplicate link, the rank of the earlier entry it repeats.
    """

    kind: FindingKind
    article: int
    path: str
    rank: int
    stated_id: int | None
    stated_url: str | None
    target: int | None
    first_rank: int | None = None


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A file that could not be read: where, and why."""

    path: str
    line: int | None
    message: str


def pickled_as_call(kind: type) -> None:
    """Pickle records of ``kind`` as the class called with its fields.

    The default for slots dataclasses (``__getstate__`` / ``__setstate__``)
    walks :func:`dataclasses.fields` per object: twice the time, and a
    snapshot's curation report holds a hundred thousand records at 200,000
    articles. (A reading's records cross processes as columns instead:
    :class:`~kgraph.corpus.columns.FileColumns`.)
    """
    names = [item.name for item in fields(kind)]
    get = attrgetter(*names)
    if len(names) == 1:
        copyreg.pickle(kind, lambda record: (kind, (get(record),)))
    else:
        copyreg.pickle(kind, lambda record: (kind, get(record)))


def shared_text(text: str | None) -> str | None:
    """``text`` as one string shared by every equal one in this process (or ``None``).

    Subjects, keywords, and the titles and urls that related entries repeat
    occur thousands of times over a corpus: shared, each is kept once (and
    pickled once per batch of files sent between processes).
    """
    return intern(text) if text is not None else None


def related_entry(
    rank: int, id: int | None, title: str | None, subject: str | None, url: str | None
) -> RelatedEntry:
    """A related entry, its texts shared (:func:`shared_text`), as readers make it."""
    return RelatedEntry(rank, id, shared_text(title), shared_text(subject), shared_text(url))


def article_file(
    id: int,
    title: str,
    question: str | None,
    answer_utf8: bytes,
    description: str | None,
    keywords: tuple[str, ...],
    date: datetime.date | None,
    score: float | None,
    no_index: bool,
    path: str,
    url: str | None,
    subject: str,
    topic: str,
    related: tuple[RelatedEntry, ...],
) -> ArticleFile:
    """A file's record, its copy's fields given flat, as readers make it (and FileColumns).

    Its repeated texts are shared (title, keywords, url, subject, topic), and a
    question that repeats the title is the title's string.
    """
    title = intern(title)
    return ArticleFile(
        id,
        title,
        title if question == title else question,
        answer_utf8,
        description,
        tuple(map(intern, keywords)),
        date,
        score,
        no_index,
        Copy(path, shared_text(url), intern(subject), intern(topic), related),
    )


for _kind in (RelatedEntry, Copy, ArticleFile, Article, Wanted, Link, Topic, Finding, Diagnostic):
    pickled_as_call(_kind)

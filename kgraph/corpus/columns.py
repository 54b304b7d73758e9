"""The records of a reading's files as columns: what reading processes send and a build reads.

A file's record (an :class:`~kgraph.model.ArticleFile`, its
:class:`~kgraph.model.Copy`, a :class:`~kgraph.model.RelatedEntry` per entry)
was a fifth of a reading process's time a file to make and pickle (66-71 µs a
file on dev, 52-55 µs with columns), and the process that builds the graph
unpickled it in 9 µs, against 1.2 µs for the same fields as columns. Most
files (the site's own layout) go from their fields straight into columns
(:func:`~kgraph.corpus.fast.parse_fields`); any other file's record is written
in. The answer and the related entries are kept apart
(:class:`~kgraph.corpus.read.AnswerSpool`, :class:`~kgraph.corpus.read.RelatedSpool`).
"""

from __future__ import annotations

import datetime
from array import array
from collections.abc import Iterable, Iterator, Sequence
from sys import intern
from typing import overload

from kgraph.corpus.fast import FileFields
from kgraph.model import ArticleFile, article_file, shared_text

__all__ = ["FileColumns"]

_NO_DATE = -1


class FileColumns(Sequence[ArticleFile]):
    """The records of files read, in order, as one column per field.

    A sequence of :class:`~kgraph.model.ArticleFile`: item ``at`` is the
    record of file ``at``, made on demand, its answer and related entries left
    out (``b""``, ``()``) as a reading keeps them. Texts that files repeat
    (titles, keywords, urls, subjects, topics) are one string each, as
    :func:`~kgraph.model.article_file` shares them.

    >>> from kgraph.corpus.parse import parse_article
    >>> record = parse_article(b"---\\nid: 7\\ntitle: Sky\\nsubject: Physics\\n---\\n", "p/7.md")
    >>> files = FileColumns.of([record])
    >>> len(files), files[0].title, files[0].copy.topic, files.paths
    (1, 'Sky', 'physics', ['p/7.md'])
    >>> files[0] == record
    True
    """

    __slots__ = (
        "dates",
        "descriptions",
        "ids",
        "keywords",
        "no_index",
        "paths",
        "questions",
        "scores",
        "subjects",
        "titles",
        "topics",
        "urls",
    )

    def __init__(self) -> None:
        self.ids = array("q")
        self.titles: list[str] = []
        #: A question that repeats the title is the title's string.
        self.questions: list[str | None] = []
        self.descriptions: list[str | None] = []
        self.keywords: list[tuple[str, ...]] = []
        #: Each date's ordinal (-1: none): a date object pickles at a microsecond each.
        self.dates = array("i")
        self.scores: list[float | None] = []
        self.no_index = bytearray()
        self.paths: list[str] = []
        self.urls: list[str | None] = []
        self.subjects: list[str] = []
        self.topics: list[str] = []

    @classmethod
    def of(cls, records: Iterable[ArticleFile]) -> FileColumns:
        """The columns of ``records``."""
        files = cls()
        for record in records:
            files.add(record)
        return files

    def add_fields(self, fields: FileFields) -> None:
        """Append the file of ``fields`` (its answer and entries are not kept here)."""
        (article_id, title, question, _, description, keywords, date, score, no_index,
         path, url, subject, topic, _) = fields  # fmt: skip
        title = intern(title)
        self.ids.append(article_id)
        self.titles.append(title)
        self.questions.append(title if question == title else question)
        self.descriptions.append(description)
        self.keywords.append(tuple(map(intern, keywords)))
        self.dates.append(_NO_DATE if date is None else date.toordinal())
        self.scores.append(score)
        self.no_index.append(no_index)
        self.paths.append(path)
        self.urls.append(shared_text(url))
        self.subjects.append(intern(subject))
        self.topics.append(intern(topic))

    def add(self, record: ArticleFile) -> None:
        """Append the file of ``record`` (its answer and entries are not kept here)."""
        copy = record.copy
        self.add_fields(
            (record.id, record.title, record.question, b"", record.description,
             record.keywords, record.date, record.score, record.no_index,
             copy.path, copy.url, copy.subject, copy.topic, [])
        )  # fmt: skip

    def extend(self, other: FileColumns) -> None:
        """Append the files of ``other`` (read in another process), their texts shared."""
        self.ids.extend(other.ids)
        titles = list(map(intern, other.titles))
        self.titles.extend(titles)
        self.questions.extend(
            title if question == title else question
            for title, question in zip(titles, other.questions, strict=True)
        )
        self.descriptions.extend(other.descriptions)
        self.keywords.extend(tuple(map(intern, listed)) for listed in other.keywords)
        self.dates.extend(other.dates)
        self.scores.extend(other.scores)
        self.no_index.extend(other.no_index)
        self.paths.extend(other.paths)
        self.urls.extend(map(shared_text, other.urls))
        self.subjects.extend(map(intern, other.subjects))
        self.topics.extend(map(intern, other.topics))

    def date(self, at: int) -> datetime.date | None:
        """The date of file ``at``."""
        ordinal = self.dates[at]
        return None if ordinal == _NO_DATE else datetime.date.fromordinal(ordinal)

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, at: int) -> ArticleFile: ...

    @overload
    def __getitem__(self, at: slice) -> Sequence[ArticleFile]: ...

    def __getitem__(self, at: int | slice) -> ArticleFile | Sequence[ArticleFile]:
        if isinstance(at, slice):
            return tuple(self[i] for i in range(*at.indices(len(self))))
        return article_file(
            self.ids[at],
            self.titles[at],
            self.questions[at],
            b"",
            self.descriptions[at],
            self.keywords[at],
            self.date(at),
            self.scores[at],
            bool(self.no_index[at]),
            self.paths[at],
            self.urls[at],
            self.subjects[at],
            self.topics[at],
            (),
        )

    def __iter__(self) -> Iterator[ArticleFile]:
        return (self[at] for at in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=False))

    __hash__ = None  # type: ignore[assignment]

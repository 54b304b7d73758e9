"""A reading's records as columns: the records each file's own reading gives, shared texts."""

from __future__ import annotations

import pickle
from dataclasses import replace
from pathlib import Path

import pytest

from kgraph.corpus import read_corpus, read_file
from kgraph.corpus.columns import FileColumns
from kgraph.model import ArticleFile, Copy


def _as_kept(record: ArticleFile) -> ArticleFile:
    """``record`` as a reading keeps it: its answer and related entries apart."""
    copy = record.copy
    return replace(
        record, answer_utf8=b"", copy=Copy(copy.path, copy.url, copy.subject, copy.topic, ())
    )


@pytest.mark.parametrize("workers", [1, 2])
def test_columns_hold_what_each_file_says(dev_corpus: Path, workers: int) -> None:
    """Every dev file (the site's layout read from its fields, the rest through YAML's
    records), read in one process or two: the record its own reading gives."""
    reading = read_corpus(dev_corpus, workers=workers)
    assert isinstance(reading.articles, FileColumns)
    records = [read_file(dev_corpus, path) for path in reading.files]
    expected = [_as_kept(record) for record in records if isinstance(record, ArticleFile)]
    assert len(reading.articles) == len(expected) == 20_702
    assert list(reading.articles) == expected
    assert reading.articles == tuple(expected)
    assert reading.articles[5:8] == tuple(expected[5:8])
    # The answers and entries kept apart are each file's own.
    for at in range(0, len(expected), 97):
        record = records[reading.files.index(expected[at].copy.path)]
        assert isinstance(record, ArticleFile)
        assert reading.answer_utf8(at) == record.answer_utf8
        assert reading.related_of(at) == record.copy.related
    # Texts that files repeat are one string over the reading, whichever process read them.
    subjects = {id(subject) for subject in reading.articles.subjects}
    assert len(subjects) == len(set(reading.articles.subjects))
    keywords = {id(k) for listed in reading.articles.keywords for k in listed}
    assert len(keywords) == len({k for listed in reading.articles.keywords for k in listed})


def test_columns_pickle_and_extend_as_records(dev_corpus: Path) -> None:
    reading = read_corpus(dev_corpus, workers=1)
    records = list(reading.articles)[:300]
    columns = FileColumns.of(records[:100])
    columns.extend(pickle.loads(pickle.dumps(FileColumns.of(records[100:]), protocol=5)))
    assert list(columns) == records
    assert columns != records[:-1]
    assert [c.date for c in columns] == [r.date for r in records]
    assert columns.questions[0] is columns.titles[0] or records[0].question != records[0].title

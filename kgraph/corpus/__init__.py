"""Read a corpus folder of Markdown articles: discover, read, parse, normalise, render.

``render_answer`` is imported on first use: the processes that read a corpus's
files import this package, and Markdown's renderer is a quarter of its import
time that none of them needs.
"""

from typing import TYPE_CHECKING, Any

from kgraph.corpus.fast import parse_article_fast
from kgraph.corpus.parse import MAX_FILE_BYTES, parse_article
from kgraph.corpus.read import (
    CorpusListing,
    CorpusReading,
    Progress,
    discover,
    list_corpus,
    read_corpus,
    read_file,
)
from kgraph.corpus.text import normalise_answer, split_keywords, topic_key, words

if TYPE_CHECKING:
    from kgraph.corpus.markdown import render_answer

__all__ = [
    "MAX_FILE_BYTES",
    "CorpusListing",
    "CorpusReading",
    "Progress",
    "discover",
    "list_corpus",
    "normalise_answer",
    "parse_article",
    "parse_article_fast",
    "read_corpus",
    "read_file",
    "render_answer",
    "split_keywords",
    "topic_key",
    "words",
]


def __getattr__(name: str) -> Any:
    if name != "render_answer":
        raise AttributeError(f"module 'kgraph.corpus' has no attribute {name!r}")
    from kgraph.corpus.markdown import render_answer

    return render_answer

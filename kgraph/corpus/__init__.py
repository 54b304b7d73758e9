"""Read a corpus folder of Markdown articles: discover, read, parse, normalise, render."""

from kgraph.corpus.fast import parse_article_fast
from kgraph.corpus.markdown import render_answer
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

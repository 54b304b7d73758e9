"""The one exception tree of kgraph.

::

    KgraphError                  anything kgraph raises on purpose
    ├── CorpusError              the corpus folder as a whole cannot be used
    │   ├── CorpusNotFound       the folder does not exist or is not a folder
    │   └── EmptyCorpus          the folder holds no ``*.md`` file
    ├── LoadCancelled            a load was stopped before it finished (its reload abandoned)
    ├── ArticleParseError        one file cannot be read (path, line, reason)
    ├── SettingsError            a setting's value cannot be used (names the setting)
    └── QueryError               a query asks for something it cannot have;
        │                        its message reaches the client as is
        ├── ArticleNotFound      an article id the graph does not hold
        ├── GraphNotReady        the graph is still loading, or failed to load
        ├── StaleCursor          a page's cursor is of a graph since reloaded
        └── DeadlineExceeded     the request ran out of time, or its client left

``ArticleParseError`` never escapes :func:`kgraph.corpus.read_corpus`: it is
turned into a :class:`kgraph.model.Diagnostic` and the other files still load.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "ArticleNotFound",
    "ArticleParseError",
    "CorpusError",
    "CorpusNotFound",
    "DeadlineExceeded",
    "EmptyCorpus",
    "GraphNotReady",
    "KgraphError",
    "LoadCancelled",
    "QueryError",
    "SettingsError",
    "StaleCursor",
]


class KgraphError(Exception):
    """Base class of every error kgraph raises on purpose."""


class CorpusError(KgraphError):
    """The corpus folder as a whole cannot be used."""


class LoadCancelled(KgraphError):
    """A load was stopped before it finished: its caller gave up waiting for it."""


class CorpusNotFound(CorpusError):
    """The corpus folder does not exist or is not a folder."""

    def __init__(self, path: str) -> None:
        super().__init__(f"corpus folder not found: {path}")
        self.path = path


class EmptyCorpus(CorpusError):
    """The corpus folder holds no article file."""

    def __init__(self, path: str) -> None:
        super().__init__(f"no *.md article files in corpus folder: {path}")
        self.path = path


class ArticleParseError(KgraphError):
    """One article file cannot be read.

    Parameters
    ----------
    path : str
        The file's path relative to the corpus folder.
    line : int or None
        1-based line of the problem, when known.
    reason : str
        What is wrong, in words a content editor can act on.
    """

    def __init__(self, path: str, line: int | None, reason: str) -> None:
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason


class SettingsError(KgraphError):
    """A setting (flag or environment variable) has a value that cannot be used."""


class QueryError(KgraphError):
    """A query asks for something it cannot have; the message says what to change."""


class ArticleNotFound(QueryError):
    """An article id that the graph does not hold."""

    def __init__(self, article_id: int) -> None:
        super().__init__(f"article {article_id} is not in the graph")
        self.article_id = article_id


class GraphNotReady(QueryError):
    """The graph is not loaded (yet, or because loading failed)."""


class StaleCursor(QueryError):
    """A cursor of another graph: the list it points into may have changed."""

    def __init__(self, name: str, version: int, served: int) -> None:
        if version != served:
            said = f"the graph was reloaded (version {served} now)"
        else:  # the same version of another graph: the corpus changed, or another server
            said = "the graph was read again since (a restart, or another server of it)"
        super().__init__(
            f"`{name}` is a cursor of graph version {version}, but {said} and its lists"
            " may have changed: restart paging from the first page"
        )
        self.version = version


class DeadlineExceeded(QueryError):
    """The request's work ran past its deadline, or its client went away.

    ``extensions`` is what graphql-core adds to the error it reports for a
    field that raised this (the request-wide deadline error says the same).
    """

    extensions: ClassVar[dict[str, object]] = {"code": "DEADLINE_EXCEEDED"}

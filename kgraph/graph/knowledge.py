"""The built knowledge graph: one immutable object that every query reads."""

from __future__ import annotations

import datetime
import threading
from array import array
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias, TypeVar, cast, overload

import networkx as nx

from kgraph.budget import checkpoint
from kgraph.graph.answers import AnswerStore
from kgraph.model import Article, Diagnostic, Finding, FindingKind, Link, Topic, Wanted

__all__ = ["KnowledgeGraph", "LazyIndex"]

T = TypeVar("T")
#: An index as :class:`LazyIndex` keeps it: its terms, and term ``n``'s ids at
#: ``ids[starts[n]:starts[n + 1]]``.
Arrays: TypeAlias = "tuple[Sequence[str], array[int], array[int]]"


class LazyIndex(Mapping[str, Sequence[int]]):
    """A read-only index of the graph built on first use, once, whichever thread asks first.

    The keyword index serves some queries (keyword filters, similarity), not
    the load: built eagerly it (with the word index that search now holds)
    was 0.45 s of the dev corpus's 0.9 s build. What never asks skips it;
    ``kgraph check``'s text report asks (its link suggestions weigh shared
    keywords): it takes it from the process that builds search's index
    (:meth:`built_first_from`). :func:`kgraph.graph.load.prepare` builds it
    before a server is ready; a snapshot keeps it built.

    Built, every term's ids lie in one array of machine integers and a term
    gives a view of its part (a ``memoryview``, not a tuple: its length at
    once, its ids as ints when iterated; it never equals a tuple): as a dict
    of tuples the keyword and word indexes took 135 MB of the heap at 200,000
    generated articles.

    >>> index = LazyIndex(lambda: (["atp"], array("q", [0, 2]), array("q", [1, 2])))
    >>> list(index["atp"]), tuple(index.get("adp", ())), len(index), list(index)
    ([1, 2], (), 1, ['atp'])
    """

    __slots__ = ("_build", "_ids", "_lock", "_slots", "_starts", "_view")

    def __init__(self, build: Callable[[], Arrays]) -> None:
        self._build: Callable[[], Arrays] | None = build
        self._slots: dict[str, int] | None = None
        self._starts = array("q", [0])
        self._ids = array("q")
        self._view = memoryview(self._ids)
        self._lock = threading.Lock()

    @classmethod
    def built(cls, terms: Sequence[str], starts: array[int], ids: array[int]) -> LazyIndex:
        """The index of terms whose ids are ``ids[starts[n]:starts[n + 1]]`` (a snapshot's)."""
        made = cls(lambda: (terms, starts, ids))
        made._set(terms, starts, ids)  # built already: no build left to run
        return made

    def built_first_from(self, found: Callable[[], Arrays | None]) -> None:
        """Take the index from ``found`` (the same arrays, made elsewhere) on first use,
        rather than build it then; built as before when it gives none."""
        with self._lock:
            own = self._build
            if self._slots is None and own is not None:
                self._build = lambda: found() or own()

    def build_with(self, found: Callable[[], Arrays | None]) -> None:
        """Build the index now, unless it is built: from ``found`` (the same arrays,
        made elsewhere), or as on first use when it gives none."""
        with self._lock:
            if self._slots is None:
                made = found()
                if made is None:
                    assert self._build is not None  # dropped only once built
                    made = self._build()
                self._set(*made)

    def _set(self, terms: Sequence[str], starts: array[int], ids: array[int]) -> None:
        self._starts, self._ids, self._view = starts, ids, memoryview(ids)
        self._slots = dict(zip(terms, range(len(terms)), strict=True))
        self._build = None

    def _built(self) -> dict[str, int]:
        slots = self._slots
        if slots is None:
            with self._lock:
                if self._slots is None:
                    assert self._build is not None  # dropped only once built
                    self._set(*self._build())
                slots = self._slots
                assert slots is not None
        return slots

    def __getitem__(self, key: str) -> Sequence[int]:
        slot = self._built()[key]
        return self._view[self._starts[slot] : self._starts[slot + 1]]

    @overload
    def get(self, key: str, /) -> Sequence[int] | None: ...
    @overload
    def get(self, key: str, /, default: Sequence[int] | T) -> Sequence[int] | T: ...
    def get(self, key: str, /, default: object = None) -> object:
        slot = self._built().get(key)
        if slot is None:
            return default
        return self._view[self._starts[slot] : self._starts[slot + 1]]

    def __contains__(self, key: object) -> bool:
        return key in self._built()

    def __iter__(self) -> Iterator[str]:
        return iter(self._built())

    def __len__(self) -> int:
        return len(self._built())

    def __reduce__(
        self,
    ) -> tuple[Callable[..., LazyIndex], tuple[tuple[str, ...], array[int], array[int]]]:
        # Pickled (to a process, into a snapshot) as the built index's arrays.
        return (LazyIndex.built, (tuple(self._built()), self._starts, self._ids))


@dataclass(frozen=True, eq=False, slots=True)
class KnowledgeGraph:
    """A corpus read into a graph, built once and never changed afterwards.

    ``graph`` is a frozen :class:`networkx.DiGraph` whose nodes are article ids
    and whose edges carry ``rank`` (int); :meth:`link` adds the files giving
    an edge. Wanted (missing) articles are not nodes: they live in ``wanted``.

    Attributes
    ----------
    root : str
        The corpus folder.
    files : tuple of str
        Every ``*.md`` file found, relative and sorted, read or not.
    references : int
        Related entries over every readable file.
    references_by_topic : mapping
        Related entries of the files of each topic key.
    differing_copies : frozenset of int
        The articles whose copies list different related articles (by id and url).
    answers : AnswerStore
        Every article's answer as written, out of the heap (:meth:`answer_raw`).
    by_url, by_topic, by_keyword : mapping
        Indexes: a url (of any copy) → article id; a topic key → article ids
        (ascending); a case-folded keyword → article ids (ascending). The
        words of titles, questions and keywords are indexed by search
        (:func:`kgraph.graph.search.word_index`).
    findings_by_article : mapping
        Article id → the findings of its files' related entries, in corpus order.
    link_paths : mapping
        (source, target) → the files giving that link, for sources with several
        copies; any other link is given by its source's only file.
    """

    root: str
    graph: nx.DiGraph[int]
    articles: Mapping[int, Article]
    wanted: Mapping[int, Wanted]
    topics: Mapping[str, Topic]
    findings: tuple[Finding, ...]
    diagnostics: tuple[Diagnostic, ...]
    files: tuple[str, ...]
    references: int
    references_by_topic: Mapping[str, int]
    differing_copies: frozenset[int]
    answers: AnswerStore
    by_url: Mapping[str, int]
    by_topic: Mapping[str, tuple[int, ...]]
    by_keyword: Mapping[str, Sequence[int]]
    findings_by_article: Mapping[int, tuple[Finding, ...]]
    link_paths: Mapping[tuple[int, int], tuple[str, ...]]
    loaded_at: datetime.datetime
    load_seconds: float
    #: Values derived lazily from the graph (curation reports…), kept with it
    #: so they live and die with this graph; never part of its data.
    memo: dict[Hashable, object] = field(default_factory=dict, repr=False)
    #: One lock per key of ``memo`` being computed, so that requests asking for
    #: the same value at once wait for one computation instead of each doing it
    #: (never kept in a snapshot).
    computing: dict[Hashable, threading.Lock] = field(default_factory=dict, repr=False)

    def link(self, source: int, target: int) -> Link | None:
        """The link ``source`` → ``target``, or ``None`` when there is none."""
        data = self.graph.get_edge_data(source, target)
        if data is None:
            return None
        paths = self.link_paths.get((source, target)) or (self.articles[source].copies[0].path,)
        return Link(source=source, target=target, rank=data["rank"], paths=paths)

    def answer_raw(self, article_id: int) -> str:
        """The answer of article ``article_id`` as its first copy writes it (escaped line breaks).

        See :func:`kgraph.corpus.normalise_answer` for the readable text.

        Raises
        ------
        ArticleNotFound
            When the graph holds no such article.
        """
        return self.answers.raw(article_id)

    def derived(self, key: Hashable, compute: Callable[[], T]) -> T:
        """A value computed from the graph on first use, then kept with it.

        Computed once: threads asking for the same ``key`` meanwhile wait for
        that computation (checking their request's budget as they wait) rather
        than repeat it (forty resolvers of one report each building the same
        index took seconds and hundreds of megabytes). A computation that fails
        (a request past its deadline) leaves the next one to try again.

        >>> from kgraph.graph import load_graph
        >>> kg = load_graph("seeds")
        >>> kg.derived("answer", lambda: 42), kg.derived("answer", lambda: 0)
        (42, 42)
        """
        try:
            return cast(T, self.memo[key])
        except KeyError:
            pass
        # setdefault is atomic for the keys used (tuples of str and int: hashed in C).
        lock = self.computing.setdefault(key, threading.Lock())
        while not lock.acquire(timeout=0.05):
            checkpoint()  # a request past its deadline stops waiting
        try:
            try:
                return cast(T, self.memo[key])  # computed while this one waited
            except KeyError:
                value = compute()
                self.memo[key] = value
                # Kept: anyone after this finds the value before needing the lock.
                self.computing.pop(key, None)
                return value
        finally:
            lock.release()

    def findings_of(self, kind: FindingKind) -> tuple[Finding, ...]:
        """The findings of one kind, in corpus order (path, then rank)."""
        return tuple(finding for finding in self.findings if finding.kind is kind)

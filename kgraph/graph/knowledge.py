"""The built knowledge graph: one immutable object that every query reads."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar, cast

import networkx as nx

from kgraph.model import Article, Diagnostic, Finding, FindingKind, Link, Topic, Wanted

__all__ = ["KnowledgeGraph"]

T = TypeVar("T")


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
    by_url, by_topic, by_keyword, by_word : mapping
        Indexes: a url (of any copy) → article id; a topic key → article ids
        (ascending); a case-folded keyword → article ids (ascending); a
        searchable word of a title, question or keyword → article ids (ascending).
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
    by_url: Mapping[str, int]
    by_topic: Mapping[str, tuple[int, ...]]
    by_keyword: Mapping[str, tuple[int, ...]]
    by_word: Mapping[str, tuple[int, ...]]
    findings_by_article: Mapping[int, tuple[Finding, ...]]
    link_paths: Mapping[tuple[int, int], tuple[str, ...]]
    loaded_at: datetime.datetime
    load_seconds: float
    #: Values derived lazily from the graph (curation reports…), kept with it
    #: so they live and die with this graph; never part of its data.
    memo: dict[Hashable, object] = field(default_factory=dict, repr=False)

    def link(self, source: int, target: int) -> Link | None:
        """The link ``source`` → ``target``, or ``None`` when there is none."""
        data = self.graph.get_edge_data(source, target)
        if data is None:
            return None
        paths = self.link_paths.get((source, target)) or (self.articles[source].copies[0].path,)
        return Link(source=source, target=target, rank=data["rank"], paths=paths)

    def derived(self, key: Hashable, compute: Callable[[], T]) -> T:
        """A value computed from the graph on first use, then kept with it.

        >>> from kgraph.graph import load_graph
        >>> kg = load_graph("seeds")
        >>> kg.derived("answer", lambda: 42), kg.derived("answer", lambda: 0)
        (42, 42)
        """
        try:
            return cast(T, self.memo[key])
        except KeyError:
            value = compute()
            self.memo[key] = value
            return value

    def findings_of(self, kind: FindingKind) -> tuple[Finding, ...]:
        """The findings of one kind, in corpus order (path, then rank)."""
        return tuple(finding for finding in self.findings if finding.kind is kind)

"""Build a :class:`KnowledgeGraph` from the files of a corpus, as CORPUS.md defines."""

from __future__ import annotations

import datetime
import gc
import os
import time
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from itertools import repeat
from math import copysign
from types import MappingProxyType
from typing import Any, NoReturn

import networkx as nx

from kgraph.corpus import CorpusListing, CorpusReading, Progress, read_corpus
from kgraph.corpus.columns import FileColumns
from kgraph.corpus.read import Cancelled, RelatedSpool
from kgraph.graph.answers import AnswerStore
from kgraph.graph.knowledge import KnowledgeGraph, LazyIndex
from kgraph.graph.links import Resolved, resolve_links
from kgraph.model import Article, Copy, Finding, Topic

__all__ = ["build_graph", "collector_paused", "keyword_arrays", "load_graph"]


def _merge_copies(
    files: FileColumns,
) -> tuple[dict[int, Article], dict[int, list[int]], dict[int, int], list[int]]:
    """One article per id: text from the first copy (sorted path order), every copy kept.

    Also each article's files (where its copies are in ``files``, sorted by
    path), where its first file is (whose answer is the article's: the graph
    keeps answers apart, see :class:`AnswerStore`), and every file by path.
    The graph's articles hold their copies without related entries (see
    :class:`Article`), since the entries live on as links, findings and wanted
    articles once resolved; as records of their own they were a quarter of the
    articles' memory.
    """
    by_id: dict[int, list[int]] = defaultdict(list)
    firsts: dict[int, int] = {}
    ids, paths, urls, subjects = files.ids, files.paths, files.urls, files.subjects
    in_path_order = sorted(range(len(files)), key=paths.__getitem__)
    for at in in_path_order:
        article_id = ids[at]
        by_id[article_id].append(at)
        firsts.setdefault(article_id, at)
    articles: dict[int, Article] = {}
    # Equal dates, scores and topic keys are one object each over the graph,
    # not one per article (a hundred bytes an article).
    days: dict[int, datetime.date | None] = {}
    # Keyed with the sign too: 0.0 and -0.0 are equal, and each is shown as written.
    scores: dict[tuple[float | None, bool], float | None] = {}
    topic_keys: dict[tuple[str, ...], tuple[str, ...]] = {}
    file_topics = files.topics
    for article_id, ats in by_id.items():
        first = ats[0]
        if len(ats) == 1:  # most articles: their only file's topic
            topics: tuple[str, ...] = (file_topics[first],)
        else:
            topics = tuple(dict.fromkeys(file_topics[at] for at in ats))
        ordinal = files.dates[first]
        if ordinal in days:
            date = days[ordinal]
        else:
            date = days[ordinal] = files.date(first)
        score = files.scores[first]
        articles[article_id] = Article(
            article_id,
            files.titles[first],
            files.questions[first],
            files.descriptions[first],
            # Shared over the corpus (files read in other processes repeat
            # them): a reading's are, as FileColumns.extend shares them.
            files.keywords[first],
            date,
            scores.setdefault((score, score is not None and copysign(1.0, score) < 0), score),
            bool(files.no_index[first]),
            tuple(Copy(paths[at], urls[at], subjects[at], file_topics[at], ()) for at in ats),
            topic_keys.setdefault(topics, topics),
        )
    return articles, dict(by_id), firsts, in_path_order


def _answers(reading: CorpusReading, ids: list[int], firsts: dict[int, int]) -> AnswerStore:
    """The articles' answers (``ids`` ascending; each article's its first file's)."""
    spool = reading.answers
    if spool is None:  # a reading made by hand: answers in its records
        return AnswerStore.write((i, reading.articles[firsts[i]].answer_utf8) for i in ids)
    starts, ends = spool.starts, spool.ends
    return AnswerStore.spooled(
        spool.file,
        spool.size,
        array("q", ids),
        array("q", [starts[firsts[i]] for i in ids]),
        array("q", [ends[firsts[i]] for i in ids]),
    )


def _topics(files: FileColumns, articles: dict[int, Article]) -> dict[str, Topic]:
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for topic, subject in zip(files.topics, files.subjects, strict=True):
        spellings[topic][subject] += 1
    members: dict[str, list[int]] = defaultdict(list)
    for article in articles.values():
        for key in article.topics:
            members[key].append(article.id)
    topics: dict[str, Topic] = {}
    for key in sorted(spellings):
        # Most files first; ties go to the alphabetically first spelling.
        counted = sorted(spellings[key].items(), key=lambda item: (-item[1], item[0]))
        topics[key] = Topic(
            key=key,
            name=counted[0][0],
            spellings=tuple(counted),
            article_ids=tuple(sorted(members[key])),
            files=sum(spellings[key].values()),
        )
    return topics


def _url_index(articles: dict[int, Article]) -> dict[str, int]:
    """Url of any copy → article id; when two articles share a url, the first copy wins."""
    owner: dict[str, tuple[str, int]] = {}
    for article in articles.values():
        for copy in article.copies:
            if copy.url is None:
                continue
            known = owner.get(copy.url)
            if known is None or copy.path < known[0]:
                owner[copy.url] = (copy.path, article.id)
    return {url: article_id for url, (_, article_id) in owner.items()}


class _Attributes(dict[str, Any]):
    """A built graph's shared attribute dict while its graph is being built.

    networkx updates each attribute dict it hands a node or an edge with the
    attributes given, none here: a plain dict's update, in C. Once the graph
    is built, its class becomes :class:`_ReadOnlyAttributes` (the same
    layout: a dict with no slots of its own), which refuses changes.
    """

    __slots__ = ()


class _ReadOnlyAttributes(_Attributes):
    """The attributes of a node or edge of a built graph: a dict that refuses changes.

    networkx hands out its own attribute dicts (``graph.edges[s, t]``) and
    ``nx.freeze`` guards only the graph's structure; algorithms need real dicts,
    so this is one, with every method that would change it refused (an update
    with nothing changes nothing: networkx gives each node added one).

    >>> data = _ReadOnlyAttributes(rank=1)
    >>> data["rank"], data == {"rank": 1}
    (1, True)
    >>> data["rank"] = 99
    Traceback (most recent call last):
    TypeError: the attributes of a built graph cannot be changed
    """

    __slots__ = ()

    def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("the attributes of a built graph cannot be changed")

    def __setitem__(self, key: str, value: Any) -> NoReturn:
        self._refuse()

    def __delitem__(self, key: str) -> NoReturn:
        self._refuse()

    def __ior__(self, other: object) -> NoReturn:  # type: ignore[misc]  # it never returns
        self._refuse()

    def update(self, *args: Any, **kwargs: Any) -> None:
        if kwargs or any(args):  # anything to add (networkx adds every node with nothing)
            self._refuse()

    def setdefault(self, *args: Any) -> NoReturn:
        self._refuse()

    def pop(self, *args: Any) -> NoReturn:
        self._refuse()

    def popitem(self) -> NoReturn:
        self._refuse()

    def clear(self) -> NoReturn:
        self._refuse()

    def __reduce__(self) -> tuple[type[_ReadOnlyAttributes], tuple[dict[str, Any]]]:
        # Pickled (into a snapshot) and deep-copied as the class called with a
        # plain dict: dict's own way fills the new one through __setitem__.
        return (type(self), (dict(self),))


def _graph(nodes: list[int], links: Resolved) -> nx.DiGraph[int]:
    """The graph of ``nodes`` and of ``links`` (each with its rank, in their order), frozen.

    Its attribute dicts are read-only and shared: one for every node (nodes
    carry no attributes) and one per rank for the edges (a rank each: a
    handful of dicts, not one per link, a tenth of a large graph's memory).
    networkx makes an edge's attribute dict with the graph's
    ``edge_attr_dict_factory`` (see its guide to subclassing), once per edge
    added, in order: here that factory hands out each link's shared dict in
    the links' order, and the node factory the nodes' one, both callables of
    C: no Python call per edge, where a dict per edge was made into a shared
    one twice (the build at 200,000 generated articles took 3.2 s against
    4.0 s). They are set on this graph alone while it is built: its copies
    are plain networkx graphs, with dicts of their own to change.
    """
    if not len(links.sources) == len(links.targets) == len(links.ranks):
        raise ValueError("as many targets and ranks as sources, please")
    no_attributes = _Attributes()
    by_rank = {rank: _Attributes(rank=rank) for rank in set(links.ranks)}
    graph: nx.DiGraph[int] = nx.DiGraph()
    ranked = map(by_rank.__getitem__, links.ranks)
    factories = {
        "node_attr_dict_factory": repeat(no_attributes).__next__,
        "edge_attr_dict_factory": ranked.__next__,
    }
    for name, factory in factories.items():
        setattr(graph, name, factory)
    try:
        graph.add_nodes_from(nodes)
        graph.add_edges_from(zip(links.sources, links.targets, strict=True))
    finally:
        for name in factories:
            delattr(graph, name)
    # One dict handed out per link, in order (links are distinct): else ranks would be off.
    if next(ranked, None) is not None or graph.number_of_edges() != len(links.sources):
        raise RuntimeError("networkx did not take one attribute dict per edge added")
    for attributes in (no_attributes, *by_rank.values()):
        attributes.__class__ = _ReadOnlyAttributes
    frozen: nx.DiGraph[int] = nx.freeze(graph)
    return frozen


def _shared_paths(files: tuple[str, ...], articles: dict[int, Article]) -> tuple[str, ...]:
    """The corpus's file list, each path the very string its copy holds (kept once)."""
    held = {copy.path: copy.path for article in articles.values() for copy in article.copies}
    return tuple(held.get(path, path) for path in files)


def _keyword_index(articles: Mapping[int, Article]) -> tuple[list[str], array[int], array[int]]:
    """Case-folded keyword → the articles listing it (see :func:`keyword_arrays`)."""
    ids = sorted(articles)
    return keyword_arrays(ids, (articles[article_id].keywords for article_id in ids))


def keyword_arrays(
    ids: Sequence[int], keywords: Iterable[tuple[str, ...]]
) -> tuple[list[str], array[int], array[int]]:
    """Case-folded keyword → the articles listing it (keywords differing by case are one).

    ``keywords``: those of each of the articles ``ids`` (ascending), in turn.

    As :class:`LazyIndex` keeps it: the keywords in the order first met
    (articles by id), and each one's ids, ascending, at ``ids[starts[k]:starts[k + 1]]``.
    Numbered in C, a dict look-up per keyword, then grouped by numpy, in 32
    bits and each work array let go of once used: a dict of lists appended to
    took 3.9 s at 200,000 generated articles, this 1.9 s, holding as much.

    >>> terms, starts, ids = keyword_arrays([2, 5], [("atp", "Atp"), ("ATP", "cell")])
    >>> terms, starts.tolist(), ids.tolist()
    (['atp', 'cell'], [0, 2, 3], [2, 5, 5])
    """
    # Imported here: a load needs neither (see kgraph.graph.load.prepare).
    import numpy as np

    from kgraph.graph.sparse import Numbering

    # Numbered as written, then each spelling case-folded once: the same
    # keyword's strings are one object (see kgraph.corpus.read), its hash kept.
    spellings = Numbering()
    number = spellings.__getitem__
    counts = array("i")
    columns = array("i")
    for listed in keywords:
        before = len(columns)
        columns.extend(map(number, listed))
        counts.append(len(columns) - before)
    # The first spelling met of a keyword comes before its other spellings: numbered
    # case-folded in their order, the keywords are numbered in the order first met.
    terms = Numbering()
    folded = np.fromiter(
        (terms[spelling.casefold()] for spelling in spellings), dtype=np.int32, count=len(spellings)
    )
    del spellings
    keys = folded[np.frombuffer(columns, dtype=np.int32)]
    del columns
    # By keyword, each keyword's articles in order (ids ascending), each once.
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    rows = np.repeat(np.arange(len(ids), dtype=np.int32), np.frombuffer(counts, dtype=np.int32))
    rows = rows[order]
    del order
    first = np.ones(len(keys), dtype=bool)
    first[1:] = (keys[1:] != keys[:-1]) | (rows[1:] != rows[:-1])
    # Copied into the index's arrays from numpy's memory, no bytes between.
    starts = array("q", [0])
    starts.frombytes(np.cumsum(np.bincount(keys[first], minlength=len(terms))).data.cast("B"))
    del keys
    held = array("q")
    held.frombytes(np.asarray(ids, dtype=np.int64)[rows[first]].data.cast("B"))
    return list(terms), starts, held


def _findings_by_article(findings: Iterable[Finding]) -> dict[int, tuple[Finding, ...]]:
    index: dict[int, list[Finding]] = defaultdict(list)
    for finding in findings:
        index[finding.article].append(finding)
    return {article_id: tuple(found) for article_id, found in index.items()}


def build_graph(
    reading: CorpusReading,
    articles_ready: Callable[[Mapping[int, Article]], object] | None = None,
) -> KnowledgeGraph:
    """Build the knowledge graph of a read corpus.

    Follows CORPUS.md "Semantics": one node per article id (copies merged),
    related entries resolved by id, then url, else to a wanted article;
    duplicate and self links dropped; each edge keeps its lowest rank and
    the files that gave it (:meth:`KnowledgeGraph.link`). The graph is frozen,
    its node and edge attribute dicts read-only. ``articles_ready`` is called
    with the graph's articles (by id) as soon as they are made, before the
    links are resolved: a load starts search's index then (see
    :class:`~kgraph.graph.search.SearchElsewhere`).

    Examples
    --------
    >>> from kgraph.corpus import CorpusReading, parse_article
    >>> def art(i, *related):
    ...     entries = "".join(f"related_article{n}: {{id: {t}, url: /q/{t}}}\\n"
    ...                       for n, t in enumerate(related, 1))
    ...     text = f"---\\nid: {i}\\ntitle: T{i}\\nsubject: S\\nurl: /q/{i}\\n{entries}---\\n"
    ...     return parse_article(text.encode(), f"s/{i}.md")
    >>> files = (art(1, 2, 3, 2), art(2, 1), art(3))
    >>> kg = build_graph(CorpusReading("c", ("s/1.md", "s/2.md", "s/3.md"), files, ()))
    >>> sorted(kg.graph.edges), kg.link(1, 3).rank, len(kg.findings)
    ([(1, 2), (1, 3), (2, 1)], 2, 1)
    """
    # A reading's records are columns; a reading made by hand has records.
    files = reading.articles
    if not isinstance(files, FileColumns):
        files = FileColumns.of(files)
    articles, read, firsts, in_path_order = _merge_copies(files)
    if articles_ready is not None:
        articles_ready(MappingProxyType(articles))
    by_url = _url_index(articles)
    related = reading.related
    if related is None:  # a reading made by hand: entries in its records
        related = RelatedSpool()
        for record in reading.articles:
            related.add(record.copy.related)
    resolved = resolve_links(files, related, articles, read, in_path_order, by_url)
    graph = _graph(sorted(articles), resolved)
    by_topic: dict[str, tuple[int, ...]] = {}
    topics = _topics(files, articles)
    for key, topic in topics.items():
        by_topic[key] = topic.article_ids
    return KnowledgeGraph(
        root=reading.root,
        graph=graph,
        articles=MappingProxyType(dict(sorted(articles.items()))),
        wanted=MappingProxyType(resolved.wanted),
        topics=MappingProxyType(topics),
        findings=resolved.findings,
        diagnostics=reading.diagnostics,
        files=_shared_paths(reading.files, articles),
        references=sum(resolved.references_by_topic.values()),
        references_by_topic=MappingProxyType(resolved.references_by_topic),
        differing_copies=resolved.differing,
        answers=_answers(reading, sorted(articles), firsts),
        by_url=MappingProxyType(by_url),
        by_topic=MappingProxyType(by_topic),
        by_keyword=LazyIndex(partial(_keyword_index, articles)),
        findings_by_article=MappingProxyType(_findings_by_article(resolved.findings)),
        link_paths=MappingProxyType(resolved.link_paths),
        loaded_at=datetime.datetime.now(datetime.UTC),
        load_seconds=0.0,
    )


def load_graph(
    root: str | os.PathLike[str],
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
    listing: CorpusListing | None = None,
    articles_ready: Callable[[Mapping[int, Article]], object] | None = None,
    read: Callable[[CorpusReading], object] | None = None,
) -> KnowledgeGraph:
    """Read the corpus folder ``root`` and build its graph, timing the whole load.

    No snapshot, no preparation: the graph of the files as they are, for a
    script or a test. The server and the commands load through
    :func:`kgraph.graph.load.load_corpus`, which calls this on a cold start.
    ``cancelled`` and ``listing`` are as :func:`kgraph.corpus.read_corpus` takes them,
    ``articles_ready`` as :func:`build_graph` does; ``read`` is called with the
    reading before the graph is built.

    Raises
    ------
    CorpusNotFound, EmptyCorpus, LoadCancelled
        As :func:`kgraph.corpus.read_corpus`.
    """
    started = time.perf_counter()
    with collector_paused():
        reading = read_corpus(
            root, workers=workers, progress=progress, cancelled=cancelled, listing=listing
        )
        if read is not None:
            read(reading)
        graph = build_graph(reading, articles_ready)
    return replace(graph, load_seconds=time.perf_counter() - started)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a load allocates its objects.

    A load allocates a few hundred thousand objects and frees none, so every
    automatic collection is wasted work: it more than doubled build time. So
    does preparing the graph (:func:`kgraph.graph.load.prepare`): its indexes
    and reports are kept, and a full collection amid them walked the whole
    graph (1.2 s at 200,000 generated articles).

    When it ends, what it allocated goes straight to the oldest generation
    (frozen, then unfrozen: two list splices). Left in the youngest, the
    first collection after the load walked every one of them (0.13 s after a
    cold load of the dev corpus, 0.35 s after a warm one), and the next
    generation's collection walked them again. Skipped when objects are
    frozen already (a process that froze its heap before forking keeps it
    frozen).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if was_enabled:
            gc.enable()

"""Curator reports: every problem of CORPUS.md listed, ranked, narrowed by topic, with fixes."""

from __future__ import annotations

import bisect
import statistics
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import takewhile
from typing import TypeVar, overload

import networkx as nx

from kgraph.corpus import topic_key
from kgraph.graph.knowledge import KnowledgeGraph
from kgraph.graph.meant import REFERRERS_READ, SUGGESTIONS, meant_articles, title_index
from kgraph.graph.relatedness import relatedness_model
from kgraph.graph.search import search_index
from kgraph.graph.summary import Summary
from kgraph.graph.table import copy_counts, copy_topics
from kgraph.model import (
    Article,
    Diagnostic,
    Finding,
    FindingKind,
    Topic,
    Wanted,
    pickled_as_call,
)

__all__ = [
    "WANTED_SUGGESTIONS",
    "CurationReport",
    "DuplicateArticle",
    "Island",
    "Islands",
    "RankedArticle",
    "RankedArticles",
    "broken_link_suggestions",
    "curation_report",
    "dead_ends",
    "duplicate_articles",
    "every_wanted_suggested",
    "finding_fix",
    "isolated",
    "most_linked",
    "most_wanted",
    "orphans",
    "orphans_below",
    "prepare_suggestions",
    "subject_spellings",
    "suggest_every_wanted",
    "wanted_suggestions",
]

#: Suggestions kept per wanted article: the most any report lists.
WANTED_SUGGESTIONS = SUGGESTIONS

# The keys of values kept with the graph in ``KnowledgeGraph.memo``.
_BY_INBOUND = "curation: articles by incoming links"  # (key, topic)
_SUGGESTED = "curation: wanted suggestions"  # (key, title, subject, referrers)
# Wanted article id -> its suggestions, for every wanted article of the graph.
_ALL_SUGGESTED = "curation: suggestions of every wanted article"


@dataclass(frozen=True, slots=True)
class RankedArticle:
    """An article by how linked-to it is: in-degree, its z-score, its share of all links."""

    id: int
    in_degree: int
    z_score: float
    share: float


@dataclass(frozen=True, slots=True)
class Island:
    """A weakly connected piece of the link graph other than the largest.

    Under a topic, a piece of the links among the topic's articles (links to
    other topics join nothing), other than the topic's largest piece.
    """

    article_ids: tuple[int, ...]

    @property
    def size(self) -> int:
        """How many articles it holds."""
        return len(self.article_ids)


R = TypeVar("R")


class _Records(Sequence[R]):
    """A sequence of records made on demand from arrays (a report's long lists).

    A snapshot unpickles a few arrays rather than a record per item: at
    200,000 generated articles the over-linked articles and the islands
    were 0.13 s of a warm start's 1.2 s of unpickling.
    """

    __slots__ = ()

    def _record(self, index: int) -> R:
        raise NotImplementedError

    @overload
    def __getitem__(self, index: int) -> R: ...
    @overload
    def __getitem__(self, index: slice) -> list[R]: ...
    def __getitem__(self, index: int | slice) -> R | list[R]:
        if isinstance(index, slice):
            return [self._record(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("record index out of range")
        return self._record(index)

    def __iter__(self) -> Iterator[R]:
        return map(self._record, range(len(self)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, list | tuple | _Records):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self)!r})"


class RankedArticles(_Records[RankedArticle]):
    """Linked-to articles as :class:`RankedArticle` records, made from two arrays.

    Each record's z-score and share are worked out from its in-degree and the
    graph's mean, spread and links, as a record made directly would hold them.
    """

    __slots__ = ("ids", "in_degrees", "links", "mean", "spread")

    def __init__(
        self, ids: array[int], in_degrees: array[int], mean: float, spread: float, links: int
    ) -> None:
        if len(ids) != len(in_degrees):
            raise ValueError("as many in-degrees as ids, please")
        self.ids, self.in_degrees = ids, in_degrees
        self.mean, self.spread, self.links = mean, spread, links

    def __len__(self) -> int:
        return len(self.ids)

    def z_score(self, in_degree: int) -> float:
        """How many standard deviations ``in_degree`` lies above the mean in-degree."""
        return (in_degree - self.mean) / self.spread

    def _record(self, index: int) -> RankedArticle:
        degree = self.in_degrees[index]
        return RankedArticle(
            id=self.ids[index],
            in_degree=degree,
            z_score=self.z_score(degree),
            share=degree / self.links,
        )

    def at_least(self, min_z_score: float) -> list[RankedArticle]:
        """The records whose z-score is ``min_z_score`` or more: the first ones, as the
        in-degrees descend (the others' records are never made)."""
        return list(takewhile(lambda r: r.z_score >= min_z_score, self))

    def only(self, keep: Callable[[int, int], bool]) -> RankedArticles:
        """Those whose ``keep(id, in-degree)`` is true, in the same order."""
        ids, in_degrees = array("q"), array("q")
        for n, d in zip(self.ids, self.in_degrees, strict=True):
            if keep(n, d):
                ids.append(n)
                in_degrees.append(d)
        return RankedArticles(ids, in_degrees, self.mean, self.spread, self.links)

    def __reduce__(self) -> tuple[object, ...]:
        return (RankedArticles, (self.ids, self.in_degrees, self.mean, self.spread, self.links))


class Islands(_Records[Island]):
    """:class:`Island` records made from one array of every island's ids and their ends."""

    __slots__ = ("ends", "ids")

    def __init__(self, ids: array[int], ends: array[int]) -> None:
        if (ends[-1] if ends else 0) != len(ids):
            raise ValueError("the islands' ends do not match their ids")
        self.ids, self.ends = ids, ends

    @classmethod
    def of(cls, pieces: Iterable[tuple[int, ...]]) -> Islands:
        ids, ends = array("q"), array("q")
        for piece in pieces:
            ids.extend(piece)
            ends.append(len(ids))
        return cls(ids, ends)

    def __len__(self) -> int:
        return len(self.ends)

    def _record(self, index: int) -> Island:
        start = self.ends[index - 1] if index else 0
        return Island(article_ids=tuple(self.ids[start : self.ends[index]]))

    def __reduce__(self) -> tuple[object, ...]:
        return (Islands, (self.ids, self.ends))


@dataclass(frozen=True, slots=True)
class DuplicateArticle:
    """An article id held by several files; whether their related lists differ."""

    id: int
    paths: tuple[str, ...]
    related_lists_differ: bool


@dataclass(frozen=True, eq=False, slots=True)
class CurationReport:
    """Every curator list of a graph, or of one topic of it, ranked worst first.

    Lists of articles hold ids. Findings are narrowed by the topic of the
    file that holds the entry, articles by their topics.
    """

    topic: str | None
    summary: Summary
    orphans: tuple[int, ...]
    dead_ends: tuple[int, ...]
    isolated: tuple[int, ...]
    wanted: tuple[Wanted, ...]
    over_linked: RankedArticles
    broken_links: tuple[Finding, ...]
    stale_links: tuple[Finding, ...]
    url_mismatches: tuple[Finding, ...]
    duplicate_links: tuple[Finding, ...]
    self_links: tuple[Finding, ...]
    duplicate_articles: tuple[DuplicateArticle, ...]
    subject_spellings: tuple[Topic, ...]
    islands: Islands
    link_candidates: tuple[int, ...]
    parse_errors: tuple[Diagnostic, ...]


# A report's records by the thousand in a snapshot: pickled as their class called
# with their fields, twice as fast to load (those by the hundred thousand are arrays).
for _kind in (RankedArticle, Island, DuplicateArticle):
    pickled_as_call(_kind)


def orphans(kg: KnowledgeGraph) -> tuple[int, ...]:
    """Articles no other article links to; most outgoing links first, then id.

    An orphan that links out is the easiest to knit in: its own related
    articles are the first candidates to link back.

    >>> from kgraph.graph import load_graph
    >>> orphans(load_graph("seeds"))
    (-1, 73004, 73007, 84007, 84008, 168918)
    """
    return orphans_below(kg, 1)


def _by_inbound(kg: KnowledgeGraph, topic: str | None) -> tuple[tuple[int, ...], tuple[int, ...]]:
    graph = kg.graph
    nodes = tuple(graph) if topic is None else kg.by_topic.get(topic, ())
    # Degrees read once, as dicts: a view's call per node cost 1 µs each, three a node.
    ins, outs = dict(graph.in_degree(nodes)), dict(graph.out_degree(nodes))
    ranked = sorted(nodes, key=lambda n: (ins[n], -outs[n], n))
    return tuple(ranked), tuple(ins[n] for n in ranked)


def orphans_below(
    kg: KnowledgeGraph, min_inbound: int, topic: str | None = None
) -> tuple[int, ...]:
    """Articles (of one topic key, or all) with fewer than ``min_inbound`` incoming links.

    Fewest incoming links first, then most outgoing links, then id. The
    ranking is computed once per graph and topic; each threshold is a prefix of it.

    >>> from kgraph.graph import load_graph
    >>> orphans_below(load_graph("seeds"), 2, "physics")
    (73004, 73007, 73003, 73006)
    """
    ranked, in_degrees = kg.derived((_BY_INBOUND, topic), lambda: _by_inbound(kg, topic))
    return ranked[: bisect.bisect_left(in_degrees, min_inbound)]


def dead_ends(kg: KnowledgeGraph) -> list[int]:
    """Articles that link nowhere; most linked-to first (readers get stuck there), then id."""
    graph = kg.graph
    ends = [n for n, degree in graph.out_degree() if degree == 0]
    ins = dict(graph.in_degree(ends))
    return sorted(ends, key=lambda n: (-ins[n], n))


def isolated(kg: KnowledgeGraph) -> list[int]:
    """Articles with no link in or out, by id."""
    # No link in or out: no link at all (in plus out; the graph holds no self links).
    return [n for n, degree in kg.graph.degree() if degree == 0]


def most_linked(kg: KnowledgeGraph) -> list[tuple[int, int]]:
    """``(article id, in-degree)`` of linked-to articles, highest in-degree first, then id."""
    return sorted(
        ((n, d) for n, d in kg.graph.in_degree() if d > 0), key=lambda item: (-item[1], item[0])
    )


def most_wanted(kg: KnowledgeGraph) -> list[Wanted]:
    """Wanted (missing) articles, most referring articles first, then id."""
    return sorted(kg.wanted.values(), key=lambda w: (-len(w.referrers), w.id))


def duplicate_articles(kg: KnowledgeGraph) -> list[Article]:
    """Articles with copies in several files, most copies first, then id."""
    several = sorted((-count, i) for i, count in copy_counts(kg.articles) if count > 1)
    return [kg.articles[i] for _, i in several]


def subject_spellings(kg: KnowledgeGraph) -> list[Topic]:
    """Topics whose subject is spelled more than one way, by key."""
    return [topic for topic in kg.topics.values() if len(topic.spellings) > 1]


def _ranked(kg: KnowledgeGraph) -> RankedArticles:
    in_degree = dict(kg.graph.in_degree())
    values = list(in_degree.values()) or [0]
    mean = statistics.fmean(values)
    spread = statistics.pstdev(values) or 1.0
    links = kg.graph.number_of_edges() or 1
    ranked = most_linked(kg)
    return RankedArticles(
        array("q", (n for n, _ in ranked)), array("q", (d for _, d in ranked)), mean, spread, links
    )


def _pieces(graph: nx.DiGraph[int]) -> list[tuple[int, ...]]:
    """The weakly connected pieces of ``graph``, largest first, then by lowest id.

    networkx's search, in Python: 0.38 s at 200,000 generated articles with the
    collector paused (:func:`kgraph.graph.load.prepare`), against 0.27 s for
    scipy's connected components, whose module costs each process 12 MB.
    """
    pieces = [tuple(sorted(piece)) for piece in nx.weakly_connected_components(graph)]
    pieces.sort(key=lambda piece: (-len(piece), piece[0]))
    return pieces


def _duplicates(kg: KnowledgeGraph) -> tuple[DuplicateArticle, ...]:
    return tuple(
        DuplicateArticle(
            id=a.id,
            paths=tuple(c.path for c in a.copies),
            related_lists_differ=a.id in kg.differing_copies,
        )
        for a in duplicate_articles(kg)
    )


def _parse_error_topic(diagnostic: Diagnostic) -> str:
    """An unreadable file's topic, as far as its folder tells."""
    folder = diagnostic.path.split("/", 1)[0] if "/" in diagnostic.path else ""
    return topic_key(folder)


def _build_report(kg: KnowledgeGraph, topic: str | None) -> CurationReport:
    graph = kg.graph
    members: set[int] | None = None if topic is None else set(kg.by_topic.get(topic, ()))

    def keep(ids: Iterable[int]) -> tuple[int, ...]:
        return tuple(ids) if members is None else tuple(i for i in ids if i in members)

    copy_topic = copy_topics(kg.articles)
    by_kind: dict[FindingKind, list[Finding]] = defaultdict(list)
    for finding in kg.findings:
        if topic is None or copy_topic[finding.path] == topic:
            by_kind[finding.kind].append(finding)

    def ranked_findings(kind: FindingKind) -> tuple[Finding, ...]:
        return tuple(sorted(by_kind[kind], key=lambda f: (f.article, f.path, f.rank)))

    broken = ranked_findings(FindingKind.BROKEN_LINK)
    wanted_ids = {f.stated_id for f in broken if f.stated_id is not None}
    wanted = tuple(w for w in most_wanted(kg) if w.id in wanted_ids)
    # A topic's pieces are those of the links among its articles, as its
    # topic graph draws them: components, the largest and islands all agree.
    pieces = _pieces(graph if members is None else graph.subgraph(members))
    islands = Islands.of(pieces[1:])
    orphan_ids = orphans_below(kg, 1, topic)
    island_members = islands.ids
    dead = keep(dead_ends(kg))
    # Those that need links most: nobody finds the orphans, the dead ends lead
    # nowhere, the islands are cut off from the rest.
    candidates = tuple(dict.fromkeys([*orphan_ids, *dead, *island_members]))
    articles = keep(sorted(kg.articles))
    # A file of the topic holds an article of it: its files are counted by their topics.
    copies = sum(1 for key in copy_topic.values() if topic in (None, key))
    parse_errors = tuple(
        d for d in kg.diagnostics if topic is None or _parse_error_topic(d) == topic
    )
    duplicates = tuple(d for d in _duplicates(kg) if members is None or d.id in members)
    spellings = tuple(t for t in subject_spellings(kg) if topic in (None, t.key))
    over_linked = _ranked(kg)
    if members is not None:
        scope = members
        over_linked = over_linked.only(lambda n, _: n in scope)
    alone = keep(isolated(kg))
    summary = Summary(
        files=len(kg.files) if topic is None else copies + len(parse_errors),
        parse_errors=len(parse_errors),
        articles=len(articles),
        duplicate_articles=len(duplicates),
        references=kg.references if topic is None else kg.references_by_topic.get(topic, 0),
        links=sum(degree for _, degree in graph.out_degree(articles)),
        broken_links=len(broken),
        wanted_articles=len(wanted),
        stale_links=len(by_kind[FindingKind.STALE_LINK]),
        url_mismatches=len(by_kind[FindingKind.URL_MISMATCH]),
        duplicate_links=len(by_kind[FindingKind.DUPLICATE_LINK]),
        self_links=len(by_kind[FindingKind.SELF_LINK]),
        orphans=len(orphan_ids),
        dead_ends=len(dead),
        isolated=len(alone),
        topics=len(kg.topics) if topic is None else int(topic in kg.topics),
        max_in_degree=max((degree for _, degree in graph.in_degree(articles)), default=0),
        components=len(pieces),
        largest_component=len(pieces[0]) if pieces else 0,
    )
    return CurationReport(
        topic=topic,
        summary=summary,
        orphans=orphan_ids,
        dead_ends=dead,
        isolated=alone,
        wanted=wanted,
        over_linked=over_linked,
        broken_links=broken,
        stale_links=ranked_findings(FindingKind.STALE_LINK),
        url_mismatches=ranked_findings(FindingKind.URL_MISMATCH),
        duplicate_links=ranked_findings(FindingKind.DUPLICATE_LINK),
        self_links=ranked_findings(FindingKind.SELF_LINK),
        duplicate_articles=duplicates,
        subject_spellings=spellings,
        islands=islands,
        link_candidates=candidates,
        parse_errors=parse_errors,
    )


def curation_report(kg: KnowledgeGraph, topic: str | None = None) -> CurationReport:
    """Every curator list of ``kg`` (or of one topic key), computed once per graph and topic.

    >>> from kgraph.graph import load_graph
    >>> report = curation_report(load_graph("seeds"))
    >>> report.summary.orphans == len(report.orphans), report.wanted[0].id
    (True, 168999)
    """
    return kg.derived(("curation", topic), lambda: _build_report(kg, topic))


def prepare_suggestions(kg: KnowledgeGraph) -> None:
    """Build the indexes that "did you mean" suggestions search, before any request asks."""
    title_index(kg)
    relatedness_model(kg)
    search_index(kg)


def wanted_suggestions(
    kg: KnowledgeGraph, wanted: Wanted, limit: int = WANTED_SUGGESTIONS
) -> list[int]:
    """Existing articles the entries naming ``wanted`` most likely meant, best first.

    Articles with the same title are the suggestions, when there are any
    (case and punctuation aside). Else the articles, none of those naming it,
    are ranked by how well search
    finds them by the wanted title (:func:`kgraph.graph.search.search`: every
    word weighed, a typo forgiven, scores 0 to 1) plus a quarter of how
    related they are to the articles whose entries name it
    (:func:`kgraph.graph.relatedness.relatedness_to`: the article meant is
    usually linked with their neighbours); under 0.35 is no suggestion (a
    missing article like no other). Same subject breaks ties, then id. Held
    out on the dev corpus (a link removed, its target asked for by a damaged
    title: benchmarks/relatedness.py), the first suggestion is the article
    meant for 96 % of half titles, where title-word overlap found 57 %.

    Those of every wanted article of the graph are worked out at once once it
    serves and its snapshot is written (:func:`suggest_every_wanted`,
    :mod:`kgraph.graph.meant`), those of the reports' first pages before it
    serves (:func:`suggest_first_pages`); any other is worked out once per
    graph and wanted article (``limit`` over :data:`WANTED_SUGGESTIONS`: each time).

    >>> from kgraph.graph import load_graph
    >>> kg = load_graph("seeds")
    >>> kg.wanted[168999].title, wanted_suggestions(kg, kg.wanted[168999])
    ('What is the role of mitochondria in apoptosis?', [168904])
    >>> kg.wanted[52099].title, wanted_suggestions(kg, kg.wanted[52099])
    ('What is a red-black tree?', [])
    """
    if limit > WANTED_SUGGESTIONS:
        return list(meant_articles(kg, [wanted], limit)[0])
    every = kg.memo.get(_ALL_SUGGESTED)
    if isinstance(every, dict) and kg.wanted.get(wanted.id) == wanted:
        return list(every.get(wanted.id, ())[:limit])
    kept = kg.derived(_suggested_key(wanted), lambda: meant_articles(kg, [wanted])[0])
    return list(kept[:limit])


def _suggested_key(wanted: Wanted) -> tuple[object, ...]:
    """Where :func:`wanted_suggestions` keeps one wanted article's suggestions in the memo."""
    title, subject = wanted.title or "", topic_key(wanted.subject or "")
    return (_SUGGESTED, title, subject, wanted.referrers[:REFERRERS_READ])


#: The reports' default page (the API's ``first``): what a curator sees first.
FIRST_PAGE = 20


def suggest_first_pages(kg: KnowledgeGraph, first: int = FIRST_PAGE) -> None:
    """Work out, together, the suggestions of the first page of broken links and of wanted articles.

    What :func:`kgraph.graph.load.prepare` does before a server is ready:
    every wanted article's suggestions (:func:`suggest_every_wanted`) are
    seconds of CPU (90 s at 200,000 articles), worked out once the graph
    serves; meanwhile the first report a curator opens is answered from these
    (its fixes took 0.25-0.37 s on dev, one suggestion at a time beside that
    work, against 0.3 s asked).
    """
    report = curation_report(kg)
    wanted: dict[int, Wanted] = {}
    for finding in report.broken_links[:first]:
        missing = kg.wanted.get(finding.stated_id) if finding.stated_id is not None else None
        if missing is not None:
            wanted.setdefault(missing.id, missing)
    for missing in report.wanted[:first]:
        wanted.setdefault(missing.id, missing)
    pending = [w for w in wanted.values() if _suggested_key(w) not in kg.memo]
    for missing, meant in zip(pending, meant_articles(kg, pending), strict=True):
        kg.memo[_suggested_key(missing)] = meant


def suggest_every_wanted(kg: KnowledgeGraph) -> bool:
    """Work out :func:`wanted_suggestions` of every wanted article, once per graph.

    All at once (:func:`kgraph.graph.meant.meant_articles`): what a server
    works out once the graph serves and its snapshot is written, then written
    again with them (:meth:`kgraph.graph.load.Loaded.save`); a warm start from
    that snapshot has them at once. Returns whether this call did the work (``False`` when it
    was done already, or came with the snapshot).

    >>> from kgraph.graph import load_graph
    >>> kg = load_graph("seeds")
    >>> suggest_every_wanted(kg), suggest_every_wanted(kg)
    (True, False)
    """
    if every_wanted_suggested(kg):
        return False
    done: list[bool] = []

    def every() -> dict[int, tuple[int, ...]]:
        done.append(True)
        wanted = list(kg.wanted.values())
        found = meant_articles(kg, wanted)
        return {w.id: meant for w, meant in zip(wanted, found, strict=True) if meant}

    kg.derived(_ALL_SUGGESTED, every)
    return bool(done)


def every_wanted_suggested(kg: KnowledgeGraph) -> bool:
    """Whether :func:`suggest_every_wanted` was done for ``kg`` (or came with its snapshot).

    >>> from kgraph.graph import load_graph
    >>> kg = load_graph("seeds")
    >>> every_wanted_suggested(kg), suggest_every_wanted(kg), every_wanted_suggested(kg)
    (False, True, True)
    """
    return _ALL_SUGGESTED in kg.memo


def broken_link_suggestions(kg: KnowledgeGraph, finding: Finding) -> list[int]:
    """The articles a broken link most likely meant, best first.

    Its wanted article's suggestions, less the article holding the entry and
    those that article links to already: pointing there would make a self or
    duplicate link.

    >>> from kgraph.graph import load_graph
    >>> kg = load_graph("seeds")
    >>> broken = [f for f in kg.findings_of(FindingKind.BROKEN_LINK) if f.article == 168911]
    >>> wanted_suggestions(kg, kg.wanted[168999]), broken_link_suggestions(kg, broken[0])
    ([168904], [168904])
    """
    wanted = kg.wanted.get(finding.stated_id) if finding.stated_id is not None else None
    if finding.kind is not FindingKind.BROKEN_LINK or wanted is None:
        return []
    taken = {finding.article, *kg.graph.successors(finding.article)}
    return [i for i in wanted_suggestions(kg, wanted) if i not in taken]


def finding_fix(kg: KnowledgeGraph, finding: Finding) -> str:
    """The edit that resolves a finding, in words a curator can follow.

    >>> from kgraph.graph import load_graph
    >>> kg = load_graph("seeds")
    >>> print(finding_fix(kg, kg.findings_of(FindingKind.SELF_LINK)[0]))
    in mathematics/what-is-the-fundamental-theorem-of-calculus.md, related_article3: remove ...
    """
    where = f"in {finding.path}, related_article{finding.rank}"
    target = kg.articles.get(finding.target) if finding.target is not None else None
    match finding.kind:
        case FindingKind.STALE_LINK:
            return f"{where}: write id {finding.target} instead of {finding.stated_id}"
        case FindingKind.URL_MISMATCH if target is not None:
            return f"{where}: write url {target.url} (the url of id {target.id})"
        case FindingKind.DUPLICATE_LINK:
            return f"{where}: remove it, it repeats related_article{finding.first_rank}"
        case FindingKind.SELF_LINK:
            return f"{where}: remove it, it names the article itself"
    suggestions = broken_link_suggestions(kg, finding)
    if suggestions:
        return f"{where}: id {finding.stated_id} exists nowhere; did you mean {suggestions[0]}?"
    return f"{where}: id {finding.stated_id} exists nowhere; write the article or remove the entry"

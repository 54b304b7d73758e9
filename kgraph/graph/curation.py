"""Curator reports: every problem of CORPUS.md listed, ranked, narrowed by topic, with fixes."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx

from kgraph.corpus import topic_key, words
from kgraph.graph.knowledge import KnowledgeGraph
from kgraph.graph.summary import Summary
from kgraph.model import Article, Diagnostic, Finding, FindingKind, Topic, Wanted

__all__ = [
    "CurationReport",
    "DuplicateArticle",
    "Island",
    "RankedArticle",
    "curation_report",
    "dead_ends",
    "duplicate_articles",
    "finding_fix",
    "isolated",
    "most_linked",
    "most_wanted",
    "orphans",
    "orphans_below",
    "subject_spellings",
    "wanted_suggestions",
]


@dataclass(frozen=True, slots=True)
class RankedArticle:
    """An article by how linked-to it is: in-degree, its z-score, its share of all links."""

    id: int
    in_degree: int
    z_score: float
    share: float


@dataclass(frozen=True, slots=True)
class Island:
    """A weakly connected piece of the link graph other than the largest."""

    article_ids: tuple[int, ...]

    @property
    def size(self) -> int:
        """How many articles it holds."""
        return len(self.article_ids)


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
    over_linked: tuple[RankedArticle, ...]
    broken_links: tuple[Finding, ...]
    stale_links: tuple[Finding, ...]
    url_mismatches: tuple[Finding, ...]
    duplicate_links: tuple[Finding, ...]
    self_links: tuple[Finding, ...]
    duplicate_articles: tuple[DuplicateArticle, ...]
    subject_spellings: tuple[Topic, ...]
    islands: tuple[Island, ...]
    link_candidates: tuple[int, ...]
    parse_errors: tuple[Diagnostic, ...]


def orphans(kg: KnowledgeGraph) -> list[int]:
    """Articles no other article links to; most outgoing links first, then id.

    An orphan that links out is the easiest to knit in: its own related
    articles are the first candidates to link back.
    """
    return orphans_below(kg, 1)


def orphans_below(
    kg: KnowledgeGraph, min_inbound: int, among: Iterable[int] | None = None
) -> list[int]:
    """Articles with fewer than ``min_inbound`` incoming links: fewest first, then most
    outgoing links, then id."""
    graph = kg.graph
    nodes = graph if among is None else among
    return sorted(
        (n for n in nodes if graph.in_degree(n) < min_inbound),
        key=lambda n: (graph.in_degree(n), -graph.out_degree(n), n),
    )


def dead_ends(kg: KnowledgeGraph) -> list[int]:
    """Articles that link nowhere; most linked-to first (readers get stuck there), then id."""
    graph = kg.graph
    return sorted(
        (n for n, degree in graph.out_degree() if degree == 0),
        key=lambda n: (-graph.in_degree(n), n),
    )


def isolated(kg: KnowledgeGraph) -> list[int]:
    """Articles with no link in or out, by id."""
    graph = kg.graph
    return [n for n in graph if graph.in_degree(n) == 0 and graph.out_degree(n) == 0]


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
    return sorted(
        (a for a in kg.articles.values() if len(a.copies) > 1),
        key=lambda a: (-len(a.copies), a.id),
    )


def subject_spellings(kg: KnowledgeGraph) -> list[Topic]:
    """Topics whose subject is spelled more than one way, by key."""
    return [topic for topic in kg.topics.values() if len(topic.spellings) > 1]


def _ranked(kg: KnowledgeGraph) -> tuple[RankedArticle, ...]:
    in_degree = dict(kg.graph.in_degree())
    values = list(in_degree.values()) or [0]
    mean = statistics.fmean(values)
    spread = statistics.pstdev(values) or 1.0
    links = kg.graph.number_of_edges() or 1
    return tuple(
        RankedArticle(id=n, in_degree=d, z_score=(d - mean) / spread, share=d / links)
        for n, d in most_linked(kg)
    )


def _islands(kg: KnowledgeGraph) -> tuple[Island, ...]:
    pieces = [tuple(sorted(piece)) for piece in nx.weakly_connected_components(kg.graph)]
    pieces.sort(key=lambda piece: (-len(piece), piece[0]))
    return tuple(Island(article_ids=piece) for piece in pieces[1:])


def _duplicates(kg: KnowledgeGraph) -> tuple[DuplicateArticle, ...]:
    return tuple(
        DuplicateArticle(
            id=a.id,
            paths=tuple(c.path for c in a.copies),
            related_lists_differ=len({tuple((e.id, e.url) for e in c.related) for c in a.copies})
            > 1,
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

    copy_topic = {c.path: c.topic for a in kg.articles.values() for c in a.copies}
    by_kind: dict[FindingKind, list[Finding]] = defaultdict(list)
    for finding in kg.findings:
        if topic is None or copy_topic[finding.path] == topic:
            by_kind[finding.kind].append(finding)

    def ranked_findings(kind: FindingKind) -> tuple[Finding, ...]:
        return tuple(sorted(by_kind[kind], key=lambda f: (f.article, f.path, f.rank)))

    broken = ranked_findings(FindingKind.BROKEN_LINK)
    wanted_ids = {f.stated_id for f in broken if f.stated_id is not None}
    wanted = tuple(w for w in most_wanted(kg) if w.id in wanted_ids)
    islands = tuple(
        island
        for island in _islands(kg)
        if members is None or not members.isdisjoint(island.article_ids)
    )
    orphan_ids = keep(orphans(kg))
    island_members = [i for island in islands for i in keep(island.article_ids)]
    candidates = tuple(dict.fromkeys([*orphan_ids, *island_members]))
    articles = keep(sorted(kg.articles))
    copies = [c for i in articles for c in kg.articles[i].copies if topic in (None, c.topic)]
    parse_errors = tuple(
        d for d in kg.diagnostics if topic is None or _parse_error_topic(d) == topic
    )
    duplicates = tuple(d for d in _duplicates(kg) if members is None or d.id in members)
    spellings = tuple(t for t in subject_spellings(kg) if topic in (None, t.key))
    over_linked = tuple(r for r in _ranked(kg) if members is None or r.id in members)
    dead = keep(dead_ends(kg))
    alone = keep(isolated(kg))
    components = [len(i.article_ids) for i in islands]
    pieces = nx.number_weakly_connected_components(graph) if graph else 0
    largest = max((len(c) for c in nx.weakly_connected_components(graph)), default=0)
    if members is not None:
        # Count the largest piece when the topic reaches into it.
        in_islands = {i for island in islands for i in island.article_ids}
        if any(m not in in_islands for m in members):
            components.append(largest)
        pieces, largest = len(components), max(components, default=0)
    summary = Summary(
        files=len(kg.files) if topic is None else len(copies) + len(parse_errors),
        parse_errors=len(parse_errors),
        articles=len(articles),
        duplicate_articles=len(duplicates),
        references=sum(len(c.related) for c in copies),
        links=sum(graph.out_degree(i) for i in articles),
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
        max_in_degree=max((graph.in_degree(i) for i in articles), default=0),
        components=pieces,
        largest_component=largest,
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


def _normal_title(title: str) -> str:
    return " ".join(words(title))


def _title_index(kg: KnowledgeGraph) -> dict[str, list[int]]:
    index: dict[str, list[int]] = defaultdict(list)
    for article in kg.articles.values():
        index[_normal_title(article.title)].append(article.id)
    return dict(index)


def wanted_suggestions(kg: KnowledgeGraph, wanted: Wanted, limit: int = 3) -> list[int]:
    """Existing articles the entries naming ``wanted`` most likely meant.

    Articles with the same title first (case and punctuation aside), then by
    overlap of the wanted title's words with their titles, questions and
    keywords, rare words weighing more; same subject breaks ties, then id.
    """
    titles = kg.derived("titles", lambda: _title_index(kg))
    exact: list[int] = list(titles.get(_normal_title(wanted.title or ""), ()))
    total = len(kg.articles) or 1
    scores: dict[int, float] = defaultdict(float)
    for word in dict.fromkeys(words(wanted.title or "")):
        holders = kg.by_word.get(word, ())
        # Words on a tenth of the corpus ("what", "the") tell nothing.
        if not holders or len(holders) > total / 10:
            continue
        weight = math.log(total / len(holders))
        for article_id in holders:
            scores[article_id] += weight
    subject = topic_key(wanted.subject or "")
    ranked = sorted(
        (i for i in scores if i not in exact),
        key=lambda i: (-round(scores[i], 9), subject not in kg.articles[i].topics, i),
    )
    return [*exact, *ranked][:limit]


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
    wanted = kg.wanted.get(finding.stated_id) if finding.stated_id is not None else None
    suggestions = wanted_suggestions(kg, wanted, 1) if wanted is not None else []
    if suggestions:
        return f"{where}: id {finding.stated_id} exists nowhere; did you mean {suggestions[0]}?"
    return f"{where}: id {finding.stated_id} exists nowhere; write the article or remove the entry"

"""Resolve the related entries of a read corpus: links, findings and wanted articles at once.

CORPUS.md "Semantics" 3 and 4, worked out over arrays of every entry of the
corpus (numpy) rather than one entry after another: an entry made a record,
looked up and sorted into dicts one at a time was 15 s of a 42 s build at a
million generated articles. Files are taken as the build groups them (each
article's copies together, articles in the order of their first path, copies
in path order, entries by rank), which fixes what "first" means: the links'
order (an adjacency's order in the graph), a wanted article's first entry.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from typing import Any

import numpy as np
import numpy.typing as npt

from kgraph.corpus.columns import FileColumns
from kgraph.corpus.read import NO_ENTRY_ID, RelatedSpool
from kgraph.model import Article, Finding, FindingKind, Wanted

__all__ = ["Resolved", "resolve_links"]

Ints = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]

# Findings of one entry sort by kind's value, as the build sorts them (path, rank, kind).
_KINDS = sorted(FindingKind, key=lambda kind: kind.value)
_KIND_CODE = {kind: code for code, kind in enumerate(_KINDS)}


@dataclass(frozen=True, slots=True)
class Resolved:
    """What a corpus's related entries make.

    The links as three lists, in the order first given (``ranks``: each one's
    lowest); the files giving each link of an article with several copies;
    the findings in corpus order (path, rank, kind); the wanted articles by
    id; each topic's count of entries (every topic of a file, zero included),
    by key; the articles whose copies list different entries.
    """

    sources: list[int]
    targets: list[int]
    ranks: list[int]
    link_paths: dict[tuple[int, int], tuple[str, ...]]
    findings: tuple[Finding, ...]
    wanted: dict[int, Wanted]
    references_by_topic: dict[str, int]
    differing: frozenset[int]


def resolve_links(
    files: FileColumns,
    related: RelatedSpool,
    articles: Mapping[int, Article],
    copies: Mapping[int, Sequence[int]],
    in_path_order: Sequence[int],
    by_url: Mapping[str, int],
) -> Resolved:
    """Resolve every related entry of ``files`` (theirs in ``related``).

    ``copies``: each article's files (positions in ``files``, in path order),
    articles in the order of their first path; ``in_path_order``: every file's
    position, by path; ``by_url``: url → the article whose copy has it.
    """
    starts = np.frombuffer(related.starts, dtype=np.int64)
    order = np.fromiter(chain.from_iterable(copies.values()), dtype=np.int64, count=len(files))
    counts = np.diff(starts)[order]
    # Entry k (in the order files are taken) is entry at[k] of the spool, of file file_of[k].
    file_of = np.repeat(order, counts)
    sequence = np.repeat(np.arange(len(order), dtype=np.int64), counts)
    before = np.cumsum(counts) - counts
    at = np.repeat(starts[order] - before, counts) + np.arange(int(counts.sum()), dtype=np.int64)
    ids = np.frombuffer(related.ids, dtype=np.int64)[at]
    ranks = np.frombuffer(related.ranks, dtype=np.int64)[at]
    article_of = np.frombuffer(files.ids, dtype=np.int64)
    sources = article_of[file_of]
    url_owners = np.fromiter(
        map(by_url.get, related.urls, repeat(NO_ENTRY_ID)),  # type: ignore[arg-type]
        dtype=np.int64,
        count=len(related.urls),
    )[at]

    known = np.fromiter(articles, dtype=np.int64, count=len(articles))
    known.sort()
    by_id = _members(ids, known)
    # An id's article with the entry's url among its copies' (the url's owner, mostly).
    same_url = by_id & (url_owners == ids)
    for k in np.flatnonzero(by_id & ~same_url).tolist():
        same_url[k] = related.urls[at[k]] in articles[int(ids[k])].urls
    mismatched = by_id & ~same_url
    stale = ~by_id & (url_owners != NO_ENTRY_ID)
    broken = ~by_id & ~stale
    targets = np.where(by_id, ids, np.where(stale, url_owners, ids))
    is_article = by_id | stale

    duplicate, first_rank = _duplicates(sequence, is_article, targets, ranks)
    kept = is_article & ~duplicate
    self_link = kept & (targets == sources)
    linked = np.flatnonzero(kept & ~self_link)
    link_sources, link_targets, link_ranks = _links(sources[linked], targets[linked], ranks[linked])

    several = np.fromiter((len(copies[i]) > 1 for i in article_of.tolist()), bool, len(files))
    paths: dict[tuple[int, int], list[str]] = {}
    for k in linked[several[file_of[linked]]].tolist():
        edge = (int(sources[k]), int(targets[k]))
        paths.setdefault(edge, []).append(files.paths[int(file_of[k])])

    findings = _findings(
        files,
        related,
        in_path_order,
        {
            FindingKind.URL_MISMATCH: (mismatched, targets),
            FindingKind.STALE_LINK: (stale, targets),
            FindingKind.BROKEN_LINK: (broken, None),
            FindingKind.DUPLICATE_LINK: (duplicate, np.where(is_article, targets, NO_ENTRY_ID)),
            FindingKind.SELF_LINK: (self_link, targets),
        },
        file_of=file_of,
        at=at,
        sources=sources,
        ids=ids,
        ranks=ranks,
        first_rank=first_rank,
    )
    named = broken & (ids != NO_ENTRY_ID)
    return Resolved(
        sources=link_sources,
        targets=link_targets,
        ranks=link_ranks,
        link_paths={edge: tuple(given) for edge, given in paths.items()},
        findings=findings,
        wanted=_wanted(related, ids[named], sources[named], at[named]),
        references_by_topic=_references(files, np.diff(starts)),
        differing=_differing(related, copies),
    )


def _members(values: Ints, known: Ints) -> Flags:
    """Which of ``values`` are among ``known`` (ascending)."""
    if not len(known):
        return np.zeros(len(values), dtype=bool)
    found = np.searchsorted(known, values).clip(max=len(known) - 1)
    matched: Flags = known[found] == values
    return matched


def _duplicates(
    sequence: Ints, is_article: Flags, targets: Ints, ranks: Ints
) -> tuple[Flags, Ints]:
    """The entries whose target an earlier entry of their file resolved to already, and
    the rank of that earlier entry (an entry naming no id has no target to repeat)."""
    duplicate = np.zeros(len(targets), dtype=bool)
    first_rank = np.zeros(len(targets), dtype=np.int64)
    named = np.flatnonzero(targets != NO_ENTRY_ID)
    # By file, target (articles after wanted ids), then order: each group's first is kept.
    grouped = named[np.lexsort((named, targets[named], is_article[named], sequence[named]))]
    if not len(grouped):
        return duplicate, first_rank
    same = (
        (sequence[grouped][1:] == sequence[grouped][:-1])
        & (is_article[grouped][1:] == is_article[grouped][:-1])
        & (targets[grouped][1:] == targets[grouped][:-1])
    )
    repeated = grouped[1:][same]
    duplicate[repeated] = True
    firsts = grouped[np.flatnonzero(np.concatenate(([True], ~same)))]
    group = np.cumsum(np.concatenate(([True], ~same))) - 1
    first_rank[grouped] = ranks[firsts[group]]
    return duplicate, first_rank


def _links(sources: Ints, targets: Ints, ranks: Ints) -> tuple[list[int], list[int], list[int]]:
    """Each distinct link of the entries given (in order), in the order first given, with
    its lowest rank."""
    if not len(sources):
        return [], [], []
    # By source, then target; a stable sort keeps each link's entries in order.
    order = np.lexsort((targets, sources))
    by_source, by_target = sources[order], targets[order]
    starts = np.flatnonzero(
        np.concatenate(
            ([True], (by_source[1:] != by_source[:-1]) | (by_target[1:] != by_target[:-1]))
        )
    )
    first = order[starts]
    lowest = np.minimum.reduceat(ranks[order], starts)
    given = np.argsort(first, kind="stable")
    return sources[first[given]].tolist(), targets[first[given]].tolist(), lowest[given].tolist()


def _findings(
    files: FileColumns,
    related: RelatedSpool,
    in_path_order: Sequence[int],
    kinds: dict[FindingKind, tuple[Flags, Ints | None]],
    *,
    file_of: Ints,
    at: Ints,
    sources: Ints,
    ids: Ints,
    ranks: Ints,
    first_rank: Ints,
) -> tuple[Finding, ...]:
    """The findings of every kind (its entries, and the target each gives), by path, rank, kind."""
    path_rank = np.empty(len(files), dtype=np.int64)
    path_rank[np.asarray(in_path_order, dtype=np.int64)] = np.arange(len(files))
    entries: list[Ints] = []
    codes: list[Ints] = []
    given: list[Ints] = []
    for kind, (flags, targets) in kinds.items():
        found = np.flatnonzero(flags)
        entries.append(found)
        codes.append(np.full(len(found), _KIND_CODE[kind], dtype=np.int64))
        given.append(np.full(len(found), NO_ENTRY_ID) if targets is None else targets[found])
    entry, code, target = np.concatenate(entries), np.concatenate(codes), np.concatenate(given)
    ordered = np.lexsort((code, ranks[entry], path_rank[file_of[entry]]))
    entry, code, target = entry[ordered], code[ordered], target[ordered]
    duplicate = _KIND_CODE[FindingKind.DUPLICATE_LINK]
    urls, file_paths = related.urls, files.paths
    return tuple(
        Finding(
            kind=_KINDS[kind],
            article=source,
            path=file_paths[file],
            rank=rank,
            stated_id=None if stated == NO_ENTRY_ID else stated,
            stated_url=urls[spooled],
            target=None if to == NO_ENTRY_ID else to,
            first_rank=first if kind == duplicate else None,
        )
        for kind, source, file, rank, stated, spooled, to, first in zip(
            code.tolist(),
            sources[entry].tolist(),
            file_of[entry].tolist(),
            ranks[entry].tolist(),
            ids[entry].tolist(),
            at[entry].tolist(),
            target.tolist(),
            first_rank[entry].tolist(),
            strict=True,
        )
    )


def _wanted(related: RelatedSpool, ids: Ints, sources: Ints, at: Ints) -> dict[int, Wanted]:
    """The wanted articles the broken entries given (in order) name: each with what its
    first entry says, and the articles naming it."""
    distinct, first = np.unique(ids, return_index=True)
    pairs = np.unique(np.stack([ids, sources], axis=1), axis=0)
    ends = np.searchsorted(pairs[:, 0], distinct, side="right").tolist()
    referrers = pairs[:, 1].tolist()
    wanted: dict[int, Wanted] = {}
    start = 0
    for missing, entry, end in zip(distinct.tolist(), at[first].tolist(), ends, strict=True):
        wanted[missing] = Wanted(
            id=missing,
            title=related.titles[entry],
            subject=related.subjects[entry],
            url=related.urls[entry],
            referrers=tuple(referrers[start:end]),
        )
        start = end
    return wanted


def _references(files: FileColumns, counts: Ints) -> dict[str, int]:
    """Each topic's related entries (every file's topic, with none too), by key."""
    counted: Counter[str] = Counter()
    for topic, count in zip(files.topics, counts.tolist(), strict=True):
        counted[topic] += count
    return dict(sorted(counted.items()))


def _differing(related: RelatedSpool, copies: Mapping[int, Sequence[int]]) -> frozenset[int]:
    """The articles whose copies list different related articles (by id and url)."""
    starts, ids, urls = related.starts, related.ids, related.urls

    def listed(at: int) -> tuple[Any, ...]:
        span = range(starts[at], starts[at + 1])
        return tuple((ids[entry], urls[entry]) for entry in span)

    return frozenset(
        article_id
        for article_id, ats in copies.items()
        if len(ats) > 1 and len({listed(at) for at in ats}) > 1
    )

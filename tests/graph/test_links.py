"""Resolving related entries all at once gives what resolving them one by one gives.

The reference below is CORPUS.md "Semantics" 3 and 4 written the plain way, one
entry after another (as the build did before it resolved them over arrays), run
on random corpora dense in every case: copies of one id, entries naming
articles, wanted ids, stale and mismatched urls, urls two articles share,
duplicates, self links, entries without an id or a url.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from typing import Any

import pytest

from kgraph.corpus import CorpusReading
from kgraph.corpus.read import RelatedSpool
from kgraph.graph.build import build_graph
from kgraph.model import (
    INT_MAX,
    INT_MIN,
    ArticleFile,
    Copy,
    Finding,
    FindingKind,
    RelatedEntry,
    Wanted,
)


def _reference(files: list[ArticleFile]) -> dict[str, Any]:
    """Links (in the order first given, lowest rank), their files, findings, wanted
    articles and each topic's entries, resolving one entry at a time."""
    in_path_order = sorted(range(len(files)), key=lambda at: files[at].copy.path)
    copies: dict[int, list[int]] = defaultdict(list)
    for at in in_path_order:
        copies[files[at].id].append(at)
    urls = {i: {files[at].copy.url for at in ats} - {None} for i, ats in copies.items()}
    owner: dict[str, tuple[str, int]] = {}
    for i, ats in copies.items():
        for at in ats:
            url, path = files[at].copy.url, files[at].copy.path
            if url is not None and (url not in owner or path < owner[url][0]):
                owner[url] = (path, i)
    edges: dict[tuple[int, int], int] = {}
    paths: dict[tuple[int, int], list[str]] = {}
    findings: list[Finding] = []
    first: dict[int, RelatedEntry] = {}
    referrers: dict[int, set[int]] = defaultdict(set)
    counted: Counter[str] = Counter()
    differing = {
        i
        for i, ats in copies.items()
        if len({tuple((e.id, e.url) for e in files[at].copy.related) for at in ats}) > 1
    }

    def found(kind: FindingKind, s: int, path: str, e: RelatedEntry, t: Any, r: Any = None) -> None:
        findings.append(Finding(kind, s, path, e.rank, e.id, e.url, t, r))

    for source, ats in copies.items():
        for at in ats:
            path = files[at].copy.path
            counted[files[at].copy.topic] += len(files[at].copy.related)
            seen: dict[tuple[bool, int | None], int] = {}
            for e in files[at].copy.related:
                if e.id is not None and e.id in copies:
                    if e.url not in urls[e.id]:
                        found(FindingKind.URL_MISMATCH, source, path, e, e.id)
                    target: tuple[bool, int | None] = (True, e.id)
                elif e.url is not None and e.url in owner:
                    found(FindingKind.STALE_LINK, source, path, e, owner[e.url][1])
                    target = (True, owner[e.url][1])
                else:
                    found(FindingKind.BROKEN_LINK, source, path, e, None)
                    if e.id is not None:
                        first.setdefault(e.id, e)
                        referrers[e.id].add(source)
                    target = (False, e.id)
                if target in seen and target[1] is not None:
                    dup = target[1] if target[0] else None
                    found(FindingKind.DUPLICATE_LINK, source, path, e, dup, seen[target])
                    continue
                seen[target] = e.rank
                if not target[0]:
                    continue
                if target[1] == source:
                    found(FindingKind.SELF_LINK, source, path, e, source)
                    continue
                linked = target[1]
                assert linked is not None
                edge = (source, linked)
                edges[edge] = min(edges.get(edge, e.rank), e.rank)
                if len(ats) > 1:
                    paths.setdefault(edge, []).append(path)
    findings.sort(key=lambda f: (f.path, f.rank, f.kind))
    wanted = {
        i: Wanted(i, e.title, e.subject, e.url, tuple(sorted(referrers[i])))
        for i, e in sorted(first.items())
    }
    return {
        "edges": list(edges.items()),
        "paths": {edge: tuple(given) for edge, given in paths.items()},
        "findings": tuple(findings),
        "wanted": wanted,
        "references": dict(sorted(counted.items())),
        "differing": differing,
    }


def _corpus(seed: int) -> list[ArticleFile]:
    """Files of a few ids (some in several copies), entries naming them and others."""
    rng = random.Random(seed)
    files = []
    # Ids at both ends of GraphQL's Int too, which parsing lets through.
    ids = rng.sample([*range(-5, 60), INT_MIN, INT_MIN + 1, INT_MAX - 1, INT_MAX], 30)
    for n in range(rng.randint(0, 80)):
        article = rng.choice(ids)
        entries = []
        # A rank given twice in a file too (related_article1 and related_article01).
        for rank in sorted(rng.choices(range(1, 9), k=rng.randint(0, 6))):
            named = rng.choice([*ids, *range(60, 70), None, article])
            url = rng.choice(
                [f"/q/{named}", f"/q/{rng.choice(ids)}", f"/q/x{rng.randint(0, 3)}", None]
            )
            entries.append(RelatedEntry(rank, named, f"T{named}", rng.choice(["Bio", None]), url))
        topic = rng.choice(["bio", "chem", "phys"])
        url = rng.choice([f"/q/{article}", f"/q/{rng.choice(ids)}", None])
        path = f"{topic}/{rng.randint(0, 10**6):07d}-{n}.md"
        copy = Copy(path, url, topic.title(), topic, tuple(entries))
        files.append(
            ArticleFile(article, f"T{article}", None, b"", None, (), None, None, False, copy)
        )
    return files


@pytest.mark.parametrize("spooled", [False, True])
@pytest.mark.parametrize("seed", range(60))
def test_resolved_at_once_as_one_by_one(seed: int, spooled: bool) -> None:
    files = _corpus(seed)
    paths = tuple(sorted(file.copy.path for file in files))
    related = None
    if spooled:  # as a reading keeps them: apart from the records
        related = RelatedSpool()
        for file in files:
            related.add(file.copy.related)
    reading = CorpusReading("c", paths, tuple(files), (), related=related)
    kg = build_graph(reading)
    expected = _reference(files)
    assert [((s, t), d["rank"]) for s, t, d in kg.graph.edges(data=True)] == sorted(
        expected["edges"], key=lambda item: list(kg.graph).index(item[0][0])
    )
    # The links' order: each source's successors in the order first given.
    for source in kg.graph:
        given = [t for (s, t), _ in expected["edges"] if s == source]
        assert list(kg.graph.succ[source]) == given
    assert dict(kg.link_paths) == expected["paths"]
    assert kg.findings == expected["findings"]
    assert dict(kg.wanted) == expected["wanted"]
    assert dict(kg.references_by_topic) == expected["references"]
    assert kg.differing_copies == expected["differing"]

"""The ``kgraph check`` report: a corpus's figures and findings, as JSON or text."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from kgraph.graph import KnowledgeGraph, curation, summarize
from kgraph.model import Finding, FindingKind

__all__ = ["json_report", "text_report"]

_FINDING_LISTS = {
    "broken_links": FindingKind.BROKEN_LINK,
    "stale_links": FindingKind.STALE_LINK,
    "url_mismatches": FindingKind.URL_MISMATCH,
    "duplicate_links": FindingKind.DUPLICATE_LINK,
    "self_links": FindingKind.SELF_LINK,
}


def _finding(finding: Finding) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "article": finding.article,
        "path": finding.path,
        "rank": finding.rank,
        "stated_id": finding.stated_id,
        "stated_url": finding.stated_url,
        "target": finding.target,
    }
    if finding.first_rank is not None:
        entry["first_rank"] = finding.first_rank
    return entry


def json_report(kg: KnowledgeGraph, version: str) -> dict[str, Any]:
    """The full report: ``summary`` (integer figures), ``parse_errors`` and every list."""
    return {
        "kgraph": version,
        "corpus": kg.root,
        "load_seconds": round(kg.load_seconds, 3),
        "summary": summarize(kg).as_dict(),
        "parse_errors": [
            {"path": d.path, "line": d.line, "message": d.message} for d in kg.diagnostics
        ],
        **{
            name: [_finding(f) for f in kg.findings_of(kind)]
            for name, kind in _FINDING_LISTS.items()
        },
        "wanted_articles": [
            {
                "id": w.id,
                "title": w.title,
                "subject": w.subject,
                "url": w.url,
                "referrers": list(w.referrers),
            }
            for w in curation.most_wanted(kg)
        ],
        "duplicate_articles": [
            {"id": a.id, "paths": [c.path for c in a.copies]}
            for a in curation.duplicate_articles(kg)
        ],
        "subject_spellings": [
            {"topic": t.key, "spellings": dict(t.spellings)} for t in curation.subject_spellings(kg)
        ],
        "orphans": curation.orphans(kg),
        "dead_ends": curation.dead_ends(kg),
        "isolated": curation.isolated(kg),
    }


def _short(title: str | None, width: int = 60) -> str:
    title = " ".join((title or "?").split())
    return title if len(title) <= width else title[: width - 3] + "..."


def _title(kg: KnowledgeGraph, article_id: int | None) -> str:
    article = kg.articles.get(article_id) if article_id is not None else None
    return _short(article.title if article else None)


def _section(title: str, count: int, lines: Iterable[str], shown: int) -> list[str]:
    if count == 0:
        return []
    rows = list(lines)[:shown]
    out = ["", f"{title} ({count:,})"]
    out.extend(f"  {row}" for row in rows)
    if count > len(rows):
        out.append(f"  … and {count - len(rows):,} more (--format json lists them all)")
    return out


def text_report(kg: KnowledgeGraph, *, top: int = 5) -> str:
    """A readable summary with the worst offenders of each finding."""
    s = summarize(kg)
    lines = [
        f"corpus   {kg.root}",
        f"files    {s.files:,} read in {kg.load_seconds:.1f} s, {s.parse_errors:,} parse errors",
        f"articles {s.articles:,} ({s.duplicate_articles:,} with copies in several files)"
        f" in {s.topics:,} topics",
        f"links    {s.links:,} from {s.references:,} related entries;"
        f" {s.components:,} weakly connected pieces, the largest {s.largest_component:,}",
        "",
        "findings",
    ]
    figures = [
        ("parse errors", s.parse_errors, "files that could not be read"),
        ("broken links", s.broken_links, f"entries to {s.wanted_articles:,} missing articles"),
        ("stale links", s.stale_links, "entries with an outdated id, resolved by url"),
        ("url mismatches", s.url_mismatches, "entries whose url is not the article's"),
        ("duplicate links", s.duplicate_links, "entries repeating an earlier one"),
        ("self links", s.self_links, "entries naming their own article"),
        ("orphans", s.orphans, "articles no article links to"),
        ("dead ends", s.dead_ends, "articles linking nowhere"),
        ("isolated", s.isolated, "articles with no link at all"),
        ("max in-degree", s.max_in_degree, "the most linked-to article's referrers"),
    ]
    lines.extend(f"  {name:<16}{count:>8,}  {what}" for name, count, what in figures)

    lines += _section(
        "parse errors",
        s.parse_errors,
        (f"{d.path}:{d.line or '-'}: {d.message}" for d in kg.diagnostics),
        max(top, 20),
    )
    wanted = curation.most_wanted(kg)
    lines += _section(
        "most wanted missing articles",
        len(wanted),
        (f"id {w.id}: {len(w.referrers)} referrers, {_short(w.title)} ({w.url})" for w in wanted),
        top,
    )
    lines += _section(
        "stale links (write the resolved id instead)",
        s.stale_links,
        (
            f"{f.path} rank {f.rank}: id {f.stated_id} → {f.target} ({_title(kg, f.target)})"
            for f in kg.findings_of(FindingKind.STALE_LINK)
        ),
        top,
    )
    lines += _section(
        "url mismatches",
        s.url_mismatches,
        (
            f"{f.path} rank {f.rank}: id {f.stated_id} has no url {f.stated_url}"
            for f in kg.findings_of(FindingKind.URL_MISMATCH)
        ),
        top,
    )
    duplicates = Counter(f.path for f in kg.findings_of(FindingKind.DUPLICATE_LINK))
    lines += _section(
        "files with duplicate links",
        len(duplicates),
        (f"{path}: {n} repeated entries" for path, n in duplicates.most_common()),
        top,
    )
    lines += _section(
        "self links",
        s.self_links,
        (f"{f.path} rank {f.rank}" for f in kg.findings_of(FindingKind.SELF_LINK)),
        top,
    )
    graph = kg.graph
    lines += _section(
        "most linked articles",
        s.articles - s.orphans,
        (f"id {n}: {d} referrers, {_title(kg, n)}" for n, d in curation.most_linked(kg)),
        top,
    )
    lines += _section(
        "orphans (most outgoing links first)",
        s.orphans,
        (f"id {n}: {graph.out_degree(n)} links out, {_title(kg, n)}" for n in curation.orphans(kg)),
        top,
    )
    lines += _section(
        "dead ends (most referrers first)",
        s.dead_ends,
        (
            f"id {n}: {graph.in_degree(n)} referrers, {_title(kg, n)}"
            for n in curation.dead_ends(kg)
        ),
        top,
    )
    copies = curation.duplicate_articles(kg)
    lines += _section(
        "articles with copies in several files",
        len(copies),
        (f"id {a.id}: {', '.join(c.path for c in a.copies)}" for a in copies),
        top,
    )
    spellings = curation.subject_spellings(kg)
    lines += _section(
        "subjects spelled several ways",
        len(spellings),
        (f"{t.key}: " + ", ".join(f"{name!r} x{n}" for name, n in t.spellings) for t in spellings),
        top,
    )
    return "\n".join(lines) + "\n"

"""The ``kgraph check`` report: a corpus's figures and findings, as JSON or text."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice
from typing import Any

from kgraph.graph import KnowledgeGraph, curation, relatedness, similarity
from kgraph.model import Finding, FindingKind

__all__ = ["FAIL_ON", "JSON_LINK_SUGGESTIONS", "compare", "failing", "json_report", "text_report"]

#: How many standard deviations above the mean in-degree make an article over-linked.
OVER_LINKED_Z = 3.0

#: Link suggestions the JSON report computes by default (the first candidates,
#: orphans first). Each costs about 2 ms: all 19,040 candidates of the dev
#: sample would add over 30 s and 20 MB to every ``kgraph check``.
JSON_LINK_SUGGESTIONS = 100

#: ``--fail-on`` names → the report lists they stand for.
FAIL_ON = {
    "parse-errors": "parse_errors",
    "broken": "broken_links",
    "stale": "stale_links",
    "url-mismatches": "url_mismatches",
    "duplicate-links": "duplicate_links",
    "self-links": "self_links",
    "wanted": "wanted_articles",
    "orphans": "orphans",
    "dead-ends": "dead_ends",
    "isolated": "isolated",
    "duplicate-articles": "duplicate_articles",
    "subject-spellings": "subject_spellings",
}


def _finding(kg: KnowledgeGraph, finding: Finding, suggest: bool = True) -> dict[str, Any]:
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
    if finding.kind is FindingKind.BROKEN_LINK:
        if not suggest:
            return entry  # its fix names the suggestion
        entry["suggestions"] = curation.broken_link_suggestions(kg, finding)
    entry["fix"] = curation.finding_fix(kg, finding)
    return entry


def json_report(
    kg: KnowledgeGraph,
    version: str,
    *,
    link_suggestions: int | None = JSON_LINK_SUGGESTIONS,
    over_linked_z: float = OVER_LINKED_Z,
    suggestions: bool = True,
) -> dict[str, Any]:
    """The full report: ``summary`` (integer figures), ``parse_errors`` and every list.

    Every list is complete except ``link_suggestions``, which covers the first
    ``link_suggestions`` candidates (all when ``None``);
    ``link_suggestion_candidates`` counts them all. ``over_linked`` holds the
    articles whose in-degree is ``over_linked_z`` standard deviations or more
    above the mean (``over_linked_min_z``). Without ``suggestions``, wanted
    articles and broken links come without their suggestions (nor broken links
    with their fix, which names one): what a text report or ``--fail-on``
    needs, in a fraction of the time (3,084 wanted articles take seconds).
    """
    report = curation.curation_report(kg)
    candidates = report.link_candidates[:link_suggestions]
    return {
        "kgraph": version,
        "corpus": kg.root,
        "load_seconds": round(kg.load_seconds, 3),
        "summary": report.summary.as_dict(),
        "parse_errors": [
            {"path": d.path, "line": d.line, "message": d.message} for d in report.parse_errors
        ],
        "broken_links": [_finding(kg, f, suggestions) for f in report.broken_links],
        "stale_links": [_finding(kg, f) for f in report.stale_links],
        "url_mismatches": [_finding(kg, f) for f in report.url_mismatches],
        "duplicate_links": [_finding(kg, f) for f in report.duplicate_links],
        "self_links": [_finding(kg, f) for f in report.self_links],
        "wanted_articles": [
            {
                "id": w.id,
                "title": w.title,
                "subject": w.subject,
                "url": w.url,
                "referrers": list(w.referrers),
                **({"suggestions": curation.wanted_suggestions(kg, w)} if suggestions else {}),
            }
            for w in report.wanted
        ],
        "duplicate_articles": [
            {"id": d.id, "paths": list(d.paths), "related_lists_differ": d.related_lists_differ}
            for d in report.duplicate_articles
        ],
        "subject_spellings": [
            {"topic": t.key, "spellings": dict(t.spellings)} for t in report.subject_spellings
        ],
        "orphans": list(report.orphans),
        "dead_ends": list(report.dead_ends),
        "isolated": list(report.isolated),
        "over_linked_min_z": over_linked_z,
        "over_linked": [
            {
                "id": r.id,
                "in_degree": r.in_degree,
                "z_score": round(r.z_score, 3),
                "share": round(r.share, 6),
            }
            for r in report.over_linked.at_least(over_linked_z)
        ],
        "islands": [list(island.article_ids) for island in report.islands],
        # Suggestions cost milliseconds each: the JSON carries the first ones
        # (orphans first); the API pages through all of them.
        "link_suggestions": [
            {
                "article": article_id,
                "suggested": [
                    {
                        "id": r.id,
                        "score": round(r.score, 4),
                        "shared_keywords": list(similarity.shared_keywords(kg, article_id, r.id)),
                        "shared_terms": list(r.shared_terms),
                        "common_neighbours": list(r.common_neighbours),
                    }
                    for r in relatedness.related(kg, article_id, 5, exclude_linked=True).items
                ],
            }
            for article_id in candidates
        ],
        "link_suggestion_candidates": len(report.link_candidates),
    }


def _key(name: str, entry: Any) -> str:
    """What identifies an entry of a report list from one run to the next."""
    if isinstance(entry, int):
        return str(entry)
    if name in ("broken_links", "stale_links", "url_mismatches", "duplicate_links", "self_links"):
        return f"{entry['path']}#{entry['rank']}:{entry['stated_id']}"
    if name == "parse_errors":
        return f"{entry['path']}: {entry['message']}"
    if name == "subject_spellings":
        return f"{entry['topic']}: {sorted(entry['spellings'])}"
    return str(entry["id"])


def compare(current: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    """What is new in ``current`` and what was fixed since ``baseline``, per report list.

    Raises
    ------
    ValueError
        When ``baseline`` is not a ``kgraph check --format json`` report.
    """
    if not isinstance(baseline, dict) or not isinstance(baseline.get("summary"), dict):
        raise ValueError("not a `kgraph check --format json` report (no summary)")
    new: dict[str, list[str]] = {}
    fixed: dict[str, list[str]] = {}
    for name in FAIL_ON.values():
        before = baseline.get(name, [])
        if not isinstance(before, list):
            raise ValueError(f"not a `kgraph check --format json` report ({name} is not a list)")
        now_keys = [_key(name, e) for e in current[name]]
        try:
            old_keys = {_key(name, e) for e in before}
        except (KeyError, TypeError, IndexError) as err:
            raise ValueError(
                f"not a `kgraph check --format json` report ({name} holds {str(before)[:60]})"
            ) from err
        kept = set(now_keys)
        new[name] = [k for k in now_keys if k not in old_keys]
        fixed[name] = sorted(k for k in old_keys if k not in kept)
    return {"new": new, "fixed": fixed}


def failing(report: dict[str, Any], fail_on: list[str]) -> list[str]:
    """The ``--fail-on`` names that make this report fail, in the order given."""
    failed = []
    for name in fail_on:
        if name == "new":
            if any(report.get("baseline", {}).get("new", {}).values()):
                failed.append(name)
        elif report[FAIL_ON[name]]:
            failed.append(name)
    return failed


def _short(title: str | None, width: int = 60) -> str:
    title = " ".join((title or "?").split())
    return title if len(title) <= width else title[: width - 3] + "..."


def _title(kg: KnowledgeGraph, article_id: int | None) -> str:
    article = kg.articles.get(article_id) if article_id is not None else None
    return _short(article.title if article else None)


def _why(kg: KnowledgeGraph, article_id: int, found: relatedness.Related) -> str:
    """A suggestion's reasons in a few words: shared keywords, else neighbours, else words."""
    keywords = similarity.shared_keywords(kg, article_id, found.id)[:2]
    if keywords:
        return ", ".join(keywords)
    if found.common_neighbours:
        return "both linked with " + ", ".join(map(str, found.common_neighbours[:2]))
    if found.shared_terms:
        return "words " + ", ".join(found.shared_terms[:2])
    return "similar wording"


def _section(
    title: str,
    count: int,
    lines: Iterable[str],
    shown: int,
    hint: str = "--format json lists them all",
) -> list[str]:
    if count == 0:
        return []
    rows = list(islice(lines, shown))  # rows may be costly: compute only those shown
    out = ["", f"{title} ({count:,})"]
    out.extend(f"  {row}" for row in rows)
    if count > len(rows):
        out.append(f"  … and {count - len(rows):,} more ({hint})")
    return out


def text_report(
    kg: KnowledgeGraph,
    *,
    top: int = 5,
    changes: dict[str, Any] | None = None,
    over_linked_z: float = OVER_LINKED_Z,
) -> str:
    """A readable summary: every report's count and its worst entries.

    ``changes`` (from :func:`compare`) adds what is new and fixed since a baseline;
    over-linked articles are those ``over_linked_z`` standard deviations or more
    above the mean in-degree.
    """
    report = curation.curation_report(kg)
    s = report.summary
    graph = kg.graph
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
        ("islands", len(report.islands), "link pieces apart from the largest"),
        ("max in-degree", s.max_in_degree, "the most linked-to article's referrers"),
    ]
    lines.extend(f"  {name:<16}{count:>8,}  {what}" for name, count, what in figures)

    if changes is not None:
        new = {name: keys for name, keys in changes["new"].items() if keys}
        fixed = {name: keys for name, keys in changes["fixed"].items() if keys}
        lines += ["", "since the baseline"]
        if not new and not fixed:
            lines.append("  nothing new, nothing fixed")
        for label, found in (("new", new), ("fixed", fixed)):
            for name, keys in found.items():
                shown = ", ".join(keys[:top]) + (" …" if len(keys) > top else "")
                lines.append(f"  {label} {name.replace('_', ' ')}: {len(keys):,}: {shown}")

    lines += _section(
        "parse errors",
        s.parse_errors,
        (f"{d.path}:{d.line or '-'}: {d.message}" for d in report.parse_errors),
        max(top, 20),
    )

    def wanted_rows() -> Iterable[str]:
        for w in report.wanted:
            row = f"id {w.id}: {len(w.referrers)} referrers, {_short(w.title)} ({w.url})"
            meant = curation.wanted_suggestions(kg, w, 1)
            yield row + (f"; did you mean {meant[0]} ({_title(kg, meant[0])})?" if meant else "")

    lines += _section("most wanted missing articles", len(report.wanted), wanted_rows(), top)
    for title, findings in (
        ("stale links", report.stale_links),
        ("url mismatches", report.url_mismatches),
        ("duplicate links", report.duplicate_links),
        ("self links", report.self_links),
    ):
        lines += _section(
            title, len(findings), (curation.finding_fix(kg, f) for f in findings), top
        )
    over_linked = report.over_linked.at_least(over_linked_z)
    lines += _section(
        f"over-linked articles (in-degree {over_linked_z:g} standard deviations or more"
        " above the mean)",
        len(over_linked),
        (
            f"id {r.id}: {r.in_degree} referrers (z {r.z_score:.1f}), {_title(kg, r.id)}"
            for r in over_linked
        ),
        top,
    )
    lines += _section(
        "orphans (most outgoing links first)",
        s.orphans,
        (f"id {n}: {graph.out_degree(n)} links out, {_title(kg, n)}" for n in report.orphans),
        top,
    )
    lines += _section(
        "dead ends (most referrers first)",
        s.dead_ends,
        (f"id {n}: {graph.in_degree(n)} referrers, {_title(kg, n)}" for n in report.dead_ends),
        top,
    )
    lines += _section(
        "isolated articles",
        s.isolated,
        (f"id {n}: {_title(kg, n)}" for n in report.isolated),
        top,
    )
    lines += _section(
        "islands (largest first)",
        len(report.islands),
        (
            f"{island.size} articles: ids {', '.join(map(str, island.article_ids[:8]))}"
            + (" …" if island.size > 8 else "")
            for island in report.islands
        ),
        top,
    )

    def suggestion_rows() -> Iterable[str]:
        for article_id in report.link_candidates:
            found = relatedness.related(kg, article_id, 3, exclude_linked=True).items
            offers = ", ".join(f"{r.id} ({_why(kg, article_id, r)})" for r in found)
            yield f"id {article_id} {_title(kg, article_id)}: link to {offers or 'nothing related'}"

    lines += _section(
        "link suggestions (orphans, dead ends, then island articles)",
        len(report.link_candidates),
        suggestion_rows(),
        top,
        hint="the API's curation.linkSuggestions pages through them all",
    )
    lines += _section(
        "articles with copies in several files",
        len(report.duplicate_articles),
        (
            f"id {d.id}: {', '.join(d.paths)}"
            + ("; related lists differ" if d.related_lists_differ else "")
            for d in report.duplicate_articles
        ),
        top,
    )
    lines += _section(
        "subjects spelled several ways",
        len(report.subject_spellings),
        (
            f"{t.key}: " + ", ".join(f"{name!r} x{n}" for name, n in t.spellings)
            for t in report.subject_spellings
        ),
        top,
    )
    return "\n".join(lines) + "\n"

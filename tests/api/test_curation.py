"""Curator reports through the schema: planted findings on the seeds, figures on the dev corpus."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import strawberry

from conftest import REFERENCE, WriteArticle
from kgraph.api import Context, create_schema
from kgraph.corpus import words
from kgraph.graph import KnowledgeGraph, load_graph, summarize
from kgraph.graph import curation as domain
from kgraph.graph.curation import CurationReport, curation_report, wanted_suggestions
from kgraph.model import FindingKind

# Each connection of `curation` and the summary figure its totalCount must equal.
CONNECTIONS = {
    "orphans": "orphans",
    "deadEnds": "deadEnds",
    "isolated": "isolated",
    "wantedArticles": "wantedArticles",
    "brokenLinks": "brokenLinks",
    "duplicateLinks": "duplicateLinks",
    "selfLinks": "selfLinks",
    "staleLinks": "staleLinks",
    "urlMismatches": "urlMismatches",
    "duplicateArticles": "duplicateArticles",
}


@pytest.fixture(scope="module")
def schema() -> strawberry.Schema:
    return create_schema()


def run(schema: strawberry.Schema, kg: KnowledgeGraph, query: str, **variables: Any) -> Any:
    result = asyncio.run(
        schema.execute(query, variable_values=variables, context_value=Context(graph=kg))
    )
    assert result.errors is None, result.errors
    return result.data


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _totals_query(topic: str | None = None) -> str:
    scope = f'(topic: "{topic}")' if topic else ""
    fields = " ".join(f"{name} {{ totalCount }}" for name in CONNECTIONS)
    summary = " ".join(_camel(key) for key in REFERENCE) + " components largestComponent"
    return (
        f"{{ curation{scope} {{ summary {{ {summary} }} {fields} islands {{ totalCount }}"
        " parseErrors { totalCount } } }"
    )


def _check_totals(curation: dict[str, Any]) -> None:
    summary = curation["summary"]
    for name, figure in CONNECTIONS.items():
        assert curation[name]["totalCount"] == summary[figure], name
    assert curation["parseErrors"]["totalCount"] == summary["parseErrors"]


def test_seeds_summary_and_totals(schema: strawberry.Schema, seeds_graph: KnowledgeGraph) -> None:
    curation = run(schema, seeds_graph, _totals_query())["curation"]
    expected = {_camel(k): v for k, v in summarize(seeds_graph).as_dict().items()}
    assert curation["summary"] == {k: expected[k] for k in curation["summary"]}
    _check_totals(curation)
    assert curation["islands"]["totalCount"] == curation["summary"]["components"] - 1


SEEDS_REPORTS = """{ curation {
  orphans { nodes { articleId } }
  deadEnds { nodes { articleId } }
  isolated { nodes { articleId } }
  wantedArticles { nodes { articleId title referrers { nodes { articleId } } suggestions { articleId } } }
  overLinked(first: 3) { nodes { article { articleId } inDegree zScore share } }
  duplicateLinks { nodes { article { articleId } copyPath ranks target { articleId } fix } }
  selfLinks { nodes { article { articleId } rank fix } }
  staleLinks { nodes { article { articleId } rank statedId statedUrl resolvedArticle { articleId url } fix } }
  urlMismatches { nodes { article { articleId } rank statedId statedUrl target { articleId } } }
  brokenLinks { nodes { article { articleId } rank wanted { articleId } fix } }
  duplicateArticles { nodes { id relatedListsDiffer copies { path } } }
  subjectSpellings { key name spellings { spelling files } }
  islands { nodes { size articles { nodes { articleId } } } }
  linkSuggestions(first: 100) { totalCount nodes { article { articleId } suggested { article { articleId } score sharedKeywords linked reasons { sharedTerms commonNeighbours { articleId } linkDistance } } } }
  parseErrors { nodes { path } }
} }"""


def _ids(connection: dict[str, Any]) -> list[int]:
    return [node["articleId"] for node in connection["nodes"]]


def test_every_planted_finding_is_reported(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    c = run(schema, seeds_graph, SEEDS_REPORTS)["curation"]
    assert set(_ids(c["orphans"])) == {73004, 73007, 84007, 84008, -1, 168918}
    assert _ids(c["deadEnds"]) == [168912, 168918]  # most referred first
    assert _ids(c["isolated"]) == [168918]
    wanted = {w["articleId"]: w for w in c["wantedArticles"]["nodes"]}
    assert list(wanted) == [168999, 52099]  # most referrers first
    assert wanted[168999]["referrers"]["nodes"] == [{"articleId": 168911}, {"articleId": 168913}]
    assert wanted[52099]["suggestions"] == []  # no seed is about red-black trees
    assert wanted[168999]["suggestions"] == [{"articleId": 168904}]
    top = c["overLinked"]["nodes"][0]
    assert (top["article"]["articleId"], top["inDegree"]) == (73001, 6)
    assert top["zScore"] > 2
    assert top["share"] == pytest.approx(6 / 113)
    duplicates = {d["article"]["articleId"]: d for d in c["duplicateLinks"]["nodes"]}
    assert duplicates[168904]["ranks"] == [1, 4]
    assert duplicates[168904]["target"] == {"articleId": 168902}
    assert duplicates[52003]["ranks"] == [1, 3]
    assert "remove it, it repeats related_article1" in duplicates[168904]["fix"]
    assert [(s["article"]["articleId"], s["rank"]) for s in c["selfLinks"]["nodes"]] == [(61007, 3)]
    (stale,) = c["staleLinks"]["nodes"]
    assert (stale["article"]["articleId"], stale["rank"], stale["statedId"]) == (168902, 1, 168899)
    assert stale["resolvedArticle"] == {"articleId": 168910, "url": stale["statedUrl"]}
    assert stale["fix"].endswith("write id 168910 instead of 168899")
    (mismatch,) = c["urlMismatches"]["nodes"]
    assert (mismatch["article"]["articleId"], mismatch["rank"], mismatch["target"]) == (
        168911,
        2,
        {"articleId": 168913},
    )
    broken = {
        (b["article"]["articleId"], b["rank"]): b["wanted"]["articleId"]
        for b in c["brokenLinks"]["nodes"]
    }
    assert broken == {(168911, 3): 168999, (168913, 2): 168999, (52001, 3): 52099}
    (copies,) = c["duplicateArticles"]["nodes"]
    assert (copies["id"], copies["relatedListsDiffer"], len(copies["copies"])) == (73010, True, 2)
    (spelling,) = c["subjectSpellings"]
    assert spelling == {
        "key": "computer-science",
        "name": "Computer Science",
        "spellings": [
            {"spelling": "Computer Science", "files": 8},
            {"spelling": "Computer science", "files": 2},
        ],
    }
    assert [i["size"] for i in c["islands"]["nodes"]] == [10, 3, 1]
    suggestions = c["linkSuggestions"]
    listed = [s["article"]["articleId"] for s in suggestions["nodes"]]
    # Orphans first, then dead ends, then island members.
    assert listed[:6] == _ids(c["orphans"])
    assert listed[6] == 168912  # the dead end that is no orphan
    # 6 orphans, a dead end and the islands' 10 + 3 + 1 articles; 84008 and
    # 168918 are both orphans and island articles.
    assert suggestions["totalCount"] == len(listed) == len(set(listed)) == 19
    for entry in suggestions["nodes"]:
        scores = [s["score"] for s in entry["suggested"]]
        assert scores == sorted(scores, reverse=True)
        for suggested in entry["suggested"]:
            assert suggested["linked"] is False
            reasons = suggested["reasons"]
            # Each says why: keywords or terms they share, or links between them.
            assert (
                suggested["sharedKeywords"]
                or reasons["sharedTerms"]
                or reasons["commonNeighbours"]
                or reasons["linkDistance"] == 3
            )
            assert not seeds_graph.graph.has_edge(
                entry["article"]["articleId"], suggested["article"]["articleId"]
            )
    assert c["parseErrors"]["nodes"] == []


def test_topic_narrows_every_list(schema: strawberry.Schema, seeds_graph: KnowledgeGraph) -> None:
    c = run(
        schema,
        seeds_graph,
        SEEDS_REPORTS.replace("curation {", 'curation(topic: "Computer science") {'),
    )["curation"]
    assert [d["article"]["articleId"] for d in c["duplicateLinks"]["nodes"]] == [52003]
    assert _ids(c["wantedArticles"]) == [52099]
    assert c["selfLinks"]["nodes"] == []
    assert c["staleLinks"]["nodes"] == []
    assert [s["key"] for s in c["subjectSpellings"]] == ["computer-science"]
    # The 10 computer-science articles are one piece: the topic's largest, no island.
    assert c["islands"]["nodes"] == []
    assert [r["article"]["articleId"] for r in c["overLinked"]["nodes"]] == [52003, 52006, 52001]
    assert c["deadEnds"]["nodes"] == c["isolated"]["nodes"] == c["urlMismatches"]["nodes"] == []
    assert c["linkSuggestions"]["nodes"] == []
    totals = run(schema, seeds_graph, _totals_query("computer-science"))["curation"]
    _check_totals(totals)
    assert totals["summary"]["articles"] == 10
    assert totals["summary"]["topics"] == 1
    assert (totals["summary"]["components"], totals["summary"]["largestComponent"]) == (1, 10)
    assert totals["islands"]["totalCount"] == 0
    physics = run(
        schema,
        seeds_graph,
        '{ curation(topic: "physics") { duplicateArticles { nodes { articleId: id } } orphans { nodes { articleId } } } }',
    )["curation"]
    assert _ids(physics["duplicateArticles"]) == [73010]
    assert set(_ids(physics["orphans"])) == {73004, 73007}

    # Biology: the dead end 168912, the isolated 168918, the url mismatch of 168911.
    bio = run(
        schema, seeds_graph, SEEDS_REPORTS.replace("curation {", 'curation(topic: "Biology") {')
    )
    bio = bio["curation"]
    assert _ids(bio["deadEnds"]) == [168912, 168918]
    assert _ids(bio["isolated"]) == [168918]
    # In-degree over the whole corpus (84001 in chemistry links to the seed), then id.
    assert [(r["article"]["articleId"], r["inDegree"]) for r in bio["overLinked"]["nodes"]] == [
        (168904, 5),
        (168917, 5),
        (168903, 3),
    ]
    assert [(m["article"]["articleId"], m["rank"]) for m in bio["urlMismatches"]["nodes"]] == [
        (168911, 2)
    ]
    assert [(s["article"]["articleId"], s["rank"]) for s in bio["staleLinks"]["nodes"]] == [
        (168902, 1)
    ]
    # Biology's pieces: 15 articles, and 168918 alone, the one island.
    assert [_ids(i["articles"]) for i in bio["islands"]["nodes"]] == [[168918]]
    assert [s["article"]["articleId"] for s in bio["linkSuggestions"]["nodes"]] == [168918, 168912]
    assert bio["linkSuggestions"]["totalCount"] == 2

    # Chemistry: its island (84005, 84006, 84008) is a piece of its own in the whole
    # corpus too; its other five articles hang together, the orphan 84007 among them.
    chem = run(
        schema, seeds_graph, SEEDS_REPORTS.replace("curation {", 'curation(topic: "chemistry") {')
    )
    chem = chem["curation"]
    assert _ids(chem["orphans"]) == [84007, 84008]
    assert chem["deadEnds"]["nodes"] == chem["isolated"]["nodes"] == []
    assert chem["urlMismatches"]["nodes"] == []
    assert [r["article"]["articleId"] for r in chem["overLinked"]["nodes"]] == [84002, 84001, 84003]
    assert [_ids(i["articles"]) for i in chem["islands"]["nodes"]] == [[84005, 84006, 84008]]
    # Orphans first, then the island's articles not listed yet.
    assert [s["article"]["articleId"] for s in chem["linkSuggestions"]["nodes"]] == [
        84007,
        84008,
        84005,
        84006,
    ]
    totals = run(schema, seeds_graph, _totals_query("chemistry"))["curation"]
    _check_totals(totals)
    assert (totals["summary"]["components"], totals["summary"]["largestComponent"]) == (2, 5)
    assert totals["islands"]["totalCount"] == 1


def test_topic_narrows_parse_errors(
    schema: strawberry.Schema, write_article: WriteArticle, tmp_path: Path
) -> None:
    write_article("biology/a.md", 1, subject="Biology")
    write_article("chemistry/b.md", 2, subject="Chemistry")
    (tmp_path / "corpus" / "chemistry" / "bad.md").write_bytes(b"---\nid: 3\ntitle: caf\xe9\n---\n")
    kg = load_graph(tmp_path / "corpus")
    query = (
        "query($t: String) { curation(topic: $t) {"
        " summary { files parseErrors } parseErrors(first: 100) { nodes { path line message } } } }"
    )
    expected = [
        {"path": "chemistry/bad.md", "line": 3, "message": "not UTF-8: byte 0xe9 at offset 20"}
    ]
    for topic, errors, files in (
        (None, expected, 3),
        ("chemistry", expected, 2),
        ("biology", [], 1),
    ):
        c = run(schema, kg, query, t=topic)["curation"]
        assert c["parseErrors"]["nodes"] == errors, topic
        assert c["summary"] == {"files": files, "parseErrors": len(errors)}, topic


def test_unknown_topic_is_an_error(schema: strawberry.Schema, seeds_graph: KnowledgeGraph) -> None:
    result = asyncio.run(
        schema.execute(
            '{ curation(topic: "astrology") { summary { articles } } }',
            context_value=Context(graph=seeds_graph),
        )
    )
    assert result.errors is not None
    assert result.errors[0].message == "no topic 'astrology': the `topics` query lists them"


def test_orphans_min_inbound(schema: strawberry.Schema, seeds_graph: KnowledgeGraph) -> None:
    c = run(
        schema,
        seeds_graph,
        "{ curation { orphans(first: 100, minInbound: 2) { totalCount nodes { articleId inDegree } } } }",
    )
    nodes = c["curation"]["orphans"]["nodes"]
    graph = seeds_graph.graph
    assert {n["articleId"] for n in nodes} == {n for n in graph if graph.in_degree(n) < 2}
    degrees = [n["inDegree"] for n in nodes]
    assert degrees == sorted(degrees)
    assert degrees[-1] == 1


def test_orphans_min_inbound_by_topic_ranked_once(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    kg = load_graph(seeds_graph.root)  # a fresh graph: nothing derived yet
    graph = kg.graph
    ranked: list[str | None] = []
    rank = domain._by_inbound

    def counted(kg: KnowledgeGraph, topic: str | None) -> Any:
        ranked.append(topic)
        return rank(kg, topic)

    monkeypatch.setattr(domain, "_by_inbound", counted)
    query = (
        "query($t: String, $m: Int!) { curation(topic: $t) {"
        " orphans(first: 100, minInbound: $m) { totalCount nodes { articleId } } } }"
    )
    for topic in (None, "physics", "biology"):
        members = kg.by_topic[topic] if topic else tuple(graph)
        for min_inbound in (1, 2, 3, 5, 7, 1_000):
            found = run(schema, kg, query, t=topic, m=min_inbound)["curation"]["orphans"]
            expected = sorted(
                (n for n in members if graph.in_degree(n) < min_inbound),
                key=lambda n: (graph.in_degree(n), -graph.out_degree(n), n),
            )
            assert _ids(found) == expected, (topic, min_inbound)
            assert found["totalCount"] == len(expected)
    assert _ids(run(schema, kg, query, t="physics", m=2)["curation"]["orphans"]) == [
        73004,
        73007,
        73003,
        73006,
    ]
    # One ranking per scope, kept with the graph; every threshold is a prefix of it.
    assert ranked == [None, "physics", "biology"]


def test_over_linked_min_inbound(schema: strawberry.Schema, seeds_graph: KnowledgeGraph) -> None:
    query = (
        "query($first: Int!, $min: Int) { curation { overLinked(first: $first, minInbound: $min)"
        " { nodes { article { articleId } inDegree } } } }"
    )

    def ranked(first: int, min_inbound: int | None) -> list[tuple[int, int]]:
        found = run(schema, seeds_graph, query, first=first, min=min_inbound)["curation"]
        return [(r["article"]["articleId"], r["inDegree"]) for r in found["overLinked"]["nodes"]]

    at_least_4 = [
        (73001, 6),
        (52003, 5),
        (168904, 5),
        (168917, 5),
        (61001, 4),
        (61002, 4),
        (73002, 4),
        (73010, 4),
        (84002, 4),
    ]
    assert ranked(100, 4) == at_least_4
    graph = seeds_graph.graph
    assert {i for i, _ in at_least_4} == {n for n in graph if graph.in_degree(n) >= 4}
    assert ranked(3, 4) == at_least_4[:3]  # `first` still cuts
    assert ranked(100, 5) == at_least_4[:4]
    assert ranked(100, 7) == []  # above the highest in-degree, 6
    unfiltered = ranked(100, None)
    assert unfiltered[: len(at_least_4)] == at_least_4
    assert len(unfiltered) == sum(1 for n in graph if graph.in_degree(n) > 0)
    assert ranked(100, 1) == unfiltered


def test_dev_summary_and_totals(schema: strawberry.Schema, dev_graph: KnowledgeGraph) -> None:
    curation = run(schema, dev_graph, _totals_query())["curation"]
    assert {k: curation["summary"][_camel(k)] for k in REFERENCE} == REFERENCE
    _check_totals(curation)
    assert curation["islands"]["totalCount"] == curation["summary"]["components"] - 1


def _finding_keys(findings: tuple[Any, ...]) -> list[Any]:
    return [[f.path, f.rank] for f in findings]


# Every connection of `curation`: the fields a page asks for, the key of a node,
# and the whole list the report holds, in order.
PAGED: dict[str, tuple[str, Callable[[Any], Any], Callable[[CurationReport], list[Any]]]] = {
    "orphans": ("articleId", lambda n: n["articleId"], lambda r: list(r.orphans)),
    "deadEnds": ("articleId", lambda n: n["articleId"], lambda r: list(r.dead_ends)),
    "isolated": ("articleId", lambda n: n["articleId"], lambda r: list(r.isolated)),
    "wantedArticles": ("articleId", lambda n: n["articleId"], lambda r: [w.id for w in r.wanted]),
    "brokenLinks": (
        "copyPath rank",
        lambda n: [n["copyPath"], n["rank"]],
        lambda r: _finding_keys(r.broken_links),
    ),
    "duplicateLinks": (
        "copyPath rank",
        lambda n: [n["copyPath"], n["rank"]],
        lambda r: _finding_keys(r.duplicate_links),
    ),
    "selfLinks": (
        "copyPath rank",
        lambda n: [n["copyPath"], n["rank"]],
        lambda r: _finding_keys(r.self_links),
    ),
    "staleLinks": (
        "copyPath rank",
        lambda n: [n["copyPath"], n["rank"]],
        lambda r: _finding_keys(r.stale_links),
    ),
    "urlMismatches": (
        "copyPath rank",
        lambda n: [n["copyPath"], n["rank"]],
        lambda r: _finding_keys(r.url_mismatches),
    ),
    "duplicateArticles": ("id", lambda n: n["id"], lambda r: [d.id for d in r.duplicate_articles]),
    "islands": (
        "size articles(first: 1) { nodes { articleId } }",
        lambda n: [n["size"], n["articles"]["nodes"][0]["articleId"]],
        lambda r: [[i.size, i.article_ids[0]] for i in r.islands],
    ),
    "overLinked": (
        "article { articleId }",
        lambda n: n["article"]["articleId"],
        lambda r: [o.id for o in r.over_linked],
    ),
    "linkSuggestions": (
        "article { articleId }",
        lambda n: n["article"]["articleId"],
        lambda r: list(r.link_candidates),
    ),
}


def test_every_connection_covers_the_schema(schema: strawberry.Schema) -> None:
    curation_type = schema.get_type_by_name("Curation")
    assert curation_type is not None
    connections = {
        f.graphql_name or f.name
        for f in curation_type.fields  # type: ignore[union-attr]
        if any(a.python_name == "after" for a in f.arguments)
    }
    # The dev corpus has neither parse errors nor copy takeovers to page through.
    assert {_camel(name) for name in connections} == set(PAGED) | {"parseErrors", "copyTakeovers"}


async def _page_through(
    schema: strawberry.Schema, kg: KnowledgeGraph, name: str, fields: str
) -> tuple[int, list[dict[str, Any]], int]:
    query = (
        f"query($a: String) {{ curation {{ {name}(first: 100, after: $a) {{ totalCount"
        f" pageInfo {{ hasNextPage endCursor }} nodes {{ {fields} }} }} }} }}"
    )
    nodes: list[dict[str, Any]] = []
    after, pages, total = None, 0, -1
    while True:
        result = await schema.execute(
            query, variable_values={"a": after}, context_value=Context(graph=kg)
        )
        assert result.errors is None, result.errors
        assert result.data is not None
        page = result.data["curation"][name]
        total, pages = page["totalCount"], pages + 1
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return total, nodes, pages
        after = page["pageInfo"]["endCursor"]


def test_dev_paging_returns_every_entry_once(
    schema: strawberry.Schema, dev_graph: KnowledgeGraph
) -> None:
    report = curation_report(dev_graph)

    async def page_all() -> dict[str, tuple[int, list[dict[str, Any]], int]]:
        return {
            name: await _page_through(schema, dev_graph, name, fields)
            for name, (fields, _, _) in PAGED.items()
        }

    for name, (total, nodes, pages) in asyncio.run(page_all()).items():
        _, key, whole = PAGED[name]
        seen = [key(node) for node in nodes]
        expected = whole(report)
        assert len(expected) > 0, name
        # In the report's order: no entry twice, none skipped.
        assert seen == expected, name
        assert len({str(k) for k in seen}) == len(seen) == total, name
        assert pages == -(-total // 100), name


def test_dev_islands_agree_with_the_summary(
    schema: strawberry.Schema, dev_graph: KnowledgeGraph
) -> None:
    query = (
        "query($t: String) { curation(topic: $t) {"
        " summary { articles components largestComponent } islands { totalCount } } }"
    )
    scopes: list[str | None] = [None, *sorted(dev_graph.topics)]
    assert len(scopes) == 19
    for topic in scopes:
        c = run(schema, dev_graph, query, t=topic)["curation"]
        summary = c["summary"]
        assert c["islands"]["totalCount"] == summary["components"] - 1, topic
        # The largest piece and the islands hold every article of the scope, once.
        report = curation_report(dev_graph, topic)
        held = [i for island in report.islands for i in island.article_ids]
        assert summary["largestComponent"] + len(held) == summary["articles"], topic
        assert len(set(held)) == len(held), topic
        members = set(dev_graph.by_topic[topic]) if topic else set(dev_graph.articles)
        assert set(held) <= members, topic
        assert all(i.size <= summary["largestComponent"] for i in report.islands), topic
    whole = curation_report(dev_graph).summary
    assert (whole.components, whole.largest_component) == (
        summarize(dev_graph).components,
        summarize(dev_graph).largest_component,
    )


def test_dev_suggestions(schema: strawberry.Schema, dev_graph: KnowledgeGraph) -> None:
    # Stale links, every one: the suggested article is the one the url names.
    fields = "copyPath rank statedId statedUrl resolvedArticle { articleId url } fix"
    total, nodes, _ = asyncio.run(_page_through(schema, dev_graph, "staleLinks", fields))
    stale = dev_graph.findings_of(FindingKind.STALE_LINK)
    assert total == len(nodes) == len(stale) == REFERENCE["stale_links"]
    by_place = {(f.path, f.rank): f for f in stale}
    for node in nodes:
        named = dev_graph.by_url[node["statedUrl"]]
        assert (
            node["resolvedArticle"]["articleId"]
            == named
            == by_place[node["copyPath"], node["rank"]].target
        )
        assert node["statedId"] not in dev_graph.articles
        assert node["fix"].endswith(f"write id {named} instead of {node['statedId']}")
    # Wanted articles whose title is an existing article's: that article comes first.
    titles: dict[str, list[int]] = {}
    for article in dev_graph.articles.values():
        titles.setdefault(" ".join(words(article.title)), []).append(article.id)
    exact = [w for w in dev_graph.wanted.values() if " ".join(words(w.title or "")) in titles]
    assert len(exact) > 50  # the corpus has many such re-published articles
    for wanted in exact:
        first = wanted_suggestions(dev_graph, wanted)[0]
        assert first in titles[" ".join(words(wanted.title or ""))], wanted
    # And through the API, for one of them.
    query = "query($id: Int!) { article(id: $id) { links { wanted { articleId suggestions { articleId } } } } }"
    referrer = exact[0].referrers[0]
    links = run(schema, dev_graph, query, id=referrer)["article"]["links"]
    (found,) = [
        link["wanted"]
        for link in links
        if link["wanted"] and link["wanted"]["articleId"] == exact[0].id
    ]
    assert found["suggestions"][0]["articleId"] == wanted_suggestions(dev_graph, exact[0])[0]


def test_curation_text_fix_mentions_the_file(seeds_graph: KnowledgeGraph) -> None:
    from kgraph.graph.curation import curation_report, finding_fix

    report = curation_report(seeds_graph)
    for finding in (*report.broken_links, *report.stale_links, *report.self_links):
        fix = finding_fix(seeds_graph, finding)
        assert re.match(rf"in {re.escape(finding.path)}, related_article{finding.rank}: ", fix)


def test_over_linked_min_z_score(schema: strawberry.Schema, seeds_graph: KnowledgeGraph) -> None:
    query = (
        "query($z: Float, $min: Int) { curation { overLinked(first: 100, minZScore: $z,"
        " minInbound: $min) { totalCount nodes { article { articleId } inDegree zScore } } } }"
    )

    def ranked(z: float | None, min_inbound: int | None = None) -> list[tuple[int, int, float]]:
        found = run(schema, seeds_graph, query, z=z, min=min_inbound)["curation"]["overLinked"]
        assert found["totalCount"] == len(found["nodes"])
        return [(r["article"]["articleId"], r["inDegree"], r["zScore"]) for r in found["nodes"]]

    everything = ranked(None)
    assert len(everything) > 20
    for z in (-1.0, 0.0, 1.0, 2.0, 2.5):
        assert ranked(z) == [r for r in everything if r[2] >= z], z
    assert ranked(1.0, 5) == [r for r in everything if r[2] >= 1.0 and r[1] >= 5]
    assert ranked(100.0) == []

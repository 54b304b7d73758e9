"""Curator reports through the schema: planted findings on the seeds, figures on the dev corpus."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
import strawberry

from conftest import REFERENCE
from kgraph.api import Context, create_schema
from kgraph.corpus import words
from kgraph.graph import KnowledgeGraph, summarize
from kgraph.graph.curation import wanted_suggestions

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
        " parseErrors { path } } }"
    )


def _check_totals(curation: dict[str, Any]) -> None:
    summary = curation["summary"]
    for name, figure in CONNECTIONS.items():
        assert curation[name]["totalCount"] == summary[figure], name
    assert len(curation["parseErrors"]) == summary["parseErrors"]


def test_seeds_summary_and_totals(schema: strawberry.Schema, seeds_graph: KnowledgeGraph) -> None:
    curation = run(schema, seeds_graph, _totals_query())["curation"]
    expected = {_camel(k): v for k, v in summarize(seeds_graph).as_dict().items()}
    assert curation["summary"] == {k: expected[k] for k in curation["summary"]}
    _check_totals(curation)
    assert curation["islands"]["totalCount"] == curation["summary"]["components"] - 1


SEEDS_REPORTS = """{ curation {
  orphans { nodes { id } }
  deadEnds { nodes { id } }
  isolated { nodes { id } }
  wantedArticles { nodes { id title referrers { id } suggestions { id } } }
  overLinked(first: 3) { article { id } inDegree zScore share }
  duplicateLinks { nodes { article { id } copyPath ranks target { id } fix } }
  selfLinks { nodes { article { id } rank fix } }
  staleLinks { nodes { article { id } rank statedId statedUrl resolvedArticle { id url } fix } }
  urlMismatches { nodes { article { id } rank statedId statedUrl target { id } } }
  brokenLinks { nodes { article { id } rank wanted { id } fix } }
  duplicateArticles { nodes { id relatedListsDiffer copies { path } } }
  subjectSpellings { key name spellings { spelling files } }
  islands { nodes { size articles { nodes { id } } } }
  linkSuggestions(first: 100) { totalCount nodes { article { id } suggested { article { id } score sharedKeywords linked } } }
  parseErrors { path }
} }"""


def _ids(connection: dict[str, Any]) -> list[int]:
    return [node["id"] for node in connection["nodes"]]


def test_every_planted_finding_is_reported(
    schema: strawberry.Schema, seeds_graph: KnowledgeGraph
) -> None:
    c = run(schema, seeds_graph, SEEDS_REPORTS)["curation"]
    assert set(_ids(c["orphans"])) == {73004, 73007, 84007, 84008, -1, 168918}
    assert _ids(c["deadEnds"]) == [168912, 168918]  # most referred first
    assert _ids(c["isolated"]) == [168918]
    wanted = {w["id"]: w for w in c["wantedArticles"]["nodes"]}
    assert list(wanted) == [168999, 52099]  # most referrers first
    assert wanted[168999]["referrers"] == [{"id": 168911}, {"id": 168913}]
    assert wanted[52099]["suggestions"][0] == {"id": 52001}  # "binary search tree"
    top = c["overLinked"][0]
    assert (top["article"]["id"], top["inDegree"]) == (73001, 6)
    assert top["zScore"] > 2
    assert top["share"] == pytest.approx(6 / 113)
    duplicates = {d["article"]["id"]: d for d in c["duplicateLinks"]["nodes"]}
    assert duplicates[168904]["ranks"] == [1, 4]
    assert duplicates[168904]["target"] == {"id": 168902}
    assert duplicates[52003]["ranks"] == [1, 3]
    assert "remove it, it repeats related_article1" in duplicates[168904]["fix"]
    assert [(s["article"]["id"], s["rank"]) for s in c["selfLinks"]["nodes"]] == [(61007, 3)]
    (stale,) = c["staleLinks"]["nodes"]
    assert (stale["article"]["id"], stale["rank"], stale["statedId"]) == (168902, 1, 168899)
    assert stale["resolvedArticle"] == {"id": 168910, "url": stale["statedUrl"]}
    assert stale["fix"].endswith("write id 168910 instead of 168899")
    (mismatch,) = c["urlMismatches"]["nodes"]
    assert (mismatch["article"]["id"], mismatch["rank"], mismatch["target"]) == (
        168911,
        2,
        {"id": 168913},
    )
    broken = {(b["article"]["id"], b["rank"]): b["wanted"]["id"] for b in c["brokenLinks"]["nodes"]}
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
    listed = [s["article"]["id"] for s in suggestions["nodes"]]
    assert listed[:6] == _ids(c["orphans"])  # orphans first, then island members
    # 6 orphans and the islands' 10 + 3 + 1 articles; 84008 and 168918 are both.
    assert suggestions["totalCount"] == len(listed) == len(set(listed)) == 18
    for entry in suggestions["nodes"]:
        scores = [s["score"] for s in entry["suggested"]]
        assert scores == sorted(scores, reverse=True)
        for suggested in entry["suggested"]:
            assert suggested["linked"] is False
            assert suggested["sharedKeywords"]
            assert not seeds_graph.graph.has_edge(
                entry["article"]["id"], suggested["article"]["id"]
            )
    assert c["parseErrors"] == []


def test_topic_narrows_every_list(schema: strawberry.Schema, seeds_graph: KnowledgeGraph) -> None:
    c = run(
        schema,
        seeds_graph,
        SEEDS_REPORTS.replace("curation {", 'curation(topic: "Computer science") {'),
    )["curation"]
    assert [d["article"]["id"] for d in c["duplicateLinks"]["nodes"]] == [52003]
    assert _ids(c["wantedArticles"]) == [52099]
    assert c["selfLinks"]["nodes"] == []
    assert c["staleLinks"]["nodes"] == []
    assert [s["key"] for s in c["subjectSpellings"]] == ["computer-science"]
    assert [i["size"] for i in c["islands"]["nodes"]] == [10]
    totals = run(schema, seeds_graph, _totals_query("computer-science"))["curation"]
    _check_totals(totals)
    assert totals["summary"]["articles"] == 10
    assert totals["summary"]["topics"] == 1
    physics = run(
        schema,
        seeds_graph,
        '{ curation(topic: "physics") { duplicateArticles { nodes { id } } orphans { nodes { id } } } }',
    )["curation"]
    assert _ids(physics["duplicateArticles"]) == [73010]
    assert set(_ids(physics["orphans"])) == {73004, 73007}


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
        "{ curation { orphans(first: 100, minInbound: 2) { totalCount nodes { id inDegree } } } }",
    )
    nodes = c["curation"]["orphans"]["nodes"]
    graph = seeds_graph.graph
    assert {n["id"] for n in nodes} == {n for n in graph if graph.in_degree(n) < 2}
    degrees = [n["inDegree"] for n in nodes]
    assert degrees == sorted(degrees)
    assert degrees[-1] == 1


def test_dev_summary_totals_and_paging(
    schema: strawberry.Schema, dev_graph: KnowledgeGraph
) -> None:
    curation = run(schema, dev_graph, _totals_query())["curation"]
    assert {k: curation["summary"][_camel(k)] for k in REFERENCE} == REFERENCE
    _check_totals(curation)
    # Paging through a whole list returns each entry once.
    for name, fields in (("orphans", "id"), ("staleLinks", "copyPath rank")):
        seen: list[str] = []
        after = None
        while True:
            page = run(
                schema,
                dev_graph,
                f"query($a: String) {{ curation {{ {name}(first: 100, after: $a) {{"
                f" pageInfo {{ hasNextPage endCursor }} nodes {{ {fields} }} }} }} }}",
                a=after,
            )["curation"][name]
            seen += [str(node) for node in page["nodes"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert len(seen) == len(set(seen)) == curation[name]["totalCount"], name


def test_dev_suggestions(schema: strawberry.Schema, dev_graph: KnowledgeGraph) -> None:
    # Stale links: the suggested article is the one the url names.
    stale = run(
        schema,
        dev_graph,
        "{ curation { staleLinks(first: 100) { nodes { statedUrl resolvedArticle { id } } } } }",
    )
    for node in stale["curation"]["staleLinks"]["nodes"]:
        assert dev_graph.by_url[node["statedUrl"]] == node["resolvedArticle"]["id"]
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
    query = "query($id: Int!) { article(id: $id) { links { wanted { id suggestions { id } } } } }"
    referrer = exact[0].referrers[0]
    links = run(schema, dev_graph, query, id=referrer)["article"]["links"]
    (found,) = [
        link["wanted"] for link in links if link["wanted"] and link["wanted"]["id"] == exact[0].id
    ]
    assert found["suggestions"][0]["id"] == wanted_suggestions(dev_graph, exact[0])[0]


def test_curation_text_fix_mentions_the_file(seeds_graph: KnowledgeGraph) -> None:
    from kgraph.graph.curation import curation_report, finding_fix

    report = curation_report(seeds_graph)
    for finding in (*report.broken_links, *report.stale_links, *report.self_links):
        fix = finding_fix(seeds_graph, finding)
        assert re.match(rf"in {re.escape(finding.path)}, related_article{finding.rank}: ", fix)

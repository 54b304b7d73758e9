"""Conformance on the real dev corpus: CORPUS.md's reference figures, and edits between runs."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import REFERENCE
from kgraph.graph import KnowledgeGraph, load_graph, summarize


def test_dev_corpus_gives_the_reference_figures(dev_graph: KnowledgeGraph) -> None:
    summary = summarize(dev_graph).as_dict()
    assert {key: summary[key] for key in REFERENCE} == REFERENCE


def test_dev_corpus_details(dev_graph: KnowledgeGraph) -> None:
    seed = dev_graph.articles[168904]
    assert seed.title == "What is the role of ATP in the sodium-potassium pump?"
    assert dev_graph.by_url[seed.url or ""] == 168904
    cs = dev_graph.topics["computer-science"]
    assert cs.name == "Computer Science"
    assert {name for name, _ in cs.spellings} == {"Computer Science", "Computer science"}
    assert min(dev_graph.articles) < 0  # the folder with ids -1 … -13
    # Every edge joins two articles and carries the rank and files that gave it.
    for source, target, data in list(dev_graph.graph.edges(data=True))[:2000]:
        assert source != target
        assert 1 <= data["rank"] <= 5
        copies = {c.path for c in dev_graph.articles[source].copies}
        assert set(data["paths"]) <= copies


def _isolated_single_copy(kg: KnowledgeGraph, skip: int = 0) -> list[int]:
    """Isolated articles with one copy, no related entry, and named by no entry."""
    named_ids = {f.stated_id for f in kg.findings}
    named_urls = {f.stated_url for f in kg.findings}
    found = []
    for n in kg.graph:
        article = kg.articles[n]
        if kg.graph.degree(n) or len(article.copies) != 1 or article.copies[0].related:
            continue
        if n in named_ids or article.url in named_urls or kg.wanted.get(n):
            continue
        found.append(n)
    return found[skip:]


def test_reading_stays_right_when_files_change(
    dev_corpus: Path, dev_graph: KnowledgeGraph, tmp_path: Path
) -> None:
    """Add, remove, rename and corrupt files of a copy, then read it again."""
    corpus = tmp_path / "corpus"
    shutil.copytree(dev_corpus, corpus)
    removed, corrupted, renamed = _isolated_single_copy(dev_graph)[:3]
    path_of = {n: dev_graph.articles[n].copies[0].path for n in (removed, corrupted, renamed)}
    (corpus / path_of[removed]).unlink()
    (corpus / path_of[corrupted]).write_bytes(b"---\nid: 12\ntitle: [unclosed\n---\n")
    new_name = str(Path(path_of[renamed]).with_name("renamed-article.md"))
    (corpus / path_of[renamed]).rename(corpus / new_name)
    hub = max(dev_graph.graph, key=dev_graph.graph.in_degree)
    hub_url = dev_graph.articles[hub].url
    (corpus / "biology" / "a-new-article.md").write_text(
        "---\nid: 999999001\ntitle: A new article\nsubject: Biology\n"
        "url: /learn/biology/questions/a-new-article\n"
        f"related_article1:\n    id: {hub}\n    title: Hub\n    url: {hub_url}\n---\n",
        encoding="utf-8",
    )

    kg = load_graph(corpus)
    before, after = summarize(dev_graph), summarize(kg)
    assert after.files == before.files  # one removed, one added
    assert after.parse_errors == 1
    assert [(d.path, d.line) for d in kg.diagnostics] == [(path_of[corrupted], 4)]
    assert "started on line 3" in kg.diagnostics[0].message
    assert after.articles == before.articles - 2 + 1
    assert after.references == before.references + 1
    assert after.links == before.links + 1
    assert after.isolated == before.isolated - 2
    assert after.orphans == before.orphans - 2 + 1  # the new article is an orphan
    assert after.max_in_degree == before.max_in_degree + 1
    assert kg.articles[renamed].copies[0].path == new_name
    assert removed not in kg.articles
    assert corrupted not in kg.articles
    assert kg.link(999999001, hub) is not None

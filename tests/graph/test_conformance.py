"""Conformance on the real dev corpus: CORPUS.md's reference figures, and edits between runs."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from conftest import REFERENCE, load_cached
from kgraph.corpus import discover, read_file
from kgraph.graph import KnowledgeGraph, load_graph, summarize
from kgraph.graph.snapshot import load_snapshot
from kgraph.model import Article, ArticleFile, Copy, RelatedEntry

#: Each article's copies as the files say, related entries and all (a built
#: graph's copies hold none: it keeps what they said as links and findings).
Read = dict[int, list[Copy]]


@pytest.fixture(scope="module")
def dev_copies(dev_corpus: Path) -> Read:
    """Each article's copies of the dev corpus as each file alone reads, in path order.

    File by file (``read_file``), not as a reading of the corpus keeps them
    (related entries apart, :class:`~kgraph.corpus.read.RelatedSpool`): what
    the graph is checked against does not go through what built it.
    """
    read: Read = {}
    for path in discover(dev_corpus):
        file = read_file(dev_corpus, path)
        if isinstance(file, ArticleFile):
            read.setdefault(file.id, []).append(file.copy)
    return read


def test_the_graph_keeps_copies_without_their_entries(
    dev_graph: KnowledgeGraph, dev_copies: Read
) -> None:
    """Every copy as read, less its related entries; the entries counted whole, per topic too."""
    for article in dev_graph.articles.values():
        read = dev_copies[article.id]
        assert [c.path for c in article.copies] == [c.path for c in read]
        assert all(c.related == () for c in article.copies)
        assert article.copies == tuple(
            Copy(path=c.path, url=c.url, subject=c.subject, topic=c.topic, related=()) for c in read
        )
    every = [c for copies in dev_copies.values() for c in copies]
    assert dev_graph.references == sum(len(c.related) for c in every)
    per_topic = Counter[str]()
    for copy in every:
        per_topic[copy.topic] += len(copy.related)
    assert dict(dev_graph.references_by_topic) == dict(per_topic)
    differ = {
        i
        for i, copies in dev_copies.items()
        if len({tuple((e.id, e.url) for e in c.related) for c in copies}) > 1
    }
    assert dev_graph.differing_copies == differ
    assert len(differ) > 10


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
    # Every edge joins two articles and carries the rank; its link, the files that gave it.
    for source, target, data in list(dev_graph.graph.edges(data=True))[:2000]:
        assert source != target
        assert 1 <= data["rank"] <= 5
        copies = {c.path for c in dev_graph.articles[source].copies}
        link = dev_graph.link(source, target)
        assert link is not None
        assert set(link.paths) <= copies


def test_every_edge_keeps_the_lowest_rank_of_its_copies(
    dev_graph: KnowledgeGraph, dev_copies: Read
) -> None:
    """Every edge, derived again from the copies' entries: lowest rank, every file giving it."""
    articles, by_url = dev_graph.articles, dev_graph.by_url
    expected: dict[tuple[int, int], tuple[int, tuple[str, ...]]] = {}
    for article_id, copies in dev_copies.items():
        for copy in copies:
            for entry in copy.related:
                target = entry.id if entry.id in articles else by_url.get(entry.url or "")
                if target is None or target == article_id:
                    continue
                rank, paths = expected.get((article_id, target), (entry.rank, ()))
                if copy.path not in paths:
                    paths = (*paths, copy.path)
                expected[(article_id, target)] = (min(rank, entry.rank), paths)
    edges = {}
    for s, t in dev_graph.graph.edges:
        link = dev_graph.link(s, t)
        assert link is not None
        edges[(s, t)] = (link.rank, link.paths)
    assert edges == expected
    # The rule bites: hundreds of edges have copies that give them different ranks.
    firsts = {
        (article_id, entry.id): entry.rank
        for article_id, copies in dev_copies.items()
        for entry in reversed(copies[0].related)
    }
    assert sum(firsts.get(edge, rank) != rank for edge, (rank, _) in edges.items()) > 100


def _entries(kg: KnowledgeGraph, read: Read) -> list[tuple[Article, RelatedEntry]]:
    """Every related entry of every readable file, with the article whose file it is in."""
    return [
        (kg.articles[article_id], entry)
        for article_id, copies in read.items()
        for copy in copies
        for entry in copy.related
    ]


def _url_owners(kg: KnowledgeGraph) -> Counter[str | None]:
    """How many articles have a copy with each url."""
    return Counter(url for article in kg.articles.values() for url in set(article.urls))


def _linked_leaf(kg: KnowledgeGraph, read: Read) -> tuple[int, int]:
    """A one-file article with no entry of its own that others link to by its id and url.

    Returns the article and the number of entries naming it. No other article
    shares its url and no entry names its url under another id, so once it is
    gone every entry naming it is broken and its id wanted.
    """
    entries = _entries(kg, read)
    url_owners = _url_owners(kg)
    for n in sorted(kg.graph):
        article = kg.articles[n]
        if len(article.copies) != 1 or read[n][0].related or kg.graph.in_degree(n) < 2:
            continue
        naming = [entry for _, entry in entries if entry.id == n]
        if any(url_owners[url] > 1 for url in article.urls):
            continue
        if any(entry.url not in article.urls for entry in naming):
            continue
        if any(entry.id != n for _, entry in entries if entry.url in article.urls):
            continue
        return n, len(naming)
    raise AssertionError("no linked leaf article in the corpus")


def _isolated_single_copy(kg: KnowledgeGraph, read: Read) -> list[int]:
    """Isolated articles with one copy, no related entry, and named by no entry."""
    named_ids = {f.stated_id for f in kg.findings}
    named_urls = {f.stated_url for f in kg.findings}
    found = []
    for n in kg.graph:
        article = kg.articles[n]
        if kg.graph.degree(n) or len(article.copies) != 1 or read[n][0].related:
            continue
        if n in named_ids or article.url in named_urls or kg.wanted.get(n):
            continue
        found.append(n)
    return found


def _assert_same(cached: KnowledgeGraph, fresh: KnowledgeGraph) -> None:
    """Figures, articles, files, findings and edges: what a stale snapshot would get wrong."""
    assert summarize(cached).as_dict() == summarize(fresh).as_dict()
    assert cached.files == fresh.files
    assert cached.diagnostics == fresh.diagnostics
    assert dict(cached.articles) == dict(fresh.articles)
    assert dict(cached.wanted) == dict(fresh.wanted)
    assert cached.findings == fresh.findings
    assert list(cached.graph.edges(data=True)) == list(fresh.graph.edges(data=True))


def test_reading_stays_right_when_files_change(
    dev_corpus: Path, dev_graph: KnowledgeGraph, dev_copies: Read, tmp_path: Path
) -> None:
    """Remove, rename, corrupt and add files of a copy, one change at a time.

    After each change the corpus is read afresh and through its snapshot: the
    snapshot of the previous state must be stale, the cached load must equal
    the fresh one, and so must the snapshot it leaves.
    """
    corpus, cache = tmp_path / "corpus", tmp_path / "cache"
    shutil.copytree(dev_corpus, corpus)
    _assert_same(load_cached(corpus, cache), dev_graph)
    # The articles each change touches, chosen apart: no entry of one names another.
    leaf, naming_leaf = _linked_leaf(dev_graph, dev_copies)
    linked_to_leaf = set(dev_graph.graph.predecessors(leaf))
    pair = next(
        a.id
        for a in dev_graph.articles.values()
        if len(a.copies) == 2 and a.id not in linked_to_leaf
    )
    owners = _url_owners(dev_graph)  # a url of its own: the rename changes no url's owner
    renamed = next(
        n
        for n in sorted(dev_graph.graph)
        if len(dev_graph.articles[n].copies) == 1
        and dev_graph.graph.in_degree(n)
        and dev_graph.graph.out_degree(n)
        and owners[dev_graph.articles[n].url] == 1
        and n not in {leaf, pair} | linked_to_leaf
        and not dev_graph.graph.has_edge(n, pair)
        and not dev_graph.graph.has_edge(pair, n)
    )
    corrupted = _isolated_single_copy(dev_graph, dev_copies)[0]

    def reread() -> KnowledgeGraph:
        fresh = load_graph(corpus)
        assert load_snapshot(corpus, cache) is None  # the last state's snapshot is stale
        _assert_same(load_cached(corpus, cache), fresh)
        warm = load_snapshot(corpus, cache)
        assert warm is not None
        _assert_same(warm, fresh)
        return fresh

    # 1. An article that others link to disappears: their links to it break.
    (corpus / dev_graph.articles[leaf].copies[0].path).unlink()
    before, kg = summarize(dev_graph), reread()
    after = summarize(kg)
    assert (after.files, after.articles) == (before.files - 1, before.articles - 1)
    assert after.references == before.references
    assert after.links == before.links - len(linked_to_leaf)
    assert after.broken_links == before.broken_links + naming_leaf
    assert after.wanted_articles == before.wanted_articles + 1
    assert kg.wanted[leaf].referrers == tuple(sorted(linked_to_leaf))
    assert leaf not in kg.articles

    # 2. One copy of a two-copy article disappears: the article stays, with one copy.
    kept, dropped = kg.articles[pair].copies
    (corpus / dropped.path).unlink()
    before, previous, kg = after, kg, reread()
    after = summarize(kg)
    assert after.files == before.files - 1
    assert after.articles == before.articles
    assert after.duplicate_articles == before.duplicate_articles - 1
    assert after.references == before.references - len(dev_copies[pair][1].related)
    assert kg.articles[pair].copies == (kept,)
    assert kg.articles[pair].title == previous.articles[pair].title  # the first copy's

    # 3. A file is renamed, its url unchanged: the same figures, the new path.
    old_path = kg.articles[renamed].copies[0].path
    new_path = str(Path(old_path).with_name("renamed-article.md"))
    (corpus / old_path).rename(corpus / new_path)
    before, previous, kg = after, kg, reread()
    after = summarize(kg)
    assert after == before
    assert kg.articles[renamed].copies[0].path == new_path
    assert all(kg.link(s, t).paths == (new_path,) for s, t in kg.graph.out_edges(renamed))  # type: ignore[union-attr]
    assert {n for n in kg.graph if kg.articles[n] != previous.articles[n]} == {renamed}

    # 4. A file is corrupted, and a new one links to the most linked article.
    corrupted_path = kg.articles[corrupted].copies[0].path
    (corpus / corrupted_path).write_bytes(b"---\nid: 12\ntitle: [unclosed\n---\n")
    hub = max(kg.graph, key=kg.graph.in_degree)
    hub_url = kg.articles[hub].url
    (corpus / "biology" / "a-new-article.md").write_text(
        "---\nid: 999999001\ntitle: A new article\nsubject: Biology\n"
        "url: /learn/biology/questions/a-new-article\n"
        f"related_article1:\n    id: {hub}\n    title: Hub\n    url: {hub_url}\n---\n",
        encoding="utf-8",
    )
    before, kg = after, reread()
    after = summarize(kg)
    assert after.files == before.files + 1
    assert after.parse_errors == 1
    assert [(d.path, d.line) for d in kg.diagnostics] == [(corrupted_path, 4)]
    assert "started on line 3" in kg.diagnostics[0].message
    assert after.articles == before.articles - 1 + 1  # the rest loads
    assert after.references == before.references + 1
    assert after.links == before.links + 1
    assert after.isolated == before.isolated - 1
    assert after.orphans == before.orphans - 1 + 1  # the new article is an orphan
    assert after.max_in_degree == before.max_in_degree + 1
    assert corrupted not in kg.articles
    assert kg.link(999999001, hub) is not None

"""Building the graph: every rule of CORPUS.md "Semantics", on small explicit corpora."""

from __future__ import annotations

import copy
import gc
import pickle
import subprocess
import sys
import textwrap
import threading
import time
from array import array
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import networkx as nx
import pytest

from conftest import SEED_ALONE, SEED_FILE, SEEDS, WriteArticle, article_text, load_cached
from kgraph.budget import within
from kgraph.errors import DeadlineExceeded
from kgraph.graph import KnowledgeGraph, load_graph, summarize
from kgraph.graph.build import _graph, _keyword_index
from kgraph.graph.knowledge import LazyIndex
from kgraph.graph.links import Resolved
from kgraph.graph.snapshot import load_snapshot
from kgraph.model import FindingKind, Link


def _u(n: int) -> str:
    return f"/learn/biology/questions/a{n}"


def _load(tmp_path: Path) -> KnowledgeGraph:
    return load_graph(tmp_path / "corpus")


def test_copies_merge_into_one_article(tmp_path: Path, write_article: WriteArticle) -> None:
    write_article(
        "physics/x.md",
        1,
        title="Physics title",
        subject="Physics",
        url="/p/x",
        related=[(2, 2, _u(2))],
    )
    write_article(
        "maths/x.md",
        1,
        title="Maths title",
        subject="Maths",
        url="/m/x",
        related=[(1, 3, _u(3)), (2, 2, _u(2))],
    )
    write_article("biology/a2.md", 2, url=_u(2))
    write_article("biology/a3.md", 3, url=_u(3))
    kg = _load(tmp_path)
    article = kg.articles[1]
    # Text from the first copy in sorted path order: maths/ < physics/.
    assert article.title == "Maths title"
    assert [c.path for c in article.copies] == ["maths/x.md", "physics/x.md"]
    assert article.urls == ("/m/x", "/p/x")
    assert article.topics == ("maths", "physics")
    # Edges merged over copies: lowest rank, every file that gave it.
    link = kg.link(1, 2)
    assert link is not None
    assert (link.rank, link.paths) == (2, ("maths/x.md", "physics/x.md"))
    other = kg.link(1, 3)
    assert other is not None
    assert other.paths == ("maths/x.md",)
    assert kg.by_url["/p/x"] == kg.by_url["/m/x"] == 1
    s = summarize(kg)
    assert (s.files, s.articles, s.duplicate_articles, s.links) == (4, 3, 1, 2)
    assert kg.topics["maths"].article_ids == (1,)
    assert kg.topics["biology"].article_ids == (2, 3)


@pytest.mark.parametrize(
    "ranks",
    [(3, 1), (1, 3), (3, 1, 2), (2, 3, 1)],
    ids=lambda ranks: "-".join(map(str, ranks)),
)
def test_an_edge_keeps_the_lowest_rank_over_all_copies(
    tmp_path: Path, write_article: WriteArticle, ranks: tuple[int, ...]
) -> None:
    """Copies a/, b/, c/ … of article 1 list article 2 at ``ranks``, in sorted path order.

    The lowest rank is neither the first copy's nor (but in 1-3) the last one's.
    """
    folders = [f"{letter}/one.md" for letter in "abc"[: len(ranks)]]
    for path, rank in zip(folders, ranks, strict=True):
        # Another target at each rank before it, so the entry keeps its rank.
        before = [(r, 100 + r, f"/gone/{r}") for r in range(1, rank)]
        write_article(path, 1, url=_u(1), related=[*before, (rank, 2, _u(2))])
    write_article("z/two.md", 2, url=_u(2))
    kg = _load(tmp_path)
    link = kg.link(1, 2)
    assert link is not None
    assert (link.rank, link.paths) == (min(ranks), tuple(folders))
    assert kg.graph.edges[1, 2]["rank"] == min(ranks)
    assert summarize(kg).links == 1


def test_resolution_by_id_then_url_then_wanted(tmp_path: Path, write_article: WriteArticle) -> None:
    write_article(
        "biology/a1.md",
        1,
        url=_u(1),
        related=[
            (1, 2, "/nowhere"),  # id exists, url is not its: url mismatch, edge kept
            (2, 99, _u(3)),  # unknown id, known url: stale link to 3
            (3, 77, "/gone"),  # neither: broken, wanted 77
            (4, 77, "/gone-too"),  # same wanted id again: broken and duplicate
            (5, 1, _u(1)),  # itself: self link
        ],
    )
    write_article("biology/a2.md", 2, url=_u(2), related=[(1, 77, "/other")])
    write_article("biology/a3.md", 3, url=_u(3))
    kg = _load(tmp_path)
    assert sorted(kg.graph.edges) == [(1, 2), (1, 3)]
    kinds = [(f.kind, f.rank) for f in kg.findings if f.path == "biology/a1.md"]
    assert kinds == [
        (FindingKind.URL_MISMATCH, 1),
        (FindingKind.STALE_LINK, 2),
        (FindingKind.BROKEN_LINK, 3),
        (FindingKind.BROKEN_LINK, 4),
        (FindingKind.DUPLICATE_LINK, 4),
        (FindingKind.SELF_LINK, 5),
    ]
    stale = kg.findings_of(FindingKind.STALE_LINK)[0]
    assert (stale.stated_id, stale.target) == (99, 3)
    duplicate = kg.findings_of(FindingKind.DUPLICATE_LINK)[0]
    assert (duplicate.first_rank, duplicate.target, duplicate.stated_id) == (3, None, 77)
    wanted = kg.wanted[77]
    # The first entry naming it (sorted path, then rank) gives its details.
    assert (wanted.url, wanted.title, wanted.referrers) == ("/gone", "Article 77", (1, 2))
    s = summarize(kg)
    assert (s.references, s.broken_links, s.wanted_articles, s.stale_links) == (6, 3, 1, 1)
    assert (s.url_mismatches, s.duplicate_links, s.self_links) == (1, 1, 1)


def test_a_stale_duplicate_of_an_id_link_is_a_duplicate(
    tmp_path: Path, write_article: WriteArticle
) -> None:
    # Rank 1 names 2 by id, rank 2 names 2 by its url under an old id: same target.
    write_article("b/a1.md", 1, url=_u(1), related=[(1, 2, _u(2)), (2, 50, _u(2))])
    write_article("b/a2.md", 2, url=_u(2))
    kg = _load(tmp_path)
    s = summarize(kg)
    assert (s.links, s.stale_links, s.duplicate_links) == (1, 1, 1)
    assert kg.link(1, 2).rank == 1  # type: ignore[union-attr]


def test_a_self_link_that_repeats_is_counted_once(
    tmp_path: Path, write_article: WriteArticle
) -> None:
    write_article("b/a1.md", 1, url=_u(1), related=[(1, 1, _u(1)), (2, 1, _u(1))])
    s = summarize(_load(tmp_path))
    assert (s.self_links, s.duplicate_links, s.links, s.isolated) == (1, 1, 0, 1)


def test_orphans_dead_ends_isolated_and_in_degree(
    tmp_path: Path, write_article: WriteArticle
) -> None:
    # 1 → 2 → 3, 4 → 3, 5 alone
    write_article("b/a1.md", 1, url=_u(1), related=[(1, 2, _u(2))])
    write_article("b/a2.md", 2, url=_u(2), related=[(1, 3, _u(3))])
    write_article("b/a3.md", 3, url=_u(3))
    write_article("b/a4.md", 4, url=_u(4), related=[(3, 3, _u(3))])
    write_article("b/a5.md", 5, url=_u(5))
    s = summarize(_load(tmp_path))
    assert (s.orphans, s.dead_ends, s.isolated, s.max_in_degree) == (3, 2, 1, 2)
    assert (s.components, s.largest_component) == (2, 4)


def test_parse_errors_are_reported_and_the_rest_loads(
    tmp_path: Path, write_article: WriteArticle
) -> None:
    write_article("b/a1.md", 1, url=_u(1), related=[(1, 2, _u(2))])
    write_article("b/a2.md", "not-a-number", url=_u(2))
    (tmp_path / "corpus" / "b" / "bad.md").write_bytes(b"---\nid: [1\n---\n")
    kg = _load(tmp_path)
    assert [(d.path, d.line) for d in kg.diagnostics] == [("b/a2.md", 2), ("b/bad.md", 3)]
    assert list(kg.articles) == [1]
    # The unreadable article's id does not exist: the link to it is broken.
    assert summarize(kg).broken_links == 1


def test_ids_outside_graphqls_int_are_parse_errors_and_the_rest_loads(
    tmp_path: Path, write_article: WriteArticle
) -> None:
    # An id past 64 bits once stopped the whole load (OverflowError in the answers'
    # columns); one past 32 bits made every API page that held the article fail.
    write_article("b/a1.md", 1, url=_u(1), related=[(1, 2**31, _u(2)), (2, 10**20, "/gone")])
    write_article("b/a2.md", 10**20, url=_u(2))
    write_article("b/a3.md", -(2**31) - 1, url=_u(3))
    write_article("b/a4.md", 2**31 - 1, url=_u(4), related=[(1, 1, _u(1))])
    kg = _load(tmp_path)
    assert [(d.path, d.line) for d in kg.diagnostics] == [("b/a2.md", 2), ("b/a3.md", 2)]
    assert all("is out of range" in d.message for d in kg.diagnostics)
    assert list(kg.articles) == [1, 2**31 - 1]
    assert sorted(kg.graph.edges) == [(2**31 - 1, 1)]
    # An entry's id outside the range names nothing: its url decides (here none resolves).
    assert kg.wanted == {}
    assert summarize(kg).broken_links == 2


# A script without a main guard, loading from its main thread or, as a server
# does, from a thread of its own.
_UNGUARDED = {
    "main thread": """\
        import sys
        from kgraph.graph import load_graph, summarize

        kg = load_graph(sys.argv[1], workers=2)
        print(summarize(kg).articles, summarize(kg).links, len(kg.diagnostics))
        """,
    "thread": """\
        import sys, threading
        from kgraph.graph import load_graph, summarize

        found = []
        reader = threading.Thread(target=lambda: found.append(load_graph(sys.argv[1], workers=2)))
        reader.start()
        reader.join()
        kg = found[0]
        print(summarize(kg).articles, summarize(kg).links, len(kg.diagnostics))
        """,
}


@pytest.mark.parametrize("loader", list(_UNGUARDED))
def test_a_script_without_a_main_guard_still_loads(tmp_path: Path, loader: str) -> None:
    """Forked readers never run such a script; spawned ones (beside other threads) die in it.

    From the main thread the readers are forked: the script is read in
    parallel, said nothing. From a thread they are spawned, re-import the
    script and die in it: the script reads alone, and says why.
    """
    corpus = tmp_path / "corpus"
    for n in range(1, 2_001):
        target = corpus / f"t{n % 4}" / f"a{n}.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        related = [(1, n % 2_000 + 1, f"/q/{n % 2_000 + 1}")]
        target.write_text(article_text(n, url=f"/q/{n}", related=related), encoding="utf-8")
    script = tmp_path / "script.py"
    # Two workers even on a one-CPU machine, so that a process pool is started.
    script.write_text(textwrap.dedent(_UNGUARDED[loader]), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(corpus)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "2000 2000 0\n"  # once: no child ran the script to its end
    if loader == "main thread":
        assert done.stderr == ""
    else:
        assert "reading the remaining 2,000 files in this process" in done.stderr
        assert 'needs an `if __name__ == "__main__":` guard' in done.stderr


def test_topic_name_is_the_most_common_spelling(
    tmp_path: Path, write_article: WriteArticle
) -> None:
    write_article("cs/a1.md", 1, subject="Computer science")
    write_article("cs/a2.md", 2, subject="Computer Science")
    write_article("cs/a3.md", 3, subject="Computer Science")
    topic = _load(tmp_path).topics["computer-science"]
    assert topic.name == "Computer Science"
    assert topic.spellings == (("Computer Science", 2), ("Computer science", 1))
    assert (topic.files, topic.article_ids) == (3, (1, 2, 3))


def test_graph_is_frozen(seeds_graph: KnowledgeGraph) -> None:
    with pytest.raises(nx.NetworkXError):
        seeds_graph.graph.add_edge(1, 2)
    with pytest.raises(TypeError):
        seeds_graph.articles[0] = seeds_graph.articles[-1]  # type: ignore[index]


def _attribute_changes(graph: nx.DiGraph[int], source: int, target: int) -> list[str]:
    """The ways of changing the attributes of one edge and one node that worked."""
    edge = graph.edges[source, target]
    node = graph.nodes[source]
    changes: dict[str, Callable[[], object]] = {
        "edges[s, t][key] =": lambda: edge.__setitem__("rank", 99),
        "adj[s][t][key] =": lambda: graph.adj[source][target].__setitem__("rank", 99),
        "pred[t][s][key] =": lambda: graph.pred[target][source].__setitem__("rank", 99),
        "get_edge_data() new key": lambda: graph.get_edge_data(source, target).__setitem__(
            "weight", 1
        ),
        "del": lambda: edge.__delitem__("rank"),
        "update": lambda: edge.update(rank=99),
        "|=": lambda: edge.__ior__({"rank": 99}),
        "setdefault": lambda: edge.setdefault("weight", 1),
        "pop": lambda: edge.pop("rank"),
        "popitem": lambda: edge.popitem(),
        "clear": lambda: edge.clear(),
        "nodes[n][key] =": lambda: node.__setitem__("colour", "red"),
        "nodes[n].update": lambda: node.update(colour="red"),
    }
    worked = []
    for name, change in changes.items():
        try:
            change()
        except TypeError:
            continue
        worked.append(name)
    return worked


def test_edge_and_node_attributes_cannot_be_changed(
    seeds_graph: KnowledgeGraph, tmp_path: Path
) -> None:
    source, target, data = next(iter(seeds_graph.graph.edges(data=True)))
    before = dict(data)
    assert _attribute_changes(seeds_graph.graph, source, target) == []
    assert seeds_graph.graph.edges[source, target] == before
    assert seeds_graph.link(source, target).rank == before["rank"]  # type: ignore[union-attr]
    assert seeds_graph.graph.nodes[source] == {}
    # A graph read back from its snapshot (pickled) is as read-only as a built one.
    load_cached(seeds_graph.root, tmp_path)
    warm = load_snapshot(seeds_graph.root, tmp_path)
    assert warm is not None
    for graph in (warm.graph, pickle.loads(pickle.dumps(seeds_graph.graph))):
        assert _attribute_changes(graph, source, target) == []
        assert list(graph.edges(data=True)) == list(seeds_graph.graph.edges(data=True))


def test_the_graph_holds_the_links_in_order_with_one_attribute_dict_per_rank() -> None:
    """Every edge of a rank shares one read-only dict, every node another; each
    adjacency lists the links in the order the build was given them."""

    def resolved(sources: list[int], targets: list[int], ranks: list[int]) -> Resolved:
        return Resolved(sources, targets, ranks, {}, (), {}, {}, frozenset())

    graph = _graph(
        [1, 2, 3, 4], resolved([3, 1, 3, 2, 1, 3], [1, 3, 2, 3, 2, 4], [2, 1, 1, 7, 2, 2])
    )
    assert list(graph.edges(data="rank")) == [(1, 3, 1), (1, 2, 2), (2, 3, 7), (3, 1, 2),
                                             (3, 2, 1), (3, 4, 2)]  # fmt: skip
    assert list(graph.pred[3]) == [1, 2]
    assert list(graph.pred[2]) == [3, 1]
    by_rank: dict[int, set[int]] = {}
    for source, target, data in graph.edges(data=True):
        by_rank.setdefault(data["rank"], set()).add(id(data))
        assert graph.pred[target][source] is data
    assert {rank: len(ids) for rank, ids in by_rank.items()} == {1: 1, 2: 1, 7: 1}
    assert len({id(graph.nodes[n]) for n in graph}) == 1
    assert _attribute_changes(graph, 3, 1) == []
    with pytest.raises(ValueError, match="as many targets and ranks"):
        _graph([1, 2], resolved([1], [2], []))


def test_copies_of_the_graph_are_plain_and_changeable(seeds_graph: KnowledgeGraph) -> None:
    """networkx's own copies give ordinary dicts: the read-only ones stay with the build."""
    graph = seeds_graph.graph
    source, target = next(iter(graph.edges))
    for copied, edge in (
        (graph.copy(), (source, target)),
        (nx.DiGraph(graph), (source, target)),
        (graph.subgraph([source, target]).copy(), (source, target)),
        (graph.reverse(copy=True), (target, source)),
        (graph.to_undirected(), (source, target)),
    ):
        copied.edges[edge]["rank"] = 99
        copied.nodes[source]["colour"] = "red"
    assert graph.edges[source, target]["rank"] != 99
    assert graph.nodes[source] == {}
    deep = copy.deepcopy(graph)  # a frozen graph's copy: frozen and read-only too
    assert list(deep.edges(data=True)) == list(graph.edges(data=True))
    assert _attribute_changes(deep, source, target) == []


def test_indexes(seeds_graph: KnowledgeGraph) -> None:
    seed = seeds_graph.articles[168904]
    assert seeds_graph.by_url[seed.url or ""] == 168904
    assert 168904 in seeds_graph.by_topic["biology"]
    assert 168904 in seeds_graph.by_keyword["atp"]
    assert all(list(ids) == sorted(ids) for ids in list(seeds_graph.by_keyword.values())[:50])


def test_seed_file_alone_gives_its_reference_figures(tmp_path: Path) -> None:
    (tmp_path / "biology").mkdir()
    (tmp_path / "biology" / SEED_FILE.name).write_bytes(SEED_FILE.read_bytes())
    summary = summarize(load_graph(tmp_path)).as_dict()
    assert {key: summary[key] for key in SEED_ALONE} == SEED_ALONE


SEEDS_FIGURES = {
    "files": 53, "parse_errors": 0, "articles": 52, "duplicate_articles": 1,
    "references": 120, "links": 113, "broken_links": 3, "wanted_articles": 2,
    "stale_links": 1, "url_mismatches": 1, "duplicate_links": 2, "self_links": 1,
    "orphans": 6, "dead_ends": 2, "isolated": 1, "topics": 6, "max_in_degree": 6,
}  # fmt: skip


def test_seeds_corpus_figures_match_its_readme(seeds_graph: KnowledgeGraph) -> None:
    """The figures seeds/README.md states, each finding planted where it says."""
    summary = summarize(seeds_graph).as_dict()
    assert {key: summary[key] for key in SEEDS_FIGURES} == SEEDS_FIGURES
    assert seeds_graph.articles[73010].topics == ("mathematics", "physics")
    # Its copies list 61005 at ranks 1 (mathematics/) and 3 (physics/): the lowest wins.
    assert seeds_graph.link(73010, 61005) == Link(
        source=73010,
        target=61005,
        rank=1,
        paths=tuple(c.path for c in seeds_graph.articles[73010].copies),
    )
    assert seeds_graph.findings_of(FindingKind.STALE_LINK)[0].target == 168910
    assert seeds_graph.findings_of(FindingKind.SELF_LINK)[0].article == 61007
    assert set(seeds_graph.wanted) == {168999, 52099}
    assert -1 in seeds_graph.articles
    assert seeds_graph.articles[84008].no_index
    assert seeds_graph.articles[168917].score is None
    assert seeds_graph.topics["computer-science"].name == "Computer Science"


def test_a_derived_value_is_computed_once_however_many_ask_at_once() -> None:
    kg = load_graph(SEEDS)
    calls: list[int] = []
    started = threading.Event()

    def slow() -> int:
        calls.append(1)
        started.set()
        time.sleep(0.2)  # long enough for every other thread to ask meanwhile
        return 42

    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(kg.derived, "slow", slow)
        started.wait(5)
        others = [pool.submit(kg.derived, "slow", slow) for _ in range(7)]
        assert [f.result() for f in (first, *others)] == [42] * 8
    assert len(calls) == 1
    assert "slow" not in kg.computing  # no lock kept once the value is


def test_a_failed_derivation_leaves_the_next_one_to_try_again() -> None:
    kg = load_graph(SEEDS)

    def fails() -> int:
        raise DeadlineExceeded("past its deadline")

    with pytest.raises(DeadlineExceeded):
        kg.derived("flaky", fails)
    assert kg.derived("flaky", lambda: 7) == 7


def test_a_request_waiting_for_a_derivation_keeps_its_deadline() -> None:
    kg = load_graph(SEEDS)
    release = threading.Event()
    started = threading.Event()

    def blocked() -> int:
        started.set()
        release.wait(10)
        return 1

    with ThreadPoolExecutor(1) as pool:
        computing = pool.submit(kg.derived, "blocked", blocked)
        started.wait(5)
        begun = time.monotonic()
        with within(0.2), pytest.raises(DeadlineExceeded):
            kg.derived("blocked", blocked)
        assert time.monotonic() - begun < 2
        release.set()
        assert computing.result() == 1


def test_the_keyword_index_lists_each_article_under_its_case_folded_keywords(
    dev_graph: KnowledgeGraph,
) -> None:
    """As a dict of lists would: keywords in the order first met (articles by id), ids ascending."""
    expected: dict[str, list[int]] = {}
    for article_id in sorted(dev_graph.articles):
        keywords = dev_graph.articles[article_id].keywords
        for keyword in dict.fromkeys(k.casefold() for k in keywords):
            expected.setdefault(keyword, []).append(article_id)
    index = LazyIndex(partial(_keyword_index, dev_graph.articles))
    assert list(index) == list(expected)
    assert {keyword: list(ids) for keyword, ids in index.items()} == expected
    # Folding is at work: some keywords are written in capitals.
    assert any(k != k.casefold() for a in dev_graph.articles.values() for k in a.keywords)


def test_the_keyword_index_is_built_once_on_first_use() -> None:
    """Built lazily, once, by the first thread to ask; the same as built at once; pickled built."""
    kg = load_graph(SEEDS)
    assert isinstance(kg.by_keyword, LazyIndex)
    assert 168904 in kg.by_keyword["atp"]
    builds: list[int] = []
    started = threading.Barrier(8)

    def build() -> tuple[list[str], array[int], array[int]]:
        builds.append(1)
        time.sleep(0.05)  # long enough for every thread to arrive meanwhile
        return ["atp"], array("q", [0, 2]), array("q", [1, 2])

    index = LazyIndex(build)

    def ask() -> tuple[int, ...]:
        started.wait()
        return tuple(index.get("atp", ()))

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: ask(), range(8)))
    assert answers == [(1, 2)] * 8
    assert builds == [1]
    again = pickle.loads(pickle.dumps(index))
    assert isinstance(again, LazyIndex)
    assert {term: tuple(ids) for term, ids in again.items()} == {"atp": (1, 2)}
    assert len(again["atp"]) == 2
    assert list(again["atp"]) == [1, 2]
    assert 2 in again["atp"]
    assert "adp" not in again
    assert again.get("adp") is None


def test_a_load_leaves_its_objects_to_the_oldest_collector_generation() -> None:
    """Not to the youngest, whose next collection would walk them all (and the next one's again)."""
    # What an earlier test froze (a server's graph) would make the load leave them alone.
    gc.unfreeze()
    gc.collect()  # every generation's count at 0: no collection is due during the load
    kg = load_graph(SEEDS)
    oldest = {id(found) for found in gc.get_objects(generation=2)}
    assert all(id(article) in oldest for article in kg.articles.values())
    # Something frozen (a served graph) stays frozen: the load does not thaw it.
    gc.freeze()
    frozen = gc.get_freeze_count()
    load_graph(SEEDS)
    assert gc.get_freeze_count() == frozen
    gc.unfreeze()

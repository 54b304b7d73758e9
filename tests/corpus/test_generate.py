"""Tests of ``generate_corpus``: deterministic, readable by both readers, shaped like the real corpus."""

from __future__ import annotations

import statistics
from pathlib import Path

import networkx as nx
import pytest

from kgraph.corpus import parse_article, parse_article_fast
from kgraph.corpus.generate import GeneratedCorpus, generate_corpus
from kgraph.graph import KnowledgeGraph, Summary, load_graph, summarize

COUNT = 4_000
SEED = 11


def corpus_files(root: Path) -> list[tuple[bytes, str]]:
    return [
        (path.read_bytes(), path.relative_to(root).as_posix())
        for path in sorted(root.rglob("*.md"))
    ]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GeneratedCorpus]:
    root = tmp_path_factory.mktemp("generated") / "corpus"
    return root, generate_corpus(COUNT, root, seed=SEED)


@pytest.fixture(scope="module")
def generated_graph(generated: tuple[Path, GeneratedCorpus]) -> KnowledgeGraph:
    return load_graph(generated[0], workers=1)


@pytest.fixture(scope="module")
def summary(generated_graph: KnowledgeGraph) -> Summary:
    return summarize(generated_graph)


# --- determinism and the target folder --------------------------------------------------


def test_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    first = generate_corpus(1_500, tmp_path / "a", seed=3)
    second = generate_corpus(1_500, tmp_path / "b", seed=3)
    other = generate_corpus(1_500, tmp_path / "c", seed=4)
    files = corpus_files(tmp_path / "a")
    assert files == corpus_files(tmp_path / "b")
    assert len(files) == first.files
    assert (first.files, first.bytes) == (second.files, second.bytes)
    assert files != corpus_files(tmp_path / "c")
    assert other.articles == first.articles


def test_an_empty_folder_is_used(tmp_path: Path) -> None:
    corpus = generate_corpus(10, tmp_path, seed=1)
    assert corpus.root == str(tmp_path)
    assert len(corpus_files(tmp_path)) == corpus.files >= 10


def test_a_folder_with_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(ValueError, match="not empty"):
        generate_corpus(10, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "corpus"
    target.write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match="not a folder"):
        generate_corpus(10, target)


@pytest.mark.parametrize("count", [0, -5])
def test_a_count_below_one_is_refused(tmp_path: Path, count: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        generate_corpus(count, tmp_path / "corpus")
    assert not (tmp_path / "corpus").exists()


@pytest.mark.parametrize("count", [1, 2, 7, 60, 250])
def test_small_corpora_load(tmp_path: Path, count: int) -> None:
    corpus = generate_corpus(count, tmp_path / "corpus", seed=count)
    kg = load_graph(tmp_path / "corpus", workers=1)
    assert not kg.diagnostics
    assert len(kg.articles) == count
    assert summarize(kg).references == corpus.references


# --- what ingest finds --------------------------------------------------------------------


def test_every_file_loads_and_the_figures_are_the_generators(
    generated: tuple[Path, GeneratedCorpus], summary: Summary
) -> None:
    _, corpus = generated
    assert summary.parse_errors == 0
    assert summary.articles == corpus.articles == COUNT
    found = summary.as_dict()
    for name in (
        "files", "duplicate_articles", "topics", "references", "broken_links",
        "wanted_articles", "stale_links", "url_mismatches", "duplicate_links", "self_links",
    ):  # fmt: skip
        assert found[name] == getattr(corpus, name), name


def test_link_faults_come_at_the_real_rates(summary: Summary) -> None:
    references = summary.references
    assert 2.2 <= references / summary.articles <= 3.2
    assert 0.02 <= summary.stale_links / references <= 0.045
    assert 0.004 <= summary.broken_links / references <= 0.02
    assert 0.01 <= summary.url_mismatches / references <= 0.03
    assert 0.06 <= summary.duplicate_links / references <= 0.10
    assert summary.wanted_articles < summary.broken_links  # missing articles named twice or more


def test_the_link_graph_is_fragmented(summary: Summary) -> None:
    articles = summary.articles
    assert 0.15 <= summary.isolated / articles <= 0.40
    assert 0.01 <= summary.largest_component / articles <= 0.15
    assert summary.components > summary.isolated  # the rest is in many small pieces
    assert summary.dead_ends > summary.isolated
    assert summary.orphans > summary.isolated


def test_most_pieces_are_small_clusters(generated_graph: KnowledgeGraph) -> None:
    sizes = sorted(len(c) for c in nx.weakly_connected_components(generated_graph.graph))
    clusters = [size for size in sizes if size > 1]
    in_clusters = sum(size for size in clusters if size <= 30)
    assert in_clusters / len(generated_graph.articles) > 0.5
    assert sizes[-2] <= 100  # one giant piece, then small ones


def test_in_degree_is_heavy_tailed(generated_graph: KnowledgeGraph, summary: Summary) -> None:
    in_degrees = [degree for _, degree in generated_graph.graph.in_degree()]
    mean = statistics.fmean(in_degrees)
    assert 1.7 <= mean <= 2.8
    assert summary.max_in_degree >= 10 * mean


def test_subjects_are_many_and_of_very_different_sizes(generated_graph: KnowledgeGraph) -> None:
    topics = generated_graph.topics
    sizes = sorted((len(topic.article_ids) for topic in topics.values()), reverse=True)
    assert len(topics) >= 30
    assert sizes[0] >= 50 * sizes[-1]
    assert 0.1 <= sizes[0] / COUNT <= 0.35
    two_ways = [topic.key for topic in topics.values() if len(topic.spellings) == 2]
    assert "computer-science" in two_ways
    assert len(two_ways) >= 3
    assert generated_graph.topics["computer-science"].name == "Computer Science"


def test_one_small_folder_has_negative_ids(generated_graph: KnowledgeGraph) -> None:
    negative = [a for a in generated_graph.articles.values() if a.id < 0]
    assert negative
    assert {a.topics for a in negative} == {("college-basketball",)}
    assert sorted(a.id for a in negative) == list(range(-len(negative), 0))


def test_copies_sit_in_a_second_folder_with_their_own_url(generated_graph: KnowledgeGraph) -> None:
    copied = [a for a in generated_graph.articles.values() if len(a.copies) > 1]
    assert 0.015 <= len(copied) / COUNT <= 0.05
    for article in copied:
        assert len(set(article.topics)) == len(article.copies)
        assert len(set(article.urls)) == len(article.copies)
        for copy in article.copies:
            assert copy.url == f"/learn/{copy.topic}/questions/{Path(copy.path).stem}"
    # Some copies list other related articles than their first copy does.
    assert generated_graph.differing_copies & {a.id for a in copied}


def test_paths_urls_and_titles_are_unique(generated_graph: KnowledgeGraph) -> None:
    copies = [c for a in generated_graph.articles.values() for c in a.copies]
    assert len({c.url for c in copies}) == len(copies)
    assert len({a.title for a in generated_graph.articles.values()}) == COUNT
    for copy in copies:
        assert copy.path.split("/")[0] == copy.topic


def test_keywords_have_a_heavy_tail(generated_graph: KnowledgeGraph) -> None:
    articles = generated_graph.articles.values()
    assert 10 <= statistics.fmean(len(a.keywords) for a in articles) <= 14
    shared = sorted((len(ids) for ids in generated_graph.by_keyword.values()), reverse=True)
    assert shared[0] >= 0.02 * COUNT  # a few keywords on many articles
    assert statistics.median(shared) <= 2  # most on one or two


def test_answers_look_like_the_real_ones(generated_graph: KnowledgeGraph) -> None:
    articles = list(generated_graph.articles.values())
    lengths = [len(generated_graph.answer_raw(a.id)) for a in articles]
    assert min(lengths) >= 100
    assert max(lengths) <= 5_000
    assert 1_500 <= statistics.median(lengths) <= 3_500
    assert all(
        "\n" not in generated_graph.answer_raw(a.id) and "\\n" in generated_graph.answer_raw(a.id)
        for a in articles
        if len(generated_graph.answer_raw(a.id)) > 600
    )
    latex = sum(
        "$" in generated_graph.answer_raw(a.id) or "\\[" in generated_graph.answer_raw(a.id)
        for a in articles
    )
    assert 0.05 <= latex / COUNT <= 0.3
    assert any(
        "\\neq" in generated_graph.answer_raw(a.id) or "\\nabla" in generated_graph.answer_raw(a.id)
        for a in articles
    )
    assert any(
        "\\\\\\n" in generated_graph.answer_raw(a.id) for a in articles
    )  # a LaTeX row break, then a line break
    assert 0.005 <= sum("```" in generated_graph.answer_raw(a.id) for a in articles) / COUNT <= 0.05


def test_scores_dates_and_other_fields(
    generated: tuple[Path, GeneratedCorpus], generated_graph: KnowledgeGraph
) -> None:
    files = corpus_files(generated[0])
    articles = list(generated_graph.articles.values())
    no_score = sum(b"\nscore: " not in data for data, _ in files)
    assert 0.15 <= no_score / len(files) <= 0.25
    scores = [a.score for a in articles if a.score is not None]
    assert statistics.mode(scores) == -1.0
    assert all(a.date is not None for a in articles)
    assert 0 < sum(a.no_index for a in articles) < 0.01 * COUNT
    blank = sum(b"\n\n---\n\n&nbsp;" in data for data, _ in files)
    assert 0 < blank < 0.1 * len(files)
    assert all(data.endswith(b"\n---\n\n&nbsp;") for data, _ in files)


# --- both readers -------------------------------------------------------------------------


def test_both_readers_agree_and_the_fast_one_reads_nearly_all(
    generated: tuple[Path, GeneratedCorpus],
) -> None:
    files = corpus_files(generated[0])
    answered = 0
    for data, path in files:
        fast = parse_article_fast(data, path)
        if fast is not None:
            assert fast == parse_article(data, path), path
            answered += 1
    assert answered / len(files) >= 0.99


# --- against the real corpus --------------------------------------------------------------


def _shape(kg: KnowledgeGraph) -> dict[str, float]:
    """The figures compared: shares of articles or references, means and the tail."""
    summary = summarize(kg)
    articles = summary.articles
    in_degrees = sorted((d for _, d in kg.graph.in_degree()), reverse=True)
    return {
        "articles": articles,
        "files": summary.files,
        "references": summary.references,
        "links": summary.links,
        "isolated share": summary.isolated / articles,
        "largest piece share": summary.largest_component / articles,
        "pieces per article": summary.components / articles,
        "mean out-degree": summary.links / articles,
        "max in-degree": summary.max_in_degree,
        "in-degree, top 1% from": in_degrees[articles // 100],
        "stale share": summary.stale_links / summary.references,
        "duplicate share": summary.duplicate_links / summary.references,
        "copied share": summary.duplicate_articles / articles,
        "keywords per article": statistics.fmean(len(a.keywords) for a in kg.articles.values()),
    }


@pytest.mark.corpus
def test_shape_is_near_the_dev_corpus(dev_graph: KnowledgeGraph, tmp_path: Path) -> None:
    real = _shape(dev_graph)
    generate_corpus(len(dev_graph.articles), tmp_path / "corpus", seed=0)
    made = _shape(load_graph(tmp_path / "corpus"))
    print(f"\n{'figure':<24}{'dev corpus':>12}{'generated':>12}")
    for name, value in real.items():
        print(f"{name:<24}{value:>12.3f}{made[name]:>12.3f}")
    bands = {
        "isolated share": (0.6, 1.4),
        "mean out-degree": (0.75, 1.33),
        "max in-degree": (0.5, 2.5),
        "in-degree, top 1% from": (0.5, 2.0),
        "keywords per article": (0.85, 1.15),
        "largest piece share": (0.3, 3.0),
        "duplicate share": (0.6, 1.6),
    }
    for name, (low, high) in bands.items():
        ratio = made[name] / real[name]
        assert low <= ratio <= high, f"{name}: {made[name]:.3f} generated, {real[name]:.3f} real"

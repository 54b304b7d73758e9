"""The one loader: the folder listed once, from the snapshot or the files, prepared, saved."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest
from test_search import _same_index

from conftest import SEEDS
from kgraph.corpus import list_corpus
from kgraph.errors import CorpusNotFound, EmptyCorpus
from kgraph.graph import load_graph, summarize
from kgraph.graph.curation import every_wanted_suggested
from kgraph.graph.load import load_corpus, prepare
from kgraph.graph.search import build_index, indexed, search_index
from kgraph.graph.snapshot import save_snapshot, snapshot_path


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SEEDS, tmp_path / "corpus"))


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def listings(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every listing of the corpus folder itself (its subfolders are part of the same walk)."""
    seen: list[str] = []
    scandir = os.scandir
    top = os.path.realpath(corpus)

    def counting(path: str = ".") -> object:
        if not isinstance(path, int) and os.path.realpath(os.fspath(path)) == top:
            seen.append(os.fspath(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", counting)
    return seen


def test_a_cold_load_lists_the_folder_once(corpus: Path, cache: Path, listings: list[str]) -> None:
    loaded = load_corpus(corpus, cache_dir=cache)
    assert (loaded.warm, loaded.unsaved, len(listings)) == (False, True, 1)
    assert loaded.save() == snapshot_path(corpus, cache)
    assert len(listings) == 1  # the fingerprint of the listing was kept, not taken again


def test_a_warm_load_lists_the_folder_once(corpus: Path, cache: Path, listings: list[str]) -> None:
    load_corpus(corpus, cache_dir=cache).save()
    listings.clear()
    warm = load_corpus(corpus, cache_dir=cache)
    assert (warm.warm, warm.unsaved, len(listings)) == (True, False, 1)


def test_a_load_without_snapshots_lists_the_folder_once(
    corpus: Path, cache: Path, listings: list[str]
) -> None:
    loaded = load_corpus(corpus, cache=False, cache_dir=cache)
    assert (loaded.warm, loaded.fingerprint, len(listings)) == (False, None, 1)
    assert loaded.save() is None
    assert not cache.exists()


def test_a_listing_given_is_not_taken_again(corpus: Path, cache: Path, listings: list[str]) -> None:
    listing = list_corpus(corpus)
    listings.clear()
    load_corpus(corpus, cache_dir=cache, listing=listing)
    assert listings == []


def test_warm_and_cold_give_the_same_graph_prepared(corpus: Path, cache: Path) -> None:
    cold = load_corpus(corpus, cache_dir=cache)
    cold.save()
    warm = load_corpus(corpus, cache_dir=cache)
    assert warm.warm
    assert warm.fingerprint == cold.fingerprint
    assert summarize(warm.graph) == summarize(cold.graph) == summarize(load_graph(corpus))
    # What prepare builds came with the snapshot: the same derived values, warm or cold.
    assert set(warm.graph.memo) == set(cold.graph.memo)
    assert warm.graph.memo


def test_a_reload_reads_the_files(corpus: Path, cache: Path) -> None:
    load_corpus(corpus, cache_dir=cache).save()
    again = load_corpus(corpus, cache_dir=cache, warm=False)
    assert (again.warm, again.unsaved) == (False, True)


def test_a_changed_corpus_is_read_again(corpus: Path, cache: Path) -> None:
    load_corpus(corpus, cache_dir=cache).save()
    (corpus / list_corpus(corpus).paths[0]).unlink()
    changed = load_corpus(corpus, cache_dir=cache)
    assert not changed.warm
    assert len(changed.graph.files) == len(load_graph(SEEDS).files) - 1


def test_unprepared_until_saved(corpus: Path, cache: Path) -> None:
    loaded = load_corpus(corpus, cache_dir=cache, prepared=False)
    assert loaded.graph.memo == {}
    loaded.save()
    assert loaded.graph.memo  # a snapshot always holds what the server prepares


def test_an_early_save_writes_the_graph_before_every_wanted_suggestion(
    corpus: Path, cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    loaded = load_corpus(corpus, cache_dir=cache)
    with caplog.at_level(logging.INFO, logger="kgraph.graph.snapshot"):
        assert loaded.save(early=True) == snapshot_path(corpus, cache)
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        f"wrote the graph snapshot {snapshot_path(corpus, cache)}"
    ] * 2
    warm = load_corpus(corpus, cache_dir=cache)
    assert (warm.warm, warm.unsaved, every_wanted_suggested(warm.graph)) == (True, False, True)


def test_a_warm_start_from_an_early_snapshot_completes_it(corpus: Path, cache: Path) -> None:
    # What the first of an early save's two writes leaves, when the server stops before the second.
    cold = load_corpus(corpus, cache_dir=cache)
    prepare(cold.graph)
    save_snapshot(cold.graph, corpus, fingerprint=cold.fingerprint, cache_dir=cache)
    warm = load_corpus(corpus, cache_dir=cache)
    assert (warm.warm, warm.unsaved, every_wanted_suggested(warm.graph)) == (True, True, False)
    assert warm.save(early=True) == snapshot_path(corpus, cache)
    again = load_corpus(corpus, cache_dir=cache)
    assert (again.warm, again.unsaved, every_wanted_suggested(again.graph)) == (True, False, True)


def test_errors_are_the_readers(tmp_path: Path) -> None:
    with pytest.raises(CorpusNotFound):
        load_corpus(tmp_path / "missing", cache_dir=tmp_path / "cache")
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmptyCorpus):
        load_corpus(tmp_path / "empty", cache_dir=tmp_path / "cache")


def test_a_load_searched_hands_over_the_index_built_elsewhere(
    corpus: Path, cache: Path, elsewhere_from_one: Path
) -> None:
    # As `kgraph check` loads: not prepared, but its suggestions need search's index,
    # built by another process from when the articles are known.
    loaded = load_corpus(corpus, cache_dir=cache, prepared=False, searched=True)
    try:
        assert loaded.searching is not None
        assert loaded.searching.elsewhere
        assert not indexed(loaded.graph)
        loaded.searched()
        assert indexed(loaded.graph)
        _same_index(search_index(loaded.graph), build_index(load_graph(corpus)))
        assert loaded.save() == snapshot_path(corpus, cache)  # its bridges and keywords too
        assert loaded.searching.process is None  # done with: ended
    finally:
        loaded.close()
    assert not list(elsewhere_from_one.iterdir())  # its folder removed
    warm = load_corpus(corpus, cache_dir=cache, prepared=False, searched=True)
    assert (warm.warm, warm.searching) == (True, None)  # a snapshot brings the index
    assert indexed(warm.graph)


def test_a_load_searched_and_closed_unasked_ends_the_process(
    corpus: Path, elsewhere_from_one: Path
) -> None:
    loaded = load_corpus(corpus, cache=False, prepared=False, searched=True)
    assert loaded.searching is not None
    process = loaded.searching.process
    assert process is not None
    pid = process.pid
    assert pid is not None
    loaded.close()
    assert loaded.searching.process is None
    with pytest.raises(ProcessLookupError):  # ended and reaped
        os.kill(pid, 0)
    assert not list(elsewhere_from_one.iterdir())

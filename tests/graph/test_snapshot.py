"""The warm start: a snapshot of the graph, reused only while the corpus is unchanged."""

from __future__ import annotations

import builtins
import logging
import os
import pickle
import shutil
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest

import kgraph
import kgraph.corpus.fingerprint as fingerprints
import kgraph.graph.load
import kgraph.snapshot_files
from conftest import SEEDS, load_cached
from kgraph.corpus import CorpusListing, discover, list_corpus
from kgraph.errors import LoadCancelled
from kgraph.graph import KnowledgeGraph, load_graph, snapshot
from kgraph.graph.load import load_corpus
from kgraph.graph.snapshot import (
    fingerprint,
    load_snapshot,
    save_snapshot,
    snapshot_path,
)
from kgraph.graph.table import ArticleTable
from kgraph.snapshot_files import LIST_ELSEWHERE_FROM, stated_files

_DATA = (
    "root",
    "articles",
    "wanted",
    "topics",
    "findings",
    "diagnostics",
    "files",
    "references",
    "by_url",
    "by_topic",
    "by_keyword",
    "findings_by_article",
    "link_paths",
    "references_by_topic",
    "differing_copies",
)


def assert_same_graph(warm: KnowledgeGraph, cold: KnowledgeGraph) -> None:
    """Field by field, and the graph node by node, edge by edge, in the same order."""
    for name in _DATA:
        assert getattr(warm, name) == getattr(cold, name), name
    for name in _DATA[2:4] + _DATA[9:]:
        assert type(getattr(warm, name)) is type(getattr(cold, name)), name
    # The same records in the same order (a snapshot's as columns, see below).
    assert list(warm.articles.items()) == list(cold.articles.items())
    assert list(warm.graph.nodes(data=True)) == list(cold.graph.nodes(data=True))
    assert list(warm.graph.edges(data=True)) == list(cold.graph.edges(data=True))
    assert [list(warm.graph.pred[n]) for n in warm.graph] == [
        list(cold.graph.pred[n]) for n in cold.graph
    ]
    assert warm.graph.graph == cold.graph.graph
    assert nx.is_frozen(warm.graph)
    # The answers, mapped from the snapshot's own region rather than unpickled.
    assert warm.answers.index == cold.answers.index
    assert [warm.answer_raw(i) for i in warm.articles] == [
        cold.answer_raw(i) for i in cold.articles
    ]
    assert warm.graph.frozen  # type: ignore[attr-defined]
    with pytest.raises(nx.NetworkXError, match="Frozen"):
        warm.graph.add_edge(1, 2)
    with pytest.raises(TypeError):
        warm.articles[0] = warm.articles[next(iter(warm.articles))]  # type: ignore[index]
    assert warm.memo == {}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A copy of the seeds to change."""
    return Path(shutil.copytree(SEEDS, tmp_path / "corpus"))


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def test_warm_load_equals_cold_load_on_the_seeds(seeds_graph: KnowledgeGraph, cache: Path) -> None:
    cold = load_cached(SEEDS, cache)
    assert snapshot_path(SEEDS, cache).is_file()
    warm = load_cached(SEEDS, cache)
    assert warm is not cold
    # Read as columns (a dozen arrays to unpickle), built as records.
    assert isinstance(warm.articles, ArticleTable)
    assert not isinstance(cold.articles, ArticleTable)
    assert_same_graph(warm, seeds_graph)
    assert_same_graph(cold, seeds_graph)
    assert warm.loaded_at > cold.loaded_at


def test_a_killed_writers_temporary_file_is_removed_by_the_next_save(
    seeds_graph: KnowledgeGraph, cache: Path
) -> None:
    # A writer killed mid-write (docker stop past its grace) leaves its
    # temporary file; one still being written is touched as it goes.
    target = snapshot_path(SEEDS, cache)
    cache.mkdir()
    abandoned = cache / f".{target.stem}.killed.tmp"
    live = cache / f".{target.stem}.writing.tmp"
    other = cache / ".another-corpus.killed.tmp"
    for path in (abandoned, live, other):
        path.write_bytes(b"half a snapshot")
    long_ago = time.time() - snapshot.ABANDONED_AFTER - 60
    for path in (abandoned, other):
        os.utime(path, (long_ago, long_ago))
    assert save_snapshot(seeds_graph, SEEDS, cache_dir=cache) == target
    assert not abandoned.exists()
    assert live.exists()
    assert other.exists()  # another corpus's: its own next save removes it
    assert sorted(path.name for path in cache.iterdir()) == sorted(
        [target.name, live.name, other.name]
    )


def test_snapshot_lives_outside_the_corpus(corpus: Path, cache: Path) -> None:
    path = snapshot_path(corpus, cache)
    assert path.parent == cache
    assert path.suffix == ".kgsnap"
    load_cached(corpus, cache)
    assert path.is_file()
    assert not path.resolve().is_relative_to(corpus.resolve())
    assert sorted(p.name for p in cache.iterdir()) == [path.name]  # no temporary left


def test_cache_folder_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KGRAPH_CACHE_DIR", str(tmp_path / "a"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "b"))
    monkeypatch.setenv("HOME", str(tmp_path / "c"))
    assert snapshot_path(SEEDS).parent == tmp_path / "a"
    assert snapshot_path(SEEDS, tmp_path / "d").parent == tmp_path / "d"
    monkeypatch.delenv("KGRAPH_CACHE_DIR")
    assert snapshot_path(SEEDS).parent == tmp_path / "b" / "kgraph"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert snapshot_path(SEEDS).parent == tmp_path / "c" / ".cache" / "kgraph"


def test_one_snapshot_per_corpus_folder(corpus: Path, cache: Path) -> None:
    assert snapshot_path(corpus, cache) != snapshot_path(SEEDS, cache)
    assert snapshot_path(corpus, cache) == snapshot_path(corpus / ".." / "corpus", cache)


def _first(corpus: Path) -> Path:
    return corpus / discover(corpus)[0]


def _edit_same_size(corpus: Path) -> None:
    path = _first(corpus)
    text = path.read_bytes()
    at = text.index(b"title: ") + len(b"title: ")
    changed = text[:at] + (b"Y" if text[at : at + 1] != b"Y" else b"Z") + text[at + 1 :]
    before = path.stat()
    path.write_bytes(changed)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    assert path.stat().st_size == before.st_size


def _add(corpus: Path) -> None:
    shutil.copy(_first(corpus), corpus / "new-article.md")


def _remove(corpus: Path) -> None:
    _first(corpus).unlink()


def _rename(corpus: Path) -> None:
    path = _first(corpus)
    path.rename(path.with_name("renamed-" + path.name))


@pytest.mark.parametrize("change", [_add, _remove, _rename, _edit_same_size])
def test_a_changed_corpus_invalidates_the_snapshot(
    corpus: Path, cache: Path, change: object
) -> None:
    load_cached(corpus, cache)
    before = fingerprint(corpus)
    assert load_snapshot(corpus, cache) is not None
    change(corpus)  # type: ignore[operator]
    assert fingerprint(corpus) != before
    assert load_snapshot(corpus, cache) is None
    rebuilt = load_cached(corpus, cache)
    assert_same_graph(rebuilt, load_graph(corpus))
    warm = load_snapshot(corpus, cache)
    assert warm is not None
    assert_same_graph(warm, rebuilt)


@pytest.mark.parametrize("listed_elsewhere", [False, True])
@pytest.mark.parametrize("change", [_add, _remove, _rename, _edit_same_size])
def test_a_snapshot_read_while_its_files_are_stat_ed_is_trusted_once_they_agree(
    corpus: Path,
    cache: Path,
    change: object,
    listed_elsewhere: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A child process stats the files (past 20,000 of them) while the loader
    # unpickles the snapshot, or lists them too (past 20,000 files when the
    # snapshot was made); the seeds are few: every count is enough.
    monkeypatch.setattr(fingerprints, "_CHILD_FROM", 1)
    if listed_elsewhere:
        monkeypatch.setattr(kgraph.snapshot_files, "LIST_ELSEWHERE_FROM", 1)
    listings: list[object] = []

    def listing(root: Path) -> CorpusListing:
        listings.append(root)
        return list_corpus(root)

    monkeypatch.setattr(kgraph.graph.load, "list_corpus", listing)
    load_cached(corpus, cache)
    listings.clear()
    warm = load_corpus(corpus, cache_dir=cache, prepared=False)
    assert warm.warm
    assert warm.fingerprint == fingerprint(corpus)
    # Listed by the child alone, or by this process.
    assert len(listings) == (0 if listed_elsewhere else 1)
    change(corpus)  # type: ignore[operator]
    cold = load_corpus(corpus, cache_dir=cache, prepared=False)
    assert not cold.warm
    assert cold.fingerprint == fingerprint(corpus) != warm.fingerprint
    assert_same_graph(cold.graph, load_graph(corpus))


def test_a_snapshot_of_another_listing_is_refused_before_it_is_read(
    corpus: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    load_cached(corpus, cache)
    _add(corpus)
    with fingerprints.FingerprintElsewhere(corpus) as elsewhere:
        # The child prints the listing's half first; a load asks without waiting for it.
        deadline = time.monotonic() + 30
        while elsewhere.listing is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert elsewhere.listing == fingerprint(corpus)[:32]
        # Refused on its header: no byte of the payload is checked or unpickled.
        monkeypatch.setattr(
            kgraph.snapshot_files, "checksum", lambda *a: pytest.fail("the payload was read")
        )
        monkeypatch.setattr(snapshot, "JudgedAhead", lambda *a: pytest.fail("answers checked"))
        with caplog.at_level(logging.INFO, logger="kgraph.graph.snapshot"):
            assert load_snapshot(corpus, cache, fingerprint=elsewhere) is None
        assert elsewhere.result() == fingerprint(corpus)
    assert "made for fingerprint" in caplog.text


def test_a_fingerprint_child_gives_nothing_once_closed_nor_for_other_code(corpus: Path) -> None:
    elsewhere = fingerprints.FingerprintElsewhere(corpus)
    elsewhere.close()
    with pytest.raises(LoadCancelled):
        elsewhere.result()
    # Asked for the fingerprint of another code than its own, the child refuses.
    other = subprocess.run(
        [sys.executable, "-P", "-m", "kgraph.corpus.fingerprint", str(corpus), "0" * 32],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert other.returncode == 3
    assert other.stdout == b""


@pytest.mark.parametrize(
    ("first_lines", "files"),
    [
        (b"KGSNAP\n" + b'{"format": 9, "files": 25000}\n', 25000),
        (b"KGSNAP\n" + b'{"format": 8}\n', None),  # made before the count was kept
        (b"KGSNAP\n" + b'{"files": true}\n', None),
        (b"KGSNAP\n" + b'{"files": "many"}\n', None),
        (b"KGSNAP\n" + b"[" * 3000 + b"\n", None),  # nested past the stack
        (b"KGSNAP\n" + b"not json\n", None),
        (b"NOTSNAP\n" + b'{"files": 25000}\n', None),
        (b"", None),
    ],
)
def test_the_files_a_snapshot_header_states(
    corpus: Path, cache: Path, first_lines: bytes, files: int | None
) -> None:
    assert stated_files(corpus, cache) is None  # no snapshot yet
    path = snapshot_path(corpus, cache)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(first_lines)
    assert stated_files(corpus, cache) == files
    # A large corpus's warm start is fingerprinted by a child; any other by the load.
    ahead = kgraph.snapshot_files.fingerprint_ahead(corpus, cache)
    assert (ahead is not None) == (files is not None and files >= LIST_ELSEWHERE_FROM)
    if ahead is not None:
        with ahead:
            assert ahead.result() == fingerprint(corpus)


def test_a_child_process_and_this_one_take_the_same_fingerprint(
    corpus: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    here = fingerprint(corpus)
    monkeypatch.setattr(fingerprints, "_CHILD_FROM", 1)
    by_child = fingerprint(corpus)
    assert by_child == here
    with fingerprints.Fingerprinting(corpus) as taking:
        assert taking.listing == here[:32]
        assert len(here) == 64
    # Listed and stat-ed by a child, from the corpus folder's name alone.
    with fingerprints.FingerprintElsewhere(corpus) as elsewhere:
        assert elsewhere.listing is None
        assert elsewhere.result() == here
    # A child that fails (here: one that exits at once, with status 1): taken here.
    monkeypatch.setattr(sys, "executable", shutil.which("false"))
    with caplog.at_level(logging.WARNING, logger="kgraph.corpus.fingerprint"):
        assert fingerprint(corpus) == here
    assert "the fingerprint's child process failed (exit 1)" in caplog.text
    caplog.clear()
    with (
        caplog.at_level(logging.WARNING, logger="kgraph.corpus.fingerprint"),
        fingerprints.FingerprintElsewhere(corpus) as elsewhere,
    ):
        assert elsewhere.result() == here
    assert "the fingerprint's child process failed (exit 1)" in caplog.text
    # Or no child at all.
    monkeypatch.setattr(sys, "executable", str(corpus / "no-such-python"))
    assert fingerprint(corpus) == here
    _edit_same_size(corpus)
    monkeypatch.undo()
    changed = fingerprint(corpus)
    assert changed != here
    assert changed[:32] == here[:32]


def test_a_cold_load_takes_its_fingerprint_from_its_reading_without_waiting(
    corpus: Path, cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The child stat-ing the files here never answers: a cold load does not wait for
    # it, since its reading stats each file as it opens it (4.4 s at 1M files).
    stuck = tmp_path / "stuck-python"
    stuck.write_text("#!/bin/sh\nexec sleep 60\n")
    stuck.chmod(0o755)
    monkeypatch.setattr(fingerprints, "_CHILD_FROM", 1)
    monkeypatch.setattr(sys, "executable", str(stuck))
    started = time.monotonic()
    cold = load_corpus(corpus, cache_dir=cache, prepared=False)
    assert time.monotonic() - started < 20
    assert not cold.warm
    save_snapshot(cold.graph, corpus, fingerprint=cold.fingerprint, cache_dir=cache)
    monkeypatch.undo()
    # The fingerprint the stat pass takes, and the snapshot trusted by the next start.
    assert cold.fingerprint == fingerprint(corpus)
    warm = load_corpus(corpus, cache_dir=cache, prepared=False)
    assert warm.warm
    assert_same_graph(warm.graph, cold.graph)
    # A file changed once read: the next start reads the files again.
    _edit_same_size(corpus)
    assert not load_corpus(corpus, cache_dir=cache, prepared=False).warm


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX files")
def test_a_cold_load_of_a_listing_with_refused_files_takes_every_files_stat(
    corpus: Path, cache: Path
) -> None:
    # A pipe is listed and never opened (so never stat-ed by the reading): the
    # fingerprint is then the stat pass's, waited for.
    os.mkfifo(corpus / "pipe.md")
    cold = load_corpus(corpus, cache_dir=cache, prepared=False)
    assert "pipe.md" in cold.graph.files
    assert cold.fingerprint == fingerprint(corpus)
    save_snapshot(cold.graph, corpus, fingerprint=cold.fingerprint, cache_dir=cache)
    assert load_corpus(corpus, cache_dir=cache, prepared=False).warm


def test_a_child_that_ends_before_taking_its_paths_is_reported_by_its_exit_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Paths past a pipe's buffer (64 kB): writing them fails once the child
    # has ended, and the child's exit status is what the warning gives.
    for number in range(400):
        (tmp_path / f"{number:04d}-{'x' * 200}.md").write_text("")
    here = fingerprint(tmp_path)
    monkeypatch.setattr(fingerprints, "_CHILD_FROM", 1)
    monkeypatch.setattr(sys, "executable", shutil.which("false"))
    with caplog.at_level(logging.WARNING, logger="kgraph.corpus.fingerprint"):
        assert fingerprint(tmp_path) == here
    assert "the fingerprint's child process failed (exit 1)" in caplog.text


def test_a_new_kgraph_version_invalidates_the_snapshot(
    corpus: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_cached(corpus, cache)
    before = fingerprint(corpus)
    monkeypatch.setattr(kgraph, "__version__", kgraph.__version__ + ".post1")
    assert fingerprint(corpus) != before
    assert load_snapshot(corpus, cache) is None
    load_cached(corpus, cache)
    assert load_snapshot(corpus, cache) is not None


def test_the_fingerprint_reads_no_file(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = fingerprint(corpus)
    opened: list[str] = []
    real_open = os.open

    def spying_open(path: Any, *args: Any, **kwargs: Any) -> int:
        opened.append(os.fsdecode(path))
        return real_open(path, *args, **kwargs)

    # Every way Python opens a file ends in os.open (builtins.open included).
    monkeypatch.setattr(os, "open", spying_open)
    monkeypatch.setattr(builtins, "open", lambda *a, **k: pytest.fail(f"opened {a[0]}"))
    assert fingerprint(corpus) == before
    assert not [path for path in opened if path.endswith(".md")]


def test_a_change_to_kgraphs_code_invalidates_the_snapshot(
    corpus: Path, cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = Path(shutil.copytree(Path(kgraph.__file__).parent, tmp_path / "code" / "kgraph"))
    monkeypatch.setattr(kgraph, "__file__", str(package / "__init__.py"))
    fingerprints.code_digest.cache_clear()
    load_cached(corpus, cache)
    before = fingerprint(corpus)
    assert load_snapshot(corpus, cache) is not None
    source = package / "graph" / "build.py"
    source.write_text(source.read_text() + "\n# an edit that kept the version\n")
    fingerprints.code_digest.cache_clear()
    assert fingerprint(corpus) != before
    assert load_snapshot(corpus, cache) is None
    monkeypatch.undo()
    fingerprints.code_digest.cache_clear()


def _random(path: Path) -> None:
    path.write_bytes(os.urandom(path.stat().st_size))


def _truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _foreign_pickle(path: Path) -> None:
    path.write_bytes(pickle.dumps({"not": "a graph"}, protocol=5))


def _flipped_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))


def _flipped_pickle_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(b"KGSNAP\n") + 1024 + 40] ^= 0xFF  # past the header, in the pickle
    path.write_bytes(bytes(data))


def _header_only(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: data.index(b"\n", len(b"KGSNAP\n")) + 1])


def _other_schema(path: Path) -> None:
    data = path.read_bytes()
    at = data.index(b'"schema": "') + len(b'"schema": "')
    path.write_bytes(data[:at] + (b"0" if data[at : at + 1] != b"0" else b"1") + data[at + 1 :])


@pytest.mark.parametrize(
    "damage",
    [
        _random,
        _truncated,
        _empty,
        _foreign_pickle,
        _flipped_byte,
        _flipped_pickle_byte,
        _header_only,
        _other_schema,
    ],
)
@pytest.mark.parametrize("judged_ahead", [False, True])
def test_a_damaged_snapshot_is_ignored_then_rebuilt(
    corpus: Path,
    cache: Path,
    damage: object,
    judged_ahead: bool,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    load_cached(corpus, cache)
    path = snapshot_path(corpus, cache)
    damage(path)  # type: ignore[operator]
    # Or opened and checksummed ahead of the load, as kgraph serve does for a large corpus.
    monkeypatch.setattr(kgraph.snapshot_files, "LIST_ELSEWHERE_FROM", 1)
    ahead = kgraph.snapshot_files.fingerprint_ahead(corpus, cache) if judged_ahead else None
    if ahead is not None:
        # Opened and checksummed ahead when its header says where its regions are.
        intact = damage in (_flipped_byte, _flipped_pickle_byte, _other_schema)
        assert (ahead.snapshot is not None) == intact
    with caplog.at_level(logging.INFO, logger="kgraph.graph.snapshot"):
        assert load_snapshot(corpus, cache, fingerprint=ahead) is None
    if ahead is not None:
        assert ahead.take_snapshot() is None  # the load took it, and closed it
        ahead.close()
    assert "ignoring the graph snapshot" in caplog.text
    # Judged before it is unpickled, the answers as the pickle loads.
    said = {
        _flipped_pickle_byte: "damaged payload (its digest differs)",
        _flipped_byte: "damaged answers (their digest differs)",
    }
    assert said.get(damage, "") in caplog.text  # type: ignore[call-overload]
    rebuilt = load_cached(corpus, cache)
    assert_same_graph(rebuilt, load_graph(corpus))
    warm = load_snapshot(corpus, cache)
    assert warm is not None
    assert_same_graph(warm, rebuilt)


def test_a_snapshot_judged_ahead_is_read_from_the_file_checksummed_without_a_second_pass(
    corpus: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cold = load_cached(corpus, cache)
    monkeypatch.setattr(kgraph.snapshot_files, "LIST_ELSEWHERE_FROM", 1)
    path = snapshot_path(corpus, cache)
    ahead = kgraph.snapshot_files.fingerprint_ahead(corpus, cache)
    assert isinstance(ahead, kgraph.snapshot_files.FingerprintAhead)
    judged = ahead.take_snapshot()
    assert judged is not None
    assert judged.path == path
    handle = judged.handle
    # Checksummed by its thread, both regions; then the path is replaced by
    # something else (a snapshot being written over it, say): the load reads the
    # file it opened, and takes no checksum again.
    assert len(judged.regions) == 2
    for begin, end in judged.regions:
        assert judged.checksum(begin, end).startswith("crc32:")
    path.rename(path.with_suffix(".old"))
    path.write_bytes(b"KGSNAP\n" + b'{"files": 1}\n')
    monkeypatch.setattr(
        kgraph.snapshot_files, "checksum", lambda *a: pytest.fail("checksummed twice")
    )
    monkeypatch.setattr(ahead, "take_snapshot", lambda: judged)
    with ahead:
        warm = load_snapshot(corpus, cache, fingerprint=ahead)
    assert warm is not None
    assert_same_graph(warm, cold)
    assert handle.closed  # by the load, its answers mapped
    assert warm.answers.raw(next(iter(warm.articles))) == cold.answers.raw(
        next(iter(cold.articles))
    )


def test_a_fingerprint_closed_before_its_load_closes_its_snapshot(
    corpus: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_cached(corpus, cache)
    monkeypatch.setattr(kgraph.snapshot_files, "LIST_ELSEWHERE_FROM", 1)
    ahead = kgraph.snapshot_files.fingerprint_ahead(corpus, cache)
    assert isinstance(ahead, kgraph.snapshot_files.FingerprintAhead)
    judged = ahead.snapshot
    assert judged is not None
    ahead.close()
    assert judged.handle.closed
    assert ahead.snapshot is None
    assert ahead.take_snapshot() is None
    # A snapshot of another path than the load's is closed, not read.
    other = kgraph.snapshot_files.fingerprint_ahead(corpus, cache)
    assert isinstance(other, kgraph.snapshot_files.FingerprintAhead)
    misplaced = other.snapshot
    assert misplaced is not None
    misplaced.path = cache / "elsewhere.kgsnap"
    with other:
        assert load_snapshot(corpus, cache, fingerprint=other) is not None
    assert misplaced.handle.closed


@pytest.mark.parametrize("begin", [0, 1, 4095, 4096, 5000])
def test_a_checksum_is_the_crc_of_the_bytes_mapped_a_window_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, begin: int
) -> None:
    data = os.urandom(3 * 65536 + 123)
    path = tmp_path / "data"
    path.write_bytes(data)
    monkeypatch.setattr(kgraph.snapshot_files, "_WINDOW", 65536)
    with open(path, "rb") as handle:
        handle.seek(7)
        for end in (begin, begin + 1, 65536, 2 * 65536 + 17, len(data)):
            if end < begin:
                continue
            expected = f"crc32:{zlib.crc32(data[begin:end]):08x}"
            assert kgraph.snapshot_files.checksum(handle, begin, end) == expected
        assert kgraph.snapshot_files.checksum(handle, begin, len(data) + 1) == "short"
        stop = threading.Event()
        stop.set()
        assert kgraph.snapshot_files.checksum(handle, begin, len(data), stop) == "stopped"
        assert handle.tell() == 7  # its position kept


def test_a_vanished_corpus_has_no_snapshot(corpus: Path, cache: Path) -> None:
    kg = load_cached(corpus, cache)
    shutil.rmtree(corpus)
    assert load_snapshot(corpus, cache) is None
    assert save_snapshot(kg, corpus, cache_dir=cache) is None


def test_a_snapshot_others_may_write_is_refused(corpus: Path, cache: Path) -> None:
    load_cached(corpus, cache)
    snapshot_path(corpus, cache).chmod(0o666)
    assert load_snapshot(corpus, cache) is None


def test_an_unwritable_cache_folder_still_loads(
    corpus: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Below a regular file no folder can be made, whoever runs the tests (root too).
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    cache = blocker / "cache"
    with caplog.at_level(logging.WARNING, logger="kgraph.graph.snapshot"):
        kg = load_cached(corpus, cache)
    assert_same_graph(kg, load_graph(corpus))
    assert "could not write the graph snapshot" in caplog.text
    assert save_snapshot(kg, corpus, cache_dir=cache) is None
    assert load_snapshot(corpus, cache) is None


def test_the_fingerprint_is_the_one_taken_before_the_build(corpus: Path, cache: Path) -> None:
    stale = fingerprint(corpus)
    kg = load_graph(corpus)
    _add(corpus)  # changed while it was being read
    assert save_snapshot(kg, corpus, fingerprint=stale, cache_dir=cache) is not None
    assert load_snapshot(corpus, cache) is None


@pytest.mark.corpus
def test_warm_load_equals_cold_load_on_the_dev_corpus(
    dev_corpus: Path, dev_graph: KnowledgeGraph, tmp_path: Path
) -> None:
    # Speed is measured by benchmarks/bench_suite.py, not asserted here.
    cache = tmp_path / "cache"
    cold = load_cached(dev_corpus, cache)
    assert snapshot_path(dev_corpus, cache).is_file()
    warm = load_cached(dev_corpus, cache)
    assert warm is not cold
    assert_same_graph(warm, dev_graph)
    assert_same_graph(cold, dev_graph)
    # Past 20,000 files a warm start has a child process list the folder.
    assert stated_files(dev_corpus, cache) == len(dev_graph.files) >= LIST_ELSEWHERE_FROM
    loaded = load_corpus(dev_corpus, cache_dir=cache, prepared=False)
    assert loaded.warm
    assert loaded.fingerprint == fingerprint(dev_corpus)
    assert_same_graph(loaded.graph, dev_graph)


def test_derived_values_are_kept_with_the_snapshot(corpus: Path, cache: Path) -> None:
    from kgraph.graph import queries
    from kgraph.graph.curation import curation_report, prepare_suggestions

    kg = load_graph(corpus)
    report = curation_report(kg)
    index = queries.title_words(kg)
    prepare_suggestions(kg)  # numpy arrays: pickle hands their buffers over as they are
    kg.derived("a large array", lambda: np.arange(1_000_000))
    assert save_snapshot(kg, corpus, cache_dir=cache) is not None
    warm = load_snapshot(corpus, cache)
    assert warm is not None
    assert set(warm.memo) == set(kg.memo)
    # Taken from the snapshot, not computed again: the very values kept.
    assert curation_report(warm) is warm.memo[("curation", None)]
    assert curation_report(warm).summary == report.summary
    assert curation_report(warm).orphans == report.orphans
    assert queries.title_words(warm) == index
    kept: Any = warm.memo["a large array"]
    assert np.array_equal(kept, np.arange(1_000_000))


def test_a_derived_value_that_does_not_pickle_is_left_out(corpus: Path, cache: Path) -> None:
    kg = load_graph(corpus)
    kg.derived("a lock", threading.Lock)
    kg.derived("a number", lambda: 42)
    assert save_snapshot(kg, corpus, cache_dir=cache) is not None
    warm = load_snapshot(corpus, cache)
    assert warm is not None
    assert warm.memo == {}
    assert_same_graph(warm, kg)

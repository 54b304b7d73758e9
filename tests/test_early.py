"""Tests of ``kgraph.early``: the corpus listed and stat-ed by a child process.

What the child gives must be what this process would have taken itself: the
same listing, and the same fingerprint from its stats; when the child cannot
give it, the listing is taken here, errors and all.
"""

from __future__ import annotations

import os
import stat
from contextlib import closing
from pathlib import Path

import pytest

from conftest import SEEDS, WriteArticle
from kgraph.corpus import list_corpus
from kgraph.early import EarlyListing
from kgraph.errors import CorpusNotFound
from kgraph.graph.snapshot import Fingerprinting, fingerprint


def _base(root: Path) -> bytes:
    return os.fsencode(str(root.resolve()))


@pytest.mark.parametrize("stats", [True, False])
def test_the_childs_listing_is_the_folders(stats: bool) -> None:
    with closing(EarlyListing(SEEDS, stats=stats)) as early:
        listing = early.listing()

    assert listing == list_corpus(SEEDS)
    assert (listing.stats is not None) is stats


def test_files_refused_and_folders_unlisted_come_as_listed_here(
    tmp_path: Path, write_article: WriteArticle
) -> None:
    write_article("a/one.md", 1)
    write_article("b/two.md", 2)
    root = tmp_path / "corpus"
    os.mkfifo(root / "a" / "pipe.md")
    (root / "a" / "caf\udce9.md").write_bytes(b"---\n")
    shut = root / "shut"
    shut.mkdir()
    shut.chmod(0)
    try:
        with closing(EarlyListing(root, stats=True)) as early:
            listing = early.listing()
        here = list_corpus(root)
    finally:
        shut.chmod(stat.S_IRWXU)

    assert listing == here
    assert listing.paths == ("a/one.md", "b/two.md")
    assert len(listing.refused) == 2
    # Run as root, the closed folder is listed all the same; otherwise it is said.
    assert len(listing.unlisted) == (0 if os.geteuid() == 0 else 1)


def test_the_fingerprint_from_the_childs_stats_is_the_one_taken_here(
    tmp_path: Path, write_article: WriteArticle
) -> None:
    for n in range(30):
        write_article(f"t{n % 3}/a{n}.md", n)
    root = tmp_path / "corpus"
    with closing(EarlyListing(root, stats=True)) as early:
        listing = early.listing()
        assert listing.stats is not None
        with Fingerprinting(root, listing=listing) as taking:
            taken = taking.result()

    assert taken == fingerprint(root)
    # Asked again, and for another folder: the digest is given for the folder it is of only.
    assert listing.stats(_base(root)) is not None
    assert listing.stats(_base(tmp_path)) is None


def test_a_change_after_the_childs_stats_gives_another_fingerprint(
    tmp_path: Path, write_article: WriteArticle
) -> None:
    path = write_article("t/a.md", 1)
    root = tmp_path / "corpus"
    with closing(EarlyListing(root, stats=True)) as early:
        listing = early.listing()
        with Fingerprinting(root, listing=listing) as taking:
            before = taking.result()
    path.write_text(path.read_text() + "\nmore\n")

    assert before != fingerprint(root)


def test_a_folder_that_is_none_is_refused_as_listing_it_here_refuses_it(tmp_path: Path) -> None:
    with (
        closing(EarlyListing(tmp_path / "gone", stats=True)) as early,
        pytest.raises(CorpusNotFound),
    ):
        early.listing()


def test_a_child_that_cannot_start_leaves_the_listing_to_this_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.executable", "/nonexistent/python")
    with closing(EarlyListing(SEEDS, stats=True)) as early:
        listing = early.listing()

    assert listing == list_corpus(SEEDS)
    assert listing.stats is None

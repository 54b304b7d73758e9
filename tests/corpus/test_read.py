"""Tests of what the reader refuses to open: non-regular files, links out of the corpus, odd names."""

from __future__ import annotations

import multiprocessing
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from conftest import article_text
from kgraph.corpus import discover, list_corpus, read_corpus, read_file
from kgraph.corpus.facts import facts_digest
from kgraph.corpus.parse import MAX_FILE_BYTES
from kgraph.errors import LoadCancelled
from kgraph.model import INT_MAX, INT_MIN, ArticleFile, Diagnostic

needs_posix = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX files")


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A corpus of two articles: ``bio/a.md`` (id 1) and ``bio/b.md`` (id 2)."""
    root = tmp_path / "corpus"
    (root / "bio").mkdir(parents=True)
    (root / "bio" / "a.md").write_text(article_text(1, title="A?"))
    (root / "bio" / "b.md").write_text(article_text(2, title="B?"))
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A readable article outside the corpus, in a folder of its own."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.md").write_text(article_text(99, title="Secret?"))
    return folder


def read(root: Path) -> tuple[list[int], dict[str, tuple[int | None, str]], tuple[str, ...]]:
    """Article ids, diagnostics by path, and files of ``read_corpus(root)``."""
    reading = read_corpus(root, workers=1)
    diagnostics = {d.path: (d.line, d.message) for d in reading.diagnostics}
    return sorted(a.id for a in reading.articles), diagnostics, reading.files


@needs_posix
def test_a_fifo_is_reported_and_never_waited_on(corpus: Path) -> None:
    os.mkfifo(corpus / "bio" / "x.md")
    started = time.monotonic()

    ids, diagnostics, files = read(corpus)

    assert time.monotonic() - started < 5
    assert ids == [1, 2]
    assert files == ("bio/a.md", "bio/b.md", "bio/x.md")
    line, message = diagnostics["bio/x.md"]
    assert line is None
    assert message.startswith("not a regular file but a named pipe (FIFO): not read")
    # Asked for by itself (a listing made before the pipe was), it is not waited on either.
    result = read_file(corpus, "bio/x.md")
    assert isinstance(result, Diagnostic)
    assert "named pipe" in result.message


@needs_posix
def test_a_socket_and_a_folder_named_md_are_reported(corpus: Path) -> None:
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(os.fspath(corpus / "bio" / "s.md"))
        (corpus / "bio" / "folder.md").mkdir()
        (corpus / "bio" / "folder.md" / "c.md").write_text(article_text(3))

        ids, diagnostics, files = read(corpus)

    assert ids == [1, 2, 3]  # a folder named *.md is a folder: its files are read
    assert "bio/s.md" in files
    assert diagnostics["bio/s.md"][1].startswith("not a regular file but a socket")
    result = read_file(corpus, "bio/folder.md")
    assert isinstance(result, Diagnostic)
    assert result.message.startswith("not a regular file but a folder")


@needs_posix
def test_a_file_swapped_for_a_fifo_after_the_listing_is_refused(corpus: Path) -> None:
    (corpus / "bio" / "b.md").unlink()
    os.mkfifo(corpus / "bio" / "b.md")

    result = read_file(corpus, "bio/b.md")

    assert isinstance(result, Diagnostic)
    assert "named pipe" in result.message


@needs_posix
def test_links_out_of_the_corpus_are_refused(corpus: Path, outside: Path) -> None:
    (corpus / "bio" / "out.md").symlink_to(outside / "secret.md")
    (corpus / "bio" / "relative-out.md").symlink_to(Path("..", "..", "outside", "secret.md"))
    # A link to a link inside, which itself leads out.
    (corpus / "bio" / "hop.md").symlink_to(outside / "secret.md")
    (corpus / "bio" / "via-hop.md").symlink_to("hop.md")
    (corpus / "elsewhere").symlink_to(outside, target_is_directory=True)

    ids, diagnostics, files = read(corpus)

    assert ids == [1, 2]  # the secret (id 99) is never read
    for path in ("bio/out.md", "bio/relative-out.md", "bio/hop.md", "bio/via-hop.md"):
        line, message = diagnostics[path]
        assert line is None
        assert "leads outside the corpus folder: not read" in message, path
    # The target, a path of the server outside the corpus, is not quoted.
    assert "outside/secret.md" not in diagnostics["bio/relative-out.md"][1]
    assert diagnostics["elsewhere"] == (
        None,
        "symbolic link to a folder outside the corpus folder: not followed",
    )
    assert "elsewhere" not in files
    assert "Secret" not in repr(diagnostics)


@needs_posix
@pytest.mark.parametrize("workers", [1, 2])
def test_a_reading_takes_the_stats_a_fingerprint_takes(
    corpus: Path, outside: Path, workers: int
) -> None:
    # A snapshot's fingerprint digests every listed file's stat; a cold load takes
    # that digest from its reading, each file stat-ed as it is opened. Every kind of
    # file a listing names and a reading does not read counts as the stat pass sees it.
    (corpus / "bio" / "out.md").symlink_to(outside / "secret.md")  # a link out: refused
    (corpus / "bio" / "in.md").symlink_to("a.md")  # a link inside: read
    (corpus / "bio" / "big.md").write_bytes(b"x" * (MAX_FILE_BYTES + 1))  # over the limit
    (corpus / "bio" / "bad.md").write_text("no front matter\n")  # a parse error
    (corpus / "more").mkdir()
    for number in range(3, 19):  # two processes read several chunks each
        (corpus / "more" / f"{number}.md").write_text(article_text(number, title=f"{number}?"))
    listing = list_corpus(corpus)
    (corpus / "bio" / "b.md").unlink()  # gone since the listing
    (corpus / "more" / "3.md").unlink()
    os.mkfifo(corpus / "more" / "3.md")  # swapped for a pipe since the listing
    base = os.fsencode(corpus.resolve())
    paths = [os.fsencode(path) for path in listing.paths]

    reading = read_corpus(corpus, workers=workers, listing=listing)

    assert len(reading.diagnostics) == 5
    assert reading.facts == facts_digest(base, paths)
    # Each file's own stat counts: one file touched gives another digest.
    os.utime(corpus / "more" / "4.md", ns=(1, 1))
    again = read_corpus(corpus, workers=workers, listing=listing)
    assert again.facts == facts_digest(base, paths) != reading.facts


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_files_opened_ahead_are_all_read_and_closed(corpus: Path) -> None:
    # A reader holds a few files open ahead of the one it reads (their bytes asked
    # for meanwhile): every one is read in order, and none is left open, the last
    # ones, an oversized one and a broken one included.
    (corpus / "more").mkdir()
    for number in range(3, 103):
        (corpus / "more" / f"{number:03d}.md").write_text(article_text(number, title=f"{number}?"))
    (corpus / "more" / "big.md").write_bytes(b"x" * (MAX_FILE_BYTES + 1))
    (corpus / "more" / "bad.md").write_text("no front matter\n")
    before = len(os.listdir("/proc/self/fd"))

    reading = read_corpus(corpus, workers=1)

    assert [a.id for a in reading.articles] == [1, 2, *range(3, 103)]
    assert [d.path for d in reading.diagnostics] == ["more/bad.md", "more/big.md"]
    del reading  # and its answers' spool, a file of its own
    assert len(os.listdir("/proc/self/fd")) == before


@needs_posix
def test_links_that_stay_inside_the_corpus_are_read_as_before(corpus: Path) -> None:
    (corpus / "other").mkdir()
    (corpus / "other" / "copy-of-a.md").symlink_to(Path("..", "bio", "a.md"))
    (corpus / "other" / "absolute.md").symlink_to(corpus / "bio" / "b.md")
    (corpus / "inner").symlink_to(corpus / "bio", target_is_directory=True)

    reading = read_corpus(corpus, workers=1)

    assert reading.diagnostics == ()
    # A linked folder is not followed (it never was): its files are read where they are.
    assert reading.files == ("bio/a.md", "bio/b.md", "other/absolute.md", "other/copy-of-a.md")
    paths = sorted(a.copy.path for a in reading.articles)
    assert paths == list(reading.files)


@needs_posix
def test_the_corpus_folder_itself_may_be_a_link(corpus: Path, tmp_path: Path) -> None:
    link = tmp_path / "current"
    link.symlink_to(corpus, target_is_directory=True)
    (corpus / "bio" / "same.md").symlink_to(corpus / "bio" / "a.md")  # by its real path

    ids, diagnostics, _ = read(link)

    assert (ids, diagnostics) == ([1, 1, 2], {})


@needs_posix
def test_a_folder_swapped_for_a_link_after_the_listing_is_not_followed(
    corpus: Path, outside: Path
) -> None:
    (corpus / "bio" / "a.md").unlink()
    (corpus / "bio" / "b.md").unlink()
    (corpus / "bio").rmdir()
    (corpus / "bio").symlink_to(outside, target_is_directory=True)

    result = read_file(corpus, "bio/secret.md")

    assert isinstance(result, Diagnostic)
    assert result.message.startswith("cannot read file")


@needs_posix
def test_names_that_are_not_utf8_are_reported_escaped_and_never_opened(corpus: Path) -> None:
    named = os.open(os.fsencode(corpus / "bio") + b"/caf\xe9.md", os.O_CREAT | os.O_WRONLY)
    os.write(named, article_text(5).encode())
    os.close(named)
    folder = os.fsencode(corpus) + b"/d\xe9j\xe0"
    os.mkdir(folder)
    inside = os.open(folder + b"/c.md", os.O_CREAT | os.O_WRONLY)
    os.write(inside, article_text(6).encode())
    os.close(inside)

    ids, diagnostics, files = read(corpus)

    assert ids == [1, 2]
    assert diagnostics["bio/caf\\xe9.md"] == (
        None,
        "file name is not UTF-8 (byte 0xe9): not read; rename it with UTF-8 characters",
    )
    assert diagnostics["d\\xe9j\\xe0"] == (
        None,
        "folder name is not UTF-8 (byte 0xe9): not read; rename it with UTF-8 characters",
    )
    assert files == ("bio/a.md", "bio/b.md", "bio/caf\\xe9.md")
    assert discover(corpus) == files
    for path in (*files, *diagnostics):
        path.encode("utf-8")  # every path can be shown, logged and sent as JSON


def test_a_corpus_of_refused_files_only_is_not_empty(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    os.mkfifo(root / "x.md")

    reading = read_corpus(root)

    assert (reading.files, reading.articles) == (("x.md",), ())
    assert [d.path for d in reading.diagnostics] == ["x.md"]


def test_a_cancelled_reading_stops_its_workers(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    for number in range(40):
        (root / f"a{number:02}.md").write_text(article_text(number))
    stop = threading.Event()
    stop.set()
    # Processes of others (a GraphQL schema's validation worker) are not the reading's.
    before = set(multiprocessing.active_children())

    with pytest.raises(LoadCancelled):
        read_corpus(root, workers=2, cancelled=stop.is_set)
    deadline = time.monotonic() + 10
    while set(multiprocessing.active_children()) - before:  # killed, then reaped
        assert time.monotonic() < deadline
        time.sleep(0.01)
    with pytest.raises(LoadCancelled):
        read_corpus(root, workers=1, cancelled=stop.is_set)
    assert len(read_corpus(root, workers=2, cancelled=lambda: False).articles) == 40


def test_read_file_reads_a_regular_file(corpus: Path) -> None:
    result = read_file(corpus, "bio/a.md")

    assert isinstance(result, ArticleFile)
    assert (result.id, result.copy.path) == (1, "bio/a.md")


def test_texts_that_files_repeat_are_one_string_whichever_process_read_them(
    tmp_path: Path,
) -> None:
    # Two reading processes, a file a batch: what every file repeats (the
    # target's title and url in each related entry, subject, topic, keywords)
    # arrives as one string, not one per batch.
    root = tmp_path / "corpus"
    (root / "bio").mkdir(parents=True)
    for number in range(1, 9):
        (root / "bio" / f"{number}.md").write_text(
            article_text(number, url=f"/q/{number}", related=[(1, 9, "/q/nine")])
        )
    reading = read_corpus(root, workers=2)
    assert len(reading.articles) == 8
    # Related entries are kept apart from the records (RelatedSpool).
    assert all(file.copy.related == () for file in reading.articles)
    entries = [reading.related_of(at)[0] for at in range(len(reading.articles))]
    first = entries[0]
    assert (first.rank, first.id, first.url) == (1, 9, "/q/nine")
    assert all(e.url is first.url and e.title is first.title for e in entries)
    assert all(f.copy.subject is reading.articles[0].copy.subject for f in reading.articles)
    keywords = {id(k) for f in reading.articles for k in f.keywords}
    assert len(keywords) == 3


def test_related_entries_kept_apart_are_those_each_file_says(tmp_path: Path) -> None:
    # Read by two processes, entries travel as columns (RelatedSpool): numbers
    # at the bounds, ids out of them, missing ids and urls come back as each
    # file alone reads them.
    root = tmp_path / "corpus"
    (root / "bio").mkdir(parents=True)
    huge = 10**30
    related: dict[int, list[tuple[int, int | None, str | None]]] = {
        1: [(1, 2, "/q/2"), (2, None, "/q/3"), (3, 4, None)],
        2: [(INT_MAX, huge, "/q/1"), (2, INT_MIN, "/q/min")],
        3: [],
        4: [(5, INT_MAX, "/q/max"), (6, -(2**63), "/q/low"), (7, 1, "/q/1")],
    }
    for number, entries in related.items():
        (root / "bio" / f"{number}.md").write_text(
            article_text(number, url=f"/q/{number}", related=entries)
        )
    reading = read_corpus(root, workers=2)
    assert reading.related is not None
    by_path = {file.copy.path: at for at, file in enumerate(reading.articles)}
    assert len(by_path) == 4
    for path, at in by_path.items():
        alone = read_file(root, path)
        assert isinstance(alone, ArticleFile)
        assert reading.related_of(at) == alone.copy.related
    assert [e.rank for e in reading.related_of(by_path["bio/2.md"])] == [2, INT_MAX]
    assert [e.id for e in reading.related_of(by_path["bio/2.md"])] == [INT_MIN, None]
    assert [e.id for e in reading.related_of(by_path["bio/4.md"])] == [INT_MAX, None, 1]
    assert reading.related_of(by_path["bio/3.md"]) == ()
    assert [e.id for e in reading.related_of(by_path["bio/1.md"])] == [2, None, 4]


@needs_posix
def test_a_listing_of_the_first_file_says_whether_the_corpus_holds_any(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    (root / "a" / "b").mkdir(parents=True)
    (root / ".hidden.md").write_text(article_text(1, title="Hidden?"))
    (root / "README.md").write_text("not an article\n")
    (root / "a" / "notes.txt").write_text("not an article\n")
    assert list_corpus(root, first=True).files == ()
    assert list_corpus(root).files == ()
    os.mkfifo(root / "a" / "b" / "pipe.md")  # refused, never read: still an article file
    first = list_corpus(root, first=True)
    assert first.files == ("a/b/pipe.md",)
    assert first.paths == ()
    for number in range(5):
        (root / "a" / f"{number}.md").write_text(article_text(number + 2, title=f"{number}?"))
    first = list_corpus(root, first=True)
    whole = list_corpus(root)
    assert len(first.files) == 1
    assert set(first.files) <= set(whole.files)
    assert len(whole.files) == 6

"""Find and read the article files of a corpus folder (the I/O side of ``corpus/``).

Only what lies in the corpus folder is read, and only regular files: a named
pipe, a device or a socket named ``*.md`` is reported and never opened (a pipe
would block its reader for good), and a symbolic link is read only when it
ends inside the folder. A file name that is not UTF-8 is reported and never
opened either: the watch of the folder cannot name such a file, and reading it
would make the very events it cannot name.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import multiprocessing
import os
import stat
import sys
import tempfile
import threading
import weakref
from array import array
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from contextlib import suppress
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import BinaryIO

from kgraph.corpus.columns import FileColumns
from kgraph.corpus.facts import facts_of
from kgraph.corpus.fast import EntryFields, FileFields, parse_fields, record_of
from kgraph.corpus.parse import MAX_FILE_BYTES, parse_article
from kgraph.errors import ArticleParseError, CorpusNotFound, EmptyCorpus, LoadCancelled
from kgraph.model import ArticleFile, Diagnostic, RelatedEntry, shared_text

__all__ = [
    "NO_ENTRY_ID",
    "Cancelled",
    "CorpusListing",
    "CorpusReading",
    "Progress",
    "RelatedSpool",
    "discover",
    "display_path",
    "list_corpus",
    "read_corpus",
    "read_file",
    "start_method",
]

logger = logging.getLogger(__name__)

#: Called as ``progress(files_done, files_total)`` while a corpus is read.
Progress = Callable[[int, int], None]
#: Asked while a corpus is read: ``True`` stops the reading (:class:`LoadCancelled`).
Cancelled = Callable[[], bool]

# Below this many files a process pool costs more than it saves.
_PARALLEL_FROM = 2_000
_CHUNK = 500
# Chunks given to the reading processes ahead of the one awaited, per process.
_AHEAD = 3
# Files a reader holds open ahead of the one it reads, their bytes on their way in.
_READ_AHEAD = 16
# How often a reader waiting on its workers asks whether it was cancelled.
_POLL_SECONDS = 0.2

# Never blocks (a pipe opens at once), never follows a last symlink (those are
# checked first), never takes a terminal as the controlling one.
_FILE_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
_FOLDER_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
# Folders opened relative to their parent's descriptor, none through a symlink:
# a folder swapped for a link between the listing and the reading is not followed.
_BY_DESCRIPTOR = os.open in os.supports_dir_fd and bool(_NO_FOLLOW)
# Folder descriptors one reader keeps open at most (a chunk spans a few folders).
_OPEN_FOLDERS = 32

_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


class AnswerSpool:
    """The answers of a reading's files, one after another in an unnamed file.

    Answers are most of a corpus's bytes: a reading writes them here as they
    come from its reading processes instead of holding them (47 MB of the dev
    corpus, half a gigabyte at 200,000 articles) while the graph is built;
    ``starts[i]:ends[i]`` are the bytes of the answer of the reading's
    ``articles[i]``, whose own ``answer_utf8`` is then empty. The file is
    closed with the last reference to the spool.
    """

    __slots__ = ("__weakref__", "ends", "file", "size", "starts")

    def __init__(self) -> None:
        self.file: BinaryIO = tempfile.TemporaryFile(prefix="kgraph-answers-")  # noqa: SIM115
        weakref.finalize(self, self.file.close)
        self.size = 0
        self.starts: array[int] = array("q")
        self.ends: array[int] = array("q")

    def add(self, answers: bytes, sizes: Sequence[int]) -> None:
        """Append ``answers``: ``sizes``, the length of each, in order."""
        self.file.write(answers)
        end = self.size
        for size in sizes:
            self.starts.append(end)
            end += size
            self.ends.append(end)
        self.size += len(answers)

    def utf8(self, at: int) -> bytes:
        """The answer of the reading's ``articles[at]``, as UTF-8 bytes."""
        return os.pread(self.file.fileno(), self.ends[at] - self.starts[at], self.starts[at])


# The id of an entry that states none (``None``), in RelatedSpool's column of ids.
NO_ENTRY_ID = -(1 << 63)


class RelatedSpool:
    """The related entries of a reading's files, as columns rather than records.

    An entry as a record of its own (five a file) was held until the graph was
    built, then freed among the records that stay, and the holes it left in the
    heap were never filled again: at 200,000 generated articles 209 MB of the
    550 MB of small objects' arenas were free after a load, 90 MB with the
    entries kept here (and the copies, keyword tuples and dates read kept by
    the graph). Here they are arrays of numbers and lists of strings (shared),
    and :meth:`entries` makes one file's records when the build reads them.
    File ``i``'s entries are ``starts[i]:starts[i + 1]``.
    """

    __slots__ = ("ids", "ranks", "starts", "subjects", "titles", "urls")

    def __init__(self) -> None:
        self.starts = array("q", [0])
        # Ranks and ids lie within GraphQL's Int (parsing refuses the rest,
        # kgraph.model.INT_MIN): 64 bits hold them and the "no id" mark.
        self.ranks = array("q")
        self.ids = array("q")
        self.titles: list[str | None] = []
        self.subjects: list[str | None] = []
        self.urls: list[str | None] = []

    def add(self, entries: Sequence[RelatedEntry]) -> None:
        """Append the entries of the next file."""
        self.add_fields([(e.rank, e.id, e.title, e.subject, e.url) for e in entries])

    def add_fields(self, entries: Sequence[EntryFields]) -> None:
        """Append the entries of the next file, given as their fields (rank, id, title,
        subject, url), their texts shared as :func:`~kgraph.model.related_entry` shares them."""
        for rank, stated, title, subject, url in entries:
            self.ranks.append(rank)
            self.ids.append(NO_ENTRY_ID if stated is None else stated)
            self.titles.append(shared_text(title))
            self.subjects.append(shared_text(subject))
            self.urls.append(shared_text(url))
        self.starts.append(len(self.ranks))

    def extend(self, other: RelatedSpool) -> None:
        """Append the files of ``other`` (read in another process), their strings shared."""
        offset = len(self.ranks)
        self.starts.extend(start + offset for start in other.starts[1:])
        self.ranks.extend(other.ranks)
        self.ids.extend(other.ids)
        # Titles and urls repeat those of the articles named, subjects those of
        # every topic: one string each over the reading, as parsing makes them.
        self.titles.extend(map(shared_text, other.titles))
        self.subjects.extend(map(shared_text, other.subjects))
        self.urls.extend(map(shared_text, other.urls))

    def entries(self, at: int) -> tuple[RelatedEntry, ...]:
        """The related entries of file ``at``, in rank order, as records."""
        found: list[RelatedEntry] = []
        for entry in range(self.starts[at], self.starts[at + 1]):
            stated = self.ids[entry]
            found.append(
                RelatedEntry(
                    self.ranks[entry],
                    None if stated == NO_ENTRY_ID else stated,
                    self.titles[entry],
                    self.subjects[entry],
                    self.urls[entry],
                )
            )
        return tuple(found)


@dataclass(frozen=True, slots=True)
class CorpusReading:
    """What reading a corpus folder gave: every file, read or not.

    ``articles``: the record of each file read, in the listing's order; a
    reading's are columns (:class:`~kgraph.corpus.columns.FileColumns`, which
    makes a record when one is asked for), one made by hand may be records.
    ``answers``: the articles' answers, kept apart (:class:`AnswerSpool`), or
    ``None`` when each article's ``answer_utf8`` holds its own (see :meth:`answer_utf8`).
    ``related``: the files' related entries, kept apart the same way
    (:class:`RelatedSpool`), or ``None`` when each article's copy holds its own
    (see :meth:`related_of`).
    ``facts``: the digest a snapshot's fingerprint takes of the stats of the files
    read (the listing's ``paths``, in order; :func:`kgraph.corpus.facts.facts_digest`),
    each file stat-ed as it was opened, before a byte of it was read.
    """

    root: str
    files: tuple[str, ...]
    articles: Sequence[ArticleFile]
    diagnostics: tuple[Diagnostic, ...]
    answers: AnswerSpool | None = field(default=None, compare=False)
    related: RelatedSpool | None = field(default=None, compare=False)
    facts: str | None = field(default=None, compare=False)

    def answer_utf8(self, at: int) -> bytes:
        """The answer of ``articles[at]``, as UTF-8 bytes, wherever it is kept."""
        if self.answers is None:
            return self.articles[at].answer_utf8
        return self.answers.utf8(at)

    def related_of(self, at: int) -> tuple[RelatedEntry, ...]:
        """The related entries of ``articles[at]``, in rank order, wherever they are kept."""
        if self.related is None:
            return self.articles[at].copy.related
        return self.related.entries(at)


class _Refused(Exception):
    """A file that is not read; the message says why, for the curator to act on."""


def discover(root: str | os.PathLike[str]) -> tuple[str, ...]:
    """List the ``*.md`` files below ``root`` (recursively), relative and sorted.

    ``README.md`` files document a folder and are not articles. Paths use ``/``
    and are sorted as strings, the order that decides which copy of an article
    comes first. Files that are listed but will not be read (not regular
    files, names that are not UTF-8, shown escaped) are listed too; a folder
    that cannot be listed is skipped. :func:`read_corpus` reports both.

    Raises
    ------
    CorpusNotFound
        When ``root`` is not a folder.
    """
    return list_corpus(root).files


def display_path(path: str) -> str:
    """``path`` as text that can be shown anywhere: bytes that are not UTF-8 escaped.

    >>> display_path("caf\\udce9.md")
    'caf\\\\xe9.md'
    """
    if path.isascii():
        return path
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _is_utf8(name: str) -> bool:
    """Whether a listed name is UTF-8 (Python gives other bytes as lone surrogates)."""
    if name.isascii():
        return True
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _not_utf8(path: str, what: str) -> Diagnostic:
    raw = os.fsencode(path)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as err:
        byte = f" (byte 0x{raw[err.start]:02x})"
    else:  # pragma: no cover - only called for names that are not UTF-8
        byte = ""
    return Diagnostic(
        path=display_path(path),
        line=None,
        message=f"{what} name is not UTF-8{byte}: not read; rename it with UTF-8 characters",
    )


@dataclass(frozen=True, slots=True)
class CorpusListing:
    """What one listing of a corpus folder found (see :func:`list_corpus`)."""

    root: str
    #: The files to read, sorted.
    paths: tuple[str, ...]
    #: Files listed but never to be opened (not regular files, names not UTF-8).
    refused: tuple[Diagnostic, ...]
    #: Folders not listed or not followed.
    unlisted: tuple[Diagnostic, ...]

    @property
    def files(self) -> tuple[str, ...]:
        """Every article file listed, read or not, sorted (:func:`discover`'s answer)."""
        if not self.refused:
            return self.paths  # sorted already
        return tuple(sorted((*self.paths, *(d.path for d in self.refused))))


def _inside(folder: str, path: str) -> bool:
    """Whether the resolved ``path`` is ``folder`` (resolved) or lies below it."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def list_corpus(root: str | os.PathLike[str], *, first: bool = False) -> CorpusListing:
    """List the corpus folder ``root`` once: the files to read, those never to be opened,
    and the folders that could not be listed or followed.

    ``first``: stop at the first article file, read or refused (whether the
    corpus holds any: ``kgraph serve`` refuses an empty one before loading).

    A load lists its folder once and hands the listing on (to
    :func:`read_corpus` and to the snapshot's fingerprint), so that what is read
    is what was fingerprinted, and a large folder is walked once.

    Raises
    ------
    CorpusNotFound
        When ``root`` is not a folder.

    Examples
    --------
    >>> listing = list_corpus("seeds")
    >>> len(listing.paths), listing.files == discover("seeds")
    (53, True)
    """
    base = Path(root)
    if not base.is_dir():
        raise CorpusNotFound(str(root))
    top = os.fspath(base)
    real_top: str | None = None
    found: list[str] = []
    refused: list[Diagnostic] = []
    unlisted: list[Diagnostic] = []

    def relative(path: str) -> str:
        return Path(path).relative_to(base).as_posix()

    # A walk of its own, not os.walk: the type of each entry (the listing gives
    # it, no stat) tells regular files from pipes, devices, sockets and links.
    pending = [(top, "")]
    while pending:
        folder, prefix = pending.pop()
        try:
            with os.scandir(folder) as entries:
                listed = list(entries)
        except OSError as err:
            # The folder's files are missing from the corpus: as much a failure
            # to read as a file that cannot be parsed, so never silent.
            unlisted.append(
                Diagnostic(
                    path=relative(err.filename or folder),
                    line=None,
                    message=f"cannot list folder: {err.strerror or err}",
                )
            )
            continue
        for entry in listed:
            name = entry.name
            if name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    if not _is_utf8(name):
                        unlisted.append(_not_utf8(prefix + name, "folder"))
                    else:
                        pending.append((entry.path, prefix + name + "/"))
                    continue
                is_link = entry.is_symlink()
                is_file = not is_link and entry.is_file(follow_symlinks=False)
            except OSError:
                is_link, is_file = False, True  # gone or unreadable: the reader reports it
            article = name.endswith(".md") and name.lower() != "readme.md"
            if is_link and not article:
                # A linked folder is not followed (nor was it ever); one that
                # leads out of the corpus is said, in case it was meant to be read.
                if real_top is None:
                    real_top = os.path.realpath(top)
                target = os.path.realpath(entry.path)
                if os.path.isdir(target) and not _inside(real_top, target):
                    unlisted.append(
                        Diagnostic(
                            path=display_path(prefix + name),
                            line=None,
                            message="symbolic link to a folder outside the corpus folder:"
                            " not followed",
                        )
                    )
                continue
            if not article:
                continue
            path = prefix + name
            if not _is_utf8(name):
                refused.append(_not_utf8(path, "file"))
            elif is_file or is_link:
                found.append(path)  # a link is checked when it is read
            else:
                refused.append(_not_regular(path, entry))
            if first:
                pending.clear()
                break
    return CorpusListing(
        root=top,
        paths=tuple(sorted(found)),
        refused=tuple(refused),
        unlisted=tuple(sorted(unlisted, key=lambda d: d.path)),
    )


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _not_regular(path: str, entry: os.DirEntry[str]) -> Diagnostic:
    try:
        kind = _kind(entry.stat(follow_symlinks=False).st_mode)
    except OSError:
        kind = "not a regular file"
    return Diagnostic(path=path, line=None, message=_not_regular_message(kind))


def _not_regular_message(kind: str) -> str:
    return f"not a regular file but {kind}: not read; replace it with a regular file or remove it"


class _Opener:
    """Opens the files of one corpus folder without leaving it.

    Folders are opened one below the other, never through a symbolic link; a
    file that is a link is opened only when it resolves inside the corpus
    folder, and then checked again on the descriptor itself (where the system
    tells the path of an open file), so that a link changed in between does not
    lead out either.
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self.real_root = os.path.realpath(root)
        self.folders: dict[str, int] = {}

    def close(self) -> None:
        for descriptor in self.folders.values():
            os.close(descriptor)
        self.folders.clear()

    def _folder(self, folder: str) -> int:
        descriptor = self.folders.get(folder)
        if descriptor is not None:
            return descriptor
        if not folder:
            descriptor = os.open(self.root, _FOLDER_FLAGS)  # the corpus may itself be a link
        else:
            parent, _, name = folder.rpartition("/")
            descriptor = os.open(name, _FOLDER_FLAGS | _NO_FOLLOW, dir_fd=self._folder(parent))
        if len(self.folders) >= _OPEN_FOLDERS:
            self.close()
        self.folders[folder] = descriptor
        return descriptor

    def open(self, path: str) -> tuple[int, os.stat_result]:
        """A descriptor of the regular file ``path`` (relative, with ``/``), and its stat.

        Raises
        ------
        _Refused
            When it leads out of the corpus folder or is not a regular file.
        OSError
            When it cannot be opened.
        """
        if _BY_DESCRIPTOR:
            folder, _, name = path.rpartition("/")
            at = self._folder(folder)
            try:
                descriptor = os.open(name, _FILE_FLAGS | _NO_FOLLOW, dir_fd=at)
            except OSError as err:
                if err.errno not in (errno.ELOOP, errno.EMLINK):
                    raise
                if not stat.S_ISLNK(os.lstat(name, dir_fd=at).st_mode):
                    raise
                descriptor = self._open_link(path)
        else:
            descriptor = self._open_link(path)
        try:
            status = os.fstat(descriptor)
            if not stat.S_ISREG(status.st_mode):
                raise _Refused(_not_regular_message(_kind(status.st_mode)))
        except BaseException:
            os.close(descriptor)
            raise
        return descriptor, status

    def _open_link(self, path: str) -> int:
        full = os.path.join(self.root, *path.split("/"))
        if not _inside(self.real_root, os.path.realpath(full)):
            raise _Refused(_outside(full))
        descriptor = os.open(full, _FILE_FLAGS)
        try:
            opened = os.readlink(f"/proc/self/fd/{descriptor}")
        except OSError:
            return descriptor  # no /proc: the check by path above stands alone
        if not _inside(self.real_root, opened):
            os.close(descriptor)
            raise _Refused(_outside(full))
        return descriptor


def _outside(full: str) -> str:
    # The link's target is not quoted: it is a path of the server outside the
    # corpus, which answers (parse errors) never show. The link's own path is
    # enough to find it.
    return (
        "symbolic link leads outside the corpus folder: not read;"
        " copy the file into the corpus instead"
    )


def _read_open(descriptor: int, size: int) -> bytes:
    """The bytes of an open regular file of ``size`` bytes, up to the limit + 1."""
    data = os.read(descriptor, min(size, MAX_FILE_BYTES) + 1)
    if len(data) != size:
        # Changed since its size was taken, or a short read: read on to the end.
        pieces = [data]
        total = len(data)
        while total <= MAX_FILE_BYTES and (
            piece := os.read(descriptor, MAX_FILE_BYTES + 1 - total)
        ):
            pieces.append(piece)
            total += len(piece)
        data = b"".join(pieces)
    return data


def _read_with(opener: _Opener, path: str) -> ArticleFile | Diagnostic:
    read = _read_opened(path, _open(opener, path))[0]
    return record_of(read) if isinstance(read, tuple) else read


#: A file opened (its descriptor, and its stat as it was opened), or why it was not.
_Opened = tuple[int, os.stat_result] | _Refused | OSError

# Not on every system (macOS): then files are read without the advice.
_ADVISE = getattr(os, "posix_fadvise", None)


def _open(opener: _Opener, path: str, *, advise: bool = False) -> _Opened:
    """Open ``path``; with ``advise``, ask the system to read its bytes in meanwhile."""
    try:
        descriptor, status = opener.open(path)
    except (_Refused, OSError) as err:
        return err
    if advise and _ADVISE is not None and status.st_size <= MAX_FILE_BYTES:
        with suppress(OSError):
            _ADVISE(descriptor, 0, 0, os.POSIX_FADV_WILLNEED)
    return descriptor, status


def _read_opened(
    path: str, opened: _Opened
) -> tuple[FileFields | ArticleFile | Diagnostic, os.stat_result | None]:
    """The file ``path`` read and parsed (any failure a diagnostic; a file in the
    site's own layout as its fields, see :func:`~kgraph.corpus.fast.parse_fields`),
    and its stat as it was opened, before it was read (``None``: not opened); the
    file is closed."""
    if isinstance(opened, _Refused):
        return Diagnostic(path=path, line=None, message=str(opened)), None
    if isinstance(opened, OSError):
        message = f"cannot read file: {opened.strerror or opened}"
        return Diagnostic(path=path, line=None, message=message), None
    descriptor, status = opened
    try:
        try:
            size = status.st_size
            if size > MAX_FILE_BYTES:
                message = f"file is {size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit"
                return Diagnostic(path=path, line=None, message=message), status
            data = _read_open(descriptor, size)
        finally:
            os.close(descriptor)
        # The line reader takes files shaped like the format (all of the real
        # corpus) in a seventh of the time; anything else goes to YAML.
        return parse_fields(data, path) or parse_article(data, path), status
    except ArticleParseError as err:
        return Diagnostic(path=err.path, line=err.line, message=err.reason), status
    except OSError as err:
        message = f"cannot read file: {err.strerror or err}"
        return Diagnostic(path=path, line=None, message=message), status


def read_file(root: str | os.PathLike[str], path: str) -> ArticleFile | Diagnostic:
    """Read and parse one file of the corpus; any failure becomes a diagnostic.

    Only a regular file inside ``root`` is read: a pipe, device, socket or
    folder, or a symbolic link out of ``root``, is a diagnostic (and a pipe is
    never waited on).
    """
    opener = _Opener(os.fspath(root))
    try:
        return _read_with(opener, path)
    finally:
        opener.close()


@dataclass(frozen=True, slots=True)
class _Chunk:
    """Files read together: their records as columns (:class:`FileColumns`), the
    diagnostics of those that could not be read, their answers' bytes, their
    related entries.

    One bytes object for every answer of the chunk crosses from a reading
    process, rather than one per file; ``sizes`` splits it, one per article.
    """

    count: int
    files: FileColumns
    diagnostics: list[Diagnostic]
    answers: bytes
    sizes: list[int]
    related: RelatedSpool
    #: What a fingerprint takes of the files' stats (kgraph.corpus.facts.facts_of), in order.
    facts: bytes


def _read_chunk(root: str, paths: Sequence[str]) -> _Chunk:
    opener = _Opener(root)
    files = FileColumns()
    diagnostics: list[Diagnostic] = []
    answers: list[bytes] = []
    related = RelatedSpool()
    facts: list[bytes] = []
    # Files are opened a few ahead of the one read, and the system asked to read
    # their bytes in meanwhile (posix_fadvise): from a disk, not the page cache,
    # a reader otherwise waited for one file at a time (200,000 files after a
    # restart: loaded in 27.8 s, against 12.8 s from the page cache).
    opened: deque[_Opened] = deque()
    ahead = iter(paths)
    try:
        opened.extend(_open(opener, path, advise=True) for path in islice(ahead, _READ_AHEAD))
        for path in paths:
            following = next(ahead, None)
            if following is not None:
                opened.append(_open(opener, following, advise=True))
            result, status = _read_opened(path, opened.popleft())
            if isinstance(result, tuple):  # the fields of a file in the site's own layout
                files.add_fields(result)
                answers.append(result[3])
                related.add_fields(result[13])
            elif isinstance(result, ArticleFile):
                files.add(result)
                answers.append(result.answer_utf8)
                related.add(result.copy.related)
            else:
                diagnostics.append(result)
            # Each file's stat as it was opened, before it was read: a snapshot's
            # fingerprint takes these (CorpusReading.facts), so that a cold load need
            # not wait for a pass that stats every file first (4.4 s at 1M files).
            # A file not opened is stat-ed as that pass does it, its link followed.
            if status is None:
                try:
                    status = os.stat(os.path.join(root, path))
                except OSError:
                    status = None
            facts.append(facts_of(os.fsencode(path), status))
    finally:
        for left in opened:
            if isinstance(left, tuple):
                os.close(left[0])
        opener.close()
    return _Chunk(
        len(paths),
        files,
        diagnostics,
        b"".join(answers),
        [len(answer) for answer in answers],
        related,
        b"".join(facts),
    )


def start_method() -> str:
    """How a load's processes start (the readers, search's index): forked when this
    process runs no other thread.

    A fork starts at once, its modules already imported; a spawned process
    starts an interpreter and imports the reader (0.1-0.2 s a process on an
    idle machine, up to 0.7 s under load, against 0.05 s for a fork). But a
    server loads its corpus from a thread, and forking a threaded process can
    copy a lock another thread holds into the child: then they are spawned.
    (The pool starts every forked process before its own thread.) Threads a
    library runs in C are not counted (OpenBLAS's, once a command has imported
    numpy): the readers and search's process (numpy's sorts, scipy's sparse
    products) never call into them, and OpenBLAS shuts its pool down across a fork.
    """
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return "fork"
    return "spawn"


def _bootstrapping() -> bool:
    """Tell whether this is a spawned child still importing its parent's main module."""
    return bool(getattr(multiprocessing.current_process(), "_inheriting", False))


def _result(future: Future[_Chunk], cancelled: Cancelled | None) -> _Chunk:
    """The chunk a worker read, asking ``cancelled`` while waiting for it."""
    if cancelled is None:
        return future.result()
    while not cancelled():
        try:
            return future.result(timeout=_POLL_SECONDS)
        except FutureTimeout:
            pass
    raise LoadCancelled("the reading of the corpus was cancelled")


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Drop the chunks not started and end the workers, even one stuck in a read."""
    terminate = getattr(pool, "kill_workers", None)  # Python 3.14
    if terminate is not None:
        terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        return
    # Before 3.14 the executor's own table of its processes is the only way to
    # them, and shutting down forgets it: taken first.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.kill()


def _read_all(
    root: str, paths: Sequence[str], workers: int | None, cancelled: Cancelled | None
) -> Iterator[_Chunk]:
    if workers is None:
        workers = (os.cpu_count() or 1) if len(paths) >= _PARALLEL_FROM else 1
    # Several chunks per worker keep both busy to the end; a chunk is large
    # enough that sending it costs little next to reading it.
    size = max(1, min(_CHUNK, -(-len(paths) // (workers * 4))))
    chunks = [paths[i : i + size] for i in range(0, len(paths), size)]
    done = 0
    if workers > 1 and len(chunks) > 1:
        try:
            context = multiprocessing.get_context(start_method())
            pool = ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=context)
            finished = False
            try:
                # A few chunks ahead of the one awaited, not all: a chunk read
                # is held (its answers too) until it is taken, and every chunk
                # at once held a whole corpus's answers at the load's peak
                # (540 MB at 200,000 generated articles).
                ahead = iter(chunks)
                pending: deque[Future[_Chunk]] = deque()
                while True:
                    for chunk in islice(ahead, _AHEAD * workers - len(pending)):
                        pending.append(pool.submit(_read_chunk, root, chunk))
                    if not pending:
                        break
                    read = _result(pending.popleft(), cancelled)
                    yield read
                    del read
                    done += 1
                finished = True
            finally:
                # Cancelled, or the caller stopped: waiting for the workers
                # could be waiting for good (a worker stuck in a read).
                if finished:
                    pool.shutdown()
                else:
                    _stop_workers(pool)
        except RuntimeError as err:
            # A spawned child first re-imports the main module: in a script
            # without an ``if __name__ == "__main__":`` guard it loads the
            # corpus again, and multiprocessing refuses it a pool of its own.
            # That child must not read on (the rest of the script would run in
            # it too): it dies, and its parent, seeing a broken pool, reads on
            # alone. ``_inheriting`` is how multiprocessing itself tells.
            if not isinstance(err, BrokenProcessPool) and (_bootstrapping() or sys.is_finalizing()):
                raise
            logger.warning(
                "the process pool failed (%s: %s); reading the remaining %s files in this "
                "process (a script that loads a corpus needs an "
                '`if __name__ == "__main__":` guard to read in parallel)',
                type(err).__name__,
                " ".join(str(err).split()),
                f"{sum(map(len, chunks[done:])):,}",
            )
    for chunk in chunks[done:]:
        if cancelled is not None and cancelled():
            raise LoadCancelled("the reading of the corpus was cancelled")
        yield _read_chunk(root, chunk)


def read_corpus(
    root: str | os.PathLike[str],
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
    listing: CorpusListing | None = None,
) -> CorpusReading:
    """Read every article file below ``root``.

    A file that cannot be read, or a folder that cannot be listed, becomes a
    :class:`~kgraph.model.Diagnostic`; all the others still load. So does a
    file that is not read: not a regular file, a symbolic link out of ``root``,
    a name that is not UTF-8 (its path shown with the bytes escaped). Files
    are read in parallel processes when there are many of them; when the
    process pool fails, the rest is read in this process (a warning is logged).

    Parameters
    ----------
    root : path
        The corpus folder.
    workers : int, optional
        Processes to read with; by default one per CPU for large corpora and
        none (this process) for small ones.
    progress : callable, optional
        Called with ``(files_done, files_total)`` after each batch of files.
    cancelled : callable, optional
        Asked while reading; once it answers ``True`` the reading stops (and
        its worker processes with it) by raising :class:`LoadCancelled`.
    listing : CorpusListing, optional
        ``root`` as :func:`list_corpus` listed it: the files it names are read,
        and the folder is not listed again.

    Raises
    ------
    CorpusNotFound
        When ``root`` is not a folder.
    EmptyCorpus
        When it holds no ``*.md`` file (and every folder could be listed).
    LoadCancelled
        When ``cancelled`` said so.
    """
    if listing is None:
        listing = list_corpus(root)
    paths = listing.paths
    if not paths and not listing.refused and not listing.unlisted:
        raise EmptyCorpus(str(root))
    folder = os.fspath(root)
    articles = FileColumns()
    diagnostics: list[Diagnostic] = [*listing.unlisted, *listing.refused]
    done = 0
    total = len(paths)
    spool = AnswerSpool()
    related = RelatedSpool()
    facts = hashlib.blake2b(digest_size=32)
    for chunk in _read_all(folder, paths, workers, cancelled):
        articles.extend(chunk.files)
        diagnostics += chunk.diagnostics
        spool.add(chunk.answers, chunk.sizes)
        related.extend(chunk.related)
        facts.update(chunk.facts)
        done += chunk.count
        if progress is not None:
            progress(done, total)
    spool.file.flush()
    # In path order, a folder's diagnostic before those of files inside it.
    diagnostics.sort(key=lambda d: d.path)
    return CorpusReading(
        root=folder,
        files=listing.files,
        articles=articles,
        diagnostics=tuple(diagnostics),
        answers=spool,
        related=related,
        facts=facts.hexdigest(),
    )

"""A corpus fingerprint: its listing and every file's stat, digested with kgraph's code.

A snapshot is trusted only for the fingerprint it was made for
(:mod:`kgraph.graph.snapshot`). :class:`Fingerprinting` takes one in this
process, the stats in a child process past 20,000 files, while a warm start
unpickles its snapshot; :class:`FingerprintElsewhere` takes the whole of it,
listing included, in a child process (``python -P -m kgraph.corpus.fingerprint
DIR CODE``, ``CODE`` the digest of the asking process's code, which the child
checks is its own), so that a warm start of a large corpus need not list it
first (0.3 s at 200,000 files, before a byte of the snapshot was read).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import select
import subprocess
import sys
import threading
from pathlib import Path
from typing import Self

import kgraph
from kgraph.corpus import facts
from kgraph.corpus.facts import facts_digest
from kgraph.corpus.read import CorpusListing, list_corpus
from kgraph.errors import LoadCancelled

__all__ = ["FingerprintElsewhere", "Fingerprinting", "code_digest", "digest_of", "fingerprint"]

logger = logging.getLogger(__name__)


def digest_of(*parts: bytes, size: int = 32) -> hashlib.blake2b:
    """A BLAKE2b digest of ``parts``, one after another, ``size`` bytes long."""
    digest = hashlib.blake2b(digest_size=size)
    for part in parts:
        digest.update(part)
    return digest


class _Taking:
    """A fingerprint being taken, maybe by a child process of its own; a ``with`` block
    stops that child when it is left (:meth:`close`)."""

    _child: subprocess.Popen[bytes] | None

    def close(self) -> None:
        """Stop the child process, if it still runs (the fingerprint is not wanted)."""
        child, self._child = self._child, None
        if child is not None:
            _end(child)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _digest_from(child: subprocess.Popen[bytes]) -> str | None:
    """The digest ``child`` printed once it ended; ``None`` (said in the log) when it failed."""
    assert child.stdout is not None
    with child.stdout:
        digest = child.stdout.read()
    if child.wait() != 0 or not re.fullmatch(rb"[0-9a-f]{64}", digest):
        logger.warning("the fingerprint's child process failed (exit %s)", child.returncode)
        return None
    return digest.decode()


class Fingerprinting(_Taking):
    """A corpus fingerprint being taken; past 20,000 files, by a child process.

    Stat-ing every file is most of a fingerprint's time (0.6 s of system calls
    at 200,000 files): a child process (:mod:`kgraph.corpus.facts`) does it
    while this one goes on, and a warm start unpickles its snapshot meanwhile.
    What is known without a stat, the listing, is digested at once: kgraph's
    version and code, the corpus folder and the paths of its files. A snapshot
    of another listing is stale without waiting for the stats.

    ``listing`` is ``root`` as :func:`kgraph.corpus.list_corpus` listed it, when
    the caller holds one: its files are stat-ed, the folder is not listed again.
    ``elsewhere=False``: the stats are taken in this process, however many files.

    Raises
    ------
    CorpusNotFound
        When ``root`` is not a folder.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        listing: CorpusListing | None = None,
        elsewhere: bool = True,
    ):
        files = (listing or list_corpus(root)).files
        base = str(Path(root).resolve())
        self._base = os.fsencode(base)
        # Encoded in one call and split: no path holds a NUL (0.17 -> 0.02 s at 200k).
        joined = os.fsencode("\0".join(files))
        self._paths = joined.split(b"\0") if files else []
        head = json.dumps([kgraph.__version__, code_digest(), base]).encode()
        #: The digest of the listing alone: the first half of the fingerprint.
        self.listing = digest_of(head, joined, size=16).hexdigest()
        self._child = self._start(joined) if elsewhere and len(files) >= _CHILD_FROM else None
        self._taken: str | None = None

    def _start(self, joined: bytes) -> subprocess.Popen[bytes] | None:
        """The child process stat-ing the files (``joined``: their paths, NUL-separated),
        given them; ``None`` when it did not start."""
        try:
            child = subprocess.Popen(
                [sys.executable, "-I", "-S", facts.__file__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except (OSError, ValueError) as err:
            logger.debug("files stat-ed in this process: no child process (%s)", err)
            return None
        assert child.stdin is not None
        try:
            with child.stdin:
                child.stdin.write(self._base)
                if joined:  # no paths: no separator, nothing after the folder
                    child.stdin.write(b"\0")
                    child.stdin.write(joined)
        except OSError as err:  # the child closed its end: it ended, most likely
            try:
                reason = f"exit {child.wait(timeout=1)}"
            except subprocess.TimeoutExpired:
                reason = str(err)
            logger.warning("the fingerprint's child process failed (%s)", reason)
            _end(child)
            return None
        return child

    def result(self) -> str:
        """The fingerprint: the listing's digest, then that of the listing and every file's stat."""
        if self._taken is None:
            stats = None
            if self._child is not None:
                child, self._child = self._child, None
                stats = _digest_from(child)
            if stats is None:  # taken here: a small corpus, or the child failed
                stats = facts_digest(self._base, self._paths)
            self.read(stats)
        assert self._taken is not None
        return self._taken

    @property
    def taken(self) -> bool:
        """Whether the fingerprint is whole already (:meth:`result` or :meth:`read` was called)."""
        return self._taken is not None

    def read(self, stats: str) -> str:
        """The fingerprint, whole with ``stats``, the digest of the listed files' stats
        as a reading took them (:attr:`kgraph.corpus.CorpusReading.facts`): the
        files are not stat-ed again (the child process stops).

        A reading stats each file as it opens it, before reading a byte of it, as
        the child does before the reading: what was read is never newer than the
        stats say, and a file changed meanwhile gives the next start another
        fingerprint. Only when the listing refused no file (its ``files`` are the
        files read).
        """
        self.close()
        self._paths = []
        whole = digest_of(self.listing.encode(), b"\0", stats.encode(), size=16).hexdigest()
        self._taken = self.listing + whole
        return self._taken


def _end(child: subprocess.Popen[bytes]) -> None:
    """Stop a child process and close its pipes."""
    child.kill()
    child.wait()
    for pipe in (child.stdin, child.stdout):
        if pipe is not None:
            pipe.close()


#: Files from which a fingerprint's stats are taken by a child process: below,
#: its start (~15-30 ms) costs as much as it saves.
_CHILD_FROM = 20_000


def fingerprint(root: str | os.PathLike[str], *, listing: CorpusListing | None = None) -> str:
    """A digest of the corpus as listed and stat-ed (no article is read), and of kgraph's code.

    ``listing`` is ``root`` as :func:`kgraph.corpus.list_corpus` listed it, when
    the caller holds one: its files are stat-ed, the folder is not listed again.

    Any added, removed, renamed or modified ``*.md`` file, a move of the corpus
    folder, a new kgraph version or any change to kgraph's own source (a
    developer's edit that kept the version) gives another fingerprint.

    Raises
    ------
    CorpusNotFound
        When ``root`` is not a folder.

    Examples
    --------
    >>> fingerprint("seeds") == fingerprint("seeds"), len(fingerprint("seeds"))
    (True, 64)
    """
    with Fingerprinting(root, listing=listing) as taking:
        return taking.result()


@functools.cache
def code_digest() -> str:
    """A digest of kgraph's own source files: the code that built a snapshot must be this one."""
    package = Path(kgraph.__file__).parent
    digest = digest_of(size=16)
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode() + b"\0")
        digest.update(source.read_bytes() + b"\0")
    return digest.hexdigest()


class FingerprintElsewhere(_Taking):
    """A corpus fingerprint taken whole by a child process: listing, stats and all.

    For a warm start of a large corpus: listing its folder is 0.3 s at 200,000
    files, and stat-ing them 0.6 s more, which the child does while this
    process unpickles the snapshot. The child prints the listing's half of the
    fingerprint first (:attr:`listing`, once it came: a snapshot of another
    listing is then refused before it is unpickled), then the whole
    (:meth:`result`). It imports kgraph from where this process did and takes
    the digest of this process's code (:func:`code_digest`); it refuses to run
    other code. One that fails is replaced by the fingerprint taken here.
    Closed (the load given up), it gives no fingerprint: :meth:`result` raises
    :class:`~kgraph.errors.LoadCancelled` rather than take one here.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self._root = root
        self._taken: str | None = None
        self._listing: str | None = None
        self._closed = False
        # The load's thread asks; the server's, stopping, closes.
        self._lock = threading.Lock()
        self._child: subprocess.Popen[bytes] | None
        # kgraph as this process imports it: its folder first on the child's path,
        # and -P, never a folder of that name where the server was started.
        here = str(Path(kgraph.__file__).resolve().parent.parent)
        path = os.pathsep.join(filter(None, (here, os.environ.get("PYTHONPATH"))))
        try:
            self._child = subprocess.Popen(
                [sys.executable, "-P", "-m", __name__, os.fspath(root), code_digest()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "PYTHONPATH": path},
            )
        except (OSError, ValueError) as err:
            logger.debug("fingerprint taken in this process: no child process (%s)", err)
            self._child = None

    @property
    def listing(self) -> str | None:
        """The digest of the listing alone (the fingerprint's first half), once the
        child printed it; ``None`` before (never waited for)."""
        with self._lock:
            child = self._child
            # Printed as one line in one write: there whole, or not yet.
            if (
                self._listing is None
                and child is not None
                and child.stdout is not None
                and select.select([child.stdout], [], [], 0)[0]
            ):
                line = child.stdout.readline().strip()
                if re.fullmatch(rb"[0-9a-f]{32}", line):
                    self._listing = line.decode()
            return self._listing

    def result(self) -> str:
        """The fingerprint, as :func:`fingerprint` takes it.

        Raises
        ------
        LoadCancelled
            Once closed, the fingerprint not taken.
        """
        with self._lock:
            if self._taken is None:
                if self._closed:
                    raise LoadCancelled("the corpus's fingerprint is no longer wanted")
                child, self._child = self._child, None
                taken = self._whole(child) if child is not None else None
                self._taken = taken if taken is not None else fingerprint(self._root)
            return self._taken

    def _whole(self, child: subprocess.Popen[bytes]) -> str | None:
        """The fingerprint the child printed last; ``None`` (said in the log) when it failed."""
        assert child.stdout is not None
        with child.stdout:
            printed = child.stdout.read().split()
        whole = printed[-1] if printed else b""
        if (
            child.wait() != 0
            or not re.fullmatch(rb"[0-9a-f]{64}", whole)
            or not whole.decode().startswith(self._listing or "")
        ):
            logger.warning("the fingerprint's child process failed (exit %s)", child.returncode)
            return None
        return whole.decode()

    def close(self) -> None:
        """Stop the child process, if it still runs; no fingerprint is given after this."""
        with self._lock:
            self._closed = True
            child, self._child = self._child, None
        if child is not None:
            _end(child)


#: The exit status of a child process asked to take another code's fingerprint.
_OTHER_CODE = 3


def _main() -> None:
    root, code = sys.argv[1:3]
    if code != code_digest():
        sys.exit(_OTHER_CODE)  # not the code of the process that asked
    with Fingerprinting(root, elsewhere=False) as taking:
        sys.stdout.write(taking.listing + "\n")
        sys.stdout.flush()
        sys.stdout.write(taking.result() + "\n")


if __name__ == "__main__":
    _main()

"""A corpus fingerprint: its listing and every file's stat, digested with kgraph's code.

A snapshot is trusted only for the fingerprint it was made for
(:mod:`kgraph.graph.snapshot`). :class:`Fingerprinting` takes one in this
process, the stats in a child process past 20,000 files, while a warm start
unpickles its snapshot; :class:`FingerprintElsewhere` takes the whole of it,
listing included, in a child process (``python -m kgraph.corpus.fingerprint
DIR``), so that a warm start of a large corpus need not list it first (0.3 s
at 200,000 files, before a byte of the snapshot was read).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import kgraph
from kgraph.corpus import facts
from kgraph.corpus.facts import facts_digest
from kgraph.corpus.read import CorpusListing, list_corpus

__all__ = ["FingerprintElsewhere", "Fingerprinting", "code_digest", "digest_of", "fingerprint"]

logger = logging.getLogger(__name__)


def digest_of(*parts: bytes, size: int = 32) -> hashlib.blake2b:
    """A BLAKE2b digest of ``parts``, one after another, ``size`` bytes long."""
    digest = hashlib.blake2b(digest_size=size)
    for part in parts:
        digest.update(part)
    return digest


class Fingerprinting:
    """A corpus fingerprint being taken; past 20,000 files, by a child process.

    Stat-ing every file is most of a fingerprint's time (0.6 s of system calls
    at 200,000 files): a child process (:mod:`kgraph.corpus.facts`) does it
    while this one goes on, and a warm start unpickles its snapshot meanwhile.
    What is known without a stat, the listing, is digested at once: kgraph's
    version and code, the corpus folder and the paths of its files. A snapshot
    of another listing is stale without waiting for the stats.

    ``listing`` is ``root`` as :func:`kgraph.corpus.list_corpus` listed it, when
    the caller holds one: its files are stat-ed, the folder is not listed again.
    ``code``: the digest of kgraph's code to take (:func:`code_digest`, that of
    the process asking, when a child process takes the fingerprint for it);
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
        code: str | None = None,
        elsewhere: bool = True,
    ):
        files = (listing or list_corpus(root)).files
        base = str(Path(root).resolve())
        self._base = os.fsencode(base)
        # Encoded in one call and split: no path holds a NUL (0.17 -> 0.02 s at 200k).
        joined = os.fsencode("\0".join(files))
        self._paths = joined.split(b"\0") if files else []
        head = json.dumps([kgraph.__version__, code or code_digest(), base]).encode()
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

    def _from_child(self, child: subprocess.Popen[bytes]) -> str | None:
        assert child.stdout is not None
        with child.stdout:
            digest = child.stdout.read()
        if child.wait() != 0 or not re.fullmatch(rb"[0-9a-f]{64}", digest):
            logger.warning("the fingerprint's child process failed (exit %s)", child.returncode)
            return None
        return digest.decode()

    def result(self) -> str:
        """The fingerprint: the listing's digest, then that of the listing and every file's stat."""
        if self._taken is None:
            stats = None
            if self._child is not None:
                child, self._child = self._child, None
                stats = self._from_child(child)
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

    def close(self) -> None:
        """Stop the child process, if it still runs (the fingerprint is not wanted)."""
        child, self._child = self._child, None
        if child is not None:
            _end(child)

    def __enter__(self) -> Fingerprinting:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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


class FingerprintElsewhere:
    """A corpus fingerprint taken whole by a child process: listing, stats and all.

    For a warm start of a large corpus: listing its folder is 0.3 s at 200,000
    files, and stat-ing them 0.6 s more, which the child does while this
    process unpickles the snapshot. Nothing of the fingerprint is known before
    :meth:`result` (:attr:`listing` is ``None``): a snapshot of another listing
    is found stale once unpickled, not before. The child takes the digest of
    this process's code (:func:`code_digest`), not its own; one that fails is
    replaced by the fingerprint taken here.
    """

    #: Unknown until :meth:`result` (see :attr:`Fingerprinting.listing`).
    listing: str | None = None

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self._root = root
        self._taken: str | None = None
        self._child: subprocess.Popen[bytes] | None
        try:
            # -P: kgraph as this process imports it, never a folder of that name
            # where the server was started.
            self._child = subprocess.Popen(
                [sys.executable, "-P", "-m", __name__, os.fspath(root), code_digest()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except (OSError, ValueError) as err:
            logger.debug("fingerprint taken in this process: no child process (%s)", err)
            self._child = None

    def result(self) -> str:
        """The fingerprint, as :func:`fingerprint` takes it."""
        if self._taken is None:
            taken = None
            child, self._child = self._child, None
            if child is not None:
                assert child.stdout is not None
                with child.stdout:
                    out = child.stdout.read()
                if child.wait() == 0 and re.fullmatch(rb"[0-9a-f]{64}", out):
                    taken = out.decode()
                else:
                    logger.warning(
                        "the fingerprint's child process failed (exit %s)", child.returncode
                    )
            self._taken = taken if taken is not None else fingerprint(self._root)
        return self._taken

    def close(self) -> None:
        """Stop the child process, if it still runs (the fingerprint is not wanted)."""
        child, self._child = self._child, None
        if child is not None:
            _end(child)

    def __enter__(self) -> FingerprintElsewhere:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _main() -> None:
    root, code = sys.argv[1:3]
    with Fingerprinting(root, code=code, elsewhere=False) as taking:
        sys.stdout.write(taking.result())


if __name__ == "__main__":
    _main()

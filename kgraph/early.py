"""A corpus listed, and its files stat-ed, by a child process while ``kgraph serve`` imports.

A server's first ~0.6 s go to importing its libraries (strawberry, networkx,
scipy…), one core busy and the other idle. Listing the corpus folder (0.3 s at
200,000 files) and stat-ing its files for the snapshot's fingerprint (0.6 s
of system calls) need none of them: a child process does both meanwhile,
started before those imports (``python -m kgraph.early``). This module imports
the standard library alone, so that the child starts at once. The server
then takes the child's listing where it would have listed the folder, and the
fingerprint takes the child's digest of the stats where it would have
stat-ed the files (:class:`kgraph.graph.snapshot.Fingerprinting`).

Nothing is lost when the child fails: the listing is then taken in-process,
and so are the stats (their digest is only ever used for the very folder the
fingerprint names). What the child sends is :func:`list_corpus`'s listing,
pickled (in a file), then through a pipe the pickle's size, the folder it resolved
and :func:`~kgraph.corpus.facts.facts_digest` of its files: each a length, then
its bytes.
"""

from __future__ import annotations

import logging
import os
import pickle
import struct
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from kgraph.corpus.read import CorpusListing

__all__ = ["EarlyListing"]

logger = logging.getLogger(__name__)

_LENGTH = struct.Struct(">Q")
#: The longest message a child sends: a listing of ~10 million paths.
_MAX_MESSAGE = 1 << 30


class EarlyListing:
    """The corpus folder ``root`` being listed (and, when ``stats``, its files stat-ed)
    by a child process, from now on.

    :meth:`listing` waits for the listing; the fingerprint asks for the stats
    later, through the listing's ``stats`` (see :class:`CorpusListing`).
    """

    def __init__(self, root: str | os.PathLike[str], *, stats: bool) -> None:
        self._root = root
        self._wants_stats = stats
        self._digest: tuple[bytes, str] | None = None
        self._pipe: IO[bytes] | None = None
        self._bulk: IO[bytes] | None = None
        self._child: subprocess.Popen[bytes] | None = None
        try:
            # The listing comes in a file (MBs through a pipe cost a round trip
            # per 64 kB), its size and the stats' digest through a pipe.
            self._bulk = tempfile.TemporaryFile()  # noqa: SIM115  (closed by close())
            read, write = os.pipe()
        except OSError as err:
            logger.debug("the corpus is listed in this process: %s", err)
            self.close()
            return
        try:
            self._child = subprocess.Popen(
                [sys.executable, "-m", __name__, os.fspath(root), str(int(stats)), str(write)],
                stdin=subprocess.DEVNULL,
                stdout=self._bulk,
                stderr=subprocess.DEVNULL,
                pass_fds=(write,),
            )
        except (OSError, ValueError) as err:
            logger.debug("the corpus is listed in this process: no child process (%s)", err)
            os.close(read)
            self.close()
        else:
            self._pipe = os.fdopen(read, "rb")
        finally:
            os.close(write)

    def listing(self) -> CorpusListing:
        """The listing of the folder, the child's; taken here when the child failed.

        Raises
        ------
        CorpusNotFound
            When ``root`` is not a folder (as :func:`list_corpus`).
        """
        from kgraph.corpus.read import CorpusListing, list_corpus

        if self._pipe is not None and self._bulk is not None:
            try:
                size = _LENGTH.unpack(_message(self._pipe))[0]
                listing = pickle.loads(os.pread(self._bulk.fileno(), size, 0))
            except (OSError, EOFError, ValueError, struct.error, pickle.UnpicklingError) as err:
                logger.debug("the corpus is listed in this process: %s", err)
            else:
                if isinstance(listing, CorpusListing) and listing.root == os.fspath(
                    Path(self._root)
                ):
                    self._bulk.close()
                    self._bulk = None
                    if self._wants_stats:
                        return replace(listing, stats=self._stats)
                    self.close()
                    return listing
        self.close()
        return list_corpus(self._root)

    def _stats(self, base: bytes) -> str | None:
        """The digest of the listed files' stats, when the child took them from ``base``."""
        if self._digest is None and self._pipe is not None:
            try:
                taken = (_message(self._pipe), _message(self._pipe).decode("ascii"))
            except (OSError, EOFError, ValueError) as err:
                logger.debug("the corpus's files are stat-ed in this process: %s", err)
            else:
                if len(taken[1]) == 64:
                    self._digest = taken
            self.close()
        if self._digest is None or self._digest[0] != base:
            return None
        return self._digest[1]

    def close(self) -> None:
        """End the child process, if it still runs, and close its file and pipe."""
        child, self._child = self._child, None
        if child is not None:
            if child.poll() is None:
                child.kill()
            child.wait()
        for handle in (self._pipe, self._bulk):
            if handle is not None:
                handle.close()
        self._pipe = self._bulk = None


def _message(stream: IO[bytes]) -> bytes:
    head = stream.read(_LENGTH.size)
    if len(head) != _LENGTH.size:
        raise EOFError("the child process ended early")
    (length,) = _LENGTH.unpack(head)
    if length > _MAX_MESSAGE:
        raise ValueError(f"a message of {length:,} bytes")
    data = stream.read(length)
    if len(data) != length:
        raise EOFError("the child process ended early")
    return data


def _send(stream: IO[bytes], data: bytes) -> None:
    stream.write(_LENGTH.pack(len(data)))
    stream.write(data)
    stream.flush()


def _main(root: str, stats: bool, pipe: IO[bytes]) -> None:
    from kgraph.corpus.facts import facts_digest
    from kgraph.corpus.read import list_corpus

    listing = list_corpus(root)  # a folder that is not one: the parent says so
    data = pickle.dumps(listing, protocol=pickle.HIGHEST_PROTOCOL)
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
    _send(pipe, _LENGTH.pack(len(data)))
    if stats:
        # As the fingerprint names the folder and its files (Fingerprinting).
        base = os.fsencode(str(Path(root).resolve()))
        files = listing.files
        paths = os.fsencode("\0".join(files)).split(b"\0") if files else []
        _send(pipe, base)
        _send(pipe, facts_digest(base, paths).encode("ascii"))


if __name__ == "__main__":
    with os.fdopen(int(sys.argv[3]), "wb") as given:
        _main(sys.argv[1], sys.argv[2] == "1", given)

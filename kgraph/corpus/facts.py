"""What a corpus fingerprint takes of each file (path, size, times, inode), digested.

A warm start must know that the corpus is the one its snapshot was built from
before it trusts the snapshot, and stat-ing every file is most of that: 0.6 s
of system calls at 200,000 files. So that a start can unpickle its snapshot
meanwhile, the files are stat-ed in a child process that runs this file as a
script: ``python -I -S facts.py``, the standard library alone, no package
imported (ready in ~15 ms). It reads the base folder and the paths from its
standard input, NUL-separated, and prints their digest: the same digest that
:func:`facts_digest` computes in-process, as smaller corpora take it.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Sequence

__all__ = ["facts_digest", "facts_of"]

# Files stat-ed per digest update: no corpus-sized bytes at once.
_CHUNK = 2_000


def facts_of(path: bytes, status: os.stat_result | None) -> bytes:
    """What a fingerprint takes of the file ``path`` (as :func:`os.fsencode` gives it)
    stat-ed as ``status``, or ``None`` when it could not be stat-ed (gone since
    it was listed: a state the build would see)."""
    if status is None:
        return b"%b\0-\0" % path
    # ctime and inode too: a same-size edit that kept its mtime (cp -p, rsync -t,
    # touch -r) still changes them. No path holds a NUL, so no file's facts can
    # pass for another's.
    return b"%b\0%d\0%d\0%d\0%d\0" % (
        path,
        status.st_size,
        status.st_mtime_ns,
        status.st_ctime_ns,
        status.st_ino,
    )


def facts_digest(base: bytes, paths: Sequence[bytes]) -> str:
    """A digest of each file's path, size, times and inode (:func:`facts_of`), in the order given.

    ``base`` is the corpus folder, ``paths`` its files relative to it, both as
    :func:`os.fsencode` gives them. A file gone since it was listed still counts,
    as gone. A reading takes the same digest as it opens the files
    (:attr:`kgraph.corpus.CorpusReading.facts`).
    """
    digest = hashlib.blake2b(digest_size=32)
    stat_of, join = os.stat, os.path.join
    for start in range(0, len(paths), _CHUNK):
        parts: list[bytes] = []
        for path in paths[start : start + _CHUNK]:
            try:
                status: os.stat_result | None = stat_of(join(base, path))
            except OSError:
                status = None
            parts.append(facts_of(path, status))
        digest.update(b"".join(parts))
    return digest.hexdigest()


def _main() -> None:
    base, *paths = sys.stdin.buffer.read().split(b"\0")
    sys.stdout.write(facts_digest(base, paths))


if __name__ == "__main__":
    _main()

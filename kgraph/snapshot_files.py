"""Where a corpus's snapshot file lives, and what its first line says: no graph imported.

The snapshot itself is :mod:`kgraph.graph.snapshot`'s. This module is what
``kgraph serve`` asks before its imports (0.6 s, networkx's, strawberry's…)
whether a warm start of a large corpus is coming, so that the corpus is
listed and stat-ed meanwhile (:func:`fingerprint_ahead`), and the snapshot
checksummed (:class:`JudgedAhead`, with the :func:`checksum` that every load takes).
"""

from __future__ import annotations

import json
import mmap
import os
import threading
import zlib
from concurrent.futures import Future
from pathlib import Path
from typing import Any, BinaryIO

from kgraph.corpus.fingerprint import FingerprintElsewhere, digest_of

__all__ = [
    "LIST_ELSEWHERE_FROM",
    "MAGIC",
    "SUFFIX",
    "Checksum",
    "FingerprintAhead",
    "JudgedAhead",
    "cache_folder",
    "checksum",
    "fingerprint_ahead",
    "read_header",
    "snapshot_path",
    "stated_files",
]

MAGIC = b"KGSNAP\n"
SUFFIX = ".kgsnap"
#: The longest first line (the header) read.
MAX_HEADER = 4096
#: Files from which a warm start has the corpus listed by a child process (see
#: FingerprintElsewhere): below, the child's start costs more than the listing.
LIST_ELSEWHERE_FROM = 20_000


def cache_folder(cache_dir: str | os.PathLike[str] | None) -> Path:
    """The folder of snapshots: ``cache_dir``, else ``$KGRAPH_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/kgraph``, else ``~/.cache/kgraph``."""
    if cache_dir is not None:
        return Path(cache_dir)
    if configured := os.environ.get("KGRAPH_CACHE_DIR"):
        return Path(configured)
    if xdg := os.environ.get("XDG_CACHE_HOME"):
        return Path(xdg) / "kgraph"
    return Path.home() / ".cache" / "kgraph"


def snapshot_path(
    root: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None
) -> Path:
    """Where the snapshot of the corpus ``root`` lives: one file per resolved corpus path.

    The folder is :func:`cache_folder`'s.

    Examples
    --------
    >>> snapshot_path("seeds", "/cache").parent, snapshot_path("seeds", "/cache").suffix
    (PosixPath('/cache'), '.kgsnap')
    >>> snapshot_path("seeds", "/c") == snapshot_path("./seeds/../seeds", "/c")
    True
    """
    name = digest_of(str(Path(root).resolve()).encode(), size=16).hexdigest()
    return cache_folder(cache_dir) / f"{name}{SUFFIX}"


def read_header(handle: BinaryIO) -> dict[str, Any]:
    """The header of the snapshot open as ``handle`` (left after it): its first line's JSON.

    Raises
    ------
    ValueError
        When the file is no snapshot or its header does not read as a JSON object.
    """
    if handle.read(len(MAGIC)) != MAGIC:
        raise ValueError("not a kgraph snapshot")
    try:
        header = json.loads(handle.readline(MAX_HEADER))
    except (ValueError, RecursionError) as err:  # JSON nested past the stack too
        raise ValueError(f"unreadable header ({type(err).__name__}: {err})") from None
    if not isinstance(header, dict):
        raise ValueError("unreadable header")
    return header


def stated_files(
    root: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None
) -> int | None:
    """How many files the corpus ``root`` had when its snapshot was made, as the
    snapshot's header says; ``None`` without a snapshot header that says it.

    Only a guide for how to take the fingerprint: nothing of the snapshot is
    judged here (:func:`kgraph.graph.snapshot.load_snapshot` judges it whole).
    """
    try:
        with open(snapshot_path(root, cache_dir), "rb") as handle:
            files = read_header(handle).get("files")
    except (OSError, ValueError):
        return None
    return files if isinstance(files, int) and not isinstance(files, bool) else None


def fingerprint_ahead(
    root: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None
) -> FingerprintAhead | None:
    """The fingerprint of ``root`` being taken by a child process, when its snapshot
    says that it held :data:`LIST_ELSEWHERE_FROM` files or more; else ``None``.

    For the warm start to come (``load_corpus(fingerprinting=…)``), which then
    unpickles the snapshot without listing the folder first. The caller closes it.
    The snapshot itself is opened and checksummed meanwhile too, by a thread
    (:class:`JudgedAhead`, the fingerprint's :attr:`~FingerprintAhead.snapshot`).
    """
    files = stated_files(root, cache_dir)
    if files is None or files < LIST_ELSEWHERE_FROM:
        return None
    return FingerprintAhead(root, snapshot_path(root, cache_dir))


class Checksum:
    """The CRC-32 of a payload, fed in pieces.

    CRC-32 detects damage, not forgery (see :mod:`kgraph.graph.snapshot`); zlib
    computes it without holding the interpreter's lock (of a piece over 5 KiB).
    """

    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes | memoryview) -> None:
        self.value = zlib.crc32(data, self.value)

    def hexdigest(self) -> str:
        return f"crc32:{self.value:08x}"


#: The bytes of a file mapped at a time to be checksummed: what the checksum
#: adds at most to the process's resident memory, for a moment; large enough that
#: a thread checksumming beside a pickle load waits for the interpreter's lock a
#: few dozen times, not hundreds (up to 5 ms each).
_WINDOW = 64 << 20


def checksum(handle: BinaryIO, begin: int, end: int, stop: threading.Event | None = None) -> str:
    """The CRC-32 (:class:`Checksum`) of the bytes of ``handle``'s file from ``begin`` to ``end``.

    The file is mapped a window at a time and checksummed where it lies: read
    into a buffer first, the bytes were copied once more (0.40 s against 0.23 s
    for a 918 MB snapshot at 200,000 articles), and ``handle`` keeps its
    position. ``"short"`` when the file ends before ``end``; ``"stopped"``
    when ``stop`` was set.

    A file cut short in place while a window of it is checksummed would stop
    the process (``SIGBUS``); kgraph never writes a snapshot in place (a new
    one replaces the file: see :func:`kgraph.graph.snapshot.save_snapshot`),
    and the answers of a snapshot read are mapped so too for as long as they serve.
    """
    digest = Checksum()
    descriptor = handle.fileno()
    while begin < end:
        if stop is not None and stop.is_set():
            return "stopped"
        offset = begin - begin % mmap.ALLOCATIONGRANULARITY
        length = min(end - offset, _WINDOW)
        try:
            window = mmap.mmap(descriptor, length, access=mmap.ACCESS_READ, offset=offset)
        except ValueError:  # mmap's refusal of a window past the file's end
            return "short"
        with window, memoryview(window) as view:
            digest.update(view[begin - offset :])
        begin = offset + length
    return digest.hexdigest()


class JudgedAhead:
    """A snapshot opened ahead of its load, its payload and answers checksummed by a thread.

    ``kgraph serve`` spends 0.6 s importing before it loads; the checksums of
    a large snapshot (0.1 s for the pickle and 0.13 s for the answers at 200,000
    articles, seconds at a million) are taken meanwhile, on the other core, so
    that the load unpickles at once. Nothing is trusted here: the load reads the
    header again from the same open file (what was checksummed is what it
    reads, whatever became of the path since) and compares the checksums with
    it, as it would have taken them (:meth:`checksum`). That holds since
    snapshots are replaced, never written over in place: bytes written over in
    place after their checksum (by hand, in our own cache folder) would be read
    unjudged, as they would have been a moment later in the load before.
    """

    def __init__(
        self, handle: BinaryIO, regions: list[tuple[int, int]], path: Path | None = None
    ) -> None:
        #: The snapshot's path when it was opened.
        self.path = path
        self.handle = handle
        self._stop = threading.Event()
        self._sums: dict[tuple[int, int], Future[str]] = {region: Future() for region in regions}
        self._thread = threading.Thread(
            target=self._run, name="kgraph-snapshot-checksum", daemon=True
        )
        self._thread.start()

    @property
    def regions(self) -> tuple[tuple[int, int], ...]:
        """The regions (first byte, end) checksummed ahead, in turn."""
        return tuple(self._sums)

    @classmethod
    def of(cls, path: Path) -> JudgedAhead | None:
        """The snapshot at ``path`` opened and being checksummed; ``None`` when it cannot be
        opened or its header does not say where its regions are (the load then says why)."""
        try:
            handle = open(path, "rb")  # noqa: SIM115 (closed by close())
        except OSError:
            return None
        try:
            header = read_header(handle)
            start, end = handle.tell(), os.fstat(handle.fileno()).st_size
        except (OSError, ValueError):
            handle.close()
            return None
        at = header.get("answers_at")
        try:
            if type(at) is not int or not start <= at <= end:
                raise ValueError("no regions")
            return cls(handle, [(start, at), (at, end)], path)
        except (ValueError, RuntimeError):  # RuntimeError: no thread could be started
            handle.close()
            return None

    def _run(self) -> None:
        for (begin, end), result in self._sums.items():
            if not result.set_running_or_notify_cancel():
                continue
            try:
                result.set_result(checksum(self.handle, begin, end, self._stop))
            except BaseException as err:  # said by the load, which asks for it
                result.set_exception(err)

    def checksum(self, begin: int, end: int) -> str:
        """The CRC-32 of bytes ``begin`` to ``end`` of the file, as :func:`checksum` gives
        it: the one taken ahead when it was of this region (waited for), else taken now."""
        taken = self._sums.get((begin, end))
        if taken is None:
            return checksum(self.handle, begin, end)
        return taken.result()

    def close(self) -> None:
        """Stop the checksums (between two windows) and close the file."""
        self._stop.set()
        for result in self._sums.values():
            result.cancel()
        self._thread.join()
        self.handle.close()


class FingerprintAhead(FingerprintElsewhere):
    """The fingerprint of a corpus taken by a child process, and its snapshot judged
    meanwhile by a thread (:attr:`snapshot`; ``None`` when it could not be opened).

    A warm load takes the snapshot from here (:meth:`take_snapshot`), once;
    closing this closes the snapshot too, unless a load took it.
    """

    def __init__(self, root: str | os.PathLike[str], path: Path) -> None:
        super().__init__(root)
        self._snapshot = JudgedAhead.of(path)

    @property
    def snapshot(self) -> JudgedAhead | None:
        """The snapshot being judged ahead, until a load takes it (or this is closed)."""
        with self._lock:
            return self._snapshot

    def take_snapshot(self) -> JudgedAhead | None:
        """The snapshot judged ahead, now the caller's to close; ``None`` once taken."""
        with self._lock:
            snapshot, self._snapshot = self._snapshot, None
        return snapshot

    def close(self) -> None:
        super().close()
        snapshot = self.take_snapshot()
        if snapshot is not None:
            snapshot.close()

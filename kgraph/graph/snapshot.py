"""A warm start: a snapshot of the built graph, reused while the corpus is unchanged.

A snapshot is one file in a cache folder outside the corpus::

    KGSNAP\\n
    {"format": 6, "kgraph": …, "networkx": …, "schema": …, "fingerprint": …,
     "size": …, "digest": …}   …\\n     (one line, padded with spaces to 1 KiB)
    <pickle (protocol 5) of the graph's data>
    <zeros up to the next page>
    <every answer's UTF-8 bytes>            (mapped in place, see AnswerStore)

The header is JSON, so a snapshot is judged (magic, versions, the fields of
the records, fingerprint of the corpus, size and CRC-32 of the payload)
before a byte of pickle is read:
a stale, truncated, corrupt or foreign file is ignored and the graph rebuilt.

Security: unpickling runs code, so a snapshot is only ever read from our own
cache folder (``cache_dir``, ``$KGRAPH_CACHE_DIR``, ``$XDG_CACHE_HOME/kgraph``
or ``~/.cache/kgraph``), which must belong to the server's user and not be
writable by others. On POSIX a folder or file that another user owns, or that
group or others may write, is refused. The payload's CRC-32 (five times as
fast as a cryptographic digest: a third of a second less at 200k articles)
detects damage, not forgery: anyone who can write the cache folder can run
code in the server anyway.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import functools
import hashlib
import io
import json
import logging
import os
import pickle
import stat
import tempfile
import time
import zlib
from array import array
from collections.abc import Sequence
from dataclasses import fields, is_dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, BinaryIO

import networkx as nx

import kgraph
from kgraph import model
from kgraph.corpus import CorpusListing, list_corpus
from kgraph.errors import CorpusError
from kgraph.graph.answers import AnswerStore, page_aligned
from kgraph.graph.build import _collector_paused
from kgraph.graph.knowledge import KnowledgeGraph

__all__ = [
    "fingerprint",
    "load_snapshot",
    "save_snapshot",
    "snapshot_path",
]

logger = logging.getLogger(__name__)

MAGIC = b"KGSNAP\n"
#: Bumped whenever the layout of a snapshot changes (5: answers in a mapped region
#: after the pickle, issue 17; 6: the keyword index as arrays, the word index read from search's).
FORMAT = 6
SUFFIX = ".kgsnap"
# A header is a few hundred bytes, padded with spaces to this room; a longer
# first line is not ours.
_HEADER_ROOM = 1024
_MAX_HEADER = 4096
_CHUNK = 1 << 20

# Fields kept out of a snapshot: derived values, and the times of one load.
_TRANSIENT = frozenset({"loaded_at", "load_seconds", "computing"})
_MAPPINGS = (
    "articles",
    "wanted",
    "topics",
    "by_url",
    "by_topic",
    "by_keyword",
    "findings_by_article",
    "link_paths",
    "references_by_topic",
)

#: The mappings that a graph builds on first use (:class:`LazyIndex`).
_INDEXES = frozenset({"by_keyword"})


class _Refused(Exception):
    """A snapshot that must not be used; the message says why."""


def _digest(*parts: bytes, size: int = 32) -> hashlib.blake2b:
    digest = hashlib.blake2b(digest_size=size)
    for part in parts:
        digest.update(part)
    return digest


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
    paths = (listing or list_corpus(root)).files
    base = str(Path(root).resolve())
    digest = _digest()
    digest.update(json.dumps([kgraph.__version__, _code_digest(), base]).encode())
    # By chunks of files: one digest update each, and no corpus-sized text at once.
    for start in range(0, len(paths), _STAT_CHUNK):
        digest.update(_file_facts(base, paths[start : start + _STAT_CHUNK]))
    return digest.hexdigest()


_STAT_CHUNK = 2_000


def _file_facts(base: str, paths: Sequence[str]) -> bytes:
    """What the fingerprint takes of each file of ``paths``: path, size, times and inode."""
    parts: list[str] = []
    stat_of, join = os.stat, os.path.join
    for path in paths:
        try:
            status = stat_of(join(base, path))
            # ctime and inode too: a same-size edit that kept its mtime
            # (cp -p, rsync -t, touch -r) still changes them.
            facts = f"{status.st_size}\0{status.st_mtime_ns}\0{status.st_ctime_ns}\0{status.st_ino}"
        except OSError:
            # Gone since it was listed: still a state the build would see.
            facts = "-"
        # No path holds a NUL, so no file's facts can pass for another's.
        parts.append(f"{path}\0{facts}\0")
    return "".join(parts).encode(errors="surrogateescape")


@functools.cache
def _code_digest() -> str:
    """A digest of kgraph's own source files: the code that built a snapshot must be this one."""
    package = Path(kgraph.__file__).parent
    digest = _digest(size=16)
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode() + b"\0")
        digest.update(source.read_bytes() + b"\0")
    return digest.hexdigest()


_take_fingerprint = fingerprint  # reachable where a parameter shadows the name


def _cache_folder(cache_dir: str | os.PathLike[str] | None) -> Path:
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

    The folder is ``cache_dir``, else ``$KGRAPH_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/kgraph``, else ``~/.cache/kgraph``.

    Examples
    --------
    >>> snapshot_path("seeds", "/cache").parent, snapshot_path("seeds", "/cache").suffix
    (PosixPath('/cache'), '.kgsnap')
    >>> snapshot_path("seeds", "/c") == snapshot_path("./seeds/../seeds", "/c")
    True
    """
    name = _digest(str(Path(root).resolve()).encode(), size=16).hexdigest()
    return _cache_folder(cache_dir) / f"{name}{SUFFIX}"


def _header(print_: str, size: int, digest: str) -> dict[str, object]:
    return {
        "format": FORMAT,
        "kgraph": kgraph.__version__,
        "networkx": nx.__version__,
        "schema": _schema(),
        "fingerprint": print_,
        "size": size,
        "digest": digest,
    }


def _records() -> tuple[type, ...]:
    """The model's dataclasses, KnowledgeGraph's included: what a payload is made of."""
    found = (getattr(model, name) for name in model.__all__)
    return (
        *(kind for kind in found if isinstance(kind, type) and is_dataclass(kind)),
        KnowledgeGraph,
    )


def _schema() -> str:
    """A digest of every record's fields, so a snapshot of other records is never read."""
    layout = [(kind.__qualname__, [item.name for item in fields(kind)]) for kind in _records()]
    return _digest(json.dumps(layout).encode(), size=16).hexdigest()


class _Checksum:
    """The CRC-32 of a payload, fed in pieces."""

    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes | memoryview) -> None:
        self.value = zlib.crc32(data, self.value)

    def hexdigest(self) -> str:
        return f"crc32:{self.value:08x}"


class _DigestWriter:
    """A binary file that also checksums and counts what is written through it."""

    def __init__(self, out: io.BufferedWriter) -> None:
        self.out = out
        self.digest = _Checksum()
        self.size = 0

    def write(self, data: bytes | memoryview | pickle.PickleBuffer) -> int:
        # Pickle (protocol 5) hands large buffers, numpy arrays', over as they are.
        view = memoryview(data).cast("B")
        self.digest.update(view)
        self.size += view.nbytes
        return self.out.write(view)


def _dump(data: object, out: _DigestWriter) -> None:
    """Pickle ``data`` straight into ``out``: no copy of the payload is held in memory."""
    # The model's records pickle as their class called with their fields
    # (see kgraph.model): a warm load takes half the time it would otherwise.
    pickle.Pickler(out, protocol=5).dump(data)


def _plain_graph(graph: nx.DiGraph[int]) -> nx.DiGraph[int]:
    """The graph as it pickles: a shallow copy without networkx's cache of results.

    Pickled whole (not rebuilt from its edges) so the order of every adjacency,
    predecessors included, stays that of the build.
    """
    plain = copy.copy(graph)
    plain.__networkx_cache__ = {}
    return plain


def _payload(kg: KnowledgeGraph, *, derived: bool) -> dict[str, Any]:
    """The graph's data; with ``derived``, the values derived from it so far too.

    Derived values (curation reports, search indexes…) are kept so that a warm
    start need not compute them again: they depend on the graph alone, which
    the fingerprint (corpus and kgraph's code) ties to this snapshot.
    """
    data: dict[str, Any] = {}
    for item in fields(KnowledgeGraph):
        if item.name in _TRANSIENT:
            continue
        value = getattr(kg, item.name)
        # MappingProxyType does not pickle; the graph is unfrozen to plain data.
        if item.name in _MAPPINGS and item.name not in _INDEXES:
            value = dict(value)
        elif item.name == "graph":
            value = _plain_graph(value)
        elif item.name == "answers":
            # Their index only: the bytes follow the pickle (see save_snapshot).
            value = value.index
        elif item.name == "memo":
            # A copy: request threads may add to the memo while it is written.
            value = dict(value) if derived else {}
        data[item.name] = value
    return data


def save_snapshot(
    kg: KnowledgeGraph,
    root: str | os.PathLike[str],
    *,
    fingerprint: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Path | None:
    """Write the snapshot of ``kg``, read from ``root``; its path, or ``None`` when it failed.

    Parameters
    ----------
    fingerprint : str, optional
        The corpus fingerprint taken *before* ``kg`` was built, so a file
        changed during the build makes the snapshot stale rather than wrong.
        Taken now when not given.

    Never raises on I/O failure: a cache that cannot be written costs the next
    start its warm load, nothing else. The file appears whole or not at all.
    """
    target = snapshot_path(root, cache_dir)
    temporary: str | None = None
    try:
        print_ = _take_fingerprint(root) if fingerprint is None else fingerprint
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.stem}.", suffix=".tmp"
        )
        with os.fdopen(handle, "wb") as out:
            # The header's room is kept first and filled once the payload,
            # streamed after it, is counted and digested.
            out.write(MAGIC + b" " * (_HEADER_ROOM - 1) + b"\n")
            payload = _DigestWriter(out)
            try:
                _dump(_payload(kg, derived=True), payload)
            except (pickle.PicklingError, TypeError, AttributeError) as err:
                # A derived value that does not pickle: the graph alone, then.
                logger.info("snapshot without derived values (%s)", err)
                out.seek(_HEADER_ROOM + len(MAGIC))
                out.truncate()
                payload = _DigestWriter(out)
                _dump(_payload(kg, derived=False), payload)
            # The answers, where a mapping of them may start: counted and digested too.
            at = _HEADER_ROOM + len(MAGIC) + payload.size
            payload.write(bytes(page_aligned(at) - at))
            answers_at = _HEADER_ROOM + len(MAGIC) + payload.size
            for chunk in kg.answers.chunks():
                payload.write(chunk)
            header = json.dumps(
                {
                    **_header(print_, payload.size, payload.digest.hexdigest()),
                    "answers_at": answers_at,
                }
            )
            if len(header) >= _HEADER_ROOM:  # versions are short; never seen
                raise OSError(f"snapshot header of {len(header)} bytes does not fit")
            out.seek(len(MAGIC))
            # No fsync: a file cut short by a crash fails its size and digest
            # check and is rebuilt, so durability is not worth its seconds.
            out.write(header.encode().ljust(_HEADER_ROOM - 1) + b"\n")
        os.replace(temporary, target)
        temporary = None
    except (OSError, pickle.PicklingError, CorpusError) as err:
        logger.warning("could not write the graph snapshot %s: %s", target, err)
        return None
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
    logger.info("wrote the graph snapshot %s (%s bytes)", target, f"{payload.size:,}")
    return target


def _check_owner(path: Path, status: os.stat_result) -> None:
    """Refuse a file or folder that someone else could have written (POSIX only)."""
    if not hasattr(os, "geteuid"):
        return
    if status.st_uid != os.geteuid():
        raise _Refused(f"{path} belongs to another user")
    if status.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise _Refused(f"{path} is writable by group or others")


def _read(path: Path, print_: str) -> dict[str, Any]:
    _check_owner(path.parent, os.stat(path.parent))
    with open(path, "rb") as handle:
        _check_owner(path, os.fstat(handle.fileno()))
        if handle.read(len(MAGIC)) != MAGIC:
            raise _Refused("not a kgraph snapshot")
        line = handle.readline(_MAX_HEADER)
        try:
            header = json.loads(line)
        except ValueError as err:
            raise _Refused(f"unreadable header ({err})") from None
        if not isinstance(header, dict):
            raise _Refused("unreadable header")
        for key, current in (
            ("format", FORMAT),
            ("kgraph", kgraph.__version__),
            ("networkx", nx.__version__),
            ("schema", _schema()),
            ("fingerprint", print_),
        ):
            if header.get(key) != current:
                raise _Refused(f"made for {key} {header.get(key)!r}, not {current!r}")
        # Judged whole before a byte is unpickled, then unpickled from the
        # file: the payload is never held in memory beside the graph.
        start = handle.tell()
        digest, size = _Checksum(), 0
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
        if size != header.get("size") or digest.hexdigest() != header.get("digest"):
            raise _Refused("damaged payload (size or digest differs)")
        handle.seek(start)
        try:
            data = pickle.load(handle)
        except Exception as err:  # unpickling can fail in any way
            raise _Refused(f"payload does not unpickle ({type(err).__name__}: {err})") from None
        data["answers"] = _answers(
            handle, header, data.get("answers") if isinstance(data, dict) else None, start + size
        )
    expected = {item.name for item in fields(KnowledgeGraph)} - _TRANSIENT
    if not isinstance(data, dict) or set(data) != expected:
        raise _Refused("payload is not a graph's data")
    if not isinstance(data["graph"], nx.DiGraph):
        raise _Refused("payload holds no graph")
    if not isinstance(data["memo"], dict):
        raise _Refused("payload holds no derived values")
    return data


def _answers(handle: BinaryIO, header: dict[str, Any], index: object, end: int) -> AnswerStore:
    """The answers the snapshot carries after its pickle, mapped in place."""
    at = header.get("answers_at")
    if not (
        isinstance(at, int)
        and isinstance(index, tuple)
        and len(index) == 3
        and all(isinstance(part, array) for part in index)
    ):
        raise _Refused("payload holds no answers")
    if at != page_aligned(at) or not handle.tell() <= at <= end:
        raise _Refused("the answers are not where the header says")
    try:
        return AnswerStore.mapped(handle, at, end - at, index)
    except ValueError as err:
        raise _Refused(f"unreadable answers ({err})") from None


def load_snapshot(
    root: str | os.PathLike[str],
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    fingerprint: str | None = None,
) -> KnowledgeGraph | None:
    """The graph of ``root`` from its snapshot, or ``None`` when there is none to trust.

    Parameters
    ----------
    fingerprint : str, optional
        The corpus fingerprint, when the caller already took it.

    A missing, stale, damaged, foreign or unreadable snapshot is ignored (the
    reason logged), never raised. ``load_seconds`` is the time of this load.
    """
    started = time.perf_counter()
    path = snapshot_path(root, cache_dir)
    try:
        print_ = _take_fingerprint(root) if fingerprint is None else fingerprint
        with _collector_paused():
            data = _read(path, print_)
    except FileNotFoundError:
        logger.debug("no graph snapshot at %s", path)
        return None
    except (OSError, CorpusError, _Refused) as err:
        logger.info("ignoring the graph snapshot %s: %s", path, err)
        return None
    for name in _MAPPINGS:
        if name not in _INDEXES:  # those pickle as themselves
            data[name] = MappingProxyType(data[name])
    data["graph"] = nx.freeze(data["graph"])
    # As read_corpus names it, so a warm graph matches a cold one.
    data["root"] = os.fspath(root)
    return KnowledgeGraph(
        **data,
        loaded_at=datetime.datetime.now(datetime.UTC),
        load_seconds=time.perf_counter() - started,
    )

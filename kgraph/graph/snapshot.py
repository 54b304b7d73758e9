"""A warm start: a snapshot of the built graph, reused while the corpus is unchanged.

A snapshot is one file in a cache folder outside the corpus::

    KGSNAP\\n
    {"format": 9, "kgraph": …, "networkx": …, "schema": …, "fingerprint": …,
     "size": …, "digest": …, "files": …, "answers_at": …, "answers_digest": …}   …\\n
                                            (one line, padded with spaces to 1 KiB)
    <pickle (protocol 5) of the graph's data>
    <zeros up to the next page>
    <every answer's UTF-8 bytes>            (mapped in place, see AnswerStore)

The header is JSON, so a snapshot is judged (magic, versions, the fields of
the records, fingerprint of the corpus, size and CRC-32 of the pickle)
before a byte of pickle is read (the answers' CRC-32 is checked meanwhile):
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
import io
import json
import logging
import os
import pickle
import stat
import tempfile
import time
from array import array
from dataclasses import fields, is_dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, BinaryIO

import networkx as nx

import kgraph
from kgraph import model, snapshot_files
from kgraph.corpus.fingerprint import FingerprintElsewhere, Fingerprinting, digest_of, fingerprint
from kgraph.errors import CorpusError
from kgraph.graph.answers import AnswerStore, page_aligned
from kgraph.graph.build import collector_paused
from kgraph.graph.knowledge import KnowledgeGraph
from kgraph.graph.table import ArticleTable
from kgraph.snapshot_files import (
    MAGIC,
    Checksum,
    FingerprintAhead,
    JudgedAhead,
    read_header,
    snapshot_path,
)

__all__ = [
    "Fingerprinting",
    "fingerprint",
    "load_snapshot",
    "save_snapshot",
    "snapshot_path",
]

logger = logging.getLogger(__name__)

#: Bumped whenever the layout of a snapshot changes (5: answers in a mapped region
#: after the pickle, issue 17; 6: the keyword index as arrays, the word index read
#: from search's; 7: the answers digested apart from the pickle; 8: the articles as
#: columns, an ArticleTable; 9: the corpus's count of files in the header).
FORMAT = 9
# A header is a few hundred bytes, padded with spaces to this room; a longer
# first line is not ours.
_HEADER_ROOM = 1024

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


_take_fingerprint = fingerprint  # reachable where a parameter shadows the name


def _header(print_: str, size: int, digest: str, files: int) -> dict[str, object]:
    return {
        "format": FORMAT,
        "kgraph": kgraph.__version__,
        "networkx": nx.__version__,
        "schema": _schema(),
        "fingerprint": print_,
        "size": size,
        "digest": digest,
        "files": files,
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
    return digest_of(json.dumps(layout).encode(), size=16).hexdigest()


class _DigestWriter:
    """A binary file that also checksums and counts what is written through it."""

    def __init__(self, out: io.BufferedWriter) -> None:
        self.out = out
        self.digest = Checksum()
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
        if item.name == "articles":
            # As columns: a dozen arrays to unpickle, not millions of objects.
            table = ArticleTable.of(value)
            value = dict(value) if table is None else table
        elif item.name in _MAPPINGS and item.name not in _INDEXES:
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


#: A snapshot's temporary file untouched for this long was left by a writer that
#: was killed (a live one writes to it every few milliseconds): it is removed.
ABANDONED_AFTER = 600.0


def _remove_abandoned(target: Path) -> None:
    """Remove the temporary files of ``target`` that writers killed mid-write left.

    A writer's ``finally`` removes its file, except when the process is killed
    (``docker stop`` past its grace period while a large graph is written):
    then a file of gigabytes stayed in the cache folder for good.
    """
    now = time.time()
    for left in target.parent.glob(f".{target.stem}.*.tmp"):
        with contextlib.suppress(OSError):
            if now - left.lstat().st_mtime > ABANDONED_AFTER:
                left.unlink()
                logger.info("removed %s, left by a snapshot writer that was stopped", left)


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
        _remove_abandoned(target)
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
            # The answers, where a mapping of them may start: counted, and
            # digested apart, so that a load checks them while it unpickles.
            at = _HEADER_ROOM + len(MAGIC) + payload.size
            payload.write(bytes(page_aligned(at) - at))
            answers_at = _HEADER_ROOM + len(MAGIC) + payload.size
            pickled, payload.digest = payload.digest, Checksum()
            for chunk in kg.answers.chunks():
                payload.write(chunk)
            header = json.dumps(
                {
                    **_header(print_, payload.size, pickled.hexdigest(), len(kg.files)),
                    "answers_at": answers_at,
                    "answers_digest": payload.digest.hexdigest(),
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


def _header_of(path: Path, handle: BinaryIO) -> dict[str, Any]:
    """The header of the snapshot ``path`` open as ``handle`` (left after it), refused
    unless the snapshot is ours, in this format and of these versions and records."""
    _check_owner(path.parent, os.stat(path.parent))
    _check_owner(path, os.fstat(handle.fileno()))
    try:
        header = read_header(handle)
    except ValueError as err:
        raise _Refused(str(err)) from None
    for key, current in (
        ("format", FORMAT),
        ("kgraph", kgraph.__version__),
        ("networkx", nx.__version__),
        ("schema", _schema()),
    ):
        if header.get(key) != current:
            raise _Refused(f"made for {key} {header.get(key)!r}, not {current!r}")
    return header


def _read(
    path: Path,
    print_: str | Fingerprinting | FingerprintElsewhere,
    ahead: JudgedAhead | None = None,
) -> dict[str, Any]:
    """The graph's data in the snapshot at ``path``, refused unless made for ``print_``.

    A fingerprint still being taken is judged by its listing first, and whole
    once the payload is unpickled: the stats are taken meanwhile. ``ahead``:
    the snapshot opened and being checksummed already (read from that file,
    whatever became of ``path`` since, and closed here).
    """
    with contextlib.ExitStack() as stack:
        if ahead is None:
            handle: BinaryIO = stack.enter_context(open(path, "rb"))
        else:
            stack.callback(ahead.close)
            handle = ahead.handle
            handle.seek(0)
        header = _header_of(path, handle)
        stated = header.get("fingerprint")
        known = print_ if isinstance(print_, str) else print_.listing
        if not isinstance(stated, str) or (known is not None and not stated.startswith(known)):
            raise _Refused(f"made for fingerprint {stated!r}, not {known!r}")
        start = handle.tell()
        end = os.fstat(handle.fileno()).st_size
        at = header.get("answers_at")
        if end - start != header.get("size"):
            raise _Refused("damaged payload (its size differs)")
        if not isinstance(at, int) or not start <= at <= end:
            raise _Refused("the answers are not where the header says")
        # The pickle is judged whole before a byte of it is unpickled, then
        # unpickled from the file: it is never held in memory beside the graph.
        if ahead is not None:
            digest = ahead.checksum(start, at)
        else:
            digest = snapshot_files.checksum(handle, start, at)
        if digest != header.get("digest"):
            raise _Refused("damaged payload (its digest differs)")
        if ahead is None:
            # The answers are only mapped, never run: checked while the pickle
            # loads (a thread: mapping and CRC-32 let go of the GIL).
            ahead = JudgedAhead(handle, [(at, end)])
            stack.callback(ahead.close)
        try:
            data = pickle.load(handle)
        except Exception as err:  # unpickling can fail in any way
            raise _Refused(f"payload does not unpickle ({type(err).__name__}: {err})") from None
        if ahead.checksum(at, end) != header.get("answers_digest"):
            raise _Refused("damaged answers (their digest differs)")
        data["answers"] = _answers(
            handle, header, data.get("answers") if isinstance(data, dict) else None, end
        )
    if not isinstance(print_, str) and stated != print_.result():
        raise _Refused(f"made for fingerprint {stated!r}, not {print_.result()!r}")
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
    fingerprint: str | Fingerprinting | FingerprintElsewhere | None = None,
) -> KnowledgeGraph | None:
    """The graph of ``root`` from its snapshot, or ``None`` when there is none to trust.

    Parameters
    ----------
    fingerprint : str, Fingerprinting or FingerprintElsewhere, optional
        The corpus fingerprint, when the caller already took it or is taking
        it: the snapshot is read meanwhile, and trusted once it is taken. A
        :class:`~kgraph.snapshot_files.FingerprintAhead` also holds the snapshot
        opened and checksummed ahead, which is read then (and closed).

    A missing, stale, damaged, foreign or unreadable snapshot is ignored (the
    reason logged), never raised. ``load_seconds`` is the time of this load.
    """
    started = time.perf_counter()
    path = snapshot_path(root, cache_dir)
    try:
        print_ = _take_fingerprint(root) if fingerprint is None else fingerprint
        # The snapshot judged ahead of the imports (kgraph serve), when it is this one.
        ahead = print_.take_snapshot() if isinstance(print_, FingerprintAhead) else None
        if ahead is not None and ahead.path != path:
            ahead.close()
            ahead = None
        with collector_paused():
            data = _read(path, print_, ahead)
    except FileNotFoundError:
        logger.debug("no graph snapshot at %s", path)
        return None
    except (OSError, CorpusError, _Refused) as err:
        logger.info("ignoring the graph snapshot %s: %s", path, err)
        return None
    for name in _MAPPINGS:
        # Indexes and an article table pickle as themselves (read-only already).
        if name not in _INDEXES and not isinstance(data[name], ArticleTable):
            data[name] = MappingProxyType(data[name])
    data["graph"] = nx.freeze(data["graph"])
    # As read_corpus names it, so a warm graph matches a cold one.
    data["root"] = os.fspath(root)
    return KnowledgeGraph(
        **data,
        loaded_at=datetime.datetime.now(datetime.UTC),
        load_seconds=time.perf_counter() - started,
    )

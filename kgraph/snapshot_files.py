"""Where a corpus's snapshot file lives, and what its first line says: no graph imported.

The snapshot itself is :mod:`kgraph.graph.snapshot`'s. This module is what
``kgraph serve`` asks before its imports (0.6 s, networkx's, strawberry's…)
whether a warm start of a large corpus is coming, so that the corpus is
listed and stat-ed meanwhile (:func:`fingerprint_ahead`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, BinaryIO

from kgraph.corpus.fingerprint import FingerprintElsewhere, digest_of

__all__ = [
    "LIST_ELSEWHERE_FROM",
    "MAGIC",
    "SUFFIX",
    "cache_folder",
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
) -> FingerprintElsewhere | None:
    """The fingerprint of ``root`` being taken by a child process, when its snapshot
    says that it held :data:`LIST_ELSEWHERE_FROM` files or more; else ``None``.

    For the warm start to come (``load_corpus(fingerprinting=…)``), which then
    unpickles the snapshot without listing the folder first. The caller closes it.
    """
    files = stated_files(root, cache_dir)
    if files is None or files < LIST_ELSEWHERE_FROM:
        return None
    return FingerprintElsewhere(root)

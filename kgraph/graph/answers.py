"""Every article's answer in one memory-mapped file, out of the interpreter's heap.

Answers are most of a corpus's bytes (60 MB of the dev corpus, half a gigabyte
at 200,000 articles) and a request reads one at a time, so they are not
Python objects: an :class:`AnswerStore` holds them as UTF-8, one after another,
in a file mapped read-only into memory. Pages of it are read in as answers are
asked for and belong to the system's file cache, shared by every process that
maps the file (the serving processes of ``kgraph serve --processes``) and given
back under memory pressure, where objects on the heap would be each process's
own for good.

A graph built from the files writes its answers to an unnamed temporary file;
its snapshot carries them in a region of its own, which a warm start maps in
place instead of unpickling a quarter of a million byte strings.
"""

from __future__ import annotations

import bisect
import mmap
import os
import tempfile
import weakref
from array import array
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from kgraph.errors import ArticleNotFound

__all__ = ["AnswerStore", "page_aligned"]

_EMPTY = b""


class AnswerStore:
    """Article id → its answer as written (escaped line breaks), read from a mapped file.

    ``ids`` are ascending; answer ``i`` is bytes ``starts[i]:ends[i]`` of ``data``
    (a file read from the corpus holds every file's answer, copies' too, in
    reading order; a store written here holds them by id).

    >>> store = AnswerStore.write([(3, "x \\\\neq 0$".encode()), (7, b"")])
    >>> store.raw(3), store.raw(7), len(store)
    ('x \\\\neq 0$', '', 2)
    """

    __slots__ = ("__weakref__", "data", "ends", "file", "ids", "start", "starts")

    def __init__(
        self,
        ids: array[int],
        starts: array[int],
        ends: array[int],
        data: mmap.mmap | bytes,
        file: BinaryIO,
        start: int = 0,
    ) -> None:
        if not len(ids) == len(starts) == len(ends) or (
            len(ids) and (min(starts) < 0 or max(ends) > len(data))
        ):
            raise ValueError("answer offsets do not match the answers")
        self.ids, self.starts, self.ends, self.data = ids, starts, ends, data
        # The mapped file, open, and where the answers start in it: copied from
        # there (chunks), not through the mapping, which would bring every page
        # of it into this process's resident memory.
        self.file, self.start = file, start
        weakref.finalize(self, file.close)  # closed with the last reference to the store

    @classmethod
    def write(cls, answers: Iterable[tuple[int, bytes]]) -> AnswerStore:
        """A store of ``answers`` (id, UTF-8 bytes), ids ascending, in a new unnamed file.

        The file has no name (it is gone with the last mapping of it); its pages
        are written through the system's file cache, never held on the heap.
        """
        ids, offsets = array("q"), array("q", [0])
        with tempfile.TemporaryFile(prefix="kgraph-answers-") as out:
            size = 0
            for article_id, answer in answers:
                if ids and article_id <= ids[-1]:
                    raise ValueError("answers must come by ascending article id")
                ids.append(article_id)
                size += out.write(answer)
                offsets.append(size)
            out.flush()
            return cls.spooled(out, size, ids, offsets[:-1], offsets[1:])

    @classmethod
    def spooled(
        cls,
        file: BinaryIO,
        size: int,
        ids: array[int],
        starts: array[int],
        ends: array[int],
    ) -> AnswerStore:
        """The store of answers written to ``file`` (``size`` bytes from its start).

        The store keeps a file object of its own (``file`` may be closed).
        """
        own = open(os.dup(file.fileno()), "rb")  # noqa: SIM115 (kept with the store)
        return cls(ids, starts, ends, cls._map(own, 0, size), own)

    @staticmethod
    def _map(handle: BinaryIO, offset: int, size: int) -> mmap.mmap | bytes:
        """``size`` bytes of ``handle`` from ``offset``, mapped read-only (none: empty bytes)."""
        if size == 0:
            return _EMPTY  # a mapping cannot be empty
        return mmap.mmap(handle.fileno(), size, access=mmap.ACCESS_READ, offset=offset)

    @classmethod
    def mapped(
        cls,
        handle: BinaryIO,
        offset: int,
        size: int,
        index: tuple[array[int], array[int], array[int]],
    ) -> AnswerStore:
        """The store whose ``size`` bytes sit in ``handle`` from ``offset``.

        ``offset``: see :func:`page_aligned`; ``index``: the store's :attr:`index`.
        """
        # The store keeps a file object of its own (the caller closes ``handle``).
        own = open(os.dup(handle.fileno()), "rb")  # noqa: SIM115 (kept with the store)
        ids, starts, ends = index
        return cls(ids, starts, ends, cls._map(own, offset, size), own, offset)

    @property
    def index(self) -> tuple[array[int], array[int], array[int]]:
        """Ids, starts and ends: what :meth:`mapped` needs besides the bytes."""
        return self.ids, self.starts, self.ends

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def size(self) -> int:
        """Bytes of the answers' file (as :meth:`chunks` gives them)."""
        return len(self.data)

    def utf8(self, article_id: int) -> bytes:
        """The answer of ``article_id`` as UTF-8 bytes.

        Raises
        ------
        ArticleNotFound
            When the store holds no answer of that id.
        """
        at = bisect.bisect_left(self.ids, article_id)
        if at >= len(self.ids) or self.ids[at] != article_id:
            raise ArticleNotFound(article_id)
        return self.data[self.starts[at] : self.ends[at]]

    def raw(self, article_id: int) -> str:
        """The answer of ``article_id`` as written (escaped line breaks), decoded."""
        return self.utf8(article_id).decode("utf-8", "surrogatepass")

    def chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        """The bytes of the answers' file, in pieces of ``size``: what :meth:`mapped` maps back.

        Read from the file, not the mapping: a snapshot written from a mapping
        made all of it resident in the writing process (60 MB on dev).
        """
        total = len(self.data)
        for done in range(0, total, size):
            yield os.pread(self.file.fileno(), min(size, total - done), self.start + done)

    def __reduce__(self) -> tuple[object, ...]:
        # Pickled whole only where no snapshot maps it (a copy for a test, a
        # process of its own): the answers as bytes, in a new file when loaded.
        return (_unpickle, (self.ids, self.starts, self.ends, b"".join(self.chunks())))


def _unpickle(
    ids: array[int],
    starts: array[int],
    ends: array[int],
    data: bytes,
) -> AnswerStore:
    return AnswerStore.write(
        (i, data[start:end]) for i, start, end in zip(ids, starts, ends, strict=True)
    )


def page_aligned(position: int) -> int:
    """``position`` rounded up to where a mapping may start (the allocation granularity)."""
    step = mmap.ALLOCATIONGRANULARITY
    return -(-position // step) * step

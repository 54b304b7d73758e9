"""Sparse matrices regrouped a block at a time, each block let go of once it is placed.

scipy converts a whole matrix at once (rows to columns, or back): its input and
its output are held together, and so is any input gathered for it. The search
index and the relatedness model are built from blocks (of rows, of columns)
instead, placed into the output as they come (a counting sort): what is held
at once is the output and one block.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Block", "Numbering", "column_spans", "distinct", "regroup", "transpose"]


class Numbering(dict[str, int]):
    """Terms → numbers from 0, a term numbered on its first look-up.

    Mapped over a text's terms (``map(numbering.__getitem__, terms)``) it
    numbers them in C, a dict look-up each, in the order first met.

    >>> numbers = Numbering()
    >>> list(map(numbers.__getitem__, ["b", "a", "b"])), list(numbers)
    ([0, 1, 0], ['b', 'a'])
    """

    def __missing__(self, term: str) -> int:
        self[term] = number = len(self)
        return number


def distinct(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """The distinct ``values``, ascending: sorted, then the first of each run of equal ones.

    What ``np.unique(values)`` gives; numpy 2 works that one out by hashing
    (when asked for the values alone), ten times slower on a million
    mostly distinct integers than this sort (the search index's postings at
    200,000 generated articles: 1.6 s of its 9 s).

    >>> distinct(np.array([3, 1, 3, 2])).tolist()
    [1, 2, 3]
    """
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    first = np.empty(len(ordered), dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]


#: The keys (the output's groups: rows or columns), the other position of
#: each entry, and its value (or ``None``).
Block = tuple[npt.NDArray[np.integer], npt.NDArray[np.integer], npt.NDArray[np.floating] | None]


def regroup(
    blocks: Iterable[Block], counts: npt.NDArray[np.integer]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.floating] | None]:
    """Entries grouped by key: ``starts``, and each entry's other position and value.

    Key ``k``'s entries are at ``starts[k]:starts[k + 1]``, in the order they
    came. ``counts`` says how many entries each key has in all; the blocks
    come in ascending order of their other positions for any one key (a row's
    columns, a column's rows), which the output keeps.

    >>> first = (np.array([1, 0, 1]), np.array([0, 0, 1]), None)
    >>> second = (np.array([0]), np.array([2]), None)
    >>> starts, others, values = regroup([first, second], np.array([2, 2]))
    >>> starts.tolist(), others.tolist(), values is None
    ([0, 2, 4], [0, 2, 0, 1], True)
    """
    starts = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    others = np.empty(int(starts[-1]), dtype=np.int32)
    values: npt.NDArray[np.floating] | None = None
    free = starts[:-1].copy()  # each key's next place
    for keys, positions, data in blocks:
        if len(keys) == 0:
            continue
        order = np.argsort(keys, kind="stable")  # a key's entries stay in their order
        keys = keys[order]
        first = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        held = np.diff(np.r_[first, len(keys)])
        at = free[keys] + (np.arange(len(keys)) - np.repeat(first, held))
        others[at] = positions[order]
        if data is not None:
            if values is None:
                values = np.empty(len(others), dtype=data.dtype)
            values[at] = data[order]
        free[keys[first]] += held
    return starts, others, values


def column_spans(indptr: npt.NDArray[np.integer], most: int) -> Iterator[tuple[int, int]]:
    """Consecutive spans ``(first, stop)`` of a compressed matrix's columns (or
    rows), each holding at most ``most`` entries, or one column holding more.

    >>> list(column_spans(np.array([0, 2, 3, 9, 10]), 3))
    [(0, 2), (2, 3), (3, 4)]
    """
    columns = len(indptr) - 1
    first = 0
    while first < columns:
        stop = int(np.searchsorted(indptr, indptr[first] + most, side="right")) - 1
        stop = min(max(stop, first + 1), columns)
        yield first, stop
        first = stop


def transpose(
    indptr: npt.NDArray[np.integer],
    indices: npt.NDArray[np.integer],
    data: npt.NDArray[np.floating],
    inner: int,
    *,
    kept: npt.NDArray[np.bool_] | None = None,
    kept_inner: npt.NDArray[np.bool_] | None = None,
    scale: npt.NDArray[np.floating] | None = None,
    most: int = 2**18,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.floating] | None]:
    """A compressed matrix (rows, or columns) transposed by :func:`regroup`, a span at a time.

    Only the entries of outer positions ``kept`` and of inner positions
    ``kept_inner`` are taken (all when ``None``), each times its outer
    position's ``scale``. ``inner`` is how many inner positions there are;
    ``most`` how many entries a span holds (some 50 bytes of work each).

    >>> starts, others, values = transpose(
    ...     np.array([0, 2, 3]), np.array([0, 1, 1]), np.array([1.0, 2.0, 3.0]), 2
    ... )
    >>> starts.tolist(), others.tolist(), values.tolist()
    ([0, 1, 3], [0, 0, 1], [1.0, 2.0, 3.0])
    """

    def spans() -> Iterator[Block]:
        for first, stop in column_spans(indptr, most):
            begin, end = int(indptr[first]), int(indptr[stop])
            outer = np.repeat(
                np.arange(first, stop, dtype=np.int32), np.diff(indptr[first : stop + 1])
            )
            inside = indices[begin:end]
            chosen = np.ones(end - begin, dtype=bool)
            if kept is not None:
                chosen &= kept[outer]
            if kept_inner is not None:
                chosen &= kept_inner[inside]
            values = data[begin:end][chosen]
            if scale is not None:
                values = values * scale[outer[chosen]]
            yield inside[chosen], outer[chosen], values

    counts = np.zeros(inner, dtype=np.int64)
    for keys, _, _ in spans():
        np.add.at(counts, keys, 1)
    return regroup(spans(), counts)

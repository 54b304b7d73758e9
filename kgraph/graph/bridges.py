"""Bridges: each article's closest articles by text, where a learning path may step without a link.

The link graph of a real corpus is thousands of small islands, so a path
between two topics nearly always needs a step that no link gives. A bridge is
such a step between two articles the relatedness model
(:mod:`kgraph.graph.relatedness`) finds close by their text: each article's
:data:`PER_ARTICLE` nearest by the cosine of their text vectors, scored
``1 - exp(-cosine)`` as :func:`~kgraph.graph.relatedness.related` scores a pair
with no link evidence, and none under :data:`MIN_SCORE`. Both ends of a bridge
can take it (the relation is made symmetric).

Built at load (:func:`prepare_bridges`) and kept with the graph (and its
snapshot): comparing every pair would take seconds, so candidates are the
pairs that share a *rare* term (held by at most 1 % of the articles, and
never by more than 2,000): two
articles about one concept share its specific words; the best
:data:`PER_ARTICLE` of each article by those words are then scored in full.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from kgraph.graph.knowledge import KnowledgeGraph
from kgraph.graph.relatedness import relatedness_model
from kgraph.graph.sparse import column_spans, transpose

__all__ = ["MIN_SCORE", "PER_ARTICLE", "Bridges", "bridges", "bridges_of", "prepare_bridges"]

#: Bridges kept for each article (more may end at it: the relation is symmetric).
PER_ARTICLE = 8
#: No bridge scores less: articles sharing a few words of a topic are no step to learn by.
MIN_SCORE = 0.18

_KEY = ("paths", "bridges")
# Terms on at most this share of the articles (or _RARE_MIN of them), and never on
# more than _RARE_MOST, find the candidates. A share alone let the candidate product
# grow with the square of the corpus: at a million articles 1 % is 10,000 articles
# a term, no longer specific to one concept (63 s of the load, against 1.9 s at
# 200,000). The cap leaves corpora of up to 200,000 articles as they were.
_RARE_SHARE = 0.01
_RARE_MIN = 5
_RARE_MOST = 2_000
# The candidates of each article scored in full: its best by their rare terms.
_CANDIDATES = PER_ARTICLE
# Rows of the candidate product at once (a block is a sparse matrix of this many rows:
# 4,000 held 60 MB at once on the dev corpus, a thousand 15 MB, for the same time).
_BLOCK = 1000
# Entries of the text regrouped by term at a time (some 50 bytes of work each).
_SPAN = 2**18


@dataclass(frozen=True, slots=True)
class Bridges:
    """Each article's bridges: ``others[start[i]:start[i + 1]]`` for ``ids[i]``, best first."""

    ids: npt.NDArray[np.int64]
    start: npt.NDArray[np.int64]
    others: npt.NDArray[np.int64]
    scores: npt.NDArray[np.float32]

    def of(self, article_id: int) -> list[tuple[int, float]]:
        """The bridges of ``article_id``: ``(other article, score)``, best first."""
        at = int(np.searchsorted(self.ids, article_id))
        if at >= len(self.ids) or self.ids[at] != article_id:
            return []
        begin, end = int(self.start[at]), int(self.start[at + 1])
        return list(
            zip(self.others[begin:end].tolist(), self.scores[begin:end].tolist(), strict=True)
        )

    def score(self, a: int, b: int) -> float | None:
        """The score of the bridge between ``a`` and ``b``; ``None`` when there is none."""
        for other, score in self.of(a):
            if other == b:
                return score
        return None


def _candidates(text: sp.csr_matrix) -> npt.NDArray[np.int32]:
    """Each row's best :data:`_CANDIDATES` other rows by the rare terms they share (-1: none)."""
    n = text.shape[0]
    # Counted a span at a time: bincount widens its input to 64 bits (47 MB at
    # 200,000 generated articles for the whole text).
    holders = np.zeros(text.shape[1], dtype=np.int64)
    for first, stop in column_spans(text.indptr, 4 * _SPAN):
        holders += np.bincount(
            text.indices[text.indptr[first] : text.indptr[stop]], minlength=text.shape[1]
        )
    rare = holders <= min(max(_RARE_SHARE * n, _RARE_MIN), _RARE_MOST)
    # Each rare term's rows, regrouped from the text a span of rows at a time
    # (the text times a mask of rare terms, then its transpose, held two
    # copies of it: 44 MB over the graph at 200,000 generated articles). The
    # text's own rows multiply it: their other terms meet empty rows of it.
    starts, rows, values = transpose(
        text.indptr, text.indices, text.data, text.shape[1], kept_inner=rare, most=_SPAN
    )
    transposed = sp.csr_matrix(
        (
            np.zeros(0, np.float32) if values is None else values,
            rows,
            starts.astype(np.int32 if starts[-1] < 2**31 else np.int64),
        ),
        shape=(text.shape[1], n),
    )
    found = np.full((n, _CANDIDATES), -1, dtype=np.int32)
    for first in range(0, n, _BLOCK):
        block = sp.csr_matrix(text[first : first + _BLOCK] @ transposed)
        pointers, columns, values = block.indptr, block.indices, block.data
        for row in range(block.shape[0]):
            begin, end = pointers[row], pointers[row + 1]
            others, weights = columns[begin:end], values[begin:end]
            mine = others != first + row
            others, weights = others[mine], weights[mine]
            if len(others) > _CANDIDATES:
                best = np.argpartition(-weights, _CANDIDATES)[:_CANDIDATES]
                others = others[best]
            found[first + row, : len(others)] = others
    return found


def _cosines(
    text: sp.csr_matrix, rows: npt.NDArray[np.int32], columns: npt.NDArray[np.int32]
) -> npt.NDArray[np.float32]:
    """The dot product of rows ``rows[k]`` and ``columns[k]`` of ``text``, for each ``k``.

    A block of :data:`_BLOCK` articles' candidates at a time: both sides of every
    pair at once were two copies of the text matrix eight times over (a transient
    90 MB on the dev corpus, ten times that at 200,000 articles).
    """
    found = np.empty(len(rows), dtype=np.float32)
    step = _BLOCK * _CANDIDATES
    for first in range(0, len(rows), step):
        these, those = rows[first : first + step], columns[first : first + step]
        found[first : first + step] = np.asarray(
            text[these].multiply(text[those]).sum(axis=1)
        ).ravel()
    return found


def build_bridges(kg: KnowledgeGraph) -> Bridges:
    """The bridges of ``kg`` (see the module's docstring).

    >>> from kgraph.graph import load_graph
    >>> found = build_bridges(load_graph("seeds"))
    >>> [(other, round(score, 2)) for other, score in found.of(168904)]
    [(168914, 0.29), (168903, 0.23), (168897, 0.22), (84001, 0.21)]
    >>> found.of(168914)[0][0], found.score(168904, 168914) == found.score(168914, 168904)
    (168904, True)
    """
    model = relatedness_model(kg)
    return bridges_of(model.ids, model.text)


def bridges_of(ids: npt.NDArray[np.int64], text: sp.csr_matrix) -> Bridges:
    """The bridges of the articles ``ids`` by their text vectors (rows of ``text``, float32).

    What :func:`build_bridges` finds from the relatedness model's vectors; a
    load finds them in the process that builds search's index
    (:class:`~kgraph.graph.search.SearchElsewhere`), from the same vectors.
    """
    n = text.shape[0]
    # In 32 bits: every article's candidates, twice (13 MB an array at 200,000
    # generated articles in 64 bits).
    columns = _candidates(text).ravel()
    real = columns >= 0
    rows = np.repeat(np.arange(n, dtype=np.int32), _CANDIDATES)[real]
    columns = columns[real]
    del real
    score = -np.expm1(-_cosines(text, rows, columns))
    strong = score >= MIN_SCORE
    rows, columns, score = rows[strong], columns[strong], score[strong]
    # Both ways (a pair found from both ends once), each article's best first.
    pairs = sp.coo_matrix((score, (rows, columns)), shape=(n, n)).tocsr()
    both = pairs.maximum(pairs.T).tocsr()
    row_of = np.repeat(np.arange(n), np.diff(both.indptr))
    order = np.lexsort((both.indices, -both.data, row_of))
    return Bridges(
        ids=ids,
        start=both.indptr.astype(np.int64),
        others=ids[both.indices[order]],
        scores=both.data[order].astype(np.float32),
    )


def bridges(kg: KnowledgeGraph) -> Bridges:
    """The bridges of ``kg``, built on first use and kept with the graph."""
    return kg.derived(_KEY, lambda: build_bridges(kg))


def prepare_bridges(kg: KnowledgeGraph, found: Callable[[], Bridges] | None = None) -> None:
    """Build the bridges before any request needs them (the load calls this).

    ``found``: where they come from instead (the process that built search's
    index, see :class:`~kgraph.graph.search.SearchElsewhere`).
    """
    kg.derived(_KEY, found or (lambda: build_bridges(kg)))

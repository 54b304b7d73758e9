"""How related two articles are, learned from the corpus: its text and its links.

One model per graph, built at load (:func:`prepare_relatedness`) and kept with
the graph (and so in its snapshot):

- **text**: each article's vector of words as search weighs them
  (:mod:`kgraph.graph.search`: BM25F over title, question, keywords and the
  answer's summary, title weighing most, times each word's idf), normalised:
  the cosine of two articles is one sparse product;
- **structure**: the links taken both ways, each common neighbour of two
  articles counting ``1 / log(degree)`` (Adamic-Adar: a neighbour linked to
  everything says little), and whether the candidate already links to the
  article (a link one way is a strong hint of the other).

The combined score (:func:`related`) is
``1 - exp(-(log1p(5 · (adamic_adar + 0.05 · three_step_paths)) + cosine +
0.5 · links_back))``, in [0, 1): each part adds evidence, none alone reaches
1. Held out on the dev corpus (benchmarks/relatedness.py: one link of 600
articles removed from
every copy, the rest served), the removed article is in the first ten of
about 74 % of them, where the TF-IDF cosine alone finds 21 % and Adamic-Adar
alone 73 % (the README has the harness's table).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from kgraph.budget import checkpoint
from kgraph.errors import ArticleNotFound
from kgraph.graph.knowledge import KnowledgeGraph
from kgraph.graph.search import search_index
from kgraph.graph.sparse import column_spans, transpose

__all__ = [
    "Related",
    "RelatedPage",
    "RelatednessModel",
    "build_relatedness",
    "combined_evidence",
    "pair",
    "prepare_relatedness",
    "related",
    "relatedness_model",
    "relatedness_to",
    "text_vectors",
]

FloatArray: TypeAlias = npt.NDArray[np.floating]

# The model's key in ``KnowledgeGraph.memo``.
_KEY = "relatedness model"

# Weights of the combined score's parts: a common neighbour's evidence grows
# with the log of their Adamic-Adar sum; a link back is half a strong cosine.
_AA_SCALE = 5.0
_BACK_WEIGHT = 0.5
# Paths of three links (each middle article weighted as in Adamic-Adar) count
# a twentieth of a common neighbour: they reach articles of the same cluster
# that share no neighbour yet (held out on dev over three samples of 600:
# recall@10 0.730 -> 0.742).
_THREE_STEPS = 0.05
# relatedness_to scores so many pairs or fewer one by one (about 0.1 ms a pair).
_PAIRS_ONE_BY_ONE = 256
# Evidence below this is no relation (a score under 0.05): a few common words,
# which nearly every pair of articles shares.
_FLOOR = 0.05
# Terms on more than this share of the articles are left out of the text
# vectors; those on more than _TELLING_SHARE are no reason to show.
_COMMON_SHARE = 0.25
_TELLING_SHARE = 0.1
# Entries of search's index regrouped into rows (and rows normalised) at a time:
# each takes some 50 bytes of work arrays while it is placed, 13 MB a span.
_SPAN = 2**18


@dataclass(frozen=True, slots=True)
class RelatednessModel:
    """The text vectors and link matrices of every article, in ``ids`` order."""

    ids: npt.NDArray[np.int64]
    #: Rows: articles; columns: (field, term); L2-normalised rows.
    text: sp.csr_matrix
    #: The term of each column of ``text`` (the field's own vocabulary), as str.
    terms: npt.NDArray[np.object_]
    #: Whether each column's term is telling enough to be shown as a reason
    #: (held by at most a tenth of the articles, or three).
    telling: npt.NDArray[np.bool_]
    #: Undirected links (1.0 where either links to the other).
    links: sp.csr_matrix
    #: ``links`` with each column weighted ``1 / log(degree)`` (0 for degree 1).
    weighted: sp.csr_matrix
    #: Row ``i``: the articles linking to article ``i``.
    backlinks: sp.csr_matrix

    def position(self, article_id: int) -> int:
        """The row of ``article_id``.

        Raises
        ------
        ArticleNotFound
            When the model holds no such article.
        """
        at = int(np.searchsorted(self.ids, article_id))
        if at >= len(self.ids) or self.ids[at] != article_id:
            raise ArticleNotFound(article_id)
        return at


@dataclass(frozen=True, slots=True)
class Related:
    """An article related to another, with its score and why.

    ``shared_terms`` are the terms whose weights add most to the text cosine;
    ``common_neighbours`` the articles linked with both (either way), the
    rarest-linked first; ``link_distance`` how many links apart they are.
    """

    id: int
    score: float
    linked: bool
    text: float
    common_neighbours: tuple[int, ...]
    shared_terms: tuple[str, ...]
    #: Links between the two, either way: 1, 2 or 3; ``None`` when farther.
    link_distance: int | None = None


@dataclass(frozen=True, slots=True)
class RelatedPage:
    """One page of the articles related to another: how many there are in all, and the page."""

    total: int
    items: list[Related]


def build_relatedness(kg: KnowledgeGraph) -> RelatednessModel:
    """Build the relatedness model of ``kg`` (see the module's docstring).

    Examples
    --------
    >>> from kgraph.graph import load_graph
    >>> model = build_relatedness(load_graph("seeds"))
    >>> model.text.shape[0] == model.links.shape[0] == len(model.ids)
    True
    """
    index = search_index(kg)
    ids = index.ids
    text = text_vectors(index.weights, index.idf)
    holders = np.diff(index.weights.indptr)
    # The search index's own strings (an array of str_ is as wide as the longest word).
    terms = np.empty(len(index.terms), dtype=object)
    terms[list(index.terms.values())] = list(index.terms)

    # Both ends of every link, as rows (self links left out).
    ends = np.fromiter(
        chain.from_iterable(kg.graph.edges()),
        dtype=np.int64,
        count=2 * kg.graph.number_of_edges(),
    ).reshape(-1, 2)
    ends = ends[ends[:, 0] != ends[:, 1]]
    sources, targets = np.searchsorted(ids, ends[:, 0]), np.searchsorted(ids, ends[:, 1])
    del ends
    n = len(ids)
    out = sp.csr_matrix((np.ones(len(sources), dtype=np.float32), (sources, targets)), shape=(n, n))
    links = out.maximum(out.T).tocsr()  # a link either way
    degree = np.asarray(links.sum(axis=1)).ravel()
    weights = np.zeros(n, dtype=np.float32)
    many = degree > 1
    weights[many] = 1.0 / np.log(degree[many])
    weighted = (links @ sp.diags(weights)).tocsr().astype(np.float32)
    return RelatednessModel(
        ids=ids,
        text=text,
        terms=terms,
        telling=holders <= max(_TELLING_SHARE * text.shape[0], 3),
        links=links,
        weighted=weighted,
        backlinks=out.T.tocsr(),
    )


def text_vectors(by_term: sp.csc_array, idf: npt.NDArray[np.float32]) -> sp.csr_matrix:
    """Each article's text vector: search's BM25F weights (``by_term``) times their idf, normalised.

    TF-IDF vectorisers of their own took 0.6-1.4 s more of the load and found
    no more held-out links (recall@10 0.735 against 0.730, two samples of 600).
    Words on over a quarter of the articles ("what", "the") carry no relation
    (idf makes them faint on a large corpus, not on a small one): left out
    as the index's columns are regrouped into rows, a span of columns at a
    time (a copy of every weight, then one without those words, took 150 MB
    beside the graph at 200,000 generated articles).
    """
    holders = np.diff(by_term.indptr)
    common = holders > max(_COMMON_SHARE * by_term.shape[0], 3)
    starts, columns, data = transpose(
        by_term.indptr,
        by_term.indices,
        by_term.data,
        by_term.shape[0],
        kept=~common,
        scale=idf,
        most=_SPAN,
    )
    # 32-bit positions while they fit, as scipy's own conversion keeps them.
    narrow = np.int32 if starts[-1] < 2**31 else np.int64
    text = sp.csr_matrix(
        (np.zeros(0, np.float32) if data is None else data, columns, starts.astype(narrow)),
        shape=by_term.shape,
    )
    _normalise_rows(text)
    return text


def _normalise_rows(text: sp.csr_matrix) -> None:
    """Divide each row of ``text`` by its length (L2), in place, a span of rows at a time."""
    for first, stop in column_spans(text.indptr, _SPAN):
        part = text[first:stop]
        squares = sp.csr_matrix(
            (part.data * part.data, part.indices, part.indptr), shape=part.shape
        )
        lengths = np.sqrt(np.asarray(squares.sum(axis=1)).ravel())
        scale = np.divide(1.0, lengths, out=np.zeros_like(lengths), where=lengths > 0)
        begin, end = text.indptr[first], text.indptr[stop]
        text.data[begin:end] *= np.repeat(scale.astype(np.float32), np.diff(part.indptr))


def relatedness_model(kg: KnowledgeGraph) -> RelatednessModel:
    """The model of ``kg``, built on first use and kept with the graph."""
    return kg.derived(_KEY, lambda: build_relatedness(kg))


def prepare_relatedness(kg: KnowledgeGraph) -> None:
    """Build the model before any request needs it (the load calls this)."""
    relatedness_model(kg)


def _row(matrix: sp.csr_matrix, at: int) -> npt.NDArray[np.float32]:
    return np.asarray(matrix[at].toarray()).ravel()


def _shared_terms(model: RelatednessModel, a: int, b: int, most: int = 3) -> tuple[str, ...]:
    """The terms adding most to the cosine of rows ``a`` and ``b``, distinct, strongest first."""
    (first, first_data), (second, second_data) = (
        _neighbours(model.text, a),
        _neighbours(model.text, b),
    )
    common, ours, theirs = np.intersect1d(first, second, assume_unique=True, return_indices=True)
    if len(common) == 0:
        return ()
    telling = model.telling[common]
    common, ours, theirs = common[telling], ours[telling], theirs[telling]
    products = first_data[ours] * second_data[theirs]
    terms = [str(term) for term in model.terms[common]]
    found: list[str] = []
    # Equal products (two rare words of both titles) in the terms' order, not their columns'.
    for at in sorted(range(len(terms)), key=lambda k: (-products[k], terms[k])):
        term = terms[at]
        if term not in found:
            found.append(term)
        if len(found) == most:
            break
    return tuple(found)


def _common_neighbours(model: RelatednessModel, a: int, b: int, most: int = 3) -> tuple[int, ...]:
    """Articles linked with both rows, the most telling (fewest links) first."""
    common = np.intersect1d(
        _neighbours(model.links, a)[0], _neighbours(model.links, b)[0], assume_unique=True
    )
    if len(common) == 0:
        return ()
    degree = np.diff(model.links.indptr)[common]
    order = np.lexsort((model.ids[common], degree))
    return tuple(int(model.ids[common[at]]) for at in order[:most])


def combined_evidence(cosine: Any, adamic_adar: Any, three_steps: Any, back: Any) -> Any:
    """The combined evidence of the module's docstring, of arrays or of one pair's numbers."""
    return (
        np.log1p(_AA_SCALE * (adamic_adar + _THREE_STEPS * three_steps))
        + cosine
        + _BACK_WEIGHT * back
    )


def _evidence(
    model: RelatednessModel, at: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """The evidence of every article's relation to row ``at``, and its parts.

    Returns the combined evidence (the score is ``1 - exp(-evidence)``), the
    text cosine, the Adamic-Adar sum and the weighted three-link paths.
    """
    checkpoint()
    # Each a matrix times a dense vector (the row, zeros elsewhere): a pass over
    # the matrix's entries. Times the row as a sparse column, scipy made a
    # sparse product of every row, twice (counting, then summing): 40 ms a row
    # at 200,000 generated articles, against 11.5 ms; the same sums, in the same order.
    cosine = model.text @ _row(model.text, at)
    adamic_adar = model.weighted @ _row(model.links, at)
    three_steps = model.weighted @ adamic_adar
    back = _row(model.backlinks, at)
    checkpoint()
    raw = combined_evidence(cosine, adamic_adar, three_steps, back)
    return raw, cosine, adamic_adar, three_steps


def relatedness_to(
    kg: KnowledgeGraph, article_ids: Sequence[int], among: Sequence[int] | None = None
) -> FloatArray:
    """How related each article of ``among`` is to those of ``article_ids`` together, in [0, 1).

    The score of their mean evidence (as :func:`related` weighs it), for each
    article of ``among`` in its order (every article of the model, in
    ``relatedness_model(kg).ids`` order, when ``None``); 0 for each of
    ``article_ids`` itself, and everywhere when none is an article of the
    graph. What a broken link's referrers say about the article it meant: the
    one their neighbours link with.

    >>> from kgraph.graph import load_graph
    >>> kg = load_graph("seeds")
    >>> model = relatedness_model(kg)
    >>> scores = relatedness_to(kg, [52002, 52003])
    >>> int(model.ids[scores.argmax()])
    52001
    >>> [round(float(s), 4) for s in relatedness_to(kg, [52002, 52003], [52001, 52002])]
    [0.9371, 0.0]
    """
    model = relatedness_model(kg)
    rows = [model.position(i) for i in dict.fromkeys(article_ids) if i in kg.articles]
    wanted = (
        np.arange(len(model.ids))
        if among is None
        else np.searchsorted(model.ids, np.fromiter(among, np.int64, len(among)))
    )
    if not rows or not len(wanted):
        return np.zeros(len(wanted), dtype=np.float64)
    if len(rows) * len(wanted) <= _PAIRS_ONE_BY_ONE:
        # A few pairs: from their rows alone, no product over the corpus.
        total = np.array(
            [sum(_pair_evidence(model, at, int(other))[0] for at in rows) for other in wanted]
        ) / len(rows)
        total[np.isin(wanted, rows)] = 0.0
        few: FloatArray = -np.expm1(-total)
        return few
    checkpoint()
    # Columns: the articles of ``article_ids``; rows: those of ``among``.
    cosine = (model.text[wanted] @ model.text[rows].T).toarray()
    two_steps = model.weighted @ model.links[rows].T
    adamic_adar = two_steps[wanted].toarray()
    three_steps = (model.weighted[wanted] @ two_steps).toarray()
    back = model.backlinks[rows][:, wanted].T.toarray()
    checkpoint()
    raw = combined_evidence(cosine, adamic_adar, three_steps, back)
    total = raw.mean(axis=1)
    total[np.isin(wanted, rows)] = 0.0
    scores: FloatArray = -np.expm1(-total)
    return scores


def pair(kg: KnowledgeGraph, a: int, b: int) -> Related:
    """How related ``b`` is to ``a``, with its reasons, as :func:`related` would list it.

    >>> from kgraph.graph import load_graph
    >>> kg = load_graph("seeds")
    >>> found = pair(kg, 52002, 52001)
    >>> listed = next(r for r in related(kg, 52002, 5).items if r.id == 52001)
    >>> round(found.score, 6) == round(listed.score, 6), found.linked, found.shared_terms
    (True, True, ('binary', 'tree', 'searching'))
    """
    model = relatedness_model(kg)
    at, other = model.position(a), model.position(b)
    raw, text, adamic_adar, three_steps = _pair_evidence(model, at, other)
    linked = _has(model.links, at, other)
    return Related(
        id=b,
        score=0.0 if a == b else -math.expm1(-raw),
        linked=linked,
        text=text,
        common_neighbours=_common_neighbours(model, at, other),
        shared_terms=_shared_terms(model, at, other),
        link_distance=_distance(linked, adamic_adar, three_steps),
    )


def _neighbours(matrix: sp.csr_matrix, at: int) -> tuple[npt.NDArray[np.int32], FloatArray]:
    begin, end = matrix.indptr[at], matrix.indptr[at + 1]
    return matrix.indices[begin:end], matrix.data[begin:end]


def _has(matrix: sp.csr_matrix, row: int, column: int) -> bool:
    """Whether ``matrix`` holds an entry at (``row``, ``column``)."""
    return bool((_neighbours(matrix, row)[0] == column).any())


def _dot(matrix: sp.csr_matrix, a: int, b: int) -> float:
    """The product of rows ``a`` and ``b`` of ``matrix`` (sparse rows, sorted indices)."""
    first, ours = _neighbours(matrix, a)
    second, theirs = _neighbours(matrix, b)
    _, left, right = np.intersect1d(first, second, assume_unique=True, return_indices=True)
    return float(np.dot(ours[left].astype(np.float64), theirs[right]))


def _pair_evidence(
    model: RelatednessModel, at: int, other: int
) -> tuple[float, float, float, float]:
    """:func:`_evidence` of one pair, from the rows of the two alone (no product over the corpus).

    The three-link paths ``a - m - x - b`` are summed over ``x`` among
    ``b``'s neighbours: each ``weight(x)`` times the Adamic-Adar of ``a`` and ``x``.
    """
    text = _dot(model.text, at, other)
    adamic_adar = _dot_weighted(model, at, other)
    three_steps = 0.0
    middles, weights = _neighbours(model.weighted, other)
    if len(middles):
        mine = set(_neighbours(model.links, at)[0].tolist())
        for middle, weight in zip(middles.tolist(), weights.tolist(), strict=True):
            if weight:
                columns, values = _neighbours(model.weighted, middle)
                three_steps += weight * sum(
                    value
                    for column, value in zip(columns.tolist(), values.tolist(), strict=True)
                    if column in mine
                )
    back = float(_has(model.backlinks, at, other))
    raw = float(combined_evidence(np.float64(text), adamic_adar, three_steps, back))
    return raw, text, adamic_adar, three_steps


def _dot_weighted(model: RelatednessModel, a: int, b: int) -> float:
    """Adamic-Adar of rows ``a`` and ``b``: their common neighbours' weights, summed."""
    first, _ = _neighbours(model.links, a)
    second, weights = _neighbours(model.weighted, b)
    _, _, right = np.intersect1d(first, second, assume_unique=True, return_indices=True)
    return float(weights[right].astype(np.float64).sum())


def _distance(linked: bool, two_steps: float, three_steps: float) -> int | None:
    if linked:
        return 1
    if two_steps > 0:
        return 2
    return 3 if three_steps > 0 else None


def related(
    kg: KnowledgeGraph,
    article_id: int,
    first: int = 10,
    *,
    exclude_linked: bool = False,
    skip: int = 0,
) -> RelatedPage:
    """The articles most related to ``article_id``, best first (then by id).

    Every article is scored (a few sparse products: milliseconds on 20,000
    articles); those scoring under 0.05 are left out (a few common words in
    common), and so is ``article_id``. With
    ``exclude_linked``, the articles it links to or from are left out too (the
    links it is missing, for curators). ``skip`` leaves out the first so many
    (pages).

    Raises
    ------
    ArticleNotFound
        When ``article_id`` is not an article of the graph.

    Examples
    --------
    >>> from kgraph.graph import load_graph
    >>> kg = load_graph("seeds")
    >>> kg.articles[52002].title
    'How does binary search work?'
    >>> best = related(kg, 52002, 3).items
    >>> [(r.id, r.linked) for r in best]
    [(52003, True), (52001, True), (52005, False)]
    >>> all(0 < r.score < 1 for r in best)
    True
    """
    if article_id not in kg.articles:
        raise ArticleNotFound(article_id)
    model = relatedness_model(kg)
    at = model.position(article_id)
    raw, cosine, adamic_adar, three_steps = _evidence(model, at)
    raw[at] = 0.0
    neighbours = model.links[at].indices
    linked = set(neighbours.tolist())
    if exclude_linked:
        raw[neighbours] = 0.0
    wanted = skip + max(first, 0)
    candidates = np.flatnonzero(raw > _FLOOR)
    total = len(candidates)
    if wanted == 0 or skip >= total:
        return RelatedPage(total=total, items=[])
    if len(candidates) > wanted:
        # The best ``wanted`` by score, ties then by id (``candidates`` ascend).
        kept = candidates[np.argpartition(-raw[candidates], wanted - 1)[:wanted]]
        floor = raw[kept].min()
        candidates = candidates[raw[candidates] >= floor]
    order = candidates[np.lexsort((candidates, -raw[candidates]))][skip:wanted]
    checkpoint()
    items = [
        Related(
            id=int(model.ids[other]),
            score=float(1.0 - math.exp(-float(raw[other]))),
            linked=int(other) in linked,
            text=float(cosine[other]),
            common_neighbours=_common_neighbours(model, at, int(other)),
            shared_terms=_shared_terms(model, at, int(other)),
            link_distance=_distance(int(other) in linked, adamic_adar[other], three_steps[other]),
        )
        for other in order
    ]
    return RelatedPage(total=total, items=items)

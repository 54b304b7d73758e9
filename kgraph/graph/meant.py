"""The articles that wanted articles most likely meant: all of them at once, in sparse products.

A wanted article's suggestions (:func:`kgraph.graph.curation.wanted_suggestions`
says how they are ranked) were a search of its title and a relatedness score
for each article search found, one wanted article at a time: 8.5 s for the
3,084 of the dev corpus, minutes at 200,000 articles. Here every wanted title
is a row of one query matrix, and each step works on all rows at once:

1. **search** (:func:`kgraph.graph.search.search`'s BM25F, typos forgiven):
   each distinct word of the titles is weighed once (a word that is no known
   spelling gets one column: its best correction per article); a row's score
   for an article is its words' weights there over the best it could reach.
   Only what can still make a row's suggestions is scored in full: an
   article must score over search's floor and within a quarter of the row's
   third best. A first product over each row's heaviest word gives a floor
   of that third best; the lightest words, which together cannot lift an
   article over the row's floor, are left out of the second product and
   looked up only for the articles it found;
2. **the phrase bonus**: read from the titles, questions and keywords of the
   articles holding the title's rarest word (they hold all of its words);
3. **relatedness to the referrers**
   (:func:`kgraph.graph.relatedness.relatedness_to`): the links part
   (Adamic-Adar, three-link paths, links back) of each (candidate, referrer)
   pair sampled from the referrers' two-link rows, the text part (the cosine
   with the referrers' mean vector, at most its length) only for candidates
   that could still pass the floor and the row's third best;
4. the top few of each row by sorts of all rows at once.

The rows are taken in chunks of about :data:`_ENTRIES` (row, article) pairs,
so that memory stays bounded whatever the corpus. Every cut is a bound: the
suggestions are those of one wanted article at a time (the same for all 3,084
wanted articles of the dev corpus; ties aside, scores may differ in the last
bit of a float).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from kgraph.budget import checkpoint
from kgraph.corpus import topic_key, words
from kgraph.graph.knowledge import KnowledgeGraph
from kgraph.graph.relatedness import RelatednessModel, combined_evidence, relatedness_model
from kgraph.graph.search import (
    PHRASE,
    SCORE_DECIMALS,
    QueryWord,
    SearchIndex,
    query_word,
    search_index,
    word_index,
)
from kgraph.graph.table import titles
from kgraph.model import Wanted

__all__ = ["SUGGESTIONS", "TitleIndex", "meant_articles", "title_index"]

#: Suggestions kept per wanted article: the most any report lists.
SUGGESTIONS = 3

# A wanted article's referrers read for what they are related to (the first so many).
REFERRERS_READ = 20
# The title names the article; the referrers' neighbours break its ties.
_RELATED_WEIGHT = 0.25
_MEANT_FLOOR = 0.35
# What search must find at least: relatedness adds at most _RELATED_WEIGHT.
_SEARCH_FLOOR = _MEANT_FLOOR - _RELATED_WEIGHT
# (row, article) pairs worked on at once: a few tens of bytes each at the peak.
_ENTRIES = 1 << 16
# The title index's key in ``KnowledgeGraph.memo``.
_TITLES = "titles"

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


def _normal_title(title: str) -> str:
    return " ".join(words(title))


def _crc(text: str) -> int:
    return zlib.crc32(text.encode("utf-8", "surrogatepass"))


@dataclass(frozen=True, slots=True)
class TitleIndex:
    """Each title (its words: case and punctuation aside) → the articles holding it.

    Kept as a checksum of each title, sorted, beside its article: what a
    checksum finds is checked against the article's title. A dict of the
    titles took 47 MB at 200,000 generated articles; these arrays 2.4 MB.

    >>> from kgraph.graph import load_graph
    >>> kg = load_graph("seeds")
    >>> title_index(kg).holding(kg, "what is the role of ATP in the sodium potassium pump")
    [168904]
    """

    checksums: npt.NDArray[np.uint32]
    ids: Ints  # of each checksum's article; ascending among equal checksums

    def holding(self, kg: KnowledgeGraph, title: str) -> list[int]:
        """The articles of ``kg`` whose title has the words of ``title``, by id."""
        normal = _normal_title(title)
        crc = np.uint32(_crc(normal))
        start = int(np.searchsorted(self.checksums, crc, side="left"))
        stop = int(np.searchsorted(self.checksums, crc, side="right"))
        return [
            int(i)
            for i in self.ids[start:stop]
            if _normal_title(kg.articles[int(i)].title) == normal
        ]


def _title_index(kg: KnowledgeGraph) -> TitleIndex:
    ids = np.fromiter(kg.articles, dtype=np.int64, count=len(kg.articles))
    checksums = np.fromiter(
        (_crc(_normal_title(title)) for _, title in titles(kg.articles)),
        dtype=np.uint32,
        count=len(kg.articles),
    )
    order = np.argsort(checksums, kind="stable")  # ids stay in the graph's order
    return TitleIndex(checksums[order], ids[order])


def title_index(kg: KnowledgeGraph) -> TitleIndex:
    """The :class:`TitleIndex` of ``kg``; kept."""
    return kg.derived(_TITLES, lambda: _title_index(kg))


@dataclass(frozen=True, slots=True)
class _Rows:
    """The search side of the query matrix: one row per wanted title asked.

    Each row's words that count for something, as ragged arrays (row ``r``'s
    at ``start[r]:start[r + 1]``), heaviest first: the column that counts for
    each (an index term, or past them a combined column) and its weight.
    """

    start: Ints
    columns: Ints
    distinct: Ints  # the distinct columns of ``columns``
    slots: Ints  # the place of each of ``columns`` in ``distinct``
    weights: npt.NDArray[np.float32]
    best: Floats  # the most each word adds to any article's score
    ideal: Floats  # the best score each row's words could reach
    several: npt.NDArray[np.bool_]  # whether it has several words (a phrase)
    sizes: Ints  # how many (row, article) pairs its product finds at most

    def between(self, begin: int, end: int) -> _Rows:
        """Rows ``begin`` to ``end`` alone, numbered from 0 (their words' columns as they are)."""
        first, stop = int(self.start[begin]), int(self.start[end])
        columns = self.columns[first:stop]
        distinct, slots = np.unique(columns, return_inverse=True)
        return _Rows(
            start=self.start[begin : end + 1] - first,
            columns=columns,
            distinct=distinct,
            slots=slots.astype(np.int64),
            weights=self.weights[first:stop],
            best=self.best[first:stop],
            ideal=self.ideal[begin:end],
            several=self.several[begin:end],
            sizes=self.sizes[begin:end],
        )


def _combined_columns(
    index: SearchIndex, weighed: Sequence[QueryWord]
) -> tuple[sp.csc_array, list[int]]:
    """One column per word counted through several spellings: its best spelling per article.

    Returns the columns (articles x such words) and, for each word, its column
    among them (-1 for a word of one column or none).
    """
    rows: list[npt.NDArray[np.int32]] = []
    values: list[npt.NDArray[np.float32]] = []
    columns: list[Ints] = []
    at: list[int] = []
    for word in weighed:
        if len(word.columns) < 2:
            at.append(-1)
            continue
        found = [index.column_at(c) for c in word.columns]
        held = np.concatenate([r for r, _ in found])
        weights = np.concatenate(
            [v * np.float32(w) for (_, v), w in zip(found, word.weights, strict=True)]
        )
        # A word counts once per article: through its best spelling there.
        order = np.lexsort((-weights, held))
        held, weights = held[order], weights[order]
        first = np.ones(len(held), dtype=bool)
        first[1:] = held[1:] != held[:-1]
        at.append(len(columns))
        rows.append(held[first])
        values.append(weights[first])
        columns.append(np.full(int(first.sum()), len(columns), dtype=np.int64))
    shape = (len(index.ids), len(columns))
    if not columns:
        return sp.csc_array(shape, dtype=np.float32), at
    matrix = sp.csc_array(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(columns))),
        shape=shape,
        dtype=np.float32,
    )
    return matrix, at


def _query_rows(index: SearchIndex, queries: Sequence[Sequence[str]]) -> tuple[_Rows, sp.csc_array]:
    """The query rows of ``queries`` (each a title's distinct words) and the combined columns."""
    weighed: dict[str, QueryWord] = {}
    for query in queries:
        for word in query:
            if word not in weighed:
                weighed[word] = query_word(index, word, last=False)
    combined, combined_at = _combined_columns(index, list(weighed.values()))
    terms = index.weights.shape[1]
    # (column, weight) of each word: its own column, its combined one, or none.
    column_of: dict[str, tuple[int, float]] = {}
    for (word, counted), combined_column in zip(weighed.items(), combined_at, strict=True):
        if combined_column >= 0:
            column_of[word] = (terms + combined_column, 1.0)
        elif counted.columns:
            column_of[word] = (counted.columns[0], counted.weights[0])
    held = np.concatenate([np.diff(index.weights.indptr), np.diff(combined.indptr)])
    # The most each word adds to any article's score: its weight times its
    # column's largest weight (under its best, which takes that as 1).
    bound_of: dict[str, float] = {}
    for word, (column, weight) in column_of.items():
        matrix, own = (index.weights, column) if column < terms else (combined, column - terms)
        values = matrix.data[matrix.indptr[own] : matrix.indptr[own + 1]]
        bound_of[word] = weight * float(values.max()) if len(values) else 0.0
    n = len(queries)
    ideal = np.zeros(n)
    start = [0]
    columns: list[int] = []
    weights: list[float] = []
    best: list[float] = []
    sizes = np.zeros(n, dtype=np.int64)
    for row, query in enumerate(queries):
        total = 0.0
        for word in query:
            total += weighed[word].best  # summed in the query's order, as search sums it
        ideal[row] = total
        counting = sorted((w for w in query if w in column_of), key=lambda w: -bound_of[w])
        # The lightest words, together under search's floor, are never in the
        # product (see _Asking._searched): the rest is what it finds at most.
        room = _SEARCH_FLOOR * (1 + PHRASE if len(query) > 1 else 1.0) * total
        light = 0.0
        for at, word in enumerate(reversed(counting)):
            light += bound_of[word]
            if light > room or at == len(counting) - 1:
                sizes[row] = sum(int(held[column_of[w][0]]) for w in counting[: len(counting) - at])
                break
        for word in counting:
            column, weight = column_of[word]
            columns.append(column)
            weights.append(weight)
            best.append(bound_of[word])
        start.append(len(columns))
    column_array = np.asarray(columns, dtype=np.int64)
    starts = np.asarray(start, dtype=np.int64)
    distinct, slots = np.unique(column_array, return_inverse=True)
    found = _Rows(
        start=starts,
        columns=column_array,
        distinct=distinct,
        slots=slots.astype(np.int64),
        weights=np.asarray(weights, dtype=np.float32),
        best=np.asarray(best, dtype=np.float64),
        ideal=ideal,
        several=np.fromiter((len(q) > 1 for q in queries), bool, n),
        sizes=sizes,
    )
    return found, combined


class _Phrases:
    """The articles whose title, question or a keyword holds a title's words in order."""

    def __init__(self, kg: KnowledgeGraph) -> None:
        self._kg = kg
        self._texts: dict[int, tuple[str, ...]] = {}

    def _normal(self, article_id: int) -> tuple[str, ...]:
        texts = self._texts.get(article_id)
        if texts is None:
            article = self._kg.articles[article_id]
            texts = tuple(
                f" {' '.join(words(text))} "
                for text in (article.title, article.question or "", *article.keywords)
            )
            self._texts[article_id] = texts
        return texts

    def holding(self, query: Sequence[str]) -> list[int]:
        """The articles holding ``query`` as a phrase (every one holds its rarest word)."""
        by_word = word_index(self._kg)
        rarest = min((by_word.get(word, ()) for word in query), key=len)
        phrase = f" {' '.join(query)} "
        return [a for a in rarest if any(phrase in text for text in self._normal(a))]


class _Sampled:
    """The entries of a sparse matrix at any (row, column) pairs, by one binary search each."""

    def __init__(self, matrix: sp.csr_matrix | sp.csr_array) -> None:
        canonical = sp.csr_array(matrix, copy=False)
        if not canonical.has_sorted_indices:
            canonical = canonical.sorted_indices()
        self.shape = canonical.shape
        self.indptr = canonical.indptr
        self.indices = canonical.indices
        self.data = canonical.data
        rows = np.repeat(np.arange(canonical.shape[0], dtype=np.int64), np.diff(canonical.indptr))
        self._keys = rows * canonical.shape[1] + canonical.indices

    def at(self, rows: Ints, columns: Ints) -> Floats:
        """The entries at (``rows[k]``, ``columns[k]``), 0 where there is none."""
        keys = rows * self.shape[1] + columns
        found = np.minimum(np.searchsorted(self._keys, keys), max(len(self._keys) - 1, 0))
        if not len(self._keys):
            return np.zeros(len(keys))
        return np.where(self._keys[found] == keys, self.data[found], 0.0).astype(np.float64)

    def dot(self, left: sp.csr_matrix, left_rows: Ints, rows: Ints) -> Floats:
        """Row ``left_rows[k]`` of ``left`` times row ``rows[k]`` of this, for every ``k``.

        The left rows are read whole (an article's words or links: tens), this
        one's only where they hold something.
        """
        starts = left.indptr[left_rows]
        counts = left.indptr[left_rows + 1] - starts
        pair = np.repeat(np.arange(len(left_rows)), counts)
        at = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(len(pair))
        sampled = self.at(rows[pair], left.indices[at].astype(np.int64))
        products: Floats = np.bincount(
            pair, weights=left.data[at] * sampled, minlength=len(left_rows)
        ).astype(np.float64)
        return products


def _group_starts(groups: Ints) -> Ints:
    """The position of each entry within its group (``groups`` sorted)."""
    if not len(groups):
        return np.zeros(0, dtype=np.int64)
    first = np.ones(len(groups), dtype=bool)
    first[1:] = groups[1:] != groups[:-1]
    starts = np.flatnonzero(first)
    return np.arange(len(groups)) - np.repeat(starts, np.diff(np.append(starts, len(groups))))


def _ragged(start: Ints, rows: Ints) -> tuple[Ints, Ints]:
    """For ragged arrays (row ``r`` at ``start[r]:start[r + 1]``): each entry of ``rows``' rows.

    Returns the position in ``rows`` each belongs to, and the entry.
    """
    begins = start[rows]
    counts = start[rows + 1] - begins
    owner = np.repeat(np.arange(len(rows)), counts)
    entry = np.repeat(begins - np.cumsum(counts) + counts, counts) + np.arange(len(owner))
    return owner, entry


def _looked_up(
    index: SearchIndex,
    combined: sp.csc_array,
    rows: _Rows,
    looked: npt.NDArray[np.bool_],
    query: Ints,
    article: Ints,
) -> Floats:
    """What the words ``looked`` (a mask of ``rows``' words) add to each (query row, article) pair.

    Looked up column by column, for words the product did not run over: each
    column's weights spread over one vector of the articles, read at the
    pairs' articles, then cleared (no search, no vector per column).
    """
    # The words looked up, as ragged arrays of their own: no mask over every word of every pair.
    chosen = np.flatnonzero(looked)
    start = np.searchsorted(chosen, rows.start)
    owner, at = _ragged(start, query)
    if not len(at):
        return np.zeros(len(query))
    entry = chosen[at]
    slot = rows.slots[entry]
    # Grouped by column: a stable sort of small integers is a radix sort.
    order = np.argsort(
        slot.astype(np.uint16 if len(rows.distinct) < 1 << 16 else np.int64), kind="stable"
    )
    counts = np.bincount(slot, minlength=len(rows.distinct))
    bounds = np.concatenate([[0], np.cumsum(counts)])
    added = np.zeros(len(owner), dtype=np.float32)
    spread = np.zeros(len(index.ids), dtype=np.float32)
    terms = index.weights.shape[1]
    for place in np.flatnonzero(counts).tolist():
        group = order[bounds[place] : bounds[place + 1]]
        column = int(rows.distinct[place])
        matrix, own = (index.weights, column) if column < terms else (combined, column - terms)
        begin, end = matrix.indptr[own], matrix.indptr[own + 1]
        holders = matrix.indices[begin:end]
        spread[holders] = matrix.data[begin:end]
        added[group] = spread[article[owner[group]]] * rows.weights[entry[group]]
        spread[holders] = 0.0
    found: Floats = np.bincount(owner, weights=added, minlength=len(query)).astype(np.float64)
    return found


def _asking_rows(
    owner: Ints,
    columns: Ints,
    weights: npt.NDArray[np.float32],
    kept: npt.NDArray[np.bool_],
    offset: int,
    shape: tuple[int, int],
) -> sp.csr_array:
    """The rows (``owner``, ascending) asking for ``columns`` (those ``kept``, less ``offset``).

    With 32-bit indices, as the index's: a product with 64-bit ones would copy
    the index's arrays to 64 bits first (seconds at 200,000 articles).
    """
    counts = np.bincount(owner[kept], minlength=shape[0])
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    indices = (columns[kept] - offset).astype(np.int32)
    return sp.csr_array((weights[kept], indices, indptr), shape=shape)


def _product(
    index: SearchIndex,
    combined: sp.csc_array,
    rows: _Rows,
    used: npt.NDArray[np.bool_],
    begin: int,
    end: int,
) -> tuple[Ints, Ints, Floats]:
    """(query row, article, what the words ``used`` add) of every article holding one of them.

    Over rows ``begin`` to ``end``: the sparse product of their words ``used``
    (a mask of ``rows``' words) and the index's weights.
    """
    span = np.arange(begin, end)
    owner, entry = _ragged(rows.start, span)
    keep = used[entry]
    owner, entry = owner[keep], entry[keep]
    terms = index.weights.shape[1]
    columns, weights = rows.columns[entry], rows.weights[entry]
    found = sp.csr_array(
        _asking_rows(owner, columns, weights, columns < terms, 0, (end - begin, terms))
        @ index.weights.T
        + _asking_rows(
            owner, columns, weights, columns >= terms, terms, (end - begin, combined.shape[1])
        )
        @ combined.T
    )
    query = begin + np.repeat(np.arange(end - begin), np.diff(found.indptr))
    return query, found.indices.astype(np.int64), found.data.astype(np.float64)


def _nth_best(groups: Ints, values: Floats, nth: int, size: int, offset: int) -> Floats:
    """The ``nth`` best (1 = the best) of ``values`` in each group; -inf where fewer."""
    found = np.full(size, -np.inf)
    if not len(values):
        return found
    order = np.lexsort((-values, groups))
    ranked_groups = groups[order]
    place = _group_starts(ranked_groups)
    deep = place == nth - 1
    found[ranked_groups[deep] - offset] = values[order][deep]
    return found


def meant_articles(
    kg: KnowledgeGraph, wanted: Sequence[Wanted], limit: int = SUGGESTIONS
) -> list[tuple[int, ...]]:
    """The articles each of ``wanted`` most likely meant, best first, up to ``limit`` each.

    Ranked as :func:`kgraph.graph.curation.wanted_suggestions` says, for all
    of them at once (see the module's docstring).

    >>> from kgraph.graph import load_graph
    >>> kg = load_graph("seeds")
    >>> meant_articles(kg, [kg.wanted[168999], kg.wanted[52099]])
    [(168904,), ()]
    """
    titles = title_index(kg)
    found: list[tuple[int, ...]] = [() for _ in wanted]
    asked: list[int] = []
    queries: list[list[str]] = []
    for at, missing in enumerate(wanted):
        title = missing.title or ""
        exact = titles.holding(kg, title)
        if exact:
            # The entry names an article by its very title: that one was meant.
            found[at] = tuple(exact[:limit])
            continue
        query = list(dict.fromkeys(words(title)))
        if query and limit > 0:
            asked.append(at)
            queries.append(query)
    if not asked:
        return found
    index = search_index(kg)
    model = relatedness_model(kg)
    rows, combined = _query_rows(index, queries)
    referrers = [_referrer_rows(kg, model, wanted[at]) for at in asked]
    checkpoint()
    asking = _Asking(
        kg=kg,
        index=index,
        model=model,
        rows=rows,
        combined=combined,
        phrases=_Phrases(kg),
        queries=queries,
        subjects=[topic_key(wanted[at].subject or "") for at in asked],
        referrer_start=np.cumsum([0, *(len(r) for r in referrers)]).astype(np.int64),
        referrer_rows=np.concatenate([np.zeros(0, dtype=np.int64), *referrers]),
        backlinks=_Sampled(model.backlinks),
        weighted_t=sp.csr_matrix(model.weighted.T),
        limit=limit,
    )
    begin = 0
    reach = np.cumsum(rows.sizes)
    while begin < len(asked):
        # As many rows as make about _ENTRIES pairs (one at least).
        before = int(reach[begin - 1]) if begin else 0
        end = max(begin + 1, int(np.searchsorted(reach, before + _ENTRIES, side="right")))
        checkpoint()
        for row, meant in asking.between(begin, end).rows_between(0, end - begin).items():
            found[asked[begin + row]] = meant
        begin = end
    return found


def _referrer_rows(kg: KnowledgeGraph, model: RelatednessModel, wanted: Wanted) -> Ints:
    named = [i for i in dict.fromkeys(wanted.referrers[:REFERRERS_READ]) if i in kg.articles]
    return np.searchsorted(model.ids, np.asarray(named, dtype=np.int64)).astype(np.int64)


# Relatedness is worked out first for so many of each row's best found articles,
# then for those of the others that could still pass the third best.
_FIRST_RELATED = 8
# Scores this close count as equal in bounds (search rounds to 4 decimals).
_SLACK = 1e-4


@dataclass(frozen=True, slots=True)
class _Asking:
    """What the suggestions of every chunk of rows read."""

    kg: KnowledgeGraph
    index: SearchIndex
    model: RelatednessModel
    rows: _Rows
    combined: sp.csc_array
    phrases: _Phrases
    queries: Sequence[Sequence[str]]
    subjects: Sequence[str]
    referrer_start: Ints  # each row's referrers (rows of the model), ragged
    referrer_rows: Ints
    backlinks: _Sampled
    weighted_t: sp.csr_matrix  # the model's weighted links, transposed
    limit: int

    def between(self, begin: int, end: int) -> _Asking:
        """What rows ``begin`` to ``end`` alone read, numbered from 0.

        A chunk's work is then as large as the chunk: masks over every row's
        words, made for each chunk, grew with the number of wanted articles
        (quadratic work: a million generated articles' were not done after
        20 minutes).
        """
        first = int(self.referrer_start[begin])
        return replace(
            self,
            rows=self.rows.between(begin, end),
            queries=self.queries[begin:end],
            subjects=self.subjects[begin:end],
            referrer_start=self.referrer_start[begin : end + 1] - first,
            referrer_rows=self.referrer_rows[first : int(self.referrer_start[end])],
        )

    def _scores(
        self,
        query: Ints,
        article: Ints,
        partial: Floats,
        looked: npt.NDArray[np.bool_],
        phrased: Ints,
    ) -> npt.NDArray[np.float32]:
        """Search's scores of (query row, article) pairs: ``partial``, plus words ``looked`` up."""
        rows = self.rows
        raw = partial + _looked_up(self.index, self.combined, rows, looked, query, article)
        # In float32, as search scores.
        score = (raw.astype(np.float32) / rows.ideal[query]).astype(np.float32)
        several = rows.several[query]
        score[several] /= np.float32(1 + PHRASE)
        n = len(self.index.ids)
        score[np.isin(query * n + article, phrased)] += np.float32(PHRASE / (1 + PHRASE))
        return score

    def _searched(self, begin: int, end: int) -> tuple[Ints, Ints, Floats]:
        """(query row, article, search score) of what can still make a row's suggestions.

        Every pair scoring over search's floor and within _RELATED_WEIGHT of
        the row's ``limit``-th best: what the search of each title, then
        :func:`kgraph.graph.curation.wanted_suggestions`'s first cut, keep.
        """
        index, rows, limit = self.index, self.rows, self.limit
        n = len(index.ids)
        phrased = np.asarray(
            [
                row * n + int(np.searchsorted(index.ids, a))
                for row in range(begin, end)
                if rows.several[row]
                for a in self.phrases.holding(self.queries[row])
            ],
            dtype=np.int64,
        )
        # First the articles holding each row's heaviest word (every article
        # holding the title as a phrase is one): their scores without the other
        # words are under their true scores, and their limit-th best is a floor
        # for the rest.
        heaviest = np.zeros(len(rows.columns), dtype=bool)
        heaviest[rows.start[begin:end][np.diff(rows.start[begin : end + 1]) > 0]] = True
        query, article, partial = _product(index, self.combined, rows, heaviest, begin, end)
        score = (partial / rows.ideal[query]).astype(np.float32)
        score[rows.several[query]] /= np.float32(1 + PHRASE)
        score[np.isin(query * n + article, phrased)] += np.float32(PHRASE / (1 + PHRASE))
        floor = np.maximum(
            _nth_best(query, score.astype(np.float64), limit, end - begin, begin)
            - _RELATED_WEIGHT
            - _SLACK,
            _SEARCH_FLOOR,
        )
        # Words weighing together under a row's floor cannot lift an article over
        # it alone (a word adds less than its best): the product skips them.
        shrink = np.where(rows.several[begin:end], 1 / (1 + PHRASE), 1.0)
        room = floor / shrink * rows.ideal[begin:end] * (1 - 1e-6)
        owner, entry = _ragged(rows.start, np.arange(begin, end))
        # Each row's words are heaviest first (contiguous here): what each word
        # and the lighter ones after it add at most.
        suffix = np.append(np.cumsum(rows.best[entry][::-1])[::-1], 0.0)
        lighter = suffix[: len(entry)] - suffix[rows.start[begin + owner + 1] - rows.start[begin]]
        skipped = np.zeros(len(rows.columns), dtype=bool)
        skipped[entry] = (lighter <= room[owner]) & ~heaviest[entry]
        skipped_best = np.bincount(
            owner, weights=np.where(skipped[entry], rows.best[entry], 0.0), minlength=end - begin
        )
        query, article, partial = _product(index, self.combined, rows, ~skipped, begin, end)
        # The most each pair can score, its skipped words all found: under the floor, out.
        at = query - begin
        ceiling = (partial + skipped_best[at]) / rows.ideal[query] * shrink[at]
        ceiling[np.isin(query * n + article, phrased)] += PHRASE / (1 + PHRASE)
        hopeful = ceiling >= floor[at] - 1e-6
        query, article, partial = query[hopeful], article[hopeful], partial[hopeful]
        score = self._scores(query, article, partial, skipped, phrased)
        kept = score > _SEARCH_FLOOR
        query, article = query[kept], article[kept]
        found = score[kept].astype(np.float64)
        # Search's order: score (to its decimals), most linked, lowest id.
        order = np.lexsort(
            (
                index.ids[article],
                -index.in_degree[article],
                -np.round(found, SCORE_DECIMALS),
                query,
            )
        )
        query, article, found = query[order], article[order], found[order]
        place = _group_starts(query)
        # Relatedness adds at most _RELATED_WEIGHT: only those within it of the
        # limit-th best can still make the cut.
        limit_th = np.full(end - begin, -np.inf)
        deep = place == limit - 1
        limit_th[query[deep] - begin] = found[deep]
        close = found >= limit_th[query - begin] - _RELATED_WEIGHT
        return query[close], article[close], found[close]

    def rows_between(self, begin: int, end: int) -> dict[int, tuple[int, ...]]:
        """The suggestions of rows ``begin`` to ``end`` (of those that have any)."""
        limit, model = self.limit, self.model
        query, article, found = self._searched(begin, end)
        place = _group_starts(query)
        checkpoint()
        # Relatedness to the referrers (relatedness_to's mean evidence), for the
        # first few of each row, then for the others that could still pass the
        # floor and the row's limit-th best total: relatedness is under 1, and
        # the cosine of the text under the length of the referrers' mean.
        start, flat = self.referrer_start, self.referrer_rows
        distinct = np.unique(flat[start[begin] : start[end]])
        links = model.links[distinct] @ self.weighted_t
        two_steps = _Sampled(links)  # Adamic-Adar of each referrer with every article
        three_steps = _Sampled(sp.csr_matrix(links) @ self.weighted_t)
        averaging = sp.csr_array(
            (
                1
                / np.repeat(
                    np.maximum(np.diff(start[begin : end + 1]), 1), np.diff(start[begin : end + 1])
                ),
                np.searchsorted(distinct, flat[start[begin] : start[end]]).astype(np.int32),
                (start[begin : end + 1] - start[begin]).astype(np.int32),
            ),
            shape=(end - begin, len(distinct)),
        )
        # Over the referrers' rows only: scipy multiplies in the wider type of
        # the two, and would copy every text vector to float64 first (48 MB at
        # 200,000 generated articles, for each chunk of rows).
        mean_text = sp.csr_array(averaging @ model.text[distinct])
        lengths = np.sqrt(
            np.bincount(
                np.repeat(np.arange(end - begin), np.diff(mean_text.indptr)),
                weights=mean_text.data.astype(np.float64) ** 2,
                minlength=end - begin,
            )
        )
        means = _Sampled(mean_text)
        graph = np.zeros(len(query))
        named = np.zeros(len(query), dtype=bool)  # an article naming the missing one is not it
        total = np.full(len(query), -np.inf)

        def links_part(which: npt.NDArray[np.bool_]) -> None:
            at = np.flatnonzero(which)
            owner, entry = _ragged(start, query[at])
            referrer, candidate = flat[entry], article[at][owner]
            local = np.searchsorted(distinct, referrer)
            evidence = combined_evidence(
                0.0,
                two_steps.at(local, candidate),
                three_steps.at(local, candidate),
                self.backlinks.at(referrer, candidate),
            )
            counts = np.maximum(start[query[at] + 1] - start[query[at]], 1)
            graph[at] = np.bincount(owner, weights=evidence, minlength=len(at)) / counts
            named[at[owner[referrer == candidate]]] = True

        def settle(which: npt.NDArray[np.bool_]) -> None:
            cosine = means.dot(model.text, article[which], query[which] - begin)
            total[which] = found[which] + _RELATED_WEIGHT * -np.expm1(-(graph[which] + cosine))

        first = (place < _FIRST_RELATED) & (found + _RELATED_WEIGHT > _MEANT_FLOOR)
        links_part(first)
        settle(first & ~named)
        bar = _nth_best(
            query, np.where(total > _MEANT_FLOOR, total, -np.inf), limit, end - begin, begin
        )
        bar = np.maximum(bar - 2e-6, _MEANT_FLOOR)[query - begin]
        maybe = ~first & (found + _RELATED_WEIGHT > bar)
        links_part(maybe)
        ceiling = found + _RELATED_WEIGHT * -np.expm1(-(graph + lengths[query - begin]))
        settle(maybe & ~named & (ceiling > bar))
        meant = total > _MEANT_FLOOR
        query, article, total, place = query[meant], article[meant], total[meant], place[meant]
        # Same-subject ties aside, only the best few can make the cut.
        order = np.lexsort((place, -total, query))
        query, article, total = query[order], article[order], total[order]
        few = _group_starts(query) < 4 * limit
        query, article, total = query[few], article[few], total[few]
        ids = self.index.ids[article]
        articles = self.kg.articles
        elsewhere = np.fromiter(
            (
                self.subjects[q] not in articles[i].topics
                for q, i in zip(query.tolist(), ids.tolist(), strict=True)
            ),
            bool,
            len(ids),
        )
        order = np.lexsort((ids, elsewhere, -np.round(total, 6), query))
        query, ids = query[order], ids[order]
        best = _group_starts(query) < limit
        meant_ids: dict[int, list[int]] = {}
        for q, i in zip(query[best].tolist(), ids[best].tolist(), strict=True):
            meant_ids.setdefault(q, []).append(i)
        return {q: tuple(i) for q, i in meant_ids.items()}

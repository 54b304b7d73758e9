"""Search articles by relevance: BM25F over their fields, tolerant of typos, phrases first."""

from __future__ import annotations

import bisect
import logging
import math
import multiprocessing
import os
import pickle
import shutil
import tempfile
import threading
import time
from array import array
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from kgraph.budget import checkpoint
from kgraph.corpus import words
from kgraph.corpus.read import Cancelled, start_method
from kgraph.errors import LoadCancelled
from kgraph.graph.knowledge import Arrays, KnowledgeGraph
from kgraph.graph.sparse import Numbering, distinct, regroup
from kgraph.model import Article

if TYPE_CHECKING:  # it imports this module
    from kgraph.graph.bridges import Bridges

__all__ = [
    "ELSEWHERE_FROM",
    "FIELD_WEIGHTS",
    "LONG_WORD",
    "PHRASE",
    "SCORE_DECIMALS",
    "Hits",
    "QueryWord",
    "SearchElsewhere",
    "SearchIndex",
    "WordIndex",
    "completions",
    "corrections",
    "indexed",
    "query_word",
    "search",
    "search_elsewhere",
    "search_index",
    "word_index",
]

#: How much a word found in each field counts (BM25F field weights): the title
#: most, the question and keywords (curated search terms) next, the answer least.
#: The answer is read as its summary (``description``, written for search
#: engines): whole answers (49 MB, 7 million words on the dev corpus) took 3 s
#: to index against a load budget of 0.7 s, and their first 256 bytes added
#: 0.4 s to the summaries' 0.5 s for the whole index.
FIELD_WEIGHTS = {"title": 3.0, "question": 1.5, "keywords": 1.5, "answer": 1.0}

# BM25's usual constants: term-frequency saturation and length normalisation.
_K1 = 1.2
_B = 0.75
# What a word counts for when only a spelling one typo away, or a completion
# of the last word typed, is found, against 1 for the word itself.
_CORRECTION = 0.6
_COMPLETION = 0.6
#: The share of the score an exact phrase adds (in the title, question or a keyword).
PHRASE = 0.25
# Typos are looked for in words this long (shorter ones have too many neighbours),
# and the last word is completed from this length on, into at most so many
# words (the commonest).
_MIN_CORRECTED = 4
_MAX_CORRECTED = 40
_MIN_COMPLETED = 3
#: Words this long may hold two typos (one below it).
LONG_WORD = 9
_COMPLETIONS = 16
# The most articles read for the phrase bonus, best scored first.
_PHRASE_CHECKS = 500
#: Scores equal to this many decimals tie (the API shows as many).
SCORE_DECIMALS = 4
# Articles handled between two looks at the request's budget.
_CLOCK_EVERY = 1024
# Articles whose words are counted (and then summed) together while the index
# is built: a block's work arrays are about 4 kB an article (16,384 held 70 MB
# at 200,000 generated articles), for the same time.
_BLOCK = 4_096

#: Articles from which a load builds the index in a process of its own, while
#: this one prepares the rest (with a second CPU). A prepared cold load in a
#: thread, as the server's, took 3.4-4.2 s with it on the dev corpus (20,702
#: files) and 3.8-4.0 s without; a few thousand articles' index takes less
#: than starting that process.
ELSEWHERE_FROM = 10_000
# How often the wait for that process looks at its caller's cancellation.
_POLL_SECONDS = 0.1

logger = logging.getLogger(__name__)

_KEY = ("kgraph.graph.search", "index")
# Concurrent first searches of a graph would each build the index: one builds
# it, the others wait for it.
_BUILDING = threading.Lock()

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
# Rows and columns while the index is built: half the bytes of int64 at the peak.
Positions = npt.NDArray[np.int32]


@dataclass(frozen=True, slots=True)
class SearchIndex:
    """The words of every article, weighed for BM25F, with what typo tolerance needs.

    Attributes
    ----------
    ids : ndarray
        Article ids, ascending: row ``r`` of ``weights`` is article ``ids[r]``.
    in_degree : ndarray
        How many articles link to each row's article (ties go to the most linked).
    terms : dict
        Each word of any field → its column.
    weights : scipy.sparse.csc_array
        Rows x terms: the saturated BM25F term frequency, in [0, 1).
    idf : ndarray
        Each column's BM25 inverse document frequency.
    spellings : tuple of str
        The words of titles, questions and keywords, sorted: where corrections
        of typos and completions of the last word come from.
    spelling_columns : ndarray
        The column of each of ``spellings``.
    spelt : ndarray
        Whether each column's word is one of ``spellings``.
    alphabet : str
        The characters of ``spellings``: what a typo may have replaced or left out.
    trigrams : dict
        Each character trigram of a spelling (padded with a space each side) → its column.
    spelling_trigrams : scipy.sparse.csc_array
        Spellings x trigrams: where spellings two typos from a long word are looked for.
    word_starts, word_ids : ndarray
        The articles whose title, question or keywords hold the word of
        column ``c``: ``word_ids[word_starts[c]:word_starts[c + 1]]``, ascending
        (see :func:`word_index`).
    """

    ids: IntArray
    in_degree: npt.NDArray[np.int32]
    terms: dict[str, int]
    weights: sp.csc_array
    idf: FloatArray
    spellings: tuple[str, ...]
    spelling_columns: npt.NDArray[np.int32]
    spelt: npt.NDArray[np.bool_]
    alphabet: str
    trigrams: dict[str, int]
    spelling_trigrams: sp.csc_array
    spelling_sizes: npt.NDArray[np.int64]  # letters of each spelling
    word_starts: IntArray
    word_ids: npt.NDArray[np.int32] | IntArray

    def column_at(self, column: int) -> tuple[npt.NDArray[np.int32], FloatArray]:
        """The rows holding the word of ``column``, and its weights there."""
        start, stop = self.weights.indptr[column], self.weights.indptr[column + 1]
        values: FloatArray = self.weights.data[start:stop]
        return self.weights.indices[start:stop], values


def _count(
    texts: Iterable[str], terms: Numbering, split: Callable[[str], list[str]] = words
) -> tuple[Positions, Positions, npt.NDArray[np.float32]]:
    """(row, column) of every word of every text, numbering new words in ``terms``; lengths."""
    # Machine integers, not Python ones: a million of those held 36 MB at the peak.
    columns = array("q")
    lengths = array("q")
    number = terms.__getitem__
    for done, text in enumerate(texts):
        if done % _CLOCK_EVERY == 0:
            checkpoint()
        found = split(text)
        lengths.append(len(found))
        # A dict look-up per word, in C (a comprehension calling setdefault
        # took 0.9 s on dev, this 0.2 s).
        columns.extend(map(number, found))
    sizes = np.frombuffer(lengths, dtype=np.int64) if lengths else np.zeros(0, dtype=np.int64)
    rows = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
    found_columns = np.frombuffer(columns, dtype=np.int64) if columns else np.zeros(0, np.int64)
    return rows, found_columns.astype(np.int32), sizes.astype(np.float32)


class _FieldCounts:
    """One field's word counts, a block of rows at a time: (row, column) pairs once each, by row.

    A block's words are counted as they are found (every occurrence), then
    folded into one count per (row, word): what is kept of the whole corpus is
    the field's distinct pairs, not its words. Counting every occurrence of
    every field at once was the search index's peak: +430 MB over the graph at
    200,000 articles, for a 60 MB index.
    """

    def __init__(self) -> None:
        self.starts: list[int] = []
        # Per block: how many distinct words each row holds, and those words' columns
        # (rows are not kept: 4 bytes a pair, 50 MB at 200,000 generated articles).
        self.held: list[Positions | None] = []
        self.columns: list[Positions | None] = []
        self.counts: list[FloatArray | None] = []
        self.sizes: list[FloatArray] = []

    def add(self, start: int, rows: Positions, columns: Positions, sizes: FloatArray) -> None:
        """Count a block's words; ``rows`` from 0 in the block, which starts at row ``start``."""
        pairs = (rows.astype(np.int64) << 32) | columns
        distinct, counts = np.unique(pairs, return_counts=True)  # sorted: by row, then word
        self.starts.append(start)
        self.held.append(np.bincount(distinct >> 32, minlength=len(sizes)).astype(np.int32))
        self.columns.append((distinct & 0xFFFFFFFF).astype(np.int32))
        self.counts.append(counts.astype(np.float32))
        self.sizes.append(sizes)

    def rows(self, block: int) -> Positions:
        """The row of each of block ``block``'s pairs."""
        held = self.held[block]
        assert held is not None, "taken"
        start = self.starts[block]
        return np.repeat(np.arange(start, start + len(held), dtype=np.int32), held)

    def pairs(self, block: int) -> npt.NDArray[np.int64]:
        """Block ``block``'s (row, column) pairs as ``row << 32 | column``, ascending."""
        columns = self.columns[block]
        assert columns is not None, "taken"
        return (self.rows(block).astype(np.int64) << 32) | columns

    def scale(self, weight: float) -> FloatArray:
        """Each row's weight of a word of the field: ``weight`` over the field's length (BM25F)."""
        sizes = np.concatenate(self.sizes) if self.sizes else np.zeros(0, np.float32)
        average = float(sizes.mean()) if sizes.size else 0.0
        scaled: FloatArray = (weight / (1 - _B + _B * sizes / (average or 1.0))).astype(np.float32)
        return scaled

    def take(self, block: int, scale: FloatArray) -> tuple[npt.NDArray[np.int64], FloatArray]:
        """Block ``block``'s pairs (see :meth:`pairs`) and their weighed counts; forgotten here."""
        rows, columns, counts = self.rows(block), self.columns[block], self.counts[block]
        assert columns is not None, "taken"
        assert counts is not None, "taken"
        pairs = (rows.astype(np.int64) << 32) | columns
        self.held[block] = self.columns[block] = self.counts[block] = None
        return pairs, counts * scale[rows]


def _weights(fields: dict[str, _FieldCounts], shape: tuple[int, int]) -> sp.csc_array:
    """BM25F: each field's counts, normalised by its length and weighed, summed,
    then saturated once per (article, word); rows x words.

    Summed a block of rows at a time, each block's field counts let go of as
    it is summed (summing whole fields, each sum as large as both of its
    terms, was the index's peak: 150 MB over it at 200,000 generated articles).
    """
    scales = [(counted, counted.scale(FIELD_WEIGHTS[name])) for name, counted in fields.items()]
    blocks = len(next(iter(fields.values())).starts) if fields else 0
    data: list[FloatArray] = []
    columns: list[Positions] = []
    held = np.zeros(shape[0], dtype=np.int64)
    for block in range(blocks):
        checkpoint()
        taken = [counted.take(block, scale) for counted, scale in scales]
        pairs, inverse = np.unique(np.concatenate([p for p, _ in taken]), return_inverse=True)
        summed = np.zeros(len(pairs), dtype=np.float32)
        # In the fields' order, in 32 bits: the sums scipy's additions made.
        np.add.at(summed, inverse.ravel(), np.concatenate([v for _, v in taken]))
        del taken, inverse
        if len(pairs):  # rows ascending, within the block's: counted over those alone
            first = int(pairs[0] >> 32)
            counted = np.bincount((pairs >> 32) - first)
            held[first : first + len(counted)] += counted
        columns.append((pairs & 0xFFFFFFFF).astype(np.int32))
        data.append(summed / (_K1 + summed))
    # 32-bit positions while they fit (scipy keeps the narrowest that does).
    wide = int(held.sum()) >= 2**31
    indptr = np.zeros(shape[0] + 1, dtype=np.int64 if wide else np.int32)
    np.cumsum(held, out=indptr[1:])
    by_row = sp.csr_array(
        (_drain(data, np.float32), _drain(columns, np.int32), indptr), shape=shape
    )
    return by_row.tocsc()


def _drain(parts: list[Any], dtype: Any) -> npt.NDArray[Any]:
    """``parts`` concatenated, each let go of (and ``parts`` emptied) once it is copied."""
    whole = np.empty(sum(len(part) for part in parts), dtype=dtype)
    at = 0
    parts.reverse()
    while parts:
        part = parts.pop()
        whole[at : at + len(part)] = part
        at += len(part)
    return whole


class _Postings:
    """The rows holding each word of some fields, gathered a block of rows at a time."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = names
        self.rows: list[Positions] = []
        self.columns: list[Positions] = []

    def add(self, fields: dict[str, _FieldCounts]) -> None:
        """Gather the block that ``fields`` counted last: each (row, word) pair once."""
        pairs = distinct(np.concatenate([fields[n].pairs(-1) for n in self.names]))
        self.rows.append((pairs >> 32).astype(np.int32))
        self.columns.append((pairs & 0xFFFFFFFF).astype(np.int32))

    def by_column(self, shape: tuple[int, int]) -> tuple[IntArray, Positions]:
        """``starts`` (one more than the columns) and ``rows``, column ``c``'s at
        ``rows[starts[c]:starts[c + 1]]``, ascending (blocks come in row order).

        Each block let go of once it is placed (:func:`~kgraph.graph.sparse.regroup`):
        the pairs gathered whole, then sorted, held three copies at once (43 MB
        over the index at 200,000 generated articles).
        """
        counts = np.zeros(shape[1], dtype=np.int64)
        for columns in self.columns:
            counts += np.bincount(columns, minlength=shape[1])
        self.rows.reverse()
        self.columns.reverse()
        blocks = ((self.columns.pop(), self.rows.pop(), None) for _ in range(len(self.rows)))
        starts, rows, _ = regroup(blocks, counts)
        return starts, rows


#: One block of articles' texts, as :class:`_Counting` counts them: titles,
#: questions (``None`` where the question repeats the title), keywords, and
#: answers' summaries (descriptions).
TextBlock = tuple[list[str], list[str | None], list[tuple[str, ...]], list[str]]


def _text_blocks(articles: Mapping[int, Article], ids: IntArray) -> Iterator[TextBlock]:
    """The texts of the articles ``ids``, :data:`_BLOCK` articles at a time."""
    for start in range(0, len(ids), _BLOCK):
        block = [articles[i] for i in ids[start : start + _BLOCK].tolist()]
        yield (
            [a.title for a in block],
            [None if a.question == a.title else (a.question or "") for a in block],
            [a.keywords for a in block],
            [a.description or "" for a in block],
        )


class _Counting:
    """The words of articles counted a block of texts at a time (:data:`TextBlock`), in row order.

    What :func:`build_index` does in this process and :class:`SearchElsewhere`
    in another, from the same texts: the same index either way.
    """

    def __init__(self) -> None:
        self.terms = Numbering()
        self.fields = {name: _FieldCounts() for name in FIELD_WEIGHTS}
        # The words of titles, questions and keywords (curated search terms).
        self.curated = _Postings(("title", "question", "keywords"))
        self.rows = 0

    def add(self, block: TextBlock) -> None:
        """Count the words of a block of articles, the rows after those counted so far."""
        titles, questions, keywords, descriptions = block
        start, terms, fields = self.rows, self.terms, self.fields
        title_rows, title_columns, title_sizes = _count(titles, terms)
        fields["title"].add(start, title_rows, title_columns, title_sizes)
        # The site repeats the title as the question: such a question is
        # counted from the title's words rather than read again.
        same = np.asarray([question is None for question in questions], dtype=bool)
        rows, columns, sizes = _count((question or "" for question in questions), terms)
        copied = same[title_rows]
        fields["question"].add(
            start,
            np.concatenate([rows, title_rows[copied]]),
            np.concatenate([columns, title_columns[copied]]),
            np.where(same, title_sizes, sizes),
        )
        fields["keywords"].add(start, *_count((" , ".join(k) for k in keywords), terms))
        fields["answer"].add(start, *_count(descriptions, terms))
        self.curated.add(fields)
        self.rows += len(titles)

    def counted(self) -> SearchIndex:
        """The index of what was counted, its articles numbered by row (ids ``0..n-1``,
        no links yet: see :func:`_index`)."""
        terms = self.terms
        shape = (self.rows, len(terms))
        word_starts, word_rows = self.curated.by_column(shape)
        spelt = np.flatnonzero(np.diff(word_starts))
        weights = _weights(self.fields, shape)
        held = np.diff(weights.indptr)
        idf = np.log1p((self.rows - held + 0.5) / (held + 0.5)).astype(np.float32)
        by_column = list(terms)  # dicts keep insertion order: the column numbers
        spellings = sorted(by_column[c] for c in spelt)
        # Counted like the words of the articles: scikit-learn's CountVectorizer
        # (analyzer="char_wb") took 0.15 s on dev, this 0.04 s.
        trigrams = Numbering()
        rows, cols, sizes = _count(spellings, trigrams, _trigrams)
        ones = np.ones(len(rows), dtype=np.float32)
        return SearchIndex(
            ids=np.arange(self.rows, dtype=np.int64),
            in_degree=np.zeros(self.rows, dtype=np.int32),
            terms=dict(terms),
            weights=weights,
            idf=idf,
            spellings=tuple(spellings),
            spelling_columns=np.asarray([terms[w] for w in spellings], dtype=np.int32),
            spelt=np.diff(word_starts) > 0,
            alphabet="".join(sorted({char for word in spellings for char in word})),
            trigrams=dict(trigrams),
            spelling_trigrams=sp.csc_array(
                (ones, (rows, cols)), shape=(len(spellings), len(trigrams))
            ),
            spelling_sizes=sizes.astype(np.int64),
            word_starts=word_starts,
            word_ids=word_rows,
        )


def _sorted_ids(articles: Mapping[int, Article]) -> IntArray:
    return np.asarray(sorted(articles), dtype=np.int64)


def _index(kg: KnowledgeGraph, ids: IntArray, counted: SearchIndex) -> SearchIndex:
    """The search index of ``kg`` (its articles ``ids``, ascending) from the one of its
    rows (:meth:`_Counting.counted`): their ids, and how many link to each."""
    degrees = dict(kg.graph.in_degree())
    return replace(
        counted,
        ids=ids,
        in_degree=np.asarray([degrees[int(i)] for i in ids], dtype=np.int32),
        # 32-bit ids while they fit: half of a 57 MB index at 200,000 generated articles.
        word_ids=ids.astype(_narrowest(ids))[counted.word_ids],
    )


def build_index(kg: KnowledgeGraph) -> SearchIndex:
    """The search index of ``kg`` (see :func:`search_index`, which keeps it with the graph)."""
    ids = _sorted_ids(kg.articles)
    counting = _Counting()
    for block in _text_blocks(kg.articles, ids):
        counting.add(block)
    return _index(kg, ids, counting.counted())


class SearchElsewhere:
    """The search index of a graph, its bridges and its keyword index, built in another
    process while this one works on.

    A cold start's preparation is one thread's work after the reading, and
    the index was its largest part (46 s of a million generated articles'
    cold start). It needs the articles alone: a load starts it as soon as
    they are known, before their links are resolved and the graph is built
    (:func:`~kgraph.graph.build.build_graph`'s ``articles_ready``), and
    :func:`~kgraph.graph.load.prepare` builds the curation report meanwhile.
    The articles' texts are written to a private temporary folder, and a
    process (forked, or spawned when this one runs threads, as the readers
    are) counts their words as :func:`build_index` does, then finds the
    bridges from the index's text vectors, then makes the keyword index,
    writing each there as it is done: :meth:`wait`, :meth:`bridges` and
    :meth:`keywords` take them in that order, the same as built here (each
    file removed once read). ``keywords_first``: the keyword index before the
    bridges, for a command whose answer weighs shared keywords and finds no
    bridges (``kgraph check``). When that process cannot start or fails, what
    it has not handed over is built here (a warning says why). Without a
    process (``process=False``) they are built here. A context manager:
    leaving it ends the process if it still runs and removes the folder; a
    process whose parent was killed removes it itself at its next hand-over.
    Only the ids of the articles sent are checked against the graph waited
    for: a load sends its own graph's.
    """

    def __init__(
        self, articles: Mapping[int, Article], *, process: bool, keywords_first: bool = False
    ) -> None:
        self._folder: str | None = None
        self._keywords_first = keywords_first
        self._taken: set[str] = set()  # of the bridges and the keyword index
        self._process: multiprocessing.process.BaseProcess | None = None
        self._ids: IntArray | None = None
        self._matched: KnowledgeGraph | None = None  # the graph whose ids are self._ids
        self._sent = 0.0
        if process:
            try:
                self._start(articles)
            except (OSError, RuntimeError, pickle.PicklingError) as err:
                self._fell_back(f"{type(err).__name__}: {err}")
            except BaseException:
                self.close()  # not yet anyone's to close: no folder left behind
                raise

    @property
    def elsewhere(self) -> bool:
        """Whether the index is being built in another process."""
        return self._process is not None

    @property
    def process(self) -> multiprocessing.process.BaseProcess | None:
        """The process building the index; ``None`` when none is (or once it is done)."""
        return self._process

    def _start(self, articles: Mapping[int, Article]) -> None:
        self._ids = ids = _sorted_ids(articles)
        self._folder = folder = tempfile.mkdtemp(prefix="kgraph-search-")
        with open(os.path.join(folder, "texts"), "wb") as out:
            pickle.dump(ids, out, protocol=pickle.HIGHEST_PROTOCOL)
            for block in _text_blocks(articles, ids):
                pickle.dump(block, out, protocol=pickle.HIGHEST_PROTOCOL)
        # typeshed's BaseContext, which get_context returns for any name, has no Process.
        context: Any = multiprocessing.get_context(start_method())
        process = context.Process(
            target=_build_elsewhere,
            args=(folder, os.getpid(), self._keywords_first),
            name="kgraph-search-index",
            daemon=True,
        )
        process.start()
        self._process = process
        self._sent = time.perf_counter()

    def _fell_back(self, reason: str, what: str = "search index") -> None:
        logger.warning(
            "the %s could not be built in another process (%s); building it here", what, reason
        )
        self.close()

    def _sent_for(self, kg: KnowledgeGraph, what: str) -> bool:
        """Whether the other process works on the articles of ``kg`` (else it is ended).

        Their ids are compared once per graph (a sort of every id: 0.1 s at a million).
        """
        if self._process is None or self._ids is None:
            return False
        if self._matched is kg or np.array_equal(self._ids, _sorted_ids(kg.articles)):
            self._matched = kg
            return True
        self._fell_back("sent the articles of another graph", what)
        return False

    def _awaited(self, name: str, what: str, cancelled: Cancelled | None) -> Any:
        """What the other process wrote as ``name``; ``None`` when it ended without it."""
        process, folder = self._process, self._folder
        assert process is not None, "no process"  # see _sent_for
        assert folder is not None, "no folder"
        path = os.path.join(folder, name)
        while not os.path.exists(path):
            if process.exitcode is not None:
                if os.path.exists(path):  # written just before it ended
                    break
                self._fell_back(f"exit {process.exitcode}", what)
                return None
            process.join(_POLL_SECONDS)
            checkpoint()
            if cancelled is not None and cancelled():
                self.close()
                raise LoadCancelled(f"the load was cancelled while its {what} was built")
        try:
            with open(path, "rb") as written:
                # Written by that process, just now, in this one's own folder.
                found = pickle.load(written)
            os.remove(path)  # read: no longer held (a folder in tmpfs is memory)
            return found
        except (OSError, pickle.UnpicklingError, EOFError, ValueError) as err:
            self._fell_back(f"{type(err).__name__}: {err}", what)
            return None

    def wait(self, kg: KnowledgeGraph, cancelled: Cancelled | None = None) -> SearchIndex:
        """The index of ``kg``, the graph of the articles sent, once built; kept with the graph
        (as :func:`search_index` keeps it).

        Raises
        ------
        LoadCancelled
            When ``cancelled`` says so while the other process works (it is ended).
        """
        with _BUILDING:
            return kg.derived(_KEY, lambda: self._index(kg, cancelled))

    def _index(self, kg: KnowledgeGraph, cancelled: Cancelled | None) -> SearchIndex:
        what = "search index"
        sent = self._sent_for(kg, what)
        ids = self._ids  # the graph's own, when sent for it
        found = self._awaited("index", what, cancelled) if sent else None
        if found is None or ids is None:
            return build_index(kg)
        counted, seconds = found
        index = _index(kg, ids, counted)
        logger.info(
            "search index of %s articles built in another process in %.1f s (%.1f s since sent)",
            f"{len(index.ids):,}",
            seconds,
            time.perf_counter() - self._sent,
        )
        return index

    def _taken_once(
        self, kg: KnowledgeGraph, name: str, what: str, cancelled: Cancelled | None
    ) -> Any:
        """What the other process handed over as ``name`` for ``kg``, or ``None``: when it
        did not, or when it was taken already (its file is gone). The process and its
        folder are ended once both the bridges and the keyword index are taken, whichever
        came first: neither file is removed unread."""
        if name in self._taken or not self._sent_for(kg, what):
            return None
        try:
            return self._awaited(name, what, cancelled)
        finally:
            self._taken.add(name)
            if {"bridges", "keywords"} <= self._taken:
                self.close()

    def bridges(self, kg: KnowledgeGraph, cancelled: Cancelled | None = None) -> Bridges:
        """The bridges of ``kg`` (:mod:`kgraph.graph.bridges`), found by the other process
        from the index's text vectors once it has built the index; else found here.

        Raises
        ------
        LoadCancelled
            When ``cancelled`` says so while the other process works (it is ended).
        """
        from kgraph.graph.bridges import build_bridges

        found = self._taken_once(kg, "bridges", "bridges", cancelled)
        if found is None:
            return build_bridges(kg)
        bridges, seconds = found
        logger.info(
            "bridges of %s articles found in another process in %.1f s",
            f"{len(bridges.ids):,}",
            seconds,
        )
        if indexed(kg):  # the index's ids, equal: held (and pickled) once, as when built here
            bridges = replace(bridges, ids=search_index(kg).ids)
        return cast("Bridges", bridges)

    def keywords(self, kg: KnowledgeGraph, cancelled: Cancelled | None = None) -> Arrays | None:
        """The arrays of the keyword index of ``kg`` (``kg.by_keyword``), made by the other
        process from the keywords it was sent; ``None`` when it made none.

        Once the bridges are taken too, the other process is done with: it is
        ended, its folder removed.

        Raises
        ------
        LoadCancelled
            When ``cancelled`` says so while the other process works (it is ended).
        """
        found = self._taken_once(kg, "keywords", "keyword index", cancelled)
        if found is None:
            return None
        arrays, seconds = found
        logger.info(
            "keyword index of %s articles made in another process in %.1f s",
            f"{len(kg.articles):,}",
            seconds,
        )
        return cast("Arrays", arrays)

    def close(self) -> None:
        """End the other process if it still runs; remove the folder."""
        process, self._process = self._process, None
        if process is not None:
            if process.exitcode is None:
                process.kill()
            process.join()
            process.close()
        folder, self._folder = self._folder, None
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    def __enter__(self) -> SearchElsewhere:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def search_elsewhere(
    articles: Mapping[int, Article], *, process: bool = True, keywords_first: bool = False
) -> SearchElsewhere:
    """Start building the search index of ``articles`` in another process, when worth it.

    Worth it for :data:`ELSEWHERE_FROM` articles or more, with a second CPU
    (and ``process``); otherwise :meth:`SearchElsewhere.wait` builds the index
    in this process, or finds it built. ``keywords_first`` as
    :class:`SearchElsewhere` takes it.
    """
    worth = process and len(articles) >= ELSEWHERE_FROM and _cpus() > 1
    return SearchElsewhere(articles, process=worth, keywords_first=keywords_first)


def indexed(kg: KnowledgeGraph) -> bool:
    """Whether the search index of ``kg`` is built (a snapshot brings it)."""
    return isinstance(kg.memo.get(_KEY), SearchIndex)


def _build_elsewhere(folder: str, parent: int, keywords_first: bool = False) -> None:
    """In the other process: count the texts of ``folder``, then find the bridges,
    then make the keyword index, or the other way round (see :class:`SearchElsewhere`)."""
    # Imported here: they import this module.
    from kgraph.graph.bridges import bridges_of
    from kgraph.graph.build import keyword_arrays
    from kgraph.graph.relatedness import text_vectors

    started = time.perf_counter()
    counting = _Counting()
    keywords: list[tuple[str, ...]] = []
    path = os.path.join(folder, "texts")
    with open(path, "rb") as texts:
        ids = pickle.load(texts)  # written by the parent, in its own folder
        while True:
            try:
                block = pickle.load(texts)
            except EOFError:
                break
            counting.add(block)
            keywords += block[2]
    os.remove(path)  # read: no longer held (a folder in tmpfs is memory)
    counted = counting.counted()
    del counting
    if not _hand_over(parent, folder, "index", (counted, time.perf_counter() - started)):
        return
    # What the parent needs next, then last.
    for name in ("keywords", "bridges") if keywords_first else ("bridges", "keywords"):
        started = time.perf_counter()
        made: object
        if name == "bridges":
            made = bridges_of(ids, text_vectors(counted.weights, counted.idf))
            del counted  # let go before the keyword index is made, not held beside it
        else:
            made = keyword_arrays(ids.tolist(), keywords)
        if not _hand_over(parent, folder, name, (made, time.perf_counter() - started)):
            return
        del made


def _hand_over(parent: int, folder: str, name: str, value: object) -> bool:
    """Write ``value`` as ``name`` in ``folder``, whole or not at all (then renamed).

    Unless the parent (process ``parent``) is gone, killed before it could end
    this one: then the folder is removed, and ``False`` says to stop.
    """
    if os.getppid() != parent:
        shutil.rmtree(folder, ignore_errors=True)
        return False
    part = os.path.join(folder, f"{name}.part")
    with open(part, "wb") as out:
        pickle.dump(value, out, protocol=5)
    os.replace(part, os.path.join(folder, name))
    return True


def _cpus() -> int:
    """The CPUs this process may run on (its affinity: a container's cpuset), else all."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


def _narrowest(ids: IntArray) -> type[np.signedinteger[Any]]:
    """The narrowest of int32 and int64 holding every one of ``ids`` (ascending)."""
    fits = len(ids) == 0 or (np.iinfo(np.int32).min <= ids[0] and ids[-1] <= np.iinfo(np.int32).max)
    return np.int32 if fits else np.int64


def search_index(kg: KnowledgeGraph) -> SearchIndex:
    """The search index of ``kg``: built on first use, then kept with the graph.

    >>> from kgraph.graph import load_graph
    >>> index = search_index(load_graph("seeds"))
    >>> int(index.idf[index.terms["pump"]]) > int(index.idf[index.terms["what"]])
    True
    """
    built = kg.memo.get(_KEY)
    if isinstance(built, SearchIndex):  # most calls: no lock to wait for
        return built
    with _BUILDING:
        return kg.derived(_KEY, lambda: build_index(kg))


class WordIndex(Mapping[str, Sequence[int]]):
    """Each word of the titles, questions and keywords → the articles holding it, ascending.

    Read from the search index, which counts those words anyway: an index of
    its own read every title, question and keyword again (26 s of a cold
    start at a million generated articles) and held them once more. A word
    gives a view of the index's ids (``memoryview``: its length at once, ints
    when iterated).

    >>> from kgraph.graph import load_graph
    >>> index = word_index(load_graph("seeds"))
    >>> 168904 in index["atp"], "atp" in index, index.get("zzz") is None
    (True, True, True)
    """

    __slots__ = ("_ids", "_index")

    def __init__(self, index: SearchIndex) -> None:
        self._index = index
        self._ids = index.word_ids.data

    def get(self, word: str, default: object = None) -> Any:  # Mapping's, without a KeyError
        column = self._index.terms.get(word)
        if column is None or not self._index.spelt[column]:
            return default
        starts = self._index.word_starts
        return self._ids[int(starts[column]) : int(starts[column + 1])]

    def __getitem__(self, word: str) -> Sequence[int]:
        found: Sequence[int] | None = self.get(word)
        if found is None:
            raise KeyError(word)
        return found

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self.get(word) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._index.spellings)

    def __len__(self) -> int:
        return len(self._index.spellings)


def word_index(kg: KnowledgeGraph) -> WordIndex:
    """The :class:`WordIndex` of ``kg`` (its search index built first, if it is not yet)."""
    return WordIndex(search_index(kg))


def corrections(index: SearchIndex, word: str) -> dict[str, int]:
    """Spellings of titles, questions and keywords a typo or two from ``word``, with how many.

    A typo is a character left out, added, replaced, or swapped with the next
    (the optimal string alignment distance). Spellings one typo away are found
    by looking every variant of the word up: about twice the alphabet per
    character (a thousand look-ups, 0.3 ms, for a word of ten letters on the
    dev corpus). Words of :data:`LONG_WORD` letters or more may hold two
    typos: spellings sharing half of their character trigrams with the word
    are measured against it.

    >>> from kgraph.graph import load_graph
    >>> index = search_index(load_graph("seeds"))
    >>> corrections(index, "sodim"), corrections(index, "potasisum")
    ({'sodium': 1}, {'potassium': 1})
    """
    found = {
        variant: 1
        for variant in _one_typo_away(word, index.alphabet)
        if variant != word and _spelt(index, variant)
    }
    if len(word) >= LONG_WORD:
        for other in _sharing_trigrams(index, word):
            if other not in found and other != word and _typos(word, other, 2) <= 2:
                found[other] = 2
    return dict(sorted(found.items()))


def _sharing_trigrams(index: SearchIndex, word: str) -> list[str]:
    """Spellings within two letters of ``word``'s length sharing half of their trigrams with it."""
    asked = sorted({index.trigrams[t] for t in _trigrams(word) if t in index.trigrams})
    if not asked:
        return []
    postings = index.spelling_trigrams[:, asked]
    # A spelling holding a trigram twice counts it twice: a looser filter, never a stricter one.
    shared = np.bincount(postings.indices, minlength=len(index.spellings))
    sizes = index.spelling_sizes  # as many padded trigrams as letters
    enough = (2 * shared >= np.maximum(sizes, len(word))) & (np.abs(sizes - len(word)) <= 2)
    return [index.spellings[int(i)] for i in np.flatnonzero(enough)]


def _trigrams(word: str) -> list[str]:
    """The character trigrams of ``word`` padded with a space each side: as many as its letters.

    >>> _trigrams("cell")
    [' ce', 'cel', 'ell', 'll ']
    """
    padded = f" {word} "
    return [padded[at : at + 3] for at in range(len(word))]


def _typos(a: str, b: str, most: int) -> int:
    """The optimal string alignment distance of ``a`` and ``b``, or ``most + 1`` past ``most``.

    Hand-written: a handful of candidates per long word are measured, and no
    dependency of kgraph has an edit distance (scikit-learn and scipy do not).

    >>> _typos("photosynthese", "photosynthesis", 2), _typos("bianry", "binary", 2)
    (2, 1)
    """
    if abs(len(a) - len(b)) > most:
        return most + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, other in enumerate(b, 1):
            cost = 0 if char == other else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char == b[j - 2] and a[i - 2] == other:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > most:
            return most + 1
        before, previous = previous, current
    return previous[-1]


def _spelt(index: SearchIndex, word: str) -> bool:
    """Whether ``word`` is a word of a title, question or keyword."""
    # A dict look-up first: a bisection of the spellings per variant took 2 ms a word.
    column = index.terms.get(word)
    return column is not None and bool(index.spelt[column])


def _one_typo_away(word: str, alphabet: str) -> Iterable[str]:
    for at in range(len(word) + 1):
        head, tail = word[:at], word[at:]
        for char in alphabet:
            yield head + char + tail
        if tail:
            yield head + tail[1:]
            for char in alphabet:
                yield head + char + tail[1:]
        if len(tail) > 1:
            yield head + tail[1] + tail[0] + tail[2:]


def completions(index: SearchIndex, prefix: str) -> list[str]:
    """The commonest spellings of titles, questions and keywords that extend ``prefix``.

    >>> from kgraph.graph import load_graph
    >>> completions(search_index(load_graph("seeds")), "potas")
    ['potassium']
    """
    start = bisect.bisect_right(index.spellings, prefix)
    stop = bisect.bisect_left(index.spellings, prefix + "\U0010ffff", lo=start)
    if stop <= start:
        return []
    columns = index.spelling_columns[start:stop]
    held = index.weights.indptr[columns + 1] - index.weights.indptr[columns]
    best = np.argsort(-held, kind="stable")[:_COMPLETIONS]
    return [index.spellings[start + int(i)] for i in best]


@dataclass(frozen=True, slots=True)
class Hits:
    """The articles a search found, best first, each once, with their scores in [0, 1]."""

    ids: list[int]
    scores: list[float]


@dataclass(frozen=True, slots=True)
class QueryWord:
    """A word of a query: the columns that count for it, each with its weight."""

    columns: list[int]
    weights: list[float]
    best: float  # the most it can add to a score


def query_word(index: SearchIndex, word: str, last: bool) -> QueryWord:
    """What counts for ``word``: itself, its corrections if it is no known spelling, completions."""
    known = index.terms.get(word)
    unknown_idf = math.log1p((len(index.ids) + 0.5) / 0.5)  # the idf of a word no article has
    # Corrections and completions never count for more than the word itself
    # would: a rare variant must not outweigh a common word that was typed.
    cap = float(index.idf[known]) if known is not None else unknown_idf
    found: dict[int, float] = {}
    if known is not None:
        found[known] = cap
    variants: list[tuple[str, float]] = []
    if _MIN_CORRECTED <= len(word) <= _MAX_CORRECTED and not _spelt(index, word):
        found_typos = corrections(index, word).items()
        variants.extend((other, _CORRECTION**typos) for other, typos in found_typos)
    if last and len(word) >= _MIN_COMPLETED:
        variants.extend((other, _COMPLETION) for other in completions(index, word))
    for other, share in variants:
        column = index.terms[other]
        weight = share * min(cap, float(index.idf[column]))
        found[column] = max(found.get(column, 0.0), weight)
    best = max(found.values(), default=0.0) if known is not None or found else unknown_idf
    return QueryWord(columns=list(found), weights=list(found.values()), best=best)


def search(
    kg: KnowledgeGraph,
    text: str,
    within: Collection[int] | None = None,
    *,
    min_score: float = 0.0,
) -> Hits:
    """Articles relevant to ``text``, best first, each once; only those of ``within`` if given.

    Relevance is BM25F over the title, question, keywords and answer (its
    summary), the title weighing most
    (:data:`FIELD_WEIGHTS`). A word that is no spelling of a title, question or
    keyword also counts through the spellings one typo away
    (:func:`corrections`), and the last word, unless followed by a space or a
    sign, through its commonest completions (as-you-type), each at 0.6 of the
    word's weight. Articles holding the words as a phrase, in order, in the
    title, question or a keyword gain a fifth of the score.

    Scores are in [0, 1]: the share of the best score the query could reach;
    only those over ``min_score`` are kept (ranking thousands of weak matches
    of common words is most of a search's time).
    Equal scores (to 4 decimals) go to the most linked article (in-degree), then
    the lowest id. A text without words finds nothing.

    >>> from kgraph.graph import load_graph
    >>> kg = load_graph("seeds")
    >>> hits = search(kg, "sodium potasium pump")
    >>> hits.ids[:1], 0 < hits.scores[0] <= 1
    ([168904], True)
    """
    index = search_index(kg)
    query = list(dict.fromkeys(words(text)))
    if not query:
        return Hits([], [])
    typing_on = bool(text) and not text[-1].isspace() and text.rstrip()[-1:].isalnum()
    total = np.zeros(len(index.ids), dtype=np.float32)
    ideal = 0.0
    for at, word in enumerate(query):
        checkpoint()
        counted = query_word(index, word, last=typing_on and at == len(query) - 1)
        ideal += counted.best
        if len(counted.columns) == 1:
            rows, values = index.column_at(counted.columns[0])
            total[rows] += values * counted.weights[0]
            continue
        # A word counts once per article: through its best variant there.
        best = np.zeros(len(index.ids), dtype=np.float32)
        for column, weight in zip(counted.columns, counted.weights, strict=True):
            rows, values = index.column_at(column)
            best[rows] = np.maximum(best[rows], values * weight)
        total += best
    score = total / ideal if ideal else total
    if len(query) > 1:
        phrased = _phrase_rows(kg, index, query, score)
        score = score / (1 + PHRASE)
        score[phrased] += PHRASE / (1 + PHRASE)
    matching = np.flatnonzero(score > min_score)
    if within is not None:
        allowed = np.fromiter(within, np.int64, len(within))
        matching = matching[np.isin(index.ids[matching], allowed)]
    checkpoint()
    shown = np.round(score[matching], SCORE_DECIMALS)
    ranked = matching[np.lexsort((index.ids[matching], -index.in_degree[matching], -shown))]
    return Hits(ids=index.ids[ranked].tolist(), scores=score[ranked].astype(float).tolist())


def _phrase_rows(
    kg: KnowledgeGraph, index: SearchIndex, query: Sequence[str], score: FloatArray
) -> IntArray:
    """Rows of the articles whose title, question or a keyword holds ``query`` in order.

    Only the :data:`_PHRASE_CHECKS` best scored of the articles holding every
    word there are read: the bonus reorders the top of the list, and a query
    of common words ("what is the") would otherwise read thousands of titles.
    """
    by_word = WordIndex(index)
    holders = sorted((by_word.get(word, ()) for word in query), key=len)
    candidates = set(holders[0])
    for ids in holders[1:]:
        if not candidates:
            break
        checkpoint()
        candidates.intersection_update(ids)
    rows = np.searchsorted(index.ids, np.fromiter(candidates, np.int64, len(candidates)))
    if len(rows) > _PHRASE_CHECKS:
        rows = rows[np.argpartition(-score[rows], _PHRASE_CHECKS)[:_PHRASE_CHECKS]]
    phrase = f" {' '.join(query)} "
    found: list[int] = []
    for done, row in enumerate(rows.tolist()):
        if done % _CLOCK_EVERY == 0:
            checkpoint()
        article = kg.articles[int(index.ids[row])]
        texts = (article.title, article.question or "", *article.keywords)
        if any(phrase in f" {' '.join(words(text))} " for text in texts):
            found.append(row)
    return np.asarray(found, dtype=np.int64)

"""Articles alike by the keywords they share, rare keywords weighing more than common ones."""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from kgraph.budget import checkpoint
from kgraph.errors import ArticleNotFound
from kgraph.graph.knowledge import KnowledgeGraph
from kgraph.graph.table import keyword_count
from kgraph.model import Article

__all__ = [
    "MAX_CANDIDATES",
    "MAX_POSTINGS",
    "Similar",
    "keyword_weight",
    "shared_keywords",
    "similar",
]

#: The most article ids :func:`similar` reads from ``by_keyword`` per query,
#: rarest keyword first: a keyword whose articles would overrun it, and every
#: commoner one, finds no candidate (it still counts in the score of each
#: candidate found through a rarer keyword). It never cuts in on the dev corpus:
#: the commonest keyword, "physics", is on 730 articles, and no article's
#: keywords are on more than 3,133 articles between them.
MAX_POSTINGS = 5_000

#: The most candidates :func:`similar` scores per query, likeliest first. On
#: the dev corpus it changes no article's first ten.
MAX_CANDIDATES = 1_000

# How many postings or candidates are handled between two looks at the request's budget.
_CLOCK_EVERY = 256

# Scores and their bounds are sums of the same squares taken in different
# orders; a bound this close to the worst kept score may still tie with it.
_BOUND_SLACK = 1e-9


@dataclass(frozen=True, slots=True)
class Similar:
    """An article alike to another by the keywords they share.

    ``score`` is the cosine of the two keyword vectors, in (0, 1];
    ``shared_keywords`` are spelt as the article asked about spells them,
    rarest first; ``linked`` says whether a link joins the two, either way.
    """

    id: int
    score: float
    shared_keywords: tuple[str, ...]
    linked: bool


def _idf(articles: int, holders: int) -> float:
    # A keyword on one article cannot be shared: it says nothing about likeness.
    return math.log(articles / holders) if holders > 1 else 0.0


def keyword_weight(kg: KnowledgeGraph, keyword: str) -> float:
    """The weight of a keyword: ``log(N / df)``, its inverse document frequency.

    ``N`` is the number of articles, ``df`` the number holding the keyword
    (case-insensitive, runs of spaces as one). A keyword that no article or only
    one holds weighs 0.0, and so does one that every article holds.

    Examples
    --------
    >>> from kgraph.graph import load_graph
    >>> kg = load_graph("seeds")
    >>> round(keyword_weight(kg, "ATP"), 3), round(keyword_weight(kg, "linked  list"), 3)
    (1.312, 3.258)
    >>> keyword_weight(kg, "Okazaki fragments"), keyword_weight(kg, "no such keyword")
    (0.0, 0.0)
    """
    folded = " ".join(keyword.split()).casefold()
    return _idf(len(kg.articles), len(kg.by_keyword.get(folded, ())))


def _article(kg: KnowledgeGraph, article_id: int) -> Article:
    article = kg.articles.get(article_id)
    if article is None:
        raise ArticleNotFound(article_id)
    return article


def _rarest_first(kg: KnowledgeGraph, keywords: tuple[str, ...]) -> list[str]:
    """``keywords`` by how few articles hold them, then in their own order."""
    order = {keyword: position for position, keyword in enumerate(keywords)}
    return sorted(
        keywords,
        key=lambda keyword: (len(kg.by_keyword.get(keyword.casefold(), ())), order[keyword]),
    )


def shared_keywords(kg: KnowledgeGraph, a: int, b: int) -> tuple[str, ...]:
    """The keywords articles ``a`` and ``b`` both hold, in ``a``'s spelling, rarest first.

    Keywords match case-insensitively; keywords held by as many articles keep
    ``a``'s order.

    Raises
    ------
    ArticleNotFound
        When ``a`` or ``b`` is not an article of the graph.

    Examples
    --------
    >>> from kgraph.graph import load_graph
    >>> kg = load_graph("seeds")
    >>> shared_keywords(kg, 168904, 168914)
    ('electrochemical gradient', 'resting membrane potential', 'sodium-potassium pump', 'ATP')
    """
    first, second = _article(kg, a), _article(kg, b)
    theirs = {keyword.casefold() for keyword in second.keywords}
    ours = tuple(keyword for keyword in first.keywords if keyword.casefold() in theirs)
    return tuple(_rarest_first(kg, ours))


class _Squares(dict[int, float]):
    """Articles holding a keyword → its weight squared, each worked out when first met."""

    __slots__ = ("_articles",)

    def __init__(self, articles: int) -> None:
        super().__init__()
        self._articles = articles

    def __missing__(self, holders: int) -> float:
        square = self[holders] = _idf(self._articles, holders) ** 2
        return square


def _cosine(
    kg: KnowledgeGraph,
    source: Mapping[str, float],
    source_norm: float,
    candidate: Article,
    squares: _Squares,
) -> float:
    """The cosine of ``source`` (folded keyword → squared weight) and ``candidate``'s vector."""
    by_keyword = kg.by_keyword
    folded = list(dict.fromkeys(keyword.casefold() for keyword in candidate.keywords))
    own = [squares[len(by_keyword[keyword])] for keyword in folded]
    shared = [square for keyword, square in zip(folded, own, strict=True) if keyword in source]
    # fsum is exact whatever the order, so the score of a for b is that of b for a.
    return math.fsum(shared) / (source_norm * math.sqrt(math.fsum(own)))


def _likeliest_first(
    kg: KnowledgeGraph, reached: Mapping[int, float]
) -> Iterator[tuple[int, float]]:
    """``(candidate, reached)`` by what it shares, most first, then fewest keywords, then id.

    Sorted lazily, one run of equal ``reached`` at a time: the long tail of
    candidates sharing one common keyword is seldom needed.
    """
    runs: dict[float, list[int]] = {}
    for other, partial in reached.items():
        runs.setdefault(partial, []).append(other)
    articles = kg.articles
    for partial in sorted(runs, reverse=True):
        for other in sorted(
            runs[partial], key=lambda other: (keyword_count(articles, other), other)
        ):
            yield other, partial


def similar(
    kg: KnowledgeGraph, article_id: int, first: int = 10, *, exclude_linked: bool = False
) -> list[Similar]:
    """The articles most alike to ``article_id`` by their keywords, best first.

    Each article is a vector over the case-folded keywords, a keyword weighing
    its :func:`keyword_weight`; the score of two articles is the cosine of their
    vectors: the sum of the squared weights of the keywords they share, over
    the product of the vectors' lengths. Only articles sharing a keyword of
    weight above 0 are listed, never ``article_id`` itself; ordered by score
    (highest first), then id; at most ``first``. With ``exclude_linked``,
    articles linked to or from ``article_id`` are left out.

    The work per query is bounded whatever the size of the corpus: at most
    :data:`MAX_POSTINGS` article ids are read from the keyword index, rarest
    keyword first (commoner keywords find no candidates, but still count in
    the scores), and at most :data:`MAX_CANDIDATES` candidates are scored, by
    how much weight they share (most first), then fewest keywords, then id.
    Scoring stops as soon as no candidate left can beat the ``first`` kept, so
    the result is exact unless one of the two caps cuts in.

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
    >>> [(s.id, round(s.score, 3), s.linked) for s in similar(kg, 52002, 3)]
    [(52003, 0.689, True), (52001, 0.672, True), (52005, 0.315, False)]
    >>> similar(kg, 52002, 1, exclude_linked=True)[0].shared_keywords
    ('divide and conquer', 'algorithms')
    """
    article = _article(kg, article_id)
    if first <= 0:
        return []
    squares = _Squares(len(kg.articles))
    source = {
        folded: squares[len(kg.by_keyword[folded])]
        for folded in (keyword.casefold() for keyword in article.keywords)
    }
    source_norm = math.sqrt(math.fsum(source.values()))
    if source_norm == 0.0:
        return []

    # Sum the squared weights of the keywords each candidate shares with the
    # source, rarest keyword first, skipping those too common to read.
    reached: dict[int, float] = {}
    budget, unread = MAX_POSTINGS, 0.0
    for folded in sorted(source, key=lambda folded: len(kg.by_keyword[folded])):
        square, holders = source[folded], kg.by_keyword[folded]
        if len(holders) > budget:
            budget, unread = 0, unread + square
        elif square > 0.0:
            budget -= len(holders)
            checkpoint()  # at most MAX_POSTINGS ids read in all
            for other in holders:
                reached[other] = reached.get(other, 0.0) + square
    reached.pop(article_id, None)

    successors, predecessors = kg.graph.succ[article_id], kg.graph.pred[article_id]
    if exclude_linked:
        for other in (*successors, *predecessors):
            reached.pop(other, None)

    # A candidate shares at most `reached + unread` with the source, and its own
    # length is at least the root of what it shares: its score is at most
    # sqrt(reached + unread) / source_norm. Scoring candidates by that bound,
    # highest first, ends once the bound falls below the worst score kept.
    kept: list[tuple[float, int]] = []  # a min-heap of (score, -id)
    for scored, (other, partial) in enumerate(_likeliest_first(kg, reached)):
        if scored == MAX_CANDIDATES:
            break
        if scored % _CLOCK_EVERY == 0:
            checkpoint()
        if len(kept) == first:
            bound = math.sqrt(partial + unread) / source_norm
            if bound * (1 + _BOUND_SLACK) < kept[0][0]:
                break
        entry = (_cosine(kg, source, source_norm, kg.articles[other], squares), -other)
        if len(kept) < first:
            heapq.heappush(kept, entry)
        elif entry > kept[0]:
            heapq.heapreplace(kept, entry)

    ranked = _rarest_first(kg, article.keywords)
    found: list[Similar] = []
    for score, negated in sorted(kept, reverse=True):
        other = -negated
        theirs = {keyword.casefold() for keyword in kg.articles[other].keywords}
        found.append(
            Similar(
                id=other,
                score=score,
                shared_keywords=tuple(k for k in ranked if k.casefold() in theirs),
                linked=other in successors or other in predecessors,
            )
        )
    return found

"""What to read before what: prerequisites and levels, inferred from the corpus itself.

- **Prerequisites** by reference distance (RefD; Liang, Wu, Huang and Giles,
  "Measuring prerequisite relations among concepts", EMNLP 2015): article A
  is a prerequisite of B when B and the articles related to B refer to A's
  concept more than A and the articles related to A refer to B's::

      RefD(A, B) = Σ_{c ∈ N(B)} w(c, B) r(c, A) / Σ w(c, B)
                 - Σ_{c ∈ N(A)} w(c, A) r(c, B) / Σ w(c, A)

  ``N(X)`` is X itself (weight 1) and the articles most related to it
  (:func:`~kgraph.graph.relatedness.related`, weighted by their score);
  ``r(c, A)`` is 1 when c's text (title, question, keywords, summary) holds
  every word of A's *concept*, its first keyword (the corpus lists an
  article's main concept first), else 0.
- **Level** by concept generality and question form: a concept that
  articles across many parts of the topic name (in their title, question
  or keywords; counted by link island, so a long series on one subject is
  one) is foundational, one few name is specialised; a definition ("What is …?") reads before a
  comparison, an application or an effect ("How does … affect …?"). The
  score is the concept's rank among its topic's (0 the rarest, 1 the most
  named) plus or minus a quarter for the question's form; thirds of it make
  the levels.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from enum import StrEnum

import networkx as nx
import numpy as np

from kgraph.budget import checkpoint
from kgraph.corpus import words
from kgraph.errors import ArticleNotFound
from kgraph.graph.knowledge import KnowledgeGraph
from kgraph.graph.relatedness import related, relatedness_model
from kgraph.graph.search import word_index

__all__ = [
    "Level",
    "Prerequisite",
    "concept",
    "level",
    "level_score",
    "level_scores",
    "prerequisites",
    "refd",
]

#: Related articles read for each article's neighbourhood N(X).
NEIGHBOURHOOD = 10
#: RefD above this makes a prerequisite.
MIN_REFD = 0.1

_DEFINITION = re.compile(
    r"^\s*(what\s+(is|are)\b|define\b|what\s+does\s.*\bmean\b|what\s+is\s+meant\s+by\b)",
    re.IGNORECASE,
)
_ADVANCED = re.compile(
    r"\b(compare|comparison|contrast|differences?|differ|versus|vs\.?|impacts?|affects?|"
    r"effects?\s+of|influences?|implications?|applications?|applied|apply|role\s+of|"
    r"evaluate|analy[sz]e|challenges?|limitations?)\b",
    re.IGNORECASE,
)
_FORM = 0.25


class Level(StrEnum):
    """How far into a subject an article is."""

    FOUNDATIONAL = "foundational"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


@dataclass(frozen=True, slots=True)
class Prerequisite:
    """An article to read before another, and by how much (its RefD, in (0.1, 2])."""

    id: int
    score: float


def concept(kg: KnowledgeGraph, article_id: int) -> tuple[str, ...]:
    """The words of an article's main concept: its first keyword (else its title's words).

    >>> from kgraph.graph import load_graph
    >>> concept(load_graph("seeds"), 168904)
    ('atp',)
    """
    article = kg.articles[article_id]
    text = article.keywords[0] if article.keywords else article.title
    return tuple(dict.fromkeys(words(text)))


def _terms(kg: KnowledgeGraph, article_id: int) -> frozenset[str]:
    """The words of an article's title, question, keywords and summary (its text vectors')."""

    def compute() -> frozenset[str]:
        model = relatedness_model(kg)
        at = model.position(article_id)
        begin, end = model.text.indptr[at], model.text.indptr[at + 1]
        mine = set(model.terms[model.text.indices[begin:end]].tolist())
        article = kg.articles[article_id]
        # The commonest words left the text vectors: read them from the fields.
        mine.update(words(" ".join((article.title, article.question or "", *article.keywords))))
        return frozenset(mine)

    return kg.derived(("prerequisites", "terms", article_id), compute)


def _refers(kg: KnowledgeGraph, reader: int, article_id: int) -> bool:
    """Whether ``reader``'s text names ``article_id``'s concept (every word of it)."""
    wanted = concept(kg, article_id)
    return bool(wanted) and all(word in _terms(kg, reader) for word in wanted)


def _neighbourhood(kg: KnowledgeGraph, article_id: int) -> tuple[tuple[int, float], ...]:
    """N(X): the article itself (weight 1) and its most related articles, by score."""

    def compute() -> tuple[tuple[int, float], ...]:
        found = related(kg, article_id, NEIGHBOURHOOD).items
        return ((article_id, 1.0), *((r.id, r.score) for r in found))

    return kg.derived(("prerequisites", "neighbourhood", article_id), compute)


def _referring(kg: KnowledgeGraph, around: int, to: int) -> float:
    neighbourhood = _neighbourhood(kg, around)
    total = sum(weight for _, weight in neighbourhood)
    hits = sum(weight for other, weight in neighbourhood if _refers(kg, other, to))
    return hits / total if total else 0.0


def refd(kg: KnowledgeGraph, a: int, b: int) -> float:
    """RefD(A, B): above 0 when A reads before B (see the module's docstring), in [-1, 1].

    >>> from kgraph.graph import load_graph
    >>> kg = load_graph("seeds")
    >>> refd(kg, 168904, 168903) > 0 > refd(kg, 168903, 168904)
    True
    """
    for article_id in (a, b):
        if article_id not in kg.articles:
            raise ArticleNotFound(article_id)
    if a == b:
        return 0.0
    return _referring(kg, b, a) - _referring(kg, a, b)


def prerequisites(kg: KnowledgeGraph, article_id: int, first: int = 10) -> list[Prerequisite]:
    """The articles to read before ``article_id``, the strongest first (then by id).

    Candidates are the articles it links with (either way) and those most
    related to it; a candidate is a prerequisite when its RefD to the article
    is over :data:`MIN_REFD`.

    >>> from kgraph.graph import load_graph
    >>> kg = load_graph("seeds")
    >>> kg.articles[61002].title
    'What does the gradient of a function represent?'
    >>> [(p.id, kg.articles[p.id].title) for p in prerequisites(kg, 61002)]
    [(61001, 'What is a derivative?')]
    """
    if article_id not in kg.articles:
        raise ArticleNotFound(article_id)
    graph = kg.graph
    candidates = dict.fromkeys(
        [
            *graph.successors(article_id),
            *graph.predecessors(article_id),
            *(other for other, _ in _neighbourhood(kg, article_id)[1:]),
        ]
    )
    found = []
    for other in candidates:
        if other == article_id or other not in kg.articles:
            continue
        checkpoint()
        score = refd(kg, other, article_id)
        if score > MIN_REFD:
            found.append(Prerequisite(id=other, score=round(score, 4)))
    found.sort(key=lambda p: (-p.score, p.id))
    return found[:first]


def _islands(kg: KnowledgeGraph) -> dict[int, int]:
    """Each article's link island: its connected component over links either way."""

    def compute() -> dict[int, int]:
        found: dict[int, int] = {}
        links = kg.graph.to_undirected(as_view=True)
        for number, island in enumerate(nx.connected_components(links)):
            found.update(dict.fromkeys(island, number))
        return found

    return kg.derived(("prerequisites", "islands"), compute)


def _generality(kg: KnowledgeGraph, article_id: int, topic: str = "") -> tuple[int, int]:
    """In how many link islands of ``topic`` articles name the article's concept, and how many.

    An article names a concept when its title, question or keywords hold
    every word of it. Counting islands (components of the link graph), not
    articles, keeps one long series from passing for the topic's basics: a
    run of forty linked articles on "mathematical notation" is one island,
    while "function" is named across hundreds of unconnected ones. Words of
    the topic's own name are left out of the concept: "mathematics" says
    nothing of an article's level in mathematics (0 when nothing is left).
    Without a topic (or for a topic with no articles), islands anywhere count.
    The number of articles breaks ties (a small corpus is one island or two).
    """
    by_word = word_index(kg)
    holders: set[int] | None = None
    for word in concept(kg, article_id):
        if word in topic.split("-"):
            continue
        these = set(by_word.get(word, ()))
        holders = these if holders is None else holders & these
        if not holders:
            return 0, 0
    members = kg.derived(
        ("prerequisites", "members", topic), lambda: frozenset(kg.by_topic.get(topic, ()))
    )
    if holders and members:
        holders &= members
    islands = _islands(kg)
    holders = holders or set()
    return len({islands.get(holder, -1 - holder) for holder in holders}), len(holders)


def _topic_generality(
    kg: KnowledgeGraph, topic: str
) -> tuple[dict[int, tuple[int, int]], list[tuple[int, int]]]:
    """The generality of every article of ``topic``, by article and sorted (for ranks)."""

    def compute() -> tuple[dict[int, tuple[int, int]], list[tuple[int, int]]]:
        each = {i: _generality(kg, i, topic) for i in kg.by_topic.get(topic, ())}
        return each, sorted(each.values())

    return kg.derived(("prerequisites", "generality", topic), compute)


def level_scores(kg: KnowledgeGraph, topic: str) -> dict[int, float]:
    """How foundational every article of ``topic`` is within it, worked out once per graph.

    :func:`level_score` before it is clipped to [0, 1] (so from -0.25 to
    1.25): for ordering, where a definition of the topic's most general
    concept should still come before a mere mention of it.
    """
    return kg.derived(
        ("prerequisites", "levels", topic),
        lambda: {i: _unclipped_level(kg, i, topic) for i in kg.by_topic.get(topic, ())},
    )


def level_score(kg: KnowledgeGraph, article_id: int, topic: str | None = None) -> float:
    """How foundational an article is, about 0 (advanced) to 1 (foundational).

    Its concept's generality (:func:`_generality`) ranked among the articles
    of ``topic`` (default: its first topic), plus a quarter for a definition,
    less a quarter for a comparison, an application or an effect.
    """
    if article_id not in kg.articles:
        raise ArticleNotFound(article_id)
    article = kg.articles[article_id]
    topic = topic if topic is not None else (article.topics[0] if article.topics else "")
    return float(np.clip(_unclipped_level(kg, article_id, topic), 0.0, 1.0))


def _unclipped_level(kg: KnowledgeGraph, article_id: int, topic: str) -> float:
    each, ranked = _topic_generality(kg, topic)
    mine = each.get(article_id)
    if mine is None:  # an article of another topic
        mine = _generality(kg, article_id, topic)
    rank = (bisect.bisect_left(ranked, mine) + bisect.bisect_right(ranked, mine)) / 2
    score = rank / len(ranked) if ranked else 0.5
    article = kg.articles[article_id]
    question = article.question or article.title
    if _DEFINITION.search(question) and not _ADVANCED.search(question):
        score += _FORM
    elif _ADVANCED.search(question):
        score -= _FORM
    return score


def level(kg: KnowledgeGraph, article_id: int) -> Level:
    """The article's level: thirds of :func:`level_score`.

    >>> from kgraph.graph import load_graph
    >>> kg = load_graph("seeds")
    >>> level(kg, 61001).value, kg.articles[61001].title
    ('foundational', 'What is a derivative?')
    >>> level(kg, 168903).value, kg.articles[168903].title
    ('advanced', 'How do protein pumps function in active transport?')
    """
    score = level_score(kg, article_id)
    if score >= 2 / 3:
        return Level.FOUNDATIONAL
    return Level.INTERMEDIATE if score >= 1 / 3 else Level.ADVANCED

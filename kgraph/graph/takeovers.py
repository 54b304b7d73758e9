"""Copy takeovers: articles whose title or url a newly placed copy took over on a reload.

An article's title and url come from its first copy in path order (CORPUS.md,
"Article identity"). A file added under a path that sorts first, holding an
existing article's id, therefore takes them over without a word: nothing is
wrong with the corpus as read. Only against the graph served before can it be
told, so a reload compares the two (:func:`find_takeovers`) and keeps the
result with the new graph (:func:`copy_takeovers` reads it), where curators
see it until the takeover is undone.
"""

from __future__ import annotations

from dataclasses import dataclass

from kgraph.graph.knowledge import KnowledgeGraph
from kgraph.graph.table import head

__all__ = ["CopyTakeover", "copy_takeovers", "find_takeovers", "record_takeovers"]

# The key of a graph's takeovers in ``KnowledgeGraph.memo`` (a snapshot keeps them).
_KEY = "copy takeovers"


@dataclass(frozen=True, slots=True)
class CopyTakeover:
    """An article whose first copy is now a file that was not one of its copies before.

    ``path``, ``title`` and ``url`` are the article's now; the ``previous_``
    fields what they were before the takeover.
    """

    id: int
    path: str
    title: str
    url: str | None
    previous_path: str
    previous_title: str
    previous_url: str | None


def find_takeovers(previous: KnowledgeGraph, current: KnowledgeGraph) -> tuple[CopyTakeover, ...]:
    """The takeovers of ``current`` (a reload of ``previous``'s corpus), by article id.

    An article is taken over when its first copy is a file that was none of
    its copies in ``previous`` and its title or url differs from
    ``previous``'s. A takeover recorded on ``previous`` stays while that file
    still comes first and the title or url still differs from the original.

    Examples
    --------
    >>> from kgraph.corpus import CorpusReading, parse_article
    >>> from kgraph.graph import build_graph
    >>> def art(path, title):
    ...     text = f"---\\nid: 1\\ntitle: {title}\\nsubject: S\\nurl: /{path}\\n---\\n"
    ...     return parse_article(text.encode(), path)
    >>> def graph(*files):
    ...     return build_graph(CorpusReading("c", tuple(f.copy.path for f in files), files, ()))
    >>> before = graph(art("s/real.md", "Real"))
    >>> after = graph(art("a/fake.md", "Fake"), art("s/real.md", "Real"))
    >>> [(t.id, t.path, t.title, t.previous_title) for t in find_takeovers(before, after)]
    [(1, 'a/fake.md', 'Fake', 'Real')]
    """
    found: dict[int, CopyTakeover] = {}
    articles = current.articles
    for known in copy_takeovers(previous):
        article = articles.get(known.id)
        if article is None or article.copies[0].path != known.path:
            continue
        if (article.title, article.url) != (known.previous_title, known.previous_url):
            found[known.id] = CopyTakeover(
                id=known.id,
                path=known.path,
                title=article.title,
                url=article.url,
                previous_path=known.previous_path,
                previous_title=known.previous_title,
                previous_url=known.previous_url,
            )
    before = previous.articles
    for article_id, article in articles.items():
        # The first file, title and url alone (a warm graph's table reads them
        # from its columns); the whole record only for a takeover's candidate.
        was = None if article_id in found else head(before, article_id)
        if was is None:
            continue
        first = article.copies[0].path
        was_first, was_title, was_url = was
        if first == was_first or (article.title, article.url) == (was_title, was_url):
            continue
        if any(copy.path == first for copy in before[article_id].copies):
            continue  # an earlier copy removed: one of its own copies comes first now
        found[article_id] = CopyTakeover(
            id=article_id,
            path=first,
            title=article.title,
            url=article.url,
            previous_path=was_first,
            previous_title=was_title,
            previous_url=was_url,
        )
    return tuple(found[article_id] for article_id in sorted(found))


def record_takeovers(kg: KnowledgeGraph, takeovers: tuple[CopyTakeover, ...]) -> None:
    """Keep ``takeovers`` with ``kg`` (before it is served: the graph is never changed after)."""
    kg.memo[_KEY] = takeovers


def copy_takeovers(kg: KnowledgeGraph) -> tuple[CopyTakeover, ...]:
    """The takeovers recorded with ``kg`` when it was loaded, by article id (none at first)."""
    found = kg.memo.get(_KEY, ())
    return found if isinstance(found, tuple) else ()

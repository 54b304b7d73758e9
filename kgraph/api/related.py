"""Related articles as the API gives them: a score, whether they are linked, and why."""

from __future__ import annotations

import strawberry

from kgraph.api.context import Context
from kgraph.api.pagination import Page, Paging
from kgraph.api.types import Article, Connection
from kgraph.graph import KnowledgeGraph, relatedness, similarity

__all__ = ["RelatedReasons", "SimilarArticle", "SimilarConnection", "related_page"]

Info = strawberry.Info[Context, None]


@strawberry.type(description="Why two articles are related: what they share.")
class RelatedReasons:
    shared_keywords: list[str] = strawberry.field(
        description="Keywords both hold, in the first article's spelling, rarest first."
    )
    shared_terms: list[str] = strawberry.field(
        description="The terms of their title, question, keywords and answer summary that add most"
        " to their text likeness, strongest first."
    )
    common_neighbours: list[Article] = strawberry.field(
        description="Articles linked with both (either way), the least linked first."
    )
    text: float = strawberry.field(
        description="The likeness of their text alone (TF-IDF cosine), 0 to 1."
    )
    link_distance: int | None = strawberry.field(
        description="Links between them, either way: 1, 2 or 3; null when farther."
    )


@strawberry.type(description="An article related to another.")
class SimilarArticle:
    article: Article = strawberry.field(description="The related article.")
    score: float = strawberry.field(
        description="How related, 0 to 1 (4 decimals): text likeness, the neighbours they"
        " share (Adamic-Adar) and a link from it back, together."
    )
    shared_keywords: list[str] = strawberry.field(
        description="Keywords both hold (as `reasons.sharedKeywords`)."
    )
    linked: bool = strawberry.field(description="Whether a link joins the two, either way.")
    reasons: RelatedReasons = strawberry.field(description="What makes them related, part by part.")

    @classmethod
    def of(cls, kg: KnowledgeGraph, source: int, found: relatedness.Related) -> SimilarArticle:
        keywords = list(similarity.shared_keywords(kg, source, found.id))
        return cls(
            article=Article(_article=kg.articles[found.id]),
            score=round(found.score, 4),
            shared_keywords=keywords,
            linked=found.linked,
            reasons=RelatedReasons(
                shared_keywords=keywords,
                shared_terms=list(found.shared_terms),
                common_neighbours=[
                    Article(_article=kg.articles[i]) for i in found.common_neighbours
                ],
                text=round(found.text, 4),
                link_distance=found.link_distance,
            ),
        )


@strawberry.type(description="A page of related articles, best first.")
class SimilarConnection(Connection[SimilarArticle]):
    pass


def related_page(
    kg: KnowledgeGraph, article_id: int, asked: Paging, *, exclude_linked: bool = False
) -> SimilarConnection:
    """A page of the articles related to ``article_id`` (in a worker thread: it scores them all)."""
    if asked.last is None and asked.before is None:
        # Forwards, the window does not depend on how many there are: one ranking.
        start, stop = asked.window(total=2**62)
    else:
        # Backwards, it does: count them first (one more scoring, milliseconds).
        counted = relatedness.related(kg, article_id, 0, exclude_linked=exclude_linked)
        start, stop = asked.window(counted.total)
    found = relatedness.related(
        kg, article_id, stop - start, exclude_linked=exclude_linked, skip=start
    )
    page = Page(found.items, start, found.total, asked.version, asked.graph)
    return SimilarConnection.of_page(page, lambda item: SimilarArticle.of(kg, article_id, item))

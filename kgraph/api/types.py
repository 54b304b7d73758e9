"""GraphQL types, built from the domain model (which carries no strawberry decorator)."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Generic, Self, TypeVar

import strawberry
from strawberry import relay
from strawberry.relay import PageInfo

from kgraph import model
from kgraph.api.context import Context
from kgraph.api.offload import graph_work
from kgraph.api.pagination import (
    DEFAULT_FIRST,
    After,
    Before,
    First,
    Last,
    Page,
    Paging,
    page_size,
)
from kgraph.corpus import normalise_answer, render_answer
from kgraph.graph import KnowledgeGraph, curation, prerequisites, queries, search

if TYPE_CHECKING:
    from kgraph.api.related import SimilarConnection

__all__ = [
    "Article",
    "ArticleConnection",
    "ArticleEdge",
    "ArticleLookup",
    "Connection",
    "Copy",
    "Direction",
    "Edge",
    "Link",
    "Neighbour",
    "NeighbourConnection",
    "Stats",
    "Topic",
    "WantedArticle",
    "paging",
]

Info = strawberry.Info[Context, None]


@strawberry.enum(description="Which links to follow from an article.")
class Direction(Enum):
    OUT = strawberry.enum_value("out", description="The links the article makes.")
    IN = strawberry.enum_value("in", description="The links other articles make to it.")
    BOTH = strawberry.enum_value("both", description="Either way.")

    def to_graph(self) -> queries.Direction:
        """The graph layer's direction of the same name."""
        return queries.Direction[self.name]


def paging(
    info: Info, first: int | None, after: str | None, last: int | None, before: str | None
) -> Paging:
    """What a connection field was asked for, its cursors of the graph this request serves.

    ``first`` given as null takes the field's default, read from the schema: each
    default is stated once, on its argument.
    """
    default = DEFAULT_FIRST
    field = None
    if first is None:  # rare: only then is the field looked up
        field = info.schema.get_field_for_type(info.field_name, info.path.typename or "")
    for argument in field.arguments if field is not None else ():
        if argument.python_name == "first" and isinstance(argument.default, int):
            default = argument.default
    context = info.context
    return Paging(context.graph_version, first, after, last, before, default, context.graph_id)


def page_info(page: Page[Any]) -> PageInfo:
    """Relay's ``PageInfo`` of ``page``."""
    return PageInfo(
        has_next_page=page.has_next,
        has_previous_page=page.has_previous,
        start_cursor=page.start_cursor,
        end_cursor=page.end_cursor,
    )


@strawberry.type(description="One file of an article: its path in the corpus, url and subject.")
class Copy:
    path: str = strawberry.field(description="The file's path relative to the corpus folder.")
    url: str | None = strawberry.field(description="The page's url as the file gives it.")
    subject: str = strawberry.field(description="The subject as the file spells it.")

    @classmethod
    def of(cls, copy: model.Copy) -> Copy:
        return cls(path=copy.path, url=copy.url, subject=copy.subject)


@strawberry.type(description="A subject area; its key is the subject's slug.")
class Topic(relay.Node):
    _topic: strawberry.Private[model.Topic]

    @classmethod
    def resolve_id(cls, root: Topic, *, info: Info) -> str:
        return root._topic.key

    @strawberry.field(description="The slug, e.g. `computer-science`.")
    def key(self) -> str:
        return self._topic.key

    @strawberry.field(description="The most common spelling of the subject.")
    def name(self) -> str:
        return self._topic.name

    @strawberry.field(description="Every spelling of the subject, most files first.")
    def spellings(self) -> list[str]:
        return [spelling for spelling, _ in self._topic.spellings]

    @strawberry.field(description="Articles with a copy in this topic.")
    def article_count(self) -> int:
        return len(self._topic.article_ids)

    @strawberry.field(description="Files whose subject is this topic.")
    def file_count(self) -> int:
        return self._topic.files

    @strawberry.field(description="The topic's articles, by id.")
    def articles(
        self,
        info: Info,
        first: First = DEFAULT_FIRST,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ArticleConnection:
        asked = paging(info, first, after, last, before)
        return ArticleConnection.of(info.context.kg, self._topic.article_ids, asked)


@strawberry.type(description="An article that related entries name but no file holds.")
class WantedArticle(relay.Node):
    _wanted: strawberry.Private[model.Wanted]

    @classmethod
    def resolve_id(cls, root: WantedArticle, *, info: Info) -> str:
        return str(root._wanted.id)

    @strawberry.field(description="The missing article's id, as the entries naming it give it.")
    def article_id(self) -> int:
        return self._wanted.id

    @strawberry.field(description="The title the first entry naming it gives.")
    def title(self) -> str | None:
        return self._wanted.title

    @strawberry.field(description="The subject the first entry naming it gives.")
    def subject(self) -> str | None:
        return self._wanted.subject

    @strawberry.field(description="The url the first entry naming it gives.")
    def url(self) -> str | None:
        return self._wanted.url

    @strawberry.field(description="The articles that link to it.")
    def referrers(
        self,
        info: Info,
        first: First = DEFAULT_FIRST,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ArticleConnection:
        asked = paging(info, first, after, last, before)
        return ArticleConnection.of(info.context.kg, self._wanted.referrers, asked)

    @strawberry.field(
        description="Up to 3 existing articles the entries most likely meant: those of the"
        " same title, else what search finds by the title they give plus a quarter of how"
        " related each is to the articles naming it; none when nothing comes close."
    )
    async def suggestions(self, info: Info) -> list[Article]:
        kg = info.context.kg
        # A few milliseconds of scoring: off the event loop.
        found = await graph_work(info, lambda: curation.wanted_suggestions(kg, self._wanted))
        return [Article(_article=kg.articles[i]) for i in found]


@strawberry.type(
    description="An outgoing related entry: to an existing article (`target`)"
    " or to a missing one (`wanted`)."
)
class Link:
    rank: int = strawberry.field(description="N of related_articleN: 1 is the most related.")
    target: Article | None = strawberry.field(
        description="The article linked to; null when the graph does not hold it."
    )
    wanted: WantedArticle | None = strawberry.field(
        description="The missing article linked to; null when the graph holds it."
    )


def _link(kg: KnowledgeGraph, link: queries.OutgoingLink) -> Link:
    target = kg.articles[link.target] if link.target is not None else None
    wanted = kg.wanted[link.wanted] if link.wanted is not None else None
    return Link(
        rank=link.rank,
        target=Article(_article=target) if target is not None else None,
        wanted=WantedArticle(_wanted=wanted) if wanted is not None else None,
    )


@strawberry.type(description="A Q&A article: one node of the graph, with every copy of it.")
class Article(relay.Node):
    _article: strawberry.Private[model.Article]

    @classmethod
    def resolve_id(cls, root: Article, *, info: Info) -> str:
        return str(root._article.id)

    @strawberry.field(
        description="The article's id, as its files give it (`id` is its global id, for `node`)."
    )
    def article_id(self) -> int:
        return self._article.id

    @strawberry.field(description="The title of the first copy.")
    def title(self) -> str:
        return self._article.title

    @strawberry.field(description="The question the article answers; null when none is given.")
    def question(self) -> str | None:
        return self._article.question

    @strawberry.field(description="The answer with real line breaks (LaTeX kept).")
    def answer(self, info: Info) -> str:
        return normalise_answer(info.context.kg.answer_raw(self._article.id))

    @strawberry.field(description="The answer as the file writes it (escaped line breaks).")
    def answer_raw(self, info: Info) -> str:
        return info.context.kg.answer_raw(self._article.id)

    @strawberry.field(
        description="The answer as HTML, safe to insert into a page: its Markdown"
        " (CommonMark and tables) rendered, raw HTML escaped, links to javascript: and"
        " the like left as text. Maths is an element of class `math`, `inline` ($…$,"
        " \\(…\\)) or `display` ($$…$$, \\[…\\]), holding its TeX for KaTeX to typeset."
    )
    def answer_html(self, info: Info) -> str:
        return render_answer(normalise_answer(info.context.kg.answer_raw(self._article.id)))

    @strawberry.field(description="The one-line summary (seo.page_description).")
    def description(self) -> str | None:
        return self._article.description

    @strawberry.field(description="The keywords of the first copy, in its order.")
    def keywords(self) -> list[str]:
        return list(self._article.keywords)

    @strawberry.field(description="The date the first copy gives; null when none.")
    def date(self) -> datetime.date | None:
        return self._article.date

    @strawberry.field(description="The score the first copy gives; null when none.")
    def score(self) -> float | None:
        return self._article.score

    @strawberry.field(description="True for withdrawn answers (no_index).")
    def no_index(self) -> bool:
        return self._article.no_index

    @strawberry.field(description="The subject as the first copy spells it.")
    def subject(self) -> str:
        return self._article.subject

    @strawberry.field(description="The url of the first copy.")
    def url(self) -> str | None:
        return self._article.url

    @strawberry.field(description="Every topic of every copy.")
    def topics(self, info: Info) -> list[Topic]:
        kg = info.context.kg
        return [Topic(_topic=kg.topics[key]) for key in self._article.topics]

    @strawberry.field(description="Every file of the article, in path order.")
    def copies(self) -> list[Copy]:
        return [Copy.of(copy) for copy in self._article.copies]

    @strawberry.field(description="Outgoing related entries in rank order, broken ones included.")
    def links(self, info: Info) -> list[Link]:
        kg = info.context.kg
        return [_link(kg, link) for link in queries.outgoing_links(kg, self._article.id)]

    @strawberry.field(
        description="The articles linking here, strongest link (lowest rank) first, then by id."
    )
    def backlinks(
        self,
        info: Info,
        first: First = DEFAULT_FIRST,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ArticleConnection:
        kg = info.context.kg
        every = queries.backlinks(kg, self._article.id, queries.in_degree(kg, self._article.id))
        return ArticleConnection.of(kg, every, paging(info, first, after, last, before))

    @strawberry.field(
        description="What links here: the articles linking here, strongest link (lowest rank)"
        " first, a page at a time, so that every one is reachable.",
        deprecation_reason="Use `backlinks`: a connection since 0.2, the same list.",
    )
    def linked_from(
        self,
        info: Info,
        first: First = DEFAULT_FIRST,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ArticleConnection:
        kg = info.context.kg
        every = queries.backlinks(kg, self._article.id, queries.in_degree(kg, self._article.id))
        return ArticleConnection.of(kg, every, paging(info, first, after, last, before))

    @strawberry.field(
        description="Articles likely related to this one that it does not link to, nor they"
        " to it: the links it is missing, best first."
    )
    async def missing_links(
        self,
        info: Info,
        first: First = 10,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Annotated[SimilarConnection, strawberry.lazy("kgraph.api.related")]:
        from kgraph.api.related import related_page  # related.py builds on this module

        kg = info.context.kg
        article_id = self._article.id
        asked = paging(info, first, after, last, before)
        return await graph_work(
            info, lambda: related_page(kg, article_id, asked, exclude_linked=True)
        )

    @strawberry.field(
        description="How far into its subject it is: FOUNDATIONAL, INTERMEDIATE or ADVANCED, by"
        " how many articles name its concept (its first keyword; ranked within its first topic)"
        " and its question's form (a definition reads before a comparison or an application)."
    )
    async def level(self, info: Info) -> ArticleLevel:
        kg = info.context.kg
        article_id = self._article.id
        # The first of a topic ranks its thousands of articles: off the event loop.
        found = await graph_work(info, lambda: prerequisites.level(kg, article_id))
        return ArticleLevel(found.value)

    @strawberry.field(
        description="Articles to read before this one, the strongest first: those it links"
        " with or is most related to whose concept it and its related articles name more than"
        " they name its own (reference distance, RefD, over 0.1)."
    )
    async def prerequisites(self, info: Info, first: First = 5) -> list[Prerequisite]:
        kg = info.context.kg
        article_id = self._article.id
        size = page_size(first, 5)
        found = await graph_work(info, lambda: prerequisites.prerequisites(kg, article_id, size))
        return [
            Prerequisite(article=Article(_article=kg.articles[p.id]), score=p.score) for p in found
        ]

    @strawberry.field(description="How many distinct articles link here.")
    def in_degree(self, info: Info) -> int:
        return queries.in_degree(info.context.kg, self._article.id)

    @strawberry.field(description="How many distinct articles this one links to.")
    def out_degree(self, info: Info) -> int:
        return queries.out_degree(info.context.kg, self._article.id)


@strawberry.enum(description="How far into its subject an article is.")
class ArticleLevel(Enum):
    FOUNDATIONAL = strawberry.enum_value(
        "foundational", description="Its concept is named widely: read it early."
    )
    INTERMEDIATE = strawberry.enum_value(
        "intermediate", description="Between the foundations and the applications."
    )
    ADVANCED = strawberry.enum_value(
        "advanced", description="A narrow concept, a comparison or an application: read it late."
    )


@strawberry.type(description="An article to read before another.")
class Prerequisite:
    article: Article = strawberry.field(description="The article to read first.")
    score: float = strawberry.field(
        description="Its reference distance (RefD) to the other, over 0.1 up to 1: how much"
        " more the other's neighbourhood names its concept than its own names the other's."
    )


T = TypeVar("T")
U = TypeVar("U")


_CURSOR = (
    "Where the item is: pass it as `after` to go on from it, or as `before` to go back;"
    " good until the graph is reloaded."
)


@strawberry.type(description="An item and its place in the list.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description=_CURSOR)
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list.")
class Connection(Generic[T]):
    total_count: int = strawberry.field(description="Items in the whole list, all pages.")
    page_info: PageInfo = strawberry.field(
        description="Whether more follows or comes before, and from where."
    )
    nodes: list[T] = strawberry.field(description="The page's items.")
    edges: list[Edge[T]] = strawberry.field(description="The page's items with their cursors.")

    @classmethod
    def of(cls, items: Sequence[U], asked: Paging, wrap: Callable[[U], T]) -> Self:
        """The page of ``items`` ``asked`` for, each item wrapped as a GraphQL type."""
        return cls.of_page(asked.page(items), wrap)

    @classmethod
    def of_page(cls, page: Page[U], wrap: Callable[[U], T]) -> Self:
        """The connection of ``page``, each item wrapped as a GraphQL type."""
        nodes = [wrap(item) for item in page.items]
        edges = [Edge(cursor=page.cursor(n), node=node) for n, node in enumerate(nodes)]
        return cls(total_count=page.total, page_info=page_info(page), nodes=nodes, edges=edges)


@strawberry.type(description="An article and its place in the list.")
class ArticleEdge:
    cursor: str = strawberry.field(description=_CURSOR)
    node: Article = strawberry.field(description="The article.")
    score: float | None = strawberry.field(
        description="How well the article matches the search, from 0 to 1 (4 decimals);"
        " null when not searching."
    )


@strawberry.type(description="A page of articles.")
class ArticleConnection:
    total_count: int = strawberry.field(description="Items in the whole list, all pages.")
    page_info: PageInfo = strawberry.field(
        description="Whether more follows or comes before, and from where."
    )
    nodes: list[Article] = strawberry.field(description="The page's articles.")
    edges: list[ArticleEdge] = strawberry.field(
        description="The page's articles with their cursors (and search scores)."
    )

    @classmethod
    def of(
        cls,
        kg: KnowledgeGraph,
        ids: Sequence[int],
        asked: Paging,
        scores: Sequence[float] | None = None,
    ) -> ArticleConnection:
        """A page of the articles ``ids``; ``scores`` (one per id) when they were searched."""
        page = asked.page(range(len(ids)))  # positions in ids
        edges = [
            ArticleEdge(
                cursor=page.cursor(n),
                node=Article(_article=kg.articles[ids[at]]),
                score=None if scores is None else round(scores[at], search.SCORE_DECIMALS),
            )
            for n, at in enumerate(page.items)
        ]
        return cls(
            total_count=page.total,
            page_info=page_info(page),
            nodes=[e.node for e in edges],
            edges=edges,
        )


@strawberry.type(description="An article near another, and how it was reached.")
class Neighbour:
    article: Article = strawberry.field(description="The article reached.")
    distance: int = strawberry.field(description="Links between the start and this article.")
    rank: int = strawberry.field(description="Rank of the link that reached it.")
    via: Article = strawberry.field(description="The article one step closer to the start.")


@strawberry.type(description="A page of the articles near another, nearest first.")
class NeighbourConnection(Connection[Neighbour]):
    pass


@strawberry.input(
    one_of=True,
    description="Which article `article(by:)` finds: by its `id` or by the `url` of any of its"
    " copies; exactly one of them (@oneOf: the schema says so, and validation checks it).",
)
class ArticleLookup:
    id: int | None = strawberry.field(default=strawberry.UNSET, description="The article's id.")
    url: str | None = strawberry.field(
        default=strawberry.UNSET, description="The url of any copy of the article."
    )


@strawberry.input(description="Filters of `articles`; all given filters must hold.")
class ArticleFilter:
    topic: str | None = strawberry.field(
        default=None, description="A topic key or a spelling of its subject."
    )
    keyword: str | None = strawberry.field(default=None, description="One keyword, any case.")
    search: str | None = strawberry.field(
        default=None,
        description="Words to rank articles by (title, question, keywords, answer summary);"
        " a typo forgiven, the last word completed.",
    )


@strawberry.type(description="What the server holds and when it loaded it.")
class Stats:
    files: int = strawberry.field(description="Article files read (copies counted).")
    articles: int = strawberry.field(description="Distinct articles (by id).")
    links: int = strawberry.field(description="Links between existing articles.")
    topics: int = strawberry.field(description="Topics (subjects).")
    parse_errors: int = strawberry.field(description="Files that could not be read.")
    wanted_articles: int = strawberry.field(
        description="Articles that related entries name but no file holds."
    )
    loaded_at: datetime.datetime = strawberry.field(description="When the graph was loaded.")
    load_seconds: float = strawberry.field(description="How long loading took, in seconds.")
    corpus: str = strawberry.field(
        description="The corpus folder served (its name alone in production)."
    )
    version: str = strawberry.field(description="The kgraph version serving.")
    graph_version: int = strawberry.field(
        description="The served graph's version: 1 for the first load, one more per reload."
    )
    reload_error: str | None = strawberry.field(
        description="Why the last reload failed, while this older graph keeps serving; "
        "null when the last reload succeeded (or none happened)."
    )

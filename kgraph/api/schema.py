"""The GraphQL schema: the Query type, its thin resolvers, and its protections."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Annotated, Any, TypeAlias

import anyio
import strawberry
from graphql import GraphQLError, NoSchemaIntrospectionCustomRule
from strawberry import relay
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
)
from strawberry.types import ExecutionContext

from kgraph import __version__
from kgraph.api.cache import PARTIAL_KEY
from kgraph.api.context import Context
from kgraph.api.curation import Curation
from kgraph.api.errors import CodedMaskErrors, ErrorCodes
from kgraph.api.limits import (
    MAX_TOKENS,
    VALIDATION_RULES,
    CostLimiter,
    list_sizes,
    should_mask_error,
)
from kgraph.api.nodes import MAX_NODES, find_node
from kgraph.api.offload import graph_work
from kgraph.api.operations import NoteOperation
from kgraph.api.pagination import (
    DEFAULT_FIRST,
    After,
    Before,
    First,
    Last,
    check_range,
    or_default,
)
from kgraph.api.related import SimilarConnection, related_page
from kgraph.api.subscription import Subscription
from kgraph.api.types import (
    Article,
    ArticleConnection,
    ArticleFilter,
    ArticleLookup,
    Direction,
    Neighbour,
    NeighbourConnection,
    Stats,
    Topic,
    paging,
)
from kgraph.api.validation import ValidateInline, ValidateOffLoop, Validator
from kgraph.api.visual import (
    Layout,
    LearningPath,
    PathOptions,
    PathSearch,
    ReadingPlanConnection,
    ReadingStep,
    Subgraph,
)
from kgraph.corpus import topic_key
from kgraph.errors import ArticleNotFound, QueryError
from kgraph.graph import curation, paths, queries, subgraphs

__all__ = ["KgraphSchema", "Query", "create_schema"]

log = logging.getLogger("kgraph.api")

Info = strawberry.Info[Context, None]


# Arguments several fields share, described once.
From: TypeAlias = Annotated[
    int, strawberry.argument(name="from", description="The id of the article to start from.")
]
To: TypeAlias = Annotated[int, strawberry.argument(description="The id of the article to reach.")]
PathCount: TypeAlias = Annotated[
    int | None,
    strawberry.argument(description=f"How many distinct paths to find, 1 to {paths.MAX_PATHS}."),
]
Options: TypeAlias = Annotated[
    PathOptions | None,
    strawberry.argument(description="What a path may take and what it minimises."),
]
ArticleId: TypeAlias = Annotated[int, strawberry.argument(description="The article's id.")]
TopicKey: TypeAlias = Annotated[
    str, strawberry.argument(description="A topic key or a spelling of its subject.")
]
Start: TypeAlias = Annotated[
    int | None,
    strawberry.argument(
        description="The id of the article to start from (one of the topic's); default: its most"
        " foundational."
    ),
]
Drawing: TypeAlias = Annotated[
    Layout | None,
    strawberry.argument(
        description="Coordinates computed by the server; NONE leaves placing to the client."
    ),
]

# Depth 1 takes microseconds; deeper neighbourhoods of hub articles can take
# milliseconds, which go to a worker thread so the event loop keeps serving.
_INLINE_DEPTH = 1

#: Jobs of graph work that run at once off the event loop. The work is pure
#: Python and holds the GIL, so more threads would not finish it sooner: they
#: would only make the event loop wait longer for its turn to answer.
GRAPH_WORKERS = 2


async def _whole_reading_plan(
    info: Info, topic: str, start: int | None
) -> tuple[subgraphs.ReadingStep, ...]:
    """The whole reading plan of ``topic`` from ``start``, worked out off the event loop.

    Every article of the topic is placed (thousands): ``readingOrder`` and
    ``readingPlan`` page through the same plan.
    """
    kg = info.context.kg
    return await graph_work(info, lambda: subgraphs.whole_reading_plan(kg, topic_key(topic), start))


async def _find_paths(
    info: Info, from_: int, to: int, k: int | None, options: PathOptions | None
) -> paths.LearningPaths:
    """``learningPaths``' search, off the event loop; an answer the time bound cut is not cached."""
    kg = info.context.kg
    chosen = (options or PathOptions()).to_graph()
    most = or_default(k, 3)
    found = await graph_work(info, lambda: paths.find_learning_paths(kg, from_, to, most, chosen))
    if not found.complete:
        # Cut by the time bound: another time, the same request may find more.
        info.context.scope[PARTIAL_KEY] = True
    return found


@strawberry.type(description="What kgraph answers: articles, topics, paths, drawings, reports.")
class Query:
    @strawberry.field(
        description="One article by `id`, by the `url` of any of its copies, or `by` either"
        " (give exactly one of the three); null when there is none."
    )
    def article(
        self,
        info: Info,
        id: Annotated[
            int | None,
            strawberry.argument(
                description="The article's numeric id (`articleId`); its global `id` goes to"
                " `node`."
            ),
        ] = None,
        url: Annotated[
            str | None, strawberry.argument(description="The url of any copy of the article.")
        ] = None,
        by: Annotated[
            ArticleLookup | None,
            strawberry.argument(
                description="The article's id or url, as one @oneOf input: the form whose"
                ' "exactly one" the schema states (`id` and `url` stay for older clients).'
            ),
        ] = None,
    ) -> Article | None:
        if by is not None:
            if id is not None or url is not None:
                raise QueryError("give `by`, or one of `id` and `url`, to `article`: not both")
            # @oneOf: validation let exactly one of them through, and not as null.
            id = by.id if isinstance(by.id, int) else None
            url = by.url if isinstance(by.url, str) else None
        if (id is None) == (url is None):
            raise QueryError("give exactly one of `id` and `url` to `article`")
        kg = info.context.kg
        article_id = id if id is not None else kg.by_url.get(url or "")
        article = kg.articles.get(article_id) if article_id is not None else None
        return Article(_article=article) if article is not None else None

    @strawberry.field(
        description="The object of a global `id` (an Article, Topic or WantedArticle), as"
        " Relay's object identification asks; null when this graph holds none."
    )
    def node(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The object's global `id`.")],
    ) -> relay.Node | None:
        return find_node(info.context.kg, id)

    @strawberry.field(
        description=f"The objects of up to {MAX_NODES} global ids, in their order; null for"
        " one this graph does not hold."
    )
    def nodes(
        self,
        info: Info,
        ids: Annotated[
            list[relay.GlobalID],
            strawberry.argument(description=f"Global ids (`id`), 1 to {MAX_NODES}."),
        ],
    ) -> list[relay.Node | None]:
        if not 1 <= len(ids) <= MAX_NODES:
            raise QueryError(f"`nodes` takes 1 to {MAX_NODES} ids, got {len(ids)}")
        kg = info.context.kg
        return [find_node(kg, each) for each in ids]

    @strawberry.field(
        description="Articles matching every given filter: by relevance when searching, else by id."
    )
    async def articles(
        self,
        info: Info,
        filter: Annotated[
            ArticleFilter | None, strawberry.argument(description="Filters that must all hold.")
        ] = None,
        first: First = DEFAULT_FIRST,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ArticleConnection:
        kg = info.context.kg
        given = filter or ArticleFilter()
        asked = paging(info, first, after, last, before)

        def run() -> queries.Found:
            return queries.find_articles(
                kg, topic=given.topic, keyword=given.keyword, search=given.search
            )

        # Filters are index lookups (microseconds); a search scores every
        # article holding a word (milliseconds): off the loop.
        found = run() if given.search is None else await graph_work(info, run)
        return ArticleConnection.of(kg, found.ids, asked, found.scores)

    @strawberry.field(description="Every topic, by key.")
    def topics(self, info: Info) -> list[Topic]:
        return [Topic(_topic=topic) for topic in info.context.kg.topics.values()]

    @strawberry.field(description="One topic by key (or subject spelling); null when none.")
    def topic(self, info: Info, key: TopicKey) -> Topic | None:
        topic = info.context.kg.topics.get(topic_key(key))
        return Topic(_topic=topic) if topic is not None else None

    @strawberry.field(
        description="Articles within `depth` links of article `id`, ordered by distance,"
        " then rank, then id."
    )
    async def neighbours(
        self,
        info: Info,
        id: ArticleId,
        direction: Annotated[
            Direction | None, strawberry.argument(description="Which links to follow.")
        ] = Direction.OUT,
        depth: Annotated[
            int | None, strawberry.argument(description="How many links away, 1 to 3.")
        ] = 1,
        first: First = 50,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> NeighbourConnection:
        hops = check_range("depth", or_default(depth, 1), 1, 3)
        asked = paging(info, first, after, last, before)
        towards = or_default(direction, Direction.OUT).to_graph()
        kg = info.context.kg
        if id not in kg.articles:
            raise ArticleNotFound(id)

        def run() -> list[queries.Neighbour]:
            # Every one, for the count and the pages after: a breadth-first search
            # of at most the whole graph (the dev corpus's most linked article, both
            # ways at depth 3: 810 articles, 40 ms for the whole request).
            return queries.neighbours(kg, id, towards, hops, len(kg.articles))

        found = run() if hops <= _INLINE_DEPTH else await graph_work(info, run)
        return NeighbourConnection.of(
            found,
            asked,
            lambda n: Neighbour(
                article=Article(_article=kg.articles[n.id]),
                distance=n.distance,
                rank=n.rank,
                via=Article(_article=kg.articles[n.via]),
            ),
        )

    @strawberry.field(
        description="Curator reports; `topic` (a key or subject spelling) narrows every list"
        " to that topic."
    )
    async def curation(
        self,
        info: Info,
        topic: Annotated[
            str | None,
            strawberry.argument(description="A topic key or spelling; left out: the whole corpus."),
        ] = None,
    ) -> Curation:
        kg = info.context.kg
        key = None
        if topic is not None:
            key = topic_key(topic)
            if key not in kg.topics:
                raise QueryError(f"no topic {topic!r}: the `topics` query lists them")
        # A topic's report is built on first use (a fraction of a second): off the loop.
        report = await graph_work(info, lambda: curation.curation_report(kg, key))
        return Curation(_report=report)

    @strawberry.field(
        description="The best learning path from article `from` to article `to`;"
        " null when there is none."
    )
    async def learning_path(
        self,
        info: Info,
        from_: From,
        to: To,
        options: Options = None,
    ) -> LearningPath | None:
        kg = info.context.kg
        chosen = (options or PathOptions()).to_graph()
        found = await graph_work(info, lambda: paths.learning_path(kg, from_, to, chosen))
        return LearningPath.of(kg, found) if found is not None else None

    @strawberry.field(
        description="Up to `k` (1-10) distinct learning paths, cheapest first; bounded in time"
        " (`learningPathSearch` also says why there are fewer than `k`)."
    )
    async def learning_paths(
        self,
        info: Info,
        from_: From,
        to: To,
        k: PathCount = 3,
        options: Options = None,
    ) -> list[LearningPath]:
        found = await _find_paths(info, from_, to, k, options)
        return [LearningPath.of(info.context.kg, path, found.complete) for path in found.paths]

    @strawberry.field(
        description="`learningPaths` with why there are fewer than `k` when there are: no"
        " path, no more within the limits, or the time bound (with what to try)."
    )
    async def learning_path_search(
        self,
        info: Info,
        from_: From,
        to: To,
        k: PathCount = 3,
        options: Options = None,
    ) -> PathSearch:
        found = await _find_paths(info, from_, to, k, options)
        return PathSearch.of(info.context.kg, found)

    @strawberry.field(
        description="The centers' neighbourhoods to `depth` (1-3), nearest first, cut at"
        " `limit` (1-2,000) nodes; wanted articles are hollow nodes."
    )
    async def subgraph(
        self,
        info: Info,
        center: Annotated[
            list[int], strawberry.argument(description="The ids of the articles to start from.")
        ],
        depth: Annotated[
            int | None,
            strawberry.argument(description="How many links away from a center, 1 to 3."),
        ] = 1,
        direction: Annotated[
            Direction | None, strawberry.argument(description="Which links to follow.")
        ] = Direction.BOTH,
        limit: Annotated[
            int | None,
            strawberry.argument(
                description=f"The most nodes to draw, 1 to {subgraphs.MAX_LIMIT:,}."
            ),
        ] = 200,
        layout: Drawing = Layout.NONE,
    ) -> Subgraph:
        kg = info.context.kg
        drawn = await graph_work(
            info,
            lambda: subgraphs.subgraph(
                kg,
                center,
                or_default(depth, 1),
                or_default(direction, Direction.BOTH).to_graph(),
                or_default(limit, 200),
                or_default(layout, Layout.NONE).to_graph(),
            ),
        )
        return Subgraph(_subgraph=drawn)

    @strawberry.field(
        description="A topic's articles (most linked first) and the links among them."
    )
    async def topic_graph(
        self,
        info: Info,
        key: TopicKey,
        limit: Annotated[
            int | None,
            strawberry.argument(
                description=f"The most articles to draw, 1 to {subgraphs.MAX_LIMIT:,}."
            ),
        ] = 500,
        layout: Drawing = Layout.NONE,
    ) -> Subgraph:
        kg = info.context.kg
        drawn = await graph_work(
            info,
            lambda: subgraphs.topic_graph(
                kg,
                topic_key(key),
                or_default(limit, 500),
                or_default(layout, Layout.NONE).to_graph(),
            ),
        )
        return Subgraph(_subgraph=drawn)

    @strawberry.field(description="Topics as nodes, links between topics as weighted edges.")
    async def topic_map(self, info: Info, layout: Drawing = Layout.NONE) -> Subgraph:
        kg = info.context.kg
        drawn = await graph_work(
            info, lambda: subgraphs.topic_map(kg, or_default(layout, Layout.NONE).to_graph())
        )
        return Subgraph(_subgraph=drawn)

    @strawberry.field(
        description="An order to read a topic in: foundations first, each next article joined"
        " by a link or a bridge to one read (the most foundational of those, a strong relation"
        " weighing in), near-duplicates of one read left out; from `start` (default: the"
        " topic's most foundational article). The articles of `readingPlan`, which says why"
        " each comes next and lists the near-duplicates; `totalCount` counts the whole order."
    )
    async def reading_order(
        self,
        info: Info,
        topic: TopicKey,
        start: Start = None,
        first: First = 50,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ArticleConnection:
        asked = paging(info, first, after, last, before)
        plan = await _whole_reading_plan(info, topic, start)
        return ArticleConnection.of(info.context.kg, [step.id for step in plan], asked)

    @strawberry.field(
        description="`readingOrder` step by step: each article with the article read before"
        " it that leads to it, how (link, backlink or bridge), and the near-duplicates read"
        " with it (each question shown once, with its other tellings)."
    )
    async def reading_plan(
        self,
        info: Info,
        topic: TopicKey,
        start: Start = None,
        first: First = 50,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ReadingPlanConnection:
        kg = info.context.kg
        asked = paging(info, first, after, last, before)
        plan = await _whole_reading_plan(info, topic, start)
        return ReadingPlanConnection.of(plan, asked, lambda s: ReadingStep.of(kg, s))

    @strawberry.field(
        description="The articles most related to article `id`, best first: by their text"
        " (title, question, keywords, answer summary), the neighbours they share and links"
        " back; each with its score and reasons."
    )
    async def similar(
        self,
        info: Info,
        id: ArticleId,
        first: First = 10,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> SimilarConnection:
        kg = info.context.kg
        asked = paging(info, first, after, last, before)
        # Scores every article (sparse products, milliseconds): off the loop.
        return await graph_work(info, lambda: related_page(kg, id, asked))

    @strawberry.field(description="What is loaded: counts, when, and from where.")
    def stats(self, info: Info) -> Stats:
        kg = info.context.kg
        return Stats(
            files=len(kg.files),
            articles=len(kg.articles),
            links=queries.link_count(kg),
            topics=len(kg.topics),
            parse_errors=len(kg.diagnostics),
            wanted_articles=len(kg.wanted),
            loaded_at=kg.loaded_at,
            load_seconds=kg.load_seconds,
            corpus=info.context.corpus or kg.root,
            version=__version__,
            graph_version=info.context.graph_version,
            reload_error=info.context.reload_error,
        )


class _Protections(AddValidationRules):
    """Depth and alias limits, as rule classes built once (so validation caches)."""

    def __init__(self) -> None:
        super().__init__(list(VALIDATION_RULES))


class KgraphSchema(strawberry.Schema):
    """The schema of :func:`create_schema`, with what its requests share."""

    def __init__(self, *args: Any, validator: Validator, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Validates the requests' documents (:class:`ValidateOffLoop`), against this schema.
        self.validator = validator
        #: The defaults of its sizing arguments, which the cost of an operation reads.
        self.list_sizes = list_sizes(validator.bind(str(self)))
        #: Shared by every request this schema serves: see :data:`GRAPH_WORKERS`.
        self.graph_work = anyio.CapacityLimiter(GRAPH_WORKERS)

    def get_extensions(self, sync: bool = False) -> list[SchemaExtension]:
        extensions = super().get_extensions(sync)
        if not sync:
            return extensions
        # Synchronous execution cannot await a worker thread: it validates inline.
        return [
            ValidateInline(e.validator) if isinstance(e, ValidateOffLoop) else e for e in extensions
        ]

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Runs before MaskErrors rewrites the message: log what the client will not see.
        for error in errors:
            original = error.original_error
            if original is None or isinstance(original, QueryError | GraphQLError):
                log.info("query error: %s", error.message)
            else:
                log.error("unexpected error at %s", error.path, exc_info=original)


class _ParserCache(ParserCache):
    """strawberry's parser cache, leaving a document that does not parse to strawberry.

    Its own parse then raises where the operation's extensions see the error
    (to code it, see :mod:`kgraph.api.errors`); raised from this hook, the error
    would skip them. A text that fails is parsed twice: failing is quick.
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with contextlib.suppress(GraphQLError):
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        yield


class _NoIntrospection(AddValidationRules):
    """Refuse introspection (``__schema``, ``__type``), as a rule built once."""

    def __init__(self) -> None:
        super().__init__([NoSchemaIntrospectionCustomRule])


def _mask_errors() -> CodedMaskErrors:
    return CodedMaskErrors(
        should_mask_error=should_mask_error,
        error_message="Internal server error: it has been logged.",
    )


def create_schema(*, introspection: bool = True, suggestions: bool = True) -> KgraphSchema:
    """Build the schema with its protections and caches.

    ``introspection=False`` refuses introspection; ``suggestions=False`` keeps
    graphql-core's "Did you mean …?" hints (names of the schema) out of errors.
    """
    validator = Validator()
    extensions: list[type[SchemaExtension] | Any] = [
        *(() if introspection else (_NoIntrospection,)),
        _Protections,
        lambda: NoteOperation(lambda: validator.root_fields),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        _mask_errors,
        # After the masking: extensions leave an operation in reverse order.
        lambda: ErrorCodes(suggestions=suggestions),
        _ParserCache,
        lambda: ValidateOffLoop(validator),
        # Made per operation, once the schema below is built: its defaults size lists.
        lambda: CostLimiter(schema.list_sizes),
    ]
    schema: KgraphSchema = KgraphSchema(
        query=Query,
        subscription=Subscription,
        extensions=extensions,
        validator=validator,
    )
    return schema

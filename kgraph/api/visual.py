"""GraphQL types of learning paths, similar articles and drawable subgraphs."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, cast

import strawberry
from strawberry.scalars import JSON

from kgraph.api.context import Context
from kgraph.api.offload import graph_work
from kgraph.api.pagination import or_default
from kgraph.api.types import Article, Connection
from kgraph.graph import KnowledgeGraph, export, paths, prerequisites, subgraphs

__all__ = [
    "Layout",
    "LearningPath",
    "PathOptions",
    "PathWeight",
    "ReadingPlanConnection",
    "Subgraph",
]

Info = strawberry.Info[Context, None]


@strawberry.enum(description="What a learning path minimises.")
class PathWeight(Enum):
    HOPS = strawberry.enum_value("hops", description="The number of links: each costs 1.")
    RANK = strawberry.enum_value(
        "rank", description="The links' ranks: a rank-r link costs r, so strong links win."
    )


@strawberry.enum(
    description="How a step of a learning path was reached: START; LINK, a link from the"
    " previous article; BACKLINK, a link to it (paths with `directed: false`); RELATED, a"
    " bridge between related articles that no link joins."
)
class StepVia(Enum):
    START = strawberry.enum_value("start", description="The first article.")
    LINK = strawberry.enum_value("link", description="A link from the previous article.")
    BACKLINK = strawberry.enum_value("backlink", description="A link to the previous article.")
    RELATED = strawberry.enum_value(
        "related", description="A bridge to a related article that no link joins."
    )


@strawberry.enum(
    description="Server-side layout of a subgraph (fixed seed, coordinates in [0, 1]);"
    f" KAMADA_KAWAI takes at most {subgraphs.KAMADA_KAWAI_MAX_NODES} nodes."
)
class Layout(Enum):
    NONE = strawberry.enum_value("none", description="No coordinates: `x` and `y` are null.")
    SPRING = strawberry.enum_value(
        "spring", description="Force-directed (Fruchterman-Reingold): linked nodes close."
    )
    KAMADA_KAWAI = strawberry.enum_value(
        "kamada_kawai", description="Distances on the page follow link distances."
    )
    CIRCULAR = strawberry.enum_value("circular", description="On a circle, in one pass.")

    def to_graph(self) -> subgraphs.Layout:
        """The graph layer's layout of the same name."""
        return subgraphs.Layout[self.name]


@strawberry.input(
    description="Options of learning paths; a field left out or null takes its default."
)
class PathOptions:
    directed: bool | None = strawberry.field(
        default=True, description="Follow links only forwards."
    )
    weight: PathWeight | None = strawberry.field(
        default=PathWeight.HOPS, description="HOPS: fewest links; RANK: a rank-r link costs r."
    )
    same_topic: bool | None = strawberry.field(
        default=False, description="Keep every step in the start article's topics."
    )
    avoid: list[int] | None = strawberry.field(
        default_factory=list, description="Articles never to pass."
    )
    max_hops: int | None = strawberry.field(
        default=20,
        description="The best path of at most this many steps; longer ones count as no path.",
    )
    bridges: bool | None = strawberry.field(
        default=False,
        description="Where links cannot reach (within maxHops), step between related articles"
        " (RELATED steps): each article's closest by text, scored 0 to 1, none under 0.18; a"
        " bridge of score s costs as much as 1/s links, so strong bridges win over few.",
    )
    keyword_bridges: bool | None = strawberry.field(
        default=None,
        description="What `bridges` was called when any shared keyword made a bridge.",
        deprecation_reason="Use `bridges`: bridges join related articles, not one shared word.",
    )

    def to_graph(self) -> paths.PathOptions:
        default = paths.PathOptions()
        return paths.PathOptions(
            directed=or_default(self.directed, default.directed),
            weight=default.weight if self.weight is None else paths.PathWeight[self.weight.name],
            same_topic=or_default(self.same_topic, default.same_topic),
            avoid=default.avoid if self.avoid is None else frozenset(self.avoid),
            max_hops=or_default(self.max_hops, default.max_hops),
            bridges=bool(self.bridges) or bool(self.keyword_bridges),
        )


@strawberry.type(description="One step of a learning path and why it is there.")
class Step:
    article: Article = strawberry.field(description="The article of this step.")
    via: StepVia = strawberry.field(description="How the previous step leads to it.")
    rank: int | None = strawberry.field(
        description="Rank of the link taken, for LINK and BACKLINK steps."
    )
    score: float | None = strawberry.field(
        description="How related it is to the previous step, 0 to 1 (`similar`'s score; for a"
        " RELATED step, the bridge's: its text alone); null for START."
    )
    shared_keywords: list[str] = strawberry.field(description="Shared with the previous step.")
    shared_terms: list[str] = strawberry.field(
        description="Words of their text adding most to their likeness, strongest first."
    )
    topic_change: bool = strawberry.field(description="No topic in common with the previous step.")
    _previous: strawberry.Private[int | None] = None

    @strawberry.field(
        description="Whether it goes back to basics: from an ADVANCED article (the previous"
        " step) to a FOUNDATIONAL one (see `Article.level`)."
    )
    async def back_to_basics(self, info: Info) -> bool:
        previous = self._previous
        if previous is None:
            return False
        kg = info.context.kg
        now = self.article._article.id

        def back() -> bool:
            before, after = prerequisites.level(kg, previous), prerequisites.level(kg, now)
            return (
                before is prerequisites.Level.ADVANCED and after is prerequisites.Level.FOUNDATIONAL
            )

        # The first of a topic ranks its thousands of articles: off the event loop.
        return await graph_work(info, back)


@strawberry.enum(
    description="Why fewer learning paths than `k` came back: NO_PATH, none joins the two"
    " articles under the options; NO_MORE, every distinct path within the limits is listed;"
    " TIME_BOUND, the search's time bound ended it (asking again may list more)."
)
class PathShortfall(Enum):
    NO_PATH = strawberry.enum_value(
        "no_path", description="No path joins the two articles under the options."
    )
    NO_MORE = strawberry.enum_value(
        "no_more", description="Every distinct path within the limits is listed."
    )
    TIME_BOUND = strawberry.enum_value(
        "time_bound", description="The search's time bound ended it: asking again may list more."
    )


# What the graph layer found: named here, as `paths` is also a field of PathSearch.
_Found = paths.LearningPaths


@strawberry.type(
    description="The learning paths found between two articles and, when fewer than `k`, why."
)
class PathSearch:
    paths: list[LearningPath] = strawberry.field(description="Cheapest first.")
    complete: bool = strawberry.field(
        description="False when the time bound ended the search before `k` paths, or before"
        " it showed there are no more."
    )
    shortfall: PathShortfall | None = strawberry.field(
        description="Why fewer than `k` paths; null when there are `k`."
    )
    explanation: str | None = strawberry.field(
        description="The shortfall in words, with what to try (e.g. `directed: false`,"
        " `bridges`); null when there are `k` paths."
    )

    @classmethod
    def of(cls, kg: KnowledgeGraph, found: _Found) -> PathSearch:
        return cls(
            paths=[LearningPath.of(kg, path, found.complete) for path in found.paths],
            complete=found.complete,
            shortfall=None if found.shortfall is None else PathShortfall(found.shortfall.value),
            explanation=found.explanation,
        )


@strawberry.type(
    description="One article of a reading order: why it comes next (`via` from `after`, an"
    " article read before it) and its near-duplicates, read with it."
)
class ReadingStep:
    article: Article = strawberry.field(description="The article to read.")
    via: StepVia = strawberry.field(
        description="START for the first article and for a fresh start when nothing read"
        " leads on; else how `after` joins it: LINK (`after` links to it), BACKLINK (it links"
        " to `after`) or RELATED (a bridge)."
    )
    after: Article | None = strawberry.field(
        description="The article read before that leads to this one; null for START."
    )
    score: float | None = strawberry.field(
        description="The bridge's score, 0 to 1, for RELATED; null otherwise."
    )
    near_duplicates: list[Article] = strawberry.field(
        description="Articles of the topic that ask the same question again (a bridge of 0.55"
        " or more, or 0.35 with the same main concept): read with this one and listed"
        " nowhere else in the order, the closest first."
    )

    @classmethod
    def of(cls, kg: KnowledgeGraph, step: subgraphs.ReadingStep) -> ReadingStep:
        return cls(
            article=Article(_article=kg.articles[step.id]),
            via=StepVia(step.via.value),
            after=None if step.after is None else Article(_article=kg.articles[step.after]),
            score=None if step.score is None else round(step.score, 4),
            near_duplicates=[Article(_article=kg.articles[i]) for i in step.near_duplicates],
        )


@strawberry.type(description="A page of a reading plan: its steps, in the order to read them.")
class ReadingPlanConnection(Connection[ReadingStep]):
    pass


@strawberry.type(description="A way from one article to another.")
class LearningPath:
    hops: int = strawberry.field(description="Steps after the start.")
    cost: float = strawberry.field(
        description="What it costs, in links: 1 a link (its rank with `weight: RANK`), 1/s a"
        " bridge of score s (of the highest rank's links with RANK)."
    )
    bridges: int = strawberry.field(description="RELATED steps: between articles no link joins.")
    strength: float | None = strawberry.field(
        description="The lowest score of its steps: how weak its weakest step is; null without"
        " a step."
    )
    steps: list[Step] = strawberry.field(description="From the start to the goal, in order.")
    complete: bool = strawberry.field(
        description="Whether the list this path came in is complete: false when the time"
        " bound of `learningPaths` ended the search before `k` paths, or before it showed"
        " there are no more (asking again may list more); always true from `learningPath`."
    )

    @classmethod
    def of(
        cls, kg: KnowledgeGraph, path: paths.LearningPath, complete: bool = True
    ) -> LearningPath:
        """The path, one of a list that is ``complete`` or was cut by the time bound."""
        return cls(
            hops=path.hops,
            cost=path.cost,
            bridges=path.bridges,
            strength=path.strength,
            complete=complete,
            steps=[
                Step(
                    article=Article(_article=kg.articles[step.article]),
                    via=StepVia(step.via.value),
                    rank=step.rank,
                    score=step.score,
                    shared_keywords=list(step.shared_keywords),
                    shared_terms=list(step.shared_terms),
                    topic_change=step.topic_change,
                    _previous=previous.article if previous is not None else None,
                )
                for previous, step in zip((None, *path.steps), path.steps, strict=False)
            ],
        )


@strawberry.type(description="A node of a drawable subgraph: an article, or a wanted one.")
class SubgraphNode:
    id: int = strawberry.field(description="The article's id (a topic's index for topicMap).")
    label: str = strawberry.field(description="What to write on it: a title, or a topic's name.")
    topic: str | None = strawberry.field(
        description="The key of its (first) topic; null where it has none."
    )
    in_degree: int = strawberry.field(
        description="Links to it in the whole graph, not only those drawn (topicMap: from"
        " other topics)."
    )
    out_degree: int = strawberry.field(
        description="Links from it in the whole graph (topicMap: to other topics)."
    )
    wanted: bool = strawberry.field(description="A missing article that links name.")
    weight: int = strawberry.field(description="Articles the node stands for (topicMap); else 1.")
    x: float | None = strawberry.field(description="Across, 0 to 1; null without a layout.")
    y: float | None = strawberry.field(description="Down, 0 to 1; null without a layout.")
    keywords: list[str] = strawberry.field(description="An article's keywords; else none.")
    internal_links: int | None = strawberry.field(
        description="Links among a topic's articles (topicMap); null for articles."
    )


@strawberry.type(description="An edge of a drawable subgraph.")
class SubgraphEdge:
    id: str = strawberry.field(description="Stable: the same edge has the same id in every answer.")
    source: int = strawberry.field(description="The `id` of the node it leaves.")
    target: int = strawberry.field(description="The `id` of the node it reaches.")
    rank: int = strawberry.field(
        description="The link's rank (1 the most related; the best of those it stands for)."
    )
    weight: int = strawberry.field(description="Links the edge stands for (topicMap); else 1.")


#: The exports' ``size``: positions in pixels, drawn as they are by the libraries.
PixelSize = Annotated[
    int | None,
    strawberry.argument(
        description="Positions in pixels: x and y from 0 to this many (e.g. 1000), what"
        " Cytoscape.js's preset layout and sigma.js draw without rescaling;"
        f" {subgraphs.MIN_PIXELS} to {subgraphs.MAX_PIXELS}. Null or left out: the layout's"
        " 0 to 1, as the nodes' `x` and `y`."
    ),
]


@strawberry.type(description="Nodes and edges ready to draw, also in drawing libraries' formats.")
class Subgraph:
    _subgraph: strawberry.Private[subgraphs.Subgraph]

    @strawberry.field(description="Its nodes, nearest the centers (or most linked) first.")
    def nodes(self) -> list[SubgraphNode]:
        return [
            SubgraphNode(
                id=n.id,
                label=n.label,
                topic=n.topic,
                in_degree=n.in_degree,
                out_degree=n.out_degree,
                wanted=n.wanted,
                weight=n.weight,
                x=n.x,
                y=n.y,
                keywords=list(n.keywords),
                internal_links=n.internal_links,
            )
            for n in self._subgraph.nodes
        ]

    @strawberry.field(description="The links among its nodes.")
    def edges(self) -> list[SubgraphEdge]:
        return [
            SubgraphEdge(
                id=e.id,
                source=e.source,
                target=e.target,
                rank=e.rank,
                weight=e.weight,
            )
            for e in self._subgraph.edges
        ]

    @strawberry.field(description="Whether `limit` cut nodes off.")
    def truncated(self) -> bool:
        return self._subgraph.truncated

    @strawberry.field(description="How many reachable nodes `limit` left out.")
    def omitted_nodes(self) -> int:
        return self._subgraph.omitted_nodes

    def _drawn(self, size: int | None) -> subgraphs.Subgraph:
        return self._subgraph if size is None else subgraphs.in_pixels(self._subgraph, size)

    @strawberry.field(description="Cytoscape.js elements JSON.")
    def cytoscape(self, size: PixelSize = None) -> JSON:
        return cast(JSON, export.to_cytoscape(self._drawn(size)))

    @strawberry.field(description="d3-force node-link JSON.")
    def d3(self, size: PixelSize = None) -> JSON:
        return cast(JSON, export.to_d3(self._drawn(size)))

    @strawberry.field(description="graphology serialised graph JSON (sigma.js reads its x and y).")
    def graphology(self, size: PixelSize = None) -> JSON:
        return cast(JSON, export.to_graphology(self._drawn(size)))

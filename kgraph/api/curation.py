"""GraphQL types of the curator reports: thin wrappers over ``kgraph.graph.curation``."""

from __future__ import annotations

from dataclasses import asdict
from enum import Enum
from typing import Annotated

import strawberry

from kgraph import model
from kgraph.api.context import Context
from kgraph.api.offload import graph_work
from kgraph.api.pagination import (
    DEFAULT_FIRST,
    After,
    Before,
    First,
    Last,
    Paging,
    check_range,
    or_default,
)
from kgraph.api.related import SimilarArticle
from kgraph.api.types import (
    Article,
    ArticleConnection,
    Connection,
    Copy,
    Topic,
    WantedArticle,
    paging,
)
from kgraph.graph import curation, relatedness, takeovers

__all__ = ["Curation", "SimilarArticle"]

Info = strawberry.Info[Context, None]

#: Link suggestions listed per article.
SUGGESTIONS = 5


@strawberry.enum(description="What is wrong with a related entry.")
class FindingKind(Enum):
    BROKEN_LINK = strawberry.enum_value(
        "broken_link", description="It names an article no file holds."
    )
    STALE_LINK = strawberry.enum_value(
        "stale_link", description="Its id is outdated; its url found the article."
    )
    URL_MISMATCH = strawberry.enum_value(
        "url_mismatch", description="Its url is not the url of the article its id names."
    )
    DUPLICATE_LINK = strawberry.enum_value(
        "duplicate_link", description="It repeats an earlier entry of the same file."
    )
    SELF_LINK = strawberry.enum_value("self_link", description="It names its own article.")


@strawberry.type(
    description="The figures of `kgraph check --format json`, for the curation's scope."
)
class CurationSummary:
    files: int = strawberry.field(description="Article files read (copies counted).")
    parse_errors: int = strawberry.field(description="Files that could not be read.")
    articles: int = strawberry.field(description="Distinct articles (by id).")
    duplicate_articles: int = strawberry.field(description="Articles with copies in several files.")
    references: int = strawberry.field(
        description="Related entries of every file, whatever they point to."
    )
    links: int = strawberry.field(
        description="Links between existing articles (repeats counted once)."
    )
    broken_links: int = strawberry.field(description="Entries naming an article no file holds.")
    wanted_articles: int = strawberry.field(description="Missing articles that entries name.")
    stale_links: int = strawberry.field(
        description="Entries with an outdated id, resolved by their url."
    )
    url_mismatches: int = strawberry.field(description="Entries whose url is not the article's.")
    duplicate_links: int = strawberry.field(
        description="Entries repeating an earlier one of the same file."
    )
    self_links: int = strawberry.field(description="Entries naming their own article.")
    orphans: int = strawberry.field(description="Articles no article links to.")
    dead_ends: int = strawberry.field(description="Articles linking nowhere.")
    isolated: int = strawberry.field(description="Articles with no link at all, in or out.")
    topics: int = strawberry.field(description="Topics (subjects).")
    max_in_degree: int = strawberry.field(description="Referrers of the most linked-to article.")
    components: int = strawberry.field(description="Weakly connected pieces of the link graph.")
    largest_component: int = strawberry.field(description="Articles in the largest piece.")


@strawberry.type(description="A related entry that ingest corrected, dropped or could not resolve.")
class Finding:
    _finding: strawberry.Private[model.Finding]

    @strawberry.field(description="What is wrong with the entry.")
    def kind(self) -> FindingKind:
        return FindingKind(self._finding.kind.value)

    @strawberry.field(description="The article whose file holds the entry.")
    def article(self, info: Info) -> Article:
        return Article(_article=info.context.kg.articles[self._finding.article])

    @strawberry.field(description="The file (copy) holding the entry.")
    def copy_path(self) -> str:
        return self._finding.path

    @strawberry.field(description="N of related_articleN.")
    def rank(self) -> int:
        return self._finding.rank

    @strawberry.field(description="For a duplicate: the earlier rank and this one; else this rank.")
    def ranks(self) -> list[int]:
        first = self._finding.first_rank
        return [first, self._finding.rank] if first is not None else [self._finding.rank]

    @strawberry.field(description="The id the entry states.")
    def stated_id(self) -> int | None:
        return self._finding.stated_id

    @strawberry.field(description="The url the entry states.")
    def stated_url(self) -> str | None:
        return self._finding.stated_url

    @strawberry.field(description="The article the entry resolved to; null for a broken link.")
    def target(self, info: Info) -> Article | None:
        target = self._finding.target
        return Article(_article=info.context.kg.articles[target]) if target is not None else None

    @strawberry.field(description="Same as `target`: for a stale link, the id to write instead.")
    def resolved_article(self, info: Info) -> Article | None:
        target = self._finding.target
        return Article(_article=info.context.kg.articles[target]) if target is not None else None

    @strawberry.field(description="For a broken link: the missing article it names.")
    def wanted(self, info: Info) -> WantedArticle | None:
        if self._finding.target is not None or self._finding.stated_id is None:
            return None
        wanted = info.context.kg.wanted.get(self._finding.stated_id)
        return WantedArticle(_wanted=wanted) if wanted is not None else None

    @strawberry.field(description="The edit that resolves it.")
    async def fix(self, info: Info) -> str:
        # A broken link's fix searches for the article meant: off the event loop.
        kg = info.context.kg
        return await graph_work(info, lambda: curation.finding_fix(kg, self._finding))


@strawberry.type(description="A page of findings.")
class FindingConnection(Connection[Finding]):
    pass


@strawberry.type(description="A page of wanted (missing) articles, most referred first.")
class WantedConnection(Connection[WantedArticle]):
    pass


@strawberry.type(description="An article ranked by how many articles link to it.")
class RankedArticle:
    article: Article = strawberry.field(description="The article ranked.")
    in_degree: int = strawberry.field(description="How many distinct articles link to it.")
    z_score: float = strawberry.field(description="Standard deviations above the mean in-degree.")
    share: float = strawberry.field(description="Its share of all links of the corpus.")


@strawberry.type(description="A page of articles ranked by how many articles link to them.")
class RankedConnection(Connection[RankedArticle]):
    pass


@strawberry.type(description="An article id held by several files.")
class DuplicateArticle:
    _duplicate: strawberry.Private[curation.DuplicateArticle]

    @strawberry.field(description="The id the files share.")
    def id(self) -> int:
        return self._duplicate.id

    @strawberry.field(description="The article as the graph holds it (its first copy).")
    def article(self, info: Info) -> Article:
        return Article(_article=info.context.kg.articles[self._duplicate.id])

    @strawberry.field(description="Every file of the article.")
    def copies(self, info: Info) -> list[Copy]:
        return [Copy.of(c) for c in info.context.kg.articles[self._duplicate.id].copies]

    @strawberry.field(description="Whether the copies list different related articles.")
    def related_lists_differ(self) -> bool:
        return self._duplicate.related_lists_differ


@strawberry.type(description="A page of articles held by several files.")
class DuplicateConnection(Connection[DuplicateArticle]):
    pass


@strawberry.type(description="How often a subject is spelled one way.")
class SpellingCount:
    spelling: str = strawberry.field(description="The subject as files spell it.")
    files: int = strawberry.field(description="Files spelling it so.")


@strawberry.type(description="A topic whose subject is spelled more than one way.")
class TopicSpelling:
    topic: Topic = strawberry.field(description="The topic.")
    key: str = strawberry.field(description="The topic's key (the subject's slug).")
    name: str = strawberry.field(description="The most common spelling.")
    spellings: list[SpellingCount] = strawberry.field(
        description="Every spelling with its files, most files first."
    )


@strawberry.type(
    description="A weakly connected piece of the link graph, other than the largest."
    " Under a topic: a piece of the links among the topic's articles, other than its largest."
)
class Island:
    _island: strawberry.Private[curation.Island]

    @strawberry.field(description="How many articles it holds.")
    def size(self) -> int:
        return self._island.size

    @strawberry.field(description="Its articles, by id.")
    def articles(
        self,
        info: Info,
        first: First = DEFAULT_FIRST,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ArticleConnection:
        asked = paging(info, first, after, last, before)
        return ArticleConnection.of(info.context.kg, self._island.article_ids, asked)


@strawberry.type(description="A page of islands, largest first.")
class IslandConnection(Connection[Island]):
    pass


@strawberry.type(
    description="Articles an orphan, dead end or island article could link to, best first."
)
class LinkSuggestion:
    _article_id: strawberry.Private[int]

    @strawberry.field(description="The orphan, dead end or island article.")
    def article(self, info: Info) -> Article:
        return Article(_article=info.context.kg.articles[self._article_id])

    @strawberry.field(
        description=f"Up to {SUGGESTIONS} articles it could link to, most related first, with why."
    )
    async def suggested(self, info: Info) -> list[SimilarArticle]:
        kg = info.context.kg
        # Milliseconds per article, and only when asked for: off the event loop.
        found = await graph_work(
            info,
            lambda: relatedness.related(kg, self._article_id, SUGGESTIONS, exclude_linked=True),
        )
        return [SimilarArticle.of(kg, self._article_id, item) for item in found.items]


@strawberry.type(description="A page of link suggestions.")
class SuggestionConnection(Connection[LinkSuggestion]):
    pass


@strawberry.type(description="A file that could not be read.")
class Diagnostic:
    path: str = strawberry.field(description="The file's path relative to the corpus folder.")
    line: int | None = strawberry.field(
        description="The line of the problem (from 1); null when it is the whole file."
    )
    message: str = strawberry.field(description="What is wrong, and what to change.")


@strawberry.type(
    description="An article whose title and url a copy added since the graph before took"
    " over: the new file's path sorts first among its copies, and the first copy names the"
    " article."
)
class CopyTakeover:
    id: int = strawberry.field(description="The article's id.")
    path: str = strawberry.field(description="The new first copy.")
    title: str = strawberry.field(description="The title the new first copy gives.")
    url: str | None = strawberry.field(description="The url the new first copy gives.")
    previous_path: str = strawberry.field(description="The first copy before.")
    previous_title: str = strawberry.field(description="The title before.")
    previous_url: str | None = strawberry.field(description="The url before.")


@strawberry.type(description="A page of files that could not be read, in path order.")
class DiagnosticConnection(Connection[Diagnostic]):
    pass


@strawberry.type(description="A page of copy takeovers.")
class TakeoverConnection(Connection[CopyTakeover]):
    pass


@strawberry.type(description="Curator reports, each ranked worst first, then by id.")
class Curation:
    _report: strawberry.Private[curation.CurationReport]

    @strawberry.field(description="The figures of every report, for this scope.")
    def summary(self) -> CurationSummary:
        return CurationSummary(**self._report.summary.as_dict())

    @strawberry.field(description="Articles with fewer than `minInbound` incoming links.")
    def orphans(
        self,
        info: Info,
        first: First = DEFAULT_FIRST,
        after: After = None,
        last: Last = None,
        before: Before = None,
        min_inbound: Annotated[
            int | None,
            strawberry.argument(
                description="Fewer incoming links than this make an orphan (1 to 1,000)."
            ),
        ] = 1,
    ) -> ArticleConnection:
        kg = info.context.kg
        below = check_range("minInbound", or_default(min_inbound, 1), 1, 1_000)
        ids = curation.orphans_below(kg, below, self._report.topic)
        return ArticleConnection.of(kg, ids, paging(info, first, after, last, before))

    @strawberry.field(description="Articles linking nowhere, most linked-to first.")
    def dead_ends(
        self,
        info: Info,
        first: First = DEFAULT_FIRST,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ArticleConnection:
        asked = paging(info, first, after, last, before)
        return ArticleConnection.of(info.context.kg, self._report.dead_ends, asked)

    @strawberry.field(description="Articles with no link in or out.")
    def isolated(
        self,
        info: Info,
        first: First = DEFAULT_FIRST,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ArticleConnection:
        asked = paging(info, first, after, last, before)
        return ArticleConnection.of(info.context.kg, self._report.isolated, asked)

    @strawberry.field(description="Missing articles that entries name, most referred first.")
    def wanted_articles(
        self,
        info: Info,
        first: First = DEFAULT_FIRST,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> WantedConnection:
        asked = paging(info, first, after, last, before)
        return WantedConnection.of(self._report.wanted, asked, lambda w: WantedArticle(_wanted=w))

    @strawberry.field(
        description="The most linked-to articles, by in-degree; `minZScore: 3` keeps the"
        " over-linked ones (in-degree 3 standard deviations or more above the mean, what"
        " `kgraph check` lists), `minInbound` those with so many referrers."
    )
    def over_linked(
        self,
        info: Info,
        first: First = DEFAULT_FIRST,
        after: After = None,
        last: Last = None,
        before: Before = None,
        min_inbound: Annotated[
            int | None,
            strawberry.argument(description="Only articles with at least this many referrers."),
        ] = None,
        min_z_score: Annotated[
            float | None,
            strawberry.argument(
                description="Only articles at least this many standard deviations above the"
                " mean in-degree."
            ),
        ] = None,
    ) -> RankedConnection:
        kg = info.context.kg
        everything = ranked = self._report.over_linked
        if min_inbound is not None or min_z_score is not None:
            ranked = everything.only(
                lambda _, degree: (
                    (min_inbound is None or degree >= min_inbound)
                    and (min_z_score is None or everything.z_score(degree) >= min_z_score)
                )
            )
        return RankedConnection.of(
            ranked,
            paging(info, first, after, last, before),
            lambda r: RankedArticle(
                article=Article(_article=kg.articles[r.id]),
                in_degree=r.in_degree,
                z_score=r.z_score,
                share=r.share,
            ),
        )

    @staticmethod
    def _findings(findings: tuple[model.Finding, ...], asked: Paging) -> FindingConnection:
        return FindingConnection.of(findings, asked, lambda f: Finding(_finding=f))

    @strawberry.field(description="Entries naming an article that exists nowhere.")
    def broken_links(
        self,
        info: Info,
        first: First = DEFAULT_FIRST,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> FindingConnection:
        return self._findings(self._report.broken_links, paging(info, first, after, last, before))

    @strawberry.field(description="Entries repeating an earlier entry of the same file.")
    def duplicate_links(
        self,
        info: Info,
        first: First = DEFAULT_FIRST,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> FindingConnection:
        return self._findings(
            self._report.duplicate_links, paging(info, first, after, last, before)
        )

    @strawberry.field(description="Entries naming their own article.")
    def self_links(
        self,
        info: Info,
        first: First = DEFAULT_FIRST,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> FindingConnection:
        return self._findings(self._report.self_links, paging(info, first, after, last, before))

    @strawberry.field(description="Entries with an outdated id, resolved by their url.")
    def stale_links(
        self,
        info: Info,
        first: First = DEFAULT_FIRST,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> FindingConnection:
        return self._findings(self._report.stale_links, paging(info, first, after, last, before))

    @strawberry.field(description="Entries whose url is not a url of the article their id names.")
    def url_mismatches(
        self,
        info: Info,
        first: First = DEFAULT_FIRST,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> FindingConnection:
        return self._findings(self._report.url_mismatches, paging(info, first, after, last, before))

    @strawberry.field(description="Article ids held by several files, most copies first.")
    def duplicate_articles(
        self,
        info: Info,
        first: First = DEFAULT_FIRST,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> DuplicateConnection:
        return DuplicateConnection.of(
            self._report.duplicate_articles,
            paging(info, first, after, last, before),
            lambda d: DuplicateArticle(_duplicate=d),
        )

    @strawberry.field(description="Topics whose subject is spelled more than one way.")
    def subject_spellings(self) -> list[TopicSpelling]:
        return [
            TopicSpelling(
                topic=Topic(_topic=t),
                key=t.key,
                name=t.name,
                spellings=[SpellingCount(spelling=s, files=n) for s, n in t.spellings],
            )
            for t in self._report.subject_spellings
        ]

    @strawberry.field(
        description="Pieces of the link graph other than the largest, largest first; under a"
        " topic, pieces of the links among its articles other than its largest piece."
    )
    def islands(
        self,
        info: Info,
        first: First = DEFAULT_FIRST,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> IslandConnection:
        return IslandConnection.of(
            self._report.islands,
            paging(info, first, after, last, before),
            lambda i: Island(_island=i),
        )

    @strawberry.field(
        description="For each orphan, then each dead end, then each article of an island: the"
        " most related articles it does not link to yet, best first."
    )
    def link_suggestions(
        self,
        info: Info,
        first: First = DEFAULT_FIRST,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> SuggestionConnection:
        return SuggestionConnection.of(
            self._report.link_candidates,
            paging(info, first, after, last, before),
            lambda i: LinkSuggestion(_article_id=i),
        )

    @strawberry.field(
        description="Articles whose title or url a newly added copy took over on a reload,"
        " whatever the topic; each is listed until its file is gone (none after a cold start)."
    )
    def copy_takeovers(
        self,
        info: Info,
        first: First = DEFAULT_FIRST,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> TakeoverConnection:
        return TakeoverConnection.of(
            takeovers.copy_takeovers(info.context.kg),
            paging(info, first, after, last, before),
            # The graph layer's record has the very fields of the GraphQL type.
            lambda t: CopyTakeover(**asdict(t)),
        )

    @strawberry.field(description="Files that could not be read, with where and why.")
    def parse_errors(
        self,
        info: Info,
        first: First = DEFAULT_FIRST,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> DiagnosticConnection:
        return DiagnosticConnection.of(
            self._report.parse_errors,
            paging(info, first, after, last, before),
            lambda d: Diagnostic(path=d.path, line=d.line, message=d.message),
        )

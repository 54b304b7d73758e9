"""The GraphQL subscription: ``graphChanged``, one event per graph reload."""

from __future__ import annotations

import datetime
from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from kgraph.api.context import Context

__all__ = ["GraphChanged", "Subscription"]


@strawberry.type(description="A new graph went live: refetch what you show.")
class GraphChanged:
    version: int = strawberry.field(description="The new graph's version (one more per reload).")
    loaded_at: datetime.datetime = strawberry.field(description="When it finished loading (UTC).")
    articles: int = strawberry.field(description="Its article count.")
    links: int = strawberry.field(description="Its link count.")


@strawberry.type(description="Events pushed to a client over a websocket.")
class Subscription:
    @strawberry.subscription(
        description="One event each time a reload puts a new graph live (over "
        "graphql-transport-ws at /graphql); nothing for a reload that fails."
    )
    async def graph_changed(self, info: Info[Context, None]) -> AsyncGenerator[GraphChanged, None]:
        async with info.context.events.subscribe() as changes:
            async for change in changes:
                yield GraphChanged(
                    version=change.version,
                    loaded_at=change.loaded_at,
                    articles=change.articles,
                    links=change.links,
                )

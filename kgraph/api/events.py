"""Graph changes, fanned out to every subscriber (the ``graphChanged`` subscription)."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

__all__ = ["GraphChange", "GraphEvents"]

# A subscriber this many changes behind is too slow to matter: it misses the
# oldest rather than holding the server's memory.
_BUFFER = 16


@dataclass(frozen=True, slots=True)
class GraphChange:
    """A new graph went live."""

    version: int
    loaded_at: datetime.datetime
    articles: int
    links: int


class GraphEvents:
    """Publish each graph change to every current subscriber, in order.

    Publishing and subscribing happen on the event loop, never from a thread.

    >>> import anyio, datetime
    >>> async def demo() -> list[int]:
    ...     events = GraphEvents()
    ...     async with events.subscribe() as changes:
    ...         now = datetime.datetime.now(datetime.UTC)
    ...         events.publish(GraphChange(2, now, 10, 20))
    ...         events.publish(GraphChange(3, now, 11, 21))
    ...         return [(await changes.receive()).version, (await changes.receive()).version]
    >>> anyio.run(demo)
    [2, 3]
    """

    def __init__(self) -> None:
        self._subscribers: set[MemoryObjectSendStream[GraphChange]] = set()

    @property
    def subscribers(self) -> int:
        """How many subscribers are listening now."""
        return len(self._subscribers)

    def publish(self, change: GraphChange) -> None:
        """Hand ``change`` to every subscriber; never waits."""
        for subscriber in list(self._subscribers):
            try:
                subscriber.send_nowait(change)
            except anyio.WouldBlock:
                pass  # a stalled subscriber misses this one
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                self._subscribers.discard(subscriber)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[MemoryObjectReceiveStream[GraphChange]]:
        """Receive the changes published from now until the block ends."""
        send, receive = anyio.create_memory_object_stream[GraphChange](_BUFFER)
        self._subscribers.add(send)
        try:
            yield receive
        finally:
            self._subscribers.discard(send)
            send.close()
            receive.close()

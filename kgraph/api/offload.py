"""Graph work off the event loop, abandoned (and stopped) when its request is cancelled."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from kgraph import budget

__all__ = ["graph_work", "off_loop"]

T = TypeVar("T")


async def off_loop(work: Callable[[], T], limiter: anyio.CapacityLimiter | None = None) -> T:
    """Run ``work`` in a worker thread (at most ``limiter``'s many at once).

    The thread runs in a copy of the request's context, so the work's
    :func:`kgraph.budget.checkpoint` calls see the request's budget. When the
    request is cancelled (its deadline passed, its client left), the thread is
    not waited for: the budget is cancelled, and the work stops at its next
    checkpoint instead of holding a worker (and the GIL) for a client that is
    gone.
    """
    try:
        return await anyio.to_thread.run_sync(work, limiter=limiter, abandon_on_cancel=True)
    except anyio.get_cancelled_exc_class():
        current = budget.current()
        if current is not None:
            current.cancel()
        raise


async def graph_work(info: Any, work: Callable[[], T]) -> T:
    """Run ``work`` off the loop among the schema's graph workers (``info.schema.graph_work``).

    The work is pure Python holding the GIL: a few workers finish it as soon
    as many would, and leave the event loop its turns.
    """
    limiter = getattr(info.schema, "graph_work", None)
    return await off_loop(work, limiter if isinstance(limiter, anyio.CapacityLimiter) else None)

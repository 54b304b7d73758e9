"""graphql-core's one pairwise validation rule, run in a process of its own.

``OverlappingFieldsCanBeMerged`` compares the fields of a selection pairwise:
400 repeats of ``stats { files }`` (within the token limit) take 0.3 s. In a
worker *thread* those 0.3 s still hold the interpreter in 5 ms turns, and the
event loop, which gives the interpreter up at every socket call, waits for a
turn each time: /healthz took 0.1-0.2 s while such documents were validated.
Here the rule runs in a worker *process* (spawned on first use, importing
graphql-core alone), under the request's deadline (``time.monotonic`` is one
clock for every process of the machine), while the parent checks every other
rule, which are linear.
"""

from __future__ import annotations

import asyncio
import functools
import math
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLSchema,
    Node,
    OverlappingFieldsCanBeMergedRule,
    Source,
    ValidationRule,
    build_schema,
    parse,
    validate,
)

from kgraph.errors import DeadlineExceeded

__all__ = ["STOPPED", "Overlaps", "overlap_errors"]

#: How an error of a validation cut short by its deadline starts.
STOPPED = "validation stopped:"
#: Nodes visited between two looks at the clock.
_CLOCK_EVERY = 64

#: One found error: its message and its positions in the query text.
_Found = tuple[str, list[int] | None]


class _Stopped(Exception):
    pass


@functools.lru_cache(maxsize=2)
def _schema(sdl: str) -> GraphQLSchema:
    return build_schema(sdl)


def overlap_errors(sdl: str, query: str, deadline: float = math.inf) -> tuple[list[_Found], bool]:
    """The errors of ``OverlappingFieldsCanBeMerged`` for ``query`` against ``sdl``'s schema.

    Returns the errors (message, positions) and whether the deadline (a
    ``time.monotonic()`` value) stopped the check first. Runs in the worker.

    Examples
    --------
    >>> found, stopped = overlap_errors("type Query { a: Int b: Int }", "{ x: a x: b }")
    >>> found[0][0].startswith("Fields 'x' conflict because 'a' and 'b' are different fields")
    True
    >>> found[0][1], stopped
    ([2, 7], False)
    """

    class Deadline(ValidationRule):
        visited = 0

        def enter(self, node: Node, *_args: Any) -> None:
            self.visited += 1
            if self.visited % _CLOCK_EVERY == 0 and time.monotonic() > deadline:
                raise _Stopped

    try:
        errors = validate(_schema(sdl), parse(query), (OverlappingFieldsCanBeMergedRule, Deadline))
    except _Stopped:
        return [], True
    return [(e.message, list(e.positions) if e.positions else None) for e in errors], False


def _watch(parent: int) -> None:
    """Leave when the server's process is gone, even killed with no clean-up."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="kgraph-server-watch", daemon=True).start()


class Overlaps:
    """The worker process that checks overlapping fields, for one schema (``sdl``)."""

    def __init__(self, sdl: str) -> None:
        self.sdl = sdl
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def started(self) -> bool:
        """Whether the worker process has been started (and not closed since)."""
        return self._executor is not None

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                # spawn: the server's process has threads, which fork would copy mid-step.
                context = multiprocessing.get_context("spawn")
                self._executor = ProcessPoolExecutor(
                    max_workers=1, mp_context=context, initializer=_watch, initargs=(os.getpid(),)
                )
            return self._executor

    async def errors(self, query: str, deadline: float, seconds: float) -> list[GraphQLError]:
        """The rule's errors for ``query``, checked in the worker before ``deadline``."""
        for attempt in (1, 2):
            pool = self._pool()
            try:
                future: Future[tuple[list[_Found], bool]] = pool.submit(
                    overlap_errors, self.sdl, query, deadline
                )
                found, stopped = await asyncio.wrap_future(future)
                break
            except BrokenProcessPool:
                # The worker died (killed, out of memory): a new one, once.
                with self._lock:
                    if self._executor is pool:
                        self._executor = None
                if attempt == 2:
                    raise
        if stopped:
            return [
                GraphQLError(
                    f"{STOPPED} the request ran past its {seconds:g} s deadline: ask for less",
                    extensions=dict(DeadlineExceeded.extensions),
                )
            ]
        source = Source(query)
        return [GraphQLError(message, source=source, positions=at) for message, at in found]

    def close(self) -> None:
        """Stop the worker (a validation under way is not waited for)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

"""graphql-core's one pairwise validation rule, run in a process of its own.

``OverlappingFieldsCanBeMerged`` compares the fields of a selection pairwise:
400 repeats of ``stats { files }`` (within the token limit) take 0.3 s. In a
worker *thread* those 0.3 s still hold the interpreter in 5 ms turns, and the
event loop, which gives the interpreter up at every socket call, waits for a
turn each time: /healthz took 0.1-0.2 s while such documents were validated.
Here the rule runs in a worker *process* (spawned on first use), while the
parent checks every other rule, which are linear. The worker imports what
multiprocessing's spawn imports (the program's main module: for ``kgraph
serve`` the command line, which imports the graph's modules only in the
commands that need them: the worker holds 35 MB, 78 MB while it imported
networkx and scipy) besides graphql-core; a script embedding the app needs the
``if __name__ == "__main__":`` guard that spawn asks of every script. A request whose deadline
passes stops waiting; the worker finishes the document (bounded by the token
limit) and takes the next.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from graphql import (
    GraphQLError,
    GraphQLSchema,
    OverlappingFieldsCanBeMergedRule,
    Source,
    build_schema,
    parse,
    validate,
)

__all__ = ["Overlaps", "overlap_errors"]

log = logging.getLogger("kgraph.api")

#: One found error: its message and its positions in the query text.
_Found = tuple[str, list[int] | None]


@functools.lru_cache(maxsize=2)
def _schema(sdl: str) -> GraphQLSchema:
    return build_schema(sdl)


def overlap_errors(sdl: str, query: str) -> list[_Found]:
    """The errors of ``OverlappingFieldsCanBeMerged`` for ``query`` against ``sdl``'s schema.

    Each error as its message and its positions in ``query``. Runs in the worker,
    where its time is bounded by the token limit of the documents sent (0.3-0.6 s);
    it cannot look at a clock midway (one comparison of a selection is one step).

    Examples
    --------
    >>> found = overlap_errors("type Query { a: Int b: Int }", "{ x: a x: b }")
    >>> found[0][0].startswith("Fields 'x' conflict because 'a' and 'b' are different fields")
    True
    >>> found[0][1]
    [2, 7]
    """
    errors = validate(_schema(sdl), parse(query), (OverlappingFieldsCanBeMergedRule,))
    return [(e.message, list(e.positions) if e.positions else None) for e in errors]


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
        self._closed = False
        self._lock = threading.Lock()

    @property
    def started(self) -> bool:
        """Whether the worker process has been started (and not closed since)."""
        return self._executor is not None

    def _pool(self) -> ProcessPoolExecutor | None:
        with self._lock:
            if self._executor is None and not self._closed:
                # spawn: the server's process has threads, which fork would copy mid-step.
                context = multiprocessing.get_context("spawn")
                self._executor = ProcessPoolExecutor(
                    max_workers=1, mp_context=context, initializer=_watch, initargs=(os.getpid(),)
                )
            return self._executor

    async def errors(self, query: str) -> list[GraphQLError] | None:
        """The rule's errors for ``query``, found in the worker; ``None`` when it cannot
        (closed, or its process failed twice): the caller checks the rule itself."""
        for _attempt in (1, 2):
            pool = self._pool()
            if pool is None:
                return None
            try:
                future: Future[list[_Found]] = pool.submit(overlap_errors, self.sdl, query)
                found = await asyncio.wrap_future(future)
            except BrokenProcessPool:
                # The worker died (killed, out of memory): a new one, once.
                log.warning("the validation worker process died: starting another")
                with self._lock:
                    if self._executor is pool:
                        self._executor = None
                continue
            except RuntimeError as err:  # shut down meanwhile, or no process could start
                log.warning("no validation worker process: %s", err)
                return None
            source = Source(query)
            return [GraphQLError(message, source=source, positions=at) for message, at in found]
        return None

    def close(self) -> None:
        """Stop the worker (a validation under way is not waited for); start none again."""
        with self._lock:
            executor, self._executor = self._executor, None
            self._closed = True
        if executor is not None:
            executor.shutdown(wait=False)

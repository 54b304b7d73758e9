"""The work budget of one request: a deadline and a cancel flag that long loops check.

The server opens a budget per request (:func:`within`); the work of that
request, on the event loop or in worker threads (which run in a copy of the
request's context), calls :func:`checkpoint` in its long loops, which raises
:class:`~kgraph.errors.DeadlineExceeded` once the deadline has passed or the
budget was cancelled (the client left, or the request was abandoned). Work
outside any budget (the CLI, tests, loading) runs unbounded.

>>> with within(5.0) as budget:
...     checkpoint()  # in time: nothing happens
...     budget.cancel()
...     checkpoint()  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
kgraph.errors.DeadlineExceeded: the request was cancelled (its client left or ...)
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from kgraph.errors import DeadlineExceeded

__all__ = ["Budget", "checkpoint", "current", "remaining", "under", "within"]


class Budget:
    """A deadline (``time.monotonic()`` seconds) and a cancel flag."""

    __slots__ = ("cancelled", "deadline", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.cancelled = False

    def cancel(self) -> None:
        """Stop the work at its next checkpoint (safe from any thread)."""
        self.cancelled = True

    def expired(self) -> bool:
        """Whether the work should stop: cancelled, or past the deadline."""
        return self.cancelled or time.monotonic() > self.deadline

    def remaining(self) -> float:
        """Seconds left before the deadline (0 once cancelled)."""
        return 0.0 if self.cancelled else max(0.0, self.deadline - time.monotonic())

    def check(self) -> None:
        """Raise :class:`DeadlineExceeded` when the work should stop."""
        if self.cancelled:
            raise DeadlineExceeded(
                "the request was cancelled (its client left or it ran past its"
                f" {self.seconds:g} s deadline)"
            )
        if time.monotonic() > self.deadline:
            raise DeadlineExceeded(
                f"the request ran past its {self.seconds:g} s deadline: ask for less"
                " (smaller `first`/`limit`, fewer fields or aliases)"
            )


_current: ContextVar[Budget | None] = ContextVar("kgraph_budget", default=None)


def current() -> Budget | None:
    """The budget of the request being served, if any."""
    return _current.get()


def checkpoint() -> None:
    """Raise :class:`DeadlineExceeded` if the current request should stop; else nothing."""
    budget = _current.get()
    if budget is not None:
        budget.check()


def remaining() -> float:
    """Seconds left to the current request (infinite outside a request)."""
    budget = _current.get()
    return budget.remaining() if budget is not None else math.inf


@contextmanager
def within(seconds: float) -> Iterator[Budget]:
    """Run the block's work under a budget of ``seconds``; cancelled when the block ends.

    Cancelling on the way out stops worker threads that the block abandoned
    (its client left, its deadline passed) at their next checkpoint.
    """
    budget = Budget(seconds)
    try:
        with under(budget):
            yield budget
    finally:
        budget.cancel()


@contextmanager
def under(budget: Budget) -> Iterator[Budget]:
    """Run the block's work under ``budget``, which whoever made it cancels (from any thread).

    Not cancelled when the block ends: for work that outlives the task that
    started it, such as a snapshot still written after the server stopped
    waiting for it, and stopped when the server stops.

    >>> budget = Budget(math.inf)
    >>> with under(budget):
    ...     checkpoint()  # not cancelled: nothing happens
    >>> budget.cancel()
    >>> with under(budget):
    ...     checkpoint()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kgraph.errors.DeadlineExceeded: the request was cancelled ...
    """
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)

"""Cursor pagination (Relay's cursor connections) over ordered lists, forwards and backwards.

A cursor is opaque to clients: the base64 of the graph's version, the item's
offset in the list and the graph's identity (:attr:`kgraph.serving.Served.identity`:
the same on every server process that read the same corpus with the same code).
A list is ordered the same way on every request to one graph, so a cursor stays
good for as long as that graph is served, by any replica; once the corpus
changes, offsets may point at other items, and a cursor of another graph is
refused (:class:`kgraph.errors.StaleCursor`).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Generic, TypeAlias, TypeVar

import strawberry

from kgraph.errors import QueryError, StaleCursor

__all__ = [
    "DEFAULT_FIRST",
    "MAX_FIRST",
    "After",
    "Before",
    "First",
    "Last",
    "Page",
    "Paging",
    "check_range",
    "decode_cursor",
    "encode_cursor",
    "or_default",
    "page_size",
]

#: The largest page any list of the API returns.
MAX_FIRST = 100

#: The page a connection returns when ``first`` is left out or null.
DEFAULT_FIRST = 20

#: The ``first`` argument of every list: described once (its default is the field's own).
First: TypeAlias = Annotated[
    int | None,
    strawberry.argument(
        description=f"How many items to return, 1 to {MAX_FIRST}, from the start or after"
        " `after`; null or left out: the default shown. Not applied when `last` is given."
    ),
]
#: The ``after`` argument of every connection.
After: TypeAlias = Annotated[
    str | None,
    strawberry.argument(
        description="Start after this cursor: `pageInfo.endCursor` (or an edge's `cursor`)"
        " of the previous page; left out: from the start."
    ),
]
#: The ``last`` argument of every connection.
Last: TypeAlias = Annotated[
    int | None,
    strawberry.argument(
        description=f"How many items to return, 1 to {MAX_FIRST}, counting back from `before`"
        " (or from the end of the list); given, it replaces `first` (and its default)."
    ),
]
#: The ``before`` argument of every connection.
Before: TypeAlias = Annotated[
    str | None,
    strawberry.argument(
        description="End before this cursor: `pageInfo.startCursor` (or an edge's `cursor`)"
        " of the page after; left out: up to the end."
    ),
]

T = TypeVar("T")

_PREFIX = "kgraph:v"


def or_default(value: T | None, default: T) -> T:
    """``value``, or ``default`` where it is ``None``: an argument given as null takes its default.

    >>> or_default(None, 20), or_default(5, 20), or_default(0, 20)
    (20, 5, 0)
    """
    return default if value is None else value


def check_range(name: str, value: int, low: int, high: int) -> int:
    """Return ``value`` if ``low <= value <= high``, else raise a :class:`QueryError`."""
    if not low <= value <= high:
        raise QueryError(f"`{name}` must be between {low} and {high}, got {value}")
    return value


def page_size(first: int | None, default: int = DEFAULT_FIRST) -> int:
    """How many items ``first`` asks for: ``default`` where null; 1 to :data:`MAX_FIRST`.

    >>> page_size(None), page_size(None, 50), page_size(7)
    (20, 50, 7)
    """
    return check_range("first", or_default(first, default), 1, MAX_FIRST)


#: A cursor's text: the graph's version, the offset (ASCII digits, as many as an
#: int64 holds), the graph's identity.
_CURSOR = re.compile(re.escape(_PREFIX) + r"([0-9]{1,18}):([0-9]{1,18})(?::([0-9a-z-]{0,40}))?")


def encode_cursor(version: int, offset: int, graph: str = "") -> str:
    """An opaque cursor for the item at ``offset`` of a list of ``graph`` (of ``version``).

    >>> decode_cursor(encode_cursor(3, 41, "ab12"), 3, "ab12")
    41
    """
    return base64.urlsafe_b64encode(f"{_PREFIX}{version}:{offset}:{graph}".encode()).decode()


def decode_cursor(cursor: str, version: int, graph: str = "", name: str = "after") -> int:
    """The offset ``cursor`` stands for in a list of ``graph`` (of ``version``).

    Raises
    ------
    StaleCursor
        When the cursor is of another graph.
    QueryError
        When it is no cursor of kgraph's.

    >>> decode_cursor(encode_cursor(1, 5, "ab12"), 2, "cd34")
    Traceback (most recent call last):
    ...
    kgraph.errors.StaleCursor: `after` is a cursor of graph version 1, but the graph \
was reloaded (version 2 now) and its lists may have changed: restart paging from the first page
    """
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
    except (UnicodeError, binascii.Error, ValueError):
        text = ""
    match = _CURSOR.fullmatch(text)
    if match is None:
        raise QueryError(
            f"`{name}` is not a cursor of this list: {cursor[:40]!r};"
            " pass a cursor of `pageInfo` or an edge's `cursor` of the previous page"
        )
    given, offset, of = int(match[1]), int(match[2]), match[3] or ""
    if of != graph:
        raise StaleCursor(name, given, version)
    return offset


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of an ordered list: its items, where they start, and the list's length."""

    items: Sequence[T]
    offset: int  # of the first item
    total: int
    version: int  # of the graph the list is of
    graph: str = ""  # the graph's identity

    @property
    def has_next(self) -> bool:
        """Whether items follow this page."""
        return self.offset + len(self.items) < self.total

    @property
    def has_previous(self) -> bool:
        """Whether items come before this page."""
        return self.offset > 0

    def cursor(self, at: int) -> str:
        """The cursor of the page's item ``at`` (from 0)."""
        return encode_cursor(self.version, self.offset + at, self.graph)

    @property
    def start_cursor(self) -> str | None:
        """The cursor of the first item, to pass as ``before`` for the page before."""
        return self.cursor(0) if self.items else None

    @property
    def end_cursor(self) -> str | None:
        """The cursor of the last item, to pass as ``after`` for the next page."""
        return self.cursor(len(self.items) - 1) if self.items else None


@dataclass(frozen=True, slots=True)
class Paging:
    """What a connection field was asked for: ``first``/``after`` or ``last``/``before``.

    ``default`` is the page size where ``first`` is given as null (the
    field's own default, which the schema states). ``last`` given replaces
    ``first``: the schema's default of ``first`` would otherwise cut every
    backward page.

    >>> paging = Paging(version=1, first=2)
    >>> page = paging.page(list("abcde"))
    >>> list(page.items), page.has_next, page.has_previous
    (['a', 'b'], True, False)
    >>> list(Paging(version=1, first=2, after=page.end_cursor).page(list("abcde")).items)
    ['c', 'd']
    >>> back = Paging(version=1, last=2).page(list("abcde"))
    >>> list(back.items), back.has_previous
    (['d', 'e'], True)
    >>> list(Paging(version=1, last=2, before=back.start_cursor).page(list("abcde")).items)
    ['b', 'c']
    """

    version: int
    first: int | None = DEFAULT_FIRST
    after: str | None = None
    last: int | None = None
    before: str | None = None
    default: int = DEFAULT_FIRST
    graph: str = ""  # the graph's identity (Context.graph_id)

    def window(self, total: int) -> tuple[int, int]:
        """The offsets ``(start, stop)`` of the page in a list of ``total`` items.

        As Relay's cursor connections specify: the items between ``after``
        and ``before``, then the first ``first`` of them, or the last ``last``.
        """
        start = 0 if self.after is None else decode_cursor(self.after, self.version, self.graph) + 1
        stop = total
        if self.before is not None:
            stop = decode_cursor(self.before, self.version, self.graph, "before")
        start, stop = min(start, total), min(stop, total)
        stop = max(start, stop)
        if self.last is not None:
            return max(start, stop - check_range("last", self.last, 1, MAX_FIRST)), stop
        return start, min(stop, start + page_size(self.first, self.default))

    def page(self, items: Sequence[T]) -> Page[T]:
        """The page of ``items`` asked for."""
        start, stop = self.window(len(items))
        return Page(items[start:stop], start, len(items), self.version, self.graph)

"""Cursor pagination over ordered lists of ids, with the limits of ``first``."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Generic, TypeAlias, TypeVar

import strawberry

from kgraph.errors import QueryError

__all__ = [
    "DEFAULT_FIRST",
    "MAX_FIRST",
    "After",
    "First",
    "Page",
    "check_range",
    "decode_cursor",
    "encode_cursor",
    "or_default",
    "page_size",
    "paginate",
]

#: The largest page any list of the API returns.
MAX_FIRST = 100

#: The page a connection returns when ``first`` is left out or null.
DEFAULT_FIRST = 20

#: The ``first`` argument of every list: described once (its default is the field's own).
First: TypeAlias = Annotated[
    int | None,
    strawberry.argument(
        description=f"How many items to return, 1 to {MAX_FIRST}; null or left out: the"
        " default shown."
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

T = TypeVar("T")

_PREFIX = "offset:"


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


def encode_cursor(offset: int) -> str:
    """An opaque cursor for the item at ``offset``.

    >>> decode_cursor(encode_cursor(41))
    41
    """
    return base64.urlsafe_b64encode(f"{_PREFIX}{offset}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    """The offset a cursor stands for; a :class:`QueryError` for anything else."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
        if text.startswith(_PREFIX) and text[len(_PREFIX) :].isdigit():
            return int(text[len(_PREFIX) :])
    except (UnicodeError, binascii.Error, ValueError):
        pass
    raise QueryError(
        f"`after` is not a cursor of this list: {cursor[:40]!r};"
        " pass the pageInfo.endCursor or an edge's cursor of the previous page"
    )


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of an ordered list."""

    items: Sequence[T]
    offset: int  # of the first item
    total: int

    @property
    def has_next(self) -> bool:
        """Whether items follow this page."""
        return self.offset + len(self.items) < self.total

    @property
    def end_cursor(self) -> str | None:
        """The cursor of the last item, to pass as ``after`` for the next page."""
        return encode_cursor(self.offset + len(self.items) - 1) if self.items else None


def paginate(items: Sequence[T], first: int | None, after: str | None) -> Page[T]:
    """The page of ``items`` after the cursor ``after`` (from the start when ``None``).

    ``first`` items at the most: :data:`DEFAULT_FIRST` where it is ``None``.

    >>> page = paginate(list("abcde"), 2, None)
    >>> list(page.items), page.has_next
    (['a', 'b'], True)
    >>> list(paginate(list("abcde"), 2, page.end_cursor).items)
    ['c', 'd']
    """
    size = page_size(first)
    start = 0 if after is None else decode_cursor(after) + 1
    return Page(items=items[start : start + size], offset=start, total=len(items))

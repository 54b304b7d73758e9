"""Split a Markdown article into its YAML front matter and its body."""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["FrontMatter", "split_front_matter"]

_FENCE = re.compile(r"^---[ \t]*\r?$", re.MULTILINE)


class FrontMatter(NamedTuple):
    """The YAML text between the two ``---`` lines, and the body after them."""

    yaml: str
    body: str


def split_front_matter(text: str) -> FrontMatter | None:
    """Split ``text`` at its front matter fences; ``None`` when it has none.

    The YAML text starts on line 2 of the file, so a YAML line ``n`` (0-based)
    is file line ``n + 2``.

    >>> split_front_matter("---\\nid: 1\\n\\n---\\n\\n&nbsp;")
    FrontMatter(yaml='id: 1\\n\\n', body='\\n&nbsp;')
    >>> split_front_matter("id: 1") is None
    True
    """
    opening = _FENCE.match(text)
    if opening is None:
        return None
    start = opening.end() + 1  # past the line break of the opening fence
    closing = _FENCE.search(text, start)
    if closing is None:
        return None
    return FrontMatter(yaml=text[start : closing.start()], body=text[closing.end() + 1 :])

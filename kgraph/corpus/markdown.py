"""Render an answer's Markdown as HTML, its maths left for KaTeX to typeset.

markdown-it-py reads CommonMark plus tables. mdit-py-plugins reads the maths:
dollarmath ``$…$`` (spaces allowed inside), ``$$…$$`` on its own lines (in list
items too) or inside a paragraph; texmath's brackets ``\\(…\\)`` and ``\\[…\\]``,
which 1,122 answers of the dev corpus use. The result is safe to put into a
page as is: raw HTML in an answer is escaped, not passed through
(``html=False``); links and images whose URL is ``javascript:``, ``vbscript:``,
``file:`` or a ``data:`` other than an image are left as text by markdown-it's
link check; the TeX of the maths is escaped text.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererProtocol
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.texmath import texmath_plugin

__all__ = ["render_answer"]

#: The element each kind of maths token becomes. Display maths written inside a
#: paragraph (``$$…$$`` or ``\\[…\\]`` after text) is a ``span``: a ``div`` would
#: end the paragraph early when the browser reads the HTML.
_MATH_ELEMENTS = {
    "math_inline": ('<span class="math inline">', "</span>"),
    "math_inline_double": ('<span class="math display">', "</span>"),
    "math_block": ('<div class="math display">', "</div>\n"),
    "math_block_eqno": ('<div class="math display">', "</div>\n"),
}


def _render_math(
    renderer: RendererProtocol,
    tokens: Sequence[Token],
    index: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    token = tokens[index]
    start, end = _MATH_ELEMENTS[token.type]
    return f"{start}{escapeHtml(token.content.strip())}{end}"


@cache
def _markdown() -> MarkdownIt:
    """The one parser: built on first use, never changed after (rendering only reads it)."""
    markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
    markdown.use(texmath_plugin, delimiters="brackets")
    # allow_digits=False: a ``$`` straight after a digit does not open maths and
    # one straight before a digit does not close it, so prices read as prices
    # ("$7.1 billion … $100 million": 329 answers of the dev corpus name sums of
    # dollars) while ``$5x^2$`` and ``$1 + 1 = 10$`` are still maths.
    markdown.use(
        dollarmath_plugin,
        allow_space=True,
        allow_digits=False,
        allow_labels=False,
        double_inline=True,
    )
    # Both plugins name their tokens alike; one element for each kind, whichever wrote it.
    for kind in _MATH_ELEMENTS:
        markdown.add_render_rule(kind, _render_math)
    return markdown


def render_answer(answer: str) -> str:
    r"""The HTML of ``answer`` (Markdown with real line breaks: see ``normalise_answer``).

    Maths becomes an element of class ``math``, holding its TeX as escaped text
    for a typesetter such as KaTeX: ``inline`` for ``$…$`` and ``\(…\)``,
    ``display`` for ``$$…$$`` and ``\[…\]`` (a ``div`` on lines of its own, a
    ``span`` inside a paragraph).

    Examples
    --------
    >>> print(render_answer("The slope is $ \\frac{a}{b} $, or \\(a/b\\), not $5."), end="")
    <p>The slope is <span class="math inline">\frac{a}{b}</span>, or <span class="math inline">a/b</span>, not $5.</p>
    >>> print(render_answer("$$\nx^2 < 1\n$$"), end="")
    <div class="math display">x^2 &lt; 1</div>
    >>> print(render_answer("<script>alert(1)</script> [x](javascript:alert(1))"), end="")
    <p>&lt;script&gt;alert(1)&lt;/script&gt; [x](javascript:alert(1))</p>
    """  # noqa: E501
    html: str = _markdown().render(answer)
    return html

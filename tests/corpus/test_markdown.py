"""Answers rendered as HTML: Markdown and maths by markdown-it-py, nothing unsafe let through."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from kgraph.corpus import normalise_answer, render_answer
from kgraph.graph import KnowledgeGraph

#: Every element Markdown with tables and maths may produce.
ALLOWED_TAGS = {
    *("p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code"),
    *("em", "strong", "a", "img", "ul", "ol", "li", "span", "div"),
    *("table", "thead", "tbody", "tr", "th", "td"),
}
#: And every attribute, with what its value may be.
ALLOWED_ATTRIBUTES = {
    "class": re.compile(r"math (inline|display)|language-[\w+#.-]+"),
    "href": re.compile(r"(?!(javascript|vbscript|data|file):)[^\s]*", re.IGNORECASE),
    "src": re.compile(r"(?!(javascript|vbscript|data|file):)[^\s]*", re.IGNORECASE),
    "alt": re.compile(r".*", re.DOTALL),
    "title": re.compile(r".*", re.DOTALL),
    "start": re.compile(r"\d+"),
    "style": re.compile(r"text-align:(left|center|right)"),
}


class _Elements(HTMLParser):
    """The elements of a piece of HTML, with their attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def unsafe_parts(html: str) -> list[str]:
    """What in ``html`` is no element or attribute Markdown with maths produces."""
    parser = _Elements()
    parser.feed(html)
    parser.close()
    unsafe = []
    for tag, attrs in parser.found:
        if tag not in ALLOWED_TAGS:
            unsafe.append(f"<{tag}>")
        for name, value in attrs:
            rule = ALLOWED_ATTRIBUTES.get(name)
            if rule is None or not rule.fullmatch(value or ""):
                unsafe.append(f"<{tag} {name}={value!r}>")
    return unsafe


def test_inline_maths_with_and_without_spaces() -> None:
    # From the dev corpus (argument validity; slopes): $…$ hugging its TeX, and with spaces.
    html = render_answer(
        "where $H_1, H_2, \\ldots, H_n$ represent the hypotheses and $ C $ the conclusion."
    )
    assert html == (
        '<p>where <span class="math inline">H_1, H_2, \\ldots, H_n</span> represent the'
        ' hypotheses and <span class="math inline">C</span> the conclusion.</p>\n'
    )


def test_bracket_maths() -> None:
    html = render_answer("The vertex is the point \\(\\left(-\\frac{b}{2a}, y\\right)\\).")
    assert '<span class="math inline">\\left(-\\frac{b}{2a}, y\\right)</span>' in html


def test_display_maths_on_its_own_lines() -> None:
    html = render_answer(
        "This can be formally expressed as:\n\n"
        "$$(H_1 \\land H_2 \\land \\ldots \\land H_n) \\implies C$$\n\nwhere"
    )
    assert (
        '<div class="math display">(H_1 \\land H_2 \\land \\ldots \\land H_n) \\implies C</div>'
        in html
    )


def test_display_maths_in_list_items() -> None:
    # The shape of "How do you find the vertex and intercepts of a parabola?" (dev corpus):
    # $$ on lines of their own, indented under a numbered item, right after its text.
    answer = (
        "1. **Standard Form**: The standard form is given by:\n"
        "   $$\n   y = ax^2 + bx + c\n   $$\n"
        "   where $a$, $b$, and $c$ are constants.\n\n"
        "2. **The x-coordinate**:\n   $$\n   x = -\\frac{b}{2a}\n   $$\n"
        "- $$ \\frac{1}{2} $$\n"
    )
    html = render_answer(answer)
    assert html.count("<li>") == 3
    assert '<span class="math display">y = ax^2 + bx + c</span>' in html
    assert '<span class="math display">x = -\\frac{b}{2a}</span>' in html
    assert '<li>\n<div class="math display">\\frac{1}{2}</div>\n</li>' in html
    assert '<span class="math inline">a</span>' in html
    assert "$" not in html


def test_prices_are_not_maths() -> None:
    # 329 dev answers name sums of dollars, often two in a paragraph.
    answer = "revenue of $7.1 billion, and up to $100 million over ten years; $5x^2$ is maths."
    html = render_answer(answer)
    assert "$7.1 billion, and up to $100 million" in html
    assert html.count('class="math') == 1


def test_tables() -> None:
    html = render_answer("| Genotype | Phenotype |\n|:---|---:|\n| $TT$ | tall |\n| tt | short |\n")
    assert "<table>" in html
    assert '<th style="text-align:left">Genotype</th>' in html
    assert '<td style="text-align:left"><span class="math inline">TT</span></td>' in html
    assert html.count("<tr>") == 3


def test_code_blocks_keep_dollars_and_markup_as_text() -> None:
    html = render_answer('```javascript\nconst price = "$5 and $6" + `<b>${x}</b>`;\n```\n')
    assert html == (
        '<pre><code class="language-javascript">const price = &quot;$5 and $6&quot;'
        " + `&lt;b&gt;${x}&lt;/b&gt;`;\n</code></pre>\n"
    )
    assert render_answer("Use `$PATH`.") == "<p>Use <code>$PATH</code>.</p>\n"


def test_headings() -> None:
    html = render_answer("### Finding the Vertex\n\nText.\n\n## Summary\n")
    assert html == "<h3>Finding the Vertex</h3>\n<p>Text.</p>\n<h2>Summary</h2>\n"


HOSTILE = [
    "<script>alert(1)</script>",
    '<img src="x" onerror="alert(1)">',
    "<a href='https://example.org' onclick='steal()'>x</a>",
    "[click](javascript:alert(1)) and [again](JaVaScRiPt:alert(1))",
    "[x](vbscript:msgbox(1)) ![y](data:text/html;base64,PHNjcmlwdD4=)",
    "<iframe src=javascript:alert(1)></iframe>",
    '<svg onload="alert(1)"><style>*{}</style>',
    "$<script>alert(1)</script>$ and $$\\href{javascript:alert(1)}{x}$$",
    "| a |\n|---|\n| <b onmouseover=alert(1)>x</b> |",
    "<!-- comment --> <![CDATA[x]]> <?php echo 1; ?>",
]


@pytest.mark.parametrize("answer", HOSTILE)
def test_no_script_handler_or_javascript_url_gets_through(answer: str) -> None:
    html = render_answer(answer)
    assert unsafe_parts(html) == []
    assert not re.search(r"<(script|iframe|svg|style)|<[^>]*\son\w+\s*=", html, re.IGNORECASE)
    assert not re.search(r"(href|src)=\"(javascript|vbscript|data):", html, re.IGNORECASE)


def test_the_renderer_keeps_to_the_allowed_elements_on_the_seeds(
    seeds_graph: KnowledgeGraph,
) -> None:
    for article in seeds_graph.articles.values():
        html = render_answer(normalise_answer(seeds_graph.answer_raw(article.id)))
        assert unsafe_parts(html) == [], article.id


@pytest.mark.corpus
def test_no_corpus_answer_brings_markup_into_the_page(dev_graph: KnowledgeGraph) -> None:
    """Every dev answer that holds a ``<`` or names a script URL renders to safe HTML only."""
    risky = re.compile(r"<|javascript:|vbscript:|data:", re.IGNORECASE)
    checked = 0
    for article in dev_graph.articles.values():
        answer = normalise_answer(dev_graph.answer_raw(article.id))
        if not risky.search(answer):
            continue
        checked += 1
        html = render_answer(answer)
        assert unsafe_parts(html) == [], article.id
        assert not re.search(r"<script|<[^>]*\son\w+\s*=|=\"javascript:", html, re.IGNORECASE)
    assert checked > 100  # the dev corpus has such answers: code, inequalities, HTML examples

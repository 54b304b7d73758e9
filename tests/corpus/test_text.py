"""Answer, keyword and topic normalisation, on examples and on every real answer."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from kgraph.corpus import normalise_answer, split_keywords, topic_key
from kgraph.corpus.text import LATEX_N_COMMANDS
from kgraph.graph import KnowledgeGraph

# The same tokens the corpus uses: a ``\\`` pair, or ``\`` + a letter run.
_TOKEN = re.compile(r"\\\\|\\([A-Za-z]+)")


_ROW_BREAK_NOT_BEFORE_N = re.compile(r"\\\\(?!n)")


def _commands(text: str, names: set[str]) -> int:
    return sum(1 for m in _TOKEN.finditer(text) if m.group(1) in names)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (r"x \neq 0$.\n\nNext", "x \\neq 0$.\n\nNext"),
        (r"&= 1 \\\n   x", "&= 1 \\\\\n   x"),
        (r"$\nabla f$ and $\neg p$ and $\nu_e$", r"$\nabla f$ and $\neg p$ and $\nu_e$"),
        (r"$x \notin A$, $P \not\equiv Q$", r"$x \notin A$, $P \not\equiv Q$"),
        (r"where:\nwhere $x$", "where:\nwhere $x$"),
        (r"first\nnot this", "first\nnot this"),
        (r"(C)  \nd) Graphite  \ne) Silicon", "(C)  \nd) Graphite  \ne) Silicon"),
        (r"as:\n\n$$\nu(r, \beta)\n$$", "as:\n\n$$\nu(r, \\beta)\n$$"),
        (r"$$\n\nabla \times B$$", "$$\n\\nabla \\times B$$"),
        (
            r"```python\nu = 1\nnot_done = True\n```\n$\nu$",
            "```python\nu = 1\nnot_done = True\n```\n$\\nu$",
        ),
        (r"$$a \nonumber \\\n b$$", "$$a \\nonumber \\\\\n b$$"),
        (r"$a \newline b$ and $\not\in$", r"$a \newline b$ and $\not\in$"),
        ("no escapes at all", "no escapes at all"),
        (r"trailing \n", "trailing \n"),
        # Two backslashes then n: a literal backslash, then an escaped line break.
        (r"```\n  \ /\n  / \\n C\n```", "```\n  \\ /\n  / \\\n C\n```"),
        (r"  / \\n     C", "  / \\\n     C"),
        (r"move a Documents\\n   ```\n\nNext", "move a Documents\\\n   ```\n\nNext"),
        (
            r"```\nDocuments\\n```\ntext\n```\ncode\n```",
            "```\nDocuments\\\n```\ntext\n```\ncode\n```",
        ),
    ],
)
def test_normalise_answer(raw: str, expected: str) -> None:
    assert normalise_answer(raw) == expected


def test_split_keywords_trims_drops_exact_repeats_and_keeps_order() -> None:
    assert split_keywords("b, a ,B,  c d ,, a") == ("b", "a", "B", "c d")
    assert split_keywords("TT, Tt, tt") == ("TT", "Tt", "tt")
    assert split_keywords(" , ") == ()


@pytest.mark.parametrize(
    ("subject", "key"),
    [
        ("Computer Science", "computer-science"),
        ("Computer science", "computer-science"),
        ("Philosophy and Greek Myths", "philosophy-and-greek-myths"),
        ("C++ / C#", "c-c"),
        ("--Art--", "art"),
    ],
)
def test_topic_key(subject: str, key: str) -> None:
    assert topic_key(subject) == key


def test_real_answers_keep_latex_and_lose_escapes(dev_graph: KnowledgeGraph) -> None:
    """On every answer of the dev corpus: escapes become line breaks, LaTeX survives."""
    checked = with_latex = 0
    for article in dev_graph.articles.values():
        raw = dev_graph.answer_raw(article.id)
        text = normalise_answer(raw)
        checked += 1
        # No backslash-n is left but LaTeX commands starting with n.
        for match in _TOKEN.finditer(text):
            name = match.group(1)
            if name and name.startswith("n"):
                assert name in LATEX_N_COMMANDS, (
                    article.id,
                    text[match.start() - 30 : match.end()],
                )
        # \neq, \nabla and \neg all survive, and so does every \\ row break.
        kept = {"neq", "nabla", "neg"}
        assert _commands(text, kept) == _commands(raw, kept), article.id
        # (but for a backslash pair before n: a literal backslash, then a line break)
        assert text.count("\\\\") >= len(_ROW_BREAK_NOT_BEFORE_N.findall(raw)), article.id
        # A row break followed by an escaped line break: \\ + a real line break.
        assert text.count("\\\\\n") >= raw.count("\\\\\\n"), article.id
        if _commands(raw, kept):
            with_latex += 1
    assert checked == 19_962
    assert with_latex > 100  # the corpus has LaTeX; the checks above did bite


# Where LaTeX can be, found without kgraph's list of commands: math between
# ``$…$``, ``$$…$$``, ``\(…\)`` or ``\[…\]``, and code in backticks or a fence.
# Inline math and inline code end at their paragraph or line.
_SPANS = re.compile(
    r"```.*?```"
    r"|`[^`\n]*`"
    r"|\$\$.*?\$\$"
    r"|\\\[.*?\\\]"
    r"|\\\(.*?\\\)"
    r"|(?<!\\)\$(?:\\.|[^$\\\n]|\n(?!\n))+?\$",
    re.DOTALL,
)
#: Commands starting with ``n`` that the corpus's answers must keep.
COMMON_N_COMMANDS = ("neq", "nabla", "neg", "nu", "notin", "not", "newline", "nonumber")
_COMMON = re.compile(r"\\\\|\\(" + "|".join(COMMON_N_COMMANDS) + r")(?![A-Za-z])")


def _spans(text: str) -> list[tuple[int, int]]:
    return [match.span() for match in _SPANS.finditer(text)]


def _inside(spans: list[tuple[int, int]], position: int) -> bool:
    return any(start <= position < end for start, end in spans)


def test_every_kept_backslash_n_is_inside_math_or_code(dev_graph: KnowledgeGraph) -> None:
    """Whatever kgraph takes for LaTeX, a ``\\n`` it keeps sits where LaTeX or code can be."""
    kept = 0
    outside = []
    for article in dev_graph.articles.values():
        text = normalise_answer(dev_graph.answer_raw(article.id))
        spans = _spans(text)
        for match in _TOKEN.finditer(text):  # a \\ pair first, so \\\n is no \n
            if match.group(1) and match.group(1).startswith("n"):
                kept += 1
                if not _inside(spans, match.start()):
                    outside.append((article.id, text[match.start() - 30 : match.end() + 10]))
    assert outside == []
    assert kept > 300  # the corpus keeps hundreds: the check did bite


def test_common_n_commands_survive(dev_graph: KnowledgeGraph) -> None:
    """Every ``\\neq``, ``\\nabla``, ``\\nu`` … inside math in an answer is still there.

    But for display math opened by ``$$`` and a line break: in the corpus,
    ``$$\\nu(t) = K_p e(t) …`` is the line break and ``u(t)``.
    """
    in_math: Counter[str] = Counter()
    broken = []
    opening_breaks = 0
    for article in dev_graph.articles.values():
        raw = dev_graph.answer_raw(article.id)
        text = normalise_answer(raw)
        spans = _spans(raw)
        wanted: Counter[str] = Counter()
        for match in _COMMON.finditer(raw):
            name = match.group(1)
            if name is None or not _inside(spans, match.start()):
                continue
            if raw.endswith("$$", 0, match.start()):
                opening_breaks += 1
                assert f"$$\n{name[1:]}" in text, article.id
                continue
            wanted[name] += 1
        found = Counter(match.group(1) for match in _COMMON.finditer(text) if match.group(1))
        broken += [(article.id, name) for name in wanted if found[name] < wanted[name]]
        in_math += wanted
    assert broken == []
    # The corpus has them all but \\newline and \\nonumber (the examples above have those).
    assert set(in_math) == set(COMMON_N_COMMANDS) - {"newline", "nonumber"}
    assert min(in_math["neg"], in_math["neq"], in_math["nabla"], in_math["nu"]) > 10
    assert opening_breaks > 0


@pytest.mark.parametrize(
    ("article_id", "shape"),
    [
        (19914, "Documents\\\n   ```"),  # a Windows path, then the code fence's end
        (165347, "  / \\\n     C   C"),  # ASCII art of ribose, twice
        (167635, "  / \\\n     C   C"),
        (167648, "  / \\\n     C   C"),
    ],
)
def test_real_answers_with_a_backslash_before_a_line_break(
    dev_graph: KnowledgeGraph, article_id: int, shape: str
) -> None:
    text = normalise_answer(dev_graph.answer_raw(article_id))

    assert shape in text
    # Every fence stands at the start of its own line, so none is read inverted.
    assert all(line.lstrip().startswith("```") for line in text.splitlines() if "```" in line)
    assert "\\\\n" not in text

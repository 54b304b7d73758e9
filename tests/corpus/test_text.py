"""Answer, keyword and topic normalisation, on examples and on every real answer."""

from __future__ import annotations

import re

import pytest

from kgraph.corpus import normalise_answer, split_keywords, topic_key
from kgraph.corpus.text import LATEX_N_COMMANDS
from kgraph.graph import KnowledgeGraph

# The same tokens the corpus uses: a ``\\`` pair, or ``\`` + a letter run.
_TOKEN = re.compile(r"\\\\|\\([A-Za-z]+)")


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
        ("no escapes at all", "no escapes at all"),
        (r"trailing \n", "trailing \n"),
    ],
)
def test_normalise_answer(raw: str, expected: str) -> None:
    assert normalise_answer(raw) == expected


def test_split_keywords_trims_dedupes_and_keeps_order() -> None:
    assert split_keywords("b, a ,B,  c  d ,, a") == ("b", "a", "c d")
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
        raw = article.answer_raw
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
        assert text.count("\\\\") == raw.count("\\\\"), article.id
        # A row break followed by an escaped line break: \\ + a real line break.
        assert text.count("\\\\\n") >= raw.count("\\\\\\n"), article.id
        if _commands(raw, kept):
            with_latex += 1
    assert checked == 19_962
    assert with_latex > 100  # the corpus has LaTeX; the checks above did bite

"""Normalise the text fields of an article: answers, keywords, topic keys."""

from __future__ import annotations

import re

__all__ = ["LATEX_N_COMMANDS", "normalise_answer", "split_keywords", "topic_key", "words"]

#: LaTeX commands whose name starts with ``n``: in an answer, ``\n`` followed by
#: one of these (as a whole command name) is the command, not a line break.
LATEX_N_COMMANDS = frozenset(
    [
        "napprox",
        "natural",
        "nabla",
        "ncong",
        "ne",
        "nearrow",
        "neg",
        "negthinspace",
        "negmedspace",
        "negthickspace",
        "neq",
        "nequiv",
        "newline",
        "nexists",
        "ngeq",
        "ngeqslant",
        "ngtr",
        "nleftarrow",
        "nLeftarrow",
        "nleftrightarrow",
        "nLeftrightarrow",
        "nleq",
        "nleqslant",
        "nless",
        "nmid",
        "nobreak",
        "nocite",
        "noindent",
        "nolimits",
        "nolinebreak",
        "nonumber",
        "normalsize",
        "not",
        "notin",
        "nparallel",
        "nprec",
        "npreceq",
        "nRightarrow",
        "nrightarrow",
        "nshortmid",
        "nsim",
        "nsubset",
        "nsubseteq",
        "nsucc",
        "nsucceq",
        "nsupset",
        "nsupseteq",
        "ntriangleleft",
        "ntriangleright",
        "nu",
        "numberwithin",
        "nvdash",
        "nVdash",
        "nwarrow",
    ]
)

# The backslash right before ``n`` is the escape; any before it are literal (the
# site never escapes backslashes): ``\\\n`` is LaTeX's row break ``\\`` then a
# line break, ``\\n`` a backslash (ASCII art, a Windows path) then a line break.
_ESCAPE = re.compile(r"\\(n[A-Za-z]*)")
_CODE_FENCE = "```"
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")
_WORD = re.compile(r"\w+")


def _is_latex_command(text: str, start: int, name: str) -> bool:
    """Tell whether ``\\name`` at ``start`` of ``text`` is a LaTeX command."""
    if name not in LATEX_N_COMMANDS:
        return False
    # The corpus writes display math as ``$$`` + line break: ``$$\nu_{n+1}`` is
    # a line break and ``u_{n+1}``, not the Greek letter.
    if text.endswith("$$", 0, start):
        return False
    if name == "ne":
        # ``\ne`` is rare next to ``\neq``; ``\ne) Silicon`` or ``\ne.g.`` are
        # list items and sentences after a line break.
        after = text[start + 3 : start + 4]
        return after == "" or after.isspace() or after in "{\\$-0123456789"
    return True


def _unescape_prose(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if _is_latex_command(text, match.start(), name):
            return match.group(0)
        return "\n" + name[1:]

    return _ESCAPE.sub(replace, text)


def _unescape_code(text: str) -> str:
    return _ESCAPE.sub(lambda match: "\n" + match.group(1)[1:], text)


def normalise_answer(raw: str) -> str:
    r"""Turn the escaped line breaks of an answer into real ones, keeping LaTeX.

    The corpus writes a line break as the two characters backslash + ``n``.
    LaTeX commands starting with ``\n`` (``\neq``, ``\nabla``, ``\neg``, ``\nu``,
    ``\notin`` …) stay; LaTeX's row break ``\\`` followed by ``\n`` becomes
    ``\\`` and a line break. Inside a code fence every ``\n`` is a line break.

    Examples
    --------
    >>> print(normalise_answer(r"x \neq 0$.\n\nNext"))
    x \neq 0$.
    <BLANKLINE>
    Next
    >>> print(normalise_answer(r"&= 1 \\\n   x"))
    &= 1 \\
       x
    >>> print(normalise_answer(r"where\nwe use $\nabla f$"))
    where
    we use $\nabla f$
    >>> print(normalise_answer(r"  / \\n C"))
      / \
     C
    """
    if "\\" not in raw:
        return raw
    parts = raw.split(_CODE_FENCE)
    return _CODE_FENCE.join(
        _unescape_code(part) if index % 2 else _unescape_prose(part)
        for index, part in enumerate(parts)
    )


def split_keywords(value: str) -> tuple[str, ...]:
    """Split a comma-separated keyword list: each trimmed, exact repeats dropped, order kept.

    Keywords that differ only by case stay apart: ``TT``, ``Tt`` and ``tt`` are
    three genotypes (matching across articles folds case; see ``by_keyword``).

    >>> split_keywords(" ATP, sodium pump,,ATP ,Na⁺-K⁺ pump ")
    ('ATP', 'sodium pump', 'Na⁺-K⁺ pump')
    >>> split_keywords("TT, Tt, tt, TT")
    ('TT', 'Tt', 'tt')
    """
    # Mapped and filtered in C: a generator here was a tenth of a file's reading.
    return tuple(dict.fromkeys(filter(None, map(str.strip, value.split(",")))))


def topic_key(subject: str) -> str:
    """The key of a subject: lowercase, runs of anything but a-z/0-9 become ``-``.

    >>> topic_key("Computer science")
    'computer-science'
    >>> topic_key("  Philosophy & Greek Myths! ")
    'philosophy-greek-myths'
    """
    return _SLUG_JUNK.sub("-", subject.lower()).strip("-")


def words(text: str) -> list[str]:
    """The searchable words of a text: case-folded runs of letters and digits.

    >>> words("What is the Na⁺-K⁺ pump's role?")
    ['what', 'is', 'the', 'na', 'k', 'pump', 's', 'role']
    """
    return _WORD.findall(text.casefold())

"""Tests of ``parse_article_fast``: the YAML reader's answer, or ``None``, never another.

For every input, the fast reader either answers ``None`` (the caller then uses
``parse_article``) or returns exactly what ``parse_article`` returns. It must
understand nearly all real files, so that reading a corpus almost never needs YAML:
that is what makes ingest fast. How fast is for the benchmarks to measure
(``benchmarks/bench_suite.py``), not for a test on a busy machine.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from test_fuzz import hard_timeout  # noqa: F401  (a fixture, used by name)

from conftest import SEEDS
from kgraph.corpus import discover, parse_article, read_file
from kgraph.corpus.fast import (
    _TEXT,
    _checked_text,
    _NotUnderstood,
    _resolve,
    _usual,
    parse_article_fast,
)
from kgraph.errors import ArticleParseError
from kgraph.model import ArticleFile

FUZZ = settings(max_examples=300, deadline=2000)
#: The share of real files the fast reader must understand (all 20,702 dev files, today).
MIN_SHARE = 0.999
PATH = "topic/file.md"
#: Each property test keeps a hard time limit besides Hypothesis's deadlines.
hard_limit = pytest.mark.usefixtures("hard_timeout")


def agrees(data: bytes, path: str = PATH) -> bool:
    """Check the fast reader against the YAML reader; tell whether it answered."""
    fast = parse_article_fast(data, path)
    if fast is None:
        return False
    try:
        reference = parse_article(data, path)
    except ArticleParseError as err:
        pytest.fail(f"the fast reader read a file the YAML reader refuses: {err}")
    assert fast == reference
    return True


def corpus_files(root: Path) -> list[tuple[bytes, str]]:
    return [
        (path.read_bytes(), path.relative_to(root).as_posix())
        for path in sorted(root.rglob("*.md"))
    ]


SEED_TEXTS = [data.decode() for data, _ in corpus_files(SEEDS) if data.startswith(b"---\n")]

ARTICLE = """\
---
_schema: default
id: 168902
date: 2025-02-04
title: >-
    What is exocytosis?
article_title: What is exocytosis?
date_format: MMM DD, YYYY
post_on_text: Posted on
seo:
  title: QuickTakes | Biology
  page_description: >-
    Exocytosis exports material from the cell.
  page_keywords: >-
    exocytosis, vesicles, ATP
author: QuickTakes
question: >-
    What is exocytosis?
answer: >-
    {answer}
subject: Biology
file_name: what-is-exocytosis.md
url: /learn/biology/questions/what-is-exocytosis
score: -1.0
related_article2:
    id: 168899
    title: >-
        What is endocytosis?
    subject: Biology
    url: /learn/biology/questions/what-is-endocytosis
related_article1:
    id: -3
    title: What is ATP?
    subject: Biology
    url: /learn/biology/questions/what-is-atp

---

&nbsp;
"""


def article(answer: str = "An answer.\\nOn two lines.") -> str:
    return ARTICLE.replace("{answer}", answer)


# --- the real corpus ----------------------------------------------------------------


def test_every_seed_file_agrees() -> None:
    files = corpus_files(SEEDS)
    answered = sum(agrees(data, path) for data, path in files)
    articles = sum(data.startswith(b"---\n") for data, _ in files)
    assert answered == articles  # every seed article; the README is left to YAML


@pytest.mark.corpus
def test_every_dev_file_agrees_and_most_are_understood(dev_corpus: Path) -> None:
    files = corpus_files(dev_corpus)
    answered = sum(agrees(data, path) for data, path in files)
    share = answered / len(files)
    print(f"\nfast reader: {answered:,} of {len(files):,} dev files ({share:.2%})")
    assert share >= MIN_SHARE


@pytest.mark.corpus
def test_reading_the_dev_corpus_needs_yaml_for_almost_no_file(
    dev_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``read_file`` (the reader of every ingest) tries the fast reader first, and it answers."""
    calls = {"parse": 0, "load": 0}

    def counted(name: str) -> Any:
        real = getattr(yaml, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return real(*args, **kwargs)

        return call

    for name in calls:
        monkeypatch.setattr(yaml, name, counted(name))
    paths = discover(dev_corpus)
    assert all(isinstance(read_file(dev_corpus, path), ArticleFile) for path in paths)
    assert max(calls.values()) <= len(paths) * (1 - MIN_SHARE)
    # The count is not blind: a file that only YAML reads is counted.
    parse_article(article().replace("author: QuickTakes", "author: 'quoted'").encode(), PATH)
    assert calls["load"] >= 1


# --- shapes it must read --------------------------------------------------------------


def test_the_usual_shape_is_understood() -> None:
    assert agrees(article().encode())


HEAD = ARTICLE.split("score:", 1)[0].replace("{answer}", "An answer.")


def _related(key: str, article_id: int, title: str = "What is ATP?") -> str:
    return (
        f"{key}:\n    id: {article_id}\n    title: {title}\n    subject: Biology\n"
        f"    url: /learn/biology/questions/a{article_id}\n"
    )


@pytest.mark.parametrize(
    ("tail", "usual"),
    [
        ("", True),
        ("score: 0.5\n", True),
        ("score: -1\n", True),
        ("score: true\n", True),  # a bool: no score
        ("score: 2024-01-01\n", True),  # a date: no score
        ("score: 3\n" + _related("related_article2", 8) + _related("related_article1", 9), True),
        (_related("related_article1", 8, ">-\n        Folded?"), True),
        (_related("related_article01", 8) + _related("related_article1", 9), True),  # both rank 1
        (_related("related_article1", 8) + _related("related_article1", 9), False),  # twice
        (_related("related_article1", 8) + "score: 0.5\n", False),
        ("score:  0.5\n", False),
        ("score: >-\n    0.5\n", False),
        ("score: 1e3\n", True),  # text to YAML 1.1: no score
        ("score: 1.0e+3\n", False),  # a float spelled otherwise: left to YAML
        (_related("related_article1", 8) + "\n", False),
        (_related("related_article1", 8) + "    extra: 1\n", False),
        (_related("related_article1", 8) + "no_index: true\n", False),
        # Outside GraphQL's Int: an entry's id names nothing, an N is refused (by YAML's reader).
        (_related("related_article1", 2**31 - 1) + _related("related_article2", -(2**31)), True),
        (_related("related_article1", 2**31), False),
        (_related("related_article2147483648", 8), False),
    ],
)
def test_the_usual_layout_is_read_in_a_few_matches_as_yaml_reads_it(tail: str, usual: bool) -> None:
    # Whether the few matches read it, or the line scanner (or YAML) does:
    # the article is the YAML reader's either way.
    data = f"{HEAD}{tail}---\n\n&nbsp;\n".encode()
    text = _checked_text(data[4 : data.find(b"\n---", 3) + 1])
    try:
        read = _usual(text, PATH) is not None
    except _NotUnderstood:  # a value only YAML reads: the file goes to YAML
        read = False
    assert read == usual
    if usual:
        assert agrees(data)
    else:
        agrees(data)


@pytest.mark.parametrize(
    "answer",
    [
        "One\n    two\n\n    three",  # folded with a space; a blank line is a break
        "One\n      indented\n    back",  # more-indented lines keep their breaks
        "One\n\n\n    two\n    ",  # several blank lines; a blank line of spaces
        "trailing spaces   \n    next",
        "One\n        \n    two",  # a line of spaces longer than the indentation is text
        "# not a comment: here, & * ! [ { 'quoted' \"too\"",
    ],
)
def test_folded_scalars_fold_as_yaml_does(answer: str) -> None:
    assert agrees(article(answer).encode())


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("score: -1.0", "score: 3"),
        ("score: -1.0", "score: 0.25"),
        ("score: -1.0", "no_index: True"),
        ("score: -1.0", "no_index: false"),
        ("date: 2025-02-04", "date: 2025-02-30"),  # kept as text, then no date
        ("date: 2025-02-04", "date:"),
        ("author: QuickTakes", "author: C#, C++ and 50% more:more, yes"),
        ("id: 168902", "id: -13"),
        ("author: QuickTakes", "author: 1e3"),  # text to YAML 1.1: a float needs a dot
    ],
)
def test_typed_plain_scalars_are_understood(line: str, value: str) -> None:
    assert agrees(article().replace(line, value).encode())


@pytest.mark.parametrize(
    "value",
    [
        "'quoted'",
        '"quoted"',
        "text # comment",
        "&anchor text",
        "*alias",
        "!tag text",
        "[flow]",
        "{flow: map}",
        "a: b",
        "ends with colon:",
        "null",
        "~",
        "yes",
        "0x1F",
        "1.5e+3",
        ".inf",
        "12:30",
        "1_000",
        "007",
        "2025-01-30 10:00:00",
        "| literal",
        "> folded",
        "- item",
        "%directive",
        "@reserved",
        "=",
        "<<",
    ],
)
def test_unusual_values_are_left_to_yaml(value: str) -> None:
    data = article().replace("author: QuickTakes", f"author: {value}").encode()
    assert parse_article_fast(data, PATH) is None


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"no front matter",
        b"---\n---\n",
        b"---\nid: 1\n",
        article().replace("\n", "\r\n").encode(),
        b"\xef\xbb\xbf" + article().encode(),
        article().replace("id: 168902", "id:\t168902").encode(),
        article().encode() + b"\xff",
        article().replace("author: QuickTakes", "author: Quick\x85Takes").encode(),
        article().replace("author: QuickTakes", "author: Quick\u2028Takes").encode(),
        article().replace("author: QuickTakes", "author:\n  name: QuickTakes").encode(),
        article().replace("author: QuickTakes", "author:\n- QuickTakes").encode(),
        article().replace("author: QuickTakes", "# a comment").encode(),
        article().replace("subject: Biology", "subject: Biology\n  continued").encode(),
        article().replace("subject: Biology", "subject: Biology\nsubject: Physics").encode(),
        article().replace("id: 168902", "id: 1" + "0" * 5000).encode(),
        article().encode() + b" " * (1 << 20),
    ],
    ids=lambda data: repr(data[:40]),
)
def test_other_files_are_left_to_yaml(data: bytes) -> None:
    assert parse_article_fast(data, PATH) is None


# --- any input: None or the YAML reader's answer --------------------------------------

yaml_tokens = st.sampled_from(
    [
        *"&*!:[]{}-|>'\"#%@`?,. \t\n\r01aZ_\\~",
        "---",
        "\n---\n",
        "\ufeff",
        "\x85",
        "\u2028",
        "\nid: 1",
        "\ntitle: ",
        "\nsubject: ",
        "\nrelated_article1:\n    id: 2",
        "\n    ",
        "\n  ",
        ": ",
        " #",
        ">-\n",
        "\nscore: ",
        "\ndate: ",
        "2024-13-45",
        "1e3",
        "yes",
        "null",
        "True",
    ]
)


@hard_limit
@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes(data: bytes) -> None:
    agrees(data)


@hard_limit
@FUZZ
@given(st.lists(yaml_tokens | st.characters(codec="utf-8"), max_size=60).map("".join))
@example("id: 1\ntitle: >-\n    a\n     b\n\n    c\nsubject: S\n")
def test_any_front_matter(front_matter: str) -> None:
    agrees(f"---\nid: 7\ntitle: T\nsubject: S\n{front_matter}\n---\n".encode())
    agrees(f"---\n{front_matter}\n---\n".encode())


folded_line = st.one_of(
    st.just(""),
    st.integers(1, 10).map(lambda n: " " * n),
    st.tuples(st.integers(0, 3), st.text(st.sampled_from("ab #:'\"-&*\\ "), max_size=8)).map(
        lambda extra_text: " " * (4 + extra_text[0]) + extra_text[1]
    ),
)


@hard_limit
@FUZZ
@given(st.lists(folded_line, min_size=1, max_size=8))
def test_any_folded_scalar(lines: list[str]) -> None:
    answer = "\n".join(lines).lstrip(" ")
    agrees(article(answer).encode())


MUTATIONS = [
    *["'", '"', "#", " #x", "&a ", "*a", "!x ", "\t", "[", "{", ": ", "|", ">", "- ", "? "],
    *["%", "@", "`", "\r", "\ufeff", "\x85", "\u2028", "~", ">-", "x:", " ", "  ", "\n"],
]
VALUES = [
    *["yes", "no", "on", "null", "Null", "~", "1e3", "0x1F", ".inf", ".nan", "12:30", "1:30"],
    *["2025-1-2", "2025-02-30", "2025-01-30 10:00", "007", "08", "1_000", "+1", "-0", "-1.0"],
    *["3.14", "1.", "True", "FALSE", "", "=", "<<", ">-", "-", "- x", "? x", "x: y", "'q'"],
]


@st.composite
def mutated_articles(draw: st.DrawFn) -> bytes:
    text = draw(st.sampled_from([*SEED_TEXTS, article()]))
    lines = text.split("\n")
    rng = random.Random(draw(st.integers(0, 2**32)))
    for _ in range(draw(st.integers(1, 3))):
        index = rng.randrange(len(lines))
        line = lines[index]
        kind = draw(st.sampled_from(["insert", "value", "indent", "dedent", "copy", "drop"]))
        if kind == "insert":
            at = rng.randrange(len(line) + 1)
            lines[index] = line[:at] + draw(st.sampled_from(MUTATIONS)) + line[at:]
        elif kind == "value" and ": " in line:
            lines[index] = line.split(": ", 1)[0] + ": " + draw(st.sampled_from(VALUES))
        elif kind == "indent":
            lines[index] = " " * draw(st.integers(1, 9)) + line
        elif kind == "dedent":
            lines[index] = line[draw(st.integers(1, 4)) :]
        elif kind == "copy":
            lines.insert(index, line)
        elif kind == "drop":
            del lines[index]
    return "\n".join(lines).encode()


@hard_limit
@settings(FUZZ, max_examples=600)
@given(mutated_articles())
def test_mutated_real_files(data: bytes) -> None:
    agrees(data)


# --- the scalar spellings it types itself ---------------------------------------------


@hard_limit
@FUZZ
@given(
    st.from_regex(r"\A-?(?:0|[1-9][0-9]{0,17})(?:\.[0-9]{1,17})?\Z")
    | st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
)
def test_typed_spellings_load_as_yaml_loads_them(plain: str) -> None:
    data = article().replace("author: QuickTakes", f"author: {plain}\nscore: {plain}")
    data = data.replace("score: -1.0\n", "").replace("date: 2025-02-04", f"date: {plain}")
    assert agrees(data.encode())
    tag = _resolve(plain)  # PyYAML's own table of implicit resolvers
    kind = "timestamp" if plain[4:5] == "-" else "float" if "." in plain else "int"
    assert tag == f"tag:yaml.org,2002:{kind}"


@hard_limit
@FUZZ
@given(st.from_regex(rf"\A{_TEXT}\Z"))
def test_usual_text_loads_as_itself(plain: str) -> None:
    # The reader refuses these characters before it looks at any value.
    assume(not re.search("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]", plain))
    assert yaml.load(f"v: {plain}", Loader=yaml.CSafeLoader) == {"v": plain}


@pytest.mark.parametrize("value", [2**31, -(2**31) - 1, 10**17])
@pytest.mark.parametrize("tail", ["", "no_index: true\n"])  # the few matches, then the scanner
def test_an_id_outside_graphqls_int_is_left_to_yaml_which_refuses_it(value: int, tail: str) -> None:
    data = f"{HEAD.replace('id: 168902', f'id: {value}', 1)}{tail}---\n".encode()

    assert parse_article_fast(data, PATH) is None
    with pytest.raises(ArticleParseError, match=r"^.*`id` .* is out of range"):
        parse_article(data, PATH)
    assert parse_article_fast(data.replace(str(value).encode(), b"-2147483648", 1), PATH)

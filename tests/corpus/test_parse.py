"""Tests of reading article files: ``parse_article`` (bytes in) and ``read_file``/``read_corpus``.

Every parse error kind must come back as an ``ArticleParseError`` (or, through the
readers, a ``Diagnostic``) with the file's path, the line where known and a reason
an editor can act on; every readable file must give the fields CORPUS.md describes.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kgraph.cli import main
from kgraph.corpus import MAX_FILE_BYTES, discover, parse_article, read_corpus, read_file
from kgraph.errors import ArticleParseError, CorpusNotFound, EmptyCorpus
from kgraph.model import INT_MAX, INT_MIN, ArticleFile, Diagnostic, RelatedEntry

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
SEED_PATH = "biology/what-is-the-role-of-atp-in-the-sodiumpotassium-pump.md"

MINIMAL = "id: 7\ntitle: Why is the sky blue?\nsubject: Physics\n"


def article(front_matter: str, body: str = "\n&nbsp;\n") -> bytes:
    """A file with ``front_matter`` (YAML lines, each ending in a newline) between fences."""
    return f"---\n{front_matter}---\n{body}".encode()


def parse_error(data: bytes, path: str = "topic/file.md") -> ArticleParseError:
    """The error ``parse_article`` raises for ``data``; fails the test if it parses."""
    with pytest.raises(ArticleParseError) as caught:
        parse_article(data, path)
    return caught.value


# --- the real seed file -------------------------------------------------------------


def test_seed_file_parses_to_its_fields() -> None:
    data = (SEEDS / SEED_PATH).read_bytes()

    parsed = parse_article(data, SEED_PATH)

    assert parsed.id == 168904
    assert parsed.title == "What is the role of ATP in the sodium-potassium pump?"
    assert parsed.question == "What is the role of ATP in the sodium-potassium pump?"
    assert parsed.copy.path == SEED_PATH
    assert parsed.copy.subject == "Biology"
    assert parsed.copy.topic == "biology"
    assert parsed.copy.url == (
        "/learn/biology/questions/what-is-the-role-of-atp-in-the-sodiumpotassium-pump"
    )
    assert parsed.score == -1.0
    assert parsed.date == datetime.date(2025, 2, 4)
    assert parsed.no_index is False
    assert len(parsed.keywords) == 13
    assert parsed.keywords[:3] == ("ATP", "sodium-potassium pump", "Na⁺-K⁺ pump")
    assert parsed.keywords[-1] == "cellular homeostasis"
    assert parsed.description is not None
    assert parsed.description.startswith("The sodium-potassium pump utilizes ATP to actively")
    assert parsed.description.endswith("crucial for nerve and muscle functions.")
    # The answer is kept as written: escaped line breaks are still two characters.
    assert "gradients. \\n\\nThe role of ATP" in parsed.answer_raw


def test_seed_file_related_entries() -> None:
    parsed = parse_article((SEEDS / SEED_PATH).read_bytes(), SEED_PATH)

    related = parsed.copy.related
    assert [entry.rank for entry in related] == [1, 2, 3, 4, 5]
    assert [entry.id for entry in related] == [168902, 168897, 168906, 168902, 168903]
    assert related[1] == RelatedEntry(
        rank=2,
        id=168897,
        title="Why is energy required for active transport processes?",
        subject="Biology",
        url="/learn/biology/questions/why-is-energy-required-for-active-transport-processes",
    )


def test_read_file_reads_the_seed_from_its_folder() -> None:
    result = read_file(SEEDS, SEED_PATH)

    assert isinstance(result, ArticleFile)
    assert result.id == 168904
    assert result.copy.path == SEED_PATH


# --- related entries ----------------------------------------------------------------


def test_related_entries_are_ordered_by_number_not_file_order() -> None:
    data = article(
        MINIMAL + "related_article3: {id: 30, title: Third, subject: Physics, url: /c}\n"
        "related_article1: {id: 10, title: First, subject: Physics, url: /a}\n"
        "related_article2: {id: 20, title: Second, subject: Physics, url: /b}\n"
    )

    related = parse_article(data, "physics/sky.md").copy.related

    assert related == (
        RelatedEntry(rank=1, id=10, title="First", subject="Physics", url="/a"),
        RelatedEntry(rank=2, id=20, title="Second", subject="Physics", url="/b"),
        RelatedEntry(rank=3, id=30, title="Third", subject="Physics", url="/c"),
    )


def test_related_rank_gaps_are_kept_and_non_mappings_skipped() -> None:
    data = article(
        MINIMAL + "related_article7: {id: 70, url: /g}\n"
        "related_article2: not a mapping\n"
        "related_article3: [1, 2]\n"
        "related_article4:\n"
        "related_article12: {id: 120, url: /l}\n"
        "related_article1: {id: 10, url: /a}\n"
        "related_articleX: {id: 99, url: /x}\n"
    )

    related = parse_article(data, "physics/sky.md").copy.related

    assert [(entry.rank, entry.id) for entry in related] == [(1, 10), (7, 70), (12, 120)]


def test_related_fields_of_the_wrong_type_become_none() -> None:
    data = article(MINIMAL + "related_article1: {id: abc, title: 5, subject: [x], url: true}\n")

    (entry,) = parse_article(data, "physics/sky.md").copy.related

    assert entry == RelatedEntry(rank=1, id=None, title=None, subject=None, url=None)


# --- parse errors -------------------------------------------------------------------


def test_not_utf8_reports_the_line_of_the_bad_byte() -> None:
    data = b"---\nid: 7\ntitle: Caf\xe9\nsubject: Physics\n---\n"

    err = parse_error(data, "physics/cafe.md")

    assert err.path == "physics/cafe.md"
    assert err.line == 3
    assert "UTF-8" in err.reason
    assert "0xe9" in err.reason


@pytest.mark.parametrize(
    "data",
    [
        b"id: 7\ntitle: Why?\nsubject: Physics\n",
        b"",
        b"\n---\nid: 7\ntitle: Why?\nsubject: Physics\n---\n",
        b"----\nid: 7\ntitle: Why?\nsubject: Physics\n----\n",
    ],
)
def test_no_front_matter(data: bytes) -> None:
    err = parse_error(data)

    assert err.path == "topic/file.md"
    assert err.line == 1
    assert "no front matter" in err.reason
    assert "---" in err.reason


def test_unclosed_front_matter() -> None:
    err = parse_error(f"---\n{MINIMAL}\n&nbsp;\n".encode())

    assert err.line == 1
    assert "front matter" in err.reason


def test_bad_yaml_reports_the_file_line_of_the_error() -> None:
    # File line 5 holds the error: line 1 is the opening fence.
    data = article(MINIMAL + "bad: a: b\nafter: 1\n")

    err = parse_error(data)

    assert err.line == 5
    assert err.reason.startswith("invalid YAML front matter:")
    assert "mapping values are not allowed" in err.reason


def test_bad_yaml_in_a_block_says_where_the_block_began() -> None:
    data = article(MINIMAL + "items:\n  - a\n  b: c\n")

    err = parse_error(data)

    assert err.line == 7
    assert "invalid YAML" in err.reason
    assert "started on line 6" in err.reason


@pytest.mark.parametrize(
    ("front_matter", "kind"),
    [
        ("- a\n- b\n", "a list"),
        ("", "empty"),
        ("\n# only a comment\n", "empty"),
        ("just some text\n", "a str"),
    ],
)
def test_front_matter_that_is_not_a_mapping(front_matter: str, kind: str) -> None:
    err = parse_error(article(front_matter))

    assert err.line == 2
    assert kind in err.reason


def test_id_missing() -> None:
    err = parse_error(article("title: Why?\nsubject: Physics\n"))

    assert err.line is None
    assert err.reason == "`id` is missing"


@pytest.mark.parametrize(
    ("value", "described"),
    [
        ("1.5", "float 1.5"),
        ("true", "bool True"),
        ("[7]", "list"),
    ],
)
def test_id_of_the_wrong_type_reports_the_id_line(value: str, described: str) -> None:
    err = parse_error(article(f"title: Why?\nsubject: Physics\nid: {value}\n"))

    assert err.line == 4
    assert "`id` must be an integer" in err.reason
    assert described in err.reason


@pytest.mark.parametrize("value", ["abc", '"7"', "1e3"])
def test_id_given_as_text_is_refused(value: str) -> None:
    err = parse_error(article(f"title: Why?\nsubject: Physics\nid: {value}\n"))

    assert err.line == 4
    assert "`id` must be an integer" in err.reason


def test_id_given_as_text_is_described_as_text() -> None:
    # Regression: _describe() once said "empty text" for every string, so
    # `id: abc` was reported as "`id` must be an integer, got empty text".
    err = parse_error(article("title: Why?\nsubject: Physics\nid: abc\n"))

    assert err.line == 4
    assert "`id` must be an integer" in err.reason
    assert "empty" not in err.reason
    assert "abc" in err.reason


def test_negative_ids_and_ids_at_the_bounds_of_graphqls_int_are_ids() -> None:
    for value in (-13, 0, INT_MIN, INT_MAX):
        assert parse_article(article(f"id: {value}\ntitle: T\nsubject: S\n"), "a.md").id == value


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (INT_MAX + 1, "2147483648"),
        (INT_MIN - 1, "-2147483649"),
        (10**20, "100000000000000000000"),  # past 64 bits: it once stopped the whole load
        (-(10**30), "-100000000000…000000 (31 digits)"),
        (10**100, "of over 60 digits"),
    ],
)
def test_an_id_outside_graphqls_int_is_refused_with_its_line(value: int, shown: str) -> None:
    # The API gives ids as GraphQL Ints: an article whose id is not one could not be
    # served (every page holding it would fail), nor be stored in the graph's columns.
    err = parse_error(article(f"title: Why?\nsubject: Physics\nid: {value}\n"))

    assert err.line == 4
    assert err.reason.startswith(f"`id` {shown} is out of range")
    assert f"{INT_MIN} … {INT_MAX}" in err.reason


def test_a_related_entry_whose_id_is_outside_graphqls_int_names_no_id() -> None:
    # As an id that is not an integer: no article has it, and its url may still resolve.
    data = article(
        MINIMAL + f"related_article1: {{id: {INT_MAX + 1}, url: /a}}\n"
        f"related_article2: {{id: {INT_MIN}, url: /b}}\n"
    )

    entries = parse_article(data, "a.md").copy.related

    assert [(entry.id, entry.url) for entry in entries] == [(None, "/a"), (INT_MIN, "/b")]


@pytest.mark.parametrize("rank", [str(INT_MAX + 1), "9" * 40])
def test_a_related_entry_numbered_outside_graphqls_int_is_refused_with_its_line(
    rank: str,
) -> None:
    data = article(
        MINIMAL + "related_article1: {id: 8, url: /a}\n"
        f"related_article{rank}: {{id: 9, url: /b}}\n"
    )

    err = parse_error(data)

    assert err.line == 6
    assert f"N is out of range, it must be at most {INT_MAX}" in err.reason
    assert err.reason.startswith(f"`related_article{rank[:25]}")


def test_a_related_entry_numbered_with_thousands_of_leading_zeros_is_read() -> None:
    # Too many digits for int() as they stand (it once raised ValueError, out of the reader).
    key = "related_article" + "0" * 5000 + "3"
    data = article(MINIMAL + f"? {key}\n: {{id: 8, url: /a}}\n")

    assert [entry.rank for entry in parse_article(data, "a.md").copy.related] == [3]


def test_a_related_entry_numbered_at_the_bound_is_read() -> None:
    data = article(MINIMAL + f"related_article0{INT_MAX}: {{id: 8, url: /a}}\n")

    assert [entry.rank for entry in parse_article(data, "a.md").copy.related] == [INT_MAX]


@pytest.mark.parametrize("key", ["title", "subject"])
def test_required_text_missing(key: str) -> None:
    lines = {"id": "7", "title": "Why?", "subject": "Physics"}
    del lines[key]
    front_matter = "".join(f"{name}: {value}\n" for name, value in lines.items())

    err = parse_error(article(front_matter))

    assert err.line is None
    assert err.reason == f"`{key}` is missing"


@pytest.mark.parametrize(
    ("key", "value", "described"),
    [
        ("title", "42", "int 42"),
        ("title", '""', "empty text"),
        ("title", '"   "', "empty text"),
        ("subject", "[Physics, Biology]", "list"),
        ("subject", "{a: 1}", "dict"),
    ],
)
def test_required_text_of_the_wrong_kind(key: str, value: str, described: str) -> None:
    lines = {"id": "7", "title": "Why?", "subject": "Physics"}
    lines[key] = value
    front_matter = "".join(f"{name}: {text}\n" for name, text in lines.items())
    expected_line = 2 + list(lines).index(key)

    err = parse_error(article(front_matter))

    assert err.line == expected_line
    assert f"`{key}` must be non-empty text" in err.reason
    assert described in err.reason


def test_subject_without_a_letter_or_digit() -> None:
    err = parse_error(article('id: 7\ntitle: Why?\nsubject: "!!!"\n'))

    assert err.line == 4
    assert "no letter or digit" in err.reason
    assert "'!!!'" in err.reason


def test_file_over_the_size_limit_is_refused_unread() -> None:
    data = article(MINIMAL, body="x" * MAX_FILE_BYTES)
    assert len(data) > MAX_FILE_BYTES

    err = parse_error(data)

    assert err.line is None
    assert "limit" in err.reason
    assert f"{MAX_FILE_BYTES:,}" in err.reason


def test_file_of_exactly_the_size_limit_is_read() -> None:
    head = article(MINIMAL, body="")
    data = head + b"x" * (MAX_FILE_BYTES - len(head))
    assert len(data) == MAX_FILE_BYTES

    assert parse_article(data, "big.md").id == 7


def test_yaml_anchor_is_refused_with_its_line() -> None:
    data = article(MINIMAL + "base: &a {x: 1}\nother: *a\n")

    err = parse_error(data)

    assert err.line == 5
    assert "anchors and aliases are not allowed" in err.reason


def test_yaml_alias_alone_is_refused_with_its_line() -> None:
    data = article(MINIMAL + "other: *a\n")

    err = parse_error(data)

    assert err.line == 5
    assert "alias" in err.reason


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        refs = ", ".join([f"*lol{level - 1}"] * 9)
        lines.append(f"lol{level}: &lol{level} [{refs}]")
    data = article(MINIMAL + "\n".join(lines) + "\n")

    start = time.perf_counter()
    err = parse_error(data)
    elapsed = time.perf_counter() - start

    assert "aliases" in err.reason
    assert elapsed < 1.0


# Regressions found by test_fuzz.py: each input once made parse_article raise the
# exception named in its id instead of ArticleParseError, and read_corpus does not
# catch those, so one such file stopped a whole corpus load.
#  - "ampersand-*": the anchor scan (yaml.parse) ran outside _load_yaml's try, so
#    invalid YAML holding a "&" escaped as yaml.ScannerError / yaml.ReaderError.
#  - "tag-*": PyYAML's SafeConstructor fails on these explicit tags with
#    KeyError / AttributeError / IndexError.
@pytest.mark.parametrize(
    "data",
    [
        pytest.param(article(MINIMAL + "x: &\n"), id="ampersand-ScannerError"),
        pytest.param(
            article("id: 7\ntitle: Salt & pepper\nsubject: S\nx: a: b\n"),
            id="ampersand-then-bad-yaml-ScannerError",
        ),
        pytest.param(
            article("id: 7\ntitle: Salt & pepper\nsubject: S\nx: \x01\n"),
            id="ampersand-then-control-character-ReaderError",
        ),
        pytest.param(article("id: !!bool maybe\ntitle: T\nsubject: S\n"), id="tag-bool-KeyError"),
        pytest.param(
            article(MINIMAL + "date: !!timestamp soon\n"), id="tag-timestamp-AttributeError"
        ),
        pytest.param(article("id: !!int ''\ntitle: T\nsubject: S\n"), id="tag-int-IndexError"),
        pytest.param(article(MINIMAL + "x: !!float ''\n"), id="tag-float-IndexError"),
    ],
)
def test_invalid_yaml_is_always_an_article_parse_error(data: bytes) -> None:
    err = parse_error(data)

    assert err.path == "topic/file.md"
    assert "YAML" in err.reason


def test_score_too_large_for_a_float_is_none() -> None:
    # Regression: _score() called float() on any int, so a score like 10**400
    # raised OverflowError out of parse_article instead of giving score None.
    parsed = parse_article(article(MINIMAL + f"score: {10**400}\n"), "a.md")

    assert parsed.score is None


def test_control_character_without_ampersand_is_a_parse_error() -> None:
    err = parse_error(article(MINIMAL + "x: \x01\n"))

    assert "control characters are not allowed" in err.reason


def test_nested_too_deep_is_a_parse_error() -> None:
    err = parse_error(article(MINIMAL + "x: " + "[" * 5000 + "]" * 5000 + "\n"))

    assert "invalid YAML" in err.reason


# --- accepted variations ------------------------------------------------------------


def test_blank_line_before_the_closing_fence_is_fine() -> None:
    parsed = parse_article(article(MINIMAL + "\n\n"), "physics/sky.md")

    assert parsed.id == 7
    assert parsed.title == "Why is the sky blue?"


def test_fences_with_trailing_spaces_are_fine() -> None:
    data = f"--- \n{MINIMAL}---\t\n\n&nbsp;\n".encode()

    assert parse_article(data, "a.md").id == 7


def test_utf8_byte_order_mark_is_fine() -> None:
    parsed = parse_article(b"\xef\xbb\xbf" + article(MINIMAL), "physics/sky.md")

    assert parsed.id == 7
    assert parsed.title == "Why is the sky blue?"


def test_crlf_line_endings_are_fine() -> None:
    data = article(MINIMAL + "related_article1: {id: 8, url: /a}\n").replace(b"\n", b"\r\n")
    assert b"\r\n---\r\n" in data

    parsed = parse_article(data, "physics/sky.md")

    assert parsed.id == 7
    assert parsed.title == "Why is the sky blue?"
    assert parsed.copy.subject == "Physics"
    assert [entry.id for entry in parsed.copy.related] == [8]


def test_crlf_bad_yaml_still_reports_the_file_line() -> None:
    data = article(MINIMAL + "bad: a: b\n").replace(b"\n", b"\r\n")

    assert parse_error(data).line == 5


def test_folded_title_is_one_line() -> None:
    parsed = parse_article(
        article("id: 7\ntitle: >-\n    Why is the\n    sky blue?\nsubject: Physics\n"), "a.md"
    )

    assert parsed.title == "Why is the sky blue?"


# --- optional fields ----------------------------------------------------------------


def test_optional_fields_absent() -> None:
    parsed = parse_article(article(MINIMAL), "physics/sky.md")

    assert parsed.score is None
    assert parsed.date is None
    assert parsed.no_index is False
    assert parsed.question is None
    assert parsed.answer_raw == ""
    assert parsed.description is None
    assert parsed.keywords == ()
    assert parsed.copy.url is None
    assert parsed.copy.related == ()


def test_no_index_true() -> None:
    parsed = parse_article(article(MINIMAL + "no_index: True\n"), "a.md")

    assert parsed.no_index is True


@pytest.mark.parametrize("value", ["False", '"True"', "1", "yes please"])
def test_no_index_only_for_a_real_true(value: str) -> None:
    parsed = parse_article(article(MINIMAL + f"no_index: {value}\n"), "a.md")

    assert parsed.no_index is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-02", datetime.date(2024, 1, 2)),
        ('"2024-01-02"', datetime.date(2024, 1, 2)),
        ('" 2024-01-02 "', datetime.date(2024, 1, 2)),
        ("2024-01-02 10:30:00", datetime.date(2024, 1, 2)),
        ('"2024-13-45"', None),
        ("next tuesday", None),
        ("20240102.5", None),
        ("[2024, 1, 2]", None),
    ],
)
def test_date(value: str, expected: datetime.date | None) -> None:
    parsed = parse_article(article(MINIMAL + f"date: {value}\n"), "a.md")

    assert parsed.date == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("-1.0", -1.0),
        ("0.75", 0.75),
        ("3", 3.0),
        (".nan", None),
        (".inf", None),
        ("true", None),
        ('"0.5"', None),
    ],
)
def test_score(value: str, expected: float | None) -> None:
    parsed = parse_article(article(MINIMAL + f"score: {value}\n"), "a.md")

    assert parsed.score == expected


def test_keywords_are_trimmed_and_only_exact_repeats_dropped() -> None:
    data = article(MINIMAL + "seo:\n  page_keywords: ' Light,  sky ,,Light, sky,blue sky ,Sky'\n")

    assert parse_article(data, "a.md").keywords == ("Light", "sky", "blue sky", "Sky")


def test_keywords_differing_by_case_are_distinct() -> None:
    # CORPUS.md: three genotypes, not one keyword spelt three ways.
    data = article(MINIMAL + "seo:\n  page_keywords: 'TT, Tt, tt, Punnett square, TT'\n")

    assert parse_article(data, "a.md").keywords == ("TT", "Tt", "tt", "Punnett square")


# --- reading files and folders ------------------------------------------------------

GOOD = {
    "physics/sky.md": article("id: 1\ntitle: Sky\nsubject: Physics\n"),
    "physics/sea.md": article(
        "id: 2\ntitle: Sea\nsubject: Physics\nrelated_article1: {id: 1, url: /s}\n"
    ),
    "biology/cell.md": article("id: 3\ntitle: Cell\nsubject: Biology\n"),
}
BROKEN = {
    "biology/nofence.md": b"id: 4\ntitle: No fence\nsubject: Biology\n",
    "noid.md": article("title: No id\nsubject: Physics\n"),
}
NOT_ARTICLES = {
    "README.md": b"# About this corpus\n",
    "physics/readme.md": b"lower-case readme, not an article either\n",
    ".hidden.md": b"hidden file\n",
    ".git/objects.md": b"hidden folder\n",
    "notes.txt": b"not markdown\n",
}


def write_files(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A small corpus: 3 good files in 2 folders, 2 broken ones, and non-articles."""
    write_files(tmp_path, GOOD | BROKEN | NOT_ARTICLES)
    return tmp_path


def test_read_corpus_loads_good_files_and_reports_broken_ones(corpus: Path) -> None:
    reading = read_corpus(corpus, workers=1)

    assert reading.root == str(corpus)
    assert reading.files == (
        "biology/cell.md",
        "biology/nofence.md",
        "noid.md",
        "physics/sea.md",
        "physics/sky.md",
    )
    assert sorted(a.copy.path for a in reading.articles) == sorted(GOOD)
    assert sorted(a.id for a in reading.articles) == [1, 2, 3]
    assert [(d.path, d.line) for d in reading.diagnostics] == [
        ("biology/nofence.md", 1),
        ("noid.md", None),
    ]
    assert "no front matter" in reading.diagnostics[0].message
    assert reading.diagnostics[1].message == "`id` is missing"


def test_read_corpus_with_a_process_pool_gives_the_same_reading(corpus: Path) -> None:
    calls: list[tuple[int, int]] = []

    serial = read_corpus(corpus, workers=1)
    parallel = read_corpus(
        corpus, workers=2, progress=lambda done, total: calls.append((done, total))
    )

    # Five files for two workers are split into several chunks, so the pool is used;
    # progress is reported once per chunk.
    assert len(calls) > 1
    assert calls[-1] == (5, 5)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert parallel.articles == serial.articles
    assert parallel.diagnostics == serial.diagnostics
    assert parallel == serial
    # Answers are kept apart from the records, the same either way.
    every = range(len(serial.articles))
    assert [parallel.answer_utf8(i) for i in every] == [serial.answer_utf8(i) for i in every]


def test_read_corpus_reports_progress_to_the_end(corpus: Path) -> None:
    calls: list[tuple[int, int]] = []

    read_corpus(corpus, workers=1, progress=lambda done, total: calls.append((done, total)))

    assert calls
    assert calls[-1] == (5, 5)
    assert all(total == 5 for _, total in calls)


def test_read_corpus_paths_are_relative_posix(corpus: Path) -> None:
    reading = read_corpus(str(corpus), workers=1)

    for path in reading.files:
        assert not path.startswith("/")
        assert "\\" not in path
    assert all(d.path in reading.files for d in reading.diagnostics)


def test_read_corpus_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(CorpusNotFound) as caught:
        read_corpus(tmp_path / "missing")

    assert caught.value.path == str(tmp_path / "missing")


def test_read_corpus_on_a_file_is_not_found(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_bytes(article(MINIMAL))

    with pytest.raises(CorpusNotFound):
        read_corpus(tmp_path / "a.md")


def test_read_corpus_without_articles(tmp_path: Path) -> None:
    write_files(tmp_path, NOT_ARTICLES)

    with pytest.raises(EmptyCorpus) as caught:
        read_corpus(tmp_path)

    assert caught.value.path == str(tmp_path)


def test_read_corpus_survives_yaml_that_breaks_pyyaml(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "a/good.md": article(MINIMAL),
            "a/tag.md": article("id: !!bool maybe\ntitle: T\nsubject: S\n"),
            "b/anchor.md": article("id: 8\ntitle: Salt & pepper\nsubject: S\nx: a: b\n"),
        },
    )

    reading = read_corpus(tmp_path, workers=1)

    assert [a.id for a in reading.articles] == [7]
    assert [d.path for d in reading.diagnostics] == ["a/tag.md", "b/anchor.md"]
    assert all("invalid YAML" in d.message for d in reading.diagnostics)


# Deeper than the longest path the OS takes (PATH_MAX): a real listing error,
# which even root (as the tests run) cannot avoid, unlike a folder's permissions.
_FOLDER = "f" * 250
_DEPTH = 20


@pytest.fixture
def too_deep(tmp_path: Path) -> Iterator[Path]:
    """A corpus with ``a.md``, ``f…f/b.md`` and folders nested too deep to list, ``c.md`` at the bottom."""
    if not {os.mkdir, os.open} <= os.supports_dir_fd:
        pytest.skip("needs mkdir and open relative to a folder descriptor")
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "a.md").write_bytes(article(MINIMAL))
    folder = os.open(root, os.O_RDONLY)
    try:
        for depth in range(_DEPTH):
            os.mkdir(_FOLDER, dir_fd=folder)
            inner = os.open(_FOLDER, os.O_RDONLY, dir_fd=folder)
            os.close(folder)
            folder = inner
            if depth == 0:
                (root / _FOLDER / "b.md").write_bytes(article("id: 8\ntitle: B\nsubject: S\n"))
        bottom = os.open("c.md", os.O_WRONLY | os.O_CREAT, dir_fd=folder)
        os.write(bottom, article("id: 9\ntitle: C\nsubject: S\n"))
        os.close(bottom)
    finally:
        os.close(folder)
    yield root
    shutil.rmtree(root)  # walks by descriptors, so it can


def test_a_folder_that_cannot_be_listed_is_a_diagnostic(too_deep: Path) -> None:
    reading = read_corpus(too_deep, workers=1)

    assert reading.files == ("a.md", f"{_FOLDER}/b.md")
    assert sorted(a.id for a in reading.articles) == [7, 8]
    [unlisted] = reading.diagnostics
    assert unlisted.line is None
    assert unlisted.message == "cannot list folder: File name too long"
    # The first folder whose path is too long: every folder below it is lost with it.
    parts = unlisted.path.split("/")
    assert set(parts) == {_FOLDER}
    assert 1 < len(parts) < _DEPTH
    assert (
        len(os.path.join(too_deep, unlisted.path))
        >= 4096
        > len(os.path.join(too_deep, *parts[:-1]))
    )
    assert discover(too_deep) == reading.files  # discover() still gives paths alone


def test_an_unlistable_folder_fails_kgraph_check(
    too_deep: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--format", "json", str(too_deep)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["parse_errors"] == 1
    assert report["summary"]["files"] == 2
    [error] = report["parse_errors"]
    assert error["line"] is None
    assert error["message"] == "cannot list folder: File name too long"


def test_unlistable_folders_are_reported_in_path_order(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder that refuses its listing (as permissions do for a non-root user)."""
    refused = {os.fspath(corpus / "physics"), os.fspath(corpus / "biology")}
    listing = os.scandir

    def scandir(path: str) -> Iterator[os.DirEntry[str]]:
        if os.fspath(path) in refused:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return listing(path)

    monkeypatch.setattr(os, "scandir", scandir)
    reading = read_corpus(corpus, workers=1)

    assert reading.files == ("noid.md",)
    assert [(d.path, d.line, d.message) for d in reading.diagnostics] == [
        ("biology", None, "cannot list folder: Permission denied"),
        ("noid.md", None, "`id` is missing"),
        ("physics", None, "cannot list folder: Permission denied"),
    ]


def test_an_unlistable_corpus_folder_is_a_diagnostic_not_an_empty_corpus(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def scandir(path: str) -> Iterator[os.DirEntry[str]]:
        raise PermissionError(13, "Permission denied", os.fspath(path))

    monkeypatch.setattr(os, "scandir", scandir)
    reading = read_corpus(corpus, workers=1)

    assert (reading.files, reading.articles) == ((), ())
    assert reading.diagnostics == (
        Diagnostic(path=".", line=None, message="cannot list folder: Permission denied"),
    )


def test_read_file_turns_errors_into_diagnostics(tmp_path: Path) -> None:
    write_files(tmp_path, {"a/bad.md": b"---\nid: 1\ntitle: caf\xe9\n---\n"})

    result = read_file(tmp_path, "a/bad.md")

    assert isinstance(result, Diagnostic)
    assert result.path == "a/bad.md"
    assert result.line == 3
    assert "UTF-8" in result.message


def test_read_file_of_a_missing_file(tmp_path: Path) -> None:
    result = read_file(tmp_path, "gone.md")

    assert isinstance(result, Diagnostic)
    assert result.path == "gone.md"
    assert result.line is None
    assert "cannot read file" in result.message


def test_read_file_refuses_a_file_over_the_size_limit(tmp_path: Path) -> None:
    write_files(tmp_path, {"big.md": article(MINIMAL, body="x" * MAX_FILE_BYTES)})

    result = read_file(tmp_path, "big.md")

    assert isinstance(result, Diagnostic)
    assert result.line is None
    assert "limit" in result.message


def test_an_impossible_unquoted_date_costs_only_the_date() -> None:
    article = parse_article(
        b"---\nid: 5\ndate: 2024-13-45\ntitle: Why?\nsubject: Physics\n---\n", "p/why.md"
    )
    assert (article.id, article.date) == (5, None)


def test_a_key_given_twice_is_reported_on_the_line_yaml_keeps() -> None:
    with pytest.raises(ArticleParseError) as caught:
        parse_article(b"---\nid: 1\ntitle: Why?\nsubject: Physics\nid: abc\n---\n", "p/why.md")
    assert caught.value.line == 5
    assert caught.value.reason == "`id` must be an integer, got text 'abc'"

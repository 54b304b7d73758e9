"""Property tests of ``parse_article``: any input is read or cleanly refused, never crashes.

Whatever the bytes or the YAML, ``parse_article`` returns an ``ArticleFile`` whose
required fields have the right types, or raises ``ArticleParseError``; valid
generated articles come back field for field. Every example keeps a deadline, and
every test a hard time limit (``hard_timeout``, also used by ``test_fast.py``), so a
parser that hangs (an alias bomb, a pathological regex) fails the test rather than
stalling the run: Hypothesis judges a deadline only once an example has returned.
"""

from __future__ import annotations

import datetime
import faulthandler
import random
import signal
import string
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kgraph.corpus import parse_article
from kgraph.errors import ArticleParseError
from kgraph.model import INT_MAX, INT_MIN, ArticleFile, RelatedEntry

DEADLINE_MS = 2000
FUZZ = settings(max_examples=300, deadline=DEADLINE_MS)
FEWER = settings(FUZZ, max_examples=150)
#: The most a whole property test may take, all its examples included; the slowest
#: takes a few seconds.
HARD_TIMEOUT_S = 60
# Beyond it, a hang inside C code (where no signal handler runs) ends the run.
_LAST_RESORT_S = 30


class HardTimeout(BaseException):
    """A test ran past its hard time limit.

    Not an ``Exception``, so that neither the code under test nor Hypothesis
    (which would retry the example to shrink it) catches it.
    """


@pytest.fixture
def hard_timeout(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test when it runs longer than ``HARD_TIMEOUT_S`` seconds (or ``request.param``).

    ``SIGALRM`` interrupts the test wherever it hangs in Python, and the failure
    shows where. Should its handler never run (a loop inside C code), the
    ``faulthandler`` watchdog ends the whole run ``_LAST_RESORT_S`` later, with
    exit status 1 and a dump of every thread's stack (captured with the test's
    output unless pytest runs with ``-s``): a failed run, not a hung one.
    """
    if not hasattr(signal, "SIGALRM"):
        yield
        return
    seconds = getattr(request, "param", HARD_TIMEOUT_S)

    def expire(signum: int, frame: object) -> None:
        raise HardTimeout(f"{request.node.nodeid} ran over its hard limit of {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    faulthandler.dump_traceback_later(
        seconds + _LAST_RESORT_S, exit=True, file=sys.__stderr__ or sys.stderr
    )
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        faulthandler.cancel_dump_traceback_later()


pytestmark = pytest.mark.usefixtures("hard_timeout")

# --- strategies ---------------------------------------------------------------------

#: Any text that UTF-8 can encode: unicode, control characters, no lone surrogates.
any_text = st.text(st.characters(codec="utf-8"), max_size=30)
#: Pieces of YAML syntax, glued into front matter that is often almost valid.
yaml_tokens = st.sampled_from(
    [
        *"&*!:[]{}-|>'\"#%@`?,. \t\n\r01aZ_\\",
        "---",
        "\n---\n",
        "\ufeff",
        "\x00",
        "\nid: ",
        "\ntitle: ",
        "\nsubject: ",
        "\nrelated_article1: ",
        "\nscore: ",
        "\ndate: ",
        "\n  ",
        ": ",
        "&a ",
        "*a",
        "<<: ",
        "!!bool ",
        "!!int ",
        "!!float ",
        "!!timestamp ",
        "!!binary ",
        "!!set ",
        "!!omap ",
        "!!python/object ",
        "''",
        "2024-13-45",
        "1e3",
        "99999999999999999999999999999",
    ]
)
yamlish_text = st.lists(yaml_tokens | st.characters(codec="utf-8"), max_size=40).map("".join)

#: Integers far beyond what a float holds (float(10**400) overflows).
huge_ints = st.builds(
    lambda power, sign: sign * 10**power, st.integers(300, 2000), st.sampled_from([1, -1])
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | huge_ints
    | st.floats()
    | st.sampled_from([float("nan"), float("inf"), float("-inf"), -0.0])
    | any_text
    | st.dates()
)
yaml_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4)
    ),
    max_leaves=12,
)
related_values = yaml_values | st.fixed_dictionaries(
    {},
    optional={"id": yaml_values, "title": yaml_values, "subject": yaml_values, "url": yaml_values},
)
#: Front matter shaped like an article: the required keys usually present and
#: usually valid, every field sometimes of a random type, plus stray keys.
article_like = st.builds(
    lambda known, dropped, related, extra: {
        key: value for key, value in (extra | known | related).items() if key not in dropped
    },
    st.fixed_dictionaries(
        {
            "id": st.integers() | st.integers(-20, 20) | yaml_values,
            "title": st.just("Why is the sky blue?") | any_text | yaml_values,
            "subject": st.sampled_from(["Biology", "Computer science", "!!!", " "])
            | st.text(string.printable, max_size=10)
            | yaml_values,
        },
        optional={
            "score": st.floats() | huge_ints | yaml_values,
            "date": st.dates() | st.datetimes() | any_text | yaml_values,
            "no_index": st.booleans() | yaml_values,
            "url": any_text | yaml_values,
            "seo": st.fixed_dictionaries(
                {},
                optional={
                    "page_keywords": st.lists(any_text).map(",".join) | yaml_values,
                    "page_description": yaml_values,
                },
            )
            | yaml_values,
        },
    ),
    st.sets(st.sampled_from(["id", "title", "subject"]), max_size=2),
    st.dictionaries(st.integers(0, 30).map(lambda n: f"related_article{n}"), related_values),
    st.dictionaries(any_text, yaml_values, max_size=3),
)


def front_matter(yaml_text: str) -> bytes:
    return b"---\n" + yaml_text.encode("utf-8") + b"\n---\n\n&nbsp;\n"


def dump(value: object) -> str:
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False)


def parse_or_refuse(data: bytes) -> ArticleFile | None:
    """Parse ``data``; ``None`` when refused. Any other exception fails the test."""
    try:
        return parse_article(data, "fuzz/file.md")
    except ArticleParseError as err:
        refused = err
    assert refused.path == "fuzz/file.md"
    assert refused.reason
    assert refused.line is None or refused.line >= 1
    return None


def check_invariants(parsed: ArticleFile | None) -> None:
    """What every parsed article guarantees, whatever its source."""
    if parsed is None:
        return
    assert type(parsed.id) is int
    assert isinstance(parsed.title, str)
    assert parsed.title.strip()
    assert isinstance(parsed.copy.subject, str)
    assert parsed.copy.subject.strip()
    assert parsed.copy.topic
    ranks = [entry.rank for entry in parsed.copy.related]
    assert ranks == sorted(ranks)
    assert all(entry.id is None or type(entry.id) is int for entry in parsed.copy.related)
    assert parsed.score is None or (
        isinstance(parsed.score, float) and parsed.score == parsed.score
    )
    assert parsed.date is None or isinstance(parsed.date, datetime.date)
    assert isinstance(parsed.no_index, bool)
    folded = [keyword.casefold() for keyword in parsed.keywords]
    assert len(folded) == len(set(folded))


# --- never anything but ArticleFile or ArticleParseError ----------------------------


@FUZZ
@given(st.binary(max_size=400))
def test_arbitrary_bytes(data: bytes) -> None:
    check_invariants(parse_or_refuse(data))


@FUZZ
@given(st.binary(max_size=400))
def test_arbitrary_bytes_between_fences(data: bytes) -> None:
    check_invariants(parse_or_refuse(b"---\n" + data + b"\n---\n"))


@FUZZ
@given(yamlish_text)
def test_arbitrary_text_as_front_matter(text: str) -> None:
    check_invariants(parse_or_refuse(front_matter(text)))


@FEWER
@given(yaml_values)
def test_arbitrary_yaml_as_front_matter(value: Any) -> None:
    check_invariants(parse_or_refuse(front_matter(dump(value))))


@FEWER
@given(article_like)
def test_article_like_yaml_as_front_matter(fields: dict[str, Any]) -> None:
    check_invariants(parse_or_refuse(front_matter(dump(fields))))


@FEWER
@given(article_like, st.sampled_from(["\r\n", "\n\n"]), st.booleans())
def test_article_like_yaml_with_crlf_blank_lines_and_bom(
    fields: dict[str, Any], newline: str, bom: bool
) -> None:
    data = front_matter(dump(fields)).replace(b"\n", newline.encode())
    check_invariants(parse_or_refuse(b"\xef\xbb\xbf" + data if bom else data))


# --- valid articles round-trip ------------------------------------------------------

words = st.text(string.ascii_letters + string.digits + "äÄßéÉ", min_size=1, max_size=8)
phrases = st.lists(words, min_size=1, max_size=3).map(" ".join)
# No U+0085 (NEL): PyYAML's emitter writes it raw inside a quoted scalar, where
# YAML 1.1 reads it as a line break (yaml.safe_dump's round trip, not kgraph's).
titles = st.text(
    st.characters(codec="utf-8", exclude_characters="\x85"), min_size=1, max_size=40
).filter(str.strip)
subjects = st.lists(
    st.text(string.ascii_letters + string.digits, min_size=1, max_size=8)
    | st.sampled_from(["&", "-", "!", "+", "(A)"]),
    min_size=1,
    max_size=4,
).map(" ".join)
related_entries = st.dictionaries(
    st.integers(min_value=1, max_value=40),
    st.tuples(
        st.integers(min_value=-(10**12), max_value=10**12),
        titles,
        subjects,
        st.text(string.ascii_lowercase + "/-", min_size=1, max_size=30),
    ),
    max_size=8,
)


def slug(subject: str) -> str:
    """The topic key CORPUS.md describes, computed another way."""
    kept = "".join(
        c if c in string.ascii_lowercase + string.digits else " " for c in subject.lower()
    )
    return "-".join(kept.split())


def unique_keywords(keywords: list[str]) -> tuple[str, ...]:
    """The keywords CORPUS.md expects: exact repeats dropped only (``TT``, ``Tt``, ``tt`` stay)."""
    return tuple(dict.fromkeys(keywords))


@settings(FUZZ, max_examples=200)
@given(
    article_id=st.integers(INT_MIN, INT_MAX) | st.sampled_from([INT_MIN, INT_MAX]),
    title=titles,
    subject=subjects.filter(slug),
    keywords=st.lists(phrases, max_size=15),
    padding=st.lists(st.sampled_from(["", " ", "  ", "\t"]), min_size=2, max_size=2),
    related=related_entries,
    order=st.randoms(use_true_random=False),
    score=st.none() | st.floats(allow_nan=False, allow_infinity=False),
    date=st.none() | st.dates(),
    no_index=st.booleans(),
)
def test_valid_articles_round_trip(
    article_id: int,
    title: str,
    subject: str,
    keywords: list[str],
    padding: list[str],
    related: dict[int, tuple[int, str, str, str]],
    order: random.Random,
    score: float | None,
    date: datetime.date | None,
    no_index: bool,
) -> None:
    before, after = padding
    fields: dict[str, Any] = {
        "id": article_id,
        "title": title,
        "subject": subject,
        "seo": {
            "page_keywords": ",".join(f"{before}{keyword}{after}" for keyword in keywords),
            "page_description": title,
        },
        "no_index": no_index,
    }
    if score is not None:
        fields["score"] = score
    if date is not None:
        fields["date"] = date
    ranks = list(related)
    order.shuffle(ranks)  # file order is not rank order
    for rank in ranks:
        target, target_title, target_subject, url = related[rank]
        fields[f"related_article{rank}"] = {
            "id": target,
            "title": target_title,
            "subject": target_subject,
            "url": url,
        }

    parsed = parse_article(front_matter(dump(fields)), "round/trip.md")

    assert parsed.id == article_id
    assert parsed.title == title
    assert parsed.description == title
    assert parsed.copy.subject == subject
    assert parsed.copy.topic == slug(subject)
    assert parsed.copy.path == "round/trip.md"
    assert parsed.keywords == unique_keywords(keywords)
    assert parsed.score == score
    assert parsed.date == date
    assert parsed.no_index is no_index
    assert parsed.copy.related == tuple(
        RelatedEntry(
            rank=rank,
            id=target if INT_MIN <= target <= INT_MAX else None,  # outside it: names nothing
            title=t_title,
            subject=t_subject,
            url=url,
        )
        for rank, (target, t_title, t_subject, url) in sorted(related.items())
    )


@settings(FUZZ, max_examples=100)
@given(
    article_id=st.integers(max_value=INT_MIN - 1)
    | st.integers(min_value=INT_MAX + 1)
    | st.integers(min_value=10**30, max_value=10**60)
)
def test_an_id_outside_graphqls_int_is_a_parse_error_on_its_line(article_id: int) -> None:
    data = front_matter(dump({"title": "Why?", "subject": "Physics", "id": article_id}))

    with pytest.raises(ArticleParseError) as caught:
        parse_article(data, "round/trip.md")

    assert caught.value.line == 4
    assert "is out of range" in caught.value.reason


# --- the hard time limit itself -----------------------------------------------------


@settings(deadline=None, database=None)
@given(st.integers())
def _hangs(number: int) -> None:
    while True:  # no example ever returns, so no deadline is ever judged
        time.sleep(0.01)


@pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="needs SIGALRM")
@pytest.mark.parametrize("hard_timeout", [0.5], indirect=True)
def test_the_hard_timeout_ends_a_hanging_property_test() -> None:
    started = time.monotonic()
    with pytest.raises(HardTimeout, match=r"ran over its hard limit of 0\.5 s"):
        _hangs()
    assert time.monotonic() - started < 10

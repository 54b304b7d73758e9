"""Parse one article file (bytes in, :class:`~kgraph.model.ArticleFile` out): pure, no I/O."""

from __future__ import annotations

import datetime
import functools
import math
import re
from collections.abc import Mapping
from typing import Any

import yaml

from kgraph.corpus.frontmatter import split_front_matter
from kgraph.corpus.text import split_keywords, topic_key
from kgraph.errors import ArticleParseError
from kgraph.model import (
    INT_MAX,
    INT_MIN,
    ArticleFile,
    RelatedEntry,
    article_file,
    encode_text,
    in_int_range,
    related_entry,
)

__all__ = [
    "MAX_FILE_BYTES",
    "assemble_article",
    "field_date",
    "field_entry_id",
    "field_rank",
    "field_score",
    "parse_article",
]

#: Files larger than this are refused unread: no article comes near it.
MAX_FILE_BYTES = 1 << 20

_RELATED_KEY = re.compile(r"related_article([0-9]+)\Z")
_YAML_LINE_OFFSET = 2  # the YAML text starts on line 2, after the opening ``---``


class _Loader(yaml.CSafeLoader):
    """The C-accelerated safe loader, with timestamps that cannot fail a file."""

    def construct_lenient_timestamp(self, node: yaml.ScalarNode) -> object:
        """A date or datetime; the text itself when it only looks like one (2024-13-45).

        ``date`` is optional: an impossible one must not cost the whole article.
        """
        try:
            return self.construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_lenient_timestamp)


def _check_no_anchors(source: str, path: str) -> None:
    """Refuse YAML anchors and aliases (the "billion laughs" family).

    An alias needs an anchor, and an anchor needs ``&``: only front matter
    holding ``&`` is scanned, event by event, by the C parser.
    """
    if "&" not in source:
        return
    for event in yaml.parse(source, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            mark = event.start_mark
            line = mark.line + _YAML_LINE_OFFSET if mark is not None else None
            raise ArticleParseError(path, line, "YAML anchors and aliases are not allowed")


def _key_line(source: str, key: str) -> int | None:
    """The file line of top-level ``key:`` in the front matter, if it is there."""
    # The last one: when a key is given twice, YAML keeps the last value.
    matches = list(re.finditer(rf"^{re.escape(key)}[ \t]*:", source, re.MULTILINE))
    if not matches:
        return None
    return source.count("\n", 0, matches[-1].start()) + _YAML_LINE_OFFSET


def _load_yaml(source: str, path: str) -> dict[Any, Any]:
    try:
        _check_no_anchors(source, path)
        data = yaml.load(source, Loader=_Loader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + _YAML_LINE_OFFSET if mark is not None else None
        reason = " ".join(str(err.problem or err.context or "invalid YAML").split())
        if err.context and err.context_mark is not None and err.problem:
            # "did not find expected ',' or ']'" says little without where it began.
            started = err.context_mark.line + _YAML_LINE_OFFSET
            reason += f" ({' '.join(err.context.split())} started on line {started})"
        raise ArticleParseError(path, line, f"invalid YAML front matter: {reason}") from err
    except ArticleParseError:
        raise
    except Exception as err:
        # PyYAML's constructors fail on malformed tagged values with whatever
        # they hit (``!!bool ""`` is a KeyError, ``!!int ""`` an IndexError,
        # ``!!timestamp x`` an AttributeError), and deep nesting can exhaust
        # Python's recursion limit: all of it is this file's bad YAML.
        reason = " ".join(str(err).split()) or type(err).__name__
        raise ArticleParseError(path, None, f"invalid YAML front matter: {reason}") from err
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}, not a mapping"
        raise ArticleParseError(path, 2, f"front matter is {kind}")
    return data


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _required_text(data: Mapping[Any, Any], key: str, source: str, path: str) -> str:
    value = data.get(key)
    if value is None:
        raise ArticleParseError(path, _key_line(source, key), f"`{key}` is missing")
    if not isinstance(value, str) or not value.strip():
        raise ArticleParseError(
            path,
            _key_line(source, key),
            f"`{key}` must be non-empty text, got {_describe(value)}",
        )
    return value


def _describe(value: object) -> str:
    if isinstance(value, str):
        return "empty text" if not value.strip() else f"text {value[:60]!r}"
    return f"{type(value).__name__} {value!r}"[:80]


def _article_id(data: Mapping[Any, Any], source: str, path: str) -> int:
    value = data.get("id")
    if value is None:
        raise ArticleParseError(path, _key_line(source, "id"), "`id` is missing")
    # bool is an int subclass: ``id: true`` is not an id.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ArticleParseError(
            path, _key_line(source, "id"), f"`id` must be an integer, got {_describe(value)}"
        )
    if not in_int_range(value):
        raise ArticleParseError(
            path,
            _key_line(source, "id"),
            f"`id` {_describe_int(value)} is out of range: an id must lie within"
            f" {INT_MIN} … {INT_MAX} (GraphQL's Int, in which the API gives it)",
        )
    return value


def _describe_int(value: int) -> str:
    """``value`` in an error, shortened when long (and never converting a huge one whole)."""
    if value.bit_length() > 200:
        return f"of {'-' if value < 0 else ''}over 60 digits"
    sign, digits = "-" if value < 0 else "", str(abs(value))
    if len(digits) <= 24:
        return f"{sign}{digits}"
    return f"{sign}{digits[:12]}…{digits[-6:]} ({len(digits)} digits)"


def field_entry_id(value: object) -> int | None:
    """A related entry's id; ``None`` when it is none, as for any id no article can have."""
    if isinstance(value, int) and not isinstance(value, bool) and in_int_range(value):
        return value
    return None


def field_rank(digits: str) -> int | None:
    """The ``N`` of ``related_articleN`` from its digits; ``None`` past GraphQL's ``Int``.

    Leading zeros are stripped first: thousands of them are one number, but too
    many digits for ``int()`` (its limit of 4,300).

    >>> field_rank("3"), field_rank("0" * 5000 + "3"), field_rank("2147483648")
    (3, 3, None)
    """
    digits = digits.lstrip("0") or "0"
    if len(digits) > len(str(INT_MAX)):
        return None
    number = int(digits)
    return number if number <= INT_MAX else None


def _score(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        score = float(value)
    except OverflowError:  # an integer too large for a float
        return None
    return score if math.isfinite(score) else None


def _date(value: object) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _related(data: Mapping[Any, Any], source: str, path: str) -> tuple[RelatedEntry, ...]:
    """The ``related_articleN`` entries, ordered by ``N`` (not by file order)."""
    entries: list[RelatedEntry] = []
    for key, value in data.items():
        match = _RELATED_KEY.match(key) if isinstance(key, str) else None
        if match is None or not isinstance(value, dict):
            continue
        rank = field_rank(match.group(1))
        if rank is None:
            raise ArticleParseError(
                path,
                _key_line(source, key),
                f"`{key[:40]}{'…' if len(key) > 40 else ''}`: N is out of range,"
                f" it must be at most {INT_MAX} (GraphQL's Int, in which the API gives it)",
            )
        entries.append(
            related_entry(
                rank,
                field_entry_id(value.get("id")),
                _text(value.get("title")),
                _text(value.get("subject")),
                _text(value.get("url")),
            )
        )
    entries.sort(key=lambda entry: entry.rank)
    return tuple(entries)


def _decode(data: bytes, path: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise ArticleParseError(
            path, line, f"not UTF-8: byte 0x{data[err.start]:02x} at offset {err.start}"
        ) from err
    return text.removeprefix("\ufeff")


def parse_article(data: bytes, path: str) -> ArticleFile:
    """Parse the bytes of one article file.

    Parameters
    ----------
    data : bytes
        The whole file.
    path : str
        Its path relative to the corpus folder, used in errors and kept on the copy.

    Raises
    ------
    ArticleParseError
        When the file is too large, not UTF-8, has no front matter, bad YAML,
        YAML anchors, or an ``id``, ``title`` or ``subject`` that is missing or
        of the wrong type.

    Examples
    --------
    >>> article = parse_article(
    ...     b"---\\nid: 7\\ntitle: Why?\\nsubject: Computer science\\n"
    ...     b"related_article2: {id: 9, url: /b}\\nrelated_article1: {id: 8, url: /a}\\n---\\n",
    ...     "cs/why.md",
    ... )
    >>> article.id, article.copy.topic, [e.rank for e in article.copy.related]
    (7, 'computer-science', [1, 2])
    >>> parse_article(b"id: 7", "x.md")
    Traceback (most recent call last):
    ...
    kgraph.errors.ArticleParseError: x.md:1: no front matter: ...
    """
    if len(data) > MAX_FILE_BYTES:
        raise ArticleParseError(
            path, None, f"file is {len(data):,} bytes, over the {MAX_FILE_BYTES:,}-byte limit"
        )
    text = _decode(data, path)
    parts = split_front_matter(text)
    if parts is None:
        raise ArticleParseError(
            path,
            1,
            "no front matter: the file must start with a '---' line and close it with another",
        )
    source = parts.yaml
    fields = _load_yaml(source, path)
    article_id = _article_id(fields, source, path)
    title = _required_text(fields, "title", source, path)
    subject = _required_text(fields, "subject", source, path)
    topic = topic_key(subject)
    if not topic:
        raise ArticleParseError(
            path, _key_line(source, "subject"), f"`subject` {subject!r} has no letter or digit"
        )
    return assemble_article(
        fields, path, article_id, title, subject, topic, _related(fields, source, path)
    )


@functools.lru_cache(maxsize=4096)
def _shared_date(date: datetime.date | None) -> datetime.date | None:
    """``date`` as one object for every equal date a process reads lately.

    A reading's records cross between processes a batch at a time; equal
    dates that are one object cross as one, and the graph keeps one of each
    (see kgraph.graph.build): the others were freed among the records that
    stay, holes in the heap.
    """
    return date


def field_date(value: object) -> datetime.date | None:
    """The ``date`` field's value as an article keeps it (one object per date)."""
    return _shared_date(_date(value))


def field_score(value: object) -> float | None:
    """The ``score`` field's value as an article keeps it: a finite number, else ``None``."""
    return _score(value)


def assemble_article(
    fields: Mapping[Any, Any],
    path: str,
    article_id: int,
    title: str,
    subject: str,
    topic: str,
    related: tuple[RelatedEntry, ...],
) -> ArticleFile:
    """The :class:`ArticleFile` of checked front-matter fields; both readers end here."""
    seo = fields.get("seo")
    seo = seo if isinstance(seo, dict) else {}
    keywords = _text(seo.get("page_keywords"))
    return article_file(
        article_id,
        title,
        _text(fields.get("question")),
        encode_text(_text(fields.get("answer")) or ""),
        _text(seo.get("page_description")),
        split_keywords(keywords) if keywords else (),
        field_date(fields.get("date")),
        field_score(fields.get("score")),
        fields.get("no_index") is True,
        path,
        _text(fields.get("url")),
        subject,
        topic,
        related,
    )

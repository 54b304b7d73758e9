"""Read the front matter of well-shaped article files without YAML: a line scanner.

The YAML reader (:func:`~kgraph.corpus.parse.parse_article`) spends most of an
ingest in the C YAML loader. Real article files use a small, regular subset of
YAML: top-level ``key: value`` lines, ``>-`` folded scalars, and the ``seo`` and
``related_articleN`` mappings one level down. This module reads exactly that
subset, with libyaml's own folding and PyYAML's own scalar typing, and answers
``None`` for anything else, so that the caller falls back to the YAML reader.
"""

from __future__ import annotations

import datetime
import functools
import re
from operator import itemgetter
from sys import intern

import yaml

# The value rules are shared, not copied, so that both readers agree field for field.
from kgraph.corpus.parse import (
    MAX_FILE_BYTES,
    assemble_article,
    field_date,
    field_entry_id,
    field_rank,
    field_score,
)
from kgraph.corpus.text import split_keywords, topic_key
from kgraph.model import (
    ArticleFile,
    RelatedEntry,
    article_file,
    encode_text,
    in_int_range,
    related_entry,
)

__all__ = ["EntryFields", "FileFields", "parse_article_fast", "parse_fields", "record_of"]

#: A related entry's fields, as :class:`~kgraph.model.RelatedEntry` orders them.
EntryFields = tuple[int, int | None, str | None, str | None, str | None]
#: A file's fields, as :func:`~kgraph.model.article_file` takes them, its entries last
#: (by rank): id, title, question, answer (UTF-8), description, keywords, date,
#: score, no_index, path, url, subject, topic, related entries.
FileFields = tuple[
    int,
    str,
    str | None,
    bytes,
    str | None,
    tuple[str, ...],
    datetime.date | None,
    float | None,
    bool,
    str,
    str | None,
    str,
    str,
    list[EntryFields],
]

# Bytes of the front matter the scanner reads; left over, the ASCII control
# characters (tab and CR among them) that it leaves to YAML.
_SAFE_BYTES = b"\n" + bytes(range(0x20, 0x7F)) + bytes(range(0x80, 0x100))
# Other characters it leaves to YAML: C1 controls (NEL among them), the line and
# paragraph separators, which YAML reads as line breaks, a BOM, which YAML skips
# at the start of a line, and noncharacters.
_UNSAFE_C2 = re.compile(b"\xc2[\x80-\x9f]")
_UNSAFE_CHARS = "\u2028\u2029\ufeff\ufffe\uffff"
# A mapping key and its colon, after the indentation.
_KEY = re.compile(r"( *)([A-Za-z_][A-Za-z0-9_]{0,99}):")
_RELATED_KEY = re.compile(r"related_article[0-9]+\Z")


# A one-line plain scalar that YAML reads as exactly this text: no indicator or
# character the resolver types first (a bool or null word as a whole is refused),
# no ``: `` or `` #``, no colon or spaces at the end.
_TEXT = (
    r"(?!(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE"
    r"|on|On|ON|off|Off|OFF|null|Null|NULL)\n)"
    r"[^-?:,\[\]{}#&*!|>'\"%@`0-9+.~=< \n](?:[^\n :]++|:(?=[^ \n])| ++(?=[^ #\n]))*+"
)
_INT_TEXT = r"-?(?:0|[1-9][0-9]{0,17})"
# The layout the site writes, up to the optional ``score`` and related articles,
# with values of the usual spellings only: one match reads it all.
_HEAD_SHAPE = re.compile(
    rf"_schema: ({_TEXT})\n"
    rf"id: ({_INT_TEXT})\n"
    r"date: ([0-9]{4}-[0-9]{2}-[0-9]{2})\n"
    rf"title: (?:>-\n    ([^ \n][^\n]*)|({_TEXT}))\n"
    rf"article_title: (?:>-\n    ([^ \n][^\n]*)|({_TEXT}))\n"
    rf"date_format: ({_TEXT})\n"
    rf"post_on_text: ({_TEXT})\n"
    r"seo:\n"
    rf"  title: ({_TEXT})\n"
    r"  page_description: >-\n    ([^ \n][^\n]*)\n"
    r"  page_keywords: >-\n    ([^ \n][^\n]*)\n"
    rf"author: ({_TEXT})\n"
    r"question: >-\n    ([^ \n][^\n]*)\n"
    r"answer: >-\n    ([^ \n][^\n]*)\n"
    rf"subject: ({_TEXT})\n"
    rf"file_name: ({_TEXT})\n"
    rf"url: ({_TEXT})\n"
)
_RELATED_LINES = (
    rf"    id: ({_INT_TEXT})\n"
    rf"    title: (?:>-\n        ([^ \n][^\n]*)|({_TEXT}))\n"
    rf"    subject: ({_TEXT})\n"
    rf"    url: ({_TEXT})\n"
)
_RELATED_SHAPE = re.compile(_RELATED_LINES)
# A related article's key and mapping in their usual shape (the key's digits as
# _KEY bounds them: 100 characters in all).
_RELATED_BLOCK = re.compile(rf"related_article([0-9]{{1,85}}):\n{_RELATED_LINES}")
_NESTED_KEYS = frozenset(["seo"])

# A plain scalar may not start with an indicator, except ``-`` before a non-space.
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
# The only spellings of typed scalars the scanner constructs itself; any other
# spelling YAML would type (``yes``, ``0x1F``, ``1_000``, ``1e3``, ``.inf``,
# times) is left to YAML.
_INT = re.compile(r"-?(?:0|[1-9][0-9]{0,17})\Z")
_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]{0,17})\.[0-9]{1,17}\Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}

_TAG = "tag:yaml.org,2002:"
_STR_TAG = _TAG + "str"
# PyYAML's implicit resolvers, by first character: the loader types plain scalars with these.
_WILDCARD: list[tuple[str, re.Pattern[str]]] = list(
    yaml.resolver.Resolver.yaml_implicit_resolvers.get(None) or []
)
_RESOLVERS: dict[str, list[tuple[str, re.Pattern[str]]]] = {
    first: [*(resolvers or []), *_WILDCARD]
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
    if first is not None
}


class _NotUnderstood(Exception):
    """The file leaves the shapes this scanner reads: YAML must read it."""


def _resolve(plain: str) -> str:
    """The tag PyYAML's resolver gives the plain scalar ``plain``."""
    for tag, pattern in _RESOLVERS.get(plain[:1], _WILDCARD):
        if pattern.match(plain):
            return str(tag)
    return _STR_TAG


#: The keys of the format that YAML reads as text (skips resolving them again).
_FORMAT_KEYS = frozenset(
    key
    for key in (
        "_schema id date title article_title date_format post_on_text seo author question"
        " answer subject file_name url score no_index page_description page_keywords"
    ).split()
    if _resolve(key) == _STR_TAG
)


#: First characters of a plain scalar that YAML may type or refuse.
_SPECIAL_FIRST = frozenset(_RESOLVERS) | _INDICATORS


def _plain(text: str) -> object:
    """The value of the plain scalar ``text`` (one line, trimmed of spaces)."""
    first = text[0]
    if first in _INDICATORS and (first != "-" or text[1:2] in ("", " ")):
        raise _NotUnderstood
    # A comment, or a second mapping value on the line (an error in YAML).
    if " #" in text or ": " in text or text.endswith(":"):
        raise _NotUnderstood
    # The spellings the scanner types itself, which the resolver always types so.
    if _INT.match(text):
        return int(text)
    if _DATE.match(text):
        return _date_value(text)
    if _FLOAT.match(text):
        return float(text)
    tag = _resolve(text)
    if tag == _STR_TAG:
        return text
    if tag == _TAG + "bool" and text in _BOOLS:
        return _BOOLS[text]
    raise _NotUnderstood  # a null, or a number, date or bool spelled another way


def _folded(lines: list[str], start: int, parent: int) -> tuple[str, int]:
    """Read the ``>-`` scalar whose content starts at ``lines[start]``, as libyaml folds it.

    ``parent`` is the indentation of its key. Returns the text and the index of
    the first line after it.
    """
    first = lines[start] if start < len(lines) else ""
    content = first.lstrip(" ")
    indent = len(first) - len(content)
    # An empty scalar, or leading blank lines (which move the detected indentation).
    if not content or indent <= parent:
        raise _NotUnderstood
    pad = " " * indent
    following = lines[start + 1] if start + 1 < len(lines) else ""
    if following and not following.startswith(pad) and following.strip(" "):
        return content, start + 1  # one line: the common case
    parts: list[str] = []
    leading_break = ""
    trailing_breaks = 0
    leading_blank = False
    index = start
    for index in range(start, len(lines)):
        line = lines[index]
        if not line.startswith(pad):
            if line.strip(" "):
                break  # less indented: the scalar has ended
            trailing_breaks += 1
            continue
        if len(line) == indent:
            trailing_breaks += 1
            continue
        content = line[indent:]
        trailing_blank = content[0] == " "
        # Fold a break between two lines of normal indentation; keep the others.
        if leading_break and not leading_blank and not trailing_blank:
            if not trailing_breaks:
                parts.append(" ")
        else:
            parts.append(leading_break)
        parts.append("\n" * trailing_breaks)
        trailing_breaks = 0
        leading_blank = trailing_blank
        parts.append(content)
        leading_break = "\n"
    else:
        index = len(lines)
    # ``-`` (strip): the final line break and trailing blank lines are dropped.
    return "".join(parts), index


def _line_end(text: str, pos: int) -> int:
    """The index just past the line that starts at ``pos`` (the text ends with a break)."""
    return text.index("\n", pos) + 1


def _is_blank(text: str, pos: int) -> bool:
    """Tell whether the line at ``pos`` holds nothing but spaces."""
    return not text[pos : _line_end(text, pos) - 1].strip(" ")


def _folded_rest(text: str, start: int, parent: int) -> tuple[str, int]:
    """Read a ``>-`` scalar of several lines, whose content starts at ``start``.

    Returns the text and the index of the line after it.
    """
    # Only the lines up to the next one at the key's indentation or less can
    # belong to it: splitting no further keeps a file of many scalars linear.
    ending = re.compile(rf"^ {{0,{parent}}}[^ \n]", re.MULTILINE).search(text, start)
    stop = len(text) if ending is None else ending.start()
    lines = text[start:stop].split("\n")
    value, consumed = _folded(lines, 0, parent)
    if consumed == len(lines):
        return value, stop
    return value, start + sum(len(line) + 1 for line in lines[:consumed])


def _scalar(plain: str) -> object:
    """The value of a one-line plain scalar, trimmed of its spaces."""
    if plain[0] in _SPECIAL_FIRST:
        return _plain(plain)
    # A comment, or a second mapping value on the line (an error in YAML).
    if " #" in plain or ": " in plain or plain[-1] == ":":
        raise _NotUnderstood
    return plain


def _date_value(text: str) -> object:
    """A ``YYYY-MM-DD`` plain scalar as the reference loader reads it."""
    try:
        return datetime.date(int(text[:4]), int(text[5:7]), int(text[8:]))
    except ValueError:
        return text  # it keeps an impossible date as its text


@functools.lru_cache(maxsize=4096)
def _usual_date(text: str) -> datetime.date | None:
    """The value of a ``date: YYYY-MM-DD`` line as an article keeps it; files repeat
    their dates, so each is worked out once lately (a microsecond a file otherwise)."""
    return field_date(_date_value(text))


# Files repeat their subjects: each one's key is worked out once lately.
_usual_topic_key = functools.lru_cache(maxsize=1024)(topic_key)


def _head(text: str) -> tuple[dict[str, object], int] | None:
    """Read the usual first lines of the front matter in one match, or ``None``."""
    match = _HEAD_SHAPE.match(text)
    if match is None:
        return None
    (schema, article_id, date, title, title_plain, article_title, article_title_plain,
     date_format, post_on_text, seo_title, description, keywords, author, question,
     answer, subject, file_name, url) = match.groups()  # fmt: skip
    fields: dict[str, object] = {
        "_schema": schema,
        "id": int(article_id),
        "date": _date_value(date),
        "title": title or title_plain,
        "article_title": article_title or article_title_plain,
        "date_format": date_format,
        "post_on_text": post_on_text,
        "seo": {"title": seo_title, "page_description": description, "page_keywords": keywords},
        "author": author,
        "question": question,
        "answer": answer,
        "subject": subject,
        "file_name": file_name,
        "url": url,
    }
    return fields, match.end()


def _shaped_block(text: str, pos: int, key: str) -> tuple[dict[str, object], int] | None:
    """Read a related article's mapping at ``pos`` in one match when it has its usual shape.

    ``None`` when it has not: the line scanner reads it then.
    """
    if not key.startswith("related_article"):
        return None
    match = _RELATED_SHAPE.match(text, pos)
    if match is None:
        return None
    after = match.end()
    if after < len(text) and (text[after] == " " or text[after] == "\n"):
        return None  # the mapping may go on: the scanner reads it whole
    article_id, title, title_plain, subject, url = match.groups()
    entry = {"id": int(article_id), "title": title or title_plain, "subject": subject, "url": url}
    return entry, after


def _folded_line(text: str, start: int, parent: int) -> tuple[str, int]:
    """Read the ``>-`` scalar whose content starts at ``start``, under a key at ``parent``.

    Returns the text and the index of the line after it.
    """
    end = text.find("\n", start)
    content = text[start:end].lstrip(" ")
    indent = end - start - len(content)
    # No content (an empty scalar), or leading blank lines, which YAML reads differently.
    if end < 0 or not content or indent <= parent:
        raise _NotUnderstood
    pos = end + 1
    if pos < len(text) and (
        text[pos] == "\n"
        or (text[pos] == " " and (text.startswith(" " * indent, pos) or _is_blank(text, pos)))
    ):
        return _folded_rest(text, start, parent)
    return content, pos  # one line: the common case


def _mapping(
    text: str, pos: int, indent: int, mapping: dict[str, object] | None = None
) -> tuple[dict[str, object], int]:
    """Read the block mapping whose keys sit at ``indent``, from ``text[pos]`` on.

    ``mapping`` holds the entries already read before ``pos``. Returns the
    mapping and the index of the first line after it.
    """
    if mapping is None:
        mapping = {}
    end = len(text)
    while pos < end:
        match = _KEY.match(text, pos)
        if match is None or len(match.group(1)) != indent:
            if indent and text[pos] != " " and text[pos] != "\n":
                break  # back at the top level: this mapping has ended
            if not _is_blank(text, pos):
                raise _NotUnderstood  # a continuation line, a comment, a sequence, ...
            pos = _line_end(text, pos)
            continue
        key = match.group(2)
        if key in mapping or (
            key[0] in _RESOLVERS and key not in _FORMAT_KEYS and _resolve(key) != _STR_TAG
        ):
            raise _NotUnderstood
        colon = match.end()
        pos = text.index("\n", colon) + 1
        plain = text[colon : pos - 1]
        if plain:
            if plain[0] != " ":
                raise _NotUnderstood  # ``key:value`` is no mapping entry
            plain = plain.strip(" ")
        value: object
        if plain == ">-":
            value, pos = _folded_line(text, pos, indent)
        elif plain:
            value = _scalar(plain)
        elif not indent and (shaped := _shaped_block(text, pos, key)) is not None:
            value, pos = shaped
        else:
            while pos < end and _is_blank(text, pos):
                pos = _line_end(text, pos)
            nested = _indent(text[pos : _line_end(text, pos)]) if pos < end else 0
            if nested <= indent:
                value = None  # ``key:`` alone is a null
            elif indent or not (key in _NESTED_KEYS or _RELATED_KEY.match(key)):
                raise _NotUnderstood
            else:
                value, pos = _mapping(text, pos, nested)
        mapping[key] = value
    return mapping, pos


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _checked_text(source: bytes) -> str:
    """The front matter ``source`` (UTF-8) as text, when it holds no character left to YAML."""
    if source.translate(None, _SAFE_BYTES) or (b"\xc2" in source and _UNSAFE_C2.search(source)):
        raise _NotUnderstood
    text = source.decode("utf-8")
    if not text.isascii() and any(char in text for char in _UNSAFE_CHARS):
        raise _NotUnderstood
    return text


def _fields(text: str) -> dict[str, object]:
    """The top-level mapping of the front matter ``text`` (see :func:`_checked_text`)."""
    head = _head(text)
    fields, _ = _mapping(text, 0, 0) if head is None else _mapping(text, head[1], 0, head[0])
    if not fields:
        raise _NotUnderstood
    return fields


def parse_article_fast(data: bytes, path: str) -> ArticleFile | None:
    """Parse one article file without YAML, or answer ``None`` when unsure.

    Returns what :func:`~kgraph.corpus.parse.parse_article` returns for files
    in the plain shape of the corpus format; ``None`` for every other file,
    readable or not, which the caller must then give to ``parse_article``.
    Never raises.

    Examples
    --------
    >>> data = (
    ...     b"---\\nid: 7\\ntitle: >-\\n    Why is\\n    the sky blue?\\nsubject: Physics\\n"
    ...     b"related_article1:\\n    id: 8\\n    url: /learn/physics/questions/light\\n---\\n"
    ... )
    >>> article = parse_article_fast(data, "physics/sky.md")
    >>> article.title, article.copy.topic, article.copy.related[0].id
    ('Why is the sky blue?', 'physics', 8)
    >>> parse_article_fast(data.replace(b"Physics", b"'Physics'"), "physics/sky.md") is None
    True
    """
    parsed = parse_fields(data, path)
    return record_of(parsed) if isinstance(parsed, tuple) else parsed


def parse_fields(data: bytes, path: str) -> FileFields | ArticleFile | None:
    """As :func:`parse_article_fast`, but a file in the site's own layout (most files) as
    its fields, no record made: a corpus's reading writes those into columns."""
    if len(data) > MAX_FILE_BYTES or not data.startswith(b"---\n"):
        return None
    # The closing fence: the first line that starts with ``---`` must be exactly that.
    end = data.find(b"\n---", 3)
    if end < 0 or data[end + 4 : end + 5] not in (b"\n", b""):
        return None
    try:
        data[end:].decode("utf-8")  # the YAML reader refuses a body that is not UTF-8 too
        text = _checked_text(data[4 : end + 1])
        usual = _usual(text, path)
        if usual is not None:
            return usual
        fields = _fields(text)
    except (_NotUnderstood, UnicodeDecodeError):
        return None
    return _article(fields, path)


def _usual(text: str, path: str) -> FileFields | None:
    """The article of front matter in the site's own layout, read in a few matches.

    The layout: :data:`_HEAD_SHAPE`'s lines, an optional ``score`` line, then
    related articles in :data:`_RELATED_SHAPE`'s shape, and nothing else (95 %
    of the dev corpus's files, the generated corpora's every file). The record
    is made from the matches themselves, without the mapping that
    :func:`_fields` makes of any front matter: what :func:`_article` would
    make of that mapping. ``None`` for anything else, which :func:`_fields`
    reads then, and for an article :func:`_article` refuses, whose refusal
    it repeats.
    """
    match = _HEAD_SHAPE.match(text)
    if match is None:
        return None
    pos, end = match.end(), len(text)
    score = None
    if text.startswith("score: ", pos):
        stop = text.index("\n", pos)
        plain = text[pos + 7 : stop]
        if not plain or plain != plain.strip(" ") or plain == ">-":
            return None
        score = field_score(_scalar(plain))
        pos = stop + 1
    entries: list[EntryFields] = []
    ranks: set[str] = set()
    while pos < end:
        block = _RELATED_BLOCK.match(text, pos)
        if block is None:
            return None
        pos = block.end()
        if pos < end and (text[pos] == " " or text[pos] == "\n"):
            return None  # the mapping may go on
        rank, article_id, title, title_plain, subject, url = block.groups()
        if rank in ranks:
            return None  # a key given twice
        ranks.add(rank)
        number, entry_id = int(rank), int(article_id)
        if not (in_int_range(number) and in_int_range(entry_id)):
            return None
        entries.append((number, entry_id, title or title_plain, subject, url))
    (_schema, article_id, date, title, title_plain, _article_title, _article_title_plain,
     _date_format, _post_on_text, _seo_title, description, keywords, _author, question,
     answer, subject, _file_name, url) = match.groups()  # fmt: skip
    title = title or title_plain
    topic = _usual_topic_key(subject)
    if not title.strip() or not subject.strip() or not topic:
        return None
    article_number = int(article_id)
    if not in_int_range(article_number):
        return None
    entries.sort(key=itemgetter(0))
    # What assemble_article makes of the same fields (no ``no_index`` here).
    return (
        article_number,
        title,
        question,
        encode_text(answer),
        description,
        split_keywords(keywords),
        _usual_date(date),
        score,
        False,
        path,
        url,
        subject,
        topic,
        entries,
    )


def record_of(fields: FileFields) -> ArticleFile:
    """The record of a file's fields (see :data:`FileFields`)."""
    return article_file(*fields[:13], tuple(related_entry(*entry) for entry in fields[13]))


def _article(fields: dict[str, object], path: str) -> ArticleFile | None:
    """The article the fields describe; ``None`` where the YAML reader would refuse it."""
    article_id = fields.get("id")
    title = fields.get("title")
    subject = fields.get("subject")
    if type(article_id) is not int or not in_int_range(article_id):  # bool is not an id
        return None
    if not isinstance(title, str) or not title.strip():
        return None
    if not isinstance(subject, str) or not subject.strip():
        return None
    topic = topic_key(subject)
    related = _related_entries(fields)
    if not topic or related is None:
        return None
    return assemble_article(fields, path, article_id, title, subject, topic, related)


def _related_entries(fields: dict[str, object]) -> tuple[RelatedEntry, ...] | None:
    """The ``related_articleN`` entries, ordered by ``N``, as the YAML reader gives them;
    ``None`` for an ``N`` it refuses (out of range)."""
    entries: list[RelatedEntry] = []
    for key, value in fields.items():
        if key[:15] == "related_article" and isinstance(value, dict):
            rank = key[15:]
            if not rank.isdigit():  # the key is ASCII: digits are 0-9
                continue
            number = field_rank(rank)
            if number is None:
                return None  # the YAML reader refuses it, and says why
            title = value.get("title")
            subject = value.get("subject")
            url = value.get("url")
            entries.append(
                RelatedEntry(
                    rank=number,
                    id=field_entry_id(value.get("id")),
                    title=intern(title) if isinstance(title, str) else None,
                    subject=intern(subject) if isinstance(subject, str) else None,
                    url=intern(url) if isinstance(url, str) else None,
                )
            )
    entries.sort(key=_rank)
    return tuple(entries)


def _rank(entry: RelatedEntry) -> int:
    return entry.rank

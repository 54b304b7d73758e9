"""The answers of repeated queries, kept per graph version; ETags and 304s for GET.

A graph never changes once served (a reload serves a new one, with a new
version), so a query's answer depends only on the graph, the query text, the
operation name and the variables. Frontends send a handful of query texts with
a few variables over and over: the first request takes strawberry's whole
pipeline (parsing, validation, the protections, execution, masking), and the
same request again is answered with the bytes it got, which is what lets a
repeated ``article`` query come near a bare route's throughput without a
second executor beside strawberry's.

Kept: answers of queries (not subscriptions, nor mutations if any come) that
are 200 and hold no error (errors go through the pipeline each time, logged
and masked as on the first) nor a result cut short by a time bound (a
resolver says so with :data:`PARTIAL_KEY`), at most :data:`MAX_ANSWER_BYTES` each and
:data:`MAX_CACHE_BYTES` together, the least recently used dropped first. The
graph's version and its reload error (``stats`` tells it) make a generation:
the first request of a new one empties the cache.

A GET answer carries a weak ``ETag`` (of its JSON, whatever the compression)
and ``Cache-Control: no-cache`` (a cache may keep it but must ask again,
answered 304 while it is unchanged); ``If-None-Match`` with that tag gets 304.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kgraph.api.media import GRAPHQL_RESPONSE, JSON, media_type
from kgraph.scope import BODY_KEY, PARTIAL_KEY, SCOPE_KEY

__all__ = [
    "CACHE_CONTROL",
    "MAX_ANSWER_BYTES",
    "MAX_CACHE_BYTES",
    "PARTIAL_KEY",
    "REQUEST_KEY",
    "Answer",
    "Answers",
    "GraphQLRequest",
    "ResponseCache",
    "etag_matches",
    "request_of",
]

#: All kept answers together (with their keys).
MAX_CACHE_BYTES = 64 * 1024 * 1024
#: Larger answers are not kept: a topic graph of 500 articles is ~170 kB; the
#: costliest answers the cost limit allows (a few MB) are rare and would push
#: out hundreds of others.
MAX_ANSWER_BYTES = 4 * 1024 * 1024
#: Stored by anyone, but checked again before each use: a reload may change it.
CACHE_CONTROL = b"no-cache"
#: Where :func:`request_of` keeps the request it read, in the request's ASGI scope.
REQUEST_KEY = "kgraph.request"
#: The media types of GraphQL answers (kgraph.api.media), which are kept.
_GRAPHQL_MEDIA = frozenset({JSON.encode(), GRAPHQL_RESPONSE.encode()})
#: What a key costs besides its variables (tuple, hash text, bookkeeping), roughly.
_KEY_BYTES = 200


@dataclass(frozen=True, slots=True)
class GraphQLRequest:
    """What a GraphQL request over HTTP asks: a query text, an operation, its variables."""

    query: str
    operation_name: str | None
    variables: dict[str, Any] | None
    extensions: dict[str, Any] | None

    def key(self) -> tuple[str, str | None, str]:
        """The cache key: the query's SHA-256, the operation's name, the variables as JSON."""
        text = hashlib.sha256(self.query.encode("utf-8", "surrogatepass")).hexdigest()
        variables = json.dumps(self.variables or {}, sort_keys=True, separators=(",", ":"))
        return text, self.operation_name, variables


def request_of(scope: Scope) -> GraphQLRequest | None:
    """The GraphQL request of ``scope``, when it has the shape strawberry answers.

    ``None`` for anything else (no query, values of the wrong type, a form
    strawberry refuses): strawberry answers those. Read once, then kept in the
    scope (at :data:`REQUEST_KEY`).

    >>> scope = {"method": "GET", "query_string": b"query=%7B+stats+%7B+files+%7D+%7D"}
    >>> request_of(scope).query
    '{ stats { files } }'
    """
    if REQUEST_KEY in scope:
        known: GraphQLRequest | None = scope[REQUEST_KEY]
        return known
    request = _read(scope)
    scope[REQUEST_KEY] = request
    return request


def _read(scope: Scope) -> GraphQLRequest | None:
    if scope["method"] == "POST":
        body = scope.get(BODY_KEY)  # the JSON object the guard checked
        if not isinstance(body, dict):
            return None
        query, name = body.get("query"), body.get("operationName")
        variables, extensions = body.get("variables"), body.get("extensions")
    elif scope["method"] == "GET":
        try:
            parameters = parse_qs(scope.get("query_string", b"").decode(), errors="strict")
        except UnicodeDecodeError:
            return None
        if any(len(values) > 1 for values in parameters.values()):
            return None
        given = {name: values[0] for name, values in parameters.items()}
        query, name = given.get("query"), given.get("operationName")
        try:
            # The guard checked both as JSON already.
            variables = json.loads(given["variables"]) if "variables" in given else None
            extensions = json.loads(given["extensions"]) if "extensions" in given else None
        except ValueError:
            return None
    else:
        return None
    if (
        not isinstance(query, str | None)
        or not isinstance(name, str | None)
        or not isinstance(variables, dict | None)
        or not isinstance(extensions, dict | None)
    ):
        return None
    if query is None and extensions is None:
        return None
    return GraphQLRequest(query or "", name, variables, extensions)


@dataclass(frozen=True, slots=True)
class Answer:
    """A kept answer: its status line's headers, its JSON, its tag, the operation's note."""

    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    etag: bytes
    note: dict[str, Any]

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + _KEY_BYTES


def etag_of(body: bytes) -> bytes:
    """A weak entity tag of ``body`` (weak: gzip changes the bytes, not the answer).

    >>> etag_of(b'{"data":{}}')
    b'W/"4e5d1861ac6f76ebfa86008527a188bb"'
    """
    return b'W/"' + hashlib.blake2b(body, digest_size=16).hexdigest().encode() + b'"'


def etag_matches(if_none_match: bytes, etag: bytes) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (compared weakly, as RFC 9110 asks).

    >>> etag_matches(b'"x", W/"abc"', b'W/"abc"'), etag_matches(b"*", b'W/"abc"')
    (True, True)
    >>> etag_matches(b'"abd"', b'W/"abc"')
    False
    """
    if if_none_match.strip() == b"*":
        return True
    wanted = etag.removeprefix(b"W/")
    return any(tag.strip().removeprefix(b"W/") == wanted for tag in if_none_match.split(b","))


def _key_bytes(key: Hashable) -> int:
    """What the texts of a key take (its variables can be as long as a body)."""
    parts = key if isinstance(key, tuple) else (key,)
    return sum(len(part) for part in parts if isinstance(part, str))


class Answers:
    """Answers by key, of one generation at a time, within a budget of bytes (keys counted)."""

    def __init__(self, budget: int = MAX_CACHE_BYTES, largest: int = MAX_ANSWER_BYTES) -> None:
        self.budget = budget
        self.largest = largest
        self.size = 0
        self.generation: Hashable = None
        self.hits = 0
        # In order of last use: the first is the next to go; each with its size.
        self._answers: OrderedDict[Hashable, tuple[Answer, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, generation: Hashable, key: Hashable) -> Answer | None:
        """The answer kept for ``key``; a new ``generation`` empties the cache first."""
        if generation != self.generation:
            self._answers.clear()
            self.size = 0
            self.generation = generation
            return None
        kept = self._answers.get(key)
        if kept is None:
            return None
        self._answers.move_to_end(key)
        self.hits += 1
        return kept[0]

    def put(self, generation: Hashable, key: Hashable, answer: Answer) -> None:
        """Keep ``answer``, unless it is too large or of a generation no longer served."""
        size = answer.size + _key_bytes(key)
        too_large = size > min(self.largest, self.budget)
        if generation != self.generation or too_large or key in self._answers:
            return
        while self._answers and self.size + size > self.budget:
            _, (_, oldest) = self._answers.popitem(last=False)
            self.size -= oldest
        self._answers[key] = (answer, size)
        self.size += size


class ResponseCache:
    """ASGI: answer repeated GraphQL queries from :class:`Answers`; tag and revalidate GETs.

    In front of strawberry's view, behind the guard (which checked and decoded
    the body). ``generation`` tells what the answers of this moment depend on
    besides the request (the graph's version…); ``None``: nothing is served,
    nothing kept.
    """

    def __init__(
        self,
        app: ASGIApp,
        generation: Callable[[], Hashable | None],
        answers: Answers | None = None,
    ) -> None:
        self.app = app
        self.generation = generation
        self.answers = answers if answers is not None else Answers()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = request_of(scope) if scope["type"] == "http" else None
        generation = self.generation() if request is not None else None
        if request is None or generation is None:
            await self.app(scope, receive, send)
            return
        accept = next((v for k, v in scope["headers"] if k.lower() == b"accept"), b"")
        # The same request is answered in either media type (kgraph.api.media).
        key = (*request.key(), media_type(accept.decode("latin-1")))
        get = scope["method"] == "GET"
        answer = self.answers.get(generation, key)
        if answer is not None:
            scope[SCOPE_KEY] = answer.note
            await _answer(scope, send, answer, get)
            return
        kept = _Keeper(scope, send, get)
        await self.app(scope, receive, kept.send)
        if kept.answer is not None:
            self.answers.put(generation, key, kept.answer)


class _Keeper:
    """The view's response on its way out: a keepable one is held whole, kept, then sent."""

    def __init__(self, scope: Scope, send: Send, get: bool) -> None:
        self.scope = scope
        self._send = send
        self.get = get
        self.start: Message | None = None
        self.body = bytearray()
        self.answer: Answer | None = None

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            note = self.scope.get(SCOPE_KEY) or {}
            headers = {key.lower(): value for key, value in message.get("headers", ())}
            if (
                message["status"] == 200
                and note.get("query") is True
                and not note.get("errors")
                and not self.scope.get(PARTIAL_KEY)
                and headers.get(b"content-type", b"").split(b";")[0] in _GRAPHQL_MEDIA
            ):
                self.start = message  # held back until the body is complete
                return
        elif message["type"] == "http.response.body" and self.start is not None:
            self.body += message.get("body", b"")
            if len(self.body) > MAX_ANSWER_BYTES:  # not kept: sent as it comes
                start, self.start = self.start, None
                await self._send(start)
                await self._send({**message, "body": bytes(self.body)})
                return
            if message.get("more_body", False):
                return
            body = bytes(self.body)
            self.answer = Answer(
                headers=tuple(
                    (key, value)
                    for key, value in self.start.get("headers", ())
                    if key.lower() != b"content-length"
                ),
                body=body,
                etag=etag_of(body),
                note=dict(self.scope.get(SCOPE_KEY) or {}),
            )
            await _answer(self.scope, self._send, self.answer, self.get)
            return
        await self._send(message)


async def _answer(scope: Scope, send: Send, answer: Answer, get: bool) -> None:
    """Send ``answer``: for a GET, with its tag, or 304 when the client has it already."""
    headers = list(answer.headers)
    status, body = 200, answer.body
    if get:
        headers += [(b"etag", answer.etag), (b"cache-control", CACHE_CONTROL)]
        for name, value in scope["headers"]:
            if name.lower() == b"if-none-match" and etag_matches(value, answer.etag):
                status, body = 304, b""
                headers = [(k, v) for k, v in headers if k.lower() != b"content-type"]
                break
    if status == 200:
        headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

"""Automatic persisted queries, as Apollo's clients send them: a query by its SHA-256.

A client sends ``extensions: {"persistedQuery": {"version": 1, "sha256Hash": H}}``
without the query text; the server answers with the query it knows by ``H``,
or with a ``PERSISTED_QUERY_NOT_FOUND`` error, upon which the client sends the
text with its hash once, and the server keeps it (having checked the hash). A
GET of a known query is then a short URL, which nginx or a CDN can cache like
any other (see :mod:`kgraph.api.cache` for its ``ETag``).

The texts are kept in memory, per process, at most :data:`MAX_PERSISTED_BYTES`
of them, the least recently used dropped first: a client whose hash is gone
sends the text again, as after a restart.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kgraph.api.cache import REQUEST_KEY, GraphQLRequest, request_of
from kgraph.api.errors import PERSISTED_QUERY_NOT_FOUND, refusal
from kgraph.api.media import JSON, media_type
from kgraph.scope import BODY_KEY

__all__ = ["MAX_PERSISTED_BYTES", "NOT_FOUND", "PersistedQueries", "QueryTexts", "sha256_of"]

#: All the kept query texts together; frontends have a few dozen of a few hundred bytes.
MAX_PERSISTED_BYTES = 4 * 1024 * 1024
#: What an entry takes besides its texts, roughly.
_ENTRY_BYTES = 100
#: The error Apollo's clients wait for to send the text (they read its message or code).
NOT_FOUND = {
    "message": "PersistedQueryNotFound",
    "extensions": {"code": PERSISTED_QUERY_NOT_FOUND},
}


def sha256_of(query: str) -> str:
    """The hex SHA-256 of a query text's UTF-8, as the protocol hashes it.

    >>> sha256_of("{ stats { files } }")[:16]
    '3a874666cc62ef58'
    """
    return hashlib.sha256(query.encode("utf-8", "surrogatepass")).hexdigest()


class QueryTexts:
    """Query texts by their SHA-256, within a budget of characters (keys counted)."""

    def __init__(self, budget: int = MAX_PERSISTED_BYTES) -> None:
        self.budget = budget
        self.size = 0
        # In order of last use: the first is the next to go.
        self._texts: OrderedDict[str, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._texts)

    def get(self, sha256: str) -> str | None:
        text = self._texts.get(sha256)
        if text is not None:
            self._texts.move_to_end(sha256)
        return text

    def add(self, sha256: str, text: str) -> None:
        """Keep ``text`` as the query of ``sha256`` (which the caller checked)."""
        size = _size(sha256, text)
        if sha256 in self._texts or size > self.budget:
            return
        while self._texts and self.size + size > self.budget:
            oldest = self._texts.popitem(last=False)
            self.size -= _size(*oldest)
        self._texts[sha256] = text
        self.size += size


def _size(sha256: str, text: str) -> int:
    """What a kept text takes, roughly: its key and bookkeeping count (texts can be tiny)."""
    return len(sha256) + len(text) + _ENTRY_BYTES


class _Refused(Exception):
    """A persisted query the request names wrongly: answered 400 with this message."""


def _hash(persisted: object) -> str:
    """The ``sha256Hash`` of an ``extensions.persistedQuery`` value, checked."""
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise _Refused("extensions.persistedQuery must be {version: 1, sha256Hash: …}")
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or len(sha256) != 64:
        raise _Refused("extensions.persistedQuery.sha256Hash must be 64 hex digits")
    return sha256.lower()


class PersistedQueries:
    """ASGI: fill in the query text of a request that names it by hash; keep texts sent with one.

    In front of the response cache and strawberry's view, which then see the
    request as if the client had sent the text.
    """

    def __init__(self, app: ASGIApp, texts: QueryTexts | None = None) -> None:
        self.app = app
        self.texts = texts if texts is not None else QueryTexts()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = request_of(scope) if scope["type"] == "http" else None
        extensions = request.extensions if request is not None else None
        if request is None or extensions is None or "persistedQuery" not in extensions:
            await self.app(scope, receive, send)
            return
        try:
            sha256 = _hash(extensions["persistedQuery"])
        except _Refused as err:
            await _error(scope, receive, send, 400, {"message": str(err)})
            return
        if request.query:
            if sha256_of(request.query) != sha256:
                await _error(
                    scope, receive, send, 400, {"message": "provided sha does not match query"}
                )
                return
            self.texts.add(sha256, request.query)
            await self.app(scope, receive, send)
            return
        text = self.texts.get(sha256)
        if text is None:
            await _error(scope, receive, send, 200, NOT_FOUND)
            return
        await self.app(scope, _with_query(scope, replace(request, query=text), receive), send)


def _with_query(scope: Scope, request: GraphQLRequest, receive: Receive) -> Receive:
    """Make ``request`` (its query filled in) the request of ``scope``, in place; its receive.

    In place: the schema notes the operation in this very scope for metrics.
    """
    scope[REQUEST_KEY] = request
    text = request.query
    if scope["method"] == "GET":
        parameters = [
            (name, value)
            for name, value in parse_qsl(scope.get("query_string", b"").decode())
            if name != "query"
        ]
        scope["query_string"] = urlencode([("query", text), *parameters]).encode()
        return receive
    body: dict[str, Any] = {**scope[BODY_KEY], "query": text}
    scope[BODY_KEY] = body
    content = json.dumps(body).encode()
    scope["headers"] = [
        *((k, v) for k, v in scope["headers"] if k.lower() != b"content-length"),
        (b"content-length", str(len(content)).encode()),
    ]
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            await receive()  # the body as the client sent it
            return {"type": "http.request", "body": content, "more_body": False}
        return await receive()

    return replay


async def _error(
    scope: Scope, receive: Receive, send: Send, status: int, error: dict[str, Any]
) -> None:
    body = refusal(status, error["message"]) if status >= 400 else {"errors": [error]}
    # A refusal is JSON; an answer (200) takes the type the client accepts, as the view's do.
    accept = next((v for k, v in scope["headers"] if k.lower() == b"accept"), b"")
    media = media_type(accept.decode("latin-1")) if status < 400 else JSON
    await JSONResponse(body, status_code=status, media_type=media)(scope, receive, send)

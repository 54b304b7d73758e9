"""An ASGI guard in front of ``/graphql``: requests the GraphQL layer can parse, or a 4xx.

POST bodies must be JSON objects (415 otherwise), at most 64 KiB (413; a query
string at most 16 KiB, 414), UTF-8,
nested at most :data:`MAX_NESTING` deep and free of numbers too long to convert
(400); GET parameters ``variables`` and ``extensions`` follow the same JSON rules.
Anything else would reach the JSON decoder of the GraphQL layer and fail there
with a server error.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kgraph import budget
from kgraph.api.errors import DEADLINE_EXCEEDED, refusal
from kgraph.api.media import JSON, media_type
from kgraph.scope import BODY_KEY, PARTIAL_KEY

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_NESTING",
    "MAX_QUERY_STRING_BYTES",
    "Deadline",
    "RequestGuard",
    "check_json",
    "check_query",
]

MAX_BODY_BYTES = 64 * 1024
#: GET carries a query of at most 2,000 tokens: this is room enough.
MAX_QUERY_STRING_BYTES = 16 * 1024
#: Lists and objects inside one another; GraphQL variables never come near it.
MAX_NESTING = 32
# Python converts at most 4,300 digits to an int (CVE-2020-10735): longer
# numbers, in JSON or in a query, are refused before they are converted.
_LONG_NUMBER = re.compile(rb"[0-9]{4300}")


class BadRequest(Exception):
    """A request refused with 400 and this message."""


def _nesting(value: Any) -> int:
    """How deep lists and objects nest in a parsed JSON value (iteratively)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_NESTING:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def check_json(data: bytes, what: str) -> Any:
    """The JSON value of ``data``, or :class:`BadRequest` saying what to change.

    >>> check_json(b'{"query": "{ stats { files } }"}', "the body")
    {'query': '{ stats { files } }'}
    >>> check_json(b"[" * 100 + b"]" * 100, "the body")
    Traceback (most recent call last):
    kgraph.middleware.guard.BadRequest: the body nests lists or objects over 32 deep
    """
    if _LONG_NUMBER.search(data):
        raise BadRequest(f"{what} holds a number of over 4,300 digits")
    try:
        value = json.loads(data)
    except RecursionError:
        raise BadRequest(f"{what} nests lists or objects over {MAX_NESTING} deep") from None
    except UnicodeDecodeError:
        raise BadRequest(f"{what} is not UTF-8") from None
    except ValueError as err:
        raise BadRequest(f"{what} is not valid JSON: {err}") from None
    if _nesting(value) > MAX_NESTING:
        raise BadRequest(f"{what} nests lists or objects over {MAX_NESTING} deep")
    return value


def _check_body(body: bytes) -> dict[str, Any]:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8") from None
    value = check_json(body, "the body")
    if not isinstance(value, dict):
        raise BadRequest('the body must be a JSON object: {"query": "…", "variables": {…}}')
    check_query(value.get("query"))
    return value


def check_query(query: object) -> None:
    """Refuse a query text holding a number too long to convert (JSON escapes may hide one).

    >>> check_query("{ article(id: " + "1" * 5000 + ") { id } }")
    Traceback (most recent call last):
    kgraph.middleware.guard.BadRequest: the query holds a number of over 4,300 digits
    """
    if isinstance(query, str) and _LONG_NUMBER.search(query.encode("utf-8", "replace")):
        raise BadRequest("the query holds a number of over 4,300 digits")


def _check_query_string(raw: bytes) -> None:
    try:
        text = raw.decode("utf-8")
        parameters = parse_qs(text, errors="strict")
    except UnicodeDecodeError:
        raise BadRequest(
            "the query string is not UTF-8: percent-encode the UTF-8 bytes of each parameter"
        ) from None
    for name in ("variables", "extensions"):
        for value in parameters.get(name, ()):
            check_json(value.encode(), f"the {name} parameter")
    for query in parameters.get("query", ()):
        check_query(query)


class RequestGuard:
    """Refuse requests to ``path`` that the GraphQL layer cannot parse safely; bound the rest.

    A declared ``Content-Length`` over the limit is refused unread; a chunked
    body is counted as it streams, and must arrive within ``body_timeout``
    seconds (408). The accepted body is replayed to the app (its JSON object
    left in the scope at :data:`BODY_KEY`); the work behind runs within a
    :class:`Deadline`. Error answers of the GraphQL layer that are plain text
    become JSON.
    """

    def __init__(
        self,
        app: ASGIApp,
        path: str = "/graphql",
        max_body: int = MAX_BODY_BYTES,
        body_timeout: float = 10.0,
    ) -> None:
        self.app = app
        self.path = path
        self.max_body = max_body
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        query_string: bytes = scope.get("query_string", b"")
        if len(query_string) > MAX_QUERY_STRING_BYTES:
            await _reject(
                send, 414, f"query string over {MAX_QUERY_STRING_BYTES:,} bytes: POST the query"
            )
            return
        try:
            _check_query_string(query_string)
        except BadRequest as err:
            await _reject(send, 400, str(err))
            return
        post = scope["method"] == "POST"
        headers = {key.lower(): value for key, value in scope["headers"]}
        if post:
            media_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            if media_type != b"application/json":
                await _reject(
                    send, 415, "POST bodies must be JSON: send Content-Type: application/json"
                )
                return
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            await _reject(send, 413, f"request body over {self.max_body:,} bytes")
            return
        body = bytearray()
        with anyio.move_on_after(self.body_timeout) as waiting:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                body += message.get("body", b"")
                if len(body) > self.max_body:
                    await _reject(send, 413, f"request body over {self.max_body:,} bytes")
                    return
                if not message.get("more_body", False):
                    break
        if waiting.cancelled_caught:
            await _reject(
                send, 408, f"the request body did not arrive within {self.body_timeout:g} s"
            )
            return
        if post:
            try:
                scope[BODY_KEY] = _check_body(bytes(body))
            except BadRequest as err:
                await _reject(send, 400, str(err))
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, _Response(send).send)


class Deadline:
    """Run the app within ``timeout`` seconds, while its client stays.

    Past the deadline, or once the client has gone, the request is cancelled
    (the event loop's part at once, worker threads at their next checkpoint,
    see :mod:`kgraph.budget`) and a client still there gets a
    ``DEADLINE_EXCEEDED`` error. Behind the :class:`RequestGuard`, whose body
    it takes as the first message (and replays to the app); in front of the
    work only (strawberry's view), so that an answer already known (the
    response cache) is not made to wait for a task of its own.
    """

    def __init__(self, app: ASGIApp, timeout: float = 5.0) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        first = await receive()
        if first["type"] == "http.disconnect":
            return
        body: bytes = first.get("body", b"")
        response = _Progress(send)
        left = anyio.Event()
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            await left.wait()
            return {"type": "http.disconnect"}

        with budget.within(self.timeout) as work:
            async with anyio.create_task_group() as tasks:

                async def watch() -> None:
                    # After the body, the server's next message says the client left.
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    left.set()
                    if not response.done:
                        work.cancel()
                        tasks.cancel_scope.cancel()

                tasks.start_soon(watch, name="kgraph.deadline.watch")
                stopped = False
                with anyio.move_on_after(self.timeout) as deadline:
                    try:
                        await self.app(scope, replay, response.send)
                    except asyncio.CancelledError:
                        # Ours, past the deadline, can come out of graphql-core's
                        # gather_with_cancel (a field failing at the same moment)
                        # as if it were not: the scope then lets it through and
                        # the server answers 500. Anything else is not ours.
                        if not deadline.cancel_called or left.is_set():
                            raise
                        stopped = True
                tasks.cancel_scope.cancel()
        past = deadline.cancelled_caught or stopped
        if past and not response.started and not left.is_set():
            scope[PARTIAL_KEY] = True  # an answer of this moment, not of the request
            accept = next((v for k, v in scope["headers"] if k.lower() == b"accept"), b"")
            await _reject(
                send,
                200,
                f"the request ran past its {self.timeout:g} s deadline and was stopped:"
                " ask for less (smaller `first` or `limit`, fewer fields or aliases)",
                code=DEADLINE_EXCEEDED,
                close=False,
                # An answer like the view's, of the type the client accepts (200: it ran).
                media=media_type(accept.decode("latin-1")),
            )


class _Progress:
    """Whether a response started and ended."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False
        self.done = False

    async def send(self, message: Message) -> None:
        await self._send(message)
        if message["type"] == "http.response.start":
            self.started = True  # only once it went out (a client reading nothing holds it)
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            self.done = True


class _Response:
    """The app's response on its way out, text errors made JSON."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._text_error: Message | None = None
        self._text = bytearray()
        self._done = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = {key.lower(): value for key, value in message.get("headers", ())}
            media_type = headers.get(b"content-type", b"").split(b";")[0].strip()
            if message["status"] >= 400 and media_type == b"text/plain":
                self._text_error = message  # held back until its body is complete
                return
            await self._send(message)
            return
        if message["type"] == "http.response.body":
            if not message.get("more_body", False):
                self._done = True
            if self._text_error is not None:
                self._text += message.get("body", b"")
                if self._done:
                    text = bytes(self._text).decode("utf-8", "replace")
                    kept = [
                        (key, value)
                        for key, value in self._text_error.get("headers", ())
                        if key.lower() not in (b"content-type", b"content-length")
                    ]
                    await _reject(
                        self._send, self._text_error["status"], text, close=False, headers=kept
                    )
                return
        await self._send(message)


async def _reject(
    send: Send,
    status: int,
    message: str,
    *,
    code: str | None = None,
    close: bool = True,
    headers: list[tuple[bytes, bytes]] | None = None,
    media: str = JSON,
) -> None:
    """Answer ``status`` with a GraphQL-style JSON error of ``message`` (``code`` or its status's).

    A refusal (4xx) has no ``data``: nothing ran; an answer of 200 has ``data`` null.
    """
    answer = refusal(status, message, code)
    body = json.dumps(answer if status >= 400 else {"data": None, **answer})
    sent = [
        *(headers or ()),
        (b"content-type", media.encode()),
        (b"content-length", str(len(body.encode())).encode()),
    ]
    if close:
        sent.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": sent})
    await send({"type": "http.response.body", "body": body.encode()})

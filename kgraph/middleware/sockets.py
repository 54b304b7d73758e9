"""Websockets held to account: open sockets per client, operations per socket, message shape.

uvicorn caps a message's size (``ws_max_size``, closing with 1009); what is
inside reaches strawberry's protocol handlers as is, where a message nested
thousands deep or holding a 5,000-digit number ended in a traceback and a
dropped connection, and one socket could hold 2,000 subscriptions. In front of
the GraphQL websocket route this guard

- refuses a socket past ``per_client`` open ones from the same address
  (closed with 1013, try again later, as soon as it opens);
- closes the socket with 1007 on a text message that is not JSON, nests over
  :data:`~kgraph.middleware.guard.MAX_NESTING` deep or holds an over-long number,
  with 4400 on one of the wrong shape (not an object with a string ``type``;
  an operation without a string ``id`` or a ``payload`` holding a ``query``),
  and with 1003 on a binary message;
- answers a ``subscribe`` (``start`` in the older protocol) past
  ``operations`` running on the socket with an ``error`` message for that id,
  without passing it on;
- passes on at most :data:`STARTS_PER_TURN` new operations, over every socket,
  per turn of the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kgraph.middleware.guard import BadRequest, check_json, check_query

__all__ = ["SocketGuard"]

log = logging.getLogger("kgraph.api")

#: Client messages that start and stop an operation, in graphql-transport-ws and graphql-ws.
_STARTS = frozenset({"subscribe", "start"})
_STOPS = frozenset({"complete", "stop"})
#: Server messages that end an operation.
_ENDS = frozenset({"complete", "error"})
#: Operations passed on per turn of the event loop, over every socket. Setting
#: one up takes strawberry 0.3-0.9 ms; 300 sent at once (from 20 addresses,
#: within every per-client limit) were all set up in one or two turns, while a
#: /healthz waited 0.15-0.3 s for its own. Paced, each turn does a few, and other
#: requests' steps come between.
STARTS_PER_TURN = 4


class SocketGuard:
    """Guard the websockets of ``app``: see the module's docstring."""

    def __init__(self, app: ASGIApp, per_client: int = 32, operations: int = 16) -> None:
        self.app = app
        self.per_client = per_client
        self.operations = operations
        self.open_by_client: Counter[str] = Counter()
        #: See :data:`STARTS_PER_TURN`: taken for a start, given back on the next turn.
        self.starts = asyncio.Semaphore(STARTS_PER_TURN)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        host = client[0] if client else ""
        if self.open_by_client[host] >= self.per_client:
            await _deny(scope, receive, send, self.per_client)
            return
        self.open_by_client[host] += 1
        try:
            await _Socket(self, scope, receive, send).run()
        finally:
            self.open_by_client[host] -= 1
            if self.open_by_client[host] <= 0:
                del self.open_by_client[host]


class _Socket:
    """One socket's messages, checked on their way in and counted both ways."""

    def __init__(self, guard: SocketGuard, scope: Scope, receive: Receive, send: Send) -> None:
        self.guard = guard
        self.scope = scope
        self._receive = receive
        self._send = send
        self.running: set[str] = set()
        self.closed = False

    async def run(self) -> None:
        await self.guard.app(self.scope, self.receive, self.send)

    async def send(self, message: Message) -> None:
        if message["type"] == "websocket.send" and message.get("text"):
            ended = _parsed(message["text"])
            if ended.get("type") in _ENDS and isinstance(ended.get("id"), str):
                self.running.discard(ended["id"])
        elif message["type"] == "websocket.close":
            self.closed = True
        await self._send(message)

    async def receive(self) -> Message:
        while True:
            message = await self._receive()
            if message["type"] != "websocket.receive" or self.closed:
                return message
            if message.get("bytes") is not None:
                return await self._close(1003, "send text messages of JSON, not binary ones")
            text = message.get("text") or ""
            try:
                value = check_json(text.encode(), "the message")
            except BadRequest as err:
                return await self._close(1007, str(err))
            problem = _malformed(value)
            if problem is not None:
                return await self._close(4400, problem)
            kind, op = value.get("type"), value.get("id")
            if kind in _STARTS and isinstance(op, str) and op not in self.running:
                if len(self.running) >= self.guard.operations:
                    await self._refuse(op, kind)
                    continue
                self.running.add(op)
                await self.guard.starts.acquire()
                asyncio.get_running_loop().call_soon(self.guard.starts.release)
            elif kind in _STOPS and isinstance(op, str):
                self.running.discard(op)
            return message

    async def _refuse(self, op: str, kind: str) -> None:
        """Answer a new operation past the socket's limit with an error, not passing it on."""
        message = (
            f"over {self.guard.operations} operations at once on one socket:"
            " complete one first, or open another socket"
        )
        payload: Any = [{"message": message}] if kind == "subscribe" else {"message": message}
        await self._send(
            {
                "type": "websocket.send",
                "text": json.dumps({"id": op, "type": "error", "payload": payload}),
            }
        )

    async def _close(self, code: int, reason: str) -> Message:
        """Close the socket with ``code`` and tell the app the client is gone."""
        log.info("closed a websocket (%d): %s", code, reason)
        self.closed = True
        # A close frame's reason holds at most 123 bytes.
        await self._send({"type": "websocket.close", "code": code, "reason": reason[:120]})
        return {"type": "websocket.disconnect", "code": code}


def _malformed(value: Any) -> str | None:
    """What is wrong with a client message's shape (both protocols), or ``None``.

    Strawberry's handlers expect these shapes; anything else ended in a
    traceback there and a socket dropped without a close frame.
    """
    if not isinstance(value, dict):
        return "a message is a JSON object with a string `type`"
    kind = value.get("type")
    if not isinstance(kind, str):
        return "a message is a JSON object with a string `type`"
    payload = value.get("payload")
    if (kind in _STARTS or kind in _STOPS) and not isinstance(value.get("id"), str):
        return f"a `{kind}` message needs a string `id`"
    if kind in _STARTS:
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return f"a `{kind}` message needs a `payload` object with a string `query`"
        try:
            check_query(payload["query"])
        except BadRequest as err:
            return str(err)
    elif payload is not None and not isinstance(payload, dict):
        return "a message's `payload` is a JSON object"
    return None


def _parsed(text: str) -> dict[str, Any]:
    """A server message's JSON object, when it may end an operation (else ``{}``)."""
    if '"complete"' not in text and '"error"' not in text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


async def _deny(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    """Refuse a socket: accepted, then closed at once with 1013 (try again later) and why.

    (A refused handshake would tell the client only "403"; uvicorn's denial
    response extension logs an error for every refusal.)
    """
    await receive()  # websocket.connect
    log.warning(
        "refused a websocket from %s: over %d open", (scope.get("client") or ("?",))[0], limit
    )
    offered = scope.get("subprotocols") or []
    await send({"type": "websocket.accept", "subprotocol": offered[0] if offered else None})
    message = f"over {limit} open websockets from your address: close some first"
    await send({"type": "websocket.close", "code": 1013, "reason": message[:120]})

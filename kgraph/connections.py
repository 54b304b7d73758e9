"""HTTP connections held to account: header limits and timeout, a cap per client address.

uvicorn bounds the time between requests on a connection (``timeout_keep_alive``)
but not the time before its first request or within a request's headers, nor
the headers' size: 256 silent sockets, or one 175 MiB header, were enough to
take a server down. :func:`protocol_class` returns uvicorn's httptools
protocol (which ``uvicorn.run(http=...)`` takes) with those limits added
through its parser callbacks:

- a connection must complete each request's line and headers within
  ``header_timeout`` seconds of opening (or of the request's first byte, or of
  any byte between requests), else 408 (nothing is written to a connection
  that sent nothing) and closed; its body within twice that;
- the request line and headers (and a chunked body's trailers) hold at most
  ``header_bytes`` bytes in at most ``header_count`` headers, else 431 and
  closed, counted as the bytes arrive (a header that never ends is refused,
  not buffered); a body at most ``message_bytes``, else 413;
- a refusal waits for the answers to the requests pipelined before it;
- one client address holds at most ``per_client`` open connections: a new one
  over that is answered 503 and closed (websockets leave this count when they
  upgrade; :mod:`kgraph.middleware.sockets` caps them).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from kgraph.api.errors import refusal

__all__ = ["ConnectionLimits", "open_connections", "protocol_class"]

log = logging.getLogger("kgraph.connections")

#: How long a refused connection is still read (and what comes dropped) after its answer.
_LINGER_SECONDS = 2.0

_REASONS = {
    400: b"Bad Request",
    413: b"Content Too Large",
    408: b"Request Timeout",
    431: b"Request Header Fields Too Large",
    503: b"Service Unavailable",
}


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """What one connection, and one client address, may hold."""

    header_timeout: float = 10.0
    header_bytes: int = 32 * 1024
    header_count: int = 100
    per_client: int = 128
    #: The most a request's body may hold: a GraphQL body is at most 64 KiB
    #: (the /graphql guard refuses more), no other route takes one.
    message_bytes: int = 1024 * 1024


def _response(status: int, message: str) -> bytes:
    body = json.dumps(refusal(status, message)).encode()
    return b"".join(
        (
            b"HTTP/1.1 %d %s\r\n" % (status, _REASONS[status]),
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"x-content-type-options: nosniff\r\n",
            b"connection: close\r\n\r\n",
            body,
        )
    )


def protocol_class(limits: ConnectionLimits) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol with ``limits``, for ``uvicorn.run(http=...)``."""
    open_by_client: Counter[str] = Counter()

    class LimitedHttpToolsProtocol(HttpToolsProtocol):
        """One connection: refused past its client's cap, closed when a request stalls.

        Its own state is named ``_kg_*``, apart from uvicorn's.
        """

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._kg_peer: str | None = None
            self._kg_timer: asyncio.TimerHandle | None = None
            self._kg_sent_any = False
            # A request is being received (its first byte seen, not yet its last),
            # and within that, its headers.
            self._kg_receiving = False
            self._kg_in_headers = False
            # Bytes received for the request's headers (or, after them, its body).
            self._kg_raw = 0
            self._kg_header_bytes = 0
            self._kg_header_count = 0
            # Requests handed to the app whose responses are not complete.
            self._kg_busy = 0
            self._kg_refused = False
            self._kg_pending: bytes | None = None

        # The connection.

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            peer = transport.get_extra_info("peername")
            host = peer[0] if isinstance(peer, tuple) and peer else None
            if host is not None and open_by_client[host] >= limits.per_client:
                log.warning("refused a connection from %s: over %d open", host, limits.per_client)
                self._kg_refuse(
                    503,
                    f"over {limits.per_client} open connections from your address:"
                    " close some, or reuse them (keep-alive)",
                )
                return
            if host is not None:
                open_by_client[host] += 1
                self._kg_peer = host
            self._kg_arm(limits.header_timeout)

        def connection_lost(self, exc: Exception | None) -> None:
            self._kg_disarm()
            self._kg_forget_peer()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._kg_refused:
                return
            self._kg_sent_any = True
            if self._kg_receiving:
                # Counted as they come, before the parser buffers them: a header
                # that never ends would otherwise grow without limit.
                if self._kg_in_headers and self._kg_raw > limits.header_bytes:
                    self._kg_refuse(431, self._kg_too_long())
                    return
                if not self._kg_in_headers and self._kg_raw > limits.message_bytes:
                    self._kg_refuse(413, f"request over {limits.message_bytes:,} bytes")
                    return
                self._kg_raw += len(data)
            elif self._kg_busy == 0 and self._kg_timer is None:
                # Bytes between requests (a bare CRLF starts none): the next
                # request's headers are due as if the connection were new.
                self._kg_arm(limits.header_timeout)
            super().data_received(data)

        def handle_websocket_upgrade(self) -> None:
            # The websocket protocol takes the transport over; this one never
            # hears of the connection again (no connection_lost).
            self._kg_disarm()
            self._kg_forget_peer()
            super().handle_websocket_upgrade()

        def send_400_response(self, msg: str) -> None:
            # uvicorn answers a request it cannot parse in plain text: JSON, like every error.
            self._kg_refuse(400, msg)

        def on_response_complete(self) -> None:
            self._kg_busy = max(0, self._kg_busy - 1)
            super().on_response_complete()
            if self._kg_pending is not None and self._kg_busy == 0:
                # A refusal waits for the answers to the requests before it.
                self._kg_send_and_close(self._kg_pending)

        # The parser's callbacks (httptools calls them by these names).

        def on_message_begin(self) -> None:
            self._kg_receiving = self._kg_in_headers = True
            self._kg_raw = self._kg_header_bytes = self._kg_header_count = 0
            if self._kg_timer is None:
                self._kg_arm(limits.header_timeout)
            super().on_message_begin()

        def on_url(self, url: bytes) -> None:
            if self._kg_count(len(url), 0):
                super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            # Trailers of a chunked body come here too, and count with the headers.
            if self._kg_count(len(name) + len(value), 1):
                super().on_header(name, value)

        def on_headers_complete(self) -> None:
            if self._kg_refused:
                return
            self._kg_in_headers = False
            self._kg_raw = 0
            # The body is due within the same time again (the /graphql guard
            # answers 408 itself at its own time; this is for every other path).
            self._kg_arm(2 * limits.header_timeout)
            # (A websocket upgrade is handed to its own protocol: this one is done.)
            self._kg_busy += 1
            super().on_headers_complete()

        def on_body(self, body: bytes) -> None:
            if not self._kg_refused:
                super().on_body(body)

        def on_message_complete(self) -> None:
            if self._kg_refused:
                return
            self._kg_receiving = False
            self._kg_disarm()
            super().on_message_complete()

        # Limits.

        def _kg_too_long(self) -> str:
            return (
                f"request line and headers over {limits.header_bytes:,} bytes"
                f" or {limits.header_count} headers"
            )

        def _kg_count(self, size: int, headers: int) -> bool:
            """Add to the request's header size and count; ``False`` once refused."""
            if self._kg_refused:
                return False
            self._kg_header_bytes += size
            self._kg_header_count += headers
            if (
                self._kg_header_bytes > limits.header_bytes
                or self._kg_header_count > limits.header_count
            ):
                self._kg_refuse(431, self._kg_too_long())
                return False
            return True

        def _kg_arm(self, seconds: float) -> None:
            self._kg_disarm()
            self._kg_timer = self.loop.call_later(seconds, self._kg_late)

        def _kg_disarm(self) -> None:
            if self._kg_timer is not None:
                self._kg_timer.cancel()
                self._kg_timer = None

        def _kg_late(self) -> None:
            self._kg_timer = None
            if self._kg_refused or self.transport.is_closing():
                return
            if not self._kg_sent_any:
                self._kg_refused = True
                self.transport.close()  # a connection that never spoke gets no answer
            elif self._kg_in_headers or not self._kg_receiving:
                self._kg_refuse(
                    408, f"the request's headers did not arrive within {limits.header_timeout:g} s"
                )
            else:
                self._kg_refuse(
                    408,
                    f"the request's body did not arrive within {2 * limits.header_timeout:g} s",
                )

        def _kg_refuse(self, status: int, message: str) -> None:
            """Answer ``status`` and close, once the answers already under way are sent."""
            self._kg_refused = True
            self._kg_disarm()
            client = self.client[0] if self.client else "?"
            log.info("refused a request from %s (%d): %s", client, status, message)
            response = _response(status, message)
            if self._kg_busy:
                self._kg_pending = response
                self.transport.pause_reading()
            else:
                self._kg_send_and_close(response)

        def _kg_send_and_close(self, response: bytes) -> None:
            """Answer, then close without losing the answer.

            Closed at once, a connection whose client is still sending resets,
            and the client's system throws the answer away unread. So the
            writing side is shut, what still comes is read and dropped
            (``data_received`` ignores a refused connection), and the
            connection is closed a moment later (a "lingering close").
            """
            self._kg_pending = None
            transport = self.transport
            if transport.is_closing():
                return
            transport.write(response)
            if not transport.can_write_eof():
                transport.close()
                return
            transport.write_eof()
            transport.resume_reading()
            self.loop.call_later(_LINGER_SECONDS, transport.close)

        def _kg_forget_peer(self) -> None:
            if self._kg_peer is not None:
                open_by_client[self._kg_peer] -= 1
                if open_by_client[self._kg_peer] <= 0:
                    del open_by_client[self._kg_peer]
                self._kg_peer = None

    LimitedHttpToolsProtocol.open_by_client = open_by_client  # type: ignore[attr-defined]
    return LimitedHttpToolsProtocol


def open_connections(protocol: object) -> int | None:
    """How many HTTP connections a server holds open (websockets apart) whose ``http``
    protocol :func:`protocol_class` made; ``None`` for another protocol, which does not count.

    >>> open_connections(protocol_class(ConnectionLimits())), open_connections(object)
    (0, None)
    """
    counts = getattr(protocol, "open_by_client", None)
    return sum(counts.values()) if isinstance(counts, Counter) else None

"""HTTP connections held to account: header limits and timeout, a cap per client address.

uvicorn bounds the time between requests on a connection (``timeout_keep_alive``)
but not the time before its first request or within a request's headers, nor
the headers' size: 256 silent sockets, or one 175 MiB header, were enough to
take a server down. :func:`protocol_class` returns uvicorn's httptools
protocol (which ``uvicorn.run(http=...)`` takes) with those limits added
through its parser callbacks:

- a connection must complete each request's line and headers within
  ``header_timeout`` seconds of opening (or of the request's first byte), else
  408 (nothing is written to a connection that sent nothing) and closed;
- the request line and headers hold at most ``header_bytes`` bytes in at most
  ``header_count`` headers, else 431 and closed;
- one client address holds at most ``per_client`` open connections: a new one
  over that is answered 503 and closed (websockets leave this count when they
  upgrade; :mod:`kgraph.api.sockets` caps them).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["ConnectionLimits", "protocol_class"]

log = logging.getLogger("kgraph.connections")

_REASONS = {
    400: b"Bad Request",
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


def _response(status: int, message: str) -> bytes:
    body = json.dumps({"errors": [{"message": message}]}).encode()
    return b"".join(
        (
            b"HTTP/1.1 %d %s\r\n" % (status, _REASONS[status]),
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
            body,
        )
    )


def protocol_class(limits: ConnectionLimits) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol with ``limits``, for ``uvicorn.run(http=...)``."""
    open_by_client: Counter[str] = Counter()

    class LimitedHttpToolsProtocol(HttpToolsProtocol):
        """One connection: refused past its client's cap, closed when its headers stall."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._peer: str | None = None
            self._timer: asyncio.TimerHandle | None = None
            self._sent_any = False
            self._header_bytes = 0
            self._header_count = 0
            self._refused = False

        # The connection.

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            peer = transport.get_extra_info("peername")
            host = peer[0] if isinstance(peer, tuple) and peer else None
            if host is not None and open_by_client[host] >= limits.per_client:
                log.warning("refused a connection from %s: over %d open", host, limits.per_client)
                self._refuse(
                    503,
                    f"over {limits.per_client} open connections from your address:"
                    " close some, or reuse them (keep-alive)",
                )
                return
            if host is not None:
                open_by_client[host] += 1
                self._peer = host
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            self._forget_peer()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return
            self._sent_any = True
            super().data_received(data)

        def handle_websocket_upgrade(self) -> None:
            # The websocket protocol takes the transport over; this one never
            # hears of the connection again (no connection_lost).
            self._disarm()
            self._forget_peer()
            super().handle_websocket_upgrade()

        def send_400_response(self, msg: str) -> None:
            # uvicorn answers a request it cannot parse in plain text: JSON, like every error.
            self._refuse(400, msg)

        # The parser's callbacks (httptools calls them by these names).

        def on_message_begin(self) -> None:
            self._header_bytes = 0
            self._header_count = 0
            if self._timer is None:
                self._arm()
            super().on_message_begin()

        def on_url(self, url: bytes) -> None:
            if self._count(len(url), 0):
                super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            if self._count(len(name) + len(value), 1):
                super().on_header(name, value)

        def on_headers_complete(self) -> None:
            if self._refused:
                return
            self._disarm()
            super().on_headers_complete()

        def on_body(self, body: bytes) -> None:
            if not self._refused:
                super().on_body(body)

        def on_message_complete(self) -> None:
            if not self._refused:
                super().on_message_complete()

        # Limits.

        def _count(self, size: int, headers: int) -> bool:
            """Add to the request's header size and count; ``False`` once refused."""
            if self._refused:
                return False
            self._header_bytes += size
            self._header_count += headers
            if self._header_bytes > limits.header_bytes or self._header_count > limits.header_count:
                self._refuse(
                    431,
                    f"request line and headers over {limits.header_bytes:,} bytes"
                    f" or {limits.header_count} headers",
                )
                return False
            return True

        def _arm(self) -> None:
            self._disarm()
            self._timer = self.loop.call_later(limits.header_timeout, self._headers_late)

        def _disarm(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

        def _headers_late(self) -> None:
            self._timer = None
            if self._refused:
                return
            if self._sent_any:
                self._refuse(
                    408, f"the request's headers did not arrive within {limits.header_timeout:g} s"
                )
            else:
                self._refused = True
                self.transport.close()

        def _refuse(self, status: int, message: str) -> None:
            self._refused = True
            self._disarm()
            if not self.transport.is_closing():
                self.transport.write(_response(status, message))
                self.transport.close()

        def _forget_peer(self) -> None:
            if self._peer is not None:
                open_by_client[self._peer] -= 1
                if open_by_client[self._peer] <= 0:
                    del open_by_client[self._peer]
                self._peer = None

    return LimitedHttpToolsProtocol

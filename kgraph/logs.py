"""How a server logs: readable lines, or one JSON object a line for a log collector.

JSON lines name their fields as the Elastic Common Schema does (``@timestamp``,
``log.level``, ``message``, ``http.request.id``…), which Elastic, Loki, Datadog
and OpenTelemetry's collectors read without a mapping.
"""

from __future__ import annotations

import datetime
import json
import logging
import sys
from contextvars import ContextVar

__all__ = ["ECS_VERSION", "REQUEST_ID", "JsonFormatter", "TextFormatter", "configure_logging"]

#: The version of the Elastic Common Schema the JSON lines follow.
ECS_VERSION = "8.11.0"
#: The id of the HTTP request being served (set by :class:`kgraph.middleware.observe.Observe`).
REQUEST_ID: ContextVar[str | None] = ContextVar("kgraph.request_id", default=None)

# Attributes every LogRecord has; anything else was passed in ``extra=``. uvicorn
# passes ``color_message``, its message with ANSI colours, for its own formatter.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, in ECS names: time, level, logger, message, the
    request's id, and any ``extra`` fields.

    >>> record = logging.makeLogRecord(
    ...     {"msg": "hi %s", "args": ("you",), "levelname": "INFO", "url.path": "/"}
    ... )
    >>> record.color_message = "\x1b[32mhi you\x1b[0m"  # uvicorn's
    >>> line = json.loads(JsonFormatter().format(record))
    >>> line["message"], line["url.path"], line["log.level"], "color_message" in line
    ('hi you', '/', 'info', False)
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "@timestamp": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(),
            "log.level": record.levelname.lower(),
            "log.logger": record.name,
            "message": record.getMessage(),
            "ecs.version": ECS_VERSION,
        }
        if (request := REQUEST_ID.get()) is not None:
            line["http.request.id"] = request
        for key, value in vars(record).items():
            if key not in _STANDARD:
                line[key] = value
        if record.exc_info:
            line["error.type"] = getattr(record.exc_info[0], "__name__", None)
            line["error.stack_trace"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


#: Control characters as escapes: a request path holding ``%0a`` cannot forge a line.
_ESCAPES = {
    code: "\\n" if code == 10 else "\\r" if code == 13 else "\\t" if code == 9 else f"\\x{code:02x}"
    for code in (*range(32), 127)
}


class TextFormatter(logging.Formatter):
    r"""``LEVEL logger: message``, one record a line: control characters in the message escaped.

    >>> record = logging.makeLogRecord(
    ...     {"msg": "GET %s", "args": ("/a\nINFO forged",), "levelname": "INFO", "name": "kgraph"}
    ... )
    >>> print(TextFormatter().format(record))
    INFO     kgraph: GET /a\nINFO forged

    During a request, its id ends the line:

    >>> token = REQUEST_ID.set("7f3a9c1e")
    >>> print(TextFormatter().format(record))
    INFO     kgraph: GET /a\nINFO forged request_id=7f3a9c1e
    >>> REQUEST_ID.reset(token)
    """

    def __init__(self) -> None:
        super().__init__("%(levelname)-8s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = record.message.translate(_ESCAPES)
        line = super().formatMessage(record)
        # The request's id (only ever a checked or made one, see kgraph.middleware.observe).
        request = REQUEST_ID.get()
        return line if request is None else f"{line} request_id={request}"


def configure_logging(log_format: str = "text", level: int = logging.INFO) -> None:
    """Send every log record (kgraph's and uvicorn's) to standard error in ``log_format``."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # watchfiles logs every batch of changes; kgraph logs the reload they cause.
    logging.getLogger("watchfiles").setLevel(logging.WARNING)

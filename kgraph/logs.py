"""How a server logs: readable lines, or one JSON object a line for a log collector."""

from __future__ import annotations

import datetime
import json
import logging
import sys

__all__ = ["JsonFormatter", "TextFormatter", "configure_logging"]

# Attributes every LogRecord has; anything else was passed in ``extra=``.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and any ``extra`` fields.

    >>> record = logging.makeLogRecord(
    ...     {"msg": "hi %s", "args": ("you",), "levelname": "INFO", "status": 200}
    ... )
    >>> line = json.loads(JsonFormatter().format(record))
    >>> line["message"], line["status"], line["level"]
    ('hi you', 200, 'info')
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
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
    """

    def __init__(self) -> None:
        super().__init__("%(levelname)-8s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = record.message.translate(_ESCAPES)
        return super().formatMessage(record)


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

"""One log format for the bot's lines and uvicorn's: text or JSON, with timestamps, phone numbers masked."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

from bot import logmask
from bot.config import LogSection

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Loggers that speak too much at INFO for an operator's console: every HTTP request of a client
# (httpx), and the migration tool's "Context impl SQLiteImpl." at every start (alembic).
QUIET = ("httpx", "httpcore", "alembic", "alembic.runtime.migration")
UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")
# The attributes every LogRecord has; anything else was passed as `extra` and goes into the JSON.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the record's extras."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value if isinstance(value, str | int | float | bool | None) else str(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            data["exception"] = record.exc_text
        return json.dumps(data, ensure_ascii=False)


def formatter(settings: LogSection) -> logging.Formatter:
    """The formatter the settings ask for."""
    return JsonFormatter() if settings.format == "json" else logging.Formatter(TEXT_FORMAT)


def configure(settings: LogSection, *, verbose: bool = False, stream: IO[str] | None = None) -> logging.Handler:
    """Send every log line (the bot's, uvicorn's, the libraries') through one handler; return it.

    uvicorn must then be started with log_config=None: its loggers keep no handler of their own
    and propagate here, so its lines have the same format, timestamps and phone masking.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(settings))
    handler.addFilter(logmask.MaskPhones())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else settings.level)
    for name in UVICORN:
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            logger.removeHandler(old)
        logger.propagate = True
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.WARNING)
    return handler

"""Phone numbers never reach the log: a filter that masks them in every record a handler writes."""

from __future__ import annotations

import logging

from handlers.privacy import mask_phones


class MaskPhones(logging.Filter):
    """Masks phone numbers in a record's message and traceback (+62812****7890)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drop it."""
        message = record.getMessage()
        masked = mask_phones(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_phones(record.exc_text)
        return True


def install(*names: str) -> None:
    """Put the filter on every handler of the root logger and of the named loggers (e.g. uvicorn's)."""
    for name in ("", *names):
        for handler in logging.getLogger(name or None).handlers:
            if not any(isinstance(f, MaskPhones) for f in handler.filters):
                handler.addFilter(MaskPhones())

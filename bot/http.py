"""What every messenger's webhook shares: bounded bodies, strict JSON, small errors, the inbox store.

Webhook routes are thin: verify the sender, store the raw event in the inbox, answer. No replies,
API calls or desk logic happen in them; the inbox worker does the work after the answer.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.runtime.inbox_writer import writer_for
from handlers.clock import Clock
from handlers.textsafe import ascii_int
from storage.engine import is_unavailable

log = logging.getLogger(__name__)


class BodyTooLarge(Exception):
    """The request body is over the configured limit."""


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing early (by Content-Length) or while streaming if over `limit`."""
    declared = request.headers.get("content-length")
    if declared is not None and (size := ascii_int(declared.strip())) is not None and size > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(body: bytes) -> Any | None:
    """Strict JSON (UTF-8, no NaN or Infinity, no lone surrogates, not absurdly deep), or None."""
    try:
        payload = json.loads(body, parse_constant=_no_constants)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None
    if _SURROGATE_ESCAPE.search(body):
        # An escaped surrogate must be half of a pair: a lone one is no text, and neither UTF-8
        # nor PostgreSQL's json type can store it. Rare, so the costly check runs only then.
        try:
            json.dumps(payload, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return None
    return payload


def error(status: int, message: str) -> JSONResponse:
    """A small JSON error answer."""
    return JSONResponse({"ok": False, "error": message}, status_code=status)


async def store(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    *,
    channel: str,
    external_id: str,
    chat_key: str,
    payload: dict[str, Any],
) -> Response | None:
    """Keep an inbound event; a 503 answer if the database cannot take it (the sender retries).

    Concurrent requests are committed together (bot.runtime.inbox_writer); each returns only once its row
    is committed.
    """
    row = {
        "channel": channel,
        "external_id": external_id,
        "chat_key": chat_key,
        "payload": payload,
        "received_at": clock.now(),
    }
    try:
        new = await writer_for(sessions).store(row)
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        log.warning("inbox unavailable, asking %s to retry: %s", channel, exc)
        return error(503, "storage unavailable, retry later")
    if not new:
        log.info("%s event %s was already received; ignored", channel, external_id)
    return None

"""Thin webhook routes: verify the sender, store the raw event in the inbox, answer.

No replies, API calls or desk logic happen here; the inbox worker does the work after the answer.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot import telegram_inbound
from handlers.clock import Clock
from storage import inbox
from storage.engine import is_unavailable

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class BodyTooLarge(Exception):
    """The request body is over the configured limit."""


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing early (by Content-Length) or while streaming if over `limit`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


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
    """Keep an inbound event; a 503 answer if the database cannot take it (the sender retries)."""
    try:
        async with sessions() as session, session.begin():
            stored = await inbox.store_inbound(
                session, channel=channel, external_id=external_id, chat_key=chat_key, payload=payload,
                now=clock.now(),
            )
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        log.warning("inbox unavailable, asking %s to retry: %s", channel, exc)
        return error(503, "storage unavailable, retry later")
    if stored is None:
        log.info("%s event %s was already received; ignored", channel, external_id)
    return None


def telegram_endpoint(
    *,
    secret: str,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    max_body: int,
    on_stored: Callable[[], None],
) -> Callable[[Request], Any]:
    """POST /telegram/webhook: Telegram's updates, checked against the secret token."""
    expected = secret.encode()

    async def endpoint(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not expected or not hmac.compare_digest(given, expected):
            return error(403, "wrong or missing secret token")
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return error(415, "expected application/json")
        try:
            body = await read_body(request, max_body)
        except BodyTooLarge:
            return error(413, "body too large")
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return error(400, "body is not JSON")
        update_id = payload.get("update_id") if isinstance(payload, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            return error(400, "not a Telegram update (no integer update_id)")
        failure = await store(
            sessions, clock, channel=telegram_inbound.CHANNEL, external_id=str(update_id),
            chat_key=telegram_inbound.chat_key(payload), payload=payload,
        )
        if failure is not None:
            return failure
        on_stored()
        return JSONResponse({"ok": True})

    return endpoint

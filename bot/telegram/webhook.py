"""POST /telegram/webhook: Telegram's updates, checked against the secret token, kept in the inbox."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.http import BodyTooLarge, error, parse_json, read_body, store
from bot.telegram.inbound import CHANNEL, chat_key
from handlers.clock import Clock

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

Endpoint = Callable[[Request], Awaitable[Response]]


def telegram_endpoint(
    *,
    secret: str,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    max_body: int,
    on_stored: Callable[[], None],
) -> Endpoint:
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
        payload = parse_json(body)
        if payload is None:
            return error(400, "body is not JSON")
        update_id = payload.get("update_id") if isinstance(payload, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            return error(400, "not a Telegram update (no integer update_id)")
        failure = await store(
            sessions,
            clock,
            channel=CHANNEL,
            external_id=str(update_id),
            chat_key=chat_key(payload),
            payload=payload,
        )
        if failure is not None:
            return failure
        on_stored()
        return JSONResponse({"ok": True})

    return endpoint

"""Twilio's two WhatsApp webhooks: inbound messages and status callbacks, both signature-checked.

Like the Telegram webhook, the inbound route only verifies, stores the raw form in the inbox and
answers; the inbox worker does the work. Signatures are checked against the configured public_url
(behind a proxy the request's own URL differs from the one Twilio signed).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import Response
from twilio.request_validator import RequestValidator

from bot.http import BodyTooLarge, error, read_body, store
from bot.whatsapp.inbound import CHANNEL, chat_key
from bot.whatsapp.status import StatusRecorder
from handlers.clock import Clock
from handlers.textsafe import ascii_int
from storage.engine import is_unavailable

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/whatsapp/webhook"
STATUS_PATH = "/whatsapp/status"
SIGNATURE_HEADER = "X-Twilio-Signature"
FORM_TYPE = "application/x-www-form-urlencoded"
# An empty TwiML answer: Twilio sends nothing back by itself, the outbox answers.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

Endpoint = Callable[[Request], Awaitable[Response]]


async def signed_form(
    request: Request, *, validator: RequestValidator, public_url: str, path: str, max_body: int
) -> ImmutableMultiDict[str, str] | Response:
    """The form of a genuine Twilio post, or the error answer (403 unsigned or forged, 413, 415)."""
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        return error(403, "missing X-Twilio-Signature")
    try:
        body = await read_body(request, max_body)
    except BodyTooLarge:
        return error(413, "body too large")
    try:
        # Blank values count for the signature (a photo without a caption has Body=).
        form = ImmutableMultiDict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return error(403, "invalid X-Twilio-Signature")
    query = request.url.query
    url = public_url + path + (f"?{query}" if query else "")
    if not validator.validate(url, form, signature):
        log.warning("Twilio signature check failed for %s", url)
        return error(403, "invalid X-Twilio-Signature")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        return error(415, f"expected {FORM_TYPE}")
    return form


def inbound_endpoint(
    *,
    validator: RequestValidator,
    public_url: str,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    max_body: int,
    on_stored: Callable[[], None],
) -> Endpoint:
    """POST /whatsapp/webhook: a citizen's WhatsApp message, kept in the inbox (once per MessageSid)."""

    async def endpoint(request: Request) -> Response:
        form = await signed_form(
            request, validator=validator, public_url=public_url, path=WEBHOOK_PATH, max_body=max_body
        )
        if isinstance(form, Response):
            return form
        message_sid, sender = form.get("MessageSid", ""), form.get("From", "")
        if not message_sid or not sender:
            return error(400, "not a Twilio message (MessageSid and From are required)")
        payload = dict(form.multi_items())
        failure = await store(
            sessions, clock, channel=CHANNEL, external_id=message_sid, chat_key=chat_key(payload), payload=payload
        )
        if failure is not None:
            return failure
        on_stored()
        return Response(EMPTY_TWIML, media_type="text/xml")

    return endpoint


# The numbers the bot puts in each status callback URL it gives Twilio.
CALLBACK_IDS = ("outbox", "attempt", "part")


def callback_ids(request: Request) -> dict[str, int | None] | None:
    """The outbox id, attempt and part of a status callback URL; None if one is there but no number.

    Parsed strictly (ASCII digits, within 64 bits): the bot wrote them, so anything else is not a
    callback for one of its messages.
    """
    ids: dict[str, int | None] = {}
    for name in CALLBACK_IDS:
        value = request.query_params.get(name)
        ids[name] = None if value is None else ascii_int(value)
        if value is not None and ids[name] is None:
            return None
    return ids


def status_endpoint(
    *, validator: RequestValidator, public_url: str, recorder: Callable[[], StatusRecorder], max_body: int
) -> Endpoint:
    """POST /whatsapp/status?outbox=<id>&attempt=<n>&part=<k>: Twilio's delivery report of one sent message."""

    async def endpoint(request: Request) -> Response:
        form = await signed_form(
            request, validator=validator, public_url=public_url, path=STATUS_PATH, max_body=max_body
        )
        if isinstance(form, Response):
            return form
        fields = dict(form.multi_items())
        if not fields.get("MessageSid") or not fields.get("MessageStatus"):
            return error(400, "not a Twilio status callback (MessageSid and MessageStatus are required)")
        ids = callback_ids(request)
        if ids is None:
            log.info("status callback with a malformed id ignored: %r", request.url.query[:100])
            return Response(status_code=200)
        try:
            await recorder().record(fields, outbox_id=ids["outbox"], attempt=ids["attempt"], part=ids["part"])
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            log.warning("status callback not recorded, database unavailable: %s", exc)
            return error(503, "storage unavailable, retry later")
        return Response(status_code=200)

    return endpoint

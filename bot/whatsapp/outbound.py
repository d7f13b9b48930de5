"""Outbox messages sent to WhatsApp through the twilio library, with Twilio's errors sorted by what to do.

Sends are paced by a bot.runtime.pacing.Pacer ([whatsapp] max_messages_per_second, per process).
A text with buttons goes as a WhatsApp quick reply or list (bot.whatsapp.content) when it can, as
text with the words to type when it cannot.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import aiohttp
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from bot.channels import DeliveryError, HeldForWindow, RetryLater, Undeliverable
from bot.runtime.pacing import Pacer
from bot.whatsapp.content import ContentTemplates, interactive_of
from bot.whatsapp.inbound import CHANNEL
from bot.whatsapp.photos import PhotoLinks
from handlers.clock import Clock
from handlers.outgoing import heard_hint
from handlers.textsafe import cut_utf16, split_utf16
from storage import citizens, outbox
from storage.models import OutboxMessage
from storage.outbox import HELD
from storage.tickets import format_ticket

log = logging.getLogger(__name__)

# WhatsApp takes free-form messages only within 24 hours of the citizen's last message. Hold a
# little early: the send itself takes time, and a message refused at the edge would be held anyway.
WINDOW = timedelta(hours=24)
WINDOW_MARGIN = timedelta(minutes=5)
# Marks a message whose buttons WhatsApp did not deliver (a failed status of the interactive send):
# it is tried again as text, with the words to type.
AS_TEXT = "as_text"
# Twilio refuses a body over 1,600 characters (counted in UTF-16 units: an emoji counts twice).
MAX_BODY = 1599
# Template variables must be one line; keep the preview short.
TEMPLATE_TEXT_CHARS = 100

OUTSIDE_WINDOW = 63016
OPTED_OUT = 21610
# 20429: too many concurrent API requests (HTTP 429); 63018: over a rate or limit of the channel. Both retried.
RATE_LIMITED = frozenset({20429, 63018})


class _TextOnly(HTMLParser):
    """Collects the text of Telegram-style HTML (<b>, <code>, entities)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(payload: dict[str, Any], *, typed_hint: bool = True) -> str:
    """A text payload as WhatsApp shows it: HTML markup removed, entities decoded.

    Sent without its buttons, it carries the words to type instead (`typed_hint`).
    """
    text = str(payload.get("text", ""))
    hint = str(payload.get("typed_hint", "")) if typed_hint else ""
    if payload.get("html"):
        parser = _TextOnly()
        parser.feed(text)
        parser.close()
        text = "".join(parser.parts)
    return text + hint


def one_line(text: str, limit: int) -> str:
    """Text on one line (template variables allow no line breaks), cut at a word with an ellipsis."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.:;") + "…"


def template_payload(content_sid: str, *, ticket: str, text: str) -> dict[str, Any]:
    """The outbox payload of a template message: {{1}} the ticket number, {{2}} a short text."""
    return {"content_sid": content_sid, "variables": {"1": ticket, "2": one_line(text, TEMPLATE_TEXT_CHARS)}}


class WhatsAppSender:
    """Sends outbox rows to WhatsApp with twilio's REST client, minding the 24-hour window."""

    def __init__(
        self,
        client: Client,
        *,
        from_number: str,
        template_sid: str,
        status_url: str,
        ticket_prefix: str,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        max_per_second: float,
        photos: PhotoLinks | None = None,
        templates: ContentTemplates | None = None,
    ) -> None:
        self._client = client
        # Buttons go as WhatsApp buttons through these templates; None: as the words to type.
        self._templates = templates
        # Photos go as a link Twilio fetches; without one, a photo message is undeliverable.
        self._photos = photos
        # Every Messages.create waits its turn here, whichever outbox row or chunk it carries.
        # Each send counts until a second after Twilio's answer, so no second at Twilio's end holds
        # more than the limit however late a request is written (why, in bot.runtime.pacing).
        self._pace = Pacer(max_per_second)
        self._from = from_number
        self._template_sid = template_sid
        self._status_url = status_url
        self._ticket_prefix = ticket_prefix
        self._sessions = sessions
        self._clock = clock

    def status_callback(self, message: OutboxMessage, part: int = 1) -> str:
        """Where Twilio reports this send's delivery; the ids make an early or repeated report match."""
        return f"{self._status_url}?outbox={message.id}&attempt={message.attempts}&part={part}"

    def template_for(self, message: OutboxMessage) -> dict[str, Any] | None:
        """The template that announces a held message, or None when no template is configured."""
        if not self._template_sid:
            return None
        ticket = format_ticket(self._ticket_prefix, message.complaint_id) if message.complaint_id else "-"
        return template_payload(self._template_sid, ticket=ticket, text=self._body(message))

    async def send(self, message: OutboxMessage) -> str | None:
        """Send one outbox row; return the (first) Twilio message SID."""
        if message.kind in ("callback_answer", "clear_buttons"):
            return None  # WhatsApp has no buttons to acknowledge
        if message.kind == "template":
            variables = message.payload.get("variables", {})
            return await self._create(
                message,
                content_sid=str(message.payload["content_sid"]),
                content_variables=json.dumps(variables, ensure_ascii=False),
            )
        if message.kind not in ("text", "location", "photo") or (message.kind == "photo" and self._photos is None):
            raise Undeliverable(f"{message.kind} messages are not sent to WhatsApp")
        heard = await self._last_heard(message.chat_id) or heard_hint(message.payload)
        if heard is None or self._clock.now() - heard >= WINDOW - WINDOW_MARGIN:
            raise HeldForWindow(
                "outside WhatsApp's 24-hour window", template=self.template_for(message), last_heard=heard
            )
        if message.kind == "text":
            tapped = await self._send_interactive(message, heard)
            if tapped is not None:
                return tapped
        if message.kind == "photo":
            assert self._photos is not None
            link = await self._photos.url(message.payload)
            # The caption's limit counts UTF-16 units, like the body's (an emoji counts two).
            return await self._create(message, heard, body=cut_utf16(self._body(message), MAX_BODY), media_url=[link])
        chunks = split_utf16(self._body(message), MAX_BODY)
        first: str | None = None
        # A retry (a later part failed, or its delivery did) resumes after the parts that went out:
        # the citizen must not read the first page of an answer twice.
        for index in range(min(message.parts_sent, len(chunks)), len(chunks)):
            sid = await self._create(message, heard, part=index + 1, body=chunks[index])
            first = first or sid
            if len(chunks) > 1:
                await self._parts_sent(message, index + 1)
        return first

    async def _send_interactive(self, message: OutboxMessage, heard: datetime) -> str | None:
        """Send a text's buttons as a WhatsApp quick reply or list; None: send it as text instead.

        Text it is when there are no buttons or none fit, when the message was held for the window
        (it went out later than asked: the words to type hold however the dialog moved on), when an
        interactive try of it was not delivered, or when the Content API or Twilio will not take the
        template.
        """
        rows = message.payload.get("buttons")
        if self._templates is None or not rows or message.parts_sent:
            return None
        if message.payload.get(HELD) or message.payload.get(AS_TEXT):
            return None
            return None
        spec = interactive_of(plain_text(message.payload, typed_hint=False), rows)
        if spec is None:
            return None
        content_sid = await self._templates.sid_for(spec)
        if content_sid is None:
            return None
        try:
            return await self._create(
                message,
                heard,
                content_sid=content_sid,
                content_variables=json.dumps(spec.variables, ensure_ascii=False),
            )
        except Undeliverable as exc:
            if exc.recipient_gone:
                raise
            log.warning("outbox %s: interactive message refused (%s); sending it as text", message.id, exc)
            await self._templates.check(spec, content_sid)
            return None

    def _body(self, message: OutboxMessage) -> str:
        """The text of a free-form message (buttons are dropped: the texts say what to type)."""
        if message.kind == "location":
            lat, lon = float(str(message.payload["lat"])), float(str(message.payload["lon"]))
            return f"📍 https://maps.google.com/?q={lat:.6f},{lon:.6f}"
        if message.kind == "photo":
            # An HTML caption (a ticket card) loses its markup like an HTML text.
            caption = message.payload.get("caption", "")
            return plain_text({"text": caption, "html": message.payload.get("html")})
        return plain_text(message.payload)

    async def _last_heard(self, address: str) -> datetime | None:
        """When the citizen last wrote (the 24-hour window runs from then); None if never."""
        async with self._sessions() as session:
            citizen = await citizens.find_citizen(session, channel=CHANNEL, address=address)
        return citizen.last_inbound_at if citizen is not None else None

    async def _parts_sent(self, message: OutboxMessage, parts: int) -> None:
        """Record how many parts of a split message went out (the row stays ours under its lease)."""
        assert message.id is not None
        message.parts_sent = parts
        async with self._sessions() as session, session.begin():
            await outbox.record_parts_sent(session, outbox_id=message.id, attempt=message.attempts, parts=parts)

    async def _create(
        self, message: OutboxMessage, heard: datetime | None = None, *, part: int = 1, **params: Any
    ) -> str:
        """One Messages.create call, in its turn; Twilio's answer sorted into the dispatcher's terms."""
        try:
            async with self._pace.turn():
                created = await self._client.messages.create_async(
                    to=message.chat_id,
                    from_=self._from,
                    status_callback=self.status_callback(message, part),
                    **params,
                )
        except TwilioRestException as exc:
            raise self._classify(exc, message, heard) from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise RetryLater(f"Twilio unreachable: {type(exc).__name__}: {exc}") from exc
        return str(created.sid)

    def _classify(self, exc: TwilioRestException, message: OutboxMessage, heard: datetime | None) -> DeliveryError:
        what = f"Twilio {exc.status} error {exc.code}: {exc.msg}"
        if exc.code == OUTSIDE_WINDOW and message.kind != "template":
            return HeldForWindow(what, template=self.template_for(message), last_heard=heard)
        if exc.code == OPTED_OUT:
            return Undeliverable(what, recipient_gone=True)
        if exc.status == 429 or exc.code in RATE_LIMITED or exc.status >= 500:
            # After the outbox's backoff: twilio's exception carries no response headers, so there is
            # no Retry-After to read (and Twilio documents none; it asks for exponential backoff).
            return RetryLater(what, rate_limited=exc.status == 429 or exc.code in RATE_LIMITED)
        return Undeliverable(what)

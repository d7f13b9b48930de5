"""The dialog's buttons as WhatsApp buttons: Content API templates the bot creates once and reuses.

A message's neutral buttons become a `twilio/quick-reply` (1 to 3 buttons, titles of at most 20
characters: WhatsApp's limit for a session message) or a `twilio/list-picker` (up to 10 items of at
most 24 characters). The titles are the template's own words; the message text and each button's
data (the same data a Telegram button carries) are content variables, so one template serves every
message with the same buttons. Templates are named by a digest of what they hold
("ehumas_quick_reply_<digest>"): new wording makes a new template, never a changed one.

Creating one is claimed through the `whatsapp_content` table (its friendly name is unique), so
that several workers and restarts create each template once; the claimant first looks the name up
at Twilio, in case a process died after creating it. Whenever a template cannot be had (the
Content API fails, another worker is creating it just now), the message goes as text.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client
from twilio.rest.content.v1.content import ContentList

from handlers.clock import Clock
from handlers.texts import picker
from handlers.textsafe import utf16_len
from storage import whatsapp_content

log = logging.getLogger(__name__)

# WhatsApp's limits for interactive session messages, as Twilio documents them.
QUICK_REPLY_MAX = 3
LIST_MAX = 10
TITLE_LIMIT = 20
ITEM_LIMIT = 24
ID_LIMIT = 200
BODY_LIMIT = 1024

QUICK_REPLY = "twilio/quick-reply"
LIST_PICKER = "twilio/list-picker"
NAME_PREFIX = "ehumas_"

# A claim older than this was left by a process that died while creating the template.
CLAIM_TIMEOUT = timedelta(minutes=2)
# After a Content API failure, this process sends text for a while rather than asking again per message.
PAUSE_AFTER_FAILURE = timedelta(minutes=1)
CONTENT_ERRORS = (TwilioException, aiohttp.ClientError, TimeoutError, OSError, ValueError, KeyError)


@dataclass(frozen=True)
class Interactive:
    """One interactive message: its template (by name and content) and the variables of this send."""

    friendly_name: str
    kind: str
    types: dict[str, Any]
    variables: dict[str, str]


def interactive_of(text: str, rows: Sequence[Sequence[Sequence[str]]]) -> Interactive | None:
    """The interactive form of a text with buttons ([[label, data], ...] rows), or None if none fits."""
    options = [(str(button[0]).strip(), str(button[1])) for row in rows for button in row]
    # Lengths as Twilio counts them, in UTF-16 units (an emoji counts two): a limit is never met by halves.
    if not options or not text.strip() or utf16_len(text) > BODY_LIMIT:
        return None
    if any(not label or not data or utf16_len(data) > ID_LIMIT for label, data in options):
        return None
    variables = {"1": text} | {str(index + 2): data for index, (_, data) in enumerate(options)}
    if len(options) <= QUICK_REPLY_MAX and all(utf16_len(label) <= TITLE_LIMIT for label, _ in options):
        kind = QUICK_REPLY
        spec: dict[str, Any] = {
            "body": "{{1}}",
            "actions": [
                {"type": "QUICK_REPLY", "title": label, "id": f"{{{{{index + 2}}}}}"}
                for index, (label, _) in enumerate(options)
            ],
        }
    elif len(options) <= LIST_MAX and all(utf16_len(label) <= ITEM_LIMIT for label, _ in options):
        kind = LIST_PICKER
        spec = {
            "body": "{{1}}",
            "button": picker.LIST_BUTTON,
            "items": [{"item": label, "id": f"{{{{{index + 2}}}}}"} for index, (label, _) in enumerate(options)],
        }
    else:
        return None
    types = {kind: spec}
    digest = hashlib.sha256(json.dumps(types, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]
    name = f"{NAME_PREFIX}{kind.removeprefix('twilio/').replace('-', '_')}_{digest}"
    return Interactive(friendly_name=name, kind=kind, types=types, variables=variables)


def _samples(spec: Interactive) -> dict[str, str]:
    """Sample values of a template's variables, as the Twilio console shows them."""
    return {key: ("Pesan" if key == "1" else f"pilihan-{key}") for key in spec.variables}


class ContentTemplates:
    """The content templates this deployment uses: from memory, the database, or created at Twilio once."""

    def __init__(
        self,
        client: Client,
        *,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        claim_timeout: timedelta = CLAIM_TIMEOUT,
        pause: timedelta = PAUSE_AFTER_FAILURE,
    ) -> None:
        self._client = client
        self._sessions = sessions
        self._clock = clock
        self._claim_timeout = claim_timeout
        self._pause = pause
        self._known: dict[str, str] = {}
        self._paused_until: datetime | None = None
        # One creation at a time in this process (other processes are kept out by the claim).
        self._lock = asyncio.Lock()

    async def sid_for(self, spec: Interactive) -> str | None:
        """The content SID of a template, created if need be; None: send this message as text."""
        known = self._known.get(spec.friendly_name)
        if known is not None:
            return known
        if self._paused_until is not None and self._clock.now() < self._paused_until:
            return None
        async with self._lock:
            known = self._known.get(spec.friendly_name)
            if known is not None:
                return known
            try:
                sid = await self._stored_or_created(spec)
            except CONTENT_ERRORS as exc:
                log.warning(
                    "Content API failed for %s (%s: %s); WhatsApp buttons go as text for now",
                    spec.friendly_name,
                    type(exc).__name__,
                    exc,
                )
                self._paused_until = self._clock.now() + self._pause
                return None
            if sid is not None:
                self._known[spec.friendly_name] = sid
            return sid

    async def check(self, spec: Interactive, content_sid: str) -> None:
        """After Twilio refused to send a template: forget it if it is gone (deleted in the console).

        The next message then creates it anew; a template that still exists is kept.
        """
        try:
            await self._client.content.v1.contents(content_sid).fetch_async()
        except TwilioRestException as exc:
            if exc.status != 404:
                return
        except CONTENT_ERRORS:
            return  # cannot tell: keep it
        else:
            return
        log.warning(
            "WhatsApp content template %s (%s) is gone at Twilio; it will be created again",
            spec.friendly_name,
            content_sid,
        )
        if self._known.get(spec.friendly_name) == content_sid:
            del self._known[spec.friendly_name]
        async with self._sessions() as session, session.begin():
            await whatsapp_content.forget(session, friendly_name=spec.friendly_name, content_sid=content_sid)

    async def _stored_or_created(self, spec: Interactive) -> str | None:
        """The stored SID; or, once this process holds the claim, the one found or created at Twilio."""
        name = spec.friendly_name
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            row = await whatsapp_content.find(session, friendly_name=name)
            if row is not None and row.content_sid:
                return row.content_sid
            if row is None:
                mine = await whatsapp_content.claim(session, friendly_name=name, now=now)
            else:
                mine = await whatsapp_content.take_over(
                    session, friendly_name=name, claimed_before=now - self._claim_timeout, now=now
                )
        if not mine:
            # Another process is creating it right now: this message goes as text.
            return None
        try:
            sid = await self._at_twilio(name) or await self._create(spec)
        except Exception:
            # Let the next message (here or in another process) try again.
            async with self._sessions() as session, session.begin():
                await whatsapp_content.forget(session, friendly_name=name, content_sid=None)
            raise
        async with self._sessions() as session, session.begin():
            await whatsapp_content.record(session, friendly_name=name, content_sid=sid)
        log.info("WhatsApp content template %s is %s", name, sid)
        return sid

    async def _at_twilio(self, name: str) -> str | None:
        """The SID of a template of this name at Twilio already (a process died before storing it)."""
        async for content in await self._client.content.v1.contents.stream_async(page_size=100):
            if content.friendly_name == name and content.sid:
                return str(content.sid)
        return None

    async def _create(self, spec: Interactive) -> str:
        """Create the template at Twilio; its SID."""
        request = ContentList.ContentCreateRequest(
            {"friendly_name": spec.friendly_name, "language": "id", "variables": _samples(spec), "types": spec.types}
        )
        created = await self._client.content.v1.contents.create_async(content_create_request=request)
        if not created.sid:
            raise ValueError("the Content API answered without a SID")
        return str(created.sid)

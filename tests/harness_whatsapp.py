"""End-to-end WhatsApp: the real app, the real twilio client, a Twilio stand-in, signed form posts."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update
from sqlmodel import col
from twilio.request_validator import RequestValidator

from bot.app import Tuning
from bot.standins.telegram_api import TelegramStandIn
from bot.standins.twilio_api import TwilioCall, TwilioStandIn
from bot.whatsapp.webhooks import WEBHOOK_PATH
from storage.models import Citizen
from tests.harness import FAST, World, running_bot, settings_for

BOT_NUMBER = "whatsapp:+14155238886"
TEMPLATE_SID = "HX" + "5" * 32


@dataclass(frozen=True)
class Phone:
    """A citizen on WhatsApp."""

    number: str  # "+6281234567890"
    name: str

    @property
    def address(self) -> str:
        """The From / To value Twilio uses: "whatsapp:+62..."."""
        return "whatsapp:" + self.number


def whatsapp_section(twilio: TwilioStandIn, **overrides: Any) -> dict[str, Any]:
    """The [whatsapp] settings pointing the twilio client at the stand-in."""
    section: dict[str, Any] = {
        "account_sid": twilio.account_sid,
        "auth_token": twilio.auth_token,
        "from_number": BOT_NUMBER,
        "api_base_url": twilio.base_url,
        "reply_template_sid": TEMPLATE_SID,
    }
    section.update(overrides)
    return section


def inbound_form(
    account_sid: str,
    phone: Phone,
    body: str = "",
    *,
    sid: str | None = None,
    media: Sequence[tuple[str, str]] = (),
    location: tuple[float, float] | None = None,
    address: str = "",
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The form Twilio posts for an inbound WhatsApp message to an account (`extra`: fields added or replaced)."""
    message_sid = sid or ("MM" if media else "SM") + secrets.token_hex(16)
    form = {
        "SmsMessageSid": message_sid,
        "NumMedia": str(len(media)),
        "ProfileName": phone.name,
        "MessageType": "image" if media else "location" if location else "text",
        "SmsSid": message_sid,
        "WaId": phone.number.removeprefix("+"),
        "SmsStatus": "received",
        "Body": body,
        "To": BOT_NUMBER,
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": message_sid,
        "AccountSid": account_sid,
        "From": phone.address,
        "ApiVersion": "2010-04-01",
    }
    for index, (url, content_type) in enumerate(media):
        form[f"MediaUrl{index}"] = url
        form[f"MediaContentType{index}"] = content_type
    if location is not None:
        form.update(Latitude=str(location[0]), Longitude=str(location[1]))
        if address:
            form["Address"] = address
    form.update(extra or {})
    return form


@dataclass
class WhatsApp:
    """A running bot with WhatsApp on, and ways to write to it the way Twilio does."""

    world: World
    twilio: TwilioStandIn
    _seen: dict[str, int] = field(default_factory=dict)

    @property
    def public_url(self) -> str:
        """The address Twilio calls (and signs); the app itself listens at world.url."""
        return self.world.settings.server.public_url

    def form(self, phone: Phone, body: str = "", **details: Any) -> dict[str, str]:
        """The form Twilio posts for an inbound WhatsApp message (details: as for inbound_form)."""
        return inbound_form(self.twilio.account_sid, phone, body, **details)

    def signature(self, form: dict[str, str], url: str | None = None) -> str:
        """X-Twilio-Signature as Twilio computes it: over the public URL it was told to call."""
        validator = RequestValidator(self.twilio.auth_token)
        return str(validator.compute_signature(url or self.public_url + WEBHOOK_PATH, form))

    async def post(
        self, form: dict[str, str], *, signature: str | None = "auto", path: str = WEBHOOK_PATH
    ) -> httpx.Response:
        """POST a form to the app (reached directly, like through a reverse proxy)."""
        headers = {}
        if signature == "auto":
            signature = self.signature(form, self.public_url + path)
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        return await self.world.http.post(self.world.url + path, data=form, headers=headers)

    async def send(self, phone: Phone, body: str = "", **kwargs: Any) -> dict[str, str]:
        """Deliver a citizen's message and require Twilio's expected answer; return the form."""
        form = self.form(phone, body, **kwargs)
        response = await self.post(form)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/xml")
        assert response.text == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
        return form

    async def replies(self, phone: Phone, n: int = 1, timeout: float = 10.0) -> list[TwilioCall]:
        """Wait until the citizen has received n more messages than already counted; return them."""
        seen = self._seen.get(phone.address, 0)
        calls = await self.twilio.wait_for_count(seen + n, to=phone.address, timeout=timeout)
        self._seen[phone.address] = len(calls)
        return calls[seen:]

    async def reply(self, phone: Phone, timeout: float = 10.0) -> TwilioCall:
        """The next message the citizen receives."""
        return (await self.replies(phone, 1, timeout))[0]

    async def age_window(self, phone: Phone, hours: float = 25) -> None:
        """Pretend the citizen last wrote `hours` ago (outside WhatsApp's 24-hour window)."""
        async with self.world.runtime.sessions() as session, session.begin():
            await session.exec(
                update(Citizen)
                .where(col(Citizen.channel) == "whatsapp", col(Citizen.address) == phone.address)
                .values(last_inbound_at=self.world.clock.now() - timedelta(hours=hours))
            )


@asynccontextmanager
async def running_whatsapp_bot(
    database_url: str,
    telegram: TelegramStandIn,
    twilio: TwilioStandIn,
    *,
    tuning: Tuning = FAST,
    **whatsapp: Any,
) -> AsyncIterator[WhatsApp]:
    """The real app with Telegram and WhatsApp on, each pointed at its stand-in."""
    settings = settings_for(database_url, telegram, whatsapp=whatsapp_section(twilio, **whatsapp))
    async with running_bot(settings, telegram, tuning=tuning) as world:
        # Twilio calls the public URL; a reverse proxy would bring it to the app's local address.
        twilio.forward(settings.server.public_url, world.url)
        yield WhatsApp(world, twilio)

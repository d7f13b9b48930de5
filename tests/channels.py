"""One citizen-facing driver per messenger, so fault and hostile-input tests run the same on both.

`running_desk` starts the real app (in process, on a real port) with Telegram and WhatsApp on,
each pointed at its stand-in. `citizen(desk, "telegram" | "whatsapp", n)` is a person writing to
the bot on that messenger; a new messenger slots in by adding one driver class here.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from bot.app import Tuning
from bot.standins.telegram_api import TelegramStandIn
from bot.standins.twilio_api import TwilioStandIn
from tests.harness import FAST, User, World, running_bot, settings_for
from tests.harness_whatsapp import Phone, WhatsApp, whatsapp_section

CHANNELS = ["telegram", "whatsapp"]


@dataclass
class Desk:
    """A running bot with both messengers on."""

    world: World
    wa: WhatsApp

    @property
    def telegram(self) -> TelegramStandIn:
        """The Bot API stand-in."""
        return self.world.telegram

    @property
    def twilio(self) -> TwilioStandIn:
        """The Twilio stand-in."""
        return self.wa.twilio


@asynccontextmanager
async def running_desk(
    database_url: str,
    telegram_api: TelegramStandIn,
    twilio_api: TwilioStandIn,
    *,
    tuning: Tuning = FAST,
    sections: dict[str, dict[str, Any]] | None = None,
) -> AsyncIterator[Desk]:
    """The real app with Telegram and WhatsApp on; `sections` override config keys."""
    sections = dict(sections or {})
    whatsapp = {**whatsapp_section(twilio_api, reply_template_sid=""), **sections.pop("whatsapp", {})}
    settings = settings_for(database_url, telegram_api, whatsapp=whatsapp, **sections)
    async with running_bot(settings, telegram_api, tuning=tuning) as world:
        twilio_api.forward(settings.server.public_url, world.url)
        yield Desk(world, WhatsApp(world, twilio_api))


class Citizen(Protocol):
    """A person writing to the bot on one messenger."""

    channel: str

    @property
    def address(self) -> str:
        """The chat id as stored: "424242" or "whatsapp:+62..."."""
        ...

    def message(self, text: str) -> Any:
        """A new inbound message (an update or a form), not yet posted."""

    async def post(self, message: Any) -> httpx.Response:
        """Deliver a message to the webhook as the messenger would; return the answer."""

    async def send(self, text: str) -> None:
        """Write a message and require the webhook's success answer."""

    async def replies(self, n: int = 1, timeout: float = 10.0) -> list[str]:
        """The next n texts the citizen receives."""

    def received(self) -> list[str]:
        """Every text the citizen received so far."""

    def fail_sends(self, n: int | None, status: int, *, retry_after: int = 1) -> None:
        """Make the next n sends to this citizen fail with status (None: until cleared)."""

    def hang_sends(self, n: int, seconds: float) -> None:
        """Make the next n sends (to anyone on this messenger) hang for seconds, then fail."""

    def clear_faults(self) -> None:
        """Let the messenger work again."""


@dataclass
class TelegramCitizen:
    """A Telegram user in a private chat with the bot."""

    desk: Desk
    user: User
    channel: str = "telegram"
    _seen: int = 0

    @property
    def address(self) -> str:
        return str(self.user.id)

    def message(self, text: str) -> dict[str, Any]:
        return self.desk.world.message(self.user, text)

    async def post(self, message: Any) -> httpx.Response:
        return await self.desk.world.post(message)

    async def send(self, text: str) -> None:
        await self.desk.world.send(self.message(text))

    async def replies(self, n: int = 1, timeout: float = 10.0) -> list[str]:
        calls = await self.desk.telegram.wait_for_count(self._seen + n, chat_id=self.user.id, timeout=timeout)
        new, self._seen = calls[self._seen : self._seen + n], self._seen + n
        return [c.text or "" for c in new]

    def received(self) -> list[str]:
        return [c.text or "" for c in self.desk.telegram.sent_messages(self.user.id)]

    def fail_sends(self, n: int | None, status: int, *, retry_after: int = 1) -> None:
        self.desk.telegram.fail_chat(self.user.id, status=status, n=n, retry_after=retry_after)

    def hang_sends(self, n: int, seconds: float) -> None:
        self.desk.telegram.fail_next(n, hang=seconds)

    def clear_faults(self) -> None:
        self.desk.telegram.clear_faults()


@dataclass
class WhatsAppCitizen:
    """A WhatsApp user writing to the bot's number through Twilio."""

    desk: Desk
    phone: Phone
    channel: str = "whatsapp"
    _seen: int = 0

    @property
    def address(self) -> str:
        return self.phone.address

    def message(self, text: str) -> dict[str, str]:
        return self.desk.wa.form(self.phone, text)

    async def post(self, message: Any) -> httpx.Response:
        return await self.desk.wa.post(message)

    async def send(self, text: str) -> None:
        response = await self.post(self.message(text))
        assert response.status_code == 200, response.text

    async def replies(self, n: int = 1, timeout: float = 10.0) -> list[str]:
        calls = await self.desk.twilio.wait_for_count(self._seen + n, to=self.phone.address, timeout=timeout)
        new, self._seen = calls[self._seen : self._seen + n], self._seen + n
        return [c.body or "" for c in new]

    def received(self) -> list[str]:
        return [c.body or "" for c in self.desk.twilio.sent_messages(self.phone.address)]

    def fail_sends(self, n: int | None, status: int, *, retry_after: int = 1) -> None:
        self.desk.twilio.fail_to(self.phone.address, status=status, code=None, n=n)

    def hang_sends(self, n: int, seconds: float) -> None:
        self.desk.twilio.fail_next(n, hang=seconds)

    def clear_faults(self) -> None:
        self.desk.twilio.clear_faults()


def citizen(desk: Desk, channel: str, n: int = 1) -> Citizen:
    """The n-th test citizen on a messenger."""
    if channel == "telegram":
        return TelegramCitizen(desk, User(700_000 + n, f"Warga{n}"))
    if channel == "whatsapp":
        return WhatsAppCitizen(desk, Phone(f"+62812000{n:05d}", f"Warga{n}"))
    raise ValueError(f"no test driver for channel {channel!r}")


def fresh_id(message: Any) -> Any:
    """A copy of a message with a new external id (a different message with the same content)."""
    copy = json.loads(json.dumps(message))
    if "update_id" in copy:
        copy["update_id"] = copy["update_id"] + 10_000_000 + secrets.randbelow(10_000_000)
    else:
        sid = "SM" + secrets.token_hex(16)
        copy.update(MessageSid=sid, SmsMessageSid=sid, SmsSid=sid)
    return copy


async def post_concurrently(who: Citizen, message: Any, times: int) -> list[int]:
    """Deliver the same message `times` times at once (a messenger retrying over several connections)."""
    responses = await asyncio.gather(*(who.post(message) for _ in range(times)))
    return [r.status_code for r in responses]

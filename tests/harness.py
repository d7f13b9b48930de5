"""End-to-end harness: the real app on a real port, the real PTB client, a Bot API stand-in."""

from __future__ import annotations

import asyncio
import copy
import itertools
import time
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette

from bot.app import Runtime, Tuning, create_app
from bot.config import Settings, parse_settings
from bot.runtime.dispatcher import DispatchPolicy
from bot.standins.server import StandInServer
from bot.standins.telegram_api import TelegramCall, TelegramStandIn
from bot.telegram.webhook import SECRET_HEADER
from bot.telegram.webhook import WEBHOOK_PATH as TELEGRAM_WEBHOOK_PATH
from handlers.clock import Clock
from storage import inbox, outbox
from tests.conftest import ROOT

SECRET = "test-secret_123"
HUMAS_CHAT = -1001000000000
DLHK_CHAT = -1001000000001
PUPR_CHAT = -1001000000002
DISDUKCAPIL_CHAT = -1001000000003
ADMIN_ID = 100000001

FAST = Tuning(
    dispatch=DispatchPolicy(poll_seconds=0.05, backoff_first=0.05, backoff_max=0.5, max_attempts=6),
    inbox_poll_seconds=0.05,
    connect_retry_seconds=0.05,
)


def example_data() -> dict[str, Any]:
    """config.example.toml as a dict."""
    return tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))


def settings_for(database_url: str, standin: TelegramStandIn, **sections: dict[str, Any]) -> Settings:
    """Settings for a test: the example, pointed at the stand-in and the test database."""
    telegram = standin
    data = copy.deepcopy(example_data())
    data["database"]["url"] = database_url
    data["telegram"].update(token=telegram.token, webhook_secret=SECRET, api_base_url=telegram.base_url)
    data["server"]["public_url"] = "https://ehumas.test"
    for name, values in sections.items():
        data[name].update(values)
    return parse_settings(data, "test-config")


_message_ids = itertools.count(1000)


@dataclass
class User:
    """A Telegram user in a test."""

    id: int
    first_name: str
    last_name: str = ""
    username: str = ""

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data


@dataclass
class World:
    """One running bot plus the stand-in, and ways to talk to it like Telegram would."""

    telegram: TelegramStandIn
    settings: Settings
    app: Starlette
    url: str
    http: httpx.AsyncClient
    clock: Clock
    sent_updates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def runtime(self) -> Runtime:
        runtime = self.app.state.runtime
        assert isinstance(runtime, Runtime)
        return runtime

    async def post(self, update: dict[str, Any], *, secret: str | None = SECRET, **kwargs: Any) -> httpx.Response:
        """POST an update to the webhook the way Telegram does."""
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        return await self.http.post(self.url + TELEGRAM_WEBHOOK_PATH, json=update, headers=headers, **kwargs)

    async def send(self, update: dict[str, Any]) -> None:
        """Deliver an update and require the 200."""
        response = await self.post(update)
        assert response.status_code == 200, response.text
        self.sent_updates.append(update)

    def message(
        self,
        user: User,
        text: str | None = None,
        *,
        chat_id: int | None = None,
        chat_title: str = "",
        reply_to: TelegramCall | None = None,
        photo: str | None = None,
        location: tuple[float, float] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A message update from `user` (in a private chat unless chat_id is a group)."""
        chat_id = chat_id if chat_id is not None else user.id
        if chat_id > 0:
            chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": user.first_name}
        else:
            chat = {"id": chat_id, "type": "supergroup", "title": chat_title or f"Grup {chat_id}"}
        message: dict[str, Any] = {
            "message_id": next(_message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": user.json(),
        }
        if text is not None:
            message["caption" if photo else "text"] = text
        if photo is not None:
            message["photo"] = [
                {"file_id": photo + "-small", "file_unique_id": photo + "s", "width": 90, "height": 90},
                {"file_id": photo, "file_unique_id": photo + "l", "width": 1280, "height": 960},
            ]
        if location is not None:
            message["location"] = {"latitude": location[0], "longitude": location[1]}
        if reply_to is not None:
            message["reply_to_message"] = {
                "message_id": reply_to.message_id,
                "date": int(time.time()),
                "chat": chat,
                "from": self.telegram.bot_user,
                "text": reply_to.text or "",
            }
        message.update(extra or {})
        return {"update_id": self.telegram.next_update_id(), "message": message}

    def button(self, user: User, data: str, on: TelegramCall) -> dict[str, Any]:
        """A press of an inline button on a message the bot sent."""
        return {
            "update_id": self.telegram.next_update_id(),
            "callback_query": {
                "id": f"cb{next(_message_ids)}",
                "from": user.json(),
                "chat_instance": "ci",
                "data": data,
                "message": {
                    "message_id": on.message_id,
                    "date": int(time.time()),
                    "chat": {"id": on.chat_id, "type": "private", "first_name": user.first_name},
                    "from": self.telegram.bot_user,
                    "text": on.text or "",
                },
            },
        }

    async def replies(self, chat_id: int, n: int = 1, timeout: float = 10.0) -> list[TelegramCall]:
        """Wait until the chat has received n more messages than were already counted; return them."""
        seen = self._seen.get(chat_id, 0)
        calls = await self.telegram.wait_for_count(seen + n, chat_id=chat_id, timeout=timeout)
        self._seen[chat_id] = len(calls)
        return calls[seen:]

    async def reply(self, chat_id: int, timeout: float = 10.0) -> TelegramCall:
        """The next message the chat receives."""
        return (await self.replies(chat_id, 1, timeout))[0]

    async def settled(self, timeout: float = 10.0) -> None:
        """Wait until every stored update is processed and every queued message sent or failed."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            async with self.runtime.sessions() as session:
                if await inbox.count_unprocessed(session) == 0 and await outbox.pending_count(session) == 0:
                    return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"the bot did not settle: {await self._busy()}")
            await asyncio.sleep(0.02)

    async def _busy(self) -> str:
        """What is still waiting, for a failing test's message."""
        from sqlmodel import col, select

        from storage.models import InboxEvent, OutboxMessage

        async with self.runtime.sessions() as session:
            events = (await session.exec(select(InboxEvent).where(col(InboxEvent.processed_at).is_(None)))).all()
            rows = (
                await session.exec(select(OutboxMessage).where(col(OutboxMessage.status).in_(["pending", "sending"])))
            ).all()
        return (
            "; ".join(
                [f"inbox {e.id} {e.chat_key} attempts={e.attempts} error={e.last_error}" for e in events]
                + [
                    f"outbox {r.id} {r.channel}:{r.chat_id} {r.status} attempts={r.attempts} next={r.next_attempt_at} "
                    f"error={r.last_error}"
                    for r in rows
                ]
            )
            or "nothing (raced)"
        )

    _seen: dict[int, int] = field(default_factory=dict)


@asynccontextmanager
async def running_bot(
    settings: Settings, telegram: TelegramStandIn, *, clock: Clock | None = None, tuning: Tuning = FAST
) -> AsyncIterator[World]:
    """Start the real app (lifespan included) on a free port and wait until it is connected."""
    clock = clock or Clock()
    app = create_app(settings, clock=clock, tuning=tuning)
    async with app.router.lifespan_context(app):
        async with StandInServer(app) as server, httpx.AsyncClient(timeout=10) as http:
            world = World(telegram, settings, app, server.url, http, clock)
            await asyncio.wait_for(world.runtime.connected.wait(), timeout=10)
            yield world

"""Helpers for the web desk's tests: log in through /masuk like a person would, then browse over HTTP."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from bot.standins.telegram_api import TelegramStandIn
from bot.web.auth import COOKIE
from storage import citizens, complaints
from tests.harness import User, World

WEB = {"enabled": True, "secret": "desk-secret-for-tests-0123456789abcdef"}
HREF = re.compile(r'href="([^"]+)"')
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def web_sections(**sla: Any) -> dict[str, dict[str, Any]]:
    """settings_for(...) sections with the desk on (and, optionally, other [sla] timings)."""
    sections: dict[str, dict[str, Any]] = {"web": dict(WEB)}
    if sla:
        sections["sla"] = sla
    return sections


async def login_link(world: World, user: User) -> str:
    """Send /masuk in the user's private chat; the link the bot answers with (its public_url form)."""
    await world.send(world.message(user, "/masuk"))
    reply = await world.reply(user.id)
    found = HREF.search(reply.text or "")
    assert found is not None, reply.text
    return found.group(1)


def local(world: World, link: str) -> str:
    """A public_url link, at the address the test server really listens on."""
    return world.url + urlsplit(link).path


@dataclass
class DeskClient:
    """One logged-in browser session, over plain HTTP (the cookie is sent by hand: it is Secure)."""

    world: World
    cookie: str

    def _headers(self) -> dict[str, str]:
        return {"Cookie": f"{COOKIE}={self.cookie}"}

    async def get(self, path: str, **params: Any) -> httpx.Response:
        # (httpx replaces a URL's own query with `params`, even an empty one.)
        return await self.world.http.get(self.world.url + path, params=params or None, headers=self._headers())

    async def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        return await self.world.http.post(self.world.url + path, data=data, headers=self._headers())

    async def csrf(self, path: str = "/desk/") -> str:
        page = await self.get(path)
        found = CSRF.search(page.text)
        assert found is not None, page.text[:500]
        return found.group(1)


async def open_link(world: World, link: str) -> httpx.Response:
    """Open a login link (no redirect followed)."""
    return await world.http.get(local(world, link))


def session_cookie(response: httpx.Response) -> str:
    """The desk's session cookie a response set."""
    header = next(h for h in response.headers.get_list("set-cookie") if h.startswith(COOKIE + "="))
    return header.split(";", 1)[0].split("=", 1)[1]


async def log_in(world: World, user: User) -> DeskClient:
    """The whole login: /masuk in Telegram, open the link, keep the session."""
    response = await open_link(world, await login_link(world, user))
    assert response.status_code == 303, response.text
    return DeskClient(world, session_cookie(response))


async def stored_complaint(
    world: World,
    *,
    channel: str = "telegram",
    address: str = "424242",
    name: str = "Budi Santoso",
    description: str = "sampah menumpuk di TPS",
    opd: str | None = "DLHK",
    category: str | None = "Pengangkutan sampah",
    location: tuple[float, float] | None = None,
    location_text: str | None = None,
    created_at: datetime | None = None,
) -> int:
    """A complaint written straight to the database (for lists too long to file by chat)."""
    desk = world.runtime.desk
    now = created_at or desk.now()
    async with world.runtime.sessions() as session, session.begin():
        citizen = await citizens.touch_citizen(session, channel=channel, address=address, display_name=name, now=now)
        await session.flush()
        assert citizen.id is not None
        complaint = await complaints.create_complaint(
            session,
            citizen_id=citizen.id,
            description=description,
            opd_code=opd,
            category=category,
            confidence=0.9,
            now=now,
            due_at=now + desk.answer_within,
            location_lat=location[0] if location else None,
            location_lon=location[1] if location else None,
            location_text=location_text,
        )
        assert complaint.id is not None
        return complaint.id


def members(telegram: TelegramStandIn, *memberships: tuple[int, int, str]) -> None:
    """Tell the stand-in who belongs to which group (chat id, user id, status)."""
    for chat_id, user_id, status in memberships:
        telegram.set_member(chat_id, user_id, status)

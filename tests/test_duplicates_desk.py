"""The web desk shows who follows a ticket (a count, never who) and the tickets merged into it (issue 17)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.standins.telegram_api import TelegramStandIn
from tests.harness import ADMIN_ID, DLHK_CHAT, PUPR_CHAT, User, World, running_bot, settings_for
from tests.test_duplicates import ANI, BUDI, MARKET, NEAR, SITI, STAFF_DLHK, file_at, say
from tests.web_desk import log_in, members, web_sections

ADMIN = User(ADMIN_ID, "Astibar")
STAFF_PUPR = User(900002, "Yusuf")


@pytest.fixture
async def world(database_url: str, telegram: TelegramStandIn) -> AsyncIterator[World]:
    members(telegram, (DLHK_CHAT, STAFF_DLHK.id, "member"), (PUPR_CHAT, STAFF_PUPR.id, "administrator"))
    async with running_bot(settings_for(database_url, telegram, **web_sections()), telegram) as world:
        yield world


async def test_the_desk_shows_followers_and_merged_tickets(world: World) -> None:
    await file_at(world, BUDI, "Sampah numpuk di depan pasar Mandonga sudah 3 hari", MARKET)
    await say(world, SITI, "sampah menumpuk bau sekali dekat pasar, tolong diangkut")
    await say(world, SITI, location=NEAR)
    await say(world, SITI, "KDI-0001")  # the ticket number answers the offer too
    copy = await file_at(world, ANI, "Sampah di pasar Mandonga dibuang sembarangan oleh pedagang", None)
    await say(world, STAFF_DLHK, f"/gabung {copy} KDI-0001", chat_id=DLHK_CHAT)

    staff = await log_in(world, STAFF_DLHK)
    page = (await staff.get("/desk/aduan/KDI-0001")).text
    assert 'data-testid="followers">3 warga' in page
    assert 'href="/desk/aduan/KDI-0002">KDI-0002</a>' in page
    # Staff see how many, never who.
    assert "Siti" not in page and "Ani" not in page and str(SITI.id) not in page
    merged = (await staff.get("/desk/aduan/KDI-0002")).text
    assert 'data-testid="merged-into"><a href="/desk/aduan/KDI-0001">KDI-0001</a>' in merged
    assert "digabung" in merged

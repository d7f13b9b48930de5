"""'Already reported?' across messengers: a WhatsApp citizen follows a Telegram citizen's ticket, end to end."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.standins.telegram_api import TelegramStandIn
from bot.standins.twilio_api import TwilioStandIn
from tests.harness import DLHK_CHAT
from tests.harness_whatsapp import Phone, WhatsApp, running_whatsapp_bot
from tests.test_duplicates import BUDI, MARKET, NEAR, STAFF_DLHK, file_at, last_to, say

ANI = Phone("+6281234567890", "Ani Wulandari")


@pytest.fixture
async def wa(database_url: str, telegram: TelegramStandIn, twilio: TwilioStandIn) -> AsyncIterator[WhatsApp]:
    async with running_whatsapp_bot(database_url, telegram, twilio) as running:
        yield running


async def test_a_whatsapp_citizen_follows_and_confirms_on_whatsapp(wa: WhatsApp) -> None:
    world = wa.world
    ticket = await file_at(world, BUDI, "Sampah numpuk di depan pasar Mandonga sudah 3 hari", MARKET)
    await wa.send(ANI, "Sampah menumpuk bau sekali dekat pasar, tolong diangkut")
    await wa.reply(ANI)
    await wa.send(ANI, location=NEAR)
    offer = await wa.reply(ANI)
    assert "sudah dilaporkan" in offer.body and f"1. {ticket}" in offer.body and "±100 m" in offer.body
    # WhatsApp's own buttons: "Ikuti 1" and "Lapor baru".
    assert [title for title, _ in offer.options] == ["Ikuti 1", "Lapor baru"]
    await wa.send(ANI, ticket)
    assert f"ikut memantau aduan {ticket}" in (await wa.reply(ANI)).body
    await world.settled()
    assert last_to(world, DLHK_CHAT) == f"👥 {ticket} kini dilaporkan 2 warga."
    assert "Ani" not in last_to(world, DLHK_CHAT) and "6281234567890" not in last_to(world, DLHK_CHAT)

    # The agency's answer reaches the WhatsApp follower; so does the closing and the question.
    await say(world, STAFF_DLHK, f"#{ticket} Truk meluncur.", chat_id=DLHK_CHAT)
    assert "Truk meluncur." in (await wa.reply(ANI)).body
    await say(world, STAFF_DLHK, f"/selesai {ticket}", chat_id=DLHK_CHAT)
    closed, question = await wa.replies(ANI, 2)
    assert "dinyatakan selesai" in closed.body and "sudah beres?" in question.body
    # The follower's "belum" reopens it too.
    await wa.send(ANI, "belum, masih ada sampahnya")
    assert "dibuka kembali" in (await wa.reply(ANI)).body
    await world.settled()
    assert "dibuka kembali" in last_to(world, BUDI.id)
    assert "DIBUKA KEMBALI" in last_to(world, DLHK_CHAT)

"""Agency groups and humas admins: /daftar, prompts that name the real ticket, admins' own help."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.standins.telegram_api import TelegramStandIn
from handlers.sla import _batch_key
from storage import conversations
from storage.models import Complaint
from tests.harness import DLHK_CHAT, HUMAS_CHAT, PUPR_CHAT, User, World, running_bot
from tests.test_e2e_telegram import BUDI, SITI, STAFF_DLHK, STAFF_PUPR, file_complaint
from tests.test_staff_humas import ADMIN, HOUR, seed, sla_settings


@pytest.fixture
async def world(database_url: str, telegram: TelegramStandIn) -> AsyncIterator[World]:
    async with running_bot(sla_settings(database_url, telegram), telegram) as world:
        yield world


async def test_daftar_lists_a_groups_open_tickets_most_urgent_first(world: World) -> None:
    first = await file_complaint(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau")
    world.clock.advance(timedelta(minutes=10))
    second = await file_complaint(world, SITI, "sampah liar di pinggir kali Wanggu belum diangkut")
    third = await file_complaint(world, User(779, "Andi"), "sampah berserakan di lorong Kambu")
    cards = await world.replies(DLHK_CHAT, 3)
    await world.send(world.message(STAFF_DLHK, "Sudah kami angkut.", chat_id=DLHK_CHAT, reply_to=cards[2]))
    await world.reply(DLHK_CHAT)
    world.clock.advance(timedelta(minutes=55))  # the first is now 5 minutes late

    await world.send(world.message(STAFF_DLHK, "/daftar", chat_id=DLHK_CHAT))
    listing = (await world.reply(DLHK_CHAT)).text or ""
    assert "Aduan terbuka DLHK" in listing and "Belum ditanggapi</b> (2)" in listing
    assert listing.index(first) < listing.index(second)
    # (The test's clock runs on in real time too: a minute may pass.)
    assert re.search(r"<b>terlambat [56] menit</b> ⚠️", listing) and re.search(r"sisa [45] menit", listing)
    assert "TPS Wua-Wua" in listing and "batas " in listing and "WITA" in listing
    assert f"Sudah ditanggapi, belum selesai</b> (1): {third}" in listing
    assert f"<code>#{first} tanggapan</code>" in listing and "0042" not in listing

    # Another group sees only its own; an empty one says so.
    await world.send(world.message(STAFF_PUPR, "/daftar", chat_id=PUPR_CHAT))
    assert "Tidak ada aduan terbuka untuk PUPR" in (await world.reply(PUPR_CHAT)).text


async def test_daftar_with_many_tickets_shows_the_most_urgent_and_a_count(world: World) -> None:
    await seed(world, {"DLHK": 40, None: 3})
    await world.send(world.message(STAFF_DLHK, "/daftar", chat_id=DLHK_CHAT))
    listing = (await world.reply(DLHK_CHAT)).text or ""
    assert listing.count("• <b>KDI-") == 15 and "Belum ditanggapi</b> (40)" in listing
    assert "… dan 25 aduan lain" in listing and "KDI-0001" in listing and "KDI-0016" not in listing
    # In the humas group, /daftar lists the tickets not routed yet.
    await world.send(world.message(ADMIN, "/daftar", chat_id=HUMAS_CHAT))
    humas = (await world.reply(HUMAS_CHAT)).text or ""
    assert "humas (belum diteruskan)" in humas and humas.count("• <b>KDI-") == 3 and "KDI-0041" in humas


async def test_the_reminder_names_the_real_ticket(world: World) -> None:
    ticket = await file_complaint(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau")
    await world.reply(DLHK_CHAT)
    world.clock.advance(HOUR * 0.6)
    await world.runtime.sweep_once()
    reminder = (await world.reply(DLHK_CHAT)).text or ""
    assert f"<code>#{ticket} tanggapan</code>" in reminder and "0042" not in reminder


async def test_help_and_usage_in_a_group_name_a_real_ticket(world: World) -> None:
    await world.send(world.message(STAFF_DLHK, "/bantuan", chat_id=DLHK_CHAT))
    empty = (await world.reply(DLHK_CHAT)).text or ""
    assert "#KDI-nomor" in empty and "/daftar" in empty and "0042" not in empty

    first = await file_complaint(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau")
    second = await file_complaint(world, SITI, "sampah liar di pinggir kali Wanggu belum diangkut")
    _, second_card = await world.replies(DLHK_CHAT, 2)
    await world.send(world.message(STAFF_DLHK, "/bantuan", chat_id=DLHK_CHAT))
    general = (await world.reply(DLHK_CHAT)).text or ""
    assert f"memakai {first}, aduan grup ini yang paling mendesak" in general and f"/selesai {first}" in general
    await world.send(world.message(STAFF_DLHK, "/bantuan", chat_id=DLHK_CHAT, reply_to=second_card))
    on_card = (await world.reply(DLHK_CHAT)).text or ""
    assert f"#{second} diikuti tanggapan" in on_card and "paling mendesak" not in on_card
    await world.send(world.message(STAFF_DLHK, "/selesai", chat_id=DLHK_CHAT, reply_to=second_card))
    assert (await world.reply(DLHK_CHAT)).text == f"Cara pakai: /selesai {second} [catatan]"
    assert not any("0042" in (c.text or "") for c in world.telegram.sent_messages(DLHK_CHAT))


async def test_an_admin_gets_the_humas_commands_in_a_private_chat_and_no_draft(world: World) -> None:
    for command in ("/start", "/help", "/bantuan"):
        await world.send(world.message(ADMIN, command))
        answer = (await world.reply(ADMIN.id)).text or ""
        assert "Perintah humas:" in answer and "/overdue" in answer and "Selamat datang" not in answer
    async with world.runtime.sessions() as session:
        draft = await conversations.load_conversation(
            session, channel="telegram", chat_id=str(ADMIN.id), now=world.clock.now()
        )
    assert draft is None
    # A citizen's /start is still the citizen's greeting; in the humas group the admin commands show too.
    await world.send(world.message(BUDI, "/start"))
    assert "Selamat datang" in ((await world.reply(BUDI.id)).text or "")
    await world.send(world.message(ADMIN, "/help", chat_id=HUMAS_CHAT))
    group = (await world.reply(HUMAS_CHAT)).text or ""
    assert "Petunjuk untuk petugas" in group and "Perintah humas:" in group


def test_dedup_keys_of_long_batches_stay_distinct() -> None:
    def batch(n: int) -> list[Complaint]:
        return [Complaint(id=i, citizen_id=1, description="x") for i in range(1000, 1000 + n)]

    keys = {_batch_key("overdue-alert", batch(n)) for n in (30, 31, 32)}
    assert len(keys) == 3 and all(len(k) <= 120 for k in keys)
    assert _batch_key("reminder", batch(2)) == "reminder:1000,1001"

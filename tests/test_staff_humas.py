"""The humas side of the desk, end to end: /overdue at scale, one alert per sweep, help, contacts."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.standins.telegram_api import TelegramStandIn
from storage import citizens, complaints
from tests.harness import ADMIN_ID, DLHK_CHAT, HUMAS_CHAT, PUPR_CHAT, User, World, running_bot, settings_for
from tests.test_e2e_telegram import BUDI, SITI, STAFF_DLHK, file_complaint

ADMIN = User(ADMIN_ID, "Astibar")
HOUR = timedelta(hours=1)


def sla_settings(database_url: str, telegram: TelegramStandIn):  # type: ignore[no-untyped-def]
    return settings_for(
        database_url, telegram, sla={"answer_within_hours": 1.0, "remind_before_hours": 0.5, "sweep_seconds": 3600.0}
    )


@pytest.fixture
async def world(database_url: str, telegram: TelegramStandIn) -> AsyncIterator[World]:
    async with running_bot(sla_settings(database_url, telegram), telegram) as world:
        yield world


async def seed(world: World, owners: dict[str | None, int]) -> None:
    """Overdue complaints written straight to the database: `owners` maps an agency to how many."""
    now = world.clock.now()
    async with world.runtime.sessions() as session, session.begin():
        citizen = await citizens.touch_citizen(session, channel="telegram", address="777", display_name="W", now=now)
        assert citizen.id is not None
        n = 0
        for owner, count in owners.items():
            for _ in range(count):
                n += 1
                created = now - timedelta(hours=200 - n)
                await complaints.create_complaint(
                    session,
                    citizen_id=citizen.id,
                    description=f"aduan nomor {n}",
                    opd_code=owner,
                    category="Sampah",
                    confidence=0.9,
                    now=created,
                    due_at=created + HOUR,
                )


async def test_overdue_at_scale_is_one_message_per_few_agencies_and_the_full_list_as_csv(world: World) -> None:
    await seed(world, {"DLHK": 23, None: 2, "PUPR": 4})
    await world.send(world.message(ADMIN, "/overdue", chat_id=HUMAS_CHAT))
    listing, document = await world.replies(HUMAS_CHAT, 2)
    assert listing.method == "sendMessage" and document.method == "sendDocument"
    text = listing.text or ""
    assert "Belum diteruskan</b> (2)" in text and "Dinas Lingkungan Hidup dan Kehutanan</b> (23)" in text
    assert text.count("• KDI-") == 2 + 10 + 4 and "… dan 13 lainnya" in text and "Total: <b>29</b>" in text
    # The ten most overdue of DLHK: its oldest deadlines, KDI-0001 to KDI-0010.
    assert "KDI-0001 " in text and "KDI-0010 " in text and "KDI-0011 " not in text
    assert "29 aduan" in (document.text or "")
    content = next(iter(document.files.values())).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(content)))
    assert len(rows) == 29 and [r["tiket"] for r in rows][:3] == ["KDI-0001", "KDI-0002", "KDI-0003"]
    assert {r["opd"] for r in rows} == {"DLHK", "PUPR", "belum diteruskan"}
    await world.settled()
    assert len(world.telegram.sent_messages(HUMAS_CHAT)) == 2

    # Scoped to one agency, and a short list: complete in the message, no file.
    await world.send(world.message(ADMIN, "/overdue PUPR", chat_id=HUMAS_CHAT))
    scoped = await world.reply(HUMAS_CHAT)
    assert "untuk PUPR" in scoped.text and scoped.text.count("• KDI-") == 4 and "CSV" not in scoped.text
    await world.settled()
    assert len(world.telegram.sent_messages(HUMAS_CHAT)) == 3


async def test_one_sweep_sends_humas_one_summary_and_each_agency_its_teguran(world: World) -> None:
    first = await file_complaint(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau")
    second = await file_complaint(world, SITI, "sampah liar di pinggir kali Wanggu belum diangkut")
    third = await file_complaint(world, User(778, "Andi"), "jalan berlubang besar di depan pasar Baruga bahaya")
    await world.replies(DLHK_CHAT, 2)
    await world.reply(PUPR_CHAT)
    world.clock.advance(HOUR * 2)
    assert (await world.runtime.sweep_once()).reprimanded == 3
    alert = await world.reply(HUMAS_CHAT)
    assert "3 aduan melewati batas" in alert.text
    assert all(ticket in alert.text for ticket in (first, second, third))
    assert "teguran sudah dikirim ke grup DLHK" in alert.text and "teguran sudah dikirim ke grup PUPR" in alert.text
    tegurans = await world.replies(DLHK_CHAT, 2)
    assert all("TEGURAN" in t.text for t in tegurans)
    assert "TEGURAN" in (await world.reply(PUPR_CHAT)).text
    for user in (BUDI, SITI):
        assert "telah menegur" in (await world.reply(user.id)).text
    # Nothing more on the next sweeps (settled first: a clock jump would expire an in-flight lease).
    await world.settled()
    world.clock.advance(HOUR)
    assert (await world.runtime.sweep_once()).reprimanded == 0
    await world.settled()
    assert len(world.telegram.sent_messages(HUMAS_CHAT)) == 1


UNCLEAR = "Tolong dibantu pak, saya bingung harus lapor kemana soal ini"


async def test_after_tolak_a_group_that_answered_learns_its_answer_did_reach_the_citizen(world: World) -> None:
    ticket = await file_complaint(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau")
    card = await world.reply(DLHK_CHAT)
    await world.send(world.message(STAFF_DLHK, "Besok diangkut.", chat_id=DLHK_CHAT, reply_to=card))
    await world.reply(BUDI.id)
    await world.reply(DLHK_CHAT)
    await world.send(world.message(ADMIN, f"/tolak {ticket} lokasi di luar kota", chat_id=HUMAS_CHAT))
    told = await world.reply(DLHK_CHAT)
    assert told.text == (
        f"🚫 Aduan {ticket} ditolak humas. Alasan: lokasi di luar kota\n"
        "Tanggapan grup ini sebelumnya sudah diteruskan ke pelapor; tidak perlu tindak lanjut lagi."
    )
    assert told.params["reply_parameters"]["message_id"] == card.message_id
    assert "ditolak" in (await world.reply(HUMAS_CHAT)).text


async def test_after_pindah_the_old_group_stops_and_the_new_one_gets_the_card(world: World) -> None:
    ticket = await file_complaint(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau")
    card = await world.reply(DLHK_CHAT)
    await world.send(world.message(ADMIN, f"/pindah {ticket} PUPR"))
    new_card = await world.reply(PUPR_CHAT)
    assert f"Aduan {ticket}" in new_card.text and "Dialihkan humas dari DLHK." in new_card.text
    told = await world.reply(DLHK_CHAT)
    assert told.text.startswith(f"↪️ Aduan {ticket} dialihkan humas ke PUPR. Grup ini tidak perlu menanggapinya lagi")
    assert told.params["reply_parameters"]["message_id"] == card.message_id
    assert "Batas baru" in (await world.reply(ADMIN.id)).text


async def test_humas_card_of_an_unrouted_ticket_gets_its_note_as_a_reply(world: World) -> None:
    first = await file_complaint(world, BUDI, UNCLEAR)
    second = await file_complaint(world, SITI, UNCLEAR + " juga")
    first_card, second_card = await world.replies(HUMAS_CHAT, 2)
    assert "Belum jelas" in first_card.text

    # In the humas group: the note answers the card, and is all the group gets.
    await world.send(world.message(ADMIN, f"/pindah {first} PUPR", chat_id=HUMAS_CHAT))
    note = await world.reply(HUMAS_CHAT)
    assert note.text.startswith(f"↪️ {first} dialihkan ke PUPR oleh Astibar. Batas tanggapan baru:")
    assert note.params["reply_parameters"]["message_id"] == first_card.message_id
    assert "Dialihkan humas" not in (await world.reply(PUPR_CHAT)).text

    # From an admin's private chat: the note in the group, the confirmation in the private chat.
    await world.send(world.message(ADMIN, f"/tolak {second} iseng"))
    note = await world.reply(HUMAS_CHAT)
    assert note.text == f"🚫 {second} ditolak oleh Astibar. Alasan: iseng\nPelapor sudah diberi tahu."
    assert note.params["reply_parameters"]["message_id"] == second_card.message_id
    assert "ditolak" in (await world.reply(ADMIN.id)).text
    await world.settled()
    assert len(world.telegram.sent_messages(HUMAS_CHAT)) == 4


async def test_lihat_shows_a_contact_for_people_to_an_admin_only_in_a_private_chat(world: World) -> None:
    now = world.clock.now()
    async with world.runtime.sessions() as session, session.begin():
        citizen = await citizens.touch_citizen(
            session, channel="whatsapp", address="whatsapp:+6281234567890", display_name="Ani", now=now
        )
        assert citizen.id is not None
        complaint = await complaints.create_complaint(
            session,
            citizen_id=citizen.id,
            description="sampah menumpuk di TPS Wua-Wua",
            opd_code="DLHK",
            category="Sampah",
            confidence=0.9,
            now=now,
            due_at=now + HOUR,
        )
        await complaints.add_event(session, complaint_id=complaint.id or 0, kind="reprimanded", now=now, actor="sla")
    await world.send(world.message(ADMIN, "/lihat KDI-0001"))
    private = (await world.reply(ADMIN.id)).text or ""
    assert "<b>Pelapor:</b> Ani · +62 812-3456-7890 (WhatsApp)" in private
    assert "Status:</b> terbuka" in private and "ditegur (sistem (batas waktu))" in private
    await world.send(world.message(ADMIN, "/lihat KDI-0001", chat_id=HUMAS_CHAT))
    group = (await world.reply(HUMAS_CHAT)).text or ""
    assert "<b>Pelapor:</b> Ani · WhatsApp (kontak hanya ditampilkan di chat pribadi admin)" in group
    assert "812" not in group and "whatsapp:" not in group


def test_phone_numbers_read_as_people_write_them() -> None:
    from handlers.contacts import phone_for_people

    assert phone_for_people("+6281234567890") == "+62 812-3456-7890"
    assert phone_for_people("+62812345678901") == "+62 812-3456-78901"
    assert phone_for_people("+628123456789") == "+62 812-3456-789"
    assert phone_for_people("+14155238886") == "+14155238886"

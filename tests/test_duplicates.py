"""'Already reported?', end to end over real HTTP on Telegram: the offer, following, /gabung, "sudah beres?".

Also the teguran after a reroute: each deadline a ticket is given earns its own reprimand when missed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlmodel import col, select

from bot.config import Settings
from bot.standins.telegram_api import TelegramStandIn
from handlers import duplicates
from storage import complaints
from storage.models import ComplaintFollower, ComplaintStatus, InboxEvent
from tests.harness import ADMIN_ID, DLHK_CHAT, HUMAS_CHAT, PUPR_CHAT, User, World, running_bot, settings_for

BUDI = User(424242, "Budi")
SITI = User(515151, "Siti")
ANI = User(616161, "Ani")
STAFF_DLHK = User(900001, "Rahmat")
STAFF_PUPR = User(900002, "Yusuf")
ADMIN = User(ADMIN_ID, "Humas")
HOUR = timedelta(hours=1)
# A point at Pasar Mandonga, one about 100 m north of it, and one about 400 m north.
MARKET = (-3.97780, 122.51510)
NEAR = (-3.97690, 122.51510)
FAR = (-3.97420, 122.51510)


def dup_settings(database_url: str, telegram: TelegramStandIn) -> Settings:
    """A one-hour deadline; the sweep runs when the test says."""
    return settings_for(
        database_url, telegram, sla={"answer_within_hours": 1.0, "remind_before_hours": 0.5, "sweep_seconds": 3600.0}
    )


@pytest.fixture
async def world(database_url: str, telegram: TelegramStandIn) -> AsyncIterator[World]:
    async with running_bot(dup_settings(database_url, telegram), telegram) as world:
        yield world


def texts_to(world: World, chat_id: int) -> list[str]:
    return [c.text or "" for c in world.telegram.sent_messages(chat_id)]


def last_to(world: World, chat_id: int) -> str:
    return texts_to(world, chat_id)[-1]


async def say(world: World, user: User, text: str | None = None, **kwargs: object) -> None:
    await world.send(world.message(user, text, **kwargs))  # type: ignore[arg-type]
    await world.settled()


async def file_at(world: World, user: User, description: str, point: tuple[float, float] | None) -> str:
    """File a complaint with a map point (or none), answering "baru" should an offer come; return the ticket."""
    await say(world, user, description)
    if point is not None:
        await say(world, user, location=point)
    else:
        await say(world, user, "lewati")
    if "sudah dilaporkan" in last_to(world, user.id):
        await say(world, user, "baru")
    if "foto" in last_to(world, user.id).lower():
        await say(world, user, "lewati")
    if "sudah dilaporkan" in last_to(world, user.id):
        await say(world, user, "baru")
    await say(world, user, "ya")
    filed = last_to(world, user.id)
    assert "tercatat dengan nomor" in filed, filed
    return filed.split("nomor ", 1)[1].split(".", 1)[0]


async def test_a_report_100_m_from_an_open_one_is_offered_it_and_follows_it(world: World) -> None:
    first = await file_at(world, BUDI, "Sampah numpuk di depan pasar Mandonga sudah 3 hari", MARKET)
    assert first == "KDI-0001"
    cards_before = len(texts_to(world, DLHK_CHAT))

    await say(world, SITI, "sampah menumpuk bau sekali dekat pasar, tolong diangkut")
    await say(world, SITI, location=NEAR)
    offer = world.telegram.sent_messages(SITI.id)[-1]
    assert "sudah dilaporkan" in (offer.text or "")
    assert "1. KDI-0001" in (offer.text or "") and "±100 m" in (offer.text or "")
    assert "Sampah numpuk di depan pasar Mandonga" in (offer.text or "")
    buttons = offer.params["reply_markup"]["inline_keyboard"]
    assert [b["text"] for b in buttons[0]] == ["Ikuti 1"] and buttons[1][0]["text"] == "Lapor baru"

    # A digit of another script is no list number ("²" is a digit to str.isdigit(), not to int()).
    await say(world, SITI, "²")
    assert "Ketik nomor" in last_to(world, SITI.id)  # asked again, plainly
    async with world.runtime.sessions() as session:
        failed = (await session.exec(select(InboxEvent).where(col(InboxEvent.last_error).is_not(None)))).all()
    assert [event.last_error for event in failed] == []

    await say(world, SITI, "1")
    assert "ikut memantau aduan KDI-0001" in last_to(world, SITI.id)
    # No new ticket, no new card: one short line in the agency's group, and no name in it.
    async with world.runtime.sessions() as session:
        assert await complaints.get_complaint(session, complaint_id=2) is None
    group = texts_to(world, DLHK_CHAT)[cards_before:]
    assert group == ["👥 KDI-0001 kini dilaporkan 2 warga."]

    # The agency's one answer reaches both citizens.
    card = world.telegram.sent_messages(DLHK_CHAT)[0]
    await say(world, STAFF_DLHK, "Truk kami kirim sore ini.", chat_id=DLHK_CHAT, reply_to=card)
    assert "Truk kami kirim sore ini." in last_to(world, BUDI.id)
    assert "Truk kami kirim sore ini." in last_to(world, SITI.id)
    assert "KDI-0001" in last_to(world, SITI.id)

    # /status lists the followed ticket.
    await say(world, SITI, "/status")
    status = last_to(world, SITI.id)
    assert "Aduan warga lain yang Anda pantau" in status and "KDI-0001" in status

    # Closing: both are told and asked whether it is fixed.
    await say(world, STAFF_DLHK, "/selesai KDI-0001 Sudah diangkut", chat_id=DLHK_CHAT)
    for user in (BUDI, SITI):
        closed, question = texts_to(world, user.id)[-2:]
        assert "dinyatakan selesai" in closed
        assert "Apakah masalahnya sudah beres?" in question


@pytest.mark.parametrize("case", ["400 m away", "another agency"])
async def test_nothing_is_offered_far_away_or_from_another_agency(world: World, case: str) -> None:
    await file_at(world, BUDI, "Sampah numpuk di depan pasar Mandonga sudah 3 hari", MARKET)
    if case == "400 m away":
        await say(world, SITI, "sampah menumpuk bau sekali dekat pasar, tolong diangkut")
        await say(world, SITI, location=FAR)
    else:
        await say(world, SITI, "jalan berlubang besar di depan pasar Mandonga, bahaya")
        await say(world, SITI, location=NEAR)
    assert "sudah dilaporkan" not in last_to(world, SITI.id)
    assert "foto" in last_to(world, SITI.id).lower()


async def test_a_closed_ticket_is_not_offered(world: World) -> None:
    await file_at(world, BUDI, "Sampah numpuk di depan pasar Mandonga sudah 3 hari", MARKET)
    await say(world, STAFF_DLHK, "/selesai KDI-0001", chat_id=DLHK_CHAT)
    await say(world, SITI, "sampah menumpuk bau sekali dekat pasar, tolong diangkut")
    await say(world, SITI, location=NEAR)
    assert "sudah dilaporkan" not in last_to(world, SITI.id)


async def test_baru_files_a_new_ticket_and_text_alone_can_offer(world: World) -> None:
    # No map points: nearly the same words offer it (before the summary).
    await file_at(world, BUDI, "Sampah numpuk di depan pasar Mandonga sudah 3 hari tidak diangkut", None)
    await say(world, SITI, "sampah di depan pasar mandonga belum diangkut dari hari senin, bau sekali")
    await say(world, SITI, "lewati")
    await say(world, SITI, "lewati")
    offer = world.telegram.sent_messages(SITI.id)[-1]
    assert "1. KDI-0001" in (offer.text or "") and "±" not in (offer.text or "")
    # The "Lapor baru" button files it anyway, through the usual summary.
    await world.send(world.button(SITI, offer.params["reply_markup"]["inline_keyboard"][1][0]["callback_data"], offer))
    await world.settled()
    assert "Mohon periksa aduan Anda" in last_to(world, SITI.id)
    await say(world, SITI, "ya")
    assert "KDI-0002" in last_to(world, SITI.id)
    assert any("Aduan KDI-0002" in t for t in texts_to(world, DLHK_CHAT))


async def test_gabung_merges_a_copy_without_a_teguran(world: World) -> None:
    first = await file_at(world, BUDI, "Jalan berlubang besar di depan SD 5 Poasia, bahaya buat motor", None)
    second = await file_at(world, SITI, "jalan Chairil Anwar berlubang dekat SPBU, sudah ada yang jatuh", None)
    assert (first, second) == ("KDI-0001", "KDI-0002")
    # PUPR owns both: DLHK's group may not merge them.
    await say(world, STAFF_DLHK, f"/gabung {second} {first}", chat_id=DLHK_CHAT)
    assert "bukan milik DLHK" in last_to(world, DLHK_CHAT)
    await say(world, STAFF_PUPR, f"/gabung {second} {first}", chat_id=PUPR_CHAT)
    assert f"{second} digabung ke {first}" in last_to(world, PUPR_CHAT)
    told = last_to(world, SITI.id)
    assert f"Aduan Anda {second} ternyata sama dengan aduan {first}" in told
    async with world.runtime.sessions() as session:
        merged = await complaints.get_complaint(session, complaint_id=2)
        assert merged is not None and merged.merged_into == 1 and merged.status == ComplaintStatus.CLOSED
        kinds = [e.kind for e in await complaints.events_of(session, complaint_id=2)]
        assert kinds[0] == "filed" and "merged" in kinds  # history kept
        rows = (await session.exec(select(ComplaintFollower).where(col(ComplaintFollower.complaint_id) == 1))).all()
        assert [(r.source, r.merged_from) for r in rows] == [("merge", 2)]
    # The deadline passes: a teguran for the ticket still open, none for the merged copy.
    world.clock.advance(HOUR * 2)
    await world.runtime.sweep_once()
    await world.settled()
    tegurans = [t for t in texts_to(world, PUPR_CHAT) if "TEGURAN" in t.upper()]
    assert any(first in t for t in tegurans) and not any(second in t for t in tegurans)
    await say(world, SITI, f"/status {second}")
    assert f"digabung ke {first}" in last_to(world, SITI.id)
    # PUPR's answer to the remaining ticket reaches the merged ticket's citizen.
    await say(world, STAFF_PUPR, f"#{first} Petugas meluncur.", chat_id=PUPR_CHAT)
    assert "Petugas meluncur." in last_to(world, SITI.id)


async def test_humas_merges_and_bad_merges_are_explained(world: World) -> None:
    await file_at(world, BUDI, "Jalan berlubang besar di depan SD 5 Poasia, bahaya buat motor", None)
    await file_at(world, SITI, "sampah berserakan di lorong Kambu belum diangkut seminggu", None)
    await say(world, ADMIN, "/gabung KDI-0002 KDI-0001", chat_id=HUMAS_CHAT)
    assert "instansi berbeda" in last_to(world, HUMAS_CHAT)
    await say(world, ADMIN, "/gabung KDI-0001", chat_id=HUMAS_CHAT)
    assert "Format: /gabung" in last_to(world, HUMAS_CHAT)
    await file_at(world, ANI, "jln berlubang bgt di depan SD 5 Poasia", None)
    await say(world, ADMIN, "/gabung KDI-0003 KDI-0001", chat_id=HUMAS_CHAT)
    assert "KDI-0003 digabung ke KDI-0001" in last_to(world, HUMAS_CHAT)


async def test_belum_reopens_with_a_new_deadline_and_its_own_teguran(world: World) -> None:
    ticket = await file_at(world, BUDI, "Sampah numpuk di depan pasar Mandonga sudah 3 hari", MARKET)
    await say(world, STAFF_DLHK, f"/selesai {ticket}", chat_id=DLHK_CHAT)
    question = world.telegram.sent_messages(BUDI.id)[-1]
    assert [b["text"] for b in question.params["reply_markup"]["inline_keyboard"][0]] == [
        "✅ Ya, sudah beres",
        "❌ Belum",
    ]
    world.clock.advance(HOUR * 2)  # the first deadline is long gone; the reopened ticket gets a new one
    await say(world, BUDI, "belum, sampahnya masih ada pak")
    assert "dibuka kembali" in last_to(world, BUDI.id).lower()
    card = last_to(world, DLHK_CHAT)
    assert "DIBUKA KEMBALI" in card and "sampahnya masih ada pak" in card
    assert any("dibuka kembali (ke-1)" in t for t in texts_to(world, HUMAS_CHAT))
    async with world.runtime.sessions() as session:
        complaint = await complaints.get_complaint(session, complaint_id=1)
        assert complaint is not None and complaint.status == ComplaintStatus.OPEN and complaint.reopen_count == 1
        assert complaint.due_at > world.clock.now()
    # The new deadline is enforced like any other.
    world.clock.advance(HOUR * 2)
    await world.runtime.sweep_once()
    await world.settled()
    assert any("TEGURAN" in t.upper() and ticket in t for t in texts_to(world, DLHK_CHAT))

    # /stats and /export count the reopening.
    await say(world, ADMIN, "/stats", chat_id=HUMAS_CHAT)
    assert "Dibuka ulang karena belum beres: 1 kali" in last_to(world, HUMAS_CHAT)
    await say(world, ADMIN, "/export", chat_id=HUMAS_CHAT)
    document = await world.telegram.wait_for_count(1, method="sendDocument", chat_id=HUMAS_CHAT)
    content = next(iter(document[0].files.values()))
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0]["dibuka_ulang"] == "1" and "keberatan" in rows[0]


async def test_ya_leads_to_the_rating(world: World) -> None:
    ticket = await file_at(world, BUDI, "Sampah numpuk di depan pasar Mandonga sudah 3 hari", MARKET)
    await say(world, STAFF_DLHK, f"/selesai {ticket}", chat_id=DLHK_CHAT)
    question = world.telegram.sent_messages(BUDI.id)[-1]
    await world.send(world.button(BUDI, "verify:1:ya", on=question))
    await world.settled()
    assert "Beri nilai" in last_to(world, BUDI.id)
    async with world.runtime.sessions() as session:
        complaint = await complaints.get_complaint(session, complaint_id=1)
        assert complaint is not None and complaint.status == ComplaintStatus.CLOSED and complaint.reopen_count == 0


async def test_silence_leaves_it_closed_after_confirm_days(world: World) -> None:
    ticket = await file_at(world, BUDI, "Sampah numpuk di depan pasar Mandonga sudah 3 hari", MARKET)
    await say(world, STAFF_DLHK, f"/selesai {ticket}", chat_id=DLHK_CHAT)
    question = world.telegram.sent_messages(BUDI.id)[-1]
    world.clock.advance(timedelta(days=3, hours=1))
    await world.send(world.button(BUDI, "verify:1:belum", on=question))
    await world.settled()
    assert "lebih dari batas konfirmasi" in last_to(world, BUDI.id)
    async with world.runtime.sessions() as session:
        complaint = await complaints.get_complaint(session, complaint_id=1)
        assert complaint is not None and complaint.status == ComplaintStatus.CLOSED


async def test_reopening_stops_at_the_limit_and_goes_to_humas(world: World) -> None:
    ticket = await file_at(world, BUDI, "Sampah numpuk di depan pasar Mandonga sudah 3 hari", MARKET)
    for _ in range(3):
        await say(world, STAFF_DLHK, f"/selesai {ticket}", chat_id=DLHK_CHAT)
        await say(world, BUDI, "belum")
    assert "Humas Kota Kendari menanganinya" in last_to(world, BUDI.id)
    assert "setelah 2 kali dibuka kembali" in last_to(world, HUMAS_CHAT)
    async with world.runtime.sessions() as session:
        complaint = await complaints.get_complaint(session, complaint_id=1)
        assert complaint is not None and complaint.opd_code is None and complaint.reopen_count == 3


async def test_a_reroute_after_a_teguran_gets_its_own_teguran(world: World) -> None:
    ticket = await file_at(world, BUDI, "Sampah numpuk di depan pasar Mandonga sudah 3 hari", MARKET)
    world.clock.advance(HOUR * 2)
    await world.runtime.sweep_once()
    await world.settled()
    assert any("TEGURAN" in t.upper() for t in texts_to(world, DLHK_CHAT))
    await say(world, ADMIN, f"/pindah {ticket} PUPR", chat_id=HUMAS_CHAT)
    world.clock.advance(HOUR * 2)
    await world.runtime.sweep_once()
    await world.settled()
    assert any("TEGURAN" in t.upper() and ticket in t for t in texts_to(world, PUPR_CHAT))


async def test_a_followers_photo_goes_to_the_ticket_without_their_name(world: World) -> None:
    await file_at(world, BUDI, "Sampah numpuk di depan pasar Mandonga sudah 3 hari tidak diangkut", None)
    photo = world.telegram.store_file(b"\xff\xd8\xff\xe0 the same pile")
    await say(world, SITI, "sampah di depan pasar mandonga belum diangkut dari hari senin, bau sekali")
    await say(world, SITI, "lewati")
    await say(world, SITI, photo=photo)
    assert "1. KDI-0001" in last_to(world, SITI.id)
    await say(world, SITI, "ya")  # one listed: "ya, the same"
    assert "ikut memantau aduan KDI-0001" in last_to(world, SITI.id)
    shared = [c for c in world.telegram.sent_messages(DLHK_CHAT) if c.method == "sendPhoto"]
    assert [c.params["photo"] for c in shared] == [photo]
    assert "warga yang juga melaporkan KDI-0001" in (shared[0].text or "") and "Siti" not in (shared[0].text or "")
    async with world.runtime.sessions() as session:
        complaint = await complaints.get_complaint(session, complaint_id=1)
        assert complaint is not None and [m["ref"] for m in complaint.media] == [photo]


async def test_the_offers_comparison_keeps_no_text_past_an_hour_or_an_erasure(world: World) -> None:
    desk = world.runtime.desk
    ticket = await file_at(world, BUDI, "Sampah numpuk di depan pasar Mandonga sudah 3 hari", None)
    await say(world, SITI, "sampah menumpuk di pasar Mandonga, bau sekali")
    await say(world, SITI, "lewati")
    if "foto" in last_to(world, SITI.id).lower():
        await say(world, SITI, "lewati")
    assert "sudah dilaporkan" in last_to(world, SITI.id)  # Budi's text was read to offer it
    compare = duplicates.comparer(desk)
    assert compare.report.cache_info().currsize >= 2

    # Kept for lookups within the hour...
    world.clock.advance(59 * timedelta(minutes=1))
    assert duplicates.comparer(desk) is compare
    # ... and dropped at once when a citizen is erased: their words stay nowhere.
    await say(world, ADMIN, f"/lupakan {ticket} ya")
    assert "sudah dihapus" in last_to(world, ADMIN_ID)
    fresh = duplicates.comparer(desk)
    assert fresh is not compare and fresh.report.cache_info().currsize == 0

    # Past the hour a new comparison reads the open complaints again.
    fresh.score("sampah di pasar Mandonga", "sampah di pasar Baruga")
    world.clock.advance(duplicates.READINGS_KEPT)
    assert duplicates.comparer(desk) is not fresh

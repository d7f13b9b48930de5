"""The humas desk: the deadline enforced by the sweep, and the admin commands, end to end."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.config import Settings
from bot.standins.telegram_api import TelegramStandIn
from storage import audit, complaints
from storage.models import ComplaintStatus
from tests.harness import (
    ADMIN_ID,
    DLHK_CHAT,
    HUMAS_CHAT,
    PUPR_CHAT,
    User,
    World,
    running_bot,
    settings_for,
)
from tests.test_e2e_telegram import BUDI, SITI, STAFF_DLHK, file_complaint

ADMIN = User(ADMIN_ID, "Astibar")
HOUR = timedelta(hours=1)


def sla_settings(database_url: str, telegram: TelegramStandIn) -> Settings:
    """Settings with a one-hour answer deadline."""
    # A one-hour deadline with a reminder half an hour before; the timer itself stays out of the
    # way (once an hour) and the tests move the clock and sweep explicitly.
    return settings_for(
        database_url, telegram, sla={"answer_within_hours": 1.0, "remind_before_hours": 0.5, "sweep_seconds": 3600.0}
    )


@pytest.fixture
async def world(database_url: str, telegram: TelegramStandIn) -> AsyncIterator[World]:
    async with running_bot(sla_settings(database_url, telegram), telegram) as world:
        yield world


def texts_to(world: World, chat_id: int) -> list[str]:
    return [c.text or "" for c in world.telegram.sent_messages(chat_id)]


async def test_an_unanswered_ticket_gets_one_reminder_one_teguran_one_alert(world: World) -> None:
    late = await file_complaint(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau")
    answered = await file_complaint(world, SITI, "sampah liar di pinggir kali Wanggu belum diangkut")
    _, card = await world.replies(DLHK_CHAT, 2)
    await world.send(world.message(STAFF_DLHK, "Segera kami angkut.", chat_id=DLHK_CHAT, reply_to=card))
    await world.reply(SITI.id)
    await world.reply(DLHK_CHAT)

    world.clock.advance(HOUR * 0.6)
    result = await world.runtime.sweep_once()
    assert (result.reminded, result.reprimanded) == (1, 0)
    reminder = await world.reply(DLHK_CHAT)
    assert "Pengingat" in reminder.text and late in reminder.text and answered not in reminder.text

    world.clock.advance(HOUR * 0.5)
    result = await world.runtime.sweep_once()
    assert (result.reminded, result.reprimanded) == (0, 1)
    teguran = await world.reply(DLHK_CHAT)
    assert "TEGURAN" in teguran.text and late in teguran.text and "terlambat 6 menit" in teguran.text
    alert = await world.reply(HUMAS_CHAT)
    assert late in alert.text and "teguran sudah dikirim ke grup DLHK" in alert.text
    told = await world.reply(BUDI.id)
    assert "telah menegur" in told.text

    # Sweeping again, now and later, sends nothing more.
    await world.settled()
    world.clock.advance(HOUR)
    assert await world.runtime.sweep_once() == type(result)(0, 0, 0)
    await world.settled()
    assert sum("TEGURAN" in t for t in texts_to(world, DLHK_CHAT)) == 1
    assert sum("Pengingat" in t for t in texts_to(world, DLHK_CHAT)) == 1
    assert not any("telah menegur" in t for t in texts_to(world, SITI.id))

    await world.send(world.message(ADMIN, "/overdue", chat_id=HUMAS_CHAT))
    listing = await world.reply(HUMAS_CHAT)
    assert late in listing.text and answered not in listing.text and "Total: <b>1</b>" in listing.text


async def test_a_restart_between_sweeps_sends_nothing_twice(database_url: str, telegram: TelegramStandIn) -> None:
    settings = sla_settings(database_url, telegram)
    async with running_bot(settings, telegram) as world:
        ticket = await file_complaint(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau")
        await world.reply(DLHK_CHAT)
        clock = world.clock
        clock.advance(HOUR * 2)
        assert (await world.runtime.sweep_once()).reprimanded == 1
        await world.settled()
    async with running_bot(settings, telegram, clock=clock) as world:
        assert (await world.runtime.sweep_once()).reprimanded == 0
        await world.settled()
    tegurans = [t for t in (c.text or "" for c in telegram.sent_messages(DLHK_CHAT)) if "TEGURAN" in t]
    assert len(tegurans) == 1 and ticket in tegurans[0]


async def test_two_sweepers_at_once_send_nothing_twice(world: World) -> None:
    # Five places: the same place twice would be offered to follow ("already reported?", issue 17).
    for n, place in enumerate(["Wua-Wua", "Kambu", "Poasia", "Baruga", "Puuwatu"]):
        await file_complaint(world, User(700 + n, f"Warga{n}"), f"sampah menumpuk di TPS {place} sudah bau")
    world.clock.advance(HOUR * 2)
    results = await asyncio.gather(*(world.runtime.sweep_once() for _ in range(3)))
    assert sum(r.reprimanded for r in results) == 5
    await world.settled()
    assert sum("TEGURAN" in t for t in texts_to(world, DLHK_CHAT)) == 5
    # Humas hears of each once, in the summary of the sweep that claimed it.
    summaries = [t for t in texts_to(world, HUMAS_CHAT) if "melewati batas tanggapan" in t]
    assert 1 <= len(summaries) <= 3
    assert sorted(t for s in summaries for t in s.split() if t.startswith("KDI-")) == [
        f"KDI-{n:04d}" for n in range(1, 6)
    ]


async def test_non_admins_learn_nothing(world: World) -> None:
    ticket = await file_complaint(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau")
    world.clock.advance(HOUR * 2)
    for command in ("/overdue", "/stats", f"/lihat {ticket}", "/export", f"/pindah {ticket} PUPR"):
        await world.send(world.message(STAFF_DLHK, command, chat_id=HUMAS_CHAT))
        answer = await world.reply(HUMAS_CHAT)
        assert answer.text == "Maaf, perintah ini khusus untuk petugas humas."
    await world.send(world.message(BUDI, "/overdue"))
    assert "khusus untuk petugas humas" in (await world.reply(BUDI.id)).text
    async with world.runtime.sessions() as session:
        complaint = await complaints.get_complaint(session, complaint_id=1)
    assert complaint is not None and complaint.opd_code == "DLHK"


async def test_reroute_reject_reprimand_and_the_audit_log(world: World) -> None:
    first = await file_complaint(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau")
    second = await file_complaint(world, SITI, "sampah liar di pinggir kali Wanggu belum diangkut")
    await world.replies(DLHK_CHAT, 2)
    world.clock.advance(HOUR * 0.9)

    await world.send(world.message(ADMIN, f"/pindah {first} PUPR", chat_id=HUMAS_CHAT))
    new_card = await world.reply(PUPR_CHAT)
    assert first in new_card.text
    assert "dialihkan humas ke PUPR" in (await world.reply(DLHK_CHAT)).text
    assert "diteruskan ke Dinas Pekerjaan Umum" in (await world.reply(BUDI.id)).text
    assert "Batas baru" in (await world.reply(HUMAS_CHAT)).text
    async with world.runtime.sessions() as session:
        moved = await complaints.get_complaint(session, complaint_id=1)
    assert moved is not None and moved.opd_code == "PUPR" and moved.reroute_count == 1
    # A full, fresh deadline for the new agency.
    assert moved.due_at - world.clock.now() > timedelta(minutes=59)

    await world.send(world.message(ADMIN, f"/tolak {second} bukan kewenangan pemkot", chat_id=HUMAS_CHAT))
    assert "Alasan: bukan kewenangan pemkot" in (await world.reply(SITI.id)).text
    await world.send(world.message(ADMIN, "/tegur DLHK Mohon percepat pengangkutan", chat_id=HUMAS_CHAT))
    tegur = await world.replies(DLHK_CHAT, 2)
    assert any("Mohon percepat pengangkutan" in c.text for c in tegur)
    await world.settled()
    async with world.runtime.sessions() as session:
        actions = [(a.action, a.target) for a in reversed(await audit.recent_actions(session))]
        rejected = await complaints.get_complaint(session, complaint_id=2)
    assert ("reroute", first) in actions and ("reject", second) in actions and ("reprimand", "DLHK") in actions
    assert rejected is not None and rejected.status == ComplaintStatus.REJECTED


async def test_lihat_shows_the_whole_complaint_to_humas(world: World) -> None:
    ticket = await file_complaint(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau")
    card = await world.reply(DLHK_CHAT)
    await world.send(world.message(STAFF_DLHK, "Besok diangkut.", chat_id=DLHK_CHAT, reply_to=card))
    await world.reply(BUDI.id)
    await world.send(world.message(ADMIN, f"/lihat {ticket}"))
    detail = await world.reply(ADMIN.id)
    assert ticket in detail.text and "TPS Wua-Wua" in detail.text and "Besok diangkut." in detail.text
    # The contact, for an admin in a private chat only: the handle to find the person, and the id.
    assert f"@{BUDI.username} (Telegram id {BUDI.id})" in detail.text
    assert BUDI.username not in card.text  # the agency's card never shows it
    assert "dicatat" in detail.text and "dijawab" in detail.text


async def test_stats_and_export_match_a_known_set(world: World) -> None:
    # DLHK: one answered on time and rated 4, one answered late; PUPR: one still open and overdue.
    on_time = await file_complaint(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau")
    late = await file_complaint(world, SITI, "sampah liar di pinggir kali Wanggu belum diangkut")
    await file_complaint(world, User(777, "Andi"), "jalan berlubang besar di depan pasar Baruga bahaya")
    first_card, second_card = await world.replies(DLHK_CHAT, 2)
    world.clock.advance(timedelta(minutes=30))
    await world.send(world.message(STAFF_DLHK, "Sudah diangkut.", chat_id=DLHK_CHAT, reply_to=first_card))
    await world.send(world.message(STAFF_DLHK, f"/selesai {on_time}", chat_id=DLHK_CHAT))
    fixed = (await world.replies(BUDI.id, 3))[-1]
    # "Sudah beres?" first (issue 17); "Ya" leads to the rating.
    await world.send(world.button(BUDI, "verify:1:ya", on=fixed))
    rating_prompt = await world.reply(BUDI.id)
    assert rating_prompt.params["reply_markup"]["inline_keyboard"][0][3]["callback_data"] == "rate:1:4"
    await world.send(world.button(BUDI, "rate:1:4", on=rating_prompt))
    assert "⭐⭐⭐⭐" in (await world.reply(BUDI.id)).text
    world.clock.advance(timedelta(minutes=60))
    await world.send(world.message(STAFF_DLHK, "Maaf terlambat.", chat_id=DLHK_CHAT, reply_to=second_card))
    await world.settled()
    # Siti objects to the late answer: the export counts her objection on her ticket.
    await world.send(world.message(SITI, f"{late} saya tidak puas, sampahnya belum diangkut juga"))
    assert late in (await world.reply(SITI.id)).text
    assert late in (await world.reply(HUMAS_CHAT)).text  # humas is told of the objection
    await world.settled()

    await world.send(world.message(ADMIN, "/stats 7d", chat_id=HUMAS_CHAT))
    stats = (await world.reply(HUMAS_CHAT)).text
    dlhk = stats.split("<b>DLHK")[1].split("<b>")[0]
    assert "masuk 2 · dijawab 2 · tepat waktu 50%" in dlhk
    assert "median jawab 1,0 jam" in dlhk and "nilai 4,0" in dlhk
    # Answered late and overdue now are separate figures: the late answer is not forgotten.
    assert "dijawab terlambat 1 · lewat batas 0" in dlhk
    pupr = stats.split("<b>PUPR")[1].split("<b>")[0]
    assert "masuk 1 · dijawab 0 · tepat waktu 0%" in pupr and "dijawab terlambat 0 · lewat batas 1" in pupr
    assert "masih buka 1" in pupr
    total = stats.split("<b>TOTAL")[1]
    assert "masuk 3 · dijawab 2" in total

    await world.send(world.message(ADMIN, "/export 30d", chat_id=HUMAS_CHAT))
    document = await world.telegram.wait_for_count(1, method="sendDocument", chat_id=HUMAS_CHAT)
    content = next(iter(document[0].files.values()))
    assert content.startswith(b"\xef\xbb\xbf")  # a BOM, so spreadsheets read UTF-8
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert [r["tiket"] for r in rows] == [on_time, late, "KDI-0003"]
    assert [r["opd"] for r in rows] == ["DLHK", "DLHK", "PUPR"]
    assert [r["tepat_waktu"] for r in rows] == ["ya", "tidak", ""]
    assert [r["penanganan"] for r in rows] == ["DLHK: tepat waktu", "DLHK: dijawab terlambat", "PUPR: berjalan"]
    assert [r["keberatan"] for r in rows] == ["0", "1", "0"]
    assert rows[0]["nilai"] == "4" and rows[0]["status"] == "selesai" and rows[0]["kanal"] == "Telegram"
    assert [r["status"] for r in rows] == ["selesai", "dijawab", "terbuka"]
    assert "TPS Wua-Wua" in rows[0]["uraian"]
    assert str(BUDI.id) not in content.decode("utf-8-sig")

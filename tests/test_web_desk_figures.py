"""The figures: one definition for /stats, /overdue, the dashboard and the export, and no way to game it."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.standins.telegram_api import TelegramStandIn
from storage import assignments, complaints
from storage.models import OutboxMessage
from tests.harness import ADMIN_ID, DLHK_CHAT, User, World, running_bot, settings_for
from tests.test_e2e_telegram import STAFF_DLHK, file_complaint
from tests.web_desk import log_in, web_sections

ADMIN = User(ADMIN_ID, "Astibar")
HOUR = timedelta(hours=1)
_ROW = re.compile(r'<tr data-owner="(\w+)".*?</tr>', re.S)
_CELL = re.compile(r'<td data-field="(\w+)"[^>]*>(.*?)</td>', re.S)
_TAG = re.compile(r"<[^>]+>")


@pytest.fixture
async def world(database_url: str, telegram: TelegramStandIn) -> AsyncIterator[World]:
    async with running_bot(settings_for(database_url, telegram, **web_sections()), telegram) as world:
        yield world


def citizen(n: int) -> User:
    return User(600000 + n, f"Warga{n}")


async def ask(world: World, command: str) -> str:
    """A humas command in the admin's private chat; the whole answer."""
    await world.send(world.message(ADMIN, command))
    return "\n".join(call.text or "" for call in await world.replies(ADMIN.id, 1))


async def staff_says(world: World, staff: User, chat_id: int, text: str) -> None:
    await world.send(world.message(staff, text, chat_id=chat_id))
    await world.settled()


def dashboard_figures(html: str) -> dict[str, dict[str, str]]:
    """The dashboard's table: owner -> field -> the text of the cell."""
    table: dict[str, dict[str, str]] = {}
    for row in _ROW.finditer(html):
        cells = {name: " ".join(_TAG.sub("", text).split()) for name, text in _CELL.findall(row.group(0))}
        table[row.group(1)] = cells
    return table


def stats_figures(text: str) -> dict[str, dict[str, str]]:
    """/stats as the same table: owner -> field -> value, in the dashboard's words."""
    table: dict[str, dict[str, str]] = {}
    for block in text.split("\n<b>")[1:]:
        name, _, body = block.partition("</b>")
        owner = "HUMAS" if name.startswith("Belum") else name.split(" ")[0]

        def value(pattern: str, default: str = "", body: str = body) -> str:
            found = re.search(pattern, body)
            return found.group(1) if found else default

        table[owner] = {
            "received": value(r"masuk (\d+)"),
            "answered": value(r"dijawab (\d+)"),
            "on_time": value(r"tepat waktu ([\d%-]+)"),
            "answered_late": value(r"dijawab terlambat (\d+)"),
            "overdue": value(r"lewat batas (\d+)"),
            "missed": value(r"setelah lewat batas (\d+)", "0"),
            "median": value(r"median jawab ([^·\n]+?)(?: ·|\n|$)"),
            "open": value(r"masih buka (\d+)"),
            "rating": value(r"nilai ([\d,]+)", "-"),
        }
    return table


def comparable(table: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """The dashboard's cells reduced to what /stats says ("67% (2/3)" -> "67%", "4,0 ⭐" -> "4,0")."""
    return {
        owner: {field: text.split(" (")[0].replace(" ⭐", "") for field, text in cells.items()}
        for owner, cells in table.items()
    }


async def _scenario(world: World) -> dict[str, str]:
    """Complaints of every kind, two of them older than a week; returns the tickets by name."""
    tickets: dict[str, str] = {}
    tickets["old_dlhk"] = await file_complaint(world, citizen(1), "sampah menumpuk di TPS Wua-Wua sudah bau")
    tickets["old_pupr"] = await file_complaint(world, citizen(2), "jalan berlubang besar di depan pasar Baruga bahaya")
    world.clock.advance(timedelta(days=10))
    tickets["on_time"] = await file_complaint(world, citizen(3), "sampah liar di pinggir kali Wanggu belum diangkut")
    tickets["late"] = await file_complaint(world, citizen(4), "sampah menumpuk di pasar Mandonga sudah bau")
    tickets["overdue"] = await file_complaint(world, citizen(5), "truk sampah tidak datang ke Kambu tiga hari")
    tickets["moved"] = await file_complaint(world, citizen(6), "sampah dibuang di got jalan Saranani")
    tickets["fresh_pupr"] = await file_complaint(world, citizen(7), "jembatan kayu di Puuwatu lapuk dan berbahaya")
    tickets["unrouted"] = await file_complaint(
        world, citizen(8), "Tolong perhatikan anjing liar berkeliaran di kompleks"
    )
    world.clock.advance(2 * HOUR)
    await staff_says(world, STAFF_DLHK, DLHK_CHAT, f"#{tickets['on_time']} Sudah kami angkut pagi ini.")
    await staff_says(world, STAFF_DLHK, DLHK_CHAT, f"/selesai {tickets['on_time']}")
    world.clock.advance(30 * HOUR)  # the rest of DLHK's tickets are late now
    await staff_says(world, STAFF_DLHK, DLHK_CHAT, f"#{tickets['late']} Maaf terlambat, sudah diangkut.")
    assert "dialihkan" in await ask(world, f"/pindah {tickets['moved']} PUPR")
    return tickets


async def test_the_dashboard_says_what_stats_and_overdue_say(world: World) -> None:
    tickets = await _scenario(world)
    admin = await log_in(world, ADMIN)
    for period in ("7d", "30d", "all"):
        stats = stats_figures(await ask(world, f"/stats {period}"))
        board = comparable(dashboard_figures((await admin.get("/desk/", periode=period)).text))
        assert board == {owner: stats[owner] for owner in board}, period
        assert set(board) == set(stats), period
    week = stats_figures(await ask(world, "/stats 7d"))
    everything = stats_figures(await ask(world, "/stats all"))
    assert week["TOTAL"]["received"] == "7" and everything["TOTAL"]["received"] == "9"  # +1 handover: the reroute
    dlhk = week["DLHK"]
    # on time 1; answered late 1; overdue now 1; left late 1 (the reroute): 1 of 4 judged.
    assert (dlhk["received"], dlhk["answered"], dlhk["answered_late"], dlhk["overdue"], dlhk["missed"]) == (
        "4",
        "2",
        "1",
        "1",
        "1",
    )
    assert dlhk["on_time"] == "25%" and dlhk["median"] == "17,0 jam"  # the middle of 2 h and 32 h
    # /overdue lists exactly what the dashboard counts as overdue now, and its most overdue tickets.
    overdue = await ask(world, "/overdue")
    listed = set(re.findall(r"KDI-\d{4}", overdue))
    board = dashboard_figures((await admin.get("/desk/", periode="all")).text)
    assert len(listed) == int(board["TOTAL"]["overdue"])
    dlhk_listed = set(re.findall(r"KDI-\d{4}", await ask(world, "/overdue DLHK")))
    assert len(dlhk_listed) == int(board["DLHK"]["overdue"]) == 2
    page = (await admin.get("/desk/")).text
    most = re.search(r'data-testid="most-overdue".*?</table>', page, re.S)
    assert most is not None and set(re.findall(r">(KDI-\d{4})</a>", most.group(0))) == listed
    assert tickets["moved"] not in listed


async def test_a_reroute_there_and_back_does_not_wipe_a_late_verdict(world: World) -> None:
    ticket = await file_complaint(world, citizen(1), "sampah menumpuk di TPS Wua-Wua sudah bau")
    world.clock.advance(25 * HOUR)  # DLHK is late
    assert "dialihkan" in await ask(world, f"/pindah {ticket} PUPR")
    world.clock.advance(HOUR)
    assert "dialihkan" in await ask(world, f"/pindah {ticket} DLHK")
    stats = stats_figures(await ask(world, "/stats 7d"))
    # Not "tepat waktu 100% · terlambat 0": the lateness DLHK incurred stays counted.
    assert stats["DLHK"]["on_time"] == "0%" and stats["DLHK"]["missed"] == "1"
    assert stats["PUPR"]["on_time"] == "-" and stats["PUPR"]["missed"] == "0"  # an hour, well in time
    world.clock.advance(HOUR)
    await staff_says(world, STAFF_DLHK, DLHK_CHAT, f"#{ticket} Sudah diangkut.")
    stats = stats_figures(await ask(world, "/stats 7d"))
    assert stats["DLHK"]["on_time"] == "50%" and stats["DLHK"]["received"] == "2"
    admin = await log_in(world, ADMIN)
    board = comparable(dashboard_figures((await admin.get("/desk/", periode="7d")).text))
    assert board["DLHK"]["on_time"] == "50%" and board["DLHK"]["missed"] == "1"
    page = (await admin.get(f"/desk/aduan/{ticket}")).text
    verdicts = re.findall(r"<td>(lewat batas lalu dialihkan|dialihkan|tepat waktu)</td>", page)
    assert verdicts == ["lewat batas lalu dialihkan", "dialihkan", "tepat waktu"]


async def test_an_agency_that_answered_late_is_not_shown_as_never_late(world: World) -> None:
    ticket = await file_complaint(world, citizen(1), "sampah menumpuk di TPS Wua-Wua sudah bau")
    world.clock.advance(30 * HOUR)
    await staff_says(world, STAFF_DLHK, DLHK_CHAT, f"#{ticket} Maaf, baru sempat.")
    stats = stats_figures(await ask(world, "/stats 7d"))
    assert stats["DLHK"]["answered_late"] == "1" and stats["DLHK"]["overdue"] == "0"
    assert stats["DLHK"]["on_time"] == "0%"


async def test_closing_after_an_answer_keeps_the_first_answer_time(world: World) -> None:
    ticket = await file_complaint(world, citizen(1), "sampah menumpuk di TPS Wua-Wua sudah bau")
    world.clock.advance(timedelta(minutes=30))
    await staff_says(world, STAFF_DLHK, DLHK_CHAT, f"#{ticket} Segera kami tangani.")
    world.clock.advance(5 * HOUR)
    await staff_says(world, STAFF_DLHK, DLHK_CHAT, f"/selesai {ticket} sudah bersih")
    stats = stats_figures(await ask(world, "/stats 7d"))
    assert stats["DLHK"]["median"] == "0,5 jam"
    admin = await log_in(world, ADMIN)
    assert comparable(dashboard_figures((await admin.get("/desk/")).text))["DLHK"]["median"] == "0,5 jam"
    async with world.runtime.sessions() as session:
        complaint = await complaints.get_complaint(session, complaint_id=1)
        handover = (await assignments.assignments_of(session, complaint_id=1))[0]
    assert complaint is not None and complaint.closed_at is not None and complaint.answered_at is not None
    # (The desk's clock moved 5 h 30 min; the test itself took a few real seconds too.)
    assert 5 * HOUR <= complaint.closed_at - complaint.answered_at < 5 * HOUR + timedelta(minutes=1)
    assert handover.answered_at == complaint.answered_at
    assert handover.answer_seconds is not None and 1800 <= handover.answer_seconds < 1860


async def test_the_period_filters_leave_older_complaints_out(world: World) -> None:
    old = await file_complaint(world, citizen(1), "sampah menumpuk di TPS Wua-Wua sudah bau")
    world.clock.advance(timedelta(days=8))
    month_old = await file_complaint(world, citizen(2), "sampah liar di pinggir kali Wanggu belum diangkut")
    world.clock.advance(timedelta(days=25))
    recent = await file_complaint(world, citizen(3), "truk sampah tidak datang ke Kambu tiga hari")
    admin = await log_in(world, ADMIN)
    received = {
        period: dashboard_figures((await admin.get("/desk/", periode=period)).text)["DLHK"]["received"]
        for period in ("7d", "30d", "all")
    }
    assert received == {"7d": "1", "30d": "2", "all": "3"}
    week = (await admin.get("/desk/aduan", periode="7d")).text
    assert recent in week and month_old not in week and old not in week
    month = (await admin.get("/desk/aduan", periode="30d")).text
    assert recent in month and month_old in month and old not in month
    csv_week = (await admin.get("/desk/ekspor.csv", periode="7d")).text
    assert recent in csv_week and old not in csv_week


async def test_times_on_pages_and_in_the_csv_are_wita(world: World) -> None:
    ticket = await file_complaint(world, citizen(1), "sampah menumpuk di TPS Wua-Wua sudah bau")
    async with world.runtime.sessions() as session:
        complaint = await complaints.get_complaint(session, complaint_id=1)
    assert complaint is not None
    # Worked out by hand, not by the desk's own formatter: WITA is UTC+8, no daylight saving.
    wita = complaint.created_at.astimezone(UTC) + timedelta(hours=8)
    months = ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"]
    shown = f"{wita.day} {months[wita.month - 1]} {wita.year} {wita.hour:02d}.{wita.minute:02d} WITA"
    admin = await log_in(world, ADMIN)
    assert shown in (await admin.get(f"/desk/aduan/{ticket}")).text
    assert shown in (await admin.get("/desk/aduan")).text
    rows = list(csv.DictReader(io.StringIO((await admin.get("/desk/ekspor.csv")).content.decode("utf-8-sig"))))
    assert rows[0]["dicatat"] == wita.strftime("%Y-%m-%d %H:%M")
    due = wita + timedelta(hours=24)
    assert rows[0]["batas"] == due.strftime("%Y-%m-%d %H:%M")
    assert datetime.strptime(rows[0]["dicatat"], "%Y-%m-%d %H:%M").hour == wita.hour


async def test_the_web_export_is_the_chat_export(world: World) -> None:
    await file_complaint(world, citizen(1), '=HYPERLINK("http://evil.example","klik") sampah menumpuk di TPS')
    await file_complaint(world, citizen(2), "-2+3 sampah liar di pinggir kali Wanggu belum diangkut")
    await file_complaint(world, citizen(3), "@SUM(1) sampah menumpuk di pasar Mandonga sudah bau")
    admin = await log_in(world, ADMIN)
    web = (await admin.get("/desk/ekspor.csv")).content
    assert web.startswith(b"\xef\xbb\xbf")
    await world.send(world.message(ADMIN, "/export all"))
    document = await world.telegram.wait_for_count(1, method="sendDocument", chat_id=ADMIN.id)
    chat = next(iter(document[0].files.values()))
    web_rows = list(csv.reader(io.StringIO(web.decode("utf-8-sig"))))
    chat_rows = list(csv.reader(io.StringIO(chat.decode("utf-8-sig"))))
    assert web_rows == chat_rows
    descriptions = [row[6] for row in web_rows[1:]]
    assert descriptions[0].startswith("'=HYPERLINK") and descriptions[1].startswith("'-2+3")
    assert descriptions[2].startswith("'@SUM")


@pytest.fixture
async def hourly(database_url: str, telegram: TelegramStandIn) -> AsyncIterator[World]:
    """A one-hour deadline, a reminder half an hour before; the tests sweep by hand."""
    sla = {"answer_within_hours": 1.0, "remind_before_hours": 0.5, "sweep_seconds": 3600.0}
    async with running_bot(settings_for(database_url, telegram, **web_sections(**sla)), telegram) as world:
        yield world


def reminders(world: World, chat_id: int) -> list[str]:
    return [c.text or "" for c in world.telegram.sent_messages(chat_id) if "Pengingat" in (c.text or "")]


async def test_no_reminder_goes_out_after_the_deadline(hourly: World) -> None:
    world = hourly
    # 1. The sweep missed the reminder window (the process was down): past the deadline only the teguran goes.
    await file_complaint(world, citizen(1), "sampah menumpuk di TPS Wua-Wua sudah bau")
    world.clock.advance(2 * HOUR)
    result = await world.runtime.sweep_once()
    assert (result.reminded, result.reprimanded) == (0, 1)
    await world.settled()
    assert reminders(world, DLHK_CHAT) == []
    # 2. A reminder queued in time but held up (Telegram refusing the group) until its deadline is dropped.
    second = await file_complaint(world, citizen(2), "sampah liar di pinggir kali Wanggu belum diangkut")
    await world.settled()
    world.telegram.fail_chat(DLHK_CHAT, 429, n=None, retry_after=1)
    world.clock.advance(timedelta(minutes=40))
    assert (await world.runtime.sweep_once()).reminded == 1
    world.clock.advance(timedelta(minutes=19))  # 1 minute before the deadline: too late for "about to be late"
    world.telegram.clear_faults()
    await world.settled()
    assert reminders(world, DLHK_CHAT) == []
    async with world.runtime.sessions() as session:
        statuses = {m.purpose: m.status for m in (await session.exec(select(OutboxMessage))).all()}
    assert statuses["reminder"] == "expired"
    # 3. In time, it goes.
    third = await file_complaint(world, citizen(3), "truk sampah tidak datang ke Kambu tiga hari")
    world.clock.advance(timedelta(minutes=35))
    assert (await world.runtime.sweep_once()).reminded == 1
    await world.settled()
    assert len(reminders(world, DLHK_CHAT)) == 1 and third in reminders(world, DLHK_CHAT)[0]
    assert second not in reminders(world, DLHK_CHAT)[0]

"""The web desk over HTTP: login through the bot, sessions, CSRF, who sees what, the figures, the actions."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.standins.telegram_api import TelegramStandIn
from storage import audit, complaints, corrections
from storage.models import CorrectionKind, DeskLogin
from tests.harness import ADMIN_ID, DLHK_CHAT, PUPR_CHAT, User, World, running_bot, settings_for
from tests.test_e2e_telegram import BUDI, STAFF_DLHK, STAFF_PUPR, file_complaint
from tests.web_desk import (
    DeskClient,
    log_in,
    login_link,
    members,
    open_link,
    session_cookie,
    stored_complaint,
    web_sections,
)

ADMIN = User(ADMIN_ID, "Astibar")
STRANGER = User(777001, "Orang", "Lain")


@pytest.fixture
async def world(database_url: str, telegram: TelegramStandIn) -> AsyncIterator[World]:
    members(telegram, (DLHK_CHAT, STAFF_DLHK.id, "member"), (PUPR_CHAT, STAFF_PUPR.id, "administrator"))
    async with running_bot(settings_for(database_url, telegram, **web_sections()), telegram) as world:
        yield world


async def test_an_admin_link_works_once_and_starts_a_session(world: World) -> None:
    link = await login_link(world, ADMIN)
    assert link.startswith("https://ehumas.test/desk/masuk/")
    sent = world.telegram.sent_messages(ADMIN.id)[-1]
    # Telegram must not fetch the link for a preview: that would use it up.
    assert sent.params["link_preview_options"]["is_disabled"] is True
    assert "10 menit" in (sent.text or "") and "sekali pakai" in (sent.text or "")

    first = await open_link(world, link)
    assert first.status_code == 303 and first.headers["location"] == "/desk/"
    cookie = next(h for h in first.headers.get_list("set-cookie") if h.startswith("ehumas_desk="))
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=lax", "path=/desk", "max-age=43200"} <= attributes
    desk = DeskClient(world, session_cookie(first))
    home = await desk.get("/desk/")
    assert home.status_code == 200 and "Dasbor" in home.text and "Astibar" in home.text

    again = await open_link(world, link)
    assert again.status_code == 403 and "tidak berlaku" in again.text
    assert "set-cookie" not in again.headers


async def test_an_expired_or_altered_link_is_refused(world: World) -> None:
    link = await login_link(world, ADMIN)
    world.clock.advance(timedelta(minutes=10, seconds=1))
    assert (await open_link(world, link)).status_code == 403
    fresh = await login_link(world, ADMIN)
    head, _, signed = fresh.rpartition("/")
    altered = head + "/" + signed[:-2] + ("AA" if not signed.endswith("AA") else "BB")
    assert (await open_link(world, altered)).status_code == 403
    assert (await open_link(world, head + "/not-a-token")).status_code == 403
    assert (await open_link(world, fresh)).status_code == 303  # the real one still works, once


async def test_without_a_session_every_page_leads_to_the_login_help(world: World) -> None:
    ticket = await file_complaint(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau")
    for path in ("/desk/", "/desk/aduan", f"/desk/aduan/{ticket}", "/desk/peta", "/desk/ekspor.csv"):
        response = await world.http.get(world.url + path)
        assert response.status_code == 303 and response.headers["location"] == "/desk/masuk", path
    stale = DeskClient(world, "forged-cookie")
    assert (await stale.get("/desk/")).headers["location"] == "/desk/masuk"
    posted = await world.http.post(world.url + f"/desk/aduan/{ticket}/pindah", data={"opd": "PUPR"})
    assert posted.status_code == 303 and posted.headers["location"] == "/desk/masuk"
    help_page = await world.http.get(world.url + "/desk/masuk")
    assert help_page.status_code == 200 and "/masuk" in help_page.text


async def test_anyone_else_gets_no_link(world: World) -> None:
    await world.send(world.message(STRANGER, "/masuk"))
    answer = await world.reply(STRANGER.id)
    assert answer.text == "Maaf, desk web khusus untuk petugas humas dan petugas dinas."
    await world.send(world.message(STAFF_DLHK, "/masuk", chat_id=DLHK_CHAT))
    assert "chat pribadi" in ((await world.reply(DLHK_CHAT)).text or "")
    async with world.runtime.sessions() as session:
        assert (await session.exec(select(DeskLogin))).all() == []


async def test_staff_log_in_to_their_agency(world: World) -> None:
    link = await login_link(world, STAFF_DLHK)
    assert "DLHK" in (world.telegram.sent_messages(STAFF_DLHK.id)[-1].text or "")
    desk = DeskClient(world, session_cookie(await open_link(world, link)))
    home = await desk.get("/desk/")
    assert home.status_code == 200 and "DLHK" in home.text
    assert 'data-owner="PUPR"' not in home.text
    desk_pupr = await log_in(world, STAFF_PUPR)
    assert 'data-owner="PUPR"' in (await desk_pupr.get("/desk/")).text


PHONE = "6281234567890"


async def test_staff_see_only_their_tickets_and_never_a_contact(world: World) -> None:
    dlhk = await file_complaint(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau")
    pupr = await file_complaint(world, User(515151, "Siti"), "jalan berlubang besar di depan pasar Baruga bahaya")
    by_whatsapp = await stored_complaint(
        world, channel="whatsapp", address=f"whatsapp:+{PHONE}", name="Wati Lestari", description="sampah liar lagi"
    )
    wa_ticket = world.runtime.desk.ticket(by_whatsapp)
    staff = await log_in(world, STAFF_DLHK)
    pages = {
        path: await staff.get(path)
        for path in (
            "/desk/",
            "/desk/aduan",
            f"/desk/aduan/{dlhk}",
            f"/desk/aduan/{wa_ticket}",
            "/desk/peta",
            "/desk/ekspor.csv",
        )
    }
    assert all(response.status_code == 200 for response in pages.values())
    for path, response in pages.items():
        for secret in (PHONE, str(BUDI.id), BUDI.username, "Santoso", "Lestari"):
            assert secret not in response.text, (path, secret)
    assert "Wati (WhatsApp)" in pages[f"/desk/aduan/{wa_ticket}"].text  # as on the agency's card
    assert dlhk in pages["/desk/aduan"].text and pupr not in pages["/desk/aduan"].text
    assert pupr not in pages["/desk/ekspor.csv"].text
    assert (await staff.get(f"/desk/aduan/{pupr}")).status_code == 403
    assert (await staff.get(f"/desk/aduan/{pupr}/foto/0")).status_code == 403
    # Staff cannot act, even with their own valid form token.
    token = await staff.csrf()
    refused = await staff.post(f"/desk/aduan/{dlhk}/pindah", {"csrf": token, "opd": "PUPR"})
    assert refused.status_code == 403
    async with world.runtime.sessions() as session:
        assert (await complaints.get_complaint(session, complaint_id=1)).opd_code == "DLHK"  # type: ignore[union-attr]
    # Humas sees the contact.
    admin = await log_in(world, ADMIN)
    page = await admin.get(f"/desk/aduan/{wa_ticket}")
    # Formatted as people write it, as in /lihat.
    assert "+62 812-3456-7890 (WhatsApp)" in page.text and "Wati Lestari" in page.text
    async with world.runtime.sessions() as session:
        views = [(a.action, a.target) for a in await audit.recent_actions(session) if a.action == "view"]
    assert views == [("view", wa_ticket)]  # humas's look at a contact is logged, as /lihat's is


async def test_a_post_without_a_valid_csrf_token_changes_nothing(world: World) -> None:
    ticket = await file_complaint(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau")
    await world.reply(DLHK_CHAT)
    admin = await log_in(world, ADMIN)
    other = await log_in(world, ADMIN)
    other_token = await other.csrf()
    for data in ({"opd": "PUPR"}, {"opd": "PUPR", "csrf": ""}, {"opd": "PUPR", "csrf": other_token}):
        response = await admin.post(f"/desk/aduan/{ticket}/pindah", data)
        assert response.status_code == 403, data
    for action, data in (("tolak", {"alasan": "spam"}), ("tegur", {"pesan": "cepat"})):
        assert (await admin.post(f"/desk/aduan/{ticket}/{action}", data)).status_code == 403
    assert (await admin.post("/desk/keluar", {})).status_code == 403
    await world.settled()
    assert world.telegram.sent_messages(PUPR_CHAT) == []
    assert len(world.telegram.sent_messages(DLHK_CHAT)) == 1  # the card only
    async with world.runtime.sessions() as session:
        complaint = await complaints.get_complaint(session, complaint_id=1)
        assert complaint is not None and complaint.opd_code == "DLHK" and complaint.status == "open"
        assert [a.action for a in await audit.recent_actions(session)] == ["desk_login", "desk_login"]


async def test_logging_out_ends_the_session(world: World) -> None:
    admin = await log_in(world, ADMIN)
    token = await admin.csrf()
    out = await admin.post("/desk/keluar", {"csrf": token})
    assert out.status_code == 303 and out.headers["location"] == "/desk/masuk"
    assert any(h.startswith('ehumas_desk=""') for h in out.headers.get_list("set-cookie"))
    assert (await admin.get("/desk/")).headers["location"] == "/desk/masuk"


async def test_every_page_keeps_scripts_to_the_desk_itself(world: World) -> None:
    admin = await log_in(world, ADMIN)
    page = await admin.get("/desk/")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert "img-src 'self' https://tile.openstreetmap.org" in policy
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    for asset in ("vendor/chart.js/chart.umd.min.js", "vendor/leaflet/leaflet.js", "desk.js", "desk.css"):
        assert (await world.http.get(world.url + "/desk/static/" + asset)).status_code == 200
    # No inline script anywhere: the data rides in JSON blocks.
    assert "<script>" not in page.text and "onclick" not in page.text


async def test_the_forms_do_what_the_chat_commands_do(world: World) -> None:
    ticket = await file_complaint(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau")
    await world.reply(DLHK_CHAT)
    admin = await log_in(world, ADMIN)
    token = await admin.csrf(f"/desk/aduan/{ticket}")

    moved = await admin.post(f"/desk/aduan/{ticket}/pindah", {"csrf": token, "opd": "PUPR"})
    assert moved.status_code == 303
    page = await admin.get(moved.headers["location"])
    assert f"{ticket} dialihkan ke PUPR" in page.text and 'data-testid="flash"' in page.text
    card = await world.reply(PUPR_CHAT)
    assert f"Aduan {ticket}" in (card.text or "")
    # The old group's note and the routing correction, as /pindah gives them (handlers.handover, corrections).
    assert "dialihkan humas ke PUPR" in ((await world.reply(DLHK_CHAT)).text or "")
    assert "diteruskan ke Dinas Pekerjaan Umum" in ((await world.reply(BUDI.id)).text or "")

    reprimand = await admin.post(f"/desk/aduan/{ticket}/tegur", {"csrf": token, "pesan": "Mohon segera ditambal"})
    assert "Teguran dikirim ke PUPR" in (await admin.get(reprimand.headers["location"])).text
    assert "Mohon segera ditambal" in ((await world.reply(PUPR_CHAT)).text or "")

    rejected = await admin.post(f"/desk/aduan/{ticket}/tolak", {"csrf": token, "alasan": "laporan ganda"})
    assert "ditolak" in (await admin.get(rejected.headers["location"])).text
    assert "Alasan: laporan ganda" in ((await world.reply(BUDI.id)).text or "")
    assert "ditolak humas. Alasan: laporan ganda" in ((await world.reply(PUPR_CHAT)).text or "")
    again = await admin.post(f"/desk/aduan/{ticket}/pindah", {"csrf": token, "opd": "DLHK"})
    assert "sudah ditolak" in (await admin.get(again.headers["location"])).text
    # A forged confirmation in the address is not shown.
    forged = await admin.get(f"/desk/aduan/{ticket}", pesan="Semua beres")
    assert "Semua beres" not in forged.text

    async with world.runtime.sessions() as session:
        entries = [(a.action, a.target, a.actor) for a in reversed(await audit.recent_actions(session))]
        history = [e.kind for e in await complaints.events_of(session, complaint_id=1)]
    done = [(action, target) for action, target, _ in entries if action not in ("desk_login", "view")]
    assert done == [("reroute", ticket), ("reprimand", "PUPR"), ("reject", ticket)]
    assert all(f"telegram {ADMIN_ID}" in actor for action, _, actor in entries)
    assert history[-2:] == ["rerouted", "rejected"]
    async with world.runtime.sessions() as session:
        corrected = await corrections.correction_of(session, complaint_id=1)
    assert corrected is not None
    assert (corrected.said_opd, corrected.kind, corrected.truth_opd) == ("DLHK", CorrectionKind.REJECTED, None)
    assert "via web" in corrected.actor


async def test_the_list_filters_and_pages(world: World) -> None:
    for n in range(57):
        await stored_complaint(world, description=f"sampah menumpuk nomor {n}", address=str(800 + n))
    await stored_complaint(world, opd="PUPR", category="Jalan rusak", description="jalan berlubang di Anduonohu")
    await stored_complaint(world, opd=None, category=None, description="anjing liar", location_text="Jl. 100% Kambu_2")
    admin = await log_in(world, ADMIN)
    first = await admin.get("/desk/aduan")
    assert first.text.count("<tr data-ticket=") == 50 and "(59)" in first.text
    second = await admin.get("/desk/aduan", hal="2")
    assert second.text.count("<tr data-ticket=") == 9 and "Halaman 2 dari 2" in second.text
    assert "KDI-0001" in second.text and "KDI-0059" in first.text
    # A page number in another script's digits is no page number: the first page, not an error.
    for odd in ("²", "٢", "２"):
        page = await admin.get("/desk/aduan", hal=odd)
        assert page.status_code == 200 and page.text.count("<tr data-ticket=") == 50, odd

    def tickets(page: str) -> list[str]:
        return re.findall(r'<tr data-ticket="(KDI-\d+)"', page)

    assert tickets((await admin.get("/desk/aduan", opd="PUPR")).text) == ["KDI-0058"]
    assert tickets((await admin.get("/desk/aduan", opd="HUMAS")).text) == ["KDI-0059"]
    assert tickets((await admin.get("/desk/aduan", kategori="Jalan rusak")).text) == ["KDI-0058"]
    assert tickets((await admin.get("/desk/aduan", q="ANDUONOHU")).text) == ["KDI-0058"]
    assert tickets((await admin.get("/desk/aduan", q="nomor 12")).text) == ["KDI-0013"]
    # LIKE's wildcards are taken literally.
    assert tickets((await admin.get("/desk/aduan", q="100%")).text) == ["KDI-0059"]
    assert tickets((await admin.get("/desk/aduan", q="Kambu_2")).text) == ["KDI-0059"]
    assert tickets((await admin.get("/desk/aduan", q="_")).text) == ["KDI-0059"]
    assert tickets((await admin.get("/desk/aduan", status="closed")).text) == []
    assert tickets((await admin.get("/desk/aduan", terlambat="1")).text) == []
    world.clock.advance(timedelta(hours=25))
    # A session lasts [web] session_hours (12): after that, /masuk again.
    assert (await admin.get("/desk/aduan")).headers["location"] == "/desk/masuk"
    admin = await log_in(world, ADMIN)
    assert len(tickets((await admin.get("/desk/aduan", terlambat="1", opd="DLHK")).text)) == 50
    export = (await admin.get("/desk/ekspor.csv", opd="PUPR")).text
    assert "KDI-0058" in export and "KDI-0001" not in export


async def test_the_map_shows_open_complaints_with_a_place(world: World) -> None:
    late = await stored_complaint(world, location=(-3.97, 122.51), description="sampah lama")
    world.clock.advance(timedelta(hours=25))
    await stored_complaint(world, location=(-3.99, 122.52), opd="PUPR", description="jalan rusak")
    await stored_complaint(world, description="tanpa titik")
    admin = await log_in(world, ADMIN)
    page = await admin.get("/desk/peta")
    pins = re.search(r'<script type="application/json" id="map-data">(.*?)</script>', page.text, re.S)
    assert pins is not None
    found = json.loads(pins.group(1))
    assert [(p["ticket"], p["state"], p["opd"]) for p in found] == [
        ("KDI-0002", "open", "PUPR"),
        (world.runtime.desk.ticket(late), "late", "DLHK"),
    ]
    only = json.loads(re.findall(r'id="map-data">(.*?)</script>', (await admin.get("/desk/peta", opd="PUPR")).text)[0])
    assert [p["ticket"] for p in only] == ["KDI-0002"]
    staff = await log_in(world, STAFF_PUPR)
    theirs = json.loads(
        re.findall(r'id="map-data">(.*?)</script>', (await staff.get("/desk/peta", opd="DLHK")).text)[0]
    )
    assert [p["ticket"] for p in theirs] == ["KDI-0002"]


async def test_photos_are_served_to_who_may_see_them(world: World) -> None:
    photo = world.telegram.store_file(b"\xff\xd8\xff\xe0 a pile of rubbish")
    await world.send(world.message(BUDI, "Sampah numpuk di depan pasar Mandonga sudah 3 hari"))
    await world.reply(BUDI.id)
    await world.send(world.message(BUDI, location=(-3.9778, 122.5151)))
    await world.reply(BUDI.id)
    await world.send(world.message(BUDI, photo=photo))
    assert "1 foto" in ((await world.reply(BUDI.id)).text or "")
    await world.send(world.message(BUDI, "ya"))
    assert "KDI-0001" in ((await world.reply(BUDI.id)).text or "")
    admin = await log_in(world, ADMIN)
    page = await admin.get("/desk/aduan/KDI-0001")
    assert 'src="/desk/aduan/KDI-0001/foto/0"' in page.text and 'id="mini-map"' in page.text
    served = await admin.get("/desk/aduan/KDI-0001/foto/0")
    assert served.status_code == 200 and served.content == b"\xff\xd8\xff\xe0 a pile of rubbish"
    assert (await admin.get("/desk/aduan/KDI-0001/foto/1")).status_code == 404
    staff = await log_in(world, STAFF_PUPR)
    assert (await staff.get("/desk/aduan/KDI-0001/foto/0")).status_code == 403


async def test_masuk_with_the_desk_switched_off(database_url: str, telegram: TelegramStandIn) -> None:
    async with running_bot(settings_for(database_url, telegram), telegram) as world:
        await world.send(world.message(ADMIN, "/masuk"))
        assert "belum diaktifkan" in ((await world.reply(ADMIN.id)).text or "")
        assert (await world.http.get(world.url + "/desk/")).status_code == 404

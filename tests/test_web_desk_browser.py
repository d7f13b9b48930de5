"""The web desk in a real browser (Debian's Chromium driven by playwright), on SQLite and PostgreSQL.

Refresh the README's pictures with:
UPDATE_SCREENSHOT=1 .venv/bin/python -m pytest tests/test_web_desk_browser.py
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from bot.app import create_app
from bot.config import Settings
from bot.playground.runner import free_port, playground
from bot.standins.telegram_api import TelegramStandIn
from handlers.clock import Clock
from tests.conftest import ROOT
from tests.harness import ADMIN_ID, DLHK_CHAT, FAST, HUMAS_CHAT, PUPR_CHAT, User, World, settings_for
from tests.web_desk import login_link, members, web_sections

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Under CI a missing browser is a failure, not a skip.
needs_browser = pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true",
    reason="no Chromium here: `make test` installs Debian's chromium where apt-get can",
)
DOCS = ROOT / "docs"
ADMIN = User(ADMIN_ID, "Astibar")
STAFF_DLHK = User(900001, "Rahmat")
HOUR = timedelta(hours=1)
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def shot_path(tmp_path: Path, name: str) -> Path:
    """docs/<name> when refreshing the README's pictures, else a scratch file (a test run leaves the tree clean)."""
    return DOCS / name if os.environ.get("UPDATE_SCREENSHOT") else tmp_path / name


@asynccontextmanager
async def serving(database_url: str, telegram: TelegramStandIn) -> AsyncIterator[World]:
    """The real app on a known port, its public_url that address (as behind no proxy): links open as sent."""
    port = free_port()
    settings: Settings = settings_for(database_url, telegram, **web_sections())
    settings = settings.model_copy(
        update={"server": settings.server.model_copy(update={"public_url": f"http://127.0.0.1:{port}"})}
    )
    clock = Clock()
    app = create_app(settings, clock=clock, tuning=FAST)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        async with httpx.AsyncClient(timeout=10) as http:
            world = World(telegram, settings, app, f"http://127.0.0.1:{port}", http, clock)
            await asyncio.wait_for(world.runtime.connected.wait(), timeout=10)
            yield world
    finally:
        server.should_exit = True
        await asyncio.gather(task, return_exceptions=True)


async def file(world: World, user: User, text: str, *, place: tuple[float, float] | None = None) -> str:
    """A citizen files a complaint through the dialog (with a map point when given); its ticket."""
    await world.send(world.message(user, text))
    await world.reply(user.id)
    await world.send(world.message(user, location=place) if place else world.message(user, "lewati"))
    await world.reply(user.id)
    await world.send(world.message(user, "lewati"))
    await world.reply(user.id)
    await world.send(world.message(user, "ya"))
    filed = (await world.reply(user.id)).text or ""
    return filed.split("nomor ", 1)[1].split(".", 1)[0]


WEEKS: list[list[tuple[str, str, tuple[float, float] | None]]] = [
    # (what, who answers and when: "fast" / "late" / "" for nobody, a map point)
    [("sampah menumpuk di TPS Wua-Wua sudah bau", "fast", None)],
    [("jalan berlubang besar di depan pasar Baruga bahaya", "fast", None)],
    [
        ("sampah liar di pinggir kali Wanggu belum diangkut", "late", None),
        ("KTP saya belum jadi 2 bulan", "fast", None),
    ],
    [("drainase tersumbat di Jl. Saranani banjir", "fast", None)],
    [("truk sampah tidak datang ke Kambu tiga hari", "fast", None), ("jembatan kayu di Puuwatu lapuk", "late", None)],
    [("sampah dibakar warga asapnya masuk rumah", "fast", None)],
    [("jalan rusak parah di Anduonohu", "fast", None), ("akta kelahiran anak belum terbit", "late", None)],
    [("sampah menumpuk di pasar Mandonga sudah bau", "late", None)],
    [("got mampet di Lepo-Lepo", "fast", None), ("kontainer sampah penuh di Bonggoeya", "fast", None)],
    [
        ("Sampah numpuk di depan pasar Mandonga udh 3 hari gk diangkut", "", (-3.9675, 122.5147)),
        ("jalan berlubang di By Pass dekat jembatan, sudah 2 motor jatuh", "", (-3.9820, 122.5290)),
        ("sampah liar di pinggir jalan Poros Kendari", "", (-3.9950, 122.5010)),
        ("Tolong perhatikan anjing liar berkeliaran di kompleks", "", (-3.9710, 122.5400)),
    ],
]
GROUPS = {"DLHK": DLHK_CHAT, "PUPR": PUPR_CHAT, "DISDUKCAPIL": -1001000000003, "HUMAS": HUMAS_CHAT}


async def ten_weeks_of_complaints(world: World) -> dict[str, list[int]]:
    """Ten weeks of complaints, answered fast, late or not at all; the handovers per agency per week."""

    async def owner(ticket: str) -> str | None:
        async with world.runtime.sessions() as session:
            from storage import complaints

            found = await complaints.get_complaint(session, complaint_id=world.runtime.desk.parse_ticket(ticket) or 0)
        return found.opd_code if found else None

    weekly: dict[str, list[int]] = {}
    people = iter(range(700000, 701000))
    for index, week in enumerate(WEEKS):
        answers: list[tuple[str, str]] = []
        for text, answer, place in week:
            ticket = await file(world, User(next(people), "Warga"), text, place=place)
            code = await owner(ticket) or "HUMAS"
            weekly.setdefault(code, [0] * 12)[2 + index] += 1
            if answer:
                answers.append((ticket, answer))
        world.clock.advance(2 * HOUR)
        for ticket, answer in answers:
            if answer == "fast":
                await answer_ticket(world, ticket)
        await world.settled()  # answered now, before the clock moves on
        world.clock.advance(30 * HOUR)
        for ticket, answer in answers:
            if answer == "late":
                await answer_ticket(world, ticket)
        await world.settled()
        if index < len(WEEKS) - 1:
            world.clock.advance(timedelta(days=7) - 32 * HOUR)
    await world.settled()
    return weekly


async def answer_ticket(world: World, ticket: str) -> None:
    async with world.runtime.sessions() as session:
        from storage import complaints

        found = await complaints.get_complaint(session, complaint_id=world.runtime.desk.parse_ticket(ticket) or 0)
    assert found is not None
    staff = User(900100, "Petugas")
    group = GROUPS[found.opd_code or "HUMAS"]
    await world.send(world.message(staff, f"#{ticket} Sudah kami tindak lanjuti.", chat_id=group))


@needs_browser
async def test_the_desk_in_a_browser(database_url: str, telegram: TelegramStandIn, tmp_path: Path) -> None:
    from playwright.async_api import async_playwright, expect

    members(telegram, (DLHK_CHAT, STAFF_DLHK.id, "member"))
    async with serving(database_url, telegram) as world, async_playwright() as driver:
        # The first week starts on a Monday morning (WITA), so ten weeks make ten bars.
        local = world.clock.now().astimezone(world.runtime.desk.zone)
        world.clock.advance(timedelta(days=(7 - local.weekday()) % 7 or 7) - timedelta(hours=local.hour - 8))
        weekly = await ten_weeks_of_complaints(world)
        browser = await driver.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            # Tiles are out of reach here (as on an intranet that blocks them): the pins must show anyway.
            await page.route("https://*.openstreetmap.org/**", lambda route: route.abort())

            await page.goto(await login_link(world, ADMIN))
            await expect(page).to_have_url(world.url + "/desk/")
            await expect(page.get_by_role("heading", name="Dasbor")).to_be_visible()
            for chart in ("chart-weekly", "chart-ontime", "chart-categories"):
                await expect(page.locator(f"#{chart}")).to_have_attribute("data-drawn", "1")
            drawn: dict[str, Any] = await page.evaluate(
                """() => Object.fromEntries(Chart.getChart('chart-weekly').data.datasets.map(d => [d.label, d.data]))"""
            )
            assert drawn == {code: weekly.get(code, [0] * 12) for code in ("DLHK", "PUPR", "DISDUKCAPIL", "HUMAS")}
            await page.get_by_role("link", name="Semua").click()
            await expect(page).to_have_url(world.url + "/desk/?periode=all")
            dlhk = page.locator('tr[data-owner="DLHK"]')
            await expect(dlhk.locator('[data-field="answered_late"]')).to_have_text("2")
            await page.screenshot(path=str(shot_path(tmp_path, "desk-dashboard.png")), full_page=True)

            await page.get_by_role("link", name="Aduan", exact=True).click()
            filters = page.get_by_test_id("filters")
            await filters.locator('select[name="opd"]').select_option("DLHK")
            await filters.locator('input[name="q"]').fill("mandonga")
            await filters.get_by_role("button", name="Terapkan").click()
            rows = page.locator("table.list tbody tr")
            await expect(rows).to_have_count(2)
            await page.screenshot(path=str(shot_path(tmp_path, "desk-list.png")), full_page=True)
            newest = rows.first.get_by_role("link")
            ticket = (await newest.text_content() or "").strip()
            await newest.click()
            await expect(page.get_by_role("heading", name=f"Aduan {ticket}")).to_be_visible()
            await expect(page.locator("#mini-map path.pin")).to_have_count(1)
            await page.screenshot(path=str(shot_path(tmp_path, "desk-complaint.png")), full_page=True)

            form = page.get_by_test_id("form-pindah")
            await form.locator("select").select_option("PUPR")
            await form.get_by_role("button").click()
            await expect(page.get_by_test_id("flash")).to_contain_text(f"{ticket} dialihkan ke PUPR")
            await expect(page.get_by_test_id("owner")).to_contain_text("PUPR")
            card = await telegram.wait_for(
                lambda c: c.chat_id == PUPR_CHAT and f"Aduan {ticket}" in (c.text or ""), timeout=10
            )
            assert card.method == "sendMessage"
            await telegram.wait_for(
                lambda c: c.method == "sendMessage" and "diteruskan ke Dinas Pekerjaan Umum" in (c.text or ""),
                timeout=10,
            )

            await page.get_by_role("link", name="Peta").click()
            # The open ones with a place: three late, and the one just rerouted, on PUPR's fresh deadline.
            await expect(page.locator("#map path.pin")).to_have_count(4)
            await expect(page.locator("#map path.pin-late")).to_have_count(3)
            await expect(page.locator("#map path.pin-open")).to_have_count(1)
            await page.screenshot(path=str(shot_path(tmp_path, "desk-map.png")), full_page=True)

            phone = await browser.new_page(
                viewport={"width": 390, "height": 844}, is_mobile=True, device_scale_factor=2
            )
            await phone.route("https://*.openstreetmap.org/**", lambda route: route.abort())
            await phone.goto(await login_link(world, STAFF_DLHK))
            await expect(phone.get_by_test_id("who")).to_contain_text("DLHK")
            await expect(phone.locator("tr[data-owner]")).to_have_count(1)
            await phone.screenshot(path=str(shot_path(tmp_path, "desk-phone.png")), full_page=True)
        finally:
            await browser.close()


@needs_browser
async def test_the_playground_opens_the_desk_from_its_panes(tmp_path: Path) -> None:
    from playwright.async_api import async_playwright, expect

    port = free_port()
    async with playground(port, tmp_path / "desk.db"), async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1500, "height": 900})
            await page.goto(f"http://127.0.0.1:{port}/")
            async with page.context.expect_page() as opened:
                await page.get_by_test_id("desk-admin").click()
            desk = await opened.value
            await expect(desk.get_by_role("heading", name="Dasbor")).to_be_visible()
            await expect(desk.get_by_test_id("who")).to_contain_text("Humas")
            # The admin's pane shows the real /masuk exchange.
            await expect(page.get_by_test_id("pane-admin").locator(".msg.bot").last).to_contain_text("Masuk ke desk")
            async with page.context.expect_page() as opened:
                await page.get_by_test_id("desk-group-DLHK").click()
            agency = await opened.value
            await expect(agency.get_by_test_id("who")).to_contain_text("DLHK")
            await expect(agency.locator("tr[data-owner]")).to_have_count(1)
        finally:
            await browser.close()


async def test_the_playground_desk_links_log_in_the_pane_s_person(tmp_path: Path) -> None:
    port = free_port()
    async with (
        playground(port, tmp_path / "api.db"),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http,
    ):
        panes = (await http.get("/playground/api/panes")).json()
        assert panes["desk"] == ["admin", "group-DLHK", "group-PUPR", "group-DISDUKCAPIL"]
        to_link = await http.get("/playground/desk", params={"pane": "admin"})
        assert to_link.status_code == 303 and "/desk/masuk/" in to_link.headers["location"]
        landed = await http.get(to_link.headers["location"], follow_redirects=True)
        assert landed.status_code == 200 and "Admin Humas · Humas" in landed.text
        staff = await http.get("/playground/desk", params={"pane": "group-PUPR"})
        async with httpx.AsyncClient(timeout=10) as other:
            agency = await other.get(staff.headers["location"], follow_redirects=True)
        assert "Petugas PUPR · PUPR" in agency.text and 'data-owner="DLHK"' not in agency.text
        assert (await http.get("/playground/desk", params={"pane": "tg-citizen"})).status_code == 400

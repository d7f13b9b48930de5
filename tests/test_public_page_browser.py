"""The public page in a real browser (Debian's Chromium driven by playwright), on SQLite and PostgreSQL.

Refresh the README's picture with:
UPDATE_SCREENSHOT=1 .venv/bin/python -m pytest tests/test_public_page_browser.py
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.standins.telegram_api import TelegramStandIn
from tests.harness import World, running_bot, settings_for
from tests.public_seed import answered_complaint
from tests.test_web_desk_browser import BROWSER_ARGS, CHROMIUM, needs_browser, shot_path

# Ten weeks: (agency, category, hours to the answer) of each week's complaints.
WEEKS: list[list[tuple[str, str, float]]] = [
    [("DLHK", "Pengangkutan sampah", 3), ("PUPR", "Jalan rusak", 20)],
    [("DLHK", "TPS dan TPA", 5), ("DLHK", "Pengangkutan sampah", 2)],
    [("PUPR", "Drainase dan banjir", 30), ("DISDUKCAPIL", "KTP elektronik", 4)],
    [("DLHK", "Pengangkutan sampah", 1), ("DLHK", "Pengangkutan sampah", 26), ("PUPR", "Jalan rusak", 6)],
    [("DLHK", "Kebersihan lingkungan", 4), ("DISDUKCAPIL", "Akta", 48)],
    [("DLHK", "Pengangkutan sampah", 2), ("PUPR", "Jembatan", 10), ("DLHK", "TPS dan TPA", 3)],
    [("DLHK", "Pengangkutan sampah", 7), ("PUPR", "Jalan rusak", 12)],
    [("DLHK", "Pengangkutan sampah", 2), ("DLHK", "TPS dan TPA", 30), ("DISDUKCAPIL", "Kartu keluarga", 3)],
    [("DLHK", "Pengangkutan sampah", 1), ("PUPR", "Drainase dan banjir", 8), ("DLHK", "Pengangkutan sampah", 4)],
    [("DLHK", "Pengangkutan sampah", 2), ("PUPR", "Jalan rusak", 5), ("DLHK", "TPS dan TPA", 6)],
]
AREAS = ["Mandonga", "Kambu", "Baruga", "Wua-Wua", "Poasia", "Puuwatu", "Kadia", "Abeli"]


@pytest.fixture
async def world(database_url: str, telegram: TelegramStandIn) -> AsyncIterator[World]:
    settings = settings_for(database_url, telegram, public={"enabled": True, "min_reports": 10})
    async with running_bot(settings, telegram) as world:
        yield world


async def ten_weeks(world: World) -> None:
    """Ten weeks of answered complaints, a week apart on the bot's clock."""
    people = iter(range(710000, 720000))
    for index, week in enumerate(WEEKS):
        for opd, category, hours in week:
            number = next(people)
            await answered_complaint(
                world, opd=opd, category=category, hours_ago=hours, address=str(number),
                location_text=f"Kel. {AREAS[number % len(AREAS)]}",
            )  # fmt: skip
        if index < len(WEEKS) - 1:
            world.clock.advance(timedelta(days=7))
    await world.settled()


def received(code: str) -> int:
    return sum(1 for week in WEEKS for opd, _, _ in week if opd == code)


@needs_browser
async def test_the_public_page_in_a_browser(world: World, tmp_path: Path) -> None:
    from playwright.async_api import async_playwright, expect

    # The first week starts on a Wednesday noon (WITA): each week's complaints fall in one chart bar.
    local = world.clock.now().astimezone(world.runtime.desk.zone)
    world.clock.advance(timedelta(days=(2 - local.weekday()) % 7 or 7) - timedelta(hours=local.hour - 12))
    await ten_weeks(world)
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            problems: list[str] = []
            page.on(
                "console",
                lambda message: (
                    problems.append(f"{message.text} {message.location.get('url', '')}")
                    if message.type == "error" and not message.location.get("url", "").endswith("favicon.ico")
                    else None
                ),
            )
            page.on("pageerror", lambda error: problems.append(str(error)))

            await page.goto(world.url + "/publik/")
            await expect(page.get_by_role("heading", name="Aduan Terjawab")).to_be_visible()
            await expect(page.locator("#chart-weekly")).to_have_attribute("data-drawn", "1")
            drawn: dict[str, Any] = await page.evaluate(
                """() => Object.fromEntries(Chart.getChart('chart-weekly').data.datasets.map(d => [d.label, d.data]))"""
            )
            expected = {
                code: [0, 0] + [sum(1 for opd, _, _ in week if opd == code) for week in WEEKS]
                for code in ("DLHK", "PUPR", "DISDUKCAPIL")
            }
            assert drawn == expected
            # Since launch: DLHK (15 complaints) is ranked; PUPR (7) and Dukcapil (3) are below the minimum.
            assert (received("DLHK"), received("PUPR")) == (15, 7)
            since_launch = page.get_by_test_id("period-launch")
            await expect(since_launch.locator('tr[data-owner="DLHK"]')).to_have_attribute("data-rank", "1")
            await expect(since_launch.locator('tr[data-owner="PUPR"]')).to_have_attribute("data-rank", "")
            await expect(since_launch.locator('tr[data-owner="DLHK"] [data-field="received"]')).to_have_text("15")
            latest = page.get_by_test_id("latest")
            await expect(latest.locator("tbody tr")).to_have_count(20)
            await page.screenshot(path=str(shot_path(tmp_path, "public-page.png")), full_page=True)

            # A citizen shares the link of one complaint.
            first = latest.locator("tbody tr").first
            ticket = await first.locator("a").inner_text()
            await first.locator("a").click()
            await expect(page).to_have_url(world.url + f"/publik/aduan/{ticket}")
            await expect(page.get_by_test_id("complaint")).to_contain_text("Kel. ")
            await expect(page.get_by_test_id("complaint")).to_contain_text("tepat waktu")

            # No script error, no resource refused by the Content-Security-Policy.
            assert problems == []

            response = await page.goto(world.url + "/publik/aduan/KDI-9999")
            assert response is not None and response.status == 404
            await expect(page.get_by_role("heading", name="Aduan tidak ditemukan")).to_be_visible()

            # On a phone the tables become cards: every figure still readable.
            phone = await browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
            await phone.goto(world.url + "/publik/")
            await expect(phone.locator('tr[data-owner="DLHK"] [data-field="on_time"]').first).to_be_visible()
        finally:
            await browser.close()

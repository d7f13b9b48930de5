"""The public page "Aduan Terjawab": /stats's figures per agency, fair ranks, answered complaints, one page
per ticket, a minute's cache; off unless [public] enabled."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from bot.public.cache import TtlCache
from bot.standins.telegram_api import TelegramStandIn
from handlers import reports
from tests.harness import User, World, running_bot, settings_for
from tests.public_seed import answered_complaint
from tests.web_desk import stored_complaint

PUBLIC = {"enabled": True, "min_reports": 10, "show_text": False}
_ROW = re.compile(r'<tr data-owner="(\w+)" data-rank="(\d*)">(.*?)</tr>', re.S)
_CELL = re.compile(r'<td data-field="(\w+)"[^>]*>(.*?)</td>', re.S)


@pytest.fixture
async def world(database_url: str, telegram: TelegramStandIn) -> AsyncIterator[World]:
    async with running_bot(settings_for(database_url, telegram, public=PUBLIC), telegram) as world:
        yield world


def period_table(html: str, key: str) -> dict[str, tuple[str, dict[str, str]]]:
    """One period's table: agency -> (rank or "", field -> cell text)."""
    section = html.split(f'data-testid="period-{key}"', 1)[1].split("</section>", 1)[0]
    return {
        owner: (rank, {name: " ".join(text.split()) for name, text in _CELL.findall(body)})
        for owner, rank, body in _ROW.findall(section)
    }


async def test_the_page_is_off_unless_the_city_turns_it_on(database_url: str, telegram: TelegramStandIn) -> None:
    async with running_bot(settings_for(database_url, telegram), telegram) as world:
        await stored_complaint(world)
        assert (await world.http.get(world.url + "/publik/")).status_code == 404
        assert (await world.http.get(world.url + "/publik/aduan/KDI-0001")).status_code == 404


async def test_figures_are_the_stats_figures_and_small_agencies_get_no_rank(world: World) -> None:
    # DLHK: 12 complaints, 10 answered on time (2 h), 2 late (30 h). PUPR: 3, all answered in minutes.
    for n in range(12):
        await answered_complaint(world, opd="DLHK", hours_ago=2 if n < 10 else 30, address=str(5000 + n))
    for n in range(3):
        await answered_complaint(world, opd="PUPR", category="Jalan rusak", hours_ago=0.1, address=str(6000 + n))
    await world.settled()

    page = await world.http.get(world.url + "/publik/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Aduan Terjawab" in page.text

    async with world.runtime.sessions() as session:
        stats = await reports.load_stats(session, since=None, now=world.runtime.desk.now())
    for key in ("30d", "launch"):
        table = period_table(page.text, key)
        rank, dlhk = table["DLHK"]
        # The only agency with at least min_reports complaints is ranked; PUPR's quick three are not.
        assert rank == "1"
        assert table["PUPR"][0] == ""
        assert table["DISDUKCAPIL"][0] == ""
        assert dlhk["received"] == str(stats["DLHK"].received) == "12"
        assert dlhk["answered"] == "12"
        assert dlhk["on_time"] == reports.percent(stats["DLHK"].on_time_share) == "83%"
        assert dlhk["median"] == "2,0 jam"
        assert table["PUPR"][1]["on_time"] == "100%"
    assert "kurang dari 10 aduan" in page.text
    # The weekly chart's data, drawn by the desk's own script and Chart.js.
    assert '"label": "DLHK"' in page.text or '"label":"DLHK"' in page.text
    assert "/publik/static/vendor/chart.js/chart.umd.min.js" in page.text
    script = await world.http.get(world.url + "/publik/static/desk.js")
    assert script.status_code == 200 and "chart-weekly" in script.text


async def test_latest_answered_complaints_and_one_complaint_page(world: World) -> None:
    number = await answered_complaint(
        world, opd="PUPR", category="Jalan rusak", hours_ago=5, location_text="Jl. Malaka, Kambu"
    )
    waiting = await stored_complaint(world, opd="DLHK", description="got mampet dekat pasar")
    ticket = world.runtime.desk.ticket(number)
    page = await world.http.get(world.url + "/publik/")
    latest = page.text.split('data-testid="latest"', 1)[1]
    assert f'href="/publik/aduan/{ticket}"' in latest
    assert "Jalan rusak" in latest and "Jl. Malaka, Kambu" in latest and "5 jam" in latest
    # Only answered complaints are listed.
    assert world.runtime.desk.ticket(waiting) not in latest

    one = await world.http.get(world.url + f"/publik/aduan/{ticket}")
    assert one.status_code == 200
    assert ticket in one.text and "Dinas Pekerjaan Umum" in one.text and "tepat waktu" in one.text
    # Texts stay hidden unless [public] show_text.
    assert "Sudah kami angkut" not in one.text

    lower = await world.http.get(world.url + f"/publik/aduan/{ticket.lower()}")
    assert lower.status_code == 200

    for unknown in ("KDI-9999", "KDI-99999999999999999999", "bukan-tiket", "XYZ-0001"):
        missing = await world.http.get(world.url + f"/publik/aduan/{unknown}")
        assert missing.status_code == 404, unknown
        assert "Aduan tidak ditemukan" in missing.text and "<html" in missing.text


async def test_a_viral_page_is_answered_from_memory_for_a_minute(world: World) -> None:
    await answered_complaint(world, hours_ago=1)
    first = await world.http.get(world.url + "/publik/")
    assert first.headers["cache-control"] == "public, max-age=60"
    newer = await answered_complaint(world, hours_ago=1, address="777")
    again = await world.http.get(world.url + "/publik/")
    # The same page as a minute ago, without reading the database again: the new ticket comes later.
    assert again.text == first.text
    assert world.runtime.desk.ticket(newer) not in again.text


async def test_the_cache_expires_and_computes_once_per_key() -> None:
    now = [0.0]
    cache: TtlCache[str] = TtlCache(ttl=60, clock=lambda: now[0])
    calls: list[str] = []

    async def compute() -> str:
        calls.append("x")
        return f"v{len(calls)}"

    assert await cache.get_or_compute("page", compute) == "v1"
    now[0] = 59.0
    assert await cache.get_or_compute("page", compute) == "v1"
    now[0] = 60.5
    assert await cache.get_or_compute("page", compute) == "v2"
    assert len(calls) == 2


async def test_the_summary_says_what_may_become_public(world: World) -> None:
    citizen = User(700001, "Sari")
    await world.send(world.message(citizen, "Sampah di depan pasar Mandonga belum diangkut tiga hari"))
    await world.reply(citizen.id)
    await world.send(world.message(citizen, "lewati"))
    await world.reply(citizen.id)
    await world.send(world.message(citizen, "lewati"))
    summary = await world.reply(citizen.id)
    assert "halaman publik" in (summary.text or "")
    assert "tanpa nama dan nomor Anda" in (summary.text or "")


async def test_the_summary_says_nothing_of_a_public_page_that_is_off(
    database_url: str, telegram: TelegramStandIn
) -> None:
    async with running_bot(settings_for(database_url, telegram), telegram) as world:
        citizen = User(700002, "Sari")
        await world.send(world.message(citizen, "Sampah di depan pasar Mandonga belum diangkut tiga hari"))
        await world.reply(citizen.id)
        await world.send(world.message(citizen, "lewati"))
        await world.reply(citizen.id)
        await world.send(world.message(citizen, "lewati"))
        summary = await world.reply(citizen.id)
        assert "Mohon periksa aduan Anda" in (summary.text or "")
        assert "publik" not in (summary.text or "")


def test_the_settings_refuse_a_launch_day_or_key_that_cannot_work() -> None:
    from bot.config import ConfigError, parse_settings
    from tests.harness import example_data

    data = example_data()
    data["public"].update(launch="1 Nov 2026")
    with pytest.raises(ConfigError, match=r"public\.launch"):
        parse_settings(data, "test")
    data = example_data()
    data["open311"].update(enabled=True, api_keys=["short"])
    with pytest.raises(ConfigError, match=r"open311\.api_keys"):
        parse_settings(data, "test")
    data = example_data()
    assert parse_settings(data, "test").public.launch_day is not None

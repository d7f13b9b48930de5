"""The Open311 GeoReport v2 API, read with a third-party client (PyPI's `georeport`) from a running `ehumas run`,
in JSON and XML; requests filed as the specification's clients send them (a form with an api_key)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import xmltodict
from georeport import GeoReport

from bot.standins.telegram_api import TelegramStandIn
from tests.harness import DISDUKCAPIL_CHAT, DLHK_CHAT, PUPR_CHAT, User, World, running_bot, settings_for
from tests.procs import BotProcess, Updates, fleet

KEY = "partner-app-key-0123456789abcdef"
OPEN311 = {"enabled": True, "api_keys": [KEY], "jurisdiction_id": "kendarikota.go.id"}
PUBLIC = {"enabled": True, "show_text": True}
STAFF_DLHK = User(900001, "Rahmat")
STAFF_PUPR = User(900002, "Yusuf")
T = TypeVar("T")


async def off_thread(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run the (blocking, requests-based) client without blocking the test's event loop."""
    return await asyncio.to_thread(call, *args, **kwargs)


async def file(http: httpx.AsyncClient, base: str, fmt: str = "json", **form: str) -> httpx.Response:
    """POST requests.<fmt> as an Open311 client does: a urlencoded form."""
    return await http.post(f"{base}/open311/v2/requests.{fmt}", data=form)


async def card_of(telegram: TelegramStandIn, chat_id: int, ticket: str) -> tuple[int, int, str]:
    """(chat, message id, text) of the ticket card the bot posted in an agency group."""
    for count in range(1, 20):
        for call in await telegram.wait_for_count(count, chat_id=chat_id, timeout=10):
            if call.text and ticket in call.text and call.message_id is not None:
                return chat_id, call.message_id, call.text
    raise AssertionError(f"no card for {ticket} in {chat_id}")


@pytest.fixture
async def process(tmp_path: Path, database_url: str, telegram: TelegramStandIn) -> AsyncIterator[BotProcess]:
    async with fleet(tmp_path, database_url, telegram) as running:
        (bot,) = await running.start(1, sections={"open311": OPEN311, "public": PUBLIC})
        yield bot


async def test_a_partner_app_files_and_reads_back_with_a_georeport_client(
    process: BotProcess, telegram: TelegramStandIn
) -> None:
    base = process.url
    client = GeoReport(base + "/open311/v2", jurisdiction="kendarikota.go.id")
    xml_client = GeoReport(base + "/open311/v2", jurisdiction="kendarikota.go.id", output_format="xml")

    # The services: one per category of each agency, grouped by agency, keywords from the lexicon.
    services = await off_thread(client.get_service_list)
    codes = {s["service_code"]: s for s in services}
    assert codes["DLHK-pengangkutan-sampah"]["group"] == "Dinas Lingkungan Hidup dan Kehutanan"
    assert codes["DLHK-pengangkutan-sampah"]["metadata"] is False
    assert "truk sampah" in codes["DLHK-pengangkutan-sampah"]["keywords"]
    assert "PUPR" in codes and "DISDUKCAPIL" in codes
    xml_services = await off_thread(xml_client.get_service_list)
    assert {s["service_code"] for s in xml_services} == set(codes)
    assert (await off_thread(client.get_service_definition, "PUPR-jalan-rusak"))["service_code"] == "PUPR-jalan-rusak"
    assert (await off_thread(xml_client.get_service_definition, "PUPR"))["service_code"] == "PUPR"

    # Three requests as an app files them: a service and a point; a service and an address; no code at all.
    http = process.http
    garbage = await file(
        http, base, api_key=KEY, service_code="DLHK-pengangkutan-sampah", lat="-3.9778123", long="122.5151456",
        description="Sampah menumpuk di depan pasar Mandonga sudah tiga hari", email="warga@example.org",
    )  # fmt: skip
    assert garbage.status_code == 201, garbage.text
    first = garbage.json()[0]["service_request_id"]
    road = await file(
        http, base, "xml", api_key=KEY, service_code="PUPR-jalan-rusak", address_string="Jl. Malaka, Kambu",
        description="Jalan berlubang besar di Jl. Malaka, berbahaya untuk motor",
    )  # fmt: skip
    assert road.status_code == 201, road.text
    second = xmltodict.parse(road.content)["service_requests"]["request"]["service_request_id"]
    ktp = await file(
        http, base, api_key=KEY, lat="-3.99", long="122.52",
        description="KTP elektronik saya belum jadi sudah dua bulan sejak rekam",
    )  # fmt: skip
    assert ktp.status_code == 201, ktp.text
    third = ktp.json()[0]["service_request_id"]

    # Each became a complaint like a chat one: the card went to the agency's group (the classifier chose Dukcapil).
    dlhk_card = await card_of(telegram, DLHK_CHAT, first)
    assert "Sampah menumpuk di depan pasar Mandonga" in dlhk_card[2]
    assert "Open311" in dlhk_card[2]
    await card_of(telegram, PUPR_CHAT, second)
    await card_of(telegram, DISDUKCAPIL_CHAT, third)

    # The agency answers in its group; the close of another one: the API shows both.
    updates = Updates(telegram)
    reply = updates.message(STAFF_DLHK, "Besok pagi truk kami angkut.", chat_id=DLHK_CHAT, reply_to=dlhk_card)
    assert (await process.post_telegram(reply)).status_code == 200
    done = updates.message(STAFF_PUPR, f"/selesai {second} Sudah ditambal", chat_id=PUPR_CHAT)
    assert (await process.post_telegram(done)).status_code == 200
    await asyncio.sleep(0)  # the webhook stored them; the worker answers next
    await wait_for(lambda: answered(client, first))
    # Two chats' events, each processed in its own turn: the close may come a moment after the answer.
    await wait_for(lambda: client.get_service_request(second)["status"] == "closed")

    one = await off_thread(client.get_service_request, first)
    assert one["service_request_id"] == first
    assert one["status"] == "open"
    assert one["status_notes"] == "Besok pagi truk kami angkut."
    assert one["service_code"] == "DLHK-pengangkutan-sampah"
    assert one["agency_responsible"] == "Dinas Lingkungan Hidup dan Kehutanan"
    # Rounded to about 100 m; the deadline is the answer deadline (24 hours after filing).
    assert (one["lat"], one["long"]) == (-3.978, 122.515)
    requested = datetime.fromisoformat(one["requested_datetime"])
    assert datetime.fromisoformat(one["expected_datetime"]) - requested == timedelta(hours=24)
    assert requested.utcoffset() == timedelta(hours=8)  # WITA
    # The e-mail address a client sent is kept nowhere the API shows.
    assert "warga@example.org" not in str(one)

    xml_one = await off_thread(xml_client.get_service_request, second)
    assert xml_one["status"] == "closed" and xml_one["address"] == "Jl. Malaka, Kambu"

    # The filters, each through the client.
    everything = await off_thread(client.get_service_requests)
    assert [r["service_request_id"] for r in everything] == [third, second, first]
    by_ids = await off_thread(client.get_service_requests, service_request_id=f"{first},{third}")
    assert {r["service_request_id"] for r in by_ids} == {first, third}
    by_code = await off_thread(client.get_service_requests, service_code="PUPR-jalan-rusak")
    assert [r["service_request_id"] for r in by_code] == [second]
    by_agency = await off_thread(client.get_service_requests, service_code="DISDUKCAPIL")
    assert [r["service_request_id"] for r in by_agency] == [third]
    closed = await off_thread(client.get_service_requests, status="closed")
    assert [r["service_request_id"] for r in closed] == [second]
    still_open = await off_thread(xml_client.get_service_requests, status="open")
    assert [r["service_request_id"] for r in still_open] == [third, first]
    now = datetime.now(UTC)
    window = {
        "start_date": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_date": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    assert len(await off_thread(client.get_service_requests, **window)) == 3
    past = {
        "start_date": (now - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_date": (now - timedelta(days=29)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    assert await off_thread(client.get_service_requests, **past) == []
    paged = await http.get(base + "/open311/v2/requests.json", params={"page_size": "2", "page": "2"})
    assert [r["service_request_id"] for r in paged.json()] == [first]


def answered(client: GeoReport, ticket: str) -> bool:
    return bool(client.get_service_request(ticket)["status_notes"])


async def wait_for(check: Callable[[], bool], timeout: float = 15.0) -> None:
    """Wait until the other process has done its work (there is no event to await across processes)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await asyncio.to_thread(check):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the bot did not get there in time")
        await asyncio.sleep(0.1)


@pytest.fixture
async def world(database_url: str, telegram: TelegramStandIn) -> AsyncIterator[World]:
    settings = settings_for(database_url, telegram, open311=OPEN311, public={"enabled": False})
    async with running_bot(settings, telegram) as world:
        yield world


async def test_wrong_or_missing_key_is_403_and_nothing_is_filed(world: World) -> None:
    form = {"service_code": "PUPR", "lat": "-3.99", "long": "122.52", "description": "Jalan rusak parah di Kambu"}
    for fmt, key in (("json", None), ("json", "wrong-key-0123456789abcdef"), ("xml", KEY[:-1])):
        data = dict(form) if key is None else {**form, "api_key": key}
        response = await file(world.http, world.url, fmt, **data)
        assert response.status_code == 403
        if fmt == "json":
            assert response.json() == [{"code": 403, "description": "api_key missing or not valid"}]
        else:
            assert xmltodict.parse(response.content)["errors"]["error"]["code"] == "403"
    listed = await world.http.get(world.url + "/open311/v2/requests.json")
    assert listed.json() == []


async def test_a_key_that_files_too_much_is_told_to_wait_and_another_key_is_not(
    database_url: str, telegram: TelegramStandIn
) -> None:
    other = "second-partner-key-0123456789ab"
    limited = {**OPEN311, "api_keys": [KEY, other], "max_requests_per_hour": 2}
    settings = settings_for(database_url, telegram, open311=limited, public={"enabled": False})
    form = {"lat": "-3.99", "long": "122.52", "description": "Sampah menumpuk di pinggir jalan Kambu"}
    async with running_bot(settings, telegram) as world:
        for _ in range(2):
            assert (await file(world.http, world.url, api_key=KEY, **form)).status_code == 201
        refused = await file(world.http, world.url, api_key=KEY, **form)
        assert refused.status_code == 429
        assert refused.json() == [{"code": 429, "description": "too many requests for this api_key: at most 2 an hour"}]
        assert 3500 <= int(refused.headers["Retry-After"]) <= 3600
        assert (await file(world.http, world.url, "xml", api_key=KEY, **form)).status_code == 429
        # Another partner's key has its own hour; and an hour later the first may file again.
        assert (await file(world.http, world.url, api_key=other, **form)).status_code == 201
        world.clock.advance(timedelta(hours=1, seconds=1))
        assert (await file(world.http, world.url, api_key=KEY, **form)).status_code == 201
        listed = await world.http.get(world.url + "/open311/v2/requests.json")
        assert len(listed.json()) == 4  # the refused requests were not filed


async def test_bad_input_gets_the_specifications_error_list(world: World) -> None:
    response = await file(
        world.http, world.url, api_key=KEY, service_code="NOPE", lat="91", long="abc", description="rusak"
    )
    assert response.status_code == 400
    errors = response.json()
    assert all(error["code"] == 400 for error in errors)
    described = " ".join(error["description"] for error in errors)
    assert "service_code" in described and "description" in described and "lat" in described
    nowhere = await file(world.http, world.url, "xml", api_key=KEY, description="Jalan rusak parah di Kambu")
    assert nowhere.status_code == 400
    assert "location" in xmltodict.parse(nowhere.content)["errors"]["error"]["description"]

    bad_query = await world.http.get(
        world.url + "/open311/v2/requests.json",
        params={"status": "maybe", "start_date": "kemarin", "service_request_id": "abc"},
    )
    assert bad_query.status_code == 400
    assert len(bad_query.json()) == 3
    too_long = await world.http.get(
        world.url + "/open311/v2/requests.json",
        params={"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
    )
    assert too_long.status_code == 400 and "90 days" in too_long.text
    other_city = await world.http.get(world.url + "/open311/v2/services.json", params={"jurisdiction_id": "x.go.id"})
    assert other_city.status_code == 404
    # A date the 90-day window cannot be counted back from, or that an offset moves out of the calendar.
    for params in (
        {"end_date": "0001-01-01T00:00:00Z"},
        {"start_date": "0001-01-01T00:00:00"},
        {"end_date": "9999-12-31T23:59:59-12:00"},
    ):
        odd = await world.http.get(world.url + "/open311/v2/requests.json", params=params)
        assert odd.status_code == 400 and "a date from 1970" in odd.text, (params, odd.text)
    # Digits of other scripts and superscripts are digits to str.isdigit(), not numbers to int().
    for params in ({"page": "²"}, {"page_size": "٣"}, {"page": "１"}):
        odd = await world.http.get(world.url + "/open311/v2/requests.json", params=params)
        assert odd.status_code == 400 and "page" in odd.text, (params, odd.text)


async def test_unknown_ids_and_services_are_404(world: World) -> None:
    for path in (
        "/open311/v2/requests/KDI-4242.json",
        "/open311/v2/requests/KDI-99999999999999999999.json",
        "/open311/v2/requests/garbage.json",
        "/open311/v2/requests/%C2%B2.json",  # "²"
        "/open311/v2/services/NOPE.json",
    ):
        response = await world.http.get(world.url + path)
        assert response.status_code == 404, path
        assert response.json()[0]["code"] == 404
    xml = await world.http.get(world.url + "/open311/v2/requests/KDI-4242.xml")
    assert xml.status_code == 404 and xml.headers["content-type"].startswith("text/xml")
    assert (await world.http.get(world.url + "/open311/v2/requests.html")).status_code == 404
    discovery = await world.http.get(world.url + "/open311/v2/discovery.json")
    assert discovery.json()["endpoints"][0]["url"] == "https://ehumas.test/open311/v2"


async def test_the_api_is_off_unless_the_city_turns_it_on(database_url: str, telegram: TelegramStandIn) -> None:
    async with running_bot(settings_for(database_url, telegram), telegram) as world:
        assert (await world.http.get(world.url + "/open311/v2/services.json")).status_code == 404
        response = await file(world.http, world.url, api_key=KEY, description="Jalan rusak parah di Kambu")
        assert response.status_code in (404, 405)

"""Nothing personal leaves through the public page or the Open311 API, even with [public] show_text on:
complaints full of phone numbers, NIKs, e-mail addresses, usernames, names and exact points."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.standins.telegram_api import TelegramStandIn
from handlers.masking import mask_text, round_point
from tests.harness import World, running_bot, settings_for
from tests.public_seed import answered_complaint

SECRETS = [
    # The citizens' addresses on their messengers, and their names.
    "6281234567890",
    "424299",
    "Budi",
    "Santoso",
    "Hasanuddin",
    "Sitti",
    # What they wrote.
    "0812-3456-7890",
    "081234567890",
    "0813 5555 1234",
    "5555",
    "budi.santoso@gmail.com",
    "gmail",
    "7471012345670001",
    "7471 0123 4567 0002",
    "budi_kdi",
    "t.me/budikdi",
    # The staff member who answered, and the number he gave.
    "Rahmat",
    "Hidayat",
    "081299998888",
    # The exact points (only three decimals may show).
    "3.9675",
    "122.5123",
    "3.9812",
    "122.5201",
]


@pytest.fixture
async def world(database_url: str, telegram: TelegramStandIn) -> AsyncIterator[World]:
    settings = settings_for(
        database_url,
        telegram,
        public={"enabled": True, "show_text": True, "min_reports": 1},
        open311={"enabled": True, "api_keys": ["partner-app-key-0123456789abcdef"]},
    )
    async with running_bot(settings, telegram) as world:
        yield world


async def seed(world: World) -> list[str]:
    first = await answered_complaint(
        world,
        address="whatsapp:+6281234567890",
        name="Budi Santoso",
        description=(
            "Saya Budi Santoso, HP 0812-3456-7890 / 081234567890, email budi.santoso@gmail.com, "
            "NIK 7471012345670001, ig @budi_kdi t.me/budikdi. Sampah menumpuk di depan rumah Pak Hasanuddin "
            "di titik -3.9675123, 122.5123456"
        ),
        location=(-3.9675123, 122.5123456),
        location_text="Jl. Sao-Sao dekat rumah Ibu Wa Ode Sitti, hp 0813 5555 1234",
        answer="Pak Budi, sudah kami angkut. Info lanjut hubungi Rahmat Hidayat di 081299998888.",
        staff_name="Rahmat Hidayat",
    )
    second = await answered_complaint(
        world,
        opd="DISDUKCAPIL",
        category="KTP elektronik",
        address="424299",
        name="Sitti",
        description="KTP saya belum jadi, NIK 7471 0123 4567 0002, tolong cek",
        location=(-3.9812345, 122.5201234),
        answer="Ibu Sitti, KTP sudah dicetak.",
        staff_name="Rahmat Hidayat",
    )
    desk = world.runtime.desk
    return [desk.ticket(first), desk.ticket(second)]


async def test_no_personal_detail_reaches_any_public_page_or_api_answer(world: World) -> None:
    tickets = await seed(world)
    await world.settled()
    paths = ["/publik/", "/open311/v2/services.json", "/open311/v2/services.xml", "/open311/v2/discovery.json"]
    for fmt in ("json", "xml"):
        paths += [f"/open311/v2/requests.{fmt}", f"/open311/v2/requests.{fmt}?status=open"]
        paths += [f"/open311/v2/requests/{ticket}.{fmt}" for ticket in tickets]
    paths += [f"/publik/aduan/{ticket}" for ticket in tickets]
    shown = {}
    for path in paths:
        response = await world.http.get(world.url + path)
        assert response.status_code == 200, path
        shown[path] = response.text
    leaks = [(path, secret) for path, text in shown.items() for secret in SECRETS if secret in text]
    assert leaks == []
    # The texts are there, masked (so the test above looked at the right pages).
    page = shown[f"/publik/aduan/{tickets[0]}"]
    assert "Sampah menumpuk di depan rumah Pak [nama]" in page
    assert "[nomor disembunyikan]" in page and "[NIK disembunyikan]" in page and "[email disembunyikan]" in page
    assert "sudah kami angkut" in page
    assert "-3.967, 122.512" in page or "-3.968" in shown["/open311/v2/requests.json"]
    assert '"lat": -3.968' in shown["/open311/v2/requests.json"]


async def test_without_show_text_no_complaint_or_answer_text_is_public(
    database_url: str, telegram: TelegramStandIn
) -> None:
    settings = settings_for(database_url, telegram, public={"enabled": True}, open311={"enabled": True})
    async with running_bot(settings, telegram) as world:
        tickets = await seed(world)
        for path in (f"/publik/aduan/{tickets[0]}", "/publik/", "/open311/v2/requests.json"):
            text = (await world.http.get(world.url + path)).text
            assert "Sampah menumpuk" not in text and "sudah kami angkut" not in text, path


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("Telp +62 812-3456-7890 ya", "3456"),
        ("wa 0812.3456.7890", "3456"),
        ("(0401) 312 3456 kantor", "312 3456"),
        ("NIK: 7471-0123-4567-0001", "4567"),
        ("no KK 7471012345670099", "70099"),
        ("mail ke Siti.A@pemkot.go.id", "pemkot"),
        ("hubungi @siti_aminah", "siti_aminah"),
        ("nama saya Andi Pratama", "Pratama"),
        ("atas nama La Ode Muhammad", "Muhammad"),
        ("rumah Bu Hartini", "Hartini"),
        ("titik -3.96751234, 122.51234", "3.9675"),
    ],
)
def test_masking_hides_each_kind_of_detail(text: str, hidden: str) -> None:
    assert hidden not in mask_text(text)


def test_masking_keeps_what_the_public_needs() -> None:
    text = "Jalan berlubang di Jl. Ahmad Yani depan SD 5, sejak 12 Nov 2026, tiket KDI-0042, pak RT sudah lapor"
    assert mask_text(text) == text
    assert mask_text("Ibu Siti dan Pak Andi", known_names=["Siti Aminah"]) == "Ibu [nama] dan Pak [nama]"
    assert mask_text("kata siti kemarin", known_names=["Siti Aminah"]) == "kata [nama] kemarin"
    assert round_point(-3.9675123, 122.5123456) == (-3.968, 122.512)
    assert round_point(None, 122.5) is None

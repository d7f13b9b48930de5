"""Ticket cards as agency clerks get them: one message per complaint, replies to any part answer it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.standins.telegram_api import TelegramStandIn
from storage import complaints
from storage.models import ComplaintStatus
from tests.harness import DLHK_CHAT, User, World, running_bot, settings_for
from tests.test_e2e_telegram import BUDI, STAFF_DLHK

KENDARI = (-3.9778, 122.5151)


@pytest.fixture
async def world(database_url: str, telegram: TelegramStandIn) -> AsyncIterator[World]:
    async with running_bot(settings_for(database_url, telegram), telegram) as world:
        yield world


async def file_with(
    world: World,
    user: User,
    description: str,
    *,
    photos: tuple[bytes, ...] = (),
    location: tuple[float, float] | None = None,
) -> str:
    """A citizen files a complaint with photos (the first with the description as its caption)."""
    ids = [world.telegram.store_file(data) for data in photos]
    await world.send(world.message(user, description, photo=ids[0] if ids else None))
    last = await world.reply(user.id)
    for photo_id in ids[1:]:
        await world.send(world.message(user, photo=photo_id))
        last = await world.reply(user.id)
    if location is not None:
        await world.send(world.message(user, location=location))
        last = await world.reply(user.id)
    for _ in range(4):
        if 'Ketik "ya"' in (last.text or ""):
            break
        await world.send(world.message(user, "lewati"))
        last = await world.reply(user.id)
    await world.send(world.message(user, "ya"))
    filed = await world.reply(user.id)
    assert filed.text and "tercatat dengan nomor" in filed.text
    return filed.text.split("nomor ", 1)[1].split(".", 1)[0]


async def answered_by(world: World, ticket: str) -> str:
    """The answer the citizen got for a ticket."""
    answer = await world.reply(BUDI.id)
    assert answer.text and ticket in answer.text
    return answer.text


async def test_a_card_with_two_photos_is_the_first_photo_captioned_then_the_second(world: World) -> None:
    ticket = await file_with(
        world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau", photos=(b"first jpeg", b"second jpeg")
    )
    card, second = await world.replies(DLHK_CHAT, 2)
    assert card.method == "sendPhoto" and world.telegram.file_bytes(card.params["photo"]) == b"first jpeg"
    assert card.params["parse_mode"] == "HTML" and f"<b>Aduan {ticket}</b>" in card.text
    assert second.method == "sendPhoto" and world.telegram.file_bytes(second.params["photo"]) == b"second jpeg"
    assert second.text == f"📷 Aduan {ticket} · foto 2 dari 2. Balas pesan ini untuk menanggapi."
    await world.settled()
    assert len(world.telegram.sent_messages(DLHK_CHAT)) == 2

    # A reply to the captioned photo and a reply to the second photo both answer the ticket.
    await world.send(world.message(STAFF_DLHK, "Besok pagi diangkut.", chat_id=DLHK_CHAT, reply_to=card))
    assert "Besok pagi diangkut." in await answered_by(world, ticket)
    await world.send(world.message(STAFF_DLHK, "Truk sudah jalan.", chat_id=DLHK_CHAT, reply_to=second))
    assert "Truk sudah jalan." in await answered_by(world, ticket)
    async with world.runtime.sessions() as session:
        complaint = await complaints.get_complaint(session, complaint_id=1)
    assert complaint is not None and complaint.status == ComplaintStatus.ANSWERED


async def test_a_reply_to_a_card_photo_the_outbox_lost_track_of_still_names_its_ticket(world: World) -> None:
    # The bot died between sending and recording: the outbox knows no message id, the caption does.
    ticket = await file_with(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau", photos=(b"a", b"b"))
    card, second = await world.replies(DLHK_CHAT, 2)
    await world.settled()
    from sqlalchemy import update

    from storage.models import OutboxMessage

    async with world.runtime.sessions() as session, session.begin():
        await session.exec(update(OutboxMessage).values(provider_message_id=None))
    for call, words in ((card, "Dicek hari ini."), (second, "Sudah dicek.")):
        update_json = world.message(STAFF_DLHK, words, chat_id=DLHK_CHAT, reply_to=call)
        # Telegram shows a replied photo with its caption as Telegram renders it (no HTML).
        replied = update_json["message"]["reply_to_message"]
        replied.pop("text")
        replied["caption"] = (call.text or "").replace("<b>", "").replace("</b>", "")
        replied["photo"] = [{"file_id": "x", "file_unique_id": "xu", "width": 1, "height": 1}]
        await world.send(update_json)
        assert words in await answered_by(world, ticket)


async def test_a_card_too_long_for_a_caption_goes_first_as_text_then_its_photo(world: World) -> None:
    description = "Sampah menumpuk di TPS Wua-Wua. " + "Baunya menyengat sampai ke rumah warga. " * 30
    ticket = await file_with(world, BUDI, description, photos=(b"jpeg",), location=KENDARI)
    card, photo = await world.replies(DLHK_CHAT, 2)
    assert card.method == "sendMessage" and card.params["parse_mode"] == "HTML"
    assert f"Aduan {ticket}" in card.text and "Baunya menyengat" in card.text and "mlat=-3.977800" in card.text
    assert photo.method == "sendPhoto"
    assert photo.text == f"📷 Aduan {ticket} · foto 1 dari 1. Balas pesan ini untuk menanggapi."
    await world.settled()
    assert [c.method for c in world.telegram.sent_messages(DLHK_CHAT)] == ["sendMessage", "sendPhoto"]
    await world.send(world.message(STAFF_DLHK, "Kami tangani.", chat_id=DLHK_CHAT, reply_to=photo))
    assert "Kami tangani." in await answered_by(world, ticket)


async def test_a_card_without_photo_is_one_text_with_the_map_link(world: World) -> None:
    ticket = await file_with(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau", location=KENDARI)
    card = await world.reply(DLHK_CHAT)
    assert card.method == "sendMessage" and f"Aduan {ticket}" in card.text
    assert "titik peta · <a href=" in card.text and "buka peta</a>" in card.text
    await world.settled()
    assert len(world.telegram.sent_messages(DLHK_CHAT)) == 1


async def test_the_separate_location_pin_comes_only_when_configured(
    database_url: str, telegram: TelegramStandIn
) -> None:
    settings = settings_for(
        database_url, telegram, cards={"location_pin": True, "map_url": "https://maps.google.com/?q={lat},{lon}"}
    )
    async with running_bot(settings, telegram) as world:
        await file_with(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau", photos=(b"jpeg",), location=KENDARI)
        card, pin = await world.replies(DLHK_CHAT, 2)
        assert card.method == "sendPhoto" and "https://maps.google.com/?q=-3.977800,122.515100" in card.text
        assert pin.method == "sendLocation" and pin.params["latitude"] == pytest.approx(KENDARI[0])


async def test_a_photo_telegram_refuses_does_not_take_the_card_with_it(world: World) -> None:
    world.telegram.fail_next(1, status=400, description="Bad Request: wrong file identifier", methods={"sendPhoto"})
    ticket = await file_with(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau", photos=(b"jpeg",))
    card = await world.reply(DLHK_CHAT)
    assert card.method == "sendMessage" and f"<b>Aduan {ticket}</b>" in card.text
    await world.send(world.message(STAFF_DLHK, "Segera.", chat_id=DLHK_CHAT, reply_to=card))
    assert "Segera." in await answered_by(world, ticket)


@pytest.mark.parametrize(
    "map_url", ["ftp://maps/{lat},{lon}", "https://maps.example/?q={lat}", "https://maps.example/{lat}/{lon}/{zoom}"]
)
def test_a_map_link_template_must_name_the_point(map_url: str) -> None:
    from bot.config import ConfigError, parse_settings
    from tests.harness import example_data

    data = example_data()
    data["cards"]["map_url"] = map_url
    with pytest.raises(ConfigError, match=r"test: cards\.map_url: "):
        parse_settings(data, "test")
    data["cards"]["location_pin"] = "yes"
    data["cards"]["map_url"] = "https://maps.google.com/?q={lat},{lon}"
    with pytest.raises(ConfigError, match=r"cards\.location_pin"):
        parse_settings(data, "test")

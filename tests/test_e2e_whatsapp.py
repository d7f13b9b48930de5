"""WhatsApp through Twilio, end to end over real HTTP: signed form posts in, the real twilio client out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from twilio.request_validator import RequestValidator

from bot.app import Tuning
from bot.runtime.holding import hold_for_window
from bot.standins.telegram_api import TelegramStandIn
from bot.standins.twilio_api import TwilioCall, TwilioStandIn
from bot.whatsapp.inbound import media_key, to_inbound
from bot.whatsapp.outbound import MAX_BODY, template_payload
from bot.whatsapp.webhooks import STATUS_PATH
from handlers import texts
from handlers.events import STORED, Attachment, ChannelName
from handlers.outgoing import Recipient
from handlers.textsafe import split_utf16
from storage import citizens, media, outbox
from storage.models import InboxEvent, OutboxMessage, OutboxStatus
from tests.harness import ADMIN_ID, DLHK_CHAT, FAST, HUMAS_CHAT, PUPR_CHAT, User, World
from tests.harness_whatsapp import BOT_NUMBER, TEMPLATE_SID, Phone, WhatsApp, running_whatsapp_bot

ANI = Phone("+6281234567890", "Ani Wulandari")
RUDI = Phone("+6285298765432", "Rudi")
BUDI = User(424242, "Budi", "Santoso")
STAFF_DLHK = User(900001, "Rahmat")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(range(256)) * 8


@pytest.fixture
async def wa(database_url: str, telegram: TelegramStandIn, twilio: TwilioStandIn) -> AsyncIterator[WhatsApp]:
    async with running_whatsapp_bot(database_url, telegram, twilio) as running:
        yield running


async def file_complaint(wa: WhatsApp, phone: Phone, description: str) -> str:
    """Walk a WhatsApp citizen through the dialog with typed answers; return the ticket number."""
    await wa.send(phone, description)
    await wa.reply(phone)
    for answer in ("lewati", "lewati"):
        await wa.send(phone, answer)
        await wa.reply(phone)
    await wa.send(phone, "ya")
    filed = await wa.reply(phone)
    assert filed.body and "tercatat dengan nomor" in filed.body
    return filed.body.split("nomor ", 1)[1].split(".", 1)[0]


async def answer_by_reply(world: World, chat: int, text: str) -> None:
    """Agency staff answer the newest ticket card in their group by replying to it."""
    card = next(c for c in reversed(world.telegram.sent_messages(chat)) if c.text and "🆕" in c.text)
    await world.send(world.message(STAFF_DLHK, text, chat_id=chat, reply_to=card))


async def outbox_rows(wa: WhatsApp, phone: Phone) -> list[OutboxMessage]:
    async with wa.world.runtime.sessions() as session:
        rows = await session.exec(
            select(OutboxMessage).where(col(OutboxMessage.chat_id) == phone.address).order_by(col(OutboxMessage.id))
        )
        return list(rows.all())


# -- the dialog --------------------------------------------------------------------------------------------


async def test_a_whatsapp_citizen_files_a_complaint_with_location_and_photo(wa: WhatsApp) -> None:
    tw, world = wa.twilio, wa.world
    await wa.send(ANI, "Halo")
    greeting = await wa.reply(ANI)
    assert "Selamat datang" in greeting.body and "Kota Kendari" in greeting.body
    assert greeting.params["From"] == BOT_NUMBER and greeting.to == ANI.address
    assert greeting.params["StatusCallback"].startswith("https://ehumas.test/whatsapp/status?outbox=")

    await wa.send(ANI, "Sampah numpuk di depan pasar Mandonga sudah 3 hari <b>tidak</b> diangkut")
    assert "Lokasi: depan pasar Mandonga — benar?" in (await wa.reply(ANI)).body

    await wa.send(ANI, location=(-3.9778, 122.5151), address="Jl. Mandonga, Kendari")
    assert "foto" in (await wa.reply(ANI)).body.lower()

    url = tw.store_media(JPEG, "image/jpeg")
    await wa.send(ANI, media=[(url, "image/jpeg")])
    summary = await wa.reply(ANI)
    assert "1 foto" in summary.body and "Jl. Mandonga, Kendari" in summary.body
    assert 'Ketik "ya"' in summary.body

    await wa.send(ANI, "ya")
    filed = await wa.reply(ANI)
    assert "KDI-0001" in filed.body and "WITA" in filed.body

    # One message in the group: the stored photo, the card as its caption, the place as a map link.
    card = await world.reply(DLHK_CHAT)
    assert "Aduan KDI-0001" in card.text and "Ani (WhatsApp)" in card.text
    assert "&lt;b&gt;tidak&lt;/b&gt;" in card.text
    # The agency sees the messenger, never the number.
    assert "81234567890" not in card.text and "Wulandari" not in card.text
    assert "Jl. Mandonga, Kendari" in card.text and "mlat=-3.977800" in card.text
    assert card.method == "sendPhoto" and card.files["photo"] == JPEG and card.params["parse_mode"] == "HTML"
    # The photo was fetched with the account's credentials, through Twilio's redirect.
    assert [c.status for c in tw.calls if c.method == "Media.fetch"] == [307]
    # No Telegram markup reaches WhatsApp: the citizen's own words come back as written, unescaped.
    assert "<b>tidak</b>" in summary.body
    assert not any("&lt;" in c.body or "<code>" in c.body for c in tw.sent_messages(ANI.address))


async def test_a_photo_that_cannot_be_fetched_is_reported_and_the_text_kept(wa: WhatsApp) -> None:
    tw = wa.twilio
    missing = f"{tw.base_url}/2010-04-01/Accounts/{tw.account_sid}/Messages/MM{'0' * 32}/Media/ME{'0' * 32}"
    await wa.send(ANI, "Jalan berlubang besar di depan SD 5 Poasia", media=[(missing, "image/jpeg")])
    notice, prompt = await wa.replies(ANI, 2)
    assert notice.body == texts.PHOTO_NOT_RECEIVED
    assert "Lokasi: depan SD 5 Poasia — benar?" in prompt.body  # the description was taken all the same
    async with wa.world.runtime.sessions() as session:
        assert (await session.exec(select(InboxEvent.processed_at))).one() is not None


async def test_a_hanging_photo_download_holds_up_only_its_own_chat(wa: WhatsApp) -> None:
    tw, world = wa.twilio, wa.world
    url = tw.store_media(JPEG, "image/jpeg")
    release = tw.hold_media(url)
    try:
        form = await wa.send(ANI, "Lampu jalan padam di Jl. Saranani", media=[(url, "image/jpeg")])

        def held(call: TwilioCall) -> bool:
            return call.method == "Media.fetch" and call.status is None

        download = await tw.wait_for(held)  # the bot is now stuck on Ani's photo
        # A Telegram citizen writing meanwhile is answered all the same.
        await world.send(world.message(BUDI, "Sampah berserakan di lorong Kambu belum diangkut seminggu"))
        assert "Lokasi: lorong Kambu — benar?" in (await world.reply(BUDI.id, timeout=5.0)).text
        assert download.status is None and tw.sent_messages(ANI.address) == []
    finally:
        release.set()  # also on failure: the bot's shutdown must not wait for the download
    # Released, Ani's message goes through with its photo.
    prompt = await wa.reply(ANI)
    assert "Lokasi: Jl. Saranani — benar?" in prompt.body and prompt.body != texts.PHOTO_NOT_RECEIVED
    assert download.status == 307
    async with world.runtime.sessions() as session:
        assert await media.has_media(session, key=media_key(form["MessageSid"], 0))


async def test_voice_notes_and_stickers_are_refused_politely(wa: WhatsApp) -> None:
    voice = wa.twilio.store_media(b"OggS", "audio/ogg")
    await wa.send(ANI, media=[(voice, "audio/ogg")])
    assert "pesan suara belum bisa kami terima" in (await wa.reply(ANI)).body
    sticker = wa.twilio.store_media(b"RIFF", "image/webp")
    await wa.send(ANI, media=[(sticker, "image/webp")])
    assert "stiker belum bisa kami terima" in (await wa.reply(ANI)).body
    # Nothing but photos is downloaded.
    assert not [c for c in wa.twilio.calls if c.method == "Media.fetch"]


# -- the webhook's guard ------------------------------------------------------------------------------------


async def test_a_redelivered_message_sid_changes_nothing(wa: WhatsApp) -> None:
    form = await wa.send(ANI, "Halo")
    await wa.reply(ANI)
    response = await wa.post(form)
    assert response.status_code == 200
    await wa.world.settled()
    assert len(wa.twilio.sent_messages(ANI.address)) == 1
    async with wa.world.runtime.sessions() as session:
        assert len((await session.exec(select(InboxEvent))).all()) == 1


async def test_forged_missing_or_misaddressed_signatures_are_refused(wa: WhatsApp) -> None:
    form = wa.form(ANI, "Sampah di jalan Saranani belum diangkut")
    assert (await wa.post(form, signature=None)).status_code == 403
    assert (await wa.post(form, signature="bm90IGEgc2lnbmF0dXJl")).status_code == 403
    # Signed for the address the app happens to listen on, not the public URL Twilio calls.
    local = wa.signature(form, wa.world.url + "/whatsapp/webhook")
    assert (await wa.post(form, signature=local)).status_code == 403
    # Signed with another account's token.
    other = RequestValidator("x" * 32).compute_signature(wa.public_url + "/whatsapp/webhook", form)
    assert (await wa.post(form, signature=other)).status_code == 403
    # A genuine post that is not a message.
    incomplete = {k: v for k, v in form.items() if k != "MessageSid"}
    assert (await wa.post(incomplete)).status_code == 400
    await wa.world.settled()
    async with wa.world.runtime.sessions() as session:
        assert (await session.exec(select(InboxEvent))).all() == []
    assert wa.twilio.sent_messages() == []


# -- answers and the 24-hour window -----------------------------------------------------------------------


async def test_an_answer_inside_the_window_is_sent_as_free_text(wa: WhatsApp) -> None:
    ticket = await file_complaint(wa, ANI, "Sampah berserakan di lorong Kambu belum diangkut seminggu")
    await wa.world.reply(DLHK_CHAT)
    await answer_by_reply(wa.world, DLHK_CHAT, "Baik, besok pagi truk kami angkut.")
    answer = await wa.reply(ANI)
    assert answer.body.startswith(f"💬 Tanggapan Dinas Lingkungan Hidup dan Kehutanan atas aduan {ticket}")
    assert "Baik, besok pagi truk kami angkut." in answer.body
    assert answer.params.get("ContentSid") is None


async def test_an_answer_outside_the_window_goes_as_template_and_in_full_when_the_citizen_writes(
    wa: WhatsApp,
) -> None:
    ticket = await file_complaint(wa, ANI, "Sampah menumpuk di TPS Wua-Wua sudah bau sekali")
    await wa.world.reply(DLHK_CHAT)
    await wa.age_window(ANI)
    await answer_by_reply(wa.world, DLHK_CHAT, "Sudah kami jadwalkan pengangkutan hari Senin.")
    template = await wa.reply(ANI)
    assert template.params["ContentSid"] == TEMPLATE_SID and not template.body
    variables = template.content_variables
    assert variables is not None and variables["1"] == ticket
    assert "Dinas Lingkungan Hidup" in variables["2"] and "\n" not in variables["2"]
    # Closing the ticket holds two more messages (the notice, "sudah beres?"): no second template.
    await wa.world.send(wa.world.message(STAFF_DLHK, f"/selesai {ticket}", chat_id=DLHK_CHAT))
    await wa.world.settled()
    rows = await outbox_rows(wa, ANI)
    assert [r.purpose for r in rows if r.status == OutboxStatus.HELD] == ["answer", "closed", "verify"]
    assert len([c for c in wa.twilio.sent_messages(ANI.address) if c.params.get("ContentSid") == TEMPLATE_SID]) == 1

    await wa.send(ANI, "Halo")  # what the template asks the citizen to reply
    full, closed, fixed = await wa.replies(ANI, 3)
    assert "Sudah kami jadwalkan pengangkutan hari Senin." in full.body and full.params.get("ContentSid") is None
    assert "dinyatakan selesai" in closed.body and "sudah beres?" in fixed.body
    await wa.world.settled()
    assert not [r for r in await outbox_rows(wa, ANI) if r.status == OutboxStatus.HELD]
    # The held messages were the answer to "Halo" (no greeting as if to a newcomer), and the
    # question, seen only now, takes the citizen's next message; "ya" leads to the rating.
    # (Taking buttons off old messages is a Telegram matter: WhatsApp sends nothing for those rows.)
    shown = [r for r in await outbox_rows(wa, ANI) if r.kind != "clear_buttons"]
    assert len(wa.twilio.sent_messages(ANI.address)) == len(shown)
    await wa.send(ANI, "ya")
    assert "nilai 1 (buruk) sampai 5" in (await wa.reply(ANI)).body
    await wa.send(ANI, "5")
    thanks = await wa.reply(ANI)
    assert "⭐⭐⭐⭐⭐" in thanks.body and ticket in thanks.body


async def test_a_rating_request_held_for_days_still_takes_the_typed_number(wa: WhatsApp) -> None:
    ticket = await file_complaint(wa, ANI, "Sampah berserakan di lorong Kambu belum diangkut seminggu")
    await wa.world.reply(DLHK_CHAT)
    await wa.age_window(ANI)
    await wa.world.send(wa.world.message(STAFF_DLHK, f"/selesai {ticket} Sudah diangkut", chat_id=DLHK_CHAT))
    template = await wa.reply(ANI)
    assert template.params["ContentSid"] == TEMPLATE_SID
    # The citizen answers the template a week later, long after the rating step set at closing lapsed.
    wa.world.clock.advance(timedelta(days=7))
    await wa.send(ANI, "Oke terima kasih")
    closed, fixed = await wa.replies(ANI, 2)
    assert "dinyatakan selesai" in closed.body and "sudah beres?" in fixed.body
    await wa.send(ANI, "ya")
    prompt = await wa.reply(ANI)
    assert "nilai 1 (buruk) sampai 5" in prompt.body
    await wa.send(ANI, "4")
    thanks = await wa.reply(ANI)
    assert "⭐⭐⭐⭐" in thanks.body and ticket in thanks.body
    # A message with a problem in it after released messages is a new complaint, as always.
    await wa.send(ANI, "Lampu jalan di depan kantor lurah Kambu mati sudah seminggu")
    assert "lokasi" in (await wa.reply(ANI)).body.lower()


async def test_without_a_template_humas_is_told_and_the_answer_waits(
    database_url: str, telegram: TelegramStandIn, twilio: TwilioStandIn
) -> None:
    async with running_whatsapp_bot(database_url, telegram, twilio, reply_template_sid="") as wa:
        ticket = await file_complaint(wa, ANI, "Sampah menumpuk di TPS Wua-Wua sudah bau sekali")
        await wa.world.reply(DLHK_CHAT)
        await wa.age_window(ANI)
        await answer_by_reply(wa.world, DLHK_CHAT, "Sudah kami jadwalkan pengangkutan hari Senin.")
        alert = await wa.world.reply(HUMAS_CHAT)
        assert ticket in alert.text and "template" in alert.text and "menulis lagi" in alert.text
        assert "81234567890" not in alert.text
        await wa.world.settled()
        assert len(twilio.sent_messages(ANI.address)) == 4  # the dialog only

        await wa.send(ANI, "halo, ada kabar?")
        full = (await wa.replies(ANI, 1))[0]
        assert "Sudah kami jadwalkan pengangkutan hari Senin." in full.body


async def test_twilio_refusing_a_message_outside_the_window_takes_the_template_path(wa: WhatsApp) -> None:
    ticket = await file_complaint(wa, ANI, "Got mampet di jalan Ahmad Yani, air meluap ke rumah warga")
    await wa.world.reply(PUPR_CHAT)
    # Our clock says the window is open, Twilio says it is not (63016).
    wa.twilio.fail_to(ANI.address, status=400, code=63016)
    await answer_by_reply(wa.world, PUPR_CHAT, "Tim kami meluncur sore ini.")
    template = await wa.reply(ANI)
    variables = template.content_variables
    assert template.params["ContentSid"] == TEMPLATE_SID and variables is not None and variables["1"] == ticket
    await wa.world.settled()
    assert [r.status for r in await outbox_rows(wa, ANI) if r.purpose == "answer"] == [OutboxStatus.HELD]


async def test_a_long_answer_is_split_under_whatsapps_limit(wa: WhatsApp) -> None:
    await file_complaint(wa, ANI, "Sampah berserakan di lorong Kambu belum diangkut seminggu")
    await wa.world.reply(DLHK_CHAT)
    dialog = len(wa.twilio.sent_messages(ANI.address))
    paragraph = "Petugas kami sudah meninjau lokasi dan mencatat volume sampah di sana. " * 9
    answer = "\n\n".join(paragraph.strip() for _ in range(5))
    await answer_by_reply(wa.world, DLHK_CHAT, answer)
    await wa.world.settled()
    parts = wa.twilio.sent_messages(ANI.address)[dialog:]
    assert len(parts) == 3
    assert all(len(p.body) < 1600 for p in parts)
    assert all(p.body.endswith(".") for p in parts)  # cut between paragraphs, not mid-sentence
    # Nothing lost or repeated: the parts end with the answer, word for word.
    words = " ".join(p.body for p in parts).split()
    assert words[-len(answer.split()) :] == answer.split()


async def test_an_agency_photo_answer_reaches_the_whatsapp_citizen_as_a_photo(wa: WhatsApp) -> None:
    ticket = await file_complaint(wa, ANI, "Sampah berserakan di lorong Kambu belum diangkut seminggu")
    await wa.world.reply(DLHK_CHAT)
    card = next(c for c in reversed(wa.world.telegram.sent_messages(DLHK_CHAT)) if c.text and "🆕" in c.text)
    after_work = b"\xff\xd8\xff\xe0 the cleaned-up lane " + bytes(range(256)) * 4
    photo_id = wa.world.telegram.store_file(after_work)
    await wa.world.send(
        wa.world.message(STAFF_DLHK, "Sudah dibersihkan pagi ini.", chat_id=DLHK_CHAT, reply_to=card, photo=photo_id)
    )
    text, photo = await wa.replies(ANI, 2)
    assert "Sudah dibersihkan pagi ini." in text.body
    assert photo.body == f"Foto tanggapan {ticket}" and len(photo.media_urls) == 1
    # Twilio fetched the photo from the bot's public address (the stand-in plays the reverse proxy).
    [download] = await wa.twilio.wait_media_downloads(1)
    link = photo.media_urls[0]
    assert link.startswith(wa.public_url + "/media/") and download.status == 200
    assert download.result["data"] == after_work and download.result["content_type"] == "image/jpeg"
    await wa.world.settled()
    assert [r.status for r in await outbox_rows(wa, ANI) if r.purpose == "answer_photo"] == [OutboxStatus.SENT]

    # Only links the bot signed are served: altered, foreign or made-up ones tell nothing.
    local = link.replace(wa.public_url, wa.world.url)
    token = local.rsplit("/", 1)[1]
    assert (await wa.world.http.get(local)).content == after_work
    for wrong in (
        local[:-4] + ("AAAA" if not local.endswith("AAAA") else "BBBB"),
        wa.world.url + "/media/" + token.split(".")[0] + ".x.y",
        wa.world.url + "/media/KDI-0001",
    ):
        response = await wa.world.http.get(wrong)
        assert response.status_code == 404 and response.content == b"not found", wrong


async def test_a_split_answer_is_resumed_after_a_failed_part_never_repeated(wa: WhatsApp) -> None:
    await file_complaint(wa, ANI, "Sampah berserakan di lorong Kambu belum diangkut seminggu")
    await wa.world.reply(DLHK_CHAT)
    await wa.world.settled()
    dialog = len(wa.twilio.sent_messages(ANI.address))
    paragraph = "Petugas kami sudah meninjau lokasi dan mencatat volume sampah di sana. " * 9
    answer = "\n\n".join(f"{n}. {paragraph.strip()}" for n in range(1, 6))
    # Twilio takes the first part, then refuses the second once (a 500): the retry starts there.
    wa.twilio.fail_to(ANI.address, status=500, code=20500, n=1, after=1)
    await answer_by_reply(wa.world, DLHK_CHAT, answer)
    await wa.world.settled()
    parts = wa.twilio.sent_messages(ANI.address)[dialog:]
    assert len(parts) == 3
    words = " ".join(p.body for p in parts).split()
    assert words[-len(answer.split()) :] == answer.split() and "1." in parts[0].body
    assert "1. Petugas" not in " ".join(p.body for p in parts[1:])  # the first part came once only

    # Twilio later reports the last part undelivered: that part goes again, the others do not.
    assert await wa.twilio.send_status(parts[2].sid, "undelivered", 30003) == 200
    await wa.world.settled()
    again = wa.twilio.sent_messages(ANI.address)[dialog + 3 :]
    assert [p.body for p in again] == [parts[2].body]


# -- status callbacks ---------------------------------------------------------------------------------------


async def test_status_callbacks_record_delivery_and_a_failure_is_retried_then_reported(
    database_url: str, telegram: TelegramStandIn, twilio: TwilioStandIn
) -> None:
    tuning = Tuning(
        dispatch=replace(FAST.dispatch, max_attempts=2), inbox_poll_seconds=0.05, connect_retry_seconds=0.05
    )
    async with running_whatsapp_bot(database_url, telegram, twilio, tuning=tuning) as wa:
        await wa.send(ANI, "Halo")
        greeting = await wa.reply(ANI)
        await wa.world.settled()
        assert await twilio.send_status(greeting.sid, "sent") == 200
        assert await twilio.send_status(greeting.sid, "delivered") == 200
        assert await twilio.send_status(greeting.sid, "sent") == 200  # late: must not go back
        [row] = await outbox_rows(wa, ANI)
        assert (row.status, row.delivery_status) == (OutboxStatus.SENT, "delivered")

        await wa.send(ANI, "Sampah numpuk di depan pasar sentral Kota sudah 3 hari")
        prompt = await wa.reply(ANI)
        await wa.world.settled()
        assert await twilio.send_status(prompt.sid, "failed", error_code=30008) == 200
        assert await twilio.send_status(prompt.sid, "failed", error_code=30008) == 200  # repeated
        again = await wa.reply(ANI)
        assert again.body == prompt.body
        await wa.world.settled()
        assert len(twilio.sent_messages(ANI.address)) == 3  # one retry for two identical callbacks

        assert await twilio.send_status(again.sid, "undelivered", error_code=30008) == 200
        alert = await wa.world.reply(HUMAS_CHAT)
        assert "gagal terkirim" in alert.text and "30008" in alert.text
        await wa.world.settled()
        row = (await outbox_rows(wa, ANI))[1]
        assert (row.status, row.delivery_status) == (OutboxStatus.FAILED, "undelivered")
        assert len(twilio.sent_messages(ANI.address)) == 3


async def test_an_opted_out_citizen_is_marked_unreachable_and_humas_told(wa: WhatsApp) -> None:
    await wa.send(ANI, "Halo")
    greeting = await wa.reply(ANI)
    await wa.world.settled()
    assert await wa.twilio.send_status(greeting.sid, "failed", error_code=21610) == 200
    alert = await wa.world.reply(HUMAS_CHAT)
    assert "21610" in alert.text
    await wa.world.settled()
    async with wa.world.runtime.sessions() as session:
        citizen = await citizens.find_citizen(session, channel="whatsapp", address=ANI.address)
    assert citizen is not None and not citizen.reachable
    assert len(wa.twilio.sent_messages(ANI.address)) == 1  # no retry


async def test_a_status_callback_is_checked_like_the_webhook(wa: WhatsApp) -> None:
    await wa.send(ANI, "Halo")
    greeting = await wa.reply(ANI)
    await wa.world.settled()
    callback = greeting.params["StatusCallback"]
    path = STATUS_PATH + callback.split(STATUS_PATH, 1)[1]
    form = {"MessageSid": greeting.sid, "MessageStatus": "failed", "ErrorCode": "30008", "To": ANI.address}
    # The query is part of what Twilio signs.
    unsigned_query = wa.signature(form, wa.public_url + STATUS_PATH)
    assert (await wa.post(form, signature=unsigned_query, path=path)).status_code == 403
    assert (await wa.post(form, signature=None, path=path)).status_code == 403
    assert (await wa.post({"MessageSid": greeting.sid}, path=path)).status_code == 400
    # An unknown message is acknowledged and ignored.
    assert (await wa.post({**form, "MessageSid": "SM" + "0" * 32}, path=STATUS_PATH)).status_code == 200
    await wa.world.settled()
    [row] = await outbox_rows(wa, ANI)
    assert row.status == OutboxStatus.SENT and row.delivery_status is None


# -- two messengers, one desk --------------------------------------------------------------------------


async def test_whatsapp_and_telegram_citizens_each_get_only_their_own_answer(wa: WhatsApp) -> None:
    world = wa.world
    wa_ticket = await file_complaint(wa, ANI, "Sampah menumpuk di TPS Wua-Wua sudah bau sekali")
    wa_card = await world.reply(DLHK_CHAT)
    await world.send(world.message(BUDI, "Sampah berserakan di lorong Kambu belum diangkut seminggu"))
    for word in ("lewati", "lewati", "ya"):
        await world.reply(BUDI.id)
        await world.send(world.message(BUDI, word))
    tg_filed = await world.reply(BUDI.id)
    tg_ticket = tg_filed.text.split("nomor ", 1)[1].split(".", 1)[0]
    tg_card = await world.reply(DLHK_CHAT)
    assert wa_ticket != tg_ticket and "(Telegram)" in tg_card.text and "(WhatsApp)" in wa_card.text

    await world.send(
        world.message(STAFF_DLHK, "Untuk Ibu Ani: truk datang Selasa.", chat_id=DLHK_CHAT, reply_to=wa_card)
    )
    await world.send(
        world.message(STAFF_DLHK, "Untuk Pak Budi: truk datang Rabu.", chat_id=DLHK_CHAT, reply_to=tg_card)
    )
    wa_answer = await wa.reply(ANI)
    tg_answer = await world.reply(BUDI.id)
    await world.settled()
    assert wa_ticket in wa_answer.body and "Selasa" in wa_answer.body and "Rabu" not in wa_answer.body
    assert tg_ticket in tg_answer.text and "Rabu" in tg_answer.text and "Selasa" not in tg_answer.text
    assert not any("Rabu" in (c.body or "") for c in wa.twilio.sent_messages())
    assert not any("Selasa" in (c.text or "") for c in world.telegram.sent_messages(BUDI.id))
    assert wa.twilio.sent_messages(RUDI.address) == []


# -- pieces ----------------------------------------------------------------------------------------------------


def test_text_is_split_at_paragraphs_then_sentences_then_words() -> None:
    assert split_utf16("pendek", MAX_BODY) == ["pendek"]
    paragraphs = ["A" * 900, "B" * 900]
    assert split_utf16("\n\n".join(paragraphs), MAX_BODY) == paragraphs
    sentences = ("Kalimat pertama cukup panjang. " * 80).strip()
    parts = split_utf16(sentences, MAX_BODY)
    assert all(len(p) < 1600 and p.endswith(".") for p in parts) and " ".join(parts) == sentences
    words = " ".join(["kata"] * 700)
    assert all(len(p) < 1600 for p in split_utf16(words, MAX_BODY)) and " ".join(split_utf16(words, MAX_BODY)) == words
    assert [len(p) for p in split_utf16("x" * 3500, MAX_BODY)] == [1599, 1599, 302]
    # Emoji take two of Twilio's units.
    assert all(len(p.encode("utf-16-le")) // 2 < 1600 for p in split_utf16("😀" * 1000, MAX_BODY))


def test_template_variables_are_one_short_line() -> None:
    payload = template_payload(TEMPLATE_SID, ticket="KDI-0042", text="💬 Tanggapan:\n\n" + "panjang " * 40)
    assert payload["content_sid"] == TEMPLATE_SID and payload["variables"]["1"] == "KDI-0042"
    assert "\n" not in payload["variables"]["2"] and len(payload["variables"]["2"]) <= 100
    assert payload["variables"]["2"].endswith("…")


def test_a_phone_number_as_profile_name_is_not_kept() -> None:
    form = {"From": ANI.address, "MessageSid": "SM1", "ProfileName": "+62 812-3456-7890", "Body": "x"}
    inbound = to_inbound(form, photos=(), received_at=datetime.now(UTC))
    assert inbound is not None and inbound.sender_name == ""
    named = to_inbound(
        {**form, "ProfileName": "Ani"},
        photos=(Attachment("photo", STORED, "k"),),
        received_at=datetime.now(UTC),
    )
    assert named is not None and named.sender_name == "Ani" and named.media == (Attachment("photo", STORED, "k"),)
    assert to_inbound({**form, "From": "+6281234567890"}, photos=(), received_at=datetime.now(UTC)) is None


async def test_media_is_stored_once_per_key(sessions: async_sessionmaker[AsyncSession]) -> None:
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        await media.save_media(session, key="MM1-0", content_type="image/jpeg", data=JPEG, now=now)
        await media.save_media(session, key="MM1-0", content_type="image/png", data=b"other", now=now)
    async with sessions() as session:
        stored = await media.load_media(session, key="MM1-0")
        assert stored is not None and stored.data == JPEG and stored.size == len(JPEG)
        assert await media.has_media(session, key="MM1-0") and not await media.has_media(session, key="x")


async def test_a_citizen_who_writes_while_a_hold_is_decided_gets_the_message_now(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        await citizens.touch_citizen(session, channel="whatsapp", address=ANI.address, display_name="Ani", now=now)
        late = await outbox.enqueue(session, channel="whatsapp", chat_id=ANI.address, payload={"text": "a"}, now=now)
        stale = await outbox.enqueue(session, channel="whatsapp", chat_id=ANI.address, payload={"text": "b"}, now=now)
    async with sessions() as session, session.begin():
        rows = [await session.get(OutboxMessage, i) for i in (late, stale)]
        assert rows[0] is not None and rows[1] is not None
        # The sender saw the citizen's last message an hour before the one now stored: send now.
        assert not await hold_for_window(
            session,
            rows[0],
            template=None,
            reason="window",
            unless_heard_after=now - timedelta(hours=1),
            humas=Recipient(ChannelName("telegram"), str(HUMAS_CHAT)),
            ticket_prefix="KDI",
            now=now,
        )
        # The sender saw the latest message: hold, and tell humas (no template configured).
        assert await hold_for_window(
            session,
            rows[1],
            template=None,
            reason="window",
            unless_heard_after=now,
            humas=Recipient(ChannelName("telegram"), str(HUMAS_CHAT)),
            ticket_prefix="KDI",
            now=now,
        )
    async with sessions() as session:
        rows = [await session.get(OutboxMessage, i) for i in (late, stale)]
        statuses = [row.status if row else None for row in rows]
        alerts = (await session.exec(select(OutboxMessage).where(col(OutboxMessage.purpose) == "held_alert"))).all()
    assert statuses == [OutboxStatus.PENDING, OutboxStatus.HELD] and len(alerts) == 1
    async with sessions() as session, session.begin():
        assert len(await outbox.release_held(session, channel="whatsapp", chat_id=ANI.address, now=now)) == 1


async def test_a_whatsapp_citizen_rates_a_closed_ticket_with_a_typed_number(wa: WhatsApp) -> None:
    ticket = await file_complaint(wa, ANI, "Sampah berserakan di lorong Kambu belum diangkut seminggu")
    await wa.world.reply(DLHK_CHAT)
    await wa.world.send(wa.world.message(STAFF_DLHK, f"/selesai {ticket} Sudah diangkut", chat_id=DLHK_CHAT))
    closed, fixed = await wa.replies(ANI, 2)
    assert "dinyatakan selesai" in closed.body and "sudah beres?" in fixed.body
    await wa.send(ANI, "ya")
    prompt = await wa.reply(ANI)
    # Offered as a list to tap; a typed digit is taken all the same.
    assert "nilai 1 (buruk) sampai 5" in prompt.body and [t for t, _ in prompt.options] == ["1", "2", "3", "4", "5"]
    await wa.send(ANI, "4")
    thanks = await wa.reply(ANI)
    assert "⭐⭐⭐⭐" in thanks.body and ticket in thanks.body
    await wa.world.send(wa.world.message(User(ADMIN_ID, "Astibar"), "/stats 7d", chat_id=HUMAS_CHAT))
    stats = next(c for c in await wa.world.replies(HUMAS_CHAT, 1) if "Rekap" in (c.text or ""))
    assert "nilai 4,0" in stats.text

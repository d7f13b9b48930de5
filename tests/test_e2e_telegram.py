"""The core loop on Telegram, end to end over real HTTP: citizen, agency group, answer back."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.standins.telegram_api import TelegramCall, TelegramStandIn
from storage import complaints
from storage.models import ComplaintStatus
from tests.harness import (
    DLHK_CHAT,
    HUMAS_CHAT,
    PUPR_CHAT,
    SECRET,
    User,
    World,
    running_bot,
    settings_for,
)

BUDI = User(424242, "Budi", "Santoso", username="budi_kdi")
SITI = User(515151, "Siti")
STAFF_DLHK = User(900001, "Rahmat")
STAFF_PUPR = User(900002, "Yusuf")


@pytest.fixture
async def world(database_url: str, telegram: TelegramStandIn) -> AsyncIterator[World]:
    async with running_bot(settings_for(database_url, telegram), telegram) as world:
        yield world


async def file_complaint(world: World, user: User, description: str) -> str:
    """Walk a citizen through the dialog with typed answers; return the ticket number."""
    await world.send(world.message(user, description))
    await world.reply(user.id)
    await world.send(world.message(user, "lewati"))
    await world.reply(user.id)
    await world.send(world.message(user, "lewati"))
    await world.reply(user.id)
    await world.send(world.message(user, "ya"))
    filed = await world.reply(user.id)
    assert filed.text and "tercatat dengan nomor" in filed.text
    return filed.text.split("nomor ", 1)[1].split(".", 1)[0]


async def test_a_citizen_files_a_complaint_and_the_agency_gets_the_card(world: World) -> None:
    tg = world.telegram
    assert tg.webhook["url"] == "https://ehumas.test/telegram/webhook"
    assert tg.webhook["secret_token"] == SECRET

    await world.send(world.message(BUDI, "/start"))
    greeting = await world.reply(BUDI.id)
    assert "Selamat datang" in greeting.text and "Kota Kendari" in greeting.text

    await world.send(world.message(BUDI, "Sampah numpuk di depan pasar Mandonga sudah 3 hari <b>tidak</b> diangkut"))
    # The description names a place: it is proposed as the location (a map point answers too).
    ask_location = await world.reply(BUDI.id)
    assert "Lokasi: depan pasar Mandonga — benar?" in ask_location.text

    await world.send(world.message(BUDI, location=(-3.9778, 122.5151)))
    ask_photo = await world.reply(BUDI.id)
    assert "foto" in ask_photo.text.lower()

    photo_id = world.telegram.store_file(b"\xff\xd8\xff\xe0 a citizen's JPEG")
    await world.send(world.message(BUDI, photo=photo_id))
    summary = await world.reply(BUDI.id)
    assert "Dinas Lingkungan Hidup dan Kehutanan" in summary.text
    assert "1 foto" in summary.text and 'Ketik "ya"' in summary.text

    await world.send(world.message(BUDI, "ya"))
    filed = await world.reply(BUDI.id)
    assert "KDI-0001" in filed.text and "WITA" in filed.text

    # One message: the photo, the card as its caption, the place as a map link inside the card.
    card = await world.reply(DLHK_CHAT)
    assert card.method == "sendPhoto" and card.params["photo"] == photo_id
    assert card.params.get("parse_mode") == "HTML"
    assert "Aduan KDI-0001" in card.text and "Batas tanggapan" in card.text
    assert '<a href="https://www.openstreetmap.org/?mlat=-3.977800&amp;mlon=122.515100' in card.text
    # Citizen text is escaped, and the agency sees a label, not the username or id.
    assert "&lt;b&gt;tidak&lt;/b&gt;" in card.text
    assert "Budi (Telegram)" in card.text
    assert "budi_kdi" not in card.text and str(BUDI.id) not in card.text and "Santoso" not in card.text
    await world.settled()
    assert len(world.telegram.sent_messages(DLHK_CHAT)) == 1


async def test_the_first_message_can_be_the_description(world: World) -> None:
    ticket = await file_complaint(world, SITI, "jln berlubang bgt di depan SD 5 Poasia, bahaya buat motor")
    assert ticket == "KDI-0001"
    card = await world.reply(PUPR_CHAT)
    assert "KDI-0001" in card.text


async def test_an_unclassified_complaint_goes_to_humas(world: World) -> None:
    await world.send(
        world.message(
            SITI, "Tolong dibantu pak, tetangga membuka bengkel las di rumah dan suaranya bising sampai tengah malam"
        )
    )
    await world.replies(SITI.id, 1)
    for word in ("lewati", "lewati"):
        await world.send(world.message(SITI, word))
        await world.reply(SITI.id)
    assert "Humas Kota Kendari" in world.telegram.sent_messages(SITI.id)[-1].text
    await world.send(world.message(SITI, "ya"))
    filed = await world.reply(SITI.id)
    assert "Humas akan meneruskannya" in filed.text
    card = await world.reply(HUMAS_CHAT)
    assert "/pindah KDI-0001" in card.text


async def test_an_agency_answer_by_reply_reaches_the_citizen(world: World) -> None:
    ticket = await file_complaint(world, BUDI, "sampah berserakan di lorong Kambu belum diangkut seminggu")
    card = await world.reply(DLHK_CHAT)
    await world.send(world.message(STAFF_DLHK, "Baik, besok pagi truk kami angkut.", chat_id=DLHK_CHAT, reply_to=card))
    answer = await world.reply(BUDI.id)
    assert answer.text.startswith("💬 Tanggapan Dinas Lingkungan Hidup dan Kehutanan atas aduan " + ticket)
    assert "Baik, besok pagi truk kami angkut." in answer.text
    ack = await world.reply(DLHK_CHAT)
    assert "diteruskan ke pelapor" in ack.text
    async with world.runtime.sessions() as session:
        complaint = await complaints.get_complaint(session, complaint_id=1)
    assert complaint is not None and complaint.status == ComplaintStatus.ANSWERED
    assert complaint.answered_at is not None

    # A second answer is relayed too; the first answer time stays.
    await world.send(world.message(STAFF_DLHK, f"#{ticket} Sudah diangkut, terima kasih.", chat_id=DLHK_CHAT))
    second = await world.reply(BUDI.id)
    assert "Sudah diangkut, terima kasih." in second.text and f"#{ticket}" not in second.text
    async with world.runtime.sessions() as session:
        again = await complaints.get_complaint(session, complaint_id=1)
    assert again is not None and again.answered_at == complaint.answered_at

    # A photo answer (with or without words) reaches the citizen as the same photo.
    photo_id = world.telegram.store_file(b"\xff\xd8\xff\xe0 after the clean-up")
    await world.send(world.message(STAFF_DLHK, chat_id=DLHK_CHAT, reply_to=card, photo=photo_id))
    words, photo = await world.replies(BUDI.id, 2)
    assert f"Foto tanggapan {ticket}" in words.text
    assert photo.method == "sendPhoto" and photo.params["photo"] == photo_id
    assert photo.params.get("caption") == f"Foto tanggapan {ticket}"


async def test_another_agency_cannot_answer(world: World) -> None:
    ticket = await file_complaint(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau")
    await world.reply(DLHK_CHAT)
    await world.send(world.message(STAFF_PUPR, f"#{ticket} bukan urusan kami", chat_id=PUPR_CHAT))
    refusal = await world.reply(PUPR_CHAT)
    assert "bukan milik PUPR" in refusal.text
    await world.settled()
    # The citizen got nothing beyond the dialog.
    assert not any("bukan urusan" in (c.text or "") for c in world.telegram.sent_messages(BUDI.id))
    async with world.runtime.sessions() as session:
        complaint = await complaints.get_complaint(session, complaint_id=1)
    assert complaint is not None and complaint.status == ComplaintStatus.OPEN


async def test_a_group_that_is_no_agency_is_refused(world: World) -> None:
    await file_complaint(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau")
    await world.send(world.message(STAFF_PUPR, "#KDI-0001 sudah beres", chat_id=-1009999))
    refusal = await world.reply(-1009999)
    assert "belum terdaftar" in refusal.text
    await world.settled()
    assert not any("sudah beres" in (c.text or "") for c in world.telegram.sent_messages(BUDI.id))


async def test_a_redelivered_update_changes_nothing(world: World) -> None:
    update = world.message(BUDI, "/start")
    await world.send(update)
    await world.send(update)
    await world.reply(BUDI.id)
    await world.settled()
    assert len(world.telegram.sent_messages(BUDI.id)) == 1


async def test_a_missing_or_wrong_secret_is_refused(world: World) -> None:
    for secret in (None, "wrong-secret", SECRET + "x"):
        response = await world.post(world.message(BUDI, "/start"), secret=secret)
        assert response.status_code == 403
    await world.settled()
    async with world.runtime.sessions() as session:
        from storage import inbox

        assert await inbox.count_unprocessed(session) == 0
    assert world.telegram.sent_messages(BUDI.id) == []


async def test_malformed_posts_get_a_clear_status(world: World) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    url = world.url + "/telegram/webhook"
    not_json = await world.http.post(url, content=b"{not json", headers={**headers, "Content-Type": "application/json"})
    assert not_json.status_code == 400
    no_id = await world.http.post(url, json={"message": {}}, headers=headers)
    assert no_id.status_code == 400
    form = await world.http.post(url, data={"update_id": "1"}, headers=headers)
    assert form.status_code == 415
    huge = await world.http.post(
        url, content=b"{" + b" " * 2_000_000 + b"}", headers={**headers, "Content-Type": "application/json"}
    )
    assert huge.status_code == 413
    health = await world.http.get(world.url + "/healthz")
    assert health.status_code == 200 and health.json()["ok"] is True


async def test_a_restart_mid_conversation_continues(database_url: str, telegram: TelegramStandIn) -> None:
    settings = settings_for(database_url, telegram)
    async with running_bot(settings, telegram) as world:
        await world.send(world.message(BUDI, "got mampet di jalan Ahmad Yani tiap hujan banjir"))
        assert "Lokasi: jalan Ahmad Yani — benar?" in (await world.reply(BUDI.id)).text
    async with running_bot(settings, telegram) as world:
        world._seen[BUDI.id] = len(telegram.sent_messages(BUDI.id))
        await world.send(world.message(BUDI, "depan toko Sinar Jaya"))
        assert "foto" in (await world.reply(BUDI.id)).text.lower()
        await world.send(world.message(BUDI, "lewati"))
        summary = await world.reply(BUDI.id)
        assert "got mampet" in summary.text and "Sinar Jaya" in summary.text
        assert "Pekerjaan Umum" in summary.text


async def test_everything_is_delivered_after_the_api_recovers(world: World) -> None:
    tg = world.telegram
    tg.fail_next(2, status=429, retry_after=1)
    tg.fail_next(2, status=500)
    ticket = await file_complaint(world, BUDI, "sampah dibakar warga tiap sore di Baruga, asapnya masuk rumah")
    card = await world.reply(DLHK_CHAT)
    assert ticket in card.text
    await world.settled(timeout=20)
    sent = [c.text for c in tg.sent_messages(BUDI.id)]
    # Each message arrived exactly once and in order, despite the failures.
    assert len(sent) == len(set(sent)) == 4
    assert "lokasi" in sent[0].lower() and ticket in sent[3]
    failures = [c for c in tg.calls if c.fault]
    assert len(failures) == 4


async def test_a_blocked_citizen_is_not_retried_and_humas_is_told(world: World) -> None:
    ticket = await file_complaint(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau")
    card = await world.reply(DLHK_CHAT)
    world.telegram.fail_chat(BUDI.id, status=403)
    await world.send(world.message(STAFF_DLHK, "Sudah kami tangani.", chat_id=DLHK_CHAT, reply_to=card))
    alert = await world.reply(HUMAS_CHAT)
    assert "gagal terkirim" in alert.text and ticket in alert.text
    await world.settled()
    attempts = [c for c in world.telegram.calls if c.chat_id == BUDI.id and c.fault]
    assert len(attempts) == 1


async def test_status_shows_only_the_citizens_own_tickets(world: World) -> None:
    mine = await file_complaint(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau")
    theirs = await file_complaint(world, SITI, "jembatan kayu di Abeli sudah lapuk dan goyang")
    await world.send(world.message(BUDI, "/status"))
    listing = await world.reply(BUDI.id)
    assert mine in listing.text and theirs not in listing.text
    await world.send(world.message(BUDI, f"/status {theirs}"))
    refused = await world.reply(BUDI.id)
    assert "tidak ditemukan" in refused.text and "jembatan" not in refused.text
    await world.send(world.message(BUDI, f"/status {mine}"))
    detail = await world.reply(BUDI.id)
    assert "TPS Wua-Wua" in detail.text and "menunggu tanggapan" in detail.text


async def test_close_and_not_ours(world: World) -> None:
    first = await file_complaint(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau")
    second = await file_complaint(world, SITI, "sampah liar di pinggir kali Wanggu")
    await world.replies(DLHK_CHAT, 2)
    await world.send(world.message(STAFF_DLHK, f"/selesai {first} Sudah diangkut truk", chat_id=DLHK_CHAT))
    closed = await world.reply(BUDI.id)
    assert "dinyatakan selesai" in closed.text and "Sudah diangkut truk" in closed.text
    assert "ditutup" in (await world.reply(DLHK_CHAT)).text

    await world.send(world.message(STAFF_DLHK, f"/bukan {second} itu wewenang BWS", chat_id=DLHK_CHAT))
    told = await world.reply(SITI.id)
    assert "diteruskan oleh humas" in told.text
    alert = await world.reply(HUMAS_CHAT)
    assert second in alert.text and "itu wewenang BWS" in alert.text and "/pindah" in alert.text
    await world.reply(DLHK_CHAT)
    # Once handed back, the agency cannot answer it any more; humas can.
    await world.send(world.message(STAFF_DLHK, f"#{second} coba lagi", chat_id=DLHK_CHAT))
    assert "bukan milik DLHK" in (await world.reply(DLHK_CHAT)).text

    await world.send(world.message(STAFF_DLHK, "/selesai", chat_id=DLHK_CHAT))
    assert "Cara pakai" in (await world.reply(DLHK_CHAT)).text


async def test_unsupported_input_is_explained_and_the_draft_kept(world: World) -> None:
    await world.send(world.message(BUDI, "lampu jalan dan aspal rusak di depan kantor lurah Kadia"))
    await world.reply(BUDI.id)
    sticker = {
        "file_id": "stk",
        "file_unique_id": "stku",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    await world.send(world.message(BUDI, extra={"sticker": sticker}))
    answer = await world.reply(BUDI.id)
    assert "stiker belum bisa kami terima" in answer.text and "Lokasi: depan kantor lurah Kadia — benar?" in answer.text
    voice = {"file_id": "v", "file_unique_id": "vu", "duration": 3}
    await world.send(world.message(BUDI, extra={"voice": voice}))
    assert "pesan suara" in (await world.reply(BUDI.id)).text
    await world.send(world.message(BUDI, "Jl. Ahmad Yani no. 12"))
    assert "foto" in (await world.reply(BUDI.id)).text.lower()


def button_data(message: TelegramCall, label: str) -> str:
    """The data of the button with that label on a message the bot sent."""
    rows = message.params["reply_markup"]["inline_keyboard"]
    return str(next(b["callback_data"] for row in rows for b in row if b["text"] == label))


async def test_buttons_and_cancel_work(world: World) -> None:
    await world.send(world.message(SITI, "ktp el sy blm jadi padahal sdh rekam 3 bulan lalu"))
    ask_location = await world.reply(SITI.id)
    await world.send(world.button(SITI, button_data(ask_location, "Lewati"), on=ask_location))
    ask_photo = await world.reply(SITI.id)
    await world.send(world.button(SITI, button_data(ask_photo, "Lewati"), on=ask_photo))
    summary = await world.reply(SITI.id)
    assert "Kependudukan" in summary.text
    await world.send(world.button(SITI, button_data(summary, "Kirim"), on=summary))
    filed = await world.reply(SITI.id)
    assert "KDI-0001" in filed.text
    answered = [c for c in world.telegram.calls if c.method == "answerCallbackQuery"]
    assert len(answered) == 3
    # Used buttons are taken off their messages.
    await world.settled()
    cleared = {c.params["message_id"] for c in world.telegram.calls if c.method == "editMessageReplyMarkup"}
    assert {ask_location.message_id, ask_photo.message_id, summary.message_id} <= cleared

    # An old button pressed later changes nothing and says so: no new draft, no new ticket.
    await world.send(world.button(SITI, button_data(summary, "Kirim"), on=summary))
    await world.settled()
    stale = [c for c in world.telegram.calls if c.method == "answerCallbackQuery"][-1]
    assert stale.params.get("text") == "Tombol ini sudah tidak berlaku."
    assert world.telegram.sent_messages(SITI.id)[-1].message_id == filed.message_id

    await world.send(world.message(SITI, "sampah di depan rumah belum diangkut dari kemarin"))
    await world.reply(SITI.id)
    await world.send(world.message(SITI, "batal"))
    assert "dibatalkan" in (await world.reply(SITI.id)).text
    await world.send(world.message(SITI, "/batal"))
    assert "Tidak ada aduan" in (await world.reply(SITI.id)).text


async def test_a_keyboard_superseded_by_typing_is_taken_away(world: World) -> None:
    await world.send(world.message(SITI, "ktp el sy blm jadi padahal sdh rekam 3 bulan lalu"))
    ask_location = await world.reply(SITI.id)
    await world.send(world.message(SITI, "lewati"))
    ask_photo = await world.reply(SITI.id)
    await world.settled()
    cleared = [c.params["message_id"] for c in world.telegram.calls if c.method == "editMessageReplyMarkup"]
    assert cleared == [ask_location.message_id]
    # Its Lewati would otherwise skip the photo step of the same draft a second time.
    await world.send(world.button(SITI, button_data(ask_location, "Lewati"), on=ask_location))
    await world.settled()
    assert world.telegram.sent_messages(SITI.id)[-1].message_id == ask_photo.message_id


async def test_forum_topics_and_the_bots_own_messages_are_not_answers(world: World) -> None:
    ticket = await file_complaint(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau")
    card = await world.reply(DLHK_CHAT)
    topic = world.message(
        STAFF_DLHK,
        "rapat jam 2 ya",
        chat_id=DLHK_CHAT,
        reply_to=card,
        extra={"is_topic_message": True, "message_thread_id": card.message_id},
    )
    topic["message"]["reply_to_message"]["forum_topic_created"] = {"name": "Aduan", "icon_color": 0}
    await world.send(topic)
    bot_echo = world.message(User(world.telegram.bot_user["id"], "E-Humas"), f"#{ticket} echo", chat_id=DLHK_CHAT)
    bot_echo["message"]["from"]["is_bot"] = True
    await world.send(bot_echo)
    await world.settled()
    assert len(world.telegram.sent_messages(BUDI.id)) == 4  # the dialog only


async def test_adding_the_bot_to_a_group_tells_its_chat_id(world: World) -> None:
    added = world.message(
        STAFF_PUPR, chat_id=-1005550001, chat_title="Grup Baru", extra={"new_chat_members": [world.telegram.bot_user]}
    )
    await world.send(added)
    hello = await world.reply(-1005550001)
    assert "-1005550001" in hello.text and "telegram_chat_id" in hello.text


async def test_polling_mode_handles_the_same_dialog(database_url: str, telegram: TelegramStandIn) -> None:
    settings = settings_for(database_url, telegram, telegram={"mode": "polling"})
    async with running_bot(settings, telegram) as world:
        assert any(c.method == "deleteWebhook" for c in telegram.calls)
        response = await world.post(world.message(BUDI, "/start"))
        assert response.status_code == 404  # no webhook route in polling mode
        telegram.push_update(world.message(BUDI, "/start"))
        assert "Selamat datang" in (await world.reply(BUDI.id)).text

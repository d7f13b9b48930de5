"""The stand-ins speak the wire protocols well enough for the REAL telegram and twilio clients."""

from __future__ import annotations

import asyncio
import datetime as dtm
import io
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import requests
import telegram
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from telegram import (
    Bot,
    ChatMemberAdministrator,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    ReplyParameters,
)
from telegram.error import BadRequest, EndPointNotFound, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, ContextTypes, MessageHandler, filters
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.standins import Call, CallLog, StandInServer, TelegramStandIn, TwilioStandIn

CITIZEN = 5550001
OPD_GROUP = -1001234567890
WA_CITIZEN = "whatsapp:+6281234567890"
WA_BOT = "whatsapp:+14155238886"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

# twilio's AsyncTwilioHttpClient still passes aiohttp.BasicAuth, which aiohttp 3.14 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:.*(BasicAuth|'auth' parameter) is deprecated:DeprecationWarning")


# -- how the real twilio client reaches the stand-in ----------------------------------------------


def _rebase(url: str, base_url: str) -> str:
    """Swap scheme and host of an https://api.twilio.com/... URL for the stand-in's."""
    base = urlsplit(base_url)
    parts = urlsplit(url)
    return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, parts.fragment))


class StandInHttpClient(TwilioHttpClient):
    """The sync twilio HTTP client, sending to the stand-in instead of api.twilio.com."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        """Remember where to send."""
        super().__init__(**kwargs)
        self.base_url = base_url

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> TwilioResponse:
        """Send the request to the stand-in."""
        return super().request(method, _rebase(url, self.base_url), *args, **kwargs)


class AsyncStandInHttpClient(AsyncTwilioHttpClient):
    """The async twilio HTTP client, sending to the stand-in instead of api.twilio.com."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        """Remember where to send."""
        super().__init__(**kwargs)
        self.base_url = base_url

    async def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> TwilioResponse:
        """Send the request to the stand-in."""
        # AsyncTwilioHttpClient ignores its own `timeout` (the sync client applies it), leaving
        # aiohttp's 5-minute default: apply it here.
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return await super().request(method, _rebase(url, self.base_url), *args, **kwargs)


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
async def tg() -> AsyncIterator[TelegramStandIn]:
    """A running Telegram stand-in."""
    async with TelegramStandIn() as standin:
        yield standin


@pytest.fixture
async def bot(tg: TelegramStandIn) -> AsyncIterator[Bot]:
    """A real, initialized PTB Bot talking to the stand-in."""
    async with Bot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url) as real_bot:
        yield real_bot


@pytest.fixture
async def tw() -> AsyncIterator[TwilioStandIn]:
    """A running Twilio stand-in."""
    async with TwilioStandIn() as standin:
        yield standin


@pytest.fixture
async def twilio_client(tw: TwilioStandIn) -> AsyncIterator[Client]:
    """A real async-capable twilio Client talking to the stand-in."""
    http_client = AsyncStandInHttpClient(tw.base_url)
    yield Client(tw.account_sid, tw.auth_token, http_client=http_client)
    await http_client.close()


class Receiver:
    """A tiny webhook endpoint standing in for the bot's app: records every form post."""

    def __init__(self) -> None:
        """Prepare the app."""
        self.log: CallLog[Call] = CallLog()
        self.app = Starlette(routes=[Route("/twilio/status", self._post, methods=["POST"])])

    async def _post(self, request: Request) -> PlainTextResponse:
        """Record the form and its signature."""
        form = {key: str(value) for key, value in (await request.form()).items()}
        signature = request.headers.get("x-twilio-signature", "")
        self.log.record(Call("POST", form, status=200, result=signature))
        return PlainTextResponse("", status_code=204)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    """A running Receiver and its status callback URL."""
    receiver = Receiver()
    async with StandInServer(receiver.app) as server:
        yield receiver, f"{server.url}/twilio/status?outbox=42"


# -- Telegram ------------------------------------------------------------------------------------


async def test_get_me_answers_a_bot_with_username(tg: TelegramStandIn, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.username == "ehumas_test_bot" and me.first_name
    assert bot.username == "ehumas_test_bot"  # set by initialize()'s getMe
    assert [c.method for c in tg.calls] == ["getMe", "getMe"]


async def test_send_message_echoes_keyboard_and_reply(tg: TelegramStandIn, bot: Bot) -> None:
    first = await bot.send_message(CITIZEN, "Aduan Anda tercatat: KDI-0042")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Selesai", callback_data="done:42")]])
    second = await bot.send_message(
        CITIZEN, "Nilai jawaban", reply_markup=keyboard, reply_parameters=ReplyParameters(first.message_id)
    )
    in_group = await bot.send_message(OPD_GROUP, "Tiket KDI-0042")

    assert (first.message_id, second.message_id, in_group.message_id) == (1, 2, 1)  # per chat
    assert first.chat.type == "private" and in_group.chat.type == "supergroup"
    assert second.from_user is not None and second.from_user.username == "ehumas_test_bot"
    assert second.reply_markup == keyboard
    replied = second.reply_to_message
    assert replied is not None
    assert replied.message_id == first.message_id
    assert replied.text == "Aduan Anda tercatat: KDI-0042"
    call = tg.sent_messages(CITIZEN)[1]
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "done:42"
    assert call.message_id == 2 and call.text == "Nilai jawaban"
    assert [c.message_id for c in tg.sent_messages()] == [1, 2, 1]


async def test_send_message_keeps_numeric_looking_text_as_text(tg: TelegramStandIn, bot: Bot) -> None:
    message = await bot.send_message(CITIZEN, "42")
    assert message.text == "42"
    assert tg.sent_messages()[0].params["text"] == "42"


async def test_send_photo_uploads_bytes(tg: TelegramStandIn, bot: Bot) -> None:
    message = await bot.send_photo(OPD_GROUP, PNG, caption="Foto aduan KDI-0042")
    assert message.caption == "Foto aduan KDI-0042"
    assert len(message.photo) == 2 and message.photo[-1].width > message.photo[0].width
    call = tg.sent_messages(OPD_GROUP)[0]
    assert call.files == {"photo": PNG}
    file = await bot.get_file(message.photo[-1].file_id)
    assert bytes(await file.download_as_bytearray()) == PNG
    # Sending the same photo again by file_id (forwarding a citizen's photo) works too.
    again = await bot.send_photo(CITIZEN, message.photo[-1].file_id)
    assert again.photo[-1].file_id == message.photo[-1].file_id


async def test_send_photo_with_unknown_file_id_is_a_bad_request(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(CITIZEN, "no-such-file-id")


async def test_send_location(tg: TelegramStandIn, bot: Bot) -> None:
    message = await bot.send_location(OPD_GROUP, latitude=-3.9985, longitude=122.5129)
    assert message.location is not None
    assert (message.location.latitude, message.location.longitude) == (-3.9985, 122.5129)
    assert tg.sent_messages()[0].params["latitude"] == -3.9985


async def test_send_document_with_in_memory_csv(tg: TelegramStandIn, bot: Bot) -> None:
    csv = b"tiket,opd,status\nKDI-0042,DLHK,terlambat\n"
    message = await bot.send_document(OPD_GROUP, InputFile(io.BytesIO(csv), filename="overdue.csv"))
    document = message.document
    assert document is not None
    assert document.file_name == "overdue.csv"
    assert document.mime_type == "text/csv"
    assert document.file_size == len(csv)
    assert tg.sent_messages()[0].files == {"document": csv}


async def test_get_file_downloads_a_stored_user_photo(tg: TelegramStandIn, bot: Bot) -> None:
    file_id = tg.store_file(PNG)
    file = await bot.get_file(file_id)
    assert file.file_path is not None and file.file_path.startswith(tg.base_file_url)
    assert bytes(await file.download_as_bytearray()) == PNG
    assert tg.calls[-1].method == "downloadFile"


async def test_get_updates_long_polls_for_a_pushed_update(tg: TelegramStandIn, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(offset=0, timeout=5))
    await tg.wait_for(lambda c: c.method == "getUpdates")  # the poll is waiting in the stand-in
    assert not poll.done()
    update_id = tg.push_update(
        {
            "message": {
                "message_id": 7,
                "date": 1_700_000_000,
                "chat": {"id": CITIZEN, "type": "private", "first_name": "Warga"},
                "from": {"id": CITIZEN, "is_bot": False, "first_name": "Warga"},
                "text": "Sampah menumpuk di Jl. Saranani",
            }
        }
    )
    updates = await asyncio.wait_for(poll, 2)
    assert [u.update_id for u in updates] == [update_id]
    message = updates[0].message
    assert message is not None and message.text == "Sampah menumpuk di Jl. Saranani"
    # The offset confirms it; the bot's own next message id continues after the citizen's.
    assert await bot.get_updates(offset=update_id + 1, timeout=0) == ()
    assert (await bot.send_message(CITIZEN, "Terima kasih")).message_id == 8


async def test_application_polling_round_trip(tg: TelegramStandIn) -> None:
    async def echo(update: telegram.Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.message is not None:
            await update.message.reply_text(f"Diterima: {update.message.text}")

    app = Application.builder().token(tg.token).base_url(tg.base_url).base_file_url(tg.base_file_url).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    updater = app.updater
    assert updater is not None
    async with app:
        await app.start()
        await updater.start_polling(poll_interval=0, timeout=10)
        tg.push_update(
            {
                "message": {
                    "message_id": 3,
                    "date": 1_700_000_000,
                    "chat": {"id": CITIZEN, "type": "private", "first_name": "Warga"},
                    "from": {"id": CITIZEN, "is_bot": False, "first_name": "Warga"},
                    "text": "halo",
                }
            }
        )
        [reply] = await tg.wait_for_count(1, "sendMessage", chat_id=CITIZEN)
        await updater.stop()
        await app.stop()
    assert reply.text == "Diterima: halo" and reply.message_id == 4
    assert [c.method for c in tg.calls[:3]] == ["getMe", "deleteWebhook", "getUpdates"]


async def test_get_updates_conflicts_with_a_webhook(tg: TelegramStandIn, bot: Bot) -> None:
    await bot.set_webhook("https://bot.example/telegram", secret_token="s3cret")
    assert (await bot.get_webhook_info()).url == "https://bot.example/telegram"
    assert tg.webhook["secret_token"] == "s3cret"
    with pytest.raises(telegram.error.Conflict):
        await bot.get_updates(timeout=0)
    await bot.delete_webhook()
    assert await bot.get_updates(timeout=0) == ()


async def test_edits_and_not_modified(tg: TelegramStandIn, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ambil", callback_data="take:42")]])
    sent = await bot.send_message(OPD_GROUP, "Tiket KDI-0042", reply_markup=keyboard)
    edited = await bot.edit_message_text("Tiket KDI-0042 (diambil)", OPD_GROUP, sent.message_id)
    assert isinstance(edited, telegram.Message)
    assert edited.text == "Tiket KDI-0042 (diambil)" and edited.edit_date is not None
    assert edited.reply_markup is None
    stored = tg.message(OPD_GROUP, sent.message_id)
    assert stored is not None and stored["text"] == "Tiket KDI-0042 (diambil)"
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Tiket KDI-0042 (diambil)", OPD_GROUP, sent.message_id)
    marked = await bot.edit_message_reply_markup(OPD_GROUP, sent.message_id, reply_markup=keyboard)
    assert isinstance(marked, telegram.Message)
    assert marked.reply_markup == keyboard


async def test_small_methods(tg: TelegramStandIn, bot: Bot) -> None:
    assert await bot.send_chat_action(CITIZEN, "typing")
    assert await bot.answer_callback_query("cbq-1", text="Tercatat")
    assert await bot.set_my_commands([("status", "Cek status aduan")])
    assert tg.commands == [{"command": "status", "description": "Cek status aduan"}]
    chat = await bot.get_chat(OPD_GROUP)
    assert chat.type == "supergroup" and chat.id == OPD_GROUP


async def test_get_chat_member_says_who_belongs_to_a_group(tg: TelegramStandIn, bot: Bot) -> None:
    tg.set_member(OPD_GROUP, 501)
    tg.set_member(OPD_GROUP, 502, "administrator")
    tg.set_member(OPD_GROUP, 503, "creator")
    tg.set_member(OPD_GROUP, 504, "kicked")
    statuses = [(await bot.get_chat_member(OPD_GROUP, user)).status for user in (501, 502, 503, 504, 505)]
    assert statuses == ["member", "administrator", "creator", "kicked", "left"]
    member = await bot.get_chat_member(OPD_GROUP, 502)
    assert member.user.id == 502 and isinstance(member, ChatMemberAdministrator)
    with pytest.raises(BadRequest, match=r"(?i)participant_id_invalid"):
        await bot.get_chat_member(OPD_GROUP, -5)
    with pytest.raises(ValueError, match="unknown chat member status"):
        tg.set_member(OPD_GROUP, 506, "boss")


async def test_limits_are_enforced(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(CITIZEN, "x" * 4097)
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(CITIZEN, "x", reply_markup=too_long)


async def test_unknown_method_and_wrong_token(tg: TelegramStandIn, bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{tg.base_url}{tg.token}/noSuchMethod")
        assert response.status_code == 404
        assert response.json() == {
            "ok": False,
            "error_code": 404,
            "description": "Not Found: method not found",
        }
    with pytest.raises(telegram.error.InvalidToken):
        await Bot("1:wrong", base_url=tg.base_url).get_me()


async def test_json_body_parameters(tg: TelegramStandIn) -> None:
    keyboard = {"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]}
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{tg.base_url}{tg.token}/sendMessage",
            json={"chat_id": str(CITIZEN), "text": "halo", "reply_markup": keyboard},
        )
    result = response.json()["result"]
    assert result["reply_markup"] == keyboard and result["chat"]["id"] == CITIZEN


async def test_fault_429_raises_retry_after(tg: TelegramStandIn, bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after as timedelta, no warning
    tg.fail_next(1, status=429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(CITIZEN, "halo")
    assert caught.value.retry_after == dtm.timedelta(seconds=7)
    assert (await bot.send_message(CITIZEN, "halo")).message_id == 1  # the fault was used up
    failed, sent = tg.calls[-2:]
    assert (failed.fault, failed.status, failed.ok) == ("429", 429, False)
    assert tg.sent_messages() == [sent]


async def test_fault_500_raises_network_error(tg: TelegramStandIn, bot: Bot) -> None:
    tg.fail_next(1, status=500)
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_message(CITIZEN, "halo")


async def test_fault_403_raises_forbidden_for_one_chat(tg: TelegramStandIn, bot: Bot) -> None:
    tg.fail_chat(CITIZEN, 403, n=None)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(CITIZEN, "halo")
    with pytest.raises(Forbidden):
        await bot.send_photo(CITIZEN, PNG)
    await bot.send_message(OPD_GROUP, "tiket")  # other chats are unaffected
    assert [c.chat_id for c in tg.sent_messages()] == [OPD_GROUP]
    failed = await tg.wait_for_count(2, chat_id=CITIZEN, include_failed=True)
    assert [c.status for c in failed] == [403, 403]


async def test_fault_400_chat_not_found(tg: TelegramStandIn, bot: Bot) -> None:
    tg.fail_next(1, status=400)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_location(CITIZEN, 1.0, 2.0)


async def test_fault_hang_times_out_and_is_released(tg: TelegramStandIn, bot: Bot) -> None:
    tg.fail_next(1, hang=30)
    with pytest.raises(TimedOut):
        await bot.send_message(CITIZEN, "halo", read_timeout=0.2)
    hung = await tg.wait_for(lambda c: c.fault == "hang")
    assert hung.status is None  # still held; the stand-in's shutdown releases it


async def test_wait_for_count_and_timeout_message(tg: TelegramStandIn, bot: Bot) -> None:
    async def send_two() -> None:
        await bot.send_message(OPD_GROUP, "satu")
        await bot.send_message(OPD_GROUP, "dua")

    sender = asyncio.create_task(send_two())
    calls = await tg.wait_for_count(2, "sendMessage", chat_id=OPD_GROUP)
    await sender
    assert [c.text for c in calls] == ["satu", "dua"]
    with pytest.raises(AssertionError, match=r"(?s)recent calls.*sendMessage.*dua"):
        await tg.wait_for(lambda c: c.method == "sendPhoto", timeout=0.05)


# -- Twilio --------------------------------------------------------------------------------------


async def test_twilio_create_with_async_client(tw: TwilioStandIn, twilio_client: Client) -> None:
    message = await twilio_client.messages.create_async(
        to=WA_CITIZEN,
        from_=WA_BOT,
        body="Aduan Anda tercatat: KDI-0042",
        media_url=["https://example.org/a.jpg", "https://example.org/b.jpg"],
    )
    assert message.sid.startswith("SM") and len(message.sid) == 34
    assert (message.to, message.from_, message.status) == (WA_CITIZEN, WA_BOT, "queued")
    assert message.num_media == "2" and message.account_sid == tw.account_sid
    assert message.date_created.tzinfo is not None
    [call] = tw.sent_messages(WA_CITIZEN)
    assert call.sid == message.sid and call.body == "Aduan Anda tercatat: KDI-0042"
    assert call.media_urls == ["https://example.org/a.jpg", "https://example.org/b.jpg"]
    fetched = await twilio_client.messages(message.sid).fetch_async()
    assert fetched.body == message.body


async def test_twilio_create_with_sync_client_and_template(tw: TwilioStandIn) -> None:
    client = Client(tw.account_sid, tw.auth_token, http_client=StandInHttpClient(tw.base_url))
    message = await asyncio.to_thread(
        client.messages.create,
        to=WA_CITIZEN,
        from_=WA_BOT,
        content_sid="HX" + "0" * 32,
        content_variables='{"1": "KDI-0042"}',
    )
    assert message.status == "queued"
    assert tw.sent_messages()[0].content_variables == {"1": "KDI-0042"}


async def test_twilio_wrong_auth_raises(tw: TwilioStandIn) -> None:
    client = Client(tw.account_sid, "wrong-token", http_client=StandInHttpClient(tw.base_url))
    with pytest.raises(TwilioRestException) as caught:
        await asyncio.to_thread(client.messages.create, to=WA_CITIZEN, from_=WA_BOT, body="x")
    assert (caught.value.status, caught.value.code) == (401, 20003)
    assert tw.sent_messages() == [] and tw.calls[0].status == 401


async def test_twilio_validation_errors(twilio_client: Client) -> None:
    with pytest.raises(TwilioRestException) as caught:
        await twilio_client.messages.create_async(to="+6281234567890", from_=WA_BOT, body="x")
    assert caught.value.code == 21910  # forgot the whatsapp: prefix on To
    with pytest.raises(TwilioRestException) as caught:
        await twilio_client.messages.create_async(to=WA_CITIZEN, from_=WA_BOT, body="x" * 1601)
    assert caught.value.code == 21617


@pytest.mark.parametrize(
    ("status", "code", "text"),
    [
        (429, 20429, "Too Many Requests"),
        (500, 20500, "Internal Server Error"),
        (400, 63016, "allowed window"),
    ],
)
async def test_twilio_faults(tw: TwilioStandIn, twilio_client: Client, status: int, code: int, text: str) -> None:
    tw.fail_next(1, status=status)
    with pytest.raises(TwilioRestException) as caught:
        await twilio_client.messages.create_async(to=WA_CITIZEN, from_=WA_BOT, body="x")
    assert (caught.value.status, caught.value.code) == (status, code)
    assert text in caught.value.msg
    await twilio_client.messages.create_async(to=WA_CITIZEN, from_=WA_BOT, body="x")
    assert len(tw.sent_messages()) == 1
    assert len(await tw.wait_for_count(2, include_failed=True)) == 2


async def test_twilio_fail_to_one_recipient(tw: TwilioStandIn, twilio_client: Client) -> None:
    tw.fail_to(WA_CITIZEN, code=21610)
    with pytest.raises(TwilioRestException) as caught:
        await twilio_client.messages.create_async(to=WA_CITIZEN, from_=WA_BOT, body="x")
    assert caught.value.code == 21610
    await twilio_client.messages.create_async(to="whatsapp:+6280000000000", from_=WA_BOT, body="x")


async def test_twilio_hang_times_out_sync(tw: TwilioStandIn) -> None:
    tw.fail_next(1, hang=30)
    client = Client(tw.account_sid, tw.auth_token, http_client=StandInHttpClient(tw.base_url, timeout=0.2))
    with pytest.raises(requests.Timeout):
        await asyncio.to_thread(client.messages.create, to=WA_CITIZEN, from_=WA_BOT, body="x")
    assert (await tw.wait_for(lambda c: c.fault == "hang")).status is None


async def test_twilio_hang_times_out_async(tw: TwilioStandIn) -> None:
    tw.fail_next(1, hang=30)
    http_client = AsyncStandInHttpClient(tw.base_url, timeout=0.2)
    client = Client(tw.account_sid, tw.auth_token, http_client=http_client)
    try:
        with pytest.raises(TimeoutError):
            await client.messages.create_async(to=WA_CITIZEN, from_=WA_BOT, body="x")
    finally:
        await http_client.close()
    assert [c.fault for c in tw.calls] == ["hang"]


async def test_twilio_status_callback_is_signed(
    tw: TwilioStandIn, twilio_client: Client, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    message = await twilio_client.messages.create_async(to=WA_CITIZEN, from_=WA_BOT, body="x", status_callback=url)
    assert await tw.send_status(message.sid, "undelivered", error_code=63016) == 204
    [post] = hook.log.calls
    assert post.params["MessageSid"] == message.sid and post.params["MessageStatus"] == "undelivered"
    assert post.params["ErrorCode"] == "63016" and post.params["ChannelToAddress"] == "+6281234567890"
    assert RequestValidator(tw.auth_token).validate(url, post.params, post.result)
    assert not RequestValidator("another-token").validate(url, post.params, post.result)
    fetched = await twilio_client.messages(message.sid).fetch_async()
    assert (fetched.status, fetched.error_code) == ("undelivered", 63016)


async def test_twilio_auto_status(receiver: tuple[Receiver, str]) -> None:
    hook, url = receiver
    async with TwilioStandIn(auto_status=["sent", "delivered"]) as tw:
        http_client = AsyncStandInHttpClient(tw.base_url)
        client = Client(tw.account_sid, tw.auth_token, http_client=http_client)
        message = await client.messages.create_async(to=WA_CITIZEN, from_=WA_BOT, body="x", status_callback=url)
        await http_client.close()
        posts = await hook.log.wait_for_count(2, lambda c: True, timeout=5.0, what="status posts")
    assert [p.params["MessageStatus"] for p in posts] == ["sent", "delivered"]
    assert all(RequestValidator(tw.auth_token).validate(url, p.params, p.result) for p in posts)
    assert {p.params["MessageSid"] for p in posts} == {message.sid}
    assert [p.http_status for p in tw.status_posts] == [204, 204]


async def test_twilio_media_needs_auth_and_redirects(tw: TwilioStandIn) -> None:
    url = tw.store_media(PNG, "image/png")
    async with httpx.AsyncClient(follow_redirects=True) as client:
        assert (await client.get(url)).status_code == 401
        response = await client.get(url, auth=(tw.account_sid, tw.auth_token))
    assert response.status_code == 200 and response.content == PNG
    assert response.headers["content-type"] == "image/png"
    assert response.history[0].status_code == 307

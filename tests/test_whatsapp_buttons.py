"""WhatsApp buttons end to end: Content API templates the bot creates once, taps posted as Twilio posts them.

The real app and the real twilio client against the Twilio stand-in, which serves the Content API
beside the Messages API, checks WhatsApp's limits and records what each message showed; taps come
back through the signed webhook with ButtonPayload (quick reply) or ListId (list picker).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlmodel import select
from twilio.rest import Client
from twilio.rest.content.v1.content import ContentList

from bot.standins.telegram_api import TelegramStandIn
from bot.standins.twilio_api import TwilioCall, TwilioStandIn, tap_fields
from bot.standins.twilio_content import LIST_PICKER, QUICK_REPLY
from bot.whatsapp.content import CLAIM_TIMEOUT, ContentTemplates, interactive_of
from bot.whatsapp.http import TwilioHttpClient
from handlers import texts
from handlers.clock import Clock
from handlers.texts import dialog
from storage import whatsapp_content
from storage.engine import create_engine, create_session_factory
from storage.models import Complaint, OutboxMessage, WhatsAppContent
from tests.harness import PUPR_CHAT, User
from tests.harness_whatsapp import TEMPLATE_SID, Phone, WhatsApp, running_whatsapp_bot

ANI = Phone("+6281234567890", "Ani Wulandari")
STAFF_PUPR = User(900002, "Yusuf")


async def tap(wa: WhatsApp, phone: Phone, message: TwilioCall, title: str) -> None:
    """The citizen taps an option of an interactive message; Twilio posts it, signed, to the webhook."""
    await wa.send(phone, extra=tap_fields(message, title))


def titles(message: TwilioCall) -> list[str]:
    """The words on the message's buttons or list items."""
    return [title for title, _ in message.options]


async def file_by_tapping(wa: WhatsApp, phone: Phone, place_name: str = "SD 5 Poasia") -> str:
    """Report a broken road, confirm the place, skip the photo and send it, all by tapping; the ticket."""
    await wa.send(phone, f"Jalan berlubang besar di depan {place_name}, bahaya untuk motor")
    place = await wa.reply(phone)
    assert place.interactive is not None and place.interactive["type"] == QUICK_REPLY
    assert f"Lokasi: depan {place_name} — benar?" in place.body
    assert titles(place) == [dialog.BUTTON_YES, dialog.BUTTON_EDIT]
    await tap(wa, phone, place, dialog.BUTTON_YES)
    photo = await wa.reply(phone)
    assert "Ada foto?" in photo.body and titles(photo) == [dialog.BUTTON_SKIP]
    await tap(wa, phone, photo, dialog.BUTTON_SKIP)
    summary = await wa.reply(phone)
    assert "Mohon periksa aduan Anda" in summary.body and "tanpa foto" in summary.body
    assert titles(summary) == [dialog.BUTTON_SEND, dialog.BUTTON_EDIT, dialog.BUTTON_CANCEL]
    await tap(wa, phone, summary, dialog.BUTTON_SEND)
    filed = await wa.reply(phone)
    assert "tercatat dengan nomor" in filed.body and not filed.options
    return filed.body.split("nomor ", 1)[1].split(".", 1)[0]


@pytest.fixture
async def wa(database_url: str, telegram: TelegramStandIn, twilio: TwilioStandIn) -> AsyncIterator[WhatsApp]:
    async with running_whatsapp_bot(database_url, telegram, twilio) as running:
        yield running


async def test_a_citizen_files_a_complaint_by_tapping(wa: WhatsApp) -> None:
    ticket = await file_by_tapping(wa, ANI)
    card = await wa.world.reply(PUPR_CHAT)
    assert f"Aduan {ticket}" in card.text and "depan SD 5 Poasia" in card.text
    # Three templates (place, photo, summary), each created once, sent with the text as a variable.
    created = wa.twilio.content_calls()
    assert len(created) == 3
    names = {c.params["friendly_name"] for c in created}
    assert all(name.startswith("ehumas_quick_reply_") for name in names)
    sent = [c for c in wa.twilio.sent_messages(ANI.address) if c.interactive is not None]
    assert {c.params["ContentSid"] for c in sent} == {c.result["sid"] for c in created}
    # The words to type are not needed beside buttons, and the taps left no typed text behind.
    assert all(c.params.get("Body") is None for c in sent)
    # WhatsApp cannot take buttons back: nothing is queued to try (a late tap is stale instead).
    async with wa.world.runtime.sessions() as session:
        kinds = (await session.exec(select(OutboxMessage.kind).where(OutboxMessage.channel == "whatsapp"))).all()
    assert kinds and "clear_buttons" not in kinds


async def test_an_old_button_is_stale_and_changes_nothing(wa: WhatsApp) -> None:
    await wa.send(ANI, "Jalan berlubang besar di depan SD 5 Poasia, bahaya untuk motor")
    place = await wa.reply(ANI)
    await tap(wa, ANI, place, dialog.BUTTON_YES)
    photo = await wa.reply(ANI)
    # The place question's buttons are used: a second tap is stale, said so in the chat.
    await tap(wa, ANI, place, dialog.BUTTON_EDIT)
    assert (await wa.reply(ANI)).body == dialog.STALE_BUTTON
    # The open question still takes its own button.
    await tap(wa, ANI, photo, dialog.BUTTON_SKIP)
    assert "Mohon periksa aduan Anda" in (await wa.reply(ANI)).body


async def test_button_words_without_a_payload_are_read_as_typed(wa: WhatsApp) -> None:
    await wa.send(ANI, "Jalan berlubang besar di depan SD 5 Poasia, bahaya untuk motor")
    await wa.reply(ANI)
    # An older WhatsApp client sends the button's words only.
    await wa.send(ANI, extra={"ButtonText": "Ya, benar", "Body": ""})
    assert "Ada foto?" in (await wa.reply(ANI)).body


async def test_forged_taps_change_nothing_and_crash_nothing(wa: WhatsApp) -> None:
    ticket = await file_by_tapping(wa, ANI)
    await wa.world.reply(PUPR_CHAT)
    await wa.world.send(wa.world.message(STAFF_PUPR, f"/selesai {ticket} Sudah ditambal", chat_id=PUPR_CHAT))
    await wa.replies(ANI, 2)
    rudi = Phone("+6285298765432", "Rudi")
    # Someone else's ticket, a made-up one, an out-of-range rating, garbage: nothing is rated.
    number = ticket.rsplit("-", 1)[1].lstrip("0")
    for payload in (f"rate:{number}:5", "rate:999:5", f"rate:{number}:9"):
        await wa.send(rudi, extra={"ButtonPayload": payload, "ButtonText": "5", "Body": "5"})
    await wa.send(ANI, extra={"ButtonPayload": f"rate:{number}:0", "Body": "0"})
    await wa.send(ANI, extra={"ButtonPayload": "intake:ya:" + "x" * 3000, "Body": "Kirim"})
    assert (await wa.reply(ANI)).body == dialog.STALE_BUTTON
    await wa.world.settled()
    async with wa.world.runtime.sessions() as session:
        complaint = await session.get(Complaint, int(number))
        assert complaint is not None and complaint.rating is None
    assert not [c for c in wa.twilio.sent_messages(rudi.address) if "⭐" in c.body]


async def test_a_citizen_rates_by_tapping_a_list(wa: WhatsApp) -> None:
    ticket = await file_by_tapping(wa, ANI)
    await wa.world.reply(PUPR_CHAT)
    await wa.world.send(wa.world.message(STAFF_PUPR, f"/selesai {ticket} Sudah ditambal", chat_id=PUPR_CHAT))
    closed, fixed = await wa.replies(ANI, 2)
    assert "dinyatakan selesai" in closed.body
    # "Sudah beres?" comes as two buttons; "Ya" leads to the rating list (issue 17).
    assert fixed.interactive is not None and fixed.interactive["type"] == QUICK_REPLY
    await tap(wa, ANI, fixed, "✅ Ya, sudah beres")
    prompt = await wa.reply(ANI)
    assert prompt.interactive is not None and prompt.interactive["type"] == LIST_PICKER
    assert titles(prompt) == ["1", "2", "3", "4", "5"] and prompt.interactive["button"] == "Pilih"
    await tap(wa, ANI, prompt, "4")
    thanks = await wa.reply(ANI)
    assert "⭐⭐⭐⭐" in thanks.body and "⭐⭐⭐⭐⭐" not in thanks.body and ticket in thanks.body
    # Tapping again changes nothing: the rating stands.
    await tap(wa, ANI, prompt, "1")
    assert (await wa.reply(ANI)).body == texts.RATE_ALREADY.format(ticket=ticket)


async def test_a_second_worker_started_later_reuses_the_templates(
    database_url: str, telegram: TelegramStandIn, twilio: TwilioStandIn
) -> None:
    async with running_whatsapp_bot(database_url, telegram, twilio) as first:
        await file_by_tapping(first, ANI)
    created, looked_up = len(twilio.content_calls()), len(twilio.content_calls("Content.list"))
    assert created == 3
    async with running_whatsapp_bot(database_url, telegram, twilio) as second:
        # Another road (the same one would be offered to follow: "already reported?").
        await file_by_tapping(second, Phone("+6285298765432", "Rudi"), "SMP 9 Kendari")
    # The second process found the SIDs stored: no second create, not even a lookup at Twilio.
    assert len(twilio.content_calls()) == created
    assert len(twilio.content_calls("Content.list")) == looked_up


async def test_workers_racing_for_a_template_create_it_once(database_url: str, twilio: TwilioStandIn) -> None:
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    clients = [TwilioHttpClient(base_url=twilio.base_url) for _ in range(4)]
    try:
        registries = [
            ContentTemplates(
                Client(twilio.account_sid, twilio.auth_token, http_client=h), sessions=sessions, clock=Clock()
            )
            for h in clients
        ]
        spec = interactive_of("Ada foto?", [[("Lewati", "intake:lewati:abcd")]])
        assert spec is not None
        sids = await asyncio.gather(*(r.sid_for(spec) for r in registries))
        # One process created it; the others sent text this time (None) or read the SID already stored.
        assert len(twilio.content_calls()) == 1
        sid = twilio.content_calls()[0].result["sid"]
        assert {s for s in sids if s is not None} == {sid}
        assert all([await r.sid_for(spec) for r in registries]) and len(twilio.content_calls()) == 1
        async with sessions() as session:
            rows = (await session.exec(select(WhatsAppContent))).all()
        assert [(r.friendly_name, r.content_sid) for r in rows] == [(spec.friendly_name, sid)]
    finally:
        for h in clients:
            await h.close()
        await engine.dispose()


async def test_a_claim_left_by_a_dead_process_is_taken_over_and_its_template_found(
    database_url: str, twilio: TwilioStandIn
) -> None:
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    http = TwilioHttpClient(base_url=twilio.base_url)
    clock = Clock()
    registry = ContentTemplates(
        Client(twilio.account_sid, twilio.auth_token, http_client=http), sessions=sessions, clock=clock
    )
    spec = interactive_of("Ada foto?", [[("Lewati", "intake:lewati:abcd")]])
    assert spec is not None
    try:
        # Another process claimed the name a moment ago and is creating it: text this time, no create.
        async with sessions() as session, session.begin():
            assert await whatsapp_content.claim(session, friendly_name=spec.friendly_name, now=clock.now())
        assert await registry.sid_for(spec) is None and twilio.content_calls() == []
        # It died after creating the template at Twilio, before storing its SID.
        made = await Client(twilio.account_sid, twilio.auth_token, http_client=http).content.v1.contents.create_async(
            content_create_request=ContentList.ContentCreateRequest(
                {"friendly_name": spec.friendly_name, "types": spec.types}
            )
        )
        # Once the claim is old, this process takes it over, finds the template by name and keeps it.
        clock.advance(CLAIM_TIMEOUT + timedelta(seconds=1))
        assert await registry.sid_for(spec) == made.sid
        assert len(twilio.content_calls()) == 1 and len(twilio.content_calls("Content.list")) == 1
        async with sessions() as session:
            row = await whatsapp_content.find(session, friendly_name=spec.friendly_name)
        assert row is not None and row.content_sid == made.sid
    finally:
        await http.close()
        await engine.dispose()


async def test_a_content_api_failure_falls_back_to_text_and_the_dialog_completes(
    wa: WhatsApp, twilio: TwilioStandIn
) -> None:
    twilio.fail_content(None, 500)
    await wa.send(ANI, "Jalan berlubang besar di depan SD 5 Poasia, bahaya untuk motor")
    place = await wa.reply(ANI)
    # Today's text: the question with the words to type, no template.
    assert place.interactive is None and place.params.get("ContentSid") is None
    assert "Lokasi: depan SD 5 Poasia — benar?" in place.body and "Ketik ya" in place.body
    for answer in ("ya", "lewati"):
        await wa.send(ANI, answer)
        await wa.reply(ANI)
    await wa.send(ANI, "ya")
    assert "tercatat dengan nomor" in (await wa.reply(ANI)).body
    async with wa.world.runtime.sessions() as session:
        assert (await session.exec(select(WhatsAppContent))).all() == []  # nothing half-claimed is left


async def test_a_template_twilio_refuses_to_send_goes_as_text(wa: WhatsApp, twilio: TwilioStandIn) -> None:
    await wa.send(ANI, "Jalan berlubang besar di depan SD 5 Poasia, bahaya untuk motor")
    await wa.reply(ANI)
    # Twilio will not send the next template (63005): the message goes as text right away.
    twilio.fail_next(1, 400, code=63005)
    await wa.send(ANI, "ya")
    photo = await wa.reply(ANI)
    assert photo.interactive is None and 'ketik "lewati"' in photo.body


async def test_a_template_deleted_in_the_console_is_created_again(wa: WhatsApp, twilio: TwilioStandIn) -> None:
    await file_by_tapping(wa, ANI)
    summary = next(c for c in reversed(twilio.sent_messages(ANI.address)) if "Mohon periksa" in c.body)
    sid = summary.params["ContentSid"]
    # An operator tidies the Twilio console and deletes the summary's template.
    http = TwilioHttpClient(base_url=twilio.base_url)
    try:
        assert (
            await Client(twilio.account_sid, twilio.auth_token, http_client=http)
            .content.v1.contents(sid)
            .delete_async()
        )
    finally:
        await http.close()
    rudi = Phone("+6285298765432", "Rudi")
    await wa.send(rudi, "Jalan berlubang besar di depan SMP 9 Kendari, bahaya untuk motor")
    for answer in ("ya", "lewati"):
        await wa.reply(rudi)
        await wa.send(rudi, answer)
    # Twilio refuses the deleted template: this summary goes as text, nothing lost...
    refused = await wa.reply(rudi)
    assert "Mohon periksa" in refused.body and refused.interactive is None and 'Ketik "ya"' in refused.body
    await wa.send(rudi, "batal")
    await wa.reply(rudi)
    # ... and the next one has buttons again, from a template created anew under the same name.
    await wa.send(rudi, "Lampu jalan mati di depan SD 5 Poasia sejak kemarin malam")
    for answer in ("ya", "lewati"):
        await wa.reply(rudi)
        await wa.send(rudi, answer)
    again = await wa.reply(rudi)
    assert again.interactive is not None and again.params["ContentSid"] != sid
    names = [c.params["friendly_name"] for c in twilio.content_calls()]
    assert len(names) == 4 and names.count(names[-1]) == 2


async def test_buttons_whatsapp_did_not_deliver_are_sent_again_as_text(wa: WhatsApp, twilio: TwilioStandIn) -> None:
    await wa.send(ANI, "Jalan berlubang besar di depan SD 5 Poasia, bahaya untuk motor")
    place = await wa.reply(ANI)
    assert place.interactive is not None
    # WhatsApp reports the message undelivered (say, a client too old for buttons).
    assert await twilio.send_status(place.sid, "undelivered", 63005) == 200
    again = await wa.reply(ANI)
    assert again.interactive is None and "Lokasi: depan SD 5 Poasia — benar?" in again.body and "Ketik ya" in again.body
    # The dialog goes on, typed; later questions try buttons again.
    await wa.send(ANI, "ya")
    assert (await wa.reply(ANI)).interactive is not None


async def test_outside_the_window_the_held_question_is_released_as_text(wa: WhatsApp) -> None:
    ticket = await file_by_tapping(wa, ANI)
    await wa.world.reply(PUPR_CHAT)
    await wa.age_window(ANI)
    await wa.world.send(wa.world.message(STAFF_PUPR, f"/selesai {ticket} Sudah ditambal", chat_id=PUPR_CHAT))
    template = await wa.reply(ANI)
    assert template.params["ContentSid"] == TEMPLATE_SID  # the approved "something is waiting" template
    await wa.send(ANI, "halo")
    closed, fixed = await wa.replies(ANI, 2)
    assert "dinyatakan selesai" in closed.body
    # The question waited for the window: it comes as text, with the words to type.
    assert fixed.interactive is None and 'Ketik "ya" atau "belum"' in fixed.body
    await wa.send(ANI, "ya")
    assert "nilai 1 (buruk) sampai 5" in (await wa.reply(ANI)).body
    await wa.send(ANI, "5")
    assert "⭐⭐⭐⭐⭐" in (await wa.reply(ANI)).body


async def test_with_interactive_off_buttons_go_as_words_to_type(
    database_url: str, telegram: TelegramStandIn, twilio: TwilioStandIn
) -> None:
    async with running_whatsapp_bot(database_url, telegram, twilio, interactive=False) as off:
        await off.send(ANI, "Jalan berlubang besar di depan SD 5 Poasia, bahaya untuk motor")
        place = await off.reply(ANI)
    assert place.interactive is None and "Ketik ya" in place.body
    assert twilio.content_calls() == [] and twilio.content_calls("Content.list") == []


def test_buttons_that_do_not_fit_whatsapp_go_as_text() -> None:
    three = interactive_of("Kirim?", [[("Kirim", "a"), ("Ubah", "b"), ("Batal", "c")]])
    assert three is not None and three.kind == QUICK_REPLY
    five = interactive_of("Nilai?", [[(str(n), f"rate:1:{n}") for n in range(1, 6)]])
    assert five is not None and five.kind == LIST_PICKER and five.variables["6"] == "rate:1:5"
    # A title too long for a button still fits a list item; eleven options fit nothing.
    long_title = interactive_of("Pilih", [[("Sangat baik sekali ya", "x")]])
    assert long_title is not None and long_title.kind == LIST_PICKER
    assert interactive_of("Pilih", [[(str(n), str(n)) for n in range(11)]]) is None
    assert interactive_of("x" * 1025, [[("Ya", "y")]]) is None
    # The same buttons make the same template, whatever the text and data.
    again = interactive_of("Lain kali?", [[("Kirim", "d"), ("Ubah", "e"), ("Batal", "f")]])
    assert again is not None and again.friendly_name == three.friendly_name

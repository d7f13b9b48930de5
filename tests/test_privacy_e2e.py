"""Citizens' data stays where it belongs (issue 13), end to end: the real app over real HTTP, with
the Telegram and Twilio stand-ins. Unit-level checks are in tests/test_privacy.py."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.standins.server import StandInServer
from bot.standins.telegram_api import TelegramStandIn
from bot.standins.twilio_api import TwilioStandIn
from bot.whatsapp.webhooks import STATUS_PATH
from handlers import retention
from handlers.texts import privacy as privacy_texts
from storage import audit, complaints
from storage import reports as report_queries
from storage.models import (
    Citizen,
    Complaint,
    ComplaintEvent,
    ComplaintMessage,
    Conversation,
    InboxEvent,
    Media,
    OutboxMessage,
    OutboxStatus,
)
from tests.channels import Desk, running_desk
from tests.harness import ADMIN_ID, DLHK_CHAT, HUMAS_CHAT, User, World
from tests.harness_whatsapp import Phone
from tests.test_e2e_telegram import BUDI, STAFF_DLHK, file_complaint
from tests.test_e2e_whatsapp import JPEG, answer_by_reply
from tests.test_e2e_whatsapp import file_complaint as wa_file_complaint

pytestmark = pytest.mark.filterwarnings("ignore:.*(BasicAuth|'auth' parameter) is deprecated:DeprecationWarning")

ANI = Phone("+6281234567890", "Ani Wulandari")
ADMIN = User(ADMIN_ID, "Astibar")
STRANGE_GROUP = -1009876543210
_member_updates = itertools.count(1)


async def statistics_of(session: AsyncSession) -> tuple[object, ...]:
    """What the desk's statistics read: each agency's verdicts, the ratings, the categories."""
    return (
        await report_queries.verdict_counts(session, since=None),
        await report_queries.rating_sums(session, since=None),
        await report_queries.category_counts(session, since=None),
    )


def bot_added(world: World, chat_id: int, by: User) -> dict[str, Any]:
    """The update Telegram sends when someone adds the bot to a group."""
    bot = {"id": world.telegram.bot_user["id"], "is_bot": True, "first_name": "E-Humas"}
    return {
        "update_id": world.telegram.next_update_id(),
        "my_chat_member": {
            "chat": {"id": chat_id, "type": "supergroup", "title": f"Grup {next(_member_updates)}"},
            "from": by.json(),
            "date": int(time.time()),
            "old_chat_member": {"user": bot, "status": "left"},
            "new_chat_member": {"user": bot, "status": "member"},
        },
    }


@pytest.fixture
async def desk(database_url: str, telegram: TelegramStandIn, twilio: TwilioStandIn) -> AsyncIterator[Desk]:
    async with running_desk(database_url, telegram, twilio) as running:
        yield running


# -- 9. Status callback ids are parsed strictly -------------------------------------------------------


@pytest.mark.parametrize("query", ["outbox=²", "outbox=99999999999999999999", "outbox=1&attempt=١", "part=-1"])
async def test_9_a_malformed_or_huge_callback_id_is_acknowledged_and_ignored(desk: Desk, query: str) -> None:
    wa = desk.wa
    await wa.send(ANI, "Halo")
    greeting = await wa.reply(ANI)
    await desk.world.settled()
    form = {"MessageSid": str(greeting.sid), "MessageStatus": "failed", "ErrorCode": "30008", "To": ANI.address}
    # Twilio calls (and signs) the URL percent-encoded, as the bot's request sees it.
    path = f"{STATUS_PATH}?{quote(query, safe='=&')}"
    response = await wa.post(form, path=path)
    assert response.status_code == 200, response.text
    await desk.world.settled()
    async with desk.world.runtime.sessions() as session:
        rows = list((await session.exec(select(OutboxMessage).where(OutboxMessage.chat_id == ANI.address))).all())
    assert [(r.status, r.delivery_status) for r in rows] == [(OutboxStatus.SENT, None)]


# -- 6. A private chat whose sender is someone else --------------------------------------------------


async def test_6_a_private_chat_claiming_another_sender_is_ignored(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    world = desk.world
    ticket = await file_complaint(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau")
    await world.settled()
    before = len(world.telegram.sent_messages(BUDI.id))
    # "from" is the humas admin, the chat is Budi's: an admin's rights must not come with it.
    for text in (f"/lihat {ticket}", "/export all", "/overdue"):
        await world.send(world.message(ADMIN, text, chat_id=BUDI.id))
    await world.send(world.button(ADMIN, "intake:ya", on=world.telegram.sent_messages(BUDI.id)[-1]))
    await world.settled()
    assert len(world.telegram.sent_messages(BUDI.id)) == before
    assert world.telegram.sent_messages(ADMIN.id) == [] and world.telegram.sent_messages(HUMAS_CHAT) == []
    async with world.runtime.sessions() as session:
        events = list((await session.exec(select(InboxEvent))).all())
    assert all(e.processed_at is not None and e.last_error is None for e in events)
    assert sum("sender is someone else" in r.getMessage() for r in caplog.records) == 4


# -- 3. No phone number in the humas group or the log -------------------------------------------------


async def test_3_a_failed_whatsapp_delivery_names_the_ticket_and_the_citizen_never_the_number(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    wa, world = desk.wa, desk.world
    ticket = await wa_file_complaint(wa, ANI, "Sampah menumpuk di TPS Wua-Wua sudah bau sekali")
    await world.reply(DLHK_CHAT)
    # Twilio refuses the number for good, and its error message names it.
    wa.twilio.fail_to(ANI.address, 400, 21211, None, f"The 'To' number {ANI.address} is not a valid phone number.")
    await answer_by_reply(world, DLHK_CHAT, "Besok diangkut.")
    alert = (await world.reply(HUMAS_CHAT)).text or ""
    assert "gagal terkirim" in alert and ticket in alert and "Ani" in alert
    digits = ANI.number.removeprefix("+")
    assert digits not in alert and digits[1:] not in alert, alert
    await world.settled()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "+62812****7890" in logged and digits not in logged


# -- 2. Humas commands answer in humas's own chats only ------------------------------------------------

HUMAS_ONLY = "Perintah humas hanya bisa dipakai di grup humas"


async def test_2_an_admin_in_an_agency_group_gets_a_refusal_and_nothing_of_the_citizen(desk: Desk) -> None:
    world = desk.world
    ticket = await file_complaint(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau")
    await world.reply(DLHK_CHAT)
    for command in (f"/lihat {ticket}", "/export all", "/overdue", "/stats", f"/pindah {ticket} PUPR"):
        await world.send(world.message(ADMIN, command, chat_id=DLHK_CHAT))
        refusal = await world.reply(DLHK_CHAT)
        assert HUMAS_ONLY in (refusal.text or ""), command
    await world.settled()
    shown = "\n".join(c.text or "" for c in world.telegram.sent_messages(DLHK_CHAT))
    assert str(BUDI.id) not in shown and "Santoso" not in shown
    assert [c for c in world.telegram.calls if c.method == "sendDocument"] == []
    async with world.runtime.sessions() as session:
        complaint = await complaints.get_complaint(session, complaint_id=1)
    assert complaint is not None and complaint.opd_code == "DLHK"


async def test_2_the_contact_shows_only_in_an_admins_private_chat(desk: Desk) -> None:
    world = desk.world
    ticket = await file_complaint(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau")
    await world.send(world.message(ADMIN, f"/lihat {ticket}", chat_id=HUMAS_CHAT))
    in_group = (await world.reply(HUMAS_CHAT)).text or ""
    assert ticket in in_group and "Budi" in in_group and str(BUDI.id) not in in_group
    await world.send(world.message(ADMIN, f"/lihat {ticket}"))
    in_private = (await world.reply(ADMIN.id)).text or ""
    assert f"Telegram id {BUDI.id}" in in_private


async def test_2_8_an_unknown_group_hears_one_message_an_hour_whoever_writes_there(desk: Desk) -> None:
    world = desk.world
    ticket = await file_complaint(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau")
    stranger = User(990_001, "Orang")
    await world.send(bot_added(world, STRANGE_GROUP, stranger))
    for who, text in [
        (ADMIN, f"/lihat {ticket}"),
        (ADMIN, "/export all"),
        (stranger, "/overdue"),
        (stranger, f"#{ticket} sudah beres"),
        (stranger, "/id"),
        (stranger, "/bantuan"),
    ] * 3:
        await world.send(world.message(who, text, chat_id=STRANGE_GROUP))
    await world.settled()
    [said] = world.telegram.sent_messages(STRANGE_GROUP)
    assert "ID grup ini" in (said.text or "") and str(STRANGE_GROUP) in (said.text or "")
    assert [c for c in world.telegram.calls if c.method == "sendDocument"] == []
    # An hour later it may say once more that it is not registered.
    world.clock.advance(timedelta(minutes=61))
    for _ in range(3):
        await world.send(world.message(stranger, f"#{ticket} sudah beres", chat_id=STRANGE_GROUP))
    await world.settled()
    said_now = world.telegram.sent_messages(STRANGE_GROUP)
    assert len(said_now) == 2 and "belum terdaftar" in (said_now[1].text or "")


# -- 8. Configured groups have a limit too; it is not the citizens' ---------------------------------------


async def test_8_agency_groups_and_admins_have_the_staff_limit_not_the_citizens(
    database_url: str, telegram: TelegramStandIn, twilio: TwilioStandIn
) -> None:
    sections = {"flood": {"max_messages": 3, "window_seconds": 60.0, "staff_max_messages": 6}}
    async with running_desk(database_url, telegram, twilio, sections=sections) as desk:
        world = desk.world
        # Above the citizens' 3, within the staff's 6: every one answered.
        for _ in range(6):
            await world.send(world.message(STAFF_DLHK, "/id", chat_id=DLHK_CHAT))
            await world.send(world.message(ADMIN, "/stats"))
        await world.settled()
        assert len(world.telegram.sent_messages(DLHK_CHAT)) == 6
        assert len(world.telegram.sent_messages(ADMIN.id)) == 6
        # Past the staff's limit, a group is slowed and told once.
        for _ in range(4):
            await world.send(world.message(STAFF_DLHK, "/id", chat_id=DLHK_CHAT))
        await world.settled()
        said = [c.text or "" for c in world.telegram.sent_messages(DLHK_CHAT)]
        assert len(said) == 7 and "terlalu banyak" in said[-1]


# -- 7. Admission (flood, the draft's photo cap) before any download ---------------------------------------


def media_fetches(twilio: TwilioStandIn) -> int:
    return sum(1 for call in twilio.calls if call.method == "Media.fetch")


async def test_7_photos_past_the_drafts_cap_are_never_downloaded(desk: Desk) -> None:
    wa = desk.wa
    await wa.send(ANI, "Sampah menumpuk di TPS Wua-Wua sudah bau sekali")
    await wa.reply(ANI)
    for _ in range(8):
        await wa.send(ANI, media=[(wa.twilio.store_media(JPEG), "image/jpeg")])
    await desk.world.settled()
    assert media_fetches(wa.twilio) == 5
    said = [c.body or "" for c in wa.twilio.sent_messages(ANI.address)]
    assert any("Cukup 5 foto" in text for text in said)


async def test_7_a_flooding_chat_makes_no_downloads_beyond_what_is_admitted(
    database_url: str, telegram: TelegramStandIn, twilio: TwilioStandIn
) -> None:
    sections = {"flood": {"max_messages": 3, "window_seconds": 60.0}}
    async with running_desk(database_url, telegram, twilio, sections=sections) as desk:
        for _ in range(10):
            await desk.wa.send(ANI, media=[(twilio.store_media(JPEG), "image/jpeg")])
        await desk.world.settled()
        assert media_fetches(twilio) == 3


# -- 10. Twilio's credentials go to Twilio's media host only -----------------------------------------------


async def test_10_a_media_url_elsewhere_is_not_fetched_with_the_credentials(desk: Desk) -> None:
    seen: list[dict[str, str]] = []

    async def spy(request: Request) -> Response:
        seen.append(dict(request.headers))
        return Response(JPEG, media_type="image/jpeg")

    async with StandInServer(Starlette(routes=[Route("/{path:path}", spy)])) as elsewhere:
        wa = desk.wa
        await wa.send(ANI, "Sampah menumpuk di TPS Wua-Wua sudah bau sekali")
        await wa.reply(ANI)
        for url in (f"{elsewhere.url}/foto.jpg", f"http://user:pass@{wa.twilio.base_url.split('://')[1]}/x"):
            await wa.send(ANI, media=[(url, "image/jpeg")])
            got = [c.body for c in await wa.replies(ANI, 2)]
            assert any("tidak berhasil kami terima" in (b or "") for b in got), got
        await desk.world.settled()
    assert seen == []
    # Twilio's own (here: the configured api_base_url) is fetched as before.
    await wa.send(ANI, media=[(wa.twilio.store_media(JPEG), "image/jpeg")])
    await desk.world.settled()
    assert media_fetches(wa.twilio) == 1


# -- 15. Forget a citizen ----------------------------------------------------------------------------


async def everything_stored(desk: Desk) -> str:
    """Every row of every table, as text: where a phone number or a name could hide."""
    chunks: list[str] = []
    async with desk.world.runtime.sessions() as session:
        for model in (Citizen, Complaint, ComplaintMessage, ComplaintEvent, InboxEvent, OutboxMessage, Conversation):
            for row in (await session.exec(select(model))).all():
                chunks.append(json.dumps(row.model_dump(mode="json"), ensure_ascii=False))
    return "\n".join(chunks)


async def test_15_lupakan_erases_the_citizen_keeps_the_anonymous_complaint_and_tells_them(desk: Desk) -> None:
    wa, world = desk.wa, desk.world
    await wa.send(ANI, "Saya Ani Wulandari, sampah menumpuk depan rumah saya di lorong Mawar 7")
    await wa.reply(ANI)
    await wa.send(ANI, location=(-3.9778, 122.5151), address="Lorong Mawar 7, Kendari")
    await wa.reply(ANI)
    await wa.send(ANI, media=[(wa.twilio.store_media(JPEG), "image/jpeg")])
    await wa.reply(ANI)
    await wa.send(ANI, "ya")
    assert "KDI-0001" in ((await wa.reply(ANI)).body or "")
    await world.replies(DLHK_CHAT, 1)  # one message: the photo with the card as its caption
    await answer_by_reply(world, DLHK_CHAT, "Besok diangkut, Bu Ani.")
    await wa.reply(ANI)
    await world.settled()
    async with world.runtime.sessions() as session:
        stats_before = await statistics_of(session)
    digits = ANI.number.removeprefix("+")
    assert digits in await everything_stored(desk) and "Wulandari" in await everything_stored(desk)

    # Without the confirmation nothing happens; a non-admin is refused.
    await world.send(world.message(BUDI, "/lupakan KDI-0001 ya"))
    assert "khusus untuk petugas humas" in ((await world.reply(BUDI.id)).text or "")
    await world.send(world.message(ADMIN, "/lupakan KDI-0001"))
    asked = (await world.reply(ADMIN.id)).text or ""
    assert "/lupakan KDI-0001 ya" in asked and "KDI-0001" in asked
    await world.settled()
    assert digits in await everything_stored(desk)

    await world.send(world.message(ADMIN, "/lupakan KDI-0001 ya"))
    done = (await world.reply(ADMIN.id)).text or ""
    assert "sudah dihapus" in done and "1 aduan" in done and "1 foto" in done
    told = (await wa.reply(ANI)).body or ""
    assert "telah dihapus" in told
    await world.settled()

    async with world.runtime.sessions() as session:
        complaint = await complaints.get_complaint(session, complaint_id=1)
        assert complaint is not None and complaint.description == privacy_texts.ERASED
        assert complaint.media == [] and complaint.location_lat is None and complaint.location_text is None
        assert complaint.opd_code == "DLHK" and complaint.status == "answered"
        assert await statistics_of(session) == stats_before
        assert list((await session.exec(select(Media))).all()) == []
        actions = [(a.action, a.target) for a in await audit.recent_actions(session)]
    assert ("forget", "KDI-0001") in actions
    stored = await everything_stored(desk)
    # Only the message that told them still holds the address, until the purge removes it once sent.
    assert "Wulandari" not in stored and "Mawar" not in stored and "Bu Ani" not in stored
    async with world.runtime.sessions() as session, session.begin():
        await retention.purge(session, retention.RetentionPolicy(), now=world.clock.now())
    assert digits not in await everything_stored(desk)

    # Once forgotten, asking again says so.
    await world.send(world.message(ADMIN, "/lupakan KDI-0001 ya"))
    assert "sudah dihapus sebelumnya" in ((await world.reply(ADMIN.id)).text or "")

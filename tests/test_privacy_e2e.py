"""Citizens' data stays where it belongs (issue 13), end to end: the real app over real HTTP, with
the Telegram and Twilio stand-ins. Unit-level checks are in tests/test_privacy.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest
from sqlmodel import select

from bot.standins.telegram_api import TelegramStandIn
from bot.standins.twilio_api import TwilioStandIn
from bot.whatsapp.webhooks import STATUS_PATH
from storage.models import InboxEvent, OutboxMessage, OutboxStatus
from tests.channels import Desk, running_desk
from tests.harness import ADMIN_ID, DLHK_CHAT, HUMAS_CHAT, User
from tests.harness_whatsapp import Phone
from tests.test_e2e_telegram import BUDI, file_complaint
from tests.test_e2e_whatsapp import answer_by_reply
from tests.test_e2e_whatsapp import file_complaint as wa_file_complaint

pytestmark = pytest.mark.filterwarnings("ignore:.*(BasicAuth|'auth' parameter) is deprecated:DeprecationWarning")

ANI = Phone("+6281234567890", "Ani Wulandari")
ADMIN = User(ADMIN_ID, "Astibar")


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

"""An agency speaks only for its own tickets: /selesai and /bukan from another agency's group change nothing.

(Issue 13's list of tests that would have caught a broken line: without the ownership check in
handlers.agency, PUPR could close or hand back DLHK's ticket, and the citizen would be told so.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.standins.telegram_api import TelegramStandIn
from storage import complaints
from storage.models import ComplaintStatus
from tests.harness import DLHK_CHAT, HUMAS_CHAT, PUPR_CHAT, World, running_bot, settings_for
from tests.test_e2e_telegram import BUDI, STAFF_PUPR, file_complaint


@pytest.fixture
async def world(database_url: str, telegram: TelegramStandIn) -> AsyncIterator[World]:
    async with running_bot(settings_for(database_url, telegram), telegram) as running:
        yield running


@pytest.mark.parametrize("command", ["/selesai {ticket} sudah beres", "/bukan {ticket} bukan urusan kami"])
async def test_another_agency_can_neither_close_nor_hand_back_a_ticket(world: World, command: str) -> None:
    ticket = await file_complaint(world, BUDI, "sampah menumpuk di TPS Wua-Wua sudah bau")
    await world.reply(DLHK_CHAT)
    await world.settled()
    told_before = len(world.telegram.sent_messages(BUDI.id))
    await world.send(world.message(STAFF_PUPR, command.format(ticket=ticket), chat_id=PUPR_CHAT))
    refusal = await world.reply(PUPR_CHAT)
    assert "bukan milik PUPR" in (refusal.text or "")
    await world.settled()
    async with world.runtime.sessions() as session:
        complaint = await complaints.get_complaint(session, complaint_id=1)
    assert complaint is not None and complaint.status == ComplaintStatus.OPEN and complaint.opd_code == "DLHK"
    assert complaint.closed_at is None
    assert len(world.telegram.sent_messages(BUDI.id)) == told_before  # the citizen heard nothing
    assert world.telegram.sent_messages(HUMAS_CHAT) == []

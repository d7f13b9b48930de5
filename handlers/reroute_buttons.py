"""A tap on a triage button in the humas group does what `/pindah KDI-0042 KODE` does."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import admin, triage
from handlers.desk import Desk
from handlers.events import Inbound
from handlers.outgoing import answer_button, send_text
from handlers.texts import routing as texts
from storage import complaints


async def handle(session: AsyncSession, desk: Desk, inbound: Inbound) -> bool:
    """Handle a triage button press; False if the press is not one."""
    parsed = triage.parse_button(inbound.callback_data or "")
    if parsed is None:
        return False
    here = desk.staff(inbound.chat_id)
    if inbound.callback_id:
        await answer_button(session, here, callback_id=inbound.callback_id, now=desk.now())
    number, code = parsed
    complaint = await complaints.get_complaint(session, complaint_id=number)
    if complaint is not None and complaint.opd_code is not None:
        # The buttons stay on the old message: a second tap, or one after a /pindah, is stale.
        stale = texts.TRIAGE_STALE.format(ticket=desk.ticket(number), code=complaint.opd_code)
        await send_text(session, here, stale, now=desk.now())
        return True
    command = f"/pindah {desk.ticket(number)} {code}"
    await admin.handle(session, desk, replace(inbound, text=command, callback_data=None, callback_id=None))
    return True

"""The 1×24-hour rule, enforced: reminders before the deadline, a teguran at it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from markupsafe import Markup
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import texts
from handlers.desk import HUMAS, Desk
from handlers.outgoing import send_text, to_citizen
from handlers.timefmt import duration
from storage import complaints, conversations, deadlines
from storage.models import Citizen, Complaint

# A reminder that cannot leave this long before the earliest deadline it names is not sent at all:
# "about to be late" must never arrive after the deadline (a group's queue, Telegram's rate limits:
# a message may wait up to a minute for its group's window). A tenth of the reminder's lead when
# that is shorter (deadlines of seconds in tests and demos).
REMINDER_MARGIN = timedelta(minutes=2)


@dataclass(frozen=True)
class SweepResult:
    """What one sweep did."""

    reminded: int
    reprimanded: int
    drafts_expired: int


async def sweep(session: AsyncSession, desk: Desk) -> SweepResult:
    """One pass: reprimand late complaints, remind agencies of those about to be late."""
    now = desk.now()
    late = await deadlines.claim_reprimands(session, now=now)
    for complaint in late:
        await _reprimand(session, desk, complaint)
    reminded = 0
    if desk.remind_before.total_seconds() > 0:
        soon = await deadlines.claim_reminders(session, now=now, lead=desk.remind_before)
        by_owner: dict[str, list[Complaint]] = defaultdict(list)
        for complaint in soon:
            by_owner[complaint.opd_code or HUMAS].append(complaint)
        for owner, items in sorted(by_owner.items()):
            await _remind(session, desk, owner, items)
        reminded = len(soon)
    expired = await conversations.purge_expired_conversations(session, now=now)
    return SweepResult(reminded=reminded, reprimanded=len(late), drafts_expired=expired)


async def _remind(session: AsyncSession, desk: Desk, owner: str, items: list[Complaint]) -> None:
    """One reminder per agency listing its tickets about to be late."""
    now = desk.now()
    lines = Markup("\n").join(
        texts.REMINDER_LINE.format(
            ticket=desk.ticket(c.id or 0), deadline=desk.local_time(c.due_at), left=duration(c.due_at - now)
        )
        for c in items
    )
    key = "reminder:" + ",".join(str(c.id) for c in items)
    await send_text(
        session,
        desk.staff(desk.group_of(owner)),
        texts.REMINDER.format(agency=desk.agency_name(owner), lines=lines, prefix=desk.ticket_prefix),
        now=now,
        purpose="reminder",
        dedup_key=key[:120],
        complaint_id=items[0].id if len(items) == 1 else None,
        send_before=min(c.due_at for c in items) - min(REMINDER_MARGIN, desk.remind_before / 10),
    )
    for complaint in items:
        assert complaint.id is not None
        await complaints.add_event(session, complaint_id=complaint.id, kind="reminded", now=now, actor="sla")


async def _reprimand(session: AsyncSession, desk: Desk, complaint: Complaint) -> None:
    """A teguran in the agency's group, an alert to humas, and a word to the citizen."""
    assert complaint.id is not None
    now = desk.now()
    ticket = desk.ticket(complaint.id)
    deadline = desk.local_time(complaint.due_at)
    late = duration(now - complaint.due_at)
    owner = complaint.opd_code
    humas = desk.staff(desk.humas_chat_id)
    if owner is not None:
        await send_text(
            session,
            desk.staff(desk.group_of(owner)),
            texts.TEGURAN.format(ticket=ticket, agency=desk.agency_name(owner), deadline=deadline, late=late),
            now=now,
            complaint_id=complaint.id,
            purpose="teguran",
            dedup_key=f"teguran:{complaint.id}",
        )
        alert = texts.OVERDUE_TO_HUMAS.format(ticket=ticket, owner=owner, deadline=deadline, late=late)
        citizen_text = texts.OVERDUE_TO_CITIZEN.format(ticket=ticket, agency=desk.agency_name(owner), city=desk.city)
    else:
        alert = texts.OVERDUE_UNROUTED_TO_HUMAS.format(ticket=ticket, deadline=deadline)
        citizen_text = texts.OVERDUE_UNROUTED_TO_CITIZEN.format(ticket=ticket, city=desk.city)
    await send_text(
        session,
        humas,
        alert,
        now=now,
        complaint_id=complaint.id,
        purpose="overdue_alert",
        dedup_key=f"overdue-alert:{complaint.id}",
    )
    citizen = await session.get(Citizen, complaint.citizen_id)
    if citizen is not None and citizen.reachable:
        await send_text(
            session,
            to_citizen(citizen),
            citizen_text,
            now=now,
            complaint_id=complaint.id,
            purpose="overdue_citizen",
            dedup_key=f"overdue-citizen:{complaint.id}",
        )
    await complaints.add_event(
        session, complaint_id=complaint.id, kind="reprimanded", now=now, actor="sla", detail=f"late {late}"
    )

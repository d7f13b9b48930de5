"""The 1×24-hour rule, enforced: reminders before the deadline, a teguran at it."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from markupsafe import Markup
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import texts
from handlers.desk import HUMAS, Desk
from handlers.outgoing import send_text, to_citizen
from handlers.texts import staff as staff_texts
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
    # Late rating requests queued (handlers.rating, asked in batches of their own after the sweep).
    rating_requests: int = 0


async def sweep(session: AsyncSession, desk: Desk) -> SweepResult:
    """One pass: reprimand late complaints, remind agencies of those about to be late.

    The late rating requests are not part of it: the caller asks them in batches, each in its own
    transaction (rating.request_due_ratings), so that a backlog does not hold the connection.
    """
    now = desk.now()
    late = await deadlines.claim_reprimands(session, now=now)
    for complaint in late:
        await _reprimand(session, desk, complaint)
    if late:
        await _alert_humas(session, desk, late)
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
    # The way to answer, with the real ticket (the most urgent one when there are several).
    howto = staff_texts.REMINDER_HOWTO_ONE if len(items) == 1 else staff_texts.REMINDER_HOWTO_MANY
    await send_text(
        session,
        desk.staff(desk.group_of(owner)),
        texts.REMINDER.format(
            agency=desk.agency_name(owner), lines=lines, howto=howto.format(ticket=desk.ticket(items[0].id or 0))
        ),
        now=now,
        purpose="reminder",
        dedup_key=_batch_key("reminder", items),
        complaint_id=items[0].id if len(items) == 1 else None,
        send_before=min(c.due_at for c in items) - min(REMINDER_MARGIN, desk.remind_before / 10),
    )
    for complaint in items:
        assert complaint.id is not None
        await complaints.add_event(session, complaint_id=complaint.id, kind="reminded", now=now, actor="sla")


async def _reprimand(session: AsyncSession, desk: Desk, complaint: Complaint) -> None:
    """A teguran in the agency's group and a word to the citizen (humas hears of it in the sweep's summary)."""
    assert complaint.id is not None
    now = desk.now()
    ticket = desk.ticket(complaint.id)
    deadline = desk.local_time(complaint.due_at)
    late = duration(now - complaint.due_at)
    owner = complaint.opd_code
    # Once per deadline, not once per ticket: a reroute (/pindah) or a reopening gives a new owner (or
    # the same one) a new deadline, and missing that one earns its own teguran.
    deadline_key = f"{complaint.id}:{owner or HUMAS}:{int(complaint.due_at.timestamp())}"
    if owner is not None:
        await send_text(
            session,
            desk.staff(desk.group_of(owner)),
            texts.TEGURAN.format(ticket=ticket, agency=desk.agency_name(owner), deadline=deadline, late=late),
            now=now,
            complaint_id=complaint.id,
            purpose="teguran",
            dedup_key=f"teguran:{deadline_key}",
        )
        citizen_text = texts.OVERDUE_TO_CITIZEN.format(ticket=ticket, agency=desk.agency_name(owner), city=desk.city)
    else:
        citizen_text = texts.OVERDUE_UNROUTED_TO_CITIZEN.format(ticket=ticket, city=desk.city)
    citizen = await session.get(Citizen, complaint.citizen_id)
    if citizen is not None and citizen.reachable:
        await send_text(
            session,
            to_citizen(citizen),
            citizen_text,
            now=now,
            complaint_id=complaint.id,
            purpose="overdue_citizen",
            dedup_key=f"overdue-citizen:{deadline_key}",
        )
    await complaints.add_event(
        session, complaint_id=complaint.id, kind="reprimanded", now=now, actor="sla", detail=f"terlambat {late}"
    )


# Tickets listed one by one in the sweep's summary to humas; the rest are counted (/overdue has them all).
SUMMARY_LINES = 30


async def _alert_humas(session: AsyncSession, desk: Desk, late: list[Complaint]) -> None:
    """One message to humas for everything a sweep found late, per agency, oldest deadline first.

    Sent once: each complaint is claimed by one sweep only (deadlines.claim_reprimands), and the
    summary's dedup key is made of the ids it covers.
    """
    now = desk.now()
    by_owner: dict[str | None, list[Complaint]] = defaultdict(list)
    for complaint in late:
        by_owner[complaint.opd_code].append(complaint)
    owners: list[str | None] = [None] if None in by_owner else []
    owners += sorted(code for code in by_owner if code is not None)
    lines = [staff_texts.SWEEP_HEAD.format(count=len(late), now=desk.local_time(now))]
    room = SUMMARY_LINES
    for owner in owners:
        items = by_owner[owner]
        if owner is None:
            lines.append(
                staff_texts.SWEEP_UNROUTED.format(
                    count=len(items), ticket=desk.ticket(items[0].id or 0), codes=", ".join(desk.agencies)
                )
            )
        else:
            lines.append(staff_texts.SWEEP_AGENCY.format(name=desk.agency_name(owner), count=len(items), code=owner))
        shown = items[: max(room, 0)]
        room -= len(shown)
        for complaint in shown:
            lines.append(
                staff_texts.SWEEP_LINE.format(
                    ticket=desk.ticket(complaint.id or 0),
                    deadline=desk.local_time(complaint.due_at),
                    late=duration(now - complaint.due_at),
                )
            )
        if len(items) > len(shown):
            lines.append(staff_texts.SWEEP_MORE.format(count=len(items) - len(shown)))
    lines.append(staff_texts.SWEEP_FOOT)
    await send_text(
        session,
        desk.staff(desk.humas_chat_id),
        Markup("\n").join(lines),
        now=now,
        complaint_id=late[0].id if len(late) == 1 else None,
        purpose="overdue_alert",
        dedup_key=_batch_key("overdue-alert", late),
    )


def _batch_key(kind: str, items: list[Complaint]) -> str:
    """A dedup key for a message about these complaints: short whatever their number, and distinct.

    (A plain list of ids cut to the column's 120 characters would give two long batches that
    share a beginning the same key, and the second message would be dropped.)
    """
    ids = ",".join(str(c.id) for c in sorted(items, key=lambda c: c.id or 0))
    if len(kind) + 1 + len(ids) <= 120:
        return f"{kind}:{ids}"
    return f"{kind}:{len(items)}:{hashlib.sha256(ids.encode()).hexdigest()}"

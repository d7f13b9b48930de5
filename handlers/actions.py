"""The humas operations on a complaint, one implementation for the chat commands and the web desk.

/pindah, /tolak and /tegur in a chat (and the triage buttons, which run /pindah) and the buttons on
the desk's complaint page call these: the same checks, the same messages to the agency groups and
the citizen (handlers/handover.py), the same routing corrections (handlers/corrections.py), the
same handovers and verdicts (handlers/assignments.py), the same status history and audit log. What
the admin is told comes back as an Outcome; the chat sends it to the admin's chat unless it was
told there already, the desk shows it on the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import assignments, corrections, handover, texts
from handlers.desk import HUMAS, Desk
from handlers.outgoing import Recipient, send_text, to_citizen
from storage import audit, complaints
from storage.models import Citizen, Complaint, ComplaintStatus


@dataclass(frozen=True)
class Outcome:
    """What an operation did, as the admin is told."""

    ok: bool
    message: str | Markup
    # Already sent to the admin's chat (the chat commands pass it); the web shows `message` instead.
    told: bool = False


def unknown_agency(desk: Desk, code: str) -> Outcome:
    """The answer to an agency code that is not configured."""
    return Outcome(False, texts.UNKNOWN_AGENCY.format(code=code[:20], codes=", ".join(desk.agencies)))


async def _open_complaint(session: AsyncSession, desk: Desk, number: int) -> Complaint | Outcome:
    """The complaint, locked, if it exists and is neither closed nor rejected; otherwise why not."""
    complaint = await complaints.get_complaint(session, complaint_id=number, lock=True)
    ticket = desk.ticket(number)
    if complaint is None:
        return Outcome(False, texts.TICKET_NOT_FOUND.format(ticket=ticket))
    if complaint.status in (ComplaintStatus.CLOSED, ComplaintStatus.REJECTED):
        state = "selesai" if complaint.status == ComplaintStatus.CLOSED else "ditolak"
        return Outcome(False, texts.ALREADY_CLOSED.format(ticket=ticket, state=state))
    return complaint


async def reroute(
    session: AsyncSession,
    desk: Desk,
    number: int,
    code: str,
    *,
    actor: str,
    admin: str,
    here: Recipient | None = None,
) -> Outcome:
    """/pindah: the complaint goes to another agency with a fresh deadline.

    The new group gets the card, the old group (or humas's card of an unrouted ticket) a note, the
    citizen the new deadline; the correction of the route is recorded. `admin` is the name the
    groups see; `here` is the admin's chat, told there (None from the web: the page shows it).
    """
    now = desk.now()
    code = code.upper()
    if code not in desk.agencies:
        return unknown_agency(desk, code)
    complaint = await _open_complaint(session, desk, number)
    if isinstance(complaint, Outcome):
        return complaint
    ticket = desk.ticket(number)
    if complaint.opd_code == code:
        return Outcome(False, texts.REROUTE_SAME.format(ticket=ticket, code=code))
    old = complaint.opd_code
    old_answered = old is not None and complaint.answered_at is not None
    # Before the agency changes: the first correction records what the classifier said.
    await corrections.record_reroute(session, desk, complaint, code=code, actor=actor)
    # The new agency gets a full, fresh deadline; the old answer (if any) does not count for it.
    # The old owner's own clock stops with its own verdict (handlers.assignments).
    complaint.opd_code = code
    complaint.status = ComplaintStatus.OPEN.value
    complaint.answered_at = None
    complaint.due_at = now + desk.answer_within
    complaint.reminded_at = None
    complaint.reprimanded_at = None
    complaint.reroute_count += 1
    session.add(complaint)
    await session.flush()
    await assignments.hand_over(session, complaint, now=now, reason="rerouted")
    await complaints.add_event(
        session, complaint_id=number, kind="rerouted", now=now, actor=actor, detail=f"{old or HUMAS} -> {code}"
    )
    await audit.log_action(
        session, actor=actor, action="reroute", target=ticket, detail=f"{old or HUMAS} -> {code}", now=now
    )
    citizen = await session.get(Citizen, complaint.citizen_id)
    assert citizen is not None
    deadline = desk.local_time(complaint.due_at)
    await send_text(
        session,
        to_citizen(citizen),
        texts.REROUTED_TO_CITIZEN.format(ticket=ticket, agency=desk.agency_name(code), deadline=deadline),
        now=now,
        complaint_id=number,
        purpose="rerouted",
    )
    await handover.after_reroute(
        session, desk, complaint, citizen, old=old, old_answered=old_answered, admin=admin, here=here
    )
    return Outcome(True, texts.REROUTED_DONE.format(ticket=ticket, code=code, deadline=deadline), told=here is not None)


async def reject(
    session: AsyncSession,
    desk: Desk,
    number: int,
    reason: str,
    *,
    actor: str,
    admin: str,
    here: Recipient | None = None,
) -> Outcome:
    """/tolak: the complaint is rejected (spam, not a city matter).

    The citizen gets the reason, the group holding the ticket a note, and the correction of the
    route is recorded when an agency had been given it. `admin` and `here` as for reroute.
    """
    now = desk.now()
    reason = reason.strip()
    if not reason:
        return Outcome(False, texts.USAGE_TOLAK.format(prefix=desk.ticket_prefix))
    complaint = await _open_complaint(session, desk, number)
    if isinstance(complaint, Outcome):
        return complaint
    ticket = desk.ticket(number)
    answered = complaint.answered_at is not None
    await corrections.record_rejection(session, desk, complaint, actor=actor)
    complaint.status = ComplaintStatus.REJECTED.value
    complaint.closed_at = now
    session.add(complaint)
    await assignments.end_current(session, complaint, now=now, reason="rejected")
    await complaints.add_event(session, complaint_id=number, kind="rejected", now=now, actor=actor, detail=reason)
    await audit.log_action(session, actor=actor, action="reject", target=ticket, detail=reason, now=now)
    citizen = await session.get(Citizen, complaint.citizen_id)
    assert citizen is not None
    await send_text(
        session,
        to_citizen(citizen),
        texts.REJECTED_TO_CITIZEN.format(ticket=ticket, reason=reason[:500]),
        now=now,
        complaint_id=number,
        purpose="rejected",
    )
    await handover.after_reject(session, desk, complaint, reason=reason, answered=answered, admin=admin, here=here)
    return Outcome(True, texts.REJECTED_DONE.format(ticket=ticket), told=here is not None)


async def reprimand(session: AsyncSession, desk: Desk, code: str, text: str, *, actor: str) -> Outcome:
    """/tegur: a reprimand in an agency's group now."""
    now = desk.now()
    code = code.upper()
    if code not in desk.agencies:
        return unknown_agency(desk, code)
    body = text.strip() or texts.TEGURAN_MANUAL_DEFAULT
    await send_text(
        session,
        desk.staff(desk.group_of(code)),
        texts.TEGURAN_MANUAL.format(agency=desk.agency_name(code), text=body),
        now=now,
        purpose="teguran",
    )
    await audit.log_action(session, actor=actor, action="reprimand", target=code, detail=body, now=now)
    return Outcome(True, texts.TEGURAN_SENT.format(code=code))

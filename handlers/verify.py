"""The citizen confirms the fix: on /selesai the reporter and followers are asked "sudah beres?".

"ya" leads the reporter to the rating as before. "belum" (with an optional reason) reopens the
ticket with a fresh deadline for the same agency, at most `[sla] max_reopen` times; after
that humas holds it. No answer within `[sla] confirm_days` of the closing: it stays closed
(a late "belum" is told so).
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import assignments, awaiting, rating
from handlers.desk import HUMAS, Desk
from handlers.duplicates import tell_followers
from handlers.outgoing import Button, Recipient, button_parts, send_text, to_citizen
from handlers.texts import duplicates as t
from storage import audit, complaints, duplicates
from storage.models import Citizen, Complaint, ComplaintStatus

# Conversation step while the answer is awaited, and the button data: "verify:<id>:ya|belum".
VERIFY = "verify"
BUTTON_PREFIX = "verify:"
PURPOSE = "verify"
FIXED = "ya"
NOT_FIXED = "belum"
_YES_WORDS = frozenset({"ya", "y", "iya", "sudah", "udah", "dah", "beres", "ok", "oke", "yes", "selesai", "mantap"})
_NO_WORDS = frozenset({"belum", "blm", "tidak", "tdk", "gak", "ga", "nggak", "masih", "no", "bukan"})


def _buttons(complaint_id: int) -> list[list[Button]]:
    return [
        [
            Button(t.BUTTON_FIXED, f"{BUTTON_PREFIX}{complaint_id}:{FIXED}"),
            Button(t.BUTTON_NOT_FIXED, f"{BUTTON_PREFIX}{complaint_id}:{NOT_FIXED}"),
        ]
    ]


async def ask(session: AsyncSession, desk: Desk, complaint: Complaint, citizen: Citizen) -> None:
    """Ask one citizen (reporter or follower) whether the closed complaint's problem is fixed."""
    assert complaint.id is not None
    now = desk.now()
    to = to_citizen(citizen)
    sent = await send_text(
        session,
        to,
        t.VERIFY_QUESTION.format(ticket=desk.ticket(complaint.id)),
        now=now,
        complaint_id=complaint.id,
        purpose=PURPOSE,
        buttons=_buttons(complaint.id),
        typed_hint=t.VERIFY_TYPED,
    )
    await awaiting.await_unless_busy(
        session, desk, citizen, complaint.id, step=VERIFY, ttl=desk.duplicates.confirm_within, keyboard=sent
    )


async def await_typed_answer(session: AsyncSession, desk: Desk, citizen: Citizen, complaint_id: int) -> None:
    """Take the citizen's next message as the answer to "sudah beres?" for the complaint."""
    await awaiting.await_answer(session, desk, citizen, complaint_id, step=VERIFY, ttl=desk.duplicates.confirm_within)


async def ask_everyone(session: AsyncSession, desk: Desk, complaint: Complaint, reporter: Citizen) -> None:
    """On closing: the reporter and every follower are asked."""
    assert complaint.id is not None
    complaint.verify_requested_at = desk.now()
    session.add(complaint)
    if reporter.reachable:
        await ask(session, desk, complaint, reporter)
    for row in await duplicates.followers_of(session, complaint_id=complaint.id):
        follower = await session.get(Citizen, row.citizen_id)
        if follower is not None and follower.reachable:
            await ask(session, desk, complaint, follower)


def parse_button(data: str) -> tuple[int, str] | None:
    """(complaint id, "ya"|"belum") from a verification button's data."""
    parts = button_parts(data, BUTTON_PREFIX)
    return parts if parts is not None and parts[1] in (FIXED, NOT_FIXED) else None


def parse_typed(text: str) -> tuple[str, str] | None:
    """("ya"|"belum", reason) from a typed answer, or None when it is neither."""
    words = text.strip().split()
    if not words:
        return None
    head = words[0].lower().strip(".,!?")
    if head in _NO_WORDS:
        return NOT_FIXED, " ".join(words[1:]).lstrip(",.:;- ").strip()
    if head in _YES_WORDS:
        return FIXED, ""
    return None


async def answer(
    session: AsyncSession, desk: Desk, citizen: Citizen, me: Recipient, complaint_id: int, choice: str, reason: str = ""
) -> None:
    """Apply a citizen's answer: "ya" to the rating, "belum" reopens (within the window and the limit)."""
    now = desk.now()
    complaint = await complaints.get_complaint(session, complaint_id=complaint_id, lock=True)
    if complaint is None or complaint.id is None:
        return
    reporter = complaint.citizen_id == citizen.id
    if not reporter and not await duplicates.follows(session, complaint_id=complaint_id, citizen_id=citizen.id or 0):
        return  # a forged button: nothing to say
    ticket = desk.ticket(complaint_id)
    if choice == FIXED:
        await complaints.add_event(
            session, complaint_id=complaint_id, kind="confirmed", now=now, actor="citizen" if reporter else "follower"
        )
        if reporter and complaint.status == ComplaintStatus.CLOSED:
            complaint.verify_requested_at = None
            session.add(complaint)
            await rating.ask_for_rating(session, desk, complaint, citizen)
        else:
            await send_text(session, me, t.VERIFY_THANKS_FOLLOWER.format(ticket=ticket), now=now)
        return
    if complaint.status != ComplaintStatus.CLOSED:
        # Reopened already (by another follower), or never closed: the answer is noted, nothing changes.
        await send_text(session, me, t.VERIFY_THANKS_FOLLOWER.format(ticket=ticket), now=now)
        return
    if complaint.closed_at is None or now - complaint.closed_at > desk.duplicates.confirm_within:
        await send_text(session, me, t.VERIFY_TOO_LATE.format(ticket=ticket, city=desk.city), now=now)
        return
    await reopen(session, desk, complaint, reason=reason, by_reporter=reporter)


async def reopen(session: AsyncSession, desk: Desk, complaint: Complaint, *, reason: str, by_reporter: bool) -> None:
    """ "Belum": the ticket opens again with a fresh deadline; past the limit, humas holds it."""
    assert complaint.id is not None
    now = desk.now()
    ticket = desk.ticket(complaint.id)
    agency = complaint.opd_code
    count = complaint.reopen_count + 1
    escalate = count > desk.duplicates.max_reopen
    complaint.status = ComplaintStatus.OPEN.value
    complaint.closed_at = None
    complaint.answered_at = None
    complaint.rating_requested_at = None
    complaint.verify_requested_at = None
    complaint.due_at = now + desk.answer_within
    # A new deadline: its own reminder and, if missed, its own teguran (handlers.sla keys them per deadline).
    complaint.reminded_at = None
    complaint.reprimanded_at = None
    complaint.reopen_count = count
    if escalate:
        complaint.opd_code = None
    session.add(complaint)
    await session.flush()
    await assignments.hand_over(session, complaint, now=now, reason="reopened")
    why = reason.strip()[:500] or t.NO_REASON
    actor = "citizen" if by_reporter else "follower"
    await complaints.add_event(session, complaint_id=complaint.id, kind="reopened", now=now, actor=actor, detail=why)
    if reason.strip():
        await complaints.add_message(
            session, complaint_id=complaint.id, direction="in", author="citizen", text=reason.strip()[:4000], now=now
        )
    await audit.log_action(session, actor=actor, action="reopen", target=ticket, detail=f"{count}: {why}", now=now)
    deadline = desk.local_time(complaint.due_at)
    if escalate:
        to_people = t.REOPEN_LIMIT_TO_CITIZEN.format(ticket=ticket, count=count - 1, city=desk.city, deadline=deadline)
        await send_text(
            session,
            desk.staff(desk.humas_chat_id),
            t.REOPEN_LIMIT_TO_HUMAS.format(ticket=ticket, agency=desk.agency_name(agency), count=count - 1, reason=why),
            now=now,
            complaint_id=complaint.id,
            purpose="reopened",
        )
    else:
        to_people = t.REOPENED_TO_CITIZEN.format(ticket=ticket, agency=desk.agency_name(agency), deadline=deadline)
        await send_text(
            session,
            desk.staff(desk.group_of(agency)),
            t.REOPENED_CARD.format(ticket=ticket, reason=why, deadline=deadline),
            now=now,
            complaint_id=complaint.id,
            purpose="reopened",
        )
        await send_text(
            session,
            desk.staff(desk.humas_chat_id),
            t.REOPENED_TO_HUMAS.format(
                ticket=ticket, agency=desk.agency_name(agency or HUMAS), count=count, reason=why
            ),
            now=now,
            complaint_id=complaint.id,
            purpose="reopened",
        )
    reporter = await session.get(Citizen, complaint.citizen_id)
    if reporter is not None and reporter.reachable:
        await send_text(
            session, to_citizen(reporter), to_people, now=now, complaint_id=complaint.id, purpose="reopened"
        )
    await tell_followers(session, desk, complaint.id, to_people, purpose="reopened")

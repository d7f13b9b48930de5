"""The citizen rates the answer, 1 to 5: asked on /selesai, or a while after an answer never closed."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import awaiting, texts
from handlers.desk import Desk
from handlers.outgoing import Button, Recipient, button_parts, send_text, to_citizen
from handlers.textsafe import ascii_int
from storage import citizens, complaints, deadlines
from storage.models import Citizen, Complaint, ComplaintStatus

# Conversation step while a rating is awaited, and how long the typed answer is awaited.
RATING = "rating"
RATING_TTL = timedelta(days=3)
BUTTON_PREFIX = "rate:"
# The outbox purpose of the rating request.
PURPOSE = "rate"
# Late rating requests claimed per transaction: on SQLite the sweep holds the process's one
# connection while it asks, and each request costs a few statements (about 4 ms each in all).
RATING_BATCH = 50
# A late rating request goes out at most this long after it fell due: a citizen is not asked, after
# the desk was down or upgraded from before ratings were requested, about an answer from months ago.
RATING_REQUEST_WITHIN = timedelta(days=7)


async def ask_for_rating(session: AsyncSession, desk: Desk, complaint: Complaint, citizen: Citizen) -> None:
    """Ask the citizen to rate a closed complaint (buttons, or a typed digit where there are none)."""
    assert complaint.id is not None and citizen.id is not None
    now = desk.now()
    ticket = desk.ticket(complaint.id)
    complaint.rating_requested_at = complaint.rating_requested_at or now
    session.add(complaint)
    prompt = texts.RATE_PROMPT.format(ticket=ticket)
    sent = await send_text(
        session,
        to_citizen(citizen),
        prompt,
        now=now,
        complaint_id=complaint.id,
        purpose=PURPOSE,
        buttons=[[Button(str(n), f"{BUTTON_PREFIX}{complaint.id}:{n}") for n in range(1, 6)]],
        typed_hint=texts.RATE_PROMPT_TYPED,
    )
    await awaiting.await_unless_busy(session, desk, citizen, complaint.id, step=RATING, ttl=RATING_TTL, keyboard=sent)


async def await_typed_rating(session: AsyncSession, desk: Desk, citizen: Citizen, complaint_id: int) -> None:
    """Take the citizen's next message as a rating of the complaint (words or digits)."""
    await awaiting.await_answer(session, desk, citizen, complaint_id, step=RATING, ttl=RATING_TTL)


def parse_button(data: str) -> tuple[int, int] | None:
    """(complaint id, stars) from a rating button's data."""
    parts = button_parts(data, BUTTON_PREFIX)
    stars = None if parts is None else ascii_int(parts[1])
    return None if parts is None or stars is None else (parts[0], stars)


async def rate(
    session: AsyncSession, desk: Desk, citizen: Citizen, me: Recipient, complaint_id: int, stars: int
) -> None:
    """Store a rating for one of the citizen's own answered or closed complaints."""
    now = desk.now()
    complaint = await complaints.get_complaint(session, complaint_id=complaint_id, lock=True)
    if (
        complaint is None
        or complaint.citizen_id != citizen.id
        or complaint.status not in (ComplaintStatus.ANSWERED, ComplaintStatus.CLOSED)
        or not 1 <= stars <= 5
    ):
        return  # a stale or forged button: nothing to say
    ticket = desk.ticket(complaint_id)
    if complaint.rating is not None:
        await send_text(session, me, texts.RATE_ALREADY.format(ticket=ticket), now=now)
        return
    complaint.rating = stars
    session.add(complaint)
    await complaints.add_event(
        session, complaint_id=complaint_id, kind="rated", now=now, actor="citizen", detail=str(stars)
    )
    await send_text(session, me, texts.RATE_THANKS.format(stars="⭐" * stars, ticket=ticket), now=now)


async def request_due_ratings(session: AsyncSession, desk: Desk, *, limit: int = RATING_BATCH) -> int:
    """Ask for a rating of up to `limit` answers the agency never closed, `rate_after` after the first
    answer (once each); how many were claimed (`limit` means: come back, there may be more)."""
    if desk.rate_after is None:
        return 0
    due = await deadlines.claim_rating_requests(
        session, now=desk.now(), after=desk.rate_after, limit=limit, within=RATING_REQUEST_WITHIN
    )
    # The batch's citizens in one query, not one each.
    found = await citizens.load_citizens(session, ids={complaint.citizen_id for complaint in due})
    by_id = {citizen.id: citizen for citizen in found}
    for complaint in due:
        citizen = by_id.get(complaint.citizen_id)
        if citizen is not None and citizen.reachable:
            await ask_for_rating(session, desk, complaint, citizen)
    return len(due)

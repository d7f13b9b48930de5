"""Each owner's own clock: a handover starts it, the first answer or the ticket leaving stops it.

The verdicts are decided here, once, when a clock stops; /stats, the web desk's dashboard and the
export only count them. That is what keeps the figures from being gamed: a reroute gives the next
owner a fresh deadline but cannot undo the verdict of the one before, and lateness already
incurred stays counted.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from storage import assignments
from storage.models import Assignment, Complaint

ON_TIME = "on_time"  # answered by its deadline
LATE = "late"  # answered after its deadline
MISSED = "missed"  # left its owner unanswered after the deadline (rerouted, handed back, rejected)
MOVED = "moved"  # left its owner unanswered before the deadline: no verdict for that owner


def answer_verdict(*, due_at: datetime, answered_at: datetime) -> str:
    """The verdict of a handover answered at `answered_at` (the deadline itself is still on time)."""
    return ON_TIME if answered_at <= due_at else LATE


def end_verdict(*, due_at: datetime, ended_at: datetime) -> str:
    """The verdict of a handover that ended unanswered at `ended_at`."""
    return MISSED if ended_at > due_at else MOVED


async def record_answer(session: AsyncSession, complaint: Complaint, *, now: datetime) -> None:
    """The owner answered (or closed) the complaint: the first answer of the handover stops its clock."""
    assert complaint.id is not None
    current = await assignments.current_assignment(session, complaint_id=complaint.id)
    if current is None or current.answered_at is not None:
        return  # later answers do not move the first-answer time
    current.answered_at = now
    current.answer_seconds = max(0.0, (now - current.started_at).total_seconds())
    current.verdict = answer_verdict(due_at=current.due_at, answered_at=now)
    session.add(current)


async def end_current(session: AsyncSession, complaint: Complaint, *, now: datetime, reason: str) -> Assignment | None:
    """The ticket leaves its owner (rerouted, handed back, rejected): that owner's clock stops for good."""
    assert complaint.id is not None
    current = await assignments.current_assignment(session, complaint_id=complaint.id)
    if current is None:
        return None
    current.ended_at = now
    current.end_reason = reason
    if current.verdict is None:
        current.verdict = end_verdict(due_at=current.due_at, ended_at=now)
    session.add(current)
    return current


async def hand_over(session: AsyncSession, complaint: Complaint, *, now: datetime, reason: str) -> None:
    """The complaint moves to complaint.opd_code (None: humas) with complaint.due_at as its deadline."""
    assert complaint.id is not None
    await end_current(session, complaint, now=now, reason=reason)
    await session.flush()
    await assignments.start_assignment(
        session,
        complaint_id=complaint.id,
        owner=complaint.opd_code,
        complaint_created_at=complaint.created_at,
        now=now,
        due_at=complaint.due_at,
    )

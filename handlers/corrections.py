"""Every correction of a complaint's route is kept as a labelled example (issue 14).

Humas's reroute (/pindah, a triage button), an agency's refusal (/bukan) and humas's rejection of a
complaint an agency had been given (/tolak) say where the classifier was wrong; `ehumas routing
review` turns them into the month's figures and suggested lexicon words. Call these before the
complaint's agency changes: the first correction records what the classifier said.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.desk import HUMAS, Desk
from storage import corrections
from storage.models import Complaint, CorrectionKind


async def record_reroute(session: AsyncSession, desk: Desk, complaint: Complaint, *, code: str, actor: str) -> None:
    """Humas sends the complaint to `code`: that is where it belongs."""
    assert complaint.id is not None
    earlier = await corrections.correction_of(session, complaint_id=complaint.id)
    said = earlier.said_opd if earlier is not None else complaint.opd_code
    kind = CorrectionKind.ROUTED if said is None else CorrectionKind.REROUTED
    await corrections.record_correction(
        session, complaint=complaint, kind=kind, truth_opd=code, actor=actor, now=desk.now()
    )


async def record_refusal(session: AsyncSession, desk: Desk, complaint: Complaint, *, owner: str, actor: str) -> None:
    """An agency says the complaint is not theirs; where it belongs is known once humas routes it."""
    if owner == HUMAS:
        return
    await corrections.record_correction(
        session,
        complaint=complaint,
        kind=CorrectionKind.DISOWNED,
        truth_opd=None,
        actor=actor,
        now=desk.now(),
        refused_by=owner,
    )


async def record_rejection(session: AsyncSession, desk: Desk, complaint: Complaint, *, actor: str) -> None:
    """Humas rejects the complaint: no agency's. Kept only if an agency had been given it."""
    assert complaint.id is not None
    earlier = await corrections.correction_of(session, complaint_id=complaint.id)
    if earlier is None and complaint.opd_code is None:
        return  # the classifier left it with humas, and rightly so
    await corrections.record_correction(
        session, complaint=complaint, kind=CorrectionKind.REJECTED, truth_opd=None, actor=actor, now=desk.now()
    )

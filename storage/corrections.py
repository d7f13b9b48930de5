"""Routing corrections: complaints whose route people corrected, kept as labelled examples."""

from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.complaints import OPEN_STATES
from storage.models import Complaint, CorrectionKind, RoutingCorrection


async def correction_of(session: AsyncSession, *, complaint_id: int) -> RoutingCorrection | None:
    """The correction kept for a complaint, if any."""
    statement = select(RoutingCorrection).where(RoutingCorrection.complaint_id == complaint_id)
    return (await session.exec(statement)).first()


async def record_correction(
    session: AsyncSession,
    *,
    complaint: Complaint,
    kind: CorrectionKind,
    truth_opd: str | None,
    actor: str,
    now: datetime,
    refused_by: str | None = None,
) -> RoutingCorrection:
    """Keep a correction of a complaint's route; call it before changing the complaint's agency.

    The first correction of a complaint records what the classifier said (the complaint's agency
    at that moment: nothing but corrections changes it). Later ones update where it belongs.
    """
    assert complaint.id is not None
    row = await correction_of(session, complaint_id=complaint.id)
    if row is None:
        row = RoutingCorrection(
            complaint_id=complaint.id,
            text=complaint.description,
            said_opd=complaint.opd_code,
            said_confidence=complaint.confidence,
            kind=kind.value,
            created_at=now,
        )
    row.kind = kind.value
    row.truth_opd = truth_opd
    row.refused_by = row.refused_by or refused_by
    row.actor = actor[:200]
    row.updated_at = now
    session.add(row)
    return row


async def corrections_since(session: AsyncSession, *, since: datetime | None) -> list[RoutingCorrection]:
    """Corrections of complaints filed since a moment (all when None), oldest complaint first."""
    statement = select(RoutingCorrection).join(Complaint, col(Complaint.id) == col(RoutingCorrection.complaint_id))
    if since is not None:
        statement = statement.where(col(Complaint.created_at) >= since)
    statement = statement.order_by(col(RoutingCorrection.complaint_id))
    return list((await session.exec(statement)).all())


async def filing_counts(session: AsyncSession, *, since: datetime | None) -> tuple[int, int]:
    """Complaints filed since a moment: all of them, and those still open with humas, never routed."""
    total = select(func.count()).select_from(Complaint)
    waiting = (
        select(func.count())
        .select_from(Complaint)
        .outerjoin(RoutingCorrection, col(RoutingCorrection.complaint_id) == col(Complaint.id))
        .where(
            col(Complaint.opd_code).is_(None),
            col(Complaint.status).in_(OPEN_STATES),
            col(RoutingCorrection.id).is_(None),
        )
    )
    if since is not None:
        total = total.where(col(Complaint.created_at) >= since)
        waiting = waiting.where(col(Complaint.created_at) >= since)
    return int((await session.exec(total)).one()), int((await session.exec(waiting)).one())

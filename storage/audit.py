"""The audit log of admin and agency actions."""

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditLog


async def log_action(
    session: AsyncSession, *, actor: str, action: str, target: str = "", detail: str = "", now: datetime
) -> AuditLog:
    """Record who did what to which target."""
    entry = AuditLog(at=now, actor=actor[:200], action=action[:32], target=target[:64], detail=detail)
    session.add(entry)
    return entry


async def recent_actions(session: AsyncSession, *, limit: int = 50) -> list[AuditLog]:
    """The newest audit entries first."""
    statement = select(AuditLog).order_by(col(AuditLog.id).desc()).limit(limit)
    return list((await session.exec(statement)).all())

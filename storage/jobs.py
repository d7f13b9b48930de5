"""Periodic jobs that run once per period across every bot process (the daily retention purge)."""

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import JobRun


async def claim_run(session: AsyncSession, *, name: str, now: datetime, every: timedelta) -> bool:
    """Take this period's run of a job: True for the one caller that gets it, until `every` has passed.

    Like the deadline sweep's claims, one UPDATE ... RETURNING: a second process waits on the row,
    then finds it marked.
    """
    table = SQLModel.metadata.tables[JobRun.__tablename__]
    c = table.c
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    await session.exec(
        insert(table).values(name=name, last_run_at=None).on_conflict_do_nothing(index_elements=["name"])
    )
    result = await session.exec(
        update(table)
        .where(c.name == name, or_(c.last_run_at.is_(None), c.last_run_at <= now - every))
        .values(last_run_at=now)
        .returning(c.name)
    )
    return result.scalar_one_or_none() is not None

"""Agencies (OPD) in the database, kept in step with the settings."""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.locks import hold_startup_lock
from storage.models import Agency


@dataclass(frozen=True)
class AgencyConfig:
    """What the settings say about one agency."""

    code: str
    name: str
    telegram_chat_id: int


async def sync_agencies(session: AsyncSession, *, agencies: Iterable[AgencyConfig]) -> None:
    """Make the agency table match the configured agencies; removed ones become inactive."""
    await hold_startup_lock(session)
    wanted = {agency.code: agency for agency in agencies}
    existing = {row.code: row for row in (await session.exec(select(Agency))).all()}
    for code, row in existing.items():
        if code not in wanted:
            row.active = False
            session.add(row)
    for code, config in wanted.items():
        row = existing.get(code) or Agency(code=code, name=config.name, telegram_chat_id=0)
        row.name = config.name
        row.telegram_chat_id = config.telegram_chat_id
        row.active = True
        session.add(row)
    await session.flush()


async def list_agencies(session: AsyncSession, *, active_only: bool = True) -> list[Agency]:
    """All agencies, by code."""
    statement = select(Agency).order_by(col(Agency.code))
    if active_only:
        statement = statement.where(col(Agency.active))
    return list((await session.exec(statement)).all())

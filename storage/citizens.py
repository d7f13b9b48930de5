"""Citizens: one row per (messenger, address)."""

from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Citizen, table_of
from storage.upsert import insert_ignore


async def touch_citizen(
    session: AsyncSession, *, channel: str, address: str, display_name: str, now: datetime, handle: str = ""
) -> Citizen:
    """The citizen writing from this address (created on first contact), marked as just heard from."""
    await insert_ignore(
        session,
        table=table_of(Citizen),
        values={
            "channel": channel,
            "address": address,
            "display_name": display_name[:200],
            "reachable": True,
            "created_at": now,
        },
        conflict=["channel", "address"],
    )
    statement = select(Citizen).where(col(Citizen.channel) == channel, col(Citizen.address) == address)
    citizen = (await session.exec(statement)).one()
    citizen.last_inbound_at = now
    # Writing again means they can be reached again (e.g. they unblocked the bot).
    citizen.reachable = True
    if display_name:
        citizen.display_name = display_name[:200]
    # A handle can be removed by its owner: the messenger's current value is the truth.
    citizen.handle = handle[:64]
    session.add(citizen)
    return citizen


async def find_citizen(session: AsyncSession, *, channel: str, address: str, lock: bool = False) -> Citizen | None:
    """The citizen at this address, if known; `lock` holds the row until commit (PostgreSQL)."""
    statement = select(Citizen).where(col(Citizen.channel) == channel, col(Citizen.address) == address)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return (await session.exec(statement)).first()


async def mark_unreachable(session: AsyncSession, *, channel: str, address: str) -> None:
    """Remember that this citizen cannot be messaged (blocked the bot, opted out)."""
    citizen = await find_citizen(session, channel=channel, address=address)
    if citizen is not None:
        citizen.reachable = False
        session.add(citizen)


async def load_citizens(session: AsyncSession, *, ids: set[int]) -> list[Citizen]:
    """The citizens with these ids, in one query."""
    if not ids:
        return []
    return list((await session.exec(select(Citizen).where(col(Citizen.id).in_(sorted(ids))))).all())


async def created_since(
    session: AsyncSession, *, channel: str, address_prefix: str, since: datetime
) -> tuple[int, datetime | None]:
    """How many citizens of a channel whose address starts with a prefix were created since a moment, and the first."""
    statement = select(func.count(), func.min(col(Citizen.created_at))).where(
        col(Citizen.channel) == channel,
        col(Citizen.address).startswith(address_prefix, autoescape=True),
        col(Citizen.created_at) >= since,
    )
    count, first = (await session.exec(statement)).one()
    return int(count), first

"""Citizens: one row per (messenger, address)."""

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Citizen, table_of


def _touch_statement() -> Any:
    """touch_citizen's one statement: insert or update the row, and read it back (built once).

    An ORM FromStatement (rows come back as Citizen objects); SQLModel's exec() overloads do not
    name that type, hence Any.
    """
    table = table_of(Citizen)
    columns = ("channel", "address", "display_name", "handle", "reachable", "last_inbound_at", "created_at")
    names = ", ".join(columns)
    values = ", ".join(f":{name}" for name in columns)
    returned = ", ".join(column.name for column in table.c)
    statement = (
        text(
            f"INSERT INTO {table.name} ({names}) VALUES ({values}) "
            "ON CONFLICT (channel, address) DO UPDATE SET "
            "last_inbound_at = excluded.last_inbound_at, reachable = excluded.reachable, handle = excluded.handle, "
            # A message without a name keeps the name we had.
            f"display_name = CASE WHEN excluded.display_name = '' THEN {table.name}.display_name "
            "ELSE excluded.display_name END "
            f"RETURNING {returned}"
        )
        .bindparams(*(bindparam(name, type_=table.c[name].type) for name in columns))
        .columns(*table.c)
    )
    return select(Citizen).from_statement(statement)


_TOUCH = _touch_statement()


async def touch_citizen(
    session: AsyncSession, *, channel: str, address: str, display_name: str, now: datetime, handle: str = ""
) -> Citizen:
    """The citizen writing from this address (created on first contact), marked as just heard from.

    Writing again means they can be reached again (e.g. they unblocked the bot); a handle can be
    removed by its owner, so the messenger's current value is the truth. One statement, on both
    backends: it was an insert, a select and an update.
    """
    params = {
        "channel": channel,
        "address": address,
        "display_name": display_name[:200],
        "handle": handle[:64],
        "reachable": True,
        "last_inbound_at": now,
        "created_at": now,
    }
    # populate_existing: a citizen the session already holds takes the row as it now is.
    result = await session.exec(_TOUCH, params=params, execution_options={"populate_existing": True})
    citizen: Citizen = result.scalar_one()
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

"""One database-wide lock for start-up work that several bot processes must not do at once."""

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel.ext.asyncio.session import AsyncSession

# Any fixed 64-bit number works; this one spells "EHUMAS" so it is recognisable in pg_locks.
STARTUP_LOCK_KEY = 0x4548554D4153
_TAKE = text(f"SELECT pg_advisory_xact_lock({STARTUP_LOCK_KEY})")


async def hold_startup_lock(session: AsyncSession) -> None:
    """Wait for, then hold until the transaction ends, the start-up lock (PostgreSQL only)."""
    # N workers started together would each read the agency table, see it empty and insert the same
    # rows: all but one die on the unique key. SQLite serves one process and serialises writers itself.
    if session.bind.dialect.name == "postgresql":
        await (await session.connection()).execute(_TAKE)


def hold_startup_lock_sync(connection: Connection) -> None:
    """The same lock on a plain connection (Alembic's); held until its transaction ends."""
    if connection.dialect.name == "postgresql":
        connection.execute(_TAKE)

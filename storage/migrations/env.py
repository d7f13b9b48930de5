"""Alembic environment: runs migrations on the async engine of the configured URL."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.engine import create_engine
from storage.locks import hold_startup_lock_sync

target_metadata = SQLModel.metadata


def _run(connection: Connection) -> None:
    """Run the migrations on one connection."""
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode rebuilds a SQLite table by copying it, dropping it and renaming the copy; with
        # foreign keys enforced, dropping a table that other rows refer to fails (a downgrade of a
        # desk that has complaints). The pragma works only outside a transaction, so it comes first;
        # PRAGMA foreign_key_check below gives the guarantee back before the commit.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        # Python's sqlite3 opens a transaction only before a change of data, so a migration's DDL
        # would be committed statement by statement and a failure leave it half done. An explicit
        # BEGIN makes the migrations one transaction, as on PostgreSQL (IMMEDIATE: the write lock
        # at once, so a second process waits here rather than failing halfway).
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    # Workers started together would each create the tables; the first migrates, the rest wait and
    # then find the schema at head. Taking the lock opens the transaction the migrations then run in
    # (Alembic sees it as the caller's and leaves the commit to _run_online).
    hold_startup_lock_sync(connection)
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode rebuilds tables when needed.
        render_as_batch=sqlite,
        compare_type=True,
    )
    migrations = context.get_context()
    before = migrations.get_current_heads()
    with context.begin_transaction():
        context.run_migrations()
    # Only when a migration ran: at a start with nothing to do, a desk's every row is not read again.
    if sqlite and migrations.get_current_heads() != before:
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            # Raised inside the transaction: _run_online does not commit, nothing of it is kept.
            raise RuntimeError(
                f"the migrations would leave rows that refer to no row (table, rowid, ...): {broken[:5]}"
            )


async def _run_online() -> None:
    """Connect with the async engine and migrate."""
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())

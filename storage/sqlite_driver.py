"""aiosqlite with one trip to its thread per statement.

aiosqlite runs the sqlite3 connection in a thread of its own; every call crosses to that thread
and back (a queue, a wake-up, the GIL, a callback into the event loop). SQLAlchemy's aiosqlite
adapter makes four such calls per statement: open a cursor, execute, fetch the rows, close the
cursor. Each crossing costs the process far more CPU than SQLite's own work on the desk's small
statements (about 0.2 ms of 0.4 ms per statement, measured on the 2-core VM; a first message of a
citizen takes some 20 statements). Here the cursor does all four in one function on the thread:
the rows come back with the execute, and fetching or closing costs nothing more.

Everything else is aiosqlite's own (the thread, the queue, commit, rollback, close), and so is
the sqlite3 connection SQLAlchemy's adapter sees: transactions and errors behave as before.
Server-side cursors, which SQLAlchemy would fetch from in chunks, are not used in this project;
one would still work, with its rows fetched at once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import aiosqlite

_Description = tuple[tuple[str, None, None, None, None, None, None], ...] | None
_Outcome = tuple[_Description, list[Any], int | None, int]


def _run(connection: sqlite3.Connection, sql: str, parameters: Iterable[Any], *, many: bool) -> _Outcome:
    """On the connection's thread: execute, fetch every row, close; what the cursor then knew."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)  # type: ignore[arg-type]
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


class OneTripCursor:
    """The part of aiosqlite's Cursor SQLAlchemy's adapter uses, one thread crossing per statement."""

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self.description: _Description = None
        self.lastrowid: int | None = None
        self.rowcount = -1
        self.arraysize = 1
        self._rows: list[Any] = []

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> OneTripCursor:
        """Run a statement; its rows, if any, are fetched in the same crossing."""
        await self._run(sql, () if parameters is None else parameters, many=False)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> OneTripCursor:
        """Run a statement once per set of parameters."""
        await self._run(sql, parameters, many=True)
        return self

    async def _run(self, sql: str, parameters: Iterable[Any], *, many: bool) -> None:
        outcome: _Outcome = await self._connection.on_thread(
            partial(_run, self._connection.sqlite, sql, parameters, many=many)
        )
        self.description, self._rows, self.lastrowid, self.rowcount = outcome

    async def fetchone(self) -> Any | None:
        """The next row, or None."""
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        """Up to `size` (by default arraysize) more rows."""
        n = self.arraysize if size is None else size
        rows, self._rows = self._rows[:n], self._rows[n:]
        return rows

    async def fetchall(self) -> Sequence[Any]:
        """The remaining rows."""
        rows, self._rows = self._rows, []
        return rows

    async def close(self) -> None:
        """Nothing is left open on the thread: drop the rows not fetched."""
        self._rows = []


class OneTripConnection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors run each statement in one trip to its thread."""

    async def cursor(self) -> OneTripCursor:  # type: ignore[override]
        """A cursor; opening it takes no trip (the statement's trip opens and closes one)."""
        return OneTripCursor(self)

    async def commit(self) -> None:
        """Commit; without a transaction open there is nothing to commit and no trip is taken."""
        if self._in_transaction():
            await super().commit()

    async def rollback(self) -> None:
        """Roll back; without a transaction open there is nothing to undo and no trip is taken.

        SQLAlchemy's pool rolls back every connection it gets back (after each session), and a
        session that only read, or has just committed, leaves no transaction open: that trip was one
        of the most frequent.
        """
        if self._in_transaction():
            await super().rollback()

    def _in_transaction(self) -> bool:
        # sqlite3's own commit() and rollback() do nothing unless this is true. Read here, off the
        # thread: nothing runs on the connection meanwhile (its user awaits each call), and sqlite3
        # answers it from any thread. A connection not open yet, or closed, goes the usual way.
        connection = self._connection
        return connection is None or connection.in_transaction

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The sqlite3 connection (used on the thread only)."""
        connection: sqlite3.Connection = self._conn
        return connection

    async def on_thread(self, function: partial[Any]) -> Any:
        """Run a function on the connection's thread; its result."""
        return await self._execute(function)  # type: ignore[no-untyped-call]


def connect(database: str | Path, *, iter_chunk_size: int = 64, **kwargs: Any) -> OneTripConnection:
    """Like aiosqlite.connect (the same arguments reach sqlite3.connect), with one-trip cursors."""
    location = str(database)

    def connector() -> sqlite3.Connection:
        # SQLAlchemy may pass a `factory` (a subclass of sqlite3.Connection), hence the annotation.
        connection: sqlite3.Connection = sqlite3.connect(location, **kwargs)
        return connection

    connection = OneTripConnection(connector, iter_chunk_size)
    # As SQLAlchemy does for the connections it makes itself: a forgotten connection must not keep
    # the process alive at exit.
    connection._thread.daemon = True
    return connection

"""Async engine and session factory for SQLite (embedded) and PostgreSQL (several workers)."""

import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import sqlite_driver

# How long SQLite waits for another writer before giving up ("database is locked").
SQLITE_BUSY_TIMEOUT_MS = 5000


def _sqlite_pragmas(
    busy_timeout_ms: int, *, checkpoint_elsewhere: bool = False
) -> Callable[[DBAPIConnection, ConnectionPoolEntry], None]:
    """A connect hook turning on WAL, foreign keys and a busy timeout on every new SQLite connection."""

    def on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            # WAL + NORMAL is durable across process crashes (only an OS crash may lose the
            # last transactions) and much faster than FULL.
            cursor.execute("PRAGMA synchronous=NORMAL")
            if checkpoint_elsewhere:
                # A checkpoint copies the WAL into the database file and syncs it: tens of ms on a
                # plain disk, paid by whichever commit crosses 1000 pages. On the process's one
                # connection that stalls every webhook and reply behind it; a SqliteCheckpointer
                # does it on a connection of its own instead (WAL lets it run beside the writer).
                cursor.execute("PRAGMA wal_autocheckpoint=0")
        finally:
            cursor.close()

    return on_connect


def _one_trip_connect(
    dialect: Dialect, _record: ConnectionPoolEntry, cargs: list[Any], cparams: dict[str, Any]
) -> DBAPIConnection:
    """Connect with the URL's own arguments, through storage.sqlite_driver (one thread trip per statement)."""
    connection: DBAPIConnection = dialect.loaded_dbapi.connect(
        *cargs, async_creator_fn=sqlite_driver.connect, **cparams
    )
    return connection


def is_sqlite(url: str) -> bool:
    """Whether a database URL points at SQLite."""
    return url.startswith("sqlite")


def create_engine(
    url: str,
    *,
    echo: bool = False,
    sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
    sqlite_checkpoint_elsewhere: bool = False,
) -> AsyncEngine:
    """Build the async engine for a database URL, with the settings each backend needs.

    `sqlite_checkpoint_elsewhere`: its commits never checkpoint the WAL; the caller runs a
    SqliteCheckpointer (without one the WAL would grow until the last connection closes).
    """
    kwargs: dict[str, Any] = {"echo": echo}
    if is_sqlite(url):
        kwargs["connect_args"] = {"timeout": sqlite_busy_timeout_ms / 1000}
        # SQLite has one writer at a time. Several connections in one process would queue for it in
        # SQLite's busy handler, which sleeps and polls (milliseconds each time, growing): under load
        # that is most of a webhook's latency. One connection per process makes them queue in the
        # pool instead, first come first served, woken the moment it is free. A caller waiting
        # longer than the busy timeout gets an error (the webhook answers 503).
        kwargs.update(pool_size=1, max_overflow=0, pool_timeout=max(sqlite_busy_timeout_ms / 1000, 0.001))
    else:
        kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
    engine = create_async_engine(url, **kwargs)
    if is_sqlite(url):
        event.listen(engine.sync_engine, "do_connect", _one_trip_connect)
        event.listen(
            engine.sync_engine,
            "connect",
            _sqlite_pragmas(sqlite_busy_timeout_ms, checkpoint_elsewhere=sqlite_checkpoint_elsewhere),
        )
    return engine


class SqliteCheckpointer:
    """Checkpoints a SQLite database's WAL on a connection of its own (blocking: run it in a thread)."""

    def __init__(self, url: str, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> None:
        self._path = make_url(url).database or ""
        self._timeout = busy_timeout_ms / 1000
        self._connection: sqlite3.Connection | None = None
        # A cancelled await does not stop the thread that runs a checkpoint: close() waits for it
        # here rather than closing the connection under its feet (that crashes the process).
        self._lock = threading.Lock()
        self.checkpoints = 0
        self.closed = False

    def checkpoint(self) -> tuple[int, int]:
        """Copy what the WAL holds into the database (PASSIVE: waits for no reader or writer).

        Returns the WAL's frames and how many of them are now in the database file ((0, 0) once closed).
        """
        with self._lock:
            if self.closed:
                return 0, 0
            if self._connection is None:
                self._connection = sqlite3.connect(
                    self._path, timeout=self._timeout, isolation_level=None, check_same_thread=False
                )
            frames, done = self._run(self._connection)
            self.checkpoints += 1
            return frames, done

    def _run(self, connection: sqlite3.Connection) -> tuple[int, int]:
        """One PASSIVE checkpoint: the WAL's frames, and how many are in the database file now."""
        _busy, frames, done = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(frames), int(done)

    def close(self) -> None:
        """Close the checkpointer's connection, after a checkpoint under way in another thread."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
            self.closed = True


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """A factory of sessions whose objects stay usable after commit."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


# PostgreSQL SQLSTATEs that mean "the server cannot serve you right now": connection exceptions
# (class 08), the server shutting down or starting up or the session terminated by an operator
# (57P01-57P03), too many connections (53300).
_PG_UNAVAILABLE_CLASSES = ("08",)
_PG_UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})


def _pg_unavailable(exc: BaseException) -> bool:
    """A PostgreSQL (asyncpg) error that says the database is out of reach, not that a query is wrong."""
    state = getattr(exc, "sqlstate", None)
    if not isinstance(state, str):
        return False
    if state.startswith(_PG_UNAVAILABLE_CLASSES) or state in _PG_UNAVAILABLE_STATES:
        return True
    # 55000 at connect time: the database was closed to connections (ALLOW_CONNECTIONS false).
    return state == "55000" and "not currently accepting connections" in str(exc)


def is_unavailable(exc: BaseException) -> bool:
    """Whether an error means the database is unreachable or busy (try later), not a bug."""
    seen: set[int] = set()
    current: BaseException | None = exc
    # asyncpg's own errors may arrive unwrapped (raised while the pool connects) or wrapped.
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        # PoolTimeout: every connection busy for longer than the pool waits (SQLite: the busy timeout).
        if isinstance(current, (OperationalError, InterfaceError, OSError, ConnectionError, TimeoutError, PoolTimeout)):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if _pg_unavailable(current):
            return True
        current = getattr(current, "orig", None) or current.__cause__
    return False

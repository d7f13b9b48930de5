"""Shared fixtures: a fresh, migrated database per test, on SQLite and (if configured) PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.standins.telegram_api import TelegramStandIn
from bot.standins.twilio_api import TwilioStandIn
from storage.engine import create_engine, create_session_factory
from storage.migrate import upgrade_async

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


async def _admin_connection(url: str) -> asyncpg.Connection:
    """A plain asyncpg connection to the server of a SQLAlchemy PostgreSQL URL."""
    parsed = make_url(url)
    return await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database=parsed.database or "postgres",
    )


async def fresh_database_url(backend: str, tmp_path: Path) -> tuple[str, str | None]:
    """A URL to a new empty database; the second value names a PostgreSQL database to drop."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'ehumas-test.db'}", None
    base = os.environ["TEST_DATABASE_URL"]
    name = f"ehumas_t_{uuid.uuid4().hex[:16]}"
    conn = await _admin_connection(base)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = make_url(base).set(drivername="postgresql+asyncpg", database=name)
    return url.render_as_string(hide_password=False), name


async def drop_database(name: str) -> None:
    """Drop a test database made by fresh_database_url."""
    conn = await _admin_connection(os.environ["TEST_DATABASE_URL"])
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


class MigratedTemplates:
    """One migrated database per backend, made on first use; each test gets a copy of it.

    Running every migration for each of several hundred tests cost most of the suite's time on
    PostgreSQL; copying a migrated database (CREATE DATABASE ... TEMPLATE, SQLite's backup API)
    gives each test the same fresh schema in a fraction of it.
    """

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._sqlite: Path | None = None
        self._postgresql: str | None = None

    async def sqlite_copy(self, target: Path) -> str:
        """A URL to a new SQLite file at `target` holding the migrated schema."""
        if self._sqlite is None:
            template = self._folder / "template.db"
            await upgrade_async(f"sqlite+aiosqlite:///{template}")
            self._sqlite = template
        with sqlite3.connect(self._sqlite) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        return f"sqlite+aiosqlite:///{target}"

    async def postgresql_copy(self) -> tuple[str, str]:
        """A URL to a new PostgreSQL database holding the migrated schema, and its name."""
        if self._postgresql is None:
            url, name = await fresh_database_url("postgresql", self._folder)
            await upgrade_async(url)
            self._postgresql = name
        name = f"ehumas_t_{uuid.uuid4().hex[:16]}"
        conn = await _admin_connection(os.environ["TEST_DATABASE_URL"])
        try:
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._postgresql}"')
        finally:
            await conn.close()
        copy = make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql+asyncpg", database=name)
        return copy.render_as_string(hide_password=False), name

    def drop(self) -> None:
        """Drop the PostgreSQL template (the SQLite one goes with pytest's temporary folder)."""
        if self._postgresql is not None:
            asyncio.run(drop_database(self._postgresql))


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedTemplates]:
    """The migrated databases the tests' databases are copied from."""
    templates = MigratedTemplates(tmp_path_factory.mktemp("templates"))
    yield templates
    templates.drop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend under test."""
    return str(request.param)


@pytest.fixture
async def empty_database_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A new, empty database (no schema) on each backend under test."""
    url, name = await fresh_database_url(backend, tmp_path)
    yield url
    if name:
        await drop_database(name)


@pytest.fixture
async def database_url(backend: str, tmp_path: Path, migrated_templates: MigratedTemplates) -> AsyncIterator[str]:
    """A new database with the schema created by the migrations (a copy of a migrated one)."""
    if backend == "sqlite":
        yield await migrated_templates.sqlite_copy(tmp_path / "ehumas-test.db")
        return
    url, name = await migrated_templates.postgresql_copy()
    yield url
    await drop_database(name)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The async engine of a fresh, migrated database."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """The session factory of a fresh, migrated database."""
    return create_session_factory(engine)


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramStandIn]:
    """A Bot API stand-in on a free local port (a test module may override it, e.g. with limits)."""
    async with TelegramStandIn() as standin:
        yield standin


@pytest.fixture
async def twilio() -> AsyncIterator[TwilioStandIn]:
    """A Twilio Messages API stand-in on a free local port."""
    async with TwilioStandIn() as standin:
        yield standin

"""Shared fixtures: a fresh, migrated database per test, on SQLite and (if configured) PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
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


@pytest.fixture(params=BACKENDS)
async def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A new, empty database (no schema) on each backend under test."""
    url, name = await fresh_database_url(request.param, tmp_path)
    yield url
    if name:
        await drop_database(name)


@pytest.fixture
async def database_url(empty_database_url: str) -> str:
    """A new database with the schema created by the migrations."""
    await upgrade_async(empty_database_url)
    return empty_database_url


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

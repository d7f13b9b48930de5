"""Going back a release: `ehumas db downgrade` on a desk with complaints, migrations all or nothing, and a
schema newer than the code said plainly (the CLI, start-up and /readyz), on each backend."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.standins.telegram_api import TelegramStandIn
from storage.engine import create_engine
from storage.migrate import SchemaError, current_head, schema_revision, upgrade_async
from tests.harness import example_data, running_bot, settings_for
from tests.test_config import _dump

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
# The release before the duplicates work: going back to it rebuilds `complaint` on SQLite (its
# downgrade drops three columns), while other tables' rows refer to the complaints.
EARLIER = "0011"


def _ehumas(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "bot", "db", *args, "--config", str(config)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


def _config(url: str, tmp_path: Path) -> Path:
    data = example_data()
    data["database"]["url"] = url
    path = tmp_path / "config.toml"
    path.write_text(_dump(data), encoding="utf-8")
    return path


async def _run(url: str, *statements: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(text(statement), {"at": T0})
    finally:
        await engine.dispose()


async def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return {
                table: int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())
                for table in ("citizen", "complaint", "complaint_event", "complaint_message")
            }
    finally:
        await engine.dispose()


async def _columns(engine: AsyncEngine, table: str) -> set[str]:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda sync: {column["name"] for column in inspect(sync).get_columns(table)})


_A_DESK = (
    "INSERT INTO citizen (id, channel, address, display_name, reachable, created_at) "
    "VALUES (1, 'telegram', '42', 'Budi', true, :at)",
    "INSERT INTO complaint (id, citizen_id, description, media, status, confidence, reroute_count, created_at, due_at) "
    "VALUES (1, 1, 'sampah menumpuk', '[]', 'open', 0.9, 0, :at, :at)",
    "INSERT INTO complaint_event (complaint_id, at, kind, actor, detail) VALUES (1, :at, 'filed', 'warga', '')",
    "INSERT INTO complaint_message (complaint_id, at, direction, author, author_label, text) "
    "VALUES (1, :at, 'in', 'citizen', 'Budi', 'sampah menumpuk')",
    "INSERT INTO complaint_follower (complaint_id, citizen_id, channel, chat_id, joined_at, source) "
    "VALUES (1, 1, 'telegram', '42', :at, 'text')",
)


async def test_a_desk_with_complaints_goes_back_a_release_and_forward_again_keeping_them(
    empty_database_url: str, tmp_path: Path
) -> None:
    url = empty_database_url
    await upgrade_async(url)
    await _run(url, *_A_DESK)
    before = await _counts(url)
    config = _config(url, tmp_path)

    # Without --yes it only says what would be undone.
    asked = await asyncio.to_thread(_ehumas, config, "downgrade", EARLIER)
    assert asked.returncode == 0, asked.stderr
    assert "0012" in asked.stdout and "duplicates" in asked.stdout and "--yes" in asked.stdout
    assert await asyncio.to_thread(schema_revision, url) == current_head()

    done = await asyncio.to_thread(_ehumas, config, "downgrade", EARLIER, "--yes")
    assert done.returncode == 0, done.stderr
    assert f"revision {EARLIER} now" in done.stdout
    assert await asyncio.to_thread(schema_revision, url) == EARLIER
    assert await _counts(url) == before
    engine = create_engine(url)
    try:
        assert "merged_into" not in await _columns(engine, "complaint")
    finally:
        await engine.dispose()

    up = await asyncio.to_thread(_ehumas, config, "upgrade")
    assert up.returncode == 0 and f"revision {current_head()}" in up.stdout, up.stderr
    assert await _counts(url) == before


async def test_a_migration_that_fails_halfway_leaves_the_schema_as_it_was(empty_database_url: str) -> None:
    url = empty_database_url
    await upgrade_async(url, EARLIER)
    # 0012 first adds columns to `complaint`, then creates `complaint_follower`: make that step fail.
    await _run(url, "CREATE TABLE complaint_follower (id INTEGER PRIMARY KEY)")
    with pytest.raises(Exception, match="complaint_follower"):
        await upgrade_async(url)
    assert await asyncio.to_thread(schema_revision, url) == EARLIER
    engine = create_engine(url)
    try:
        assert "merged_into" not in await _columns(engine, "complaint")  # not half of 0012
    finally:
        await engine.dispose()


async def test_going_back_to_a_revision_that_is_not_below_is_refused_plainly(
    empty_database_url: str, tmp_path: Path
) -> None:
    url = empty_database_url
    await upgrade_async(url, EARLIER)
    config = _config(url, tmp_path)
    unknown = await asyncio.to_thread(_ehumas, config, "downgrade", "0099", "--yes")
    assert unknown.returncode == 2 and "no migration '0099'" in unknown.stderr
    above = await asyncio.to_thread(_ehumas, config, "downgrade", current_head(), "--yes")
    assert above.returncode == 2 and "not below" in above.stderr
    assert await asyncio.to_thread(schema_revision, url) == EARLIER


async def test_a_schema_newer_than_the_code_is_named_at_start_and_by_readyz(
    database_url: str, tmp_path: Path, telegram: TelegramStandIn
) -> None:
    async with running_bot(settings_for(database_url, telegram), telegram) as world:
        ready = await world.http.get(world.url + "/readyz")
        assert ready.status_code == 200 and ready.json()["migrations"] == "ok"
        # A newer release migrated the database, then this one was put back without going back first.
        await _run(database_url, "UPDATE alembic_version SET version_num = '0099'")
        ahead = await world.http.get(world.url + "/readyz")
        assert ahead.status_code == 503 and ahead.json()["migrations"] == "ahead"
    with pytest.raises(SchemaError, match="newer release"):
        await upgrade_async(database_url)
    started = await asyncio.to_thread(_ehumas, _config(database_url, tmp_path), "upgrade")
    assert started.returncode == 1 and "0099" in started.stderr and "ehumas db downgrade" in started.stderr


async def test_sqlite_migrations_never_commit_rows_that_refer_to_nothing(tmp_path: Path) -> None:
    # SQLite only: PostgreSQL enforces the foreign keys during migrations itself.
    path = tmp_path / "desk.db"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_async(url)
    await _run(url, *_A_DESK)
    # An event of a complaint that does not exist, written past the foreign keys (an old bug, a hand edit).
    with sqlite3.connect(path) as raw:
        raw.execute("INSERT INTO complaint_event (complaint_id, at, kind, actor, detail) VALUES (99, '', 'x', '', '')")
    gone = await asyncio.to_thread(_ehumas, _config(url, tmp_path), "downgrade", EARLIER, "--yes")
    assert gone.returncode == 1 and "refer to no row" in gone.stderr and "complaint_event" in gone.stderr
    assert await asyncio.to_thread(schema_revision, url) == current_head()  # nothing of it kept

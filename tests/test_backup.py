"""`ehumas backup` of a desk that keeps writing: the copy restores, opens, and holds all it had acknowledged."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from bot.backup import pg_environment
from bot.cli import main
from bot.standins.telegram_api import TelegramStandIn
from storage.engine import create_engine, create_session_factory
from storage.migrate import current_head
from storage.models import Complaint, InboxEvent
from storage.tickets import parse_ticket
from tests.conftest import drop_database
from tests.harness import User, World, running_bot, settings_for
from tests.procs import process_config, toml_dumps
from tests.test_e2e_telegram import file_complaint


async def _restore(dump: Path, database_url: str, tmp_path: Path) -> tuple[str, str | None]:
    """A new database from the copy, the way the README says to restore; its URL and the database to drop."""
    if database_url.startswith("sqlite"):
        restored = tmp_path / "restored.db"
        shutil.copyfile(dump, restored)
        return f"sqlite+aiosqlite:///{restored}", None
    name = f"ehumas_r_{uuid.uuid4().hex[:12]}"
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    args, env = pg_environment(database_url)
    await asyncio.to_thread(subprocess.run, ["createdb", *args[:-2], name], env=env, check=True, capture_output=True)
    restore_args, _ = pg_environment(url)
    await asyncio.to_thread(
        subprocess.run, ["pg_restore", "--no-owner", *restore_args, str(dump)], env=env, check=True, capture_output=True
    )
    return url, name


async def test_a_backup_taken_under_load_restores_with_everything_acknowledged(
    database_url: str, telegram: TelegramStandIn, tmp_path: Path
) -> None:
    if not database_url.startswith("sqlite") and shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed (Debian: postgresql-client)")
    settings = settings_for(database_url, telegram)
    config = tmp_path / "config.toml"
    config.write_text(toml_dumps(process_config(database_url, telegram, port=8080)), encoding="utf-8")
    backups = tmp_path / "backups"
    backups.mkdir()
    async with running_bot(settings, telegram) as world:
        filed = [
            await file_complaint(world, User(710000 + n, f"Warga{n}"), f"sampah menumpuk di gang nomor {n} sudah bau")
            for n in range(3)
        ]
        acknowledged: list[str] = []  # update ids the webhook answered 200 to, in order
        stop, busy = asyncio.Event(), asyncio.Event()

        async def citizens_keep_writing(world: World, first: int) -> None:
            n = first
            while not stop.is_set():
                update = world.message(User(720000 + n, f"Ramai{n}"), f"jalan berlubang besar di lorong {n} bahaya")
                await world.send(update)
                acknowledged.append(str(update["update_id"]))
                if len(acknowledged) >= 20:  # the desk is busy writing
                    busy.set()
                n += 1

        load = [asyncio.create_task(citizens_keep_writing(world, k * 1000)) for k in range(4)]
        await asyncio.wait_for(busy.wait(), timeout=30)
        before = list(acknowledged)
        code = await asyncio.to_thread(main, ["backup", "--config", str(config), str(backups)])
        stop.set()
        await asyncio.gather(*load)
        await world.settled(timeout=30)
    assert code == 0
    [copy] = list(backups.iterdir())  # one time-stamped file, no partial one left beside it
    assert copy.name.startswith("ehumas-") and not copy.name.endswith(".partial")

    url, dropping = await _restore(copy, database_url, tmp_path)
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            connection = await session.connection()
            assert (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar() == current_head()
            ids = {parse_ticket("KDI", ticket) for ticket in filed}
            complaints = (await session.exec(select(Complaint).where(col(Complaint.id).in_(ids)))).all()
            assert {c.id for c in complaints} == ids and all(c.opd_code == "DLHK" for c in complaints)
            stored = set((await session.exec(select(InboxEvent.external_id))).all())
            assert set(before) <= stored
    finally:
        await engine.dispose()
        if dropping:
            await drop_database(dropping)


def test_a_backup_that_cannot_be_made_says_why_and_leaves_nothing(tmp_path: Path, telegram: TelegramStandIn) -> None:
    config = tmp_path / "config.toml"
    data = process_config(f"sqlite+aiosqlite:///{tmp_path / 'missing.db'}", telegram, port=8080)
    config.write_text(toml_dumps(data), encoding="utf-8")
    assert main(["backup", "--config", str(config), str(tmp_path / "copy.db")]) == 1
    # Read-only: a wrong path is not created empty, and no partial copy is left.
    assert sorted(os.listdir(tmp_path)) == ["config.toml"]

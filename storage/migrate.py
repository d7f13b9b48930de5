"""Apply the Alembic migrations that create and update the schema, and undo them to go back a release."""

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError

_HERE = Path(__file__).resolve().parent
# Alembic's name for "no migration applied" (every table dropped).
BASE = "base"


class SchemaError(Exception):
    """The database's schema cannot be moved as asked (the message says why, for IT staff)."""


def alembic_config(url: str) -> Config:
    """An Alembic configuration for this package's migrations and a database URL."""
    config = Config()
    config.set_main_option("script_location", str(_HERE / "migrations"))
    # Percent signs in passwords would be read as interpolation by ConfigParser.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _scripts() -> ScriptDirectory:
    """The migration scripts shipped with the code."""
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` up to `revision` (blocking; runs its own event loop).

    SchemaError if the database was migrated by a newer release than this code.
    """
    current = schema_revision(url)
    if current is not None and not is_known(current):
        raise SchemaError(
            f"the database's schema is at revision {current}, which this code does not know: a newer release "
            f"migrated it. Go back with that release's `ehumas db downgrade {current_head()}`, or restore a backup "
            "taken before it."
        )
    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    """Bring the database up to `revision` from inside a running event loop."""
    await asyncio.to_thread(upgrade, url, revision)


def current_head() -> str:
    """The newest migration revision shipped with the code."""
    head = _scripts().get_current_head()
    assert head is not None
    return head


def is_known(revision: str) -> bool:
    """Whether a revision is one of this code's migrations."""
    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:
        return False


def schema_revision(url: str) -> str | None:
    """The revision the database's schema is at; None if it has none (empty, or every migration undone)."""
    # Imported here: storage.engine pulls in the drivers, which `current_head()` callers do not need.
    from storage.engine import create_engine

    async def read() -> str | None:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
        finally:
            await engine.dispose()

    return asyncio.run(read())


def steps_down(current: str, target: str) -> list[tuple[str, str]]:
    """The migrations that going from revision `current` down to `target` (or BASE) undoes, newest first:
    each one's revision and what it did. SchemaError if `target` is not below `current` in this code."""
    scripts = _scripts()
    if target != BASE and not is_known(target):
        raise SchemaError(f"no migration {target!r} in this code (its migrations: {', '.join(_all_revisions())})")
    if not is_known(current):
        raise SchemaError(f"the schema is at revision {current}, which this code does not know: use a newer release")
    if target == current:
        return []
    below = {script.revision for script in scripts.walk_revisions(BASE, current)}
    if target != BASE and target not in below:
        raise SchemaError(f"revision {target} is not below the schema's revision {current}: use `ehumas db upgrade`")
    steps = []
    for script in scripts.walk_revisions(BASE, current):
        if script.revision == target:
            break
        steps.append((script.revision, next(iter((script.doc or "").strip().splitlines()), "")))
    return steps


def downgrade(url: str, target: str) -> None:
    """Undo the migrations of the database at `url` down to revision `target` (BASE: every one), in one
    transaction (blocking; runs its own event loop)."""
    command.downgrade(alembic_config(url), target)


def _all_revisions() -> list[str]:
    """This code's migration revisions, oldest first."""
    return [script.revision for script in reversed(list(_scripts().walk_revisions()))]

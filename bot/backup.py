"""`ehumas backup`: a consistent copy of a running desk's database.

SQLite: SQLite's online backup API (one read transaction: in WAL mode the bot keeps writing
meanwhile, and the copy is the database as it was at one moment). PostgreSQL: `pg_dump` in its
custom format (a consistent snapshot too), restored with `pg_restore`. Either way the copy is
written next to its destination and renamed into place only once complete, so a backup cut
short never leaves a half file under the final name.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.engine import is_sqlite


class BackupError(Exception):
    """The backup could not be made; the message says why (never the password)."""


def destination(dest: str | Path, url: str, *, now: datetime | None = None) -> Path:
    """The file to write: DEST itself, or a time-stamped name inside DEST when it is a directory."""
    path = Path(dest)
    if path.is_dir():
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
        path = path / f"ehumas-{stamp}.{'db' if is_sqlite(url) else 'dump'}"
    return path


def backup(url: str, dest: str | Path) -> Path:
    """Copy the database at `url` to `dest` (a file, or a directory for a time-stamped file); return the file."""
    target = destination(dest, url)
    partial = target.with_name(target.name + ".partial")
    try:
        if is_sqlite(url):
            _sqlite(url, partial)
        else:
            _postgresql(url, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _sqlite(url: str, partial: Path) -> None:
    database = make_url(url).database
    if not database or database == ":memory:" or not Path(database).exists():
        raise BackupError(f"no SQLite database file at {database!r}")
    partial.unlink(missing_ok=True)
    # Read-only: a backup never changes the desk, and a wrong path is not created empty.
    source = sqlite3.connect(f"file:{Path(database).resolve()}?mode=ro", uri=True, timeout=30)
    copy = sqlite3.connect(partial)
    try:
        # All pages in one step, within one read transaction: a consistent copy even while the bot
        # writes (in steps, every write by another connection would restart the copy).
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        status = copy.execute("PRAGMA quick_check").fetchone()
        if status is None or status[0] != "ok":
            raise BackupError(f"the copy fails SQLite's check: {status}")
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite backup failed: {exc}") from exc
    finally:
        copy.close()
        source.close()


def pg_environment(url: str) -> tuple[list[str], dict[str, str]]:
    """libpq's connection options for a SQLAlchemy URL: the password goes in the environment, not argv."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    args = ["--host", parsed.host or "127.0.0.1", "--port", str(parsed.port or 5432)]
    if parsed.username:
        args += ["--username", parsed.username]
    args += ["--dbname", parsed.database or "postgres"]
    return args, env


def _postgresql(url: str, partial: Path) -> None:
    program = shutil.which("pg_dump")
    if program is None:
        raise BackupError("pg_dump not found: install PostgreSQL's client tools (Debian: postgresql-client)")
    args, env = pg_environment(url)
    command = [program, "--format=custom", "--no-owner", "--file", str(partial), *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed ({done.returncode}): {done.stderr.strip()[:500]}")

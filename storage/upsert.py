"""Insert-if-absent that works the same on SQLite and PostgreSQL."""

from typing import Any

from sqlalchemy import Table, bindparam, text
from sqlalchemy.sql.elements import TextClause
from sqlmodel.ext.asyncio.session import AsyncSession

# SQLAlchemy never caches the compiled form of its dialects' INSERT ... ON CONFLICT constructs
# (their Insert classes opt out of the statement cache), so each call would compile the statement
# anew: a good share of a webhook's time. The same SQL as a typed text() statement is built once
# per table, columns and conflict target, and cached like any other statement.
_STATEMENTS: dict[tuple[str, tuple[str, ...], tuple[str, ...]], TextClause] = {}


def _statement(table: Table, columns: tuple[str, ...], conflict: tuple[str, ...]) -> TextClause:
    key = (table.name, columns, conflict)
    statement = _STATEMENTS.get(key)
    if statement is None:
        names = ", ".join(f'"{name}"' for name in columns)
        values = ", ".join(f":{name}" for name in columns)
        target = ", ".join(f'"{name}"' for name in conflict)
        statement = text(
            f'INSERT INTO "{table.name}" ({names}) VALUES ({values}) ON CONFLICT ({target}) DO NOTHING RETURNING "id"'
        ).bindparams(*(bindparam(name, type_=table.c[name].type) for name in columns))
        _STATEMENTS[key] = statement
    return statement


async def insert_ignore(
    session: AsyncSession, *, table: Table, values: dict[str, Any], conflict: list[str]
) -> int | None:
    """Insert a row unless one with the same `conflict` columns exists; return the new id or None."""
    statement = _statement(table, tuple(sorted(values)), tuple(conflict))
    # A text() statement: run on the session's connection (same transaction; SQLModel's exec takes selects).
    result = await (await session.connection()).execute(statement, values)
    new_id = result.scalar_one_or_none()
    return None if new_id is None else int(new_id)

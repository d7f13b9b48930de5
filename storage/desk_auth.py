"""Web desk logins and sessions: one-time links and session tokens, kept as hashes only.

A link is used once even with several bot processes: using it is one UPDATE ... WHERE used_at
IS NULL that only one of them wins. A session ends at once for every process (ended_at).
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import DeskLogin, DeskSession, table_of

# Rows this long past their end are deleted when new ones are made.
KEEP_EXPIRED = timedelta(days=1)


def token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256, so a copy of the database opens no desk."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Grant:
    """Who may use the desk, and how much of it: "humas" (everything) or "opd" with the agency's code."""

    user_id: str
    user_name: str
    role: str
    opd_code: str | None


def _granted(token: str, grant: Grant, now: datetime, lifetime: timedelta) -> dict[str, Any]:
    """The columns a login link and a session share: the token's hash, the grant, the lifetime."""
    return {
        "token_hash": token_hash(token),
        "user_id": grant.user_id,
        "user_name": grant.user_name[:200],
        "role": grant.role,
        "opd_code": grant.opd_code,
        "created_at": now,
        "expires_at": now + lifetime,
    }


async def create_login(
    session: AsyncSession, *, token: str, grant: Grant, now: datetime, lifetime: timedelta
) -> DeskLogin:
    """Keep a new one-time login link (its token's hash), valid for `lifetime`."""
    await (await session.connection()).execute(delete(DeskLogin).where(col(DeskLogin.expires_at) < now - KEEP_EXPIRED))
    row = DeskLogin(**_granted(token, grant, now, lifetime))
    session.add(row)
    return row


async def use_login(session: AsyncSession, *, token: str, now: datetime) -> Grant | None:
    """The grant of an unused, unexpired link, marking it used; None otherwise (used, expired, unknown)."""
    table = table_of(DeskLogin)
    c = table.c
    result = await (await session.connection()).execute(
        update(table)
        .where(c.token_hash == token_hash(token), c.used_at.is_(None), c.expires_at > now)
        .values(used_at=now)
        .returning(c.user_id, c.user_name, c.role, c.opd_code)
    )
    row = result.first()
    return None if row is None else Grant(*row)


async def create_session(
    session: AsyncSession, *, token: str, grant: Grant, now: datetime, lifetime: timedelta
) -> DeskSession:
    """Start a desk session for a grant; the cookie carries `token`."""
    await (await session.connection()).execute(
        delete(DeskSession).where(
            or_(col(DeskSession.expires_at) < now - KEEP_EXPIRED, col(DeskSession.ended_at) < now - KEEP_EXPIRED)
        )
    )
    row = DeskSession(**_granted(token, grant, now, lifetime))
    session.add(row)
    return row


async def find_session(session: AsyncSession, *, token: str, now: datetime) -> Grant | None:
    """The grant of a live session (neither ended nor expired), or None."""
    statement = select(DeskSession).where(
        DeskSession.token_hash == token_hash(token),
        col(DeskSession.ended_at).is_(None),
        col(DeskSession.expires_at) > now,
    )
    row = (await session.exec(statement)).first()
    return None if row is None else Grant(row.user_id, row.user_name, row.role, row.opd_code)


async def end_session(session: AsyncSession, *, token: str, now: datetime) -> None:
    """End a session now (logging out)."""
    table = table_of(DeskSession)
    await (await session.connection()).execute(
        update(table).where(table.c.token_hash == token_hash(token), table.c.ended_at.is_(None)).values(ended_at=now)
    )

"""The daily retention purge as a background loop: each process looks every hour, one runs it per day."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from handlers import retention
from handlers.clock import Clock
from storage.engine import is_unavailable

log = logging.getLogger(__name__)

# How often a process asks whether today's purge is still to do; the first look waits a while, so
# that a process starting (or restarting) serves its webhooks first: on SQLite the purge holds the
# one writer's lock while it runs.
LOOK_SECONDS = 3600.0
FIRST_LOOK_SECONDS = 300.0


def policy_of(settings: Settings) -> retention.RetentionPolicy:
    """The [retention] settings as the handlers' policy."""
    section = settings.retention
    return retention.RetentionPolicy(
        inbox_payload_days=section.inbox_payload_days,
        inbox_days=section.inbox_days,
        outbox_days=section.outbox_days,
        photo_days=section.photo_days,
        audit_days=section.audit_days,
    )


async def purge_once(
    sessions: async_sessionmaker[AsyncSession], policy: retention.RetentionPolicy, clock: Clock
) -> retention.PurgeReport | None:
    """Run today's purge if no process has yet (None when one had).

    The claim commits on its own, then the purge runs in a transaction of its own: the claim's row
    lock is not held for the purge's length (a process that dies between the two leaves the day's
    purge to the next day's, which removes the same and more).
    """
    async with sessions() as session, session.begin():
        if not await retention.claim_today(session, now=clock.now()):
            return None
    async with sessions() as session, session.begin():
        report = await retention.purge(session, policy, now=clock.now())
    log.info("retention purge: %s", "; ".join(report.lines()))
    return report


async def purge_daily(sessions: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock) -> None:
    """Look every hour; database trouble is logged and looked at again next time."""
    policy = policy_of(settings)
    await asyncio.sleep(FIRST_LOOK_SECONDS)
    while True:
        try:
            await purge_once(sessions, policy, clock)
        except Exception as exc:
            if is_unavailable(exc):
                log.warning("retention purge: database unavailable (%s)", exc)
            else:
                log.exception("retention purge failed")
        await asyncio.sleep(LOOK_SECONDS)

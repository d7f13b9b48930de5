"""How long the desk keeps what citizens sent (UU 27/2022): raw messages, photos, sent messages, the audit log.

The complaint records and the statistics stay; what goes is the raw material around them. A daily
job applies the policy, claimed in the database so that one process runs it per day (like the
deadline sweep); `ehumas purge` applies it from the shell, with --dry-run to see what it would do.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from storage import jobs, retention

JOB = "retention"
EVERY = timedelta(days=1)
# The message that tells a citizen they were forgotten holds their address: it goes once sent.
FORGOTTEN_PURPOSE = "forgotten"


@dataclass(frozen=True)
class RetentionPolicy:
    """Days after which each kind of data goes; 0 keeps it for ever."""

    # Raw webhook payloads (names, numbers, texts as they arrived), counted from arrival.
    inbox_payload_days: int = 30
    # The stripped inbox rows themselves (kept meanwhile to recognise a late redelivery).
    inbox_days: int = 365
    # Sent (or failed) outgoing messages, counted from when they were queued.
    outbox_days: int = 90
    # Photos of complaints closed or rejected that long ago.
    photo_days: int = 365
    # The audit log of staff actions.
    audit_days: int = 730


@dataclass(frozen=True)
class PurgeReport:
    """What one purge changed (or, in a dry run, would change)."""

    inbox_payloads_stripped: int = 0
    inbox_rows_deleted: int = 0
    outbox_rows_deleted: int = 0
    complaints_photos_dropped: int = 0
    stored_photos_deleted: int = 0
    audit_rows_deleted: int = 0

    def lines(self) -> list[str]:
        """One "name: count" line per figure."""
        return [f"{field.name.replace('_', ' ')}: {getattr(self, field.name)}" for field in fields(self)]

    @property
    def total(self) -> int:
        """Everything counted."""
        return sum(getattr(self, field.name) for field in fields(self))


def _before(now: datetime, days: int) -> datetime | None:
    return now - timedelta(days=days) if days > 0 else None


async def purge(session: AsyncSession, policy: RetentionPolicy, *, now: datetime, dry_run: bool = False) -> PurgeReport:
    """Apply the policy now (inside the caller's transaction)."""
    stripped = deleted_inbox = deleted_outbox = dropped = photos = audit = 0
    if (before := _before(now, policy.inbox_payload_days)) is not None:
        stripped = await retention.strip_inbox_payloads(session, before=before, dry_run=dry_run)
    if (before := _before(now, policy.inbox_days)) is not None:
        deleted_inbox = await retention.delete_inbox(session, before=before, dry_run=dry_run)
    # A "you were forgotten" message goes once sent, whatever the outbox's retention.
    deleted_outbox = await retention.delete_outbox(
        session, before=_before(now, policy.outbox_days), purposes_any_age=(FORGOTTEN_PURPOSE,), dry_run=dry_run
    )
    if (before := _before(now, policy.photo_days)) is not None:
        dropped, photos = await retention.purge_closed_photos(session, before=before, dry_run=dry_run)
    if (before := _before(now, policy.audit_days)) is not None:
        audit = await retention.delete_audit(session, before=before, dry_run=dry_run)
    return PurgeReport(stripped, deleted_inbox, deleted_outbox, dropped, photos, audit)


async def claim_today(session: AsyncSession, *, now: datetime) -> bool:
    """Whether this call takes today's purge (once a day across every process, like the sweep's claims)."""
    return await jobs.claim_run(session, name=JOB, now=now, every=EVERY)


async def daily(session: AsyncSession, policy: RetentionPolicy, *, now: datetime) -> PurgeReport | None:
    """The daily purge, if this call is the one that claims today's run; None when another had it."""
    if not await claim_today(session, now=now):
        return None
    return await purge(session, policy, now=now)

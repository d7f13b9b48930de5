"""Flood control: a chat that writes too much too fast is slowed, and told so once.

Citizens get [flood] max_messages per window; agency groups, the humas group and admins (who run
the desk and may answer in bursts) get the larger staff_max_messages, so that a group cannot make
the bot answer without end either. Unknown groups are not counted here: handlers.chat_policy keeps
them to one message an hour.

Counted from the shared inbox table, so it holds across several bot processes. The decision is a
pure function; the router applies it before the dialog sees the event.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import texts
from handlers.desk import Desk
from handlers.events import ChatKind, Inbound
from handlers.outgoing import Recipient, send_text
from handlers.texts import privacy as privacy_texts
from storage import inbox, outbox

PURPOSE = "flood_notice"


@dataclass(frozen=True)
class Verdict:
    """What to do with one event: pass it to the desk, and whether to send the slow-down notice."""

    allow: bool
    notify: bool = False


def judge(recent: int, *, limit: int, told_in_window: bool) -> Verdict:
    """The verdict for an event that is the `recent`-th of its chat within the window."""
    if recent <= limit:
        return Verdict(allow=True)
    return Verdict(allow=False, notify=not told_in_window)


def is_staff(desk: Desk, inbound: Inbound) -> bool:
    """Agency and humas groups, and humas admins: they run the desk, and get the staff's larger limit."""
    return inbound.chat_kind != ChatKind.PRIVATE or inbound.sender_id in desk.humas_admin_ids


def limit_for(desk: Desk, inbound: Inbound) -> int:
    """How many events the chat may send per window: the citizens' limit, or the staff's."""
    return desk.staff_flood_max_messages if is_staff(desk, inbound) else desk.flood_max_messages


async def within_limit(session: AsyncSession, desk: Desk, inbound: Inbound) -> bool:
    """Whether the event is within its chat's limit (no notice; decided before any download, too)."""
    return await _recent(session, desk, inbound) <= limit_for(desk, inbound)


async def _recent(session: AsyncSession, desk: Desk, inbound: Inbound) -> int:
    """The events the chat sent in the window that ends with this one."""
    return await inbox.count_recent(
        session,
        chat_key=inbox.chat_key(inbound.channel, inbound.chat_id),
        since=inbound.at - desk.flood_window,
        until=inbound.at,
    )


async def admit(session: AsyncSession, desk: Desk, inbound: Inbound) -> bool:
    """Whether the event may go on to the desk; queues the notice when a chat first overflows."""
    limit = limit_for(desk, inbound)
    since = inbound.at - desk.flood_window
    recent = await _recent(session, desk, inbound)
    if recent <= limit:
        return True  # the common case costs one indexed count
    told = await outbox.queued_since(
        session, channel=inbound.channel, chat_id=inbound.chat_id, purpose=PURPOSE, since=since
    )
    verdict = judge(recent, limit=limit, told_in_window=told)
    if verdict.notify:
        # The key makes the notice once-only even if two workers judged the same window.
        bucket = int(inbound.at.timestamp() // desk.flood_window.total_seconds())
        await send_text(
            session,
            Recipient(inbound.channel, inbound.chat_id),
            privacy_texts.STAFF_FLOOD_NOTICE if is_staff(desk, inbound) else texts.FLOOD_NOTICE,
            now=desk.now(),
            purpose=PURPOSE,
            dedup_key=f"flood:{inbound.channel}:{inbound.chat_id}:{bucket}"[:120],
        )
    return verdict.allow

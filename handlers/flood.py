"""Per-citizen flood control: a chat that writes too much too fast is slowed, and told so once.

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


def exempt(desk: Desk, inbound: Inbound) -> bool:
    """Agency and humas groups, and humas admins, are never slowed: they run the desk."""
    return inbound.chat_kind != ChatKind.PRIVATE or inbound.sender_id in desk.humas_admin_ids


async def admit(session: AsyncSession, desk: Desk, inbound: Inbound) -> bool:
    """Whether the event may go on to the desk; queues the notice when a chat first overflows."""
    if exempt(desk, inbound):
        return True
    since = inbound.at - desk.flood_window
    recent = await inbox.count_recent(
        session, chat_key=inbox.chat_key(inbound.channel, inbound.chat_id), since=since, until=inbound.at
    )
    if recent <= desk.flood_max_messages:
        return True  # the common case costs one indexed count
    told = await outbox.queued_since(
        session, channel=inbound.channel, chat_id=inbound.chat_id, purpose=PURPOSE, since=since
    )
    verdict = judge(recent, limit=desk.flood_max_messages, told_in_window=told)
    if verdict.notify:
        # The key makes the notice once-only even if two workers judged the same window.
        bucket = int(inbound.at.timestamp() // desk.flood_window.total_seconds())
        await send_text(
            session,
            Recipient(inbound.channel, inbound.chat_id),
            texts.FLOOD_NOTICE,
            now=desk.now(),
            purpose=PURPOSE,
            dedup_key=f"flood:{inbound.channel}:{inbound.chat_id}:{bucket}"[:120],
        )
    return verdict.allow

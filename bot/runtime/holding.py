"""Holding a message the messenger will not take now, so that nothing is dropped silently.

WhatsApp lets a business write free-form only within 24 hours of the citizen's last message. A
later message is held (outbox status "held") and released when the citizen writes again; in the
meantime the citizen gets an approved template saying something is waiting, or, with no template
configured, humas is told that the message could not be delivered yet.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import texts
from handlers.outgoing import Recipient
from storage import citizens, delivery, outbox
from storage.models import OutboxMessage
from storage.tickets import format_ticket

TEMPLATE_PURPOSE = "window_template"
TEMPLATE_EVERY = timedelta(hours=24)


async def hold_for_window(
    session: AsyncSession,
    message: OutboxMessage,
    *,
    template: dict[str, Any] | None,
    reason: str,
    unless_heard_after: datetime | None,
    humas: Recipient,
    ticket_prefix: str,
    now: datetime,
) -> bool:
    """Hold a message until the citizen writes again; queue the template, or alert humas without one.

    If the citizen wrote after `unless_heard_after` (while the send was being decided), the window
    is open again: the message is queued to go now instead, and False is returned.
    """
    assert message.id is not None
    # Locked so that a message arriving right now either sees this hold (and releases it) or
    # committed before it (and is seen here).
    citizen = await citizens.find_citizen(session, channel=message.channel, address=message.chat_id, lock=True)
    heard = citizen.last_inbound_at if citizen is not None else None
    if heard is not None and (unless_heard_after is None or heard > unless_heard_after):
        await delivery.requeue(session, outbox_id=message.id, retry_at=now)
        return False
    await outbox.hold(session, outbox_id=message.id, reason=reason)
    # Keyed by row and attempt: a repeated hold of the same send adds nothing.
    episode = f"{message.id}:{message.attempts}"
    if template is not None:
        # One template a day is enough (a close and its rating request must not make two): the
        # citizen's next message releases everything held.
        if await outbox.queued_since(
            session,
            channel=message.channel,
            chat_id=message.chat_id,
            purpose=TEMPLATE_PURPOSE,
            since=now - TEMPLATE_EVERY,
        ):
            return True
        await outbox.enqueue(
            session,
            channel=message.channel,
            chat_id=message.chat_id,
            kind="template",
            payload=template,
            now=now,
            complaint_id=message.complaint_id,
            purpose=TEMPLATE_PURPOSE,
            dedup_key=f"window-template:{episode}",
        )
        return True
    ticket = format_ticket(ticket_prefix, message.complaint_id) if message.complaint_id else "-"
    await outbox.enqueue(
        session,
        channel=humas.channel,
        chat_id=humas.chat_id,
        payload={"text": texts.HELD_TO_HUMAS.format(ticket=ticket)},
        now=now,
        complaint_id=message.complaint_id,
        purpose="held_alert",
        dedup_key=f"held-alert:{episode}",
    )
    return True

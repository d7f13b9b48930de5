"""Twilio's status callbacks: record each outbox message's delivery state and act on failures."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.runtime.dispatcher import OutboxDispatcher
from bot.runtime.holding import hold_for_window
from bot.whatsapp.inbound import CHANNEL
from bot.whatsapp.outbound import AS_TEXT, OPTED_OUT, OUTSIDE_WINDOW, WhatsAppSender
from handlers.clock import Clock
from handlers.outgoing import Recipient
from handlers.privacy import mask_phones
from storage import delivery
from storage.models import OutboxMessage

log = logging.getLogger(__name__)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


class StatusRecorder:
    """Applies one status callback: progress is recorded; a failure is retried, held or reported once."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        dispatcher: OutboxDispatcher,
        sender: WhatsAppSender,
        humas: Recipient,
        ticket_prefix: str,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._dispatcher = dispatcher
        self._sender = sender
        self._humas = humas
        self._ticket_prefix = ticket_prefix

    async def record(
        self, form: Mapping[str, str], *, outbox_id: int | None, attempt: int | None, part: int | None = None
    ) -> None:
        """Apply the callback form of one message (outbox id, attempt and part come from the callback URL)."""
        sid = form["MessageSid"]
        status = form["MessageStatus"].strip().lower()
        code = _int(form.get("ErrorCode"))
        now = self._clock.now()
        policy = self._dispatcher.policy
        report: tuple[OutboxMessage, str, bool] | None = None
        async with self._sessions() as session, session.begin():
            row = await delivery.message_for_report(
                session, channel=CHANNEL, outbox_id=outbox_id, provider_message_id=sid
            )
            if row is None or row.id is None:
                log.info("status %s for unknown message %s (outbox %s)", status, sid, outbox_id)
                return
            if attempt is not None and attempt != row.attempts:
                log.info("outbox %s: status %s of an earlier attempt (%s) ignored", row.id, status, attempt)
                return
            if status not in delivery.FAILURES:
                await delivery.record_progress(session, outbox_id=row.id, status=status)
                return
            error = f"{status} (Twilio error {code or '-'}: {form.get('ErrorMessage', '') or 'no message'})"
            taken = await delivery.take_back_undelivered(
                session,
                outbox_id=row.id,
                attempt=attempt,
                provider_message_id=sid,
                status=status,
                error=error,
                wall=self._clock.wall(),
                lease=policy.lease,
                part=part,
            )
            if taken is None or taken.id is None:
                return  # a repeated callback: the first one acted already
            log.warning("outbox %s to %s: %s", taken.id, CHANNEL, mask_phones(error))
            if code == OUTSIDE_WINDOW and taken.kind != "template":
                # Refused for the window at send time: if the citizen wrote since, it can go now.
                await hold_for_window(
                    session,
                    taken,
                    template=self._sender.template_for(taken),
                    reason=error,
                    unless_heard_after=taken.sent_at,
                    humas=self._humas,
                    ticket_prefix=self._ticket_prefix,
                    now=now,
                )
            elif code == OPTED_OUT:
                report = (taken, error, True)
            elif taken.attempts < policy.max_attempts:
                if taken.kind == "text" and taken.payload.get("buttons") and not taken.payload.get(AS_TEXT):
                    # Perhaps its buttons were what WhatsApp would not take (an old client, a content
                    # rule): the next try goes as text, which every client shows.
                    taken.payload = {**taken.payload, AS_TEXT: True}
                    session.add(taken)
                retry_at = now + timedelta(seconds=policy.backoff(taken.attempts))
                await delivery.requeue(session, outbox_id=taken.id, retry_at=retry_at)
            else:
                report = (taken, f"gave up after {taken.attempts} attempts: {error}", False)
        if report is not None:
            message, reason, gone = report
            # The dispatcher marks it failed, marks an opted-out citizen unreachable and tells humas.
            await self._dispatcher.report_undelivered(message, reason, recipient_gone=gone)
        self._dispatcher.wake()

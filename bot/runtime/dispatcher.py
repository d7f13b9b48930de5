"""The outbox dispatcher: sends queued messages, retries with backoff, reports what cannot be sent."""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.channels import HeldForWindow, RetryLater, Sender, Undeliverable
from bot.runtime.doorbell import Doorbell
from bot.runtime.holding import hold_for_window
from bot.runtime.observer import Observer, SendOutcome
from handlers import texts
from handlers.clock import Clock
from handlers.outgoing import Recipient
from handlers.privacy import describe_recipient, mask_phones
from storage import citizens, outbox
from storage.engine import is_unavailable
from storage.models import OutboxMessage
from storage.tickets import format_ticket

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DispatchPolicy:
    """How hard to try: leases, batch size, retries and their spacing."""

    lease: timedelta = timedelta(seconds=60)
    batch: int = 50
    poll_seconds: float = 1.0
    max_attempts: int = 8
    backoff_first: float = 2.0
    backoff_max: float = 300.0
    # A cap per chat and window, counted in the database for all workers (Telegram's groups).
    chat_window: outbox.ChatWindow | None = None

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the n-th failed attempt (exponential, capped)."""
        return float(min(self.backoff_max, self.backoff_first * 2 ** max(0, attempts - 1)))


class OutboxDispatcher:
    """Claims due outbox rows, sends them over their messenger, and records the outcome."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        senders: Mapping[str, Sender],
        clock: Clock,
        *,
        humas: Recipient,
        ticket_prefix: str,
        policy: DispatchPolicy | None = None,
        yield_to: Callable[[], Awaitable[None]] | None = None,
        build_document: Callable[[AsyncSession, Mapping[str, Any]], Awaitable[bytes]] | None = None,
        observer: Observer | None = None,
    ) -> None:
        self._sessions = sessions
        self.observer = observer or Observer()
        # A document queued as a recipe (payload "build", e.g. /overdue's full list) is built here,
        # when it is sent: not in the transaction that queued it, and not kept in the outbox.
        self._build_document = build_document
        # Awaited before each claim: intake (the webhooks' writes) goes first (bot.runtime.inbox_writer).
        self._yield_to = yield_to
        self._senders = senders
        self._clock = clock
        self._humas = humas
        self._ticket_prefix = ticket_prefix
        self.policy = policy or DispatchPolicy()
        self._bell = Doorbell()
        # Claimed rows whose send has not been answered yet (those after it only wait to be recorded).
        self._sending: set[int] = set()
        # The deliveries under way (claimed here or handed over by claim_queued), until recorded.
        self._in_flight: set[asyncio.Task[bool]] = set()
        # Set once run() has returned: a delivery handed over after that is left to its lease.
        self._stopped = False
        # Whether the last claim filled all its room (more may be due): only then does a send that
        # frees room call for another claim. Otherwise nothing new is due until the bell rings (new
        # rows, a chat's next message once the one before is recorded) or the poll comes round.
        self._more_due = False

    def close(self) -> None:
        """Finish the batch at hand, then return from run() (a clean shutdown loses no receipt)."""
        self._bell.close()

    def wake(self) -> None:
        """Look at the outbox now rather than at the next poll."""
        self._bell.ring()

    async def run(self) -> None:
        """Send until closed; database trouble is logged and retried, never fatal.

        Up to `policy.batch` messages wait to be sent at once; once half of them are sent, the next
        claim fills the room. (Waiting for a whole batch instead would hold every chat behind the
        slowest message in it: one group message waiting for its group's minute would hold up all
        the others. Claiming after every single send would cost a database transaction per message.)
        A message sent but not yet recorded (its transaction waits for the database) no longer
        counts: the rate limiter is kept fed while the database is busy, e.g. with a burst of
        intake; up to twice the batch may be in flight in all.
        """
        in_flight = self._in_flight
        try:
            await self._loop(in_flight)
            # Closing: let the sends under way (and any handed over meanwhile) finish and be recorded.
            while in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
        finally:
            self._stopped = True

    async def _loop(self, in_flight: set[asyncio.Task[bool]]) -> None:
        """Claim and start deliveries until closed."""
        while not self._bell.closing:
            room = self._room()
            if room > 0 and (room >= self.policy.batch // 2 or not in_flight):
                if self._yield_to is not None:
                    await self._yield_to()
                try:
                    async with self._sessions() as session, session.begin():
                        batch = await self._claim(session, room)
                except Exception as exc:
                    if is_unavailable(exc):
                        log.warning("outbox: database unavailable (%s); retrying", exc)
                    else:
                        log.exception("outbox: unexpected error; retrying")
                    batch = []
                self._start(batch)
                self._more_due = len(batch) >= room
            # Not claiming again at once: a claim that took fewer than it could left nothing due, and
            # one that took all it could left no room. (Each empty claim is a write transaction,
            # on SQLite in the way of the next reply; a bell rung meanwhile returns at once.)
            await self._bell.wait(self.policy.poll_seconds)

    async def claim_queued(self, session: AsyncSession) -> tuple[list[OutboxMessage], bool]:
        """Claim, in the caller's transaction, the messages it queued, as far as there is room.

        Returns the claimed messages (to hand to `deliver` once the transaction has committed) and
        whether every queued message was claimed (if not, the caller wakes the dispatcher for the
        rest). The claim is claim_due's, limited to these rows: same per-chat order, same window,
        same lease. It spares a lone reply a claim transaction of its own and the wait for it
        (on SQLite, behind whatever holds the one connection).
        """
        queued, released = outbox.take_queued(session)
        room = self._room()
        if not queued or room <= 0 or self._bell.closing:
            return [], not queued and not released
        claimed = await self._claim(session, room, ids=queued)
        return claimed, len(claimed) == len(queued) and not released

    def _room(self) -> int:
        """How many more messages may be claimed now: a batch being sent, two batches in flight."""
        batch_size = self.policy.batch
        return min(batch_size - len(self._sending), 2 * batch_size - len(self._in_flight))

    async def _claim(self, session: AsyncSession, limit: int, ids: list[int] | None = None) -> list[OutboxMessage]:
        """Claim up to `limit` due messages (only `ids`, if given) under this dispatcher's lease and window."""
        return await outbox.claim_due(
            session,
            now=self._clock.now(),
            lease=self.policy.lease,
            limit=limit,
            window=self.policy.chat_window,
            wall=self._clock.wall(),
            ids=ids,
        )

    def deliver(self, messages: list[OutboxMessage]) -> None:
        """Send messages claimed by claim_queued, whose transaction has committed."""
        if self._stopped:
            # Nobody would record them: they are claimed, so they go out once their lease runs out
            # (as after a crash). The inbox worker stops before the dispatcher, so this is rare.
            log.warning("outbox: %d message(s) handed over after the dispatcher stopped", len(messages))
            return
        self._start(messages)

    def _start(self, messages: list[OutboxMessage]) -> None:
        """Start the delivery of claimed messages (one per chat: claims skip chats with one in flight)."""
        for message in messages:
            assert message.id is not None
            self._sending.add(message.id)
            task = asyncio.create_task(self._deliver(message), name=f"outbox-{message.id}")
            self._in_flight.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[bool]) -> None:
        """A delivery ended: claim again if it may have made a message due; an error in recording it is logged."""
        self._in_flight.discard(task)
        self._sending.discard(int(task.get_name().removeprefix("outbox-")))
        error = None if task.cancelled() else task.exception()
        if self._more_due or task.cancelled() or error is not None or task.result():
            self._bell.ring()
        if error is not None:
            # Not recorded (the database failed us): the row is resent once its lease runs out.
            if is_unavailable(error):
                log.warning("outbox: database unavailable while recording a send (%s)", error)
            else:
                log.error("outbox: unexpected error while recording a send", exc_info=error)

    async def _deliver(self, message: OutboxMessage) -> bool:
        """Send one claimed message and record the outcome; whether a claim may find something due now."""
        assert message.id is not None
        started = time.perf_counter()
        if self._too_late(message):
            self._observe(message, SendOutcome.EXPIRED, started)
            await self._drop_expired(message)
            return True
        outbox_id = message.id
        sender = self._senders.get(message.channel)
        try:
            if sender is None:
                raise Undeliverable(f"no sender for channel {message.channel!r}")
            if message.kind == "document" and "build" in message.payload:
                message = await self._built(message)
            provider_id = await self._renewing_lease(message, sender.send(message))
        except RetryLater as exc:
            # Observed before it is recorded: the outcome is the messenger's, whatever the database does.
            retried = message.attempts < self.policy.max_attempts
            outcome = SendOutcome.RETRY if retried else SendOutcome.FAILED
            self._observe(message, outcome, started, rate_limited=exc.rate_limited, unreachable=not exc.rate_limited)
            await self._retry_or_fail(message, str(exc), exc.after)
        except HeldForWindow as exc:
            self._observe(message, SendOutcome.HELD, started)
            await self._hold(message, exc)
        except Undeliverable as exc:
            self._observe(message, SendOutcome.FAILED, started)
            await self._fail(message, str(exc), recipient_gone=exc.recipient_gone)
        except Exception as exc:
            log.exception("outbox %s: unexpected error while sending", message.id)
            retried = message.attempts < self.policy.max_attempts
            self._observe(message, SendOutcome.RETRY if retried else SendOutcome.FAILED, started)
            await self._retry_or_fail(message, f"{type(exc).__name__}: {exc}", None)
        else:
            self._observe(message, SendOutcome.SENT, started)
            async with self._sessions() as session, session.begin():
                recorded = await outbox.mark_sent(
                    session,
                    outbox_id=outbox_id,
                    attempt=message.attempts,
                    provider_message_id=provider_id,
                    now=self._clock.now(),
                )
                # The chat's next message is due now that this one is sent: claim it at once.
                follows = await outbox.has_unsent(session, channel=message.channel, chat_id=message.chat_id)
            if not recorded:
                log.info("outbox %s: reported undelivered before its send was recorded; the report stands", outbox_id)
            return follows
        # Retried, held, failed: the chat's next message may be free, or a humas alert queued.
        return True

    def _observe(
        self,
        message: OutboxMessage,
        outcome: SendOutcome,
        started: float,
        *,
        rate_limited: bool = False,
        unreachable: bool = False,
    ) -> None:
        """One log line and the metrics of a send attempt (ids and outcome; never the text or the address)."""
        seconds = time.perf_counter() - started
        if message.id in self._sending:
            self._sending.discard(message.id)
            if self._more_due:
                self._bell.ring()  # room for the next claim
        log.info(
            "outbox %s %s (%s): %s in %.1f ms, attempt %d",
            message.id,
            message.channel,
            message.purpose or message.kind,
            outcome.value,
            seconds * 1000,
            message.attempts,
            extra={
                "outbox_id": message.id,
                "channel": message.channel,
                "purpose": message.purpose or message.kind,
                "outcome": outcome.value,
                "duration_ms": round(seconds * 1000, 1),
                "attempt": message.attempts,
            },
        )
        self.observer.send(message.channel, outcome, seconds, rate_limited=rate_limited, unreachable=unreachable)

    def _too_late(self, message: OutboxMessage) -> bool:
        """Whether a message must no longer go out (payload "send_before" passed: a deadline reminder)."""
        limit = message.payload.get("send_before")
        return isinstance(limit, str) and self._clock.now() >= datetime.fromisoformat(limit)

    async def _drop_expired(self, message: OutboxMessage) -> None:
        assert message.id is not None
        log.info("outbox %s (%s): not sent, too late now", message.id, message.purpose or message.kind)
        async with self._sessions() as session, session.begin():
            await outbox.mark_expired(session, outbox_id=message.id, reason="expired: send_before passed")

    async def _built(self, message: OutboxMessage) -> OutboxMessage:
        """A copy of a recipe document with its content (the row itself keeps the recipe)."""
        if self._build_document is None:
            raise Undeliverable("no document builder for this outbox row")
        async with self._sessions() as session:
            content = await self._build_document(session, message.payload["build"])
        built = OutboxMessage(**{name: getattr(message, name) for name in OutboxMessage.model_fields})
        built.payload = {**message.payload, "content_b64": base64.b64encode(content).decode("ascii")}
        return built

    async def _renewing_lease(self, message: OutboxMessage, sending: Awaitable[str | None]) -> str | None:
        """Await a send, renewing the message's lease meanwhile.

        A message may wait long for its turn in the rate limiter (a group's twentieth message in a
        minute waits for the minute to pass). Were its lease to run out meanwhile, another worker
        would claim it and send it too; while this worker lives, it keeps the lease.
        """
        assert message.id is not None
        task = asyncio.ensure_future(sending)
        held = message.lease_until
        interval = self.policy.lease.total_seconds() / 3
        while True:
            try:
                done, _ = await asyncio.wait({task}, timeout=interval)
            except asyncio.CancelledError:
                task.cancel()
                raise
            if done:
                return task.result()
            try:
                async with self._sessions() as session, session.begin():
                    held = await outbox.renew_lease(
                        session, outbox_id=message.id, held_until=held, until=self._clock.wall() + self.policy.lease
                    )
            except Exception as exc:  # noqa: BLE001 (the send goes on; the lease may lapse)
                log.warning("outbox %s: lease not renewed (%s)", message.id, exc)
                continue
            if held is None:
                log.warning("outbox %s: lease lost while waiting to send; another worker may send it", message.id)
                return await task

    async def _retry_or_fail(self, message: OutboxMessage, error: str, after: float | None) -> None:
        assert message.id is not None
        if message.attempts >= self.policy.max_attempts:
            await self._fail(message, f"gave up after {message.attempts} attempts: {error}")
            return
        delay = after if after is not None else self.policy.backoff(message.attempts)
        log.info("outbox %s: %s; retry in %.1f s", message.id, mask_phones(error), delay)
        async with self._sessions() as session, session.begin():
            await outbox.mark_retry(
                session, outbox_id=message.id, error=error, retry_at=self._clock.now() + timedelta(seconds=delay)
            )

    async def _hold(self, message: OutboxMessage, held: HeldForWindow) -> None:
        """Hold a message until the citizen writes again (template or humas alert meanwhile)."""
        log.info("outbox %s: held (%s)", message.id, held)
        async with self._sessions() as session, session.begin():
            await hold_for_window(
                session,
                message,
                template=held.template,
                reason=str(held),
                unless_heard_after=held.last_heard,
                humas=self._humas,
                ticket_prefix=self._ticket_prefix,
                now=self._clock.now(),
            )
        self.wake()

    async def report_undelivered(self, message: OutboxMessage, error: str, *, recipient_gone: bool = False) -> None:
        """A sent message the messenger later could not deliver, for good: mark it failed, tell humas."""
        await self._fail(message, error, recipient_gone=recipient_gone)

    async def _fail(self, message: OutboxMessage, error: str, *, recipient_gone: bool = False) -> None:
        """Mark a message failed and tell humas, so nothing is dropped silently."""
        assert message.id is not None
        chat, reason = mask_phones(message.chat_id), mask_phones(error)
        log.warning("outbox %s to %s:%s failed: %s", message.id, message.channel, chat, reason)
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            await outbox.mark_failed(session, outbox_id=message.id, error=error)
            if recipient_gone:
                await citizens.mark_unreachable(session, channel=message.channel, address=message.chat_id)
            if message.kind == "callback_answer" or (
                message.channel == self._humas.channel and message.chat_id == self._humas.chat_id
            ):
                return  # nobody to tell, or the alert would fail the same way
            ticket = format_ticket(self._ticket_prefix, message.complaint_id) if message.complaint_id else "-"
            # The ticket and the citizen's name: the humas group never sees a phone number.
            target = await describe_recipient(session, channel=message.channel, chat_id=message.chat_id)
            await outbox.enqueue(
                session,
                channel=self._humas.channel,
                chat_id=self._humas.chat_id,
                payload={
                    "text": texts.DELIVERY_FAILED_TO_HUMAS.format(
                        target=f"{target} ({message.purpose or message.kind})",
                        ticket=ticket,
                        error=mask_phones(error)[:300],
                    )
                },
                now=now,
                complaint_id=message.complaint_id,
                purpose="delivery_failed",
                dedup_key=f"delivery-failed:{message.id}",
            )
        self.wake()

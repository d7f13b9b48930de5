"""Forget a citizen (the right to be forgotten, UU 27/2022): /lupakan KDI-0042 for humas, `ehumas forget` in a shell.

Erased: the citizen's name and contact, their raw messages (inbox payloads, what they wrote in
their complaints), their photos, their draft and whatever waits to be sent to them. Kept: each
complaint, anonymous (agency, category, status, dates, rating), for the statistics. The citizen is
told once (that message is removed by the retention purge once sent), and the audit log records
who did it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import duplicates
from handlers import texts as desk_texts
from handlers.desk import Desk
from handlers.events import Inbound
from handlers.outgoing import HEARD_AT, Recipient, send_text, to_citizen
from handlers.retention import FORGOTTEN_PURPOSE
from handlers.texts import privacy as texts
from storage import audit, complaints, erasure, outbox
from storage.models import Citizen

CONFIRM_WORD = "ya"


@dataclass(frozen=True)
class Forgotten:
    """What forgetting one citizen erased."""

    complaints: int
    messages: int
    photos: int
    inbound_events: int


async def citizen_of_ticket(session: AsyncSession, desk: Desk, ticket: str) -> Citizen | None:
    """The citizen who filed a ticket, if it exists."""
    number = desk.parse_ticket(ticket)
    complaint = await complaints.get_complaint(session, complaint_id=number) if number else None
    return await session.get(Citizen, complaint.citizen_id) if complaint is not None else None


async def tickets_of(session: AsyncSession, desk: Desk, citizen: Citizen) -> list[str]:
    """The ticket numbers of every complaint of a citizen."""
    assert citizen.id is not None
    return [desk.ticket(c.id or 0) for c in await erasure.all_complaints(session, citizen_id=citizen.id)]


async def forget(session: AsyncSession, desk: Desk, citizen: Citizen, *, actor: str, target: str) -> Forgotten:
    """Erase a citizen (inside the caller's transaction), tell them, and write the audit log."""
    assert citizen.id is not None
    now = desk.now()
    # Queued before the address goes; the purge removes it once sent. Unsent messages to them go first.
    recipient = to_citizen(citizen)
    inbound_events = await erasure.erase_chat(session, channel=citizen.channel, address=citizen.address, now=now)
    if citizen.reachable:
        payload: dict[str, object] = {"text": texts.FORGOTTEN_TO_CITIZEN.format(city=desk.city)}
        if citizen.last_inbound_at is not None:
            # Their row will not say any more when they last wrote (WhatsApp's window runs from then).
            payload[HEARD_AT] = citizen.last_inbound_at.isoformat()
        await outbox.enqueue(
            session,
            channel=recipient.channel,
            chat_id=recipient.chat_id,
            payload=payload,
            now=now,
            purpose=FORGOTTEN_PURPOSE,
        )
    filed = await erasure.all_complaints(session, citizen_id=citizen.id)
    messages, photos = await erasure.erase_complaints(session, complaints=filed, erased=texts.ERASED)
    inbound_events += await erasure.erase_mentions(session, tickets=[desk.ticket(c.id or 0) for c in filed])
    await erasure.anonymise_citizen(session, citizen=citizen)
    # The "already reported?" comparison may hold their complaints' words in memory: not any more.
    duplicates.forget_readings(desk)
    result = Forgotten(len(filed), messages, photos, inbound_events)
    await audit.log_action(
        session,
        actor=actor,
        action="forget",
        target=target,
        detail=f"citizen {citizen.id}: {result.complaints} complaints, {result.photos} photos",
        now=now,
    )
    return result


async def command(session: AsyncSession, desk: Desk, inbound: Inbound, here: Recipient, rest: str) -> None:
    """/lupakan KDI-0042 [ya]: without "ya", say what would be erased and how to confirm."""
    now = desk.now()
    ticket_text, _, confirm = rest.partition(" ")
    number = desk.parse_ticket(ticket_text) if ticket_text else None
    if number is None:
        await send_text(session, here, texts.FORGET_USAGE.format(prefix=desk.ticket_prefix), now=now)
        return
    ticket = desk.ticket(number)
    citizen = await citizen_of_ticket(session, desk, ticket)
    if citizen is None:
        await send_text(session, here, desk_texts.TICKET_NOT_FOUND.format(ticket=ticket), now=now)
        return
    if erasure.is_forgotten(citizen):
        await send_text(session, here, texts.FORGET_ALREADY.format(ticket=ticket), now=now)
        return
    if confirm.strip().lower() != CONFIRM_WORD:
        tickets = ", ".join(await tickets_of(session, desk, citizen))
        await send_text(session, here, texts.FORGET_CONFIRM.format(ticket=ticket, tickets=tickets), now=now)
        return
    done = await forget(
        session, desk, citizen, actor=f"{inbound.sender_name} ({inbound.channel} {inbound.sender_id})", target=ticket
    )
    await send_text(
        session, here, texts.FORGET_DONE.format(ticket=ticket, complaints=done.complaints, photos=done.photos), now=now
    )

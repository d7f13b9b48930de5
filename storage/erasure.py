"""Erasing one citizen (the right to be forgotten, UU 27/2022): their identity, words and photos go;
their complaints stay, anonymous, for the statistics. The caller owns the transaction."""

import json
import re
from datetime import datetime

from sqlalchemy import Text, cast, delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Citizen,
    Complaint,
    ComplaintEvent,
    ComplaintFollower,
    ComplaintMessage,
    Conversation,
    InboxEvent,
    OutboxMessage,
    OutboxStatus,
)
from storage.retention import STRIPPED_CHAT, delete_media, stored_keys

# The address a forgotten citizen's row keeps: unique per row, reaching nobody.
FORGOTTEN_PREFIX = "forgotten:"
# Complaint events whose detail is what staff typed (a closing note, a reason): it may name the person.
_TYPED_DETAILS = ("closed", "rejected", "disowned")
_DONE = (OutboxStatus.SENT.value, OutboxStatus.DELIVERED.value, OutboxStatus.READ.value, OutboxStatus.FAILED.value)


def is_forgotten(citizen: Citizen) -> bool:
    """Whether the citizen was erased already."""
    return citizen.address.startswith(FORGOTTEN_PREFIX)


async def all_complaints(session: AsyncSession, *, citizen_id: int) -> list[Complaint]:
    """Every complaint of a citizen, oldest first."""
    statement = select(Complaint).where(Complaint.citizen_id == citizen_id).order_by(col(Complaint.id))
    return list((await session.exec(statement)).all())


async def erase_complaints(session: AsyncSession, *, complaints: list[Complaint], erased: str) -> tuple[int, int]:
    """Blank what the citizen wrote and sent in these complaints; return (messages erased, photos deleted).

    What is kept: agency, category, status, dates, rating (the statistics).
    """
    ids = [c.id for c in complaints if c.id is not None]
    keys: set[str] = set()
    for complaint in complaints:
        keys |= stored_keys(complaint.media)
        complaint.description = erased
        complaint.location_text = None
        complaint.location_lat = complaint.location_lon = None
        complaint.media = []
        session.add(complaint)
    if not ids:
        return 0, 0
    messages = await session.exec(
        update(ComplaintMessage).where(col(ComplaintMessage.complaint_id).in_(ids)).values(text=erased)
    )
    await session.exec(
        update(ComplaintMessage)
        .where(col(ComplaintMessage.complaint_id).in_(ids), col(ComplaintMessage.author) == "citizen")
        .values(author_label="")
    )
    await session.exec(
        update(ComplaintEvent)
        .where(col(ComplaintEvent.complaint_id).in_(ids), col(ComplaintEvent.kind).in_(_TYPED_DETAILS))
        .values(detail="")
    )
    # Sent messages about these complaints (cards with the description, answers) go; unsent ones stay.
    await session.exec(
        delete(OutboxMessage).where(col(OutboxMessage.complaint_id).in_(ids), col(OutboxMessage.status).in_(_DONE))
    )
    return int(messages.rowcount or 0), await delete_media(session, keys=keys)


async def erase_chat(session: AsyncSession, *, channel: str, address: str, now: datetime) -> int:
    """Strip every raw inbound of the citizen's chat, drop its draft and every message queued to it; return inbounds."""
    chat_key = f"{channel}:{address}"
    stripped = await session.exec(
        update(InboxEvent)
        .where(col(InboxEvent.chat_key) == chat_key)
        .values(payload={}, last_error=None, chat_key=f"{channel}:{STRIPPED_CHAT}")
    )
    # An event still waiting would otherwise be processed with nothing in it.
    await session.exec(
        update(InboxEvent)
        .where(col(InboxEvent.chat_key) == f"{channel}:{STRIPPED_CHAT}", col(InboxEvent.processed_at).is_(None))
        .values(processed_at=now)
    )
    await session.exec(
        delete(Conversation).where(col(Conversation.channel) == channel, col(Conversation.chat_id) == address)
    )
    await session.exec(
        delete(OutboxMessage).where(col(OutboxMessage.channel) == channel, col(OutboxMessage.chat_id) == address)
    )
    return int(stripped.rowcount or 0)


async def erase_mentions(session: AsyncSession, *, tickets: list[str]) -> int:
    """Strip the raw payloads of processed events that name one of these tickets (staff replying to a
    card carry its text: the description, the citizen's first name); return how many."""
    stripped = 0
    for ticket in tickets:
        named = re.compile(re.escape(ticket) + "(?![0-9])", re.IGNORECASE)
        candidates = await session.exec(
            select(InboxEvent).where(
                col(InboxEvent.processed_at).is_not(None), cast(InboxEvent.payload, Text).ilike(f"%{ticket}%")
            )
        )
        for event in candidates.all():
            if named.search(json.dumps(event.payload)):
                event.payload = {}
                event.last_error = None
                session.add(event)
                stripped += 1
    return stripped


async def anonymise_citizen(session: AsyncSession, *, citizen: Citizen) -> None:
    """The citizen's row without name or contact (kept: the complaints point to it)."""
    citizen.display_name = ""
    citizen.handle = ""
    citizen.address = f"{FORGOTTEN_PREFIX}{citizen.id}"
    citizen.reachable = False
    citizen.last_inbound_at = None
    session.add(citizen)
    # The tickets they follow keep counting them, but no longer know where they write from.
    await session.exec(
        update(ComplaintFollower).where(col(ComplaintFollower.citizen_id) == citizen.id).values(chat_id=citizen.address)
    )

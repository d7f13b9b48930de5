"""What a citizen's message does to tickets already filed: additions, disputes, small answers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import texts
from handlers.cards import shorten
from handlers.desk import HUMAS, Desk
from handlers.events import Attachment, Location
from handlers.outgoing import Recipient, send_location, send_photo, send_text
from handlers.status import state_text
from handlers.texts import dialog
from storage import complaints
from storage.models import Citizen, Complaint, ComplaintStatus
from storage.reports import DISPUTED

# A photo or a map point sent this soon after filing belongs to the ticket just filed.
ADDITION_WINDOW = timedelta(minutes=30)
# Photos one complaint may carry in all (the draft takes 5; additions may bring it to this).
MAX_TICKET_PHOTOS = 10
MAX_ADDITION_CHARS = 2000

# Statuses in which the citizen's word still reaches the agency.
_LIVE = (ComplaintStatus.OPEN, ComplaintStatus.ANSWERED)


async def own_ticket(session: AsyncSession, citizen: Citizen, number: int | None) -> Complaint | None:
    """The citizen's own complaint with that number (None for anyone else's: reveal nothing)."""
    if number is None:
        return None
    complaint = await complaints.get_complaint(session, complaint_id=number, lock=True)
    if complaint is None or complaint.citizen_id != citizen.id:
        return None
    return complaint


async def just_filed(session: AsyncSession, desk: Desk, citizen: Citizen) -> Complaint | None:
    """The citizen's newest open ticket if it was filed moments ago (a photo now belongs to it)."""
    assert citizen.id is not None
    mine = await complaints.complaints_of_citizen(session, citizen_id=citizen.id, limit=1)
    if mine and mine[0].created_at >= desk.now() - ADDITION_WINDOW:
        return mine[0]
    return None


async def add_to_ticket(
    session: AsyncSession,
    desk: Desk,
    me: Recipient,
    citizen: Citizen,
    complaint: Complaint,
    *,
    text: str,
    photos: Sequence[Attachment] = (),
    location: Location | None = None,
) -> None:
    """Attach what the citizen added to their ticket and forward it to the agency; the deadline stays."""
    assert complaint.id is not None
    now = desk.now()
    ticket = desk.ticket(complaint.id)
    if complaint.status not in _LIVE:
        state = texts.STATUS_NAMES.get(complaint.status, complaint.status)
        await send_text(session, me, dialog.ADDITION_CLOSED.format(ticket=ticket, state=state), now=now)
        return
    text = text.strip()[:MAX_ADDITION_CHARS]
    if not (text or photos or location):
        await send_text(session, me, dialog.ADDITION_EMPTY.format(ticket=ticket), now=now)
        return
    group = desk.staff(desk.group_of(complaint.opd_code or HUMAS))
    notes: list[str] = []
    if text:
        await complaints.add_message(
            session,
            complaint_id=complaint.id,
            direction="in",
            author="citizen",
            author_label=citizen.display_name,
            text=text,
            now=now,
        )
        await send_text(
            session,
            group,
            dialog.ADDITION_TO_GROUP.format(ticket=ticket, text=shorten(text, 3000)),
            now=now,
            complaint_id=complaint.id,
            purpose="addition",
        )
    kept = list(complaint.media)
    for photo in photos:
        if len(kept) >= MAX_TICKET_PHOTOS:
            notes.append(dialog.ADDITION_TOO_MANY_PHOTOS.format(ticket=ticket, max=MAX_TICKET_PHOTOS))
            break
        item: dict[str, Any] = {
            "kind": photo.kind,
            "source": photo.source,
            "ref": photo.ref,
            "content_type": photo.content_type,
        }
        kept.append(item)
        await send_photo(
            session,
            group,
            ref=photo.ref,
            source=photo.source,
            caption=dialog.ADDITION_PHOTO_CAPTION.format(ticket=ticket),
            now=now,
            complaint_id=complaint.id,
            purpose="addition",
        )
    complaint.media = kept
    if location is not None:
        if complaint.location_lat is None:
            complaint.location_lat, complaint.location_lon = location.lat, location.lon
            complaint.location_text = complaint.location_text or location.address or None
        place = location.address or f"{location.lat:.5f}, {location.lon:.5f}"
        await send_text(
            session,
            group,
            dialog.ADDITION_LOCATION_TO_GROUP.format(ticket=ticket, place=place),
            now=now,
            complaint_id=complaint.id,
            purpose="addition",
        )
        await send_location(session, group, location.lat, location.lon, now=now, complaint_id=complaint.id)
    session.add(complaint)
    detail = shorten(text, 200) if text else f"{len(photos)} foto" if photos else "lokasi"
    await complaints.add_event(
        session, complaint_id=complaint.id, kind="addition", now=now, actor="citizen", detail=detail
    )
    reply = dialog.ADDITION_TO_CITIZEN.format(
        ticket=ticket, agency=desk.agency_name(complaint.opd_code), deadline=desk.local_time(complaint.due_at)
    )
    await send_text(session, me, "\n".join([*notes, reply]), now=now, complaint_id=complaint.id)


async def dispute(
    session: AsyncSession, desk: Desk, me: Recipient, citizen: Citizen, complaint: Complaint, *, text: str
) -> None:
    """The citizen is not satisfied with the answer: recorded, and told to the agency and to humas."""
    assert complaint.id is not None
    if complaint.status == ComplaintStatus.OPEN:
        # Nothing answered yet to object to: what they say is more information for the agency.
        await send_text(session, me, dialog.DISPUTE_OPEN.format(ticket=desk.ticket(complaint.id)), now=desk.now())
        await add_to_ticket(session, desk, me, citizen, complaint, text=text)
        return
    now = desk.now()
    ticket = desk.ticket(complaint.id)
    text = text.strip()[:MAX_ADDITION_CHARS]
    await complaints.add_message(
        session,
        complaint_id=complaint.id,
        direction="in",
        author="citizen",
        author_label=citizen.display_name,
        text=text,
        now=now,
    )
    await complaints.add_event(
        session, complaint_id=complaint.id, kind=DISPUTED, now=now, actor="citizen", detail=shorten(text, 200)
    )
    agency = desk.agency_name(complaint.opd_code)
    if complaint.opd_code is not None:
        await send_text(
            session,
            desk.staff(desk.group_of(complaint.opd_code)),
            dialog.DISPUTE_TO_GROUP.format(ticket=ticket, text=shorten(text, 3000)),
            now=now,
            complaint_id=complaint.id,
            purpose="dispute",
        )
    await send_text(
        session,
        desk.staff(desk.humas_chat_id),
        dialog.DISPUTE_TO_HUMAS.format(ticket=ticket, agency=agency, text=shorten(text, 3000)),
        now=now,
        complaint_id=complaint.id,
        purpose="dispute",
    )
    await send_text(
        session, me, dialog.DISPUTE_TO_CITIZEN.format(ticket=ticket, agency=agency), now=now, complaint_id=complaint.id
    )


async def say_thanks(session: AsyncSession, desk: Desk, me: Recipient, mine: Sequence[Complaint]) -> None:
    """A short, warm answer to thanks; no draft."""
    waiting = [c for c in mine if c.status == ComplaintStatus.OPEN]
    if waiting and waiting[0].id is not None:
        reply = dialog.THANKS_REPLY_OPEN.format(ticket=desk.ticket(waiting[0].id))
    else:
        reply = dialog.THANKS_REPLY
    await send_text(session, me, reply, now=desk.now())


async def greet_again(session: AsyncSession, desk: Desk, me: Recipient, newest: Complaint) -> None:
    """A greeting from a citizen with a ticket under way: where it stands, in one line."""
    assert newest.id is not None
    await send_text(
        session,
        me,
        dialog.GREETING_OPEN.format(ticket=desk.ticket(newest.id), state=state_text(desk, newest)),
        now=desk.now(),
    )

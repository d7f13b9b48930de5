"""The ticket card an agency's group receives, and the helpers that render it."""

from __future__ import annotations

from markupsafe import Markup
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import texts
from handlers.desk import HUMAS, Desk
from handlers.outgoing import send_location, send_photo, send_text
from handlers.privacy import public_name
from handlers.textsafe import cut_utf16, utf16_len
from storage.models import Citizen, Complaint

# Telegram's limit is 4,096 characters; the card's frame takes a few hundred.
CARD_DESCRIPTION_CHARS = 3000


def shorten(text: str, limit: int) -> str:
    """Cut text to `limit` characters as Telegram counts them (UTF-16) at a word boundary, marking the cut."""
    if utf16_len(text) <= limit:
        return text
    cut = cut_utf16(text, limit - 1)
    space = cut.rfind(" ")
    if space > len(cut) * 0.8:
        cut = cut[:space]
    return cut.rstrip() + "…"


def citizen_label(desk: Desk, citizen: Citizen) -> str:
    """How agencies see a citizen: a first name and the messenger, never a number or username."""
    # Checked again here: a name stored before the router dropped contact-like names.
    first = public_name(citizen.display_name or "").split()
    name = first[0][:30] if first else "Warga"
    return f"{name} ({desk.channel_label(citizen.channel)})"


def location_line(complaint: Complaint) -> str:
    """The card's location line."""
    if complaint.location_text:
        return complaint.location_text
    if complaint.location_lat is not None and complaint.location_lon is not None:
        return "titik peta di bawah"
    return "-"


def render_card(desk: Desk, complaint: Complaint, citizen: Citizen) -> Markup:
    """The HTML text of a ticket card; everything the citizen wrote is escaped."""
    assert complaint.id is not None
    ticket = desk.ticket(complaint.id)
    category = texts.CARD_CATEGORY.format(category=complaint.category) if complaint.category else ""
    card = texts.CARD.format(
        ticket=ticket,
        category=category,
        citizen=citizen_label(desk, citizen),
        location=shorten(location_line(complaint), 300),
        deadline=desk.local_time(complaint.due_at),
        description=shorten(complaint.description, CARD_DESCRIPTION_CHARS),
    )
    if complaint.opd_code is None:
        card += texts.CARD_UNROUTED.format(ticket=ticket, codes=", ".join(desk.agencies))
    return card


async def send_card(session: AsyncSession, desk: Desk, complaint: Complaint, citizen: Citizen) -> None:
    """Queue the card, then the map point and photos, to the owner's group."""
    assert complaint.id is not None
    now = desk.now()
    to = desk.staff(desk.group_of(complaint.opd_code or HUMAS))
    await send_text(
        session,
        to,
        render_card(desk, complaint, citizen),
        now=now,
        complaint_id=complaint.id,
        purpose="ticket_card",
    )
    if complaint.location_lat is not None and complaint.location_lon is not None:
        await send_location(
            session, to, complaint.location_lat, complaint.location_lon, now=now, complaint_id=complaint.id
        )
    caption = texts.CARD_PHOTO_CAPTION.format(ticket=desk.ticket(complaint.id))
    for media in complaint.media:
        await send_photo(
            session, to, ref=media["ref"], source=media["source"], caption=caption, now=now, complaint_id=complaint.id
        )

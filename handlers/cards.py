"""The ticket card an agency's group receives, and the helpers that render it."""

from __future__ import annotations

from html.parser import HTMLParser

from markupsafe import Markup
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import texts, triage
from handlers.desk import HUMAS, Desk
from handlers.outgoing import send_location, send_photo, send_text
from handlers.texts import staff as staff_texts
from handlers.textsafe import cut_utf16, utf16_len
from storage.models import Citizen, Complaint

# Telegram's limit is 4,096 characters; the card's frame takes a few hundred.
CARD_DESCRIPTION_CHARS = 3000
# A photo's caption: at most 1,024 characters (UTF-16 units of the visible text) on Telegram.
CAPTION_LIMIT = 1024
# The outbox purposes of a card (text, or photo with the card as caption) and of its other photos.
CARD_PURPOSE = "ticket_card"
CARD_PHOTO_PURPOSE = "ticket_photo"
NO_NOTE = Markup("")


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
    first = (citizen.display_name or "").split()
    name = first[0][:30] if first else texts.CITIZEN_DEFAULT_NAME
    return f"{name} ({desk.channel_label(citizen.channel)})"


def location_line(complaint: Complaint) -> str:
    """The card's location line (the map link goes after it)."""
    if complaint.location_text:
        return complaint.location_text
    if complaint.location_lat is not None and complaint.location_lon is not None:
        return staff_texts.CARD_POINT_ONLY
    return "-"


def location_markup(desk: Desk, complaint: Complaint) -> Markup:
    """The card's location: what the citizen wrote, and a link to the point on the map."""
    place = Markup.escape(shorten(location_line(complaint), 300))
    if complaint.location_lat is not None and complaint.location_lon is not None:
        place += staff_texts.CARD_MAP_LINK.format(url=desk.map_link(complaint.location_lat, complaint.location_lon))
    return place


def render_card(desk: Desk, complaint: Complaint, citizen: Citizen, *, note: Markup = NO_NOTE) -> Markup:
    """The HTML text of a ticket card; everything the citizen wrote is escaped."""
    assert complaint.id is not None
    ticket = desk.ticket(complaint.id)
    category = texts.CARD_CATEGORY.format(category=complaint.category) if complaint.category else ""
    card = texts.CARD.format(
        ticket=ticket,
        category=category,
        citizen=citizen_label(desk, citizen),
        location=location_markup(desk, complaint),
        deadline=desk.local_time(complaint.due_at),
        description=shorten(complaint.description, CARD_DESCRIPTION_CHARS),
    )
    card += note
    if complaint.opd_code is None:
        card += texts.CARD_UNROUTED.format(ticket=ticket, codes=", ".join(desk.agencies))
        return card + triage.unrouted_hint(desk, complaint)
    return card + triage.route_line(desk, complaint)


class _Visible(HTMLParser):
    """The text Telegram shows of an HTML message (what its length limits count)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def visible_length(html: Markup) -> int:
    """An HTML text's length as Telegram counts it: the visible text, in UTF-16 units."""
    parser = _Visible()
    parser.feed(str(html))
    parser.close()
    return utf16_len("".join(parser.parts).strip())


async def send_card(
    session: AsyncSession, desk: Desk, complaint: Complaint, citizen: Citizen, *, note: Markup = NO_NOTE
) -> None:
    """Queue a complaint's card to its owner's group: one message where it fits.

    With a photo, the card is the photo's caption; a card too long for a caption goes as a text,
    its photos after it. The place is a map link inside the card; a separate pin only when the
    desk asks for it ([cards] location_pin). Every message is queued with the complaint's id, so a
    reply to any of them (the outbox records each one's message id) answers this ticket.

    A second and later photo goes as a photo message of its own, captioned with the ticket, rather
    than as an album with the first: an album comes back as several messages of which the outbox
    records one, so a clerk replying to its third photo would reach no ticket; and Telegram counts
    an album's photos one by one against a group's 20 messages a minute all the same. A citizen
    attaches at most five (intake.MAX_PHOTOS), most none or one.
    """
    assert complaint.id is not None
    now = desk.now()
    to = desk.staff(desk.group_of(complaint.opd_code or HUMAS))
    ticket = desk.ticket(complaint.id)
    card = render_card(desk, complaint, citizen, note=note)
    photos = list(complaint.media)
    # Humas's card of an unrouted complaint carries the triage buttons: a text message (a caption
    # could hold them too, but a photo that fails would take the buttons with it).
    triage_buttons = triage.buttons(desk, complaint) if complaint.opd_code is None else []
    if photos and not triage_buttons and visible_length(card) <= CAPTION_LIMIT:
        first = photos.pop(0)
        await send_photo(
            session,
            to,
            ref=first["ref"],
            source=first["source"],
            caption=card,
            now=now,
            complaint_id=complaint.id,
            purpose=CARD_PURPOSE,
            caption_is_essential=True,
        )
        shown = 1
    else:
        await send_text(
            session, to, card, now=now, buttons=triage_buttons, complaint_id=complaint.id, purpose=CARD_PURPOSE
        )
        shown = 0
    total = shown + len(photos)
    for number, media in enumerate(photos, start=shown + 1):
        await send_photo(
            session,
            to,
            ref=media["ref"],
            source=media["source"],
            caption=staff_texts.CARD_PHOTO.format(ticket=ticket, n=number, total=total),
            now=now,
            complaint_id=complaint.id,
            purpose=CARD_PHOTO_PURPOSE,
        )
    if desk.card_location_pin and complaint.location_lat is not None and complaint.location_lon is not None:
        await send_location(
            session, to, complaint.location_lat, complaint.location_lon, now=now, complaint_id=complaint.id
        )

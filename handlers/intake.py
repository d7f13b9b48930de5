"""The citizen's conversation: describe, locate, photograph, confirm, get a ticket number."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import cards, rating, texts
from handlers.desk import HUMAS, Desk
from handlers.events import Inbound
from handlers.outgoing import Button, Recipient, answer_button, send_text
from handlers.status import show_status
from routing import classify
from storage import citizens, complaints, conversations, outbox
from storage.models import Citizen

# Steps of the intake dialog, as stored in Conversation.step.
DESCRIPTION = "description"
LOCATION = "location"
PHOTO = "photo"
CONFIRM = "confirm"

MIN_DESCRIPTION_CHARS = 10
MAX_DESCRIPTION_CHARS = 4000
MAX_ADDRESS_CHARS = 500
MAX_PHOTOS = 5

# Messages that only greet or acknowledge: they start a conversation but are not a complaint.
_GREETING_WORDS = frozenset(
    "halo hallo hai hi hello p ping pagi siang sore malam selamat assalamualaikum assalamu alaikum "
    "salam permisi min admin kak pak bu mas mbak tes test tes123 om swastiastu shalom "
    "ok oke okay okey baik siap terima kasih makasih trims thanks thank you".split()
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

# Inline buttons carry these; pressing one is the same as typing the word.
BUTTON_YES = "intake:ya"
BUTTON_CANCEL = "intake:batal"
BUTTON_SKIP = "intake:lewati"
_BUTTON_WORDS = {BUTTON_YES: "ya", BUTTON_CANCEL: "batal", BUTTON_SKIP: "lewati"}


def _checks_in(inbound: Inbound, text: str) -> bool:
    """Whether a message only says hello (or "ok"), rather than describing a problem or sending something."""
    if inbound.media or inbound.location is not None or inbound.unsupported:
        return False
    return not text or _is_greeting(text) or len(text) < MIN_DESCRIPTION_CHARS


def _is_greeting(text: str) -> bool:
    """Whether a first message only says hello."""
    words = [w.lower() for w in _WORD.findall(text)]
    return not words or all(w in _GREETING_WORDS for w in words)


def _word(text: str) -> str:
    """A typed answer reduced for comparison with the yes/cancel/skip words."""
    return " ".join(text.lower().strip().strip(".!?,").split())


def _skip_button() -> list[list[Button]]:
    return [[Button("Lewati", BUTTON_SKIP)]]


async def handle_private(session: AsyncSession, desk: Desk, inbound: Inbound) -> None:
    """Handle one event from a citizen's private chat."""
    now = desk.now()
    me = Recipient(inbound.channel, inbound.chat_id)
    citizen = await citizens.touch_citizen(
        session, channel=inbound.channel, address=inbound.chat_id, display_name=inbound.sender_name, now=now
    )
    # Messages held until the citizen wrote again (WhatsApp's 24-hour window) go out first; no-op elsewhere.
    released = await outbox.release_held(session, channel=inbound.channel, chat_id=inbound.chat_id, now=now)
    await session.flush()
    text = inbound.text.strip()
    if inbound.callback_data is not None:
        if inbound.callback_id:
            await answer_button(session, me, callback_id=inbound.callback_id, now=now)
        rated = rating.parse_button(inbound.callback_data)
        if rated is not None:
            live = await conversations.load_conversation(
                session, channel=inbound.channel, chat_id=inbound.chat_id, now=now
            )
            if live is not None and live.step == rating.RATING:
                await conversations.clear_conversation(session, channel=inbound.channel, chat_id=inbound.chat_id)
            await rating.rate(session, desk, citizen, me, *rated)
            return
        text = _BUTTON_WORDS.get(inbound.callback_data, "")
        if not text:
            # A button from an old message or another feature: nothing to do in the dialog.
            return

    if text.startswith("/"):
        await _command(session, desk, inbound, citizen, me, text)
        return

    conversation = await conversations.load_conversation(
        session, channel=inbound.channel, chat_id=inbound.chat_id, now=now
    )
    step = conversation.step if conversation else None
    draft: dict[str, Any] = dict(conversation.data) if conversation else {}
    if step == rating.RATING:
        await conversations.clear_conversation(session, channel=inbound.channel, chat_id=inbound.chat_id)
        stars = rating.parse_typed(text)
        if stars is not None and not inbound.media and inbound.location is None:
            await rating.rate(session, desk, citizen, me, int(draft.get("complaint_id", 0)), stars)
            return
        step, draft = None, {}  # anything else starts afresh, e.g. a new complaint

    if released and step is None and _checks_in(inbound, text):
        # The citizen wrote (as WhatsApp's template asks) to receive what was waiting: those messages
        # are the answer, not a greeting. A rating request among them was not seen until now, so the
        # next message is awaited as its answer (a step set when it was held may have lapsed or
        # been used up by this very message).
        held_ratings = [
            complaint_id for purpose, complaint_id in released if purpose == rating.PURPOSE and complaint_id
        ]
        if held_ratings:
            await rating.await_typed_rating(session, desk, citizen, held_ratings[-1])
        return

    if _word(text) in texts.CANCEL and step is not None:
        await conversations.clear_conversation(session, channel=inbound.channel, chat_id=inbound.chat_id)
        await send_text(session, me, texts.CANCELLED, now=now)
        return

    if inbound.unsupported and not (inbound.media or inbound.location):
        what = texts.UNSUPPORTED_NAMES.get(inbound.unsupported, "jenis pesan ini")
        reply = texts.UNSUPPORTED.format(what=what)
        if step is not None:
            reply += "\n\n" + _prompt(desk, step, draft)
            # Answering keeps the draft alive: the citizen is still here.
            await _save(session, desk, inbound, step, draft)
        await send_text(session, me, reply, now=now)
        return

    notes: list[str] = []
    if inbound.location is not None:
        draft["location"] = {
            "lat": inbound.location.lat,
            "lon": inbound.location.lon,
            "address": inbound.location.address[:MAX_ADDRESS_CHARS],
        }
        if step in (None, DESCRIPTION):
            notes.append(texts.LOCATION_RECEIVED)
    if inbound.media:
        photos: list[dict[str, str]] = list(draft.get("media", []))
        for media in inbound.media:
            if len(photos) >= MAX_PHOTOS:
                notes.append(texts.TOO_MANY_PHOTOS.format(max=MAX_PHOTOS))
                break
            photos.append(
                {"kind": media.kind, "source": media.source, "ref": media.ref, "content_type": media.content_type}
            )
        draft["media"] = photos
        if step in (None, DESCRIPTION, LOCATION):
            notes.append(texts.PHOTO_RECEIVED)

    if step is None:
        if text and not _is_greeting(text):
            step = DESCRIPTION  # the first message already describes the problem
        elif inbound.location is None and not inbound.media:
            await _save(session, desk, inbound, DESCRIPTION, draft)
            await send_text(session, me, texts.GREETING.format(city=desk.city), now=now)
            return
        else:
            step = DESCRIPTION

    if step == DESCRIPTION:
        if not text:
            await _save(session, desk, inbound, DESCRIPTION, draft)
            await send_text(session, me, _joined(notes, _prompt(desk, DESCRIPTION, draft)), now=now)
            return
        if len(text) < MIN_DESCRIPTION_CHARS or _is_greeting(text):
            await _save(session, desk, inbound, DESCRIPTION, draft)
            await send_text(session, me, _joined(notes, texts.DESCRIPTION_TOO_SHORT), now=now)
            return
        draft["description"] = text[:MAX_DESCRIPTION_CHARS]
        result = classify(draft["description"], desk.lexicon)
        draft["opd"] = result.opd if result.opd in desk.agencies else None
        draft["category"] = result.category
        draft["confidence"] = float(result.confidence)
        step = PHOTO if "location" in draft else LOCATION
        if step == PHOTO and draft.get("media"):
            step = CONFIRM
        await _advance(session, desk, inbound, me, step, draft, notes)
        return

    if step == LOCATION:
        if inbound.location is not None:
            step = CONFIRM if draft.get("media") else PHOTO
        elif text and _word(text) in texts.SKIP:
            step = CONFIRM if draft.get("media") else PHOTO
        elif text:
            draft["location_text"] = text[:MAX_ADDRESS_CHARS]
            step = CONFIRM if draft.get("media") else PHOTO
        await _advance(session, desk, inbound, me, step, draft, notes)
        return

    if step == PHOTO:
        if inbound.media or (text and _word(text) in texts.SKIP):
            step = CONFIRM
        elif text:
            # Extra detail typed at the photo step is kept with the description.
            draft["description"] = (draft.get("description", "") + "\n" + text)[:MAX_DESCRIPTION_CHARS]
        await _advance(session, desk, inbound, me, step, draft, notes)
        return

    # CONFIRM
    if text and _word(text) in texts.YES:
        await conversations.clear_conversation(session, channel=inbound.channel, chat_id=inbound.chat_id)
        await _file(session, desk, me, citizen, draft)
        return
    if inbound.media or inbound.location is not None:
        await _advance(session, desk, inbound, me, CONFIRM, draft, notes)
        return
    await _save(session, desk, inbound, CONFIRM, draft)
    await send_text(
        session,
        me,
        texts.CONFIRM_AGAIN,
        now=now,
        buttons=[[Button("Kirim", BUTTON_YES), Button("Batal", BUTTON_CANCEL)]],
    )


def _joined(notes: list[str], message: str) -> str:
    return "\n".join([*notes, message]) if notes else message


async def _save(session: AsyncSession, desk: Desk, inbound: Inbound, step: str, draft: dict[str, Any]) -> None:
    await conversations.save_conversation(
        session,
        channel=inbound.channel,
        chat_id=inbound.chat_id,
        step=step,
        data=draft,
        now=desk.now(),
        ttl=desk.draft_ttl,
    )


async def _advance(
    session: AsyncSession,
    desk: Desk,
    inbound: Inbound,
    me: Recipient,
    step: str,
    draft: dict[str, Any],
    notes: list[str],
) -> None:
    """Store the new step and ask its question."""
    await _save(session, desk, inbound, step, draft)
    buttons: list[list[Button]] = []
    if step in (LOCATION, PHOTO):
        buttons = _skip_button()
    elif step == CONFIRM:
        buttons = [[Button("Kirim", BUTTON_YES), Button("Batal", BUTTON_CANCEL)]]
    await send_text(session, me, _joined(notes, _prompt(desk, step, draft)), now=desk.now(), buttons=buttons)


def _prompt(desk: Desk, step: str, draft: dict[str, Any]) -> str:
    """The question of a step."""
    if step == DESCRIPTION:
        return texts.GREETING.format(city=desk.city)
    if step == LOCATION:
        return texts.ASK_LOCATION
    if step == PHOTO:
        return texts.ASK_PHOTO
    return _summary(desk, draft)


def _summary(desk: Desk, draft: dict[str, Any]) -> str:
    """The confirmation summary of a draft."""
    location = draft.get("location")
    if location:
        place = location.get("address") or f"titik peta {location['lat']:.5f}, {location['lon']:.5f}"
    else:
        place = draft.get("location_text") or texts.NO_LOCATION
    photos = len(draft.get("media", []))
    opd = draft.get("opd")
    agency = desk.agency_name(opd) if opd else texts.SUMMARY_TO_HUMAS.format(city=desk.city)
    return texts.SUMMARY.format(
        description=cards.shorten(draft.get("description", ""), 700),
        location=place,
        photos=f"{photos} foto" if photos else texts.NO_PHOTO,
        agency=agency,
    )


async def _file(session: AsyncSession, desk: Desk, me: Recipient, citizen: Citizen, draft: dict[str, Any]) -> None:
    """Store the complaint, tell the citizen its number, and send the card to the agency."""
    now = desk.now()
    location = draft.get("location") or {}
    location_text = location.get("address") or draft.get("location_text") or None
    assert citizen.id is not None
    complaint = await complaints.create_complaint(
        session,
        citizen_id=citizen.id,
        description=draft.get("description", ""),
        opd_code=draft.get("opd"),
        category=draft.get("category"),
        confidence=float(draft.get("confidence", 0.0)),
        now=now,
        due_at=now + desk.answer_within,
        location_lat=location.get("lat"),
        location_lon=location.get("lon"),
        location_text=location_text,
        media=list(draft.get("media", [])),
    )
    assert complaint.id is not None
    owner = complaint.opd_code or HUMAS
    await complaints.add_event(
        session,
        complaint_id=complaint.id,
        kind="filed",
        now=now,
        actor="citizen",
        detail=f"routed to {owner} (confidence {complaint.confidence:.2f})",
    )
    await complaints.add_message(
        session,
        complaint_id=complaint.id,
        direction="in",
        author="citizen",
        author_label=citizen.display_name,
        text=complaint.description,
        now=now,
    )
    ticket = desk.ticket(complaint.id)
    deadline = desk.local_time(complaint.due_at)
    template = texts.FILED if complaint.opd_code else texts.FILED_TO_HUMAS
    await send_text(
        session,
        me,
        template.format(ticket=ticket, agency=desk.agency_name(owner), deadline=deadline),
        now=now,
        complaint_id=complaint.id,
        purpose="filed",
    )
    await cards.send_card(session, desk, complaint, citizen)


async def _command(
    session: AsyncSession, desk: Desk, inbound: Inbound, citizen: Citizen, me: Recipient, text: str
) -> None:
    """Slash commands in a citizen's chat."""
    now = desk.now()
    head, _, rest = text[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    rest = rest.strip()
    if name == "start":
        await _save(session, desk, inbound, DESCRIPTION, {})
        await send_text(session, me, texts.GREETING.format(city=desk.city), now=now)
    elif name == "batal":
        conversation = await conversations.load_conversation(
            session, channel=inbound.channel, chat_id=inbound.chat_id, now=now
        )
        await conversations.clear_conversation(session, channel=inbound.channel, chat_id=inbound.chat_id)
        await send_text(session, me, texts.CANCELLED if conversation else texts.NOTHING_TO_CANCEL, now=now)
    elif name in ("bantuan", "help"):
        await send_text(
            session,
            me,
            texts.HELP.format(
                city=desk.city, hours=f"{desk.answer_within.total_seconds() / 3600:g}", prefix=desk.ticket_prefix
            ),
            now=now,
        )
    elif name == "status":
        await show_status(session, desk, me, citizen, rest)
    else:
        await send_text(session, me, texts.UNKNOWN_COMMAND, now=now)

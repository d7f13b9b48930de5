"""The citizen's conversation: understood first (routing.understand), then acted on by the step it is in.

The dialog is an explicit state machine. `STEPS` lists, in one place, every step and the meanings
it accepts, each with what it does; a meaning a step does not list gets that step's fallback: a
short question, never a silent change of state. (A table of coroutines says it more plainly than a
state-machine library would: the steps' transitions depend on the draft's content, which such
libraries express as guards anyway.)
"""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import cards, duplicates, followup, rating, texts, verify
from handlers.desk import HUMAS, Desk
from handlers.events import Inbound
from handlers.outgoing import Button, Recipient, answer_button, clear_buttons, send_text
from handlers.status import show_status
from handlers.texts import dialog
from handlers.texts import duplicates as dup_texts
from handlers.texts import public as public_texts
from handlers.textsafe import ascii_int
from routing import classify
from routing.understand import Context, Meaning, State, Understanding, find_location, find_ticket, understand
from storage import citizens, complaints, conversations, outbox
from storage.models import Citizen, Complaint, ComplaintStatus

# Steps of the dialog, as stored in Conversation.step (None: no question open).
DESCRIPTION = "description"
CLARIFY = "clarify"
LOCATION = "location"
CONFIRM_LOCATION = "confirm_location"
PHOTO = "photo"
CONFIRM = "confirm"
EDIT = "edit"
EDIT_DESCRIPTION = "edit_description"
EDIT_LOCATION = "edit_location"
EDIT_PHOTO = "edit_photo"
# "Already reported?": open complaints of the same agency are offered to follow instead (handlers.duplicates).
OFFER = "offer"

MIN_DESCRIPTION_CHARS = 10
MAX_DESCRIPTION_CHARS = 4000
MAX_ADDRESS_CHARS = 500
MAX_PHOTOS = 5

# Inline buttons carry "intake:<action>:<draft token>"; a press whose token is not the open draft's
# is stale. Pressing a live one is the same as typing its meaning.
BUTTON_PREFIX = "intake:"
_ACTIONS = {
    "ya": Meaning.YES,
    "batal": Meaning.CANCEL,
    "lewati": Meaning.SKIP,
    "ubah": Meaning.EDIT,
    "baru": Meaning.YES,
    "status": Meaning.STATUS,
}
_EDIT_WORDS = {
    "1": EDIT_DESCRIPTION,
    "uraian": EDIT_DESCRIPTION,
    "deskripsi": EDIT_DESCRIPTION,
    "keterangan": EDIT_DESCRIPTION,
    "isi": EDIT_DESCRIPTION,
    "masalah": EDIT_DESCRIPTION,
    "2": EDIT_LOCATION,
    "lokasi": EDIT_LOCATION,
    "lokasinya": EDIT_LOCATION,
    "alamat": EDIT_LOCATION,
    "alamatnya": EDIT_LOCATION,
    "tempat": EDIT_LOCATION,
    "3": EDIT_PHOTO,
    "foto": EDIT_PHOTO,
    "fotonya": EDIT_PHOTO,
    "gambar": EDIT_PHOTO,
}
_STATE_OF_STEP = {
    None: State.IDLE,
    DESCRIPTION: State.IDLE,
    CLARIFY: State.IDLE,
    rating.RATING: State.AWAITING_RATING,
    LOCATION: State.AWAITING_LOCATION,
    EDIT_LOCATION: State.AWAITING_LOCATION,
    CONFIRM_LOCATION: State.CONFIRMING_LOCATION,
    PHOTO: State.AWAITING_PHOTO,
    EDIT_PHOTO: State.AWAITING_PHOTO,
    CONFIRM: State.CONFIRMING,
    EDIT: State.CONFIRMING,
    EDIT_DESCRIPTION: State.IDLE,
    OFFER: State.IDLE,
    verify.VERIFY: State.IDLE,
}


@dataclass
class Turn:
    """One message being handled: who, where, what it means, and the draft it may change."""

    session: AsyncSession
    desk: Desk
    inbound: Inbound
    citizen: Citizen
    me: Recipient
    step: str | None
    draft: dict[str, Any]
    meaning: Understanding
    mine: list[Complaint] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """What the citizen typed (or the caption)."""
        return self.inbound.text.strip()


Action = Callable[[Turn], Awaitable[None]]


# -- entry -------------------------------------------------------------------------------------------------


async def handle_private(session: AsyncSession, desk: Desk, inbound: Inbound) -> None:
    """Handle one event from a citizen's private chat."""
    now = desk.now()
    me = Recipient(inbound.channel, inbound.chat_id)
    citizen = await citizens.touch_citizen(
        session,
        channel=inbound.channel,
        address=inbound.chat_id,
        display_name=inbound.sender_name,
        handle=inbound.sender_handle,
        now=now,
    )
    # Messages held until the citizen wrote again (WhatsApp's 24-hour window) go out first.
    released = (
        await outbox.release_held(session, channel=inbound.channel, chat_id=inbound.chat_id, now=now)
        if inbound.channel in desk.holds_messages
        else []
    )
    await session.flush()
    conversation = await conversations.load_conversation(
        session, channel=inbound.channel, chat_id=inbound.chat_id, now=now
    )
    step = conversation.step if conversation else None
    draft: dict[str, Any] = dict(conversation.data) if conversation else {}
    assert citizen.id is not None
    mine = await complaints.complaints_of_citizen(session, citizen_id=citizen.id)

    if inbound.callback_data is not None:
        meaning = await _press(session, desk, inbound, citizen, me, step, draft)
        if meaning is None:
            return
    elif inbound.text.strip().startswith("/"):
        await _command(session, desk, inbound, citizen, me, inbound.text.strip())
        return
    else:
        if released and step in (None, rating.RATING, verify.VERIFY) and _checks_in(inbound):
            # The citizen wrote (as WhatsApp's template asks) to receive what was waiting: those
            # messages are the answer, not a greeting. A rating request among them was not seen until
            # now, so the next message is awaited as its answer.
            held = [(purpose, complaint_id) for purpose, complaint_id in released if complaint_id]
            asked = [(p, c) for p, c in held if p in (rating.PURPOSE, verify.PURPOSE)]
            if asked and asked[-1][0] == verify.PURPOSE:
                # Likewise the "sudah beres?" question: the next message is its answer.
                await verify.await_typed_answer(session, desk, citizen, asked[-1][1])
            elif asked:
                await rating.await_typed_rating(session, desk, citizen, asked[-1][1])
            return
        if inbound.unsupported and not (inbound.media or inbound.location):
            await _unsupported(session, desk, inbound, me, step, draft)
            return
        meaning = _understand(desk, inbound, step, draft, mine)

    turn = Turn(session, desk, inbound, citizen, me, step, draft, meaning, mine)
    if step == rating.RATING:
        await _at_rating(turn)
        return
    if step == verify.VERIFY:
        await _at_verify(turn)
        return
    if inbound.media or inbound.location is not None:
        if step is None and await _attach_to_new_ticket(turn):
            return
        _take_attachments(turn)
    actions = STEPS.get(step, STEPS[None])
    action = actions.get(meaning.meaning, _FALLBACK.get(step, _idle_unclear))
    await action(turn)


def _context(desk: Desk, step: str | None, draft: dict[str, Any], mine: list[Complaint], text: str) -> Context:
    open_ids = tuple(sorted(c.id for c in mine if c.id is not None))
    answered = tuple(sorted(c.id for c in mine if c.id is not None and c.status == ComplaintStatus.ANSWERED))
    return Context(
        state=_STATE_OF_STEP.get(step, State.IDLE),
        open_tickets=open_ids,
        answered_tickets=answered,
        rating_for=int(draft["complaint_id"]) if step == rating.RATING and "complaint_id" in draft else None,
        ticket_prefix=desk.ticket_prefix,
        ticket_agencies=tuple((c.id, c.opd_code) for c in mine if c.id is not None),
        message_agency=classify(text, desk.lexicon).opd if text and mine else None,
    )


def _understand(
    desk: Desk, inbound: Inbound, step: str | None, draft: dict[str, Any], mine: list[Complaint]
) -> Understanding:
    """The message's meaning; a reply to the bot's own message about a ticket concerns that ticket."""
    context = _context(desk, step, draft, mine, inbound.text.strip())
    text = inbound.text.strip()
    if not any(unicodedata.category(ch)[0] not in "CZ" for ch in text):
        if inbound.media or inbound.location is not None:
            # A photo or a map point alone: its meaning comes from the step (an answer, or an addition).
            return Understanding(Meaning.UNCLEAR)
        return Understanding(Meaning.GREETING)  # nothing visible was said: as if they said hello
    meaning = understand(text, context)
    if inbound.reply_to_text and meaning.ticket is None and step is None:
        replied, _ = find_ticket(inbound.reply_to_text, Context(State.IDLE, ticket_prefix=desk.ticket_prefix))
        if replied is not None and meaning.meaning in (Meaning.COMPLAINT, Meaning.UNCLEAR, Meaning.ADDITION):
            return Understanding(Meaning.ADDITION, ticket=replied, rest=text)
        if replied is not None:
            return Understanding(meaning.meaning, ticket=replied, stars=meaning.stars, rest=meaning.rest)
    return meaning


def _checks_in(inbound: Inbound) -> bool:
    """Whether a message only says hello (or "ok"), rather than saying or sending something."""
    if inbound.media or inbound.location is not None or inbound.unsupported:
        return False
    text = inbound.text.strip()
    meaning = understand(text, Context(State.IDLE)).meaning if text else Meaning.GREETING
    return meaning in (Meaning.GREETING, Meaning.SMALLTALK, Meaning.THANKS) or len(text) < MIN_DESCRIPTION_CHARS


# -- buttons -----------------------------------------------------------------------------------------------


async def _press(
    session: AsyncSession,
    desk: Desk,
    inbound: Inbound,
    citizen: Citizen,
    me: Recipient,
    step: str | None,
    draft: dict[str, Any],
) -> Understanding | None:
    """A button press: its meaning if it belongs to the open question, else a stale-button notice."""
    now = desk.now()
    data = inbound.callback_data or ""
    stars = rating.parse_button(data)
    if stars is not None:
        if inbound.callback_id:
            await answer_button(session, me, callback_id=inbound.callback_id, now=now)
        if inbound.message_id:
            await _clear_buttons(session, desk, me, now=now, message_id=inbound.message_id)
        if step == rating.RATING:
            await conversations.clear_conversation(session, channel=inbound.channel, chat_id=inbound.chat_id)
        await rating.rate(session, desk, citizen, me, *stars)
        return None
    fixed = verify.parse_button(data)
    if fixed is not None:
        if inbound.callback_id:
            await answer_button(session, me, callback_id=inbound.callback_id, now=now)
        if inbound.message_id:
            await _clear_buttons(session, desk, me, now=now, message_id=inbound.message_id)
        if step == verify.VERIFY:
            await conversations.clear_conversation(session, channel=inbound.channel, chat_id=inbound.chat_id)
        await verify.answer(session, desk, citizen, me, *fixed)
        return None
    action, _, token = data.removeprefix(BUTTON_PREFIX).partition(":")
    live = data.startswith(BUTTON_PREFIX) and step is not None and bool(token) and token == draft.get("token")
    meaning = _ACTIONS.get(action)
    if action.startswith("e") and action[1:] in ("1", "2", "3"):
        meaning = Meaning.EDIT
    if action.startswith("f") and action[1:] in ("1", "2", "3"):
        meaning = Meaning.ANSWER  # "follow the n-th complaint offered"
    if not live or meaning is None:
        # An old message's button: it changes nothing, and says so.
        if inbound.callback_id:
            await answer_button(session, me, callback_id=inbound.callback_id, now=now, notice=dialog.STALE_BUTTON)
        else:
            # A messenger without a notice on the button itself (a WhatsApp tap): say it in the chat.
            await send_text(session, me, dialog.STALE_BUTTON, now=now)
        if inbound.message_id:
            await _clear_buttons(session, desk, me, now=now, message_id=inbound.message_id)
        return None
    if inbound.callback_id:
        await answer_button(session, me, callback_id=inbound.callback_id, now=now)
    if inbound.message_id:
        await _clear_buttons(session, desk, me, now=now, message_id=inbound.message_id)
        draft.pop("keyboard", None)  # those buttons are gone now
    rest = action[1:] if meaning in (Meaning.EDIT, Meaning.ANSWER) and action != "ubah" else ""
    if action == "baru":
        rest = "baru"
    return Understanding(meaning, rest=rest)


def _buttons(turn: Turn, *pairs: tuple[str, str]) -> list[list[Button]]:
    """One row of buttons bound to the question now asked: a fresh token makes every older one stale."""
    token = turn.draft["token"] = secrets.token_hex(4)
    return [[Button(label, f"{BUTTON_PREFIX}{action}:{token}") for label, action in pairs]]


# -- saving and asking ---------------------------------------------------------------------------------------


async def _save(turn: Turn, step: str) -> None:
    turn.step = step
    await conversations.save_conversation(
        turn.session,
        channel=turn.inbound.channel,
        chat_id=turn.inbound.chat_id,
        step=step,
        data=turn.draft,
        now=turn.desk.now(),
        ttl=turn.desk.draft_ttl,
    )


async def _retire_keyboard(turn: Turn) -> None:
    """Take the buttons off the previous question: it is answered or superseded."""
    previous = turn.draft.pop("keyboard", None)
    if previous is not None:
        await _clear_buttons(turn.session, turn.desk, turn.me, now=turn.desk.now(), outbox_ref=int(previous))


async def _ask(turn: Turn, step: str, question: str, buttons: list[list[Button]] | None = None) -> None:
    """Store the step and ask its question (with any notes first); older buttons are taken away."""
    await _retire_keyboard(turn)
    if not buttons:
        turn.draft.pop("token", None)  # no button of an earlier question answers this one
    message = "\n".join([*turn.notes, question]) if turn.notes else question
    sent = await send_text(turn.session, turn.me, message, now=turn.desk.now(), buttons=buttons or ())
    if buttons and sent is not None:
        turn.draft["keyboard"] = sent
    await _save(turn, step)


async def _say(turn: Turn, text: str) -> None:
    """Answer without changing the step (notes first)."""
    message = "\n".join([*turn.notes, text]) if turn.notes else text
    await send_text(turn.session, turn.me, message, now=turn.desk.now())


async def _close_dialog(turn: Turn) -> None:
    await _retire_keyboard(turn)
    turn.step = None
    await conversations.clear_conversation(turn.session, channel=turn.inbound.channel, chat_id=turn.inbound.chat_id)


# -- photos and map points -----------------------------------------------------------------------------------


async def _attach_to_new_ticket(turn: Turn) -> bool:
    """A photo or map point moments after filing belongs to that ticket (unless it says otherwise)."""
    if turn.meaning.meaning not in (Meaning.UNCLEAR, Meaning.ADDITION, Meaning.SMALLTALK):
        return False
    recent = await followup.just_filed(turn.session, turn.desk, turn.citizen)
    if recent is None:
        return False
    await followup.add_to_ticket(
        turn.session,
        turn.desk,
        turn.me,
        turn.citizen,
        recent,
        text=turn.meaning.rest if turn.meaning.meaning == Meaning.ADDITION else turn.text,
        photos=turn.inbound.media,
        location=turn.inbound.location,
    )
    return True


def _take_attachments(turn: Turn) -> None:
    """Keep the photos and the map point a message brought in the draft."""
    inbound, draft = turn.inbound, turn.draft
    if inbound.location is not None:
        draft["location"] = {
            "lat": inbound.location.lat,
            "lon": inbound.location.lon,
            "address": inbound.location.address[:MAX_ADDRESS_CHARS],
        }
        draft.pop("location_text", None)
        draft.pop("proposed_location", None)
        if turn.step in (None, DESCRIPTION, CLARIFY):
            turn.notes.append(texts.LOCATION_RECEIVED)
    if inbound.media:
        photos: list[dict[str, str]] = [] if draft.pop("replace_photos", False) else list(draft.get("media", []))
        for media in inbound.media:
            if len(photos) >= MAX_PHOTOS:
                turn.notes.append(texts.TOO_MANY_PHOTOS.format(max=MAX_PHOTOS))
                break
            photos.append(
                {"kind": media.kind, "source": media.source, "ref": media.ref, "content_type": media.content_type}
            )
        draft["media"] = photos
        if turn.step in (None, DESCRIPTION, CLARIFY, LOCATION, CONFIRM_LOCATION):
            turn.notes.append(texts.PHOTO_RECEIVED)


# -- no question open ----------------------------------------------------------------------------------------


async def _new_complaint(turn: Turn) -> None:
    """A message that reads like a complaint: it is the draft's description."""
    await _describe(turn, turn.text)


async def _describe(turn: Turn, text: str) -> None:
    if len(text) < MIN_DESCRIPTION_CHARS:
        await _ask(turn, DESCRIPTION, dialog.DESCRIPTION_TOO_SHORT)
        return
    draft = turn.draft
    draft["description"] = text[:MAX_DESCRIPTION_CHARS]
    result = classify(draft["description"], turn.desk.lexicon)
    draft["opd"] = result.opd if result.opd in turn.desk.agencies else None
    draft["category"] = result.category
    draft["confidence"] = float(result.confidence)
    await _after_description(turn)


async def _after_description(turn: Turn) -> None:
    """Ask for what the draft still lacks: the location (proposed if the text names one), then a photo."""
    draft = turn.draft
    if "location" not in draft and "location_text" not in draft and not draft.get("location_skipped"):
        place = find_location(draft.get("description", ""))
        if place:
            draft["proposed_location"] = place[:MAX_ADDRESS_CHARS]
            await _ask(
                turn,
                CONFIRM_LOCATION,
                dialog.LOCATION_PROPOSE.format(place=place),
                _buttons(turn, (dialog.BUTTON_YES, "ya"), (dialog.BUTTON_EDIT, "ubah")),
            )
            return
        await _ask(turn, LOCATION, texts.ASK_LOCATION, _buttons(turn, (dialog.BUTTON_SKIP, "lewati")))
        return
    if draft.get("location") and await _offer(turn):
        return  # a map point: nearby open complaints are offered right after the location step
    if not draft.get("media") and not draft.get("photo_skipped"):
        await _ask(turn, PHOTO, texts.ASK_PHOTO, _buttons(turn, (dialog.BUTTON_SKIP, "lewati")))
        return
    await _confirm(turn)


async def _confirm(turn: Turn) -> None:
    if not turn.draft.get("location") and await _offer(turn):
        return  # no map point: complaints with nearly the same text are offered before the summary
    await _ask(
        turn,
        CONFIRM,
        _summary(turn.desk, turn.draft),
        _buttons(turn, (dialog.BUTTON_SEND, "ya"), (dialog.BUTTON_EDIT, "ubah"), (dialog.BUTTON_CANCEL, "batal")),
    )


async def _addition(turn: Turn) -> None:
    complaint = await _named_or_newest(turn)
    if complaint is None:
        await _not_found(turn)
        return
    await followup.add_to_ticket(
        turn.session,
        turn.desk,
        turn.me,
        turn.citizen,
        complaint,
        text=turn.meaning.rest if turn.meaning.rest else turn.text,
        photos=turn.inbound.media,
        location=turn.inbound.location,
    )
    if turn.step in (None, DESCRIPTION, CLARIFY):
        await _close_dialog(turn)


async def _status(turn: Turn) -> None:
    ticket = turn.meaning.ticket
    arg = turn.desk.ticket(ticket) if ticket is not None else ""
    await show_status(turn.session, turn.desk, turn.me, turn.citizen, arg)
    if turn.step in (DESCRIPTION, CLARIFY):
        await _close_dialog(turn)


async def _dispute(turn: Turn) -> None:
    complaint = await _named_or_newest(turn, answered_first=True)
    if complaint is None:
        await _not_found(turn)
        return
    await followup.dispute(turn.session, turn.desk, turn.me, turn.citizen, complaint, text=turn.text)
    if turn.step in (None, DESCRIPTION, CLARIFY):
        await _close_dialog(turn)


async def _rating(turn: Turn) -> None:
    complaint = await _named_or_newest(turn, answered_first=True)
    stars = turn.meaning.stars
    if complaint is None or complaint.id is None or stars is None:
        await _say(turn, dialog.RATE_NONE)
        return
    await rating.rate(turn.session, turn.desk, turn.citizen, turn.me, complaint.id, stars)


async def _thanks(turn: Turn) -> None:
    await followup.say_thanks(turn.session, turn.desk, turn.me, turn.mine)
    if turn.step in (DESCRIPTION, CLARIFY):
        await _close_dialog(turn)


async def _greeting(turn: Turn) -> None:
    if turn.mine:
        await followup.greet_again(turn.session, turn.desk, turn.me, turn.mine[0])
        return
    # The next message is awaited as the description.
    await _ask(turn, DESCRIPTION, texts.GREETING.format(city=turn.desk.city))


async def _smalltalk(turn: Turn) -> None:
    await _say(turn, dialog.SMALLTALK_REPLY)


async def _help(turn: Turn) -> None:
    await _say(turn, _help_text(turn.desk))


async def _cancel_idle(turn: Turn) -> None:
    ticket = turn.meaning.ticket or (turn.mine[0].id if turn.mine and turn.meaning.ticket is None else None)
    if turn.step in (DESCRIPTION, CLARIFY):
        await _close_dialog(turn)
        await _say(turn, texts.CANCELLED)
    elif ticket is not None and turn.meaning.ticket is not None:
        await _say(turn, dialog.CANCEL_FILED.format(ticket=turn.desk.ticket(ticket)))
    else:
        await _say(turn, texts.NOTHING_TO_CANCEL)


async def _idle_unclear(turn: Turn) -> None:
    """Not clear enough to act on: one short question, and the text is kept for a "ya"."""
    if not turn.text and (turn.inbound.media or turn.inbound.location is not None):
        # A photo or point with no words and no ticket to add it to: it starts a draft.
        await _ask(turn, DESCRIPTION, "\n".join([texts.DESCRIBE_PROBLEM]))
        return
    if turn.step == DESCRIPTION and len(turn.text) >= MIN_DESCRIPTION_CHARS:
        # The bot asked for the description: a long enough text is one.
        await _describe(turn, turn.text)
        return
    if turn.mine and turn.mine[0].id is not None:
        question = dialog.CLARIFY_WITH_TICKETS.format(ticket=turn.desk.ticket(turn.mine[0].id))
    else:
        question = dialog.CLARIFY_NEW
    turn.draft = {"pending": turn.text[:MAX_DESCRIPTION_CHARS]} if turn.text else {}
    await _ask(turn, CLARIFY, question, _buttons(turn, (dialog.BUTTON_NEW, "baru")))


async def _clarified_yes(turn: Turn) -> None:
    """ "Ya" to "is this a new complaint?": the text kept is the description."""
    pending = str(turn.draft.pop("pending", ""))
    if pending:
        await _describe(turn, pending)
    else:
        await _ask(turn, DESCRIPTION, texts.GREETING.format(city=turn.desk.city))


async def _describe_after_greeting(turn: Turn) -> None:
    if len(turn.text) >= MIN_DESCRIPTION_CHARS:
        await _describe(turn, turn.text)
    else:
        await _idle_unclear(turn)


# -- the draft's steps -------------------------------------------------------------------------------------


async def _cancel(turn: Turn) -> None:
    await _close_dialog(turn)
    await _say(turn, texts.CANCELLED)


async def _location_text(turn: Turn) -> None:
    if turn.inbound.location is None:
        turn.draft["location_text"] = (turn.meaning.rest or turn.text)[:MAX_ADDRESS_CHARS]
        turn.draft.pop("location", None)
    await _after_step(turn)


async def _location_skip(turn: Turn) -> None:
    turn.draft["location_skipped"] = True
    await _after_step(turn)


async def _location_pin_or_ask(turn: Turn) -> None:
    """Anything else at the location step: a map point answers it; a filler is asked again."""
    if turn.inbound.location is not None:
        await _after_step(turn)
    elif turn.inbound.media:
        await _ask(turn, LOCATION, texts.ASK_LOCATION, _buttons(turn, (dialog.BUTTON_SKIP, "lewati")))
    else:
        await _ask(turn, turn.step or LOCATION, dialog.LOCATION_FILLER, _buttons(turn, (dialog.BUTTON_SKIP, "lewati")))


async def _after_step(turn: Turn) -> None:
    """Go on to what the draft still lacks (or back to the summary when correcting)."""
    if turn.step in (EDIT_LOCATION, EDIT_PHOTO, EDIT_DESCRIPTION):
        await _confirm(turn)
        return
    await _after_description(turn)


async def _one_at_a_time(turn: Turn) -> None:
    turn.notes.append(dialog.ONE_AT_A_TIME)
    await _reask(turn)


async def _reask(turn: Turn) -> None:
    """Ask the open step's question again (after answering something else)."""
    step = turn.step
    if step in (LOCATION, EDIT_LOCATION):
        await _ask(turn, step, texts.ASK_LOCATION, _buttons(turn, (dialog.BUTTON_SKIP, "lewati")))
    elif step == CONFIRM_LOCATION:
        await _after_description(turn)
    elif step in (PHOTO, EDIT_PHOTO):
        await _ask(turn, step, texts.ASK_PHOTO, _buttons(turn, (dialog.BUTTON_SKIP, "lewati")))
    elif step == EDIT:
        await _edit_menu(turn)
    else:
        await _confirm(turn)


async def _status_then_reask(turn: Turn) -> None:
    await _status(turn)
    await _reask(turn)


async def _help_location(turn: Turn) -> None:
    turn.notes.append(dialog.HELP_LOCATION)
    await _reask(turn)


async def _help_photo(turn: Turn) -> None:
    await _say(turn, dialog.HELP_PHOTO)


async def _proposed_yes(turn: Turn) -> None:
    turn.draft["location_text"] = str(turn.draft.pop("proposed_location", ""))[:MAX_ADDRESS_CHARS]
    await _after_description(turn)


async def _proposed_change(turn: Turn) -> None:
    turn.draft.pop("proposed_location", None)
    await _ask(turn, LOCATION, texts.ASK_LOCATION, _buttons(turn, (dialog.BUTTON_SKIP, "lewati")))


async def _proposed_other(turn: Turn) -> None:
    """Typed a different place, or sent a map point, instead of confirming the one proposed."""
    turn.draft.pop("proposed_location", None)
    if turn.inbound.location is None:
        turn.draft["location_text"] = turn.text[:MAX_ADDRESS_CHARS]
    await _after_description(turn)


async def _proposed_unclear(turn: Turn) -> None:
    if turn.inbound.location is not None:
        await _proposed_other(turn)
    else:
        await _after_description(turn)


async def _photo_taken_or_ask(turn: Turn) -> None:
    if turn.inbound.media:
        await _after_step(turn) if turn.step == EDIT_PHOTO else await _confirm(turn)
    elif turn.inbound.location is not None:
        await _reask(turn)
    else:
        await _ask(turn, turn.step or PHOTO, texts.ASK_PHOTO, _buttons(turn, (dialog.BUTTON_SKIP, "lewati")))


async def _photo_skip(turn: Turn) -> None:
    turn.draft["photo_skipped"] = True
    if turn.step == EDIT_PHOTO and turn.text.lower().startswith("hapus"):
        turn.draft["media"] = []
    await _confirm(turn)


async def _photo_wait(turn: Turn) -> None:
    await _say(turn, dialog.PHOTO_NOT_YET)


async def _photo_detail(turn: Turn) -> None:
    """More detail typed at the photo step is kept with the description."""
    turn.draft["description"] = (turn.draft.get("description", "") + "\n" + turn.text)[:MAX_DESCRIPTION_CHARS]
    await _reask(turn)


async def _photo_location(turn: Turn) -> None:
    turn.draft["location_text"] = turn.text[:MAX_ADDRESS_CHARS]
    turn.draft.pop("location", None)
    turn.notes.append(texts.LOCATION_RECEIVED)
    await _reask(turn)


async def _send(turn: Turn) -> None:
    draft = dict(turn.draft)
    await _close_dialog(turn)
    await file_draft(turn.session, turn.desk, turn.me, turn.citizen, draft)


async def _not_yet(turn: Turn) -> None:
    await _ask(
        turn,
        CONFIRM,
        dialog.NOT_SENT_YET,
        _buttons(turn, (dialog.BUTTON_SEND, "ya"), (dialog.BUTTON_EDIT, "ubah"), (dialog.BUTTON_CANCEL, "batal")),
    )


async def _confirm_other(turn: Turn) -> None:
    """At the summary: a photo or point updates the draft; anything else asks again."""
    if turn.inbound.media or turn.inbound.location is not None:
        await _confirm(turn)
        return
    await _ask(
        turn,
        CONFIRM,
        texts.CONFIRM_AGAIN,
        _buttons(turn, (dialog.BUTTON_SEND, "ya"), (dialog.BUTTON_EDIT, "ubah"), (dialog.BUTTON_CANCEL, "batal")),
    )


async def _edit(turn: Turn) -> None:
    """ "Ubah" (or the answer to "what to change?"): straight to the part named ("ganti lokasinya"), or ask which."""
    words = (turn.meaning.rest or turn.text).lower().replace(",", " ").split()
    target = next((_EDIT_WORDS[w] for w in words if w in _EDIT_WORDS), None)
    if target is None:
        await _edit_menu(turn)
        return
    await _edit_part(turn, target)


async def _edit_menu(turn: Turn) -> None:
    await _ask(turn, EDIT, dialog.EDIT_WHAT, _buttons(turn, *((label, f"e{n}") for label, n in dialog.EDIT_CHOICES)))


async def _edit_part(turn: Turn, target: str) -> None:
    if target == EDIT_DESCRIPTION:
        await _ask(turn, EDIT_DESCRIPTION, dialog.EDIT_DESCRIPTION)
    elif target == EDIT_LOCATION:
        await _ask(turn, EDIT_LOCATION, dialog.EDIT_LOCATION, _buttons(turn, (dialog.BUTTON_SKIP, "lewati")))
    else:
        turn.draft["replace_photos"] = True
        await _ask(turn, EDIT_PHOTO, dialog.EDIT_PHOTO, _buttons(turn, (dialog.BUTTON_SKIP, "lewati")))


async def _edit_yes(turn: Turn) -> None:
    await _confirm(turn)


async def _new_description(turn: Turn) -> None:
    """The corrected description (any text long enough); a map point or photo goes to the draft too."""
    if len(turn.text) < MIN_DESCRIPTION_CHARS:
        await _ask(turn, EDIT_DESCRIPTION, dialog.DESCRIPTION_TOO_SHORT)
        return
    turn.draft["description"] = turn.text[:MAX_DESCRIPTION_CHARS]
    result = classify(turn.draft["description"], turn.desk.lexicon)
    turn.draft["opd"] = result.opd if result.opd in turn.desk.agencies else None
    turn.draft["category"] = result.category
    turn.draft["confidence"] = float(result.confidence)
    await _confirm(turn)


async def _new_location(turn: Turn) -> None:
    if turn.inbound.location is None:
        turn.draft["location_text"] = turn.text[:MAX_ADDRESS_CHARS]
        turn.draft.pop("location", None)
    turn.draft.pop("location_skipped", None)
    await _confirm(turn)


async def _drop_location(turn: Turn) -> None:
    turn.draft.pop("location", None)
    turn.draft.pop("location_text", None)
    turn.draft["location_skipped"] = True
    await _confirm(turn)


# -- "already reported?" ------------------------------------------------------------------------------------


async def _offer(turn: Turn) -> bool:
    """Offer the same agency's open complaints about the same problem (once per draft); False if none."""
    if turn.draft.get("offered"):
        return False
    turn.draft["offered"] = True
    found = await duplicates.find_for_draft(turn.session, turn.desk, turn.citizen, turn.draft)
    if not found:
        return False
    turn.draft["offer"] = [c.complaint_id for c in found]
    token = turn.draft["token"] = secrets.token_hex(4)
    buttons = duplicates.offer_buttons(turn.draft["offer"], token, BUTTON_PREFIX)
    await _ask(turn, OFFER, duplicates.offer_message(turn.desk, found), buttons)
    return True


async def _offer_answer(turn: Turn) -> None:
    """The answer to the offer: a list or ticket number follows that complaint, "baru" files anew."""
    offered = [int(n) for n in turn.draft.get("offer", [])]
    n = ascii_int(turn.meaning.rest)
    if turn.meaning.meaning == Meaning.ANSWER and n is not None:
        chosen: int | None = offered[n - 1] if 1 <= n <= len(offered) else None
    elif turn.meaning.meaning == Meaning.YES and turn.meaning.rest == "baru":
        chosen = duplicates.NEW
    else:
        chosen = duplicates.choice(turn.desk, turn.text, offered)
    if chosen is None:
        token = turn.draft["token"] = secrets.token_hex(4)
        await _ask(
            turn,
            OFFER,
            dialog_offer_again(len(offered)),
            duplicates.offer_buttons(offered, token, BUTTON_PREFIX),
        )
        return
    turn.draft.pop("offer", None)
    if chosen == duplicates.NEW:
        await _after_description(turn)
        return
    followed = await duplicates.follow(turn.session, turn.desk, turn.citizen, chosen)
    if followed is None:
        # Closed meanwhile: the report goes on as a new one.
        turn.notes.append(dup_texts.OFFER_GONE.format(ticket=turn.desk.ticket(chosen)))
        await _after_description(turn)
        return
    if turn.draft.get("media"):
        # Their photos still help the agency: they go to the ticket they follow.
        await duplicates.share_photos(turn.session, turn.desk, followed, list(turn.draft["media"]))
    await _close_dialog(turn)


def dialog_offer_again(count: int) -> str:
    """The offer's question again, after an answer that chose nothing."""
    return dup_texts.OFFER_AGAIN.format(count=count)


# -- "sudah beres?" awaited ---------------------------------------------------------------------------------


async def _at_verify(turn: Turn) -> None:
    """Whether the problem of a closed complaint is fixed is awaited: "ya", "belum ...", or something else."""
    complaint_id = int(turn.draft.get("complaint_id", 0))
    typed = verify.parse_typed(turn.text) if not (turn.inbound.media or turn.inbound.location) else None
    if typed is not None:
        await _close_dialog(turn)
        await verify.answer(turn.session, turn.desk, turn.citizen, turn.me, complaint_id, *typed)
        return
    again = (Meaning.UNCLEAR, Meaning.SMALLTALK, Meaning.GREETING)
    if turn.meaning.meaning in again and not turn.draft.get("asked_again") and turn.text:
        turn.draft["asked_again"] = True
        await _save(turn, verify.VERIFY)
        await _say(turn, dup_texts.VERIFY_ASK_AGAIN.format(ticket=turn.desk.ticket(complaint_id)))
        return
    # Something else entirely (a new complaint, a question): the answer is not awaited any more.
    await _as_if_idle(turn)


async def _as_if_idle(turn: Turn) -> None:
    """Stop awaiting an answer and handle the message as if nothing were asked."""
    await conversations.clear_conversation(turn.session, channel=turn.inbound.channel, chat_id=turn.inbound.chat_id)
    turn.step, turn.draft = None, {}
    turn.meaning = _understand(turn.desk, turn.inbound, None, {}, turn.mine)
    if turn.inbound.media or turn.inbound.location is not None:
        if await _attach_to_new_ticket(turn):
            return
        _take_attachments(turn)
    action = STEPS[None].get(turn.meaning.meaning, _idle_unclear)
    await action(turn)


# -- a rating awaited ----------------------------------------------------------------------------------------


async def _at_rating(turn: Turn) -> None:
    """A rating is awaited: a score, a "later", a dispute; anything else is handled as if none were."""
    complaint_id = int(turn.draft.get("complaint_id", 0))
    meaning = turn.meaning.meaning
    if meaning == Meaning.RATING and turn.meaning.stars is not None:
        await _close_dialog(turn)
        await rating.rate(turn.session, turn.desk, turn.citizen, turn.me, complaint_id, turn.meaning.stars)
        return
    if meaning in (Meaning.NO, Meaning.SKIP):
        await _close_dialog(turn)
        await _say(turn, dialog.RATE_LATER)
        return
    if meaning == Meaning.DISPUTE:
        await _close_dialog(turn)
        complaint = await followup.own_ticket(turn.session, turn.citizen, complaint_id)
        if complaint is not None:
            await followup.dispute(turn.session, turn.desk, turn.me, turn.citizen, complaint, text=turn.text)
        return
    if meaning == Meaning.UNCLEAR and not turn.draft.get("asked_again") and turn.text:
        turn.draft["asked_again"] = True
        await _save(turn, rating.RATING)
        await _say(turn, dialog.RATE_ASK_AGAIN.format(ticket=turn.desk.ticket(complaint_id)))
        return
    # Something else entirely (a new complaint, a question): the rating is not awaited any more.
    await _as_if_idle(turn)


# -- the table -------------------------------------------------------------------------------------------------

# Every step and the meanings it accepts. What a step does not list goes to its fallback (_FALLBACK).
STEPS: dict[str | None, dict[Meaning, Action]] = {
    None: {
        Meaning.COMPLAINT: _new_complaint,
        Meaning.ADDITION: _addition,
        Meaning.STATUS: _status,
        Meaning.DISPUTE: _dispute,
        Meaning.RATING: _rating,
        Meaning.THANKS: _thanks,
        Meaning.GREETING: _greeting,
        Meaning.SMALLTALK: _smalltalk,
        Meaning.HELP: _help,
        Meaning.CANCEL: _cancel_idle,
    },
    # The bot greeted and asked for the description.
    DESCRIPTION: {
        Meaning.COMPLAINT: _new_complaint,
        Meaning.ADDITION: _addition,
        Meaning.STATUS: _status,
        Meaning.DISPUTE: _dispute,
        Meaning.THANKS: _thanks,
        Meaning.GREETING: _greeting,
        Meaning.HELP: _help,
        Meaning.CANCEL: _cancel_idle,
    },
    # The bot asked whether an unclear message is a new complaint.
    CLARIFY: {
        Meaning.YES: _clarified_yes,
        Meaning.COMPLAINT: _new_complaint,
        Meaning.ADDITION: _addition,
        Meaning.STATUS: _status,
        Meaning.DISPUTE: _dispute,
        Meaning.RATING: _rating,
        Meaning.THANKS: _thanks,
        Meaning.GREETING: _greeting,
        Meaning.HELP: _help,
        Meaning.CANCEL: _cancel_idle,
        Meaning.NO: _cancel_idle,
    },
    LOCATION: {
        Meaning.LOCATION: _location_text,
        Meaning.SKIP: _location_skip,
        Meaning.CANCEL: _cancel,
        Meaning.EDIT: _edit,
        Meaning.HELP: _help_location,
        Meaning.STATUS: _status_then_reask,
        Meaning.COMPLAINT: _one_at_a_time,
    },
    CONFIRM_LOCATION: {
        Meaning.YES: _proposed_yes,
        Meaning.EDIT: _proposed_change,
        Meaning.NO: _proposed_change,
        Meaning.LOCATION: _proposed_other,
        Meaning.SKIP: _location_skip,
        Meaning.CANCEL: _cancel,
        Meaning.STATUS: _status_then_reask,
    },
    PHOTO: {
        Meaning.SKIP: _photo_skip,
        Meaning.CANCEL: _cancel,
        Meaning.EDIT: _edit,
        Meaning.HELP: _help_photo,
        Meaning.SMALLTALK: _photo_wait,
        Meaning.ADDITION: _photo_detail,
        Meaning.COMPLAINT: _photo_detail,
        Meaning.LOCATION: _photo_location,
        Meaning.STATUS: _status_then_reask,
    },
    CONFIRM: {
        Meaning.YES: _send,
        Meaning.CANCEL: _cancel,
        Meaning.EDIT: _edit,
        Meaning.NO: _not_yet,
        Meaning.STATUS: _status_then_reask,
    },
    EDIT: {
        Meaning.EDIT: _edit,
        Meaning.CANCEL: _cancel,
        Meaning.YES: _edit_yes,
    },
    EDIT_DESCRIPTION: {
        Meaning.CANCEL: _cancel,
    },
    EDIT_LOCATION: {
        Meaning.LOCATION: _new_location,
        Meaning.SKIP: _drop_location,
        Meaning.CANCEL: _cancel,
    },
    EDIT_PHOTO: {
        Meaning.SKIP: _photo_skip,
        Meaning.YES: _photo_skip,
        Meaning.CANCEL: _cancel,
    },
    # The bot offered open complaints about the same problem: a number follows one, "baru" files anew.
    OFFER: {
        Meaning.CANCEL: _cancel,
    },
}
# What a step does with a meaning it does not list.
_FALLBACK: dict[str | None, Action] = {
    None: _idle_unclear,
    DESCRIPTION: _describe_after_greeting,
    CLARIFY: _idle_unclear,
    LOCATION: _location_pin_or_ask,
    CONFIRM_LOCATION: _proposed_unclear,
    PHOTO: _photo_taken_or_ask,
    CONFIRM: _confirm_other,
    EDIT: _edit,
    EDIT_DESCRIPTION: _new_description,
    EDIT_LOCATION: _location_pin_or_ask,
    EDIT_PHOTO: _photo_taken_or_ask,
    OFFER: _offer_answer,
}


# -- helpers -----------------------------------------------------------------------------------------------


async def _named_or_newest(turn: Turn, *, answered_first: bool = False) -> Complaint | None:
    """The ticket a message is about: the one it names (if the citizen's), else their newest open one."""
    if turn.meaning.ticket is not None:
        return await followup.own_ticket(turn.session, turn.citizen, turn.meaning.ticket)
    if not turn.mine:
        return None
    if answered_first:
        answered = [c for c in turn.mine if c.status == ComplaintStatus.ANSWERED]
        if answered:
            return answered[0]
    return turn.mine[0]


async def _not_found(turn: Turn) -> None:
    ticket = turn.desk.ticket(turn.meaning.ticket) if turn.meaning.ticket is not None else "-"
    if turn.meaning.ticket is None:
        await _say(turn, texts.STATUS_NONE)
    else:
        await _say(turn, texts.STATUS_NOT_FOUND.format(ticket=ticket))


def _help_text(desk: Desk) -> str:
    return texts.HELP.format(
        city=desk.city, hours=f"{desk.answer_within.total_seconds() / 3600:g}", prefix=desk.ticket_prefix
    )


async def _unsupported(
    session: AsyncSession, desk: Desk, inbound: Inbound, me: Recipient, step: str | None, draft: dict[str, Any]
) -> None:
    """A sticker, a voice note...: said so; an open draft stays open and its question is repeated."""
    what = texts.UNSUPPORTED_NAMES.get(inbound.unsupported or "", "jenis pesan ini")
    reply = texts.UNSUPPORTED.format(what=what)
    question = _question_of(desk, step, draft)
    if question:
        reply += "\n\n" + question
    if step is not None and step != rating.RATING:
        await conversations.save_conversation(
            session,
            channel=inbound.channel,
            chat_id=inbound.chat_id,
            step=step,
            data=draft,
            now=desk.now(),
            ttl=desk.draft_ttl,
        )
    await send_text(session, me, reply, now=desk.now())


def _question_of(desk: Desk, step: str | None, draft: dict[str, Any]) -> str:
    """The question the open step asked (to repeat it after something it cannot take)."""
    if step in (LOCATION, EDIT_LOCATION):
        return texts.ASK_LOCATION
    if step == CONFIRM_LOCATION:
        return dialog.LOCATION_PROPOSE.format(place=draft.get("proposed_location", ""))
    if step in (PHOTO, EDIT_PHOTO):
        return texts.ASK_PHOTO
    if step == CONFIRM:
        return _summary(desk, draft)
    if step == EDIT:
        return dialog.EDIT_WHAT
    if step == EDIT_DESCRIPTION:
        return dialog.EDIT_DESCRIPTION
    if step == DESCRIPTION:
        return texts.DESCRIBE_PROBLEM
    if step == OFFER:
        return dialog_offer_again(len(draft.get("offer", [])))
    return ""


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
    summary = texts.SUMMARY.format(
        description=cards.shorten(draft.get("description", ""), 700),
        location=place,
        photos=f"{photos} foto" if photos else texts.NO_PHOTO,
        agency=agency,
    )
    if desk.public_page:
        # Said before "ya": what of this complaint the public page will show.
        notice = public_texts.SUMMARY_PUBLIC_TEXT if desk.public_text else public_texts.SUMMARY_PUBLIC
        head, _, question = summary.rpartition("\n\n")
        summary = f"{head}\n{notice}\n\n{question}"
    return summary


async def _clear_buttons(session: AsyncSession, desk: Desk, me: Recipient, **where: Any) -> None:
    """Take a sent message's buttons away, where the messenger can; elsewhere a late tap is stale anyway."""
    if me.channel in desk.removes_buttons:
        await clear_buttons(session, me, **where)


async def file_draft(
    session: AsyncSession, desk: Desk, me: Recipient, citizen: Citizen, draft: dict[str, Any]
) -> Complaint:
    """Store a confirmed draft as a complaint, tell the citizen its number, and send the card to the agency.

    The chat dialog files through here, and so does every other intake (the Open311 API).
    """
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
        detail=texts.FILED_EVENT.format(owner=owner, confidence=f"{complaint.confidence:.2f}"),
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
    return complaint


async def _command(
    session: AsyncSession, desk: Desk, inbound: Inbound, citizen: Citizen, me: Recipient, text: str
) -> None:
    """Slash commands in a citizen's chat."""
    now = desk.now()
    head, _, rest = text[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    rest = rest.strip()
    if name == "start":
        await conversations.save_conversation(
            session,
            channel=inbound.channel,
            chat_id=inbound.chat_id,
            step=DESCRIPTION,
            data={},
            now=now,
            ttl=desk.draft_ttl,
        )
        await send_text(session, me, texts.GREETING.format(city=desk.city), now=now)
    elif name == "batal":
        conversation = await conversations.load_conversation(
            session, channel=inbound.channel, chat_id=inbound.chat_id, now=now
        )
        if conversation is not None and conversation.data.get("keyboard") is not None:
            await _clear_buttons(session, desk, me, now=now, outbox_ref=int(conversation.data["keyboard"]))
        await conversations.clear_conversation(session, channel=inbound.channel, chat_id=inbound.chat_id)
        await send_text(session, me, texts.CANCELLED if conversation else texts.NOTHING_TO_CANCEL, now=now)
    elif name in ("bantuan", "help"):
        await send_text(session, me, _help_text(desk), now=now)
    elif name == "status":
        await show_status(session, desk, me, citizen, rest)
    else:
        await send_text(session, me, texts.UNKNOWN_COMMAND, now=now)

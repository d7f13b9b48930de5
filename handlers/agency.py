"""Agency groups: staff answer tickets, close them, or hand them back to humas."""

from __future__ import annotations

import re

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import assignments, corrections, daftar, duplicates, staff_help, texts, triage, verify
from handlers.desk import HUMAS, Desk
from handlers.events import Inbound
from handlers.outgoing import send_photo, send_text, to_citizen
from storage import audit, complaints, outbox
from storage.models import Citizen, Complaint, ComplaintStatus

# "#KDI-0042 text" anywhere in a group message.
_HASH_TICKET = re.compile(r"#([A-Za-z][A-Za-z0-9]{0,9}-[0-9]{1,9})\b")
# The head of a ticket card (texts.CARD) or of a card's photo (texts.staff.CARD_PHOTO), as Telegram
# shows it or with its HTML.
_CARD_HEAD = re.compile(r"^(?:🆕|📷)\s*(?:<b>)?Aduan\s+([A-Za-z][A-Za-z0-9]{0,9}-[0-9]{1,9})\b")
_STAFF_COMMANDS = frozenset({"selesai", "bukan", "bantuan", "help", "start", "id", "daftar", "gabung"})


def staff_label(inbound: Inbound) -> str:
    """Who on the agency's side wrote: kept for humas, never shown to the citizen."""
    return f"{inbound.sender_name} (id {inbound.sender_id})"


async def handle_group(session: AsyncSession, desk: Desk, inbound: Inbound) -> bool:
    """Handle a group message addressed to the bot; return False if it was not for this handler."""
    if inbound.sender_is_bot:
        return True
    owner = desk.owner_of_chat(inbound.chat_id)
    here = desk.staff(inbound.chat_id)
    now = desk.now()

    if inbound.extra.get("event") == "bot_added":
        if owner is None:
            await send_text(session, here, texts.BOT_ADDED_UNKNOWN.format(chat_id=inbound.chat_id), now=now)
        else:
            await send_text(session, here, texts.BOT_ADDED_KNOWN.format(name=desk.agency_name(owner)), now=now)
        return True

    command = inbound.command()[0] if inbound.is_command else ""
    hashed = _HASH_TICKET.search(inbound.text)
    if inbound.is_command and command not in _STAFF_COMMANDS:
        return False  # humas commands and others are not ours
    if command == "gabung" and owner == HUMAS:
        return False  # humas merges any agency's tickets: an admin command (handlers.admin)
    if owner is None:
        # Only answer what is clearly meant for the bot; ordinary chatter in a group stays unanswered.
        if inbound.is_command or hashed or inbound.reply_to:
            await send_text(session, here, texts.UNKNOWN_GROUP, now=now, reply_to=inbound.message_id)
        return True

    if command:
        await _staff_command(session, desk, inbound, owner, command)
        return True

    complaint_id: int | None = None
    answer = inbound.text.strip()
    if hashed:
        complaint_id = desk.parse_ticket(hashed.group(1))
        answer = (inbound.text[: hashed.start()] + inbound.text[hashed.end() :]).strip()
        if complaint_id is None:
            return True
    elif inbound.reply_to:
        complaint_id = await outbox.complaint_for_sent_message(
            session, channel=inbound.channel, chat_id=inbound.chat_id, provider_message_id=inbound.reply_to
        )
        if complaint_id is None:
            # A card whose send was not recorded yet (or ever: the process died between sending and
            # recording, and the card went out again): the card itself names its ticket.
            complaint_id = _card_ticket(desk, inbound.reply_to_text)
        if complaint_id is None:
            return True  # a reply to something that is not a ticket: staff talking among themselves
    else:
        return True

    complaint = await complaints.get_complaint(session, complaint_id=complaint_id, lock=True)
    ticket = desk.ticket(complaint_id)
    if complaint is None:
        await send_text(
            session, here, texts.TICKET_NOT_FOUND.format(ticket=ticket), now=now, reply_to=inbound.message_id
        )
        return True
    if not _owns(owner, complaint):
        await send_text(
            session,
            here,
            texts.NOT_YOUR_TICKET.format(ticket=ticket, owner=_owner_name(owner)),
            now=now,
            reply_to=inbound.message_id,
        )
        return True
    if complaint.status == ComplaintStatus.REJECTED:
        await send_text(
            session, here, texts.TICKET_REJECTED.format(ticket=ticket), now=now, reply_to=inbound.message_id
        )
        return True
    if not answer and not inbound.media:
        await send_text(session, here, texts.ANSWER_EMPTY.format(ticket=ticket), now=now, reply_to=inbound.message_id)
        return True
    await relay_answer(session, desk, complaint, owner, answer, inbound)
    await send_text(
        session,
        here,
        texts.ANSWER_RELAYED.format(ticket=ticket),
        now=now,
        reply_to=inbound.message_id,
        complaint_id=complaint.id,
        purpose="ack",
    )
    return True


async def _replied_ticket(session: AsyncSession, desk: Desk, inbound: Inbound) -> int | None:
    """The ticket of the card (or card photo) a message replies to, if it replies to one."""
    if not inbound.reply_to:
        return None
    number = await outbox.complaint_for_sent_message(
        session, channel=inbound.channel, chat_id=inbound.chat_id, provider_message_id=inbound.reply_to
    )
    return number if number is not None else _card_ticket(desk, inbound.reply_to_text)


def _card_ticket(desk: Desk, replied_text: str | None) -> int | None:
    """The complaint id a ticket card of the bot's names, or None if the text is no card."""
    head = _CARD_HEAD.match(replied_text or "")
    return desk.parse_ticket(head.group(1)) if head else None


def _owns(owner: str, complaint: Complaint) -> bool:
    """Whether a group may speak for a complaint: its agency's group, or humas for unrouted ones."""
    return (complaint.opd_code or HUMAS) == owner


def _owner_name(owner: str) -> str:
    return "humas" if owner == HUMAS else owner


async def _citizen_of(session: AsyncSession, complaint: Complaint) -> Citizen:
    citizen = await session.get(Citizen, complaint.citizen_id)
    assert citizen is not None  # a foreign key guarantees it
    return citizen


async def relay_answer(
    session: AsyncSession, desk: Desk, complaint: Complaint, owner: str, answer: str, inbound: Inbound
) -> None:
    """Send an agency's answer to the citizen; the first one stops the deadline clock."""
    assert complaint.id is not None
    now = desk.now()
    citizen = await _citizen_of(session, complaint)
    to = to_citizen(citizen)
    ticket = desk.ticket(complaint.id)
    text = answer or texts.ANSWER_PHOTO_CAPTION.format(ticket=ticket)
    await complaints.add_message(
        session,
        complaint_id=complaint.id,
        direction="out",
        author="humas" if owner == HUMAS else "opd",
        author_label=staff_label(inbound),
        text=text,
        now=now,
    )
    if complaint.status == ComplaintStatus.OPEN:
        complaint.status = ComplaintStatus.ANSWERED.value
        complaint.answered_at = now
        session.add(complaint)
        await complaints.add_event(
            session, complaint_id=complaint.id, kind="answered", now=now, actor=staff_label(inbound)
        )
    # The owner's own clock (handlers.assignments); a no-op once this handover has its first answer.
    await assignments.record_answer(session, complaint, now=now)
    await send_text(
        session,
        to,
        texts.ANSWER_TO_CITIZEN.format(agency=desk.agency_name(owner), ticket=ticket, text=text),
        now=now,
        complaint_id=complaint.id,
        purpose="answer",
    )
    # Each messenger's sender knows how to get another channel's photo to its citizen (WhatsApp: by a link).
    for media in inbound.media:
        await send_photo(
            session,
            to,
            ref=media.ref,
            source=media.source,
            caption=texts.ANSWER_PHOTO_CAPTION.format(ticket=ticket),
            now=now,
            complaint_id=complaint.id,
            purpose="answer_photo",
        )
    # Citizens who follow the ticket (the same problem, reported once) get the same answer.
    await duplicates.tell_followers(
        session,
        desk,
        complaint.id,
        texts.ANSWER_TO_CITIZEN.format(agency=desk.agency_name(owner), ticket=ticket, text=text),
        purpose="answer",
        photos=[(media.ref, media.source) for media in inbound.media],
        photo_caption=texts.ANSWER_PHOTO_CAPTION.format(ticket=ticket),
    )


async def _staff_command(session: AsyncSession, desk: Desk, inbound: Inbound, owner: str, command: str) -> None:
    """/selesai, /bukan, /bantuan and /id in an agency (or the humas) group."""
    here = desk.staff(inbound.chat_id)
    now = desk.now()
    _, rest = inbound.command()
    if command in staff_help.HELP_COMMANDS:
        await staff_help.group_help(session, desk, inbound, owner, await _replied_ticket(session, desk, inbound))
        return
    if command == "daftar":
        await daftar.answer(session, desk, here, owner, reply_to=inbound.message_id)
        return
    if command == "id":
        await send_text(session, here, texts.GROUP_ID.format(chat_id=inbound.chat_id), now=now)
        return
    if command == "gabung":
        await duplicates.command(session, desk, here, rest, owner=owner, actor=staff_label(inbound))
        return
    ticket_text, _, note = rest.partition(" ")
    note = note.strip()
    number = desk.parse_ticket(ticket_text) if ticket_text else None
    usage = texts.USAGE_SELESAI if command == "selesai" else texts.USAGE_BUKAN
    if number is None:
        replied = await _replied_ticket(session, desk, inbound)
        example, _ = await staff_help.example_ticket(session, desk, owner, replied)
        await send_text(session, here, usage.format(ticket=example), now=now, reply_to=inbound.message_id)
        return
    complaint = await complaints.get_complaint(session, complaint_id=number, lock=True)
    ticket = desk.ticket(number)
    if complaint is None:
        await send_text(
            session, here, texts.TICKET_NOT_FOUND.format(ticket=ticket), now=now, reply_to=inbound.message_id
        )
        return
    if not _owns(owner, complaint):
        await send_text(
            session,
            here,
            texts.NOT_YOUR_TICKET.format(ticket=ticket, owner=_owner_name(owner)),
            now=now,
            reply_to=inbound.message_id,
        )
        return
    if complaint.status in (ComplaintStatus.CLOSED, ComplaintStatus.REJECTED):
        state = "selesai" if complaint.status == ComplaintStatus.CLOSED else "ditolak"
        await send_text(
            session, here, texts.ALREADY_CLOSED.format(ticket=ticket, state=state), now=now, reply_to=inbound.message_id
        )
        return
    if command == "selesai":
        await _close(session, desk, complaint, owner, note, inbound)
    else:
        await _disown(session, desk, complaint, owner, note, inbound)


async def _close(
    session: AsyncSession, desk: Desk, complaint: Complaint, owner: str, note: str, inbound: Inbound
) -> None:
    """Close a complaint and tell the citizen."""
    assert complaint.id is not None
    now = desk.now()
    ticket = desk.ticket(complaint.id)
    complaint.status = ComplaintStatus.CLOSED.value
    complaint.closed_at = now
    if complaint.answered_at is None:
        # Closing is an answer too: the deadline is met if it happens in time.
        complaint.answered_at = now
    session.add(complaint)
    await assignments.record_answer(session, complaint, now=now)
    await complaints.add_event(
        session, complaint_id=complaint.id, kind="closed", now=now, actor=staff_label(inbound), detail=note
    )
    if note:
        await complaints.add_message(
            session,
            complaint_id=complaint.id,
            direction="out",
            author="humas" if owner == HUMAS else "opd",
            author_label=staff_label(inbound),
            text=note,
            now=now,
        )
    await audit.log_action(session, actor=staff_label(inbound), action="close", target=ticket, detail=note, now=now)
    citizen = await _citizen_of(session, complaint)
    closed_text = texts.CLOSED_TO_CITIZEN.format(
        ticket=ticket, agency=desk.agency_name(owner), note=f"\nCatatan: {note}" if note else ""
    )
    await send_text(session, to_citizen(citizen), closed_text, now=now, complaint_id=complaint.id, purpose="closed")
    await duplicates.tell_followers(session, desk, complaint.id, closed_text, purpose="closed")
    # "Sudah beres?" first (reporter and followers); the reporter's "ya" leads to the rating.
    await verify.ask_everyone(session, desk, complaint, citizen)
    await send_text(
        session,
        desk.staff(inbound.chat_id),
        texts.CLOSED_IN_GROUP.format(ticket=ticket),
        now=now,
        reply_to=inbound.message_id,
        complaint_id=complaint.id,
        purpose="ack",
    )


async def _disown(
    session: AsyncSession, desk: Desk, complaint: Complaint, owner: str, reason: str, inbound: Inbound
) -> None:
    """An agency says a complaint is not theirs: it goes back to humas to reroute."""
    assert complaint.id is not None
    now = desk.now()
    ticket = desk.ticket(complaint.id)
    await corrections.record_refusal(session, desk, complaint, owner=owner, actor=staff_label(inbound))
    complaint.opd_code = None
    session.add(complaint)
    # The agency's clock stops with its own verdict; humas holds the ticket to the same deadline.
    await assignments.hand_over(session, complaint, now=now, reason="disowned")
    await complaints.add_event(
        session,
        complaint_id=complaint.id,
        kind="disowned",
        now=now,
        actor=staff_label(inbound),
        detail=f"{owner}: {reason}",
    )
    await audit.log_action(
        session, actor=staff_label(inbound), action="disown", target=ticket, detail=f"{owner}: {reason}", now=now
    )
    notice = texts.DISOWNED_TO_HUMAS.format(
        agency=desk.agency_name(owner),
        ticket=ticket,
        reason=reason or texts.NO_REASON,
        codes=", ".join(desk.agencies),
    )
    await send_text(
        session,
        desk.staff(desk.humas_chat_id),
        notice + triage.unrouted_hint(desk, complaint, refused_by=owner),
        now=now,
        buttons=triage.buttons(desk, complaint, refused_by=owner),
        complaint_id=complaint.id,
        purpose="disowned",
    )
    citizen = await _citizen_of(session, complaint)
    await send_text(
        session,
        to_citizen(citizen),
        texts.DISOWNED_TO_CITIZEN.format(ticket=ticket),
        now=now,
        complaint_id=complaint.id,
        purpose="disowned",
    )
    await send_text(
        session,
        desk.staff(inbound.chat_id),
        texts.DISOWNED_IN_GROUP.format(ticket=ticket),
        now=now,
        reply_to=inbound.message_id,
    )

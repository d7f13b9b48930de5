"""What each group learns when humas moves (/pindah) or rejects (/tolak) a ticket.

Every group that held the ticket hears what happened to its work, as a reply to the card it got:
the old agency that it need not answer any more (and, if it had answered, that its answer did reach
the citizen); the new agency gets the card; humas's own card of an unrouted ticket gets the note
"dialihkan ke PUPR" or "ditolak" instead of keeping its "❓ Belum jelas…" unanswered.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import cards, texts
from handlers.desk import Desk
from handlers.outgoing import Recipient, send_text
from handlers.texts import staff as staff_texts
from storage import outbox
from storage.models import Citizen, Complaint

# What a note in a group replies to: the card (or its photos), or humas's "not ours" notice.
_CARD_PURPOSES = (cards.CARD_PURPOSE, cards.CARD_PHOTO_PURPOSE, "disowned")


async def _note(session: AsyncSession, desk: Desk, to: Recipient, complaint: Complaint, text: str) -> None:
    """A note about a ticket in a group, as a reply to the ticket's card there when it was sent."""
    assert complaint.id is not None
    card = await outbox.latest_sent_id(
        session, channel=to.channel, chat_id=to.chat_id, complaint_id=complaint.id, purposes=_CARD_PURPOSES
    )
    await send_text(session, to, text, now=desk.now(), reply_to=card, complaint_id=complaint.id, purpose="handover")


async def after_reroute(
    session: AsyncSession,
    desk: Desk,
    complaint: Complaint,
    citizen: Citizen,
    *,
    old: str | None,
    old_answered: bool,
    admin: str,
    here: Recipient | None,
) -> None:
    """/pindah done: the card to the new group, a note to the old one (or to humas's card), and the admin told.

    `here` is the admin's chat; None when the admin is not in one (the web desk shows its own answer).
    """
    assert complaint.id is not None and complaint.opd_code is not None
    ticket = desk.ticket(complaint.id)
    code = complaint.opd_code
    deadline = desk.local_time(complaint.due_at)
    note = cards.NO_NOTE
    if old is not None:
        note = (staff_texts.CARD_REROUTED_ANSWERED if old_answered else staff_texts.CARD_REROUTED).format(old=old)
    await cards.send_card(session, desk, complaint, citizen, note=note)
    done = texts.REROUTED_DONE.format(ticket=ticket, code=code, deadline=deadline)
    if old is not None:
        told = staff_texts.REROUTED_OLD_GROUP_ANSWERED if old_answered else staff_texts.REROUTED_OLD_GROUP
        await _note(session, desk, desk.staff(desk.group_of(old)), complaint, told.format(ticket=ticket, code=code))
    else:
        humas = desk.staff(desk.humas_chat_id)
        await _note(
            session,
            desk,
            humas,
            complaint,
            staff_texts.REROUTED_HUMAS_NOTE.format(ticket=ticket, code=code, admin=admin, deadline=deadline),
        )
        if here == humas:
            return  # the note in the humas group tells the admin too
    if here is not None:
        await send_text(session, here, done, now=desk.now())


async def after_reject(
    session: AsyncSession,
    desk: Desk,
    complaint: Complaint,
    *,
    reason: str,
    answered: bool,
    admin: str,
    here: Recipient | None,
) -> None:
    """/tolak done: the owning group (an agency's, or humas's for an unrouted ticket) told, and the admin.

    `here` as for after_reroute.
    """
    assert complaint.id is not None
    ticket = desk.ticket(complaint.id)
    reason = reason[:500]
    humas = desk.staff(desk.humas_chat_id)
    if complaint.opd_code is not None:
        told = staff_texts.REJECTED_OLD_GROUP_ANSWERED if answered else staff_texts.REJECTED_OLD_GROUP
        group = desk.staff(desk.group_of(complaint.opd_code))
        await _note(session, desk, group, complaint, told.format(ticket=ticket, reason=reason))
    else:
        await _note(
            session,
            desk,
            humas,
            complaint,
            staff_texts.REJECTED_HUMAS_NOTE.format(ticket=ticket, admin=admin, reason=reason),
        )
        if here == humas:
            return
    if here is not None:
        await send_text(session, here, texts.REJECTED_DONE.format(ticket=ticket), now=desk.now())

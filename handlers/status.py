"""/status: a citizen's own complaints, and nobody else's."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import texts
from handlers.cards import shorten
from handlers.desk import Desk
from handlers.outgoing import Recipient, send_text
from handlers.texts import duplicates as dup_texts
from storage import complaints, duplicates
from storage.models import Citizen, Complaint, ComplaintStatus


def state_text(desk: Desk, complaint: Complaint) -> str:
    """Where a complaint stands, in the citizen's words."""
    deadline = desk.local_time(complaint.due_at)
    if complaint.merged_into is not None:
        return dup_texts.STATE_MERGED.format(ticket=desk.ticket(complaint.merged_into))
    if complaint.status == ComplaintStatus.OPEN:
        if complaint.due_at <= desk.now():
            return texts.STATE_OVERDUE.format(deadline=deadline)
        return texts.STATE_OPEN.format(deadline=deadline)
    return {
        ComplaintStatus.ANSWERED: texts.STATE_ANSWERED,
        ComplaintStatus.CLOSED: texts.STATE_CLOSED,
        ComplaintStatus.REJECTED: texts.STATE_REJECTED,
    }.get(ComplaintStatus(complaint.status), complaint.status)


async def show_status(session: AsyncSession, desk: Desk, me: Recipient, citizen: Citizen, arg: str) -> None:
    """Answer /status (list) or /status KDI-0042 (one of the citizen's own)."""
    now = desk.now()
    assert citizen.id is not None
    if arg:
        number = desk.parse_ticket(arg.split()[0])
        complaint = await complaints.get_complaint(session, complaint_id=number) if number else None
        followed = complaint is not None and await duplicates.follows(
            session, complaint_id=complaint.id or 0, citizen_id=citizen.id
        )
        if complaint is None or (complaint.citizen_id != citizen.id and not followed):
            # The same answer whether it does not exist or is someone else's: reveal nothing.
            await send_text(session, me, texts.STATUS_NOT_FOUND.format(ticket=arg.split()[0][:20]), now=now)
            return
        assert complaint.id is not None
        detail = texts.STATUS_DETAIL.format(
            ticket=desk.ticket(complaint.id),
            description=shorten(complaint.description, 500),
            agency=desk.agency_name(complaint.opd_code),
            state=state_text(desk, complaint),
            created=desk.local_time(complaint.created_at),
        )
        if followed:
            detail += dup_texts.FOLLOWED_NOTE
        answers = [m for m in await complaints.messages_of(session, complaint_id=complaint.id) if m.direction == "out"]
        if answers:
            detail += texts.STATUS_LAST_ANSWER.format(answer=shorten(answers[-1].text, 800))
        await send_text(session, me, detail, now=now)
        return
    mine = await complaints.complaints_of_citizen(session, citizen_id=citizen.id)
    followed_list = await duplicates.followed_by(session, citizen_id=citizen.id)
    if not mine and not followed_list:
        await send_text(session, me, texts.STATUS_NONE, now=now)
        return
    lines = [texts.STATUS_HEADER] if mine else []
    for complaint in mine:
        assert complaint.id is not None
        lines.append(texts.STATUS_LINE.format(ticket=desk.ticket(complaint.id), state=state_text(desk, complaint)))
    if followed_list:
        # The same problem reported by someone else, which this citizen chose to follow (or was merged into).
        lines.append(dup_texts.FOLLOWED_HEADER)
        for complaint in followed_list:
            assert complaint.id is not None
            lines.append(texts.STATUS_LINE.format(ticket=desk.ticket(complaint.id), state=state_text(desk, complaint)))
    await send_text(session, me, "\n".join(lines), now=now)

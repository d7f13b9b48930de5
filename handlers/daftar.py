"""/daftar in a group: its open tickets with their deadlines, the most urgent first."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import cards, reports, texts
from handlers.desk import HUMAS, Desk
from handlers.outgoing import Recipient, send_text
from handlers.texts import staff as staff_texts
from handlers.timefmt import duration
from storage import queue

# Tickets listed one by one; beyond them, a count (the cards are in the group's history).
WAITING_SHOWN = 15
ANSWERED_SHOWN = 20


async def answer(session: AsyncSession, desk: Desk, here: Recipient, owner: str, *, reply_to: str | None) -> None:
    """Queue the list of `owner`'s open tickets (HUMAS: the unrouted ones) to its group."""
    now = desk.now()
    listed = await queue.open_queue(
        session, opd_code=None if owner == HUMAS else owner, waiting_limit=WAITING_SHOWN, answered_limit=ANSWERED_SHOWN
    )
    name = staff_texts.DAFTAR_HUMAS if owner == HUMAS else owner
    if not listed.waiting_count and not listed.answered_count:
        await send_text(session, here, staff_texts.DAFTAR_EMPTY.format(owner=name), now=now, reply_to=reply_to)
        return
    lines = [staff_texts.DAFTAR_HEAD.format(owner=name, now=desk.local_time(now))]
    if listed.waiting_count:
        lines.append(staff_texts.DAFTAR_WAITING.format(count=listed.waiting_count))
        for row in listed.waiting:
            left = (
                staff_texts.DAFTAR_LATE.format(late=duration(now - row.due_at))
                if row.due_at <= now
                else staff_texts.DAFTAR_LEFT.format(left=duration(row.due_at - now))
            )
            lines.append(
                staff_texts.DAFTAR_LINE.format(
                    ticket=desk.ticket(row.id),
                    category=texts.CARD_CATEGORY.format(category=row.category) if row.category else "",
                    deadline=desk.local_time(row.due_at),
                    left=left,
                    snippet=cards.shorten(" ".join(row.snippet.split()), queue.SNIPPET_CHARS),
                )
            )
        if listed.waiting_count > len(listed.waiting):
            lines.append(staff_texts.DAFTAR_MORE.format(count=listed.waiting_count - len(listed.waiting)))
    if listed.answered_count:
        tickets = ", ".join(desk.ticket(number) for number in listed.answered)
        if listed.answered_count > len(listed.answered):
            tickets += staff_texts.DAFTAR_ANSWERED_MORE.format(count=listed.answered_count - len(listed.answered))
        lines.append(staff_texts.DAFTAR_ANSWERED.format(count=listed.answered_count, tickets=tickets))
    first = listed.waiting[0].id if listed.waiting else listed.answered[0]
    lines.append(staff_texts.DAFTAR_FOOT.format(ticket=desk.ticket(first)))
    for message in reports.split_lines(lines):
        await send_text(session, here, message, now=now, reply_to=reply_to, purpose="report")

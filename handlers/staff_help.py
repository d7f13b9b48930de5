"""Help for staff that names a real ticket, and humas admins' help in their private chat."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import texts
from handlers.desk import HUMAS, Desk
from handlers.events import Inbound
from handlers.outgoing import send_text
from handlers.texts import staff as staff_texts
from storage import queue

HELP_COMMANDS = frozenset({"start", "help", "bantuan"})


async def example_ticket(session: AsyncSession, desk: Desk, owner: str, replied: int | None) -> tuple[str, bool]:
    """The ticket a prompt in a group shows: the card replied to, else the group's most urgent open one.

    Returns the ticket and whether it was picked from the group's queue (the help then says so);
    a group with nothing open gets a placeholder, never an example number that looks like a ticket.
    """
    if replied is not None:
        return desk.ticket(replied), False
    listed = await queue.open_queue(
        session, opd_code=None if owner == HUMAS else owner, waiting_limit=1, answered_limit=1
    )
    first = listed.waiting[0].id if listed.waiting else (listed.answered[0] if listed.answered else None)
    if first is None:
        return staff_texts.TICKET_PLACEHOLDER.format(prefix=desk.ticket_prefix), False
    return desk.ticket(first), True


def admin_help(desk: Desk) -> str:
    """The humas command list."""
    return texts.ADMIN_HELP.format(prefix=desk.ticket_prefix, codes=", ".join(desk.agencies))


async def group_help(session: AsyncSession, desk: Desk, inbound: Inbound, owner: str, replied: int | None) -> None:
    """/bantuan in a group: how to answer, with a real ticket of the group (humas's adds its commands)."""
    ticket, from_queue = await example_ticket(session, desk, owner, replied)
    text = (staff_texts.HELP_EXAMPLE_FROM_QUEUE.format(ticket=ticket) if from_queue else "") + texts.GROUP_HELP.format(
        ticket=ticket, hours=f"{desk.answer_within.total_seconds() / 3600:g}"
    )
    if owner == HUMAS:
        text += "\n\n" + admin_help(desk)
    await send_text(session, desk.staff(inbound.chat_id), text, now=desk.now(), reply_to=inbound.message_id)


def wants_admin_help(desk: Desk, inbound: Inbound) -> bool:
    """Whether a private message is a humas admin asking for help (/start, /help, /bantuan)."""
    return (
        inbound.is_command
        and inbound.command()[0] in HELP_COMMANDS
        and inbound.channel == desk.staff_channel
        and inbound.sender_id in desk.humas_admin_ids
    )


async def admin_private_help(session: AsyncSession, desk: Desk, inbound: Inbound) -> None:
    """An admin's /start or /help in their private chat: the humas commands, not a citizen's draft."""
    await send_text(
        session,
        desk.staff(inbound.chat_id),
        admin_help(desk) + staff_texts.ADMIN_HELP_PRIVATE,
        now=desk.now(),
    )

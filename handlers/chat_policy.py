"""Which chat may hear what: humas commands in humas's own chats only; unknown groups next to nothing.

Anyone can add the bot to a group. A group the settings do not name is told, at most once an hour,
its chat id (when the bot is added) or that it is not registered; nothing else, whatever is typed
there, by whomever. Humas commands answer in the humas group and in an admin's private chat on the
staff messenger: never in an agency's group, where staff would read a citizen's details.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import texts
from handlers.desk import Desk
from handlers.events import ChatKind, Inbound
from handlers.outgoing import send_text
from storage import outbox

# An unknown group hears from the bot at most this often.
UNKNOWN_GROUP_QUIET = timedelta(hours=1)
UNKNOWN_GROUP_PURPOSE = "unknown_group"
# "#KDI-0042 ..." in a group: meant for the bot.
_HASHED_TICKET = re.compile(r"#[A-Za-z][A-Za-z0-9]{0,9}-[0-9]")


def is_unknown_group(desk: Desk, inbound: Inbound) -> bool:
    """Whether the event comes from a group that is neither an agency's nor humas's."""
    return inbound.chat_kind != ChatKind.PRIVATE and desk.owner_of_chat(inbound.chat_id) is None


def humas_chat(desk: Desk, inbound: Inbound) -> bool:
    """Whether the chat may see what humas commands show: the humas group, or an admin's private chat."""
    if inbound.channel != desk.staff_channel:
        return False
    if inbound.chat_kind == ChatKind.PRIVATE:
        return inbound.chat_id == inbound.sender_id and inbound.sender_id in desk.humas_admin_ids
    return inbound.chat_id == desk.humas_chat_id


def private_with_admin(desk: Desk, inbound: Inbound) -> bool:
    """Whether the chat is an admin's private chat (the only place a citizen's contact is shown)."""
    return humas_chat(desk, inbound) and inbound.chat_kind == ChatKind.PRIVATE


async def answer_unknown_group(session: AsyncSession, desk: Desk, inbound: Inbound) -> None:
    """At most one message an hour to an unknown group: its id when the bot joins, else "not registered"."""
    if inbound.sender_is_bot:
        return
    added = inbound.extra.get("event") == "bot_added"
    addressed = inbound.is_command or inbound.reply_to is not None or _HASHED_TICKET.search(inbound.text)
    if not (added or addressed):
        return  # ordinary chatter: no answer at all
    now = desk.now()
    if await outbox.queued_since(
        session,
        channel=inbound.channel,
        chat_id=inbound.chat_id,
        purpose=UNKNOWN_GROUP_PURPOSE,
        since=now - UNKNOWN_GROUP_QUIET,
    ):
        return
    # The key keeps it once-only when two workers judge the same hour.
    bucket = int(now.timestamp() // UNKNOWN_GROUP_QUIET.total_seconds())
    await send_text(
        session,
        desk.staff(inbound.chat_id),
        texts.BOT_ADDED_UNKNOWN.format(chat_id=inbound.chat_id) if added else texts.UNKNOWN_GROUP,
        now=now,
        reply_to=None if added else inbound.message_id,
        purpose=UNKNOWN_GROUP_PURPOSE,
        dedup_key=f"unknown-group:{inbound.channel}:{inbound.chat_id}:{bucket}"[:120],
    )

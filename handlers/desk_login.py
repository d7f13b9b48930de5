"""/masuk: a one-time link to the web desk, for humas admins and the members of agency groups.

Whether someone belongs to an agency's Telegram group is a question to Telegram (getChatMember):
the messenger's adapter asks it while the event is prepared, outside any transaction, and hands
the answer in (Inbound.staff_of). This handler only decides.
"""

from __future__ import annotations

import secrets

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.desk import Desk
from handlers.events import ChatKind, Inbound
from handlers.outgoing import Recipient, send_text
from handlers.texts import desk as texts
from storage import desk_auth
from storage.desk_auth import Grant

COMMANDS = frozenset({"masuk"})
HUMAS_ROLE = "humas"
AGENCY_ROLE = "opd"


def wants_membership(text: str) -> bool:
    """Whether a private message is a command that needs the sender's group memberships looked up."""
    head = text.strip().split(maxsplit=1)[0] if text.strip() else ""
    return head.startswith("/") and head[1:].split("@", 1)[0].lower() in COMMANDS


def grants_for(desk: Desk, inbound: Inbound) -> list[Grant]:
    """What the sender may see: the whole desk (a humas admin), their agencies' tickets, or nothing."""
    name = inbound.sender_name or inbound.sender_id
    if inbound.sender_id in desk.humas_admin_ids:
        return [Grant(inbound.sender_id, name, HUMAS_ROLE, None)]
    member_of = inbound.staff_of or frozenset()
    return [Grant(inbound.sender_id, name, AGENCY_ROLE, code) for code in desk.agencies if code in member_of]


async def handle(session: AsyncSession, desk: Desk, inbound: Inbound) -> bool:
    """Answer /masuk; False if the text is not that command."""
    if not inbound.is_command or inbound.command()[0] not in COMMANDS:
        return False
    here = Recipient(inbound.channel, inbound.chat_id)
    now = desk.now()
    if inbound.chat_kind != ChatKind.PRIVATE:
        # Only groups the desk knows hear back; any other group stays quiet.
        if desk.owner_of_chat(inbound.chat_id) is not None:
            await send_text(session, here, texts.LOGIN_PRIVATE_ONLY, now=now, reply_to=inbound.message_id)
        return True
    grants = grants_for(desk, inbound) if inbound.channel == desk.staff_channel else []
    if not grants:
        await send_text(session, here, texts.LOGIN_REFUSED, now=now)
        return True
    if desk.web_login is None:
        await send_text(session, here, texts.DESK_OFF, now=now)
        return True
    minutes = f"{desk.web_login.lifetime.total_seconds() / 60:g}"
    for grant in grants:
        token = secrets.token_urlsafe(32)
        await desk_auth.create_login(session, token=token, grant=grant, now=now, lifetime=desk.web_login.lifetime)
        scope = (
            texts.LOGIN_SCOPE_HUMAS
            if grant.role == HUMAS_ROLE
            else texts.LOGIN_SCOPE_AGENCY.format(code=grant.opd_code)
        )
        await send_text(
            session,
            here,
            texts.LOGIN_LINK.format(scope=scope, url=desk.web_login.link(token), minutes=minutes),
            now=now,
            purpose="desk_login",
            # A link preview is a fetch of the link: it would use the one-time link up.
            link_preview=False,
        )
    return True

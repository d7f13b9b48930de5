"""One entry point for every inbound event: private chats go to intake, groups to the agency desk."""

from __future__ import annotations

import logging

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import admin, agency, intake
from handlers.desk import Desk
from handlers.events import ChatKind, Inbound

log = logging.getLogger(__name__)


async def handle(session: AsyncSession, desk: Desk, inbound: Inbound) -> None:
    """Apply one inbound event to the desk, inside the caller's transaction."""
    if inbound.chat_kind == ChatKind.PRIVATE:
        if inbound.is_command and inbound.command()[0] in admin.COMMANDS:
            await admin.handle(session, desk, inbound)
        else:
            await intake.handle_private(session, desk, inbound)
        return
    if await agency.handle_group(session, desk, inbound):
        return
    if inbound.is_command and await admin.handle(session, desk, inbound):
        return
    # Other commands in groups (meant for other bots, typos) get no answer: groups stay quiet.
    log.debug("group message in %s not handled: %r", inbound.chat_id, inbound.text[:40])

"""One entry point for every inbound event: private chats go to intake, groups to the agency desk."""

from __future__ import annotations

import logging
from dataclasses import replace

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import (
    admin,
    agency,
    chat_policy,
    desk_login,
    flood,
    intake,
    privacy,
    reroute_buttons,
    staff_help,
    textsafe,
)
from handlers.desk import Desk
from handlers.events import ChatKind, Inbound
from storage import citizens

log = logging.getLogger(__name__)


# Names end up in fixed-size columns (citizen.display_name, complaint_message.author_label).
MAX_NAME_CHARS = 100


def sanitized(inbound: Inbound) -> Inbound:
    """The event with its free text cleaned (textsafe.clean), names cut to size and never a contact.

    A name that is really a phone number, a username or an e-mail address is dropped here, before
    it is stored anywhere a card or a report could show it.
    """
    location = inbound.location
    if location is not None and location.address:
        location = replace(location, address=textsafe.clean(location.address))
    return replace(
        inbound,
        text=textsafe.clean(inbound.text),
        sender_name=privacy.public_name(textsafe.clean(inbound.sender_name))[:MAX_NAME_CHARS],
        location=location,
        callback_data=None if inbound.callback_data is None else textsafe.clean(inbound.callback_data),
    )


async def handle(session: AsyncSession, desk: Desk, inbound: Inbound) -> None:
    """Apply one inbound event to the desk, inside the caller's transaction."""
    inbound = sanitized(inbound)
    if inbound.sender_is_bot:
        # Bots (our own messages echoed in groups, or a "bot" in a private chat, which Telegram never
        # delivers) get no answer: two bots must not talk without end.
        return
    if chat_policy.is_unknown_group(desk, inbound):
        # Anyone can add the bot to a group: one short answer an hour there, nothing else.
        await chat_policy.answer_unknown_group(session, desk, inbound)
        return
    if not await flood.admit(session, desk, inbound):
        log.info(
            "flood control: %s:%s is over its limit; event %s not processed",
            inbound.channel,
            privacy.mask_phones(inbound.chat_id),
            inbound.external_id,
        )
        return
    if inbound.chat_kind == ChatKind.PRIVATE:
        admin_help = staff_help.wants_admin_help(desk, inbound)
        if inbound.is_command and inbound.command()[0] in desk_login.COMMANDS:
            await desk_login.handle(session, desk, inbound)
        elif inbound.is_command and (inbound.command()[0] in admin.COMMANDS or admin_help):
            # They wrote to us, as in any private chat (WhatsApp answers only within 24 h of that).
            await citizens.touch_citizen(
                session,
                channel=inbound.channel,
                address=inbound.chat_id,
                display_name=inbound.sender_name,
                handle=inbound.sender_handle,
                now=desk.now(),
            )
            if admin_help:
                # An admin's /start or /help: the humas commands, and no citizen draft begun.
                await staff_help.admin_private_help(session, desk, inbound)
            else:
                await admin.handle(session, desk, inbound)
        else:
            await intake.handle_private(session, desk, inbound)
        return
    if inbound.callback_data is not None and await reroute_buttons.handle(session, desk, inbound):
        return
    if await agency.handle_group(session, desk, inbound):
        return
    if inbound.is_command and await admin.handle(session, desk, inbound):
        return
    if inbound.is_command and await desk_login.handle(session, desk, inbound):
        return
    # Other commands in groups (meant for other bots, typos) get no answer: groups stay quiet.
    log.debug("group message in %s not handled: %r", inbound.chat_id, inbound.text[:40])

"""Admission before any download: whether a citizen's message is taken at all, and how many photos.

A WhatsApp photo has to be downloaded (with the account's credentials) before the desk sees the
message. The download must not come first: a flooding chat, or a draft that already holds its five
photos, would make the bot fetch whatever it is sent. The same counts decide here, before the
download, as decide later when the message is processed (handlers.flood, the intake's photo cap).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import flood
from handlers.desk import Desk
from handlers.events import ChannelName, ChatKind, Inbound
from handlers.intake import MAX_PHOTOS
from storage import conversations


async def photo_allowance(
    session: AsyncSession, desk: Desk, *, channel: ChannelName, chat_id: str, at: datetime
) -> int | None:
    """How many photos a citizen's message received `at` may bring; None if the message is not admitted."""
    probe = Inbound(
        channel=channel,
        chat_id=chat_id,
        chat_kind=ChatKind.PRIVATE,
        sender_id=chat_id,
        sender_name="",
        at=at,
        external_id="",
    )
    if not await flood.within_limit(session, desk, probe):
        return None
    draft = await conversations.peek_conversation(session, channel=channel, chat_id=chat_id, now=desk.now())
    # A draft whose photos are being replaced ("ubah" -> foto) takes a full set again.
    replacing = draft is not None and bool(draft.data.get("replace_photos"))
    held = len(draft.data.get("media", [])) if draft is not None and not replacing else 0
    return max(0, MAX_PHOTOS - held)

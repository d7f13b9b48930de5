"""A question about one complaint (a rating, "sudah beres?") whose answer may come typed."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.desk import Desk
from storage import conversations
from storage.models import Citizen


async def await_answer(
    session: AsyncSession,
    desk: Desk,
    citizen: Citizen,
    complaint_id: int,
    *,
    step: str,
    ttl: timedelta,
    keyboard: int | None = None,
) -> None:
    """Take the citizen's next message as the answer to `step`'s question about the complaint."""
    data: dict[str, object] = {"complaint_id": complaint_id}
    if keyboard is not None:
        # The question's buttons are taken off once it is answered in words.
        data["keyboard"] = keyboard
    await conversations.save_conversation(
        session, channel=citizen.channel, chat_id=citizen.address, step=step, data=data, now=desk.now(), ttl=ttl
    )


async def await_unless_busy(
    session: AsyncSession,
    desk: Desk,
    citizen: Citizen,
    complaint_id: int,
    *,
    step: str,
    ttl: timedelta,
    keyboard: int | None,
) -> None:
    """As await_answer, but only when no draft is in progress: a typed answer must not eat a draft's."""
    live = await conversations.load_conversation(
        session, channel=citizen.channel, chat_id=citizen.address, now=desk.now()
    )
    if live is None:
        await await_answer(session, desk, citizen, complaint_id, step=step, ttl=ttl, keyboard=keyboard)

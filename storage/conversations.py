"""Conversation state per (channel, chat), so a restart or another worker continues a dialog."""

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, delete
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Conversation


async def load_conversation(session: AsyncSession, *, channel: str, chat_id: str, now: datetime) -> Conversation | None:
    """The chat's live conversation; an expired one is deleted and None returned."""
    conversation = await session.get(Conversation, (channel, chat_id), with_for_update=True)
    if conversation is None:
        return None
    if conversation.expires_at <= now:
        await session.delete(conversation)
        await session.flush()
        return None
    return conversation


async def save_conversation(
    session: AsyncSession,
    *,
    channel: str,
    chat_id: str,
    step: str,
    data: dict[str, Any],
    now: datetime,
    ttl: timedelta,
) -> Conversation:
    """Store where the chat stands; it expires `ttl` after this last step."""
    conversation = await session.get(Conversation, (channel, chat_id))
    if conversation is None:
        conversation = Conversation(channel=channel, chat_id=chat_id, step=step, data={})
    conversation.step = step
    # A new dict, so SQLAlchemy sees the JSON column changed.
    conversation.data = dict(data)
    conversation.updated_at = now
    conversation.expires_at = now + ttl
    session.add(conversation)
    return conversation


async def clear_conversation(session: AsyncSession, *, channel: str, chat_id: str) -> None:
    """Forget the chat's conversation."""
    await session.exec(
        delete(Conversation).where(col(Conversation.channel) == channel, col(Conversation.chat_id) == chat_id)
    )


async def purge_expired_conversations(session: AsyncSession, *, now: datetime) -> int:
    """Delete abandoned drafts; return how many."""
    result = await session.exec(delete(Conversation).where(col(Conversation.expires_at) <= now))
    return int(result.rowcount or 0)

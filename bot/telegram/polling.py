"""Polling mode: long-poll getUpdates and feed the same inbox the webhook feeds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Bot
from telegram.error import TelegramError

from bot.telegram.inbound import CHANNEL, chat_key
from handlers.clock import Clock
from storage import inbox
from storage.engine import is_unavailable

log = logging.getLogger(__name__)


async def poll_updates(
    bot: Bot,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    allowed_updates: list[str],
    *,
    on_stored: Callable[[], None],
    timeout: int = 30,
) -> None:
    """Fetch updates forever; each is stored before the offset moves past it, so none is lost."""
    offset: int | None = None
    while True:
        try:
            updates = await bot.get_updates(
                offset=offset,
                timeout=timeout,
                allowed_updates=allowed_updates,
                read_timeout=timeout + 10,
            )
        except TelegramError as exc:
            log.warning("getUpdates failed (%s); retrying", exc)
            await asyncio.sleep(2)
            continue
        if not updates:
            continue
        try:
            async with sessions() as session, session.begin():
                for update in updates:
                    payload = update.to_dict()
                    await inbox.store_inbound(
                        session,
                        channel=CHANNEL,
                        external_id=str(update.update_id),
                        chat_key=chat_key(payload),
                        payload=payload,
                        now=clock.now(),
                    )
        except Exception as exc:
            # Not stored: do not move the offset; Telegram keeps them for us.
            if is_unavailable(exc):
                log.warning("cannot store polled updates (%s); retrying", exc)
            else:
                log.exception("cannot store polled updates; retrying")
            await asyncio.sleep(2)
            continue
        offset = updates[-1].update_id + 1
        on_stored()

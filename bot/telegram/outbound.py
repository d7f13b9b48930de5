"""Outbox messages sent through python-telegram-bot, with Telegram's errors sorted by what to do."""

from __future__ import annotations

import base64
import logging
import warnings
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.warnings import PTBDeprecationWarning

from bot.channels import RetryLater, Undeliverable
from handlers.textsafe import cut_utf16, split_utf16
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

# Telegram's limits, in UTF-16 code units of the visible text.
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


def _seconds(exc: RetryAfter) -> float:
    """retry_after in seconds: PTB 22 gives an int (deprecated) or a timedelta (opt-in)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _keyboard(rows: list[list[list[str]]] | None) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data[:64]) for label, data in row] for row in rows]
    )


def _reply(payload: dict[str, object]) -> ReplyParameters | None:
    target = payload.get("reply_to")
    if not target:
        return None
    # If the message to answer was deleted, send anyway rather than fail.
    return ReplyParameters(message_id=int(str(target)), allow_sending_without_reply=True)


@contextmanager
def delivery_errors() -> Iterator[None]:
    """Turn python-telegram-bot's errors into the dispatcher's: retry later, or give up."""
    try:
        yield
    except RetryAfter as exc:
        after = _seconds(exc)
        raise RetryLater(f"Telegram rate limit: retry after {after:g} s", after=after, rate_limited=True) from exc
    except Forbidden as exc:
        # Blocked by the user, or the bot was removed from the group: retrying cannot help.
        raise Undeliverable(f"Telegram refused: {exc.message}", recipient_gone=True) from exc
    except BadRequest as exc:
        raise Undeliverable(f"Telegram rejected the message: {exc.message}") from exc
    except (TimedOut, NetworkError) as exc:
        # NetworkError covers 5xx answers and connection failures.
        raise RetryLater(f"Telegram unreachable: {exc.message}") from exc
    except TelegramError as exc:
        raise RetryLater(f"Telegram error: {exc.message}") from exc


def photo_fetcher(bot: Bot) -> Callable[[str], Awaitable[bytes]]:
    """A function downloading a Telegram photo by file id (for sending it on to another messenger)."""

    async def fetch(file_id: str) -> bytes:
        with delivery_errors():
            file = await bot.get_file(file_id)
            return bytes(await file.download_as_bytearray())

    return fetch


class TelegramSender:
    """Sends outbox rows with a python-telegram-bot Bot (rate-limited: bot.telegram.ratelimit)."""

    def __init__(
        self,
        bot: Bot,
        *,
        load_media: Callable[[str], Awaitable[bytes]] | None = None,
        sent_id: Callable[[int], Awaitable[str | None]] | None = None,
    ) -> None:
        self._bot = bot
        # Photos that came from another messenger are stored by us and uploaded as bytes.
        self._load_media = load_media
        # The Telegram message id an earlier outbox row was sent as (to take its buttons away).
        self._sent_id = sent_id

    async def _clear_buttons(self, chat_id: int, payload: dict[str, object]) -> None:
        """Take the inline keyboard off a message sent earlier; nothing to do if it is gone already."""
        message_id = payload.get("message_id")
        if message_id is None and payload.get("outbox_ref") is not None and self._sent_id is not None:
            message_id = await self._sent_id(int(str(payload["outbox_ref"])))
        if message_id is None or not str(message_id).isdigit():
            return None
        try:
            await self._bot.edit_message_reply_markup(chat_id, int(str(message_id)), reply_markup=None)
        except BadRequest as exc:
            # "message is not modified" (no buttons left), or deleted: the goal is reached either way.
            log.info("buttons not cleared: %s", exc.message)
        return None

    async def send(self, message: OutboxMessage) -> str | None:
        """Send one outbox row; return Telegram's message id."""
        if not message.chat_id.lstrip("-").isdigit():
            raise Undeliverable(f"not a Telegram chat id: {message.chat_id[:40]!r}")
        with delivery_errors():
            return await self._send(message)

    async def _send(self, message: OutboxMessage) -> str | None:
        payload = message.payload
        chat_id = int(message.chat_id)
        sent: Message | bool
        if message.kind == "text":
            text = str(payload["text"])
            html = bool(payload.get("html"))
            # A plain text over Telegram's limit (an agency's long answer plus its header) goes in
            # parts rather than losing its end; HTML is sized by the handlers (a cut would break tags).
            parts = [text] if html else split_utf16(text, TEXT_LIMIT)
            # A one-time link (the web desk's /masuk) must not be fetched for a preview.
            preview = LinkPreviewOptions(is_disabled=True) if payload.get("no_preview") else None
            for part in parts[:-1]:
                await self._bot.send_message(
                    chat_id, part, reply_parameters=_reply(payload), link_preview_options=preview
                )
            sent = await self._bot.send_message(
                chat_id,
                parts[-1],
                parse_mode=ParseMode.HTML if html else None,
                reply_markup=_keyboard(payload.get("buttons")),
                reply_parameters=_reply(payload),
                link_preview_options=preview,
            )
        elif message.kind == "location":
            sent = await self._bot.send_location(
                chat_id, latitude=float(str(payload["lat"])), longitude=float(str(payload["lon"]))
            )
        elif message.kind == "photo":
            sent = await self._send_photo(chat_id, payload)
        elif message.kind == "document":
            content = base64.b64decode(str(payload["content_b64"]))
            sent = await self._bot.send_document(
                chat_id,
                document=content,
                filename=str(payload.get("filename", "file")),
                caption=cut_utf16(str(payload.get("caption", "")), CAPTION_LIMIT) or None,
            )
        elif message.kind == "clear_buttons":
            await self._clear_buttons(chat_id, payload)
            return None
        elif message.kind == "callback_answer":
            try:
                await self._bot.answer_callback_query(
                    str(payload["callback_id"]), text=str(payload.get("text") or "") or None
                )
            except BadRequest as exc:
                # A button pressed long ago: the acknowledgement is moot, not a failure to report.
                log.info("callback answer not accepted: %s", exc.message)
            return None
        else:
            raise Undeliverable(f"unknown outbox kind {message.kind!r}")
        return str(sent.message_id) if isinstance(sent, Message) else None

    async def _send_photo(self, chat_id: int, payload: dict[str, Any]) -> Message:
        """A photo with its caption; an HTML caption (a ticket card) is sized by the handlers, never cut."""
        html = bool(payload.get("html"))
        caption = str(payload.get("caption", ""))
        try:
            photo: str | bytes = str(payload["ref"])
            if payload.get("source") == "media":
                if self._load_media is None:
                    raise Undeliverable("no media store to read the photo from")
                photo = await self._load_media(str(payload["ref"]))
            return await self._bot.send_photo(
                chat_id,
                photo=photo,
                caption=(caption if html else cut_utf16(caption, CAPTION_LIMIT)) or None,
                parse_mode=ParseMode.HTML if html else None,
            )
        except (BadRequest, Undeliverable) as exc:
            if not payload.get("caption_is_essential") or not caption:
                raise
            # The photo cannot be sent (a file id Telegram no longer knows, a stored photo gone):
            # the caption is a ticket card, which the group must still get, as a text.
            log.warning("photo not sendable (%s); sending its caption as a text", exc)
            return await self._bot.send_message(
                chat_id, caption, parse_mode=ParseMode.HTML if html else None, link_preview_options=None
            )

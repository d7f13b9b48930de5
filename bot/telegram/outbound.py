"""Outbox messages sent through python-telegram-bot, with Telegram's errors sorted by what to do."""

from __future__ import annotations

import base64
import logging
import warnings
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

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
        raise RetryLater(f"Telegram rate limit: retry after {after:g} s", after=after) from exc
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

    def __init__(self, bot: Bot, *, load_media: Callable[[str], Awaitable[bytes]] | None = None) -> None:
        self._bot = bot
        # Photos that came from another messenger are stored by us and uploaded as bytes.
        self._load_media = load_media

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
                reply_markup=_keyboard(payload.get("buttons")),  # type: ignore[arg-type]
                reply_parameters=_reply(payload),
                link_preview_options=preview,
            )
        elif message.kind == "location":
            sent = await self._bot.send_location(
                chat_id, latitude=float(str(payload["lat"])), longitude=float(str(payload["lon"]))
            )
        elif message.kind == "photo":
            photo: str | bytes = str(payload["ref"])
            if payload.get("source") == "media":
                if self._load_media is None:
                    raise Undeliverable("no media store to read the photo from")
                photo = await self._load_media(str(payload["ref"]))
            sent = await self._bot.send_photo(
                chat_id, photo=photo, caption=cut_utf16(str(payload.get("caption", "")), CAPTION_LIMIT) or None
            )
        elif message.kind == "document":
            content = base64.b64decode(str(payload["content_b64"]))
            sent = await self._bot.send_document(
                chat_id,
                document=content,
                filename=str(payload.get("filename", "file")),
                caption=cut_utf16(str(payload.get("caption", "")), CAPTION_LIMIT) or None,
            )
        elif message.kind == "callback_answer":
            try:
                await self._bot.answer_callback_query(str(payload["callback_id"]))
            except BadRequest as exc:
                # A button pressed long ago: the acknowledgement is moot, not a failure to report.
                log.info("callback answer not accepted: %s", exc.message)
            return None
        else:
            raise Undeliverable(f"unknown outbox kind {message.kind!r}")
        return str(sent.message_id) if isinstance(sent, Message) else None

"""Telegram updates become the desk's neutral Inbound events."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from telegram import Bot, Chat, Message, Update

from handlers.events import Attachment, ChannelName, ChatKind, Inbound, Location

log = logging.getLogger(__name__)

CHANNEL = ChannelName("telegram")

# Kinds of message the desk does not take, in the order Telegram's Message exposes them.
_UNSUPPORTED = (
    "sticker",
    "voice",
    "audio",
    "video",
    "video_note",
    "animation",
    "document",
    "contact",
    "poll",
    "dice",
    "game",
    "venue",
)


def chat_key(payload: dict[str, Any]) -> str:
    """The chat an update belongs to, read from the raw JSON (for per-chat ordering)."""
    for field in (
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
    ):
        part = payload.get(field)
        if isinstance(part, dict) and isinstance(part.get("chat"), dict):
            return f"{CHANNEL}:{part['chat'].get('id')}"
    callback = payload.get("callback_query")
    if isinstance(callback, dict):
        message = callback.get("message")
        if isinstance(message, dict) and isinstance(message.get("chat"), dict):
            return f"{CHANNEL}:{message['chat'].get('id')}"
        sender = callback.get("from")
        if isinstance(sender, dict):
            return f"{CHANNEL}:{sender.get('id')}"
    return f"{CHANNEL}:other"


def _kind(chat: Chat | None) -> ChatKind | None:
    if chat is None or not isinstance(chat.id, int) or isinstance(chat.id, bool):
        return None  # Telegram's chat ids are integers; anything else is no chat we could answer
    if chat.type == Chat.PRIVATE:
        return ChatKind.PRIVATE
    if chat.type in (Chat.GROUP, Chat.SUPERGROUP):
        return ChatKind.GROUP
    return None  # channels are not part of the desk


def _reply_to(message: Message) -> str | None:
    """The id of the message this one answers; a forum topic's root is not an answer to anything."""
    replied = message.reply_to_message
    if replied is None:
        return None
    if replied.forum_topic_created is not None:
        return None
    if message.is_topic_message and replied.message_id == message.message_thread_id:
        return None
    return str(replied.message_id)


def _own_replied_text(message: Message, bot_id: int) -> str | None:
    """The text of the bot's own message this one replies to (None for anything else)."""
    if _reply_to(message) is None:
        return None
    replied = message.reply_to_message
    assert replied is not None
    if replied.from_user is None or replied.from_user.id != bot_id:
        return None
    return replied.text or replied.caption


def _name(user: Any) -> str:
    if user is None:
        return ""
    return " ".join(part for part in (user.first_name, user.last_name) if part)


def _handle(user: Any) -> str:
    return (user.username or "") if user is not None else ""


def _spoofed(kind: ChatKind | None, chat_id: int, sender_id: int, update_id: int) -> bool:
    """Whether a private chat's message claims a sender other than the chat's own person.

    Telegram never sends that: it would take a leaked webhook secret or a bug upstream. Acting on
    it would give the chat the rights of whoever `from` names (an admin's, say).
    """
    if kind != ChatKind.PRIVATE or chat_id == sender_id:
        return False
    log.warning("update %s: a private chat whose sender is someone else; ignored", update_id)
    return True


def to_inbound(update: Update, *, bot_id: int, received_at: datetime | None = None) -> Inbound | None:
    """The Inbound of an update, or None for kinds the desk ignores (edits, channel posts...)."""
    at = received_at or datetime.now(UTC)
    external_id = str(update.update_id)
    if update.callback_query is not None:
        query = update.callback_query
        message = query.message
        kind = None if message is None else _kind(message.chat)
        if message is None or kind is None:
            return None
        if _spoofed(_kind(message.chat), message.chat.id, query.from_user.id, update.update_id):
            return None
        return Inbound(
            channel=CHANNEL,
            chat_id=str(message.chat.id),
            chat_kind=kind,
            sender_id=str(query.from_user.id),
            sender_name=_name(query.from_user),
            sender_handle=_handle(query.from_user),
            at=at,
            external_id=external_id,
            callback_data=query.data or "",
            callback_id=query.id,
            # The message whose button was pressed (to take its buttons away).
            message_id=str(message.message_id),
            sender_is_bot=query.from_user.is_bot,
        )
    member = update.my_chat_member
    if member is not None:
        kind = _kind(member.chat)
        joined = member.new_chat_member.status in ("member", "administrator")
        was_out = member.old_chat_member.status in ("left", "kicked")
        if kind == ChatKind.GROUP and joined and was_out:
            return _bot_added(member.chat, member.from_user, external_id, at)
        return None
    message = update.message
    if message is None:
        # Edited messages, channel posts, polls...: nothing for the desk to do.
        return None
    kind = _kind(message.chat)
    if kind is None or message.from_user is None:
        return None
    if not isinstance(message.from_user.id, int):
        return None  # not something Telegram sends
    if _spoofed(kind, message.chat.id, message.from_user.id, update.update_id):
        return None
    if message.new_chat_members and any(user.id == bot_id for user in message.new_chat_members):
        return _bot_added(message.chat, message.from_user, external_id, at)
    if message.group_chat_created or message.supergroup_chat_created:
        return _bot_added(message.chat, message.from_user, external_id, at)
    location = None
    if message.location is not None:
        address = ""
        if message.venue is not None:
            address = f"{message.venue.title}, {message.venue.address}".strip(", ")
        location = Location(lat=message.location.latitude, lon=message.location.longitude, address=address)
    media: tuple[Attachment, ...] = ()
    if message.photo:
        # The largest size; Telegram's file_id can be sent again by this bot to any chat.
        media = (Attachment(kind="photo", source=CHANNEL, ref=message.photo[-1].file_id),)
    elif message.document is not None and (message.document.mime_type or "").startswith("image/"):
        media = (
            Attachment(
                kind="photo",
                source=CHANNEL,
                ref=message.document.file_id,
                content_type=message.document.mime_type or "",
            ),
        )
    unsupported = None
    if not media and location is None:
        unsupported = next((name for name in _UNSUPPORTED if getattr(message, name, None)), None)
    return Inbound(
        channel=CHANNEL,
        chat_id=str(message.chat.id),
        chat_kind=kind,
        sender_id=str(message.from_user.id),
        sender_name=_name(message.from_user),
        sender_handle=_handle(message.from_user),
        at=at,
        external_id=external_id,
        text=(message.text or message.caption or ""),
        location=location,
        media=media,
        unsupported=unsupported,
        reply_to=_reply_to(message),
        reply_to_text=_own_replied_text(message, bot_id),
        message_id=str(message.message_id),
        sender_is_bot=message.from_user.is_bot,
    )


def _bot_added(chat: Chat, user: Any, external_id: str, at: datetime) -> Inbound:
    return Inbound(
        channel=CHANNEL,
        chat_id=str(chat.id),
        chat_kind=ChatKind.GROUP,
        sender_id=str(user.id) if user else "",
        sender_name=_name(user),
        sender_handle=_handle(user),
        at=at,
        external_id=external_id,
        extra={"event": "bot_added"},
    )


def parse_update(payload: dict[str, Any], bot: Bot) -> Update | None:
    """Decode stored update JSON with python-telegram-bot; None if it is not an update."""
    try:
        return Update.de_json(payload, bot)
    except Exception as exc:  # noqa: BLE001 (a malformed payload is nothing to do, not a failure to retry)
        log.warning("undecodable Telegram update %s: %s: %s", payload.get("update_id"), type(exc).__name__, exc)
        return None


def decode(payload: dict[str, Any], bot: Bot, *, received_at: datetime) -> Inbound | None:
    """The Inbound of a stored update, or None if there is nothing for the desk to do."""
    update = parse_update(payload, bot)
    if update is None:
        return _undecodable_private(payload, received_at)
    return to_inbound(update, bot_id=bot.id, received_at=received_at)


def _undecodable_private(payload: dict[str, Any], received_at: datetime) -> Inbound | None:
    """A citizen's message python-telegram-bot cannot decode (a newer Bot API): still answer them.

    Only the plain fields are read; the citizen learns that this kind of message is not taken,
    or, if it had text, the text goes on as usual.
    """
    message = payload.get("message")
    if not isinstance(message, dict):
        return None
    chat, sender = message.get("chat"), message.get("from")
    if not isinstance(chat, dict) or not isinstance(sender, dict) or chat.get("type") != Chat.PRIVATE:
        return None
    chat_id, sender_id = chat.get("id"), sender.get("id")
    if not isinstance(chat_id, int) or isinstance(chat_id, bool) or not isinstance(sender_id, int):
        return None
    if _spoofed(ChatKind.PRIVATE, chat_id, sender_id, payload.get("update_id", 0)):
        return None
    raw_text = message.get("text")
    text = raw_text if isinstance(raw_text, str) else ""
    return Inbound(
        channel=CHANNEL,
        chat_id=str(chat_id),
        chat_kind=ChatKind.PRIVATE,
        sender_id=str(sender_id),
        sender_name=" ".join(str(sender.get(k) or "") for k in ("first_name", "last_name")).strip(),
        at=received_at,
        external_id=str(payload.get("update_id")),
        text=text,
        unsupported=None if text else "unknown",
        sender_is_bot=sender.get("is_bot") is True,
    )

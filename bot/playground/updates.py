"""Builders of the payloads Telegram and Twilio post to the bot, as the real services shape them."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any


def telegram_user(user_id: int, first_name: str, *, is_bot: bool = False) -> dict[str, Any]:
    """A Telegram User object."""
    return {"id": user_id, "is_bot": is_bot, "first_name": first_name}


def telegram_chat(chat_id: int, *, title: str = "", first_name: str = "") -> dict[str, Any]:
    """A private chat for positive ids, a supergroup for negative ones."""
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": first_name or "Warga"}
    return {"id": chat_id, "type": "supergroup", "title": title or f"Grup {chat_id}"}


def telegram_message_update(
    update_id: int,
    *,
    message_id: int,
    chat: dict[str, Any],
    sender: dict[str, Any],
    text: str | None = None,
    photo_file_id: str | None = None,
    location: tuple[float, float] | None = None,
    reply_to: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An Update carrying one message; `reply_to` is the message being answered."""
    message: dict[str, Any] = {"message_id": message_id, "date": int(time.time()), "chat": chat, "from": sender}
    if photo_file_id is not None:
        message["photo"] = [
            {"file_id": photo_file_id, "file_unique_id": photo_file_id[-12:], "width": 1280, "height": 960}
        ]
        if text:
            message["caption"] = text
    elif text is not None:
        message["text"] = text
        if text.startswith("/"):
            command = text.split(" ", 1)[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    if location is not None:
        message["location"] = {"latitude": location[0], "longitude": location[1]}
    if reply_to is not None:
        message["reply_to_message"] = reply_to
    return {"update_id": update_id, "message": message}


def telegram_callback_update(
    update_id: int, *, callback_id: str, sender: dict[str, Any], data: str, message: dict[str, Any]
) -> dict[str, Any]:
    """An Update for a press on an inline button of `message`."""
    return {
        "update_id": update_id,
        "callback_query": {
            "id": callback_id,
            "from": sender,
            "chat_instance": "playground",
            "data": data,
            "message": message,
        },
    }


def whatsapp_form(
    *,
    message_sid: str,
    account_sid: str,
    sender: str,
    to: str,
    profile_name: str,
    body: str = "",
    media: Sequence[tuple[str, str]] = (),
    location: tuple[float, float] | None = None,
    address: str = "",
) -> dict[str, str]:
    """The form Twilio posts for an inbound WhatsApp message (media: (url, content type) pairs)."""
    form = {
        "MessageSid": message_sid,
        "SmsMessageSid": message_sid,
        "SmsSid": message_sid,
        "AccountSid": account_sid,
        "From": sender,
        "To": to,
        "Body": body,
        "ProfileName": profile_name,
        "WaId": sender.removeprefix("whatsapp:+"),
        "NumMedia": str(len(media)),
        "NumSegments": "1",
        "MessageType": "image" if media else ("location" if location else "text"),
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    for index, (url, content_type) in enumerate(media):
        form[f"MediaUrl{index}"] = url
        form[f"MediaContentType{index}"] = content_type
    if location is not None:
        form["Latitude"] = f"{location[0]:.6f}"
        form["Longitude"] = f"{location[1]:.6f}"
        if address:
            form["Address"] = address
    return form

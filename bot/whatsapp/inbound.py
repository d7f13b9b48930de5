"""Twilio's WhatsApp webhook form posts become the desk's neutral Inbound events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from handlers.events import Attachment, ChannelName, ChatKind, Inbound, Location
from handlers.privacy import public_name

CHANNEL = ChannelName("whatsapp")
# Twilio sends at most 10 media items with one WhatsApp message.
MAX_MEDIA = 10


@dataclass(frozen=True)
class MediaItem:
    """One MediaUrl<n> of a form post."""

    index: int
    url: str
    content_type: str


def chat_key(form: Mapping[str, str]) -> str:
    """The chat an inbound belongs to (for per-chat ordering in the inbox)."""
    return f"{CHANNEL}:{form.get('From', '')}"


def media_items(form: Mapping[str, str]) -> list[MediaItem]:
    """The media attached to a message, as Twilio lists them."""
    try:
        count = int(form.get("NumMedia", "0") or 0)
    except ValueError:
        return []
    items = []
    for index in range(min(max(count, 0), MAX_MEDIA)):
        url = form.get(f"MediaUrl{index}", "")
        if url:
            content_type = form.get(f"MediaContentType{index}", "").split(";")[0].strip().lower()
            items.append(MediaItem(index, url, content_type))
    return items


def is_photo(content_type: str) -> bool:
    """Whether a media item is a photo the desk keeps (WhatsApp stickers are WebP images: not photos)."""
    return content_type.startswith("image/") and content_type != "image/webp"


def unsupported_kind(content_type: str) -> str:
    """The desk's name for media it does not take (see handlers.texts.UNSUPPORTED_NAMES)."""
    if content_type == "image/webp":
        return "sticker"
    if content_type.startswith("audio/"):
        # WhatsApp voice notes arrive as Ogg/Opus; other audio is a shared file.
        return "voice" if content_type in ("audio/ogg", "audio/opus") else "audio"
    if content_type.startswith("video/"):
        return "video"
    if content_type in ("text/vcard", "text/x-vcard"):
        return "contact"
    return "document"


def media_key(message_sid: str, index: int) -> str:
    """The storage key of a message's n-th media item; the same on a redelivery."""
    return f"{message_sid}-{index}"


def _location(form: Mapping[str, str]) -> Location | None:
    try:
        lat = float(form.get("Latitude", ""))
        lon = float(form.get("Longitude", ""))
    except ValueError:
        return None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return None
    # A place picked from the map comes with its name (Label) and address.
    address = ", ".join(part for part in (form.get("Label", "").strip(), form.get("Address", "").strip()) if part)
    return Location(lat=lat, lon=lon, address=address)


def tap_of(form: Mapping[str, str]) -> str | None:
    """The data of the button (ButtonPayload) or list item (ListId) the citizen tapped, if that is what this is."""
    for field in ("ButtonPayload", "ListId"):
        value = form.get(field, "")
        if value.strip():
            return value
    return None


def display_name(form: Mapping[str, str]) -> str:
    """The citizen's WhatsApp profile name, unless it is a phone number, a username or an e-mail address."""
    return public_name(" ".join(form.get("ProfileName", "").split()))


def to_inbound(form: Mapping[str, str], *, photos: Sequence[Attachment], received_at: datetime) -> Inbound | None:
    """The Inbound of a WhatsApp message; `photos` are its images already stored. None if not WhatsApp."""
    sender = form.get("From", "")
    if not sender.startswith("whatsapp:"):
        return None  # an SMS to the same number: this desk answers on WhatsApp only
    location = _location(form)
    items = media_items(form)
    unsupported = None
    if not photos and location is None:
        # An image that could not be downloaded is not "unsupported": the adapter says so itself.
        unsupported = next((unsupported_kind(i.content_type) for i in items if not is_photo(i.content_type)), None)
    message_sid = form.get("MessageSid", "")
    tapped = tap_of(form)
    common: dict[str, Any] = {
        "channel": CHANNEL,
        "chat_id": sender,
        "chat_kind": ChatKind.PRIVATE,
        "sender_id": sender,
        "sender_name": display_name(form),
        "at": received_at,
        "external_id": message_sid,
    }
    if tapped is not None:
        # A tap on a button or list item the bot sent: the same input as that Telegram button;
        # its message id is the message whose button was tapped, like Telegram's callback message.
        replied = form.get("OriginalRepliedMessageSid", "") or message_sid
        return Inbound(**common, callback_data=tapped, message_id=replied)
    return Inbound(
        **common,
        # A button's words without its payload (older WhatsApp clients) are taken as typed.
        text=form.get("Body", "") or form.get("ButtonText", ""),
        location=location,
        media=tuple(photos),
        unsupported=unsupported,
        message_id=message_sid,
    )

"""The neutral shape of what arrives from a messenger, whichever one it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NewType

# A messenger's name as stored with every chat and message ("telegram", "whatsapp"). Each
# messenger's package under bot/ owns its name; the desk only passes names along and compares them
# with the ones the composition root gave it (Desk.staff_channel), never with literals.
ChannelName = NewType("ChannelName", str)

# The source of a photo kept in the media table (rather than resendable by the messenger's own id).
STORED = "media"


class ChatKind(StrEnum):
    """A citizen's private chat, or a group (agency or humas)."""

    PRIVATE = "private"
    GROUP = "group"


@dataclass(frozen=True)
class Location:
    """A point the citizen shared, with the address text if the messenger gave one."""

    lat: float
    lon: float
    address: str = ""


@dataclass(frozen=True)
class Attachment:
    """A photo that arrived with a message: a reference the outbox can send again."""

    kind: str  # "photo"
    # What `ref` is: the name of the channel that can send it again by that id (a Telegram file_id
    # is reusable by the same bot in any chat), or STORED for a key of the media table.
    source: str
    ref: str
    content_type: str = "image/jpeg"


@dataclass(frozen=True)
class Inbound:
    """One message, button press or event from a messenger, reduced to what the desk needs."""

    channel: ChannelName
    chat_id: str
    chat_kind: ChatKind
    sender_id: str
    sender_name: str
    at: datetime
    external_id: str
    text: str = ""
    location: Location | None = None
    media: tuple[Attachment, ...] = ()
    # What was sent that the desk does not take: "sticker", "voice", "video", "document"...
    unsupported: str | None = None
    # The provider's id of the message this one replies to (never a forum topic's root).
    reply_to: str | None = None
    # The text of that message when the bot itself wrote it (a ticket card names its ticket).
    reply_to_text: str | None = None
    # The provider's id of this message itself (to reply to it).
    message_id: str | None = None
    # An inline button press: its data, and the id to acknowledge it with.
    callback_data: str | None = None
    callback_id: str | None = None
    sender_is_bot: bool = False
    # A public handle the sender chose on the messenger (a Telegram @username, without the @), if any.
    sender_handle: str = ""
    # The agencies whose Telegram group the sender belongs to, as the messenger reported while the
    # event was prepared (looked up only for commands that need it, handlers.desk_login); None: not looked up.
    staff_of: frozenset[str] | None = None
    # Anything else the adapter reports, e.g. {"event": "bot_added"}.
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_command(self) -> bool:
        """Whether the text is a slash command."""
        return self.text.startswith("/")

    def command(self) -> tuple[str, str]:
        """The command name (lower case, without a @botname suffix) and the rest of the text."""
        head, _, rest = self.text.partition(" ")
        name = head[1:].split("@", 1)[0].lower()
        return name, rest.strip()

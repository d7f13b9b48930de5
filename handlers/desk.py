"""The desk: what the handlers know about the deployment, built once from the settings."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.clock import Clock
from handlers.events import ChannelName
from handlers.outgoing import Recipient
from routing import Lexicon
from storage.tickets import format_ticket, parse_ticket

# The owner code of complaints no agency has taken yet, and of the humas group.
HUMAS = "HUMAS"

_MONTHS = ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"]


@dataclass(frozen=True)
class AgencyInfo:
    """One agency: its code, full name and Telegram group."""

    code: str
    name: str
    chat_id: str


@dataclass(frozen=True)
class WebLogin:
    """The web desk's login links, when [web] is enabled: bot/ signs the token into a public URL."""

    link: Callable[[str], str]
    lifetime: timedelta


@dataclass(frozen=True)
class DuplicatePolicy:
    """[duplicates]: what is offered as "already reported", and how a closing is confirmed."""

    days: int = 14
    radius_meters: float = 250.0
    confirm_within: timedelta = timedelta(days=3)
    max_reopen: int = 2


@dataclass(frozen=True)
class Desk:
    """Everything the handlers need besides the database session."""

    city: str
    ticket_prefix: str
    zone: ZoneInfo
    answer_within: timedelta
    remind_before: timedelta
    draft_ttl: timedelta
    humas_chat_id: str
    humas_admin_ids: frozenset[str]
    agencies: Mapping[str, AgencyInfo]
    lexicon: Lexicon
    # The messenger the city's staff use: agency groups, the humas group and admins' private chats.
    staff_channel: ChannelName
    # How each messenger is named to people ("WhatsApp").
    channel_labels: Mapping[str, str] = field(default_factory=dict)
    # The messengers whose sent buttons can be taken away (elsewhere nothing is queued to do it).
    removes_buttons: frozenset[str] = frozenset({"telegram"})
    # The messengers whose messages may be held until the person writes again (elsewhere nothing is
    # ever held, and a citizen's message need not look for held ones).
    holds_messages: frozenset[str] = frozenset({"whatsapp"})
    clock: Clock = field(default_factory=Clock)
    # How long after an agency's first answer the citizen is asked to rate it if the ticket stays open.
    rate_after: timedelta | None = timedelta(hours=24)
    # Flood control: a citizen's chat may send this many messages per window before being slowed.
    flood_max_messages: int = 20
    flood_window: timedelta = timedelta(seconds=60)
    # None while the web desk is switched off.
    web_login: WebLogin | None = None
    # Ticket cards: the map link of a point ({lat}, {lon}), and whether a separate pin follows the card.
    map_url: str = "https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=18/{lat}/{lon}"
    card_location_pin: bool = False
    # Agency and humas groups and humas admins: a larger limit, but a limit (handlers.flood).
    staff_flood_max_messages: int = 120
    # The public page ([public]): whether it is on, and whether it shows complaint texts (masked).
    public_page: bool = False
    public_text: bool = False
    duplicates: DuplicatePolicy = field(default_factory=DuplicatePolicy)

    def now(self) -> datetime:
        """The current time (UTC)."""
        return self.clock.now()

    def ticket(self, complaint_id: int) -> str:
        """The ticket number shown for a complaint id."""
        return format_ticket(self.ticket_prefix, complaint_id)

    def parse_ticket(self, text: str) -> int | None:
        """The complaint id in a ticket number, or None."""
        return parse_ticket(self.ticket_prefix, text)

    def staff(self, chat_id: str) -> Recipient:
        """A chat on the staff messenger (an agency group, the humas group, an admin)."""
        return Recipient(self.staff_channel, chat_id)

    def map_link(self, lat: float, lon: float) -> str:
        """The address of a point on the configured map."""
        return self.map_url.format(lat=f"{lat:.6f}", lon=f"{lon:.6f}")

    def channel_label(self, channel: str) -> str:
        """A messenger's name as people write it."""
        return self.channel_labels.get(channel, channel)

    def owner_of_chat(self, chat_id: str) -> str | None:
        """The agency code (or HUMAS) whose group this chat is, or None for an unknown chat."""
        if chat_id == self.humas_chat_id:
            return HUMAS
        for agency in self.agencies.values():
            if agency.chat_id == chat_id:
                return agency.code
        return None

    def group_of(self, owner: str | None) -> str:
        """The Telegram group where an owner's tickets go (humas for unrouted ones)."""
        if owner is None or owner == HUMAS or owner not in self.agencies:
            return self.humas_chat_id
        return self.agencies[owner].chat_id

    def agency_name(self, owner: str | None) -> str:
        """The name citizens see for an owner."""
        if owner is None or owner == HUMAS or owner not in self.agencies:
            return f"Humas {self.city}"
        return self.agencies[owner].name

    def local_time(self, moment: datetime) -> str:
        """A time as people in the city read it: 29 Nov 2026 10.00 WITA."""
        local = moment.astimezone(self.zone)
        return (
            f"{local.day} {_MONTHS[local.month - 1]} {local.year} {local.hour:02d}.{local.minute:02d} {local.tzname()}"
        )

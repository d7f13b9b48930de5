"""SQLModel tables: agencies, citizens, complaints and their messages, conversations, inbox, outbox, media, audit,
routing corrections.

Every datetime is timezone-aware UTC (see storage.types.UTCDateTime). Ticket numbers are the
complaint's row id, assigned by the database, shown as <prefix>-0042.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary, Table, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class ComplaintStatus(StrEnum):
    """Life of a complaint: open until the agency answers, closed or rejected at the end."""

    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"
    REJECTED = "rejected"


class OutboxStatus(StrEnum):
    """Life of an outgoing message."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    # Waiting for the citizen to write again (WhatsApp's 24-hour window); released to pending then.
    HELD = "held"
    # Not sent: it could no longer go out in time (a deadline reminder once the deadline is near).
    EXPIRED = "expired"


def _ts(*, nullable: bool = False, index: bool = False, now: bool = False) -> Any:
    """A UTC timestamp column; `now` defaults it to the current time."""
    column: Column[datetime] = Column(UTCDateTime(), nullable=nullable, index=index)
    if now:
        return Field(default_factory=utcnow, sa_column=column)
    return Field(default=None, sa_column=column)


def table_of(model: type[SQLModel]) -> Table:
    """The Core table behind a table model, for Core statements (SQLModel's types do not declare `__table__`)."""
    table = getattr(model, "__table__", None)
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return table


class Agency(SQLModel, table=True):
    """An OPD (city agency) as configured; synchronised from the settings at start."""

    __tablename__ = "agency"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)
    name: str = Field(max_length=200)
    # Unique among active agencies (the settings check it); not a database constraint so that
    # two agencies can swap groups in one configuration change.
    telegram_chat_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    active: bool = True


class Citizen(SQLModel, table=True):
    """A person who writes to the bot, identified by messenger and address."""

    __tablename__ = "citizen"
    __table_args__ = (UniqueConstraint("channel", "address", name="uq_citizen_channel_address"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    # Telegram: the private chat id as text; WhatsApp: "whatsapp:+62...".
    address: str = Field(max_length=64)
    display_name: str = Field(default="", max_length=200)
    # A public handle the person chose (a Telegram @username, without the @); shown to humas only.
    handle: str = Field(default="", max_length=64)
    # False once the messenger says the person blocked us or opted out: no more retries.
    reachable: bool = True
    # WhatsApp allows free-form messages only within 24 hours of the citizen's last message.
    last_inbound_at: datetime | None = _ts(nullable=True)
    created_at: datetime = _ts(now=True)


class Complaint(SQLModel, table=True):
    """One citizen report (aduan); its id is the ticket number."""

    __tablename__ = "complaint"
    __table_args__ = (
        # Hot queries: the SLA sweep and /overdue (open by due time), an agency's queue,
        # and a citizen's /status.
        Index("ix_complaint_status_due", "status", "due_at"),
        Index("ix_complaint_opd_status", "opd_code", "status", "due_at"),
        Index("ix_complaint_citizen_status", "citizen_id", "status"),
        Index("ix_complaint_created", "created_at"),
        # The dashboard's categories and ratings, and the list's category choices, from the index alone (0008).
        Index("ix_complaint_category", "category", "created_at", "opd_code"),
        Index("ix_complaint_rating", "rating", "created_at", "opd_code"),
        # "Already reported?" (storage.duplicates): an agency's complaints near a point (a bounding
        # box on the index, then the exact distance), and its newest ones for the text comparison (0012).
        Index("ix_complaint_point", "opd_code", "location_lat", "location_lon", "status", "created_at"),
        Index("ix_complaint_opd_created", "opd_code", "created_at", "status"),
        # The sweep's late rating requests: answered, not asked yet, oldest answer first (0015).
        Index("ix_complaint_rating_request", "status", "rating_requested_at", "answered_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int = Field(foreign_key="citizen.id")
    # None while humas has not routed it (the classifier was unsure).
    opd_code: str | None = Field(default=None, foreign_key="agency.code", max_length=20)
    category: str | None = Field(default=None, max_length=60)
    confidence: float = 0.0
    description: str = Field(sa_column=Column(Text, nullable=False))
    location_lat: float | None = None
    location_lon: float | None = None
    location_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # [{"kind": "photo", "source": "<channel name, or \"media\" for the media table>", "ref": ..., "content_type": ...}]
    media: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=ComplaintStatus.OPEN, max_length=16)
    created_at: datetime = _ts(now=True)
    due_at: datetime = _ts()
    answered_at: datetime | None = _ts(nullable=True)
    closed_at: datetime | None = _ts(nullable=True)
    reminded_at: datetime | None = _ts(nullable=True)
    reprimanded_at: datetime | None = _ts(nullable=True)
    rating: int | None = None
    # When the citizen was asked to rate the answer (once: on /selesai, or a while after the answer).
    rating_requested_at: datetime | None = _ts(nullable=True)
    reroute_count: int = 0
    # Set when staff merged this ticket into another one (/gabung): its citizen follows that one now.
    merged_into: int | None = Field(default=None, foreign_key="complaint.id")
    # How many times the citizen said "belum" (not fixed) after a closing and the ticket reopened.
    reopen_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # When the reporter was asked whether the problem is fixed (on /selesai); None once answered.
    verify_requested_at: datetime | None = _ts(nullable=True)


class ComplaintFollower(SQLModel, table=True):
    """A citizen who follows someone else's open complaint about the same problem instead of filing a copy.

    They receive the ticket's news (answers, closing, the "is it fixed?" question) on their own
    messenger; agency staff only ever see how many follow it.
    """

    __tablename__ = "complaint_follower"
    __table_args__ = (
        UniqueConstraint("complaint_id", "citizen_id", name="uq_follower_complaint_citizen"),
        # A citizen's /status lists the tickets they follow.
        Index("ix_follower_citizen", "citizen_id", "complaint_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaint.id")
    citizen_id: int = Field(foreign_key="citizen.id")
    # Where the news goes (the citizen's messenger and private chat when they chose to follow).
    channel: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    joined_at: datetime = _ts(now=True)
    # "offer": the citizen chose it when the bot offered it; "merge": staff merged their ticket (/gabung).
    source: str = Field(max_length=8)
    # The citizen's own ticket that was merged into this one (source "merge").
    merged_from: int | None = Field(default=None, foreign_key="complaint.id")


class ComplaintMessage(SQLModel, table=True):
    """A message exchanged about a complaint: the citizen's, the agency's, humas's or the bot's."""

    __tablename__ = "complaint_message"

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaint.id", index=True)
    at: datetime = _ts(now=True)
    # "in": towards the city (citizen writes); "out": towards the citizen (agency answers).
    direction: str = Field(max_length=8)
    # "citizen", "opd", "humas" or "bot".
    author: str = Field(max_length=16)
    author_label: str = Field(default="", max_length=200)
    text: str = Field(sa_column=Column(Text, nullable=False))


class ComplaintEvent(SQLModel, table=True):
    """A status change in a complaint's life: filed, forwarded, answered, rerouted, closed..."""

    __tablename__ = "complaint_event"

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaint.id", index=True)
    at: datetime = _ts(now=True)
    kind: str = Field(max_length=32)
    actor: str = Field(default="", max_length=200)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class Assignment(SQLModel, table=True):
    """One handover of a complaint to an owner (an agency, or humas while it is unrouted).

    Each owner is measured against the deadline it was given while the ticket was its own: a
    reroute ends that owner's clock with its own verdict, and the next owner starts a new one.
    The verdict is decided when the clock stops (handlers.assignments); None while it runs.
    """

    __tablename__ = "complaint_assignment"
    __table_args__ = (
        # The figures (storage.reports) read these indexes alone, never the table: over 100,000
        # complaints the dashboard stays well under its 300 ms (docs/BENCHMARKS.md).
        # Handovers by owner and verdict (a short period: by filing time first).
        Index("ix_assignment_verdicts", "owner", "verdict", "complaint_created_at", "answer_seconds"),
        Index("ix_assignment_period", "complaint_created_at", "owner", "verdict", "answer_seconds"),
        # The middle answer times, per owner and over all.
        Index("ix_assignment_answers", "owner", "answer_seconds", "complaint_created_at"),
        Index("ix_assignment_answer_times", "answer_seconds", "complaint_created_at"),
        # Handovers per week.
        Index("ix_assignment_started", "started_at", "owner"),
        # The one running handover of a complaint has no end yet.
        Index("ix_assignment_complaint", "complaint_id", "ended_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaint.id")
    # An agency code, or "HUMAS" while no agency has the ticket.
    owner: str = Field(max_length=20)
    # The complaint's filing time, copied so that a period's figures need no join.
    complaint_created_at: datetime = _ts()
    started_at: datetime = _ts()
    due_at: datetime = _ts()
    # The owner's first answer during this handover (closing counts as one), and how long it took.
    answered_at: datetime | None = _ts(nullable=True)
    answer_seconds: float | None = None
    # When the ticket left this owner (rerouted, handed back, rejected); None while it is theirs.
    ended_at: datetime | None = _ts(nullable=True)
    end_reason: str | None = Field(default=None, max_length=16)
    # "on_time", "late" (answered after the deadline), "missed" (left this owner unanswered after
    # its deadline) or "moved" (left unanswered before it); None while the clock runs.
    verdict: str | None = Field(default=None, max_length=16)


class DeskLogin(SQLModel, table=True):
    """A one-time login link for the web desk, as /masuk issued it (only its hash is kept)."""

    __tablename__ = "desk_login"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    # The Telegram user it was issued to, and what they may see: "humas", or "opd" with its code.
    user_id: str = Field(max_length=64)
    user_name: str = Field(default="", max_length=200)
    role: str = Field(max_length=16)
    opd_code: str | None = Field(default=None, max_length=20)
    created_at: datetime = _ts(now=True)
    expires_at: datetime = _ts(index=True)
    used_at: datetime | None = _ts(nullable=True)


class DeskSession(SQLModel, table=True):
    """A web desk session started by a login link (only the cookie token's hash is kept)."""

    __tablename__ = "desk_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: str = Field(max_length=64)
    user_name: str = Field(default="", max_length=200)
    role: str = Field(max_length=16)
    opd_code: str | None = Field(default=None, max_length=20)
    created_at: datetime = _ts(now=True)
    expires_at: datetime = _ts(index=True)
    # Set by POST /desk/keluar: the cookie stops working at once, on every process.
    ended_at: datetime | None = _ts(nullable=True)


class Conversation(SQLModel, table=True):
    """Where a chat stands in the intake dialog; kept in the database so restarts continue it."""

    __tablename__ = "conversation"

    channel: str = Field(primary_key=True, max_length=16)
    chat_id: str = Field(primary_key=True, max_length=64)
    step: str = Field(max_length=32)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _ts(now=True)
    expires_at: datetime = _ts(index=True)


class InboxEvent(SQLModel, table=True):
    """A raw inbound webhook payload, stored before answering 200; unique per external id."""

    __tablename__ = "inbox_event"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_inbox_channel_external_id"),
        Index("ix_inbox_pending", "processed_at", "id"),
        # Flood control: a chat's events of the last window (migration 0003).
        Index("ix_inbox_chat_received", "chat_key", "received_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    # Telegram update_id, Twilio MessageSid.
    external_id: str = Field(max_length=64)
    # Events of one chat are processed in order; different chats may run in parallel.
    chat_key: str = Field(max_length=96, index=True)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    received_at: datetime = _ts(now=True)
    processed_at: datetime | None = _ts(nullable=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class OutboxMessage(SQLModel, table=True):
    """A message to send, written in the same transaction as the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_provider_id", "channel", "chat_id", "provider_message_id"),
        # The per-chat ordering check looks for earlier unsent rows of the same chat.
        Index("ix_outbox_chat", "channel", "chat_id", "status", "id"),
        # A group's messages of the last minute, counted at each claim (Telegram's 20 a minute; 0004).
        Index("ix_outbox_chat_sent", "channel", "chat_id", "sent_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    # "text", "photo", "location", "document" or "template".
    kind: str = Field(default="text", max_length=16)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    complaint_id: int | None = Field(default=None, foreign_key="complaint.id", index=True)
    # What the message is for ("ticket_card", "answer", "reminder", ...): reports and reply mapping.
    purpose: str = Field(default="", max_length=32)
    # Makes "send once" hold across workers: a second insert with the same key is a no-op.
    dedup_key: str | None = Field(default=None, max_length=120, unique=True)
    status: str = Field(default=OutboxStatus.PENDING, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = _ts(now=True)
    # A worker that claimed the row owns it until then; after a crash another may take it.
    lease_until: datetime | None = _ts(nullable=True)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    provider_message_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = _ts(now=True)
    sent_at: datetime | None = _ts(nullable=True)
    delivery_status: str | None = Field(default=None, max_length=16)
    # Parts of a split message (WhatsApp's 1,600-character limit) already sent: a retry resumes after them.
    parts_sent: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class Media(SQLModel, table=True):
    """A photo a citizen sent through a messenger whose media cannot be sent again by reference (WhatsApp)."""

    __tablename__ = "media"

    id: int | None = Field(default=None, primary_key=True)
    # What outbox payloads and complaint.media refer to, e.g. "<MessageSid>-0": a redelivery finds it.
    key: str = Field(max_length=64, unique=True)
    content_type: str = Field(max_length=100)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    size: int
    sha256: str = Field(max_length=64)
    created_at: datetime = _ts(now=True)


class AuditLog(SQLModel, table=True):
    """Who did what as humas or agency staff, and when."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(index=True, now=True)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=32)
    target: str = Field(default="", max_length=64)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class CorrectionKind(StrEnum):
    """What the last correction of a complaint's route was."""

    # Humas moved a complaint the classifier had sent to an agency (/pindah).
    REROUTED = "rerouted"
    # Humas routed a complaint the classifier had left with humas, unsure (/pindah, a triage button).
    ROUTED = "routed"
    # An agency said "not ours" (/bukan); where it belongs is not known until humas routes it.
    DISOWNED = "disowned"
    # Humas rejected a complaint the classifier (or a correction) had given an agency: no agency's.
    REJECTED = "rejected"


class RoutingCorrection(SQLModel, table=True):
    """A complaint whose route people corrected: a labelled example to improve the lexicon with.

    One row per complaint: the first correction records what the classifier said; later ones
    (a refusal, then humas's reroute) only change where it belongs.
    """

    __tablename__ = "routing_correction"

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaint.id", unique=True)
    # The complaint's text as it was classified.
    text: str = Field(sa_column=Column(Text, nullable=False))
    # What the classifier said at filing: an agency code, or None when it left the complaint with humas.
    said_opd: str | None = Field(default=None, max_length=20)
    said_confidence: float = 0.0
    # Where it belongs: an agency code; None for "no agency's" (kind rejected) or "not known yet" (disowned).
    truth_opd: str | None = Field(default=None, max_length=20)
    kind: str = Field(max_length=16)
    # The agency that refused it with /bukan, if one did.
    refused_by: str | None = Field(default=None, max_length=20)
    actor: str = Field(default="", max_length=200)
    created_at: datetime = _ts(index=True, now=True)
    updated_at: datetime = _ts(now=True)

    @property
    def labelled(self) -> bool:
        """Whether it is known where the complaint belongs (an agency, or none)."""
        return self.kind != CorrectionKind.DISOWNED


class JobRun(SQLModel, table=True):
    """When a periodic job (the daily retention purge) last started: claimed by one process at a time."""

    __tablename__ = "job_run"

    name: str = Field(primary_key=True, max_length=32)
    last_run_at: datetime | None = _ts(nullable=True)


class WhatsAppContent(SQLModel, table=True):
    """A Twilio Content API template the bot created (WhatsApp buttons), found again by its friendly name.

    The unique name is the claim: the process whose insert wins creates the template; a row
    without a SID is a creation under way (or abandoned by a crashed process: `claimed_at` says).
    """

    __tablename__ = "whatsapp_content"

    id: int | None = Field(default=None, primary_key=True)
    friendly_name: str = Field(max_length=64, unique=True)
    content_sid: str | None = Field(default=None, max_length=64)
    claimed_at: datetime = _ts(now=True)


__all__ = [
    "Agency",
    "Assignment",
    "AuditLog",
    "Citizen",
    "Complaint",
    "ComplaintEvent",
    "ComplaintFollower",
    "ComplaintMessage",
    "ComplaintStatus",
    "Conversation",
    "CorrectionKind",
    "DeskLogin",
    "DeskSession",
    "InboxEvent",
    "JobRun",
    "Media",
    "OutboxMessage",
    "OutboxStatus",
    "RoutingCorrection",
    "WhatsAppContent",
    "table_of",
    "utcnow",
]

"""What the web desk shows, and to whom: humas sees everything, agency staff their own tickets.

Built on the same storage queries and the same figures as the chat commands: the dashboard's
numbers are /stats's (handlers.reports.load_stats), its overdue list is /overdue's query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import cards, contacts, periods, reports
from handlers.desk import Desk
from handlers.desk_login import HUMAS_ROLE
from handlers.reports import AgencyStats
from storage import assignments, complaints, desk_queries, duplicates
from storage import reports as report_queries
from storage.models import Assignment, Citizen, Complaint, ComplaintEvent, ComplaintMessage
from storage.reports import OverdueRow

# The dashboard's weekly chart.
CHART_WEEKS = 12
MOST_OVERDUE = 10


@dataclass(frozen=True)
class Viewer:
    """Who is looking: a humas admin (everything), or a member of one agency's group (its tickets)."""

    user_id: str
    name: str
    role: str
    opd_code: str | None

    @property
    def is_humas(self) -> bool:
        """Whether this is a humas admin: every ticket, citizens' contacts, the actions."""
        return self.role == HUMAS_ROLE

    @property
    def scope(self) -> str | None:
        """The only owner whose tickets this viewer sees; None for all of them."""
        return None if self.is_humas else (self.opd_code or "-")

    def may_see(self, complaint: Complaint) -> bool:
        """Whether this viewer may open a complaint: humas any, staff only their agency's current ones."""
        return self.is_humas or (complaint.opd_code is not None and complaint.opd_code == self.opd_code)

    def actor(self) -> str:
        """Who did it, for the status history and the audit log (the chat's form, marked as from the web)."""
        return f"{self.name} (telegram {self.user_id}) via web"


@dataclass(frozen=True)
class Dashboard:
    """The figures of a period, the weekly chart, the categories and the most overdue tickets."""

    period: str
    since: datetime | None
    figures: dict[str, AgencyStats]
    owners: list[str]
    week_starts: list[datetime]
    weekly: dict[str, list[int]]
    categories: list[tuple[str | None, int]]
    most_overdue: list[OverdueRow]


async def dashboard(session: AsyncSession, desk: Desk, viewer: Viewer, *, period: str) -> Dashboard:
    """The dashboard of a period as this viewer may see it."""
    now = desk.now()
    since = periods.since(period, now=now, zone=desk.zone)
    owner = viewer.scope
    figures = await reports.load_stats(session, since=since, now=now, owner=owner)
    owners = reports.owners_in_order(desk, figures)
    if owner is not None:
        owners = [owner]
    weeks = periods.week_starts(now, zone=desk.zone, weeks=CHART_WEEKS)
    return Dashboard(
        period=period,
        since=since,
        figures=figures,
        owners=owners,
        week_starts=weeks,
        weekly=await report_queries.weekly_handovers(session, week_starts=weeks, owner=owner),
        categories=await report_queries.category_counts(session, since=since, owner=owner),
        most_overdue=await report_queries.overdue(session, now=now, opd_code=owner, limit=MOST_OVERDUE),
    )


@dataclass(frozen=True)
class Contact:
    """How to reach a citizen: for humas admins only."""

    name: str
    # Formatted for people: "+62 812-3456-7890 (WhatsApp)", "@budi (Telegram id 12345)".
    contact: str


@dataclass(frozen=True)
class ComplaintView:
    """One complaint as its page shows it."""

    complaint: Complaint
    ticket: str
    # The citizen as the agency's card names them (first name and messenger): safe for everyone.
    citizen_label: str
    contact: Contact | None
    messages: list[tuple[ComplaintMessage, str]]
    events: list[ComplaintEvent]
    handovers: list[Assignment]
    overdue: bool
    # "Already reported?" (issue 17): how many citizens follow it (never who), the copies merged into
    # it, and the ticket it was merged into.
    followers: int = 0
    merged_copies: tuple[str, ...] = ()
    merged_into: str | None = None


async def complaint_view(session: AsyncSession, desk: Desk, viewer: Viewer, complaint: Complaint) -> ComplaintView:
    """Everything about one complaint this viewer may see (the caller checked viewer.may_see)."""
    assert complaint.id is not None
    citizen = await session.get(Citizen, complaint.citizen_id)
    assert citizen is not None
    label = cards.citizen_label(desk, citizen)
    contact = (
        Contact(citizen.display_name or "-", contacts.contact_for_people(desk, citizen)) if viewer.is_humas else None
    )
    messages = []
    for message in await complaints.messages_of(session, complaint_id=complaint.id):
        # Staff see the citizen as on their card; humas the name the messenger gave.
        author = message.author_label if viewer.is_humas or message.author != "citizen" else label
        messages.append((message, author))
    return ComplaintView(
        complaint=complaint,
        ticket=desk.ticket(complaint.id),
        citizen_label=label,
        contact=contact,
        messages=messages,
        events=await complaints.events_of(session, complaint_id=complaint.id),
        handovers=await assignments.assignments_of(session, complaint_id=complaint.id),
        overdue=complaint.status == "open" and complaint.due_at <= desk.now(),
        followers=await duplicates.follower_count(session, complaint_id=complaint.id),
        merged_copies=tuple(
            desk.ticket(n) for n in await desk_queries.merged_copies(session, complaint_id=complaint.id)
        ),
        merged_into=desk.ticket(complaint.merged_into) if complaint.merged_into is not None else None,
    )

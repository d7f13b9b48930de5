"""What the public page shows ("Aduan Terjawab"): /stats's figures per agency, ranked fairly, and answered
complaints without anything personal.

The figures are handlers.reports.load_stats, the same as /stats and the web desk; the weekly chart is
the desk's query. Every text goes through handlers.masking; points are rounded to about 100 m.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import masking, periods, reports
from handlers.desk import HUMAS, Desk
from handlers.reports import AgencyStats
from handlers.texts import public as texts
from storage import public_figures
from storage import reports as report_queries
from storage.public_figures import Answer, PublicRow

RECENT_DAYS = 30
CHART_WEEKS = 12
LATEST = 20
# The area text of a complaint is cut to this many characters (a street, a kelurahan).
AREA_CHARS = 80


@dataclass(frozen=True)
class PublicSettings:
    """The [public] settings the handlers need."""

    min_reports: int = 10
    show_text: bool = False
    launch: date | None = None


@dataclass(frozen=True)
class AgencyRow:
    """One agency's figures over a period, and its rank (None below the minimum number of reports)."""

    code: str
    name: str
    stats: AgencyStats
    rank: int | None


@dataclass(frozen=True)
class Period:
    """One period of the page: its title, since when, and the agencies in rank order."""

    key: str
    title: str
    since: datetime | None
    rows: list[AgencyRow]
    total: AgencyStats


@dataclass(frozen=True)
class PublicComplaint:
    """A complaint as anyone may see it."""

    ticket: str
    agency: str
    category: str
    area: str
    point: tuple[float, float] | None
    status: str
    status_label: str
    received_at: datetime
    due_at: datetime
    answered_at: datetime | None
    closed_at: datetime | None
    time_to_answer: timedelta | None
    on_time: bool | None
    # Masked, and only when [public] show_text is on.
    text: str | None
    answer: str | None


@dataclass(frozen=True)
class Board:
    """The whole public page."""

    periods: list[Period]
    week_labels: list[str]
    weekly: list[tuple[str, list[int]]]
    latest: list[PublicComplaint]
    now: datetime


def launch_moment(launch: date | None, desk: Desk) -> datetime | None:
    """The first moment of the launch day in the city's time zone, as UTC; None without a launch date."""
    if launch is None:
        return None
    return datetime.combine(launch, time(0, 0), tzinfo=desk.zone).astimezone(UTC)


def ranked(desk: Desk, figures: dict[str, AgencyStats], *, min_reports: int) -> list[AgencyRow]:
    """Every configured agency, ranked by on-time share then median answer; too few reports: no rank.

    One four-minute fix must not put an agency on top (FixMyStreet's lesson): an agency with fewer
    than `min_reports` handovers in the period is listed after the ranked ones, without a rank.
    """
    rows = [
        AgencyRow(code, agency.name, figures.get(code, reports.EMPTY), None) for code, agency in desk.agencies.items()
    ]
    eligible = [row for row in rows if row.stats.received >= min_reports]
    unranked = [row for row in rows if row.stats.received < min_reports]

    def merit(row: AgencyRow) -> tuple[float, float, str]:
        share = row.stats.on_time_share
        median = row.stats.median_answer
        return (-(share or 0.0), median.total_seconds() if median is not None else float("inf"), row.code)

    eligible.sort(key=merit)
    unranked.sort(key=lambda row: (-row.stats.received, row.code))
    return [AgencyRow(row.code, row.name, row.stats, index + 1) for index, row in enumerate(eligible)] + unranked


def _area(row: PublicRow, known: list[str]) -> str:
    """Where, for the public: the citizen's place text masked and cut, or the rounded point."""
    if row.location_text:
        area = masking.mask_text(" ".join(row.location_text.split()), known)
        return area if len(area) <= AREA_CHARS else area[: AREA_CHARS - 1].rstrip() + "…"
    point = masking.round_point(row.location_lat, row.location_lon)
    return f"{point[0]:.3f}, {point[1]:.3f}" if point else texts.NO_AREA


def public_complaint(desk: Desk, row: PublicRow, answer: Answer | None, *, show_text: bool) -> PublicComplaint:
    """A complaint row as the public sees it: masked texts (if shown), rounded point, no person."""
    known = [name for name in (row.citizen_name, answer.author_label if answer else "") if name]
    answered = row.answered_at
    return PublicComplaint(
        ticket=desk.ticket(row.id),
        agency=desk.agency_name(row.opd_code) if row.opd_code else texts.UNROUTED,
        category=row.category or "-",
        area=_area(row, known),
        point=masking.round_point(row.location_lat, row.location_lon),
        status=row.status,
        status_label=texts.PUBLIC_STATUS.get(row.status, row.status),
        received_at=row.created_at,
        due_at=row.due_at,
        answered_at=answered,
        closed_at=row.closed_at,
        time_to_answer=None if answered is None else answered - row.created_at,
        on_time=None if answered is None else answered <= row.due_at,
        text=masking.mask_text(row.description, known) if show_text else None,
        answer=masking.mask_text(answer.text, known) if show_text and answer is not None else None,
    )


async def board(session: AsyncSession, desk: Desk, config: PublicSettings) -> Board:
    """Everything the public page shows, read now."""
    now = desk.now()
    recent = now - timedelta(days=RECENT_DAYS)
    launch = launch_moment(config.launch, desk)
    spans = [("30d", texts.PERIOD_30D, recent), ("launch", texts.PERIOD_LAUNCH if launch else texts.PERIOD_ALL, launch)]
    shown: list[Period] = []
    for key, title, since in spans:
        figures = await reports.load_stats(session, since=since, now=now)
        shown.append(
            Period(
                key=key,
                title=title,
                since=since,
                rows=ranked(desk, figures, min_reports=config.min_reports),
                total=figures.get(reports.TOTAL, reports.EMPTY),
            )
        )
    weeks = periods.week_starts(now, zone=desk.zone, weeks=CHART_WEEKS)
    weekly = await report_queries.weekly_handovers(session, week_starts=weeks)
    series = [(code, weekly[code]) for code in desk.agencies if code in weekly]
    if HUMAS in weekly:
        series.append((texts.UNROUTED, weekly[HUMAS]))
    rows = await public_figures.latest_answered(session, limit=LATEST)
    answers = await public_figures.first_answers(session, complaint_ids=[row.id for row in rows])
    return Board(
        periods=shown,
        week_labels=[week.astimezone(desk.zone).strftime("%d/%m") for week in weeks],
        weekly=series,
        latest=[public_complaint(desk, row, answers.get(row.id), show_text=config.show_text) for row in rows],
        now=now,
    )


async def one_complaint(
    session: AsyncSession, desk: Desk, complaint_id: int, *, show_text: bool
) -> PublicComplaint | None:
    """One complaint's public view, or None if there is no such ticket."""
    row = await public_figures.public_complaint(session, complaint_id=complaint_id)
    if row is None:
        return None
    answers = await public_figures.first_answers(session, complaint_ids=[row.id])
    return public_complaint(desk, row, answers.get(row.id), show_text=show_text)

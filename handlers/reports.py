"""Humas reports: the overdue list, the statistics (one definition for every place that shows them), the CSV export."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from markupsafe import Markup
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import assignments, texts
from handlers.desk import HUMAS, Desk
from handlers.texts import staff as staff_texts
from handlers.textsafe import utf16_len
from handlers.timefmt import duration, hours
from storage import reports as report_queries
from storage.reports import ExportRow, OpenCount, OverdueSummary, RatingSum, VerdictCount

# Telegram's limit for one message.
MESSAGE_LIMIT = 4096


def _escaped_prefix(plain: str, limit: int) -> str:
    """The longest prefix of plain text whose escaped HTML is at most `limit` UTF-16 units."""
    used = 0
    for index, char in enumerate(plain):
        used += utf16_len(Markup.escape(char))
        if used > limit:
            return plain[:index]
    return plain


def split_lines(lines: Iterable[Markup], limit: int = MESSAGE_LIMIT) -> list[Markup]:
    """Join HTML lines into as few messages as fit under `limit`; a list is split, never cut."""
    messages: list[Markup] = []
    current = Markup("")
    for line in lines:
        # Lengths as Telegram counts them (UTF-16 units: an emoji is two).
        while utf16_len(line) > limit:  # one absurdly long line: hard-wrap it rather than drop it
            if current:
                messages.append(current)
                current = Markup("")
            # Cut as plain text and escaped again: half a tag must not reach Telegram.
            plain = line.unescape()
            head = _escaped_prefix(plain, limit)
            messages.append(Markup.escape(head))
            line = Markup.escape(plain[len(head) :])
        candidate = current + Markup("\n") + line if current else line
        if utf16_len(candidate) > limit:
            messages.append(current)
            current = line
        else:
            current = candidate
    if current:
        messages.append(current)
    return messages


# /overdue lists each owner's most overdue complaints, at most this many, in at most this many
# messages (the CSV with the full list is one more).
OVERDUE_PER_OWNER = 10
OVERDUE_MAX_MESSAGES = 2


def overdue_messages(
    desk: Desk, summary: OverdueSummary, *, now: datetime, scope: str | None, max_messages: int = OVERDUE_MAX_MESSAGES
) -> list[Markup]:
    """The /overdue answer: per owner (unrouted first) the count and the most overdue tickets.

    However many complaints are late, the answer stays a few messages: each owner shows its count
    and its ten most overdue; with very many agencies, fewer per agency, down to counts alone.
    """
    scope_text = texts.OVERDUE_SCOPE.format(scope=scope) if scope else ""
    if not summary.total:
        return [texts.OVERDUE_NONE.format(scope=scope_text)]
    shown = max((len(rows) for rows in summary.top.values()), default=0)
    while True:
        messages = split_lines(_overdue_lines(desk, summary, now=now, scope_text=scope_text, per_owner=shown))
        if len(messages) <= max_messages or shown == 0:
            return messages
        shown = shown // 2 if shown > 1 else 0


def _overdue_lines(
    desk: Desk, summary: OverdueSummary, *, now: datetime, scope_text: str, per_owner: int
) -> list[Markup]:
    lines = [texts.OVERDUE_HEADER.format(scope=scope_text, now=desk.local_time(now))]
    owners: list[str | None] = [None] if None in summary.counts else []
    owners += sorted(code for code in summary.counts if code is not None)
    left_out = False
    for owner in owners:
        count = summary.counts[owner]
        if owner is None:
            lines.append(texts.OVERDUE_UNROUTED_GROUP.format(count=count))
        else:
            lines.append(texts.OVERDUE_GROUP.format(name=desk.agency_name(owner), count=count))
        rows = summary.top.get(owner, [])[:per_owner]
        for row in rows:
            lines.append(
                texts.OVERDUE_LINE.format(
                    ticket=desk.ticket(row.id),
                    age=duration(now - row.created_at),
                    late=duration(now - row.due_at),
                    category=texts.CARD_CATEGORY.format(category=row.category) if row.category else "",
                )
            )
        if count > len(rows):
            lines.append(staff_texts.OVERDUE_MORE.format(count=count - len(rows)))
            left_out = True
    lines.append(texts.OVERDUE_TOTAL.format(count=summary.total))
    if left_out:
        if per_owner < OVERDUE_PER_OWNER:
            lines.append(staff_texts.OVERDUE_SHORTENED.format(shown=per_owner))
        lines.append(staff_texts.OVERDUE_CSV_NOTE.format(count=summary.total))
    return lines


def overdue_left_out(summary: OverdueSummary) -> bool:
    """Whether the /overdue messages leave tickets out (the full list then comes as a CSV)."""
    return any(count > len(summary.top.get(owner, [])) for owner, count in summary.counts.items())


def overdue_csv(
    desk: Desk, rows: Iterable[tuple[int, str | None, str | None, datetime, datetime]], *, now: datetime
) -> bytes:
    """The full overdue list as CSV (UTF-8 with a byte-order mark), times in the city's zone.

    Rows are plain tuples whose times may be naive (UTC); built with plain formatting, since the
    list may hold tens of thousands of rows.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(staff_texts.OVERDUE_CSV_COLUMNS)
    zone = desk.zone
    prefix = desk.ticket_prefix
    unrouted = staff_texts.NOT_ROUTED
    utc_now = now.astimezone(UTC)

    def aware(moment: datetime) -> datetime:
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

    def local(moment: datetime) -> str:
        return aware(moment).astimezone(zone).isoformat(" ", "minutes")[:16]

    writer.writerows(
        (
            f"{prefix}-{number:04d}",
            owner or unrouted,
            category or "",
            local(created),
            local(due),
            int((utc_now - aware(due)).total_seconds() // 3600),
        )
        for number, owner, category, created, due in rows
    )
    return buffer.getvalue().encode("utf-8-sig")


@dataclass(frozen=True)
class AgencyStats:
    """The figures of one owner (or the total) over a period, counted per handover.

    A handover is one spell of a ticket with one owner, with the deadline that owner was given
    (handlers.assignments). A ticket that stays where it was filed is one handover.
    """

    received: int
    answered: int
    answered_on_time: int
    median_answer: timedelta | None
    still_open: int
    # Waiting for an answer past the deadline right now (what /overdue lists).
    overdue: int
    average_rating: float | None
    # Answered, but after the deadline.
    answered_late: int = 0
    # Left this owner unanswered after its deadline (rerouted, handed back, rejected): still late.
    missed: int = 0

    @property
    def judged(self) -> int:
        """Handovers whose deadline already has a verdict: answered, past it now, or left past it."""
        return self.answered_on_time + self.answered_late + self.missed + self.overdue

    @property
    def on_time_share(self) -> float | None:
        """Answered on time, as a share of the handovers that can already be judged."""
        return self.answered_on_time / self.judged if self.judged else None


TOTAL = "TOTAL"


def combine(
    verdicts: Iterable[VerdictCount],
    open_counts: Iterable[OpenCount],
    medians: tuple[dict[str, float], float | None],
    ratings: Iterable[RatingSum],
) -> dict[str, AgencyStats]:
    """Per-owner figures plus a TOTAL entry (the sum of the owners), from what storage counted."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for row in verdicts:
        for owner in (row.owner, TOTAL):
            counts[owner]["received"] += row.handovers
            counts[owner]["answered"] += row.answered
            counts[owner][row.verdict or "running"] += row.handovers
    for waiting in open_counts:
        for owner in (waiting.owner, TOTAL):
            counts[owner]["open"] += waiting.still_open
            counts[owner]["overdue"] += waiting.overdue
    rating_totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for rated in ratings:
        for owner in (rated.owner, TOTAL):
            rating_totals[owner][0] += rated.total
            rating_totals[owner][1] += rated.count
    per_owner, overall = medians
    seconds = {**per_owner, TOTAL: overall}
    figures: dict[str, AgencyStats] = {}
    for owner in set(counts) | set(rating_totals):
        count = counts[owner]
        rating_sum, rating_count = rating_totals.get(owner, [0, 0])
        median = seconds.get(owner)
        figures[owner] = AgencyStats(
            received=count["received"],
            answered=count["answered"],
            answered_on_time=count[assignments.ON_TIME],
            median_answer=None if median is None else timedelta(seconds=median),
            still_open=count["open"],
            overdue=count["overdue"],
            average_rating=rating_sum / rating_count if rating_count else None,
            answered_late=count[assignments.LATE],
            missed=count[assignments.MISSED],
        )
    return figures


async def load_stats(
    session: AsyncSession, *, since: datetime | None, now: datetime, owner: str | None = None
) -> dict[str, AgencyStats]:
    """The figures of complaints filed since `since`: what /stats, the web desk and the export show."""
    verdicts = await report_queries.verdict_counts(session, since=since, owner=owner)
    answered: Counter[str] = Counter()
    for row in verdicts:
        answered[row.owner] += row.answered
    return combine(
        verdicts,
        await report_queries.open_counts(session, since=since, now=now, owner=owner),
        await report_queries.answer_medians(session, since=since, answered=answered, owner=owner),
        await report_queries.rating_sums(session, since=since, owner=owner),
    )


def percent(share: float | None) -> str:
    """A share as people read it: "67%", or "-" when there is nothing to judge yet."""
    return "-" if share is None else f"{round(share * 100)}%"


def owner_label(desk: Desk, owner: str) -> str:
    """How a row of the figures is named."""
    if owner == HUMAS:
        return texts.STATS_UNROUTED
    if owner == TOTAL:
        return "TOTAL"
    return f"{owner} — {desk.agencies[owner].name}" if owner in desk.agencies else owner


def owners_in_order(desk: Desk, figures: dict[str, AgencyStats]) -> list[str]:
    """Every configured agency, then humas (if it held tickets) and agencies no longer configured, then TOTAL."""
    others = sorted(owner for owner in figures if owner not in desk.agencies and owner not in (HUMAS, TOTAL))
    return list(desk.agencies) + ([HUMAS] if HUMAS in figures else []) + others + [TOTAL]


EMPTY = AgencyStats(0, 0, 0, None, 0, 0, None)


def stats_message(desk: Desk, figures: dict[str, AgencyStats], period: str) -> list[Markup]:
    """The /stats answer: one block per agency, then the totals; reads well on a phone."""
    lines = [texts.STATS_HEADER.format(period=texts.STATS_PERIODS[period])]
    for owner in owners_in_order(desk, figures):
        stats = figures.get(owner, EMPTY)
        lines.append(
            texts.STATS_BLOCK.format(
                name=owner_label(desk, owner),
                received=stats.received,
                answered=stats.answered,
                on_time=percent(stats.on_time_share),
                late=stats.answered_late,
                overdue=stats.overdue,
                missed=texts.STATS_MISSED.format(missed=stats.missed) if stats.missed else "",
                median="-" if stats.median_answer is None else hours(stats.median_answer),
                open=stats.still_open,
                rating=""
                if stats.average_rating is None
                else f" · nilai {stats.average_rating:.1f}".replace(".", ",") + " ⭐",
            )
        )
    return split_lines(lines)


EXPORT_COLUMNS = [
    "tiket",
    "dicatat",
    "kanal",
    "opd",
    "kategori",
    "status",
    "uraian",
    "lokasi",
    "lintang",
    "bujur",
    "batas",
    "dijawab",
    "ditutup",
    "tepat_waktu",
    "nilai",
    "penanganan",
    "keberatan",
    "dibuka_ulang",
]
# A handover's verdict in the export's "penanganan" column.
VERDICT_WORDS = {
    assignments.ON_TIME: "tepat waktu",
    assignments.LATE: "dijawab terlambat",
    assignments.MISSED: "lewat batas lalu dialihkan",
    assignments.MOVED: "dialihkan",
    None: "berjalan",
}
# A spreadsheet takes a cell starting with one of these for a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(text: str) -> str:
    """A text cell a spreadsheet shows as text: a leading ' before anything it would run as a formula."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def export_csv(desk: Desk, rows: Iterable[ExportRow]) -> bytes:
    """The complaints as CSV: UTF-8 with a byte-order mark so spreadsheets read it as UTF-8.

    Times are the city's (WITA). Every text cell is neutralised against formula injection; the
    coordinates and the rating are numbers the desk formats itself and stay numbers (-3.967500).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)

    def when(moment: datetime | None) -> str:
        return moment.astimezone(desk.zone).strftime("%Y-%m-%d %H:%M") if moment else ""

    for row in rows:
        # Whether the complaint's current owner met its own deadline (handlers.assignments).
        verdict = row.handovers[-1][1] if row.handovers else None
        on_time = {
            assignments.ON_TIME: texts.YES_WORD,
            assignments.LATE: texts.NO_WORD,
            assignments.MISSED: texts.NO_WORD,
        }.get(verdict or "", "")
        history = "; ".join(f"{owner}: {VERDICT_WORDS.get(v, v or '')}" for owner, v in row.handovers)
        text_cells = [
            desk.ticket(row.id),
            when(row.created_at),
            desk.channel_label(row.channel),
            row.opd_code or staff_texts.NOT_ROUTED,
            row.category or "",
            texts.STATUS_NAMES.get(row.status, row.status),
            row.description,
            row.location_text or "",
        ]
        writer.writerow(
            [neutralised(cell) for cell in text_cells]
            + [
                "" if row.location_lat is None else f"{row.location_lat:.6f}",
                "" if row.location_lon is None else f"{row.location_lon:.6f}",
            ]
            + [neutralised(cell) for cell in (when(row.due_at), when(row.answered_at), when(row.closed_at), on_time)]
            + ["" if row.rating is None else row.rating, neutralised(history), row.disputes, row.reopen_count]
        )
    return buffer.getvalue().encode("utf-8-sig")

"""Pure rendering of humas reports: the overdue list, statistics, the CSV export."""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from markupsafe import Markup

from handlers import texts
from handlers.desk import HUMAS, Desk
from handlers.textsafe import utf16_len
from handlers.timefmt import duration, hours
from storage.reports import ExportRow, OverdueRow, StatsRow

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


def overdue_messages(desk: Desk, rows: Sequence[OverdueRow], *, now: datetime, scope: str | None) -> list[Markup]:
    """The /overdue answer: grouped by agency (unrouted first), oldest first, with a total line."""
    scope_text = f" untuk {scope}" if scope else ""
    if not rows:
        return [texts.OVERDUE_NONE.format(scope=scope_text)]
    groups: dict[str, list[OverdueRow]] = defaultdict(list)
    for row in rows:
        groups[row.opd_code or HUMAS].append(row)
    lines = [texts.OVERDUE_HEADER.format(scope=scope_text, now=desk.local_time(now))]
    order = ([HUMAS] if HUMAS in groups else []) + sorted(code for code in groups if code != HUMAS)
    for owner in order:
        items = groups[owner]
        if owner == HUMAS:
            lines.append(texts.OVERDUE_UNROUTED_GROUP.format(count=len(items)))
        else:
            lines.append(texts.OVERDUE_GROUP.format(name=desk.agency_name(owner), count=len(items)))
        for row in items:
            lines.append(
                texts.OVERDUE_LINE.format(
                    ticket=desk.ticket(row.id),
                    age=duration(now - row.created_at),
                    late=duration(now - row.due_at),
                    category=texts.CARD_CATEGORY.format(category=row.category) if row.category else "",
                )
            )
    lines.append(texts.OVERDUE_TOTAL.format(count=len(rows)))
    return split_lines(lines)


@dataclass(frozen=True)
class AgencyStats:
    """The figures of one agency (or the total) over a period."""

    received: int
    answered: int
    answered_on_time: int
    median_answer: timedelta | None
    still_open: int
    overdue: int
    average_rating: float | None
    # Complaints that can already be judged: answered, or past their deadline (rejected ones aside).
    judged: int = 0

    @property
    def on_time_share(self) -> float | None:
        """Answered on time, as a share of the complaints that can already be judged."""
        return self.answered_on_time / self.judged if self.judged else None


def compute_stats(rows: Iterable[StatsRow], *, now: datetime) -> dict[str, AgencyStats]:
    """Per-owner figures plus a "TOTAL" entry."""
    buckets: dict[str, list[StatsRow]] = defaultdict(list)
    for row in rows:
        buckets[row.opd_code or HUMAS].append(row)
        buckets["TOTAL"].append(row)
    return {owner: _figures(items, now) for owner, items in buckets.items()}


def _median(waits: list[timedelta]) -> timedelta | None:
    """The median wait (statistics.median is typed for numbers, so it is taken in seconds)."""
    if not waits:
        return None
    return timedelta(seconds=statistics.median(w.total_seconds() for w in waits))


def _figures(items: list[StatsRow], now: datetime) -> AgencyStats:
    answered = [r for r in items if r.answered_at is not None]
    waits = [r.answered_at - r.created_at for r in answered if r.answered_at is not None]
    ratings = [r.rating for r in items if r.rating is not None]
    open_items = [r for r in items if r.status == "open"]
    return AgencyStats(
        received=len(items),
        answered=len(answered),
        answered_on_time=sum(1 for r in answered if r.answered_at is not None and r.answered_at <= r.due_at),
        median_answer=_median(waits),
        still_open=len(open_items),
        overdue=sum(1 for r in open_items if r.due_at <= now),
        average_rating=sum(ratings) / len(ratings) if ratings else None,
        judged=sum(1 for r in items if r.answered_at is not None or (r.status != "rejected" and r.due_at <= now)),
    )


def stats_message(desk: Desk, figures: dict[str, AgencyStats], period: str) -> list[Markup]:
    """The /stats answer: one block per agency, then the totals; reads well on a phone."""
    lines = [texts.STATS_HEADER.format(period=texts.STATS_PERIODS[period])]
    empty = AgencyStats(0, 0, 0, None, 0, 0, None, 0)
    for owner in list(desk.agencies) + ([HUMAS] if HUMAS in figures else []) + ["TOTAL"]:
        stats = figures.get(owner, empty)
        if owner == HUMAS:
            name = "Belum diteruskan (humas)"
        elif owner == "TOTAL":
            name = "TOTAL"
        else:
            name = f"{owner} — {desk.agencies[owner].name}"
        share = stats.on_time_share
        lines.append(
            texts.STATS_BLOCK.format(
                name=name,
                received=stats.received,
                answered=stats.answered,
                on_time="-" if share is None else f"{round(share * 100)}%",
                median="-" if stats.median_answer is None else hours(stats.median_answer),
                open=stats.still_open,
                overdue=stats.overdue,
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
]


# A cell starting with one of these is a formula to a spreadsheet (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: str) -> str:
    """A text cell a spreadsheet shows as text: a leading formula character is escaped with a quote."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def export_csv(desk: Desk, rows: Iterable[ExportRow]) -> bytes:
    """The complaints as CSV: UTF-8 with a byte-order mark so spreadsheets read it as UTF-8.

    Every text cell goes through csv_text (what a citizen typed may start like a formula); the
    coordinates are numbers this function writes itself and stay numbers.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)

    def when(moment: datetime | None) -> str:
        return moment.astimezone(desk.zone).strftime("%Y-%m-%d %H:%M") if moment else ""

    for row in rows:
        on_time = "" if row.answered_at is None else ("ya" if row.answered_at <= row.due_at else "tidak")
        writer.writerow(
            [
                *map(
                    csv_text,
                    (
                        desk.ticket(row.id),
                        when(row.created_at),
                        row.channel,
                        row.opd_code or "",
                        row.category or "",
                        row.status,
                        row.description,
                        row.location_text or "",
                    ),
                ),
                "" if row.location_lat is None else f"{row.location_lat:.6f}",
                "" if row.location_lon is None else f"{row.location_lon:.6f}",
                *map(csv_text, (when(row.due_at), when(row.answered_at), when(row.closed_at), on_time)),
                "" if row.rating is None else row.rating,
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")

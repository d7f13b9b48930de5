"""Pure rendering of humas reports: the overdue list, statistics, the CSV export."""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from markupsafe import Markup

from handlers import texts
from handlers.desk import HUMAS, Desk
from handlers.texts import staff as staff_texts
from handlers.textsafe import utf16_len
from handlers.timefmt import duration, hours
from storage.reports import ExportRow, OverdueSummary, StatsRow

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
            name = texts.STATS_UNROUTED
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
        on_time = (
            "" if row.answered_at is None else (texts.YES_WORD if row.answered_at <= row.due_at else texts.NO_WORD)
        )
        writer.writerow(
            [
                *map(
                    csv_text,
                    (
                        desk.ticket(row.id),
                        when(row.created_at),
                        desk.channel_label(row.channel),
                        row.opd_code or staff_texts.NOT_ROUTED,
                        row.category or "",
                        texts.STATUS_NAMES.get(row.status, row.status),
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

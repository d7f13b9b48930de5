"""Report rendering: long lists split but never cut; statistics computed exactly."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup

from handlers import texts
from handlers.cards import render_card
from handlers.desk import AgencyInfo, Desk
from handlers.events import ChannelName
from handlers.reports import (
    MESSAGE_LIMIT,
    combine,
    overdue_csv,
    overdue_left_out,
    overdue_messages,
    split_lines,
)
from handlers.timefmt import duration
from routing import AgencyLexicon, Lexicon
from storage.models import Citizen, Complaint
from storage.reports import OpenCount, OverdueRow, OverdueSummary, RatingSum, VerdictCount

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
DESK = Desk(
    city="Kota Kendari",
    ticket_prefix="KDI",
    zone=ZoneInfo("Asia/Makassar"),
    answer_within=timedelta(hours=24),
    remind_before=timedelta(hours=3),
    draft_ttl=timedelta(hours=2),
    humas_chat_id="-1",
    humas_admin_ids=frozenset({"1"}),
    agencies={"DLHK": AgencyInfo("DLHK", "Dinas LH", "-2"), "PUPR": AgencyInfo("PUPR", "Dinas PU", "-3")},
    lexicon=Lexicon.build([AgencyLexicon(code="DLHK", keywords=["sampah"])]),
    staff_channel=ChannelName("telegram"),
)


def _summary(per_agency: dict[str | None, int], shown: int = 10) -> OverdueSummary:
    rows: dict[str | None, list[OverdueRow]] = {}
    number = 0
    for owner, count in per_agency.items():
        rows[owner] = []
        for n in range(min(count, shown)):
            number += 1
            rows[owner].append(
                OverdueRow(number, owner, "Sampah", NOW - timedelta(hours=90 - n), NOW - timedelta(hours=66 - n))
            )
        number += max(0, count - shown)
    return OverdueSummary(counts=dict(per_agency), top=rows)


def test_a_long_overdue_list_shows_counts_and_the_ten_most_overdue_per_agency() -> None:
    summary = _summary({None: 3, "DLHK": 700, "PUPR": 12})
    messages = overdue_messages(DESK, summary, now=NOW, scope=None)
    assert len(messages) == 1
    text = messages[0]
    assert text.index("Belum diteruskan</b> (3)") < text.index("Dinas LH</b> (700)") < text.index("Dinas PU</b> (12)")
    assert text.count("• KDI-") == 3 + 10 + 10
    assert "… dan 690 lainnya" in text and "… dan 2 lainnya" in text
    assert "Total: <b>715</b>" in text and "CSV terlampir" in text
    assert overdue_left_out(summary)


def test_with_very_many_agencies_the_answer_stays_within_two_messages() -> None:
    agencies = {
        f"OPD{n:02d}": AgencyInfo(f"OPD{n:02d}", f"Dinas Nomor {n} Kota Kendari", str(-100 - n)) for n in range(60)
    }
    desk = replace(DESK, agencies=agencies)
    summary = _summary({code: 40 for code in agencies})
    messages = overdue_messages(desk, summary, now=NOW, scope=None)
    assert len(messages) <= 2 and all(len(m) <= MESSAGE_LIMIT for m in messages)
    joined = "\n".join(messages)
    assert all(f"Dinas Nomor {n} Kota Kendari</b> (40)" in joined for n in range(60))
    assert "Daftar dipersingkat" in joined and "Total: <b>2400</b>" in joined


def test_a_short_overdue_list_is_complete_and_needs_no_file() -> None:
    summary = _summary({"DLHK": 2})
    text = overdue_messages(DESK, summary, now=NOW, scope=None)[0]
    assert text.count("• KDI-") == 2 and "CSV" not in text and not overdue_left_out(summary)


def test_nothing_overdue_says_so() -> None:
    assert "Tidak ada aduan" in overdue_messages(DESK, OverdueSummary(), now=NOW, scope="PUPR")[0]


def test_the_overdue_csv_is_in_the_citys_time() -> None:
    naive_due = datetime(2026, 11, 27, 2, 30)  # naive: UTC, as SQLite gives it
    rows = [
        (7, None, 'Sampah, "liar"', NOW - timedelta(days=2), NOW - timedelta(days=1)),
        (12345, "DLHK", None, naive_due, naive_due),
    ]
    content = overdue_csv(DESK, rows, now=NOW).decode("utf-8-sig")
    lines = content.splitlines()
    assert lines[0] == "tiket,opd,kategori,dicatat,batas,terlambat_jam"
    assert lines[1] == 'KDI-0007,belum diteruskan,"Sampah, ""liar""",2026-11-26 20:00,2026-11-27 20:00,24'
    assert lines[2] == "KDI-12345,DLHK,,2026-11-27 10:30,2026-11-27 10:30,33"


def test_split_lines_never_drops_text() -> None:
    lines = [Markup("a" * 5000), Markup("<b>b</b>"), Markup.escape("c&" * 2048)]
    out = split_lines(lines, limit=4096)
    assert "".join(m.unescape() for m in out).replace("\n", "") == "".join(m.unescape() for m in lines)
    assert all(len(m) <= 4096 for m in out)


def test_stats_figures() -> None:
    stats = combine(
        [
            # DLHK: one on time (rated 5), one answered late, one left unanswered after its deadline,
            # one left before it (no verdict), two still running; PUPR: one on time; humas: one running.
            VerdictCount("DLHK", "on_time", 1, 1),
            VerdictCount("DLHK", "late", 1, 1),
            VerdictCount("DLHK", "missed", 1, 0),
            VerdictCount("DLHK", "moved", 1, 0),
            VerdictCount("DLHK", None, 2, 0),
            VerdictCount("PUPR", "on_time", 1, 1),
            VerdictCount("HUMAS", None, 1, 0),
        ],
        [OpenCount("DLHK", 2, 1), OpenCount("HUMAS", 1, 0)],
        ({"DLHK": 16 * 3600.0, "PUPR": 4 * 3600.0}, 4 * 3600.0),
        [RatingSum("DLHK", 5, 1), RatingSum("PUPR", 3, 1)],
    )
    dlhk = stats["DLHK"]
    assert (dlhk.received, dlhk.answered, dlhk.answered_on_time, dlhk.answered_late, dlhk.missed) == (6, 2, 1, 1, 1)
    assert (dlhk.still_open, dlhk.overdue) == (2, 1)
    assert dlhk.median_answer == timedelta(hours=16)
    # Judged: on time, answered late, left late, overdue now; the moved one and the fresh one are not.
    assert dlhk.judged == 4 and dlhk.on_time_share == 1 / 4
    assert dlhk.average_rating == 5
    total = stats["TOTAL"]
    assert total.received == 8 and total.average_rating == 4 and total.median_answer == timedelta(hours=4)
    assert stats["HUMAS"].still_open == 1 and stats["HUMAS"].on_time_share is None


def test_durations_read_naturally() -> None:
    assert duration(timedelta(minutes=6)) == "6 menit"
    assert duration(timedelta(hours=26, minutes=5)) == "1 hari 2 jam"
    assert duration(timedelta(seconds=20)) == "20 detik"


def test_every_html_text_is_a_markup_template() -> None:
    # A plain-str HTML template would insert what people typed unescaped: one "<" and Telegram
    # refuses the whole message.
    plain_html = [
        name
        for name, value in vars(texts).items()
        if isinstance(value, str) and not isinstance(value, Markup) and re.search(r"</?(b|i|code)>", value)
    ]
    assert plain_html == []


def test_what_people_type_is_escaped_on_the_card() -> None:
    citizen = Citizen(id=1, channel="telegram", address="5", display_name="<b>Ani</b> & co")
    complaint = Complaint(
        id=42,
        citizen_id=1,
        description='Sampah <script>alert("x")</script> & bau',
        location_text="Jl. <i>Saranani</i>",
        category="Sampah & <TPS>",
        opd_code="DLHK",
        created_at=NOW,
        due_at=NOW + timedelta(hours=24),
    )
    card = render_card(DESK, complaint, citizen)
    assert isinstance(card, Markup)
    assert "<script>" not in card and "&lt;script&gt;" in card
    assert "<i>Saranani" not in card and "&amp; bau" in card and "Sampah &amp; &lt;TPS&gt;" in card
    # The card's own markup survives.
    assert card.startswith("🆕 <b>Aduan KDI-0042</b>")

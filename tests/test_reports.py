"""Report rendering: long lists split but never cut; statistics computed exactly."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup

from handlers import texts
from handlers.cards import render_card
from handlers.desk import AgencyInfo, Desk
from handlers.events import ChannelName
from handlers.reports import MESSAGE_LIMIT, combine, overdue_messages, split_lines
from handlers.timefmt import duration
from routing import AgencyLexicon, Lexicon
from storage.models import Citizen, Complaint
from storage.reports import OpenCount, OverdueRow, RatingSum, VerdictCount

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


def test_a_long_overdue_list_is_split_under_the_limit_and_complete() -> None:
    rows = [
        OverdueRow(
            id=n,
            opd_code=["DLHK", "PUPR", None][n % 3],
            category="Sampah",
            created_at=NOW - timedelta(hours=30 + n),
            due_at=NOW - timedelta(hours=6 + n),
        )
        for n in range(1, 1201)
    ]
    messages = overdue_messages(DESK, rows, now=NOW, scope=None)
    assert len(messages) > 5
    assert all(len(m) <= MESSAGE_LIMIT for m in messages)
    joined = "\n".join(messages)
    assert all(f"KDI-{n:04d} " in joined for n in range(1, 1201))
    assert joined.index("Belum diteruskan") < joined.index("Dinas LH") < joined.index("Dinas PU")
    assert "Total: <b>1200</b>" in messages[-1]


def test_nothing_overdue_says_so() -> None:
    assert "Tidak ada aduan" in overdue_messages(DESK, [], now=NOW, scope="PUPR")[0]


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

"""Citizens' data stays where it belongs (issue 13): unit-level checks, one or more per point.

The end-to-end checks, across real HTTP, are in tests/test_privacy_e2e.py.
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.logmask import MaskPhones
from bot.telegram.ratelimit import WindowRateLimiter
from handlers import rating
from handlers.cards import citizen_label
from handlers.events import ChannelName, ChatKind, Inbound
from handlers.privacy import looks_like_contact, mask_phones, public_name
from handlers.reports import export_csv
from handlers.router import sanitized
from handlers.textsafe import clean
from storage.models import Citizen
from storage.reports import ExportRow
from storage.tickets import parse_ticket
from tests.test_reports import DESK

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _row(n: int, description: str, location: str | None = None, category: str | None = None) -> ExportRow:
    return ExportRow(
        id=n,
        created_at=NOW,
        channel="whatsapp",
        opd_code="DLHK",
        category=category,
        status="open",
        description=description,
        location_text=location,
        location_lat=-3.9778,
        location_lon=122.5151,
        due_at=NOW + timedelta(hours=24),
        answered_at=None,
        closed_at=None,
        rating=None,
    )


# -- 1. CSV formula injection -------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://x","klik")', "+1+1", "-2+3", "@SUM(A1)", "\tsampah", "\r=1+1"]


def test_1_no_text_cell_of_the_export_starts_like_a_formula() -> None:
    rows = [_row(n, text, location=text, category=text) for n, text in enumerate(FORMULAS, start=1)]
    rows.append(_row(99, "Sampah menumpuk di pasar", location="Jl. Mawar"))
    parsed = list(csv.DictReader(io.StringIO(export_csv(DESK, rows).decode("utf-8-sig"))))
    for record, text in zip(parsed, FORMULAS, strict=False):
        for column in ("uraian", "lokasi", "kategori"):
            assert record[column] == "'" + text, (column, record[column])
    # Readable: ordinary text untouched, coordinates still numbers (a negative latitude is no formula).
    assert parsed[-1]["uraian"] == "Sampah menumpuk di pasar" and parsed[-1]["lokasi"] == "Jl. Mawar"
    assert parsed[-1]["lintang"] == "-3.977800" and float(parsed[-1]["bujur"]) == pytest.approx(122.5151)


# -- 5. Invisible and bidirectional marks; ticket numbers in ASCII digits -------------------------

INVISIBLE = [
    "\u2066",  # LEFT-TO-RIGHT ISOLATE
    "\u2067",  # RIGHT-TO-LEFT ISOLATE
    "\u2068",  # FIRST STRONG ISOLATE
    "\u2069",  # POP DIRECTIONAL ISOLATE
    "\u200e",  # LEFT-TO-RIGHT MARK
    "\u200f",  # RIGHT-TO-LEFT MARK
    "\u061c",  # ARABIC LETTER MARK
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u200b",  # ZERO WIDTH SPACE
    "\u2060",  # WORD JOINER
    "\ufeff",  # BYTE ORDER MARK
    "\u00ad",  # SOFT HYPHEN
    "\U000e0041",  # TAG LATIN CAPITAL LETTER A (hidden "ASCII smuggling")
]


@pytest.mark.parametrize("mark", INVISIBLE, ids=lambda m: f"U+{ord(m):04X}")
def test_5_every_invisible_format_character_is_removed(mark: str) -> None:
    assert clean(f"Sampah{mark} di jalan{mark}") == "Sampah di jalan"


def test_5_what_emoji_are_made_of_stays() -> None:
    family = "👨\u200d👩\u200d👧"
    heart = "❤\ufe0f"
    scotland = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
    text = f"Keluarga {family} {heart} dari {scotland}"
    assert clean(text) == text
    # A tag outside a flag is hidden text, not an emoji.
    assert clean("ok\U000e0068\U000e0069") == "ok"


@pytest.mark.parametrize("ticket", ["KDI-٠٠٠١", "KDI-０００１", "KDI-۱", "KDI-²", "#KDI-𝟏"])
def test_5_a_ticket_number_is_written_in_ascii_digits(ticket: str) -> None:
    assert parse_ticket("KDI", ticket) is None
    assert parse_ticket("KDI", "KDI-0001") == 1 and parse_ticket("KDI", "#kdi-42") == 42


@pytest.mark.parametrize("typed", ["٣", "３", "²", "𝟓"])
def test_5_a_rating_is_an_ascii_digit(typed: str) -> None:
    assert rating.parse_typed(typed) is None
    assert rating.parse_button(f"rate:{typed}:4") is None and rating.parse_button(f"rate:1:{typed}") is None
    assert rating.parse_typed("4 bagus") == 4 and rating.parse_button("rate:12:5") == (12, 5)


# -- 4. Names that are really contacts ------------------------------------------------------------

CONTACT_NAMES = [
    "081234567890",
    "0812 3456 7890",
    "0812_3456_7890",
    "0812/3456/7890",
    "+62 812-3456-7890",
    "٠٨١٢٣٤٥٦٧٨٩٠",
    "０８１２３４５６７８９０",
    "@budi_kdi",
    "budi.santoso@mail.id",
    "t.me/budi_kdi",
    "https://wa.me/6281234567890",
]


@pytest.mark.parametrize("name", CONTACT_NAMES)
def test_4_a_contact_as_name_never_reaches_a_card(name: str) -> None:
    assert looks_like_contact(name) and public_name(name) == ""
    citizen = Citizen(id=1, channel="whatsapp", address="whatsapp:+6281234567890", display_name=name)
    assert citizen_label(DESK, citizen) == "Warga (whatsapp)"
    inbound = Inbound(
        channel=ChannelName("telegram"),
        chat_id="424242",
        chat_kind=ChatKind.PRIVATE,
        sender_id="424242",
        sender_name=name,
        at=NOW,
        external_id="1",
    )
    assert sanitized(inbound).sender_name == ""


@pytest.mark.parametrize("name", ["Budi Santoso", "Ani 2", "Wa Ode Nurhayati", "Andi (Baruga)", "Siti 👩‍🌾"])
def test_4_ordinary_names_stay(name: str) -> None:
    assert not looks_like_contact(name) and public_name(name) == name


# -- 3. Phone numbers masked in logs ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("to whatsapp:+6281234567890 failed", "to whatsapp:+62812****7890 failed"),
        ("The 'To' number 081234567890 is invalid", "The 'To' number 08123****7890 is invalid"),
        ("WaId 6281234567890", "WaId 62812****7890"),
        ("outbox 42 to telegram:-1001000000001", "outbox 42 to telegram:-1001000000001"),
    ],
)
def test_3_phone_numbers_are_masked(text: str, masked: str) -> None:
    assert mask_phones(text) == masked


def test_3_the_log_filter_masks_messages_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskPhones())
    logger = logging.getLogger("tests.privacy.mask")
    logger.addHandler(handler)
    try:
        logger.warning("send to %s failed", "whatsapp:+6281234567890")
        try:
            raise ValueError("bad number +6285298765432")
        except ValueError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue()
    assert "whatsapp:+62812****7890" in written and "+62852****5432" in written
    assert "6281234567890" not in written and "6285298765432" not in written


# -- 8. The per-group send windows in memory are pruned ----------------------------------------------


async def test_8_idle_group_windows_are_forgotten() -> None:
    now = [1000.0]
    limiter = WindowRateLimiter(per_second=10_000, per_group_per_minute=20, clock=lambda: now[0])

    async def sent() -> bool:
        return True

    for group in range(1, 1001):  # a thousand groups the bot was added to, one a second, one message each
        await limiter.process_request(sent, (), {}, "sendMessage", {"chat_id": -group}, None)
        now[0] += 1.0
        # Only the groups of the last two minutes are held.
        assert limiter.groups_tracked <= 2 * 62
    now[0] += 120  # their minutes are over
    await limiter.process_request(sent, (), {}, "sendMessage", {"chat_id": -5000}, None)
    assert limiter.groups_tracked == 1

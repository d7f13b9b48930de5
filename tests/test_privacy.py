"""Citizens' data stays where it belongs (issue 13): unit-level checks, one or more per point.

The end-to-end checks, across real HTTP, are in tests/test_privacy_e2e.py.
"""

from __future__ import annotations

import csv
import io
import logging
import subprocess
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.config import EXAMPLE_ADMIN_IDS, EXAMPLE_CHAT_IDS
from bot.logmask import MaskPhones
from bot.playground.runner import free_port, playground
from bot.telegram.ratelimit import WindowRateLimiter
from handlers import rating
from handlers.cards import citizen_label
from handlers.events import ChannelName, ChatKind, Inbound
from handlers.privacy import looks_like_contact, mask_phones, public_name
from handlers.reports import export_csv
from handlers.router import sanitized
from handlers.textsafe import clean
from routing.understand import Context, State, understand
from storage.models import Citizen
from storage.reports import ExportRow
from storage.tickets import parse_ticket
from tests.test_config import EXAMPLE, _dump, _ehumas
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
    awaiting = Context(State.AWAITING_RATING, open_tickets=(1,), answered_tickets=(1,), rating_for=1)
    assert understand(typed, awaiting).stars is None
    assert rating.parse_button(f"rate:{typed}:4") is None and rating.parse_button(f"rate:1:{typed}") is None
    assert understand("4 bagus", awaiting).stars == 4 and rating.parse_button("rate:12:5") == (12, 5)


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


# -- 11. check-config refuses weak or example settings ------------------------------------------------


def filled_config(**changes: dict[str, Any]) -> dict[str, Any]:
    """config.example.toml as a deployment fills it in: a real token, a long secret, its own ids."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["telegram"].update(token="123456:AAreal-token", webhook_secret="s" * 40)
    data["humas"].update(admin_user_ids=[5550001], group_chat_id=-1005550000)
    for index, opd in enumerate(data["opd"], start=1):
        opd["telegram_chat_id"] = -1005550000 - index
    for section, values in changes.items():
        data[section].update(values)
    return data


def check(tmp_path: Path, data: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "config.toml"
    path.write_text(_dump(data), encoding="utf-8")
    return _ehumas("check-config", str(path))


def test_11_a_filled_in_configuration_passes(tmp_path: Path) -> None:
    result = check(tmp_path, filled_config())
    assert result.returncode == 0 and "OK" in result.stdout and result.stderr == "", result.stderr


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"telegram": {"webhook_secret": "a"}}, "telegram.webhook_secret"),
        ({"telegram": {"webhook_secret": "change_me"}}, "telegram.webhook_secret"),
        ({"telegram": {"webhook_secret": "x" * 31}}, "telegram.webhook_secret"),
        ({"humas": {"admin_user_ids": [5550001, 100000001]}}, "humas.admin_user_ids"),
        ({"humas": {"group_chat_id": -1001000000000}}, "humas.group_chat_id"),
        ({"server": {"public_url": "http://ehumas.kendarikota.go.id"}}, "server.public_url"),
        ({"server": {"public_url": "http://192.168.1.10:8080"}}, "server.public_url"),
    ],
)
def test_11_unsafe_settings_are_errors(tmp_path: Path, changes: dict[str, Any], key: str) -> None:
    result = check(tmp_path, filled_config(**changes))
    assert result.returncode == 2 and key in result.stderr, (result.stdout, result.stderr)


def test_11_an_example_group_id_left_in_an_agency_is_an_error(tmp_path: Path) -> None:
    data = filled_config()
    data["opd"][1]["telegram_chat_id"] = -1001000000002
    result = check(tmp_path, data)
    assert result.returncode == 2 and "opd[1].telegram_chat_id" in result.stderr


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"server": {"public_url": "http://127.0.0.1:8080"}}, "server.public_url"),
        ({"server": {"host": "0.0.0.0"}}, "server.host"),
        ({"humas": {"admin_user_ids": []}}, "humas.admin_user_ids"),
    ],
)
def test_11_what_deserves_a_second_look_is_a_warning(tmp_path: Path, changes: dict[str, Any], key: str) -> None:
    result = check(tmp_path, filled_config(**changes))
    assert result.returncode == 0 and "OK" in result.stdout, result.stderr
    assert "warning" in result.stderr and key in result.stderr


def test_11_run_refuses_what_check_config_refuses(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(_dump(filled_config(telegram={"webhook_secret": "a"})), encoding="utf-8")
    result = _ehumas("run", "--config", str(path), cwd=tmp_path)
    assert result.returncode == 2 and "telegram.webhook_secret" in result.stderr


def test_11_the_example_ids_are_the_ones_refused() -> None:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert set(data["humas"]["admin_user_ids"]) == EXAMPLE_ADMIN_IDS
    chats = {data["humas"]["group_chat_id"], *(opd["telegram_chat_id"] for opd in data["opd"])}
    assert chats == EXAMPLE_CHAT_IDS


# -- 12. The playground answers its own page only, and fails closed next to a real configuration ----------


async def test_12_cross_site_posts_and_foreign_hosts_are_refused(tmp_path: Path) -> None:
    port = free_port()
    own = f"http://127.0.0.1:{port}"
    async with playground(port, tmp_path / "guard.db") as (session, _), httpx.AsyncClient(timeout=10) as http:
        send, post = own + "/playground/api/send", {"pane": "tg-citizen", "text": "/start"}
        # Another site's page posting through the visitor's browser.
        assert (await http.post(send, headers={"Origin": "http://evil.test"}, data=post)).status_code == 403
        assert (await http.post(send, data=post)).status_code == 403  # no Origin: refused too
        clock = await http.post(own + "/playground/api/clock", json={"hours": 24}, headers={"Origin": "null"})
        assert clock.status_code == 403
        # DNS rebinding: evil.test resolving to 127.0.0.1, the browser sending its own Host.
        for path in ("/", "/playground/api/feed?after=0", "/playground/api/panes", "/playground/static/app.js"):
            response = await http.get(own + path, headers={"Host": f"evil.test:{port}"})
            assert response.status_code == 403, path
        assert session.telegram.sent_messages(5001) == []
        # The page itself still works, by address or by localhost.
        assert (await http.get(own + "/")).status_code == 200
        assert (await http.get(f"http://localhost:{port}/playground/api/feed?after=²")).status_code == 200
        good = await http.post(send, headers={"Origin": own}, data=post)
        assert good.status_code == 200


@pytest.mark.parametrize(
    "config",
    [
        '[telegram]\ntoken = "123456789:AAreal-token"\n[bot]\ncity = "Kendari"\nunknown_key = 1\n',
        '[telegram\ntoken = "123456789:AAreal-token"\n',  # not even TOML
    ],
)
def test_12_the_playground_refuses_a_real_token_even_in_a_broken_configuration(tmp_path: Path, config: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(config, encoding="utf-8")
    result = _ehumas("playground", "--config", str(path), "--port", str(free_port()), cwd=tmp_path)
    assert result.returncode == 2 and "refuses" in result.stderr

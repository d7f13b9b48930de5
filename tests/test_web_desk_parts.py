"""The web desk's parts on their own: its settings, the 0008 migration on existing data, verdicts, periods, texts."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from markupsafe import Markup
from sqlalchemy import text
from sqlmodel import select

from bot.config import ConfigError, parse_settings
from bot.web.render import tile_source
from handlers import assignments, periods
from handlers.texts import desk as desk_texts
from storage.engine import create_engine, create_session_factory
from storage.migrate import upgrade_async
from storage.models import Assignment
from tests.harness import example_data
from tests.test_config import _dump, _ehumas, _example

T0 = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
WITA = ZoneInfo("Asia/Makassar")


def _with_web(**web: object) -> dict[str, object]:
    data = _example()
    data["web"] = {**data["web"], **web}
    return data


def test_the_example_documents_the_desk_switched_off() -> None:
    settings = parse_settings(_example())
    assert settings.web.enabled is False and settings.web.session_hours == 12 and settings.web.login_link_minutes == 10
    assert settings.web.map_tiles_url == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


@pytest.mark.parametrize(
    ("web", "expected"),
    [
        ({"enabled": True}, "web.secret: required when enabled: at least 32 characters"),
        ({"enabled": True, "secret": "x" * 31}, "web.secret: required when enabled"),
        ({"enabled": True, "secret": "x" * 40, "session_hours": 0.0}, "web.session_hours"),
        ({"enabled": True, "secret": "x" * 40, "login_link_minutes": -1.0}, "web.login_link_minutes"),
        ({"map_tiles_url": "tile.example.org/{z}/{x}.png"}, "web.map_tiles_url"),
        ({"sesion_hours": 12.0}, "web.sesion_hours: unknown key"),
    ],
)
def test_check_config_names_the_web_key_at_fault(web: dict[str, object], expected: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=re.escape(expected)):
        parse_settings(_with_web(**web))
    path = tmp_path / "config.toml"
    path.write_text(_dump(_with_web(**web)), encoding="utf-8")
    result = _ehumas("check-config", str(path))
    assert result.returncode == 2 and expected in result.stderr


def test_a_valid_desk_passes_check_config(tmp_path: Path) -> None:
    # A deployment's own ids and a long secret (check-config refuses the example's).
    data = example_data()
    data["web"] = {**data["web"], "enabled": True, "secret": "s" * 64, "map_tiles_url": ""}
    data["telegram"]["webhook_secret"] = "w" * 40
    path = tmp_path / "config.toml"
    path.write_text(_dump(data), encoding="utf-8")
    result = _ehumas("check-config", str(path))
    assert result.returncode == 0 and "web desk on" in result.stdout


def test_the_tile_server_is_allowed_by_the_page_policy() -> None:
    assert tile_source("https://tile.openstreetmap.org/{z}/{x}/{y}.png") == "https://tile.openstreetmap.org"
    assert tile_source("https://{s}.tiles.kendarikota.go.id/{z}/{x}/{y}.png") == "https://*.tiles.kendarikota.go.id"
    assert tile_source("") == ""


def test_verdicts() -> None:
    due = T0 + timedelta(hours=24)
    assert assignments.answer_verdict(due_at=due, answered_at=due) == "on_time"  # the deadline itself is in time
    assert assignments.answer_verdict(due_at=due, answered_at=due + timedelta(seconds=1)) == "late"
    assert assignments.end_verdict(due_at=due, ended_at=due - timedelta(hours=1)) == "moved"
    assert assignments.end_verdict(due_at=due, ended_at=due + timedelta(hours=1)) == "missed"


def test_periods_are_the_city_s() -> None:
    # 1 Dec 2026 00:30 WITA is still 30 Nov in UTC: "this month" starts at 1 Dec 00:00 WITA.
    now = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)
    assert periods.since("bulan", now=now, zone=WITA) == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert periods.since("7d", now=now, zone=WITA) == now - timedelta(days=7)
    assert periods.since("all", now=now, zone=WITA) is None
    with pytest.raises(ValueError, match="unknown period"):
        periods.since("1y", now=now, zone=WITA)
    weeks = periods.week_starts(now, zone=WITA, weeks=12)
    assert len(weeks) == 12 and weeks[-1] == datetime(2026, 11, 29, 16, 0, tzinfo=UTC)  # Monday 00:00 WITA
    assert all(b - a == timedelta(days=7) for a, b in itertools.pairwise(weeks))


def test_every_html_text_of_the_desk_is_a_markup_template() -> None:
    plain_html = [
        name
        for name, value in vars(desk_texts).items()
        if isinstance(value, str) and not isinstance(value, Markup) and re.search(r"</?(a|b|i|code)\b", value)
    ]
    assert plain_html == []
    link = desk_texts.LOGIN_LINK.format(scope="", url='https://x/desk/masuk/a"b', minutes="10")
    assert 'href="https://x/desk/masuk/a&#34;b"' in link


async def test_complaints_filed_before_0008_get_their_handover(empty_database_url: str) -> None:
    await upgrade_async(empty_database_url, "0006")
    due = T0 + timedelta(hours=24)
    rows = [
        # id, opd, status, answered, closed
        (1, "DLHK", "open", None, None),
        (2, "DLHK", "closed", T0 + timedelta(hours=2), T0 + timedelta(hours=3)),
        (3, "PUPR", "answered", T0 + timedelta(hours=30), None),
        (4, None, "rejected", None, T0 + timedelta(hours=40)),
        (5, "PUPR", "open", None, None),
    ]
    engine = create_engine(empty_database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO citizen (id, channel, address, display_name, created_at, reachable) "
                    "VALUES (1, 'telegram', '5', 'Ani', :at, true)"
                ),
                {"at": T0},
            )
            for index, code in enumerate(("DLHK", "PUPR")):
                await conn.execute(
                    text("INSERT INTO agency (code, name, telegram_chat_id, active) VALUES (:c, :c, :chat, true)"),
                    {"c": code, "chat": -10 - index},
                )
            for number, opd, status, answered, closed in rows:
                await conn.execute(
                    text(
                        "INSERT INTO complaint (id, citizen_id, opd_code, description, media, status, confidence, "
                        "reroute_count, created_at, due_at, answered_at, closed_at) "
                        "VALUES (:n, 1, :opd, 'x', '[]', :status, 0.0, 0, :created, :due, :answered, :closed)"
                    ),
                    {
                        "n": number,
                        "opd": opd,
                        "status": status,
                        "created": T0,
                        "due": due if number != 5 else due + timedelta(hours=10),
                        "answered": answered,
                        "closed": closed,
                    },
                )
            await conn.execute(
                text(
                    "INSERT INTO complaint_event (complaint_id, at, kind, actor, detail) "
                    "VALUES (5, :at, 'rerouted', 'humas', 'DLHK -> PUPR')"
                ),
                {"at": T0 + timedelta(hours=10)},
            )
    finally:
        await engine.dispose()
    await upgrade_async(empty_database_url)
    engine = create_engine(empty_database_url)
    try:
        async with create_session_factory(engine)() as session:
            found = {a.complaint_id: a for a in (await session.exec(select(Assignment))).all()}
    finally:
        await engine.dispose()
    assert {n: (a.owner, a.verdict) for n, a in found.items()} == {
        1: ("DLHK", None),
        2: ("DLHK", "on_time"),
        3: ("PUPR", "late"),
        4: ("HUMAS", "missed"),
        5: ("PUPR", None),
    }
    assert found[2].answer_seconds == 7200 and found[4].ended_at == T0 + timedelta(hours=40)
    assert found[5].started_at == T0 + timedelta(hours=10)  # the current owner's clock began at the reroute
    assert all(a.complaint_created_at == T0 for a in found.values())

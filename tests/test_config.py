"""`ehumas check-config` and the settings loader: valid files pass, each mistake names its key."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.config import ConfigError, load_settings
from tests.conftest import ROOT

EXAMPLE = ROOT / "config.example.toml"


def _ehumas(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_the_example_configuration_is_valid() -> None:
    assert load_settings(EXAMPLE).summary().startswith("Kota Kendari: 3 OPD (DLHK, PUPR, DISDUKCAPIL)")
    # Valid, but not to be run as it is: its secret and its ids are the example's (issue 13, point 11).
    result = _ehumas("check-config", str(EXAMPLE))
    assert result.returncode == 2, result.stdout
    for key in ("telegram.webhook_secret", "humas.admin_user_ids", "humas.group_chat_id", "opd[0].telegram_chat_id"):
        assert key in result.stderr


def test_the_example_ships_the_three_agencies_with_keywords() -> None:
    settings = load_settings(EXAMPLE)
    assert [opd.code for opd in settings.opd] == ["DLHK", "PUPR", "DISDUKCAPIL"]
    assert all(opd.keywords for opd in settings.opd)
    assert settings.bot.ticket_prefix == "KDI" and settings.bot.timezone == "Asia/Makassar"
    assert settings.sla.answer_within_hours == 24.0


def _example() -> dict[str, Any]:
    return tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


def _dump(data: dict[str, Any]) -> str:
    """A small TOML writer for the shapes the configuration uses."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f'"{k}" = {value(x)}' for k, x in v.items()) + "}"
        raise TypeError(v)

    lines: list[str] = []
    for key, section in data.items():
        if isinstance(section, list) and section and isinstance(section[0], dict):
            for item in section:
                lines.append(f"[[{key}]]")
                lines.extend(f"{k} = {value(v)}" for k, v in item.items())
        elif isinstance(section, dict):
            lines.append(f"[{key}]")
            lines.extend(f"{k} = {value(v)}" for k, v in section.items())
        else:
            lines.insert(0, f"{key} = {value(section)}")
    return "\n".join(lines) + "\n"


def _broken(change: Any) -> dict[str, Any]:
    data = _example()
    change(data)
    return data


BROKEN = {
    "missing section": (lambda d: d.pop("humas"), "humas: missing"),
    "wrong type": (lambda d: d["sla"].update(answer_within_hours="24"), "sla.answer_within_hours"),
    "duplicate OPD code": (lambda d: d["opd"][2].update(code="DLHK"), "opd[2].code: duplicate OPD code 'DLHK'"),
    "OPD without chat id": (lambda d: d["opd"][1].pop("telegram_chat_id"), "opd[1].telegram_chat_id: missing"),
    "unknown key": (lambda d: d["telegram"].update(tokn="x"), "telegram.tokn: unknown key"),
    "unknown zone": (lambda d: d["bot"].update(timezone="Asia/Kendari"), "bot.timezone"),
    "bad mode": (lambda d: d["telegram"].update(mode="push"), "telegram.mode"),
    "shared group": (
        lambda d: d["opd"][1].update(telegram_chat_id=d["opd"][0]["telegram_chat_id"]),
        "opd[1].telegram_chat_id: chat id",
    ),
    "no opd": (lambda d: d.pop("opd"), "opd: missing"),
    "webhook without secret": (lambda d: d["telegram"].update(webhook_secret=""), "webhook_secret is required"),
    "half a whatsapp": (lambda d: d["whatsapp"].update(account_sid="AC1"), "auth_token is required"),
    "no whatsapp rate": (
        lambda d: d["whatsapp"].update(max_messages_per_second=0.0),
        "whatsapp.max_messages_per_second",
    ),
    "reminder after deadline": (lambda d: d["sla"].update(remind_before_hours=30.0), "remind_before_hours"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_configuration_exits_2_naming_the_key(case: str, tmp_path: Path) -> None:
    change, expected = BROKEN[case]
    path = tmp_path / "config.toml"
    path.write_text(_dump(_broken(change)), encoding="utf-8")
    result = _ehumas("check-config", str(path))
    assert result.returncode == 2
    assert str(path) in result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_unreadable_files_are_explained(tmp_path: Path) -> None:
    not_toml = tmp_path / "bad.toml"
    not_toml.write_text("[bot\ncity = 1", encoding="utf-8")
    result = _ehumas("check-config", str(not_toml))
    assert result.returncode == 2 and "not valid TOML" in result.stderr
    result = _ehumas("check-config", str(tmp_path / "missing.toml"))
    assert result.returncode == 2 and "no configuration file" in result.stderr


def test_run_refuses_the_example_placeholders(tmp_path: Path) -> None:
    result = _ehumas("run", "--config", str(EXAMPLE), cwd=tmp_path)
    assert result.returncode == 2
    assert "telegram.token" in result.stderr


def test_loader_errors_list_every_problem(tmp_path: Path) -> None:
    data = _example()
    data["server"]["port"] = "8080"
    data["bot"]["ticket_prefix"] = "kdi-"
    path = tmp_path / "two.toml"
    path.write_text(_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert "server.port" in str(error.value) and "bot.ticket_prefix" in str(error.value)


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    data = _example()
    data["database"]["url"] = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    path = tmp_path / "config.toml"
    path.write_text(_dump(data), encoding="utf-8")
    result = _ehumas("db", "upgrade", "--config", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "cli.db").exists()

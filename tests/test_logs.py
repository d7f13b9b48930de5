"""The log of a real `ehumas run` process: one format for every line, one line per event and send, no personal data."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.standins.telegram_api import TelegramStandIn
from tests.harness import User
from tests.procs import Updates, fleet

PHONE = "081234567890"
TEXT = "Sampah menumpuk di gang Mawar, hubungi saya di"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")


@pytest.mark.parametrize("form", ["json", "text"])
async def test_every_line_has_one_format_and_no_phone_number_or_message_text(
    form: str, tmp_path: Path, database_url: str, telegram: TelegramStandIn
) -> None:
    async with fleet(tmp_path, database_url, telegram) as bots:
        [bot] = await bots.start(1, {"log": {"format": form}, "server": {"access_log": True}})
        user = User(700100, "Wati")
        response = await bot.post_telegram(Updates(telegram).message(user, f"{TEXT} {PHONE}"))
        assert response.status_code == 200
        await telegram.wait_for_count(1, chat_id=user.id)
        await bots.settled()
        await bot.terminate()
    log = bot.log()
    lines = [line for line in log.splitlines() if line and not line.startswith("===== ")]
    assert PHONE not in log and TEXT not in log
    # The migration tool's "Context impl ..." lines at every start are gone.
    assert "Context impl" not in log and "Will assume" not in log
    if form == "json":
        records = [json.loads(line) for line in lines]  # every line, uvicorn's too, is one JSON object
        assert all(record["time"] and record["level"] and record["logger"] for record in records)
        assert any(r["logger"] == "uvicorn.access" and "POST /telegram/webhook" in r["message"] for r in records)
        [event] = [r for r in records if "event_id" in r]
        assert event["channel"] == "telegram" and event["outcome"] == "ok" and event["duration_ms"] >= 0
        [send] = [r for r in records if "outbox_id" in r]
        assert send["channel"] == "telegram" and send["outcome"] == "sent" and send["attempt"] == 1
    else:
        assert all(TIMESTAMP.match(line) for line in lines if not line.startswith((" ", "Traceback"))), lines
        assert any("uvicorn" in line and "POST /telegram/webhook" in line for line in lines)
        assert any(re.search(r"inbox event \d+ telegram: ok in [\d.]+ ms", line) for line in lines)
        assert any(re.search(r"outbox \d+ telegram \(\w+\): sent in [\d.]+ ms, attempt 1", line) for line in lines)

"""GET /metrics for Prometheus, /healthz and /readyz: what an operator's monitoring sees."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from bot.standins.telegram_api import TelegramStandIn
from tests.harness import User, running_bot, settings_for
from tests.test_e2e_telegram import file_complaint

TOKEN = "metrics-token-0123456789abcdef0123456789"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape by (name, sorted labels without `process`), parsed as Prometheus does."""
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "process"))
            found[(sample.name, labels)] = found.get((sample.name, labels), 0.0) + sample.value
    return found


async def test_nobody_reads_metrics_without_the_token_not_even_from_this_machine(
    database_url: str, telegram: TelegramStandIn
) -> None:
    async with running_bot(settings_for(database_url, telegram), telegram) as world:
        closed = await world.http.get(world.url + "/metrics")
        assert closed.status_code == 403
        assert "ehumas" not in closed.text
    settings = settings_for(database_url, telegram, metrics={"token": TOKEN})
    async with running_bot(settings, telegram) as world:
        url = world.url + "/metrics"
        assert (await world.http.get(url)).status_code == 401
        wrong = await world.http.get(url, headers={"Authorization": "Bearer " + TOKEN[:-1] + "x"})
        assert wrong.status_code == 401 and "ehumas" not in wrong.text
        right = await world.http.get(url, headers={"Authorization": "Bearer " + TOKEN})
        assert right.status_code == 200, right.text
        assert right.headers["content-type"].startswith("text/plain")
        assert "ehumas_inbox_backlog 0.0" in right.text


async def test_an_allowed_address_reads_metrics_without_a_token(database_url: str, telegram: TelegramStandIn) -> None:
    settings = settings_for(database_url, telegram, metrics={"allow": ["10.0.0.0/8", "127.0.0.1"]})
    async with running_bot(settings, telegram) as world:
        assert (await world.http.get(world.url + "/metrics")).status_code == 200
    settings = settings_for(database_url, telegram, metrics={"allow": ["10.0.0.0/8"]})
    async with running_bot(settings, telegram) as world:
        assert (await world.http.get(world.url + "/metrics")).status_code == 403


async def test_metrics_show_the_desk_and_what_this_process_did(database_url: str, telegram: TelegramStandIn) -> None:
    settings = settings_for(database_url, telegram, metrics={"token": TOKEN, "process": "worker-1"})
    async with running_bot(settings, telegram) as world:

        async def scrape() -> str:
            response = await world.http.get(world.url + "/metrics", headers={"Authorization": "Bearer " + TOKEN})
            assert response.status_code == 200
            return response.text

        before = samples(await scrape())
        assert before[("ehumas_complaints_overdue", (("agency", "DLHK"),))] == 0
        assert before[("ehumas_complaints_overdue", (("agency", "HUMAS"),))] == 0

        await file_complaint(world, User(700001, "Wati"), "sampah menumpuk di TPS Wua-Wua sudah bau")
        await file_complaint(world, User(700002, "Andi"), "jalan berlubang besar di depan pasar Baruga bahaya")
        # One refusal for speed (a 429), retried: counted, and the citizen still gets the answer.
        telegram.fail_next(1, 429, retry_after=1)
        await world.send(world.message(User(700003, "Rudi"), "/start"))
        await world.reply(700003)
        await world.settled()
        world.clock.advance(timedelta(hours=25))

        text = await scrape()
        # Per-process figures carry the configured process label; the desk's figures none.
        assert re.search(r'ehumas_sends_total\{[^}]*process="worker-1"', text)
        assert re.search(r"ehumas_complaints\{agency=", text)
        now = samples(text)
        assert now[("ehumas_complaints", (("agency", "DLHK"), ("state", "open")))] == 1
        assert now[("ehumas_complaints", (("agency", "PUPR"), ("state", "open")))] == 1
        assert now[("ehumas_complaints_overdue", (("agency", "DLHK"),))] == 1
        assert now[("ehumas_complaints_overdue", (("agency", "PUPR"),))] == 1
        assert now[("ehumas_inbox_backlog", ())] == 0
        assert now[("ehumas_outbox_backlog", (("channel", "telegram"),))] == 0
        # 9 messages from citizens, each received and processed once.
        assert now[("ehumas_inbox_events_received_total", (("channel", "telegram"),))] == 9
        assert now[("ehumas_inbox_events_processed_total", (("channel", "telegram"), ("outcome", "ok")))] == 9
        sent = now[("ehumas_sends_total", (("channel", "telegram"), ("outcome", "sent")))]
        assert sent >= 9 + 2  # the citizens' replies and the two agency cards
        assert now[("ehumas_send_rate_limited_total", (("channel", "telegram"),))] == 1
        assert now[("ehumas_send_retries_total", (("channel", "telegram"),))] == 1
        assert now[("ehumas_send_duration_seconds_count", (("channel", "telegram"),))] == sent + 1
        pool = now[("ehumas_db_pool_connections", (("state", "in_use"),))]
        assert pool + now[("ehumas_db_pool_connections", (("state", "idle"),))] >= 1  # at least this scrape's own


async def test_an_unreachable_messenger_makes_healthz_fail_until_it_answers_again(
    database_url: str, telegram: TelegramStandIn
) -> None:
    async with running_bot(settings_for(database_url, telegram), telegram) as world:
        healthy = await world.http.get(world.url + "/healthz")
        assert healthy.status_code == 200 and healthy.json()["telegram"] is True
        ready = await world.http.get(world.url + "/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"ready": True, "database": "ok", "migrations": "ok", "workers": "ok"}

        citizen = User(700010, "Sari")
        telegram.fail_chat(citizen.id, 502, n=None, description="Bad Gateway")
        await world.send(world.message(citizen, "/start"))
        await telegram.wait_for_count(1, chat_id=citizen.id, include_failed=True)
        for _ in range(100):  # the failed send is recorded just after the stand-in answered
            down = await world.http.get(world.url + "/healthz")
            if down.status_code == 503:
                break
            await asyncio.sleep(0.01)
        assert down.status_code == 503 and down.json()["telegram"] is False and down.json()["ok"] is False

        telegram.clear_faults()
        await world.reply(citizen.id)
        await world.settled()
        up = await world.http.get(world.url + "/healthz")
        assert up.status_code == 200 and up.json()["telegram"] is True

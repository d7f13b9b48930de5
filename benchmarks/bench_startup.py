"""Start-up benchmark: how long the app holds SQLite's one connection at a time after starting on a year of data.

The desk is bench_desk's 100,000 complaints over a year, 18% of them answered and never closed and
never asked for a rating (a desk upgraded from before migration 0010 looks the same): the first
deadline sweep owes them all a late rating request. The real app starts on it with the example
configuration ([sla] rate_after_hours = 24) and runs `--seconds`; every checkout of the connection
pool is timed from checkout to checkin, by task. A hold longer than the pool's timeout (the SQLite
busy timeout, 5 s) is what made webhooks, the dispatcher and the sweep log "QueuePool limit of size 1
... timed out"; those log lines are counted too. Meanwhile a citizen's message is posted to the
Telegram webhook every half second (in-process, httpx's ASGI transport), and its answer time kept:
the webhook stores the update before it answers 200, so it waits for the connection like the rest.

Run from the repository root:
    .venv/bin/python benchmarks/bench_startup.py                       # fill a temp file, then start
    .venv/bin/python benchmarks/bench_startup.py --db /tmp/big.db      # reuse (a copy of) a filled file
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import event, func  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402
from sqlmodel import select  # noqa: E402

import bot.app as app_module  # noqa: E402
from benchmarks.bench_desk import fill  # noqa: E402
from benchmarks.bench_public import settings as public_settings  # noqa: E402
from bot.standins.telegram_api import TelegramStandIn  # noqa: E402
from bot.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH  # noqa: E402
from storage.engine import is_unavailable  # noqa: E402
from storage.migrate import upgrade_async  # noqa: E402
from storage.models import OutboxMessage  # noqa: E402


class Holds:
    """Checkout-to-checkin times of the pool's connections, with the task that held each."""

    def __init__(self) -> None:
        self.open: dict[int, tuple[float, str]] = {}
        self.done: list[tuple[float, float, str]] = []  # (seconds held, start, task)

    def watch(self, engine: AsyncEngine) -> None:
        """Listen to the engine's pool."""
        pool = engine.sync_engine.pool

        @event.listens_for(pool, "checkout")
        def checkout(_dbapi: Any, record: Any, _proxy: Any) -> None:
            task = asyncio.current_task()
            name = task.get_name() if task else "?"
            # One line per kind of task: the dispatcher's sends are named outbox-<id>.
            head, _, tail = name.rpartition("-")
            self.open[id(record)] = (time.perf_counter(), head if tail.isdigit() and head else name)

        @event.listens_for(pool, "checkin")
        def checkin(_dbapi: Any, record: Any) -> None:
            started = self.open.pop(id(record), None)
            if started is not None:
                self.done.append((time.perf_counter() - started[0], started[0], started[1]))

    def still_open(self) -> list[tuple[float, float, str]]:
        """Holds not yet ended (counted up to now)."""
        now = time.perf_counter()
        return [(now - start, start, task) for start, task in self.open.values()]


class PoolTimeouts(logging.Handler):
    """Counts the workers' "QueuePool limit ... timed out" warnings."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        """Count one if it is a pool timeout."""
        if "QueuePool limit" in record.getMessage():
            self.count += 1


async def post_messages(app: Any, telegram: TelegramStandIn, seconds: float) -> list[tuple[float, int]]:
    """A citizen's message to the webhook every half second for `seconds`; (answer time, status) of each."""
    answers: list[tuple[float, int]] = []
    headers = {SECRET_HEADER: "bench"}
    stop = time.perf_counter() + seconds
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot", timeout=60) as client:
        number = 0
        while time.perf_counter() < stop:
            number += 1
            user = 700000 + number
            update = {
                "update_id": telegram.next_update_id(),
                "message": {
                    "message_id": number,
                    "date": int(time.time()),
                    "chat": {"id": user, "type": "private", "first_name": "W"},
                    "from": {"id": user, "is_bot": False, "first_name": "W"},
                    "text": "halo",
                },
            }
            started = time.perf_counter()
            response = await client.post(WEBHOOK_PATH, json=update, headers=headers)
            answers.append((time.perf_counter() - started, response.status_code))
            await asyncio.sleep(max(0.0, 0.5 - (time.perf_counter() - started)))
    return answers


async def start_and_watch(url: str, seconds: float) -> dict[str, Any]:
    """Start the app on `url`, run `seconds`; the holds, the timeouts, the rating requests queued."""
    holds = Holds()
    timeouts = PoolTimeouts()
    logging.getLogger().addHandler(timeouts)
    engines: list[AsyncEngine] = []
    # The app's own engine, watched: bot.app builds it with the create_engine it imported.
    original = getattr(app_module, "create_engine")  # noqa: B009

    def create_engine(*args: Any, **kwargs: Any) -> AsyncEngine:
        engine: AsyncEngine = original(*args, **kwargs)
        holds.watch(engine)
        engines.append(engine)
        return engine

    setattr(app_module, "create_engine", create_engine)  # noqa: B010
    try:
        async with TelegramStandIn() as telegram:
            config = public_settings(url, telegram)
            # As `ehumas run` has it: late rating requests on (bench_public turns them off).
            config = config.model_copy(update={"sla": config.sla.model_copy(update={"rate_after_hours": 24.0})})
            app = app_module.create_app(config)
            t0 = time.perf_counter()
            async with app.router.lifespan_context(app):
                webhook = await post_messages(app, telegram, seconds)
                spans = holds.done + holds.still_open()
                queued: int | None = None
                try:
                    async with app.state.runtime.sessions() as session:
                        statement = (
                            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.purpose == "rate")
                        )
                        queued = int((await session.exec(statement)).one())
                except Exception as exc:
                    if not is_unavailable(exc):
                        raise  # else: the connection is still held (by the first sweep, before the fix)
    finally:
        setattr(app_module, "create_engine", original)  # noqa: B010
        logging.getLogger().removeHandler(timeouts)
    by_task: dict[str, float] = defaultdict(float)
    for held, _start, task in spans:
        by_task[task] = max(by_task[task], held)
    longest = max(spans)
    return {
        "longest": longest[0],
        "longest_at": longest[1] - t0,
        "longest_task": longest[2],
        "over_1s": sum(held > 1 for held, _s, _t in spans),
        "by_task": dict(by_task),
        "timeouts": timeouts.count,
        "sweep_holds": sorted(held for held, _s, task in spans if task == "sla-sweep"),
        "webhook": webhook,
        "rating_requests": "unknown (connection held)" if queued is None else queued,
    }


async def main() -> None:
    """Fill (or copy) a desk, start the app on it, print the holds."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", help="a SQLite file filled by bench_desk.fill (copied, never changed)")
    parser.add_argument("--total", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "startup.db"
        url = f"sqlite+aiosqlite:///{path}"
        if args.db:
            shutil.copy(args.db, path)
        else:
            started = time.perf_counter()
            made = await fill(url, args.total, datetime.now(UTC))
            print(f"filled {made['complaints']} complaints in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        await upgrade_async(url)
        print(f"migrations to head: {time.perf_counter() - started:.2f} s")
        figures = await start_and_watch(url, args.seconds)
    print(
        f"first {args.seconds:.0f} s after start: longest hold {figures['longest']:.2f} s "
        f"(task {figures['longest_task']}, from +{figures['longest_at']:.1f} s), "
        f"{figures['over_1s']} holds over 1 s, {figures['timeouts']} pool time-outs logged, "
        f"{figures['rating_requests']} rating requests committed"
    )
    sweep = figures["sweep_holds"]
    if sweep:
        print(
            f"  the sweep's {len(sweep)} holds: median {statistics.median(sweep) * 1000:.0f} ms, "
            f"longest {sweep[-1] * 1000:.0f} ms"
        )
    webhook = figures["webhook"]
    times = sorted(t for t, _status in webhook)
    refused = sum(status != 200 for _t, status in webhook)
    print(
        f"  webhook: {len(webhook)} messages posted, {refused} not answered 200, answer time "
        f"median {statistics.median(times) * 1000:.0f} ms, longest {times[-1] * 1000:.0f} ms"
    )
    for task, held in sorted(figures["by_task"].items(), key=lambda item: -item[1]):
        print(f"  {task:20s} longest hold {held * 1000:8.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())

"""/overdue benchmark: the query and the rendering over 100,000 complaints.

Run from the repository root:
    .venv/bin/python benchmarks/bench_overdue.py                       # SQLite in a temp file
    .venv/bin/python benchmarks/bench_overdue.py --url postgresql+asyncpg://postgres@127.0.0.1/bench
(the PostgreSQL database must exist and be empty; the schema is created by the migrations.)
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from handlers.desk import AgencyInfo, Desk  # noqa: E402
from handlers.events import ChannelName  # noqa: E402
from handlers.reports import overdue_messages  # noqa: E402
from routing import AgencyLexicon, Lexicon  # noqa: E402
from storage import reports  # noqa: E402
from storage.engine import create_engine, create_session_factory  # noqa: E402
from storage.migrate import upgrade_async  # noqa: E402
from storage.models import Agency, Citizen, Complaint, table_of  # noqa: E402

CODES = ["DLHK", "PUPR", "DISDUKCAPIL"]


def desk() -> Desk:
    """A desk like Kendari's."""
    return Desk(
        city="Kota Kendari",
        ticket_prefix="KDI",
        zone=ZoneInfo("Asia/Makassar"),
        answer_within=timedelta(hours=24),
        remind_before=timedelta(hours=3),
        draft_ttl=timedelta(hours=2),
        humas_chat_id="-1",
        humas_admin_ids=frozenset(),
        agencies={code: AgencyInfo(code, code, str(-10 - i)) for i, code in enumerate(CODES)},
        lexicon=Lexicon.build([AgencyLexicon(code="DLHK", keywords=["sampah"])]),
        staff_channel=ChannelName("telegram"),
    )


async def fill(url: str, total: int, overdue_share: float, now: datetime) -> int:
    """Insert `total` complaints over the past year; return how many are overdue."""
    await upgrade_async(url)
    engine = create_engine(url)
    rng = random.Random(42)
    overdue = 0
    async with engine.begin() as conn:
        await conn.execute(
            insert(table_of(Agency)),
            [{"code": c, "name": c, "telegram_chat_id": -10 - i, "active": True} for i, c in enumerate(CODES)],
        )
        await conn.execute(
            insert(table_of(Citizen)),
            [
                {
                    "channel": "telegram",
                    "address": str(n),
                    "display_name": f"W{n}",
                    "reachable": True,
                    "created_at": now,
                }
                for n in range(1, 5001)
            ],
        )
        complaints = table_of(Complaint)
        batch: list[dict[str, Any]] = []
        for _n in range(total):
            created = now - timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
            due = created + timedelta(hours=24)
            is_overdue = due <= now and rng.random() < overdue_share
            if is_overdue:
                status, answered = "open", None
                overdue += 1
            elif due > now:
                status, answered = "open", None
            else:
                status, answered = "closed", created + timedelta(hours=rng.uniform(1, 30))
            batch.append(
                {
                    "citizen_id": rng.randrange(1, 5001),
                    "opd_code": rng.choice([*CODES, None]),
                    "category": "Sampah",
                    "confidence": 0.9,
                    "description": "bench",
                    "media": [],
                    "status": status,
                    "created_at": created,
                    "due_at": due,
                    "answered_at": answered,
                    "rating": None,
                    "reroute_count": 0,
                }
            )
            if len(batch) == 10_000:
                await conn.execute(insert(complaints), batch)
                batch = []
        if batch:
            await conn.execute(insert(complaints), batch)
    await engine.dispose()
    return overdue


async def measure(url: str, rounds: int, now: datetime) -> tuple[list[float], list[float], int, int]:
    """Time the query alone and query + rendering, `rounds` times each."""
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    the_desk = desk()
    query_times, total_times = [], []
    rows_seen = messages = 0
    for _ in range(rounds):
        async with sessions() as session:
            start = time.perf_counter()
            rows = await reports.overdue(session, now=now)
            queried = time.perf_counter()
            rendered = overdue_messages(the_desk, rows, now=now, scope=None)
            done = time.perf_counter()
        query_times.append(queried - start)
        total_times.append(done - start)
        rows_seen, messages = len(rows), len(rendered)
    await engine.dispose()
    return query_times, total_times, rows_seen, messages


async def main() -> None:
    """Fill a database and time /overdue on it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", help="database URL (default: SQLite in a temporary file)")
    parser.add_argument("--total", type=int, default=100_000)
    parser.add_argument(
        "--overdue-share", type=float, default=0.02, help="share of past-deadline complaints left unanswered"
    )
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        started = time.perf_counter()
        overdue = await fill(url, args.total, args.overdue_share, now)
        print(
            f"filled {args.total} complaints ({overdue} overdue) in {time.perf_counter() - started:.1f} s "
            f"on {url.split(':')[0]}"
        )
        query, total, rows, messages = await measure(url, args.rounds, now)
    print(
        f"/overdue query:            median {statistics.median(query) * 1000:7.1f} ms, "
        f"max {max(query) * 1000:7.1f} ms ({rows} rows)"
    )
    print(
        f"/overdue query + render:   median {statistics.median(total) * 1000:7.1f} ms, "
        f"max {max(total) * 1000:7.1f} ms ({messages} messages of <= 4096 characters)"
    )


if __name__ == "__main__":
    asyncio.run(main())

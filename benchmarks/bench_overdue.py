"""/overdue benchmark: the handler's work over 100,000 (or --total) complaints.

What /overdue does before anything is sent: the summary (counts per agency and each agency's ten
most overdue, aggregated in SQL) rendered into at most two messages. When those leave tickets out,
a CSV document with the full list follows; the outbox builds it when it sends it (a second query),
timed here on its own.

Run from the repository root:
    .venv/bin/python benchmarks/bench_overdue.py                       # SQLite in a temp file
    .venv/bin/python benchmarks/bench_overdue.py --total 1000000
    .venv/bin/python benchmarks/bench_overdue.py --url postgresql+asyncpg://postgres@127.0.0.1/bench
(the PostgreSQL database must exist and be empty; the schema is created by the migrations.)
--keep FILE keeps the SQLite database in FILE, and a later run with the same FILE measures it
again without filling it (likewise --url with --no-fill).
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

from sqlalchemy import func, insert, select  # noqa: E402

from handlers.desk import AgencyInfo, Desk  # noqa: E402
from handlers.events import ChannelName  # noqa: E402
from handlers.overdue import build_document  # noqa: E402
from handlers.reports import OVERDUE_PER_OWNER, overdue_left_out, overdue_messages  # noqa: E402
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


async def measure(url: str, rounds: int, now: datetime) -> dict[str, object]:
    """Time the command's work (summary query + render) and the CSV built at sending, `rounds` times."""
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    the_desk = desk()
    summary_times, csv_times = [], []
    figures: dict[str, object] = {}
    for _ in range(rounds):
        async with sessions() as session:
            start = time.perf_counter()
            summary = await reports.overdue_summary(session, now=now, per_owner=OVERDUE_PER_OWNER)
            rendered = overdue_messages(the_desk, summary, now=now, scope=None)
            summarised = time.perf_counter()
        content = b""
        if overdue_left_out(summary):
            async with sessions() as session:
                started = time.perf_counter()
                content = await build_document(session, the_desk, {"report": "overdue", "as_of": now.isoformat()})
                csv_times.append(time.perf_counter() - started)
        summary_times.append(summarised - start)
        figures = {
            "overdue": summary.total,
            "messages": len(rendered),
            "longest": max(len(m) for m in rendered),
            "csv_bytes": len(content),
        }
    await engine.dispose()
    figures.update(summary=summary_times, csv=csv_times or [0.0])
    return figures


def _line(name: str, times: object) -> str:
    assert isinstance(times, list)
    return f"{name:<34} median {statistics.median(times) * 1000:7.1f} ms, max {max(times) * 1000:7.1f} ms"


def arguments() -> argparse.Namespace:
    """The command line; --keep becomes an absolute path, and whether it exists yet."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", help="database URL (default: SQLite in a temporary file)")
    parser.add_argument("--keep", help="SQLite file to fill once and measure again on later runs")
    parser.add_argument("--no-fill", action="store_true", help="measure --url as it is")
    parser.add_argument("--total", type=int, default=100_000)
    parser.add_argument(
        "--overdue-share", type=float, default=0.02, help="share of past-deadline complaints left unanswered"
    )
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    args.kept = Path(args.keep).resolve() if args.keep else None
    args.kept_exists = bool(args.kept and args.kept.exists())
    return args


async def main(args: argparse.Namespace) -> None:
    """Fill a database and time /overdue on it."""
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        fill_it = not args.no_fill
        if args.kept:
            url = f"sqlite+aiosqlite:///{args.kept}"
            fill_it = not args.kept_exists
        else:
            url = args.url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        if fill_it:
            started = time.perf_counter()
            overdue = await fill(url, args.total, args.overdue_share, now)
            print(
                f"filled {args.total} complaints ({overdue} overdue) in {time.perf_counter() - started:.1f} s "
                f"on {url.split(':')[0]}"
            )
        else:
            # A database filled earlier: measure it at the moment it was filled for.
            engine = create_engine(url)
            async with engine.connect() as conn:
                latest = (await conn.execute(select(func.max(Complaint.__table__.c.created_at)))).scalar_one()  # type: ignore[attr-defined]
            await engine.dispose()
            now = latest if latest.tzinfo else latest.replace(tzinfo=UTC)
            print(f"measuring the database as filled, at {now:%Y-%m-%d %H:%M} UTC")
        figures = await measure(url, args.rounds, now)
    print(_line("/overdue command (query + render):", figures["summary"]))
    print(_line("CSV document, built when sent:", figures["csv"]))
    print(
        f"{figures['overdue']} overdue -> {figures['messages']} message(s) (longest {figures['longest']} characters)"
        f" + CSV of {figures['csv_bytes']:,} bytes"
    )


if __name__ == "__main__":
    asyncio.run(main(arguments()))

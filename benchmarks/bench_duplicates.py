"""'Already reported?' benchmark: the candidate lookup on a desk with 100,000 (or --total) open complaints.

All complaints are open and were received within the offer window (the worst case: nothing is
left out by status or age), spread over three agencies; 70% carry a map point scattered over a
15 x 15 km city. Each round looks up the candidates for a new report: with a point (the bounding
box on ix_complaint_point, then haversine; plus the text comparison over the agency's newest
complaints without a point), and without one (the text comparison alone).

Run from the repository root:
    .venv/bin/python benchmarks/bench_duplicates.py                     # SQLite in a temp file
    .venv/bin/python benchmarks/bench_duplicates.py --url postgresql+asyncpg://postgres@127.0.0.1/bench
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
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

from routing.similar import SAME_PROBLEM, Comparer  # noqa: E402
from routing.tables import lexicon_from_tables  # noqa: E402
from storage import duplicates  # noqa: E402
from storage.engine import create_engine, create_session_factory  # noqa: E402
from storage.migrate import upgrade_async  # noqa: E402
from storage.models import Agency, Citizen, Complaint, table_of  # noqa: E402

CODES = ["DLHK", "PUPR", "DISDUKCAPIL"]
# Kendari's centre; the city box is about 15 km on a side.
LAT0, LON0, SPAN = -3.99, 122.52, 0.135
PLACES = [
    "pasar Mandonga",
    "lorong Kambu",
    "TPS Saranani",
    "SD 5 Poasia",
    "jalan MT Haryono",
    "BTN Kendari Permai",
    "jembatan Lepo-Lepo",
    "jalan Chairil Anwar",
    "simpang Wua-Wua",
    "pasar Anduonohu",
    "jalan Pattimura",
    "kelurahan Baruga",
]
PROBLEMS = [
    "sampah menumpuk belum diangkut",
    "jalan berlubang besar bahaya",
    "drainase tersumbat air meluap",
    "lampu jalan mati semua",
    "banjir setinggi lutut",
]


async def fill(url: str, total: int, now: datetime) -> None:
    """Insert `total` open complaints received over the last 14 days."""
    await upgrade_async(url)
    engine = create_engine(url)
    rng = random.Random(17)
    async with engine.begin() as conn:
        await conn.execute(
            insert(table_of(Agency)),
            [{"code": c, "name": c, "telegram_chat_id": -10 - i, "active": True} for i, c in enumerate(CODES)],
        )
        await conn.execute(
            insert(table_of(Citizen)),
            [
                {"channel": "telegram", "address": str(n), "display_name": "", "created_at": now, "reachable": True}
                for n in range(1, 5001)
            ],
        )
        batch = []
        for _ in range(total):
            created = now - timedelta(seconds=rng.uniform(0, 14 * 86400))
            point = rng.random() < 0.7
            batch.append(
                {
                    "citizen_id": rng.randint(1, 5000),
                    "opd_code": rng.choice(CODES),
                    "category": "umum",
                    "confidence": 0.9,
                    "description": f"{rng.choice(PROBLEMS)} di {rng.choice(PLACES)} nomor {rng.randint(1, 300)}",
                    "location_lat": LAT0 + rng.uniform(-SPAN / 2, SPAN / 2) if point else None,
                    "location_lon": LON0 + rng.uniform(-SPAN / 2, SPAN / 2) if point else None,
                    "media": [],
                    "status": "open" if rng.random() < 0.7 else "answered",
                    "created_at": created,
                    "due_at": created + timedelta(hours=24),
                    "reroute_count": 0,
                    "reopen_count": 0,
                }
            )
            if len(batch) == 10_000:
                await conn.execute(insert(table_of(Complaint)), batch)
                batch = []
        if batch:
            await conn.execute(insert(table_of(Complaint)), batch)
    if url.startswith("postgresql"):
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE complaint"))
    else:
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
    await engine.dispose()


async def measure(url: str, rounds: int, now: datetime) -> dict[str, list[float]]:
    """Time `rounds` lookups with a point and `rounds` without, after a few warm-ups."""
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    rng = random.Random(3)
    # The desk's comparison, as handlers.duplicates makes it: one per lexicon, keeping what it has read.
    compare = Comparer(lexicon_from_tables(tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))))
    times: dict[str, list[float]] = {"with a point": [], "text only": []}
    found: dict[str, list[int]] = {"with a point": [], "text only": []}
    for n in range(rounds + 5):
        for kind in times:
            lat = LAT0 + rng.uniform(-SPAN / 2, SPAN / 2) if kind == "with a point" else None
            lon = LON0 + rng.uniform(-SPAN / 2, SPAN / 2) if kind == "with a point" else None
            description = f"{rng.choice(PROBLEMS)} di {rng.choice(PLACES)} nomor {rng.randint(1, 300)}"
            async with sessions() as session:
                start = time.perf_counter()
                result = await duplicates.candidates(
                    session,
                    opd_code=rng.choice(CODES),
                    since=now - timedelta(days=14),
                    description=description,
                    lat=lat,
                    lon=lon,
                    radius_m=250.0,
                    score=compare.score,
                    threshold=SAME_PROBLEM,
                )
                elapsed = (time.perf_counter() - start) * 1000
            if n >= 5:
                times[kind].append(elapsed)
                found[kind].append(len(result))
    await engine.dispose()
    for kind in times:
        print(f"  {kind}: candidates found per lookup (mean) {statistics.mean(found[kind]):.2f}")
    return times


def main() -> None:
    """Fill (unless told not to) and measure."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--total", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--url", default="")
    parser.add_argument("--no-fill", action="store_true")
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        if not args.no_fill:
            started = time.perf_counter()
            asyncio.run(fill(url, args.total, now))
            print(f"filled {args.total:,} open complaints in {time.perf_counter() - started:.1f} s")
        times = asyncio.run(measure(url, args.rounds, now))
    for kind, values in times.items():
        values.sort()
        p95 = values[int(len(values) * 0.95) - 1]
        print(
            f"{kind}: median {statistics.median(values):.2f} ms, p95 {p95:.2f} ms, max {values[-1]:.2f} ms "
            f"({len(values)} lookups)"
        )


if __name__ == "__main__":
    main()

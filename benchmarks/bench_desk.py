"""Web desk benchmark: the dashboard and the first page of the complaint list over 100,000 complaints.

The real app (routes, session check, queries, templates) answers in-process through httpx's ASGI
transport, so the times are the server's own: no socket, no browser. A humas admin's session is
made straight in the database (the login itself is not what is measured).

Run from the repository root:
    .venv/bin/python benchmarks/bench_desk.py                       # SQLite in a temp file
    .venv/bin/python benchmarks/bench_desk.py --url postgresql+asyncpg://postgres@127.0.0.1/bench
(the PostgreSQL database must exist and be empty; the schema is created by the migrations.)
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import random
import secrets
import statistics
import sys
import tempfile
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from bot.app import create_app  # noqa: E402
from bot.config import Settings, parse_settings  # noqa: E402
from bot.standins.telegram_api import TelegramStandIn  # noqa: E402
from bot.web.auth import COOKIE, DeskAuth  # noqa: E402
from storage import desk_auth  # noqa: E402
from storage.desk_auth import Grant  # noqa: E402
from storage.engine import create_engine  # noqa: E402
from storage.migrate import upgrade_async  # noqa: E402
from storage.models import Agency, Assignment, Citizen, Complaint, table_of  # noqa: E402

CODES = ["DLHK", "PUPR", "DISDUKCAPIL"]
CATEGORIES: dict[str | None, list[str | None]] = {
    "DLHK": ["Pengangkutan sampah", "TPS dan TPA", "Pembuangan sampah liar", "Kebersihan lingkungan"],
    "PUPR": ["Jalan rusak", "Jembatan", "Drainase dan banjir", "Trotoar"],
    "DISDUKCAPIL": ["KTP elektronik", "Kartu keluarga", "Akta"],
    None: [None],
}
WORDS = "sampah menumpuk jalan berlubang got mampet jembatan rusak ktp belum jadi pasar Mandonga Baruga Kambu".split()
ADMIN_ID = 100000001


def settings(url: str, telegram: TelegramStandIn) -> Settings:
    """The example configuration on this database, the desk on."""
    data: dict[str, Any] = copy.deepcopy(tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8")))
    data["database"]["url"] = url
    data["telegram"].update(token=telegram.token, webhook_secret="bench", api_base_url=telegram.base_url)
    data["server"].update(public_url="https://ehumas.bench", access_log=False)
    data["web"].update(enabled=True, secret=secrets.token_hex(32))
    data["humas"]["admin_user_ids"] = [ADMIN_ID]
    return parse_settings(data, "bench")


async def fill(url: str, total: int, now: datetime) -> dict[str, int]:
    """`total` complaints over the past year with their handovers (3% rerouted once); what was made."""
    await upgrade_async(url)
    engine = create_engine(url)
    rng = random.Random(42)
    made = {"complaints": 0, "handovers": 0, "overdue": 0, "last_30_days": 0}
    async with engine.begin() as conn:
        await conn.execute(
            insert(table_of(Agency)),
            [{"code": c, "name": c, "telegram_chat_id": -10 - i, "active": True} for i, c in enumerate(CODES)],
        )
        await conn.execute(
            insert(table_of(Citizen)),
            [
                {"channel": "telegram", "address": str(n), "display_name": f"W{n}", "reachable": True}
                | {"created_at": now}
                for n in range(1, 5001)
            ],
        )
        complaints: list[dict[str, Any]] = []
        handovers: list[dict[str, Any]] = []
        for number in range(1, total + 1):
            created = now - timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
            owner = rng.choice([*CODES, *CODES, *CODES, None])
            rerouted = rng.random() < 0.03
            started = created + timedelta(hours=rng.uniform(1, 40)) if rerouted else created
            due = started + timedelta(hours=24)
            roll = rng.random()
            if due > now or roll < 0.02:
                status, answered = "open", None
            else:
                answered = started + timedelta(hours=rng.expovariate(1 / 10))
                status = "closed" if roll < 0.8 else "answered"
            made["overdue"] += status == "open" and due <= now
            made["last_30_days"] += created >= now - timedelta(days=30)
            complaints.append(
                {
                    "id": number,
                    "citizen_id": rng.randrange(1, 5001),
                    "opd_code": owner,
                    "category": rng.choice(CATEGORIES[owner]),
                    "confidence": 0.9,
                    "description": " ".join(rng.choices(WORDS, k=12)),
                    "location_lat": -3.97 + rng.uniform(-0.05, 0.05) if rng.random() < 0.6 else None,
                    "location_lon": 122.51 + rng.uniform(-0.05, 0.05),
                    "media": [],
                    "status": status,
                    "created_at": created,
                    "due_at": due,
                    "answered_at": answered,
                    "closed_at": answered if status == "closed" else None,
                    "rating": rng.randint(1, 5) if status == "closed" and rng.random() < 0.4 else None,
                    "reroute_count": int(rerouted),
                    # The deadline sweep has done its part already (else the app's first sweep would
                    # be sending thousands of tegurans while it is measured).
                    "reminded_at": due - timedelta(hours=3) if due - timedelta(hours=3) <= now else None,
                    "reprimanded_at": due if due <= now else None,
                }
            )
            if rerouted:
                first_due = created + timedelta(hours=24)
                handovers.append(
                    {
                        "complaint_id": number,
                        "owner": rng.choice([c for c in CODES if c != owner] or CODES),
                        "complaint_created_at": created,
                        "started_at": created,
                        "due_at": first_due,
                        "ended_at": started,
                        "end_reason": "rerouted",
                        "verdict": "missed" if started > first_due else "moved",
                    }
                )
            verdict = None if answered is None else ("on_time" if answered <= due else "late")
            handovers.append(
                {
                    "complaint_id": number,
                    "owner": owner or "HUMAS",
                    "complaint_created_at": created,
                    "started_at": started,
                    "due_at": due,
                    "answered_at": answered,
                    "answer_seconds": None if answered is None else (answered - started).total_seconds(),
                    "verdict": verdict,
                }
            )
            if len(complaints) == 10_000:
                await conn.execute(insert(table_of(Complaint)), complaints)
                made["complaints"] += len(complaints)
                complaints = []
        if complaints:
            await conn.execute(insert(table_of(Complaint)), complaints)
            made["complaints"] += len(complaints)
        for start in range(0, len(handovers), 10_000):
            chunk = [
                {"answered_at": None, "answer_seconds": None, "ended_at": None, "end_reason": None, **row}
                for row in handovers[start : start + 10_000]
            ]
            await conn.execute(insert(table_of(Assignment)), chunk)
        made["handovers"] = len(handovers)
        if url.startswith("postgresql"):
            await conn.exec_driver_sql("SELECT setval('complaint_id_seq', (SELECT MAX(id) FROM complaint))")
        else:
            await conn.exec_driver_sql("ANALYZE")
    if url.startswith("postgresql"):
        # What autovacuum does soon after a bulk load: statistics, and the visibility map that lets
        # the figures' queries read their indexes alone.
        async with engine.connect() as conn:
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).exec_driver_sql("VACUUM ANALYZE")
    await engine.dispose()
    return made


async def measure(url: str, rounds: int) -> dict[str, list[float]]:
    """Time the desk's pages through the real app, `rounds` times each, after one warm-up."""
    async with TelegramStandIn() as telegram:
        config = settings(url, telegram)
        app = create_app(config)
        async with app.router.lifespan_context(app):
            runtime = app.state.runtime
            token = secrets.token_urlsafe(32)
            async with runtime.sessions() as session, session.begin():
                await desk_auth.create_session(
                    session,
                    token=token,
                    grant=Grant(str(ADMIN_ID), "Bench", "humas", None),
                    now=runtime.desk.now(),
                    lifetime=timedelta(hours=1),
                )
            cookie = {COOKIE: DeskAuth(config).cookie(token)}
            pages = {
                "dashboard, 30 days (default)": "/desk/",
                "dashboard, 7 days": "/desk/?periode=7d",
                "dashboard, all (100,000)": "/desk/?periode=all",
                "list, first page": "/desk/aduan",
                "list, first page, text search": "/desk/aduan?q=mandonga",
            }
            times: dict[str, list[float]] = {name: [] for name in pages}
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://desk", cookies=cookie) as client:
                for name, path in pages.items():
                    for round_ in range(rounds + 1):
                        start = time.perf_counter()
                        response = await client.get(path)
                        elapsed = time.perf_counter() - start
                        assert response.status_code == 200, (path, response.status_code, response.text[:300])
                        if round_:
                            times[name].append(elapsed)
    return times


async def main() -> None:
    """Fill a database and time the desk on it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", help="database URL (default: SQLite in a temporary file)")
    parser.add_argument("--total", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        started = time.perf_counter()
        made = await fill(url, args.total, now)
        print(
            f"filled {made['complaints']} complaints, {made['handovers']} handovers "
            f"({made['last_30_days']} in the last 30 days, {made['overdue']} overdue) "
            f"in {time.perf_counter() - started:.1f} s on {url.split(':')[0]}"
        )
        times = await measure(url, args.rounds)
    for name, samples in times.items():
        print(f"{name:32s} median {statistics.median(samples) * 1000:7.1f} ms, max {max(samples) * 1000:7.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())

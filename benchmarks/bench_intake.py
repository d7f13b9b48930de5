"""Intake benchmark: signed webhook posts (Telegram and WhatsApp, whole conversations) against real
`ehumas run` processes; messages/s, the webhook's p50/p99 latency, nothing lost, memory.

Run from the repository root:
    .venv/bin/python benchmarks/bench_intake.py                                   # 1 process, SQLite
    .venv/bin/python benchmarks/bench_intake.py --rate 1000                       # latency at 1,000 msg/s
    .venv/bin/python benchmarks/bench_intake.py --backend postgresql --processes 2
The bot processes get the Bot API and Twilio stand-ins of this process; the load generator
(benchmarks/loadgen.py) runs as a separate process. Everything stays on 127.0.0.1. Afterwards the
inbox table is counted (every 200 must be a stored row), and the same rows are inserted straight
into SQLite (insert + commit each, as the webhook does) to show the storage limit the bot is under.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from benchmarks import loadgen  # noqa: E402
from bot.standins.telegram_api import TelegramStandIn  # noqa: E402
from bot.standins.twilio_api import TwilioStandIn  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.harness import SECRET  # noqa: E402
from tests.procs import PUBLIC_URL, Fleet  # noqa: E402

# The production defaults, not the tests' fast timings.
PRODUCTION: dict[str, dict[str, Any]] = {
    "outbox": {
        "lease_seconds": 60.0,
        "poll_seconds": 1.0,
        "max_attempts": 8,
        "retry_first_seconds": 2.0,
        "retry_max_seconds": 300.0,
    },
    "sla": {"sweep_seconds": 60.0},
    # As behind the recommended reverse proxy (README, "Several workers"): it logs the requests.
    "server": {"access_log": False},
}


def rss_kib(pid: int) -> int:
    """Resident set size of a process (VmRSS), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def count_inbox(url: str) -> tuple[int, int, int]:
    """(stored events, distinct external ids, still unprocessed) in the inbox table."""
    query = (
        "SELECT count(*), count(DISTINCT channel || ':' || external_id), "
        "count(*) FILTER (WHERE processed_at IS NULL) FROM inbox_event"
    )
    if url.startswith("sqlite"):
        path = make_url(url).database
        with sqlite3.connect(str(path)) as conn:
            row = conn.execute(query).fetchone()
        return int(row[0]), int(row[1]), int(row[2])
    conn = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        row = await conn.fetchrow(query)
    finally:
        await conn.close()
    return int(row[0]), int(row[1]), int(row[2])


def raw_sqlite_rate(bodies: list[tuple[str, bytes]], directory: Path) -> float:
    """Rows per second inserting the same inbox rows straight into a migrated SQLite file."""
    path = directory / "raw.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    rows = []
    for path_, body in bodies:
        if path_ == loadgen.TELEGRAM_PATH:
            payload = json.loads(body)
            channel, external, chat = (
                "telegram",
                str(payload["update_id"]),
                f"telegram:{payload['message']['chat']['id']}",
            )
        else:
            payload = dict(parse_qsl(body.decode()))
            channel, external, chat = "whatsapp", payload["MessageSid"], f"whatsapp:{payload['From']}"
        rows.append((channel, external, chat, json.dumps(payload)))
    statement = (
        "INSERT INTO inbox_event (channel, external_id, chat_key, payload, received_at, attempts) "
        "VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT (channel, external_id) DO NOTHING"
    )
    started = time.perf_counter()
    for row in rows:
        conn.execute("BEGIN")
        conn.execute(statement, (*row, datetime.now(UTC).isoformat()))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return len(rows) / elapsed


@asynccontextmanager
async def bench_database(backend: str, workdir: Path, pg_url: str) -> AsyncIterator[str]:
    """A fresh, migrated database for one run (SQLite in workdir, or a new PostgreSQL database, dropped after)."""
    if backend == "sqlite":
        url, name = f"sqlite+aiosqlite:///{workdir / 'bench.db'}", None
    else:
        name = f"ehumas_bench_{uuid.uuid4().hex[:10]}"
        url = make_url(pg_url).set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
        await _admin(pg_url, f'CREATE DATABASE "{name}"')
    try:
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        if name:
            await _admin(pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin(base: str, statement: str) -> None:
    """Run one statement on the PostgreSQL server of `base`."""
    conn = await asyncpg.connect(make_url(base).set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def bench(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """One run; the figures as a dict."""
    async with bench_database(args.backend, workdir, args.pg_url) as url:
        async with TelegramStandIn() as telegram, TwilioStandIn() as twilio:
            fleet = Fleet(workdir, url, telegram, twilio)
            try:
                processes = await fleet.start(args.processes, PRODUCTION)
                await asyncio.sleep(2.0)  # let start-up garbage settle before the idle figure
                idle = [rss_kib(p.proc.pid) for p in processes if p.proc]
                targets = ",".join(f"127.0.0.1:{p.port}" for p in processes)
                out = workdir / "loadgen.json"
                command = [
                    sys.executable,
                    str(ROOT / "benchmarks" / "loadgen.py"),
                    "--targets",
                    targets,
                    "--conversations",
                    str(args.conversations),
                    "--whatsapp-share",
                    str(args.whatsapp_share),
                    "--connections",
                    str(args.connections),
                    "--secret",
                    SECRET,
                    "--auth-token",
                    twilio.auth_token,
                    "--public-url",
                    PUBLIC_URL,
                    "--out",
                    str(out),
                    "--limit-seconds",
                    str(args.limit_seconds),
                ]
                if args.rate:
                    command += ["--rate", str(args.rate)]
                generator = await asyncio.create_subprocess_exec(*command)
                peak = list(idle)
                while generator.returncode is None:
                    try:
                        await asyncio.wait_for(generator.wait(), timeout=0.5)
                    except TimeoutError:
                        pass
                    peak = [max(a, rss_kib(p.proc.pid)) for a, p in zip(peak, processes, strict=False) if p.proc]
                if generator.returncode != 0:
                    raise SystemExit(f"load generator failed ({generator.returncode})")
                load = json.loads(out.read_text())
                stored, distinct, backlog = await count_inbox(url)
                # How fast the backlog drains (the inbox worker's processing rate), for a bounded time.
                drain_started, drain_backlog = time.perf_counter(), backlog
                while backlog and time.perf_counter() - drain_started < args.drain_seconds:
                    await asyncio.sleep(1.0)
                    _, _, backlog = await count_inbox(url)
                    peak = [max(a, rss_kib(p.proc.pid)) for a, p in zip(peak, processes, strict=False) if p.proc]
                drained = drain_backlog - backlog
                drain_rate = drained / max(1e-9, time.perf_counter() - drain_started) if drain_backlog else float("nan")
                after = [rss_kib(p.proc.pid) for p in processes if p.proc]
            finally:
                await fleet.close()
    figures: dict[str, Any] = {
        "backend": args.backend,
        "processes": args.processes,
        "connections": args.connections,
        "offered_rate": args.rate,
        **load,
        "stored": stored,
        "distinct_stored": distinct,
        "lost": load["accepted"] - distinct,
        "backlog_after_load": drain_backlog,
        "processed_per_second_after_load": drain_rate,
        "backlog_left": backlog,
        "rss_idle_kib": idle,
        "rss_peak_kib": peak,
        "rss_after_kib": after,
    }
    if args.backend == "sqlite" and not args.skip_raw:
        convs = loadgen.conversations(
            args.conversations, args.whatsapp_share, secret=SECRET, public_url=PUBLIC_URL, auth_token="x", seed=8
        )
        bodies = [(path, body) for conv in convs for path, body, _, _ in conv.bodies][: load["accepted"]]
        figures["raw_sqlite_rows_per_second"] = await asyncio.to_thread(raw_sqlite_rate, bodies, workdir)
        figures["overhead_ratio"] = figures["raw_sqlite_rows_per_second"] / load["per_second"]
    return figures


def report(f: dict[str, Any]) -> str:
    """The figures as a few readable lines."""
    lines = [
        f"backend {f['backend']}, {f['processes']} process(es), {f['connections']} connections"
        + (f", open loop at {f['offered_rate']:g} msg/s" if f["offered_rate"] else ", closed loop"),
        f"conversations: {f['telegram_conversations']} Telegram + {f['whatsapp_conversations']} WhatsApp",
        f"answered {f['messages']} in {f['seconds']:.2f} s = {f['per_second']:.0f} msg/s; statuses {f['statuses']}, "
        f"connection errors {f['errors']}",
        f"webhook latency p50 {f['p50_ms']:.1f} ms, p90 {f['p90_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms, "
        f"max {f['max_ms']:.1f} ms",
        f"stored {f['stored']} rows ({f['distinct_stored']} distinct) for {f['accepted']} answered 200: "
        f"lost {f['lost']}",
        f"inbox backlog when the load stopped: {f['backlog_after_load']}; processed afterwards at "
        f"{f['processed_per_second_after_load']:.0f} events/s; left {f['backlog_left']}",
        f"RSS per process: idle {[round(k / 1024, 1) for k in f['rss_idle_kib']]} MiB, peak "
        f"{[round(k / 1024, 1) for k in f['rss_peak_kib']]} MiB",
    ]
    if "raw_sqlite_rows_per_second" in f:
        lines.append(
            f"raw SQLite insert+commit of the same rows: {f['raw_sqlite_rows_per_second']:.0f} rows/s; "
            f"the bot's intake is {f['overhead_ratio']:.1f}x slower"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--processes", type=int, default=None, help="bot processes (default 1 SQLite, 2 PostgreSQL)")
    parser.add_argument("--conversations", type=int, default=5000, help="4 messages each (default 5000)")
    parser.add_argument("--whatsapp-share", type=float, default=0.25)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rate", type=float, default=None, help="open loop at this many messages per second")
    parser.add_argument("--limit-seconds", type=float, default=120.0)
    parser.add_argument("--drain-seconds", type=float, default=20.0, help="how long to watch the backlog drain")
    parser.add_argument("--pg-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--skip-raw", action="store_true", help="skip the raw SQLite comparison")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()
    if args.processes is None:
        args.processes = 1 if args.backend == "sqlite" else 2
    if args.backend == "sqlite" and args.processes != 1:
        parser.error("SQLite serves one bot process; use --backend postgresql for several")
    print(f"python {sys.version.split()[0]} on {os.uname().machine}, {os.cpu_count()} cpus", flush=True)
    with tempfile.TemporaryDirectory(prefix="ehumas-bench-") as directory:
        figures = asyncio.run(bench(args, Path(directory)))
    print(report(figures))
    if args.json:
        print(json.dumps(figures, indent=2))
    return 0 if figures["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

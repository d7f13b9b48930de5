"""Outbox benchmark: how fast queued messages reach the Bot API stand-in with the rate limiter on,
and whether Telegram's flood limits hold (no 429 at all).

Run from the repository root:
    .venv/bin/python benchmarks/bench_outbox.py                       # 600 private + 50 group messages
    .venv/bin/python benchmarks/bench_outbox.py --processes 2 --backend postgresql --per-process-share
The messages are queued in the database first; then `ehumas run` process(es) start and send them to
the Bot API stand-in of this process, which enforces Telegram's limits like Telegram (30 messages a
second overall, 20 a minute per group; a 429 with retry_after when exceeded). Reported: delivery
rate, the busiest second and the busiest minute per group as the stand-in saw them, and the 429s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_intake import bench_database, rss_kib  # noqa: E402
from bot.standins.server import busiest  # noqa: E402
from bot.standins.telegram_api import SEND_METHODS, RateLimits, TelegramStandIn  # noqa: E402
from storage import outbox  # noqa: E402
from storage.engine import create_engine, create_session_factory  # noqa: E402
from storage.types import utcnow  # noqa: E402
from tests.procs import Fleet  # noqa: E402

GROUPS = [-1001000000001, -1001000000002, -1001000000003]


async def enqueue(url: str, private: int, chats: int, group_counts: list[int], seed: int) -> int:
    """Queue the messages in random order; return how many."""
    rng = random.Random(seed)
    items: list[tuple[int, str]] = [(100_000 + i % chats, f"pesan {i} untuk warga") for i in range(private)]
    for group, n in zip(GROUPS, group_counts, strict=False):
        items += [(group, f"kartu aduan {j} untuk grup {group}") for j in range(n)]
    rng.shuffle(items)
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    async with sessions() as session, session.begin():
        now = utcnow()
        for chat, text in items:
            await outbox.enqueue(session, channel="telegram", chat_id=chat, payload={"text": text}, now=now)
    await engine.dispose()
    return len(items)


async def bench(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """One run; the figures as a dict."""
    async with bench_database(args.backend, workdir, args.pg_url) as url:
        total = await enqueue(url, args.private, args.chats, args.group_messages, args.seed)
        share = args.processes if args.per_process_share else 1
        sections: dict[str, dict[str, Any]] = {
            "outbox": {
                "lease_seconds": 60.0,
                "poll_seconds": 1.0,
                "max_attempts": 8,
                "retry_first_seconds": 2.0,
                "retry_max_seconds": 300.0,
            },
            # The per-second limit is kept by each process; the per-group one in the shared database.
            "telegram": {"max_messages_per_second": 30.0 / share, "max_group_messages_per_minute": 20.0},
            "sla": {"sweep_seconds": 60.0},
            "server": {"access_log": False},
        }
        async with TelegramStandIn(rate_limits=RateLimits()) as telegram:
            fleet = Fleet(workdir, url, telegram)
            try:
                started = time.perf_counter()
                processes = await fleet.start(args.processes, sections)
                health = await fleet.settled(timeout=args.limit_seconds)
                elapsed = time.perf_counter() - started
                rss = [rss_kib(p.proc.pid) for p in processes if p.proc]
            finally:
                await fleet.close()
        sends = [c for c in telegram.calls if c.method in SEND_METHODS]
    ok = [c for c in sends if c.ok]
    limited = [c for c in sends if c.status == 429]
    times = [c.at.timestamp() for c in ok]
    span = max(times) - min(times) if times else float("nan")
    per_group = {g: [c.at.timestamp() for c in ok if c.chat_id == g] for g in GROUPS}
    private = sorted(c.at.timestamp() for c in ok if isinstance(c.chat_id, int) and c.chat_id > 0)
    private_span = private[-1] - private[0] if len(private) > 1 else float("nan")
    return {
        "backend": args.backend,
        "processes": args.processes,
        "queued": total,
        "delivered": len(ok),
        "distinct_texts": len({(c.chat_id, c.text) for c in ok}),
        "http_429": len(limited),
        "other_failures": len(sends) - len(ok) - len(limited),
        "seconds_first_to_last": span,
        "per_second": len(ok) / span if span else float("nan"),
        "busiest_second": busiest(times, 1.0),
        "private_per_second": len(private) / private_span if private_span else float("nan"),
        "limited_calls": [f"{c.at:%H:%M:%S.%f} chat {c.chat_id}" for c in limited],
        "busiest_minute_per_group": {g: busiest(t, 60.0) for g, t in per_group.items()},
        "group_messages": {g: len(t) for g, t in per_group.items()},
        "seconds_including_start": elapsed,
        "outbox_pending_after": health["outbox_pending"],
        "rss_after_kib": rss,
        "limits_per_process": sections["telegram"],
    }


def report(f: dict[str, Any]) -> str:
    """The figures as readable lines."""
    return "\n".join(
        [
            f"backend {f['backend']}, {f['processes']} process(es), limits per process {f['limits_per_process']}",
            f"queued {f['queued']}, delivered {f['delivered']} ({f['distinct_texts']} distinct), "
            f"429 answers {f['http_429']} {f['limited_calls'][:3]}, other failures {f['other_failures']}, "
            f"left pending {f['outbox_pending_after']}",
            f"first to last delivery {f['seconds_first_to_last']:.1f} s = {f['per_second']:.1f} msg/s; "
            f"busiest second {f['busiest_second']} messages; private chats alone {f['private_per_second']:.1f} msg/s",
            f"group messages {list(f['group_messages'].values())}, busiest minute per group "
            f"{list(f['busiest_minute_per_group'].values())}",
            f"RSS after the run: {[round(k / 1024, 1) for k in f['rss_after_kib']]} MiB",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument(
        "--per-process-share",
        action="store_true",
        help="give each process 1/N of Telegram's per-second limit (the README's advice)",
    )
    parser.add_argument("--private", type=int, default=600, help="messages to citizens' private chats")
    parser.add_argument("--chats", type=int, default=300, help="how many private chats")
    parser.add_argument("--group-messages", default="30,10,10", help="messages to each of the 3 agency groups")
    parser.add_argument("--limit-seconds", type=float, default=180.0)
    parser.add_argument("--pg-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    args.group_messages = [int(n) for n in args.group_messages.split(",")]
    if args.backend == "sqlite" and args.processes != 1:
        parser.error("SQLite serves one bot process; use --backend postgresql for several")
    print(f"python {sys.version.split()[0]} on {os.uname().machine}, {os.cpu_count()} cpus", flush=True)
    with tempfile.TemporaryDirectory(prefix="ehumas-bench-") as directory:
        figures = asyncio.run(bench(args, Path(directory)))
    print(report(figures))
    return 0 if figures["http_429"] == 0 and figures["delivered"] == figures["queued"] else 1


if __name__ == "__main__":
    sys.exit(main())

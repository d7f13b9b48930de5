"""Replies at Telegram's limit: a burst of citizens answered at the allowed rate, and a lone reply's latency.

Run from the repository root:
    .venv/bin/python benchmarks/bench_replies.py                       # both parts, SQLite
    .venv/bin/python benchmarks/bench_replies.py --part burst --backend postgresql

One `ehumas run` process (a real subprocess) talks to the Bot API stand-in of this process, which
enforces Telegram's limits literally (at most 30 sends in any one-second window, 20 per group in
any sixty-second window; 429 with retry_after past them).

burst: 600 citizens write at once (each a first complaint message, which gets one reply), while
50 ticket cards for three agency groups (30, 10, 10) are queued in the same moment. Reported from
the stand-in's log: the send rate while the replies drain (all sends between the first and the
last reply, over that span, as a share of 30/s), the busiest second, each citizen answered
once, the busiest minute per group, and the 429s.

latency: citizens write at 10 messages a second (each a different citizen), open loop; the time
from posting the webhook to the stand-in receiving the reply (it leaves the bot's process then,
give or take the loopback): p50, p95, p99, max.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_intake import bench_database  # noqa: E402
from benchmarks.bench_outbox import GROUPS  # noqa: E402
from bot.standins.server import busiest  # noqa: E402
from bot.standins.telegram_api import SEND_METHODS, RateLimits, TelegramStandIn  # noqa: E402
from storage import outbox  # noqa: E402
from storage.engine import create_engine, create_session_factory  # noqa: E402
from storage.types import utcnow  # noqa: E402
from tests.harness import User  # noqa: E402
from tests.procs import BotProcess, Fleet, Updates  # noqa: E402

DESCRIPTIONS = (
    "Sampah menumpuk di depan rumah warga nomor {n} sudah tiga hari belum diangkut",
    "Jalan berlubang besar di lorong {n} dekat masjid, bahaya untuk pengendara motor",
    "Got mampet di jalan nomor {n}, setiap hujan air meluap ke rumah warga",
)
SECTIONS: dict[str, dict[str, Any]] = {
    "sla": {"sweep_seconds": 60.0},
    "server": {"access_log": False},
}


def cpu_seconds(bot: BotProcess) -> float:
    """CPU time (user + system) the bot process has used so far, from /proc (Linux)."""
    assert bot.proc is not None
    fields = Path(f"/proc/{bot.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def queue_cards(url: str, counts: list[int]) -> int:
    """Queue ticket-card-like messages for the agency groups, now; return how many."""
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            now = utcnow()
            for group, n in zip(GROUPS, counts, strict=False):
                for j in range(n):
                    await outbox.enqueue(
                        session, channel="telegram", chat_id=group, payload={"text": f"kartu {j}"}, now=now
                    )
    finally:
        await engine.dispose()
    return sum(counts)


async def reply_times(url: str) -> list[float]:
    """When each reply to a citizen was queued (the outbox row's creation)."""
    from sqlmodel import select

    from storage.models import OutboxMessage

    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            rows = (await session.exec(select(OutboxMessage.created_at, OutboxMessage.chat_id))).all()
    finally:
        await engine.dispose()
    return [at.timestamp() for at, chat in rows if not chat.startswith("-")]


async def post_all(bot: BotProcess, updates: list[dict[str, Any]], connections: int) -> list[float]:
    """Post the updates concurrently; the wall time each post started."""
    started: list[float] = [0.0] * len(updates)
    # At most `connections` posts under way at once (the bot process's client keeps them alive).
    gate = asyncio.Semaphore(connections)

    async def one(i: int, update: dict[str, Any]) -> None:
        async with gate:
            started[i] = time.time()
            response = await bot.post_telegram(update)
            assert response.status_code == 200, response.text

    await asyncio.gather(*(one(i, u) for i, u in enumerate(updates)))
    return started


async def burst(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Part one: 600 citizens at once, with 50 group cards."""
    async with bench_database(args.backend, workdir, args.pg_url) as url:
        async with TelegramStandIn(rate_limits=RateLimits()) as telegram:
            fleet = Fleet(workdir, url, telegram)
            try:
                [bot] = await fleet.start(1, SECTIONS)
                maker = Updates(telegram)
                users = [User(300_000 + i, f"Warga{i}") for i in range(args.citizens)]
                updates = [maker.message(u, DESCRIPTIONS[i % 3].format(n=i)) for i, u in enumerate(users)]
                cards = await queue_cards(url, args.group_messages)
                cpu = cpu_seconds(bot)
                posting = time.perf_counter()
                await post_all(bot, updates, args.connections)
                posting = time.perf_counter() - posting
                await fleet.settled(timeout=args.limit_seconds)
                cpu = cpu_seconds(bot) - cpu
            finally:
                await fleet.close()
            queued_at = await reply_times(url)
    sends = [c for c in telegram.calls if c.method in SEND_METHODS]
    ok = [c for c in sends if c.ok]
    private = sorted(c.at.timestamp() for c in ok if isinstance(c.chat_id, int) and c.chat_id > 0)
    first, last = private[0], private[-1]
    during = [c for c in ok if first <= c.at.timestamp() <= last]
    rate = (len(during) - 1) / (last - first) if last > first else float("nan")
    # Once every reply is queued, sending alone sets the pace (before, the bot also processes intake).
    all_queued = max(queued_at)
    after = [c for c in ok if all_queued <= c.at.timestamp() <= last]
    span = after[-1].at.timestamp() - after[0].at.timestamp() if len(after) > 1 else 0.0
    steady = (len(after) - 1) / span if span > 0 else float("nan")
    per_chat: dict[Any, int] = {}
    for c in ok:
        if isinstance(c.chat_id, int) and c.chat_id > 0:
            per_chat[c.chat_id] = per_chat.get(c.chat_id, 0) + 1
    per_group = {g: [c.at.timestamp() for c in ok if c.chat_id == g] for g in GROUPS}
    if args.detail:
        base = min(c.at.timestamp() for c in sends)
        seconds: dict[int, list[str]] = {}
        for c in sends:
            mark = "." if c.ok else ("R" if c.status == 429 else "x")
            mark = mark if not (isinstance(c.chat_id, int) and c.chat_id < 0) else mark.replace(".", "g")
            seconds.setdefault(int(c.at.timestamp() - base), []).append(mark)
        queued: dict[int, int] = {}
        for at in queued_at:
            queued[int(at - base)] = queued.get(int(at - base), 0) + 1
        for second, marks in sorted(seconds.items()):
            print(
                f"  {second:4d}s queued {queued.get(second, 0):3d} sent {len(marks):3d} {''.join(marks)}",
                file=sys.stderr,
            )
    return {
        "citizens": args.citizens,
        "cpu_ms_per_citizen": cpu * 1000 / args.citizens,
        "posting_seconds": posting,
        "answered_once": sum(1 for n in per_chat.values() if n == 1),
        "answered_more": sum(1 for n in per_chat.values() if n > 1),
        "cards_queued": cards,
        "cards_sent": sum(len(t) for t in per_group.values()),
        "http_429": sum(1 for c in sends if c.status == 429),
        "drain_seconds": last - first,
        "rate": rate,
        "share_of_30": rate / 30.0,
        "steady_rate": steady,
        "steady_sends": len(after),
        "busiest_second": busiest([c.at.timestamp() for c in ok], 1.0),
        "busiest_minute_per_group": [busiest(t, 60.0) for t in per_group.values()],
    }


async def latency(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Part two: citizens writing at `rate` a second; webhook-to-reply times."""
    async with bench_database(args.backend, workdir, args.pg_url) as url:
        async with TelegramStandIn(rate_limits=RateLimits()) as telegram:
            fleet = Fleet(workdir, url, telegram)
            try:
                [bot] = await fleet.start(1, SECTIONS)
                maker = Updates(telegram)
                n = int(args.rate * args.seconds)
                users = [User(400_000 + i, f"Warga{i}") for i in range(n)]
                updates = [maker.message(u, DESCRIPTIONS[i % 3].format(n=i)) for i, u in enumerate(users)]
                posted: dict[int, float] = {}
                rng = random.Random(7)
                # Warm-up: the first requests of a process pay for imports and caches.
                for i in range(20):
                    await bot.post_telegram(maker.message(User(490_000 + i, "Pemanasan"), DESCRIPTIONS[0].format(n=i)))
                await fleet.settled(timeout=30)
                cpu = cpu_seconds(bot)
                start = time.monotonic() + 0.1
                tasks = []

                async def post(user: User, update: dict[str, Any]) -> None:
                    posted[user.id] = time.time()
                    response = await bot.post_telegram(update)
                    assert response.status_code == 200

                for i, (user, update) in enumerate(zip(users, updates, strict=True)):
                    # Open loop with a little jitter (a crowd is not a metronome).
                    due = start + i / args.rate + rng.uniform(-0.2, 0.2) / args.rate
                    await asyncio.sleep(max(0.0, due - time.monotonic()))
                    tasks.append(asyncio.create_task(post(user, update)))
                await asyncio.gather(*tasks)
                await fleet.settled(timeout=60)
                # Includes the idle loops' polls over the ~30 s (the same before and after a change).
                cpu = cpu_seconds(bot) - cpu
            finally:
                await fleet.close()
            if args.detail:
                # The bot's own timings per step, from its log lines (bot.runtime: inbox event, outbox).
                import re

                log = fleet.logs()
                for what, pattern in (
                    ("process event", r"inbox event \d+ telegram: ok in ([\d.]+) ms"),
                    ("send", r"outbox \d+ telegram \(\w+\): sent in ([\d.]+) ms"),
                ):
                    values = [float(v) for v in re.findall(pattern, log)]
                    if values:
                        print(f"  {what}: p50 {pct(values, 50):.1f} ms, p99 {pct(values, 99):.1f} ms", file=sys.stderr)
    first_reply: dict[Any, float] = {}
    for c in telegram.calls:
        if c.method in SEND_METHODS and c.ok and c.chat_id in posted and c.chat_id not in first_reply:
            first_reply[c.chat_id] = c.at.timestamp()
    times = [(first_reply[chat] - posted[chat]) * 1000 for chat in posted if chat in first_reply]
    return {
        "messages": len(posted),
        "cpu_ms_per_message": cpu * 1000 / len(posted),
        "answered": len(times),
        "rate": args.rate,
        "p50_ms": statistics.median(times),
        "p95_ms": pct(times, 95),
        "p99_ms": pct(times, 99),
        "max_ms": max(times),
        "http_429": sum(1 for c in telegram.calls if c.method in SEND_METHODS and c.status == 429),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["burst", "latency", "both"], default="both")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--citizens", type=int, default=600)
    parser.add_argument("--group-messages", default="30,10,10")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rate", type=float, default=10.0, help="latency part: messages a second")
    parser.add_argument("--seconds", type=float, default=30.0, help="latency part: how long")
    parser.add_argument("--limit-seconds", type=float, default=180.0)
    parser.add_argument("--detail", action="store_true", help="print the sends of each second (burst)")
    parser.add_argument("--pg-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    args.group_messages = [int(n) for n in args.group_messages.split(",")]
    print(f"python {sys.version.split()[0]} on {os.uname().machine}, {os.cpu_count()} cpus, {args.backend}", flush=True)
    status = 0
    with tempfile.TemporaryDirectory(prefix="ehumas-bench-") as directory:
        for sub in ("burst", "latency"):
            (Path(directory) / sub).mkdir()
        if args.part in ("burst", "both"):
            f = asyncio.run(burst(args, Path(directory) / "burst"))
            print(
                f"burst: {f['citizens']} citizens, answered once {f['answered_once']}, more than once "
                f"{f['answered_more']}; replies drained in {f['drain_seconds']:.1f} s at {f['rate']:.2f} sends/s "
                f"= {f['share_of_30']:.1%} of 30/s; busiest second {f['busiest_second']}; 429s {f['http_429']}; "
                f"group cards {f['cards_sent']}/{f['cards_queued']}, busiest minute per group "
                f"{f['busiest_minute_per_group']}; posting the webhooks took {f['posting_seconds']:.1f} s; "
                f"once all replies were queued: {f['steady_sends']} sends at {f['steady_rate']:.2f}/s "
                f"= {f['steady_rate'] / 30:.1%}; bot CPU {f['cpu_ms_per_citizen']:.1f} ms per citizen",
                flush=True,
            )
            status |= int(f["http_429"] > 0 or f["answered_once"] != f["citizens"])
        if args.part in ("latency", "both"):
            f = asyncio.run(latency(args, Path(directory) / "latency"))
            print(
                f"latency at {f['rate']:g}/s: {f['answered']}/{f['messages']} answered; webhook to reply "
                f"p50 {f['p50_ms']:.1f} ms, p95 {f['p95_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms, "
                f"max {f['max_ms']:.1f} ms; 429s {f['http_429']}; bot CPU {f['cpu_ms_per_message']:.1f} ms per message",
                flush=True,
            )
    return status


if __name__ == "__main__":
    sys.exit(main())

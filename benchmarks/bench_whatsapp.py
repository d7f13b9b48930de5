"""WhatsApp outbox benchmark: queued answers with buttons reach the Twilio stand-in within the rate.

Run from the repository root:
    .venv/bin/python benchmarks/bench_whatsapp.py                     # interactive (the default)
    .venv/bin/python benchmarks/bench_whatsapp.py --text              # [whatsapp] interactive = false
    .venv/bin/python benchmarks/bench_whatsapp.py --backend postgresql --processes 2
The messages (the dialog's questions with 1, 2 or 3 buttons, rating requests with 5, and plain
answers) are queued first, each to a citizen heard from a minute ago; then `ehumas run` process(es)
start and send them to the Twilio stand-in of this process, which answers 429 to any
Messages.create beyond `--rate` in one second (the strictest reading of a sender's rate) and serves
the Content API. Each process is given `max_messages_per_second = rate / processes`. Reported:
delivery rate, the busiest second, 429s, how many went as buttons, and the templates created
(once per kind of buttons, however many processes).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_intake import bench_database  # noqa: E402
from bot.standins.server import busiest  # noqa: E402
from bot.standins.telegram_api import TelegramStandIn  # noqa: E402
from bot.standins.twilio_api import TwilioStandIn  # noqa: E402
from handlers.outgoing import HEARD_AT  # noqa: E402
from storage import outbox  # noqa: E402
from storage.engine import create_engine, create_session_factory  # noqa: E402
from storage.types import utcnow  # noqa: E402
from tests.procs import Fleet  # noqa: E402

# What the dialog sends: (text, buttons), as handlers/intake.py and handlers/rating.py queue them.
KINDS: list[tuple[str, list[list[list[str]]]]] = [
    ('Ada foto? Kirim fotonya sekarang, atau ketik "lewati".', [[["Lewati", "intake:lewati:{t}"]]]),
    (
        "📍 Lokasi: depan SD 5 Poasia — benar?\nKetik ya, atau tuliskan lokasi yang benar.",
        [[["Ya, benar", "intake:ya:{t}"], ["Ubah", "intake:ubah:{t}"]]],
    ),
    (
        "Mohon periksa aduan Anda:\n\n📝 Jalan berlubang\n📍 tanpa lokasi\n📷 tanpa foto\n\n"
        'Ketik "ya" untuk mengirim, "ubah" untuk mengubah, atau "batal" untuk membatalkan.',
        [[["Kirim", "intake:ya:{t}"], ["Ubah", "intake:ubah:{t}"], ["Batal", "intake:batal:{t}"]]],
    ),
    (
        "Bagaimana penanganan aduan KDI-{t}? Beri nilai 1 (buruk) sampai 5 (sangat baik).",
        [[[str(n), f"rate:{{t}}:{n}"] for n in range(1, 6)]],
    ),
    ("Tanggapan Dinas PUPR atas aduan KDI-{t}: sudah kami tambal.", []),
]


async def enqueue(url: str, messages: int, chats: int, seed: int) -> int:
    """Queue the messages in random order, each citizen heard from a minute ago; return how many."""
    rng = random.Random(seed)
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    now = utcnow()
    async with sessions() as session, session.begin():
        for i in range(messages):
            text, buttons = rng.choice(KINDS)
            token = f"{i:06d}"
            payload: dict[str, Any] = {
                "text": text.replace("{t}", token),
                HEARD_AT: (now - timedelta(minutes=1)).isoformat(),
            }
            if buttons:
                payload["buttons"] = [[[label, data.replace("{t}", token)] for label, data in row] for row in buttons]
                payload["typed_hint"] = " Ketik jawabannya."
            chat = f"whatsapp:+628{1_000_000_000 + i % chats}"
            await outbox.enqueue(session, channel="whatsapp", chat_id=chat, payload=payload, now=now)
    await engine.dispose()
    return messages


async def bench(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """One run; the figures as a dict."""
    async with bench_database(args.backend, workdir, args.pg_url) as url:
        total = await enqueue(url, args.messages, args.chats, args.seed)
        sections: dict[str, dict[str, Any]] = {
            "outbox": {"lease_seconds": 60.0, "poll_seconds": 1.0, "max_attempts": 8, "retry_first_seconds": 2.0},
            "whatsapp": {"max_messages_per_second": args.rate / args.processes, "interactive": not args.text},
            "sla": {"sweep_seconds": 60.0},
            "server": {"access_log": False},
        }
        async with TelegramStandIn() as telegram, TwilioStandIn(messages_per_second=int(args.rate)) as twilio:
            fleet = Fleet(workdir, url, telegram, twilio)
            try:
                started = time.perf_counter()
                await fleet.start(args.processes, sections)
                health = await fleet.settled(timeout=args.limit_seconds)
                elapsed = time.perf_counter() - started
            finally:
                await fleet.close()
        creates = [c for c in twilio.calls if c.method == "Messages.create"]
        templates = twilio.content_calls()
    ok = [c for c in creates if c.ok]
    limited = [c for c in creates if c.status == 429]
    times = sorted(c.at.timestamp() for c in ok)
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    return {
        "backend": args.backend,
        "processes": args.processes,
        "interactive": not args.text,
        "rate": args.rate,
        "queued": total,
        "delivered": len(ok),
        "as_buttons": sum(1 for c in ok if c.interactive is not None),
        "http_429": len(limited),
        "other_failures": len(creates) - len(ok) - len(limited),
        "templates_created": len(templates),
        "per_second": len(ok) / span if span else float("nan"),
        "busiest_second": busiest(times, 1.0),
        "seconds_including_start": elapsed,
        "outbox_pending_after": health["outbox_pending"],
    }


def report(f: dict[str, Any]) -> str:
    """The figures as readable lines."""
    return "\n".join(
        [
            f"backend {f['backend']}, {f['processes']} process(es), interactive {f['interactive']}, "
            f"Twilio's rate {f['rate']:g}/s (each process {f['rate'] / f['processes']:g}/s)",
            f"queued {f['queued']}, delivered {f['delivered']} ({f['as_buttons']} as buttons), "
            f"429 answers {f['http_429']}, other failures {f['other_failures']}, "
            f"left pending {f['outbox_pending_after']}",
            f"{f['per_second']:.1f} msg/s first to last; busiest second {f['busiest_second']} messages; "
            f"templates created {f['templates_created']}",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--chats", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0, help="Twilio's messages per second (all processes)")
    parser.add_argument("--text", action="store_true", help="[whatsapp] interactive = false: today's text")
    parser.add_argument("--limit-seconds", type=float, default=180.0)
    parser.add_argument("--pg-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    if args.backend == "sqlite" and args.processes != 1:
        parser.error("SQLite serves one bot process; use --backend postgresql for several")
    print(f"python {sys.version.split()[0]} on {os.uname().machine}, {os.cpu_count()} cpus", flush=True)
    with tempfile.TemporaryDirectory(prefix="ehumas-bench-") as directory:
        figures = asyncio.run(bench(args, Path(directory)))
    print(report(figures))
    return 0 if figures["http_429"] == 0 and figures["delivered"] >= figures["queued"] else 1


if __name__ == "__main__":
    sys.exit(main())

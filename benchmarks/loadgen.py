"""A small HTTP/1.1 load generator for the webhooks: whole conversations, signed as the messengers sign.

Runs as its own process so that its CPU does not count against the bot's:
    .venv/bin/python benchmarks/loadgen.py --targets 127.0.0.1:8081,127.0.0.1:8082 --conversations 5000 \
        --whatsapp-share 0.25 --connections 32 [--rate 1000] --out result.json

Each conversation is one citizen's complaint (description, "lewati", "lewati", "ya"), Telegram or
WhatsApp; a citizen's next message is posted only after the previous one was answered, as the
messengers do. Requests are pre-built (JSON, form encoding and Twilio signatures computed before the
clock starts) and sent over keep-alive connections with a minimal client (asyncio streams), so the
generator itself costs little. Only 127.0.0.1 is accepted as a target.

--rate R: open loop, starting R messages per second whatever the answers' speed (latency at a
given load); without it, closed loop: each connection posts as soon as its previous answer came
(the most the bot sustains).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import random
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

TELEGRAM_PATH = "/telegram/webhook"
WHATSAPP_PATH = "/whatsapp/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DESCRIPTIONS = (
    "Sampah menumpuk di depan rumah warga nomor {n} sudah tiga hari belum diangkut",
    "Jalan berlubang besar di lorong {n} dekat masjid, bahaya untuk pengendara motor",
    "KTP elektronik saya belum jadi sejak {n} bulan lalu, mohon dibantu prosesnya",
    "Got mampet di jalan nomor {n}, setiap hujan air meluap ke rumah warga",
)


def twilio_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """X-Twilio-Signature: base64 HMAC-SHA1 of the URL and the sorted form keys and values."""
    payload = url + "".join(key + params[key] for key in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()).decode()


def _request(path: str, host: str, body: bytes, content_type: str, extra: dict[str, str]) -> bytes:
    head = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
        *(f"{k}: {v}" for k, v in extra.items()),
        "",
        "",
    ]
    return "\r\n".join(head).encode() + body


@dataclass
class Conversation:
    """One citizen's messages, as ready-to-send requests (without the Host line's target)."""

    channel: str
    bodies: list[tuple[str, bytes, str, dict[str, str]]]  # (path, body, content type, headers)
    next: int = 0


def conversations(
    n: int,
    whatsapp_share: float,
    *,
    secret: str,
    public_url: str,
    auth_token: str,
    seed: int = 7,
    first_update_id: int = 1_000_000,
) -> list[Conversation]:
    """n conversations, a `whatsapp_share` of them on WhatsApp; ids are unique per run (seeded)."""
    rng = random.Random(seed)
    run = rng.getrandbits(32)
    update_id = first_update_id
    out = []
    for i in range(n):
        texts = (DESCRIPTIONS[i % len(DESCRIPTIONS)].format(n=i + 1), "lewati", "lewati", "ya")
        if rng.random() < whatsapp_share:
            phone = f"+6289{run % 1000:03d}{i:07d}"
            bodies = []
            for step, text in enumerate(texts):
                sid = f"SM{run:08x}{i:016x}{step:08x}"
                form = {
                    "MessageSid": sid,
                    "SmsMessageSid": sid,
                    "SmsSid": sid,
                    "AccountSid": "AC" + "0" * 32,
                    "From": "whatsapp:" + phone,
                    "To": "whatsapp:+14155238886",
                    "Body": text,
                    "NumMedia": "0",
                    "ProfileName": f"Warga {i}",
                    "WaId": phone[1:],
                    "ApiVersion": "2010-04-01",
                }
                signature = twilio_signature(auth_token, public_url + WHATSAPP_PATH, form)
                bodies.append(
                    (
                        WHATSAPP_PATH,
                        urlencode(form).encode(),
                        "application/x-www-form-urlencoded",
                        {"X-Twilio-Signature": signature},
                    )
                )
            out.append(Conversation("whatsapp", bodies))
        else:
            user = 5_000_000_000 + run % 100_000 * 100_000 + i
            bodies = []
            for text in texts:
                update_id += 1
                chat = {"id": user, "type": "private", "first_name": f"Warga{i}"}
                update = {
                    "update_id": update_id,
                    "message": {
                        "message_id": update_id,
                        "date": int(time.time()),
                        "chat": chat,
                        "from": {"id": user, "is_bot": False, "first_name": f"Warga{i}"},
                        "text": text,
                    },
                }
                bodies.append((TELEGRAM_PATH, json.dumps(update).encode(), "application/json", {SECRET_HEADER: secret}))
            out.append(Conversation("telegram", bodies))
    return out


@dataclass
class Result:
    """What the run measured."""

    latencies: list[float] = field(default_factory=list)  # seconds, answered requests
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    first_start: float = 0.0
    last_end: float = 0.0


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one response; return its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:].strip())
    if length:
        await reader.readexactly(length)
    return status


async def run(
    targets: list[tuple[str, int]],
    convs: list[Conversation],
    connections: int,
    rate: float | None,
    limit_seconds: float,
) -> Result:
    """Post every conversation's messages; return latencies and statuses."""
    result = Result()
    ready: deque[Conversation] = deque(convs)
    wake = asyncio.Event()
    total = sum(len(c.bodies) for c in convs)
    done = 0
    started = 0
    finished = asyncio.Event()
    t0 = time.perf_counter()
    deadline = t0 + limit_seconds

    async def worker(index: int) -> None:
        nonlocal done, started
        host, port = targets[index % len(targets)]
        reader, writer = await asyncio.open_connection(host, port)
        host_header = f"{host}:{port}"
        try:
            while not finished.is_set():
                if not ready:
                    wake.clear()
                    await wake.wait()
                    continue
                if rate is not None:
                    # Open loop: message k starts at t0 + k / rate, however slow the answers are.
                    due = t0 + started / rate
                    started += 1
                    delay = due - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                else:
                    started += 1
                conv = ready.popleft()
                path, body, content_type, headers = conv.bodies[conv.next]
                request = _request(path, host_header, body, content_type, headers)
                begin = time.perf_counter()
                try:
                    writer.write(request)
                    status = await _read_response(reader)
                except (ConnectionError, asyncio.IncompleteReadError) as exc:
                    result.errors += 1
                    print(f"connection {index}: {exc}", file=sys.stderr)
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    ready.append(conv)  # the messenger would deliver it again
                    wake.set()
                    continue
                end = time.perf_counter()
                result.latencies.append(end - begin)
                result.statuses[status] = result.statuses.get(status, 0) + 1
                result.last_end = end
                if status == 200:
                    conv.next += 1
                if conv.next < len(conv.bodies):
                    ready.append(conv)  # the citizen's next message, after this answer
                    wake.set()
                done += 1
                if done >= total or time.perf_counter() > deadline or (status >= 500 and status != 503):
                    finished.set()
                    wake.set()
        finally:
            writer.close()

    result.first_start = time.perf_counter()
    tasks = [asyncio.create_task(worker(i)) for i in range(connections)]
    await finished.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return result


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", required=True, help="comma-separated 127.0.0.1:PORT list (round robin)")
    parser.add_argument("--conversations", type=int, default=2500)
    parser.add_argument("--whatsapp-share", type=float, default=0.25)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rate", type=float, default=None, help="open loop at this many messages per second")
    parser.add_argument("--limit-seconds", type=float, default=120.0, help="stop after this long in any case")
    parser.add_argument("--secret", required=True)
    parser.add_argument("--auth-token", required=True)
    parser.add_argument("--public-url", required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    targets = []
    for item in args.targets.split(","):
        host, _, port = item.rpartition(":")
        if host != "127.0.0.1":
            parser.error("load tests go to 127.0.0.1 only")
        targets.append((host, int(port)))
    convs = conversations(
        args.conversations,
        args.whatsapp_share,
        secret=args.secret,
        public_url=args.public_url,
        auth_token=args.auth_token,
        seed=args.seed,
    )
    result = asyncio.run(run(targets, convs, args.connections, args.rate, args.limit_seconds))
    elapsed = max(1e-9, result.last_end - result.first_start)
    answered = len(result.latencies)
    summary = {
        "messages": answered,
        "accepted": result.statuses.get(200, 0),
        "statuses": result.statuses,
        "errors": result.errors,
        "seconds": elapsed,
        "per_second": answered / elapsed,
        "p50_ms": percentile(result.latencies, 50) * 1000,
        "p90_ms": percentile(result.latencies, 90) * 1000,
        "p99_ms": percentile(result.latencies, 99) * 1000,
        "max_ms": max(result.latencies, default=float("nan")) * 1000,
        "telegram_conversations": sum(1 for c in convs if c.channel == "telegram"),
        "whatsapp_conversations": sum(1 for c in convs if c.channel == "whatsapp"),
    }
    Path(args.out).write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

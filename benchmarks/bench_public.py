"""Public page benchmark: /publik/ over 100,000 complaints, built once a minute, served from memory.

Two figures: how long the page takes to build (the database's part: /stats's figures for two
periods, the weekly chart, the latest answered complaints), and how many pages a second one process
serves once it is built, as a link going viral asks for it.

- in-process: the real app through httpx's ASGI transport, `--clients` requests at a time (the
  server's own cost: routing, the cache, the response; no socket);
- over HTTP (`--http`): the app under uvicorn (uvloop, httptools, no access log) in a child
  process, loaded by this process over keep-alive connections.

Run from the repository root:
    .venv/bin/python benchmarks/bench_public.py                 # SQLite in a temp file
    .venv/bin/python benchmarks/bench_public.py --http          # and over a real socket
    .venv/bin/python benchmarks/bench_public.py --url postgresql+asyncpg://postgres@127.0.0.1/bench
(the PostgreSQL database must exist and be empty; the schema is created by the migrations.)
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
import socket
import statistics
import sys
import tempfile
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from benchmarks.bench_desk import fill  # noqa: E402
from bot.app import create_app  # noqa: E402
from bot.config import Settings, parse_settings  # noqa: E402
from bot.standins.telegram_api import TelegramStandIn  # noqa: E402

PATH = "/publik/"


def settings(url: str, telegram: TelegramStandIn, port: int = 8080) -> Settings:
    """The example configuration on this database, the public page on."""
    data: dict[str, Any] = copy.deepcopy(tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8")))
    data["database"]["url"] = url
    data["telegram"].update(token=telegram.token, webhook_secret="bench", api_base_url=telegram.base_url)
    data["server"].update(public_url="https://ehumas.bench", access_log=False, port=port)
    data["public"].update(enabled=True)
    # The bulk-loaded answers were never followed by a rating request: without this, the first deadline
    # sweep would queue tens of thousands of them while the page is measured.
    data["sla"].update(rate_after_hours=0.0)
    data["humas"]["admin_user_ids"] = [100000001]
    return parse_settings(data, "bench")


async def hammer(get: Any, clients: int, seconds: float) -> tuple[int, list[float]]:
    """`clients` loops requesting the page for `seconds`; how many answers, and each one's time."""
    stop = time.perf_counter() + seconds
    times: list[float] = []

    async def loop() -> None:
        while time.perf_counter() < stop:
            start = time.perf_counter()
            response = await get(PATH)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200, response.status_code

    await asyncio.gather(*(loop() for _ in range(clients)))
    return len(times), times


async def in_process(url: str, clients: int, seconds: float) -> dict[str, float]:
    """Build time (first request), then pages a second through the ASGI transport."""
    async with TelegramStandIn() as telegram:
        app = create_app(settings(url, telegram))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://public") as client:
                start = time.perf_counter()
                first = await client.get(PATH)
                built = time.perf_counter() - start
                assert first.status_code == 200 and "Aduan Terjawab" in first.text
                count, times = await hammer(client.get, clients, seconds)
    return {
        "build_ms": built * 1000,
        "per_second": count / seconds,
        "median_ms": statistics.median(times) * 1000,
        "bytes": len(first.content),
    }


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def serve(url: str, port: int) -> None:
    """The child process of --http: the app under uvicorn until killed."""
    import uvicorn

    async with TelegramStandIn() as telegram:
        app = create_app(settings(url, telegram, port))
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
        await uvicorn.Server(config).serve()


class Connection:
    """One keep-alive HTTP/1.1 connection with a minimal client (asyncio streams): the load costs little."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> httpx.Response:
        """GET `path`; the status and body as an httpx.Response (for hammer's check)."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = next(
            int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
        )
        body = await self.reader.readexactly(length)
        return httpx.Response(status, content=body)

    async def close(self) -> None:
        """Close the socket."""
        if self.writer is not None:
            self.writer.close()


async def over_http(url: str, clients: int, seconds: float) -> dict[str, float]:
    """Pages a second from a uvicorn child process, over `clients` keep-alive connections."""
    port = free_port()
    child = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve", url, "--port", str(port), cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            while True:
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            start = time.perf_counter()
            assert (await client.get(PATH)).status_code == 200
            built = time.perf_counter() - start
        connections = [Connection(port) for _ in range(clients)]
        pool: asyncio.Queue[Connection] = asyncio.Queue()
        for connection in connections:
            pool.put_nowait(connection)

        async def get(path: str) -> httpx.Response:
            connection = await pool.get()
            try:
                return await connection.get(path)
            finally:
                pool.put_nowait(connection)

        count, times = await hammer(get, clients, seconds)
        for connection in connections:
            await connection.close()
    finally:
        child.terminate()
        await asyncio.wait_for(child.wait(), timeout=15)
    return {"build_ms": built * 1000, "per_second": count / seconds, "median_ms": statistics.median(times) * 1000}


async def main() -> None:
    """Fill a database and measure the public page on it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", help="database URL (default: SQLite in a temporary file)")
    parser.add_argument("--total", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--http", action="store_true", help="also measure over a real socket (uvicorn child)")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        await serve(args.serve, args.port)
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        started = time.perf_counter()
        made = await fill(url, args.total, datetime.now(UTC))
        print(
            f"filled {made['complaints']} complaints ({made['last_30_days']} in the last 30 days) "
            f"in {time.perf_counter() - started:.1f} s on {url.split(':')[0]}"
        )
        inside = await in_process(url, args.clients, args.seconds)
        print(
            f"in-process: page built in {inside['build_ms']:.0f} ms ({inside['bytes']:.0f} bytes); "
            f"then {inside['per_second']:.0f} pages/s, median {inside['median_ms']:.2f} ms ({args.clients} at a time)"
        )
        if args.http:
            socket_figures = await over_http(url, args.clients, args.seconds)
            print(
                f"over HTTP: page built in {socket_figures['build_ms']:.0f} ms; then "
                f"{socket_figures['per_second']:.0f} pages/s, median {socket_figures['median_ms']:.2f} ms "
                f"({args.clients} keep-alive connections)"
            )


if __name__ == "__main__":
    asyncio.run(main())

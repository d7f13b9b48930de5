"""Run the playground: the real bot on 127.0.0.1 with stand-ins for Telegram and Twilio in-process."""

from __future__ import annotations

import asyncio
import secrets
import socket
import tomllib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import uvicorn

from bot.app import create_app
from bot.config import Settings, parse_settings
from bot.playground.routes import playground_routes
from bot.playground.session import Playground
from bot.standins.telegram_api import TelegramStandIn
from bot.standins.twilio_api import TwilioStandIn
from handlers.clock import Clock
from storage.migrate import upgrade_async

HOST = "127.0.0.1"  # the playground is never reachable from another machine
EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
ADMIN_ID = 7001
WHATSAPP_SENDER = "whatsapp:+14155238886"
TEMPLATE_SID = "HX" + "0" * 31 + "1"


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def playground_settings(telegram: TelegramStandIn, twilio: TwilioStandIn, port: int, database: Path) -> Settings:
    """The built-in configuration: Kendari's agencies and lexicon, everything else local."""
    example = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data: dict[str, Any] = {
        "bot": dict(example["bot"]),
        "server": {"host": HOST, "port": port, "public_url": f"http://{HOST}:{port}"},
        "database": {"url": f"sqlite+aiosqlite:///{database}"},
        "telegram": {
            "token": telegram.token,
            "mode": "webhook",
            "webhook_secret": secrets.token_urlsafe(24),
            "api_base_url": telegram.base_url,
        },
        "whatsapp": {
            "account_sid": twilio.account_sid,
            "auth_token": twilio.auth_token,
            "from_number": WHATSAPP_SENDER,
            "api_base_url": twilio.base_url,
            "reply_template_sid": TEMPLATE_SID,
        },
        "sla": {"answer_within_hours": 24.0, "remind_before_hours": 3.0, "sweep_seconds": 30.0},
        "humas": {"admin_user_ids": [ADMIN_ID], "group_chat_id": example["humas"]["group_chat_id"]},
        # The web desk, opened from the admin's and the agencies' panes. Sessions outlast the demo's
        # clock jumps (+24 jam moves the desk's time, and the sessions' with it).
        "web": {"enabled": True, "secret": secrets.token_urlsafe(32), "session_hours": 24.0 * 30},
        "opd": example["opd"],
    }
    return parse_settings(data, "playground")


@asynccontextmanager
async def playground(port: int, database: Path) -> AsyncIterator[tuple[Playground, uvicorn.Server]]:
    """Start stand-ins, a fresh database and the real app on 127.0.0.1:port; yield once it serves."""
    for suffix in ("", "-wal", "-shm"):
        # Every playground starts from scratch (three tiny unlinks before anything runs).
        Path(f"{database}{suffix}").unlink(missing_ok=True)  # noqa: ASYNC240
    async with TelegramStandIn() as telegram, TwilioStandIn(auto_status=("sent", "delivered")) as twilio:
        settings = playground_settings(telegram, twilio, port, database)
        await upgrade_async(settings.database.url)
        clock = Clock()
        async with Playground(settings, telegram, twilio, clock) as session:
            app = create_app(settings, clock=clock, extra_routes=playground_routes(session))

            async def sweep() -> None:
                await app.state.runtime.sweep_once()

            session.sweep = sweep
            server = uvicorn.Server(uvicorn.Config(app, host=HOST, port=port, log_level="warning", lifespan="on"))
            task = asyncio.create_task(server.serve())
            try:
                while not server.started:
                    if task.done():
                        task.result()  # startup failed: raise its error
                        raise RuntimeError("the playground server stopped during start-up")
                    await asyncio.sleep(0.05)
                await asyncio.wait_for(app.state.runtime.connected.wait(), timeout=30)
                yield session, server
            finally:
                server.should_exit = True
                await asyncio.gather(task, return_exceptions=True)


async def serve_forever(port: int, database: Path, announce: Callable[[str], None]) -> None:
    """Run the playground until interrupted, announcing its address once."""
    async with playground(port, database) as (_, server):
        announce(f"E-Humas playground: open http://{HOST}:{port}/ in a browser (Ctrl+C to stop)")
        # uvicorn signals shutdown only through this flag.
        while not server.should_exit:  # noqa: ASYNC110
            await asyncio.sleep(0.5)

"""Run the playground: the real bot on 127.0.0.1 with stand-ins for Telegram and Twilio in-process."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import secrets
import socket
import sys
import tomllib
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
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
# The repository's config.example.toml (a symlink to it, shipped in the package: an installed bot has no repository).
EXAMPLE = Path(__file__).resolve().parent / "config.example.toml"
ADMIN_ID = 7001
WHATSAPP_SENDER = "whatsapp:+14155238886"
TEMPLATE_SID = "HX" + "0" * 31 + "1"


class PlaygroundBusy(Exception):
    """The playground cannot start here: another one runs on its database, or its port is taken.

    The message is one line for the person who typed `make run`; nothing has been changed."""


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
        # The public page and the Open311 API (issue 16), linked from the playground's header; texts
        # shown masked, so the demo shows what masking does.
        "public": {"enabled": True, "show_text": True},
        "open311": {"enabled": True, "api_keys": [secrets.token_hex(16)]},
        "opd": example["opd"],
        "other": example.get("other", []),
    }
    return parse_settings(data, "playground")


@contextmanager
def database_lock(database: Path, port: int) -> Iterator[None]:
    """Hold `<database>.lock` while a playground runs on that file; a second one is refused, not started.

    The lock is the operating system's (flock), so it goes with the process that held it, even after a
    kill: a left-over lock file never blocks the next start. The file names the holder (pid, port)."""
    path = Path(f"{database}.lock")
    while True:
        handle = path.open("a+", encoding="utf-8")
        if not _try_lock(handle.fileno()):
            handle.seek(0)
            holder = _holder(handle.read())
            handle.close()
            raise PlaygroundBusy(
                f"A playground is already running on {database}{holder}: use that one, or stop it (Ctrl+C) "
                "before starting another."
            )
        try:
            current = os.fstat(handle.fileno()).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            current = False
        if current:
            break
        handle.close()  # its holder removed it as we opened it: lock the one at the path now
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "port": port}) + "\n")
        handle.flush()
        yield
    finally:
        if sys.platform != "win32":  # Windows cannot remove an open file; the stale file is harmless
            path.unlink(missing_ok=True)
        handle.close()


def _try_lock(fd: int) -> bool:
    """Take an exclusive lock on an open file without waiting; False if someone holds it."""
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(text: str) -> str:
    """' (pid N, http://127.0.0.1:P/)' from a lock file's content, or '' if it cannot be read."""
    try:
        data = json.loads(text)
        return f" (pid {int(data['pid'])}, http://{HOST}:{int(data['port'])}/)"
    except (ValueError, KeyError, TypeError):
        return ""


def listen(port: int) -> socket.socket:
    """Bind 127.0.0.1:port for the app before anything else changes; a taken port is a clear refusal."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if sys.platform != "win32":
        # As uvicorn and asyncio do: a port left in TIME_WAIT by the last run can be bound again at once.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PlaygroundBusy(
                f"Port {port} on {HOST} is already in use: stop what uses it, or choose another port with --port."
            ) from None
        raise
    return sock


@asynccontextmanager
async def playground(port: int, database: Path) -> AsyncIterator[tuple[Playground, uvicorn.Server]]:
    """Start stand-ins, a fresh database and the real app on 127.0.0.1:port; yield once it serves.

    Refused with PlaygroundBusy, before the database is touched, when another playground runs on the
    same database or the port is taken."""
    with database_lock(database, port), listen(port) as sock:
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
                config = uvicorn.Config(app, host=HOST, port=port, log_level="warning", lifespan="on")
                server = uvicorn.Server(config)
                task = asyncio.create_task(server.serve(sockets=[sock]))
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

"""Process-level harness: the bot as a real `python -m bot run` subprocess, stand-ins in the test process.

A test starts the stand-ins (Telegram, optionally Twilio) in its own event loop, writes a
config.toml into tmp_path pointing at them and at the test database, and launches one or more bot
processes that it can SIGKILL, terminate and restart. Each process's stderr goes to a file that
is printed when the test fails (pytest shows teardown output of failed tests only).

WhatsApp slots in by passing a TwilioStandIn: the [whatsapp] section is filled in and
`BotProcess.post_whatsapp` signs form posts as Twilio does.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from twilio.request_validator import RequestValidator

from bot.standins.telegram_api import TelegramStandIn
from bot.standins.twilio_api import TwilioStandIn
from bot.telegram.webhook import SECRET_HEADER
from bot.telegram.webhook import WEBHOOK_PATH as TELEGRAM_WEBHOOK_PATH
from tests.conftest import ROOT
from tests.harness import SECRET, User, example_data

PUBLIC_URL = "https://ehumas.test"
WHATSAPP_WEBHOOK_PATH = "/whatsapp/webhook"
BOT_NUMBER = "whatsapp:+14155238886"

# Short but production-shaped timings: the same keys an operator would set.
FAST_SECTIONS: dict[str, dict[str, Any]] = {
    "outbox": {
        "lease_seconds": 4.0,
        "poll_seconds": 0.1,
        "max_attempts": 6,
        "retry_first_seconds": 0.1,
        "retry_max_seconds": 0.5,
    },
    "sla": {"sweep_seconds": 0.5},
}


def free_port() -> int:
    """A TCP port nobody listens on right now (the settings refuse port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON string escapes are valid TOML
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _toml_table(lines: list[str], header: str, table: Mapping[str, Any]) -> None:
    lines.append(header)
    lines.extend(f"{json.dumps(key)} = {_toml_value(value)}" for key, value in table.items())
    lines.append("")


def toml_dumps(data: Mapping[str, Any]) -> str:
    """TOML text for the configuration's shape: tables, arrays of tables, one level of sub-tables."""
    lines: list[str] = []
    for name, value in data.items():
        if isinstance(value, dict):
            _toml_table(lines, f"[{name}]", value)
        elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            for item in value:
                _toml_table(lines, f"[[{name}]]", {k: v for k, v in item.items() if not isinstance(v, dict)})
                for sub, table in item.items():
                    if isinstance(table, dict):
                        _toml_table(lines, f"[{name}.{json.dumps(sub)}]", table)
        else:
            lines.insert(0, f"{json.dumps(name)} = {_toml_value(value)}")
    return "\n".join(lines)


def process_config(
    database_url: str,
    telegram: TelegramStandIn,
    *,
    port: int,
    twilio: TwilioStandIn | None = None,
    sections: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """config.example.toml pointed at the stand-ins and the test database, with fast timings."""
    data = copy.deepcopy(example_data())
    data["database"]["url"] = database_url
    data["server"].update(host="127.0.0.1", port=port, public_url=PUBLIC_URL)
    data["telegram"].update(token=telegram.token, webhook_secret=SECRET, api_base_url=telegram.base_url, mode="webhook")
    if twilio is not None:
        data["whatsapp"].update(
            account_sid=twilio.account_sid,
            auth_token=twilio.auth_token,
            from_number=BOT_NUMBER,
            api_base_url=twilio.base_url,
            reply_template_sid="",
        )
    for overrides in (FAST_SECTIONS, sections or {}):
        for name, values in overrides.items():
            data.setdefault(name, {}).update(values)
    return data


@dataclass
class BotProcess:
    """One `python -m bot run --config FILE` process on its own port."""

    name: str
    config_path: Path
    port: int
    log_path: Path
    twilio_token: str | None = None
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0
    http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=10.0))

    @property
    def url(self) -> str:
        """The process's origin, e.g. "http://127.0.0.1:54321"."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        """Whether the process is running."""
        return self.proc is not None and self.proc.poll() is None

    def launch(self) -> None:
        """Start the process (without waiting for it to be ready)."""
        assert not self.alive, f"{self.name} is already running"
        self.starts += 1
        log = self.log_path.open("ab")
        log.write(f"\n===== {self.name} start #{self.starts} =====\n".encode())
        log.flush()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(self.config_path)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        log.close()  # the child holds its own descriptor

    async def wait_ready(self, timeout: float = 30.0) -> None:
        """Wait until /healthz says the database answers and Telegram is connected."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive:
                raise AssertionError(f"{self.name} exited with {self.proc and self.proc.returncode}:\n{self.log()}")
            try:
                response = await self.http.get(self.url + "/healthz", timeout=2.0)
                if response.status_code == 200 and response.json().get("telegram"):
                    return
            except httpx.TransportError:
                pass  # not listening yet
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} not ready within {timeout}s:\n{self.log()}")
            # Another process is starting: there is no event to await, only its port to poll.
            await asyncio.sleep(0.05)

    async def start(self, timeout: float = 30.0) -> None:
        """Launch and wait until ready."""
        self.launch()
        await self.wait_ready(timeout)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, as when the machine loses the process."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    async def terminate(self, timeout: float = 15.0) -> int | None:
        """SIGTERM and wait for a clean exit; SIGKILL if it does not come."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.proc.wait, timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode

    async def restart(self) -> None:
        """Start again after a kill or terminate."""
        await self.terminate()
        await self.start()

    def log(self) -> str:
        """Everything the process wrote so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    async def health(self) -> dict[str, Any]:
        """The /healthz answer."""
        response = await self.http.get(self.url + "/healthz")
        return dict(response.json())

    async def post_telegram(self, update: dict[str, Any], *, secret: str | None = SECRET) -> httpx.Response:
        """POST an update to the Telegram webhook the way Telegram does."""
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        return await self.http.post(self.url + TELEGRAM_WEBHOOK_PATH, content=json.dumps(update), headers=headers)

    async def post_whatsapp(self, form: dict[str, str]) -> httpx.Response:
        """POST a form to the WhatsApp webhook, signed over the public URL as Twilio signs it."""
        assert self.twilio_token is not None, "start the fleet with a TwilioStandIn"
        signature = RequestValidator(self.twilio_token).compute_signature(PUBLIC_URL + WHATSAPP_WEBHOOK_PATH, form)
        return await self.http.post(
            self.url + WHATSAPP_WEBHOOK_PATH, data=form, headers={"X-Twilio-Signature": signature}
        )


@dataclass
class Fleet:
    """The bot processes of one test, all on one database and one set of stand-ins."""

    tmp_path: Path
    database_url: str
    telegram: TelegramStandIn
    twilio: TwilioStandIn | None = None
    processes: list[BotProcess] = field(default_factory=list)

    def add(self, sections: Mapping[str, Mapping[str, Any]] | None = None) -> BotProcess:
        """Configure one more process (not started); `sections` override config keys."""
        port = free_port()
        name = f"bot{len(self.processes) + 1}"
        data = process_config(self.database_url, self.telegram, port=port, twilio=self.twilio, sections=sections)
        path = self.tmp_path / f"{name}.toml"
        path.write_text(toml_dumps(data), encoding="utf-8")
        process = BotProcess(
            name,
            path,
            port,
            self.tmp_path / f"{name}.log",
            twilio_token=self.twilio.auth_token if self.twilio else None,
        )
        self.processes.append(process)
        return process

    async def start(self, n: int = 1, sections: Mapping[str, Mapping[str, Any]] | None = None) -> list[BotProcess]:
        """Configure and start n processes (in parallel); return them."""
        new = [self.add(sections) for _ in range(n)]
        for process in new:
            process.launch()
        await asyncio.gather(*(process.wait_ready() for process in new))
        return new

    async def settled(self, timeout: float = 20.0) -> dict[str, Any]:
        """Wait until the shared inbox and outbox are empty, as seen by a live process."""
        deadline = time.monotonic() + timeout
        while True:
            live = [p for p in self.processes if p.alive]
            assert live, "no bot process is running"
            health = await live[0].health()
            if health.get("ok") and health["inbox_backlog"] == 0 and health["outbox_pending"] == 0:
                return health
            if time.monotonic() > deadline:
                raise AssertionError(f"not settled within {timeout}s: {health}")
            # The work happens in other processes; the shared database is all there is to watch.
            await asyncio.sleep(0.05)

    def logs(self) -> str:
        """Every process's log, for failure reports."""
        return "\n".join(f"----- {p.name} ({p.log_path}) -----\n{p.log()}" for p in self.processes)

    async def close(self) -> None:
        """Stop every process and close the clients."""
        await asyncio.gather(*(p.terminate(timeout=5.0) for p in self.processes))
        for process in self.processes:
            await process.http.aclose()


@asynccontextmanager
async def fleet(
    tmp_path: Path, database_url: str, telegram: TelegramStandIn, twilio: TwilioStandIn | None = None
) -> AsyncIterator[Fleet]:
    """A Fleet that stops its processes at the end and prints their logs (shown if the test failed)."""
    running = Fleet(tmp_path, database_url, telegram, twilio)
    try:
        yield running
    finally:
        await running.close()
        print(running.logs())


class Updates:
    """Telegram updates as the Bot API would post them, with fresh update ids from the stand-in."""

    def __init__(self, telegram: TelegramStandIn) -> None:
        self.telegram = telegram
        self._message_ids = iter(range(50_000, 10**9))

    def message(
        self,
        user: User,
        text: str | None = None,
        *,
        chat_id: int | None = None,
        reply_to: tuple[int, int, str] | None = None,
    ) -> dict[str, Any]:
        """A text message from `user`; `reply_to` is (chat id, message id, text) of a bot message."""
        chat_id = chat_id if chat_id is not None else user.id
        if chat_id > 0:
            chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": user.first_name}
        else:
            chat = {"id": chat_id, "type": "supergroup", "title": f"Grup {chat_id}"}
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": user.json(),
        }
        if text is not None:
            message["text"] = text
        if reply_to is not None:
            message["reply_to_message"] = {
                "message_id": reply_to[1],
                "date": int(time.time()),
                "chat": chat,
                "from": self.telegram.bot_user,
                "text": reply_to[2],
            }
        return {"update_id": self.telegram.next_update_id(), "message": message}


@dataclass(frozen=True)
class Delivery:
    """One outbox row as the stand-in should have seen it: the chat and the exact text."""

    outbox_id: int
    status: str
    chat_id: int
    text: str


def text_deliveries(rows: list[Any]) -> list[Delivery]:
    """The Telegram text messages among outbox rows, each (chat, text) required to be unique.

    Tests make every dialog text unique (a citizen's description, a ticket number), so the number
    of stand-in calls with a row's chat and text is the number of times that row was sent.
    """
    out = [
        Delivery(int(row.id), str(row.status), int(row.chat_id), str(row.payload["text"]))
        for row in rows
        if row.channel == "telegram" and row.kind == "text"
    ]
    keys = [(d.chat_id, d.text) for d in out]
    duplicates = {key for key in keys if keys.count(key) > 1}
    assert not duplicates, f"test texts are not unique per chat, cannot count sends: {duplicates}"
    return out


def send_counts(telegram: TelegramStandIn) -> dict[tuple[int, str], int]:
    """How many times each (chat, text) was accepted by the Bot API stand-in."""
    counts: dict[tuple[int, str], int] = {}
    for call in telegram.sent_messages():
        if call.method == "sendMessage" and isinstance(call.chat_id, int) and call.text is not None:
            key = (call.chat_id, call.text)
            counts[key] = counts.get(key, 0) + 1
    return counts

"""Hostile and broken input: every case of tests/data/hostile/cases.jsonl against the running app,
served once inside the test's process and once as its own `ehumas run` process (configured from
config.example.toml), which must still be running, never restarted, at the end.

Each case names its webhooks ("targets": telegram, whatsapp) and what it sends:
  raw / raw_hex     a request body as is (placeholders substituted in raw)
  update            a Telegram update (JSON), placeholders substituted
  form / raw_form   a Twilio form (dict, or an urlencoded string), signed as Twilio signs
  text              a citizen's private message with this text (either messenger); sender_name,
                    form_extra (WhatsApp fields) adjust it
  big_body          a body of that many bytes (chunked: without Content-Length)
  content_type      overrides the Content-Type ("" sends none); auth: ok, missing, wrong, upper
                    (Telegram secret in other case), local_url / other_body (WhatsApp signature)
and what must happen:
  expect_status     the HTTP status (or a list of acceptable ones); 200 means stored, else nothing is
  expect_reply      text the citizen (or, with reply_chat "group", the group) gets; null: nothing at all
                    (required for every case answered 200: a case that checks nothing is a mistake)
  follow            further messages that take the dialog to the end (the complaint is filed)
  expect_description how the filed complaint keeps the text: exact, cleaned (control characters
                    removed), prefix (cut to the maximum length)
  card_contains / card_not_contains   what the agency's ticket card shows (HTML source)
Values {"repeat": s, "times": n} and {"concat": [...]} build long strings; "{{update_id}}",
"{{user_id}}", "{{group_id}}", "{{phone}}", "{{phone_q}}", "{{sid}}" are filled in per case, "{{admin_id}}" with
a humas admin's user id.
Afterwards the process must be healthy, every stored event processed without error, nothing
failed in the outbox, and nothing stored for a refused request.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from twilio.request_validator import RequestValidator

from bot.standins.telegram_api import TelegramCall, TelegramStandIn
from bot.standins.twilio_api import TwilioStandIn
from bot.telegram.webhook import SECRET_HEADER
from bot.whatsapp.webhooks import WEBHOOK_PATH as WHATSAPP_PATH
from handlers import textsafe
from handlers.intake import MAX_DESCRIPTION_CHARS
from storage.models import Complaint, InboxEvent, OutboxMessage, OutboxStatus
from tests.channels import running_desk
from tests.conftest import ROOT
from tests.harness import ADMIN_ID, SECRET
from tests.harness_whatsapp import Phone, inbound_form
from tests.procs import PUBLIC_URL, BotProcess, fleet

pytestmark = pytest.mark.filterwarnings("ignore:.*(BasicAuth|'auth' parameter) is deprecated:DeprecationWarning")

CORPUS = ROOT / "tests" / "data" / "hostile" / "cases.jsonl"
CASES: list[dict[str, Any]] = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line]
TELEGRAM_PATH = "/telegram/webhook"


@dataclass
class Target:
    """Where the cases are posted: the app served in the test's process, or an `ehumas run` process."""

    url: str  # where requests go
    public_url: str  # what the bot is configured to be reached at (Twilio signs over it)
    http: httpx.AsyncClient
    telegram: TelegramStandIn
    twilio: TwilioStandIn
    sessions: async_sessionmaker[AsyncSession]
    settled: Callable[[], Awaitable[Any]]
    process: BotProcess | None = None  # the separate process, if any

    async def send_telegram(self, update: dict[str, Any]) -> None:
        """Post an update as Telegram does and require the 200."""
        response = await self.http.post(self.url + TELEGRAM_PATH, json=update, headers={SECRET_HEADER: SECRET})
        assert response.status_code == 200, response.text

    async def send_whatsapp(self, phone: Phone, text: str) -> None:
        """Post a signed inbound WhatsApp message as Twilio does and require the 200."""
        form = inbound_form(self.twilio.account_sid, phone, text)
        signature = RequestValidator(self.twilio.auth_token).compute_signature(self.public_url + WHATSAPP_PATH, form)
        response = await self.http.post(self.url + WHATSAPP_PATH, data=form, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200, response.text


@asynccontextmanager
async def in_process(database_url: str, telegram: TelegramStandIn, twilio: TwilioStandIn) -> AsyncIterator[Target]:
    """The real app served by uvicorn inside the test's process."""
    async with running_desk(database_url, telegram, twilio) as desk:
        world = desk.world
        yield Target(
            world.url,
            world.settings.server.public_url,
            world.http,
            telegram,
            twilio,
            world.runtime.sessions,
            lambda: world.settled(timeout=30),
        )


@asynccontextmanager
async def own_process(
    tmp_path: Path,
    database_url: str,
    telegram: TelegramStandIn,
    twilio: TwilioStandIn,
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[Target]:
    """`ehumas run` as its own process, configured from config.example.toml: a crash would show as its exit."""
    async with fleet(tmp_path, database_url, telegram, twilio) as bots:
        [process] = await bots.start(1)
        # Twilio's status callbacks go to the public URL: the stand-in plays the reverse proxy.
        twilio.forward(PUBLIC_URL, process.url)
        yield Target(
            process.url, PUBLIC_URL, process.http, telegram, twilio, sessions, lambda: bots.settled(timeout=30), process
        )


@dataclass
class Context:
    """The identities one case runs with."""

    n: int
    update_id: int
    sid: str

    @property
    def user_id(self) -> int:
        return 800_000 + self.n

    @property
    def group_id(self) -> int:
        return -100_880_000_000 - self.n

    @property
    def phone(self) -> Phone:
        return Phone(f"+62813{self.n:07d}", f"Uji{self.n}")

    def fill(self, text: str) -> str:
        for name, value in (
            ("update_id", self.update_id),
            ("user_id", self.user_id),
            ("group_id", self.group_id),
            ("phone_q", quote(self.phone.address)),
            ("phone", self.phone.address),
            ("sid", self.sid),
            ("admin_id", ADMIN_ID),
        ):
            text = text.replace("{{" + name + "}}", str(value))
        return text


def build(value: Any, ctx: Context) -> Any:
    """A case value with its generators expanded and placeholders filled in."""
    if isinstance(value, dict):
        if "repeat" in value:
            return str(value["repeat"]) * int(value["times"])
        if "concat" in value:
            return "".join(build(part, ctx) for part in value["concat"])
        return {key: build(item, ctx) for key, item in value.items()}
    if isinstance(value, list):
        return [build(item, ctx) for item in value]
    if isinstance(value, str):
        if value in ("{{update_id}}", "{{user_id}}", "{{group_id}}", "{{admin_id}}"):
            return int(ctx.fill(value))  # numbers in Telegram's JSON
        return ctx.fill(value)
    return value


@dataclass
class Request:
    """What one case posts."""

    path: str
    content: bytes
    headers: dict[str, str]
    chunked: bool = False
    external_id: str | None = None  # the id it is stored under, if it is stored
    text: str | None = None  # the citizen's text, for the description checks
    reply_to: int | str | None = None  # the chat whose answers the case checks


def _content_type(case: dict[str, Any], default: str) -> dict[str, str]:
    value = case.get("content_type", default)
    return {"Content-Type": value} if value else {}


def telegram_request(case: dict[str, Any], ctx: Context, desk: Target) -> Request:
    headers = _content_type(case, "application/json")
    auth = case.get("auth", "ok")
    if auth != "missing":
        headers[SECRET_HEADER] = {"ok": SECRET, "wrong": "not-the-secret", "upper": SECRET.upper()}[auth]
    text = None
    reply_to: int | str | None = ctx.user_id
    if "raw" in case:
        raw = build(case["raw"], ctx)
        content = ctx.fill(raw).encode("utf-8")
    elif "raw_hex" in case:
        content = bytes.fromhex(case["raw_hex"])
    elif "big_body" in case:
        content = b'{"update_id": 1, "x": "' + b"a" * int(case["big_body"]) + b'"}'
    else:
        if "update" in case:
            update = build(case["update"], ctx)
        else:
            text = build(case["text"], ctx)
            name = build(case.get("sender_name", f"Uji{ctx.n}"), ctx)
            chat = {"id": ctx.user_id, "type": "private", "first_name": name}
            update = {
                "update_id": ctx.update_id,
                "message": {
                    "message_id": 10 + ctx.n,
                    "date": 1_700_000_000,
                    "chat": chat,
                    "from": {"id": ctx.user_id, "is_bot": False, "first_name": name},
                    "text": text,
                },
            }
        content = json.dumps(update, ensure_ascii=False).encode("utf-8")
    if case.get("reply_chat") == "group":
        reply_to = ctx.group_id
    stored_id = str(ctx.update_id)
    if "update" in case and isinstance(case["update"].get("update_id"), int):
        stored_id = str(case["update"]["update_id"])
    return Request(TELEGRAM_PATH, content, headers, bool(case.get("chunked")), stored_id, text, reply_to)


def whatsapp_request(case: dict[str, Any], ctx: Context, desk: Target) -> Request:
    public = desk.public_url + WHATSAPP_PATH
    text = None
    if "raw_form" in case:
        raw = build(case["raw_form"], ctx)
        form = dict(parse_qsl(raw, keep_blank_values=True))
        content = raw.encode("ascii")
    elif "big_body" in case:
        form = {"Body": "a" * int(case["big_body"])}
        content = ("Body=" + form["Body"]).encode()
    else:
        if "form" in case:
            form = build(case["form"], ctx)
        else:
            text = build(case["text"], ctx)
            form = inbound_form(desk.twilio.account_sid, ctx.phone, text, sid=ctx.sid)
            form["ProfileName"] = build(case.get("sender_name", form["ProfileName"]), ctx)
            form.update(build(case.get("form_extra", {}), ctx))
        content = httpx.QueryParams(form).__str__().encode("ascii")
    default_type = "application/x-www-form-urlencoded"
    if case.get("content_type") == "application/json":
        content = json.dumps(form).encode()
    headers = _content_type(case, default_type)
    validator = RequestValidator(desk.twilio.auth_token)
    auth = case.get("auth", "ok")
    if auth == "ok":
        headers["X-Twilio-Signature"] = validator.compute_signature(public, form)
    elif auth == "wrong":
        headers["X-Twilio-Signature"] = "bm90LWEtc2lnbmF0dXJlLWF0LWFsbA=="
    elif auth == "local_url":
        headers["X-Twilio-Signature"] = validator.compute_signature(desk.url + WHATSAPP_PATH, form)
    elif auth == "other_body":
        headers["X-Twilio-Signature"] = validator.compute_signature(public, {**form, "Body": "lain"})
    return Request(
        WHATSAPP_PATH,
        content,
        headers,
        bool(case.get("chunked")),
        form.get("MessageSid") or None,
        text,
        form.get("From") or ctx.phone.address,
    )


async def post(desk: Target, request: Request) -> httpx.Response:
    content: Any = request.content
    if request.chunked:

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(request.content), 65536):
                yield request.content[start : start + 65536]

        content = chunks()
    return await desk.http.post(desk.url + request.path, content=content, headers=request.headers)


def received(desk: Target, target: str, chat: int | str) -> list[str]:
    if target == "telegram":
        return [c.text or "" for c in desk.telegram.sent_messages(chat)]
    return [c.body or "" for c in desk.twilio.sent_messages(str(chat))]


async def wait_reply(desk: Target, target: str, chat: int | str, count: int) -> list[str]:
    """The chat's texts once it has at least `count`."""
    if target == "telegram":
        calls = await desk.telegram.wait_for_count(count, chat_id=chat, timeout=5)
        return [c.text or "" for c in calls]
    wa_calls = await desk.twilio.wait_for_count(count, to=str(chat), timeout=5)
    return [c.body or "" for c in wa_calls]


@pytest.mark.parametrize("where", ["in_process", "ehumas_run"])
async def test_every_hostile_case_gets_a_clear_answer_and_changes_nothing_unintended(
    where: str,
    tmp_path: Path,
    database_url: str,
    telegram: TelegramStandIn,
    twilio: TwilioStandIn,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    failures: list[str] = []
    silent: list[tuple[str, str, int | str]] = []
    accepted = 0
    filed: list[tuple[str, str, str, str]] = []  # (case, ticket, expected description mode, input text)
    serving = (
        in_process(database_url, telegram, twilio)
        if where == "in_process"
        else own_process(tmp_path, database_url, telegram, twilio, sessions)
    )
    async with serving as desk:
        n = 0
        for case in CASES:
            for target in case["targets"]:
                n += 1
                label = f"{case['name']}[{target}]"
                ctx = Context(n, telegram.next_update_id(), "SM" + secrets.token_hex(16))
                builder = telegram_request if target == "telegram" else whatsapp_request
                request = builder(case, ctx, desk)
                try:
                    accepted += await run_case(desk, case, target, ctx, request, failures, silent, filed)
                except AssertionError as exc:  # a wait that timed out: report every case, not the first
                    failures.append(f"{label}: {str(exc)[:300]}")

        await desk.settled()
        health = (await desk.http.get(desk.url + "/healthz")).json()
        # The separate process lived through every case (a crash would have ended it).
        assert desk.process is None or (desk.process.alive and desk.process.starts == 1), (
            desk.process and desk.process.log()[-3000:]
        )
        async with desk.sessions() as session:
            events = list((await session.exec(select(InboxEvent))).all())
            failed = list(
                (await session.exec(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED))).all()
            )
            complaints = {c.id: c for c in (await session.exec(select(Complaint))).all()}
            total = int((await session.exec(select(func.count()).select_from(Complaint))).one())

    assert not failures, "\n".join(failures)
    assert health["ok"] and health["inbox_backlog"] == 0 and health["outbox_pending"] == 0, health
    # Refused requests stored nothing; every accepted one is stored once and processed without error.
    assert len(events) == accepted
    assert [(e.id, e.last_error) for e in events if e.last_error] == []
    assert [(r.chat_id, r.last_error) for r in failed] == []
    for label, target, chat in silent:
        assert received(desk, target, chat) == [], f"{label}: expected no answer"
    assert total == len(filed)
    for label, ticket, mode, text in filed:
        stored = complaints[int(ticket.split("-")[1])].description
        expected = (text if mode == "exact" else textsafe.clean(text)).strip()
        if mode == "prefix":
            assert len(stored) == MAX_DESCRIPTION_CHARS and textsafe.clean(text).startswith(stored), label
        else:
            assert stored == expected, (label, stored[:200], expected[:200])


async def run_case(
    desk: Target,
    case: dict[str, Any],
    target: str,
    ctx: Context,
    request: Request,
    failures: list[str],
    silent: list[tuple[str, str, int | str]],
    filed: list[tuple[str, str, str, str]],
) -> int:
    """Post one case and check its answer; return how many events it should have stored."""
    label = f"{case['name']}[{target}]"
    accepted = 0
    texts: list[str] = []
    response = await post(desk, request)
    expected = case["expect_status"]
    if response.status_code not in (expected if isinstance(expected, list) else [expected]):
        failures.append(f"{label}: HTTP {response.status_code} {response.text[:200]!r}, expected {expected}")
        return accepted
    if response.status_code != 200:
        return accepted
    accepted += 1
    chat = request.reply_to
    assert chat is not None
    if "expect_reply" not in case:
        # Every accepted case says what its chat hears: a text, or null for nothing at all.
        failures.append(f"{label}: accepted, but the case names no expect_reply (a text, or null for silence)")
        return accepted
    reply = case["expect_reply"]
    if reply is None:
        silent.append((label, target, chat))
    elif reply:
        texts = await wait_reply(desk, target, chat, 1)
        if reply not in texts[0]:
            failures.append(f"{label}: answered {texts[0][:200]!r}, expected {reply!r}")
            return accepted
    follow = case.get("follow", [])
    # The same person writes on: the name they write under stays the case's (a card shows the last one).
    name = build(case.get("sender_name", ctx.phone.name), ctx)
    step = 1
    for text in follow:
        # Many cases report the same problem: "already reported?" (issue 17) is answered "baru".
        for said in (text, "baru"):
            if target == "telegram":
                await desk.send_telegram(_telegram_text(desk, ctx, said, name))
            else:
                await desk.send_whatsapp(Phone(ctx.phone.number, name), said)
            accepted += 1
            step += 1
            texts = await wait_reply(desk, target, chat, step)
            if "sudah dilaporkan" not in texts[-1]:
                break
    if follow:
        last = texts[-1]
        if "tercatat dengan nomor" not in last:
            failures.append(f"{label}: the dialog did not end in a filed complaint: {last[:200]!r}")
            return accepted
        ticket = last.split("nomor ", 1)[1].split(".", 1)[0]
        filed.append((label, ticket, case.get("expect_description", "exact"), request.text or ""))
        card = await desk.telegram.wait_for(card_of(ticket), timeout=5)
        for needle in case.get("card_contains", []):
            if needle not in card.text:
                failures.append(f"{label}: card lacks {needle!r}")
        for needle in case.get("card_not_contains", []):
            if needle in (card.text or ""):
                failures.append(f"{label}: card shows {needle!r}")

    return accepted


def card_of(ticket: str) -> Callable[[TelegramCall], bool]:
    """Matches the agency card of a ticket among the Bot API calls."""
    return lambda call: call.method == "sendMessage" and f"Aduan {ticket}</b>" in call.text


def _telegram_text(desk: Target, ctx: Context, text: str, name: str) -> dict[str, Any]:
    """A further private message from the case's Telegram user."""
    chat = {"id": ctx.user_id, "type": "private", "first_name": name}
    return {
        "update_id": desk.telegram.next_update_id(),
        "message": {
            "message_id": 1000 + desk.telegram.next_update_id() % 100000,
            "date": 1_700_000_000,
            "chat": chat,
            "from": {"id": ctx.user_id, "is_bot": False, "first_name": name},
            "text": text,
        },
    }

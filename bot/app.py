"""The composition root: create_app(settings) builds everything the bot runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder

from bot import telegram_inbound, whatsapp_inbound
from bot.config import Settings
from bot.delivery import Sender
from bot.dispatcher import DispatchPolicy, OutboxDispatcher
from bot.inbox_worker import InboxWorker
from bot.inbox_writer import writer_for
from bot.media_store import media_loader
from bot.telegram_outbound import TelegramSender, photo_fetcher
from bot.telegram_polling import poll_updates
from bot.telegram_ratelimit import MINUTE_MARGIN, WindowRateLimiter, capacity
from bot.webhooks import telegram_endpoint
from bot.whatsapp import WhatsAppChannel, whatsapp_routes
from handlers import router, sla, texts
from handlers.clock import Clock
from handlers.desk import AgencyInfo, Desk
from handlers.outgoing import Recipient, send_text
from routing import AgencyLexicon, Lexicon
from storage import agencies, inbox, outbox
from storage.agencies import AgencyConfig
from storage.engine import create_engine, create_session_factory, is_unavailable
from storage.models import InboxEvent
from storage.outbox import ChatWindow

log = logging.getLogger(__name__)

TELEGRAM_WEBHOOK_PATH = "/telegram/webhook"
# How long a shutdown waits for in-flight sends to be recorded.
STOP_GRACE_SECONDS = 10.0
# How long the inbox worker lets a busy intake go first before it processes its next event anyway.
INTAKE_FIRST_SECONDS = 0.05
ALLOWED_UPDATES = ["message", "edited_message", "channel_post", "callback_query", "my_chat_member"]


@dataclass
class Tuning:
    """Timings that tests and demos shorten; production uses the defaults."""

    dispatch: DispatchPolicy = field(default_factory=DispatchPolicy)
    inbox_poll_seconds: float = 1.0
    connect_retry_seconds: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Tuning:
        """The timings a deployment configured in [outbox]; the rest at their defaults."""
        box = settings.outbox
        return cls(dispatch=DispatchPolicy(
            lease=timedelta(seconds=box.lease_seconds),
            poll_seconds=box.poll_seconds,
            max_attempts=box.max_attempts,
            backoff_first=box.retry_first_seconds,
            backoff_max=box.retry_max_seconds,
        ))


def build_lexicon(settings: Settings) -> Lexicon:
    """The routing lexicon from the [[opd]] keywords."""
    return Lexicon.build(
        AgencyLexicon(code=opd.code, keywords=opd.keywords, categories=opd.categories, exclude=opd.exclude)
        for opd in settings.opd
    )


def build_desk(settings: Settings, clock: Clock) -> Desk:
    """The handlers' view of the settings."""
    return Desk(
        city=settings.bot.city,
        ticket_prefix=settings.bot.ticket_prefix,
        zone=settings.bot.zone,
        answer_within=timedelta(hours=settings.sla.answer_within_hours),
        remind_before=timedelta(hours=settings.sla.remind_before_hours),
        draft_ttl=timedelta(minutes=settings.bot.draft_expire_minutes),
        humas_chat_id=str(settings.humas.group_chat_id),
        humas_admin_ids=frozenset(str(user) for user in settings.humas.admin_user_ids),
        agencies={opd.code: AgencyInfo(opd.code, opd.name, str(opd.telegram_chat_id)) for opd in settings.opd},
        lexicon=build_lexicon(settings),
        clock=clock,
        flood_max_messages=settings.flood.max_messages,
        flood_window=timedelta(seconds=settings.flood.window_seconds),
    )


def build_telegram(settings: Settings) -> Application:  # type: ignore[type-arg]
    """The python-telegram-bot Application: no Updater (we own webhooks and polling), rate-limited."""
    tg = settings.telegram
    builder = ApplicationBuilder().token(tg.token).updater(None)
    builder = builder.connect_timeout(tg.timeout_seconds).read_timeout(tg.timeout_seconds)
    builder = builder.write_timeout(tg.timeout_seconds)
    # Telegram allows ~30 messages/s overall and 20 per minute per group, in any window
    # (bot.telegram_ratelimit). Retries are the outbox's job (it knows retry_after and keeps the
    # message), so the limiter itself never retries.
    builder = builder.rate_limiter(WindowRateLimiter(
        per_second=tg.max_messages_per_second, per_group_per_minute=tg.max_group_messages_per_minute,
    ))
    base = settings.telegram.api_base_url.rstrip("/")
    if base:
        builder = builder.base_url(base).base_file_url(
            base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file"
        )
    return builder.build()


def group_window(settings: Settings) -> ChatWindow:
    """Telegram's per-group limit as the outbox claims enforce it (group chat ids are negative)."""
    return ChatWindow(
        channel=telegram_inbound.CHANNEL, chat_prefix="-",
        max_sent=capacity(settings.telegram.max_group_messages_per_minute), seconds=60.0 + MINUTE_MARGIN,
    )


@dataclass
class Runtime:
    """What the lifespan opened, for routes and tests to reach."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    desk: Desk
    telegram: Application  # type: ignore[type-arg]
    dispatcher: OutboxDispatcher
    inbox_worker: InboxWorker
    connected: asyncio.Event
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    whatsapp: WhatsAppChannel | None = None

    def spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        """Run a background loop that lives as long as the app."""
        self.tasks.append(asyncio.create_task(coroutine, name=name))

    async def sweep_once(self) -> sla.SweepResult:
        """Run the deadline sweep now (the timer calls this every sweep_seconds)."""
        async with self.sessions() as session, session.begin():
            result = await sla.sweep(session, self.desk)
        if result.reminded or result.reprimanded:
            self.dispatcher.wake()
        return result


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    tuning: Tuning | None = None,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """Build the Starlette app; the database, Telegram client and workers live in its lifespan.

    `extra_routes` lets a front end (the local playground) be served by the same app.
    """
    clock = clock or Clock()
    tuning = tuning or Tuning.from_settings(settings)
    holder: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime = await _start(settings, clock, tuning)
        holder["runtime"] = runtime
        holder.pop("telegram_endpoint", None)  # bound to the previous runtime's sessions, if any
        app.state.runtime = runtime
        try:
            yield
        finally:
            await _stop(runtime)

    def on_stored() -> None:
        holder["runtime"].inbox_worker.wake()

    async def healthz(request: Request) -> JSONResponse:
        runtime = holder["runtime"]
        try:
            async with runtime.sessions() as session:
                backlog = await inbox.count_unprocessed(session)
                pending = await outbox.pending_count(session)
        except Exception as exc:  # noqa: BLE001 (health reports, it does not raise)
            return JSONResponse({"ok": False, "database": str(exc)[:200]}, status_code=503)
        return JSONResponse({
            "ok": True,
            "telegram": runtime.connected.is_set(),
            "inbox_backlog": backlog,
            "outbox_pending": pending,
        })

    async def telegram_webhook(request: Request) -> Any:
        # Built once per runtime (not per request): the webhook is the hot path under load.
        endpoint = holder.get("telegram_endpoint")
        if endpoint is None:
            endpoint = holder["telegram_endpoint"] = telegram_endpoint(
                secret=settings.telegram.webhook_secret, sessions=holder["runtime"].sessions, clock=clock,
                max_body=settings.server.max_body_bytes, on_stored=on_stored,
            )
        return await endpoint(request)

    routes = [Route("/healthz", healthz, methods=["GET"])]
    if settings.telegram.mode == "webhook":
        routes.append(Route(TELEGRAM_WEBHOOK_PATH, telegram_webhook, methods=["POST"]))
    if settings.whatsapp.enabled:
        routes.extend(whatsapp_routes(settings, lambda: holder["runtime"].whatsapp, on_stored=on_stored))
    routes.extend(extra_routes)
    return Starlette(routes=routes, lifespan=lifespan)


async def _start(settings: Settings, clock: Clock, tuning: Tuning) -> Runtime:
    engine = create_engine(settings.database.url, sqlite_busy_timeout_ms=settings.database.sqlite_busy_timeout_ms)
    sessions = create_session_factory(engine)
    async with sessions() as session, session.begin():
        await agencies.sync_agencies(
            session,
            agencies=[AgencyConfig(o.code, o.name, o.telegram_chat_id) for o in settings.opd],
        )
    desk = build_desk(settings, clock)
    telegram = build_telegram(settings)
    # Photos that came through WhatsApp are kept in the media table and uploaded from there.
    senders: dict[str, Sender] = {"telegram": TelegramSender(telegram.bot, load_media=media_loader(sessions))}
    # WhatsApp (Twilio) only when configured; its HTTP clients must be opened here, in the running loop.
    whatsapp = (WhatsAppChannel(settings, sessions, clock, fetch_telegram_photo=photo_fetcher(telegram.bot))
                if settings.whatsapp.enabled else None)
    if whatsapp is not None:
        senders[whatsapp_inbound.CHANNEL] = whatsapp.sender
    # The webhooks' group-commit writer: background work lets it go first (a webhook's sender
    # waits for the answer; the inbox worker and the dispatcher can wait a little).
    intake = writer_for(sessions)
    # Telegram's 20 a minute per group, counted in the database: it holds for all processes together.
    policy = replace(tuning.dispatch, chat_window=group_window(settings))
    dispatcher = OutboxDispatcher(
        sessions, senders, clock, humas_chat_id=desk.humas_chat_id, ticket_prefix=desk.ticket_prefix,
        policy=policy, yield_to=lambda: intake.quiet(INTAKE_FIRST_SECONDS),
    )
    if whatsapp is not None:
        whatsapp.attach(dispatcher, humas_chat_id=desk.humas_chat_id)
    bot = telegram.bot

    async def process(session: AsyncSession, event: InboxEvent, prepared: object = None) -> None:
        inbound = None
        if event.channel == telegram_inbound.CHANNEL:
            inbound = telegram_inbound.decode(event.payload, bot, received_at=event.received_at)
        elif whatsapp is not None and event.channel == whatsapp_inbound.CHANNEL:
            inbound = await whatsapp.inbound(session, event, prepared)
        if inbound is not None:
            await router.handle(session, desk, inbound)

    async def give_up(session: AsyncSession, event: InboxEvent) -> None:
        # The citizen must not wait for an answer that will never come.
        chat = event.chat_key.split(":", 1)
        if event.channel == telegram_inbound.CHANNEL and len(chat) == 2 and chat[1].lstrip("-").isdigit():
            if int(chat[1]) > 0:
                await send_text(session, Recipient(event.channel, chat[1]), texts.PROCESSING_FAILED,
                                now=clock.now())
        elif whatsapp is not None and event.channel == whatsapp_inbound.CHANNEL:
            citizen = whatsapp.citizen_of(event)
            if citizen is not None:
                await send_text(session, citizen, texts.PROCESSING_FAILED, now=clock.now())

    worker = InboxWorker(
        sessions, process, clock, on_give_up=give_up, after_commit=dispatcher.wake,
        poll_seconds=tuning.inbox_poll_seconds, prepare=whatsapp.prepare if whatsapp is not None else None,
        yield_to=lambda: intake.quiet(INTAKE_FIRST_SECONDS),
    )
    runtime = Runtime(settings, engine, sessions, desk, telegram, dispatcher, worker, asyncio.Event(),
                      whatsapp=whatsapp)
    runtime.spawn(_connect(runtime, tuning), "telegram-connect")
    return runtime


async def _connect(runtime: Runtime, tuning: Tuning) -> None:
    """Reach Telegram (getMe), register the webhook or start polling, then let the workers run."""
    settings = runtime.settings
    telegram = runtime.telegram
    while True:
        try:
            await telegram.initialize()
            if settings.telegram.mode == "webhook":
                await telegram.bot.set_webhook(
                    url=settings.server.public_url + TELEGRAM_WEBHOOK_PATH,
                    secret_token=settings.telegram.webhook_secret,
                    allowed_updates=ALLOWED_UPDATES,
                )
            else:
                await telegram.bot.delete_webhook()
            await telegram.start()
            break
        except TelegramError as exc:
            log.warning("cannot reach Telegram yet (%s); retrying in %.0f s", exc, tuning.connect_retry_seconds)
            await asyncio.sleep(tuning.connect_retry_seconds)
    log.info("connected to Telegram as @%s", telegram.bot.username)
    runtime.connected.set()
    runtime.inbox_worker.ready.set()
    runtime.spawn(runtime.inbox_worker.run(), "inbox-worker")
    runtime.spawn(runtime.dispatcher.run(), "outbox-dispatcher")
    runtime.spawn(_sweep_forever(runtime), "sla-sweep")
    if settings.telegram.mode == "polling":
        runtime.spawn(
            poll_updates(telegram.bot, runtime.sessions, runtime.desk.clock, ALLOWED_UPDATES,
                         on_stored=runtime.inbox_worker.wake),
            "telegram-polling",
        )


async def _sweep_forever(runtime: Runtime) -> None:
    """The deadline timer: state lives in the database, so a restart neither loses nor repeats."""
    interval = runtime.settings.sla.sweep_seconds
    while True:
        try:
            result = await runtime.sweep_once()
            if result.reprimanded or result.reminded:
                log.info("deadline sweep: %d reminded, %d reprimanded", result.reminded, result.reprimanded)
        except Exception as exc:  # noqa: BLE001 (the timer must outlive any one failure)
            if is_unavailable(exc):
                log.warning("deadline sweep: database unavailable (%s)", exc)
            else:
                log.exception("deadline sweep failed")
        await asyncio.sleep(interval)


async def _stop(runtime: Runtime) -> None:
    # Let the workers finish what they hold (a message sent must be recorded as sent), then cancel.
    runtime.inbox_worker.close()
    runtime.dispatcher.close()
    workers = [t for t in runtime.tasks if t.get_name() in ("inbox-worker", "outbox-dispatcher")]
    if workers:
        await asyncio.wait(workers, timeout=STOP_GRACE_SECONDS)
    for task in runtime.tasks:
        task.cancel()
    for task in runtime.tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    if runtime.whatsapp is not None:
        with contextlib.suppress(Exception):
            await runtime.whatsapp.close()
    telegram = runtime.telegram
    with contextlib.suppress(Exception):
        if telegram.running:
            await telegram.stop()
    with contextlib.suppress(Exception):
        await telegram.shutdown()
    await runtime.engine.dispose()


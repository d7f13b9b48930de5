"""The composition root: create_app(settings) builds everything the bot runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from bot import open311, telegram, whatsapp
from bot.channels import Channel, ChannelContext, Messenger, Sender
from bot.config import Settings
from bot.health import health_routes
from bot.metrics import ProcessMetrics, metrics_routes, process_label
from bot.runtime.checkpoint import checkpoint_forever
from bot.runtime.dispatcher import DispatchPolicy, OutboxDispatcher
from bot.runtime.inbox_worker import InboxWorker
from bot.runtime.inbox_writer import writer_for
from bot.runtime.observer import Observer
from bot.runtime.retention import purge_daily
from handlers import admission, overdue, rating, router, sla, texts
from handlers.clock import Clock
from handlers.desk import AgencyInfo, Desk, DuplicatePolicy, WebLogin
from handlers.events import ChannelName
from handlers.outgoing import send_text
from routing import AgencyLexicon, Lexicon, OtherMatter
from routing.model_file import load_opinion
from storage import agencies
from storage.agencies import AgencyConfig
from storage.engine import SqliteCheckpointer, create_engine, create_session_factory, is_sqlite, is_unavailable
from storage.models import InboxEvent

log = logging.getLogger(__name__)

# Every messenger the desk speaks. The first is the staff's: agency groups and humas live there.
# Adding a messenger is one package under bot/ and one entry here.
MESSENGERS: tuple[Messenger, ...] = (telegram.MESSENGER, whatsapp.MESSENGER, open311.MESSENGER)

# How long a shutdown waits for in-flight sends to be recorded.
STOP_GRACE_SECONDS = 10.0
# How long the inbox worker lets a busy intake go first before it processes its next event anyway.
INTAKE_FIRST_SECONDS = 0.05


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
        return cls(
            dispatch=DispatchPolicy(
                lease=timedelta(seconds=box.lease_seconds),
                poll_seconds=box.poll_seconds,
                max_attempts=box.max_attempts,
                backoff_first=box.retry_first_seconds,
                backoff_max=box.retry_max_seconds,
            )
        )


def build_lexicon(settings: Settings) -> Lexicon:
    """The routing lexicon from the [[opd]] words and the [[other]] matters, with [routing]'s model."""
    return Lexicon.build(
        (
            AgencyLexicon(
                code=opd.code,
                keywords=opd.keywords,
                categories=opd.categories,
                exclude=opd.exclude,
                needs_problem=opd.needs_problem,
                problems=opd.problems,
                proof=opd.proof,
            )
            for opd in settings.opd
        ),
        [OtherMatter(name=other.name, words=other.words) for other in settings.other],
        load_opinion(settings.routing.model, [opd.code for opd in settings.opd]),
    )


def build_desk(settings: Settings, clock: Clock) -> Desk:
    """The handlers' view of the settings."""
    web_login = None
    if settings.web.enabled:
        from bot.web.auth import DeskAuth

        auth = DeskAuth(settings)
        web_login = WebLogin(link=auth.link, lifetime=auth.link_lifetime)
    return Desk(
        city=settings.bot.city,
        ticket_prefix=settings.bot.ticket_prefix,
        zone=settings.bot.zone,
        answer_within=timedelta(hours=settings.sla.answer_within_hours),
        remind_before=timedelta(hours=settings.sla.remind_before_hours),
        rate_after=timedelta(hours=settings.sla.rate_after_hours) if settings.sla.rate_after_hours else None,
        draft_ttl=timedelta(minutes=settings.bot.draft_expire_minutes),
        humas_chat_id=str(settings.humas.group_chat_id),
        humas_admin_ids=frozenset(str(user) for user in settings.humas.admin_user_ids),
        agencies={opd.code: AgencyInfo(opd.code, opd.name, str(opd.telegram_chat_id)) for opd in settings.opd},
        lexicon=build_lexicon(settings),
        staff_channel=MESSENGERS[0].name,
        channel_labels={messenger.name: messenger.label for messenger in MESSENGERS},
        removes_buttons=frozenset(messenger.name for messenger in MESSENGERS if messenger.removes_buttons),
        holds_messages=frozenset(messenger.name for messenger in MESSENGERS if messenger.holds_messages),
        clock=clock,
        flood_max_messages=settings.flood.max_messages,
        flood_window=timedelta(seconds=settings.flood.window_seconds),
        web_login=web_login,
        map_url=settings.cards.map_url,
        card_location_pin=settings.cards.location_pin,
        staff_flood_max_messages=settings.flood.staff_max_messages,
        public_page=settings.public.enabled,
        public_text=settings.public.show_text,
        duplicates=DuplicatePolicy(
            days=settings.duplicates.days,
            radius_meters=settings.duplicates.radius_meters,
            confirm_within=timedelta(days=settings.sla.confirm_days),
            max_reopen=settings.sla.max_reopen,
        ),
    )


@dataclass
class Runtime:
    """What the lifespan opened, for routes and tests to reach."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    desk: Desk
    channels: dict[ChannelName, Channel]
    dispatcher: OutboxDispatcher
    inbox_worker: InboxWorker
    # Set once every channel has started (Telegram reached): the workers run from then on.
    connected: asyncio.Event
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    # Counts what the workers do (bot.metrics); /healthz reads the messengers' reachability from it.
    observer: Observer = field(default_factory=Observer)

    def spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        """Run a background loop that lives as long as the app."""
        self.tasks.append(asyncio.create_task(coroutine, name=name))

    def channel(self, name: str) -> Channel:
        """The open channel of a messenger (KeyError if it is not switched on)."""
        return self.channels[ChannelName(name)]

    async def sweep_once(self) -> sla.SweepResult:
        """Run the deadline sweep now (the timer calls this every sweep_seconds)."""
        started = time.perf_counter()
        async with self.sessions() as session, session.begin():
            result = await sla.sweep(session, self.desk)
        result = replace(result, rating_requests=await self._request_ratings())
        self.observer.swept(time.perf_counter() - started)
        if result.reminded or result.reprimanded or result.rating_requests:
            self.dispatcher.wake()
        return result

    async def _request_ratings(self) -> int:
        """The late rating requests, a batch per transaction: a backlog of thousands (a desk upgraded
        from before 0010) must not hold SQLite's one connection for minutes."""
        asked = 0
        while True:
            async with self.sessions() as session, session.begin():
                claimed = await rating.request_due_ratings(session, self.desk, limit=rating.RATING_BATCH)
            asked += claimed
            if claimed < rating.RATING_BATCH:
                return asked
            # Whoever waits for the connection (a webhook, the dispatcher) gets it before the next batch.
            await asyncio.sleep(0)


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    tuning: Tuning | None = None,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """Build the Starlette app; the database, the channels and the workers live in its lifespan.

    `extra_routes` lets a front end (the local playground) be served by the same app.
    """
    clock = clock or Clock()
    tuning = tuning or Tuning.from_settings(settings)
    holder: dict[str, Runtime] = {}
    metrics = ProcessMetrics(process_label(settings.metrics))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime = await _start(
            settings, clock, tuning, on_stored=lambda: holder["runtime"].inbox_worker.wake(), observer=metrics
        )
        holder["runtime"] = runtime
        app.state.runtime = runtime
        try:
            yield
        finally:
            await _stop(runtime)

    def current(name: ChannelName) -> Callable[[], Channel]:
        # Routes exist before the lifespan opens the channels: they look theirs up per request.
        return lambda: holder["runtime"].channels[name]

    routes: list[BaseRoute] = [
        *health_routes(lambda: holder["runtime"]),
        *metrics_routes(settings.metrics, lambda: holder["runtime"]),
    ]
    for messenger in MESSENGERS:
        if messenger.enabled(settings):
            routes.extend(messenger.routes(settings, current(messenger.name)))
    if settings.web.enabled:
        from bot.web.routes import desk_routes

        routes.extend(desk_routes(settings, lambda: holder["runtime"]))
    # The public page and the Open311 API (issue 16): each adds nothing while its section is off.
    from bot.open311.routes import open311_routes
    from bot.public.routes import public_routes

    routes.extend(public_routes(settings, lambda: holder["runtime"]))
    routes.extend(open311_routes(settings, lambda: holder["runtime"]))
    routes.extend(extra_routes)
    return Starlette(routes=routes, lifespan=lifespan)


async def _start(
    settings: Settings, clock: Clock, tuning: Tuning, *, on_stored: Callable[[], None], observer: Observer
) -> Runtime:
    url = settings.database.url
    busy_ms = settings.database.sqlite_busy_timeout_ms
    # SQLite: the WAL is checkpointed by a task of its own (bot.runtime.checkpoint), not by commits.
    engine = create_engine(url, sqlite_busy_timeout_ms=busy_ms, sqlite_checkpoint_elsewhere=is_sqlite(url))
    sessions = create_session_factory(engine)
    async with sessions() as session, session.begin():
        await agencies.sync_agencies(
            session,
            agencies=[AgencyConfig(o.code, o.name, o.telegram_chat_id) for o in settings.opd],
        )
    desk = build_desk(settings, clock)
    humas = desk.staff(desk.humas_chat_id)
    channels: dict[ChannelName, Channel] = {}

    async def fetch_photo(source: ChannelName, ref: str) -> bytes:
        return await channels[source].fetch_photo(ref)

    async def photo_allowance(channel: ChannelName, chat_id: str, at: datetime) -> int | None:
        async with sessions() as session:
            return await admission.photo_allowance(session, desk, channel=channel, chat_id=chat_id, at=at)

    context = ChannelContext(
        settings=settings,
        sessions=sessions,
        clock=clock,
        humas=humas,
        fetch_photo=fetch_photo,
        on_stored=on_stored,
        connect_retry_seconds=tuning.connect_retry_seconds,
        photo_allowance=photo_allowance,
    )
    # Channels open their HTTP clients here, in the running loop.
    for messenger in MESSENGERS:
        if messenger.enabled(settings):
            channels[messenger.name] = messenger.open(context)
    senders: dict[str, Sender] = {name: channel.sender for name, channel in channels.items()}
    # The webhooks' group-commit writer: background work lets it go first (a webhook's sender
    # waits for the answer; the inbox worker and the dispatcher can wait a little).
    intake = writer_for(sessions)
    intake.on_new = observer.inbox_received
    # A per-chat window a messenger enforces (Telegram's 20 a minute per group), counted in the
    # database: it holds for all processes together.
    windows = [w for m in MESSENGERS if m.name in channels and (w := m.chat_window(settings)) is not None]
    policy = replace(tuning.dispatch, chat_window=windows[0] if windows else None)
    dispatcher = OutboxDispatcher(
        sessions,
        senders,
        clock,
        humas=humas,
        ticket_prefix=desk.ticket_prefix,
        policy=policy,
        yield_to=lambda: intake.quiet(INTAKE_FIRST_SECONDS),
        build_document=lambda session, recipe: overdue.build_document(session, desk, recipe),
        observer=observer,
    )

    async def process(session: AsyncSession, event: InboxEvent, prepared: object = None) -> None:
        channel = channels.get(ChannelName(event.channel))
        if channel is None:
            log.warning("inbox event %s of a channel that is switched off (%s); skipped", event.id, event.channel)
            return
        inbound = await channel.to_inbound(session, event, prepared)
        if inbound is not None:
            await router.handle(session, desk, inbound)

    async def prepare(event: InboxEvent) -> object:
        channel = channels.get(ChannelName(event.channel))
        return None if channel is None else await channel.prepare(event)

    async def give_up(session: AsyncSession, event: InboxEvent) -> None:
        # The citizen must not wait for an answer that will never come.
        channel = channels.get(ChannelName(event.channel))
        citizen = channel.citizen_of(event) if channel is not None else None
        if citizen is not None:
            await send_text(session, citizen, texts.PROCESSING_FAILED, now=clock.now())

    worker = InboxWorker(
        sessions,
        process,
        clock,
        on_give_up=give_up,
        after_commit=dispatcher.wake,
        poll_seconds=tuning.inbox_poll_seconds,
        prepare=prepare,
        yield_to=lambda: intake.quiet(INTAKE_FIRST_SECONDS),
        observer=observer,
        # The replies an event queues are claimed in its transaction and sent at once.
        hand_off=dispatcher,
    )
    runtime = Runtime(
        settings, engine, sessions, desk, channels, dispatcher, worker, asyncio.Event(), observer=observer
    )
    if is_sqlite(url):
        runtime.spawn(checkpoint_forever(SqliteCheckpointer(url, busy_timeout_ms=busy_ms)), "sqlite-checkpoint")
    runtime.spawn(_connect(runtime), "connect")
    return runtime


async def _connect(runtime: Runtime) -> None:
    """Start every channel (Telegram retries until reached), then let the workers run."""
    await asyncio.gather(*(channel.start(runtime.dispatcher) for channel in runtime.channels.values()))
    runtime.connected.set()
    runtime.inbox_worker.ready.set()
    runtime.spawn(runtime.inbox_worker.run(), "inbox-worker")
    runtime.spawn(runtime.dispatcher.run(), "outbox-dispatcher")
    runtime.spawn(_sweep_forever(runtime), "sla-sweep")
    runtime.spawn(purge_daily(runtime.sessions, runtime.settings, runtime.desk.clock), "retention")


async def _sweep_forever(runtime: Runtime) -> None:
    """The deadline timer: state lives in the database, so a restart neither loses nor repeats."""
    interval = runtime.settings.sla.sweep_seconds
    while True:
        try:
            result = await runtime.sweep_once()
            if result.reprimanded or result.reminded:
                log.info("deadline sweep: %d reminded, %d reprimanded", result.reminded, result.reprimanded)
        except Exception as exc:
            if is_unavailable(exc):
                log.warning("deadline sweep: database unavailable (%s)", exc)
            else:
                log.exception("deadline sweep failed")
        await asyncio.sleep(interval)


async def _stop(runtime: Runtime) -> None:
    # Let the workers finish what they hold (a message sent must be recorded as sent), then cancel.
    # The inbox worker first: the event it finishes may hand its replies to the dispatcher.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STOP_GRACE_SECONDS
    runtime.inbox_worker.close()
    worker = [t for t in runtime.tasks if t.get_name() == "inbox-worker"]
    if worker:
        await asyncio.wait(worker, timeout=STOP_GRACE_SECONDS)
    runtime.dispatcher.close()
    dispatcher = [t for t in runtime.tasks if t.get_name() == "outbox-dispatcher"]
    if dispatcher:
        await asyncio.wait(dispatcher, timeout=max(0.0, deadline - loop.time()))
    for task in runtime.tasks:
        task.cancel()
    for task in runtime.tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    for channel in runtime.channels.values():
        with contextlib.suppress(Exception):
            await channel.close()
    await runtime.engine.dispose()

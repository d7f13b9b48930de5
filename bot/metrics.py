"""GET /metrics: the desk's figures (from the database) and this process's counters, for Prometheus.

Two kinds of figures, so that several processes on one PostgreSQL database add up:
- what describes the desk (backlogs, the oldest waiting row, complaints by agency and state,
  overdue per agency) is read from the database at each scrape: every process answers the same,
  and nothing is counted twice when summed with max() or read from any one process;
- what one process did (events processed, sends, their latency, 429s, retries, sweeps, its
  connection pool) is counted in memory with a `process` label: sum() over processes.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.config import MetricsSection
from bot.runtime.observer import Observer, SendOutcome
from storage import reports
from storage.assignments import HUMAS_OWNER
from storage.models import Complaint, InboxEvent, OutboxMessage, OutboxStatus

if TYPE_CHECKING:
    from bot.app import Runtime

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Send latency: a send is tens of milliseconds; one waiting for a group's minute, up to a minute.
SEND_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
WAITING = (OutboxStatus.PENDING.value, OutboxStatus.SENDING.value)


def process_label(settings: MetricsSection) -> str:
    """The configured process label, or host name and process id."""
    return settings.process or f"{socket.gethostname()}-{os.getpid()}"


class ProcessMetrics(Observer):
    """This process's counters, in a registry of its own (several apps in one test process do not mix)."""

    def __init__(self, process: str) -> None:
        super().__init__()
        self.process = process
        self.registry = CollectorRegistry()
        labels = ["process", "channel"]
        self._received = Counter(
            "ehumas_inbox_events_received",
            "New inbound events stored (redeliveries not counted).",
            labels,
            registry=self.registry,
        )
        self._processed = Counter(
            "ehumas_inbox_events_processed",
            "Inbound events applied to the desk, by outcome (ok, failed).",
            [*labels, "outcome"],
            registry=self.registry,
        )
        self._sends = Counter(
            "ehumas_sends",
            "Send attempts by outcome (sent, retry, failed, held, expired).",
            [*labels, "outcome"],
            registry=self.registry,
        )
        self._send_seconds = Histogram(
            "ehumas_send_duration_seconds",
            "From taking an outbox row to the messenger's answer (rate limiter included).",
            labels,
            buckets=SEND_BUCKETS,
            registry=self.registry,
        )
        self._limited = Counter(
            "ehumas_send_rate_limited",
            "Sends the messenger refused for speed (HTTP 429).",
            labels,
            registry=self.registry,
        )
        self._retries = Counter(
            "ehumas_send_retries", "Sends scheduled for another attempt.", labels, registry=self.registry
        )
        self._sweep = Histogram(
            "ehumas_deadline_sweep_duration_seconds",
            "How long each deadline sweep took.",
            ["process"],
            registry=self.registry,
        )
        self._pool = Gauge(
            "ehumas_db_pool_connections",
            "This process's database connections, by state (in_use, idle).",
            ["process", "state"],
            registry=self.registry,
        )

    def inbox_received(self, channel: str) -> None:
        """Count a new inbound event."""
        self._received.labels(self.process, channel).inc()

    def inbox_processed(self, channel: str, outcome: str, seconds: float) -> None:
        """Count a processed (or failed) event."""
        self._processed.labels(self.process, channel, outcome).inc()

    def send(
        self, channel: str, outcome: SendOutcome, seconds: float, *, rate_limited: bool, unreachable: bool
    ) -> None:
        """Count a send attempt and its time."""
        super().send(channel, outcome, seconds, rate_limited=rate_limited, unreachable=unreachable)
        self._sends.labels(self.process, channel, outcome.value).inc()
        self._send_seconds.labels(self.process, channel).observe(seconds)
        if rate_limited:
            self._limited.labels(self.process, channel).inc()
        if outcome is SendOutcome.RETRY:
            self._retries.labels(self.process, channel).inc()

    def swept(self, seconds: float) -> None:
        """Time a deadline sweep."""
        self._sweep.labels(self.process).observe(seconds)

    def read_pool(self, engine: AsyncEngine) -> None:
        """Set the pool gauges from the engine (at scrape time)."""
        pool = engine.sync_engine.pool
        in_use = getattr(pool, "checkedout", lambda: 0)()
        idle = getattr(pool, "checkedin", lambda: 0)()
        self._pool.labels(self.process, "in_use").set(in_use)
        self._pool.labels(self.process, "idle").set(idle)


@dataclass
class DeskFigures:
    """What describes the desk, read from the database at one moment."""

    inbox_backlog: int = 0
    inbox_oldest_seconds: float = 0.0
    outbox_backlog: dict[str, int] = field(default_factory=dict)
    outbox_oldest_seconds: dict[str, float] = field(default_factory=dict)
    outbox_held: dict[str, int] = field(default_factory=dict)
    complaints: dict[tuple[str, str], int] = field(default_factory=dict)
    overdue: dict[str, int] = field(default_factory=dict)
    agencies: list[str] = field(default_factory=list)


def _age(now: datetime, then: datetime | None) -> float:
    return max(0.0, (now - then).total_seconds()) if then is not None else 0.0


async def read_desk(session: AsyncSession, *, now: datetime, agencies: Iterable[str]) -> DeskFigures:
    """The desk's figures: a handful of aggregate queries, each answered from an index or a small range."""
    figures = DeskFigures(agencies=[*agencies, HUMAS_OWNER])
    waiting_inbox = col(InboxEvent.processed_at).is_(None)
    count, oldest = (
        await session.exec(select(func.count(), func.min(InboxEvent.received_at)).where(waiting_inbox))  # type: ignore[call-overload]
    ).one()
    figures.inbox_backlog, figures.inbox_oldest_seconds = int(count), _age(now, oldest)
    rows = await session.exec(
        select(OutboxMessage.channel, func.count(), func.min(OutboxMessage.created_at))  # type: ignore[call-overload]
        .where(col(OutboxMessage.status).in_(WAITING))
        .group_by(OutboxMessage.channel)
    )
    for channel, n, first in rows.all():
        figures.outbox_backlog[channel] = int(n)
        figures.outbox_oldest_seconds[channel] = _age(now, first)
    held = await session.exec(
        select(OutboxMessage.channel, func.count())  # type: ignore[call-overload]
        .where(OutboxMessage.status == OutboxStatus.HELD.value)
        .group_by(OutboxMessage.channel)
    )
    figures.outbox_held = {channel: int(n) for channel, n in held.all()}
    states = await session.exec(
        select(Complaint.opd_code, Complaint.status, func.count()).group_by(Complaint.opd_code, Complaint.status)  # type: ignore[call-overload]
    )
    for opd, state, n in states.all():
        figures.complaints[(opd or HUMAS_OWNER, state)] = int(n)
    summary = await reports.overdue_summary(session, now=now, per_owner=0)
    figures.overdue = {(owner or HUMAS_OWNER): n for owner, n in summary.counts.items()}
    return figures


class DeskCollector(Collector):
    """Yields one scrape's DeskFigures as metric families (the figures were read just before)."""

    def __init__(self, figures: DeskFigures, channels: Iterable[str]) -> None:
        self.figures = figures
        self.channels = list(channels)

    def collect(self) -> Iterable[Metric]:
        """The desk's gauges; every configured agency and channel appears, with 0 when it has nothing."""
        f = self.figures
        yield GaugeMetricFamily("ehumas_inbox_backlog", "Inbound events stored and not yet processed.", f.inbox_backlog)
        yield GaugeMetricFamily(
            "ehumas_inbox_oldest_waiting_seconds",
            "Age of the oldest unprocessed inbound event (0: none).",
            f.inbox_oldest_seconds,
        )
        backlog = GaugeMetricFamily(
            "ehumas_outbox_backlog", "Outgoing messages pending or being sent.", labels=["channel"]
        )
        oldest = GaugeMetricFamily(
            "ehumas_outbox_oldest_waiting_seconds",
            "Age of the oldest pending outgoing message (0: none).",
            labels=["channel"],
        )
        held = GaugeMetricFamily(
            "ehumas_outbox_held", "Messages held until the citizen writes again (WhatsApp).", labels=["channel"]
        )
        for channel in sorted({*self.channels, *f.outbox_backlog, *f.outbox_held}):
            backlog.add_metric([channel], f.outbox_backlog.get(channel, 0))
            oldest.add_metric([channel], f.outbox_oldest_seconds.get(channel, 0.0))
            held.add_metric([channel], f.outbox_held.get(channel, 0))
        yield from (backlog, oldest, held)
        complaints = GaugeMetricFamily(
            "ehumas_complaints", "Complaints by agency (HUMAS: not routed yet) and state.", labels=["agency", "state"]
        )
        for (agency, state), n in sorted(f.complaints.items()):
            complaints.add_metric([agency, state], n)
        yield complaints
        overdue = GaugeMetricFamily(
            "ehumas_complaints_overdue", "Open complaints past their answer deadline, by agency.", labels=["agency"]
        )
        for agency in sorted({*f.agencies, *f.overdue}):
            overdue.add_metric([agency], f.overdue.get(agency, 0))
        yield overdue


def allowed(request: Request, settings: MetricsSection) -> bool:
    """Whether the request carries the bearer token or comes from an allowed address."""
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if settings.token and scheme.lower() == "bearer":
        # Constant time: the comparison does not tell how much of a guess was right.
        if hmac.compare_digest(given.strip().encode(), settings.token.encode()):
            return True
    if not settings.allow or request.client is None:
        return False
    try:
        address = ipaddress.ip_address(request.client.host)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(item, strict=False) for item in settings.allow)


def exposition(process: ProcessMetrics, desk: DeskCollector) -> bytes:
    """This process's counters followed by the desk's gauges, in Prometheus' text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(desk)
    return generate_latest(process.registry) + generate_latest(registry)


def denied(settings: MetricsSection) -> Response:
    """401 when a token would open it (the client may have sent a wrong one), else 403."""
    if settings.token:
        return PlainTextResponse("unauthorized\n", status_code=401, headers={"WWW-Authenticate": "Bearer"})
    return PlainTextResponse("forbidden\n", status_code=403)


def metrics_routes(settings: MetricsSection, runtime: Callable[[], Runtime]) -> list[BaseRoute]:
    """GET /metrics, guarded by [metrics] token or allow."""

    async def metrics(request: Request) -> Response:
        if not allowed(request, settings):
            return denied(settings)
        current = runtime()
        process = current.observer
        assert isinstance(process, ProcessMetrics)
        try:
            async with current.sessions() as session:
                figures = await read_desk(
                    session, now=current.desk.clock.now(), agencies=(opd.code for opd in current.settings.opd)
                )
        except Exception:
            # Prometheus records the failed scrape (`up` is 0); the reason stays in the log.
            log.warning("metrics: the database did not answer", exc_info=True)
            return PlainTextResponse("database unavailable\n", status_code=503)
        process.read_pool(current.engine)
        body = exposition(process, DeskCollector(figures, current.channels))
        return Response(body, media_type=CONTENT_TYPE)

    return [Route("/metrics", metrics, methods=["GET"])]

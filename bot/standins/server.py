"""Shared plumbing of the stand-ins: an in-loop uvicorn server, a call log, fault plans, rate windows."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dtm
import time
from collections.abc import Callable, Collection, Hashable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import uvicorn
from starlette.applications import Starlette
from starlette.types import ASGIApp


class StandInServer:
    """Serves an ASGI app with uvicorn on 127.0.0.1 (a free port) inside the running event loop."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", shutdown_grace: float = 2.0) -> None:
        """Prepare the server; nothing is bound until start() or `async with`."""
        # log_config=None and no log_level: the host process (pytest, the playground bot) owns
        # logging; uvicorn must not reconfigure the loggers the bot's own server uses.
        self._config = uvicorn.Config(app, host=host, port=0, lifespan="off", log_config=None)
        self._grace = shutdown_grace
        self._server: uvicorn.Server | None = None
        self.host = host
        self.port: int | None = None

    @property
    def url(self) -> str:
        """The server's origin, e.g. "http://127.0.0.1:54321"."""
        if self.port is None:
            raise RuntimeError("stand-in server is not running: use it as 'async with'")
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Bind a free port and accept connections when this returns."""
        config = self._config
        config.load()
        server = uvicorn.Server(config)
        server.lifespan = config.lifespan_class(config)
        # Server.startup() binds and starts serving (loop.create_server). We skip Server.serve():
        # its main loop ticks every 0.1 s, its shutdown sleeps 0.1 s and polls, and it captures
        # SIGINT/SIGTERM, which belong to the host process.
        await server.startup()
        self.port = server.servers[0].sockets[0].getsockname()[1]
        self._server = server

    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish (cancel them after the grace), close."""
        server, self._server = self._server, None
        if server is None:
            return
        for listener in server.servers:
            listener.close()
        for connection in list(server.server_state.connections):
            connection.shutdown()  # closes idle keep-alive connections, ends busy ones after reply
        tasks = set(server.server_state.tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self._grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=self._grace)
        for listener in server.servers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(listener.wait_closed(), self._grace)
        self.port = None

    async def __aenter__(self) -> Self:
        """Start the server."""
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop the server."""
        await self.stop()


def utcnow() -> dtm.datetime:
    """The current time, timezone-aware UTC."""
    return dtm.datetime.now(dtm.UTC)


@dataclass(eq=False)  # identity: two identical requests are two calls
class Call:
    """One request a stand-in received, with what it answered."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    at: dtm.datetime = field(default_factory=utcnow)
    status: int | None = None  # HTTP status answered; None while the request is still pending
    result: Any = None  # the object answered (a Message, a Message resource, ...)
    fault: str | None = None  # set when an injected fault answered: "429", "hang", ...

    @property
    def ok(self) -> bool:
        """True when answered successfully and not by an injected fault."""
        return self.fault is None and self.status is not None and self.status < 400

    def __str__(self) -> str:
        """A one-line summary for assertion messages."""
        state = "pending" if self.status is None else str(self.status)
        if self.fault:
            state += f" fault={self.fault}"
        shown = {k: v for k, v in self.params.items() if v not in (None, "")}
        text = repr(shown)
        return f"{self.at:%H:%M:%S.%f} {self.method} [{state}] {text[:200]}"


CallT = TypeVar("CallT", bound=Call)


class CallLog(Generic[CallT]):
    """The calls a stand-in recorded, awaitable without polling."""

    def __init__(self) -> None:
        """Start empty."""
        self.calls: list[CallT] = []
        # Replaced on every change: a waiter holds the event current when it looked, so a change
        # between its look and its wait is never missed.
        self._changed = asyncio.Event()

    def record(self, call: CallT) -> CallT:
        """Append a call and wake the waiters."""
        self.calls.append(call)
        self.changed()
        return call

    def finish(self, call: CallT) -> None:
        """Record a call now answered, or wake the waiters of one recorded while pending."""
        if any(recorded is call for recorded in reversed(self.calls)):
            self.changed()
        else:
            self.record(call)

    def changed(self) -> None:
        """Wake the waiters: a call was added, or a pending one got its answer."""
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    def describe(self, last: int = 15) -> str:
        """The last calls, one per line, for assertion messages."""
        if not self.calls:
            return "  (no calls recorded)"
        lines = [f"  {call}" for call in self.calls[-last:]]
        if len(self.calls) > last:
            lines.insert(0, f"  ... {len(self.calls) - last} earlier calls")
        return "\n".join(lines)

    async def wait_for(self, predicate: Callable[[CallT], bool], timeout: float, what: str) -> CallT:
        """Return the first recorded call satisfying predicate, waiting for it up to timeout."""
        matches = await self._wait(lambda: [c for c in self.calls if predicate(c)][:1], timeout, what)
        return matches[0]

    async def wait_for_count(
        self, n: int, predicate: Callable[[CallT], bool], timeout: float, what: str
    ) -> list[CallT]:
        """Return the matching calls once there are at least n, waiting up to timeout."""

        def enough() -> list[CallT]:
            matches = [c for c in self.calls if predicate(c)]
            return matches if len(matches) >= n else []

        return await self._wait(enough, timeout, f"{n} x {what}")

    async def _wait(self, check: Callable[[], list[CallT]], timeout: float, what: str) -> list[CallT]:
        """Re-run check on every change until it returns something, or fail after timeout."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    changed = self._changed
                    if found := check():
                        return found
                    await changed.wait()
        except TimeoutError:
            raise AssertionError(f"stand-in: no {what} within {timeout}s; recent calls:\n{self.describe()}") from None


@dataclass
class Fault:
    """An injected failure for the next matching calls."""

    status: int
    remaining: int | None = 1  # None: every matching call until cleared
    hang: float | None = None  # seconds to hold the request before answering
    key: Hashable | None = None  # only calls for this chat / recipient; None: any
    methods: Collection[str] | None = None  # only these methods; None: any
    details: dict[str, Any] = field(default_factory=dict)  # retry_after, code, message, ...
    skip: int = 0  # matching calls to let through first (e.g. fail the second part of a split message)


def busiest(times: list[float], window: float) -> int:
    """The most events within any `window` seconds (to check a call log against a rate limit)."""
    times = sorted(times)
    best = start = 0
    for end in range(len(times)):
        while times[end] - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


class SlidingWindow:
    """The times of the requests a stand-in accepted within a sliding window, for its rate limits."""

    def __init__(self, limit: int, seconds: float) -> None:
        """At most `limit` requests in any `seconds`."""
        self.limit, self.seconds = limit, seconds
        self.times: collections.deque[float] = collections.deque()

    def wait(self) -> float:
        """Seconds until one more request fits (0: now)."""
        now = time.monotonic()
        while self.times and now - self.times[0] >= self.seconds:
            self.times.popleft()
        return 0.0 if len(self.times) < self.limit else self.times[0] + self.seconds - now

    def take(self) -> None:
        """Count a request accepted now."""
        self.times.append(time.monotonic())


class FaultPlan:
    """The queue of injected failures, consumed in order."""

    def __init__(self) -> None:
        """Start with no faults."""
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Queue a fault after the ones already queued."""
        if fault.remaining is None or fault.remaining > 0:
            self._faults.append(fault)

    def clear(self) -> None:
        """Drop every queued fault."""
        self._faults.clear()

    def take(self, method: str, key: Hashable | None) -> Fault | None:
        """Consume and return the fault for this call, if any."""
        # Keyed faults first, so a fail_chat() is not eaten by an unrelated fail_next().
        for fault in sorted(self._faults, key=lambda f: f.key is None):
            if fault.methods is not None and method not in fault.methods:
                continue
            if fault.key is not None and fault.key != key:
                continue
            if fault.skip > 0:
                fault.skip -= 1  # this call passes this fault by; another may still apply
                continue
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
            return fault
        return None


class StandIn(Generic[CallT]):
    """Base of the stand-ins: owns the server, the call log, the faults, the hang release."""

    def __init__(self) -> None:
        """Build the app; the server starts in `async with`."""
        self._log: CallLog[CallT] = CallLog()
        self._faults = FaultPlan()
        self._closing = asyncio.Event()
        self._server = StandInServer(self._build_app())

    def _build_app(self) -> Starlette:
        """The Starlette app speaking the wire protocol (subclasses)."""
        raise NotImplementedError

    async def _on_start(self) -> None:
        """Hook: the server is accepting."""

    def _on_closing(self) -> None:
        """Hook: shutting down; wake whatever waits (long polls)."""

    async def _on_stop(self) -> None:
        """Hook: the server has stopped."""

    @property
    def origin(self) -> str:
        """The server's origin, e.g. "http://127.0.0.1:54321"."""
        return self._server.url

    @property
    def calls(self) -> list[CallT]:
        """Every recorded call, in order."""
        return self._log.calls

    def clear_faults(self) -> None:
        """Drop every injected fault not yet consumed."""
        self._faults.clear()

    async def wait_for(self, predicate: Callable[[CallT], bool], timeout: float = 5.0) -> CallT:
        """Await the first recorded call satisfying predicate; AssertionError after timeout."""
        what = getattr(predicate, "__name__", "call")
        return await self._log.wait_for(predicate, timeout, f"call matching {what}")

    async def _hang(self, seconds: float) -> None:
        """Hold a request for seconds, or until shutdown, whichever comes first."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    async def __aenter__(self) -> Self:
        """Start serving."""
        self._closing.clear()
        await self._server.start()
        await self._on_start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Release hung requests and long polls, then stop serving."""
        self._closing.set()
        self._on_closing()
        await self._server.stop()
        await self._on_stop()

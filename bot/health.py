"""GET /healthz (can this process serve: database and messengers answer) and GET /readyz (ready for traffic).

A monitor that looks only at the status code must see trouble: both answer 503 when something
they check is down. The bodies name what, in a word; the reasons (host names, driver messages)
go to the log, never to whoever asks.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from storage import inbox, outbox

if TYPE_CHECKING:
    from bot.app import Runtime

log = logging.getLogger(__name__)

# The workers /readyz requires to be running.
WORKERS = ("inbox-worker", "outbox-dispatcher")


@functools.cache
def _head() -> str:
    """The newest migration shipped with the code (read once)."""
    from storage.migrate import current_head

    return current_head()


@functools.cache
def _migrations(version: str | None) -> str:
    """/readyz's word for the schema's revision: ok, behind (an upgrade is due) or ahead (a newer release
    migrated it: `ehumas db downgrade`)."""
    from storage.migrate import is_known

    if version == _head():
        return "ok"
    return "behind" if version is None or is_known(version) else "ahead"


def health_routes(runtime: Callable[[], Runtime]) -> list[BaseRoute]:
    """/healthz and /readyz of the running app."""

    async def healthz(request: Request) -> JSONResponse:
        current = runtime()
        try:
            async with current.sessions() as session:
                backlog = await inbox.count_unprocessed(session)
                pending = await outbox.pending_count(session)
        except Exception:  # health reports, it does not raise
            log.warning("healthz: the database did not answer", exc_info=True)
            return JSONResponse({"ok": False, "database": "unavailable"}, status_code=503)
        # A messenger is down until it has connected, and while its latest send found nobody answering.
        reachable: dict[str, bool] = {
            name: channel.connected and not current.observer.unreachable(name)
            for name, channel in current.channels.items()
        }
        ok = all(reachable.values())
        body: dict[str, Any] = {"ok": ok, **reachable, "inbox_backlog": backlog, "outbox_pending": pending}
        return JSONResponse(body, status_code=200 if ok else 503)

    async def readyz(request: Request) -> JSONResponse:
        current = runtime()
        checks: dict[str, str] = {}
        try:
            async with current.sessions() as session:
                connection = await session.connection()
                version = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar()
            checks["database"] = "ok"
            checks["migrations"] = _migrations(version)
        except Exception:
            log.warning("readyz: the database did not answer", exc_info=True)
            checks["database"] = "unavailable"
        running = {task.get_name() for task in current.tasks if not task.done()}
        checks["workers"] = "ok" if current.connected.is_set() and running.issuperset(WORKERS) else "starting"
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse({"ready": ready, **checks}, status_code=200 if ready else 503)

    return [Route("/healthz", healthz, methods=["GET"]), Route("/readyz", readyz, methods=["GET"])]

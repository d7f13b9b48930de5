"""GET /publik/ and /publik/aduan/<ticket>: server-rendered, autoescaped, cached for a minute.

Nothing here reads a citizen: the page is built from handlers.public_view, which shows figures,
categories, areas and times, and texts only masked and only with [public] show_text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.config import Settings
from bot.public.cache import TTL_SECONDS, TtlCache
from bot.web.render import security_headers
from bot.web.routes import STATIC as DESK_STATIC
from handlers import public_view, reports
from handlers.desk import Desk
from handlers.texts import public as texts
from handlers.timefmt import duration, hours

if TYPE_CHECKING:
    from bot.app import Runtime

TEMPLATES = Path(__file__).resolve().parent / "templates"
PREFIX = "/publik"
STATIC_PATH = PREFIX + "/static"
# Ticket numbers are database ids (a 32-bit integer on PostgreSQL): a larger one names no complaint.
MAX_TICKET = 2**31 - 1


@dataclass(frozen=True)
class Rendered:
    """A page as the cache keeps it: the status and the body."""

    status: int
    body: bytes


def _environment(desk: Desk, settings: Settings) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        wita=lambda moment: "" if moment is None else desk.local_time(moment),
        hours=lambda delta: "-" if delta is None else hours(delta),
        duration=lambda delta: "-" if delta is None else duration(delta),
        percent=reports.percent,
    )
    env.globals.update(
        city=desk.city,
        static=STATIC_PATH,
        deadline_hours=f"{settings.sla.answer_within_hours:g}",
        min_reports=settings.public.min_reports,
        show_text=settings.public.show_text,
        open311=settings.open311.enabled,
        example=desk.ticket(42),
    )
    return env


def public_routes(settings: Settings, current: Callable[[], Runtime]) -> list[BaseRoute]:
    """The /publik/ routes (none while [public] is off); `current` is the running lifespan's Runtime."""
    if not settings.public.enabled:
        return []
    config = public_view.PublicSettings(
        min_reports=settings.public.min_reports, show_text=settings.public.show_text, launch=settings.public.launch_day
    )
    headers = security_headers(settings)
    # Public and the same for everyone: a proxy in front may keep it as long as we do.
    headers["Cache-Control"] = f"public, max-age={int(TTL_SECONDS)}"
    cache: TtlCache[Rendered] = TtlCache()
    envs: dict[str, Environment] = {}

    def env(desk: Desk) -> Environment:
        if "env" not in envs:
            envs["env"] = _environment(desk, settings)
        return envs["env"]

    def answer(page: Rendered) -> Response:
        return Response(page.body, status_code=page.status, headers=headers, media_type="text/html")

    async def index(request: Request) -> Response:
        runtime = current()
        desk = runtime.desk

        async def build() -> Rendered:
            async with runtime.sessions() as session:
                board = await public_view.board(session, desk, config)
            charts = {
                "weeks": board.week_labels,
                "weekly": [{"label": label, "data": data} for label, data in board.weekly],
                # desk.js draws these charts too; the public page has only the weekly one.
                "onTime": [],
                "categories": [],
            }
            html = env(desk).get_template("index.html").render(board=board, charts=charts)
            return Rendered(200, html.encode())

        return answer(await cache.get_or_compute("index", build))

    async def complaint(request: Request) -> Response:
        runtime = current()
        desk = runtime.desk
        number = desk.parse_ticket(str(request.path_params["ticket"]))
        if number is not None and number > MAX_TICKET:
            number = None

        async def build() -> Rendered:
            found = None
            if number is not None:
                async with runtime.sessions() as session:
                    found = await public_view.one_complaint(session, desk, number, show_text=config.show_text)
            if found is None:
                html = (
                    env(desk)
                    .get_template("not_found.html")
                    .render(title=texts.NOT_FOUND_TITLE, text=texts.NOT_FOUND_TEXT.format(example=desk.ticket(42)))
                )
                return Rendered(404, html.encode())
            return Rendered(200, env(desk).get_template("complaint.html").render(item=found).encode())

        return answer(await cache.get_or_compute(("aduan", number), build))

    routes: list[BaseRoute] = [
        Route(PREFIX, lambda request: RedirectResponse(PREFIX + "/", status_code=307)),
        Route(PREFIX + "/", index, methods=["GET"]),
        Route(PREFIX + "/aduan/{ticket}", complaint, methods=["GET"]),
        # The desk's own stylesheet, script and Chart.js: one copy of each in the package.
        Mount(STATIC_PATH, StaticFiles(directory=DESK_STATIC), name="public-static"),
    ]
    return routes

"""Server-rendered pages: Jinja2 with autoescaping, the desk's filters, and the security headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import HTMLResponse, Response

from bot.config import Settings
from handlers import reports, texts
from handlers.desk import Desk
from handlers.timefmt import duration, hours

TEMPLATES = Path(__file__).resolve().parent / "templates"


def tile_source(tiles_url: str) -> str:
    """What the Content-Security-Policy must allow for the map tiles ("" when there are none)."""
    if not tiles_url:
        return ""
    parts = urlsplit(tiles_url)
    # "{s}.tile.example.org" is several hosts: a wildcard covers them.
    host = parts.netloc.replace("{s}", "*")
    return f"{parts.scheme}://{host}"


def security_headers(settings: Settings) -> dict[str, str]:
    """Headers every desk page carries: scripts and styles only from the desk itself."""
    tiles = tile_source(settings.web.map_tiles_url)
    policy = "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self'{' ' + tiles if tiles else ''}",
            "connect-src 'self'",
            "font-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        # Pages hold citizens' complaints: nothing is kept by a shared cache or the browser's history cache.
        "Cache-Control": "no-store",
    }


class Pages:
    """Renders the desk's templates with the deployment's words and times."""

    def __init__(self, settings: Settings, desk: Desk) -> None:
        self.headers = security_headers(settings)
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(
            wita=lambda moment: "" if moment is None else desk.local_time(moment),
            duration=lambda delta: "" if delta is None else duration(delta),
            hours=lambda delta: "-" if delta is None else hours(delta),
            percent=reports.percent,
            status=lambda status: texts.STATUS_NAMES.get(status, status),
            event=lambda kind: texts.EVENT_NAMES.get(kind, kind),
            verdict=lambda verdict: reports.VERDICT_WORDS.get(verdict, verdict or ""),
            author=lambda author: texts.AUTHOR_NAMES.get(author, author),
        )
        self.env.globals.update(
            city=desk.city,
            agencies=desk.agencies,
            prefix=desk.ticket_prefix,
            ticket=desk.ticket,
            tiles_url=settings.web.map_tiles_url,
        )

    def render(self, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        """A page from a template, with the security headers."""
        html = self.env.get_template(name).render(**context)
        return HTMLResponse(html, status_code=status_code, headers=self.headers)

    def with_headers(self, response: Response) -> Response:
        """Any other answer of the desk, with the security headers."""
        for key, value in self.headers.items():
            response.headers.setdefault(key, value)
        return response

"""The desk's routes: login through the bot, the dashboard, the complaint list and pages, the map, the export.

Every page needs a session (else: to /desk/masuk); every POST also needs the session's CSRF token
(else: 403, nothing changed). Agency staff see their own agency's tickets, never a citizen's
contact; only humas admins act. The actions are the chat commands' own code (handlers.actions).
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from itsdangerous import BadData, URLSafeSerializer
from markupsafe import Markup
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.config import Settings
from bot.web.auth import COOKIE, COOKIE_PATH, CSRF_FIELD, LOGIN_PATH, DeskAuth
from bot.web.render import Pages
from handlers import actions, periods, reports
from handlers.desk import HUMAS, Desk
from handlers.desk_login import AGENCY_ROLE, HUMAS_ROLE
from handlers.desk_views import Viewer, complaint_view, dashboard
from handlers.events import STORED, ChannelName
from handlers.textsafe import ascii_int
from storage import audit, complaints, desk_auth, desk_queries, media
from storage import reports as report_queries
from storage.desk_auth import Grant
from storage.filters import ComplaintFilter
from storage.models import Complaint

if TYPE_CHECKING:
    from bot.app import Runtime

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
PAGE_SIZE = 50
MAP_PINS = 2000
MAX_QUERY_CHARS = 100
MAX_FORM_BYTES = 16 * 1024


@dataclass(frozen=True)
class Visit:
    """A request from someone logged in: who, and their session token (for the CSRF token)."""

    viewer: Viewer
    token: str


@dataclass(frozen=True)
class ListQuery:
    """The complaint list's filters as the page's form gives them."""

    opd: str = ""
    status: str = ""
    overdue: bool = False
    category: str = ""
    period: str = "all"
    text: str = ""
    page: int = 1

    def params(self, **changes: Any) -> str:
        """The query string of this list (with some fields changed), for links and the export."""
        values = {
            "opd": self.opd,
            "status": self.status,
            "terlambat": "1" if self.overdue else "",
            "kategori": self.category,
            "periode": self.period if self.period != "all" else "",
            "q": self.text,
            "hal": str(self.page) if self.page > 1 else "",
        }
        values.update({key: str(value) for key, value in changes.items()})
        return urlencode({key: value for key, value in values.items() if value})


def _list_query(request: Request, desk: Desk) -> ListQuery:
    """The list's filters from the query string; what is not understood is ignored."""
    params = request.query_params
    opd = params.get("opd", "").upper()
    status = params.get("status", "")
    period = params.get("periode", "all")
    page = params.get("hal", "1")
    return ListQuery(
        opd=opd if opd in desk.agencies or opd == HUMAS else "",
        status=status if status in ("open", "answered", "closed", "rejected") else "",
        overdue=params.get("terlambat") == "1",
        category=params.get("kategori", "")[:60],
        period=period if period in periods.PERIODS else "all",
        text=" ".join(params.get("q", "").split())[:MAX_QUERY_CHARS],
        page=number if (number := ascii_int(page)) is not None and 0 < number < 100_000 else 1,
    )


def _filter(query: ListQuery, viewer: Viewer, desk: Desk) -> ComplaintFilter:
    """The storage filter of a list query, narrowed to what the viewer may see."""
    return ComplaintFilter(
        owner=viewer.scope if viewer.scope is not None else (query.opd or None),
        status=query.status or None,
        overdue_only=query.overdue,
        category=query.category or None,
        since=periods.since(query.period, now=desk.now(), zone=desk.zone),
        text=query.text or None,
    )


def desk_routes(settings: Settings, current: Callable[[], Runtime]) -> list[BaseRoute]:
    """The /desk/ routes; `current` is the running lifespan's Runtime."""
    auth = DeskAuth(settings)
    flashes = URLSafeSerializer(settings.web.secret, salt="ehumas-desk-flash")
    pages: dict[str, Pages] = {}

    def runtime() -> tuple[async_sessionmaker[AsyncSession], Desk, Pages]:
        now_running = current()
        if "pages" not in pages:
            pages["pages"] = Pages(settings, now_running.desk)
        return now_running.sessions, now_running.desk, pages["pages"]

    def still_allowed(desk: Desk, grant: Grant) -> bool:
        # The settings may have changed since the login: an admin removed, an agency gone.
        if grant.role == HUMAS_ROLE:
            return grant.user_id in desk.humas_admin_ids
        return grant.role == AGENCY_ROLE and grant.opd_code in desk.agencies

    async def visit_of(request: Request) -> Visit | None:
        token = auth.cookie_token(request.cookies.get(COOKIE, ""))
        if token is None:
            return None
        sessions, desk, _ = runtime()
        async with sessions() as session:
            grant = await desk_auth.find_session(session, token=token, now=desk.now())
        if grant is None or not still_allowed(desk, grant):
            return None
        return Visit(Viewer(grant.user_id, grant.user_name, grant.role, grant.opd_code), token)

    def to_login() -> Response:
        return RedirectResponse(LOGIN_PATH, status_code=303)

    Page = Callable[[Request, Visit], Awaitable[Response]]

    def page(handler: Page) -> Callable[[Request], Awaitable[Response]]:
        """A GET page: logged-in visitors only."""

        async def endpoint(request: Request) -> Response:
            visit = await visit_of(request)
            if visit is None:
                return to_login()
            return runtime()[2].with_headers(await handler(request, visit))

        return endpoint

    Action = Callable[[Request, Visit, FormData], Awaitable[Response]]

    def action(handler: Action, *, humas_only: bool = True) -> Callable[[Request], Awaitable[Response]]:
        """A POST: a session, then its CSRF token, then (for the actions) a humas admin."""

        async def endpoint(request: Request) -> Response:
            visit = await visit_of(request)
            if visit is None:
                return to_login()
            _, _, rendered = runtime()
            declared = ascii_int(request.headers.get("content-length", ""))
            if declared is not None and declared > MAX_FORM_BYTES:
                return rendered.render("error.html", 413, visit=visit, title="Formulir terlalu besar", csrf="")
            form = await request.form(max_files=0, max_fields=20)
            if not auth.csrf_ok(visit.token, str(form.get(CSRF_FIELD, ""))):
                return rendered.render(
                    "error.html", 403, visit=visit, csrf=auth.csrf(visit.token), title="Formulir kedaluwarsa",
                    text="Muat ulang halaman, lalu coba lagi.",
                )  # fmt: skip
            if humas_only and not visit.viewer.is_humas:
                return forbidden(visit)
            return rendered.with_headers(await handler(request, visit, form))

        return endpoint

    def forbidden(visit: Visit) -> Response:
        return runtime()[2].render(
            "error.html", 403, visit=visit, csrf=auth.csrf(visit.token), title="Tidak diizinkan",
            text="Halaman ini bukan untuk akun Anda.",
        )  # fmt: skip

    def not_found(visit: Visit) -> Response:
        return runtime()[2].render(
            "error.html", 404, visit=visit, csrf=auth.csrf(visit.token), title="Tidak ditemukan",
            text="Aduan atau halaman itu tidak ada.",
        )  # fmt: skip

    def common(visit: Visit, section: str) -> dict[str, Any]:
        return {"visit": visit, "viewer": visit.viewer, "csrf": auth.csrf(visit.token), "section": section}

    # -- login -------------------------------------------------------------------------------------

    async def login_help(request: Request) -> Response:
        _, _, rendered = runtime()
        if await visit_of(request) is not None:
            return RedirectResponse("/desk/", status_code=303)
        return rendered.render("masuk.html", visit=None, csrf="")

    async def login(request: Request) -> Response:
        sessions, desk, rendered = runtime()
        token = auth.link_token(request.path_params["token"])
        now = desk.now()
        grant: Grant | None = None
        session_token = ""
        if token is not None:
            async with sessions() as session, session.begin():
                grant = await desk_auth.use_login(session, token=token, now=now)
                if grant is not None and still_allowed(desk, grant):
                    session_token = secrets.token_urlsafe(32)
                    await desk_auth.create_session(
                        session, token=session_token, grant=grant, now=now, lifetime=auth.session_lifetime
                    )
                    await audit.log_action(
                        session,
                        actor=f"{grant.user_name} (telegram {grant.user_id}) via web",
                        action="desk_login",
                        target=grant.opd_code or HUMAS_ROLE,
                        now=now,
                    )
                else:
                    grant = None
        if grant is None:
            refused = rendered.render("masuk.html", 403, visit=None, csrf="", refused=True)
            refused.headers["Referrer-Policy"] = "no-referrer"
            return refused
        response = RedirectResponse("/desk/", status_code=303)
        response.set_cookie(
            COOKIE,
            auth.cookie(session_token),
            max_age=int(auth.session_lifetime.total_seconds()),
            path=COOKIE_PATH,
            httponly=True,
            samesite="lax",
            secure=auth.secure_cookie,
        )
        # The one-time link must not travel on to anywhere in a Referer.
        response.headers["Referrer-Policy"] = "no-referrer"
        return rendered.with_headers(response)

    async def logout(request: Request, visit: Visit, form: FormData) -> Response:
        sessions, desk, _ = runtime()
        async with sessions() as session, session.begin():
            await desk_auth.end_session(session, token=visit.token, now=desk.now())
        response = RedirectResponse(LOGIN_PATH, status_code=303)
        response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="lax", secure=auth.secure_cookie)
        return response

    # -- pages ---------------------------------------------------------------------------------------

    async def home(request: Request, visit: Visit) -> Response:
        sessions, desk, rendered = runtime()
        period = request.query_params.get("periode", periods.DEFAULT)
        if period not in periods.PERIODS:
            period = periods.DEFAULT
        async with sessions() as session:
            board = await dashboard(session, desk, visit.viewer, period=period)
        charts = {
            "weeks": [" ".join(desk.local_time(start).split()[:2]) for start in board.week_starts],
            "weekly": [
                {"label": owner, "data": board.weekly.get(owner, [0] * len(board.week_starts))}
                for owner in board.owners
                if owner != reports.TOTAL
            ],
            "onTime": [
                {"label": owner, "share": None if (s := board.figures.get(owner)) is None else s.on_time_share}
                for owner in board.owners
                if owner != reports.TOTAL
            ],
            "categories": [{"label": name or "Tanpa kategori", "count": count} for name, count in board.categories],
        }
        return rendered.render(
            "dashboard.html",
            **common(visit, "dasbor"),
            board=board,
            empty=reports.EMPTY,
            charts=charts,
            now=desk.now(),
            period_names=PERIOD_NAMES,
        )

    async def complaint_list(request: Request, visit: Visit) -> Response:
        sessions, desk, rendered = runtime()
        query = _list_query(request, desk)
        found = _filter(query, visit.viewer, desk)
        async with sessions() as session:
            rows, total = await desk_queries.list_complaints(
                session, found=found, now=desk.now(), offset=(query.page - 1) * PAGE_SIZE, limit=PAGE_SIZE
            )
            categories = await desk_queries.categories_in_use(session, owner=visit.viewer.scope)
        return rendered.render(
            "list.html",
            **common(visit, "aduan"),
            rows=rows,
            total=total,
            query=query,
            pages=max(1, math.ceil(total / PAGE_SIZE)),
            categories=categories,
            now=desk.now(),
            period_names=PERIOD_NAMES,
        )

    async def load(request: Request, visit: Visit, session: AsyncSession) -> Complaint | Response:
        _, desk, _ = runtime()
        number = desk.parse_ticket(request.path_params["ticket"])
        complaint = await complaints.get_complaint(session, complaint_id=number) if number else None
        if complaint is None:
            return not_found(visit)
        if not visit.viewer.may_see(complaint):
            return forbidden(visit)
        return complaint

    async def detail(request: Request, visit: Visit) -> Response:
        sessions, desk, rendered = runtime()
        async with sessions() as session, session.begin():
            complaint = await load(request, visit, session)
            if isinstance(complaint, Response):
                return complaint
            view = await complaint_view(session, desk, visit.viewer, complaint)
            if view.contact is not None:
                # As /lihat does: who saw a citizen's contact, and when.
                await audit.log_action(
                    session, actor=visit.viewer.actor(), action="view", target=view.ticket, now=desk.now()
                )
        flash = None
        if signed := request.query_params.get("pesan"):
            try:
                flash = flashes.loads(signed)
            except BadData:
                flash = None
        return rendered.render("detail.html", **common(visit, "aduan"), view=view, flash=flash, now=desk.now())

    async def photo(request: Request, visit: Visit) -> Response:
        sessions, _, _ = runtime()
        async with sessions() as session:
            complaint = await load(request, visit, session)
            if isinstance(complaint, Response):
                return complaint
            index = int(request.path_params["n"])
            if not 0 <= index < len(complaint.media):
                return not_found(visit)
            item = complaint.media[index]
            if item.get("source") == STORED:
                stored = await media.load_media(session, key=str(item["ref"]))
                data = stored.data if stored is not None else None
                content_type = stored.content_type if stored is not None else "image/jpeg"
            else:
                data, content_type = None, str(item.get("content_type") or "image/jpeg")
        if data is None and item.get("source") != STORED:
            channel = current().channels.get(ChannelName(str(item.get("source"))))
            if channel is not None:
                try:
                    data = await channel.fetch_photo(str(item["ref"]))
                except Exception as exc:  # noqa: BLE001 (a photo that cannot be fetched is shown as missing)
                    log.warning("photo %d of %s not fetched: %s", index, request.path_params["ticket"], exc)
        if data is None:
            return not_found(visit)
        if not content_type.startswith("image/"):
            content_type = "application/octet-stream"
        return Response(data, media_type=content_type, headers={"Cache-Control": "private, max-age=3600"})

    def after_action(ticket: str, message: str | Markup) -> Response:
        text = message.unescape() if isinstance(message, Markup) else message
        return RedirectResponse(f"/desk/aduan/{ticket}?pesan={flashes.dumps(text)}", status_code=303)

    def acting(
        operation: Callable[[AsyncSession, Desk, int, FormData, Viewer], Awaitable[actions.Outcome]],
    ) -> Action:
        async def handler(request: Request, visit: Visit, form: FormData) -> Response:
            sessions, desk, _ = runtime()
            number = desk.parse_ticket(request.path_params["ticket"])
            if number is None:
                return not_found(visit)
            async with sessions() as session, session.begin():
                outcome = await operation(session, desk, number, form, visit.viewer)
            current().dispatcher.wake()
            return after_action(desk.ticket(number), outcome.message)

        return handler

    async def do_reroute(
        session: AsyncSession, desk: Desk, number: int, form: FormData, viewer: Viewer
    ) -> actions.Outcome:
        return await actions.reroute(
            session, desk, number, str(form.get("opd", "")), actor=viewer.actor(), admin=viewer.name
        )

    async def do_reject(
        session: AsyncSession, desk: Desk, number: int, form: FormData, viewer: Viewer
    ) -> actions.Outcome:
        return await actions.reject(
            session, desk, number, str(form.get("alasan", ""))[:500], actor=viewer.actor(), admin=viewer.name
        )

    async def do_reprimand(
        session: AsyncSession, desk: Desk, number: int, form: FormData, viewer: Viewer
    ) -> actions.Outcome:
        complaint = await complaints.get_complaint(session, complaint_id=number)
        if complaint is None:
            return actions.Outcome(False, f"Aduan {desk.ticket(number)} tidak ditemukan.")
        if complaint.opd_code is None:
            return actions.Outcome(False, "Aduan ini belum diteruskan ke dinas mana pun: teruskan dulu.")
        return await actions.reprimand(
            session, desk, complaint.opd_code, str(form.get("pesan", ""))[:1000], actor=viewer.actor()
        )

    async def map_page(request: Request, visit: Visit) -> Response:
        sessions, desk, rendered = runtime()
        query = _list_query(request, desk)
        found = ComplaintFilter(owner=visit.viewer.scope if visit.viewer.scope is not None else (query.opd or None))
        async with sessions() as session:
            pins = await desk_queries.map_pins(session, owner_filter=found, now=desk.now(), limit=MAP_PINS)
        now = desk.now()
        data = [
            {
                "ticket": desk.ticket(pin.id),
                "lat": pin.lat,
                "lon": pin.lon,
                "state": "late" if pin.status == "open" and pin.due_at <= now else pin.status,
                "opd": pin.opd_code or HUMAS,
                "category": pin.category or "",
                "text": pin.description,
            }
            for pin in pins
        ]
        return rendered.render("map.html", **common(visit, "peta"), pins=data, query=query)

    async def export(request: Request, visit: Visit) -> Response:
        sessions, desk, _ = runtime()
        query = _list_query(request, desk)
        found = _filter(query, visit.viewer, desk)
        now = desk.now()
        async with sessions() as session, session.begin():
            rows = await report_queries.export_rows(session, found=found, now=now)
            await audit.log_action(
                session, actor=visit.viewer.actor(), action="export", target=query.params()[:64] or "all",
                detail=f"{len(rows)} rows", now=now,
            )  # fmt: skip
        stamp = now.astimezone(desk.zone).strftime("%Y%m%d-%H%M")
        name = f"aduan-{desk.ticket_prefix.lower()}-{stamp}.csv"
        return Response(
            reports.export_csv(desk, rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    return [
        Route("/desk", lambda request: RedirectResponse("/desk/", status_code=307)),
        Route(LOGIN_PATH, login_help, methods=["GET"]),
        Route(LOGIN_PATH + "/{token}", login, methods=["GET"]),
        Route("/desk/keluar", action(logout, humas_only=False), methods=["POST"]),
        Route("/desk/", page(home), methods=["GET"]),
        Route("/desk/aduan", page(complaint_list), methods=["GET"]),
        Route("/desk/aduan/{ticket}", page(detail), methods=["GET"]),
        Route("/desk/aduan/{ticket}/foto/{n:int}", page(photo), methods=["GET"]),
        Route("/desk/aduan/{ticket}/pindah", action(acting(do_reroute)), methods=["POST"]),
        Route("/desk/aduan/{ticket}/tolak", action(acting(do_reject)), methods=["POST"]),
        Route("/desk/aduan/{ticket}/tegur", action(acting(do_reprimand)), methods=["POST"]),
        Route("/desk/peta", page(map_page), methods=["GET"]),
        Route("/desk/ekspor.csv", page(export), methods=["GET"]),
        Mount("/desk/static", StaticFiles(directory=STATIC), name="desk-static"),
    ]


PERIOD_NAMES = {"7d": "7 hari", "30d": "30 hari", "bulan": "Bulan ini", "all": "Semua"}

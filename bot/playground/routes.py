"""The playground's page and its small JSON API, served by the bot's own Starlette app."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.playground.session import KENDARI, Playground
from handlers.textsafe import ascii_int

STATIC = Path(__file__).resolve().parent / "static"
MAX_PHOTO_BYTES = 5 * 1024 * 1024


Endpoint = Callable[[Request], Awaitable[Response]]


class LocalOnly:
    """The playground answers the page on this machine only: its own Host, and its own Origin for writes.

    It binds to 127.0.0.1, but a web page elsewhere can still reach it through the browser: a
    cross-site form post (no Origin check) or a DNS name rebound to 127.0.0.1 (no Host check, then
    the feed is readable). Both fail closed: a POST without an Origin header is refused too.
    """

    def __init__(self, port: int) -> None:
        self.hosts = frozenset({f"127.0.0.1:{port}", f"localhost:{port}"})
        self.origins = frozenset(f"http://{host}" for host in self.hosts)

    def allows(self, request: Request) -> bool:
        """Whether a request comes from the playground's own page (or a local client naming it)."""
        if request.headers.get("host", "") not in self.hosts:
            return False
        # Reading is the browser's same-origin policy's business once the Host is ours; writing needs our Origin.
        return request.method in ("GET", "HEAD") or request.headers.get("origin", "") in self.origins

    def guard(self, endpoint: Endpoint) -> Endpoint:
        """The endpoint behind the check (403 otherwise)."""

        async def guarded(request: Request) -> Response:
            if not self.allows(request):
                return JSONResponse({"error": "the playground answers its own page only"}, status_code=403)
            return await endpoint(request)

        return guarded

    def guard_app(self, app: ASGIApp) -> ASGIApp:
        """An ASGI app (the static files) behind the same check."""

        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and not self.allows(Request(scope)):
                response: Response = JSONResponse({"error": "the playground answers its own page only"}, 403)
                await response(scope, receive, send)
                return
            await app(scope, receive, send)

        return guarded


def playground_routes(playground: Playground) -> list[BaseRoute]:
    """Routes for the page (/) and its API (/playground/api/...), for this machine's browser only."""
    local = LocalOnly(playground.settings.server.port)

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html")

    async def panes(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "panes": [
                    {"key": p.key, "title": p.title, "channel": p.channel, "group": p.is_group, "user": p.user_name}
                    for p in playground.panes.values()
                ],
                "city": playground.settings.bot.city,
                "desk": playground.desk_panes(),
                "now": playground.now_text(),
                "kendari": list(KENDARI),
            }
        )

    async def feed(request: Request) -> JSONResponse:
        events = playground.feed(ascii_int(request.query_params.get("after", "0")) or 0)
        return JSONResponse({"events": events, "now": playground.now_text()})

    async def send(request: Request) -> JSONResponse:
        form = await request.form()
        pane = str(form.get("pane", ""))
        if pane not in playground.panes:
            return JSONResponse({"error": "unknown pane"}, status_code=400)
        text = str(form.get("text") or "") or None
        reply_to = str(form.get("reply_to") or "")
        location = None
        if form.get("lat") and form.get("lon"):
            try:
                location = (float(str(form["lat"])), float(str(form["lon"])))
            except ValueError:
                return JSONResponse({"error": "bad location"}, status_code=400)
        photo = None
        upload = form.get("photo")
        if upload is not None and not isinstance(upload, str):
            data = await upload.read(MAX_PHOTO_BYTES + 1)
            if len(data) > MAX_PHOTO_BYTES:
                return JSONResponse({"error": "photo too large (5 MB max)"}, status_code=413)
            if data:
                photo = (data, upload.content_type or "image/jpeg")
        if text is None and location is None and photo is None:
            return JSONResponse({"error": "nothing to send"}, status_code=400)
        await playground.send(pane, text=text, location=location, photo=photo, reply_to=ascii_int(reply_to))
        return JSONResponse({"ok": True})

    async def press(request: Request) -> JSONResponse:
        try:
            body = json.loads(await request.body())
            pane, message_id, data = str(body["pane"]), int(body["message_id"]), str(body["data"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "expected {pane, message_id, data}"}, status_code=400)
        if pane not in playground.panes:
            return JSONResponse({"error": "unknown pane"}, status_code=400)
        try:
            await playground.press(pane, message_id, data)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"ok": True})

    async def clock(request: Request) -> JSONResponse:
        try:
            hours = float(json.loads(await request.body())["hours"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "expected {hours}"}, status_code=400)
        if not 0 < hours <= 24 * 14:
            return JSONResponse({"error": "hours must be between 0 and 336"}, status_code=400)
        return JSONResponse({"now": await playground.advance(hours)})

    async def desk(request: Request) -> Response:
        # The pane's person logs in to the web desk the real way: /masuk, then the link the bot sent.
        pane = request.query_params.get("pane", "")
        if pane not in playground.desk_panes():
            return JSONResponse({"error": "this pane has no web desk"}, status_code=400)
        return RedirectResponse(await playground.desk_link(pane), status_code=303)

    async def blob(request: Request) -> Response:
        found = playground.blob(int(request.path_params["seq"]))
        if found is None:
            return Response(status_code=404)
        data, media_type = found
        return Response(data, media_type=media_type)

    async def home(request: Request) -> Response:
        return RedirectResponse("/")

    return [
        Route("/", local.guard(index)),
        Route("/playground", local.guard(home)),
        Route("/playground/api/panes", local.guard(panes)),
        Route("/playground/api/feed", local.guard(feed)),
        Route("/playground/api/send", local.guard(send), methods=["POST"]),
        Route("/playground/api/press", local.guard(press), methods=["POST"]),
        Route("/playground/api/clock", local.guard(clock), methods=["POST"]),
        Route("/playground/desk", local.guard(desk), methods=["GET"]),
        Route("/playground/api/blob/{seq:int}", local.guard(blob)),
        Mount("/playground/static", local.guard_app(StaticFiles(directory=STATIC)), name="playground-static"),
    ]

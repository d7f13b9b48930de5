"""The Open311 GeoReport v2 API under /open311/v2/: discovery, services, requests (JSON and XML).

Anyone may read (the same privacy rules as the public page; reads are cached for a minute). A
partner app with a key from [open311] api_keys may POST requests: filed through the chat intake's
own code, card to the agency's group, deadline and all. Wrong or missing key: 403; bad input: 400
with the specification's error list; unknown request or service: 404.
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.config import Settings
from bot.open311 import formats
from bot.open311.channel import CHANNEL
from bot.public.cache import TtlCache
from handlers import open311
from handlers.desk import HUMAS, Desk
from handlers.open311 import NewRequest, Service
from handlers.textsafe import ascii_int
from storage.public_figures import RequestQuery

if TYPE_CHECKING:
    from bot.app import Runtime

PREFIX = "/open311/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# Spec: a date range "may not span more than 90 days"; without one, the last 90 days.
MAX_SPAN = timedelta(days=90)
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_IDS = 100
MAX_FORM_BYTES = 16 * 1024
# Ticket numbers are database ids (a 32-bit integer on PostgreSQL).
MAX_TICKET = 2**31 - 1
CHANGESET = "2026-12-01T00:00:00Z"


class BadRequest(Exception):
    """Input the API cannot take: answered 400 with these descriptions."""

    def __init__(self, *descriptions: str) -> None:
        super().__init__("; ".join(descriptions))
        self.descriptions = list(descriptions)


def services_of(settings: Settings) -> list[Service]:
    """One service per category of each configured agency, plus one per agency for everything else."""
    return open311.build_services((o.code, o.name, o.keywords, o.categories) for o in settings.opd)


def _split_name(name: str) -> tuple[str, str]:
    """ "requests.json" -> ("requests", "json"); an unknown or missing format: ("...", "")."""
    stem, dot, fmt = name.rpartition(".")
    if not dot or fmt.lower() not in formats.FORMATS:
        return name, ""
    return stem, fmt.lower()


# The dates a query may name.
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _when(text: str, desk: Desk, field: str) -> datetime:
    """A W3C date-time (2026-11-30T00:00:00Z, or with an offset); without an offset, the city's time."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadRequest(f"{field}: expected a W3C date-time such as 2026-11-30T00:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=desk.zone)
    out_of_range = BadRequest(f"{field}: a date from {_EARLIEST.year} to {_LATEST.year - 1}")
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 moved by an offset
        raise out_of_range from None
    if not _EARLIEST <= moment < _LATEST:
        # A window is computed from it (the 90 days before an end date): keep the arithmetic in range.
        raise out_of_range
    return moment


def _number(text: str, field: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BadRequest(f"{field}: expected a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise BadRequest(f"{field}: must be between {low:g} and {high:g}")
    return value


def open311_routes(settings: Settings, current: Callable[[], Runtime]) -> list[BaseRoute]:
    """The /open311/v2/ routes (none while [open311] is off); `current` is the running lifespan's Runtime."""
    if not settings.open311.enabled:
        return []
    services = services_of(settings)
    by_code = {service.code: service for service in services}
    keys = [key.encode() for key in settings.open311.api_keys]
    hourly = settings.open311.max_requests_per_hour
    jurisdiction = settings.open311.jurisdiction_id
    show_text = settings.public.show_text
    cache: TtlCache[Response] = TtlCache()
    root_url = settings.server.public_url + PREFIX

    def fmt_or_404(name: str, expected: str) -> str | None:
        stem, fmt = _split_name(name)
        return fmt if stem == expected and fmt else None

    def wrong_jurisdiction(request: Request, values: Any) -> bool:
        given = str(values.get("jurisdiction_id", "") or "")
        return bool(jurisdiction and given and given != jurisdiction)

    def matching_key(given: str) -> str | None:
        # Every key is compared, in constant time: neither the answer's time nor its path tells which matched.
        candidate = given.encode()
        matched: bytes | None = None
        for key in keys:
            if hmac.compare_digest(candidate, key):
                matched = key
        return matched.decode() if matched is not None else None

    async def discovery(request: Request) -> Response:
        fmt = fmt_or_404(request.path_params["name"], "discovery")
        if fmt is None:
            return formats.errors(formats.JSON, 404, ["unknown format: use discovery.json or discovery.xml"])
        body = {
            "changeset": CHANGESET,
            "contact": f"Humas {settings.bot.city}",
            "key_service": f"Humas {settings.bot.city}",
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": root_url,
                    "changeset": CHANGESET,
                    "type": "production",
                    "formats": [formats.MEDIA_TYPES[formats.JSON], "text/xml"],
                }
            ],
        }
        return formats.respond(fmt, body, root="discovery")

    async def service_list(request: Request) -> Response:
        fmt = fmt_or_404(request.path_params["name"], "services")
        if fmt is None:
            return formats.errors(formats.JSON, 404, ["unknown format: use services.json or services.xml"])
        if wrong_jurisdiction(request, request.query_params):
            return formats.errors(fmt, 404, ["jurisdiction_id not found"])
        return formats.respond(fmt, [s.as_dict() for s in services], root="services", item="service")

    async def service_definition(request: Request) -> Response:
        code, fmt = _split_name(request.path_params["name"])
        if not fmt:
            return formats.errors(formats.JSON, 404, ["unknown format: use .json or .xml"])
        service = by_code.get(code)
        if service is None:
            return formats.errors(fmt, 404, [f"service_code {code} not found"])
        return formats.respond(fmt, {"service_code": service.code, "attributes": []}, root="service_definition")

    async def requests_endpoint(request: Request) -> Response:
        fmt = fmt_or_404(request.path_params["name"], "requests")
        if fmt is None:
            return formats.errors(formats.JSON, 404, ["unknown format: use requests.json or requests.xml"])
        if request.method == "POST":
            return await post_request(request, fmt)
        if wrong_jurisdiction(request, request.query_params):
            return formats.errors(fmt, 404, ["jurisdiction_id not found"])
        runtime = current()
        try:
            query, offset, limit = read_query(request, runtime.desk)
        except BadRequest as bad:
            return formats.errors(fmt, 400, bad.descriptions)

        async def build() -> Response:
            async with runtime.sessions() as session:
                found = await open311.requests(
                    session, runtime.desk, services, query=query, offset=offset, limit=limit, show_text=show_text
                )
            return formats.respond(fmt, found, root="service_requests", item="request")

        return await cache.get_or_compute(("requests", fmt, query, offset, limit), build)

    def read_query(request: Request, desk: Desk) -> tuple[RequestQuery, int, int]:
        params = request.query_params
        problems: list[str] = []
        ids: list[int] = []
        for part in (params.get("service_request_id") or "").split(","):
            if part.strip():
                number = ticket_number(desk, part)
                if number is None:
                    problems.append(f"service_request_id: {part.strip()[:30]} is not a ticket number")
                else:
                    ids.append(number)
        if len(ids) > MAX_IDS:
            problems.append(f"service_request_id: at most {MAX_IDS} at once")
        wanted: list[tuple[str | None, str | None]] = []
        for code in (params.get("service_code") or "").split(","):
            code = code.strip()
            if not code:
                continue
            if code == HUMAS:
                wanted.append((None, None))
            elif code in by_code:
                wanted.append((by_code[code].opd_code, by_code[code].category))
            else:
                problems.append(f"service_code: {code[:40]} is not a service")
        statuses = tuple(s.strip().lower() for s in (params.get("status") or "").split(",") if s.strip())
        if any(status not in ("open", "closed") for status in statuses):
            problems.append("status: open or closed")
        start = end = None
        try:
            if params.get("start_date"):
                start = _when(params["start_date"], desk, "start_date")
            if params.get("end_date"):
                end = _when(params["end_date"], desk, "end_date")
        except BadRequest as bad:
            problems.extend(bad.descriptions)
        if start and end and end - start > MAX_SPAN:
            problems.append("start_date to end_date may not span more than 90 days")
        page = params.get("page", "1")
        size = params.get("page_size", str(PAGE_SIZE))
        # ascii_int: str.isdigit() takes "²" and "٣", which int() refuses.
        page_number, limit = ascii_int(page), ascii_int(size)
        if page_number is None or not 1 <= page_number <= 100_000:
            problems.append("page: a number from 1")
        if limit is None or not 1 <= limit <= MAX_PAGE_SIZE:
            problems.append(f"page_size: a number from 1 to {MAX_PAGE_SIZE}")
        if problems:
            raise BadRequest(*problems)
        if not ids:
            # The specification's default window: the last 90 days up to the end date (or now).
            if start is None:
                start = (end or desk.now()) - MAX_SPAN
        query = RequestQuery(
            ids=tuple(ids), services=tuple(wanted), start=start if not ids else None,
            end=end if not ids else None, statuses=statuses,
        )  # fmt: skip
        assert page_number is not None and limit is not None  # checked above
        return query, (page_number - 1) * limit, limit

    def ticket_number(desk: Desk, text: str) -> int | None:
        text = text.strip()
        number = ascii_int(text) if len(text) < 11 else None
        if number is None:
            number = desk.parse_ticket(text)
        return number if number is not None and 0 < number <= MAX_TICKET else None

    async def one_request(request: Request) -> Response:
        name, fmt = _split_name(request.path_params["name"])
        if not fmt:
            return formats.errors(formats.JSON, 404, ["unknown format: use .json or .xml"])
        if wrong_jurisdiction(request, request.query_params):
            return formats.errors(fmt, 404, ["jurisdiction_id not found"])
        runtime = current()
        number = ticket_number(runtime.desk, name)
        # Not cached: one row by its key is cheap, and an app polling for the answer must see it at once.
        found: list[dict[str, Any]] = []
        if number is not None:
            async with runtime.sessions() as session:
                found = await open311.requests(
                    session, runtime.desk, services, query=RequestQuery(ids=(number,)), offset=0, limit=1,
                    show_text=show_text,
                )  # fmt: skip
        if not found:
            return formats.errors(fmt, 404, [f"service_request_id {name[:30]} not found"])
        return formats.respond(fmt, found, root="service_requests", item="request")

    async def post_request(request: Request, fmt: str) -> Response:
        declared = ascii_int(request.headers.get("content-length", ""))
        if declared is not None and declared > MAX_FORM_BYTES:
            return formats.errors(fmt, 413, ["request too large"])
        try:
            form = await request.form(max_files=0, max_fields=50)
        except (HTTPException, MultiPartException, ValueError):  # a malformed body is the client's error
            return formats.errors(fmt, 400, ["expected an application/x-www-form-urlencoded form"])
        key = matching_key(str(form.get("api_key", ""))) if keys else None
        if key is None:
            return formats.errors(fmt, 403, ["api_key missing or not valid"])
        if wrong_jurisdiction(request, form):
            return formats.errors(fmt, 404, ["jurisdiction_id not found"])
        try:
            new = read_new_request(form)
        except BadRequest as bad:
            return formats.errors(fmt, 400, bad.descriptions)
        runtime = current()
        async with runtime.sessions() as session, session.begin():
            wait = await open311.seconds_until_allowed(session, runtime.desk, CHANNEL, key, hourly)
            if wait:
                refused = formats.errors(fmt, 429, [f"too many requests for this api_key: at most {hourly} an hour"])
                refused.headers["Retry-After"] = str(wait)
                return refused
            number = await open311.file_request(session, runtime.desk, CHANNEL, new, key=key)
        runtime.dispatcher.wake()
        # The next reader must see the new request (in this process; others within a minute).
        cache.clear()
        body = [{"service_request_id": runtime.desk.ticket(number), "service_notice": "", "account_id": None}]
        return formats.respond(fmt, body, root="service_requests", item="request", status=201)

    def read_new_request(form: Any) -> NewRequest:
        problems: list[str] = []
        code = str(form.get("service_code", "") or "").strip()
        service = None
        if code:
            service = by_code.get(code)
            if service is None:
                problems.append(f"service_code: {code[:40]} is not a service")
        description = str(form.get("description", "") or "").strip()
        if len(description) < open311.MIN_DESCRIPTION_CHARS:
            problems.append(f"description: required, at least {open311.MIN_DESCRIPTION_CHARS} characters")
        elif len(description) > open311.MAX_DESCRIPTION_CHARS:
            problems.append(f"description: at most {open311.MAX_DESCRIPTION_CHARS} characters")
        lat_text, lon_text = str(form.get("lat", "") or ""), str(form.get("long", "") or "")
        address = str(form.get("address_string", "") or "").strip()
        lat = lon = None
        if lat_text or lon_text:
            try:
                lat = _number(lat_text, "lat", -90, 90)
                lon = _number(lon_text, "long", -180, 180)
            except BadRequest as bad:
                problems.extend(bad.descriptions)
        elif not address:
            problems.append("lat and long, or address_string: a location is required")
        if len(address) > open311.MAX_ADDRESS_CHARS:
            problems.append(f"address_string: at most {open311.MAX_ADDRESS_CHARS} characters")
        media_url = str(form.get("media_url", "") or "").strip()
        if media_url and (
            not media_url.startswith(("https://", "http://")) or len(media_url) > 500 or " " in media_url
        ):
            problems.append("media_url: an http(s) address")
        if problems:
            raise BadRequest(*problems)
        return NewRequest(
            description=description, service=service, lat=lat, lon=lon, address=address, media_url=media_url
        )

    async def discovery_json(request: Request) -> Response:
        request.path_params["name"] = "discovery.json"
        return await discovery(request)

    def named(stem: str, handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            request.path_params["name"] = f"{stem}.{request.path_params['fmt']}"
            return await handler(request)

        return endpoint

    return [
        Route(PREFIX + "/discovery", discovery_json, methods=["GET"]),
        Route(PREFIX + "/discovery.{fmt}", named("discovery", discovery), methods=["GET"]),
        Route(PREFIX + "/services.{fmt}", named("services", service_list), methods=["GET"]),
        Route(PREFIX + "/requests.{fmt}", named("requests", requests_endpoint), methods=["GET", "POST"]),
        Route(PREFIX + "/services/{name}", service_definition, methods=["GET"]),
        Route(PREFIX + "/requests/{name}", one_request, methods=["GET"]),
    ]

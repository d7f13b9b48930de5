"""Open311 GeoReport v2 as the desk understands it: services, requests and filing, channel-agnostic.

A service is one category of one agency (or the agency as a whole when it has no categories). A
request is a complaint: its ticket number is the service_request_id. Reading shows what the public
page shows (nothing personal, points rounded, texts masked and only with [public] show_text).
Filing goes through the chat intake's own code (handlers.intake.file_draft): the card reaches the
agency's group with its deadline, exactly as for a complaint typed in a chat.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import intake
from handlers.desk import HUMAS, Desk
from handlers.events import ChannelName
from handlers.outgoing import Recipient
from handlers.public_view import public_complaint
from handlers.texts import public as texts
from routing import classify
from storage import citizens, public_figures
from storage.public_figures import RequestQuery

# A description shorter than this says nothing an agency could act on (the chat asks for as much).
MIN_DESCRIPTION_CHARS = intake.MIN_DESCRIPTION_CHARS
MAX_DESCRIPTION_CHARS = intake.MAX_DESCRIPTION_CHARS
MAX_ADDRESS_CHARS = intake.MAX_ADDRESS_CHARS
# The window of [open311] max_requests_per_hour.
RATE_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Service:
    """One Open311 service: a category of an agency (category None: the agency's other complaints)."""

    code: str
    name: str
    description: str
    opd_code: str
    agency_name: str
    category: str | None
    keywords: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """The service as GeoReport v2's GET services lists it."""
        return {
            "service_code": self.code,
            "service_name": self.name,
            "description": self.description,
            # No service has attributes: the description, the point and the address are all it takes.
            "metadata": False,
            "type": "realtime",
            "keywords": ", ".join(self.keywords),
            "group": self.agency_name,
        }


def slug(text: str) -> str:
    """A code-safe form of a category name: "TPS dan TPA" -> "tps-dan-tpa"."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "lain"


def build_services(agencies: Iterable[tuple[str, str, Sequence[str], dict[str, list[str]]]]) -> list[Service]:
    """The services of the configured agencies: (code, name, keywords, categories) -> one per category, plus one."""
    services = []
    for code, name, keywords, categories in agencies:
        for category, words in categories.items():
            services.append(
                Service(
                    code=f"{code}-{slug(category)}",
                    name=category,
                    description=texts.SERVICE_DESCRIPTION.format(category=category.lower(), agency=name),
                    opd_code=code,
                    agency_name=name,
                    category=category,
                    keywords=tuple(words[:10]),
                )
            )
        services.append(
            Service(
                code=code,
                name=name,
                description=texts.SERVICE_WHOLE_AGENCY.format(agency=name),
                opd_code=code,
                agency_name=name,
                category=None,
                keywords=tuple(keywords[:10]),
            )
        )
    return services


def status_of(status: str) -> str:
    """A complaint's status as Open311 says it: open (waiting or answered) or closed (closed, rejected)."""
    return "closed" if status in public_figures.CLOSED_STATES else "open"


def service_of(services: Sequence[Service], opd_code: str | None, category: str | None) -> Service | None:
    """The service a complaint belongs to (its category's, else its agency's), or None when unrouted."""
    if opd_code is None:
        return None
    whole = None
    for service in services:
        if service.opd_code != opd_code:
            continue
        if service.category is not None and service.category == category:
            return service
        if service.category is None:
            whole = service
    return whole


def _w3c(moment: datetime | None) -> str | None:
    """A time as GeoReport v2 writes it (W3C, with the offset): 2026-11-30T10:00:00+08:00."""
    return None if moment is None else moment.replace(microsecond=0).isoformat()


async def requests(
    session: AsyncSession,
    desk: Desk,
    services: Sequence[Service],
    *,
    query: RequestQuery,
    offset: int,
    limit: int,
    show_text: bool,
) -> list[dict[str, Any]]:
    """Service requests an Open311 query finds, as GeoReport v2 fields; nothing that names a citizen."""
    rows = await public_figures.find_requests(session, query=query, offset=offset, limit=limit)
    answers = await public_figures.first_answers(session, complaint_ids=[row.id for row in rows])
    found = []
    for row in rows:
        public = public_complaint(desk, row, answers.get(row.id), show_text=show_text)
        service = service_of(services, row.opd_code, row.category)
        updated = max(moment for moment in (row.created_at, row.answered_at, row.closed_at) if moment is not None)
        found.append(
            {
                "service_request_id": public.ticket,
                "status": status_of(row.status),
                "status_notes": public.answer or "",
                "service_name": service.name if service else texts.UNROUTED,
                "service_code": service.code if service else HUMAS,
                "description": public.text or "",
                "agency_responsible": public.agency,
                "service_notice": "",
                "requested_datetime": _w3c(row.created_at.astimezone(desk.zone)),
                "updated_datetime": _w3c(updated.astimezone(desk.zone)),
                "expected_datetime": _w3c(row.due_at.astimezone(desk.zone)),
                "address": public.area if row.location_text else "",
                "address_id": "",
                "zipcode": "",
                "lat": public.point[0] if public.point else None,
                "long": public.point[1] if public.point else None,
                "media_url": "",
            }
        )
    return found


@dataclass(frozen=True)
class NewRequest:
    """What a partner app filed (already checked by the caller for form and length)."""

    description: str
    service: Service | None
    lat: float | None = None
    lon: float | None = None
    address: str = ""
    media_url: str = ""


def key_name(key: str) -> str:
    """A short one-way name of a partner's key: its filings are counted by it; the key is never stored."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def _address_prefix(key: str) -> str:
    return f"open311-{key_name(key)}-"


async def seconds_until_allowed(session: AsyncSession, desk: Desk, channel: ChannelName, key: str, limit: int) -> int:
    """Seconds a key must wait before it may file again: 0, or until its oldest filing of the hour is an hour old.

    Counted in the shared database, so the limit holds for all workers together (two requests
    racing in two workers may both pass at the edge: a limit, not an exact quota).
    """
    if limit <= 0:
        return 0
    now = desk.now()
    count, first = await citizens.created_since(
        session, channel=channel, address_prefix=_address_prefix(key), since=now - RATE_WINDOW
    )
    if count < limit or first is None:
        return 0
    return max(1, math.ceil((first + RATE_WINDOW - now).total_seconds()))


async def file_request(
    session: AsyncSession, desk: Desk, channel: ChannelName, request: NewRequest, *, key: str
) -> int:
    """File a partner app's request as a complaint, like a confirmed chat draft; its ticket's id.

    The filer is a citizen of the Open311 channel, one per request (an address no one can reach:
    what the desk says to them is recorded, not sent), named after the key that filed it (for the
    hourly limit). The e-mail address a client may send is not kept: nothing could use it but a leak.
    """
    now = desk.now()
    address = f"{_address_prefix(key)}{secrets.token_hex(8)}"
    citizen = await citizens.touch_citizen(
        session, channel=channel, address=address, display_name=texts.OPEN311_CITIZEN, now=now
    )
    description = request.description.strip()[:MAX_DESCRIPTION_CHARS]
    if request.media_url:
        description += f"\n\nFoto: {request.media_url}"
    draft: dict[str, Any] = {"description": description}
    if request.service is not None:
        draft.update(opd=request.service.opd_code, category=request.service.category, confidence=1.0)
    else:
        result = classify(description, desk.lexicon)
        draft.update(
            opd=result.opd if result.opd in desk.agencies else None,
            category=result.category,
            confidence=float(result.confidence),
        )
    place = request.address.strip()[:MAX_ADDRESS_CHARS]
    if request.lat is not None and request.lon is not None:
        draft["location"] = {"lat": request.lat, "lon": request.lon, "address": place}
    elif place:
        draft["location_text"] = place
    complaint = await intake.file_draft(session, desk, Recipient(channel, address), citizen, draft)
    assert complaint.id is not None
    return complaint.id

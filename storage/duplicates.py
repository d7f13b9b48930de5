"""'Already reported?': an agency's open complaints near a point or with nearly the same text, and their followers.

Near: a bounding box on ix_complaint_point narrows the rows in SQL (plain comparisons, the same on
SQLite and PostgreSQL, no extension), then the exact great-circle (haversine) distance decides.
Same text: the caller's comparison (routing.similar, through handlers.duplicates) over the agency's
newest open complaints.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select as core_select
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Citizen, Complaint, ComplaintEvent, ComplaintFollower, ComplaintStatus, table_of
from storage.upsert import insert_ignore

OPEN_STATES = (ComplaintStatus.OPEN.value, ComplaintStatus.ANSWERED.value)
EARTH_RADIUS_METERS = 6_371_008.8
# The text comparison reads at most this many of the agency's newest open complaints.
TEXT_SCAN = 1000


@dataclass(frozen=True)
class Candidate:
    """An open complaint that may be the same problem."""

    complaint_id: int
    category: str | None
    description: str
    status: str
    created_at: datetime
    # Metres from the new report's point, when both have one; else the text score (0-100).
    distance_m: float | None = None
    score: float | None = None


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance between two points, in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_METERS * math.asin(min(1.0, math.sqrt(a)))


# A number before one of these is an amount or a time ("2 minggu", "30 cm", "jam 7"), not part of a
# place: two reports of one pothole may disagree on how long it has been there.
_UNITS = frozenset(
    """detik menit jam hari hr minggu mg bulan bln tahun thn th kali x orang org cm mm meter m km kg ribu rb juta jt
    persen seconds minutes hours days weeks months years times people meters""".split()
)
_CLOCK = frozenset({"jam", "pukul"})


# Only what the offer shows and the comparison needs (a Core select: no media, no objects per row).
_C = table_of(Complaint).c
_COLUMNS = (_C.id, _C.category, _C.description, _C.status, _C.created_at, _C.location_lat, _C.location_lon)


async def _rows(session: AsyncSession, statement: Any) -> list[Any]:
    """Run a Core select in the session's transaction."""
    return list((await (await session.connection()).execute(statement)).all())


def _candidate(row: Any, *, distance_m: float | None = None, score: float | None = None) -> Candidate:
    return Candidate(int(row.id), row.category, row.description, row.status, row.created_at, distance_m, score)


async def candidates(
    session: AsyncSession,
    *,
    opd_code: str,
    since: datetime,
    description: str,
    lat: float | None,
    lon: float | None,
    radius_m: float,
    exclude_citizen: int | None = None,
    score: Callable[[str, str], float] | None = None,
    threshold: float = 100.0,
    limit: int = 3,
) -> list[Candidate]:
    """Open complaints of one agency received since `since` that may be this report: near, else alike in
    text (`score(description, theirs)` at least `threshold`; no text comparison without `score`)."""
    base = [
        _C.opd_code == opd_code,
        _C.status.in_(OPEN_STATES),
        _C.created_at >= since,
        _C.merged_into.is_(None),
    ]
    if exclude_citizen is not None:
        base.append(_C.citizen_id != exclude_citizen)
    found: list[Candidate] = []
    if lat is not None and lon is not None:
        dlat = math.degrees(radius_m / EARTH_RADIUS_METERS)
        dlon = dlat / max(math.cos(math.radians(lat)), 1e-6)
        rows = await _rows(
            session,
            core_select(*_COLUMNS).where(
                *base,
                _C.location_lat.between(lat - dlat, lat + dlat),
                _C.location_lon.between(lon - dlon, lon + dlon),
            ),
        )
        for row in rows:
            assert row.location_lat is not None and row.location_lon is not None
            distance = haversine_m(lat, lon, row.location_lat, row.location_lon)
            if distance <= radius_m:
                found.append(_candidate(row, distance_m=distance))
        found.sort(key=lambda c: (c.distance_m or 0.0, -c.complaint_id))
    if len(found) < limit and score is not None:
        # Without two points to compare, the words must say it: only complaints without a point when
        # this report has one (two points farther apart than the radius are two places).
        statement = core_select(*_COLUMNS).where(*base)
        if lat is not None and lon is not None:
            statement = statement.where(_C.location_lat.is_(None))
        statement = statement.order_by(_C.created_at.desc()).limit(TEXT_SCAN)
        alike = []
        for row in await _rows(session, statement):
            value = score(description, row.description)
            if value >= threshold:
                alike.append(_candidate(row, score=value))
        alike.sort(key=lambda c: (-(c.score or 0.0), -c.complaint_id))
        found.extend(alike)
    return found[:limit]


# -- followers -----------------------------------------------------------------------------------------------

_FOLLOWERS = table_of(ComplaintFollower)


async def follow(
    session: AsyncSession,
    *,
    complaint_id: int,
    citizen: Citizen,
    source: str,
    now: datetime,
    merged_from: int | None = None,
) -> bool:
    """Make a citizen a follower of a complaint; False if they already were."""
    assert citizen.id is not None
    new_id = await insert_ignore(
        session,
        table=_FOLLOWERS,
        values={
            "complaint_id": complaint_id,
            "citizen_id": citizen.id,
            "channel": citizen.channel,
            "chat_id": citizen.address,
            "joined_at": now,
            "source": source,
            "merged_from": merged_from,
        },
        conflict=["complaint_id", "citizen_id"],
    )
    return new_id is not None


async def followers_of(session: AsyncSession, *, complaint_id: int) -> list[ComplaintFollower]:
    """A complaint's followers, in the order they joined."""
    rows = await session.exec(
        select(ComplaintFollower)
        .where(col(ComplaintFollower.complaint_id) == complaint_id)
        .order_by(col(ComplaintFollower.id))
    )
    return list(rows.all())


async def follower_count(session: AsyncSession, *, complaint_id: int) -> int:
    """How many citizens follow a complaint (its reporter not counted)."""
    result = await session.exec(
        select(func.count()).select_from(ComplaintFollower).where(col(ComplaintFollower.complaint_id) == complaint_id)
    )
    return int(result.one())


async def followed_by(session: AsyncSession, *, citizen_id: int, open_only: bool = True) -> list[Complaint]:
    """The complaints a citizen follows, newest first."""
    statement = (
        select(Complaint)
        .join(ComplaintFollower, col(ComplaintFollower.complaint_id) == col(Complaint.id))
        .where(col(ComplaintFollower.citizen_id) == citizen_id)
    )
    if open_only:
        statement = statement.where(col(Complaint.status).in_(OPEN_STATES))
    return list((await session.exec(statement.order_by(col(Complaint.id).desc()).limit(20))).all())


async def follows(session: AsyncSession, *, complaint_id: int, citizen_id: int) -> bool:
    """Whether a citizen follows a complaint."""
    result = await session.exec(
        select(ComplaintFollower.id).where(
            col(ComplaintFollower.complaint_id) == complaint_id, col(ComplaintFollower.citizen_id) == citizen_id
        )
    )
    return result.first() is not None


async def reopen_figures(session: AsyncSession, *, since: datetime | None) -> tuple[int, int]:
    """(reopenings, merged copies) recorded since `since` (None: ever), for /stats."""
    event = table_of(ComplaintEvent).c
    counts = core_select(event.kind, func.count()).where(event.kind.in_(("reopened", "merged")))
    if since is not None:
        counts = counts.where(event.at >= since)
    found = dict((kind, int(n)) for kind, n in await _rows(session, counts.group_by(event.kind)))
    return found.get("reopened", 0), found.get("merged", 0)

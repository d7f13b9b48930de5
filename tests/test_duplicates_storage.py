"""storage.duplicates on both databases: what is a candidate, and a forgotten follower's chat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import complaints, duplicates, erasure
from storage.models import Agency, Citizen, ComplaintFollower

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
MARKET = (-3.97780, 122.51510)


async def test_only_open_recent_same_agency_complaints_are_candidates(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        for n, code in enumerate(("DLHK", "PUPR")):
            session.add(Agency(code=code, name=code, telegram_chat_id=-10 - n))
        citizen = Citizen(channel="telegram", address="1")
        session.add(citizen)
        await session.flush()
        assert citizen.id is not None

        async def filed(opd: str, days_ago: float, point: tuple[float, float] | None, status: str = "open") -> int:
            at = NOW - timedelta(days=days_ago)
            complaint = await complaints.create_complaint(
                session,
                citizen_id=citizen.id or 0,
                description="sampah menumpuk di pasar Mandonga",
                opd_code=opd,
                category=None,
                confidence=0.9,
                now=at,
                due_at=at + timedelta(hours=24),
                location_lat=point[0] if point else None,
                location_lon=point[1] if point else None,
            )
            complaint.status = status
            assert complaint.id is not None
            return complaint.id

        near = await filed("DLHK", 1, (MARKET[0] + 0.0009, MARKET[1]))  # ~100 m
        await filed("DLHK", 1, (MARKET[0] + 0.0036, MARKET[1]))  # ~400 m
        await filed("PUPR", 1, MARKET)  # another agency
        await filed("DLHK", 20, MARKET)  # too old
        await filed("DLHK", 1, MARKET, status="closed")
        answered = await filed("DLHK", 2, MARKET, status="answered")
        words = await filed("DLHK", 3, None)  # no point: compared by its words
        found = await duplicates.candidates(
            session,
            opd_code="DLHK",
            since=NOW - timedelta(days=14),
            description="sampah numpuk di pasar Mandonga",
            lat=MARKET[0],
            lon=MARKET[1],
            radius_m=250,
            # The comparison is the caller's (routing.similar): here, one that knows the market.
            score=lambda mine, theirs: 90.0 if "mandonga" in theirs.lower() else 0.0,
            threshold=60.0,
            limit=5,
        )
        assert [c.complaint_id for c in found] == [answered, near, words]
        assert found[0].distance_m is not None and found[0].distance_m < 1
        assert found[2].distance_m is None and found[2].score == 90.0
        # The reporter is never offered their own tickets.
        mine = await duplicates.candidates(
            session,
            opd_code="DLHK",
            since=NOW - timedelta(days=14),
            description="x",
            lat=MARKET[0],
            lon=MARKET[1],
            radius_m=250,
            exclude_citizen=citizen.id,
        )
        assert mine == []


async def test_a_forgotten_follower_is_counted_but_unreachable(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        session.add(Agency(code="DLHK", name="DLHK", telegram_chat_id=-10))
        reporter = Citizen(channel="telegram", address="1")
        follower = Citizen(channel="whatsapp", address="whatsapp:+6281234567890")
        session.add_all([reporter, follower])
        await session.flush()
        complaint = await complaints.create_complaint(
            session,
            citizen_id=reporter.id or 0,
            description="sampah",
            opd_code="DLHK",
            category=None,
            confidence=1.0,
            now=NOW,
            due_at=NOW + timedelta(hours=24),
        )
        assert complaint.id is not None
        assert await duplicates.follow(session, complaint_id=complaint.id, citizen=follower, source="offer", now=NOW)
        assert not await duplicates.follow(
            session, complaint_id=complaint.id, citizen=follower, source="offer", now=NOW
        )
        await erasure.anonymise_citizen(session, citizen=follower)
        [row] = await duplicates.followers_of(session, complaint_id=complaint.id)
        assert isinstance(row, ComplaintFollower) and "6281234567890" not in row.chat_id
        assert await duplicates.follower_count(session, complaint_id=complaint.id) == 1

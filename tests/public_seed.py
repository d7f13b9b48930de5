"""Complaints for the public page's and the Open311 API's tests: filed in the past, answered now by staff."""

from __future__ import annotations

from datetime import timedelta

from handlers import agency
from handlers.events import ChannelName, ChatKind, Inbound
from storage import complaints
from tests.harness import GROUPS, World
from tests.web_desk import stored_complaint


async def answered_complaint(
    world: World,
    *,
    opd: str = "DLHK",
    category: str | None = "Pengangkutan sampah",
    hours_ago: float = 2.0,
    answer: str = "Sudah kami angkut, terima kasih.",
    staff_name: str = "Rahmat",
    address: str = "424242",
    name: str = "Budi Santoso",
    description: str = "sampah menumpuk di TPS",
    location: tuple[float, float] | None = None,
    location_text: str | None = None,
) -> int:
    """A complaint filed `hours_ago` and answered now by a member of its agency's group (the real relay)."""
    desk = world.runtime.desk
    number = await stored_complaint(
        world,
        address=address,
        name=name,
        description=description,
        opd=opd,
        category=category,
        location=location,
        location_text=location_text,
        created_at=desk.now() - timedelta(hours=hours_ago),
    )
    async with world.runtime.sessions() as session, session.begin():
        complaint = await complaints.get_complaint(session, complaint_id=number)
        assert complaint is not None
        said = Inbound(
            channel=ChannelName("telegram"),
            chat_id=str(GROUPS[opd]),
            chat_kind=ChatKind.GROUP,
            sender_id="900001",
            sender_name=staff_name,
            at=desk.now(),
            external_id=f"seed-{number}",
            text=answer,
        )
        await agency.relay_answer(session, desk, complaint, opd, answer, said)
    return number

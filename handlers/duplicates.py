"""One ticket per problem: offer an open complaint before filing a copy, follow it, merge copies by hand (/gabung).

A follower is told what the reporter is told (the answers, the closing, the "is it fixed?"
question) on their own messenger; the agency's group only learns how many citizens report it.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import assignments, cards, followup, texts
from handlers.desk import HUMAS, Desk
from handlers.outgoing import Button, Recipient, send_photo, send_text, to_citizen
from handlers.texts import duplicates as t
from routing import Lexicon, similar
from storage import audit, complaints, duplicates
from storage.duplicates import Candidate
from storage.models import Citizen, Complaint, ComplaintStatus

# The offer lists at most this many complaints.
OFFER_LIMIT = 3
# What the citizen's answer to the offer chose: a complaint id to follow, or NEW.
NEW = 0
# First words of an answer that files a new report anyway ("bukan", "lain", "lapor baru").
_NEW_WORDS = frozenset({"baru", "lapor", "buat", "tidak", "tdk", "bukan", "beda", "lain", "new"})
# ... and that say "yes, the same one" (meaningful when only one was listed).
_SAME_WORDS = frozenset({"ya", "y", "iya", "iye", "yes", "benar", "betul", "sama", "sesuai"})


async def find_for_draft(session: AsyncSession, desk: Desk, citizen: Citizen, draft: dict[str, Any]) -> list[Candidate]:
    """Open complaints of the draft's agency that may be the same problem (none while it has no agency)."""
    opd = draft.get("opd")
    if not opd:
        return []  # humas routes it first: nothing to compare with
    point = draft.get("location") or {}
    now = desk.now()
    description = " ".join(filter(None, [draft.get("description", ""), draft.get("location_text", "")]))
    compare = comparer(desk)
    return await duplicates.candidates(
        session,
        opd_code=str(opd),
        since=now - timedelta(days=desk.duplicates.days),
        description=description,
        lat=point.get("lat"),
        lon=point.get("lon"),
        radius_m=desk.duplicates.radius_meters,
        # A report that names no place can only be compared by its point.
        score=compare.score if compare.report(description).place else None,
        threshold=similar.SAME_PROBLEM,
        exclude_citizen=citizen.id,
        limit=OFFER_LIMIT,
    )


# How long a desk's text comparison keeps the complaint texts it has read (it reads the same open
# complaints at every lookup). Not longer: an erased citizen's words must not outlive their erasure
# for long in any process (`ehumas forget` in a shell cannot reach a running bot's memory); an
# hour costs one more reading of the open complaints.
READINGS_KEPT = timedelta(hours=1)


@dataclass
class _Kept:
    comparer: similar.Comparer
    since: datetime


_KEPT: weakref.WeakKeyDictionary[Lexicon, _Kept] = weakref.WeakKeyDictionary()


def comparer(desk: Desk) -> similar.Comparer:
    """The text comparison of the desk's lexicon: made once and kept, a new one every READINGS_KEPT."""
    now = desk.now()
    kept = _KEPT.get(desk.lexicon)
    if kept is None or now - kept.since >= READINGS_KEPT:
        kept = _KEPT[desk.lexicon] = _Kept(similar.Comparer(desk.lexicon), now)
    return kept.comparer


def forget_readings(desk: Desk) -> None:
    """Drop the complaint texts the desk's comparison has read (a citizen was just erased)."""
    _KEPT.pop(desk.lexicon, None)


def offer_message(desk: Desk, found: list[Candidate]) -> str:
    """The list the citizen chooses from."""
    now = desk.now()
    lines = [t.OFFER_HEAD]
    for n, candidate in enumerate(found, start=1):
        days = int((now - candidate.created_at).total_seconds() // 86400)
        where = (
            t.OFFER_DISTANCE.format(meters=int(round(candidate.distance_m, -1)) or 10)
            if candidate.distance_m is not None
            else ""
        )
        lines.append(
            t.OFFER_LINE.format(
                n=n,
                ticket=desk.ticket(candidate.complaint_id),
                category=candidate.category or t.NO_CATEGORY,
                where=where,
                age=t.OFFER_AGE_DAYS.format(days=days) if days else t.OFFER_AGE_TODAY,
                status=t.OFFER_STATUS.get(candidate.status, candidate.status),
                text=cards.shorten(" ".join(candidate.description.split()), 90),
            )
        )
    lines.append("")
    lines.append(t.OFFER_FOOT.format(count=len(found)))
    return "\n".join(lines)


def offer_buttons(found: list[int], token: str, prefix: str) -> list[list[Button]]:
    """One button per listed complaint, and "new report"."""
    follow = [Button(t.BUTTON_FOLLOW.format(n=n), f"{prefix}f{n}:{token}") for n in range(1, len(found) + 1)]
    return [follow, [Button(t.BUTTON_NEW, f"{prefix}baru:{token}")]]


def choice(desk: Desk, text: str, offered: list[int]) -> int | None:
    """What an answer to the offer chose: a listed complaint's id, NEW, or None (not understood)."""
    words = text.lower().replace(".", " ").replace(",", " ").split()
    if not words:
        return None
    if words[0] in _NEW_WORDS or "baru" in words:
        return NEW
    if words[0] in _SAME_WORDS and len(offered) == 1:
        return offered[0]  # "ya" to "is this the same problem?" when only one was listed
    for word in words:
        number = desk.parse_ticket(word.lstrip("#"))
        if number is not None:
            return number if number in offered else None
    for word in words:
        if word.isascii() and word.isdigit():
            n = int(word)
            return offered[n - 1] if 1 <= n <= len(offered) else None
    return None


async def follow(
    session: AsyncSession,
    desk: Desk,
    citizen: Citizen,
    complaint_id: int,
    *,
    source: str = "offer",
    merged_from: int | None = None,
) -> Complaint | None:
    """The citizen follows an open complaint: told so; the agency's group gets one line. None if not open."""
    now = desk.now()
    complaint = await complaints.get_complaint(session, complaint_id=complaint_id, lock=True)
    if complaint is None or complaint.status not in duplicates.OPEN_STATES or complaint.merged_into is not None:
        return None
    ticket = desk.ticket(complaint_id)
    me = to_citizen(citizen)
    if complaint.citizen_id == citizen.id:
        return complaint  # their own ticket: nothing to follow
    added = await duplicates.follow(
        session, complaint_id=complaint_id, citizen=citizen, source=source, now=now, merged_from=merged_from
    )
    if source == "offer":
        text = t.FOLLOWING if added else t.ALREADY_FOLLOWING
        await send_text(
            session,
            me,
            text.format(ticket=ticket, agency=desk.agency_name(complaint.opd_code)),
            now=now,
            complaint_id=complaint_id,
            purpose="following",
        )
    if added:
        await complaints.add_event(
            session, complaint_id=complaint_id, kind="followed", now=now, actor="citizen", detail=source
        )
        count = 1 + await duplicates.follower_count(session, complaint_id=complaint_id)
        # A count, never who: staff do not see followers' identities.
        await send_text(
            session,
            desk.staff(desk.group_of(complaint.opd_code)),
            t.FOLLOWERS_IN_GROUP.format(ticket=ticket, count=count),
            now=now,
            complaint_id=complaint_id,
            purpose="followers",
        )
    return complaint


async def share_photos(session: AsyncSession, desk: Desk, complaint: Complaint, photos: list[dict[str, Any]]) -> int:
    """Photos a follower had put in their draft go to the followed ticket and its agency (never who sent them)."""
    assert complaint.id is not None
    now = desk.now()
    kept = list(complaint.media)
    shared = 0
    for photo in photos:
        if len(kept) >= followup.MAX_TICKET_PHOTOS:
            break
        kept.append(dict(photo))
        await send_photo(
            session,
            desk.staff(desk.group_of(complaint.opd_code)),
            ref=str(photo["ref"]),
            source=str(photo["source"]),
            caption=t.FOLLOWER_PHOTO_CAPTION.format(ticket=desk.ticket(complaint.id)),
            now=now,
            complaint_id=complaint.id,
            purpose="addition",
        )
        shared += 1
    if shared:
        complaint.media = kept
        session.add(complaint)
        await complaints.add_event(
            session, complaint_id=complaint.id, kind="addition", now=now, actor="follower", detail=f"{shared} foto"
        )
    return shared


async def follower_recipients(session: AsyncSession, complaint_id: int) -> list[tuple[Citizen, Recipient]]:
    """Where a complaint's followers are reached (the unreachable left out)."""
    found = []
    for row in await duplicates.followers_of(session, complaint_id=complaint_id):
        citizen = await session.get(Citizen, row.citizen_id)
        if citizen is not None and citizen.reachable:
            found.append((citizen, to_citizen(citizen)))
    return found


async def tell_followers(
    session: AsyncSession,
    desk: Desk,
    complaint_id: int,
    text: str,
    *,
    purpose: str,
    photos: Sequence[tuple[str, str]] = (),
    photo_caption: str = "",
) -> int:
    """Send the followers what the reporter was sent; return how many were told."""
    now = desk.now()
    told = 0
    for _, to in await follower_recipients(session, complaint_id):
        await send_text(session, to, text, now=now, complaint_id=complaint_id, purpose=purpose)
        for ref, source in photos:
            await send_photo(
                session, to, ref=ref, source=source, caption=photo_caption, now=now, complaint_id=complaint_id
            )
        told += 1
    return told


@dataclass(frozen=True)
class MergeOutcome:
    """What /gabung did, as its sender is told."""

    ok: bool
    message: str


async def merge(
    session: AsyncSession, desk: Desk, first_id: int, second_id: int, *, owner: str | None, actor: str
) -> MergeOutcome:
    """/gabung: `first` becomes a follower of `second`; its clock ends without a reprimand, its history stays.

    `owner` limits it to one agency's own tickets (None: humas, any agency's).
    """
    now = desk.now()
    first_ticket, second_ticket = desk.ticket(first_id), desk.ticket(second_id)
    if first_id == second_id:
        return MergeOutcome(False, t.MERGE_SAME)
    # Locked in id order, whatever the order named: two merges at once cannot wait on each other.
    locked = {}
    for number in sorted((first_id, second_id)):
        locked[number] = await complaints.get_complaint(session, complaint_id=number, lock=True)
    first, second = locked[first_id], locked[second_id]
    for number, complaint in ((first_id, first), (second_id, second)):
        if complaint is None:
            return MergeOutcome(False, texts.TICKET_NOT_FOUND.format(ticket=desk.ticket(number)))
        if owner is not None and (complaint.opd_code or HUMAS) != owner:
            return MergeOutcome(
                False,
                texts.NOT_YOUR_TICKET.format(ticket=desk.ticket(number), owner=owner if owner != HUMAS else "humas"),
            )
        if complaint.status not in duplicates.OPEN_STATES or complaint.merged_into is not None:
            state = texts.STATUS_NAMES.get(complaint.status, complaint.status)
            return MergeOutcome(False, t.MERGE_NOT_OPEN.format(ticket=desk.ticket(number), state=state))
    assert first is not None and second is not None
    if first.opd_code != second.opd_code:
        return MergeOutcome(False, t.MERGE_OTHER_AGENCY.format(first=first_ticket, second=second_ticket))
    first.merged_into = second_id
    first.status = ComplaintStatus.CLOSED.value
    first.closed_at = now
    session.add(first)
    # Its owner's clock stops here (no reprimand can follow: the ticket is closed); the verdict so far stays.
    await assignments.end_current(session, first, now=now, reason="merged")
    await complaints.add_event(
        session,
        complaint_id=first_id,
        kind="merged",
        now=now,
        actor=actor,
        detail=t.MERGED_EVENT.format(second=second_ticket),
    )
    await complaints.add_event(
        session,
        complaint_id=second_id,
        kind="merged_in",
        now=now,
        actor=actor,
        detail=t.MERGED_IN_EVENT.format(first=first_ticket),
    )
    await audit.log_action(
        session, actor=actor, action="merge", target=first_ticket, detail=f"-> {second_ticket}", now=now
    )
    # The reporter of `first`, and whoever followed `first`, follow `second` now.
    reporter = await session.get(Citizen, first.citizen_id)
    assert reporter is not None
    movers = [reporter] + [c for c, _ in await follower_recipients(session, first_id)]
    for citizen in movers:
        if citizen.id == second.citizen_id:
            continue
        await follow(session, desk, citizen, second_id, source="merge", merged_from=first_id)
        if citizen.reachable:
            await send_text(
                session,
                to_citizen(citizen),
                t.MERGE_TO_CITIZEN.format(
                    first=first_ticket, second=second_ticket, agency=desk.agency_name(second.opd_code)
                ),
                now=now,
                complaint_id=first_id,
                purpose="merged",
            )
    return MergeOutcome(True, t.MERGE_DONE.format(first=first_ticket, second=second_ticket))


async def command(
    session: AsyncSession, desk: Desk, here: Recipient, rest: str, *, owner: str | None, actor: str
) -> None:
    """/gabung KDI-0051 KDI-0042 in an agency's group (owner: its code) or by humas (owner None)."""
    now = desk.now()
    parts = rest.split()
    numbers = [desk.parse_ticket(p.lstrip("#")) for p in parts[:2]]
    if len(parts) < 2 or None in numbers:
        await send_text(session, here, t.USAGE_GABUNG.format(prefix=desk.ticket_prefix), now=now)
        return
    first, second = numbers
    assert first is not None and second is not None
    outcome = await merge(session, desk, first, second, owner=owner, actor=actor)
    await send_text(session, here, outcome.message, now=now, purpose="merge")

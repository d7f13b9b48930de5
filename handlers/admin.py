"""Humas commands: /overdue, /stats, /lihat, /pindah, /tolak, /tegur, /export, /lupakan. Admins only."""

from __future__ import annotations

import base64

from markupsafe import Markup
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import (
    actions,
    cards,
    chat_policy,
    contacts,
    duplicates,
    forget,
    overdue,
    periods,
    reports,
    texts,
)
from handlers.desk import Desk
from handlers.events import Inbound
from handlers.outgoing import Recipient, send_location, send_photo, send_text
from handlers.texts import duplicates as dup_texts
from handlers.texts import privacy as privacy_texts
from handlers.texts import staff as staff_texts
from storage import audit, complaints, outbox
from storage import duplicates as duplicate_queries
from storage import reports as report_queries
from storage.filters import ComplaintFilter
from storage.models import Citizen

COMMANDS = frozenset({"overdue", "stats", "lihat", "pindah", "tolak", "tegur", "export", "lupakan", "gabung"})


def is_admin(desk: Desk, inbound: Inbound) -> bool:
    """Whether the sender is one of the configured humas admins."""
    return inbound.sender_id in desk.humas_admin_ids


def actor(inbound: Inbound) -> str:
    """Who did it, for the audit log."""
    return f"{inbound.sender_name} (telegram {inbound.sender_id})"


async def handle(session: AsyncSession, desk: Desk, inbound: Inbound) -> bool:
    """Run a humas command; False if the text is not one of them."""
    name, rest = inbound.command()
    if name not in COMMANDS:
        return False
    here = Recipient(inbound.channel, inbound.chat_id)
    now = desk.now()
    if inbound.channel != desk.staff_channel or not is_admin(desk, inbound):
        # Say nothing about what the command would show.
        await send_text(session, here, texts.ADMIN_ONLY, now=now, reply_to=inbound.message_id)
        return True
    if not chat_policy.humas_chat(desk, inbound):
        # An admin in an agency's group: staff there must not read a citizen's details.
        await send_text(session, here, privacy_texts.HUMAS_CHATS_ONLY, now=now, reply_to=inbound.message_id)
        return True
    handler = {
        "overdue": _overdue,
        "stats": _stats,
        "lihat": _lihat,
        "pindah": _pindah,
        "tolak": _tolak,
        "tegur": _tegur,
        "export": _export,
        "lupakan": forget.command,
        "gabung": _gabung,
    }[name]
    await handler(session, desk, inbound, here, rest)
    return True


async def _overdue(session: AsyncSession, desk: Desk, inbound: Inbound, here: Recipient, rest: str) -> None:
    now = desk.now()
    code = rest.split()[0].upper() if rest.split() else None
    if code is not None and code not in desk.agencies:
        await send_text(
            session, here, texts.UNKNOWN_AGENCY.format(code=code[:20], codes=", ".join(desk.agencies)), now=now
        )
        return
    await overdue.answer(session, desk, here, scope=code)


async def _stats(session: AsyncSession, desk: Desk, inbound: Inbound, here: Recipient, rest: str) -> None:
    now = desk.now()
    period = rest.split()[0].lower() if rest.split() else periods.DEFAULT
    if period not in periods.PERIODS:
        await send_text(session, here, texts.STATS_USAGE, now=now)
        return
    since = periods.since(period, now=now, zone=desk.zone)
    figures = await reports.load_stats(session, since=since, now=now)
    messages = reports.stats_message(desk, figures, period)
    reopened, merged = await duplicate_queries.reopen_figures(session, since=since)
    if reopened or merged:
        # "Belum beres" reopenings and /gabung merges of the period (issue 17).
        messages[-1] = messages[-1] + Markup("\n") + dup_texts.STATS_LINE.format(reopened=reopened, merged=merged)
    for message in messages:
        await send_text(session, here, message, now=now, purpose="report")


async def _export(session: AsyncSession, desk: Desk, inbound: Inbound, here: Recipient, rest: str) -> None:
    now = desk.now()
    period = rest.split()[0].lower() if rest.split() else periods.DEFAULT
    if period not in periods.PERIODS:
        await send_text(session, here, texts.USAGE_EXPORT.format(), now=now)
        return
    since = periods.since(period, now=now, zone=desk.zone)
    rows = await report_queries.export_rows(session, found=ComplaintFilter(since=since), now=now)
    label = texts.STATS_PERIODS[period]
    if not rows:
        await send_text(session, here, texts.EXPORT_EMPTY.format(period=label), now=now)
        return
    content = reports.export_csv(desk, rows)
    stamp = now.astimezone(desk.zone).strftime("%Y%m%d-%H%M")
    await outbox.enqueue(
        session,
        channel=here.channel,
        chat_id=here.chat_id,
        kind="document",
        now=now,
        purpose="export",
        payload={
            "filename": f"aduan-{desk.ticket_prefix.lower()}-{period}-{stamp}.csv",
            "content_b64": base64.b64encode(content).decode("ascii"),
            "caption": texts.EXPORT_CAPTION.format(period=label, count=len(rows)),
        },
    )
    await audit.log_action(
        session, actor=actor(inbound), action="export", target=period, detail=f"{len(rows)} rows", now=now
    )


async def _ticket_arg(
    session: AsyncSession, desk: Desk, here: Recipient, rest: str, usage: str
) -> tuple[int, str] | None:
    """The complaint id named first in `rest`, and the remaining text; answers usage errors itself."""
    now = desk.now()
    head, _, tail = rest.partition(" ")
    number = desk.parse_ticket(head) if head else None
    if number is None:
        await send_text(session, here, usage.format(prefix=desk.ticket_prefix), now=now)
        return None
    return number, tail.strip()


async def _lihat(session: AsyncSession, desk: Desk, inbound: Inbound, here: Recipient, rest: str) -> None:
    now = desk.now()
    parsed = await _ticket_arg(session, desk, here, rest, texts.USAGE_LIHAT)
    if parsed is None:
        return
    number, _ = parsed
    complaint = await complaints.get_complaint(session, complaint_id=number)
    ticket = desk.ticket(number)
    if complaint is None:
        await send_text(session, here, texts.TICKET_NOT_FOUND.format(ticket=ticket), now=now)
        return
    citizen = await session.get(Citizen, complaint.citizen_id)
    assert citizen is not None
    point = (
        texts.LIHAT_POINT.format(lat=complaint.location_lat, lon=complaint.location_lon)
        if complaint.location_lat is not None and complaint.location_lon is not None
        else ""
    )
    lines = [
        texts.LIHAT_HEAD.format(ticket=ticket, category=complaint.category or "-"),
        texts.LIHAT_STATUS.format(
            status=texts.STATUS_NAMES.get(complaint.status, complaint.status),
            owner=complaint.opd_code or texts.NOT_ROUTED_YET,
        ),
        # The citizen's contact, for an admin in a private chat only: never in a group.
        staff_texts.LIHAT_CITIZEN_PRIVATE.format(
            name=citizen.display_name or "-", contact=contacts.contact_for_people(desk, citizen)
        )
        if chat_policy.private_with_admin(desk, inbound)
        else staff_texts.LIHAT_CITIZEN_GROUP.format(
            name=citizen.display_name or "-", channel=desk.channel_label(citizen.channel)
        ),
        texts.LIHAT_DATES.format(
            created=desk.local_time(complaint.created_at), deadline=desk.local_time(complaint.due_at)
        ),
        texts.LIHAT_LOCATION.format(location=cards.location_line(complaint), point=point),
        texts.LIHAT_PHOTOS.format(count=len(complaint.media)),
        Markup(""),
        Markup.escape(cards.shorten(complaint.description, 1500)),
        Markup(""),
        texts.LIHAT_CONVERSATION,
    ]
    for message in await complaints.messages_of(session, complaint_id=number):
        lines.append(
            texts.LIHAT_MESSAGE.format(
                at=desk.local_time(message.at),
                who=texts.AUTHOR_NAMES.get(message.author, message.author),
                label=message.author_label,
                text=cards.shorten(message.text, 600),
            )
        )
    lines.append(Markup(""))
    lines.append(texts.LIHAT_HISTORY)
    for event in await complaints.events_of(session, complaint_id=number):
        detail = texts.LIHAT_EVENT_DETAIL.format(detail=cards.shorten(event.detail, 200)) if event.detail else ""
        lines.append(
            texts.LIHAT_EVENT.format(
                at=desk.local_time(event.at),
                kind=texts.EVENT_NAMES.get(event.kind, event.kind),
                actor=staff_texts.ACTOR_NAMES.get(event.actor, event.actor),
                detail=detail,
            )
        )
    for part in reports.split_lines(lines):
        await send_text(session, here, part, now=now, complaint_id=number, purpose="report")
    if complaint.location_lat is not None and complaint.location_lon is not None:
        await send_location(session, here, complaint.location_lat, complaint.location_lon, now=now, complaint_id=number)
    for media in complaint.media:
        await send_photo(
            session,
            here,
            ref=media["ref"],
            source=media["source"],
            caption=texts.CARD_PHOTO_CAPTION.format(ticket=ticket),
            now=now,
            complaint_id=number,
        )
    await audit.log_action(session, actor=actor(inbound), action="view", target=ticket, now=now)


async def _pindah(session: AsyncSession, desk: Desk, inbound: Inbound, here: Recipient, rest: str) -> None:
    parsed = await _ticket_arg(session, desk, here, rest, texts.USAGE_PINDAH)
    if parsed is None:
        return
    number, tail = parsed
    code = tail.split()[0] if tail.split() else ""
    if not code:
        await send_text(session, here, texts.USAGE_PINDAH.format(prefix=desk.ticket_prefix), now=desk.now())
        return
    outcome = await actions.reroute(
        session, desk, number, code, actor=actor(inbound), admin=inbound.sender_name, here=here
    )
    if not outcome.told:
        await send_text(session, here, outcome.message, now=desk.now())


async def _tolak(session: AsyncSession, desk: Desk, inbound: Inbound, here: Recipient, rest: str) -> None:
    parsed = await _ticket_arg(session, desk, here, rest, texts.USAGE_TOLAK)
    if parsed is None:
        return
    number, reason = parsed
    outcome = await actions.reject(
        session, desk, number, reason, actor=actor(inbound), admin=inbound.sender_name, here=here
    )
    if not outcome.told:
        await send_text(session, here, outcome.message, now=desk.now())


async def _tegur(session: AsyncSession, desk: Desk, inbound: Inbound, here: Recipient, rest: str) -> None:
    code, _, text = rest.partition(" ")
    if not code:
        await send_text(session, here, texts.USAGE_TEGUR, now=desk.now())
        return
    outcome = await actions.reprimand(session, desk, code, text, actor=actor(inbound))
    await send_text(session, here, outcome.message, now=desk.now())


async def _gabung(session: AsyncSession, desk: Desk, inbound: Inbound, here: Recipient, rest: str) -> None:
    await duplicates.command(session, desk, here, rest, owner=None, actor=actor(inbound))

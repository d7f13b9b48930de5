"""/overdue at any scale: per agency the count and the ten most overdue, the full list as a CSV.

The answer is at most two texts, whatever the number of late complaints, plus (when they leave
tickets out) a CSV document with all of them. The document is queued as a recipe and built by
`build_document` when the outbox sends it: the command's transaction stays short (no scan of
every overdue row while it holds the database), and the outbox does not keep megabytes per call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import reports
from handlers.desk import Desk
from handlers.outgoing import Recipient, send_text
from handlers.texts import staff as staff_texts
from storage import outbox
from storage import reports as report_queries

# The payload key of a document built at sending time, and the report it names.
BUILD = "build"
OVERDUE_REPORT = "overdue"


async def answer(session: AsyncSession, desk: Desk, here: Recipient, *, scope: str | None) -> None:
    """Queue the /overdue answer: at most two texts, then the CSV when they leave tickets out."""
    now = desk.now()
    summary = await report_queries.overdue_summary(
        session, now=now, opd_code=scope, per_owner=reports.OVERDUE_PER_OWNER
    )
    for message in reports.overdue_messages(desk, summary, now=now, scope=scope):
        await send_text(session, here, message, now=now, purpose="report")
    if not reports.overdue_left_out(summary):
        return  # every overdue ticket is in the message: a file would say it again
    stamp = now.astimezone(desk.zone).strftime("%Y%m%d-%H%M")
    scope_name = f"-{scope.lower()}" if scope else ""
    await outbox.enqueue(
        session,
        channel=here.channel,
        chat_id=here.chat_id,
        kind="document",
        now=now,
        purpose="report",
        payload={
            "filename": f"terlambat-{desk.ticket_prefix.lower()}{scope_name}-{stamp}.csv",
            "caption": staff_texts.OVERDUE_CSV_CAPTION.format(
                scope=f" untuk {scope}" if scope else "", now=desk.local_time(now), count=summary.total
            ),
            BUILD: {"report": OVERDUE_REPORT, "as_of": now.isoformat(), "scope": scope},
        },
    )


async def build_document(session: AsyncSession, desk: Desk, recipe: Mapping[str, Any]) -> bytes:
    """The content of a document queued as a recipe: the overdue list as of the command's time.

    Complaints answered between the command and the sending (seconds, usually) are left out: the
    file is the list as it stands when it is sent.
    """
    if recipe.get("report") != OVERDUE_REPORT:
        raise ValueError(f"unknown report {recipe.get('report')!r}")
    as_of = datetime.fromisoformat(str(recipe["as_of"]))
    scope = recipe.get("scope")
    rows = await report_queries.overdue_rows(session, now=as_of, opd_code=str(scope) if scope else None)
    # Formatting tens of thousands of rows takes a while: not on the event loop.
    return await asyncio.to_thread(reports.overdue_csv, desk, rows, now=as_of)

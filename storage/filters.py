"""Which complaints a list, a map or an export shows: one filter, the same SQL everywhere."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_

from storage.assignments import HUMAS_OWNER
from storage.models import Complaint, ComplaintStatus, table_of


@dataclass(frozen=True)
class ComplaintFilter:
    """Complaints to show; every field None (or False) means "any"."""

    # An agency code, or HUMAS_OWNER for complaints no agency has.
    owner: str | None = None
    status: str | None = None
    # Unanswered and past the deadline now (what /overdue lists).
    overdue_only: bool = False
    category: str | None = None
    # Filed at or after this moment.
    since: datetime | None = None
    # Words to find in the description or the location text (case-insensitive).
    text: str | None = None


def _like_pattern(text: str) -> str:
    """A LIKE pattern finding `text` anywhere, with LIKE's own wildcards taken literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def complaint_conditions(found: ComplaintFilter, *, now: datetime) -> list[ColumnElement[bool]]:
    """The WHERE conditions on the complaint table for a filter (bound parameters only)."""
    c: Any = table_of(Complaint).c
    conditions: list[ColumnElement[bool]] = []
    if found.owner == HUMAS_OWNER:
        conditions.append(c.opd_code.is_(None))
    elif found.owner is not None:
        conditions.append(c.opd_code == found.owner)
    if found.status is not None:
        conditions.append(c.status == found.status)
    if found.overdue_only:
        conditions.append(and_(c.status == ComplaintStatus.OPEN.value, c.due_at <= now))
    if found.category is not None:
        conditions.append(c.category == found.category)
    if found.since is not None:
        conditions.append(c.created_at >= found.since)
    if found.text:
        pattern = _like_pattern(found.text)
        conditions.append(
            or_(
                func.lower(c.description).like(pattern, escape="\\"),
                func.lower(func.coalesce(c.location_text, "")).like(pattern, escape="\\"),
            )
        )
    return conditions

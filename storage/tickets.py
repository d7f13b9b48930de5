"""Ticket numbers: the complaint's row id shown as <prefix>-0042."""

import re

# ASCII digits only: "KDI-٠٠٠١" or full-width digits are no ticket number (int() would take them).
_TICKET = re.compile(r"^#?([A-Za-z][A-Za-z0-9]{0,9})-([0-9]{1,9})$")


def format_ticket(prefix: str, number: int) -> str:
    """Show a complaint id as a ticket number, zero-padded to at least 4 digits."""
    return f"{prefix}-{number:04d}"


def parse_ticket(prefix: str, text: str) -> int | None:
    """The complaint id in a ticket number like KDI-0042 (or #kdi-42), or None if it is not one."""
    match = _TICKET.match(text.strip())
    if not match or match.group(1).upper() != prefix.upper():
        return None
    number = int(match.group(2))
    return number if number > 0 else None

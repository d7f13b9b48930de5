"""Who may see what of a citizen: names that are really contacts, and phone numbers in logs and alerts.

A citizen's contact (phone number, Telegram id or username) is for humas admins in a private chat
only. Agency groups see a first name and the messenger; the humas group sees a ticket and a
display name; logs see numbers masked.
"""

from __future__ import annotations

import re

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.texts import privacy as texts
from storage import citizens

# A name holding this many digits (in any script, with any separators) is a phone number.
PHONE_DIGITS = 6
# A username (@budi_kdi), an e-mail address (budi@mail.id) or a link (t.me/budi, wa.me/62...).
_CONTACT_MARKS = re.compile(r"@|://|\bwww\.|\b(?:t|wa)\.me\b", re.IGNORECASE)


def looks_like_contact(name: str) -> bool:
    """Whether a display name is a phone number, a username, an e-mail address or a link."""
    if _CONTACT_MARKS.search(name):
        return True
    return sum(char.isdecimal() for char in name) >= PHONE_DIGITS


def public_name(name: str) -> str:
    """A display name fit to show to staff: "" when it is really a way to reach the person."""
    return "" if looks_like_contact(name) else name


# E.164 (+6281234567890, with or without "whatsapp:") and Indonesian local numbers (081234567890).
_PHONE = re.compile(r"(?<![0-9])(\+[0-9]{8,15}|0[0-9]{8,13}|62[0-9]{8,13})(?![0-9])")


def _masked(match: re.Match[str]) -> str:
    number = match.group(1)
    keep = 6 if number.startswith("+") else 5
    return number[:keep] + "****" + number[-4:]


def mask_phones(text: str) -> str:
    """`text` with every phone number in it masked: +6281234567890 becomes +62812****7890."""
    return _PHONE.sub(_masked, text)


async def describe_recipient(session: AsyncSession, *, channel: str, chat_id: str) -> str:
    """Who a message was for, as the humas group may read it: a citizen by display name, never by number."""
    citizen = await citizens.find_citizen(session, channel=channel, address=chat_id)
    if citizen is None:
        return texts.RECIPIENT_CHAT.format(channel=channel, chat_id=mask_phones(chat_id))
    return texts.RECIPIENT_CITIZEN.format(name=public_name(citizen.display_name) or texts.NO_NAME, channel=channel)

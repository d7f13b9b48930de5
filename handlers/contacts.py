"""How people's contacts read for humas: "+62 812-3456-7890 (WhatsApp)", "Telegram id 12345"."""

from __future__ import annotations

from handlers.desk import Desk
from handlers.texts import staff as staff_texts
from storage.models import Citizen


def phone_for_people(number: str) -> str:
    """An E.164 number as people write it: +6281234567890 -> +62 812-3456-7890.

    Indonesian numbers (+62) get the operator prefix, then groups of four (a short remainder joins
    the last group). Other countries group differently; their numbers stay as they are.
    """
    digits = number.lstrip("+")
    if not digits.startswith("62") or len(digits) < 9:
        return "+" + digits
    rest = digits[2:]
    groups = [rest[3:][i : i + 4] for i in range(0, len(rest) - 3, 4)]
    if len(groups) > 1 and len(groups[-1]) < 3:
        groups[-2:] = [groups[-2] + groups[-1]]
    return "+62 " + "-".join([rest[:3], *groups])


def contact_for_people(desk: Desk, citizen: Citizen) -> str:
    """A citizen's address as humas reads it: a phone number formatted, else the messenger's user id."""
    channel = desk.channel_label(citizen.channel)
    # Messenger addresses look like "whatsapp:+6281234567890" (a phone) or "12345" (a user id).
    _, _, address = citizen.address.rpartition(":")
    if address.startswith("+") and address[1:].isdigit():
        return staff_texts.CONTACT_PHONE.format(phone=phone_for_people(address), channel=channel)
    if citizen.handle:
        # A handle finds the person in the messenger's search; the id is what never changes.
        return staff_texts.CONTACT_HANDLE.format(handle=citizen.handle, channel=channel, id=address)
    return staff_texts.CONTACT_ID.format(channel=channel, id=address)

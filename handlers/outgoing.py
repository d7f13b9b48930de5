"""Writing messages to the outbox: the only way handlers "send" anything.

Payloads are messenger-neutral; the adapters in bot/ turn them into API calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.events import ChannelName
from handlers.textsafe import ascii_int
from storage import outbox
from storage.models import Citizen


@dataclass(frozen=True)
class Button:
    """An inline button: its label and the data it sends back when pressed."""

    label: str
    data: str


def button_parts(data: str, prefix: str) -> tuple[int, str] | None:
    """(complaint id, value) of a button's data "<prefix><id>:<value>", or None if it is not one such."""
    if not data.startswith(prefix):
        return None
    number, _, value = data[len(prefix) :].partition(":")
    complaint_id = ascii_int(number)
    if complaint_id is None or not value:
        return None
    return complaint_id, value


@dataclass(frozen=True)
class Recipient:
    """Where a message goes: a messenger and a chat on it."""

    channel: ChannelName
    chat_id: str


def to_citizen(citizen: Citizen) -> Recipient:
    """The private chat of a citizen on their messenger."""
    return Recipient(ChannelName(citizen.channel), citizen.address)


async def send_text(
    session: AsyncSession,
    to: Recipient,
    text: str | Markup,
    *,
    now: datetime,
    buttons: Sequence[Sequence[Button]] = (),
    typed_hint: str = "",
    reply_to: str | None = None,
    complaint_id: int | None = None,
    purpose: str = "",
    dedup_key: str | None = None,
    link_preview: bool = True,
    send_before: datetime | None = None,
) -> int | None:
    """Queue a text message; a Markup text goes as HTML (its arguments were escaped when it was formatted)."""
    payload: dict[str, object] = {"text": str(text)}
    if isinstance(text, Markup):
        payload["html"] = True
    if not link_preview:
        # The messenger must not fetch the links in it (a one-time link would be used up).
        payload["no_preview"] = True
    if send_before is not None:
        # Pointless (or wrong) later: the dispatcher drops it then instead of sending it.
        payload["send_before"] = send_before.isoformat()
    if buttons:
        payload["buttons"] = [[[b.label, b.data] for b in row] for row in buttons]
        if typed_hint:
            # What to type instead, for a messenger that cannot show these buttons.
            payload["typed_hint"] = typed_hint
    if reply_to:
        payload["reply_to"] = reply_to
    return await outbox.enqueue(
        session,
        channel=to.channel,
        chat_id=to.chat_id,
        payload=payload,
        now=now,
        kind="text",
        complaint_id=complaint_id,
        purpose=purpose,
        dedup_key=dedup_key,
    )


async def send_location(
    session: AsyncSession, to: Recipient, lat: float, lon: float, *, now: datetime, complaint_id: int | None = None
) -> None:
    """Queue a map point."""
    await outbox.enqueue(
        session,
        channel=to.channel,
        chat_id=to.chat_id,
        payload={"lat": lat, "lon": lon},
        now=now,
        kind="location",
        complaint_id=complaint_id,
        purpose="location",
    )


async def send_photo(
    session: AsyncSession,
    to: Recipient,
    *,
    ref: str,
    source: str,
    caption: str | Markup,
    now: datetime,
    complaint_id: int | None = None,
    purpose: str = "photo",
    caption_is_essential: bool = False,
) -> int | None:
    """Queue a photo; `source` says what `ref` is (a channel's own file id, or events.STORED key).

    A Markup caption goes as HTML, like a Markup text (the handler keeps it within the messenger's
    caption limit: a cut would break its tags). `caption_is_essential`: should the photo itself
    prove unsendable, the caption still goes, as a text (a ticket card must not be lost with its photo).
    """
    payload: dict[str, object] = {"ref": ref, "source": source, "caption": str(caption)}
    if isinstance(caption, Markup):
        payload["html"] = True
    if caption_is_essential:
        payload["caption_is_essential"] = True
    return await outbox.enqueue(
        session,
        channel=to.channel,
        chat_id=to.chat_id,
        payload=payload,
        now=now,
        kind="photo",
        complaint_id=complaint_id,
        purpose=purpose,
    )


async def answer_button(
    session: AsyncSession, to: Recipient, *, callback_id: str, now: datetime, notice: str = ""
) -> None:
    """Acknowledge an inline button press (Telegram shows a spinner until then), with a short notice."""
    payload: dict[str, object] = {"callback_id": callback_id}
    if notice:
        payload["text"] = notice
    await outbox.enqueue(
        session,
        channel=to.channel,
        chat_id=to.chat_id,
        payload=payload,
        now=now,
        kind="callback_answer",
        purpose="callback_answer",
    )


async def clear_buttons(
    session: AsyncSession, to: Recipient, *, now: datetime, message_id: str | None = None, outbox_ref: int | None = None
) -> None:
    """Remove the buttons of a message already sent: by the messenger's id, or by the outbox row that sent it.

    Used buttons and buttons of a question that is no longer open are taken away, so that an old
    message cannot be pressed into a new draft. Queued only for messengers that can do it
    (Desk.removes_buttons); a row that reaches another messenger's sender is ignored.
    """
    payload: dict[str, object] = {}
    if message_id is not None:
        payload["message_id"] = message_id
    if outbox_ref is not None:
        payload["outbox_ref"] = outbox_ref
    if payload:
        await outbox.enqueue(
            session, channel=to.channel, chat_id=to.chat_id, payload=payload, now=now, kind="clear_buttons"
        )


# A message to a citizen whose row no longer names them (forgotten) says when they last wrote:
# WhatsApp's 24-hour window runs from then.
HEARD_AT = "heard_at"


def heard_hint(payload: dict[str, Any]) -> datetime | None:
    """The last-heard time a payload carries (see HEARD_AT), if any."""
    value = payload.get(HEARD_AT)
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None

"""The playground's people and chats: what they type becomes real webhooks, what the bot sends is read
back from the stand-ins. Nothing here reaches into the desk; it only talks HTTP to it."""

from __future__ import annotations

import asyncio
import itertools
import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from bot.config import Settings
from bot.playground import updates
from bot.standins.telegram_api import TelegramCall, TelegramStandIn
from bot.standins.twilio_api import TwilioCall, TwilioStandIn, tap_fields, twilio_signature
from bot.telegram.webhook import SECRET_HEADER
from handlers.clock import Clock

TELEGRAM_WEBHOOK = "/telegram/webhook"
WHATSAPP_WEBHOOK = "/whatsapp/webhook"
# Kendari's town square (Tugu Persatuan, Mandonga), for the "send location" buttons.
KENDARI = (-3.9675, 122.5147)
_LINK = re.compile(r'href="([^"]*/desk/masuk/[^"]+)"')


@dataclass(frozen=True)
class Pane:
    """One chat window: who types in it and where it lives."""

    key: str
    title: str
    channel: str  # "telegram" or "whatsapp"
    chat_id: int | str
    user_id: int | str
    user_name: str

    @property
    def is_group(self) -> bool:
        """Whether this is a Telegram group."""
        return self.channel == "telegram" and isinstance(self.chat_id, int) and self.chat_id < 0


@dataclass
class Event:
    """One message in a pane, as the page shows it; or (sender "edit") the bot's change to an earlier one."""

    seq: int
    pane: str
    sender: str  # "user", "bot", or "edit" (message_id names the message edited)
    name: str
    text: str = ""
    html: bool = False
    message_id: int | None = None
    reply_to: int | None = None
    buttons: list[list[dict[str, str]]] = field(default_factory=list)
    location: tuple[float, float] | None = None
    image: bytes | None = None
    document: tuple[str, bytes] | None = None
    note: str = ""
    # A WhatsApp list: the words on the button that opens it (its items are `buttons`, one a row).
    picker: str = ""

    def json(self) -> dict[str, Any]:
        """What the page receives (binary parts as links)."""
        return {
            "seq": self.seq,
            "pane": self.pane,
            "sender": self.sender,
            "name": self.name,
            "text": self.text,
            "html": self.html,
            "message_id": self.message_id,
            "reply_to": self.reply_to,
            "buttons": self.buttons,
            "location": list(self.location) if self.location else None,
            "image": f"/playground/api/blob/{self.seq}" if self.image is not None else None,
            "document": {"name": self.document[0], "url": f"/playground/api/blob/{self.seq}"}
            if self.document
            else None,
            "note": self.note,
            "picker": self.picker,
        }


def build_panes(settings: Settings, citizen_wa: str) -> dict[str, Pane]:
    """The playground's chats: two citizens, every agency group plus humas, and a humas admin."""
    admin_id = settings.humas.admin_user_ids[0]
    panes = [
        Pane("tg-citizen", "Warga di Telegram", "telegram", 5001, 5001, "Budi"),
        Pane("admin", "Admin humas (chat pribadi)", "telegram", admin_id, admin_id, "Admin Humas"),
    ]
    if settings.whatsapp.enabled:
        panes.insert(1, Pane("wa-citizen", "Warga di WhatsApp", "whatsapp", citizen_wa, citizen_wa, "Siti"))
    for index, opd in enumerate(settings.opd):
        panes.append(
            Pane(
                f"group-{opd.code}",
                f"Grup {opd.code}",
                "telegram",
                opd.telegram_chat_id,
                6001 + index,
                f"Petugas {opd.code}",
            )
        )
    panes.append(Pane("group-HUMAS", "Grup Humas", "telegram", settings.humas.group_chat_id, admin_id, "Admin Humas"))
    return {pane.key: pane for pane in panes}


class Playground:
    """Drives the running bot like Telegram and Twilio would, and collects what it answers."""

    def __init__(
        self,
        settings: Settings,
        telegram: TelegramStandIn,
        twilio: TwilioStandIn | None,
        clock: Clock,
        *,
        citizen_wa: str = "whatsapp:+6281234500001",
    ) -> None:
        self.settings = settings
        self.telegram = telegram
        self.twilio = twilio
        self.clock = clock
        self.panes = build_panes(settings, citizen_wa)
        # Each agency pane's clerk is a member of the agency's group (the web desk asks getChatMember).
        for pane in self.panes.values():
            if pane.is_group and pane.key != "group-HUMAS":
                telegram.set_member(int(pane.chat_id), int(pane.user_id))
        self.events: list[Event] = []
        self._seq = itertools.count(1)
        self._message_ids = itertools.count(50_000)
        self._telegram_seen = 0
        self._twilio_seen = 0
        # WhatsApp messages with buttons, by the number the page knows them by (Twilio's ids are SIDs).
        self._interactive: dict[int, TwilioCall] = {}
        self._http: httpx.AsyncClient | None = None
        self._lock = asyncio.Lock()
        self.sweep: Any = None  # set by the runner: an async callable that runs the deadline sweep now

    @property
    def base_url(self) -> str:
        """Where the bot itself listens (its public_url in playground mode)."""
        return self.settings.server.public_url

    async def __aenter__(self) -> Playground:
        self._http = httpx.AsyncClient(timeout=10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.aclose()

    # -- what people do -------------------------------------------------------------------------

    async def send(
        self,
        pane_key: str,
        *,
        text: str | None = None,
        location: tuple[float, float] | None = None,
        photo: tuple[bytes, str] | None = None,
        reply_to: int | None = None,
    ) -> Event:
        """A person types, shares a location or a photo in a pane; the bot gets the real webhook."""
        pane = self.panes[pane_key]
        async with self._lock:
            event = Event(
                next(self._seq),
                pane.key,
                "user",
                pane.user_name,
                text=text or "",
                reply_to=reply_to,
                location=location,
                image=photo[0] if photo else None,
            )
            if pane.channel == "whatsapp":
                await self._post_whatsapp(pane, event, photo)
            else:
                await self._post_telegram(pane, event, photo)
            self.events.append(event)
        return event

    async def press(self, pane_key: str, message_id: int, data: str) -> None:
        """A person presses an inline button under a bot message (on WhatsApp: taps a button or list item)."""
        pane = self.panes[pane_key]
        if pane.channel == "whatsapp":
            await self._tap_whatsapp(pane, message_id, data)
            return
        original = self._bot_message(pane, message_id)
        update = updates.telegram_callback_update(
            self.telegram.next_update_id(),
            callback_id=uuid.uuid4().hex[:16],
            sender=updates.telegram_user(int(pane.user_id), pane.user_name),
            data=data,
            message=original,
        )
        async with self._lock:
            await self._post_json(update)
            label = next(
                (b["text"] for row in self._buttons_of(pane, message_id) for b in row if b["data"] == data), data
            )
            self.events.append(Event(next(self._seq), pane.key, "user", pane.user_name, note=f"menekan [{label}]"))

    def desk_panes(self) -> list[str]:
        """The panes whose person can open the web desk: the humas admin and each agency's clerk."""
        if not self.settings.web.enabled:
            return []
        return [key for key, pane in self.panes.items() if key == "admin" or (pane.is_group and key != "group-HUMAS")]

    async def desk_link(self, pane_key: str, timeout: float = 10.0) -> str:
        """Ask the bot for a web desk login link as this pane's person would: /masuk in a private chat."""
        pane = self.panes[pane_key]
        user_id = int(pane.user_id)
        before = len(self.telegram.sent_messages(user_id))
        if pane_key == "admin":
            await self.send(pane_key, text="/masuk")  # the admin's private chat is a pane: it shows there
        else:
            update = updates.telegram_message_update(
                self.telegram.next_update_id(),
                message_id=next(self._message_ids),
                chat=updates.telegram_chat(user_id, first_name=pane.user_name),
                sender=updates.telegram_user(user_id, pane.user_name),
                text="/masuk",
            )
            async with self._lock:
                await self._post_json(update)
        answers = await self.telegram.wait_for_count(before + 1, chat_id=user_id, timeout=timeout)
        found = _LINK.search(answers[-1].text or "")
        if found is None:
            raise RuntimeError(f"no login link in the bot's answer: {answers[-1].text!r}")
        return found.group(1).replace("&amp;", "&")

    async def advance(self, hours: float) -> str:
        """Move the desk's clock forward and run the deadline sweep at once."""
        self.clock.advance(timedelta(hours=hours))
        if self.sweep is not None:
            await self.sweep()
        return self.now_text()

    def now_text(self) -> str:
        """The desk's current time in the city's zone."""
        local = self.clock.now().astimezone(self.settings.bot.zone)
        return local.strftime("%d-%m-%Y %H:%M ") + (local.tzname() or "")

    # -- what the bot sends -------------------------------------------------------------------------

    def collect(self) -> None:
        """Turn new successful calls at the stand-ins into pane events."""
        calls = self.telegram.calls
        while self._telegram_seen < len(calls):
            call = calls[self._telegram_seen]
            if call.status is None:
                break  # still in flight; look again next time
            self._telegram_seen += 1
            if call.ok and call.method in ("sendMessage", "sendPhoto", "sendLocation", "sendDocument"):
                self._telegram_event(call)
            elif call.ok and call.method in ("editMessageText", "editMessageReplyMarkup"):
                self._telegram_edit(call)
        if self.twilio is not None:
            sent = self.twilio.calls
            while self._twilio_seen < len(sent):
                twilio_call = sent[self._twilio_seen]
                if twilio_call.status is None:
                    break
                created = twilio_call.ok and twilio_call.method == "Messages.create"
                photo = self._fetched_photo(twilio_call) if created and twilio_call.media_urls else None
                if created and twilio_call.media_urls and photo is None:
                    break  # Twilio is still fetching the photo from the bot; look again next time
                self._twilio_seen += 1
                if created:
                    self._twilio_event(twilio_call, photo)

    def feed(self, after: int) -> list[dict[str, Any]]:
        """Events newer than `after`, oldest first."""
        self.collect()
        return [event.json() for event in self.events if event.seq > after]

    def blob(self, seq: int) -> tuple[bytes, str] | None:
        """The image or document of an event."""
        for event in self.events:
            if event.seq == seq:
                if event.image is not None:
                    return event.image, "image/jpeg"
                if event.document is not None:
                    return event.document[1], "text/csv; charset=utf-8"
        return None

    # -- plumbing ---------------------------------------------------------------------------------

    def _pane_of_chat(self, channel: str, chat_id: Any) -> Pane | None:
        for pane in self.panes.values():
            if pane.channel == channel and str(pane.chat_id) == str(chat_id):
                return pane
        return None

    def _telegram_event(self, call: TelegramCall) -> None:
        pane = self._pane_of_chat("telegram", call.chat_id)
        if pane is None:
            return
        params = call.params
        event = Event(
            next(self._seq),
            pane.key,
            "bot",
            "E-Humas",
            message_id=call.message_id,
            html=params.get("parse_mode") == "HTML",
        )
        markup = params.get("reply_markup") or {}
        event.buttons = [
            [{"text": b.get("text", ""), "data": b.get("callback_data", "")} for b in row]
            for row in markup.get("inline_keyboard", [])
        ]
        reply = params.get("reply_parameters") or {}
        event.reply_to = reply.get("message_id") or params.get("reply_to_message_id")
        if call.method == "sendMessage":
            event.text = str(params.get("text", ""))
        elif call.method == "sendLocation":
            event.location = (float(params["latitude"]), float(params["longitude"]))
        elif call.method == "sendPhoto":
            event.text = str(params.get("caption") or "")
            data = next(iter(call.files.values()), None) or self.telegram.file_bytes(str(params.get("photo", "")))
            event.image = data or b""
        elif call.method == "sendDocument":
            event.text = str(params.get("caption") or "")
            document = (call.result or {}).get("document", {}) if isinstance(call.result, dict) else {}
            name = str(document.get("file_name") or "ekspor.csv")
            event.document = (name, next(iter(call.files.values()), b""))
        self.events.append(event)

    def _telegram_edit(self, call: TelegramCall) -> None:
        """The bot changed a message it sent (above all: took its buttons away once they were used)."""
        pane = self._pane_of_chat("telegram", call.chat_id)
        message_id = str(call.params.get("message_id", ""))
        sent = [e for e in self.events if pane and e.pane == pane.key and e.sender == "bot"]
        original = next((e for e in sent if str(e.message_id) == message_id), None)
        if pane is None or original is None:
            return
        # The original event stays as sent (a late press of its button is still named by its label).
        edit = Event(next(self._seq), pane.key, "edit", original.name, message_id=original.message_id)
        markup = call.params.get("reply_markup") or {}
        edit.buttons = [
            [{"text": b.get("text", ""), "data": b.get("callback_data", "")} for b in row]
            for row in markup.get("inline_keyboard", [])
        ]
        if call.method == "editMessageText":
            edit.text = str(call.params.get("text", ""))
            edit.html = call.params.get("parse_mode") == "HTML"
        self.events.append(edit)

    def _fetched_photo(self, call: TwilioCall) -> bytes | None:
        """The photo Twilio fetched for a sent message (b"" if the fetch failed); None while it is fetching."""
        assert self.twilio is not None
        sid = (call.result or {}).get("sid") if isinstance(call.result, dict) else None
        for download in self.twilio.calls:
            if download.method == "Media.download" and download.params.get("MessageSid") == sid:
                if download.status is None:
                    return None
                return bytes((download.result or {}).get("data", b"")) if download.ok else b""
        return None

    def _twilio_event(self, call: TwilioCall, photo: bytes | None = None) -> None:
        pane = self._pane_of_chat("whatsapp", call.to)
        if pane is None:
            return
        event = Event(next(self._seq), pane.key, "bot", "E-Humas", text=call.body, image=photo or None)
        variables = call.content_variables
        shown = call.interactive
        if shown is not None:
            # Buttons or a list the citizen taps, as WhatsApp shows them.
            event.message_id = next(self._message_ids)
            self._interactive[event.message_id] = call
            options = [{"text": title, "data": data} for title, data in call.options]
            if shown["type"] == "twilio/list-picker":
                event.picker = str(shown.get("button") or "")
                event.buttons = [[option] for option in options]
            else:
                event.buttons = [options]
        elif call.params.get("ContentSid"):
            event.note = "template WhatsApp (di luar jendela 24 jam)"
            if variables:
                event.text = " · ".join(str(v) for v in variables.values())
        self.events.append(event)

    def _bot_message(self, pane: Pane, message_id: int) -> dict[str, Any]:
        text = next((e.text for e in self.events if e.pane == pane.key and e.message_id == message_id), "")
        return {
            "message_id": message_id,
            "date": 0,
            "text": text,
            "chat": updates.telegram_chat(int(pane.chat_id), title=pane.title, first_name=pane.user_name),
            "from": self.telegram.bot_user,
        }

    def _buttons_of(self, pane: Pane, message_id: int) -> list[list[dict[str, str]]]:
        for event in self.events:
            if event.pane == pane.key and event.message_id == message_id:
                return [[{"text": b["text"], "data": b["data"]} for b in row] for row in event.buttons]
        return []

    async def _post_telegram(self, pane: Pane, event: Event, photo: tuple[bytes, str] | None) -> None:
        file_id = self.telegram.store_file(photo[0]) if photo else None
        event.message_id = next(self._message_ids)
        update = updates.telegram_message_update(
            self.telegram.next_update_id(),
            message_id=event.message_id,
            chat=updates.telegram_chat(int(pane.chat_id), title=pane.title, first_name=pane.user_name),
            sender=updates.telegram_user(int(pane.user_id), pane.user_name),
            text=event.text or None,
            photo_file_id=file_id,
            location=event.location,
            reply_to=self._bot_message(pane, event.reply_to) if event.reply_to else None,
        )
        await self._post_json(update)

    async def _post_json(self, update: dict[str, Any]) -> None:
        assert self._http is not None
        response = await self._http.post(
            self.base_url + TELEGRAM_WEBHOOK,
            json=update,
            headers={SECRET_HEADER: self.settings.telegram.webhook_secret},
        )
        response.raise_for_status()

    async def _tap_whatsapp(self, pane: Pane, message_id: int, data: str) -> None:
        """The citizen taps an option of a WhatsApp message: Twilio posts its words and payload."""
        call = self._interactive.get(message_id)
        title = next((t for t, d in call.options if d == data), None) if call is not None else None
        if call is None or title is None:
            raise ValueError("no such button on that message")
        async with self._lock:
            event = Event(next(self._seq), pane.key, "user", pane.user_name, note=f"mengetuk [{title}]")
            await self._post_whatsapp(pane, event, None, tap_fields(call, title))
            self.events.append(event)

    async def _post_whatsapp(
        self, pane: Pane, event: Event, photo: tuple[bytes, str] | None, tapped: dict[str, str] | None = None
    ) -> None:
        assert self._http is not None and self.twilio is not None
        media = [(self.twilio.store_media(photo[0], photo[1]), photo[1])] if photo else []
        form = updates.whatsapp_form(
            message_sid="SM" + uuid.uuid4().hex,
            account_sid=self.settings.whatsapp.account_sid,
            sender=str(pane.chat_id),
            to=self.settings.whatsapp.from_number,
            profile_name=pane.user_name,
            body=event.text,
            media=media,
            location=event.location,
        )
        form.update(tapped or {})
        url = self.base_url + WHATSAPP_WEBHOOK
        signature = twilio_signature(self.settings.whatsapp.auth_token, url, form)
        response = await self._http.post(url, data=form, headers={"X-Twilio-Signature": signature})
        response.raise_for_status()

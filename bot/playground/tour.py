"""A scripted tour through the real webhooks: two complaints, one answered, one overdue, /overdue, /stats."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from bot.playground.runner import free_port, playground
from bot.playground.session import KENDARI, Event, Playground

# How long the tour waits for one answer of the bot before it gives up.
REPLY_TIMEOUT = 20.0


class Tour:
    """Plays the story and prints each message as it happens."""

    def __init__(self, session: Playground, out: Callable[[str], None]) -> None:
        self.session = session
        self.out = out
        self._printed = 0

    async def say(
        self,
        pane: str,
        text: str | None = None,
        *,
        expect: int = 1,
        location: tuple[float, float] | None = None,
        reply_to: int | None = None,
    ) -> list[Event]:
        """A person writes in a pane; wait for the bot's `expect` answers there and print everything."""
        before = self._bot_count(pane)
        await self.session.send(pane, text=text, location=location, reply_to=reply_to)
        return await self.wait(pane, before + expect)

    async def wait(self, pane: str, count: int) -> list[Event]:
        """Wait until a pane holds `count` bot messages, printing what arrives meanwhile."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REPLY_TIMEOUT
        while self._bot_count(pane) < count:
            if loop.time() > deadline:
                raise TimeoutError(f"no answer in {pane} after {REPLY_TIMEOUT:.0f} s")
            await asyncio.sleep(0.05)
        self.flush()
        return [e for e in self.session.events if e.pane == pane and e.sender == "bot"]

    def flush(self) -> None:
        """Print the events not printed yet."""
        self.session.collect()
        for event in self.session.events[self._printed :]:
            title = self.session.panes[event.pane].title
            body = event.text or ""
            if event.location:
                body = f"📍 {event.location[0]:.5f}, {event.location[1]:.5f} {body}".strip()
            if event.image is not None:
                body = f"[foto] {body}".strip()
            if event.document:
                body = f"[dokumen {event.document[0]}] {body}".strip()
            if event.note:
                body = f"({event.note}) {body}".strip()
            speaker = "🤖 E-Humas" if event.sender == "bot" else f"🧑 {event.name}"
            self.out(f"[{title}] {speaker}: {_plain(body)}")
        self._printed = len(self.session.events)

    def count(self, pane: str) -> int:
        """How many bot messages a pane holds now."""
        return self._bot_count(pane)

    def _bot_count(self, pane: str) -> int:
        self.session.collect()
        return sum(1 for e in self.session.events if e.pane == pane and e.sender == "bot")


def _plain(text: str) -> str:
    """Telegram HTML as plain text for a terminal."""
    return html.unescape(re.sub(r"</?(b|i|code|pre|u|s|a)[^>]*>", "", text))


async def run_tour(out: Callable[[str], None], database: Path) -> None:
    """Play the whole story against a fresh playground and print the transcript."""
    async with playground(free_port(), database) as (session, _):
        tour = Tour(session, out)
        out("== 1. Budi melapor sampah lewat Telegram ==")
        await tour.say("tg-citizen", "Sampah numpuk di depan pasar Mandonga udh 3 hari gk diangkut")
        await tour.say("tg-citizen", location=KENDARI)
        await tour.say("tg-citizen", "lewati")
        await tour.say("tg-citizen", "ya", expect=1)
        dlhk = await tour.wait("group-DLHK", 1)  # one message: the card, its place a map link
        card = next(e for e in dlhk if "Aduan" in e.text)

        out("\n== 2. Siti melapor jalan rusak lewat WhatsApp ==")
        await tour.say("wa-citizen", "jln berlubang bgt di By Pass dekat jembatan, sudah 2 motor jatuh")
        await tour.say("wa-citizen", "Jl. Brigjen Z.A. Sugianto, By Pass Kendari")
        await tour.say("wa-citizen", "lewati")
        await tour.say("wa-citizen", "ya")
        await tour.wait("group-PUPR", 1)

        out("\n== 3. DLHK menjawab dengan membalas kartu aduan ==")
        citizen_before = tour.count("tg-citizen")
        await tour.say("group-DLHK", "Baik, truk kami angkut besok pagi pukul 07.00.", reply_to=card.message_id)
        await tour.wait("tg-citizen", citizen_before + 1)

        out("\n== 4. PUPR diam; jam desk dimajukan 25 jam ==")
        counts = {pane: tour.count(pane) for pane in ("group-PUPR", "group-HUMAS", "wa-citizen")}
        session.clock.advance(timedelta(hours=25))
        await session.sweep()
        for pane, before in counts.items():
            await tour.wait(pane, before + 1)

        out("\n== 5. Humas memeriksa ==")
        await tour.say("admin", "/overdue")
        await tour.say("admin", "/stats 7d")
        tour.flush()
        out("\nSelesai. Jalankan `make run` lalu buka alamat yang dicetak untuk mencoba sendiri.")

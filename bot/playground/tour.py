"""A scripted tour through the real webhooks: two complaints, an addition, a status question and a rating
in plain words, one answered, one overdue, /overdue, /stats."""

from __future__ import annotations

import asyncio
import html
import re
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from bot.playground.runner import free_port, playground
from bot.playground.session import Event, Playground

# How long the tour waits for one answer of the bot before it gives up.
REPLY_TIMEOUT = 20.0


class TourStepFailed(Exception):
    """The bot answered a step of the tour, but not with what the story needs next."""


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
        want: str | None = None,
    ) -> list[Event]:
        """A person writes in a pane; wait for the bot's `expect` answers there and print everything.

        With `want`, the newest answer must hold that text, or the tour stops there."""
        before = self._bot_count(pane)
        await self.session.send(pane, text=text, location=location, reply_to=reply_to)
        answers = await self.wait(pane, before + expect)
        if want is not None:
            check(answers[-1], want)
        return answers

    async def tap(self, pane: str, label: str, *, want: str | None = None) -> list[Event]:
        """A person taps a button of the bot's newest message in a pane; wait for the answer and print it."""
        before = self._bot_count(pane)
        newest = [e for e in self.session.events if e.pane == pane and e.sender == "bot"][-1]
        data = next((b["data"] for row in newest.buttons for b in row if b["text"] == label), None)
        if data is None or newest.message_id is None:
            raise TourStepFailed(f"no button {label!r} on the newest message in {pane}")
        await self.session.press(pane, newest.message_id, data)
        answers = await self.wait(pane, before + 1)
        if want is not None:
            check(answers[-1], want)
        return answers

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
            if event.sender == "edit":
                continue  # buttons taken off a message: nothing new to read
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
            if event.buttons:
                body += "\n" + " ".join(f"[{b['text']}]" for row in event.buttons for b in row)
            speaker = "🤖 E-Humas" if event.sender == "bot" else f"🧑 {event.name}"
            self.out(f"[{title}] {speaker}: {_plain(body)}")
        self._printed = len(self.session.events)

    def counts(self, *panes: str) -> dict[str, int]:
        """How many bot messages each pane holds now (to wait for one more in each later)."""
        return {pane: self._bot_count(pane) for pane in panes}

    async def one_more_in_each(self, before: dict[str, int]) -> dict[str, Event]:
        """Wait for a new bot message in each pane counted before; the newest of each."""
        return {pane: (await self.wait(pane, count + 1))[-1] for pane, count in before.items()}

    def count(self, pane: str) -> int:
        """How many bot messages a pane holds now."""
        return self._bot_count(pane)

    def _bot_count(self, pane: str) -> int:
        self.session.collect()
        return sum(1 for e in self.session.events if e.pane == pane and e.sender == "bot")


def check(event: Event, want: str) -> None:
    """Stop the tour unless the bot's message holds `want`."""
    if want not in _plain(event.text):
        raise TourStepFailed(f"expected {want!r} in {event.pane}, got {_plain(event.text)[:120]!r}")


def _plain(text: str) -> str:
    """Telegram HTML as plain text for a terminal."""
    return html.unescape(re.sub(r"</?(b|i|code|pre|u|s|a)[^>]*>", "", text))


async def run_tour(out: Callable[[str], None], database: Path | None = None) -> None:
    """Play the whole story against a fresh playground and print the transcript.

    Without a database file it plays on a temporary one, so a playground running meanwhile keeps its own."""
    if database is None:
        with tempfile.TemporaryDirectory(prefix="ehumas-tour-") as scratch:
            await _play(out, Path(scratch) / "tour.db")
    else:
        await _play(out, database)


async def _play(out: Callable[[str], None], database: Path) -> None:
    async with playground(free_port(), database) as (session, _):
        tour = Tour(session, out)
        out("== 1. Budi melapor sampah lewat Telegram ==")
        await tour.say(
            "tg-citizen", "Sampah numpuk di depan pasar Mandonga udh 3 hari gk diangkut", want="Lokasi: depan pasar"
        )
        await tour.say("tg-citizen", "ya", want="foto")  # the place the bot found in the description
        await tour.say("tg-citizen", "lewati", want="Mohon periksa")
        await tour.say("tg-citizen", "kirim", want="KDI-0001")
        dlhk = await tour.wait("group-DLHK", 1)
        card = next(e for e in dlhk if "Aduan KDI-0001" in e.text)

        out("\n== 2. Budi menambah keterangan dan bertanya kapan dijawab ==")
        before = tour.counts("group-DLHK")
        await tour.say(
            "tg-citizen", "tambahan untuk KDI-0001: sampahnya mulai dibakar warga, asapnya masuk rumah", want="Tambahan"
        )
        added = await tour.one_more_in_each(before)
        check(added["group-DLHK"], "Tambahan dari pelapor KDI-0001")
        await tour.say("tg-citizen", "kapan dijawab?", want="KDI-0001")

        out("\n== 3. Siti melapor jalan rusak lewat WhatsApp ==")
        await tour.say("wa-citizen", "jln berlubang bgt di By Pass dekat jembatan, sudah 2 motor jatuh", want="lokasi")
        await tour.say("wa-citizen", "Jl. Brigjen Z.A. Sugianto, By Pass Kendari", want="foto")
        # On WhatsApp too the citizen taps rather than types.
        await tour.tap("wa-citizen", "Lewati", want="Mohon periksa")
        await tour.tap("wa-citizen", "Kirim", want="KDI-0002")
        await tour.wait("group-PUPR", 1)

        out("\n== 4. DLHK menjawab dengan membalas kartu aduan ==")
        before = tour.counts("tg-citizen")
        await tour.say("group-DLHK", "Baik, truk kami angkut besok pagi pukul 07.00.", reply_to=card.message_id)
        check((await tour.one_more_in_each(before))["tg-citizen"], "Tanggapan")

        out("\n== 5. PUPR diam; jam desk dimajukan 25 jam ==")
        before = tour.counts("group-PUPR", "group-HUMAS", "wa-citizen", "tg-citizen")
        session.clock.advance(timedelta(hours=25))
        await session.sweep()
        latest = await tour.one_more_in_each(before)
        check(latest["group-PUPR"], "TEGURAN")
        check(latest["tg-citizen"], "Beri nilai")  # DLHK answered a day ago and never closed: how was it?

        out("\n== 6. Budi memberi nilai dengan kata-kata ==")
        await tour.say("tg-citizen", "mantap 5 bintang pak", want="⭐⭐⭐⭐⭐")

        out("\n== 7. Humas memeriksa ==")
        await tour.say("admin", "/overdue", want="KDI-0002")
        await tour.say("admin", "/stats 7d", want="Rekap")
        tour.flush()
        out("\nSelesai. Jalankan `make run` lalu buka alamat yang dicetak untuk mencoba sendiri.")

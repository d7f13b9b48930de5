"""The playground: the scripted tour, the page's API, the refusal next to a real token or a running
playground, and a real browser (at desktop and phone width)."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from bot.playground.runner import PlaygroundBusy, free_port, playground
from bot.playground.session import Event
from bot.playground.tour import TourStepFailed, check, run_tour
from tests.conftest import ROOT
from tests.test_config import _dump, _example

if TYPE_CHECKING:
    from playwright.async_api import Page

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Refresh with: UPDATE_SCREENSHOT=1 .venv/bin/python -m pytest tests/test_playground.py -k browser
SCREENSHOT = ROOT / "docs" / "playground.png"


def page_origin(port: int) -> dict[str, str]:
    """What the browser sends with the page's own requests (the playground refuses writes without it)."""
    return {"Origin": f"http://127.0.0.1:{port}"}


@pytest.fixture(scope="module")
def transcript(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The tour's transcript, played once for the tests that read it."""
    lines: list[str] = []
    asyncio.run(run_tour(lines.append, tmp_path_factory.mktemp("tour") / "tour.db"))
    return "\n".join(lines)


def test_the_tour_plays_the_whole_story(transcript: str) -> None:
    assert "Aduan Anda tercatat dengan nomor KDI-0001" in transcript
    assert "[Grup DLHK] 🤖 E-Humas: 🆕 Aduan KDI-0001" in transcript
    assert "[Grup PUPR] 🤖 E-Humas: 🆕 Aduan KDI-0002" in transcript
    assert "Pelapor: Siti (WhatsApp)" in transcript
    # On WhatsApp the citizen taps the bot's buttons (a quick reply), as on Telegram.
    assert "[Kirim] [Ubah] [Batal]\n[Warga di WhatsApp] 🧑 Siti: (mengetuk [Kirim])" in transcript
    assert "Tanggapan Dinas Lingkungan Hidup dan Kehutanan atas aduan KDI-0001" in transcript
    assert "TEGURAN HUMAS" in transcript and "KDI-0002 belum ditanggapi" in transcript
    overdue = transcript.split("🧑 Admin Humas: /overdue")[1]
    assert "• KDI-0002" in overdue and "Total: 1 aduan terlambat." in overdue
    assert "KDI-0001 ·" not in overdue.split("/stats")[0]
    assert "masuk 2 · dijawab 1" in transcript


def test_the_tour_shows_the_dialog_in_plain_words(transcript: str) -> None:
    def step(title: str) -> str:
        """The transcript of one step, from its heading to the next."""
        return transcript.split(title, 1)[1].split("\n== ", 1)[0]

    # The place named in the description is proposed, and "ya" takes it.
    filing = step("== 1. Budi melapor sampah lewat Telegram ==")
    assert "📍 Lokasi: depan pasar Mandonga — benar?" in filing
    assert "🧑 Budi: ya\n[Warga di Telegram] 🤖 E-Humas: Ada foto?" in filing
    assert "📍 depan pasar Mandonga" in filing and "tercatat dengan nomor KDI-0001" in filing
    # An addition goes to the agency's group; a status question in plain words gets the deadline.
    follow_up = step("== 2. Budi menambah keterangan dan bertanya kapan dijawab ==")
    assert "🧑 Budi: tambahan untuk KDI-0001: sampahnya mulai dibakar warga" in follow_up
    assert "[Grup DLHK] 🤖 E-Humas: ➕ Tambahan dari pelapor KDI-0001:\nsampahnya mulai dibakar warga" in follow_up
    assert "[Warga di Telegram] 🤖 E-Humas: ➕ Tambahan untuk KDI-0001 sudah kami teruskan" in follow_up
    status = follow_up.split("🧑 Budi: kapan dijawab?", 1)[1]
    assert "🤖 E-Humas: Aduan KDI-0001" in status and "Status: menunggu tanggapan" in status and "WITA" in status
    # A day after DLHK's answer (never closed) Budi is asked for a rating, and gives it in words.
    late = step("== 5. PUPR diam; jam desk dimajukan 25 jam ==")
    assert "[Warga di Telegram] 🤖 E-Humas: Bagaimana penanganan aduan KDI-0001? Beri nilai" in late
    rating = step("== 6. Budi memberi nilai dengan kata-kata ==")
    assert "🧑 Budi: mantap 5 bintang pak" in rating
    assert "🤖 E-Humas: Terima kasih atas penilaian Anda (⭐⭐⭐⭐⭐) untuk aduan KDI-0001" in rating
    assert "nilai 5,0" in step("== 7. Humas memeriksa ==")
    assert transcript.rstrip().endswith("untuk mencoba sendiri.")
    # None of the follow-ups became a complaint of its own.
    assert "KDI-0003" not in transcript


def test_a_tour_step_with_the_wrong_answer_stops_the_tour() -> None:
    answer = Event(1, "tg-citizen", "bot", "E-Humas", text="<b>Ada foto?</b>", html=True)
    check(answer, "Ada foto?")
    with pytest.raises(TourStepFailed, match="Mohon periksa"):
        check(answer, "Mohon periksa")


async def test_the_page_api_drives_the_real_desk(tmp_path: Path) -> None:
    port = free_port()
    async with (
        playground(port, tmp_path / "api.db") as (session, _),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10, headers=page_origin(port)) as http,
    ):
        page = await http.get("/")
        assert page.status_code == 200 and "E-Humas" in page.text
        panes = (await http.get("/playground/api/panes")).json()["panes"]
        assert {p["key"] for p in panes} >= {"tg-citizen", "wa-citizen", "group-DLHK", "group-HUMAS", "admin"}
        response = await http.post("/playground/api/send", data={"pane": "tg-citizen", "text": "/start"})
        assert response.status_code == 200
        await session.telegram.wait_for_count(1, chat_id=5001)
        feed = (await http.get("/playground/api/feed?after=0")).json()["events"]
        assert feed[0]["sender"] == "user" and feed[0]["text"] == "/start"
        assert feed[1]["sender"] == "bot" and "Selamat datang" in feed[1]["text"]
        bad = await http.post("/playground/api/send", data={"pane": "nobody", "text": "x"})
        assert bad.status_code == 400
        clock = await http.post("/playground/api/clock", json={"hours": 25})
        assert clock.status_code == 200 and "WITA" in clock.json()["now"]
        assert (await http.post("/playground/api/clock", json={"hours": -1})).status_code == 400


async def test_the_playground_links_the_public_page_and_the_open311_api(tmp_path: Path) -> None:
    port = free_port()
    async with (
        playground(port, tmp_path / "public.db") as (_session, _),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10, headers=page_origin(port)) as http,
    ):
        page = await http.get("/")
        assert 'href="/publik/"' in page.text
        public = await http.get("/publik/")
        assert public.status_code == 200 and "Aduan Terjawab" in public.text
        services = await http.get("/open311/v2/services.json")
        assert services.status_code == 200 and any(s["service_code"] == "DLHK" for s in services.json())


async def test_an_agency_photo_answer_shows_in_the_whatsapp_pane(tmp_path: Path) -> None:
    port = free_port()
    async with (
        playground(port, tmp_path / "photo.db") as (session, _),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10, headers=page_origin(port)) as http,
    ):

        async def say(pane: str, text: str) -> None:
            assert (await http.post("/playground/api/send", data={"pane": pane, "text": text})).status_code == 200

        assert session.twilio is not None
        for step, text in enumerate(
            ("Sampah numpuk di depan pasar Mandonga udh 3 hari gk diangkut", "lewati", "lewati", "ya"), start=1
        ):
            await say("wa-citizen", text)
            await session.twilio.wait_for_count(step)  # each answered before the next
        card = await session.telegram.wait_for(lambda c: "Aduan KDI-0001" in (c.text or ""))
        photo = b"\xff\xd8\xff\xe0 the lane after the clean-up"
        sent = await http.post(
            "/playground/api/send",
            data={"pane": "group-DLHK", "reply_to": str(card.message_id)},
            files={"photo": ("bersih.jpg", photo, "image/jpeg")},
        )
        assert sent.status_code == 200
        await session.twilio.wait_media_downloads(1)
        feed = (await http.get("/playground/api/feed?after=0")).json()["events"]
        shown = [e for e in feed if e["pane"] == "wa-citizen" and e["image"]]
        assert len(shown) == 1 and "Foto tanggapan KDI-0001" in shown[0]["text"]
        assert (await http.get(shown[0]["image"])).content == photo


def test_make_run_without_a_configuration_starts_the_playground(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(tmp_path / "config.toml"), "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert page.status_code == 200 and "playground" in page.text
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=30)
    assert process.returncode in (0, 130), errors  # 130: the usual exit after Ctrl+C
    assert "Traceback" not in errors
    assert (tmp_path / "ehumas-playground.db").exists()


def _start(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    """`make run` without a configuration, in tmp_path."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(tmp_path / "config.toml"), *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """An ehumas command in tmp_path, to its end."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args, "--config", str(tmp_path / "config.toml")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_second_start_leaves_the_running_playground_and_its_database_alone(tmp_path: Path) -> None:
    port = free_port()
    address = f"http://127.0.0.1:{port}"
    origin = {"Origin": address}  # what the page itself sends
    first = _start(tmp_path, "--port", str(port))
    database = tmp_path / "ehumas-playground.db"
    try:
        assert first.stdout is not None
        assert f"{address}/" in first.stdout.readline()
        said = httpx.post(
            f"{address}/playground/api/send", data={"pane": "tg-citizen", "text": "/start"}, headers=origin
        )
        assert said.status_code == 200
        inode = database.stat().st_ino

        # `make run` again, on another port: refused in one line, naming where the running one is.
        again = _run(tmp_path, "run", "--port", str(free_port()))
        assert again.returncode == 1 and "Traceback" not in again.stderr
        assert again.stderr.strip().count("\n") == 0, again.stderr
        assert "already running" in again.stderr and f"{address}/" in again.stderr

        # The port taken (another database): refused in one line, nothing created.
        taken = _run(tmp_path, "run", "--port", str(port), "--database", "other.db")
        assert taken.returncode == 1 and "Traceback" not in taken.stderr
        assert taken.stderr.strip() == (
            f"Port {port} on 127.0.0.1 is already in use: stop what uses it, or choose another port with --port."
        )
        assert not (tmp_path / "other.db").exists()

        # The tour plays on a database of its own meanwhile.
        tour = _run(tmp_path, "playground", "--tour")
        assert tour.returncode == 0, tour.stderr
        assert "Selesai." in tour.stdout

        # The first playground kept its database and still works on it.
        assert database.stat().st_ino == inode
        feed = httpx.get(f"{address}/playground/api/feed?after=0", timeout=10).json()["events"]
        assert [e["sender"] for e in feed[:2]] == ["user", "bot"] and "Selamat datang" in feed[1]["text"]
    finally:
        first.send_signal(signal.SIGINT)
        _, errors = first.communicate(timeout=30)
    assert first.returncode in (0, 130) and "Traceback" not in errors, errors
    assert not (tmp_path / "ehumas-playground.db.lock").exists()  # stopped, it is in nobody's way


async def test_a_playground_is_refused_on_the_database_of_a_running_one(tmp_path: Path) -> None:
    database = tmp_path / "play.db"
    # A lock file left by a killed playground is no lock: the operating system's lock went with it.
    Path(f"{database}.lock").write_text(json.dumps({"pid": 1, "port": 1}), encoding="utf-8")  # noqa: ASYNC240
    port = free_port()
    async with playground(port, database) as (session, _):
        await session.send("tg-citizen", text="/start")
        await session.telegram.wait_for_count(1, chat_id=5001)
        size = database.stat().st_size
        with pytest.raises(PlaygroundBusy, match=f"already running on {database} \\(pid {os.getpid()}, "):
            async with playground(free_port(), database):
                pytest.fail("a second playground started on the same database")
        with pytest.raises(PlaygroundBusy, match=f"Port {port} on 127.0.0.1 is already in use"):
            async with playground(port, tmp_path / "other.db"):
                pytest.fail("a second playground started on the same port")
        assert database.stat().st_size >= size and not (tmp_path / "other.db").exists()
        assert session.panes  # and the first one still answers
        await session.send("tg-citizen", text="halo")
        await session.telegram.wait_for_count(2, chat_id=5001)


def test_the_playground_refuses_a_real_token(tmp_path: Path) -> None:
    data = _example()
    data["telegram"]["token"] = "123456789:AAreal-token-of-a-real-bot"
    config = tmp_path / "config.toml"
    config.write_text(_dump(data), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--playground", "--config", str(config)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "refuses" in result.stderr


def require_chromium() -> None:
    """Skip without Chromium on a developer's machine; under CI (CI=true) its absence is a failure."""
    if CHROMIUM is not None:
        return
    reason = "no Chromium on this machine: `make test` installs Debian's chromium where apt-get can; here it could not"
    if os.environ.get("CI") == "true":
        pytest.fail(reason + ", and CI must run the browser test")
    pytest.skip(reason + ", so the browser test is skipped")


def test_without_chromium_ci_fails_where_a_developer_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the browser test"):
        require_chromium()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        require_chromium()


@asynccontextmanager
async def browser_page(port: int, width: int = 1500, height: int = 900) -> AsyncIterator[Page]:
    """Debian's Chromium, headless, showing the playground on 127.0.0.1:port."""
    require_chromium()
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=10_000)  # two shared cores: the bot answers within seconds, not always within 5
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = await browser.new_page(viewport={"width": width, "height": height})
            await page.goto(f"http://127.0.0.1:{port}/")
            yield page
        finally:
            await browser.close()


# A pane shows its newest message: every image in it has loaded and it is scrolled to the end.
_AT_BOTTOM = """(key) => {
  const list = document.querySelector(`.pane[data-key="${key}"] .messages`);
  const loaded = [...list.querySelectorAll("img")].every((img) => img.complete && img.naturalHeight > 0);
  return loaded && list.scrollHeight - list.scrollTop - list.clientHeight <= 2;
}"""
_SCROLL = """(key) => {
  const list = document.querySelector(`.pane[data-key="${key}"] .messages`);
  return {top: list.scrollTop, height: list.scrollHeight, visible: list.clientHeight};
}"""


async def assert_shows_newest(page: Page, key: str) -> None:
    """The pane is scrolled to its newest message (once its images have loaded), and it has more above."""
    from playwright.async_api import TimeoutError as NotInTime

    try:
        await page.wait_for_function(_AT_BOTTOM, arg=key, timeout=5_000)
    except NotInTime:
        raise AssertionError(f"{key} is not at its newest message: {await page.evaluate(_SCROLL, key)}") from None
    scroll = await page.evaluate(_SCROLL, key)
    assert scroll["height"] > scroll["visible"] + 100, f"{key} does not overflow, so this proves nothing: {scroll}"


async def assert_no_sideways_scroll(page: Page) -> None:
    """Nothing on the page is wider than the window."""
    widths = await page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in a {widths[1]} px window"


def tall_png(width: int = 120, height: int = 600) -> bytes:
    """A real (decodable) picture, taller than wide: its message grows when it loads."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = (b"\x00" + bytes((30, 130, 90)) * width) * height
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


async def test_a_complaint_in_the_browser(tmp_path: Path) -> None:
    from playwright.async_api import FilePayload, Locator, expect

    port = free_port()
    async with playground(port, tmp_path / "browser.db"), browser_page(port) as page:
        citizen = page.get_by_test_id("pane-tg-citizen")
        agency = page.get_by_test_id("pane-group-DLHK")
        admin = page.get_by_test_id("pane-admin")

        async def say(pane: Locator, text: str) -> None:
            await pane.locator(".text").fill(text)
            await pane.locator(".send").click()

        await say(citizen, "Sampah numpuk di depan pasar Mandonga udh 3 hari gk diangkut")
        await expect(citizen.locator(".msg.bot").last).to_contain_text("Lokasi: depan pasar Mandonga — benar?")
        await citizen.locator(".location").click()  # a map point instead
        await expect(citizen.locator(".msg.bot").last).to_contain_text("Ada foto?")
        question = citizen.locator(".msg.bot", has_text="Ada foto?")
        await question.get_by_test_id("inline-button").click()  # "Lewati"
        await expect(citizen.locator(".msg.bot").last).to_contain_text("Dinas Lingkungan Hidup")
        await expect(question.get_by_test_id("inline-button")).to_have_count(0)  # used: taken off, as in Telegram
        await say(citizen, "ya")
        await expect(citizen.locator(".msg.bot").last).to_contain_text("KDI-0001")

        card = agency.locator(".msg.bot", has_text="Aduan KDI-0001").first
        await expect(card).to_be_visible()
        await card.click()
        await expect(agency.locator(".replying")).to_be_visible()
        await say(agency, "Siap, besok pagi diangkut truk DLHK.")
        await expect(citizen.locator(".msg.bot").last).to_contain_text("Siap, besok pagi diangkut truk DLHK.")
        # A photo answer: the panes stay at the newest message after the pictures have loaded.
        await card.click()
        photo: FilePayload = {"name": "bersih.png", "mimeType": "image/png", "buffer": tall_png()}
        await agency.locator(".photo input").set_input_files(files=[photo])
        await expect(citizen.locator(".msg.bot").last).to_contain_text("Foto tanggapan KDI-0001")
        await assert_shows_newest(page, "tg-citizen")
        await assert_shows_newest(page, "group-DLHK")

        whatsapp = page.get_by_test_id("pane-wa-citizen")
        await say(whatsapp, "jln berlubang bgt di By Pass dekat jembatan, sudah 2 motor jatuh")
        await expect(whatsapp.locator(".msg.bot").last).to_contain_text("okasi")
        for answer, expected in (("lewati", "foto"), ("lewati", "Pekerjaan Umum"), ("ya", "KDI-0002")):
            await say(whatsapp, answer)
            await expect(whatsapp.locator(".msg.bot").last).to_contain_text(expected)
        # PUPR's card arrived while DLHK's group is shown: the selector says so.
        await expect(agency.locator("option[value=group-PUPR]")).to_have_text("Grup PUPR (1 baru)")

        # A reader who scrolled up to read keeps their place when a message arrives...
        await page.evaluate("document.querySelector('.pane[data-key=tg-citizen] .messages').scrollTop = 0")
        await page.get_by_test_id("clock").get_by_text("+24 jam").click()
        await page.get_by_test_id("clock").get_by_text("+1 jam").click()
        await say(admin, "/overdue")
        overdue = admin.locator(".msg.bot").last
        await expect(overdue).to_contain_text("KDI-0002")
        await expect(overdue).not_to_contain_text("KDI-0001")
        await expect(citizen.locator(".msg.bot").last).to_contain_text("Beri nilai")  # a day after the answer
        assert (await page.evaluate(_SCROLL, "tg-citizen"))["top"] == 0
        # ... and who writes is taken to the newest message again. A rating in words:
        await say(citizen, "mantap 5 bintang pak")
        await expect(citizen.locator(".msg.bot").last).to_contain_text("⭐⭐⭐⭐⭐")
        await assert_shows_newest(page, "tg-citizen")

        # The README's picture is refreshed on request only, so a test run leaves the tree clean.
        shot = SCREENSHOT if os.environ.get("UPDATE_SCREENSHOT") else tmp_path / "playground.png"
        await page.screenshot(path=str(shot))
        assert shot.read_bytes().startswith(b"\x89PNG")
        # The same page on a phone: one pane under the other, nothing wider than the screen.
        await page.set_viewport_size({"width": 390, "height": 844})
        await assert_no_sideways_scroll(page)
        await page.screenshot(path=str(tmp_path / "playground-phone.png"), full_page=True)


async def test_the_empty_page_on_a_desktop_and_a_phone(tmp_path: Path) -> None:
    from playwright.async_api import expect

    port = free_port()
    async with playground(port, tmp_path / "empty.db") as (session, _), browser_page(port) as page:
        # Every empty pane says in one line what to try; its example fills the input.
        for key in session.panes:
            hint = page.get_by_test_id(f"pane-{key}").get_by_test_id("hint")
            await expect(hint).to_have_count(1)
            assert (await hint.text_content() or "").strip()
        citizen = page.get_by_test_id("pane-tg-citizen")
        await citizen.get_by_test_id("hint").locator("button").click()
        await expect(citizen.locator(".text")).to_have_value("sampah numpuk depan SD 5 seminggu")

        # Humas types commands: no location or photo to send there; the citizens have both.
        admin = page.get_by_test_id("pane-admin")
        await expect(admin.locator(".location, .photo")).to_have_count(0)
        await expect(citizen.locator(".location")).to_have_count(1)
        await expect(citizen.locator(".photo")).to_have_count(1)

        # The agency column: the selector always names the group shown, whichever pane's selector was used.
        async def shown_group() -> str:
            visible = page.locator(".pane.group:not([hidden])")
            await expect(visible).to_have_count(1)
            key = await visible.get_attribute("data-key") or ""
            select = visible.get_by_test_id("group-select")
            await expect(select).to_have_value(key)
            selected = await select.evaluate("s => s.selectedOptions[0].textContent")
            assert selected == session.panes[key].title == await visible.locator(".title").text_content()
            return key

        assert await shown_group() == "group-DLHK"
        await page.get_by_test_id("pane-group-DLHK").get_by_test_id("group-select").select_option("group-PUPR")
        assert await shown_group() == "group-PUPR"
        await page.get_by_test_id("pane-group-PUPR").get_by_test_id("group-select").select_option("group-DLHK")
        assert await shown_group() == "group-DLHK"
        await page.screenshot(path=str(tmp_path / "empty-desktop.png"))

        # A phone (390 px): the panes one under the other, full width, nothing to scroll sideways.
        await page.set_viewport_size({"width": 390, "height": 844})
        await assert_no_sideways_scroll(page)
        boxes = []
        for key in ("tg-citizen", "wa-citizen", "group-DLHK", "admin"):
            box = await page.get_by_test_id(f"pane-{key}").bounding_box()
            assert box is not None
            boxes.append(box)
        for above, below in itertools.pairwise(boxes):
            assert below["y"] >= above["y"] + above["height"] and below["x"] == above["x"]
        assert all(box["width"] > 300 and box["x"] + box["width"] <= 390 for box in boxes)
        await page.screenshot(path=str(tmp_path / "empty-phone.png"), full_page=True)

"""The playground's WhatsApp pane shows the bot's buttons and lists, and taps them like a phone (real browser)."""

from __future__ import annotations

from pathlib import Path

from bot.playground.runner import free_port, playground
from tests.test_playground import browser_page


async def test_a_whatsapp_citizen_taps_through_the_dialog_in_the_browser(tmp_path: Path) -> None:
    from playwright.async_api import Locator, expect

    port = free_port()
    async with playground(port, tmp_path / "wa-browser.db") as (session, _), browser_page(port) as page:
        whatsapp = page.get_by_test_id("pane-wa-citizen")
        agency = page.get_by_test_id("pane-group-DLHK")

        async def say(pane: Locator, text: str) -> None:
            await pane.locator(".text").fill(text)
            await pane.locator(".send").click()

        async def tap(question: str, title: str) -> None:
            message = whatsapp.locator(".msg.bot", has_text=question).last
            await message.get_by_test_id("quick-reply").get_by_text(title, exact=True).click()

        await say(whatsapp, "Sampah numpuk di depan pasar Mandonga udh 3 hari gk diangkut")
        place = whatsapp.locator(".msg.bot").last
        await expect(place).to_contain_text("Lokasi: depan pasar Mandonga — benar?")
        await expect(place.get_by_test_id("quick-reply")).to_have_text(["Ya, benar", "Ubah"])
        await tap("Lokasi: depan pasar Mandonga", "Ya, benar")
        await expect(whatsapp.locator(".msg.user").last).to_contain_text("mengetuk [Ya, benar]")
        await expect(whatsapp.locator(".msg.bot").last).to_contain_text("Ada foto?")
        await tap("Ada foto?", "Lewati")
        await expect(whatsapp.locator(".msg.bot").last).to_contain_text("Mohon periksa aduan Anda")
        await tap("Mohon periksa aduan Anda", "Kirim")
        await expect(whatsapp.locator(".msg.bot").last).to_contain_text("KDI-0001")

        # The agency closes it; "sudah beres?" comes as two buttons (issue 17), then the rating
        # request as a WhatsApp list: open it, tap a number.
        card = agency.locator(".msg.bot", has_text="Aduan KDI-0001").first
        await expect(card).to_be_visible()
        await say(agency, "/selesai KDI-0001 Sudah diangkut tadi pagi")
        fixed = whatsapp.locator(".msg.bot", has_text="Apakah masalahnya sudah beres?").last
        await expect(fixed.get_by_test_id("quick-reply")).to_have_text(["✅ Ya, sudah beres", "❌ Belum"])
        await fixed.get_by_test_id("quick-reply").get_by_text("✅ Ya, sudah beres").click()
        rating = whatsapp.locator(".msg.bot", has_text="Bagaimana penanganan aduan KDI-0001").last
        await expect(rating.get_by_test_id("list-button")).to_have_text("☰ Pilih")
        await expect(rating.get_by_test_id("list-item").first).to_be_hidden()
        await rating.get_by_test_id("list-button").click()
        await expect(rating.get_by_test_id("list-item")).to_have_text(["1", "2", "3", "4", "5"])
        await rating.get_by_test_id("list-item").get_by_text("4", exact=True).click()
        await expect(whatsapp.locator(".msg.bot").last).to_contain_text("⭐⭐⭐⭐")
        await expect(whatsapp.locator(".msg.bot").last).not_to_contain_text("⭐⭐⭐⭐⭐")
        # What the stand-in recorded: the taps arrived as Twilio posts them (payload, not typed words).
        assert session.twilio is not None and len(session.twilio.content_calls()) == 5
        await page.screenshot(path=str(tmp_path / "whatsapp-buttons.png"))

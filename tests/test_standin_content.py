"""The Twilio stand-in's Content API, driven by the real twilio client: create, list, fetch, and WhatsApp's limits."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client
from twilio.rest.content.v1.content import ContentList

from bot.standins.twilio_api import TwilioStandIn, tap_fields
from bot.whatsapp.http import TwilioHttpClient

TO, FROM = "whatsapp:+6281234567890", "whatsapp:+14155238886"


@pytest.fixture
async def client(twilio: TwilioStandIn) -> AsyncIterator[Client]:
    http = TwilioHttpClient(base_url=twilio.base_url)
    yield Client(twilio.account_sid, twilio.auth_token, http_client=http)
    await http.close()


def quick_reply(name: str, titles: list[str]) -> Any:
    """A create request for a quick reply with these titles, body and ids as variables."""
    actions = [{"type": "QUICK_REPLY", "title": t, "id": f"{{{{{i + 2}}}}}"} for i, t in enumerate(titles)]
    types = {"twilio/quick-reply": {"body": "{{1}}", "actions": actions}}
    return ContentList.ContentCreateRequest({"friendly_name": name, "language": "id", "types": types})


def list_picker(name: str, items: list[str]) -> Any:
    """A create request for a list picker with these items."""
    entries = [{"item": t, "id": f"{{{{{i + 2}}}}}"} for i, t in enumerate(items)]
    types = {"twilio/list-picker": {"body": "{{1}}", "button": "Pilih", "items": entries}}
    return ContentList.ContentCreateRequest({"friendly_name": name, "types": types})


async def test_templates_are_created_listed_and_fetched(client: Client, twilio: TwilioStandIn) -> None:
    contents = client.content.v1.contents
    first = await contents.create_async(content_create_request=quick_reply("ehumas_a", ["Kirim", "Batal"]))
    second = await contents.create_async(content_create_request=list_picker("ehumas_b", ["1", "2", "3", "4"]))
    assert first.sid.startswith("HX") and first.friendly_name == "ehumas_a"
    # Listed a page at a time, as the client pages through them.
    listed = [c.friendly_name async for c in await contents.stream_async(page_size=1)]
    assert listed == ["ehumas_a", "ehumas_b"] and len(twilio.content_calls("Content.list")) == 2
    fetched = await contents(second.sid).fetch_async()
    assert fetched.types["twilio/list-picker"]["button"] == "Pilih"
    with pytest.raises(TwilioRestException) as missing:
        await contents("HX" + "0" * 32).fetch_async()
    assert missing.value.status == 404


@pytest.mark.parametrize(
    ("request_", "why"),
    [
        (quick_reply("too_long", ["Kirim aduan sekarang ya"]), "longer than 20"),
        (list_picker("item_too_long", ["Sangat baik sekali, terima kasih"]), "longer than 24"),
        (list_picker("too_many", [str(n) for n in range(11)]), "1 to 10"),
    ],
)
async def test_templates_beyond_whatsapps_limits_are_refused(client: Client, request_: Any, why: str) -> None:
    with pytest.raises(TwilioRestException) as refused:
        await client.content.v1.contents.create_async(content_create_request=request_)
    assert refused.value.status == 400 and why in str(refused.value.msg)


async def test_a_send_is_rendered_recorded_and_checked_for_the_session_limit(
    client: Client, twilio: TwilioStandIn
) -> None:
    contents = client.content.v1.contents
    three = await contents.create_async(content_create_request=quick_reply("three", ["Kirim", "Ubah", "Batal"]))
    variables = {"1": "Kirim aduan?", "2": "intake:ya:t", "3": "intake:ubah:t", "4": "intake:batal:t"}
    sent = await client.messages.create_async(
        to=TO, from_=FROM, content_sid=three.sid, content_variables=json.dumps(variables)
    )
    assert sent.body == "Kirim aduan?"
    call = twilio.sent_messages(TO)[-1]
    assert call.body == "Kirim aduan?" and call.options == [
        ("Kirim", "intake:ya:t"),
        ("Ubah", "intake:ubah:t"),
        ("Batal", "intake:batal:t"),
    ]
    tapped = tap_fields(call, "Ubah")
    assert tapped["ButtonPayload"] == "intake:ubah:t" and tapped["OriginalRepliedMessageSid"] == sent.sid
    # Four quick replies make a valid template, but not a session message; a missing variable neither.
    four = await contents.create_async(content_create_request=quick_reply("four", ["A", "B", "C", "D"]))
    with pytest.raises(TwilioRestException) as session_limit:
        await client.messages.create_async(to=TO, from_=FROM, content_sid=four.sid, content_variables="{}")
    assert session_limit.value.code == 63005
    with pytest.raises(TwilioRestException) as unfilled:
        await client.messages.create_async(to=TO, from_=FROM, content_sid=three.sid, content_variables='{"1": "x"}')
    assert unfilled.value.code == 21656


async def test_injected_content_failures(client: Client, twilio: TwilioStandIn) -> None:
    twilio.fail_content(1, 503)
    with pytest.raises(TwilioRestException) as failed:
        await client.content.v1.contents.create_async(content_create_request=quick_reply("x", ["Ya"]))
    assert failed.value.status == 503
    created = await client.content.v1.contents.create_async(content_create_request=quick_reply("x", ["Ya"]))
    assert created.sid and len(twilio.content_calls()) == 1

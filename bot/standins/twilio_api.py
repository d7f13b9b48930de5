"""A local stand-in for Twilio's Messages API (WhatsApp) and its Content API, speaking their HTTP wire protocol."""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dtm
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import format_datetime
from http import HTTPStatus
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.standins.server import Call, Fault, SlidingWindow, StandIn, utcnow
from bot.standins.twilio_content import ContentError, check_template, render

API_VERSION = "2010-04-01"
CONTENT_PATH = "/v1/Content"
CONTENT_ORIGIN = "https://content.twilio.com"
DEFAULT_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
DEFAULT_AUTH_TOKEN = "standin" + "0" * 25  # 32 characters, like a real auth token

_BODY_LIMIT = 1600  # characters

_DEFAULT_CODES = {400: 63016, 401: 20003, 404: 20404, 429: 20429, 500: 20500, 503: 20503}
_MESSAGES = {
    20003: "Authenticate",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    20503: "Service Unavailable",
    21610: "Attempt to send to unsubscribed recipient",
    63016: (
        "Failed to send freeform message because you are outside the allowed window. "
        "If you want to send messages outside the allowed window, please use a Template."
    ),
    63018: "Rate limit exceeded for Channel",
    63019: "Media failed to download",
}


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """X-Twilio-Signature: base64 HMAC-SHA1 of the URL followed by the sorted form keys+values."""
    payload = url + "".join(key + params[key] for key in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _sid(prefix: str) -> str:
    """A Twilio SID: two letters and 32 hex digits."""
    return prefix + secrets.token_hex(16)


def _rfc2822(at: dtm.datetime) -> str:
    """Twilio's date format, e.g. "Thu, 24 Aug 2023 05:01:45 +0000"."""
    return format_datetime(at)


class TwilioApiError(Exception):
    """A Twilio REST error answer: HTTP status and Twilio error code."""

    def __init__(self, status: int, code: int | None = None, message: str | None = None) -> None:
        """Remember the answer; code and message default from the status."""
        self.status = status
        self.code = code or _DEFAULT_CODES.get(status, status)
        self.message = message or _MESSAGES.get(self.code) or HTTPStatus(status).phrase
        super().__init__(f"{self.status} {self.code} {self.message}")

    def response(self) -> JSONResponse:
        """Twilio's (legacy, non RFC-9457) error JSON."""
        body = {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }
        headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if self.status == 401 else None
        return JSONResponse(body, status_code=self.status, headers=headers)


@dataclass(eq=False)
class TwilioCall(Call):
    """One Twilio REST request the stand-in received ("Messages.create", "Content.create", ...)."""

    # A Messages.create of a content template the stand-in knows: what the phone shows (its type,
    # body, list button and options, each {"title", "id"}), variables filled in.
    interactive: dict[str, Any] | None = None

    @property
    def to(self) -> str:
        """The To parameter ("" if absent)."""
        return str(self.params.get("To") or "")

    @property
    def body(self) -> str:
        """The text the citizen reads: the Body parameter, or a content template's body filled in ("" if none)."""
        if self.interactive is not None:
            return str(self.interactive["body"])
        return str(self.params.get("Body") or "")

    @property
    def options(self) -> list[tuple[str, str]]:
        """The (title, id) of each button or list item shown with the message (none for a plain text)."""
        if self.interactive is None:
            return []
        return [(str(o["title"]), str(o["id"])) for o in self.interactive["options"]]

    @property
    def media_urls(self) -> list[str]:
        """The MediaUrl parameters."""
        return list(self.params.get("MediaUrl", []))

    @property
    def content_variables(self) -> dict[str, Any] | None:
        """ContentVariables, decoded from its JSON string."""
        raw = self.params.get("ContentVariables")
        return json.loads(raw) if raw else None

    @property
    def sid(self) -> str:
        """The SID of the Message resource created or fetched ("" if the call answered none)."""
        if isinstance(self.result, dict):
            return str(self.result.get("sid") or "")
        return ""


def tap_fields(message: TwilioCall, title: str) -> dict[str, str]:
    """The fields Twilio adds to the inbound form when the citizen taps an option of an interactive message.

    A quick reply answers with ButtonText and ButtonPayload (the button's id), a list with ListId
    and ListTitle; both repeat the words in Body and name the message tapped.
    """
    shown = message.interactive
    if shown is None:
        raise ValueError("not an interactive message")
    chosen = next((o for o in shown["options"] if o["title"] == title), None)
    if chosen is None:
        raise ValueError(f"no option {title!r} in {[o['title'] for o in shown['options']]}")
    fields = {
        "Body": title,
        "OriginalRepliedMessageSid": message.sid,
        "OriginalRepliedMessageSender": message.params["From"],
    }
    if shown["type"] == "twilio/list-picker":
        fields.update(MessageType="interactive", ListId=chosen["id"], ListTitle=title)
    else:
        fields.update(MessageType="button", ButtonText=title, ButtonPayload=chosen["id"])
    return fields


@dataclass
class StatusPost:
    """One status callback the stand-in posted to the bot."""

    message_sid: str
    status: str
    url: str
    form: dict[str, str]
    http_status: int | None = None  # the bot's answer; None when the post failed
    error: str | None = None
    at: dtm.datetime = field(default_factory=utcnow)


@dataclass
class _Media:
    """Bytes served at a Twilio media URL."""

    data: bytes
    content_type: str


class TwilioStandIn(StandIn[TwilioCall]):
    """Twilio's Messages API on 127.0.0.1, for the real twilio client (with a rewriting http_client)."""

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        *,
        auto_status: Sequence[str] = (),
        media_redirect: bool = True,
        messages_per_second: int | None = None,
    ) -> None:
        """Prepare the stand-in; it serves inside `async with`.

        auto_status: statuses posted to a created message's StatusCallback after the 201, in order.
        media_redirect: media URLs answer 307 to an unauthenticated "CDN" path, as Twilio does.
        messages_per_second: answer a Messages.create beyond this many in any one-second window with
            429 Too Many Requests (error 20429). Twilio itself queues what exceeds a sender's rate
            and answers 429 when an account has too many requests under way; the stand-in refuses
            any excess, the strictest reading, so that a test sees it.
        """
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.auto_status = list(auto_status)
        self.media_redirect = media_redirect
        self._rate = SlidingWindow(messages_per_second, 1.0) if messages_per_second is not None else None
        self.messages: dict[str, dict[str, Any]] = {}  # sid -> Message resource, as fetched
        self.contents: dict[str, dict[str, Any]] = {}  # sid -> Content resource, in creation order
        self._deleted_contents: set[str] = set()  # deleted in the console: sending them fails
        self.status_posts: list[StatusPost] = []
        self._callbacks: dict[str, str] = {}  # message sid -> StatusCallback URL
        self._channel_install_sid = _sid("XE")
        self._media: dict[str, _Media] = {}
        self._held: dict[str, asyncio.Event] = {}  # media sid -> the release of its held downloads
        self._forward: dict[str, str] = {}  # public origin -> local origin
        self._http: httpx.AsyncClient | None = None
        super().__init__()

    # -- addresses ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """Where the rewriting http_client sends api.twilio.com requests: "http://127.0.0.1:PORT"."""
        return self.origin

    # -- test helpers --------------------------------------------------------------------------

    def store_media(self, data: bytes, content_type: str = "image/jpeg") -> str:
        """Store bytes as inbound media; return its URL (MediaUrl0), fetched with Basic auth."""
        message_sid, media_sid = _sid("MM"), _sid("ME")
        self._media[media_sid] = _Media(data, content_type)
        account = f"{self.origin}/{API_VERSION}/Accounts/{self.account_sid}"
        return f"{account}/Messages/{message_sid}/Media/{media_sid}"

    def hold_media(self, url: str) -> asyncio.Event:
        """Hold every download of a stored media URL until the returned event is set (or shutdown).

        A held request is recorded at once as a pending "Media.fetch" call (status None), so a
        test can await the moment the bot is stuck on it; once released it is answered as usual.
        """
        media_sid = url.rstrip("/").rsplit("/", 1)[-1]
        if media_sid not in self._media:
            raise ValueError(f"no media stored at {url}")
        return self._held.setdefault(media_sid, asyncio.Event())

    def forward(self, public_origin: str, local_origin: str) -> None:
        """Post what is meant for public_origin to local_origin, as a reverse proxy before the bot would.

        Signatures stay computed over the public URL, as Twilio computes them: the bot must check
        them against its configured public_url, not the URL it was reached at.
        """
        self._forward[public_origin.rstrip("/")] = local_origin.rstrip("/")

    def signature(self, url: str, params: Mapping[str, str]) -> str:
        """The X-Twilio-Signature Twilio would send with this form post to url."""
        return twilio_signature(self.auth_token, url, params)

    async def post_webhook(self, url: str, form: Mapping[str, str]) -> httpx.Response:
        """POST a form to the bot signed as Twilio signs it (status callbacks, inbound messages)."""
        if self._http is None:
            raise RuntimeError("Twilio stand-in is not running: use it as 'async with'")
        headers = {
            "X-Twilio-Signature": self.signature(url, form),
            "User-Agent": "TwilioProxy/1.1",
        }
        return await self._http.post(self._local(url), data=dict(form), headers=headers)

    def _local(self, url: str) -> str:
        """A public URL mapped to where the bot listens (see forward())."""
        for public, local in self._forward.items():
            if url == public or url.startswith(public + "/"):
                return local + url[len(public) :]
        return url

    async def send_status(self, message_sid: str, status: str, error_code: int | None = None) -> int:
        """Post a status update to the message's StatusCallback; return the bot's HTTP status."""
        message = self.messages.get(message_sid)
        url = self._callbacks.get(message_sid)
        if message is None or url is None:
            raise ValueError(f"message {message_sid} unknown or created without StatusCallback")
        now = _rfc2822(utcnow())
        message.update(status=status, date_updated=now, error_code=error_code)
        if status in ("sent", "delivered", "read"):
            message["date_sent"] = message.get("date_sent") or now
        if error_code is not None:
            message["error_message"] = _MESSAGES.get(error_code)
        form = self._status_form(message, status, error_code)
        post = StatusPost(message_sid, status, url, form)
        self.status_posts.append(post)
        response = await self.post_webhook(url, form)
        post.http_status = response.status_code
        return response.status_code

    def fail_next(
        self,
        n: int | None = 1,
        status: int = 429,
        *,
        code: int | None = None,
        message: str | None = None,
        hang: float | None = None,
    ) -> None:
        """Make the next n Messages.create fail (429 -> 20429, 500 -> 20500, 400 -> 63016, ...).

        n=None: every one until clear_faults(). hang=seconds holds each request instead (until then
        or shutdown), then answers 503 20503.
        """
        self._faults.add(
            Fault(
                status=503 if hang is not None else status,
                remaining=n,
                hang=hang,
                methods={"Messages.create"},
                details={"code": code, "message": message},
            )
        )

    def fail_to(
        self,
        to: str,
        status: int = 400,
        code: int | None = 21610,
        n: int | None = 1,
        message: str | None = None,
        after: int = 0,
    ) -> None:
        """Make the next n messages to one recipient fail (n=None: until clear_faults()), after `after` pass."""
        self._faults.add(
            Fault(
                status=status,
                remaining=n,
                key=to,
                methods={"Messages.create"},
                details={"code": code, "message": message},
                skip=after,
            )
        )

    def fail_content(self, n: int | None = 1, status: int = 500, *, code: int | None = None) -> None:
        """Make the next n Content API calls fail (create, list, fetch; n=None: until clear_faults())."""
        self._faults.add(
            Fault(
                status=status,
                remaining=n,
                methods={"Content.create", "Content.list", "Content.fetch"},
                details={"code": code, "message": None},
            )
        )

    def content_calls(self, method: str = "Content.create") -> list[TwilioCall]:
        """Successful Content API calls of one kind ("Content.create", "Content.list", "Content.fetch")."""
        return [c for c in self.calls if c.method == method and c.ok]

    async def wait_media_downloads(self, n: int, timeout: float = 5.0) -> list[TwilioCall]:
        """Await at least n media downloads (the MediaUrl fetches Twilio makes after a create)."""
        return await self._log.wait_for_count(n, lambda c: c.method == "Media.download", timeout, "Media.download")

    def sent_messages(self, to: str | None = None) -> list[TwilioCall]:
        """Successful Messages.create calls in order (optionally to one recipient); .sid is set."""
        return [c for c in self.calls if self._is_create(c, to, include_failed=False)]

    async def wait_for_count(
        self, n: int, to: str | None = None, timeout: float = 5.0, *, include_failed: bool = False
    ) -> list[TwilioCall]:
        """Await at least n successful Messages.create calls (to one recipient if given)."""
        what = f"Messages.create{'' if to is None else f' to {to}'}"
        return await self._log.wait_for_count(n, lambda c: self._is_create(c, to, include_failed), timeout, what)

    # -- internals -----------------------------------------------------------------------------

    @staticmethod
    def _is_create(call: TwilioCall, to: str | None, include_failed: bool) -> bool:
        """Whether a call matches a sent_messages / wait_for_count filter."""
        if call.method != "Messages.create" or (to is not None and call.to != to):
            return False
        return call.status is not None and (include_failed or call.ok)

    async def _on_start(self) -> None:
        """Open the client that posts callbacks."""
        self._http = httpx.AsyncClient(timeout=10.0)

    def _on_closing(self) -> None:
        """Release held media downloads, so that shutdown does not wait for them."""
        for release in self._held.values():
            release.set()

    async def _on_stop(self) -> None:
        """Close the callback client (after the server, so background posts have finished)."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def _build_app(self) -> Starlette:
        """Routes of the Messages API, media and the media "CDN"."""
        base = f"/{API_VERSION}/Accounts/{{account_sid}}/Messages"
        return Starlette(
            routes=[
                Route(CONTENT_PATH, self._content_create, methods=["POST"]),
                Route(CONTENT_PATH, self._content_list, methods=["GET"]),
                Route(CONTENT_PATH + "/{content_sid}", self._content_fetch, methods=["GET"]),
                Route(CONTENT_PATH + "/{content_sid}", self._content_delete, methods=["DELETE"]),
                Route(base + ".json", self._create, methods=["POST"]),
                Route(base + "/{message_sid}.json", self._fetch, methods=["GET"]),
                Route(base + "/{message_sid}/Media/{media_sid}", self._media_fetch, methods=["GET"]),
                Route("/cdn/{media_sid}", self._cdn, methods=["GET"]),
            ]
        )

    def _check_auth(self, request: Request, *, account_in_path: bool = True) -> None:
        """HTTP Basic auth with (account_sid, auth_token), and the URL's account, or TwilioApiError."""
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user = password = ""
        valid = scheme.lower() == "basic" and hmac.compare_digest(
            f"{user}:{password}".encode(), f"{self.account_sid}:{self.auth_token}".encode()
        )
        if not valid:
            raise TwilioApiError(401)
        if account_in_path and request.path_params.get("account_sid") != self.account_sid:
            raise TwilioApiError(404, message=f"The requested resource {request.url.path} was not found")

    async def _create(self, request: Request) -> Response:
        """POST Messages.json: validate, record, answer 201 with the Message resource."""
        params: dict[str, Any] = {}
        async with request.form() as form:
            for key, value in form.multi_items():
                if key == "MediaUrl":
                    params.setdefault("MediaUrl", []).append(str(value))
                else:
                    params[key] = str(value)
        call = TwilioCall("Messages.create", params)
        try:
            self._check_auth(request)
            if fault := self._faults.take(call.method, params.get("To")):
                return await self._answer_fault(call, fault)
            self._within_rate()
            call.interactive = self._rendered(params)
            resource = self._new_message(params, call.interactive)
        except TwilioApiError as error:
            call.status, call.result = error.status, {"code": error.code, "message": error.message}
            self._log.record(call)
            return error.response()
        call.status, call.result = 201, resource
        self._log.record(call)
        background = None
        if call.media_urls or (self.auto_status and resource["sid"] in self._callbacks):
            background = BackgroundTask(self._after_create, resource["sid"], call.media_urls)
        return JSONResponse(resource, status_code=201, background=background)

    async def _after_create(self, message_sid: str, media_urls: list[str]) -> None:
        """Fetch the message's media as Twilio does (a failure fails the message, 63019), then report."""
        for url in media_urls:
            if not await self._download(message_sid, url):
                if message_sid in self._callbacks:
                    await self.send_status(message_sid, "failed", 63019)
                return
        if self.auto_status and message_sid in self._callbacks:
            await self._auto_post(message_sid)

    async def _download(self, message_sid: str, url: str) -> bool:
        """GET one MediaUrl (through the forward map, without credentials); log it as "Media.download"."""
        assert self._http is not None
        call = TwilioCall("Media.download", {"MessageSid": message_sid, "MediaUrl": url})
        try:
            response = await self._http.get(self._local(url))
        except httpx.HTTPError as error:
            call.status, call.result = 599, {"error": repr(error)}
        else:
            call.status = response.status_code
            call.result = {"content_type": response.headers.get("content-type", ""), "data": response.content}
        self._log.record(call)
        return call.ok

    def _within_rate(self) -> None:
        """Count a Messages.create in the one-second window, or refuse it with 429 (20429)."""
        if self._rate is None:
            return
        if self._rate.wait() > 0:
            raise TwilioApiError(429)
        self._rate.take()

    async def _answer_fault(self, call: TwilioCall, fault: Fault) -> Response:
        """Answer with an injected failure (hanging first if asked)."""
        call.fault = "hang" if fault.hang is not None else str(fault.status)
        if fault.hang is not None:
            self._log.record(call)
            await self._hang(fault.hang)
        error = TwilioApiError(fault.status, fault.details.get("code"), fault.details.get("message"))
        call.status, call.result = error.status, {"code": error.code, "message": error.message}
        self._log.finish(call)
        return error.response()

    def _rendered(self, params: dict[str, Any]) -> dict[str, Any] | None:
        """A send of a template created here: what it shows, or TwilioApiError (None for other sends).

        A ContentSid the stand-in does not know is an approved template made in the Twilio console:
        it is accepted as it comes.
        """
        sid = str(params.get("ContentSid") or "")
        if sid in self._deleted_contents:
            raise TwilioApiError(400, 21655, "The ContentSid is Invalid.")
        content = self.contents.get(sid)
        if content is None:
            return None
        try:
            variables = json.loads(params.get("ContentVariables") or "{}")
            if not isinstance(variables, dict):
                raise ValueError("not an object")
        except ValueError:
            raise TwilioApiError(400, 21656, "The ContentVariables Parameter is invalid.") from None
        try:
            return render(content["types"], {str(k): str(v) for k, v in variables.items()})
        except ContentError as error:
            raise TwilioApiError(400, error.code, error.message) from None

    def _new_message(self, params: dict[str, Any], shown: dict[str, Any] | None = None) -> dict[str, Any]:
        """Validate a create request as Twilio does and store the new Message resource."""
        to, from_ = params.get("To"), params.get("From")
        service = params.get("MessagingServiceSid")
        body = params.get("Body", "") or (shown["body"] if shown else "")
        media = params.get("MediaUrl", [])
        if not to:
            raise TwilioApiError(400, 21604, "A 'To' phone number is required.")
        if not from_ and not service:
            raise TwilioApiError(
                400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message."
            )
        if not body and not media and not params.get("ContentSid"):
            raise TwilioApiError(400, 21602, "Message body is required.")
        if from_ and from_.startswith("whatsapp:") != to.startswith("whatsapp:"):
            raise TwilioApiError(400, 21910, "Invalid From and To pair. From and To should be of the same channel")
        if len(body) > _BODY_LIMIT:
            raise TwilioApiError(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        if params.get("ContentVariables"):
            try:
                json.loads(params["ContentVariables"])
            except ValueError:
                raise TwilioApiError(400, 21656, "The ContentVariables Parameter is invalid.") from None
        sid = _sid("SM")
        now = _rfc2822(utcnow())
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        resource = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": from_,
            "messaging_service_sid": service,
            "num_media": str(len(media)),
            # Through a Messaging Service the sender is picked later: accepted, 0 segments.
            "num_segments": "0" if service and not from_ else "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if service and not from_ else "queued",
            "subresource_uris": {"media": f"{uri}/Media.json", "feedback": f"{uri}/Feedback.json"},
            "to": to,
            "uri": f"{uri}.json",
        }
        self.messages[sid] = resource
        if params.get("StatusCallback"):
            self._callbacks[sid] = params["StatusCallback"]
        return resource

    def _status_form(self, message: dict[str, Any], status: str, error_code: int | None) -> dict[str, str]:
        """The form Twilio posts to a StatusCallback."""
        form = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "From": message["from"] or "",
            "MessageSid": message["sid"],
            "MessageStatus": status,
            "SmsSid": message["sid"],
            "SmsStatus": status,
            "To": message["to"],
        }
        if message["to"].startswith("whatsapp:"):
            form.update(
                ChannelPrefix="whatsapp",
                ChannelToAddress=message["to"].removeprefix("whatsapp:"),
                ChannelInstallSid=self._channel_install_sid,
                StructuredMessage="false",
            )
        if message["messaging_service_sid"]:
            form["MessagingServiceSid"] = message["messaging_service_sid"]
        if error_code is not None:
            form["ErrorCode"] = str(error_code)
            if error_code in _MESSAGES:
                form["ErrorMessage"] = _MESSAGES[error_code]
        return form

    async def _auto_post(self, message_sid: str) -> None:
        """Post the auto_status statuses in order; failures are kept in status_posts."""
        for status in self.auto_status:
            try:
                await self.send_status(message_sid, status)
            except (httpx.HTTPError, RuntimeError) as error:
                self.status_posts[-1].error = repr(error)
                return

    # -- the Content API -------------------------------------------------------------------------

    async def _content_answer(self, call: TwilioCall, request: Request, answer: Any) -> Response:
        """Authenticate a Content API call, apply any injected fault, then answer (a callable's result)."""
        try:
            self._check_auth(request, account_in_path=False)
            if fault := self._faults.take(call.method, None):
                raise TwilioApiError(fault.status, fault.details.get("code"), fault.details.get("message"))
            status, result = answer()
        except TwilioApiError as error:
            call.status, call.result = error.status, {"code": error.code, "message": error.message}
            self._log.record(call)
            return error.response()
        call.status, call.result = status, result
        self._log.record(call)
        return JSONResponse(result, status_code=status)

    async def _content_create(self, request: Request) -> Response:
        """POST /v1/Content (JSON): check the template against WhatsApp's limits, store it, 201."""
        try:
            body: Any = json.loads(await request.body())
        except ValueError:
            body = None
        call = TwilioCall("Content.create", body if isinstance(body, dict) else {})

        def create() -> tuple[int, dict[str, Any]]:
            try:
                name, types = check_template(body)
            except ContentError as error:
                raise TwilioApiError(400, error.code, error.message) from None
            sid = "HX" + secrets.token_hex(16)
            now = utcnow().isoformat()
            resource = {
                "sid": sid,
                "account_sid": self.account_sid,
                "friendly_name": name,
                "language": body.get("language") or "en",
                "variables": body.get("variables") or {},
                "types": types,
                "date_created": now,
                "date_updated": now,
                "url": f"{CONTENT_ORIGIN}{CONTENT_PATH}/{sid}",
                "links": {"approval_create": f"{CONTENT_ORIGIN}{CONTENT_PATH}/{sid}/ApprovalRequests/whatsapp"},
            }
            self.contents[sid] = resource
            return 201, resource

        return await self._content_answer(call, request, create)

    async def _content_list(self, request: Request) -> Response:
        """GET /v1/Content: the account's templates, a page at a time (PageSize, PageToken = an offset)."""
        query = request.query_params
        call = TwilioCall("Content.list", dict(query))

        def page() -> tuple[int, dict[str, Any]]:
            try:
                size = max(1, min(int(query.get("PageSize", "50")), 1000))
                start = max(0, int(query.get("PageToken", "0")))
            except ValueError:
                raise TwilioApiError(400, 20001, "Invalid PageSize or PageToken") from None
            every = list(self.contents.values())
            chosen = every[start : start + size]
            url = f"{CONTENT_ORIGIN}{CONTENT_PATH}?PageSize={size}"
            more = start + size < len(every)
            meta = {
                "page": start // size,
                "page_size": size,
                "first_page_url": url,
                "previous_page_url": None,
                "url": f"{url}&PageToken={start}",
                "next_page_url": f"{url}&PageToken={start + size}" if more else None,
                "key": "contents",
            }
            return 200, {"contents": chosen, "meta": meta}

        return await self._content_answer(call, request, page)

    async def _content_fetch(self, request: Request) -> Response:
        """GET /v1/Content/{sid}: one template."""
        sid = request.path_params["content_sid"]
        call = TwilioCall("Content.fetch", {"ContentSid": sid})

        def fetch() -> tuple[int, dict[str, Any]]:
            if sid not in self.contents:
                raise TwilioApiError(404, message=f"The requested resource {request.url.path} was not found")
            return 200, self.contents[sid]

        return await self._content_answer(call, request, fetch)

    async def _content_delete(self, request: Request) -> Response:
        """DELETE /v1/Content/{sid}: as an operator tidying the console would; later sends of it fail."""
        sid = request.path_params["content_sid"]
        call = TwilioCall("Content.delete", {"ContentSid": sid})

        def delete() -> tuple[int, dict[str, Any]]:
            if sid not in self.contents:
                raise TwilioApiError(404, message=f"The requested resource {request.url.path} was not found")
            del self.contents[sid]
            self._deleted_contents.add(sid)
            return 204, {}

        answer = await self._content_answer(call, request, delete)
        return Response(status_code=204) if answer.status_code == 204 else answer

    async def _fetch(self, request: Request) -> Response:
        """GET Messages/{sid}.json: the current Message resource."""
        sid = request.path_params["message_sid"]
        call = TwilioCall("Messages.fetch", {"MessageSid": sid})
        try:
            self._check_auth(request)
            if sid not in self.messages:
                raise TwilioApiError(404, message=f"The requested resource {request.url.path} was not found")
        except TwilioApiError as error:
            call.status, call.result = error.status, {"code": error.code, "message": error.message}
            self._log.record(call)
            return error.response()
        call.status, call.result = 200, self.messages[sid]
        self._log.record(call)
        return JSONResponse(self.messages[sid])

    async def _media_fetch(self, request: Request) -> Response:
        """GET a media URL: Basic auth, then the bytes or a 307 to the CDN path."""
        media_sid = request.path_params["media_sid"]
        call = TwilioCall("Media.fetch", {"MediaSid": media_sid})
        media = self._media.get(media_sid)
        try:
            self._check_auth(request)
            if media is None:
                raise TwilioApiError(404, message=f"The requested resource {request.url.path} was not found")
        except TwilioApiError as error:
            call.status = error.status
            self._log.record(call)
            return error.response()
        if (release := self._held.get(media_sid)) is not None:
            self._log.record(call)  # pending until released
            await release.wait()
        if self.media_redirect:
            call.status = 307
            self._log.finish(call)
            return RedirectResponse(f"{self.origin}/cdn/{media_sid}", status_code=307)
        call.status = 200
        self._log.finish(call)
        return Response(media.data, media_type=media.content_type)

    async def _cdn(self, request: Request) -> Response:
        """The unauthenticated CDN location media redirects to."""
        media = self._media.get(request.path_params["media_sid"])
        if media is None:
            return Response("Not Found", status_code=404)
        return Response(media.data, media_type=media.content_type)

"""A local stand-in for the Telegram Bot API, speaking its HTTP wire protocol."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Collection
from dataclasses import dataclass
from html.parser import HTMLParser
from http import HTTPStatus
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.standins.server import Call, Fault, SlidingWindow, StandIn

DEFAULT_TOKEN = "7000000001:AAStandInTokenForEHumasTests_0123456"

SEND_METHODS: frozenset[str] = frozenset({"sendMessage", "sendPhoto", "sendLocation", "sendDocument"})

METHODS: frozenset[str] = SEND_METHODS | {
    "getMe",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
    "getUpdates",
    "sendChatAction",
    "answerCallbackQuery",
    "editMessageText",
    "editMessageReplyMarkup",
    "getFile",
    "setMyCommands",
    "getChat",
    "getChatMember",
}
# The Bot API matches method names case-insensitively.
_CANONICAL = {name.lower(): name for name in METHODS}

# Form posts carry every value as a string, nested objects JSON-encoded; these are decoded.
# Free-text fields (text, caption, ...) are never decoded: "123" or "[KDI-1]" stay text.
_DECODED_KEYS = frozenset(
    {
        "chat_id", "message_id", "message_thread_id", "reply_to_message_id", "offset", "limit",
        "timeout", "latitude", "longitude", "horizontal_accuracy", "live_period", "heading",
        "proximity_alert_radius", "cache_time", "max_connections", "user_id", "from_chat_id",
        "disable_notification", "protect_content", "show_alert", "drop_pending_updates",
        "allow_sending_without_reply", "disable_web_page_preview", "has_spoiler",
        "disable_content_type_detection", "show_caption_above_media", "reply_markup",
        "reply_parameters", "entities", "caption_entities", "link_preview_options", "commands",
        "scope", "allowed_updates", "media",
    }
)  # fmt: skip

_TEXT_LIMIT = 4096  # characters of a message text (Telegram counts UTF-16 units after parsing)
_CAPTION_LIMIT = 1024
# Telegram's parse_mode=HTML: these tags, and only &lt; &gt; &amp; &quot; plus numeric entities.
_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
_HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_CALLBACK_DATA_LIMIT = 64  # bytes
# getChatMember: the fields each kind of ChatMember carries besides status and user.
_ADMIN_RIGHTS = {
    "can_be_edited": False, "is_anonymous": False, "can_manage_chat": True, "can_delete_messages": True,
    "can_manage_video_chats": True, "can_restrict_members": True, "can_promote_members": False,
    "can_change_info": True, "can_invite_users": True, "can_post_stories": False, "can_edit_stories": False,
    "can_delete_stories": False, "can_pin_messages": True,
}  # fmt: skip
_MEMBER_STATUSES: dict[str, dict[str, Any]] = {
    "creator": {"is_anonymous": False},
    "administrator": _ADMIN_RIGHTS,
    "member": {},
    "left": {},
    "kicked": {"until_date": 0},
}

_FAULT_DESCRIPTIONS = {
    400: "Bad Request: chat not found",
    403: "Forbidden: bot was blocked by the user",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


@dataclass(eq=False)
class TelegramCall(Call):
    """One Bot API request the stand-in received."""

    @property
    def chat_id(self) -> int | str | None:
        """The chat_id parameter, if any."""
        return self.params.get("chat_id")

    @property
    def message_id(self) -> int | None:
        """The message_id assigned to (or edited by) this call, if it returned a message."""
        if isinstance(self.result, dict):
            return self.result.get("message_id")
        return None

    @property
    def text(self) -> str:
        """The text or caption sent ("" if neither)."""
        return str(self.params.get("text", self.params.get("caption")) or "")


@dataclass
class _Upload:
    """A file part of a multipart request."""

    data: bytes
    filename: str | None
    content_type: str | None


@dataclass
class _StoredFile:
    """A file the stand-in can hand out through getFile and the file download path."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes


class BotApiError(Exception):
    """A Bot API error answer: HTTP status and description."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        """Remember the answer."""
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def response(self) -> JSONResponse:
        """The Bot API error JSON."""
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return JSONResponse(body, status_code=self.status)


def _decode(key: str, value: Any) -> Any:
    """Decode a form value that the Bot API defines as a number, boolean or JSON object."""
    if key in _DECODED_KEYS and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value  # e.g. chat_id="@channelname"
    return value


async def _read_params(request: Request) -> tuple[dict[str, Any], dict[str, _Upload]]:
    """Parameters from the query string and a JSON, urlencoded or multipart body."""
    params: dict[str, Any] = dict(request.query_params)
    files: dict[str, _Upload] = {}
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        body = await request.body()
        if body:
            try:
                params.update(json.loads(body))
            except ValueError:
                raise BotApiError(400, "Bad Request: can't parse JSON object") from None
    elif content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        async with request.form() as form:
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    files[key] = _Upload(await value.read(), value.filename, value.content_type)
                else:
                    params[key] = value
    return {key: _decode(key, value) for key, value in params.items()}, files


class _TelegramHtml(HTMLParser):
    """Telegram's HTML parse mode, strictly enough to refuse what Telegram refuses."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.visible: list[str] = []
        self.open: list[str] = []
        self.problem: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS:
            self.problem = self.problem or f'Unsupported start tag "{tag}"'
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.problem = self.problem or f'Unmatched end tag "{tag}"'
        else:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        self.visible.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in _HTML_ENTITIES:
            self.problem = self.problem or f'Unsupported HTML entity "&{name};"'
        self.visible.append(_HTML_ENTITIES.get(name, ""))

    def handle_charref(self, name: str) -> None:
        try:
            self.visible.append(chr(int(name[1:], 16) if name[:1] in "xX" else int(name)))
        except ValueError:
            self.problem = self.problem or f'Invalid numeric entity "&#{name};"'


def _visible(text: str, parse_mode: Any) -> str:
    """The text a reader sees; BotApiError 400 for markup Telegram cannot parse."""
    if str(parse_mode or "").upper() != "HTML":
        return text
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    if parser.problem is None and parser.open:
        parser.problem = f'Can\'t find end tag corresponding to start tag "{parser.open[-1]}"'
    if parser.problem is not None:
        raise BotApiError(400, f"Bad Request: can't parse entities: {parser.problem}")
    return "".join(parser.visible)


def _check_length(text: str, parse_mode: Any, limit: int, what: str) -> None:
    """Telegram counts the visible text, after entity parsing, in UTF-16 code units."""
    if len(_visible(text, parse_mode).encode("utf-16-le")) // 2 > limit:
        raise BotApiError(400, f"Bad Request: {what} is too long")


def _require(params: dict[str, Any], key: str) -> Any:
    """A required parameter, or Telegram's "is empty" error."""
    value = params.get(key)
    if value in (None, ""):
        raise BotApiError(400, f"Bad Request: {key} is empty")
    return value


@dataclass(frozen=True)
class RateLimits:
    """Telegram's flood limits for sending, enforced by the stand-in when given (429 + retry_after).

    Telegram does not publish its algorithm. The stand-in reads the limits literally, the strictest
    way: at most `per_second` sends in any one-second window, at most `per_group_per_minute` to one
    group in any sixty-second window.
    """

    per_second: int = 30  # all chats together
    per_group_per_minute: int = 20  # each group (negative chat id)


class TelegramStandIn(StandIn[TelegramCall]):
    """The Telegram Bot API on 127.0.0.1, for the real python-telegram-bot client."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "ehumas_test_bot",
        bot_first_name: str = "E-Humas (test)",
        rate_limits: RateLimits | None = None,
    ) -> None:
        """Prepare the stand-in; it serves inside `async with`.

        rate_limits: answer send* calls over Telegram's flood limits with 429, as Telegram does.
        """
        self.token = token
        self.rate_limits = rate_limits
        # Delays of the next send* answers (slow_next), each with the event set when it begins.
        self._slow: list[tuple[float, asyncio.Event]] = []
        self._overall: SlidingWindow | None = None
        self._groups: dict[int | str, SlidingWindow] = {}
        prefix = token.split(":", 1)[0]  # a bot token starts with the bot's user id
        bot_id = int(prefix) if prefix.isdigit() else 7000000001
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.webhook: dict[str, Any] = {}  # the last setWebhook parameters; {} when none
        self.commands: list[dict[str, Any]] = []  # the last setMyCommands
        self._updates: list[dict[str, Any]] = []
        self._updates_changed = asyncio.Event()
        self._last_update_id = 100_000
        self._chats: dict[int | str, dict[str, Any]] = {}
        self._last_message_id: dict[int | str, int] = {}
        self._messages: dict[tuple[int | str, int], dict[str, Any]] = {}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        # getChatMember: (chat id, user id) -> status; anyone else has "left".
        self._members: dict[tuple[int, int], str] = {}
        super().__init__()

    # -- addresses ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """PTB's Bot(base_url=...): "http://127.0.0.1:PORT/bot" (PTB appends the token)."""
        return f"{self.origin}/bot"

    @property
    def base_file_url(self) -> str:
        """PTB's Bot(base_file_url=...): "http://127.0.0.1:PORT/file/bot"."""
        return f"{self.origin}/file/bot"

    # -- test helpers --------------------------------------------------------------------------

    def next_update_id(self) -> int:
        """A fresh update_id, higher than every one used so far."""
        self._last_update_id += 1
        return self._last_update_id

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an Update for getUpdates (an update_id is assigned if missing); return its id."""
        update = dict(update)
        if "update_id" not in update:
            update["update_id"] = self.next_update_id()
        update_id = int(update["update_id"])
        self._last_update_id = max(self._last_update_id, update_id)
        # Remember the messages inside, so replies and edits referring to them find them.
        for key in ("message", "edited_message", "channel_post"):
            if isinstance(update.get(key), dict):
                self._remember_message(update[key])
        query = update.get("callback_query")
        if isinstance(query, dict) and isinstance(query.get("message"), dict):
            self._remember_message(query["message"])
        self._updates.append(update)
        self._notify_updates()
        return update_id

    def store_file(self, data: bytes, file_path: str | None = None) -> str:
        """Store bytes as a Telegram file (e.g. a citizen's photo); return its file_id."""
        return self._store(data, file_path).file_id

    def file_bytes(self, file_id: str) -> bytes | None:
        """The bytes of a stored file (a citizen's photo), or None if unknown."""
        stored = self._files.get(file_id)
        return stored.data if stored else None

    def set_member(self, chat_id: int, user_id: int, status: str = "member") -> None:
        """What getChatMember answers for a user in a chat: "member", "administrator", "creator", "left", "kicked"."""
        if status not in _MEMBER_STATUSES:
            raise ValueError(f"unknown chat member status {status!r}")
        self._members[(chat_id, user_id)] = status

    def message(self, chat_id: int | str, message_id: int) -> dict[str, Any] | None:
        """The current state of a message the stand-in knows (after edits), or None."""
        return self._messages.get((chat_id, message_id))

    def fail_next(
        self,
        n: int = 1,
        status: int = 429,
        *,
        retry_after: int = 1,
        hang: float | None = None,
        description: str | None = None,
        methods: Collection[str] = SEND_METHODS,
    ) -> None:
        """Make the next n calls of `methods` fail with status.

        hang=seconds holds each request instead (until then or shutdown), then answers 502, so a
        client with a shorter read timeout sees a timeout.
        """
        self._add_fault(None, n, status, retry_after, hang, description, methods)

    def fail_chat(
        self,
        chat_id: int | str,
        status: int = 403,
        n: int | None = 1,
        *,
        retry_after: int = 1,
        description: str | None = None,
        methods: Collection[str] = SEND_METHODS,
    ) -> None:
        """Make the next n calls to chat_id fail with status (n=None: until clear_faults())."""
        self._add_fault(chat_id, n, status, retry_after, None, description, methods)

    def slow_next(self, n: int = 1, seconds: float = 1.0) -> asyncio.Event:
        """Make the next n send* calls succeed, but only after `seconds` (a slow Bot API).

        The event returned is set when the first of them arrives (a test can act while it hangs).
        """
        arrived = asyncio.Event()
        self._slow.extend([(seconds, arrived)] * n)
        return arrived

    def sent_messages(self, chat_id: int | str | None = None) -> list[TelegramCall]:
        """Successful send* calls in order (optionally to one chat); .message_id is assigned."""
        return [c for c in self.calls if self._is_send(c, None, chat_id, include_failed=False)]

    async def wait_for_count(
        self,
        n: int,
        method: str | None = None,
        chat_id: int | str | None = None,
        timeout: float = 5.0,
        *,
        include_failed: bool = False,
    ) -> list[TelegramCall]:
        """Await at least n successful calls of method (default: any send*) to chat_id."""
        what = f"{method or 'send*'}{'' if chat_id is None else f' to {chat_id}'}"
        return await self._log.wait_for_count(
            n, lambda c: self._is_send(c, method, chat_id, include_failed), timeout, what
        )

    # -- internals -----------------------------------------------------------------------------

    @staticmethod
    def _is_send(call: TelegramCall, method: str | None, chat_id: int | str | None, include_failed: bool) -> bool:
        """Whether a call matches a sent_messages / wait_for_count filter."""
        if method is None and call.method not in SEND_METHODS:
            return False
        if method is not None and call.method != method:
            return False
        if chat_id is not None and call.chat_id != chat_id:
            return False
        return call.status is not None and (include_failed or call.ok)

    def _add_fault(
        self,
        chat_id: int | str | None,
        n: int | None,
        status: int,
        retry_after: int,
        hang: float | None,
        description: str | None,
        methods: Collection[str],
    ) -> None:
        """Queue a fault."""
        self._faults.add(
            Fault(
                status=502 if hang is not None else status,
                remaining=n,
                hang=hang,
                key=chat_id,
                methods=frozenset(methods),
                details={"retry_after": retry_after, "description": description},
            )
        )

    def _within_limits(self, chat_id: Any) -> None:
        """Count a send in its windows, or refuse it with 429 Too Many Requests."""
        limits = self.rate_limits
        assert limits is not None
        if self._overall is None:
            self._overall = SlidingWindow(limits.per_second, 1.0)
        windows = [self._overall]
        if isinstance(chat_id, int) and chat_id < 0:
            if chat_id not in self._groups:
                self._groups[chat_id] = SlidingWindow(limits.per_group_per_minute, 60.0)
            windows.append(self._groups[chat_id])
        wait = max(window.wait() for window in windows)
        if wait > 0:
            retry_after = max(1, int(wait + 0.999))
            raise BotApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
        for window in windows:
            window.take()

    def _notify_updates(self) -> None:
        """Wake long-polling getUpdates."""
        event, self._updates_changed = self._updates_changed, asyncio.Event()
        event.set()

    def _on_closing(self) -> None:
        """Let pending getUpdates answer at shutdown."""
        self._notify_updates()

    def _build_app(self) -> Starlette:
        """Routes of the Bot API and of the file downloads."""
        return Starlette(
            routes=[
                Route("/bot{token}/{method}", self._api, methods=["GET", "POST"]),
                Route("/file/bot{token}/{file_path:path}", self._download, methods=["GET"]),
            ]
        )

    async def _download(self, request: Request) -> Response:
        """Serve a stored file's bytes, as api.telegram.org/file/bot<token>/<path> does."""
        file_path = request.path_params["file_path"]
        stored = self._files_by_path.get(file_path)
        ok = request.path_params["token"] == self.token and stored is not None
        call = TelegramCall("downloadFile", {"file_path": file_path}, status=200 if ok else 404)
        self._log.record(call)
        if not ok or stored is None:
            return BotApiError(404, "Not Found").response()
        return Response(stored.data, media_type="application/octet-stream")

    async def _api(self, request: Request) -> Response:
        """Answer one Bot API method call."""
        name = request.path_params["method"]
        method = _CANONICAL.get(name.lower(), name)
        try:
            params, uploads = await _read_params(request)
        except BotApiError as error:
            self._log.record(TelegramCall(method, {}, status=error.status))
            return error.response()
        if isinstance(params.get("chat_id"), str) and params["chat_id"].lstrip("-").isdigit():
            params["chat_id"] = int(params["chat_id"])
        call = TelegramCall(method, params, {key: up.data for key, up in uploads.items()})
        try:
            if request.path_params["token"] != self.token:
                raise BotApiError(401, "Unauthorized")
            if method not in METHODS:
                raise BotApiError(404, "Not Found: method not found")
            if fault := self._faults.take(method, params.get("chat_id")):
                return await self._answer_fault(call, fault)
            if method in SEND_METHODS and self.rate_limits is not None:
                self._within_limits(params.get("chat_id"))
            if method in SEND_METHODS and self._slow:
                seconds, arrived = self._slow.pop(0)
                arrived.set()
                await self._hang(seconds)
            if method == "getUpdates":
                self._log.record(call)  # recorded while pending, so a test can see the poll waiting
                call.result = await self._get_updates(params)
            else:
                call.result = self._dispatch(method, params, uploads)
            call.status = 200
        except BotApiError as error:
            call.status = error.status
            call.result = {"error_code": error.status, "description": error.description}
            self._log.finish(call)
            return error.response()
        self._log.finish(call)
        return JSONResponse({"ok": True, "result": call.result})

    async def _answer_fault(self, call: TelegramCall, fault: Fault) -> Response:
        """Answer with an injected failure (hanging first if asked)."""
        call.fault = "hang" if fault.hang is not None else str(fault.status)
        if fault.hang is not None:
            self._log.record(call)
            await self._hang(fault.hang)
        description = fault.details.get("description")
        parameters = None
        if fault.status == 429:
            retry_after = fault.details["retry_after"]
            description = description or f"Too Many Requests: retry after {retry_after}"
            parameters = {"retry_after": retry_after}
        elif fault.status == 403 and isinstance(call.chat_id, int) and call.chat_id < 0:
            description = description or "Forbidden: bot was kicked from the group chat"
        if description is None:
            description = _FAULT_DESCRIPTIONS.get(fault.status) or HTTPStatus(fault.status).phrase
        error = BotApiError(fault.status, description, parameters)
        call.status = fault.status
        call.result = {"error_code": fault.status, "description": description}
        self._log.finish(call)
        return error.response()

    def _dispatch(self, method: str, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        """Run a (non-waiting) method; return its result or raise BotApiError."""
        match method:
            case "getMe":
                return {
                    **self.bot_user,
                    "can_join_groups": True,
                    "can_read_all_group_messages": False,
                    "supports_inline_queries": False,
                }
            case "setWebhook":
                self.webhook = {key: value for key, value in params.items() if key != "drop_pending_updates"}
                if params.get("drop_pending_updates"):
                    self._updates.clear()
                return True
            case "deleteWebhook":
                self.webhook = {}
                if params.get("drop_pending_updates"):
                    self._updates.clear()
                return True
            case "getWebhookInfo":
                return {
                    "url": self.webhook.get("url", ""),
                    "has_custom_certificate": False,
                    "pending_update_count": len(self._updates),
                    "max_connections": self.webhook.get("max_connections", 40),
                }
            case "sendMessage":
                text = _require(params, "text")
                _check_length(text, params.get("parse_mode"), _TEXT_LIMIT, "message")
                return self._new_message(params, text=text, entities=params.get("entities"))
            case "sendPhoto":
                stored = self._input_file(params, uploads, "photo", "photos/file_{n}.jpg")
                return self._new_message(params, photo=self._photo_sizes(stored), **self._caption(params))
            case "sendDocument":
                upload = uploads.get("document")
                name = (upload.filename if upload else None) or "document"
                stored = self._input_file(params, uploads, "document", "documents/file_{n}_" + name)
                document = {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_name": name,
                    "mime_type": (upload.content_type if upload else None) or "application/octet-stream",
                    "file_size": len(stored.data),
                }
                return self._new_message(params, document=document, **self._caption(params))
            case "sendLocation":
                location = {
                    "latitude": float(_require(params, "latitude")),
                    "longitude": float(_require(params, "longitude")),
                }
                return self._new_message(params, location=location)
            case "sendChatAction":
                self._chat(params)
                _require(params, "action")
                return True
            case "answerCallbackQuery":
                _require(params, "callback_query_id")
                return True
            case "editMessageText":
                return self._edit(params, text=_require(params, "text"))
            case "editMessageReplyMarkup":
                return self._edit(params, text=None)
            case "getFile":
                known = self._files.get(_require(params, "file_id"))
                if known is None:
                    raise BotApiError(400, "Bad Request: invalid file_id")
                return {
                    "file_id": known.file_id,
                    "file_unique_id": known.file_unique_id,
                    "file_size": len(known.data),
                    "file_path": known.file_path,
                }
            case "setMyCommands":
                self.commands = list(_require(params, "commands"))
                return True
            case "getChatMember":
                chat = self._chat(params)
                user_id = _require(params, "user_id")
                if not isinstance(user_id, int) or user_id <= 0:
                    raise BotApiError(400, "Bad Request: PARTICIPANT_ID_INVALID")
                status = self._members.get((chat["id"], user_id), "left")
                user = {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
                return {"status": status, "user": user, **_MEMBER_STATUSES[status]}
            case "getChat":
                return {
                    **self._chat(params),
                    "accent_color_id": 0,
                    "max_reaction_count": 11,
                    "accepted_gift_types": {
                        "unlimited_gifts": False,
                        "limited_gifts": False,
                        "unique_gifts": False,
                        "premium_subscription": False,
                        "gifts_from_channels": False,
                    },
                }
        raise BotApiError(404, "Not Found: method not found")

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Long poll: the queued updates from offset on, waiting up to `timeout` for the first."""
        if self.webhook.get("url"):
            raise BotApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        if offset > 0:
            # Real semantics: an offset confirms (forgets) every update below it.
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        try:
            async with asyncio.timeout(float(params.get("timeout") or 0)):
                while not self._ready_updates(offset, limit) and not self._closing.is_set():
                    await self._updates_changed.wait()
        except TimeoutError:
            pass
        return self._ready_updates(offset, limit)

    def _ready_updates(self, offset: int, limit: int) -> list[dict[str, Any]]:
        """The queued updates a getUpdates(offset, limit) returns now."""
        if offset < 0:
            return self._updates[offset:][:limit]
        return [u for u in self._updates if u["update_id"] >= offset][:limit]

    def _chat(self, params: dict[str, Any]) -> dict[str, Any]:
        """The Chat object for params' chat_id; private for positive ids, else supergroup."""
        chat_id = _require(params, "chat_id")
        if not isinstance(chat_id, int):
            raise BotApiError(400, "Bad Request: chat not found")
        if chat_id not in self._chats:
            if chat_id > 0:
                self._chats[chat_id] = {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
            else:
                self._chats[chat_id] = {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"}
        return self._chats[chat_id]

    def _remember_message(self, message: dict[str, Any]) -> None:
        """Store a message seen in a pushed update; later bot messages get higher ids."""
        chat = message.get("chat") or {}
        if "id" not in chat or "message_id" not in message:
            return
        self._chats.setdefault(chat["id"], chat)
        self._messages[(chat["id"], message["message_id"])] = message
        last = self._last_message_id.get(chat["id"], 0)
        self._last_message_id[chat["id"]] = max(last, message["message_id"])

    def _new_message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        """Create, store and return a message the bot sent, echoing what the Bot API echoes."""
        chat = self._chat(params)
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            for row in markup["inline_keyboard"]:
                for button in row:
                    if len(str(button.get("callback_data", "")).encode()) > _CALLBACK_DATA_LIMIT:
                        raise BotApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        message_id = self._last_message_id.get(chat["id"], 0) + 1
        self._last_message_id[chat["id"]] = message_id
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": self.bot_user,
            **{key: value for key, value in content.items() if value is not None},
        }
        if params.get("message_thread_id"):
            message["message_thread_id"] = params["message_thread_id"]
        # Only inline keyboards are part of a Message; reply keyboards are not echoed.
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        reply_parameters = params.get("reply_parameters") or {}
        reply_to = reply_parameters.get("message_id") or params.get("reply_to_message_id")
        if reply_to:
            target = self._messages.get((chat["id"], reply_to)) or {
                "message_id": reply_to,
                "date": message["date"],
                "chat": chat,
            }
            # Telegram nests replies one level deep only.
            message["reply_to_message"] = {k: v for k, v in target.items() if k != "reply_to_message"}
        self._messages[(chat["id"], message_id)] = message
        return message

    def _caption(self, params: dict[str, Any]) -> dict[str, Any]:
        """The caption fields of a media message."""
        caption = params.get("caption")
        if caption:
            _check_length(caption, params.get("parse_mode"), _CAPTION_LIMIT, "message caption")
        return {"caption": caption, "caption_entities": params.get("caption_entities")}

    def _store(self, data: bytes, file_path: str | None, template: str = "photos/file_{n}.jpg") -> _StoredFile:
        """Store bytes under a new file_id; template's {n} becomes the file's number."""
        n = len(self._files) + 1
        path = file_path or template.replace("{n}", str(n))
        stored = _StoredFile(f"standin-file-{n}", f"standin-unique-{n}", path, data)
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _input_file(self, params: dict[str, Any], uploads: dict[str, _Upload], key: str, template: str) -> _StoredFile:
        """The file of a send* call: an upload, an attach:// upload, a known file_id, or a URL."""
        value = params.get(key)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = uploads.get(value.removeprefix("attach://"))
        else:
            upload = uploads.get(key)
        if upload is not None:
            return self._store(upload.data, None, template)
        if isinstance(value, str) and value in self._files:
            return self._files[value]
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return self._store(b"", None, template)  # no internet: the URL is not fetched
        if value in (None, ""):
            raise BotApiError(400, f"Bad Request: there is no {key} in the request")
        raise BotApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _photo_sizes(self, stored: _StoredFile) -> list[dict[str, Any]]:
        """The PhotoSize list of a sent photo: a thumbnail and the full size, smallest first."""
        thumb = self._store(stored.data, None, "thumbnails/file_{n}.jpg")
        return [
            {"file_id": thumb.file_id, "file_unique_id": thumb.file_unique_id,
             "width": 90, "height": 68, "file_size": len(stored.data)},
            {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
             "width": 1280, "height": 960, "file_size": len(stored.data)},
        ]  # fmt: skip

    def _edit(self, params: dict[str, Any], text: str | None) -> dict[str, Any] | bool:
        """editMessageText / editMessageReplyMarkup: the edited message."""
        if params.get("inline_message_id"):
            return True
        chat = self._chat(params)
        message_id = int(_require(params, "message_id"))
        key = (chat["id"], message_id)
        # A message the stand-in never saw (a test posted its update straight to the bot's
        # webhook) is taken to be the bot's own, so edits of it work.
        current = self._messages.get(key) or {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": self.bot_user,
        }
        edited = {k: v for k, v in current.items() if k not in ("edit_date", "reply_markup")}
        if text is not None:
            _check_length(text, params.get("parse_mode"), _TEXT_LIMIT, "message")
            edited["text"] = text
            edited.pop("entities", None)
            if params.get("entities"):
                edited["entities"] = params["entities"]
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and markup.get("inline_keyboard"):
            edited["reply_markup"] = markup
        unchanged = {k: v for k, v in current.items() if k != "edit_date"}
        if key in self._messages and edited == unchanged:
            raise BotApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        edited["edit_date"] = int(time.time())
        self._messages[key] = edited
        return edited

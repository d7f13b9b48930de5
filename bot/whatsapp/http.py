"""The twilio library's async HTTP client, made to honour a base URL and its own timeout."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response

# Twilio answers in well under a second; a hung request must not hold an outbox lease for minutes.
DEFAULT_TIMEOUT_SECONDS = 15.0


def rebase(url: str, base_url: str) -> str:
    """Swap the scheme and host of an https://api.twilio.com/... URL for base_url's (keeping its path prefix)."""
    base = urlsplit(base_url)
    parts = urlsplit(url)
    return urlunsplit((base.scheme, base.netloc, base.path.rstrip("/") + parts.path, parts.query, parts.fragment))


class TwilioHttpClient(AsyncTwilioHttpClient):
    """AsyncTwilioHttpClient that can send to a local stand-in and applies its timeout.

    Create it inside the running event loop (it opens an aiohttp session) and close() it at shutdown.
    """

    def __init__(self, *, base_url: str = "", timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        """Send one API request (to base_url when set)."""
        if self.base_url:
            url = rebase(url, self.base_url)
        headers = dict(headers or {})
        body: Any = data
        if data is not None and headers.get("Content-Type") == "application/json":
            # The Content API takes JSON; the parent would hand the dict to aiohttp as a form.
            # Unset fields (the library sends every type, most of them None) are left out.
            body = json.dumps(_without_none(data), ensure_ascii=False)
        if auth is not None:
            # The parent would pass aiohttp.BasicAuth, which aiohttp deprecates: send the header instead.
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {token}"
        return await super().request(
            method,
            url,
            params=params,
            data=body,
            headers=headers,
            auth=None,
            # The parent ignores the timeout given to its constructor (aiohttp's default is 5 minutes).
            timeout=timeout if timeout is not None else self.timeout,
            allow_redirects=allow_redirects,
        )


def _without_none(value: Any) -> Any:
    """A JSON value with its None members (at any depth) removed."""
    if isinstance(value, dict):
        return {key: _without_none(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_none(item) for item in value if item is not None]
    return value

"""Signed login links, session cookies and CSRF tokens of the web desk ([web] secret).

The tokens themselves are random (handlers.desk_login, bot.web.routes); the database keeps only
their hashes (storage.desk_auth). The signature binds a link or a cookie to this deployment's
secret, so a forged or altered one is refused before the database is asked.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from itsdangerous import BadData, URLSafeTimedSerializer

from bot.config import Settings

LOGIN_PATH = "/desk/masuk"
COOKIE = "ehumas_desk"
COOKIE_PATH = "/desk"
CSRF_FIELD = "csrf"


class DeskAuth:
    """Signs and checks what the desk hands out."""

    def __init__(self, settings: Settings) -> None:
        web = settings.web
        self._secret = web.secret.encode()
        # Separate salts: a login link is no cookie, and a cookie no link.
        self._links = URLSafeTimedSerializer(web.secret, salt="ehumas-desk-login")
        self._cookies = URLSafeTimedSerializer(web.secret, salt="ehumas-desk-session")
        self.public_url = settings.server.public_url
        self.link_lifetime = timedelta(minutes=web.login_link_minutes)
        self.session_lifetime = timedelta(hours=web.session_hours)
        # A session cookie over plain http would travel in the clear: Secure whenever the desk is https.
        self.secure_cookie = self.public_url.startswith("https://")

    def link(self, token: str) -> str:
        """The public login URL for a one-time token."""
        return f"{self.public_url}{LOGIN_PATH}/{self._links.dumps(token)}"

    def link_token(self, signed: str) -> str | None:
        """The token in a login URL's last part; None if forged, altered or older than a link lives."""
        return self._loads(self._links, signed, self.link_lifetime)

    def cookie(self, token: str) -> str:
        """The cookie value carrying a session token."""
        return str(self._cookies.dumps(token))

    def cookie_token(self, value: str) -> str | None:
        """The session token in a cookie; None if forged, altered or older than a session lives."""
        return self._loads(self._cookies, value, self.session_lifetime)

    def csrf(self, session_token: str) -> str:
        """The CSRF token of a session: forms carry it, a cross-site page cannot know it."""
        return hmac.new(self._secret, b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session_token: str, given: str) -> bool:
        """Whether a form's CSRF token belongs to this session."""
        return hmac.compare_digest(self.csrf(session_token), given)

    @staticmethod
    def _loads(serializer: URLSafeTimedSerializer, signed: str, lifetime: timedelta) -> str | None:
        try:
            value = serializer.loads(signed, max_age=int(lifetime.total_seconds()) + 1)
        except BadData:
            return None
        return value if isinstance(value, str) else None

"""Settings: one typed object loaded once from a TOML file and passed down."""

from __future__ import annotations

import ipaddress
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

# Values shipped in config.example.toml that must be replaced before talking to real services.
PLACEHOLDER = "CHANGE_ME"
# The example's Telegram ids: a deployment that keeps them would send complaints to someone's chats.
EXAMPLE_ADMIN_IDS = frozenset({100000001})
EXAMPLE_CHAT_IDS = frozenset({-1001000000000, -1001000000001, -1001000000002, -1001000000003})
# A webhook secret shorter than this is guessable (`openssl rand -hex 32` gives 64 characters).
MIN_SECRET_CHARS = 32
_LOOPBACK_HOSTS = ("localhost", "127.", "[::1]")
_ALL_INTERFACES = ("0.0.0.0", "::", "[::]", "")

_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class ConfigError(Exception):
    """A configuration file that cannot be used; the message names the file and key."""


class _Section(BaseModel):
    # Strict: "24" is not 24, and an unknown key is a typo, not something to ignore.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class BotSection(_Section):
    """[bot]: who we are and how we show things."""

    city: str = Field(min_length=1)
    ticket_prefix: str = Field(pattern=r"^[A-Z][A-Z0-9]{0,9}$")
    timezone: str = "Asia/Makassar"
    draft_expire_minutes: float = Field(default=120.0, gt=0)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The city's time zone."""
        return ZoneInfo(self.timezone)


class ServerSection(_Section):
    """[server]: where the HTTP server listens and how the outside world reaches it."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    public_url: str = Field(pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    # One log line per HTTP request; a reverse proxy that logs requests makes it redundant (and it
    # costs a quarter of the webhook's throughput: docs/BENCHMARKS.md).
    access_log: bool = True

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")


class DatabaseSection(_Section):
    """[database]: the SQLAlchemy async URL."""

    url: str = Field(pattern=r"^(sqlite\+aiosqlite|postgresql\+asyncpg)://")
    # SQLite only: how long a write waits for another writer before the webhook answers 503.
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0, le=600_000)


class TelegramSection(_Section):
    """[telegram]: the bot account and how updates arrive."""

    token: str = Field(min_length=1)
    mode: Literal["webhook", "polling"] = "webhook"
    webhook_secret: str = ""
    api_base_url: str = ""
    # Telegram's limits are per bot. The per-second one is kept by each process (with N workers,
    # give each 1/N); the per-group one is counted in the database for all of them.
    max_messages_per_second: float = Field(default=30.0, gt=0)
    max_group_messages_per_minute: float = Field(default=20.0, gt=0)
    # Connect, read and write timeout of each Bot API call; a timeout is retried by the outbox.
    timeout_seconds: float = Field(default=5.0, gt=0)

    @field_validator("webhook_secret")
    @classmethod
    def _secret_chars(cls, value: str) -> str:
        if value and not _SECRET_TOKEN.match(value):
            raise ValueError("only A-Z, a-z, 0-9, _ and - are allowed, 1 to 256 characters")
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> TelegramSection:
        if self.mode == "webhook" and not self.webhook_secret:
            raise ValueError('webhook_secret is required when mode = "webhook"')
        return self


class WhatsAppSection(_Section):
    """[whatsapp]: the Twilio account; an empty account_sid switches WhatsApp off."""

    account_sid: str = ""
    auth_token: str = ""
    from_number: str = ""
    api_base_url: str = ""
    reply_template_sid: str = ""
    # Seconds each Twilio API call may take; a timed-out send is retried by the outbox.
    timeout_seconds: float = Field(default=15.0, gt=0)
    # Kept by each process (with N workers, give each 1/N). Twilio takes 80 a second per WhatsApp
    # sender by default and queues the rest; 20 keeps up to four processes within that.
    max_messages_per_second: float = Field(default=20.0, gt=0)
    # The dialog's buttons as WhatsApp buttons (quick reply, list picker) through Twilio's Content
    # API, whose templates the bot creates itself; off: the words to type, as text.
    interactive: bool = True

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> WhatsAppSection:
        if not self.account_sid:
            return self
        if not self.auth_token:
            raise ValueError("auth_token is required when account_sid is set")
        if not re.match(r"^whatsapp:\+\d{6,15}$", self.from_number):
            raise ValueError('from_number must look like "whatsapp:+6281234567890"')
        return self

    @property
    def enabled(self) -> bool:
        """Whether WhatsApp is configured at all."""
        return bool(self.account_sid)


class OutboxSection(_Section):
    """[outbox]: how the dispatcher claims, sends and retries outgoing messages."""

    # A claimed message belongs to its worker this long; after a crash another worker resends it.
    lease_seconds: float = Field(default=60.0, ge=1)
    poll_seconds: float = Field(default=1.0, gt=0)
    max_attempts: int = Field(default=8, ge=1)
    retry_first_seconds: float = Field(default=2.0, gt=0)
    retry_max_seconds: float = Field(default=300.0, gt=0)


class FloodSection(_Section):
    """[flood]: flood control per chat (messages counted from the shared database)."""

    max_messages: int = Field(default=20, ge=1)
    window_seconds: float = Field(default=60.0, gt=0)
    # Agency and humas groups and humas admins: more, but not without end.
    staff_max_messages: int = Field(default=120, ge=1)


class RetentionSection(_Section):
    """[retention]: days after which what citizens sent is removed (0: kept for ever); see handlers.retention."""

    inbox_payload_days: int = Field(default=30, ge=0)
    inbox_days: int = Field(default=365, ge=0)
    outbox_days: int = Field(default=90, ge=0)
    photo_days: int = Field(default=365, ge=0)
    audit_days: int = Field(default=730, ge=0)

    @model_validator(mode="after")
    def _payloads_before_rows(self) -> RetentionSection:
        if self.inbox_days and (not self.inbox_payload_days or self.inbox_payload_days > self.inbox_days):
            raise ValueError("inbox_payload_days must be set and at most inbox_days (a row outlives its payload)")
        return self


class SlaSection(_Section):
    """[sla]: the answer deadline and how it is enforced."""

    answer_within_hours: float = Field(default=24.0, gt=0)
    remind_before_hours: float = Field(default=3.0, ge=0)
    # Hours after an agency's first answer after which the citizen is asked to rate it, when the
    # agency has not closed the ticket (/selesai asks at once). 0 turns the late request off.
    rate_after_hours: float = Field(default=24.0, ge=0)
    sweep_seconds: float = Field(default=60.0, gt=0)
    # After /selesai the citizen is asked "sudah beres?"; without an answer it stays closed after this many days.
    confirm_days: float = Field(default=3.0, gt=0)
    # "Belum" reopens a ticket at most this many times; after that it goes to humas.
    max_reopen: int = Field(default=2, ge=0, le=20)

    @model_validator(mode="after")
    def _reminder_before_deadline(self) -> SlaSection:
        if self.remind_before_hours >= self.answer_within_hours:
            raise ValueError("remind_before_hours must be smaller than answer_within_hours")
        return self


class DuplicatesSection(_Section):
    """[duplicates]: "already reported?" offers, and the citizen confirming a fix (issue 17)."""

    # Open complaints of the same agency received within this many days are offered.
    days: int = Field(default=14, ge=1, le=365)
    # ... within this distance of the new report's map point (when both have one).
    radius_meters: float = Field(default=250.0, gt=0, le=5000)


class CardsSection(_Section):
    """[cards]: how a ticket card reaches an agency's group."""

    # The card names the place as a link to this map; {lat} and {lon} are the point's coordinates.
    map_url: str = "https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=18/{lat}/{lon}"
    # Also send the point as a separate location message (a pin) after the card.
    location_pin: bool = False

    @field_validator("map_url")
    @classmethod
    def _map_template(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value) or "{lat}" not in value or "{lon}" not in value:
            raise ValueError("must be an http(s) address containing {lat} and {lon}")
        try:
            value.format(lat=0.0, lon=0.0)
        except (KeyError, IndexError, ValueError):
            raise ValueError("only {lat} and {lon} may appear in braces") from None
        return value


class HumasSection(_Section):
    """[humas]: the public-relations office that runs the desk."""

    admin_user_ids: list[int] = Field(default_factory=list)
    group_chat_id: int


DEFAULT_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
# A secret this short could be guessed offline from one signed link.
MIN_WEB_SECRET_CHARS = 32


class WebSection(_Section):
    """[web]: the humas web desk at public_url/desk/ (login through the bot, no passwords)."""

    enabled: bool = False
    # Signs login links and session cookies; required (32+ characters) when enabled.
    secret: str = ""
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    login_link_minutes: float = Field(default=10.0, gt=0, le=24 * 60)
    # A Leaflet tile URL template; empty: the map shows its pins on a blank background.
    map_tiles_url: str = DEFAULT_TILES

    @field_validator("map_tiles_url")
    @classmethod
    def _tile_template(cls, value: str) -> str:
        if not value:
            return value
        if not re.match(r"^https?://[^\s/]+/\S*$", value) or not all(p in value for p in ("{z}", "{x}", "{y}")):
            raise ValueError('expected an http(s) URL template with {z}, {x} and {y}, or "" for no tiles')
        return value

    @model_validator(mode="after")
    def _secret_when_enabled(self) -> WebSection:
        if self.enabled and len(self.secret) < MIN_WEB_SECRET_CHARS:
            raise _KeyError(
                "web.secret",
                f"required when enabled: at least {MIN_WEB_SECRET_CHARS} characters (openssl rand -hex 32)",
            )
        return self


class PublicSection(_Section):
    """[public]: the public "Aduan Terjawab" page at public_url/publik/ (figures per agency, nothing personal)."""

    enabled: bool = False
    # An agency with fewer complaints than this in a period is shown without a rank.
    min_reports: int = Field(default=10, ge=1)
    # Show complaint and answer texts (phone numbers, e-mail addresses, NIKs and names masked).
    show_text: bool = False
    # The service's launch, "YYYY-MM-DD": "since launch" counts from this day (city time); "": from the first complaint.
    # (A string rather than a TOML date: every tool that writes these files handles strings.)
    launch: str = ""

    @field_validator("launch")
    @classmethod
    def _iso_day(cls, value: str) -> str:
        if value:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise ValueError('expected a day as "YYYY-MM-DD", or "" for none') from None
        return value

    @property
    def launch_day(self) -> date | None:
        """The launch day, or None."""
        return date.fromisoformat(self.launch) if self.launch else None


# An Open311 API key shorter than this could be guessed.
MIN_OPEN311_KEY_CHARS = 16


class Open311Section(_Section):
    """[open311]: the Open311 GeoReport v2 API at public_url/open311/v2/ (read by anyone, written with a key)."""

    enabled: bool = False
    # Keys that may POST requests (one per partner app); none: the API is read-only.
    api_keys: list[str] = Field(default_factory=list)
    # The jurisdiction_id clients may send (e.g. "kendarikota.go.id"); empty: any is accepted.
    jurisdiction_id: str = ""
    # Requests one key may file in any hour (a leaked key or a looping client must not flood the
    # agencies' groups); 0: no limit.
    max_requests_per_hour: int = Field(default=60, ge=0)

    @field_validator("api_keys")
    @classmethod
    def _long_keys(cls, value: list[str]) -> list[str]:
        if any(len(key) < MIN_OPEN311_KEY_CHARS for key in value):
            raise ValueError(f"each key needs at least {MIN_OPEN311_KEY_CHARS} characters (openssl rand -hex 16)")
        return value


class OpdSection(_Section):
    """[[opd]]: one agency, its Telegram group and the words that route complaints to it."""

    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,19}$")
    name: str = Field(min_length=1)
    telegram_chat_id: int
    keywords: list[str] = Field(min_length=1)
    categories: dict[str, list[str]] = Field(default_factory=dict)
    exclude: list[str] = Field(default_factory=list)
    # Words that count only with one of `problems` nearby ("jalan" + "berlubang").
    needs_problem: list[str] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)
    # Words after which this agency's words are an attachment or proof ("lampirkan foto KK").
    proof: list[str] = Field(default_factory=list)

    @field_validator("keywords", "exclude", "needs_problem", "problems", "proof")
    @classmethod
    def _no_blank_words(cls, value: list[str]) -> list[str]:
        if any(not word.strip() for word in value):
            raise ValueError("words must not be empty")
        return value


class OtherSection(_Section):
    """[[other]]: a matter that is no agency's (electricity, traffic...): complaints about it go to humas."""

    name: str = Field(min_length=1)
    words: list[str] = Field(min_length=1)

    @field_validator("words")
    @classmethod
    def _no_blank_words(cls, value: list[str]) -> list[str]:
        if any(not word.strip() for word in value):
            raise ValueError("words must not be empty")
        return value


class MetricsSection(_Section):
    """[metrics]: who may read GET /metrics (nobody by default)."""

    # A bearer token (Authorization: Bearer ...), compared in constant time; empty: none accepted.
    token: str = ""
    # Client addresses or networks allowed without a token ("10.0.0.5", "10.0.0.0/24"). Empty: none,
    # not even 127.0.0.1 (a reverse proxy on this machine would otherwise open it to everyone).
    allow: list[str] = Field(default_factory=list)
    # The `process` label of this process's counters; empty: host name and process id.
    process: str = Field(default="", max_length=64)

    @field_validator("token")
    @classmethod
    def _long_token(cls, value: str) -> str:
        if value and len(value) < MIN_SECRET_CHARS:
            raise ValueError(f"use at least {MIN_SECRET_CHARS} random characters (openssl rand -hex 32)")
        return value

    @field_validator("allow")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value


class LogSection(_Section):
    """[log]: how the bot (and uvicorn) write their log lines."""

    # "text": one readable line each; "json": one JSON object per line, for a log collector.
    format: Literal["text", "json"] = "text"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class RoutingSection(_Section):
    """[routing]: the learned second opinion that routing consults besides the [[opd]] words."""

    # "builtin": the model shipped with the bot (trained on its labelled messages); "off": the
    # words alone; or the path of a model `ehumas routing train` made from this desk's corrections.
    model: str = "builtin"

    @field_validator("model")
    @classmethod
    def _existing_file(cls, value: str) -> str:
        if value not in ("builtin", "off") and not Path(value).is_file():
            raise ValueError(f'no such file: {value!r} (or "builtin", or "off")')
        return value


class Settings(_Section):
    """The whole configuration of one deployment."""

    bot: BotSection
    server: ServerSection
    database: DatabaseSection
    telegram: TelegramSection
    whatsapp: WhatsAppSection = Field(default_factory=WhatsAppSection)
    sla: SlaSection = Field(default_factory=SlaSection)
    outbox: OutboxSection = Field(default_factory=OutboxSection)
    flood: FloodSection = Field(default_factory=FloodSection)
    web: WebSection = Field(default_factory=WebSection)
    cards: CardsSection = Field(default_factory=CardsSection)
    duplicates: DuplicatesSection = Field(default_factory=DuplicatesSection)
    retention: RetentionSection = Field(default_factory=RetentionSection)
    public: PublicSection = Field(default_factory=PublicSection)
    open311: Open311Section = Field(default_factory=Open311Section)
    metrics: MetricsSection = Field(default_factory=MetricsSection)
    log: LogSection = Field(default_factory=LogSection)
    routing: RoutingSection = Field(default_factory=RoutingSection)
    humas: HumasSection
    opd: list[OpdSection] = Field(min_length=1)
    other: list[OtherSection] = Field(default_factory=list)

    @model_validator(mode="after")
    def _distinct_agencies(self) -> Settings:
        seen_codes: set[str] = set()
        seen_chats: dict[int, str] = {self.humas.group_chat_id: "humas.group_chat_id"}
        for index, opd in enumerate(self.opd):
            if opd.code in seen_codes:
                raise _KeyError(f"opd[{index}].code", f"duplicate OPD code {opd.code!r}")
            seen_codes.add(opd.code)
            if opd.telegram_chat_id in seen_chats:
                raise _KeyError(
                    f"opd[{index}].telegram_chat_id",
                    f"chat id {opd.telegram_chat_id} is already used by {seen_chats[opd.telegram_chat_id]}",
                )
            seen_chats[opd.telegram_chat_id] = f"opd {opd.code}"
        return self

    def placeholders(self) -> list[str]:
        """Key paths still holding the example's placeholder secrets."""
        found = []
        if self.telegram.token == PLACEHOLDER:
            found.append("telegram.token")
        if self.telegram.webhook_secret == PLACEHOLDER:
            found.append("telegram.webhook_secret")
        if self.whatsapp.auth_token == PLACEHOLDER:
            found.append("whatsapp.auth_token")
        if self.web.enabled and PLACEHOLDER in self.web.secret:
            found.append("web.secret")
        return found

    def security_review(self) -> tuple[list[str], list[str]]:
        """What is unsafe (errors: `run` refuses) and what deserves a second look (warnings), by key path."""
        errors: list[str] = []
        warnings: list[str] = []
        secret = self.telegram.webhook_secret
        if self.telegram.mode == "webhook" and len(secret) < MIN_SECRET_CHARS:
            errors.append(
                f"telegram.webhook_secret: {len(secret)} characters; use at least {MIN_SECRET_CHARS} random ones "
                "(openssl rand -hex 32)"
            )
        if EXAMPLE_ADMIN_IDS & set(self.humas.admin_user_ids):
            errors.append("humas.admin_user_ids: still the example's id; put the humas admins' Telegram user ids")
        if self.humas.group_chat_id in EXAMPLE_CHAT_IDS:
            errors.append("humas.group_chat_id: still the example's id; put the humas group's chat id")
        for index, opd in enumerate(self.opd):
            if opd.telegram_chat_id in EXAMPLE_CHAT_IDS:
                errors.append(f"opd[{index}].telegram_chat_id: still the example's id; put {opd.code}'s group chat id")
        url = self.server.public_url
        host = url.split("://", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1]
        loopback = host.startswith(_LOOPBACK_HOSTS)
        if not url.startswith("https://"):
            if loopback:
                warnings.append(f"server.public_url: {url} is plain http: only for a trial on this machine")
            else:
                errors.append(f"server.public_url: {url} is not https; Telegram and Twilio must call an https address")
        if self.server.host in _ALL_INTERFACES:
            warnings.append(
                f"server.host: {self.server.host or '(empty)'} listens on every interface; bind 127.0.0.1 and let a "
                "reverse proxy (https) forward to it, or make sure one stands in front"
            )
        if not self.humas.admin_user_ids:
            warnings.append("humas.admin_user_ids: empty; nobody can run the humas commands")
        for section, base in (("telegram", self.telegram.api_base_url), ("whatsapp", self.whatsapp.api_base_url)):
            if base:
                warnings.append(f"{section}.api_base_url: {base} gets the credentials; leave it empty outside tests")
        return errors, warnings

    def summary(self) -> str:
        """One line describing this configuration, without secrets."""
        backend = self.database.url.split("+", 1)[0]
        channels = "Telegram" + (" + WhatsApp" if self.whatsapp.enabled else "")
        codes = ", ".join(opd.code for opd in self.opd)
        return (
            f"{self.bot.city}: {len(self.opd)} OPD ({codes}), {channels} ({self.telegram.mode}), "
            f"{backend} database, deadline {self.sla.answer_within_hours:g} h"
            + (", web desk on" if self.web.enabled else "")
        )


class _KeyError(ValueError):
    """A cross-field problem that belongs to one specific key path."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def _format_location(loc: tuple[int | str, ...]) -> str:
    """Turn pydantic's ('opd', 1, 'code') into the TOML-ish path opd[1].code."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "(top level)"


def _describe(error: dict[str, Any], file: str) -> str:
    """One readable line for one pydantic error."""
    path = _format_location(tuple(error["loc"]))
    kind = error["type"]
    if kind == "missing":
        what = "missing (required)"
    elif kind == "extra_forbidden":
        what = "unknown key (check the spelling against config.example.toml)"
    else:
        what = error["msg"].removeprefix("Value error, ")
        if "input" in error and kind not in ("value_error",) and not isinstance(error["input"], dict):
            what += f" (got {error['input']!r})"
    return f"{file}: {path}: {what}"


def parse_settings(data: dict[str, Any], source: str = "<config>") -> Settings:
    """Validate already-parsed TOML data into Settings, or raise ConfigError."""
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            cause = error.get("ctx", {}).get("error")
            if isinstance(cause, _KeyError):
                lines.append(f"{source}: {cause.path}: {cause.message}")
            else:
                lines.append(_describe(dict(error), source))
        raise ConfigError("\n".join(lines)) from None


def load_settings(path: str | Path) -> Settings:
    """Read and validate a TOML configuration file, or raise ConfigError."""
    file = Path(path)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{file}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{file}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    return parse_settings(data, str(file))

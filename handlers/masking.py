"""Masking for everything the public sees (the /publik/ page, the Open311 API): pure functions, no I/O.

What a citizen or a staff member wrote may hold a phone number, an e-mail address, a NIK (the
16-digit identity number), an @username or a person's name. The public page and the API show texts
only through `mask_text`, and points only through `round_point` (about 100 m).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from handlers.texts import public as texts

# Three decimals of a degree: about 110 m north-south, a little less east-west near the equator.
POINT_DECIMALS = 3
# Names shorter than this are not masked on their own (they match too many ordinary words).
MIN_NAME_CHARS = 3

# A NIK: exactly 16 digits, possibly grouped by spaces, dots or dashes (KTP numbers are read out in groups).
_NIK = re.compile(r"(?<![0-9])[0-9](?:[ .\-]?[0-9]){15}(?![0-9])")
# A phone number: +62 / 62 / 0 followed by 8 to 13 more digits, with any of " .-()" between them.
_PHONE = re.compile(r"(?<![0-9+])(?:\+\s?62|62|0)(?:[ .\-()]{0,2}[0-9]){8,13}(?![0-9])")
# Any other long run of digits (an account number, an unusual phone format): 9 or more digits.
_LONG_NUMBER = re.compile(r"(?<![0-9])[0-9](?:[ .\-]?[0-9]){8,}(?![0-9])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# A messenger handle (@budi_kdi) or a chat link (t.me/budi, wa.me/62...).
_HANDLE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{3,32}\b|\b(?:t|wa)\.me/\S+", re.IGNORECASE)
# A name after a title or an introduction: "Pak Budi", "Ibu Siti Aminah", "nama saya Andi", "a.n. Rudi".
# The title in any case; the name capitalised (a lower-case word after "pak" is no name).
_TITLED_NAME = re.compile(
    r"(?<!\w)(?P<title>(?i:pak|bu|bapak|ibu|sdr|sdri|saudara|saudari|mas|mbak|kak|bang|"
    r"a\.n\.?|an\.|atas nama|nama saya|namaku|saya bernama|nama))\s+"
    r"(?P<name>[A-Z][a-z'’]+(?:\s+[A-Z][a-z'’]+){0,3})"
)
# A coordinate written with more than three decimals (-3.967512): rounded like a point.
_FINE_DEGREES = re.compile(r"(?<![0-9.])(-?[0-9]{1,3}\.[0-9]{3})[0-9]+")


def mask_nik(text: str) -> str:
    """`text` with every 16-digit NIK replaced."""
    return _NIK.sub(texts.MASK_NIK, text)


def mask_phones(text: str) -> str:
    """`text` with every phone number (and any other run of 9+ digits) replaced."""
    return _LONG_NUMBER.sub(texts.MASK_NUMBER, _PHONE.sub(texts.MASK_PHONE, text))


def mask_emails(text: str) -> str:
    """`text` with every e-mail address replaced."""
    return _EMAIL.sub(texts.MASK_EMAIL, text)


def mask_handles(text: str) -> str:
    """`text` with every @username and t.me / wa.me link replaced."""
    return _HANDLE.sub(texts.MASK_HANDLE, text)


def mask_names(text: str, known: Iterable[str] = ()) -> str:
    """`text` with the names it introduces (a title, "nama saya") and the `known` names replaced."""

    def titled(match: re.Match[str]) -> str:
        return f"{match.group('title')} {texts.MASK_NAME}"

    masked = _TITLED_NAME.sub(titled, text)
    words = sorted(
        {part for name in known for part in re.split(r"\s+", name.strip()) if len(part) >= MIN_NAME_CHARS},
        key=len,
        reverse=True,
    )
    for word in words:
        masked = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", texts.MASK_NAME, masked, flags=re.IGNORECASE)
    return masked


def mask_text(text: str, known_names: Iterable[str] = ()) -> str:
    """A text fit for the public: NIKs, phone numbers, e-mail addresses, handles and names masked.

    The order matters: an e-mail address is masked before the handle inside it, a NIK before the
    phone pattern would take its first digits, a fine coordinate before its digits look
    like a number.
    """
    masked = mask_emails(text)
    masked = mask_handles(masked)
    masked = mask_nik(masked)
    masked = mask_coordinates(masked)
    masked = mask_phones(masked)
    return mask_names(masked, known_names)


def mask_coordinates(text: str) -> str:
    """`text` with every coordinate finer than about 100 m cut to three decimals."""
    return _FINE_DEGREES.sub(r"\1", text)


def round_coordinate(value: float) -> float:
    """A latitude or longitude rounded to about 100 m (3 decimals)."""
    return round(value, POINT_DECIMALS)


def round_point(lat: float | None, lon: float | None) -> tuple[float, float] | None:
    """A point rounded to about 100 m, or None when the complaint has none."""
    if lat is None or lon is None:
        return None
    return round_coordinate(lat), round_coordinate(lon)

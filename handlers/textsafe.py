"""Text from outside, made safe to store and to show: control characters out, sizes as Telegram counts.

Messengers pass through what people type, and webhook payloads may carry what no messenger would
(NUL, lone surrogates). PostgreSQL refuses NUL in text columns and UTF-8 cannot encode a lone
surrogate; bidirectional overrides can make a card read backwards. Telegram limits a message's
length in UTF-16 code units (an emoji counts two), not in Python characters.
"""

from __future__ import annotations

import re
import unicodedata

# C0 controls except tab and newline, DEL, C1 controls, and lone surrogates.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
# Invisible format characters (Unicode category Cf) are dropped: bidirectional embeddings,
# overrides and isolates, LRM/RLM, the Arabic letter mark, zero-width spaces, soft hyphens, BOMs,
# tags... They can make a card read backwards or hide text. Emoji need two of them: the zero-width
# joiner (👨‍👩‍👧) and, in a subregion flag (🏴 + tags + cancel tag), the tags. (VS16, U+FE0F, is a
# mark, not a format character: it stays anyway.)
ZWJ = "\u200d"
_FLAG_TAGS = re.compile("\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f")


def _visible(text: str) -> str:
    """`text` without format characters other than the zero-width joiner."""
    return "".join(char for char in text if char == ZWJ or unicodedata.category(char) != "Cf")


def strip_format(text: str) -> str:
    """`text` without invisible format characters, except those emoji are made of."""
    if text.isascii():
        return text  # the common case: no format character is ASCII
    if "\U0001f3f4" not in text:
        return _visible(text)
    parts: list[str] = []
    last = 0
    for flag in _FLAG_TAGS.finditer(text):
        parts += [_visible(text[last : flag.start()]), flag.group()]
        last = flag.end()
    parts.append(_visible(text[last:]))
    return "".join(parts)


def clean(text: str) -> str:
    """The text without characters that cannot be stored or would mislead a reader."""
    if not isinstance(text, str):
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return strip_format(_UNSAFE.sub("", text))


_ASCII_NUMBER = re.compile("[0-9]{1,18}")
# The largest value a signed 64-bit column holds (PostgreSQL's bigint).
INT64_MAX = 2**63 - 1


def ascii_int(text: str) -> int | None:
    """The non-negative number `text` is, in ASCII digits only and within 64 bits; else None.

    str.isdigit() and int() take any script's digits and superscripts ("²", "٣", "３"): a number
    that reaches the database or a ticket lookup must be one a person can read as such.
    """
    if not isinstance(text, str) or not _ASCII_NUMBER.fullmatch(text):
        return None
    value = int(text)
    return value if value <= INT64_MAX else None


def utf16_len(text: str) -> int:
    """The length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def cut_utf16(text: str, limit: int) -> str:
    """The longest prefix of text that is at most `limit` UTF-16 code units (never half an emoji)."""
    if len(text) <= limit // 2 or utf16_len(text) <= limit:
        return text
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text


# Where to cut, best first: between paragraphs, after a sentence or at a line end, between words.
_BOUNDARIES = (re.compile(r"\n\s*\n"), re.compile(r"(?<=[.!?…])\s+|\n"), re.compile(r"\s+"))


def split_utf16(text: str, limit: int) -> list[str]:
    """Split text into parts of at most `limit` UTF-16 units, at the most natural boundary."""
    text = text.strip()
    parts: list[str] = []
    while utf16_len(text) > limit:
        window = cut_utf16(text, limit)
        # A boundary in the first half would leave a needlessly short part: try a finer kind.
        floor = len(window) // 2
        cut = len(window)
        for boundary in _BOUNDARIES:
            starts = [m.start() for m in boundary.finditer(window) if m.start() > floor]
            if starts:
                cut = starts[-1]
                break
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text or not parts:
        parts.append(text)
    return parts

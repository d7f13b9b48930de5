"""Text from outside, made safe to store and to show: control characters out, sizes as Telegram counts.

Messengers pass through what people type, and webhook payloads may carry what no messenger would
(NUL, lone surrogates). PostgreSQL refuses NUL in text columns and UTF-8 cannot encode a lone
surrogate; bidirectional overrides can make a card read backwards. Telegram limits a message's
length in UTF-16 code units (an emoji counts two), not in Python characters.
"""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, C1 controls, the explicit bidi embeddings and overrides
# (LRE, RLE, PDF, LRO, RLO), and lone surrogates.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\ud800-\udfff]")


def clean(text: str) -> str:
    """The text without characters that cannot be stored or would mislead a reader."""
    if not isinstance(text, str):
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNSAFE.sub("", text)


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

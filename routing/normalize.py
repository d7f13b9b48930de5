"""Normalization of informal Indonesian chat text into comparable lower-case tokens."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Invisible characters that people (and keyboards) paste into words: deleting them, rather than
# treating them as spaces, keeps "sam\u200bpah" one word.
_INVISIBLE = dict.fromkeys(
    [0x00AD, 0x180E, 0xFEFF, *range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2070)]
)
# Dash look-alikes join words the way "-" does ("gorong–gorong").
_DASHES = dict.fromkeys([0x2010, 0x2011, 0x2012, 0x2013, 0x2212, 0xFE63, 0xFF0D], "-")
_TRANSLATE = {**_INVISIBLE, **_DASHES}

# A word: letters and digits, possibly joined by hyphens ("gorong-gorong", "e-ktp", "wua-wua").
_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
# "gorong2", "anak2nya": the 2 writes a reduplicated word.
_REDUPLICATED = re.compile(r"^([^\W\d_]{2,})2(nya|an)?$")
_REDUPLICATED_SUFFIXES = frozenset({"nya", "an"})
_LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
# Three or more of the same letter are emphasis ("tolonggg"); two can be real spelling ("maaf").
_STRETCHED = re.compile(r"([^\W\d_])\1{2,}")
_DOUBLED = re.compile(r"([^\W\d_])\1+")

# Chat abbreviations and spelling variants. Only general language belongs here: words that
# route a complaint are lexicon data in the settings, where a city can change them.
ABBREVIATIONS: dict[str, str] = {
    "yg": "yang",
    "dgn": "dengan",
    "dg": "dengan",
    "dngn": "dengan",
    "jln": "jalan",
    "jl": "jalan",
    "jlan": "jalan",
    "jlnan": "jalanan",
    "blm": "belum",
    "blum": "belum",
    "lom": "belum",
    "udh": "sudah",
    "udah": "sudah",
    "sdh": "sudah",
    "sudh": "sudah",
    "dah": "sudah",
    "uda": "sudah",
    "gk": "tidak",
    "gak": "tidak",
    "ga": "tidak",
    "g": "tidak",
    "nggak": "tidak",
    "ngga": "tidak",
    "ngak": "tidak",
    "enggak": "tidak",
    "engga": "tidak",
    "tdk": "tidak",
    "tak": "tidak",
    "krn": "karena",
    "karna": "karena",
    "krna": "karena",
    "krena": "karena",
    "ktp-el": "e-ktp",
    "ktpel": "e-ktp",
    "ektp": "e-ktp",
    "e-ktp": "e-ktp",
    "dpn": "depan",
    "blkg": "belakang",
    "blk": "belakang",
    "dkt": "dekat",
    "sblh": "sebelah",
    "rmh": "rumah",
    "hr": "hari",
    "bln": "bulan",
    "thn": "tahun",
    "mgg": "minggu",
    "mg": "minggu",
    "bgt": "banget",
    "bngt": "banget",
    "sy": "saya",
    "sya": "saya",
    "aq": "aku",
    "ak": "aku",
    "tp": "tapi",
    "tpi": "tapi",
    "sm": "sama",
    "jg": "juga",
    "aja": "saja",
    "bs": "bisa",
    "bsa": "bisa",
    "utk": "untuk",
    "untk": "untuk",
    "dr": "dari",
    "dri": "dari",
    "dlm": "dalam",
    "pd": "pada",
    "tlg": "tolong",
    "tlong": "tolong",
    "mhn": "mohon",
    "kmrn": "kemarin",
    "kemaren": "kemarin",
    "org": "orang",
    "lg": "lagi",
    "msh": "masih",
    "skrg": "sekarang",
    "skrang": "sekarang",
    "bnyk": "banyak",
    "byk": "banyak",
    "kpn": "kapan",
    "gmn": "bagaimana",
    "gimana": "bagaimana",
    "bgmn": "bagaimana",
    "knp": "kenapa",
    "napa": "kenapa",
    "trs": "terus",
    "trus": "terus",
    "tsb": "tersebut",
    "sgt": "sangat",
    "skali": "sekali",
    "bener": "benar",
    "bnr": "benar",
    "klo": "kalau",
    "kalo": "kalau",
    "kl": "kalau",
    "smpe": "sampai",
    "sampe": "sampai",
    "ampe": "sampai",
    "bpk": "bapak",
    "lrg": "lorong",
    "kel": "kelurahan",
    "kec": "kecamatan",
    "ank": "anak",
    "pdhl": "padahal",
    "spt": "seperti",
    "kyk": "kayak",
    "kek": "kayak",
    "kaya": "kayak",
    "sdg": "sedang",
    "lgi": "lagi",
    "jd": "jadi",
    "jdi": "jadi",
    "dtg": "datang",
    "dpt": "dapat",
}

# Everyday words one letter away from a routing word: never taken for its typo ("jualan" is not
# "jalan", "pusing" is not "puing", "pembayaran" is not "pembakaran").
KNOWN_WORDS = frozenset(
    {
        "jualan",
        "perumahan",
        "tindak",
        "sepanjang",
        "tepat",
        "pulang",
        "berkas",
        "pembayaran",
        "dibayar",
        "pusing",
        "berisi",
        "pekerja",
        "ditambah",
        "whole",
        "jalani",
        "kebakaran",
        "sumbangan",
        "resek",
        "rese",
    }
)

# Greetings and forms of address after which "kk" is "kakak" (a polite "you"), not a family card.
_KAKAK_BEFORE = frozenset(
    _DOUBLED.sub(r"\1", word)
    for word in (
        "halo",
        "hai",
        "hi",
        "pagi",
        "siang",
        "sore",
        "malam",
        "permisi",
        "maaf",
        "makasih",
        "terima",
        "kasih",
        "tabe",
        "assalamualaikum",
        "punten",
    )
)
_KAKAK_AFTER = frozenset({"admin", "min", "mimin", "humas", "cs"})


@lru_cache(maxsize=65536)
def _word_tokens(word: str) -> tuple[str, ...]:
    """Normalize one lower-case word into zero or more tokens (cached: chat vocabulary repeats)."""
    redup = _REDUPLICATED.match(word)
    if redup:
        base = _single(redup.group(1))
        return (f"{base}-{base}{redup.group(2) or ''}",)
    if word in ABBREVIATIONS:
        return (ABBREVIATIONS[word],)
    if "-" in word:
        parts = word.split("-")
        if all(part == parts[0] for part in parts):
            base = _single(parts[0])
            return (f"{base}-{base}",)
        if len(parts) == 2 and parts[1].startswith(parts[0]) and parts[1][len(parts[0]) :] in _REDUPLICATED_SUFFIXES:
            # "gorong-gorongnya", "sampah-sampahan": a reduplicated word with a suffix.
            base = _single(parts[0])
            return (f"{base}-{base}{parts[1][len(parts[0]) :]}",)
        out: list[str] = []
        for part in parts:
            out.extend(_word_tokens(part))
        return tuple(out)
    out = []
    for piece in _LETTER_DIGIT.split(word):
        if piece:
            out.append(_single(piece))
    return tuple(out)


def _single(piece: str) -> str:
    """Squeeze stretched letters, then expand a chat abbreviation."""
    piece = _STRETCHED.sub(r"\1", piece)
    return ABBREVIATIONS.get(piece, piece)


def lowered(text: str) -> str:
    """A text compatibility-normalised, without invisible characters, with plain dashes, lower-case."""
    return lowered_and_translated(text)[0]


def lowered_and_translated(text: str) -> tuple[str, bool]:
    """lowered(text), and whether removing invisible characters or plain dashes changed it (if not, it
    is also the text merely compatibility-normalised and lower-cased)."""
    if text.isascii():
        # Neither NFKC nor the translation table changes ASCII: skip both (a third of tokens()' time).
        return text.lower(), False
    compatible = unicodedata.normalize("NFKC", text)
    translated = compatible.translate(_TRANSLATE)
    return translated.lower(), translated != compatible


@lru_cache(maxsize=65536)
def chunk_tokens(chunk: str) -> tuple[str, ...]:
    """The tokens of one whitespace-free piece of lowered() text, before context_tokens() (cached)."""
    # A word never spans whitespace, so a text's tokens are its pieces' tokens one after the other;
    # a running desk sees the same pieces again and again ("sampah", "jln,", "tlg").
    raw: list[str] = []
    for word in _WORD.findall(chunk):
        raw.extend(_word_tokens(word))
    return tuple(raw)


# Tokens whose meaning depends on their neighbours (context_tokens()).
CONTEXTUAL = frozenset({"kk", "el", "e"})


def tokens(text: str) -> list[str]:
    """The normalized tokens of a text (the words of `normalize(text)`)."""
    raw: list[str] = []
    for chunk in lowered(text).split():
        raw.extend(chunk_tokens(chunk))
    return context_tokens(raw)


def context_tokens(raw: list[str]) -> list[str]:
    """Rewrite abbreviations whose meaning depends on their neighbours."""
    if CONTEXTUAL.isdisjoint(raw):
        return raw
    out: list[str] = []
    last = len(raw) - 1
    i = 0
    while i <= last:
        word = raw[i]
        nxt = raw[i + 1] if i < last else ""
        if (word == "ktp" and nxt == "el") or (word == "e" and nxt == "ktp"):
            out.append("e-ktp")
            i += 2
            continue
        if word == "kk":
            prev = _DOUBLED.sub(r"\1", out[-1]) if out else ""
            if nxt in _KAKAK_AFTER or prev in _KAKAK_BEFORE:
                out.append("kakak")
            else:
                out.extend(("kartu", "keluarga"))
            i += 1
            continue
        out.append(word)
        i += 1
    return out


def normalize(text: str) -> str:
    """Lower-case, de-abbreviated, space-separated form of informal Indonesian text."""
    return " ".join(tokens(text))

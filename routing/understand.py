"""What a message means in its context: a pure decision, made before the desk acts on it."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz.distance import Levenshtein

from routing import phrases


class State(StrEnum):
    """Where the conversation stands when a message arrives."""

    IDLE = "idle"
    AWAITING_RATING = "awaiting_rating"
    AWAITING_LOCATION = "awaiting_location"
    AWAITING_PHOTO = "awaiting_photo"
    CONFIRMING = "confirming"
    CONFIRMING_LOCATION = "confirming_location"
    CLERK_GROUP = "clerk_group"


class Meaning(StrEnum):
    """What a message asks the desk to do."""

    COMPLAINT = "complaint"
    ADDITION = "addition"
    STATUS = "status"
    DISPUTE = "dispute"
    RATING = "rating"
    THANKS = "thanks"
    GREETING = "greeting"
    SMALLTALK = "smalltalk"
    HELP = "help"
    CANCEL = "cancel"
    YES = "yes"
    NO = "no"
    SKIP = "skip"
    EDIT = "edit"
    LOCATION = "location"
    UNCLEAR = "unclear"
    ANSWER = "answer"
    LIST = "list"
    CHATTER = "chatter"


@dataclass(frozen=True)
class Context:
    """What the desk knows when the message arrives."""

    state: State
    # The citizen's tickets still open (unanswered or answered, not closed), newest last.
    open_tickets: tuple[int, ...] = ()
    # Of those, the ones an agency has answered (a complaint about them is a dispute).
    answered_tickets: tuple[int, ...] = ()
    # The ticket whose rating is awaited.
    rating_for: int | None = None
    ticket_prefix: str = "KDI"
    # The agency each open ticket is with (None: humas), and the one the message itself would be
    # routed to (None when unsure): a message about garbage is no addition to a KTP ticket.
    ticket_agencies: tuple[tuple[int, str | None], ...] = ()
    message_agency: str | None = None


@dataclass(frozen=True)
class Understanding:
    """The meaning of one message, with what it refers to."""

    meaning: Meaning
    ticket: int | None = None
    stars: int | None = None
    # The message without its ticket reference and lead words ("tambahan untuk KDI-0001: ...").
    rest: str = ""


# -- reading a message ------------------------------------------------------------------------------

_SQUEEZE = re.compile(r"([a-z])\1{2,}")
_TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_STARS = re.compile(r"[⭐🌟★]")
_LAUGHTER = frozenset("hehe haha hihi wkwk wkwkwk xixi lol".split())
# A shared point typed as "lat, lon".
_COORDINATES = re.compile(r"-?\d{1,2}\.\d{3,}\s*,\s*-?\d{1,3}\.\d{3,}")
# Numbers standing alone ("4", "4/5"), not inside a word ("apa2").
_ASCII_DIGITS = re.compile(r"(?<![A-Za-z0-9])[0-9]+(?![A-Za-z0-9])")


@dataclass(frozen=True)
class _Text:
    """A message read once: its normalised form and words."""

    raw: str
    flat: str  # lower case, repeated letters squeezed, punctuation as spaces, one space between words
    words: tuple[str, ...]

    @classmethod
    def read(cls, text: str) -> _Text:
        """Normalise: NFKC, lower case, "yaaa" -> "ya", punctuation to spaces."""
        lowered = unicodedata.normalize("NFKC", text).lower()
        lowered = _SQUEEZE.sub(r"\1", lowered)
        words = tuple(phrases.ABBREVIATIONS.get(w, w) for w in _TOKEN.findall(lowered))
        return cls(text, " " + " ".join(words) + " ", words)

    def has(self, phrase: str) -> bool:
        """Whether the phrase occurs as whole words."""
        return f" {phrase} " in self.flat

    def has_any(self, candidates: tuple[str, ...] | frozenset[str]) -> bool:
        """Whether any phrase occurs as whole words."""
        return any(f" {p} " in self.flat for p in candidates)

    def content(self) -> list[str]:
        """The words that are not greetings or particles addressing someone."""
        return [w for w in self.words if w not in phrases.PARTICLES and w not in phrases.GREETING]


# Words people use as themselves: never read as a typo of another.
_KNOWN = (
    phrases.YES
    | phrases.CANCEL
    | phrases.SKIP
    | phrases.NO
    | phrases.EDIT
    | phrases.GREETING
    | phrases.PARTICLES
    | phrases.THANKS
    | phrases.SMALLTALK
    | phrases.LATER
    | phrases.GO_ON
    | phrases.PROBLEM_WORDS
    | frozenset(phrases.ABBREVIATIONS.values())
)


def _typo_of(word: str, vocabulary: frozenset[str]) -> bool:
    """Whether a word is in the vocabulary, allowing one typo in words of five letters or more."""
    if word in vocabulary:
        return True
    if word in _KNOWN:
        return False  # a real word of its own ("nanti" is not a typo of "ganti")
    # Stretched words ("yaa", "okee", "kiriim") are the same word.
    single = re.sub(r"([a-z])\1", r"\1", word)
    if single != word and single in vocabulary:
        return True
    if len(word) < 4:
        return False
    # One typo is safe only against words of five letters or more ("kirm" is kirim, "btal" is not "bal").
    return any(
        len(v) >= 5 and abs(len(word) - len(v)) <= 1 and Levenshtein.distance(word, v, score_cutoff=1) <= 1
        for v in vocabulary
    )


def _only(text: _Text, vocabulary: frozenset[str], phrase_list: tuple[str, ...] = ()) -> bool:
    """Whether the message says nothing but these words (with particles and greetings around them)."""
    if not text.words:
        return False
    flat = text.flat
    for phrase in phrase_list:
        flat = flat.replace(f" {phrase} ", " ")
    rest = [w for w in flat.split() if w not in phrases.PARTICLES]
    if not rest:
        return flat.strip() != text.flat.strip() or not text.words
    return all(_typo_of(w, vocabulary) for w in rest)


# -- ticket numbers -------------------------------------------------------------------------------------

_REFERENCE_WORDS = r"(?:tiket|ticket|no|nomor|nomer|nmr|laporan|aduan|lap|complaint|report)"


def find_ticket(text: str, context: Context) -> tuple[int | None, str]:
    """The ticket a message names, and the message without that reference.

    KDI-0042, kdi 42, KDI42, #KDI-42 always count; "#42", "no 42", "tiket 0042" only when 42 is one
    of the citizen's own tickets (or in a clerk's group), so a house number is not taken for a ticket.
    Only ASCII digits count.
    """
    prefix = re.escape(context.ticket_prefix)
    full = re.search(rf"(?i)#?\b{prefix}[\s\-_.#:]*0*([0-9]{{1,9}})\b", text)
    if full:
        return int(full.group(1)) or None, (text[: full.start()] + text[full.end() :]).strip()
    loose = re.search(rf"(?i)(?:#\s*|\b{_REFERENCE_WORDS}\.?\s*(?:#\s*)?)0*([0-9]{{1,9}})\b", text)
    if loose:
        number = int(loose.group(1))
        known = set(context.open_tickets) | set(context.answered_tickets)
        if context.rating_for is not None:
            known.add(context.rating_for)
        if number and (number in known or context.state == State.CLERK_GROUP):
            return number, (text[: loose.start()] + text[loose.end() :]).strip()
    return None, text.strip()


# -- pieces of meaning ----------------------------------------------------------------------------------


def _stars(text: _Text) -> int | None:
    """A rating 1-5 given as a digit, a number word, stars, or a word like "bagus"."""
    star_count = len(_STARS.findall(text.raw))
    if 1 <= star_count <= 5:
        return star_count
    digits = [int(d) for d in _ASCII_DIGITS.findall(text.raw)]  # ASCII only, as ticket numbers
    small = [d for d in digits if 1 <= d <= 5]
    if digits:
        # "4/5" and "5 dari 5" name the scale too: the first number is the rating.
        return small[0] if small and digits[0] == small[0] else None
    for word, value in phrases.NUMBER_WORDS.items():
        if text.has(word):
            return value
    for phrase, value in phrases.RATING_PHRASES:
        if text.has(phrase):
            return value
    return None


def _is_location(text: _Text) -> bool:
    """Whether a text can serve as a location: it names a place or a kind of place."""
    words = [w for w in text.words if w not in phrases.PARTICLES]
    if not words:
        return False
    if any(w in phrases.PLACE_WORDS for w in words):
        return True
    named = [w for w in words if w in phrases.PLACE_NAMES or any(part in phrases.PLACE_NAMES for part in w.split("-"))]
    if named and not all(w in phrases.VAGUE_PLACES for w in named):
        return True
    # A capitalised name of two words or more ("Perumahan Graha Asri") reads as an address.
    capitalised = re.findall(r"\b[A-Z][a-z]+(?:[- ][A-Z][a-z]+)+\b", text.raw)
    return bool(capitalised) and len(words) <= 8


def _is_problem(text: _Text) -> bool:
    """Whether a text reads like a report of a problem (a new complaint)."""
    content = text.content()
    if len(content) < 2:
        return False
    problems = sum(1 for w in content if w in phrases.PROBLEM_WORDS)
    if problems >= 2 and len(content) >= 2:
        return True
    return (problems >= 1 and len(content) >= 5) or len(content) >= 12


def _is_status(text: _Text, ticket: int | None) -> bool:
    if text.has_any(phrases.STATUS_PHRASES):
        return True
    content = text.content()
    if any(w in phrases.STATUS_WORDS for w in content) and len(content) <= 6:
        return True
    asks = "?" in text.raw or any(w in phrases.QUESTION_WORDS for w in content)
    # "KDI-0007 gimana?", "no 7?" — a ticket and a question, nothing else.
    if ticket is not None and len(content) <= 4 and asks:
        return True
    # "laporan saya kemarin gimana?"
    return asks and len(content) <= 7 and any(w in phrases.OWN_REPORT_WORDS for w in content)


def _greeting_only(text: _Text) -> bool:
    return bool(text.words) and all(w in phrases.GREETING or w in phrases.PARTICLES for w in text.words)


def _thanks(text: _Text) -> bool:
    if text.has_any(phrases.THANKS_PHRASES) or any(w in phrases.THANKS for w in text.words):
        rest = [
            w for w in text.content() if w not in phrases.THANKS and w not in ("kasih", "banyak", "you", "a", "lot")
        ]
        return len(rest) <= 4
    # Folded hands alone thank; after a greeting they only greet politely.
    return "🙏" in text.raw and not text.words


def _smalltalk(text: _Text) -> bool:
    if not text.words:
        return True  # emoji, punctuation
    if text.has_any(phrases.SMALLTALK_PHRASES) and len(text.content()) <= 5:
        return True
    return _only(text, phrases.SMALLTALK)


# -- the decision ------------------------------------------------------------------------------------


def understand(text: str, context: Context) -> Understanding:
    """The meaning of a message in its context."""
    stripped = text.strip()
    if context.state == State.CLERK_GROUP:
        return _clerk(stripped, context)
    if stripped.startswith("/"):
        return _command(stripped, context)
    ticket, rest = find_ticket(stripped, context)
    full = _Text.read(stripped)
    # Without a ticket number the rest is the whole message: read once.
    read = _Text.read(rest) if ticket is not None else full
    step = {
        State.AWAITING_RATING: _at_rating,
        State.AWAITING_LOCATION: _at_location,
        State.AWAITING_PHOTO: _at_photo,
        State.CONFIRMING: _at_confirm,
        State.CONFIRMING_LOCATION: _at_confirm_location,
    }.get(context.state)
    if step is not None:
        decided = step(read, full, ticket, context)
        if decided is not None:
            return decided
    return _idle(read, full, ticket, context)


def _command(text: str, context: Context) -> Understanding:
    head, _, rest = text[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    ticket, _ = find_ticket(rest, context)
    meaning = {
        "status": Meaning.STATUS,
        "batal": Meaning.CANCEL,
        "bantuan": Meaning.HELP,
        "help": Meaning.HELP,
        "start": Meaning.GREETING,
    }.get(name, Meaning.UNCLEAR)
    return Understanding(meaning, ticket=ticket, rest=rest.strip())


def _own_ticket(ticket: int | None, context: Context) -> int | None:
    """The ticket meant: the one named, else the citizen's only (or newest) open one."""
    if ticket is not None:
        return ticket
    return context.open_tickets[-1] if context.open_tickets else None


def _at_rating(read: _Text, full: _Text, ticket: int | None, context: Context) -> Understanding | None:
    rated = context.rating_for
    digits = _ASCII_DIGITS.findall(read.raw)
    stars = _stars(read)
    spelled = any(read.has(word) for word in phrases.NUMBER_WORDS)
    if stars is not None:
        if read.has_any(phrases.DISPUTE_PHRASES) and not digits and not spelled and not _STARS.search(read.raw):
            return Understanding(Meaning.DISPUTE, ticket=rated, rest=read.raw)
        return Understanding(Meaning.RATING, ticket=rated, stars=stars)
    if digits:
        return Understanding(Meaning.UNCLEAR, ticket=rated)  # "10": not on the scale
    if read.has_any(phrases.DISPUTE_PHRASES):
        return Understanding(Meaning.DISPUTE, ticket=rated, rest=read.raw)
    if (
        _only(read, phrases.LATER)
        or _skip(read)
        or (read.words and read.words[0] in phrases.LATER)
        or (read.has_any(phrases.CANCEL_PHRASES) and len(read.content()) <= 3)
    ):
        return Understanding(Meaning.NO, ticket=rated)
    if _smalltalk(read) and not _thanks(read):
        return Understanding(Meaning.UNCLEAR, ticket=rated)  # "baik pak": an answer, but not a score
    return None


def _at_location(read: _Text, full: _Text, ticket: int | None, context: Context) -> Understanding | None:
    if _COORDINATES.search(read.raw):
        return Understanding(Meaning.LOCATION, rest=read.raw)
    if ticket is not None and _is_status(read, ticket):
        return Understanding(Meaning.STATUS, ticket=ticket)
    if _cancel(read):
        return Understanding(Meaning.CANCEL)
    if _edit(read):
        return Understanding(Meaning.EDIT, rest=read.raw)
    if _skip(read):
        return Understanding(Meaning.SKIP)
    if read.has_any(phrases.HELP_PHRASES) and len(read.content()) <= 8:
        return Understanding(Meaning.HELP)
    if read.has_any(phrases.ANOTHER_PHRASES) and _is_problem(read):
        return Understanding(Meaning.COMPLAINT, rest=read.raw)
    if _is_location(read):
        return Understanding(Meaning.LOCATION, rest=read.raw)
    if _is_problem(read):
        return Understanding(Meaning.COMPLAINT, rest=read.raw)
    if _greeting_only(read) or _thanks(read):
        return None
    # "ok", "nanti", "5": not a place; the question is asked again.
    return Understanding(Meaning.UNCLEAR)


def _at_photo(read: _Text, full: _Text, ticket: int | None, context: Context) -> Understanding | None:
    if ticket is not None and _is_status(read, ticket):
        return Understanding(Meaning.STATUS, ticket=ticket)
    # "ga usah (foto)", "nanti saya fotokan": no photo now.
    later_photo = bool(read.words) and read.words[0] in phrases.LATER and any(w.startswith("foto") for w in read.words)
    if _skip(read) or _only(read, phrases.NO) or _only(read, phrases.GO_ON) or read.has("usah") or later_photo:
        return Understanding(Meaning.SKIP)
    if _cancel(read):
        return Understanding(Meaning.CANCEL)
    if _edit(read):
        return Understanding(Meaning.EDIT, rest=read.raw)
    if read.has_any(phrases.HELP_PHRASES) and len(read.content()) <= 8:
        return Understanding(Meaning.HELP)
    if read.has_any(phrases.SMALLTALK_PHRASES) or _only(read, phrases.SMALLTALK - {"ok", "oke", "okay", "okey"}):
        return Understanding(Meaning.SMALLTALK)
    if _is_problem(read):
        return Understanding(Meaning.ADDITION, rest=read.raw)
    if _is_location(read):
        return Understanding(Meaning.LOCATION, rest=read.raw)
    if _greeting_only(read) or _thanks(read):
        return None
    return Understanding(Meaning.UNCLEAR)


def _edit(read: _Text) -> bool:
    return read.has_any(phrases.EDIT_PHRASES) or any(_typo_of(w, phrases.EDIT) for w in read.words[:3])


def _at_confirm(read: _Text, full: _Text, ticket: int | None, context: Context) -> Understanding | None:
    if _cancel(read):
        return Understanding(Meaning.CANCEL)
    if _edit(read):
        return Understanding(Meaning.EDIT, rest=read.raw)
    if read.has_any(phrases.YES_PHRASES) or _only(read, phrases.YES):
        return Understanding(Meaning.YES)
    content = read.content()
    if content and _typo_of(content[0], phrases.YES) and not any(w in phrases.NO for w in content):
        return Understanding(Meaning.YES)  # "kirim ya pak, makasih"
    if _only(read, phrases.NO) or (read.words and read.words[0] in ("jangan", "jgn")):
        return Understanding(Meaning.NO)
    if _greeting_only(read) or _thanks(read):
        return None
    return Understanding(Meaning.UNCLEAR)


def _at_confirm_location(read: _Text, full: _Text, ticket: int | None, context: Context) -> Understanding | None:
    if _cancel(read):
        return Understanding(Meaning.CANCEL)
    if _skip(read):
        return Understanding(Meaning.SKIP)
    if _edit(read):
        return Understanding(Meaning.EDIT, rest=read.raw)
    if read.has_any(phrases.YES_PHRASES) or _only(read, phrases.YES):
        return Understanding(Meaning.YES)
    if _only(read, phrases.NO):
        return Understanding(Meaning.NO)
    if _is_location(read):
        return Understanding(Meaning.LOCATION, rest=read.raw)
    return Understanding(Meaning.UNCLEAR)


def _cancel(read: _Text) -> bool:
    if read.has_any(phrases.CANCEL_PHRASES):
        return True
    # "batal", "btal", "batalkan laporan KDI-7, sudah dibersihkan": the word leads or stands alone.
    return bool(read.words) and (
        _typo_of(read.words[0], phrases.CANCEL)
        or (len(read.content()) <= 3 and any(_typo_of(w, phrases.CANCEL) for w in read.words))
    )


def _skip(read: _Text) -> bool:
    if any(_typo_of(w, phrases.SKIP) for w in read.words) and len(read.content()) <= 4:
        return True
    return read.has_any(phrases.SKIP_PHRASES) and len(read.content()) <= 6


def _idle(read: _Text, full: _Text, ticket: int | None, context: Context) -> Understanding:
    """A message with no question open: what does the citizen want?"""
    own = _own_ticket(ticket, context)
    answered = ticket in context.answered_tickets if ticket is not None else bool(context.answered_tickets)
    content = read.content()
    if ticket is None and own is not None and _about_something_else(read, own, context):
        own, answered = None, False
    if not read.words and "?" in read.raw:
        return Understanding(Meaning.UNCLEAR)
    if _cancel(read) and (
        len(content) <= 6 or ticket is not None or any(w in phrases.OWN_REPORT_WORDS for w in content)
    ):
        return Understanding(Meaning.CANCEL, ticket=ticket)
    if own is not None and read.has_any(phrases.ADDITION_LEADS):
        return Understanding(Meaning.ADDITION, ticket=own, rest=_after_lead(read.raw))
    if own is not None and read.has_any(phrases.URGE_PHRASES):
        rest = _Text.read(_without(read.flat, phrases.URGE_PHRASES))
        if _is_problem(rest) or len(rest.content()) >= 4:
            return Understanding(Meaning.ADDITION, ticket=own, rest=read.raw)
        return Understanding(Meaning.STATUS, ticket=own)
    disputes = own is not None and read.has_any(phrases.DISPUTE_PHRASES)
    if read.has_any(phrases.HELP_PHRASES) and len(content) <= 8 and not disputes:
        return Understanding(Meaning.HELP)
    if _is_status(read, ticket) and not (answered and disputes):
        if own is not None or not _is_problem(read) or ticket is not None:
            return Understanding(Meaning.STATUS, ticket=own)
    new_problem = read.has_any(phrases.ANOTHER_PHRASES) and _is_problem(read) and _is_location(read)
    if disputes and not new_problem:
        if answered:
            return Understanding(Meaning.DISPUTE, ticket=own, rest=read.raw)
        return Understanding(Meaning.ADDITION, ticket=own, rest=read.raw)
    if own is not None and read.has_any(phrases.ADDITION_PHRASES) and not new_problem:
        return Understanding(Meaning.ADDITION, ticket=own, rest=_after_lead(read.raw))
    if own is not None and _is_location(read) and not _is_problem(read) and not _greeting_only(read):
        return Understanding(Meaning.ADDITION, ticket=own, rest=read.raw)  # where exactly, for the ticket
    if answered and own is not None and (read.has("bintang") or _STARS.search(read.raw)):
        stars = _stars(read)
        if stars is not None:
            return Understanding(Meaning.RATING, ticket=own, stars=stars)
    if _thanks(read):
        return Understanding(Meaning.THANKS)
    praise = any(w in phrases.PRAISE for w in content) or "👍" in read.raw
    if praise and not _is_problem(read):
        return Understanding(Meaning.THANKS if answered else Meaning.SMALLTALK)
    if _greeting_only(read):
        return Understanding(Meaning.GREETING)
    if _smalltalk(read) or (any(w in _LAUGHTER for w in read.words) and not _is_problem(read)):
        return Understanding(Meaning.SMALLTALK)
    if ticket is not None and len(content) <= 3:
        return Understanding(Meaning.STATUS, ticket=ticket)
    if _is_problem(read):
        return Understanding(Meaning.COMPLAINT, rest=read.raw)
    return Understanding(Meaning.UNCLEAR)


def _about_something_else(read: _Text, own: int, context: Context) -> bool:
    """Whether an unnumbered message reports a problem of another agency than the citizen's ticket."""
    if context.message_agency is None or not _is_problem(read):
        return False
    agencies = dict(context.ticket_agencies)
    return own in agencies and agencies[own] is not None and agencies[own] != context.message_agency


def _without(flat: str, candidates: tuple[str, ...]) -> str:
    for phrase in candidates:
        flat = flat.replace(f" {phrase} ", " ")
    return flat


_LEAD = re.compile(
    r"(?i)^\s*(?:info\s+)?(?:tambahan|tambah\s+info|update)\s*(?:info|untuk|utk|buat|for)?\s*[:\-,.]*\s*"
)


def _after_lead(text: str) -> str:
    """The added text without its lead words ("tambahan untuk ...:")."""
    return _LEAD.sub("", text).strip(" :-,.") or text.strip()


def _clerk(text: str, context: Context) -> Understanding:
    """A clerk's message in an agency group that is not a reply to a card."""
    ticket, rest = find_ticket(text, context)
    read = _Text.read(rest)
    if ticket is not None and read.content() and not rest.rstrip().endswith("?"):
        return Understanding(Meaning.ANSWER, ticket=ticket, rest=rest)
    if read.has_any(phrases.LIST_PHRASES) or text.lower().startswith("/daftar"):
        return Understanding(Meaning.LIST)
    content = read.content()
    if len(content) >= 3 and sum(1 for w in content if w in phrases.ANSWER_WORDS) >= 2:
        return Understanding(Meaning.UNCLEAR)  # reads like an answer but names no ticket: ask which
    return Understanding(Meaning.CHATTER)


# -- a location inside a description ----------------------------------------------------------------------

# Where a place phrase may begin; it runs to the next punctuation.
_PLACE_START = re.compile(
    r"(?i)\b(?:depan|dpn|dekat|dkt|samping|sebelah|belakang|seberang|ujung|pinggir|"
    r"jl\.?|jln\.?|jalan|lorong|lrg\.?|lr\.?|gang|gg\.?|kel|kelurahan|kec|kecamatan|perumahan|perum|btn|"
    r"kompleks|komplek|pasar|masjid|sd|smp|sma|smk|kantor|puskesmas|terminal|pantai|taman|lapangan|tps)\b"
)
_PLACE_STOP = re.compile(r"[.,;!?\n](?!\s*\d)")
# Words that end a place phrase: what follows is about the problem, not the place.
_PLACE_END = re.compile(
    r"(?i)\s+(?:sudah|sdh|udah|udh|sejak|dari|tolong|tlg|mohon|mhn|yang|yg|dan|tapi|tp|karena|krn|"
    r"sampai|belum|blm|tidak|tdk|gak|ga|gk|bikin|membuat|jadi|sehingga|banyak|penuh|rusak|berlubang|"
    r"numpuk|menumpuk|mampet|tersumbat|bau|selama|tiap|setiap|kalau|klo|kalo|please|since|mengelupas|retak|"
    r"amblas|ambles|becek|macet|mati|padam|putus|roboh|ambruk|runtuh|longsor|kotor|gelap|licin|banjir|"
    r"tergenang|meluap|hancur)\b.*$"
)


# Abbreviations whose full stop does not end the place ("Jl. Saranani", "Kel. Kadia").
_ABBREVIATED = re.compile(r"(?i)\b(jl|jln|gg|lr|lrg|kel|kec|no|rt|rw|blk)\.")


def find_location(text: str) -> str | None:
    """A place named inside a description ("depan SD 5 Baruga"), to propose as the location; None if none."""
    text = _ABBREVIATED.sub(lambda m: m.group(1) + "\u2024", text)  # a dot that is not a full stop
    for match in _PLACE_START.finditer(text):
        tail = text[match.start() :]
        stop = _PLACE_STOP.search(tail, 4)
        phrase = _PLACE_END.sub("", tail[: stop.start()] if stop else tail)[:80].strip(" -:")
        words = phrase.split()
        if not 2 <= len(words) <= 10:
            continue
        read = _Text.read(phrase)
        specific = (
            any(ch.isdigit() for ch in phrase)
            or re.search(r"\b[A-Z][a-z]+", phrase[1:]) is not None
            or any(w in phrases.PLACE_NAMES and w not in phrases.VAGUE_PLACES for w in read.words)
        )
        if specific:
            return phrase.replace("\u2024", ".")
    return None

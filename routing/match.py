"""Finding agencies' keywords in a normalized text: phrases, exclusions, place words, problems, proof."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from routing.lexicon import EXCLUDE, FILLERS, PROBLEM, Entry, Lexicon, Token

# A keyword right after a place word names where, not what: "sampah di jalan", "depan kantor
# capil", "dekat jembatan". So does one after a word of circumstance ("hilang waktu banjir") or of
# concession ("padahal NIK sdh benar": the NIK is the background, not the matter).
CONTEXT_WORDS = frozenset(
    {
        "di",
        "ke",
        "depan",
        "belakang",
        "samping",
        "sebelah",
        "seberang",
        "dekat",
        "sekitar",
        "menuju",
        "arah",
        "lewat",
        "melewati",
        "waktu",
        "saat",
        "ketika",
        "kena",
        "padahal",
        "walaupun",
        "meskipun",
        "although",
        "though",
        "near",
        "at",
        "on",
        "in",
        "outside",
        "behind",
        "beside",
        "around",
    }
)
CONTEXT_WEIGHT = 0.5
# "bukan salurannya yang rusak": the citizen says outright that this is not the matter.
NEGATION_WORDS = frozenset({"bukan"})
# ... also with one of these in between: "bukan soal jalan rusak", "not about the garbage".
NEGATION_BRIDGES = frozenset({"soal", "cuma", "hanya", "sekadar", "karena", "about", "only", "just", "the", "a"})
# "sampah bukan masalahnya", "the garbage is not the problem": what comes before is denied.
DENIAL_AFTER = (("bukan", "masalah"), ("not", "problem"), ("not", "issue"))
DENIAL_SKIP = frozenset({"yang", "is", "are", "was", "the", "a", "really", "actually", "sebenarnya"})
DENIAL_OPENERS = DENIAL_SKIP | {first for first, _ in DENIAL_AFTER}
# A problem word right after one of these is denied: "gotnya tidak rusak".
PROBLEM_NEGATIONS = frozenset({"tidak", "bukan", "not"})
# "kayak tempat sampah", "seperti air got": a comparison names what something is like, not what it is.
SIMILE_WORDS = frozenset({"kayak", "seperti", "bagai", "bagaikan", "ibarat", "mirip", "laksana"})
# ... unless it compares with something said before: "seperti biasa", "seperti yang saya laporkan".
SIMILE_BREAKERS = frozenset({"biasa", "yang", "itu", "ini", "kemarin", "dulu", "sebelumnya", "tadi"})
# "pelayanan dukcapil cepat, tapi sampah di samping kantornya numpuk": what follows the "but" is
# the matter; what comes before it is background, weighed like a place word.
CONTRAST_WORDS = frozenset({"tapi", "tetapi", "namun", "but", "however", "melainkan"})
# "nama sy di 2 KK, jadi gk bisa daftar bansos": what follows "so ... cannot" is what the matter
# prevents, not the matter; it is weighed like a place word (unless nothing of an agency's comes before).
CONSEQUENCE_WORDS = frozenset({"sehingga", "akibatnya", "makanya", "jadinya"})
CONSEQUENCE_SO = frozenset({"jadi", "jd"})
CONSEQUENCE_NOT = frozenset({"gk", "ga", "gak", "nggak", "ngga", "enggak", "tidak", "tdk", "tak", "g"})
# "trotoar yang rusak": the problem describes the place word itself.
QUALIFIERS = frozenset({"yang", "yg", "that", "is", "are", "which"})
# How far (in tokens) a problem word confirms a word that needs one: "jalan di RT kami ... rusak".
PROBLEM_REACH = 10
# A confirmed problem word adds this much to its agency (half a keyword): "jalan" + "rusak" = 1.5.
PROBLEM_WEIGHT = 0.5
# How far (in tokens) after a proof phrase the agency's words are only an attachment:
# "lampirkan foto KTP", "I attached a photo of my ID card". A contrast word ends it.
PROOF_REACH = 5


class Hit(NamedTuple):
    """One keyword or phrase of one agency found in the text."""

    score: float
    # CONTEXT_WEIGHT after a place or circumstance word, 0 after a negation, else 1.
    context: float
    entry: Entry
    start: int


class Matches(NamedTuple):
    """What the text matched: per agency index (other matters after the agencies), entry text -> hit; and
    the index of the topic."""

    hits: dict[int, dict[str, Hit]]
    topic: int | None


class _Found(NamedTuple):
    agency: int
    entry: Entry
    start: int
    end: int
    score: float
    context: float
    problem: bool = False


def match(toks: list[Token], lexicon: Lexicon) -> Matches:
    """Find each agency's keywords in the tokens, longest phrase first, exclusions applied."""
    agencies = len(lexicon.codes)
    entries = lexicon.entries
    keyed = [start for start, tok in enumerate(toks) if tok.key in entries]
    if not keyed:
        return Matches({}, None)
    singles = lexicon.singles
    pairs = lexicon.pairs
    blocked, problems, proofs = _phrases(toks)
    neutral = _neutralised(toks, proofs)
    problem_spans = _problems(toks, problems)
    count = len(toks)
    used: dict[int, set[int]] = {}
    found: list[_Found] = []
    nothing: set[int] = set()
    for start in keyed:
        tok = toks[start]
        key = tok.key
        assert key is not None
        # Phrases first (longest first), then the word alone.
        candidates: tuple[Entry, ...] = ()
        following = start + 1
        while following < count and toks[following].raw in FILLERS and toks[following].key not in entries:
            following += 1
        if following < count:
            next_key = toks[following].key
            if next_key is not None:
                candidates = pairs.get((key, next_key), ())
        candidates = candidates + singles.get(key, ())
        for entry in candidates:
            words = entry.words
            if len(words) == 1:
                end = start + 1
            else:
                end = _phrase_end(toks, start, words)
                if end < 0:
                    continue
            agency = entry.agency
            taken = used.get(agency, nothing)
            stop = blocked.get(agency, nothing)
            if (taken or stop) and any(pos in taken or pos in stop for pos in range(start, end)):
                continue
            if neutral and (start in neutral.get(agency, nothing) or start in neutral.get(ANY, nothing)):
                context = 0.0
            elif end < count and toks[end].raw in DENIAL_OPENERS and _denied_after(toks, end):
                context = 0.0
            else:
                context = _context(toks, start)
            # A word that needs a problem is only a place after "di", "ke", "dekat"... ("meluap ke badan jalan"),
            # unless the problem qualifies it right there ("lewat trotoar yang rusak"): then it counts, as background.
            if entry.conditional and (
                not _confirmed(problem_spans.get(agency, ()), start, end)
                or (context < 1.0 and not _qualified(toks, problem_spans.get(agency, ()), end))
            ):
                continue
            used.setdefault(agency, set()).update(range(start, end))
            if end == start + 1:
                similarity = tok.similarity
            else:
                similarity = min(toks[pos].similarity for pos in range(start, end) if toks[pos].key is not None)
            found.append(_Found(agency, entry, start, end, entry.weight * similarity, context))
    if problem_spans:
        found.extend(_problem_hits(found, problem_spans, used))
    # A "but" or a "so ... cannot" only weighs one matter against another: with evidence for a single
    # agency (most messages) the tokens need not be searched for them.
    if len({item.agency for item in found}) < 2:
        return _collect(found, agencies, -1)
    return _collect(found, agencies, _last_contrast(toks), _first_consequence(toks))


def _phrase_end(toks: list[Token], start: int, words: tuple[str, ...]) -> int:
    """Where the phrase `words` starting at `start` ends (exclusive), or -1 if it is not there."""
    pos = start + 1
    count = len(toks)
    if pos >= count:
        return -1
    following = toks[pos]
    if following.key != words[1] and following.raw not in FILLERS:
        return -1
    for word in words[1:]:
        while pos < count and toks[pos].raw in FILLERS and toks[pos].key != word:
            pos += 1
        if pos >= count or toks[pos].key != word:
            return -1
        pos += 1
    return pos


def _collect(found: list[_Found], agencies: int, contrast: int, consequence: int = -1) -> Matches:
    """Per agency, the best hit of each entry; and the topic: the first clear keyword (after a "but")."""
    hits: dict[int, dict[str, Hit]] = {}
    topic: int | None = None
    topic_start = -1
    topic_shared = False
    if contrast >= 0 and not any(
        item.start > contrast and item.agency < agencies and not item.problem for item in found
    ):
        contrast = -1  # nothing of an agency's after the "but": it does not shift the matter
    if consequence >= 0 and not any(
        item.start < consequence and item.agency < agencies and not item.problem and item.context > 0.0
        for item in found
    ):
        consequence = -1  # nothing of an agency's before the "so": the consequence is all there is
    found.sort(key=lambda f: f.start)
    for item in found:
        background = item.start < contrast or (0 <= consequence < item.start and contrast < consequence)
        context = item.context * CONTEXT_WEIGHT if background else item.context
        hit = Hit(item.score, context, item.entry, item.start)
        if context == 1.0 and not item.problem and item.start > contrast and not background:
            if topic is None:
                topic, topic_start = item.agency, item.start
            elif item.start == topic_start and item.agency != topic:
                # A word two agencies share names neither as the topic.
                topic_shared = True
        slot = hits.setdefault(item.agency, {})
        previous = slot.get(item.entry.text)
        # The same word twice is one piece of evidence, not two.
        if previous is None or previous.score * previous.context < hit.score * hit.context:
            slot[item.entry.text] = hit
    return Matches(hits, None if topic_shared else topic)


def _context(toks: list[Token], start: int) -> float:
    """The weight of a keyword at `start` given the one or two words before it."""
    if toks[start].locative:
        return CONTEXT_WEIGHT
    for back in (1, 2):
        if start - back < 0:
            break
        word = toks[start - back].raw
        if word in NEGATION_WORDS and (back == 1 or toks[start - 1].raw in NEGATION_BRIDGES):
            return 0.0
        if word in CONTEXT_WORDS:
            return CONTEXT_WEIGHT
    return 1.0


def _denied_after(toks: list[Token], end: int) -> bool:
    """Whether the words after a keyword deny it: "sampah bukan masalahnya", "the drain is not the problem"."""
    words = [tok for tok in toks[end : end + 6] if tok.raw not in DENIAL_SKIP]
    if len(words) < 2:
        return False
    return (words[0].raw, words[1].bare or words[1].raw) in DENIAL_AFTER


def _last_contrast(toks: list[Token]) -> int:
    """The position of the last "but" that has words after it, or -1."""
    found = [pos for pos, tok in enumerate(toks[:-1]) if tok.raw in CONTRAST_WORDS]
    return found[-1] if found else -1


def _first_consequence(toks: list[Token]) -> int:
    """The position of the first "sehingga" or "jadi ... tidak" (a consequence follows), or -1."""
    for pos, tok in enumerate(toks[:-1]):
        if tok.raw in CONSEQUENCE_WORDS:
            return pos
        if tok.raw in CONSEQUENCE_SO and any(t.raw in CONSEQUENCE_NOT for t in toks[pos + 1 : pos + 3]):
            return pos
    return -1


# In _neutralised's result: positions neutral for every agency (similes).
ANY = -1


def _phrases(
    toks: list[Token],
) -> tuple[dict[int, set[int]], list[tuple[int, int, int]], list[tuple[int, int, int]]]:
    """Exclusions found (per agency, the positions they cover), problems and proofs (agency, start, end)."""
    blocked: dict[int, set[int]] = {}
    problems: list[tuple[int, int, int]] = []
    proofs: list[tuple[int, int, int]] = []
    count = len(toks)
    for start in [start for start, tok in enumerate(toks) if tok.starts]:
        for kind, agency, words in toks[start].starts:
            size = len(words)
            end = start + size
            if size > 1:
                if end > count:
                    continue
                second, following = words[1], toks[start + 1]
                if second != following.raw and second != following.key and second != following.bare:
                    continue
                if size > 2 and not all(_is(toks[start + i], words[i]) for i in range(2, size)):
                    continue
            if kind == EXCLUDE:
                blocked.setdefault(agency, set()).update(range(start, end))
            elif kind == PROBLEM:
                problems.append((agency, start, end))
            else:
                proofs.append((agency, start, end))
    return blocked, problems, proofs


def _neutralised(toks: list[Token], proofs: list[tuple[int, int, int]]) -> dict[int, set[int]]:
    """Per agency (ANY: all), positions whose words are a comparison or an attachment, not the matter."""
    neutral: dict[int, set[int]] = {}
    count = len(toks)
    for pos in [pos for pos, tok in enumerate(toks) if tok.raw in SIMILE_WORDS]:
        if pos + 1 < count and toks[pos + 1].raw not in SIMILE_BREAKERS:
            # The compared thing: the next word, or the one after a plain word ("kayak air got").
            simile = neutral.setdefault(ANY, set())
            simile.add(pos + 1)
            if toks[pos + 1].key is None:
                simile.add(pos + 2)
    for agency, _start, end in proofs:
        for pos in range(end, min(end + PROOF_REACH, count)):
            if toks[pos].raw in CONTRAST_WORDS:
                break
            neutral.setdefault(agency, set()).add(pos)
    return neutral


Span = tuple[int, int, tuple[str, ...]]


def _problems(toks: list[Token], problems: list[tuple[int, int, int]]) -> dict[int, list[Span]]:
    """Per agency, the (start, end, words) of its problem phrases that are not denied ("tidak rusak")."""
    spans: dict[int, list[Span]] = {}
    taken: dict[int, set[int]] = {}
    # Longest first, so that "tidak mengalir" is found before "mengalir" could be denied by its "tidak".
    for agency, start, end in sorted(problems, key=lambda p: (p[1], p[1] - p[2])):
        mine = taken.setdefault(agency, set())
        if any(pos in mine for pos in range(start, end)):
            continue  # inside a longer problem phrase already found
        if start > 0 and toks[start - 1].raw in PROBLEM_NEGATIONS:
            continue
        mine.update(range(start, end))
        spans.setdefault(agency, []).append((start, end, tuple(tok.key or tok.raw for tok in toks[start:end])))
    return spans


def _near(p_start: int, p_end: int, start: int, end: int) -> bool:
    """Whether a problem at [p_start, p_end) is within reach of a word at [start, end), and not that word."""
    if p_end <= start:
        return start - p_end < PROBLEM_REACH
    if p_start >= end:
        return p_start - end < PROBLEM_REACH
    return False


def _qualified(toks: list[Token], spans: Sequence[Span], end: int) -> bool:
    """Whether a problem word follows the word ending at `end` at once, or after "yang": "trotoar yang rusak"."""
    pos = end
    if pos < len(toks) and toks[pos].raw in QUALIFIERS:
        pos += 1
    return any(p_start == pos for p_start, _, _ in spans)


def _confirmed(spans: Sequence[Span], start: int, end: int) -> bool:
    """Whether one of the agency's problem words lies within reach of the word at [start, end)."""
    return any(_near(p_start, p_end, start, end) for p_start, p_end, _ in spans)


def _problem_hits(found: list[_Found], problems: dict[int, list[Span]], used: dict[int, set[int]]) -> list[_Found]:
    """A confirming problem word counts for its agency too, once, unless it is already a keyword there."""
    extra: list[_Found] = []
    for item in found:
        if not item.entry.conditional:
            continue
        mine = used.setdefault(item.agency, set())
        for p_start, p_end, words in problems.get(item.agency, ()):
            if not _near(p_start, p_end, item.start, item.end) or any(pos in mine for pos in range(p_start, p_end)):
                continue
            mine.update(range(p_start, p_end))
            entry = Entry(item.agency, words, " ".join(words), PROBLEM_WEIGHT, ())
            extra.append(_Found(item.agency, entry, p_start, p_end, PROBLEM_WEIGHT, item.context, True))
    return extra


def _is(tok: Token, word: str) -> bool:
    """Whether a token is the given phrase word (as written, as the lexicon word, or without "-nya")."""
    return word == tok.raw or word == tok.key or word == tok.bare

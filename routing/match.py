"""Finding agencies' keywords in a normalized text: phrases, exclusions, place words, problems, proof."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from routing.cues import (
    CONSEQUENCE_NOT,
    CONSEQUENCE_SO,
    CONSEQUENCE_WORDS,
    CONTEXT_WORDS,
    CONTRAST_WORDS,
    DENIAL_AFTER,
    DENIAL_OPENERS,
    DENIAL_SKIP,
    NEGATION_BRIDGES,
    NEGATION_WORDS,
    PROBLEM_NEGATIONS,
    QUALIFIERS,
    SIMILE_BREAKERS,
)
from routing.lexicon import EXCLUDE, FILLERS, KEYED, PHRASES, PROBLEM, SIMILE, TURN, Entry, Lexicon, Token

# A keyword after a place or circumstance word (cues.CONTEXT_WORDS) counts half: it names where, not what.
CONTEXT_WEIGHT = 0.5
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
    """What the text matched: per agency index (other matters after the agencies), entry text -> hit (in
    text order); and the index of the topic."""

    hits: dict[int, dict[str, Hit]]
    topic: int | None


# Hits and finds are made with tuple.__new__ directly (_new(Hit, (...))): a NamedTuple's own __new__
# is Python code that does the same at twice the cost, and the matcher makes several per message.
_new = tuple.__new__


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
    # One pass over the tokens for what the matcher looks for (most words are none of it).
    keyed: list[int] = []
    phrased: list[int] = []
    similes: list[int] = []
    turns: list[int] = []
    for pos, tok in enumerate(toks):
        flags = tok.flags
        if flags:
            if flags & KEYED:
                keyed.append(pos)
            if flags & PHRASES:
                phrased.append(pos)
            if flags & SIMILE:
                similes.append(pos)
            if flags & TURN:
                turns.append(pos)
    if not keyed:
        return Matches({}, None)
    singles = lexicon.singles
    pairs = lexicon.pairs
    blocked: dict[int, set[int]] = {}
    problems: list[tuple[int, int, int]] = []
    proofs: list[tuple[int, int, int]] = []
    # Most messages have no exclusion, comparison or proof, and many no problem phrase.
    if phrased:
        blocked, problems, proofs = _phrases(toks, phrased)
    problem_spans = _problems(toks, problems) if problems else {}
    neutral = _neutralised(toks, similes, proofs, problems) if proofs or similes else {}
    count = len(toks)
    used: dict[int, set[int]] = {}
    found: list[_Found] = []
    nothing: set[int] = set()
    for start in keyed:
        tok = toks[start]
        key = tok.key
        assert key is not None
        # Phrases first (longest first), then the word alone.
        candidates = singles.get(key, ())
        following = start + 1
        while following < count and toks[following].raw in FILLERS and toks[following].key not in entries:
            following += 1
        if following < count:
            next_key = toks[following].key
            if next_key is not None:
                longer = pairs.get((key, next_key))
                if longer:
                    candidates = longer + candidates
        for entry in candidates:
            words = entry.words
            agency = entry.agency
            taken = used.get(agency)
            stop = blocked.get(agency)
            if len(words) == 1:
                end = start + 1
                if (taken is not None and start in taken) or (stop is not None and start in stop):
                    continue
            else:
                end = _phrase_end(toks, start, words)
                if end < 0:
                    continue
                if any(
                    (taken is not None and pos in taken) or (stop is not None and pos in stop)
                    for pos in range(start, end)
                ):
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
            if end == start + 1:
                if taken is None:
                    used[agency] = {start}
                else:
                    taken.add(start)
                similarity = tok.similarity
            else:
                if taken is None:
                    used[agency] = set(range(start, end))
                else:
                    taken.update(range(start, end))
                similarity = min([toks[pos].similarity for pos in range(start, end) if toks[pos].key is not None])
            found.append(_new(_Found, (agency, entry, start, end, entry.weight * similarity, context, False)))
    if problem_spans:
        extra = _problem_hits(found, problem_spans, used)
        if extra:
            # Keywords were found in text order; the problem words that confirmed them are sorted in.
            found.extend(extra)
            found.sort(key=lambda f: f.start)
    # A "but" or a "so ... cannot" only weighs one matter against another: with evidence for a single
    # agency (most messages) the tokens need not be searched for them.
    if len({item.agency for item in found}) < 2:
        return _collect(found, agencies, -1)
    return _collect(found, agencies, _last_contrast(toks, turns), _first_consequence(toks, turns))


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
    """Per agency, the best hit of each entry; and the topic: the first clear keyword (after a "but").

    `found` is in text order."""
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
    for agency, entry, start, _end, score, context, problem in found:
        background = start < contrast or (0 <= consequence < start and contrast < consequence)
        if background:
            context *= CONTEXT_WEIGHT
        elif context == 1.0 and not problem and start > contrast:
            if topic is None:
                topic, topic_start = agency, start
            elif start == topic_start and agency != topic:
                # A word two agencies share names neither as the topic.
                topic_shared = True
        slot = hits.get(agency)
        if slot is None:
            slot = hits[agency] = {}
        previous = slot.get(entry.text)
        # The same word twice is one piece of evidence, not two.
        if previous is None:
            slot[entry.text] = _new(Hit, (score, context, entry, start))
        elif previous.score * previous.context < score * context:
            # Moved to the end, so that each slot stays in text order (`found` is).
            del slot[entry.text]
            slot[entry.text] = _new(Hit, (score, context, entry, start))
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


def _last_contrast(toks: list[Token], turns: list[int]) -> int:
    """The position of the last "but" that has words after it, or -1 (`turns`: where the text may turn)."""
    last = len(toks) - 1
    for pos in reversed(turns):
        if pos < last and toks[pos].raw in CONTRAST_WORDS:
            return pos
    return -1


def _first_consequence(toks: list[Token], turns: list[int]) -> int:
    """The position of the first "sehingga" or "jadi ... tidak" (a consequence follows), or -1."""
    last = len(toks) - 1
    for pos in turns:
        if pos >= last:
            break
        raw = toks[pos].raw
        if raw in CONSEQUENCE_WORDS:
            return pos
        if raw in CONSEQUENCE_SO and any(t.raw in CONSEQUENCE_NOT for t in toks[pos + 1 : pos + 3]):
            return pos
    return -1


# In _neutralised's result: positions neutral for every agency (similes).
ANY = -1


def _phrases(
    toks: list[Token], phrased: list[int]
) -> tuple[dict[int, set[int]], list[tuple[int, int, int]], list[tuple[int, int, int]]]:
    """Exclusions found (per agency, the positions they cover), problems and proofs (agency, start, end),
    of the phrases that may start at the `phrased` positions."""
    blocked: dict[int, set[int]] = {}
    problems: list[tuple[int, int, int]] = []
    proofs: list[tuple[int, int, int]] = []
    count = len(toks)
    for start in phrased:
        tok = toks[start]
        found = tok.starts
        follows = tok.follows
        if follows and start + 1 < count:
            # The second word as written, as the lexicon word, or without "-nya" (each looked up once).
            following = toks[start + 1]
            raw, key, bare = following.raw, following.key, following.bare
            found += follows.get(raw, ())
            if key is not None and key != raw:
                found += follows.get(key, ())
            if bare is not None and bare != raw and bare != key:
                found += follows.get(bare, ())
        for kind, agency, words in found:
            size = len(words)
            end = start + size
            if size > 2 and (end > count or not all(_is(toks[start + i], words[i]) for i in range(2, size))):
                continue
            if kind == EXCLUDE:
                blocked.setdefault(agency, set()).update(range(start, end))
            elif kind == PROBLEM:
                problems.append((agency, start, end))
            else:
                proofs.append((agency, start, end))
    return blocked, problems, proofs


def _neutralised(
    toks: list[Token],
    similes: list[int],
    proofs: list[tuple[int, int, int]],
    problems: list[tuple[int, int, int]],
) -> dict[int, set[int]]:
    """Per agency (ANY: all), positions whose words are a comparison (after a simile word at `similes`)
    or an attachment, not the matter."""
    neutral: dict[int, set[int]] = {}
    count = len(toks)
    for pos in similes:
        if pos + 1 < count and toks[pos + 1].raw not in SIMILE_BREAKERS:
            # The compared thing: the next word, or the one after a plain word ("kayak air got"); and
            # a problem word right after it ("mantan sy kayak got mampet").
            simile = neutral.setdefault(ANY, set())
            compared = pos + 2 if toks[pos + 1].key is None else pos + 1
            simile.update(range(pos + 1, compared + 1))
            if any(start == compared + 1 for _, start, _ in problems):
                simile.add(compared + 1)
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
    if len(problems) > 1:
        problems = sorted(problems, key=lambda p: (p[1], p[1] - p[2]))
    for agency, start, end in problems:
        mine = taken.get(agency)
        if mine is None:
            mine = taken[agency] = set()
        elif not mine.isdisjoint(range(start, end)):
            continue  # inside a longer problem phrase already found
        if start > 0 and toks[start - 1].raw in PROBLEM_NEGATIONS:
            continue
        mine.update(range(start, end))
        span = (start, end, tuple([tok.key or tok.raw for tok in toks[start:end]]))
        mine_spans = spans.get(agency)
        if mine_spans is None:
            spans[agency] = [span]
        else:
            mine_spans.append(span)
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

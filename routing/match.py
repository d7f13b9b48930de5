"""Finding agencies' keywords in a normalized text: phrases, exclusions, place words."""

from __future__ import annotations

from typing import NamedTuple

from routing.lexicon import Entry, Lexicon, Token

# A keyword right after a place word names where, not what: "sampah di jalan", "depan kantor
# capil", "dekat jembatan". So does one after a word of circumstance: "hilang waktu banjir".
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
    }
)
CONTEXT_WEIGHT = 0.5
# "bukan salurannya yang rusak": the citizen says outright that this is not the matter.
NEGATION_WORDS = frozenset({"bukan"})


class Hit(NamedTuple):
    """One keyword or phrase of one agency found in the text."""

    score: float
    # CONTEXT_WEIGHT after a place or circumstance word, 0 after a negation, else 1.
    context: float
    entry: Entry
    start: int


class Matches(NamedTuple):
    """What the text matched: per agency, entry text -> hit; and the agency of the topic word."""

    hits: list[dict[str, Hit]]
    topic: int | None


def match(toks: list[Token], lexicon: Lexicon) -> Matches:
    """Find each agency's keywords in the tokens, longest phrase first, exclusions applied."""
    agencies = len(lexicon.codes)
    blocked = _excluded(toks, lexicon, agencies)
    used: list[set[int]] = [set() for _ in range(agencies)]
    hits: list[dict[str, Hit]] = [{} for _ in range(agencies)]
    topic: int | None = None
    topic_start = -1
    topic_shared = False
    count = len(toks)
    entries = lexicon.entries
    for start, tok in enumerate(toks):
        if tok.key is None:
            continue
        for entry in entries.get(tok.key, ()):
            length = len(entry.words)
            end = start + length
            if end > count:
                continue
            if length > 1 and any(toks[start + i].key != entry.words[i] for i in range(1, length)):
                continue
            agency = entry.agency
            span = range(start, end)
            if any(pos in used[agency] or pos in blocked[agency] for pos in span):
                continue
            used[agency].update(span)
            similarity = min(toks[pos].similarity for pos in span)
            hit = Hit(entry.weight * similarity, _context(toks, start), entry, start)
            if topic is None and hit.context == 1.0:
                topic, topic_start = agency, start
            elif start == topic_start and agency != topic:
                # A word two agencies share names neither as the topic.
                topic_shared = True
            previous = hits[agency].get(entry.text)
            # The same word twice is one piece of evidence, not two.
            if previous is None or previous.score * previous.context < hit.score * hit.context:
                hits[agency][entry.text] = hit
    return Matches(hits, None if topic_shared else topic)


def _context(toks: list[Token], start: int) -> float:
    """The weight of a keyword at `start` given the one or two words before it."""
    if toks[start].locative:
        return CONTEXT_WEIGHT
    for back in (1, 2):
        if start - back < 0:
            break
        word = toks[start - back].raw
        if word in NEGATION_WORDS:
            return 0.0
        if word in CONTEXT_WORDS:
            return CONTEXT_WEIGHT
    return 1.0


def _excluded(toks: list[Token], lexicon: Lexicon, agencies: int) -> list[set[int]]:
    """Per agency, the token positions inside one of its exclude phrases."""
    blocked: list[set[int]] = [set() for _ in range(agencies)]
    excludes = lexicon.excludes
    if not excludes:
        return blocked
    count = len(toks)
    for start, tok in enumerate(toks):
        candidates = excludes.get(tok.raw, ())
        if tok.key is not None and tok.key != tok.raw:
            candidates = (*candidates, *excludes.get(tok.key, ()))
        for agency, words in candidates:
            end = start + len(words)
            if end > count:
                continue
            if all(words[i] in (toks[start + i].raw, toks[start + i].key) for i in range(1, len(words))):
                blocked[agency].update(range(start, end))
    return blocked

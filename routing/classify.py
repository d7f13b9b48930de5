"""classify(): which agency a complaint belongs to, or None when the text does not say clearly."""

from __future__ import annotations

import math
from dataclasses import dataclass

from routing.lexicon import Lexicon
from routing.match import Hit, Matches, match
from routing.normalize import tokens

# Evidence saturates: one clear keyword (score 1.0) gives 0.71, two give 0.92.
EVIDENCE_SCALE = 0.8
# A competing agency scales confidence by (1 - second / best) ** DOMINANCE_POWER: 0 on a tie.
DOMINANCE_POWER = 0.5
# Below this confidence the complaint goes to humas (opd None) instead of a guess.
ROUTE_THRESHOLD = 0.55
# The first keyword that is not a place usually names the complaint; the rest are often asides
# ("jalan depan kantor Dukcapil berlubang, ... waktu mau urus KTP").
TOPIC_BONUS = 0.5


@dataclass(frozen=True)
class Classification:
    """The agency (OPD code) and category a complaint is routed to, with the evidence."""

    opd: str | None
    category: str | None
    confidence: float
    matched: list[str]


_NOTHING = Classification(None, None, 0.0, [])


def classify(text: str, lexicon: Lexicon) -> Classification:
    """Route one complaint text to an agency of the lexicon, or to nobody (opd None)."""
    words = tokens(text)
    if not words:
        return _NOTHING
    lookup = lexicon.lookup
    matches = match([lookup(word) for word in words], lexicon)
    scores = _scores(matches)
    ranked = sorted(range(len(scores)), key=lambda index: -scores[index])
    if not ranked or scores[ranked[0]] <= 0.0:
        return Classification(None, None, 0.0, _all_words(matches))
    best = ranked[0]
    top = scores[best]
    second = scores[ranked[1]] if len(ranked) > 1 else 0.0
    confidence = (1.0 - math.exp(-top / EVIDENCE_SCALE)) * (1.0 - second / top) ** DOMINANCE_POWER
    confidence = round(min(max(confidence, 0.0), 1.0), 4)
    if confidence < ROUTE_THRESHOLD:
        return Classification(None, None, confidence, _all_words(matches))
    hits = matches.hits[best]
    return Classification(
        lexicon.codes[best],
        _category(hits, lexicon.categories[best]),
        confidence,
        [text for text, hit in hits.items() if hit.context > 0.0],
    )


def _scores(matches: Matches) -> list[float]:
    """Each agency's score; place words and the topic only count when agencies compete."""
    hits = matches.hits
    competing = sum(1 for agency_hits in hits if any(hit.context > 0.0 for hit in agency_hits.values())) > 1
    if not competing:
        return [sum(hit.score for hit in agency_hits.values() if hit.context > 0.0) for agency_hits in hits]
    scores = [sum(hit.score * hit.context for hit in agency_hits.values()) for agency_hits in hits]
    if matches.topic is not None:
        scores[matches.topic] += TOPIC_BONUS
    return scores


def _all_words(matches: Matches) -> list[str]:
    """Every matched keyword of every agency, once, for humas to see why it was unsure."""
    words: list[str] = []
    for agency_hits in matches.hits:
        for text, hit in agency_hits.items():
            if hit.context > 0.0 and text not in words:
                words.append(text)
    return words


def _category(hits: dict[str, Hit], names: tuple[str, ...]) -> str | None:
    """The category whose words matched best (the earlier-mentioned on a tie); else the first one."""
    if not names:
        return None
    totals = dict.fromkeys(names, 0.0)
    first_seen: dict[str, int] = {}
    for hit in hits.values():
        if hit.context == 0.0:
            continue
        for name in hit.entry.categories:
            # Within one agency a place word still says what kind of matter it is ("nama di KTP").
            totals[name] += hit.score
            first_seen[name] = min(first_seen.get(name, hit.start), hit.start)
    best = max(names, key=lambda name: (totals[name], -first_seen.get(name, 0)))
    return best if totals[best] > 0 else names[0]

"""classify(): which agency a complaint belongs to, or None when the text does not say clearly."""

from __future__ import annotations

import math
from typing import NamedTuple

from routing.lexicon import Lexicon, Token
from routing.match import Hit, Matches, match
from routing.opinion import NO_AGENCY

# Evidence saturates: one clear keyword (score 1.0) gives 0.71, two give 0.92.
EVIDENCE_SCALE = 0.8
# A competing agency scales confidence by (1 - second / best) ** DOMINANCE_POWER: 0 on a tie.
DOMINANCE_POWER = 0.5
# Below this confidence the complaint goes to humas (opd None) instead of a guess.
ROUTE_THRESHOLD = 0.55
# The first keyword that is not a place usually names the complaint; the rest are often asides
# ("jalan depan kantor Dukcapil berlubang, ... waktu mau urus KTP").
TOPIC_BONUS = 0.5
# An other matter's word weighs more than an agency's: a job ad that names a garbage truck is
# about the job. Erring this way sends a doubtful complaint to humas rather than to the wrong office.
OTHER_WEIGHT = 1.25
# The learned second opinion (routing/opinion.py) routes what the words leave unsure when it is
# this sure of an agency the words also point to, or this sure of one they do not; and stops a
# route when it is this sure the text is about something else. Chosen on blind batches 2-8, each
# scored by the words and a model as they were before that batch was seen (docs/BENCHMARKS.md).
OPINION_AGREES = 0.45
OPINION_ALONE = 0.6
OPINION_VETO = 0.6


class Guess(NamedTuple):
    """An agency the text points to, with its score and the words that point there."""

    code: str
    score: float
    words: tuple[str, ...]


class Classification(NamedTuple):
    """The agency (OPD code) and category a complaint is routed to, with the evidence."""

    # A NamedTuple rather than a frozen dataclass: made once per message, it is built in a quarter
    # of the time (a frozen dataclass sets each field through object.__setattr__).

    opd: str | None
    category: str | None
    confidence: float
    # The routed agency's words; when unsure, every agency's words.
    matched: list[str]
    # Every agency with evidence, best first (humas's triage shows them when unsure).
    guesses: tuple[Guess, ...] = ()
    # The other matter (not any agency's) the text is about, when that sent it to humas.
    other: str | None = None
    # Whether the learned second opinion decided it: routed what the words could not (its agency
    # then leads the guesses, with the words that count most for it), or held back what they would
    # have routed (`overruled`: that agency; the opinion's own agency, if any, leads the guesses).
    by_opinion: bool = False
    overruled: str | None = None

    def words_for(self, code: str) -> tuple[str, ...]:
        """The words that point to one agency (empty if none do)."""
        return next((guess.words for guess in self.guesses if guess.code == code), ())


_NOTHING = Classification(None, None, 0.0, [])
# A message that only thanks for something done is no complaint: "makasih min, KTP sy udh jadi".
THANKS = (("terima", "kasih"), ("makasih",), ("makasi",), ("trims",), ("thanks",), ("thank", "you"), ("thx",))
_THANKS_FIRST = frozenset(phrase[0] for phrase in THANKS)
THANKS_OTHER = "ucapan terima kasih"
_DONE = frozenset(
    {"sudah", "telah", "beres", "already", "finally", "done", "fixed", "repaired", "collected", "cleaned", "resolved"}
    # ... or that things are fine now: "makasih dinas kebersihan, lingkungan kami skrg bersih".
    | {"sekarang", "now", "bersih", "lancar", "mulus", "rapi", "clean", "smooth"}
)
# ... unless it goes on to say what is still wrong (or wrong again).
_STILL_WRONG = frozenset(
    {"tapi", "tetapi", "namun", "belum", "tidak", "masih", "mohon", "tolong", "but", "still", "not"}
    | {"lagi", "again", "kembali"}
)


def classify(text: str, lexicon: Lexicon) -> Classification:
    """Route one complaint text to an agency of the lexicon, or to nobody (opd None)."""
    reading = lexicon.read(text)
    toks = reading.toks
    matches = match(toks, lexicon) if toks else None
    result = _by_words(toks, matches, lexicon)
    opinion = lexicon.opinion
    if opinion is None or matches is None or result.other is not None:
        # A known other matter (or thanks) is a decision of the words: the model has no say in it.
        return result
    label, probability = opinion.judge(reading.rows, reading.known)
    if result.opd is not None:
        # An agency the model was not trained on is not its to judge.
        if label == result.opd or probability < OPINION_VETO or result.opd not in opinion.labels:
            return result
        return _held_back(text, result, label, probability, lexicon)
    if label == NO_AGENCY or label not in lexicon.index:
        return result
    pointed = any(guess.code == label for guess in result.guesses)
    if probability < (OPINION_AGREES if pointed else OPINION_ALONE):
        return result
    return _routed_by_opinion(text, matches, result, label, probability, lexicon)


def _held_back(text: str, result: Classification, label: str, probability: float, lexicon: Lexicon) -> Classification:
    """The words' route stopped by a confident opinion: to humas, with the opinion's agency first."""
    assert lexicon.opinion is not None
    guesses = result.guesses
    if label in lexicon.index:
        reasons = result.words_for(label) or lexicon.opinion.reasons(text, label)
        guesses = (Guess(label, probability, reasons), *(g for g in guesses if g.code != label))
    matched = list(dict.fromkeys(word for guess in guesses for word in guess.words))
    return Classification(
        None, None, round(1.0 - probability, 4), matched, guesses, by_opinion=True, overruled=result.opd
    )


def _routed_by_opinion(
    text: str, matches: Matches, result: Classification, label: str, probability: float, lexicon: Lexicon
) -> Classification:
    """An unsure text routed to the opinion's agency, with the words that count for it."""
    assert lexicon.opinion is not None
    index = lexicon.index[label]
    words = result.words_for(label) or lexicon.opinion.reasons(text, label)
    guesses = (Guess(label, probability, words), *(guess for guess in result.guesses if guess.code != label))
    return Classification(
        label,
        _category(matches.hits.get(index, {}), lexicon.categories[index]),
        round(probability, 4),
        list(words),
        guesses,
        by_opinion=True,
    )


def _by_words(toks: list[Token], matches: Matches | None, lexicon: Lexicon) -> Classification:
    """The lexicon's route for a text's tokens and their matches: agencies' words, other matters, places."""
    if matches is None:
        return _NOTHING
    if _only_thanks(toks):
        return Classification(None, None, 0.0, [], other=THANKS_OTHER)
    if not matches.hits:
        return _NOTHING
    agencies = len(lexicon.codes)
    scores = _scores(matches, agencies)
    guesses = _guesses(matches, scores, lexicon)
    other_scores = (
        {index: value for index, value in scores.items() if index >= agencies and value > 0.0}
        if max(scores) >= agencies
        else None
    )
    if other_scores:
        other_total = sum(other_scores.values())
        other = lexicon.others[max(other_scores, key=other_scores.__getitem__) - agencies]
    else:
        other_total, other = 0, None
    if not guesses:
        return Classification(None, None, 0.0, [], other=other)
    best = guesses[0]
    top = best.score
    second = max(guesses[1].score if len(guesses) > 1 else 0.0, other_total)
    if second >= top:
        confidence = 0.0
    else:
        confidence = (1.0 - math.exp(-top / EVIDENCE_SCALE)) * (1.0 - second / top) ** DOMINANCE_POWER
    confidence = round(min(max(confidence, 0.0), 1.0), 4)
    if confidence < ROUTE_THRESHOLD:
        wins = other_total >= top
        return Classification(None, None, confidence, _all_words(matches, agencies), guesses, other if wins else None)
    index = lexicon.index[best.code]
    return Classification(
        best.code,
        _category(matches.hits.get(index, {}), lexicon.categories[index]),
        confidence,
        list(best.words),
        guesses,
    )


def _only_thanks(toks: list[Token]) -> bool:
    """Whether a message opens with thanks, says something is done, and asks for nothing more."""
    if toks[0].raw not in _THANKS_FIRST:
        return False
    words = [tok.raw for tok in toks]
    opens = any(tuple(words[: len(phrase)]) == phrase for phrase in THANKS)
    return opens and any(word in _DONE for word in words) and not any(word in _STILL_WRONG for word in words)


def _scores(matches: Matches, agencies: int) -> dict[int, float]:
    """Each agency's (and other matter's) score; place words and the topic count when they compete."""
    hits = matches.hits
    with_evidence: set[int] = set()
    # The words that count, unless more than one agency (or other matters) compete.
    scores: dict[int, float] = {}
    for index, slot in hits.items():
        total = 0.0
        counted = False
        for score, context, _entry, _start in slot.values():
            if context > 0.0:
                total += score
                counted = True
        scores[index] = total
        if counted:
            with_evidence.add(min(index, agencies))
    if len(with_evidence) > 1:
        # An other matter after a place word is a landmark ("pothole near the traffic light", "surat dari
        # RS"): no office's matter is located at it, so its place weight applies twice.
        scores = {
            index: sum(hit.score * (hit.context if index < agencies else hit.context**2) for hit in slot.values())
            for index, slot in hits.items()
        }
        if matches.topic is not None:
            scores[matches.topic] += TOPIC_BONUS
    for index in scores:
        if index >= agencies:
            scores[index] *= OTHER_WEIGHT
    return scores


def _guesses(matches: Matches, scores: dict[int, float], lexicon: Lexicon) -> tuple[Guess, ...]:
    """Agencies with evidence, best first, with their words."""
    codes = lexicon.codes
    agencies = len(codes)
    ranked = [index for index, score in scores.items() if index < agencies and score > 0.0]
    if len(ranked) > 1:
        ranked.sort(key=lambda i: (-scores[i], i))
    hits = matches.hits
    return tuple([Guess(codes[index], scores[index], _words(hits[index])) for index in ranked])


def _words(hits: dict[str, Hit]) -> tuple[str, ...]:
    """The words of one agency's hits that counted, in text order (the hits' order)."""
    return tuple([text for text, hit in hits.items() if hit.context > 0.0])


def _all_words(matches: Matches, agencies: int) -> list[str]:
    """Every matched keyword of every agency, once, for humas to see why it was unsure."""
    words: list[str] = []
    for index in sorted(matches.hits):
        if index >= agencies:
            continue
        agency_hits = matches.hits[index]
        for text, hit in agency_hits.items():
            if hit.context > 0.0 and text not in words:
                words.append(text)
    return words


def _category(hits: dict[str, Hit], names: tuple[str, ...]) -> str | None:
    """The category whose words matched best (the earlier-mentioned on a tie); else the first one."""
    if not names:
        return None
    totals: dict[str, float] = {}
    first_seen: dict[str, int] = {}
    for score, context, entry, start in hits.values():
        if context == 0.0:
            continue
        for name in entry.categories:
            # Within one agency a place word still says what kind of matter it is ("nama di KTP").
            totals[name] = totals.get(name, 0.0) + score
            seen = first_seen.get(name)
            if seen is None or start < seen:
                first_seen[name] = start
    if len(first_seen) <= 1:
        # Only one category's words (or none): no need to weigh them.
        return next((name for name in first_seen if totals[name] > 0), names[0])
    best = max(names, key=lambda name: (totals.get(name, 0.0), -first_seen.get(name, 0)))
    return best if totals.get(best, 0.0) > 0 else names[0]

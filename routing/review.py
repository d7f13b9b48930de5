"""The monthly routing review: figures on corrected complaints and suggested lexicon additions.

Pure: it takes the corrections (as read from storage by the caller) and the lexicon in use, and
returns what `ehumas routing review` prints. A suggestion is a word that separates the corrected
texts: it is in several of the texts that belonged to an agency (or to none) and in fewer of the
others, and the lexicon does not have it yet. People decide; nothing is added by itself.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from routing.classify import Classification
from routing.evaluate import Example, Outcome, Score, score
from routing.lexicon import Lexicon
from routing.normalize import tokens

HUMAS_LABEL = "humas"
NONE_LABEL = "none"
UNKNOWN_LABEL = "?"
# How many suggestions of each kind per agency are shown.
MAX_SUGGESTIONS = 8

# Words that never route anything: function words, polite forms, time and place fillers.
STOPWORDS = frozenset(
    """
    yang di ke dari dan atau ini itu sudah belum tidak ada saya kami kita kamu anda dia mereka untuk dengan
    pada dalam akan bisa mau tolong mohon pak bu ibu bapak min admin kak kakak tapi karena jadi juga lagi masih
    sangat sekali banget hari minggu bulan tahun jam sejak sampai kalau kapan bagaimana kenapa apa siapa mana
    dimana gimana sih ya loh dong deh kok terus pernah semua banyak setiap tiap harus sama seperti kayak baru
    lama orang warga rumah depan belakang dekat samping sebelah atas bawah tengah pinggir lorong kelurahan
    kecamatan kota rt rw para oleh agar supaya biar saja aja cuma hanya lebih kurang pun lah kah nya tersebut
    selamat pagi siang sore malam terima kasih makasih assalamualaikum halo hai tanya info segera mas mbak
    the a an and or to of in on at for is are was were be been it its this that my our your i we you they he
    she there here with from by not no but so very every again still already can could do does did have has
    had please near since week weeks days day month months night morning who what why how when where just one
    some any all also up out about me us them if then than too get got been being would should will
    city really come comes came last new old big lot lots many much keep keeps kept time times thing things
    people someone something anyone everyone now today yesterday tomorrow ago buat bikin buka tadi kemarin
    besok sekarang mohon tolong bantu minta sudah udah sdh belum blm tidak gak ga dong banget bgt sy yg
    """.split()
)
_CAPITALISED = re.compile(r"(?<![.!?\n]\s)(?<!^)\b([A-Z][a-z]+(?:-[A-Z]?[a-z]+)*)")


@dataclass(frozen=True)
class Correction:
    """A corrected complaint as the review sees it."""

    ticket: str
    text: str
    # What the classifier said at filing (None: it left it with humas).
    said: str | None
    # Where it belongs (None: no agency's), when known.
    truth: str | None
    # False while an agency has refused it and humas has not routed it yet.
    labelled: bool = True


@dataclass(frozen=True)
class Pair:
    """Corrected complaints that went from one place to another."""

    said: str
    truth: str
    tickets: list[str]


@dataclass(frozen=True)
class Exclusion:
    """An agency word that fired in complaints that were not the agency's, with its neighbours."""

    word: str
    count: int
    phrases: list[tuple[str, int]]


@dataclass(frozen=True)
class Review:
    """What the monthly review prints."""

    corrections: list[Correction]
    # Over the labelled corrections: what the classifier did at filing, and what it does today.
    at_filing: Score
    today: Score
    pairs: list[Pair]
    keywords: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    exclusions: dict[str, list[Exclusion]] = field(default_factory=dict)
    others: list[tuple[str, int]] = field(default_factory=list)

    @property
    def pending(self) -> int:
        """Corrections whose place is not known yet (refused, not rerouted)."""
        return sum(not correction.labelled for correction in self.corrections)


def review(corrections: Sequence[Correction], lexicon: Lexicon, *, min_count: int = 2) -> Review:
    """Figures, agency pairs and suggestions for a set of corrections."""
    labelled = [correction for correction in corrections if correction.labelled]
    examples = [Example(correction.truth, correction.text) for correction in labelled]
    today = score(examples, lexicon)
    return Review(
        corrections=list(corrections),
        at_filing=_at_filing(labelled),
        today=today,
        pairs=_pairs(corrections),
        keywords=_keywords(labelled, today, lexicon, min_count),
        exclusions=_exclusions(labelled, today, lexicon),
        others=_others(labelled, lexicon, min_count),
    )


def _at_filing(labelled: list[Correction]) -> Score:
    """The figures of what the classifier said when the complaints were filed."""
    return Score(
        [
            Outcome(Example(correction.truth, correction.text), Classification(correction.said, None, 0.0, []))
            for correction in labelled
        ]
    )


def _label(code: str | None, *, said: bool, labelled: bool = True) -> str:
    if not labelled:
        return UNKNOWN_LABEL
    if code is None:
        return HUMAS_LABEL if said else NONE_LABEL
    return code


def _pairs(corrections: Sequence[Correction]) -> list[Pair]:
    """Corrections grouped by (what the classifier said, where it belonged), the biggest group first."""
    groups: dict[tuple[str, str], list[str]] = {}
    for correction in corrections:
        if correction.labelled and correction.said == correction.truth:
            continue  # refused and routed back: the classifier was right
        key = (
            _label(correction.said, said=True),
            _label(correction.truth, said=False, labelled=correction.labelled),
        )
        groups.setdefault(key, []).append(correction.ticket)
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    return [Pair(said, truth, tickets) for (said, truth), tickets in ordered]


def _names(text: str) -> set[str]:
    """Words written with a capital inside a sentence: mostly names of places and people."""
    return {match.group(1).lower() for match in _CAPITALISED.finditer(text)}


def _words(text: str, known: set[str]) -> set[str]:
    """The candidate words of a text: no function words, numbers, names or words the lexicon has."""
    names = _names(text)
    return {
        word
        for word in tokens(text)
        if len(word) >= 3
        and word.isalpha()
        and word not in STOPWORDS
        and word not in known
        and word.split("-")[0] not in names
        and word not in names
    }


def _separating(mine: list[str], others: list[str], known: set[str], min_count: int) -> list[tuple[str, int]]:
    """Words in at least min_count of `mine` and in more of `mine` than of `others`, best first."""
    counts = Counter(word for text in mine for word in _words(text, known))
    against = Counter(word for text in others for word in _words(text, known))
    found = [(word, count) for word, count in counts.items() if count >= min_count and count > against[word]]
    found.sort(key=lambda item: (-(item[1] - against[item[0]]), -item[1], item[0]))
    return found[:MAX_SUGGESTIONS]


def _keywords(
    labelled: list[Correction], today: Score, lexicon: Lexicon, min_count: int
) -> dict[str, list[tuple[str, int]]]:
    """Per agency: words of its corrected complaints the lexicon still does not route there."""
    suggestions: dict[str, list[tuple[str, int]]] = {}
    for code in lexicon.codes:
        missed = [
            outcome.example.text
            for outcome in today.outcomes
            if outcome.example.label == code and outcome.result.opd != code
        ]
        if not missed:
            continue
        others = [correction.text for correction in labelled if correction.truth != code]
        # Not a word the lexicon has already (another agency's keyword would only make a tie).
        found = _separating(missed, others, set(lexicon.vocabulary), min_count)
        if found:
            suggestions[code] = found
    return suggestions


def _exclusions(labelled: list[Correction], today: Score, lexicon: Lexicon) -> dict[str, list[Exclusion]]:
    """Per agency: its words that still send complaints there that were not its own."""
    words: dict[str, Counter[str]] = {}
    phrases: dict[str, dict[str, Counter[str]]] = {}
    for outcome in today.outcomes:
        code = outcome.result.opd
        if code is None or code == outcome.example.label:
            continue
        toks = tokens(outcome.example.text)
        for word in outcome.result.words_for(code):
            words.setdefault(code, Counter())[word] += 1
            first = word.split()[0]
            position = next((i for i, tok in enumerate(toks) if tok == first or tok.startswith(first)), -1)
            if position > 0:
                phrase = f"{toks[position - 1]} {word}"
                phrases.setdefault(code, {}).setdefault(word, Counter())[phrase] += 1
    result: dict[str, list[Exclusion]] = {}
    for code, counter in words.items():
        result[code] = [
            Exclusion(word, count, phrases.get(code, {}).get(word, Counter()).most_common(3))
            for word, count in counter.most_common(MAX_SUGGESTIONS)
        ]
    return result


def _others(labelled: list[Correction], lexicon: Lexicon, min_count: int) -> list[tuple[str, int]]:
    """Words of complaints that belonged to no agency, for the [[other]] matters."""
    nobody = [correction.text for correction in labelled if correction.truth is None]
    if not nobody:
        return []
    agencies = [correction.text for correction in labelled if correction.truth is not None]
    return _separating(nobody, agencies, set(lexicon.vocabulary), min_count)

"""The routing lexicon: agencies' words, compiled once into fast lookup tables."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from rapidfuzz import fuzz, process

from routing.normalize import tokens

# Tokens shorter than this are only matched exactly: at four letters one typo already turns
# "asal" into "aspal" and "alan" into "jalan".
MIN_FUZZY_LENGTH = 5
# fuzz.ratio cut-off. 86 lets a word lose or gain one letter ("smpah" -> "sampah": 90.9) and a
# word of 8+ letters change one, but not a 7-letter word ("dibayar" -> "dibakar": 85.7), nor
# two edits in a long one ("sumbangan" -> "kubangan": 82.4).
FUZZY_CUTOFF = 86.0
# Suffixes and the glued preposition that leave the word itself unchanged for routing.
_SUFFIXES = ("nya", "ny", "ku", "mu")
_PREFIX = "di"
# A phrase of n words is worth more than a single word: it is more specific.
PHRASE_BONUS = 0.5


@dataclass(frozen=True)
class AgencyLexicon:
    """One agency's routing words, as written in its [[opd]] table."""

    code: str
    keywords: Sequence[str]
    categories: Mapping[str, Sequence[str]] = field(default_factory=dict)
    exclude: Sequence[str] = ()


class Entry(NamedTuple):
    """A compiled keyword or phrase of one agency."""

    agency: int
    words: tuple[str, ...]
    text: str
    weight: float
    categories: tuple[str, ...]


class Token(NamedTuple):
    """A text token with the lexicon word it stands for (None: not a lexicon word)."""

    raw: str
    key: str | None
    similarity: float
    # Written with a glued preposition ("dijalan"): a place, like "di jalan".
    locative: bool = False


class Lexicon:
    """Compiled lookup tables for classify(); build it once with Lexicon.build()."""

    def __init__(
        self,
        codes: tuple[str, ...],
        categories: tuple[tuple[str, ...], ...],
        entries: Mapping[str, tuple[Entry, ...]],
        excludes: Mapping[str, tuple[tuple[int, tuple[str, ...]], ...]],
        vocabulary: frozenset[str],
    ) -> None:
        self.codes = codes
        self.categories = categories
        # First word of an entry -> the entries starting with it, longest first.
        self.entries = entries
        # First word of an exclude phrase -> (agency, phrase words).
        self.excludes = excludes
        self.vocabulary = vocabulary
        self._choices = sorted(word for word in vocabulary if len(word) >= MIN_FUZZY_LENGTH - 1)
        # fuzz.ratio >= 86 needs lengths within about 25% of each other: skip hopeless long tokens.
        self._longest_fuzzy = max((len(word) for word in self._choices), default=0) * 4 // 3 + 1
        # Per instance, so that a discarded lexicon's cache goes with it.
        self.lookup = lru_cache(maxsize=65536)(self._lookup)

    @classmethod
    def build(cls, agencies: Iterable[AgencyLexicon]) -> Lexicon:
        """Compile agencies' keywords, categories and exclude phrases; ValueError on nonsense."""
        codes: list[str] = []
        category_names: list[tuple[str, ...]] = []
        compiled: dict[tuple[int, tuple[str, ...]], Entry] = {}
        exclude_phrases: list[tuple[int, tuple[str, ...]]] = []
        for index, agency in enumerate(agencies):
            code = _check_code(agency, codes)
            codes.append(code)
            names = _check_categories(code, agency.categories)
            category_names.append(names)
            word_categories: list[tuple[str, str | None]] = [
                (word, None) for word in _check_words(code, "keywords", agency.keywords)
            ]
            for name in names:
                words = _check_words(code, f"categories.{name}", agency.categories[name])
                word_categories.extend((word, name) for word in words)
            if not word_categories:
                raise ValueError(f"agency {code}: needs at least one keyword")
            for word, category in word_categories:
                words = tuple(tokens(word))
                if not words:
                    raise ValueError(f"agency {code}: keyword {word!r} has no letters or digits")
                old = compiled.get((index, words))
                cats = old.categories if old else ()
                if category is not None and category not in cats:
                    cats = (*cats, category)
                weight = 1.0 + PHRASE_BONUS * (len(words) - 1)
                compiled[(index, words)] = Entry(index, words, " ".join(words), weight, cats)
            for phrase in _check_words(code, "exclude", agency.exclude):
                words = tuple(tokens(phrase))
                if not words:
                    raise ValueError(f"agency {code}: exclude phrase {phrase!r} has no letters or digits")
                exclude_phrases.append((index, words))

        by_first: dict[str, list[Entry]] = {}
        for entry in compiled.values():
            by_first.setdefault(entry.words[0], []).append(entry)
        entries = {
            first: tuple(sorted(group, key=lambda e: (-len(e.words), e.agency))) for first, group in by_first.items()
        }
        vocabulary = frozenset(word for entry in compiled.values() for word in entry.words)
        excludes: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        for agency_index, words in exclude_phrases:
            excludes.setdefault(words[0], []).append((agency_index, words))
        return cls(
            tuple(codes),
            tuple(category_names),
            entries,
            {first: tuple(group) for first, group in excludes.items()},
            vocabulary,
        )

    def _lookup(self, raw: str) -> Token:
        """The lexicon word a normalized text token stands for: exact, inflected, or a typo."""
        vocabulary = self.vocabulary
        if raw in vocabulary:
            return Token(raw, raw, 1.0)
        stem = _known_stem(raw, vocabulary)
        if stem is not None:
            return Token(raw, stem, 1.0, locative=not raw.startswith(stem))
        if "-" in raw:
            # "sampah-sampah", "smpah-smpah": a reduplicated word means its base.
            base, _, rest = raw.partition("-")
            if rest == base or (rest.startswith(base) and _known_stem(rest, frozenset({base}))):
                found = self._lookup(base)
                return Token(raw, found.key, found.similarity)
            return Token(raw, None, 0.0)
        if not MIN_FUZZY_LENGTH <= len(raw) <= self._longest_fuzzy or not raw.isalpha():
            return Token(raw, None, 0.0)
        best = process.extractOne(raw, self._choices, scorer=fuzz.ratio, processor=None, score_cutoff=FUZZY_CUTOFF)
        if best is None:
            return Token(raw, None, 0.0)
        word = best[0]
        if raw.startswith(word) and raw[len(word) :].strip(word[-1]):
            # "jalani" is "jalan" + a suffix that makes another word, not a typo of it.
            return Token(raw, None, 0.0)
        return Token(raw, word, best[1] / 100.0)


def _known_stem(raw: str, vocabulary: frozenset[str]) -> str | None:
    """The vocabulary word under a possessive suffix or a glued "di" ("jalannya", "dijalan")."""
    for suffix in _SUFFIXES:
        if raw.endswith(suffix) and raw[: -len(suffix)] in vocabulary:
            return raw[: -len(suffix)]
    if raw.startswith(_PREFIX) and len(raw) > len(_PREFIX) + 2 and raw[len(_PREFIX) :] in vocabulary:
        return raw[len(_PREFIX) :]
    return None


def _check_code(agency: AgencyLexicon, seen: list[str]) -> str:
    """The agency's code, or ValueError if it is blank or repeated."""
    code = agency.code
    if not isinstance(code, str) or not code.strip():
        raise ValueError(f"agency code must be a non-empty string, got {code!r}")
    if code in seen:
        raise ValueError(f"agency {code}: duplicate code")
    return code


def _check_categories(code: str, categories: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """Category names in order, or ValueError on a blank name."""
    if not isinstance(categories, Mapping):
        raise ValueError(f"agency {code}: categories must be a table of name -> words")
    names = tuple(categories)
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"agency {code}: category name must be a non-empty string, got {name!r}")
    return names


def _check_words(code: str, where: str, words: Sequence[str]) -> list[str]:
    """The words of one list, or ValueError if one is not a non-blank string."""
    if isinstance(words, str) or not isinstance(words, Sequence):
        raise ValueError(f"agency {code}: {where} must be a list of strings, got {words!r}")
    for word in words:
        if not isinstance(word, str) or not word.strip():
            raise ValueError(f"agency {code}: {where} has an empty or non-string word: {word!r}")
    return list(words)

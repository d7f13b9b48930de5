"""A second opinion on routing: a linear model over letter sequences, learned from labelled messages.

The lexicon knows the words it was given; people write words it was not given ("tempat
sampahnya", "garbage pick-up", "lobang"). The letter sequences (n-grams) of the words carry those:
a model over them, learned from the labelled messages, routes much text the lexicon leaves unsure.
It is only a second opinion: classify() trusts it to route what the lexicon could not, and to stop
what the lexicon would route when it is confident the text is about something else (classify.py).

The model is a multinomial logistic regression. A message's features are, for each word, its
n-grams of 2 to 5 letters (the word padded with a space at both ends) and the word itself, and each
pair of neighbouring words; each counted, weighted by its idf and the whole divided by the square
root of the number of features. That makes a message's score a sum over its words, so a word's
share is computed once and cached: a running desk sees the same words again and again. It is
trained offline (routing/train.py, scikit-learn); here it is evaluated in plain Python, because a
dictionary lookup per word is all it takes and the bot then needs no numerical library.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

CHAR_NGRAMS = (2, 5)
# A word: two or more letters or digits.
_WORD = re.compile(r"\b\w\w+\b")
# Marks a word (or a pair of words) among the letter n-grams, which hold only letters and spaces.
WORD_MARK = "="
FORMAT = "ehumas-opinion 2"
# The label of messages for no agency (humas), as in the labelled files.
NO_AGENCY = "null"
# Distinct words whose shares are kept (a few MB at most).
WORD_CACHE = 65536


def words_of(text: str) -> list[str]:
    """The words the model reads: compatibility-normalised, lower-case, two letters or more."""
    return words_of_lowered(unicodedata.normalize("NFKC", text).lower())


def words_of_lowered(lowered: str) -> list[str]:
    """words_of() of a text already compatibility-normalised and lower-cased."""
    return _WORD.findall(lowered)


def word_features(word: str) -> list[str]:
    """One word's features: its letter n-grams (padded with a space each side) and the word itself."""
    low, high = CHAR_NGRAMS
    padded = f" {word} "
    grams = [padded[start : start + size] for size in range(low, high + 1) for start in range(len(padded) - size + 1)]
    grams.append(WORD_MARK + word)
    return grams


def pair_feature(first: str, second: str) -> str:
    """The feature of two neighbouring words."""
    return f"{WORD_MARK}{first} {second}"


def features(text: str) -> list[str]:
    """Every feature of a text, with repeats (what training counts)."""
    words = words_of(text)
    found = [feature for word in words for feature in word_features(word)]
    found.extend(pair_feature(first, second) for first, second in itertools.pairwise(words))
    return found


# A word's share of a message's scores: its summed feature weights per label, and how many of
# its features the model knows.
Share = tuple[tuple[float, ...], int]
Row = tuple[float, ...]
# The pairs of a word that begins none (never written to).
NO_PAIRS: dict[str, Row] = {}


class Part(NamedTuple):
    """What a run of words (a whitespace-separated piece of a text, or a whole text) gives the model."""

    # Its first word; the weights of the pairs its last word begins (for the pairs across runs).
    first: str
    then: dict[str, Row]
    # The summed weights of its words and word pairs that the model knows (zeros if it knows none),
    # and how many features those are.
    row: Row
    known: int


@dataclass(frozen=True)
class Opinion:
    """A trained model: labels (agency codes, and "null" for none), biases, idf-scaled feature weights."""

    labels: tuple[str, ...]
    bias: tuple[float, ...]
    # Feature -> its weight for each label, already multiplied by the feature's idf. Every feature
    # the model knows is here, zero weights too: each counts in the message's length.
    weights: dict[str, Row]
    _word_share: Callable[[str], Share] = field(init=False, repr=False, compare=False)
    # The word-pair features as first word -> second word -> weights: a lookup per neighbouring pair
    # instead of building the pair's feature string.
    _pairs: dict[str, dict[str, Row]] = field(init=False, repr=False, compare=False)
    _zeros: Row = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Per instance, so that a discarded model's cache goes with it.
        object.__setattr__(self, "_word_share", lru_cache(maxsize=WORD_CACHE)(self._share))
        pairs: dict[str, dict[str, Row]] = {}
        for feature, row in self.weights.items():
            if feature.startswith(WORD_MARK):
                first, space, second = feature[len(WORD_MARK) :].partition(" ")
                if space:
                    pairs.setdefault(first, {})[second] = row
        object.__setattr__(self, "_pairs", pairs)
        object.__setattr__(self, "_zeros", (0.0,) * len(self.labels))

    def _share(self, word: str) -> Share:
        """A word's summed weights for each label and how many known features it has."""
        # Every known feature's row, looked up and kept in C (a row is never empty, so never false).
        rows = list(filter(None, map(self.weights.get, word_features(word))))
        return (_summed(rows) if rows else self._zeros), len(rows)

    def share(self, word: str) -> Share:
        """A word's share of a message's scores (cached: a desk sees the same words again and again)."""
        return self._word_share(word)

    def part(self, words: Sequence[str]) -> Part:
        """What a run of words (words_of(), at least one) gives the model; a text's parts add up to its
        score, with the pairs across them (Lexicon.read())."""
        rows: list[Row] = []
        known = 0
        for word in words:
            summed, count = self.share(word)
            if count:
                rows.append(summed)
                known += count
        pairs = self._pairs
        for first, second in itertools.pairwise(words):
            row = pairs.get(first, NO_PAIRS).get(second)
            if row is not None:
                rows.append(row)
                known += 1
        # Zeros rather than None when it knows none: adding 0.0 changes no sum, and spares read() a test.
        return Part(words[0], pairs.get(words[-1], NO_PAIRS), _summed(rows) if rows else self._zeros, known)

    def judge(self, rows: Sequence[Row], known: int) -> tuple[str, float]:
        """The most likely label and its probability, for a text whose known features sum to `rows`
        (`known` of them)."""
        scores = self._scores(rows, known)
        top = max(scores)
        # The softmax of the best score only: exp(top - top) is 1.
        return self.labels[scores.index(top)], 1.0 / sum([math.exp(score - top) for score in scores])

    def _likelihoods(self, rows: Sequence[Row], known: int) -> list[float]:
        """Each label's probability, in the order of `labels`, for a text whose known features (`known`
        of them) sum to `rows`."""
        scores = self._scores(rows, known)
        top = max(scores)
        exps = [math.exp(score - top) for score in scores]
        whole = sum(exps)
        return [value / whole for value in exps]

    def _scores(self, rows: Sequence[Row], known: int) -> list[float]:
        """Each label's score (before the softmax), for a text whose known features (`known` of them)
        sum to `rows`."""
        if not known:
            return list(self.bias)
        scale = 1.0 / math.sqrt(known)
        # Summed column by column in C (zip, sum). (Every row has one weight per label: parse_opinion()
        # checked it.)
        return [bias + sum(column) * scale for bias, column in zip(self.bias, zip(*rows, strict=False), strict=True)]

    def tally(self, text: str) -> tuple[list[Row], int]:
        """A whole text's summed known features and how many they are (what judge() takes)."""
        words = words_of(text)
        if not words:
            return [], 0
        part = self.part(words)
        return [part.row], part.known

    def probabilities(self, text: str) -> dict[str, float]:
        """Each label's probability for a text."""
        return dict(zip(self.labels, self._likelihoods(*self.tally(text)), strict=True))

    def best(self, text: str) -> tuple[str, float]:
        """The most likely label for a text and its probability."""
        return self.judge(*self.tally(text))

    def reasons(self, text: str, label: str, limit: int = 3) -> tuple[str, ...]:
        """The words of the text that count most for `label` against the other labels, most first."""
        if label not in self.labels:
            return ()
        index = self.labels.index(label)
        others = len(self.labels) - 1 or 1
        pull: dict[str, float] = {}
        for word in words_of(text):
            summed, count = self.share(word)
            if count and word not in pull:
                pull[word] = summed[index] - (sum(summed) - summed[index]) / others
        ranked = sorted((word for word, score in pull.items() if score > 0.0), key=lambda word: -pull[word])
        return tuple(ranked[:limit])


def _summed(rows: Sequence[Row]) -> Row:
    """Rows added up label by label."""
    return tuple([sum(column) for column in zip(*rows, strict=False)])


def dump_opinion(opinion: Opinion) -> str:
    """The model as text: a header, then one tab-separated line per label bias and per feature."""
    lines = [FORMAT, "labels\t" + "\t".join(opinion.labels), "bias\t" + "\t".join(_number(b) for b in opinion.bias)]
    for feature in sorted(opinion.weights):
        lines.append(f"f\t{feature}\t" + "\t".join(_number(value) for value in opinion.weights[feature]))
    return "\n".join(lines) + "\n"


def parse_opinion(text: str) -> Opinion:
    """A model from dump_opinion()'s text; ValueError if it is not one."""
    lines = text.split("\n")
    if not lines or lines[0] != FORMAT:
        raise ValueError(f"not a routing model (its first line should be {FORMAT!r})")
    labels: tuple[str, ...] = ()
    bias: tuple[float, ...] = ()
    weights: dict[str, tuple[float, ...]] = {}
    for number, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        parts = line.split("\t")
        try:
            if parts[0] == "labels" and not labels:
                labels = tuple(parts[1:])
            elif parts[0] == "bias" and labels:
                bias = _numbers(parts[1:], len(labels))
            elif parts[0] == "f" and labels and len(parts) >= 2:
                weights[parts[1]] = _numbers(parts[2:], len(labels))
            else:
                raise ValueError("not a labels, bias or feature line")
        except ValueError as exc:
            raise ValueError(f"routing model line {number}: {exc}") from None
    if len(labels) < 2 or len(set(labels)) != len(labels) or len(bias) != len(labels):
        raise ValueError("routing model: its labels or biases are missing")
    return Opinion(labels, bias, weights)


def _number(value: float) -> str:
    """A weight written short: five significant digits are far more than the model's precision."""
    return f"{value:.5g}"


def _numbers(parts: Sequence[str], expected: int) -> tuple[float, ...]:
    """`expected` finite numbers, or ValueError."""
    if len(parts) != expected:
        raise ValueError(f"expected {expected} numbers, got {len(parts)}")
    values = tuple(float(part) for part in parts)
    if not all(math.isfinite(value) for value in values):
        raise ValueError("not a finite number")
    return values

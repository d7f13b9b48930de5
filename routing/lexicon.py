"""The routing lexicon: agencies' words, compiled once into fast lookup tables."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import NamedTuple

from rapidfuzz import fuzz, process

from routing.cues import CONSEQUENCE_SO, CONSEQUENCE_WORDS, CONTRAST_WORDS, SIMILE_WORDS
from routing.normalize import CONTEXTUAL, KNOWN_WORDS, chunk_tokens, context_tokens, lowered_and_translated, tokens
from routing.opinion import NO_AGENCY, NO_PAIRS, Opinion, Part, Row, words_of_lowered

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
# Words a phrase may have in between without changing its meaning: "register the marriage",
# "jalan kami rusak".
FILLERS = frozenset(
    {"the", "a", "an", "my", "our", "your", "his", "her", "their", "its", "saya", "kami", "kita", "aku"}
)


@dataclass(frozen=True)
class AgencyLexicon:
    """One agency's routing words, as written in its [[opd]] table."""

    code: str
    keywords: Sequence[str]
    categories: Mapping[str, Sequence[str]] = field(default_factory=dict)
    exclude: Sequence[str] = ()
    # Words that name a place as often as a problem ("jalan", "got", "road"): they count only with
    # one of `problems` a few words away ("jalan ... berlubang", "the drain is clogged").
    needs_problem: Sequence[str] = ()
    problems: Sequence[str] = ()
    # Words after which this agency's words are an attachment or proof, not the matter
    # ("lampirkan foto KK", "upload NIK", "sesuai KTP").
    proof: Sequence[str] = ()


@dataclass(frozen=True)
class OtherMatter:
    """A known topic that is none of the agencies' (electricity, traffic, schools...): to humas."""

    name: str
    words: Sequence[str]


class Entry(NamedTuple):
    """A compiled keyword or phrase of one agency (or of an other matter, index >= the agencies)."""

    agency: int
    words: tuple[str, ...]
    text: str
    weight: float
    categories: tuple[str, ...]
    # Counts only with one of the agency's problem words nearby.
    conditional: bool = False


# Kinds of the phrases a token may start (Token.starts).
EXCLUDE, PROBLEM, PROOF = 0, 1, 2
# A phrase a token may start: (kind, agency, words).
Start = tuple[int, int, tuple[str, ...]]
_NO_FOLLOWS: Mapping[str, tuple[Start, ...]] = MappingProxyType({})
# Token.flags: what the matcher looks for at a token, worked out once per word instead of once per
# message: an entry starts here, a phrase may start here, a comparison ("kayak") is made here, the
# sentence turns here ("tapi", "sehingga", "jadi").
KEYED, PHRASES, SIMILE, TURN = 1, 2, 4, 8
_TURNS = CONTRAST_WORDS | CONSEQUENCE_WORDS | CONSEQUENCE_SO
# Distinct whitespace-separated pieces of text whose reading Lexicon.read() keeps.
PIECE_CACHE = 32768


class Token(NamedTuple):
    """A text token with the lexicon word it stands for (None: not a lexicon word)."""

    raw: str
    key: str | None
    similarity: float
    # Written with a glued preposition ("dijalan"): a place, like "di jalan".
    locative: bool = False
    # The word without a possessive "-nya" ("keluarnya" -> "keluar"), if it had one.
    bare: str | None = None
    # The one-word exclude, problem and proof phrases that this word is: (kind, agency, words).
    starts: tuple[Start, ...] = ()
    # The longer ones that may start here, by their second word (as written, lexicon word or bare).
    follows: Mapping[str, tuple[Start, ...]] = _NO_FOLLOWS
    flags: int = 0


class Reading(NamedTuple):
    """A text as classify() reads it: its tokens looked up, and what it gives the second opinion."""

    # Its tokens (each one's `raw` is the normalized word).
    toks: list[Token]
    # The summed weights of the text's known features, by piece and pair across pieces, and how many
    # features (Opinion.judge()); empty and 0 without a second opinion or without words.
    rows: list[Row]
    known: int


# One whitespace-separated piece of a text read: its tokens; its part for the second opinion, flat
# (Part's fields; the first word None without a model or without the model's words); and whether a
# token of it depends on its neighbours (CONTEXTUAL). Flat, because read() unpacks one per piece.
_Piece = tuple[tuple[Token, ...], str | None, dict[str, Row], Row, int, bool]
_NO_PART = Part("", NO_PAIRS, (), 0)


class Lexicon:
    """Compiled lookup tables for classify(); build it once with Lexicon.build()."""

    def __init__(
        self,
        codes: tuple[str, ...],
        categories: tuple[tuple[str, ...], ...],
        entries: Mapping[str, tuple[Entry, ...]],
        excludes: Mapping[str, tuple[Phrase, ...]],
        vocabulary: frozenset[str],
        problems: Mapping[str, tuple[Phrase, ...]] | None = None,
        proofs: Mapping[str, tuple[Phrase, ...]] | None = None,
        others: tuple[str, ...] = (),
        opinion: Opinion | None = None,
    ) -> None:
        self.codes = codes
        # The learned second opinion classify() consults (routing/opinion.py); None: the words alone.
        self.opinion = opinion
        self.index = {code: position for position, code in enumerate(codes)}
        self.categories = categories
        # First word of an entry -> the entries starting with it, longest first.
        self.entries = entries
        # The same, split for speed: one-word entries by their word, longer ones by their first two words.
        self.singles: dict[str, tuple[Entry, ...]] = {}
        self.pairs: dict[tuple[str, str], tuple[Entry, ...]] = {}
        for first, group in entries.items():
            singles = tuple(entry for entry in group if len(entry.words) == 1)
            if singles:
                self.singles[first] = singles
            for entry in group:
                if len(entry.words) > 1:
                    pair = (first, entry.words[1])
                    self.pairs[pair] = (*self.pairs.get(pair, ()), entry)
        # First word of an exclude phrase -> (agency, phrase words).
        self.excludes = excludes
        # First word of a problem or proof phrase -> (agency, phrase words), longest first.
        self.problems: Mapping[str, tuple[Phrase, ...]] = problems or {}
        self.proofs: Mapping[str, tuple[Phrase, ...]] = proofs or {}
        # Names of the other matters; their entries use agency index len(codes) + position.
        self.others = others
        self.vocabulary = vocabulary
        # Typos are forgiven in the agencies' own words only: problem, proof and other-matter words
        # are many and everyday ("tidak", "panjang"), and would catch real words as their "typos".
        keywords = {
            word for group in entries.values() for entry in group if entry.agency < len(codes) for word in entry.words
        }
        choices = sorted(word for word in keywords if len(word) >= MIN_FUZZY_LENGTH)
        # fuzz.ratio >= 86 needs lengths within about 25% of each other: skip hopeless long tokens.
        self._longest_fuzzy = max((len(word) for word in choices), default=0) * 4 // 3 + 1
        # ... and a word is compared only with the keywords whose length allows it: fuzz.ratio is
        # 100 * (1 - indel distance / total length), and the distance is at least the difference in
        # length. rapidfuzz would reject the others too, but only after converting each (most of the
        # time of a look-up). Same order, so the same best match on a tie.
        self._choices_by_length = {
            length: [
                word for word in choices if abs(length - len(word)) * 100 <= (100 - FUZZY_CUTOFF) * (length + len(word))
            ]
            for length in range(MIN_FUZZY_LENGTH, self._longest_fuzzy + 1)
        }
        # Per instance, so that a discarded lexicon's cache goes with it.
        self.lookup = lru_cache(maxsize=65536)(self._token)
        # A plain dict, emptied when full, rather than an lru_cache: read() asks it for every piece of
        # every message, and a dict lookup costs less than an lru_cache hit and its bookkeeping.
        self._pieces: dict[str, _Piece] = {}

    def read(self, text: str) -> Reading:
        """A text's tokens, looked up, and what its pieces give the second opinion."""
        toks: list[Token] = []
        rows: list[Row] = []
        known = 0
        then = NO_PAIRS
        contextual = False
        pieces = self._pieces
        # A token never spans whitespace: a text reads as its pieces, and a desk sees the same
        # pieces again and again ("sampah", "jln,", "tlg").
        low, translated = lowered_and_translated(text)
        for chunk in low.split():
            piece_toks, first, part_then, row, part_known, piece_contextual = pieces.get(chunk) or self._piece(chunk)
            toks += piece_toks
            if first is not None:
                # The model's score is a sum over words and neighbouring pairs: each piece's share is
                # kept, only the pair across the last piece and this one is looked up. (Here, not in
                # opinion.py, because this loop runs for every piece of every message.)
                across = then.get(first)
                if across is not None:
                    rows.append(across)
                    known += 1
                rows.append(row)
                known += part_known
                then = part_then
            if piece_contextual:
                contextual = True
        if contextual:
            toks = [self.lookup(word) for word in context_tokens([tok.raw for tok in toks])]
        opinion = self.opinion
        if opinion is not None and translated:
            # The model reads the text as it was trained: without lowered()'s removal of invisible
            # characters and dashes. (Where it removed none, its pieces' words are the text's.)
            rows, known = opinion.tally(text)
        return Reading(toks, rows, known)

    def _piece(self, chunk: str) -> _Piece:
        """Read one piece of lowered text and keep it."""
        words = chunk_tokens(chunk)
        opinion = self.opinion
        # A piece without the model's words (punctuation, one letter) has no part: the pairs go from
        # the piece before it to the piece after.
        model_words = words_of_lowered(chunk) if opinion is not None else ()
        first, then, row, known = opinion.part(model_words) if opinion is not None and model_words else _NO_PART
        piece = (
            tuple([self.lookup(word) for word in words]),
            first if model_words else None,
            then,
            row,
            known,
            not CONTEXTUAL.isdisjoint(words),
        )
        if len(self._pieces) >= PIECE_CACHE:
            self._pieces.clear()
        self._pieces[chunk] = piece
        return piece

    def _token(self, raw: str) -> Token:
        """The token of a word, with what the matcher needs precomputed (the result is cached)."""
        token = self._lookup(raw)
        bare = raw[:-3] if raw.endswith("nya") and len(raw) > 5 else None
        starts: list[Start] = []
        follows: dict[str, list[Start]] = {}
        for kind, table in ((EXCLUDE, self.excludes), (PROBLEM, self.problems), (PROOF, self.proofs)):
            seen: set[tuple[int, tuple[str, ...]]] = set()
            for word in (raw, token.key, bare):
                if word is None:
                    continue
                for agency, words in table.get(word, ()):
                    if (agency, words) not in seen:
                        seen.add((agency, words))
                        if len(words) == 1:
                            starts.append((kind, agency, words))
                        else:
                            follows.setdefault(words[1], []).append((kind, agency, words))
        flags = (
            (KEYED if token.key in self.entries else 0)
            | (PHRASES if starts or follows else 0)
            | (SIMILE if raw in SIMILE_WORDS else 0)
            | (TURN if raw in _TURNS else 0)
        )
        if bare is None and not flags:
            return token
        return token._replace(
            bare=bare,
            starts=tuple(starts),
            follows={second: tuple(group) for second, group in follows.items()} if follows else _NO_FOLLOWS,
            flags=flags,
        )

    @classmethod
    def build(
        cls, agencies: Iterable[AgencyLexicon], others: Iterable[OtherMatter] = (), opinion: Opinion | None = None
    ) -> Lexicon:
        """Compile agencies' words, the other matters' words and an opinion's labels; ValueError on nonsense."""
        codes: list[str] = []
        category_names: list[tuple[str, ...]] = []
        compiled: dict[tuple[int, tuple[str, ...]], Entry] = {}
        exclude_phrases: list[Phrase] = []
        problem_phrases: list[Phrase] = []
        proof_phrases: list[Phrase] = []
        for index, agency in enumerate(agencies):
            code = _check_code(agency, codes)
            codes.append(code)
            who = f"agency {code}"
            names = _check_categories(code, agency.categories)
            category_names.append(names)
            needs_problem = _check_words(who, "needs_problem", agency.needs_problem)
            conditional = {_phrase(who, "needs_problem", word) for word in needs_problem}
            word_categories: list[tuple[str, str | None]] = [
                (word, None) for word in [*_check_words(who, "keywords", agency.keywords), *needs_problem]
            ]
            for name in names:
                words = _check_words(who, f"categories.{name}", agency.categories[name])
                word_categories.extend((word, name) for word in words)
            if not word_categories:
                raise ValueError(f"{who}: needs at least one keyword")
            for word, category in word_categories:
                _add_entry(compiled, index, _keyword(who, "keyword", word), category, conditional)
            for key, phrases in (("exclude", exclude_phrases), ("problems", problem_phrases), ("proof", proof_phrases)):
                for phrase in _check_words(who, key, getattr(agency, key)):
                    phrases.append((index, _phrase(who, f"{key} phrase", phrase)))
        other_names: list[str] = []
        for offset, other in enumerate(others):
            name = other.name
            if not isinstance(name, str) or not name.strip():
                raise ValueError(f"other matter name must be a non-empty string, got {name!r}")
            who = f"other matter {name!r}"
            words = _check_words(who, "words", other.words)
            if not words:
                raise ValueError(f"{who}: needs at least one word")
            for word in words:
                _add_entry(compiled, len(codes) + offset, _keyword(who, "word", word), None, set())
            other_names.append(name)

        by_first: dict[str, list[Entry]] = {}
        for entry in compiled.values():
            by_first.setdefault(entry.words[0], []).append(entry)
        entries = {
            first: tuple(sorted(group, key=lambda e: (-len(e.words), e.agency))) for first, group in by_first.items()
        }
        vocabulary = frozenset(
            [word for entry in compiled.values() for word in entry.words]
            + [word for _, words in problem_phrases + proof_phrases for word in words]
        )
        return cls(
            tuple(codes),
            tuple(category_names),
            entries,
            _by_first(exclude_phrases),
            vocabulary,
            problems=_by_first(problem_phrases),
            proofs=_by_first(proof_phrases),
            others=tuple(other_names),
            opinion=_checked_opinion(opinion, codes),
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
        if not MIN_FUZZY_LENGTH <= len(raw) <= self._longest_fuzzy or not raw.isalpha() or raw in KNOWN_WORDS:
            return Token(raw, None, 0.0)
        best = process.extractOne(
            raw, self._choices_by_length[len(raw)], scorer=fuzz.ratio, processor=None, score_cutoff=FUZZY_CUTOFF
        )
        if best is None:
            return Token(raw, None, 0.0)
        word = best[0]
        if raw.startswith(word) and raw[len(word) :].strip(word[-1]):
            # "jalani" is "jalan" + a suffix that makes another word, not a typo of it.
            return Token(raw, None, 0.0)
        return Token(raw, word, best[1] / 100.0)


Phrase = tuple[int, tuple[str, ...]]


def _keyword(who: str, where: str, text: str) -> tuple[str, ...]:
    """The words of an agency's or a matter's keyword, or ValueError if it starts with a filler word."""
    words = _phrase(who, where, text)
    if words[0] in FILLERS:
        # The matcher steps over fillers between a phrase's words; a keyword starting with one would
        # be looked up at the filler itself and stop that stepping for every other phrase.
        raise ValueError(f"{who}: {where} {text!r} starts with {words[0]!r}; leave it out")
    return words


def _phrase(who: str, where: str, text: str) -> tuple[str, ...]:
    """The normalized words of a configured word or phrase, or ValueError if it has none."""
    words = tuple(tokens(text))
    if not words:
        raise ValueError(f"{who}: {where} {text!r} has no letters or digits")
    return words


def _add_entry(
    compiled: dict[tuple[int, tuple[str, ...]], Entry],
    index: int,
    words: tuple[str, ...],
    category: str | None,
    conditional: set[tuple[str, ...]],
) -> None:
    """Add a word of an agency to the compiled entries, merging its categories."""
    old = compiled.get((index, words))
    cats = old.categories if old else ()
    if category is not None and category not in cats:
        cats = (*cats, category)
    weight = 1.0 + PHRASE_BONUS * (len(words) - 1)
    compiled[(index, words)] = Entry(index, words, " ".join(words), weight, cats, words in conditional)


def _by_first(phrases: list[Phrase]) -> dict[str, tuple[Phrase, ...]]:
    """Phrases grouped by their first word, longest first."""
    grouped: dict[str, list[Phrase]] = {}
    for agency, words in phrases:
        grouped.setdefault(words[0], []).append((agency, words))
    return {first: tuple(sorted(group, key=lambda p: -len(p[1]))) for first, group in grouped.items()}


def _known_stem(raw: str, vocabulary: frozenset[str]) -> str | None:
    """The vocabulary word under a possessive suffix or a glued "di" ("jalannya", "dijalan")."""
    for suffix in _SUFFIXES:
        # A stem of two letters is too easily another word's start ("punya" is not "pu" + "nya").
        if raw.endswith(suffix) and len(raw) - len(suffix) >= 3 and raw[: -len(suffix)] in vocabulary:
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


def _check_words(who: str, where: str, words: Sequence[str]) -> list[str]:
    """The words of one list, or ValueError if one is not a non-blank string."""
    if isinstance(words, str) or not isinstance(words, Sequence):
        raise ValueError(f"{who}: {where} must be a list of strings, got {words!r}")
    for word in words:
        if not isinstance(word, str) or not word.strip():
            raise ValueError(f"{who}: {where} has an empty or non-string word: {word!r}")
    return list(words)


def _checked_opinion(opinion: Opinion | None, codes: Sequence[str]) -> Opinion | None:
    """The opinion, if each of its labels is an agency of this lexicon or none; ValueError if not."""
    if opinion is None:
        return None
    unknown = sorted(set(opinion.labels) - {*codes, NO_AGENCY})
    if unknown:
        raise ValueError(f"the routing model knows agencies the settings do not: {', '.join(unknown)}")
    return opinion

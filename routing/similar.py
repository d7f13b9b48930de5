"""Whether two complaint texts report the same problem at the same place ("already reported?").

Two reports of one pothole share its place (a street, a landmark, a neighbourhood, a number) and its
kind of problem, and little else: their length, spelling, tone and how long they say it has lasted
differ. So a text is read down to what it says of the two:

- its place words: the words at most a few after a place cue ("di", "depan", "jl", "RT", "pasar"),
  once the lexicon's own words (the problems and things the agencies deal with), function words and
  numbers that count a time or an amount are taken out; a text without a place names none;
- the numbers among them, by value ("RT 02" is "RT 2");
- the kinds of problem it names: the categories of the agency keywords the matcher finds in it
  (not negated; not the words that only name a place, like "jalan").

Two texts are alike as much as their place words are (rapidfuzz's token_set_ratio: one may name
more of the place than the other; the names only, without the words for a kind of place like
"pasar", when both have names), unless numbers disagree ("SD 5" / "SD 15") or both name a kind of
problem and no kind is shared (a pothole and a clogged drain in one street). The rule and the
threshold were chosen on blind labelled pairs and measured on others (docs/BENCHMARKS.md).
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from rapidfuzz import fuzz

from routing.cues import PLACE_WORDS
from routing.lexicon import Lexicon, Token
from routing.match import match

# A similarity (0-100) at or above this is offered as "already reported?".
SAME_PROBLEM = 55.0
# fuzz.ratio at or above which two place words are one, misspelt ("bonggoeya" / "bonggeya").
SAME_WORD = 85.0
# Distinct texts whose reading a Comparer keeps (the open complaints a desk compares against).
REPORT_CACHE = 4096

# Words that say nothing of a place: particles and function words (Indonesian, chat, English), the
# words around a place ("depan", "near"), the generic words of every complaint of a kind, and time.
_NOT_PLACE = PLACE_WORDS | frozenset(
    """dari dan yang sudah belum tidak ada sangat sekali banget pak bu tolong mohon minta saya kami kalau setiap tiap
    sejak hari minggu seminggu bulan sebulan tahun setahun jam lagi juga dengan untuk sampai jadi bisa karena katanya
    ini itu jalan lorong pinggir sepanjang dalam atas bawah sampah tumpukan numpuk menumpuk menggunung berserakan
    diangkut angkut truk bau busuk penuh rusak parah berlubang lubang besar kecil banjir tergenang kebanjiran air
    hujan deras tersumbat mampet meluap selokan got drainase saluran lampu mati kmi kita aku gue gw pun lah kah dong
    deh sih nih tuh ya sama bikin buat saja masih terus makin semakin banyak segera cepat please pls min admin harap
    kemarin tadi pagi siang sore malam sekarang td
    the a an is are was were be been of to for from with and or but not no this that it its there here opposite
    front our my we i you they he she has have had every since days day week weeks month months already still again
    very so too now today yesterday
    lalu bantu dibantu bantuannya harus lapor melapor laporan kemana soal bingung mau ingin bagaimana kenapa kapan apa
    siapa mana tau tahu kasih terima makasih bahaya berbahaya lapuk licin gelap kotor becek""".split()
)
# (Chat spellings need no entry: the tokens come normalized, "sdh" as "sudah", "jln" as "jalan".)
# A number before one of these counts an amount or a time ("2 minggu", "30 cm"), after one of _CLOCK
# it is an hour ("jam 7"): neither names a place.
_UNITS = frozenset(
    """detik menit jam hari minggu bulan tahun th kali x orang cm mm meter m km kg ribu rb juta jt persen seconds
    minutes hours days weeks months years times people meters""".split()
)
_CLOCK = frozenset({"jam", "pukul"})
# Words for a kind of place: "pasar Mandonga" and "pasar Baruga" share "pasar" and are two markets.
# Places are compared by their other words, when both texts have some.
_PLACE_NOUNS = frozenset(
    """pasar masjid mesjid musholla gereja sekolah sd sdn smp smpn sma sman smk smkn kampus kantor rumah gang gg
    lorong kelurahan kecamatan rt rw blok perumahan btn komplek kompleks pertigaan perempatan simpang bundaran lampu
    merah jembatan kali sungai pantai terminal pelabuhan rs rsud puskesmas spbu pom bensin toko warung lapangan taman
    kota""".split()
)


# A text names its place after one of these ("di", "depan", "jl", "RT", "pasar", "near"): its place words
# are those at most PLACE_REACH words after one. A text without any ("KTP saya belum jadi") names no
# place, and two such texts are never the same problem: a citizen's own document is theirs alone.
_PLACE_CUES = (
    PLACE_WORDS
    | frozenset(
        """dari pinggir sepanjang dalam jalan gang gg lorong kelurahan kecamatan rt rw blok btn perumahan komplek
        kompleks opposite front along""".split()
    )
    | _PLACE_NOUNS
)
PLACE_REACH = 4


class Report(NamedTuple):
    """What a complaint text says of its place and its kind of problem."""

    # Its place words, in text order, space-separated; and those of them that are not a kind of place
    # or a number (the names: "mandonga" of "pasar Mandonga").
    place: str
    names: str
    # The numbers among them, by value.
    numbers: frozenset[str]
    # The categories of the agency keywords it names.
    kinds: frozenset[str]


def report(text: str, lexicon: Lexicon) -> Report:
    """Read a complaint text down to its place words, numbers and kinds of problem."""
    toks = lexicon.read(text).toks
    kinds, covered = _matched(toks, lexicon)
    place: list[str] = []
    numbers: set[str] = set()
    cue = -PLACE_REACH - 1  # where the last place cue was
    for at, tok in enumerate(toks):
        word = tok.raw
        if word in _PLACE_CUES:
            cue = at
        if at in covered or at - cue > PLACE_REACH:
            continue  # a word of one of the lexicon's phrases ("elektronik" of "KTP elektronik"), or no place
        if word.isdecimal():  # int() takes any script's decimal digits, not superscripts
            if (at + 1 < len(toks) and toks[at + 1].raw in _UNITS) or (at > 0 and toks[at - 1].raw in _CLOCK):
                continue
            word = str(int(word))
            numbers.add(word)
            place.append(word)
        elif _is_place_word(_base(tok), lexicon):
            place.append(_base(tok))
    names = " ".join(word for word in place if word not in _PLACE_NOUNS and not word.isdecimal())
    return Report(" ".join(place), names, frozenset(numbers), kinds)


def similarity(a: Report, b: Report) -> float:
    """How alike two reports are as the same problem at the same place, 0-100."""
    if not a.place or not b.place:
        return 0.0
    if a.numbers and b.numbers and not a.numbers & b.numbers:
        return 0.0
    if a.kinds and b.kinds and not a.kinds & b.kinds:
        return 0.0
    mine, theirs = (a.names, b.names) if a.names and b.names else (a.place, b.place)
    # token_set_ratio of two sets with no word in common is a chance likeness of their letters
    # ("bahaya baruga" / "kayu puuwatu"): one place needs one word at least, if misspelt.
    if not _share_a_word(mine.split(), theirs.split()):
        return 0.0
    return float(fuzz.token_set_ratio(mine, theirs))


class Comparer:
    """Compares complaint texts by one lexicon, reading each text once (a desk compares each new
    report with the same open complaints)."""

    def __init__(self, lexicon: Lexicon) -> None:
        self._lexicon = lexicon
        self.report = lru_cache(maxsize=REPORT_CACHE)(self._report)

    def _report(self, text: str) -> Report:
        return report(text, self._lexicon)

    def score(self, a: str, b: str) -> float:
        """similarity() of two texts, 0-100."""
        return similarity(self.report(a), self.report(b))


def _share_a_word(mine: list[str], theirs: list[str]) -> bool:
    """Whether two lists of words have one in common, or nearly (one typo in a word of 4+ letters)."""
    if not set(mine).isdisjoint(theirs):
        return True
    return any(
        len(word) >= 4 and len(other) >= 4 and fuzz.ratio(word, other) >= SAME_WORD for word in mine for other in theirs
    )


def _base(tok: Token) -> str:
    """A word without "-nya" and without its reduplication ("papannya" -> "papan", "lubang-lubang" -> "lubang")."""
    word = tok.bare or tok.raw
    first, dash, rest = word.partition("-")
    return first if dash and rest == first else word


def _is_place_word(word: str, lexicon: Lexicon) -> bool:
    """Whether a word may name a place: not a function word, nor one of the lexicon's one-word keywords
    (an agency's or an other matter's). A problem word may be a name ("Pasar Panjang")."""
    if len(word) < 2 or word in _NOT_PLACE:
        return False
    key = lexicon.lookup(word).key
    return key is None or key not in lexicon.singles


def _matched(toks: list[Token], lexicon: Lexicon) -> tuple[frozenset[str], set[int]]:
    """The categories of the agency keywords found in the tokens (not negated, not mere place words),
    and the positions of every keyword and phrase found."""
    if not toks:
        return frozenset(), set()
    agencies = len(lexicon.codes)
    kinds: set[str] = set()
    covered: set[int] = set()
    for agency, hits in match(toks, lexicon).hits.items():
        for hit in hits.values():
            covered.update(range(hit.start, hit.start + len(hit.entry.words)))
            if agency < agencies and hit.context > 0.0 and not hit.entry.conditional:
                kinds.update(hit.entry.categories)
    return frozenset(kinds), covered

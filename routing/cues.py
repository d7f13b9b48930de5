"""Cue words: the little words that say how a sentence's keywords count (place, denial, comparison, "but")."""

from __future__ import annotations

# The words before a place: "sampah di jalan", "depan kantor capil", "dekat jembatan", "near the market".
PLACE_WORDS = frozenset(
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
        "near",
        "at",
        "on",
        "in",
        "behind",
        "beside",
        "around",
    }
)
# A keyword right after a place word names where, not what. So does one after a word of passing,
# of circumstance ("hilang waktu banjir") or of concession ("padahal NIK sdh benar": the NIK is the
# background, not the matter).
CONTEXT_WORDS = PLACE_WORDS | frozenset(
    {
        "lewat",
        "melewati",
        "outside",
        "waktu",
        "saat",
        "ketika",
        "kena",
        "padahal",
        "walaupun",
        "meskipun",
        "although",
        "though",
    }
)
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

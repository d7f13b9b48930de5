"""Pure complaint routing: text -> (OPD, category, confidence). No I/O, no storage, no bot imports."""

from routing.classify import Classification, Guess, classify
from routing.lexicon import AgencyLexicon, Lexicon, OtherMatter
from routing.normalize import normalize

__all__ = ["AgencyLexicon", "Classification", "Guess", "Lexicon", "OtherMatter", "classify", "normalize"]

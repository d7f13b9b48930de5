"""Pure complaint routing: text -> (OPD, category, confidence). No I/O, no storage, no bot imports."""

from routing.classify import Classification, classify
from routing.lexicon import AgencyLexicon, Lexicon
from routing.normalize import normalize

__all__ = ["AgencyLexicon", "Classification", "Lexicon", "classify", "normalize"]

"""Reading the routing second opinion: the model shipped with the bot, or one a desk trained.

Like __main__, an edge of routing/: it reads a file. The rest of routing/ stays pure.
"""

from __future__ import annotations

import gzip
from collections.abc import Collection
from functools import lru_cache
from importlib import resources
from pathlib import Path

from routing.opinion import NO_AGENCY, Opinion, parse_opinion

BUILTIN = "builtin"
OFF = "off"
# The shipped model, in routing/data (made by `make routing-model`).
BUILTIN_FILE = "opinion.txt.gz"


def load_opinion(setting: str, codes: Collection[str]) -> Opinion | None:
    """The model [routing] model names: the shipped one, none ("off"), or a file; ValueError if unreadable.

    The shipped model knows Kendari's agencies (DLHK, PUPR, DISDUKCAPIL): a desk whose agencies are
    others gets none (the words alone) rather than routes to offices it does not have. A file of
    the desk's own is checked against its agencies when the lexicon is built.
    """
    if setting == OFF:
        return None
    if setting == BUILTIN:
        builtin = _builtin()
        return builtin if set(builtin.labels) <= {*codes, NO_AGENCY} else None
    return _from_file(Path(setting))


@lru_cache(maxsize=1)
def _builtin() -> Opinion:
    """The shipped model, read once per process (every desk built in it shares it: it is immutable)."""
    data = resources.files("routing.data").joinpath(BUILTIN_FILE).read_bytes()
    return parse_opinion(gzip.decompress(data).decode("utf-8"))


def _from_file(path: Path) -> Opinion:
    """A model file (gzip-compressed if its name ends in .gz)."""
    try:
        data = path.read_bytes()
        text = (gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8")
    except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError) as exc:
        raise ValueError(f"[routing] model: {path}: cannot read it ({exc})") from None
    try:
        return parse_opinion(text)
    except ValueError as exc:
        raise ValueError(f"[routing] model: {path}: {exc}") from None

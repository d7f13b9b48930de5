"""The lexicon from already-parsed settings tables ([[opd]] and [[other]]): no file is read here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from routing.lexicon import AgencyLexicon, Lexicon, OtherMatter
from routing.opinion import Opinion

# The [[opd]] keys that are lists of words, and what the lexicon calls them.
WORD_LISTS = ("keywords", "needs_problem", "problems", "exclude", "proof")


def lexicon_from_tables(data: Mapping[str, Any], opinion: Opinion | None = None) -> Lexicon:
    """Compile the [[opd]] and [[other]] tables of a parsed TOML document; ValueError names the key."""
    tables = data.get("opd")
    if not isinstance(tables, list) or not tables:
        raise ValueError("no [[opd]] tables")
    agencies = [_agency(index, table) for index, table in enumerate(tables)]
    others_data = data.get("other", [])
    if not isinstance(others_data, list):
        raise ValueError("other: must be [[other]] tables")
    others = [_other(index, table) for index, table in enumerate(others_data)]
    try:
        return Lexicon.build(agencies, others, opinion)
    except ValueError as exc:
        raise ValueError(f"opd: {exc}") from None


def _agency(index: int, table: Any) -> AgencyLexicon:
    """One [[opd]] table as an AgencyLexicon; its other keys (name, chat id) are not ours."""
    where = f"opd[{index}]"
    if not isinstance(table, dict):
        raise ValueError(f"{where}: must be a table")
    code = table.get("code")
    if not isinstance(code, str) or not code:
        raise ValueError(f"{where}.code: missing or not a string")
    keywords = table.get("keywords")
    if not isinstance(keywords, list) or not keywords:
        raise ValueError(f"{where}.keywords: must be a non-empty list of strings")
    lists: dict[str, list[Any]] = {}
    for key in WORD_LISTS:
        value = table.get(key, [])
        if not isinstance(value, list):
            raise ValueError(f"{where}.{key}: must be a list of strings")
        lists[key] = value
    categories = table.get("categories", {})
    if not isinstance(categories, dict) or not all(isinstance(words, list) for words in categories.values()):
        raise ValueError(f"{where}.categories: must be a table of name -> list of strings")
    return AgencyLexicon(code=code, categories=categories, **lists)


def _other(index: int, table: Any) -> OtherMatter:
    """One [[other]] table: a topic that belongs to no agency."""
    where = f"other[{index}]"
    if not isinstance(table, dict):
        raise ValueError(f"{where}: must be a table")
    name = table.get("name")
    words = table.get("words")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{where}.name: missing or not a string")
    if not isinstance(words, list) or not words:
        raise ValueError(f"{where}.words: must be a non-empty list of strings")
    return OtherMatter(name=name, words=words)

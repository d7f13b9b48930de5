"""The understanding layer, scored on the conversation corpora, and its pieces."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from routing.understand import Context, Meaning, State, find_ticket, understand

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_understanding import CORPORA, STATES, judge, load, score  # noqa: E402


@pytest.mark.parametrize("path", CORPORA, ids=lambda p: p.name)
def test_the_corpus_is_understood_and_no_junk_complaint_is_made(path: Path) -> None:
    cases = load(path)
    assert len(cases) >= 50
    figures = score(cases, understand)
    misses = [c for c in cases if not judge(c, understand(str(c["text"]), STATES[str(c["state"])]))]
    assert figures["right"] >= 0.95, misses
    # A junk complaint lands in an agency's group with a deadline and, a day later, a reprimand.
    assert figures["junk"] == 0, [c for c in misses if c["expect"] != "complaint"]


def test_the_corpora_together_cover_every_state_and_most_meanings() -> None:
    cases = [c for path in CORPORA for c in load(path)]
    assert len(cases) >= 150
    assert {str(c["state"]) for c in cases} >= set(STATES) - {"confirming_location"}
    assert len({str(c["expect"]) for c in cases}) >= 18


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("KDI-0001", 1),
        ("kdi 42 gimana", 42),
        ("#KDI-7 sudah", 7),
        ("KDI7", 7),
        ("kdi-0007?", 7),
        ("tiket 0007", 7),
        ("#7", 7),
        ("no 7", 7),
        ("#8", None),  # not the citizen's: a house number, a list item
        ("rumah no 12", None),
        ("KDI-٠٠٠١", None),  # only ASCII digits make a ticket number
        ("ABC-0001", None),
    ],
)
def test_ticket_numbers_written_every_reasonable_way(text: str, expected: int | None) -> None:
    context = Context(State.IDLE, open_tickets=(7,), ticket_prefix="KDI")
    assert find_ticket(text, context)[0] == expected


def test_a_rating_in_words_or_digits_only_when_awaited() -> None:
    awaiting = Context(State.AWAITING_RATING, open_tickets=(7,), answered_tickets=(7,), rating_for=7)
    assert understand("mantap 5 bintang pak", awaiting).stars == 5
    assert understand("kurang", awaiting).stars == 2
    assert understand("10", awaiting).meaning == Meaning.UNCLEAR
    # Idle, a digit is not a rating and a number alone is not a complaint.
    assert understand("5", Context(State.IDLE)).meaning not in (Meaning.RATING, Meaning.COMPLAINT)


def test_fillers_are_not_locations_and_places_are() -> None:
    at = Context(State.AWAITING_LOCATION)
    for filler in ("ok", "ya", "5", "nanti", "rumah saya"):
        assert understand(filler, at).meaning == Meaning.UNCLEAR, filler
    for place in ("depan SD 5 Baruga", "Jl. Malaka lorong 3 dekat masjid", "samping pasar Wua-Wua"):
        assert understand(place, at).meaning == Meaning.LOCATION, place

"""The text comparison behind "already reported?" (routing.similar), held to the labelled pairs it was
measured on: the 55 it was first chosen on, and blind batches written by helpers who saw neither."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.desk import Desk
from handlers.duplicates import NEW, choice
from handlers.events import ChannelName
from routing import Lexicon
from routing.similar import SAME_PROBLEM, Comparer
from routing.tables import lexicon_from_tables
from storage.duplicates import haversine_m
from tests.conftest import ROOT

DATA = ROOT / "tests" / "data"
EXAMPLE = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
# Each labelled set with the precision and recall recorded in docs/BENCHMARKS.md ("Which texts count as
# the same problem"), as floors.
MEASURED = {
    "duplicate_pairs.tsv": (0.65, 0.92),
    "duplicate_pairs_blind.tsv": (0.62, 0.83),
    "duplicate_pairs_blind2.tsv": (0.62, 0.83),
    "duplicate_pairs_blind3.tsv": (0.64, 0.76),
}


@pytest.fixture(scope="module")
def compare() -> Comparer:
    return Comparer(lexicon_from_tables(EXAMPLE))


def labelled_pairs(path: Path) -> list[tuple[bool, str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, a, b = line.split("\t")
            rows.append((label == "same", a, b))
    return rows


@pytest.mark.parametrize("name", sorted(MEASURED))
def test_the_comparison_keeps_its_measured_precision_and_recall(compare: Comparer, name: str) -> None:
    pairs = labelled_pairs(DATA / name)
    offered = [(same, compare.score(a, b) >= SAME_PROBLEM) for same, a, b in pairs]
    true_pos = sum(1 for same, hit in offered if same and hit)
    precision = true_pos / sum(1 for _, hit in offered if hit)
    recall = true_pos / sum(1 for same, _ in offered if same)
    low_precision, low_recall = MEASURED[name]
    assert precision >= low_precision and recall >= low_recall, (precision, recall)


def test_another_place_is_another_problem(compare: Comparer) -> None:
    score = compare.score
    assert score("sampah numpuk di pasar Mandonga", "sampah numpuk di pasar Panjang") < SAME_PROBLEM
    assert score("sampah numpuk di pasar Mandonga", "pasar mandonga sampahnya menumpuk") >= SAME_PROBLEM
    # Numbers that disagree name another house, school or neighbourhood.
    assert score("Sampah di depan rumah nomor 4 belum diangkut", "Sampah di depan rumah nomor 8 belum diangkut") == 0
    assert score("Jalan berlubang depan SD 5 Poasia", "jln berlubang bgt di depan SD 5 Poasia") >= SAME_PROBLEM


def test_two_places_with_no_word_in_common_are_two_places(compare: Comparer) -> None:
    # Their letters are alike by chance ("baruga" / "puuwatu"): no word of one place is in the other.
    bridge, road = "jembatan kayu di Puuwatu lapuk", "jalan berlubang besar di depan pasar Baruga"
    assert compare.score(bridge, road) == 0
    # A misspelt name is still the name.
    assert compare.score("sampah di dekat masjid Bonggoeya", "smpah dkt msjid bonggeya") >= SAME_PROBLEM


def test_another_kind_of_problem_at_the_same_place_is_another_problem(compare: Comparer) -> None:
    score = compare.score
    # One street, a pothole and a clogged drain: two problems, though the place is the same.
    assert score("Jalan Made Sabara dekat DPRD berlubang", "selokan di Jl. Made Sabara dekat DPRD tersumbat") == 0
    assert score("sampah di depan pasar Baruga dibakar tiap malam", "sampah di depan pasar Baruga tdk diangkut") == 0
    # The same kind in other words, or a text that names no kind at all, still compares by the place.
    assert score("jalan bolong depan SD 5 Poasia", "ada lubang besar di jln dpn sd 5 poasia") >= SAME_PROBLEM
    assert score("Jl. Sao-Sao depan Indomaret, tolong dicek", "lubang di jalan Sao Sao depan Indomaret") >= SAME_PROBLEM


def test_a_text_that_names_no_place_is_nobody_elses_problem(compare: Comparer) -> None:
    # Two citizens whose own KTP is late: two complaints, however alike the words.
    mine = "KTP elektronik saya belum jadi sejak 3 bulan lalu, mohon dibantu"
    assert compare.report(mine).place == ""
    assert compare.score(mine, "KTP elektronik saya belum jadi sejak 5 bulan lalu, mohon dibantu") == 0
    # A service point is a place: one broken queue machine, reported twice, is one problem.
    assert (
        compare.score("mesin antrian di kantor Dukcapil Kota rusak", "mesin antrian dukcapil kota mati") >= SAME_PROBLEM
    )


def test_a_number_is_compared_by_its_value_and_only_where_it_names_a_place(compare: Comparer) -> None:
    score = compare.score
    # "RT 02" and "RT 2" are one neighbourhood; "RT 3" another.
    assert score("TPS RT 02 Anduonohu penuh", "tps rt 2 anduonohu penuh") >= SAME_PROBLEM
    assert score("TPS RT 02 Anduonohu penuh", "TPS RT 3 Anduonohu penuh") == 0
    # How long it has lasted, how deep it is, or when it happens names no place.
    assert score("Sampah RT 5 Bende sdh 2 minggu", "sampah di RT 05 Bende udah 3 minggu gak diangkut") >= SAME_PROBLEM
    assert score("lubang 30 cm di jalan MT Haryono", "lubang di jalan MT Haryono dalamnya 50 cm") >= SAME_PROBLEM
    assert score("sampah dibakar jam 7 malam di Kambu", "sampah dibakar jam 9 malam di Kambu") >= SAME_PROBLEM


@settings(max_examples=300, deadline=None)
@given(st.text(), st.lists(st.sampled_from(["di", "RT", "𐩀", "²", "٣", "pasar", "sampah", "3", " "])).map(" ".join))
def test_any_two_texts_compare_without_error(compare: Comparer, text: str, other: str) -> None:
    assert 0.0 <= compare.score(text, other) <= 100.0
    # A digit str.isdigit() takes but int() does not (Kharosthi, superscripts) is no number.
    assert compare.score("sampah di RT \U00010a40 Kambu", text) >= 0.0


def test_distances() -> None:
    assert 95 < haversine_m(-3.97780, 122.51510, -3.97690, 122.51510) < 105
    assert 390 < haversine_m(-3.97780, 122.51510, -3.97420, 122.51510) < 410


def test_answers_to_the_offer() -> None:
    desk = Desk(
        city="Kota Kendari",
        ticket_prefix="KDI",
        zone=ZoneInfo("Asia/Makassar"),
        answer_within=timedelta(hours=24),
        remind_before=timedelta(hours=3),
        draft_ttl=timedelta(hours=2),
        humas_chat_id="-1",
        humas_admin_ids=frozenset(),
        agencies={},
        lexicon=Lexicon.build([]),
        staff_channel=ChannelName("telegram"),
    )
    assert choice(desk, "2", [42, 51]) == 51
    assert choice(desk, "yang no 1 pak", [42, 51]) == 42
    assert choice(desk, "KDI-0051", [42, 51]) == 51
    assert choice(desk, "#kdi-51", [42, 51]) == 51
    assert choice(desk, "KDI-0007", [42, 51]) is None  # not one of those offered
    assert choice(desk, "4", [42, 51]) is None
    assert choice(desk, "baru", [42]) == NEW and choice(desk, "bukan, lain tempat", [42]) == NEW
    assert choice(desk, "ya", [42]) == 42 and choice(desk, "ya", [42, 51]) is None

"""The text comparison behind "already reported?", held to the labelled pairs it was measured on."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from handlers.desk import Desk
from handlers.duplicates import NEW, choice
from handlers.events import ChannelName
from routing import Lexicon
from storage.duplicates import TEXT_THRESHOLD, haversine_m, text_score
from tests.conftest import ROOT

PAIRS = ROOT / "tests" / "data" / "duplicate_pairs.tsv"


def labelled_pairs() -> list[tuple[bool, str, str]]:
    rows = []
    for line in PAIRS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, a, b = line.split("\t")
            rows.append((label == "same", a, b))
    return rows


def test_the_threshold_keeps_the_measured_precision_and_recall() -> None:
    # docs/BENCHMARKS.md records the figures: precision 0.88, recall 0.88 on these 55 pairs.
    pairs = labelled_pairs()
    assert len(pairs) == 55
    offered = [(same, text_score(a, b) >= TEXT_THRESHOLD) for same, a, b in pairs]
    true_pos = sum(1 for same, hit in offered if same and hit)
    precision = true_pos / sum(1 for _, hit in offered if hit)
    recall = true_pos / sum(1 for same, _ in offered if same)
    assert precision >= 0.87 and recall >= 0.87


def test_another_place_is_another_problem() -> None:
    assert text_score("sampah numpuk di pasar Mandonga", "sampah numpuk di pasar Panjang") < TEXT_THRESHOLD
    assert text_score("sampah numpuk di pasar Mandonga", "pasar mandonga sampahnya menumpuk") >= TEXT_THRESHOLD
    # Numbers that disagree name another house, school or neighbourhood.
    assert (
        text_score("Sampah di depan rumah nomor 4 belum diangkut", "Sampah di depan rumah nomor 8 belum diangkut") == 0
    )
    assert text_score("Jalan berlubang depan SD 5 Poasia", "jln berlubang bgt di depan SD 5 Poasia") >= TEXT_THRESHOLD


def test_a_number_is_compared_by_its_value_and_only_where_it_names_a_place() -> None:
    # "RT 02" and "RT 2" are one neighbourhood; "RT 3" another.
    assert text_score("TPS RT 02 Anduonohu penuh", "tps rt 2 anduonohu penuh") >= TEXT_THRESHOLD
    assert text_score("TPS RT 02 Anduonohu penuh", "TPS RT 3 Anduonohu penuh") == 0
    # How long it has lasted, how deep it is, or when it happens names no place.
    assert (
        text_score("Sampah RT 5 Bende sdh 2 minggu", "sampah di RT 05 Bende udah 3 minggu gak diangkut")
        >= TEXT_THRESHOLD
    )
    assert text_score("lubang 30 cm di jalan MT Haryono", "lubang di jalan MT Haryono dalamnya 50 cm") >= TEXT_THRESHOLD
    assert text_score("sampah dibakar jam 7 malam di Kambu", "sampah dibakar jam 9 malam di Kambu") >= TEXT_THRESHOLD


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

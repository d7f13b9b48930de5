"""The complaint classifier: normalization, lexicon, traps, corpus and blind-set accuracy, CLI and fuzzing."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz, process

from routing import AgencyLexicon, Classification, Lexicon, OtherMatter, classify, normalize
from routing.evaluate import parse_labelled, score
from routing.lexicon import FUZZY_CUTOFF, MIN_FUZZY_LENGTH
from routing.model_file import BUILTIN, load_opinion
from routing.tables import lexicon_from_tables

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_CONFIG = ROOT / "config.example.toml"
CORPUS = ROOT / "tests" / "data" / "routing_corpus.tsv"
# Written by someone who never saw the classifier or the lexicon (docs/BENCHMARKS.md has its
# first score, taken before any change made for it).
BLIND = ROOT / "tests" / "data" / "routing_blind.tsv"
# Written after the blind set was scored, by the engineer who changed the lexicon: not blind, but in
# new wording, so that a rule that only fits the blind sentences shows.
ENGINEER = ROOT / "tests" / "data" / "routing_engineer.tsv"
CODES = ("DLHK", "PUPR", "DISDUKCAPIL")

# The corpus was written together with the lexicon; before the blind set it scored 98.97% (384/388)
# with no confident misroute. A change must not fall below that.
MIN_ACCURACY = 0.9897
MAX_MISROUTE = 0.01
# On text the lexicon's authors never saw (issue 14): at least 97% right, at most 1% sent
# confidently to the wrong agency.
MIN_BLIND_ACCURACY = 0.97
MAX_BLIND_MISROUTE = 0.01
# The engineer's set is half adversarial (messages for no agency that carry an agency's word).
MIN_ENGINEER_ACCURACY = 0.97
MAX_ENGINEER_MISROUTE = 0.02


def _agencies(path: Path) -> list[AgencyLexicon]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [
        AgencyLexicon(opd["code"], opd["keywords"], opd.get("categories", {}), opd.get("exclude", []))
        for opd in data["opd"]
    ]


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return lexicon_from_tables(tomllib.loads(EXAMPLE_CONFIG.read_text(encoding="utf-8")))


def _corpus(path: Path = CORPUS) -> list[tuple[str | None, str]]:
    return [(example.label, example.text) for example in parse_labelled(path.read_text(encoding="utf-8"))]


def _route(text: str, lexicon: Lexicon) -> str | None:
    return classify(text, lexicon).opd


# --- normalization -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sampah NUMPUK!!! di depan...", "sampah numpuk di depan"),
        ("tolonggg pakkk", "tolong pak"),
        ("yg dgn jln blm udh sdh", "yang dengan jalan belum sudah sudah"),
        ("gk gak ga tdk krn", "tidak tidak tidak tidak karena"),
        ("ktp-el", "e-ktp"),
        ("KTP EL", "e-ktp"),
        ("e-KTP", "e-ktp"),
        ("ektp", "e-ktp"),
        ("gorong2 mampet", "gorong-gorong mampet"),
        ("gorong-gorongnya", "gorong-gorongnya"),
        ("gorong–gorong", "gorong-gorong"),
        ("udh 3hr", "sudah 3 hari"),
        ("sam\u200bpah", "sampah"),
        ("ＳＡＭＰＡＨ", "sampah"),
        ("kk sy hilang", "kartu keluarga saya hilang"),
        ("kk admin, mau tanya", "kakak admin mau tanya"),
        ("haloo kk", "haloo kakak"),
        ("", ""),
        ("🙏🙏 ... ?!", ""),
    ],
)
def test_normalize_informal_indonesian(text: str, expected: str) -> None:
    assert normalize(text) == expected


# --- words, typos, phrases, synonyms ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "opd"),
    [
        ("smpah numpuk dpn rmh udh 3 hr gk diangkut", "DLHK"),
        ("jln berlubang bgt", "PUPR"),
        ("got mampet tiap hujan", "PUPR"),
        ("ktp el sy blm jadi", "DISDUKCAPIL"),
    ],
)
def test_the_issue_examples_are_routed(text: str, opd: str, lexicon: Lexicon) -> None:
    assert _route(text, lexicon) == opd


@pytest.mark.parametrize(
    ("text", "opd", "keyword"),
    [
        ("smpah di lorong", "DLHK", "sampah"),
        ("sampahhh", "DLHK", "sampah"),
        ("SAMPAAAAH", "DLHK", "sampah"),
        ("selokn mampet", "PUPR", "selokan"),
        ("jembtan kayu lapuk", "PUPR", "jembatan"),
        ("pengangkutn sampah telat", "DLHK", "pengangkutan"),
        ("perekamn ulang", "DISDUKCAPIL", "perekaman"),
        ("jalannya rusak", "PUPR", "jalan rusak"),
        ("gorong2nya jebol", "PUPR", "gorong-gorong"),
        ("gorong-gorongnya jebol", "PUPR", "gorong-gorong"),
    ],
)
def test_typos_and_inflections_still_match(text: str, opd: str, keyword: str, lexicon: Lexicon) -> None:
    result = classify(text, lexicon)
    assert result.opd == opd
    assert keyword in result.matched


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_a_typo_finds_the_keyword_that_comparing_with_every_keyword_finds(
    lexicon: Lexicon, data: st.DataObject
) -> None:
    """The look-up compares a word only with the keywords whose length lets fuzz.ratio reach the cut-off:
    it must find what comparing with all of them finds (the same keyword, on a tie too)."""
    by_length = lexicon._choices_by_length
    every = sorted({word for words in by_length.values() for word in words})
    keyword = data.draw(st.sampled_from(every))
    # A typo of a keyword: a letter dropped, added or changed, once or twice; or a stranger word.
    word = keyword
    for _ in range(data.draw(st.integers(0, 2))):
        at = data.draw(st.integers(0, len(word)))
        letter = data.draw(st.sampled_from("aeiounkgrstlmbdjhpy"))
        edit = data.draw(st.sampled_from(["drop", "add", "change"]))
        if edit == "drop" and at < len(word):
            word = word[:at] + word[at + 1 :]
        elif edit == "add":
            word = word[:at] + letter + word[at:]
        else:
            word = word[:at] + letter + word[at + 1 :]
    word = data.draw(st.one_of(st.just(word), st.text("aeiounkgrstlmbdjhpy", min_size=5, max_size=19)))
    if not MIN_FUZZY_LENGTH <= len(word) < max(by_length) + 1:
        return
    everyone = process.extractOne(word, every, scorer=fuzz.ratio, processor=None, score_cutoff=FUZZY_CUTOFF)
    narrowed = process.extractOne(
        word, by_length[len(word)], scorer=fuzz.ratio, processor=None, score_cutoff=FUZZY_CUTOFF
    )
    # The keyword and its score (not its position: the lists differ).
    assert (narrowed and narrowed[:2]) == (everyone and everyone[:2])


@pytest.mark.parametrize(
    "text",
    [
        "sampai kapan?",  # not "sampah"
        "jalani saja",  # a verb built on "jalan", not a typo of it
        "kapan gaji honorer dibayar?",  # not "dibakar"
        "asal usul",  # four letters are matched exactly only: not "aspal"
        "minta sumbangan gedung",  # two edits away from "kubangan"
        "kebakaran rumah",  # not "pembakaran sampah"
        "pembayaran sudah lunas",  # not "pembakaran"
        "kepala saya pusing",  # not "puing"
        "tindak lanjutnya mana?",  # not "tidak"
    ],
)
def test_near_words_are_not_taken_for_keywords(text: str, lexicon: Lexicon) -> None:
    result = classify(text, lexicon)
    assert result.opd is None
    assert result.matched == []


@pytest.mark.parametrize(
    ("text", "opd", "category"),
    [
        ("akta kelahiran anak sy", "DISDUKCAPIL", "Akta"),
        ("mau urus kartu keluarga baru", "DISDUKCAPIL", "Kartu keluarga"),
        ("truk pengangkut tidak datang", "DLHK", "Pengangkutan sampah"),
        ("tetangga bakar sampah tiap sore", "DLHK", "Pembakaran sampah"),
        ("ada yang buang sampah sembarangan", "DLHK", "Pembuangan sampah liar"),
        ("pindah domisili ke Kendari", "DISDUKCAPIL", "Pindah domisili"),
    ],
)
def test_phrases_route_and_pick_the_category(text: str, opd: str, category: str, lexicon: Lexicon) -> None:
    result = classify(text, lexicon)
    assert (result.opd, result.category) == (opd, category)


def test_a_phrase_word_alone_routes_nowhere(lexicon: Lexicon) -> None:
    # "kartu" and "keluarga" only mean the family card together.
    assert _route("Kartu BPJS anak saya hilang", lexicon) is None
    assert _route("keluarga saya sakit", lexicon) is None


@pytest.mark.parametrize(
    ("text", "opd"),
    [
        ("got di lorong kami mampet", "PUPR"),
        ("selokan penuh lumpur", "PUPR"),
        ("gorong-gorong ambruk", "PUPR"),
        ("aspal mengelupas", "PUPR"),
        ("TPS penuh", "DLHK"),
        ("truk pengangkut tidak lewat", "DLHK"),
        ("blanko habis terus", "DISDUKCAPIL"),
        ("perekaman kapan dibuka", "DISDUKCAPIL"),
    ],
)
def test_synonyms_without_the_agency_word(text: str, opd: str, lexicon: Lexicon) -> None:
    assert _route(text, lexicon) == opd


# --- traps ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "opd"),
    [
        ("prosesnya jalan di tempat", None),
        ("sudah berjalan 3 bulan KTP belum jadi", "DISDUKCAPIL"),
        ("proses ktp saya jalan di tempat sejak april", "DISDUKCAPIL"),
        ("sudah jalan 5 bulan, kk baru belum juga selesai", "DISDUKCAPIL"),
        ("jalan-jalan ke pantai Nambo enak gak?", None),
        ("lampu jalan depan rumah mati", None),
        ("jalan depan rumah rusak", "PUPR"),
    ],
)
def test_jalan_the_verb_is_not_a_road(text: str, opd: str | None, lexicon: Lexicon) -> None:
    assert _route(text, lexicon) == opd


@pytest.mark.parametrize(
    ("text", "opd"),
    [
        ("pelayanannya sampah", None),
        ("pelayanannya sampah, antri dari subuh di dukcapil tp loket baru buka jam 10", "DISDUKCAPIL"),
        ("kerjanya kayak sampah, KK sy 2 bulan gk dicetak", "DISDUKCAPIL"),
        ("pelayanan angkut sampah makin jelek", "DLHK"),
    ],
)
def test_sampah_as_an_insult_is_not_garbage(text: str, opd: str | None, lexicon: Lexicon) -> None:
    assert _route(text, lexicon) == opd


@pytest.mark.parametrize(
    "text",
    [
        "Jalan di depan kantor Dukcapil berlubang, kemarin sy hampir jatuh waktu mau urus KTP",
        "jalan rusak depan kantor capil, mobil susah parkir",
        "Lapor, nama saya Andi, NIK 7471012345670001, jalan di Lorong Jambu berlubang dan tergenang",
    ],
)
def test_identity_card_aside_in_a_road_complaint(text: str, lexicon: Lexicon) -> None:
    assert _route(text, lexicon) == "PUPR"


def test_a_place_word_alone_still_routes(lexicon: Lexicon) -> None:
    # Place words only give way to a competing subject; alone they are the subject.
    assert _route("Nama di KTP salah ketik", lexicon) == "DISDUKCAPIL"
    assert _route("sudah dua kali datang ke capil disuruh balik", lexicon) == "DISDUKCAPIL"


def test_negated_subject_does_not_count(lexicon: Lexicon) -> None:
    text = "Banyak sampah di drainase depan rumah... bukan salurannya yg rusak, sampahnya yg perlu diangkut"
    assert _route(text, lexicon) == "DLHK"


def test_close_agencies_go_to_humas(lexicon: Lexicon) -> None:
    result = classify("Sampah numpuk, got mampet, KTP hilang", lexicon)
    assert result.opd is None
    assert result.category is None
    assert result.confidence < 0.55
    assert set(result.matched) == {"sampah", "numpuk", "got", "mampet", "ktp"}
    # Humas still sees who it might be, best first, with each one's words.
    assert {guess.code for guess in result.guesses} == set(CODES)
    assert result.words_for("PUPR") == ("got", "mampet")


def test_an_exact_tie_goes_to_humas() -> None:
    lexicon = Lexicon.build([AgencyLexicon("A", ["banjir"]), AgencyLexicon("B", ["banjir"])])
    result = classify("banjir lagi", lexicon)
    assert (result.opd, result.category, result.confidence, result.matched) == (None, None, 0.0, ["banjir"])
    assert [guess.code for guess in result.guesses] == ["A", "B"]


@pytest.mark.parametrize("text", ["selamat pagi", "terima kasih", "", "asdfghjkl", "kapan ya?"])
def test_nothing_to_go_on_goes_to_humas(text: str, lexicon: Lexicon) -> None:
    assert classify(text, lexicon) == Classification(None, None, 0.0, [])


@pytest.mark.parametrize(
    ("text", "other"),
    [
        ("air PDAM mati 3 hari", "Air bersih (PDAM)"),
        ("harga cabai naik", "Harga, pasar dan BBM"),
        ("the power has been out since this morning", "Listrik (PLN)"),
        ("ada judi sabung ayam tiap malam di lorong kami", "Keamanan dan kepolisian"),
    ],
)
def test_another_office_s_matter_goes_to_humas_with_its_name(text: str, other: str, lexicon: Lexicon) -> None:
    assert classify(text, lexicon) == Classification(None, None, 0.0, [], other=other)


def test_more_evidence_means_more_confidence(lexicon: Lexicon) -> None:
    one = classify("sampah", lexicon).confidence
    three = classify("sampah numpuk tidak diangkut", lexicon).confidence
    contested = classify("sampah numpuk di got", lexicon).confidence
    assert 0.55 <= one < three <= 1.0
    assert contested < three


# --- words in another sense (issue 14) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "opd"),
    [
        # A place word counts only with a problem within a few words...
        ("mau tanya jalan ke kantor walikota lewat mana?", None),
        ("Kabel internet menjuntai rendah di atas jalan lorong", None),
        ("ada org mabuk tiap malam nongkrong di pinggir got", None),
        ("my motorbike got stolen last night", None),
        ("jalan di RT kami Anduonohu rusak parah", "PUPR"),
        ("got di lorong kami terlalu kecil, hujan sebentar langsung banjir", "PUPR"),
        ("why is the road in Baruga still not fixed??", "PUPR"),
        ("the gutter in front of my house is clogged with mud", "PUPR"),
        # ...that is not denied...
        ("Sampah menumpuk menutupi got. Gotnya tidak rusak, sampahnya tolong diangkut", "DLHK"),
        # ...and not as a place after "di", "ke", "dekat": the water runs onto the road.
        ("TPS di Anawai meluber ke badan jalan, motor susah lewat", "DLHK"),
    ],
)
def test_a_place_counts_only_with_a_problem(text: str, opd: str | None, lexicon: Lexicon) -> None:
    assert _route(text, lexicon) == opd


def test_a_problem_confirms_only_within_reach() -> None:
    lexicon = Lexicon.build([AgencyLexicon("ROADS", ["aspal"], needs_problem=["jalan"], problems=["rusak"])])
    assert _route("jalan depan rumah rusak", lexicon) == "ROADS"
    assert _route("jalan " + "x " * 12 + "rusak", lexicon) is None
    assert _route("rusak", lexicon) is None  # a problem alone routes nowhere
    assert classify("jalan depan rumah rusak", lexicon).matched == ["jalan", "rusak"]


@pytest.mark.parametrize(
    ("text", "opd"),
    [
        ("sy lampirkan foto KK sbg bukti domisili. jalan di RT kami rusak parah dan tdk pernah diperbaiki", "PUPR"),
        ("Saya upload NIK dan foto rumah sebagai bukti. Mohon TPS di depan rumah saya dipindahkan", "DLHK"),
        ("I attached a photo of my ID card. I applied for the social assistance program", None),
        ("Sesuai KK sy warga Kadia tapi tdk pernah dapat BLT", None),
        # Without a proof word the document is the matter.
        ("KK saya hilang, bagaimana urus yang baru?", "DISDUKCAPIL"),
        # A "but" ends the attachment: what follows is the matter again.
        ("sudah saya upload bukti pembayaran tapi KTP belum jadi", "DISDUKCAPIL"),
    ],
)
def test_a_document_attached_as_proof_is_not_the_matter(text: str, opd: str | None, lexicon: Lexicon) -> None:
    assert _route(text, lexicon) == opd


@pytest.mark.parametrize(
    ("text", "opd"),
    [
        ("kantor dukcapil kayak tempat sampah, berkas sy hilang 2 kali", "DISDUKCAPIL"),
        ("air PDAM keruh dan bau kayak air got", None),
        ("seperti biasa sampah tidak diangkut", "DLHK"),  # "seperti biasa" compares with nothing
        ("pelayanan sampah! akta anak sy 3 bln blm jadi", "DISDUKCAPIL"),
        ("this city's public transport is garbage", None),
        # The compared thing and what is wrong with it: "kayak selokan mampet".
        ("hidup sy skrg kayak selokan mampet, gk ada yg ngalir", None),
        ("jalan hidup sy berliku dan berlubang", None),
    ],
)
def test_a_comparison_or_insult_is_not_the_matter(text: str, opd: str | None, lexicon: Lexicon) -> None:
    assert _route(text, lexicon) == opd


@pytest.mark.parametrize(
    ("text", "opd"),
    [
        ("pelayanan dukcapil sdh lumayan cepat, tp sampah di samping kantornya numpuk dan bau", "DLHK"),
        (
            "Sy urus ktp di kantor capil, jalan menuju kantornya berlubang, tapi intinya ktp sy belum jadi",
            "DISDUKCAPIL",
        ),
        ("Sampah bukan masalahnya, selokan kami yang rusak dan bocor", "PUPR"),
        ("Ini bukan soal jalan rusak, ada orang buang sampah dari mobil tiap pagi", "DLHK"),
        ("jalan keluarnya apa kalau blanko KTP habis terus?", "DISDUKCAPIL"),
    ],
)
def test_what_the_citizen_says_the_matter_is(text: str, opd: str | None, lexicon: Lexicon) -> None:
    assert _route(text, lexicon) == opd


@pytest.mark.parametrize(
    ("text", "other"),
    [
        ("ada lowongan sopir truk sampah gk?", "Kepegawaian dan lowongan kerja"),
        ("PKL jualan di atas trotoar dan menutup selokan, tolong ditertibkan", "Ketertiban umum (Satpol PP)"),
        (
            "Parkir di depan kantor Dukcapil dipungut 5 ribu, karcisnya tidak ada",
            "Lalu lintas, parkir dan angkutan (Dishub)",
        ),
        ("macet parah di Jembatan Bahteramas tiap sore", "Lalu lintas, parkir dan angkutan (Dishub)"),
        ("Kartu BPJS kesehatan sy tdk aktif padahal NIK sdh benar", "Kesehatan (Dinkes, puskesmas, BPJS)"),
        ("The water main burst near my house and the street is flooded", "Air bersih (PDAM)"),
    ],
)
def test_other_matters_outweigh_an_agency_word_that_is_only_there(text: str, other: str, lexicon: Lexicon) -> None:
    result = classify(text, lexicon)
    assert (result.opd, result.other) == (None, other)


def test_an_agency_matter_near_another_office_still_routes(lexicon: Lexicon) -> None:
    assert _route("jalan rusak depan kantor capil, mobil susah parkir", lexicon) == "PUPR"
    # Another office's matter after a place word is a landmark.
    assert _route("Huge pothole near the traffic light on Jl. Sao-Sao, please fix it", lexicon) == "PUPR"
    # What the matter prevents ("so I cannot ...") is not the matter.
    assert _route("NIK sy tercatat di 2 KK, jadi gk bisa daftar bansos", lexicon) == "DISDUKCAPIL"
    # A garbage word after "menuju" names where a road leads.
    assert _route("jalan menuju TPA rusak berat, truk sering terperosok", lexicon) == "PUPR"
    assert (
        _route("Ada bangkai anjing di tengah jalan dekat lampu merah Baruga, bau. Tolong diangkat", lexicon) == "DLHK"
    )


def test_other_matters_are_data() -> None:
    agencies = [AgencyLexicon("ROADS", ["jalan rusak"])]
    plain = Lexicon.build(agencies)
    with_other = Lexicon.build(agencies, [OtherMatter("Lampu", ["lampu jalan"])])
    text = "lampu jalan mati, jalan rusak"
    assert _route(text, plain) == "ROADS"
    result = classify(text, with_other)
    assert (result.opd, result.other) == (None, "Lampu")


@pytest.mark.parametrize(
    ("text", "opd"),
    [
        ("Makasih min, KTP sy udh jadi 🙏", None),
        ("terima kasih DLH, sampah di lorong kami sdh diangkut tadi pagi", None),
        ("thank you, the garbage was collected this morning", None),
        ("thanks, but the garbage was not collected again", "DLHK"),
        ("terima kasih, sampah sudah diangkut tapi selokan masih mampet", "PUPR"),
        ("Terima kasih. Sampah di depan rumah sudah 5 hari tidak diangkut", "DLHK"),
        ("makasih min, sampah di lorong kami skrg bersih", None),
        ("makasih min, sekarang sampahnya numpuk lagi", "DLHK"),
    ],
)
def test_thanks_for_something_done_is_no_complaint(text: str, opd: str | None, lexicon: Lexicon) -> None:
    assert _route(text, lexicon) == opd


@pytest.mark.parametrize(
    ("text", "opd"),
    [
        ("the garbage near my kos hasn't been picked up for a week", "DLHK"),
        ("someone keeps dumping trash on the empty lot next to our house", "DLHK"),
        ("dead dog on the road near the roundabout, it smells really bad", "DLHK"),
        ("the rubbish bins at the city park are overflowing again", "DLHK"),
        ("pothole di depan kampus dangerous bgt", "PUPR"),
        ("there's a broken bridge in Abeli, the wooden planks are rotten", "PUPR"),
        ("our street floods every time it rains because the drain is too small", "PUPR"),
        ("The retaining wall behind our boarding house is cracking badly", "PUPR"),
        ("there is a deep hole in the road near the roundabout", "PUPR"),
        ("birth certificate for my baby, what documents do I need?", "DISDUKCAPIL"),
        ("How can we register the marriage here in Kendari?", "DISDUKCAPIL"),
        ("The staff at the civil registry office were so rude", "DISDUKCAPIL"),
        ("my wife and I are divorced now, how do we update the family card?", "DISDUKCAPIL"),
        ("street vendors block the whole sidewalk every night", None),
        ("no water from the tap for 3 days now", None),
    ],
)
def test_english_and_mixed_messages(text: str, opd: str | None, lexicon: Lexicon) -> None:
    assert _route(text, lexicon) == opd


@pytest.mark.parametrize(
    ("text", "opd"),
    [
        ("Sy sudah 17 tahun tapi belum punya KTP", "DISDUKCAPIL"),  # "punya" is not "pu" + "nya"
        ("lobang besar di jln Malaka tlg ditimbun", "PUPR"),
        ("jlnan di perumahan kami kayak kubangan kerbau", "PUPR"),
        ("area Tugu Religi banyak sampah bekas jualan malam", "DLHK"),  # "jualan" is not "jalan"
    ],
)
def test_everyday_spelling(text: str, opd: str | None, lexicon: Lexicon) -> None:
    assert _route(text, lexicon) == opd


# --- the lexicon is data -------------------------------------------------------------------------


def test_a_city_adds_words_and_agencies_without_code() -> None:
    agencies = [
        *_agencies(EXAMPLE_CONFIG),
        AgencyLexicon("DISHUB", ["lampu jalan", "parkir liar"], {"Penerangan": ["lampu jalan"]}),
    ]
    lexicon = Lexicon.build(agencies)
    result = classify("lampu jalan depan rumah mati sebulan", lexicon)
    assert (result.opd, result.category) == ("DISHUB", "Penerangan")


def test_exclude_phrases_only_silence_their_own_agency() -> None:
    lexicon = Lexicon.build(
        [
            AgencyLexicon("ROADS", ["jalan"], exclude=["jalan kaki"]),
            AgencyLexicon("HEALTH", ["jalan kaki"]),
        ]
    )
    assert _route("susah jalan kaki", lexicon) == "HEALTH"
    assert _route("jalan hancur", lexicon) == "ROADS"


def test_category_falls_back_to_the_first_one() -> None:
    lexicon = Lexicon.build(
        [
            AgencyLexicon("A", ["sampah"], {"Umum": [], "Pembakaran": ["bakar sampah"]}),
            AgencyLexicon("B", ["jalan"]),
        ]
    )
    assert classify("sampah", lexicon).category == "Umum"
    assert classify("ada yang bakar sampah", lexicon).category == "Pembakaran"
    assert classify("jalan", lexicon).category is None


@pytest.mark.parametrize(
    ("agencies", "message"),
    [
        ([AgencyLexicon("A", [""])], "empty"),
        ([AgencyLexicon("A", ["   "])], "empty"),
        ([AgencyLexicon("A", ["!!!"])], "no letters"),
        ([AgencyLexicon("A", [])], "at least one keyword"),
        ([AgencyLexicon("A", ["x", 3])], "non-string"),  # type: ignore[list-item]  # a wrong type on purpose
        ([AgencyLexicon("A", "sampah")], "list of strings"),
        ([AgencyLexicon("", ["x"])], "code"),
        ([AgencyLexicon("A", ["x"]), AgencyLexicon("A", ["y"])], "duplicate"),
        ([AgencyLexicon("A", ["x"], {"": ["y"]})], "category name"),
        ([AgencyLexicon("A", ["x"], {"C": [""]})], "empty"),
        ([AgencyLexicon("A", ["x"], exclude=[""])], "empty"),
        # The matcher steps over "the", "kami"... inside a phrase; a keyword cannot start with one.
        ([AgencyLexicon("A", ["the garbage"])], "starts with 'the'"),
        ([AgencyLexicon("A", ["x"], {"C": ["kami punya ktp"]})], "starts with 'kami'"),
    ],
)
def test_nonsense_lexicons_are_refused(agencies: list[AgencyLexicon], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Lexicon.build(agencies)


def test_example_config_is_still_valid_settings() -> None:
    from bot.config import load_settings

    settings_ = load_settings(EXAMPLE_CONFIG)
    assert tuple(opd.code for opd in settings_.opd) == CODES


# --- the labelled corpus -------------------------------------------------------------------------


def test_corpus_is_large_varied_and_labelled() -> None:
    rows = _corpus()
    labels = Counter(label for label, _ in rows)
    assert len(rows) >= 300
    assert set(labels) == {*CODES, None}
    assert min(labels.values()) >= 60
    assert len({message for _, message in rows}) == len(rows), "duplicate messages"


def _wrong(path: Path, lexicon: Lexicon) -> tuple[float, float, str]:
    figures = score(parse_labelled(path.read_text(encoding="utf-8")), lexicon)
    wrong = "\n".join(
        f"{outcome.example.label} -> {outcome.result.opd}: {outcome.example.text}" for outcome in figures.wrong()
    )
    return figures.rate(figures.right), figures.rate(figures.misrouted), wrong


def test_corpus_accuracy_and_misroutes(lexicon: Lexicon) -> None:
    accuracy, misroutes, wrong = _wrong(CORPUS, lexicon)
    assert accuracy >= MIN_ACCURACY, wrong
    assert misroutes <= MAX_MISROUTE, wrong


def test_blind_set_is_large_varied_and_labelled() -> None:
    rows = _corpus(BLIND)
    labels = Counter(label for label, _ in rows)
    assert len(rows) >= 400
    assert set(labels) == {*CODES, None}
    assert min(labels.values()) >= 80
    assert len({message for _, message in rows}) == len(rows), "duplicate messages"


# Later blind batches, each scored once before the lexicon learned from it (docs/BENCHMARKS.md);
# seen since, they now guard against forgetting what they taught.
LATER_BATCHES = [ROOT / "tests" / "data" / f"routing_blind{n}.tsv" for n in (2, 3, 4, 5, 6, 7, 8)]


@pytest.mark.parametrize("path", [BLIND, *LATER_BATCHES], ids=lambda p: p.stem)
def test_blind_set_accuracy_and_misroutes(path: Path, lexicon: Lexicon) -> None:
    accuracy, misroutes, wrong = _wrong(path, lexicon)
    assert accuracy >= MIN_BLIND_ACCURACY, wrong
    assert misroutes <= MAX_BLIND_MISROUTE, wrong


# With the learned second opinion (routing/opinion.py), as the bot routes by default. Batches 1-14
# are in its training data: 10-14 were each scored once by the classifier of the day before anything
# was learned from them (docs/BENCHMARKS.md). Batch 15 is not (Makefile: ROUTING_HELD_OUT), and
# nothing was learned from it: its first score was 97.50% right, 0.50% confidently misrouted.
BATCHES = ROOT / "tests" / "data"
HELD_OUT = BATCHES / "routing_blind15.tsv"
ALL_BATCHES = [BLIND, *LATER_BATCHES, *(BATCHES / f"routing_blind{n}.tsv" for n in (9, 10, 11, 12, 13, 14)), HELD_OUT]


@pytest.fixture(scope="module")
def with_opinion() -> Lexicon:
    data = tomllib.loads(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    return lexicon_from_tables(data, load_opinion(BUILTIN, [table["code"] for table in data["opd"]]))


@pytest.mark.parametrize("path", [CORPUS, ENGINEER, *ALL_BATCHES], ids=lambda p: p.stem)
def test_with_the_second_opinion_every_labelled_set_is_routed_to_the_aim(path: Path, with_opinion: Lexicon) -> None:
    assert with_opinion.opinion is not None
    accuracy, misroutes, wrong = _wrong(path, with_opinion)
    assert accuracy >= MIN_BLIND_ACCURACY, wrong
    assert misroutes <= MAX_BLIND_MISROUTE, wrong


def test_engineer_set_accuracy_and_misroutes(lexicon: Lexicon) -> None:
    accuracy, misroutes, wrong = _wrong(ENGINEER, lexicon)
    assert accuracy >= MIN_ENGINEER_ACCURACY, wrong
    assert misroutes <= MAX_ENGINEER_MISROUTE, wrong


# --- command line --------------------------------------------------------------------------------


def _cli(*args: str, stdin: str = "", cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "routing", "classify", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        timeout=60,
    )


def test_cli_classifies_each_line_in_order() -> None:
    lines = ["jln berlubang bgt", "halo min", "", "ktp el sy blm jadi", "smpah numpuk 🙏"]
    done = _cli(stdin="\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [record["opd"] for record in out] == ["PUPR", None, None, "DISDUKCAPIL", "DLHK"]
    assert all(set(record) == {"opd", "category", "confidence"} for record in out)
    assert all(0.0 <= record["confidence"] <= 1.0 for record in out)
    assert out[0]["category"] == "Jalan rusak"


def test_cli_reads_the_given_config(tmp_path: Path) -> None:
    config = tmp_path / "city.toml"
    config.write_text('[[opd]]\ncode = "PDAM"\nname = "Air"\ntelegram_chat_id = -1\nkeywords = ["air mati"]\n')
    done = _cli("--config", str(config), stdin="air mati 3 hari\njalan rusak\n")
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["opd"] for line in done.stdout.splitlines()] == ["PDAM", None]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "file not found"),
        ("[[opd]\n", "not valid TOML"),
        ("[bot]\ncity = 'x'\n", "no [[opd]] tables"),
        ('[[opd]]\ncode = "A"\nkeywords = ["  "]\n', "empty"),
        ('[[opd]]\ncode = "A"\n', "keywords"),
    ],
)
def test_cli_bad_config_is_a_clear_error(tmp_path: Path, content: str | None, message: str) -> None:
    config = tmp_path / "config.toml"
    if content is not None:
        config.write_text(content)
    done = _cli("--config", str(config), stdin="sampah\n")
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_cli_default_config_is_relative_to_the_current_directory(tmp_path: Path) -> None:
    done = _cli(stdin="sampah\n", cwd=tmp_path)
    assert done.returncode == 2
    assert "config.example.toml: file not found" in done.stderr


# --- never raises --------------------------------------------------------------------------------

_AWKWARD = st.sampled_from(
    [
        "",
        "\u200b",
        "\u200d",
        "\ufeff",
        "🙏",
        "🗑️",
        "👍🏽",
        "-",
        "2",
        "kk",
        "ktp",
        "el",
        "e",
        "di",
        "bukan",
        "\n",
        "\t",
        "sampah",
        "jalan",
        "Ｓ",
        "ß",
        "İ",
        "\u0301",
        "\x00",
        "\ud7ff",
        "gorong2",
        "aaaa",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(), st.lists(st.one_of(_AWKWARD, st.text(max_size=8))).map(" ".join)))
def test_classify_never_raises_on_arbitrary_text(lexicon: Lexicon, text: str) -> None:
    result = classify(text, lexicon)
    assert result.opd in (*CODES, None)
    assert 0.0 <= result.confidence <= 1.0
    assert isinstance(normalize(text), str)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\u200b" * 500,
        "🙏" * 10_000,
        "sampah " * 1_500,
        "a" * 10_000,
        "x2" * 5_000,
        "ktp el " * 1_400,
        "".join(chr(code) for code in range(0x20, 0x3000)),
    ],
)
def test_classify_survives_extremes(text: str, lexicon: Lexicon) -> None:
    result = classify(text, lexicon)
    assert 0.0 <= result.confidence <= 1.0

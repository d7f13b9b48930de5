"""The learned second opinion: what it routes, what it holds back, how a desk trains its own."""

from __future__ import annotations

import gzip
import math
import re
import subprocess
import sys
import tomllib
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config import ConfigError, load_settings
from routing import AgencyLexicon, Lexicon, classify
from routing import lexicon as lexicon_module
from routing.model_file import BUILTIN, OFF, load_opinion
from routing.normalize import _TRANSLATE, _WORD, _word_tokens, context_tokens
from routing.opinion import NO_AGENCY, Opinion, dump_opinion, features, parse_opinion
from routing.tables import lexicon_from_tables
from routing.train import train

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
EXAMPLE = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
KENDARI = [table["code"] for table in EXAMPLE["opd"]]
# The blind batch the shipped model never saw (Makefile: ROUTING_HELD_OUT).
HELD_OUT = DATA / "routing_blind15.tsv"

# No agency's word the lexicon knows: the words alone leave it with humas.
GARBAGE_IN_ENGLISH = "Why is garbage pickup in Anduonohu only once a week now?"
# A drain word as an insult: the words alone send it to PUPR.
INSULT = "otaknya mampet, pejabat gak mikir rakyat"


@pytest.fixture(scope="module")
def words_only() -> Lexicon:
    return lexicon_from_tables(EXAMPLE)


@pytest.fixture(scope="module")
def with_opinion() -> Lexicon:
    return lexicon_from_tables(EXAMPLE, load_opinion(BUILTIN, KENDARI))


def _labelled(path: Path) -> list[tuple[str, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t", 1)) for line in lines if line and not line.startswith("#")]  # type: ignore[misc]


def test_what_the_words_leave_unsure_the_opinion_routes_and_says_why(
    words_only: Lexicon, with_opinion: Lexicon
) -> None:
    assert classify(GARBAGE_IN_ENGLISH, words_only).opd is None
    result = classify(GARBAGE_IN_ENGLISH, with_opinion)
    assert (result.opd, result.by_opinion) == ("DLHK", True)
    # The words that count most for DLHK, for the agency card's "why it came" line.
    assert "garbage" in result.words_for("DLHK") and result.matched == list(result.words_for("DLHK"))
    assert result.category is not None


def test_a_route_the_opinion_is_sure_is_wrong_goes_to_humas_saying_whose_words_they_were(
    words_only: Lexicon, with_opinion: Lexicon
) -> None:
    assert classify(INSULT, words_only).opd == "PUPR"
    result = classify(INSULT, with_opinion)
    assert (result.opd, result.overruled, result.by_opinion) == (None, "PUPR", True)
    assert result.words_for("PUPR") == ("mampet",)  # humas still sees the words and a PUPR button


def test_the_opinion_agrees_with_clear_complaints_and_leaves_other_matters_alone(with_opinion: Lexicon) -> None:
    for text, code in [
        ("sampah di depan pasar sentral sudah seminggu tidak diangkut", "DLHK"),
        ("jalan poros anduonohu berlubang besar, sudah ada yang jatuh", "PUPR"),
        ("KTP saya hilang, bagaimana cara mengurus yang baru?", "DISDUKCAPIL"),
    ]:
        result = classify(text, with_opinion)
        assert (result.opd, result.by_opinion) == (code, False), text
    # A matter of another office the words know (PLN) stays theirs: the model has no say in it.
    power = classify("listrik padam tiap malam di lorong kami", with_opinion)
    assert power.opd is None and power.other is not None and not power.by_opinion


def test_an_agency_the_model_does_not_know_is_never_overruled() -> None:
    garbage_only = train(
        [("DLHK", "sampah numpuk"), ("DLHK", "sampah tidak diangkut"), (NO_AGENCY, "air pdam mati tiga hari")] * 3
    )
    lexicon = Lexicon.build(
        [AgencyLexicon(code="DLHK", keywords=["sampah"]), AgencyLexicon(code="PDAM", keywords=["air mati"])],
        opinion=garbage_only,
    )
    assert classify("air mati tiga hari di lorong kami", lexicon).opd == "PDAM"


def test_the_shipped_model_is_what_training_on_the_shipped_examples_gives(with_opinion: Lexicon) -> None:
    """`make routing-model` was run after the last change to the examples or the model's code."""
    files = sorted(path for path in DATA.glob("routing_*.tsv") if path != HELD_OUT)
    fresh = train([pair for path in files for pair in _labelled(path)])
    shipped = with_opinion.opinion
    assert shipped is not None and shipped.labels == fresh.labels
    for _, text in _labelled(DATA / "routing_corpus.tsv"):
        expected, got = fresh.probabilities(text), shipped.probabilities(text)
        assert max(abs(expected[label] - got[label]) for label in fresh.labels) < 1e-3, text


def test_a_model_survives_its_file_and_a_broken_file_is_refused() -> None:
    model = train([("DLHK", "sampah numpuk"), (NO_AGENCY, "harga cabai naik")] * 2)
    again = parse_opinion(dump_opinion(model))
    assert again.labels == model.labels
    assert again.probabilities("sampah") == pytest.approx(model.probabilities("sampah"), abs=1e-4)
    header = dump_opinion(model).split("\n")[0]
    for broken in ["", "hello\n", f"{header}\nlabels\tDLHK\n", f"{header}\nbias\t1\t2\n"]:
        with pytest.raises(ValueError, match="routing model"):
            parse_opinion(broken)
    for line in ["f\tab\tnan\t1", "f\tab\t1", "g\tab\t1\t1"]:
        with pytest.raises(ValueError, match="routing model line"):
            parse_opinion(dump_opinion(model) + line + "\n")


def test_the_builtin_model_is_not_used_by_a_desk_with_other_agencies(tmp_path: Path) -> None:
    assert load_opinion(BUILTIN, KENDARI) is not None
    assert load_opinion(BUILTIN, ["PDAM", "DLHK"]) is None  # it would route to offices this desk has not
    assert load_opinion(OFF, KENDARI) is None
    theirs = tmp_path / "theirs.txt.gz"
    theirs.write_bytes(gzip.compress(dump_opinion(train([("PDAM", "air mati"), (NO_AGENCY, "halo")] * 2)).encode()))
    opinion = load_opinion(str(theirs), KENDARI)
    assert isinstance(opinion, Opinion)
    with pytest.raises(ValueError, match="knows agencies the settings do not: PDAM"):
        Lexicon.build([AgencyLexicon(code="DLHK", keywords=["sampah"])], opinion=opinion)
    for bad, why in [(tmp_path / "missing.gz", "cannot read"), (tmp_path / "plain.txt", "not a routing model")]:
        if bad.suffix == ".txt":
            bad.write_text("hello", encoding="utf-8")
        with pytest.raises(ValueError, match=why):
            load_opinion(str(bad), KENDARI)


def _ehumas(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("ehumas")), *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=300, check=False)


def test_a_desk_trains_its_own_model_on_its_corrections_and_routes_with_it(tmp_path: Path) -> None:
    # Citizens of this city call the garbage truck "oto kuning"; humas routed such complaints by hand,
    # and `ehumas routing review --tsv` wrote them out (tests/test_routing_desk.py covers that step).
    corrections = tmp_path / "corrections.tsv"
    corrections.write_text(
        "# Corrected complaints (all): where humas or the agencies said they belonged.\n"
        + "".join(
            f"DLHK\toto kuning {where} tidak lewat {when}\n"
            for where in ("di lorong mawar", "ke kompleks btn", "di kelurahan lepo-lepo", "di jalan kancil")
            for when in ("sudah seminggu", "dari senin", "lagi")
        ),
        encoding="utf-8",
    )
    base = DATA / "routing_corpus.tsv"
    config_text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    before = tmp_path / "before.toml"
    before.write_text(config_text.replace('model = "builtin"', 'model = "off"'), encoding="utf-8")
    model = tmp_path / "model.txt.gz"
    done = _ehumas("routing", "train", "--config", str(before), str(model), str(base), str(corrections), cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert f"{model}: a model of {len(_labelled(base)) + 12} labelled messages from 2 files" in done.stdout
    after = tmp_path / "after.toml"
    after.write_text(config_text.replace('model = "builtin"', f'model = "{model}"'), encoding="utf-8")
    probe = tmp_path / "probe.tsv"
    probe.write_text("DLHK\toto kuning tidak lewat di lorong kami\n", encoding="utf-8")
    said = {
        name: _ehumas("routing", "eval", str(probe), "--config", str(config), cwd=ROOT)
        for name, config in (("before", before), ("after", after))
    }
    assert "accuracy 0.00% (0/1)" in said["before"].stdout, said["before"].stderr
    assert "accuracy 100.00% (1/1)" in said["after"].stdout, said["after"].stderr
    # A label that is no agency of the desk is refused, and nothing is written.
    wrong = tmp_path / "wrong.tsv"
    wrong.write_text("PDAM\tair mati\n", encoding="utf-8")
    refused = _ehumas("routing", "train", "--config", str(before), str(tmp_path / "x.gz"), str(wrong), cwd=ROOT)
    assert refused.returncode == 2 and "no agency of the configuration: PDAM" in refused.stderr
    assert not (tmp_path / "x.gz").exists()


def test_a_model_file_that_is_not_there_is_a_configuration_error(tmp_path: Path) -> None:
    config = tmp_path / "city.toml"
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    config.write_text(text.replace('model = "builtin"', 'model = "/nowhere/model.txt.gz"'), encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape("routing.model: no such file: '/nowhere/model.txt.gz'")):
        load_settings(config)
    config.write_text(text.replace('model = "builtin"', 'model = "off"'), encoding="utf-8")
    assert load_settings(config).routing.model == "off"


# Pieces of chat text that the piece-by-piece reading must not change: context-dependent
# abbreviations split across pieces, invisible characters, full-width letters, hyphens, emoji.
_PIECES = st.sampled_from(
    [
        "kk",
        "KK",
        "e",
        "ktp",
        "el",
        "e-ktp",
        "min",
        "halo",
        "sampah,",
        "jln",
        "gorong2",
        "dijalan",
        "selo\u200bkan",
        "Ｓａｍｐａｈ",
        "jalan–jalan",
        "tapi",
        "kayak",
        "rusak",
        "bukan",
        "akta",
        "-",
        "🙏",
        "a",
        "garbage",
        "pick-up",
        "İ",
    ]
)
_SPACES = st.sampled_from([" ", "  ", "\t", "\n", "\u00a0", "\u3000", "\u2003"])


def _whole_tokens(text: str) -> list[str]:
    """tokens() as defined on the whole text: one regular-expression pass, no pieces, no cache."""
    lowered = unicodedata.normalize("NFKC", text).translate(_TRANSLATE).lower()
    raw = [token for word in _WORD.findall(lowered) for token in _word_tokens(word)]
    return context_tokens(raw)


def _trained_probabilities(opinion: Opinion, text: str) -> dict[str, float]:
    """The model's probabilities as training defines them: every feature of the text, counted."""
    known = [opinion.weights[feature] for feature in features(text) if feature in opinion.weights]
    scale = 1.0 / math.sqrt(len(known)) if known else 0.0
    scores = [bias + sum(row[label] for row in known) * scale for label, bias in enumerate(opinion.bias)]
    exps = [math.exp(score - max(scores)) for score in scores]
    return {label: value / sum(exps) for label, value in zip(opinion.labels, exps, strict=True)}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.one_of(_PIECES, st.text(max_size=6)), _SPACES), max_size=14))
def test_a_text_read_piece_by_piece_is_read_as_a_whole(with_opinion: Lexicon, pieces: list[tuple[str, str]]) -> None:
    """Lexicon.read() works per whitespace-separated piece (and keeps each): the words, the lexicon's
    tokens and the model's judgement must be those of the whole text."""
    text = "".join(piece + space for piece, space in pieces)
    opinion = with_opinion.opinion
    assert opinion is not None
    for _ in range(2):  # the first reading fills the cache, the second comes from it
        reading = with_opinion.read(text)
        words = _whole_tokens(text)
        assert reading.toks == [with_opinion.lookup(word) for word in words]
        assert [tok.raw for tok in reading.toks] == words
        label, probability = opinion.judge(reading.rows, reading.known)
        expected = _trained_probabilities(opinion, text)
        assert probability == pytest.approx(expected[label], abs=1e-9)
        assert probability == pytest.approx(max(expected.values()), abs=1e-9)


def test_a_full_piece_cache_starts_again_and_reads_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lexicon_module, "PIECE_CACHE", 8)
    small = lexicon_from_tables(EXAMPLE, load_opinion(BUILTIN, KENDARI))
    usual = lexicon_from_tables(EXAMPLE, load_opinion(BUILTIN, KENDARI))
    texts = [text for _, text in _labelled(DATA / "routing_corpus.tsv")][:60]
    for text in texts + texts:
        assert classify(text, small) == classify(text, usual), text
    assert 0 < len(small._pieces) <= 8

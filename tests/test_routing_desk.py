"""Routing at the desk (issue 14): why a card came, humas's triage buttons, corrections kept as
labelled examples, and `ehumas routing review` / `eval` run as commands against what happened in chat."""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import RoutingSection
from bot.standins.telegram_api import TelegramCall, TelegramStandIn
from routing import classify
from routing.evaluate import parse_labelled, score
from storage import complaints, corrections
from storage.models import CorrectionKind
from tests.conftest import ROOT
from tests.harness import (
    ADMIN_ID,
    DLHK_CHAT,
    HUMAS_CHAT,
    PUPR_CHAT,
    User,
    World,
    example_data,
    running_bot,
    settings_for,
)
from tests.test_e2e_telegram import BUDI, SITI, STAFF_DLHK, file_complaint

ADMIN = User(ADMIN_ID, "Astibar")
ANDI = User(616161, "Andi")
EXAMPLE = ROOT / "config.example.toml"
BLIND = ROOT / "tests" / "data" / "routing_blind.tsv"

# The words of the lexicon are what these tests are about: the desk runs with `[routing] model =
# "off"` (the learned second opinion has its own test below and tests/test_routing_opinion.py).
# Two agencies' words, close: the classifier leaves it with humas.
UNSURE = "got mampet dan sampah numpuk di depan rumah"
# Garbage on a collapsing road: the lexicon does not know "anjlok" (caved in), so DLHK gets it.
AMBROL_ROAD = "sampah menutupi jalan, aspalnya anjlok"
AMBROL_BRIDGE = "jembatan kayu dekat pasar anjlok, sampah ikut hanyut"
# Trucks parked in the way: Dishub's matter, not DLHK's.
PARKED = "truk sampah parkir sembarangan menghalangi jalan tiap pagi"

_callbacks = itertools.count(1)


@pytest.fixture
async def world(database_url: str, telegram: TelegramStandIn) -> AsyncIterator[World]:
    settings = settings_for(database_url, telegram)
    words_only = settings.model_copy(update={"routing": RoutingSection(model="off")})
    async with running_bot(words_only, telegram) as world:
        yield world


@pytest.fixture
async def learned_world(database_url: str, telegram: TelegramStandIn) -> AsyncIterator[World]:
    async with running_bot(settings_for(database_url, telegram), telegram) as world:
        yield world


def group_button(world: World, user: User, data: str, on: TelegramCall) -> dict[str, Any]:
    """A press of an inline button under a message the bot sent to a group."""
    return {
        "update_id": world.telegram.next_update_id(),
        "callback_query": {
            "id": f"group-cb{next(_callbacks)}",
            "from": user.json(),
            "chat_instance": "group",
            "data": data,
            "message": {
                "message_id": on.message_id,
                "date": int(time.time()),
                "chat": {"id": on.chat_id, "type": "supergroup", "title": "Humas"},
                "from": world.telegram.bot_user,
                "text": on.text or "",
            },
        },
    }


def text(call: TelegramCall) -> str:
    return call.text or ""


def keyboard(call: TelegramCall) -> list[tuple[str, str]]:
    rows = call.params.get("reply_markup", {}).get("inline_keyboard", [])
    return [(button["text"], button["callback_data"]) for row in rows for button in row]


async def test_the_agency_card_says_which_words_sent_it(world: World) -> None:
    await file_complaint(world, BUDI, "jalan depan rumah berlubang besar, bahaya <b>sekali</b>")
    card = await world.reply(PUPR_CHAT)
    assert "Diteruskan ke sini karena kata: jalan, berlubang" in text(card)
    assert keyboard(card) == []  # an agency's card has no triage buttons
    # The citizen's text is escaped once: shown as text, never taken as markup, never garbled.
    assert "bahaya &lt;b&gt;sekali&lt;/b&gt;" in text(card)


async def test_a_complaint_routed_by_the_second_opinion_says_so_on_both_cards(learned_world: World) -> None:
    world = learned_world
    # No DLHK word the lexicon knows: the learned second opinion routes it, and the card says why.
    await file_complaint(world, BUDI, "Why is garbage pickup in Anduonohu only once a week now?")
    card = await world.reply(DLHK_CHAT)
    assert "Diteruskan ke sini karena mirip aduan-aduan untuk dinas ini (kata: garbage" in text(card)
    # A drain word as an insult: the words would send it to PUPR; the opinion holds it for humas.
    await file_complaint(world, SITI, "otaknya mampet, pejabat gak mikir rakyat")
    held = await world.reply(HUMAS_CHAT)
    assert "Kata-katanya menunjuk ke <b>PUPR</b>, tetapi isinya tidak mirip aduan untuk dinas itu." in text(held)
    assert ("➡️ PUPR", "pindah:2:PUPR") in keyboard(held)


async def test_an_unsure_complaint_comes_to_humas_with_guesses_and_a_tap_routes_it(world: World) -> None:
    ticket = await file_complaint(world, BUDI, UNSURE)
    card = await world.reply(HUMAS_CHAT)
    assert "Mungkin <b>PUPR</b>: got, mampet · atau <b>DLHK</b>: sampah, numpuk" in text(card)
    assert keyboard(card) == [("➡️ PUPR", "pindah:1:PUPR"), ("➡️ DLHK", "pindah:1:DLHK")]

    # Only humas admins may route: anyone else in the group is told so, and nothing moves.
    await world.send(group_button(world, STAFF_DLHK, "pindah:1:PUPR", on=card))
    assert "khusus untuk petugas humas" in text(await world.reply(HUMAS_CHAT))

    await world.send(group_button(world, ADMIN, "pindah:1:PUPR", on=card))
    new_card = await world.reply(PUPR_CHAT)
    assert ticket in text(new_card) and "Diteruskan ke sini oleh humas" in text(new_card)
    assert "diteruskan ke Dinas Pekerjaan Umum" in text(await world.reply(BUDI.id))
    assert f"{ticket} dialihkan ke PUPR" in text(await world.reply(HUMAS_CHAT))

    # The old buttons stay on the message: a second tap is stale and changes nothing.
    await world.send(group_button(world, ADMIN, "pindah:1:DLHK", on=card))
    assert "sudah tidak berlaku" in text(await world.reply(HUMAS_CHAT))
    await world.settled()
    answered = [call for call in world.telegram.calls if call.method == "answerCallbackQuery"]
    assert len(answered) == 3  # every press is acknowledged (Telegram's spinner stops)
    async with world.runtime.sessions() as session:
        complaint = await complaints.get_complaint(session, complaint_id=1)
        kept = await corrections.correction_of(session, complaint_id=1)
    assert complaint is not None and complaint.opd_code == "PUPR" and complaint.reroute_count == 1
    assert kept is not None
    assert (kept.said_opd, kept.truth_opd, kept.kind, kept.text) == (None, "PUPR", CorrectionKind.ROUTED, UNSURE)


async def test_a_refusal_shows_humas_the_other_likely_agencies(world: World) -> None:
    ticket = await file_complaint(world, BUDI, "sampah numpuk di got yang mampet depan rumah")
    card = await world.reply(DLHK_CHAT)
    await world.send(world.message(STAFF_DLHK, f"/bukan {ticket} salurannya yang mampet", chat_id=DLHK_CHAT))
    notice = await world.reply(HUMAS_CHAT)
    assert "bukan kewenangannya" in text(notice) and "Mungkin <b>PUPR</b>: got, mampet" in text(notice)
    assert "<b>DLHK</b>:" not in text(notice)  # not back to the agency that refused it
    assert keyboard(notice) == [("➡️ PUPR", "pindah:1:PUPR")]
    assert text(card)
    async with world.runtime.sessions() as session:
        kept = await corrections.correction_of(session, complaint_id=1)
    assert kept is not None and kept.labelled is False
    assert (kept.said_opd, kept.truth_opd, kept.refused_by) == ("DLHK", None, "DLHK")


def write_config(tmp_path: Path, database_url: str, *, extra_problems: tuple[str, ...] = ()) -> Path:
    """The example configuration pointed at the test database (optionally with words added)."""
    text = (
        EXAMPLE.read_text(encoding="utf-8")
        .replace('url = "sqlite+aiosqlite:///ehumas.db"', f'url = "{database_url}"')
        .replace('model = "builtin"', 'model = "off"')
    )
    if extra_problems:
        words = ", ".join(f'"{word}"' for word in extra_problems)
        text = text.replace("problems = [\n    # damage\n", f"problems = [\n    {words},\n    # damage\n", 1)
    path = tmp_path / "city.toml"
    path.write_text(text, encoding="utf-8")
    return path


async def ehumas(*args: str) -> tuple[int, str, str]:
    """Run the ehumas command line in its own process."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode("utf-8"), err.decode("utf-8")


async def file_anew(world: World, user: User, description: str) -> str:
    """File a complaint, answering "baru" should the desk offer an open one as the same problem ("anjlok"
    after a place word reads as a place in both ambrol texts); return the ticket."""
    for answer in (description, "lewati", "lewati"):
        await world.send(world.message(user, answer))
        asked = await world.reply(user.id)
    if "sudah dilaporkan" in (asked.text or ""):
        await world.send(world.message(user, "baru"))
        await world.reply(user.id)
    await world.send(world.message(user, "ya"))
    filed = await world.reply(user.id)
    assert filed.text and "tercatat dengan nomor" in filed.text, filed.text
    return filed.text.split("nomor ", 1)[1].split(".", 1)[0]


async def test_corrections_in_the_chat_show_up_in_the_review(world: World, database_url: str, tmp_path: Path) -> None:
    road = await file_anew(world, BUDI, AMBROL_ROAD)
    bridge = await file_anew(world, SITI, AMBROL_BRIDGE)
    parked = await file_anew(world, ANDI, PARKED)
    unsure = await file_anew(world, User(717171, "Wati"), UNSURE)
    await world.replies(DLHK_CHAT, 3)
    await world.reply(HUMAS_CHAT)

    # DLHK refuses the road; humas routes it. The bridge humas reroutes directly. The parked
    # trucks are nobody's: humas rejects them. The unsure one humas routes to PUPR.
    await world.send(world.message(STAFF_DLHK, f"/bukan {road} jalannya anjlok, bukan sampah", chat_id=DLHK_CHAT))
    await world.reply(HUMAS_CHAT)
    for command in (f"/pindah {road} PUPR", f"/pindah {bridge} PUPR", f"/tolak {parked} urusan Dishub"):
        await world.send(world.message(ADMIN, command, chat_id=HUMAS_CHAT))
    await world.send(world.message(ADMIN, f"/pindah {unsure} PUPR", chat_id=HUMAS_CHAT))
    await world.settled()

    config = write_config(tmp_path, database_url)
    code, out, err = await ehumas("routing", "review", "--config", str(config), "--since", "30d")
    assert code == 0, err
    assert "complaints filed in the period (30d): 4" in out
    assert "corrected by humas or an agency:            4 (100.0%)" in out
    # At filing: three sent confidently to the wrong place, one left with humas.
    assert "at filing:             accuracy 0.00% (0/4); confident misroutes 75.00% (3/4); to humas 25.00% (1/4)" in out
    pairs = [line.split() for line in out.split("Misroutes by agency pair")[1].splitlines()[1:5]]
    assert pairs == [
        ["DLHK", "->", "PUPR", "2", f"{road},", bridge],
        ["DLHK", "->", "none", "1", parked],
        ["humas", "->", "PUPR", "1", unsure],
        [],
    ]
    keywords = out.split("Suggested keywords")[1].split("Suggested exclusions")[0]
    assert "PUPR: anjlok (2)" in keywords
    exclusions = out.split("Suggested exclusions")[1].split("Suggested other matters")[0]
    assert "DLHK: sampah (2)" in exclusions and "truk sampah (1)" in exclusions

    # The monthly routine: add the word, and the same corrections now route right.
    better = write_config(tmp_path, database_url, extra_problems=("anjlok",))
    code, out, err = await ehumas("routing", "review", "--config", str(better), "--tsv", str(tmp_path / "c.tsv"))
    assert code == 0, err
    today = out.split("with today's lexicon:")[1].splitlines()[0]
    assert "confident misroutes 25.00% (1/4)" in today  # only the parked trucks are left
    assert "anjlok" not in out.split("Suggested keywords")[1].split("Suggested exclusions")[0]
    exported = parse_labelled((tmp_path / "c.tsv").read_text(encoding="utf-8"))
    assert [(example.label, example.text) for example in exported] == [
        ("PUPR", AMBROL_ROAD),
        ("PUPR", AMBROL_BRIDGE),
        (None, PARKED),
        ("PUPR", UNSURE),
    ]


async def test_a_review_with_nothing_corrected(database_url: str, tmp_path: Path) -> None:
    code, out, err = await ehumas("routing", "review", "--config", str(write_config(tmp_path, database_url)))
    assert code == 0, err
    assert "complaints filed in the period (30d): 0" in out and "nothing to learn from yet" in out
    code, _, err = await ehumas("routing", "review", "--config", str(EXAMPLE), "--since", "monthly")
    assert code == 2 and "30d, 12w or all" in err


async def test_eval_scores_any_labelled_file_with_the_benchmark_s_figures(tmp_path: Path) -> None:
    code, out, err = await ehumas("routing", "eval", str(BLIND), "--config", str(EXAMPLE))
    assert code == 0, err
    from bot.app import build_lexicon
    from bot.config import load_settings

    figures = score(parse_labelled(BLIND.read_text(encoding="utf-8")), build_lexicon(load_settings(EXAMPLE)))
    assert figures.summary() in out.splitlines()[1]
    assert out.splitlines()[0] == f"{BLIND}: {figures.size} labelled messages"

    small = tmp_path / "mine.tsv"
    small.write_text("# a comment\nPUPR\tjalan berlubang\nnull\tsampah\n\nDLHK\tpelayanan kayak sampah\n")
    code, out, err = await ehumas("routing", "eval", str(small), "--config", str(EXAMPLE))
    assert code == 0, err
    assert "accuracy 33.33% (1/3); confident misroutes 33.33% (1/3); to humas 33.33% (1/3)" in out
    wrong = out.split("Not routed as labelled (2; confident misroutes first):")[1].splitlines()
    assert wrong[1] == "  null -> DLHK (sampah): sampah"
    assert wrong[2] == "  DLHK -> humas (-): pelayanan kayak sampah"

    small.write_text("PUPR jalan berlubang without a tab\n")
    code, _, err = await ehumas("routing", "eval", str(small), "--config", str(EXAMPLE))
    assert code == 2 and "mine.tsv:1: expected LABEL<TAB>message" in err
    code, _, err = await ehumas("routing", "eval", str(tmp_path / "none.tsv"), "--config", str(EXAMPLE))
    assert code == 2 and "file not found" in err


def test_the_bot_and_the_command_line_build_the_same_lexicon() -> None:
    import tomllib

    from bot.app import build_lexicon
    from bot.config import load_settings
    from routing.tables import lexicon_from_tables

    from_settings = build_lexicon(load_settings(EXAMPLE))
    from_tables = lexicon_from_tables(tomllib.loads(EXAMPLE.read_text(encoding="utf-8")))
    texts = [example.text for example in parse_labelled(BLIND.read_text(encoding="utf-8"))]
    assert [classify(text, from_settings) for text in texts] == [classify(text, from_tables) for text in texts]


def test_other_matters_are_checked_like_every_other_key() -> None:
    from bot.config import ConfigError, parse_settings

    data = example_data()
    data["other"][0]["wrods"] = ["typo"]
    with pytest.raises(ConfigError, match=r"other\[0\]\.wrods: unknown key"):
        parse_settings(data, "city.toml")
    data = example_data()
    data["other"][1]["words"] = ["  "]
    with pytest.raises(ConfigError, match=r"other\[1\]\.words: .*must not be empty"):
        parse_settings(data, "city.toml")
    data = example_data()
    data["opd"][1]["needs_problme"] = ["jalan"]
    with pytest.raises(ConfigError, match=r"opd\[1\]\.needs_problme: unknown key"):
        parse_settings(data, "city.toml")


def test_the_review_suggests_words_that_separate_not_names_or_function_words() -> None:
    import tomllib

    from routing.review import Correction, review
    from routing.tables import lexicon_from_tables

    lexicon = lexicon_from_tables(tomllib.loads(EXAMPLE.read_text(encoding="utf-8")))
    found = [
        Correction("KDI-0001", "jalan di lorong Kambu anjlok, tolong", None, "PUPR"),
        Correction("KDI-0002", "aspal di Kambu anjlok dan sampah berserakan", "DLHK", "PUPR"),
        Correction("KDI-0003", "listrik di Kambu padam, ada tumpukan sampah", "DLHK", None),
        Correction("KDI-0004", "listrik padam lagi dekat TPS", "DLHK", None),
        Correction("KDI-0005", "sampah kami", "DLHK", None, labelled=False),
    ]
    result = review(found, lexicon)
    assert result.pending == 1 and result.today.size == 4
    assert result.keywords == {"PUPR": [("anjlok", 2)]}  # not "kambu" (a name), not "tolong"
    assert result.others == []  # "listrik" and "padam" are an other matter's words already
    assert [(pair.said, pair.truth, pair.tickets) for pair in result.pairs] == [
        ("DLHK", "none", ["KDI-0003", "KDI-0004"]),
        ("DLHK", "?", ["KDI-0005"]),
        ("DLHK", "PUPR", ["KDI-0002"]),
        ("humas", "PUPR", ["KDI-0001"]),
    ]

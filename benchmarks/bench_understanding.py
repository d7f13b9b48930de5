"""Score message understanding on the conversation corpora: right meaning, junk complaints, speed.

    python benchmarks/bench_understanding.py                 # today's understanding layer
    python benchmarks/bench_understanding.py --legacy        # the dialog before the layer existed
    python benchmarks/bench_understanding.py --show-misses   # every miss, for review

"Legacy" emulates what the intake dialog did before issue 12 (any text that is not a command or a
greeting started a complaint; the open step took whatever came next). It is kept to record the
"before" figure on any new corpus the same way.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from routing.understand import Context, Meaning, State, Understanding, understand  # noqa: E402

CORPORA = sorted((ROOT / "tests/data").glob("conversation_*.jsonl"))

# The corpus's states: the citizen's situation when the message arrives (tests/data/README).
_OPEN, _ANSWERED = 7, 7
STATES = {
    "idle": Context(State.IDLE),
    "idle_open": Context(State.IDLE, open_tickets=(_OPEN,)),
    "idle_answered": Context(State.IDLE, open_tickets=(_ANSWERED,), answered_tickets=(_ANSWERED,)),
    "awaiting_rating": Context(
        State.AWAITING_RATING, open_tickets=(_ANSWERED,), answered_tickets=(_ANSWERED,), rating_for=_ANSWERED
    ),
    "awaiting_location": Context(State.AWAITING_LOCATION),
    "awaiting_photo": Context(State.AWAITING_PHOTO),
    "confirming": Context(State.CONFIRMING),
    "confirming_location": Context(State.CONFIRMING_LOCATION),
    "clerk_group": Context(State.CLERK_GROUP),
}


def load(path: Path) -> list[dict[str, object]]:
    """The cases of one corpus file (JSON lines; blank lines and # comments skipped)."""
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            cases.append(json.loads(line))
    return cases


# -- the dialog before the understanding layer, for the "before" figure ------------------------------

_LEGACY_GREETING = frozenset(
    "halo hallo hai hi hello p ping pagi siang sore malam selamat assalamualaikum assalamu alaikum "
    "salam permisi min admin kak pak bu mas mbak tes test tes123 om swastiastu shalom "
    "ok oke okay okey baik siap terima kasih makasih trims thanks thank you".split()
)
_LEGACY_YES = {"ya", "y", "iya", "iye", "yes", "ok", "oke", "kirim", "benar", "betul", "setuju", "lanjut"}
_LEGACY_CANCEL = {"batal", "batalkan", "cancel", "/batal"}
_LEGACY_SKIP = {"lewati", "lewat", "skip", "tidak ada", "tdk ada", "gak ada", "ga ada", "nggak ada", "tidak"}


def legacy(text: str, context: Context) -> Understanding:
    """What the pre-issue-12 dialog made of a message."""
    word = " ".join(text.lower().strip().strip(".!?,").split())
    words = re.findall(r"[^\W\d_]+", text.lower())
    greeting = not words or all(w in _LEGACY_GREETING for w in words)
    state = context.state
    if state == State.CLERK_GROUP:
        return Understanding(Meaning.ANSWER if text.startswith("#") else Meaning.CHATTER)
    if text.startswith("/"):
        name = text[1:].split()[0].split("@")[0].lower() if len(text) > 1 else ""
        return Understanding(
            {"status": Meaning.STATUS, "batal": Meaning.CANCEL, "bantuan": Meaning.HELP, "help": Meaning.HELP}.get(
                name, Meaning.UNCLEAR
            )
        )
    if state == State.AWAITING_RATING:
        head = text.strip().split()[0] if text.strip() else ""
        if head.isdigit() and 1 <= int(head) <= 5:
            return Understanding(Meaning.RATING, stars=int(head))
        state = State.IDLE
    if state == State.IDLE:
        return Understanding(Meaning.GREETING if greeting else Meaning.COMPLAINT)
    if word in _LEGACY_CANCEL:
        return Understanding(Meaning.CANCEL)
    if state == State.AWAITING_LOCATION:
        return Understanding(Meaning.SKIP if word in _LEGACY_SKIP else Meaning.LOCATION)
    if state == State.AWAITING_PHOTO:
        return Understanding(Meaning.SKIP if word in _LEGACY_SKIP else Meaning.ADDITION)
    return Understanding(Meaning.YES if word in _LEGACY_YES else Meaning.UNCLEAR)


# Labels the desk acts on identically: declining a rating "for now" is the same as skipping it.
_SAME_ACTION = {("awaiting_rating", Meaning.SKIP): Meaning.NO}


def judge(case: dict[str, object], got: Understanding) -> bool:
    """Whether an understanding is what the corpus expects (meaning, and stars for a rating)."""
    expected = _SAME_ACTION.get((str(case["state"]), Meaning(str(case["expect"]))), case["expect"])
    if got.meaning != expected:
        return False
    if case["expect"] == Meaning.RATING:
        return got.stars == case.get("rating")
    return True


def score(cases: list[dict[str, object]], decide: object, *, show: bool = False) -> dict[str, float]:
    """Right share, junk complaints (a complaint made of a non-complaint), complaints missed."""
    right = junk = missed = 0
    for case in cases:
        context = STATES[str(case["state"])]
        got = decide(str(case["text"]), context)  # type: ignore[operator]
        ok = judge(case, got)
        right += ok
        junk += got.meaning == Meaning.COMPLAINT and case["expect"] != Meaning.COMPLAINT
        missed += got.meaning != Meaning.COMPLAINT and case["expect"] == Meaning.COMPLAINT
        if show and not ok:
            print(f"  {case['state']:<18} {case['expect']:<10} got {got.meaning:<10} {case['text']!r}")
    return {"cases": len(cases), "right": right / len(cases), "junk": junk, "missed": missed}


def main() -> None:
    """Print the scores of each corpus and the speed."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path, default=[p for p in CORPORA if p.exists()])
    parser.add_argument("--legacy", action="store_true", help="score the dialog as it was before issue 12")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    decide = legacy if args.legacy else understand
    for path in args.files:
        cases = load(path)
        figures = score(cases, decide, show=args.show_misses)
        print(
            f"{path.name}: {figures['cases']:.0f} cases, right {figures['right']:.1%}, "
            f"junk complaints {figures['junk']:.0f}, complaints missed {figures['missed']:.0f}"
        )
    texts = [(str(c["text"]), STATES[str(c["state"])]) for p in args.files for c in load(p)]
    rounds = max(1, 20_000 // len(texts))
    started = time.perf_counter()
    for _ in range(rounds):
        for text, context in texts:
            decide(text, context)
    elapsed = time.perf_counter() - started
    print(f"speed: {rounds * len(texts) / elapsed:,.0f} messages/s")


if __name__ == "__main__":
    main()

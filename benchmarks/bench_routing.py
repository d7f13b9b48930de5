"""Routing benchmark: messages classified per second on one core, with accuracy and misroutes.

Run from the repository root: `.venv/bin/python benchmarks/bench_routing.py`
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from routing import Lexicon, classify  # noqa: E402
from routing.evaluate import parse_labelled, score  # noqa: E402
from routing.model_file import BUILTIN, load_opinion  # noqa: E402
from routing.normalize import _word_tokens, chunk_tokens  # noqa: E402
from routing.opinion import Opinion  # noqa: E402
from routing.tables import lexicon_from_tables  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "routing_corpus.tsv"


def load_lexicon(path: Path) -> Lexicon:
    """The lexicon of a settings file's [[opd]] and [[other]] tables."""
    return lexicon_from_tables(tomllib.loads(path.read_text(encoding="utf-8")))


def pin_one_core() -> str:
    """Keep the process on one CPU so the figure means "per core"; say which."""
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to cpu {cpu}"
    return "not pinned (no sched_setaffinity)"


def main() -> None:
    """Measure and print throughput, accuracy and misroute rate together."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "config.example.toml")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="labelled TSV file (LABEL<TAB>message)")
    parser.add_argument("--seconds", type=float, default=2.0, help="minimum length of each timed round")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds; the best one is reported")
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall: elapsed time (a quiet machine); cpu: this process's CPU time (a machine shared with others)",
    )
    parser.add_argument(
        "--model",
        default=None,
        help='[routing] model: "builtin", "off" (the words alone) or a file (default: the config\'s)',
    )
    parser.add_argument(
        "--passes",
        type=int,
        default=None,
        help="only classify the messages this many times after the cold pass, print nothing: for counting "
        "instructions under valgrind, which unlike time does not depend on what else the machine runs",
    )
    parser.add_argument(
        "--warm",
        type=Path,
        nargs="+",
        default=None,
        metavar="FILE",
        help="also time text the caches never saw: each round starts with empty caches, classifies these "
        "labelled files' messages, then times one pass over --corpus (best of --rounds)",
    )
    args = parser.parse_args()

    core = pin_one_core()
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    data = tomllib.loads(args.config.read_text(encoding="utf-8"))
    examples = parse_labelled(args.corpus.read_text(encoding="utf-8"), source=str(args.corpus))
    messages = [example.text for example in examples]

    setting = args.model or data.get("routing", {}).get("model", BUILTIN)
    started = clock()
    lexicon = lexicon_from_tables(data, load_opinion(setting, [table["code"] for table in data["opd"]]))
    build_ms = (clock() - started) * 1000

    # First pass in a fresh process: token caches empty, every unseen word goes through rapidfuzz.
    started = clock()
    for message in messages:
        classify(message, lexicon)
    cold_rate = len(messages) / (clock() - started)
    if args.passes is not None:
        for _ in range(args.passes):
            for message in messages:
                classify(message, lexicon)
        return

    # Steady state: a running bot sees the same vocabulary again and again.
    best_rate = 0.0
    total = 0
    for _ in range(args.rounds):
        count = 0
        started = clock()
        while (elapsed := clock() - started) < args.seconds:
            for message in messages:
                classify(message, lexicon)
            count += len(messages)
        total += count
        best_rate = max(best_rate, count / elapsed)

    fresh = fresh_text_rate(args.warm, messages, data, lexicon, args.rounds, clock) if args.warm else None

    # The same figures as `ehumas routing eval` (routing.evaluate).
    figures = score(examples, lexicon)
    print(f"routing benchmark: {figures.size} messages from {args.corpus}, config {args.config.name}")
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cpus, {core}, {args.clock} clock"
    )
    print(f"lexicon build:  {build_ms:8.1f} ms (model: {setting})")
    print(f"cold pass:      {cold_rate:8.0f} messages/s (empty caches, one pass)")
    print(f"steady state:   {best_rate:8.0f} messages/s (best of {args.rounds} rounds, {total} messages)")
    if fresh is not None:
        rate, warmed = fresh
        print(
            f"fresh text:     {rate:8.0f} messages/s (one pass over the corpus after warming on {warmed} other "
            f"messages; best of {args.rounds} rounds)"
        )
    print(f"{figures.summary()}")


def fresh_text_rate(
    warm: list[Path],
    messages: list[str],
    data: dict[str, Any],
    lexicon: Lexicon,
    rounds: int,
    clock: Callable[[], float],
) -> tuple[float, int]:
    """Messages per second on text the caches have not seen, after warming them on other messages.

    The steady state above repeats the corpus, so every piece of it is cached; a desk's new message
    brings words (names, typos) never seen before. Each round starts with empty caches: a new lexicon
    and opinion (their caches are theirs), and the text normalizer's module-level caches cleared.
    """
    warm_messages = [
        example.text for path in warm for example in parse_labelled(path.read_text(encoding="utf-8"), source=str(path))
    ]
    best = 0.0
    for _ in range(rounds):
        chunk_tokens.cache_clear()
        _word_tokens.cache_clear()  # a private cache, but a cache all the same
        opinion = lexicon.opinion
        fresh = lexicon_from_tables(
            data, None if opinion is None else Opinion(opinion.labels, opinion.bias, opinion.weights)
        )
        for message in warm_messages:
            classify(message, fresh)
        started = clock()
        for message in messages:
            classify(message, fresh)
        best = max(best, len(messages) / (clock() - started))
    return best, len(warm_messages)


if __name__ == "__main__":
    main()

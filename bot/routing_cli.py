"""`ehumas routing eval` and `ehumas routing review`: how well routing does, and what to add to the lexicon.

eval scores a labelled file (LABEL<TAB>message) with the lexicon of a configuration, with the
benchmark's figures. review reads the corrections humas and the agencies made in the chat (stored
by handlers.corrections) and prints the live figures, the misroutes by agency pair and suggested
keyword, exclusion and other-matter words.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from bot.config import Settings
from routing import Lexicon
from routing.evaluate import Example, Score, format_labelled, parse_labelled, score
from routing.review import Correction, Review, review
from storage.tickets import format_ticket

_PERIOD = re.compile(r"^(\d{1,4})([dw])$")
# Wrong examples listed by eval unless --all is given.
SHOW_WRONG = 40


def parse_period(text: str) -> timedelta | None:
    """ "30d", "12w" -> a timedelta; "all" -> None; ValueError otherwise."""
    if text == "all":
        return None
    found = _PERIOD.match(text)
    if not found:
        raise ValueError(f"period must look like 30d, 12w or all, not {text!r}")
    number = int(found.group(1))
    return timedelta(days=number) if found.group(2) == "d" else timedelta(weeks=number)


def figures_table(figures: Score, out: TextIO) -> None:
    """The summary line and the table per label."""
    print(f"  {figures.summary()}", file=out)
    print(f"  {'label':<14}{'messages':>9}{'right':>8}{'to humas':>10}{'misrouted':>11}", file=out)
    for label, size, right, humas, misrouted in figures.by_label():
        print(f"  {label:<14}{size:>9}{right:>8}{humas:>10}{misrouted:>11}", file=out)


def _read_labelled(path: Path) -> list[Example] | None:
    """The examples of a labelled file, or None after printing why it cannot be read."""
    try:
        return parse_labelled(path.read_text(encoding="utf-8"), source=str(path))
    except FileNotFoundError:
        print(f"error: {path}: file not found", file=sys.stderr)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    return None


def run_eval(path: Path, lexicon: Lexicon, out: TextIO, *, show_all: bool = False) -> int:
    """Score a labelled file and print the figures and the wrong ones; the exit status."""
    examples = _read_labelled(path)
    if examples is None:
        return 2
    figures = score(examples, lexicon)
    print(f"{path}: {figures.size} labelled messages", file=out)
    figures_table(figures, out)
    wrong = figures.wrong()
    if wrong:
        print(f"\nNot routed as labelled ({len(wrong)}; confident misroutes first):", file=out)
        for outcome in wrong if show_all else wrong[:SHOW_WRONG]:
            result = outcome.result
            got = result.opd or "humas"
            words = ", ".join(result.matched) or "-"
            other = f"; other matter: {result.other}" if result.other else ""
            print(f"  {outcome.example.label or 'null'} -> {got} ({words}{other}): {outcome.example.text}", file=out)
        if not show_all and len(wrong) > SHOW_WRONG:
            print(f"  ... and {len(wrong) - SHOW_WRONG} more (--all lists them)", file=out)
    return 0


async def load_corrections(settings: Settings, since: datetime | None) -> tuple[list[Correction], int, int]:
    """The corrections of complaints filed since a moment, and (filed, still waiting at humas) counts."""
    from storage import corrections
    from storage.engine import create_engine, create_session_factory

    engine = create_engine(settings.database.url, sqlite_busy_timeout_ms=settings.database.sqlite_busy_timeout_ms)
    try:
        async with create_session_factory(engine)() as session:
            rows = await corrections.corrections_since(session, since=since)
            filed, waiting = await corrections.filing_counts(session, since=since)
    finally:
        await engine.dispose()
    prefix = settings.bot.ticket_prefix
    found = [
        Correction(format_ticket(prefix, row.complaint_id), row.text, row.said_opd, row.truth_opd, row.labelled)
        for row in rows
    ]
    return found, filed, waiting


def print_review(result: Review, filed: int, waiting: int, period: str, out: TextIO) -> None:
    """The review, as operators read it."""
    corrected = len(result.corrections)
    kept = max(filed - corrected - waiting, 0)

    def share(count: int) -> str:
        return f"{count / filed:.1%}" if filed else "-"

    print(f"Routing review, complaints filed in the period ({period}): {filed}", file=out)
    print(f"  routed by the classifier and not corrected: {kept} ({share(kept)})", file=out)
    print(f"  corrected by humas or an agency:            {corrected} ({share(corrected)})", file=out)
    print(f"  left with humas, not routed yet:            {waiting} ({share(waiting)})", file=out)
    if not corrected:
        print("\nNo corrections in this period: nothing to learn from yet.", file=out)
        return
    labelled = result.today.size
    print(f"\nCorrected complaints whose place is known ({labelled}):", file=out)
    print(f"  at filing:             {result.at_filing.summary()}", file=out)
    print(f"  with today's lexicon:  {result.today.summary()}", file=out)
    if result.pending:
        print(f"  ({result.pending} refused by an agency and not routed by humas yet: not counted)", file=out)
    print("\nMisroutes by agency pair (what the classifier said -> where it belonged):", file=out)
    for pair in result.pairs:
        tickets = ", ".join(pair.tickets[:6]) + (" ..." if len(pair.tickets) > 6 else "")
        print(f"  {pair.said:>12} -> {pair.truth:<12} {len(pair.tickets):>4}   {tickets}", file=out)
    print(
        "\nSuggested keywords (words of an agency's corrected complaints its words still miss; in how many):", file=out
    )
    _suggestions({code: _counted(words) for code, words in result.keywords.items()}, out)
    print("\nSuggested exclusions (an agency's words that still send it complaints that were not its own):", file=out)
    exclusions = {
        code: [
            f"{item.word} ({item.count})"
            + (": " + ", ".join(f'"{phrase}" {count}' for phrase, count in item.phrases) if item.phrases else "")
            for item in items
        ]
        for code, items in result.exclusions.items()
    }
    _suggestions(exclusions, out)
    print("\nSuggested other matters (words of complaints that were no agency's):", file=out)
    _suggestions({"[[other]]": _counted(result.others)} if result.others else {}, out)
    print(
        "\nAdd the words that make sense to the configuration ([[opd]] keywords, exclude, needs_problem/problems,"
        "\nproof; [[other]]), then check nothing else got worse:"
        "\n  ehumas routing eval tests/data/routing_corpus.tsv --config FILE"
        "\n  ehumas routing review --config FILE   (the 'with today's lexicon' line should go up)",
        file=out,
    )


def _counted(words: list[tuple[str, int]]) -> list[str]:
    return [f"{word} ({count})" for word, count in words]


def _suggestions(groups: dict[str, list[str]], out: TextIO) -> None:
    if not any(groups.values()):
        print("  (none)", file=out)
        return
    for code, items in groups.items():
        print(f"  {code}: {'; '.join(items)}", file=out)


def run_review(settings: Settings, out: TextIO, *, period: str, min_count: int, tsv: Path | None) -> int:
    """The review of a deployment's database; the exit status."""
    try:
        span = parse_period(period)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    since = datetime.now().astimezone() - span if span is not None else None
    from bot.app import build_lexicon

    found, filed, waiting = asyncio.run(load_corrections(settings, since))
    lexicon = build_lexicon(settings)
    result = review(found, lexicon, min_count=min_count)
    print_review(result, filed, waiting, period, out)
    if tsv is not None:
        examples = [Example(correction.truth, correction.text) for correction in found if correction.labelled]
        tsv.write_text(
            f"# Corrected complaints ({period}): where humas or the agencies said they belonged.\n"
            + format_labelled(examples),
            encoding="utf-8",
        )
        print(f"\n{len(examples)} labelled examples written to {tsv}", file=out)
    return 0


def run_train(out_path: Path, files: list[Path], settings: Settings, out: TextIO) -> int:
    """Train the routing model on labelled files and write it; the exit status."""
    import gzip

    from routing.opinion import NO_AGENCY, dump_opinion
    from routing.train import train

    examples: list[Example] = []
    for path in files:
        found = _read_labelled(path)
        if found is None:
            return 2
        examples += found
    codes = {opd.code for opd in settings.opd}
    unknown = sorted({example.label for example in examples if example.label is not None} - codes)
    if unknown:
        print(f"error: labels that are no agency of the configuration: {', '.join(unknown)}", file=sys.stderr)
        return 2
    try:
        opinion = train([(example.label or NO_AGENCY, example.text) for example in examples])
    except (RuntimeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text = dump_opinion(opinion).encode("utf-8")
    # mtime 0: the same examples give the same file, byte for byte.
    out_path.write_bytes(gzip.compress(text, mtime=0) if out_path.suffix == ".gz" else text)
    print(f"{out_path}: a model of {len(examples)} labelled messages from {len(files)} files", file=out)
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser], default_config: str) -> None:
    """The `routing` command group of the ehumas command line."""
    group = commands.add_parser("routing", help="how well complaints are routed, and what to add to the lexicon")
    routing_commands = group.add_subparsers(dest="routing_command", required=True)

    evaluate = routing_commands.add_parser("eval", help="score a labelled file (LABEL<TAB>message per line)")
    evaluate.add_argument("file", type=Path, help="labelled TSV file, e.g. tests/data/routing_blind.tsv")
    evaluate.add_argument("--config", default=default_config, help=f"configuration file (default {default_config})")
    evaluate.add_argument("--all", action="store_true", help=f"list every wrong example, not the first {SHOW_WRONG}")
    evaluate.set_defaults(routing_func="eval")

    monthly = routing_commands.add_parser("review", help="live figures and suggested words from the corrections")
    monthly.add_argument("--config", default=default_config, help=f"configuration file (default {default_config})")
    monthly.add_argument("--since", default="30d", help="complaints filed in the last 30d, 12w... or all (default 30d)")
    monthly.add_argument("--min-count", type=int, default=2, help="suggest words found in at least N texts (default 2)")
    monthly.add_argument("--tsv", type=Path, help="also write the labelled corrections to this TSV file")
    monthly.set_defaults(routing_func="review")

    learn = routing_commands.add_parser("train", help="train the routing model (the second opinion) on labelled files")
    learn.add_argument("out", type=Path, help="the model file to write (.gz: compressed); [routing] model names it")
    learn.add_argument("files", type=Path, nargs="+", help="labelled TSV files (the shipped ones, review --tsv output)")
    learn.add_argument("--config", default=default_config, help=f"configuration file (default {default_config})")
    learn.set_defaults(routing_func="train")

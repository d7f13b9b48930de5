"""Command line: `python -m routing classify [--config FILE]`, one message per stdin line, JSON out.

This is an edge script: it reads a file (the [[opd]], [[other]] and [routing] tables of the settings; the
model through routing.model_file).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tomllib
from collections.abc import Sequence

from routing import Lexicon, classify
from routing.model_file import BUILTIN, load_opinion
from routing.tables import lexicon_from_tables

DEFAULT_CONFIG = "config.example.toml"
USAGE_ERROR = 2


class CliError(Exception):
    """A problem with the configuration, reported as one line and exit status 2."""


def load_lexicon(path: str) -> Lexicon:
    """The lexicon of the [[opd]] and [[other]] tables in a TOML settings file, or CliError."""
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except FileNotFoundError:
        raise CliError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise CliError(f"{path}: is a directory, not a TOML file") from None
    except OSError as exc:
        raise CliError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CliError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise CliError(f"{path}: not valid TOML: {exc}") from None
    try:
        routing = data.get("routing", {})
        setting = routing.get("model", BUILTIN) if isinstance(routing, dict) else BUILTIN
        tables = data.get("opd", [])
        codes = [table.get("code") for table in tables if isinstance(table, dict)] if isinstance(tables, list) else []
        return lexicon_from_tables(data, load_opinion(str(setting), [code for code in codes if isinstance(code, str)]))
    except ValueError as exc:
        raise CliError(f"{path}: {exc}") from None


def _classify_lines(lexicon: Lexicon) -> None:
    """Classify each stdin line and print one JSON object per line, in order."""
    for line in sys.stdin:
        result = classify(line.rstrip("\r\n"), lexicon)
        record = {"opd": result.opd, "category": result.category, "confidence": result.confidence}
        sys.stdout.write(json.dumps(record) + "\n")
        # A caller feeding one line at a time through a pipe waits for each answer.
        sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m routing", description="Route complaint texts to agencies.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("classify", help="classify one message per stdin line, JSON per stdout line")
    run.add_argument("--config", default=DEFAULT_CONFIG, help=f"settings TOML file (default: {DEFAULT_CONFIG})")
    args = parser.parse_args(argv)
    try:
        lexicon = load_lexicon(args.config)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    # Chat text is UTF-8 whatever the locale; a stray invalid byte must not stop the stream.
    sys.stdin.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]
    try:
        _classify_lines(lexicon)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error of ours. Silence the final flush.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

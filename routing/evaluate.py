"""Scoring the classifier on labelled messages: the figures of the benchmark, the eval and the review.

A labelled file has one `LABEL<TAB>message` per line (LABEL an agency code, or `null` for "no
agency: humas"); empty lines and lines starting with `#` are skipped. Reading the file is the
caller's business: these functions take its text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from routing.classify import Classification, classify
from routing.lexicon import Lexicon

NULL_LABEL = "null"


@dataclass(frozen=True)
class Example:
    """One labelled message: where it belongs (None: to no agency) and its text."""

    label: str | None
    text: str


@dataclass(frozen=True)
class Outcome:
    """What the classifier did with one example."""

    example: Example
    result: Classification

    @property
    def right(self) -> bool:
        """Routed to the labelled agency, or to humas when labelled null."""
        return self.result.opd == self.example.label

    @property
    def misrouted(self) -> bool:
        """Sent confidently to an agency other than the label."""
        return self.result.opd is not None and self.result.opd != self.example.label


@dataclass(frozen=True)
class Score:
    """The figures over a set of examples."""

    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.outcomes)

    @property
    def right(self) -> int:
        return sum(outcome.right for outcome in self.outcomes)

    @property
    def misrouted(self) -> int:
        return sum(outcome.misrouted for outcome in self.outcomes)

    @property
    def to_humas(self) -> int:
        return sum(outcome.result.opd is None for outcome in self.outcomes)

    def rate(self, count: int) -> float:
        """count as a share of the examples (0 when there are none)."""
        return count / self.size if self.size else 0.0

    def summary(self) -> str:
        """The benchmark's line: accuracy, confident misroutes, to humas."""
        size = self.size
        return (
            f"accuracy {self.rate(self.right):.2%} ({self.right}/{size}); "
            f"confident misroutes {self.rate(self.misrouted):.2%} ({self.misrouted}/{size}); "
            f"to humas {self.rate(self.to_humas):.2%} ({self.to_humas}/{size})"
        )

    def by_label(self) -> list[tuple[str, int, int, int, int]]:
        """Per label (agency codes in order of appearance, then null): size, right, to humas, misrouted."""
        labels: list[str | None] = []
        for outcome in self.outcomes:
            if outcome.example.label not in labels:
                labels.append(outcome.example.label)
        labels.sort(key=lambda label: label is None)
        rows = []
        for label in labels:
            mine = [outcome for outcome in self.outcomes if outcome.example.label == label]
            rows.append(
                (
                    label or NULL_LABEL,
                    len(mine),
                    sum(outcome.right for outcome in mine),
                    sum(outcome.result.opd is None for outcome in mine),
                    sum(outcome.misrouted for outcome in mine),
                )
            )
        return rows

    def wrong(self) -> list[Outcome]:
        """The examples not routed as labelled, misroutes first."""
        missed = [outcome for outcome in self.outcomes if not outcome.right]
        return sorted(missed, key=lambda outcome: not outcome.misrouted)


def parse_labelled(text: str, *, source: str = "<labelled>") -> list[Example]:
    """The examples of a labelled file's text; ValueError names the first bad line."""
    examples = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        label, tab, message = line.partition("\t")
        label = label.strip()
        if not tab or not label or not message.strip():
            raise ValueError(f"{source}:{number}: expected LABEL<TAB>message")
        examples.append(Example(None if label == NULL_LABEL else label, message))
    return examples


def format_labelled(examples: Iterable[Example]) -> str:
    """Examples as the lines of a labelled file (tabs and line breaks in a text become spaces)."""
    lines = []
    for example in examples:
        text = " ".join(example.text.split())
        lines.append(f"{example.label or NULL_LABEL}\t{text}\n")
    return "".join(lines)


def score(examples: Sequence[Example], lexicon: Lexicon) -> Score:
    """Classify every example and keep what happened."""
    return Score([Outcome(example, classify(example.text, lexicon)) for example in examples])

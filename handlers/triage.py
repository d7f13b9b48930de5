"""Why a complaint went where it went, and who it might be for when it went to humas (issue 14).

The classifier is run again on the complaint's text (it is pure and takes microseconds), so the
card shows the words of the lexicon in use. Everything here returns HTML (markupsafe.Markup) with
the words escaped.
"""

from __future__ import annotations

from markupsafe import Markup

from handlers.desk import Desk
from handlers.outgoing import Button, button_parts
from handlers.texts import routing as texts
from routing import Classification, classify
from storage.models import Complaint

# Words shown per agency, and agencies offered as buttons.
MAX_WORDS = 4
MAX_BUTTONS = 3
# With no guess at all, every agency gets a button if there are at most this many.
ALL_AGENCIES_UP_TO = 4
# Inline button data: "pindah:<complaint id>:<agency code>".
BUTTON_PREFIX = "pindah:"


def _classified(desk: Desk, complaint: Complaint) -> Classification:
    return classify(complaint.description, desk.lexicon)


def route_line(desk: Desk, complaint: Complaint) -> Markup:
    """For an agency's card: one line with the words that sent the complaint there (or that humas did)."""
    if complaint.opd_code is None:
        return Markup("")
    if complaint.reroute_count > 0:
        return Markup("\n\n") + Markup(texts.CARD_ROUTE_BY_HUMAS)
    result = _classified(desk, complaint)
    words = result.words_for(complaint.opd_code)
    if not words:
        return Markup("")
    template = texts.CARD_ROUTE_LEARNED if result.by_opinion and result.opd == complaint.opd_code else texts.CARD_ROUTE
    return Markup("\n\n") + Markup(template).format(words=", ".join(words[:MAX_WORDS]))


def unrouted_hint(desk: Desk, complaint: Complaint, *, refused_by: str | None = None) -> Markup:
    """For humas: the classifier's best guesses with their words, or the other matter it saw."""
    result = _classified(desk, complaint)
    guesses = [guess for guess in result.guesses if guess.code in desk.agencies and guess.code != refused_by]
    lines: list[Markup] = []
    if guesses:
        line = Markup(texts.TRIAGE_GUESS).format(code=guesses[0].code, words=", ".join(guesses[0].words[:MAX_WORDS]))
        for guess in guesses[1:MAX_BUTTONS]:
            line += Markup(texts.TRIAGE_ALSO).format(code=guess.code, words=", ".join(guess.words[:MAX_WORDS]))
        lines.append(line)
    if result.overruled and result.overruled != refused_by:
        lines.append(Markup(texts.TRIAGE_OVERRULED).format(code=result.overruled))
    if result.other:
        lines.append(Markup(texts.TRIAGE_OTHER).format(name=result.other))
    if not lines:
        lines.append(Markup(texts.TRIAGE_NOTHING))
    if buttons(desk, complaint, refused_by=refused_by):
        lines.append(Markup(texts.TRIAGE_TAP))
    return Markup("\n\n") + Markup("\n").join(lines)


def buttons(desk: Desk, complaint: Complaint, *, refused_by: str | None = None) -> list[list[Button]]:
    """One-tap reroute buttons for the likely agencies (a tap does what /pindah does)."""
    assert complaint.id is not None
    result = _classified(desk, complaint)
    codes = [guess.code for guess in result.guesses if guess.code in desk.agencies and guess.code != refused_by]
    if not codes and len(desk.agencies) <= ALL_AGENCIES_UP_TO:
        codes = [code for code in desk.agencies if code != refused_by]
    return (
        [[Button(f"➡️ {code}", f"{BUTTON_PREFIX}{complaint.id}:{code}") for code in codes[:MAX_BUTTONS]]]
        if codes
        else []
    )


def parse_button(data: str) -> tuple[int, str] | None:
    """(complaint id, agency code) of a triage button's data, or None if it is not one."""
    return button_parts(data, BUTTON_PREFIX)

"""What a message means in its context: a pure decision, made before the desk acts on it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    """Where the conversation stands when a message arrives."""

    IDLE = "idle"
    AWAITING_RATING = "awaiting_rating"
    AWAITING_LOCATION = "awaiting_location"
    AWAITING_PHOTO = "awaiting_photo"
    CONFIRMING = "confirming"
    CONFIRMING_LOCATION = "confirming_location"
    CLERK_GROUP = "clerk_group"


class Meaning(StrEnum):
    """What a message asks the desk to do."""

    COMPLAINT = "complaint"
    ADDITION = "addition"
    STATUS = "status"
    DISPUTE = "dispute"
    RATING = "rating"
    THANKS = "thanks"
    GREETING = "greeting"
    SMALLTALK = "smalltalk"
    HELP = "help"
    CANCEL = "cancel"
    YES = "yes"
    NO = "no"
    SKIP = "skip"
    EDIT = "edit"
    LOCATION = "location"
    UNCLEAR = "unclear"
    ANSWER = "answer"
    LIST = "list"
    CHATTER = "chatter"


@dataclass(frozen=True)
class Context:
    """What the desk knows when the message arrives."""

    state: State
    # The citizen's tickets still open (unanswered or answered, not closed), newest last.
    open_tickets: tuple[int, ...] = ()
    # Of those, the ones an agency has answered (a complaint about them is a dispute).
    answered_tickets: tuple[int, ...] = ()
    # The ticket whose rating is awaited.
    rating_for: int | None = None
    ticket_prefix: str = "KDI"


@dataclass(frozen=True)
class Understanding:
    """The meaning of one message, with what it refers to."""

    meaning: Meaning
    ticket: int | None = None
    stars: int | None = None
    # The message without its ticket reference and lead words ("tambahan untuk KDI-0001: ...").
    rest: str = ""


def understand(text: str, context: Context) -> Understanding:
    """The meaning of a message in its context."""
    raise NotImplementedError

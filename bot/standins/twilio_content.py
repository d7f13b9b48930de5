"""Twilio's Content API as the stand-in serves it: templates checked against WhatsApp's limits, and rendered.

Only the two interactive types the bot creates are understood in depth (`twilio/quick-reply`,
`twilio/list-picker`); `twilio/text` is taken as well. Limits are Twilio's documented ones for
WhatsApp: a body of at most 1,024 characters, quick-reply titles of at most 20 and list items of at
most 24 characters, ids of at most 200, at most 10 options, and at most 3 quick replies in a session
message (checked when a message is sent, since a template may also be used outside a session).
"""

from __future__ import annotations

import re
from typing import Any

BODY_LIMIT = 1024
TITLE_LIMIT = 20
ITEM_LIMIT = 24
DESCRIPTION_LIMIT = 72
ID_LIMIT = 200
MAX_OPTIONS = 10
SESSION_QUICK_REPLIES = 3

QUICK_REPLY = "twilio/quick-reply"
LIST_PICKER = "twilio/list-picker"
TEXT = "twilio/text"
KNOWN_TYPES = (QUICK_REPLY, LIST_PICKER, TEXT)

_VARIABLE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


class ContentError(ValueError):
    """A template or a send the Content API refuses: Twilio's error code and message."""

    def __init__(self, code: int, message: str) -> None:
        """Remember Twilio's code and message."""
        super().__init__(message)
        self.code = code
        self.message = message


def _text(value: Any, what: str, limit: int, *, required: bool = True) -> str:
    """A string field of a template, checked for presence and length (variables counted as written)."""
    if value is None or value == "":
        if required:
            raise ContentError(21655, f"{what} is required")
        return ""
    if not isinstance(value, str):
        raise ContentError(21655, f"{what} must be a string")
    if len(value) > limit:
        raise ContentError(21655, f"{what} is longer than {limit} characters")
    return value


def check_template(request: Any) -> tuple[str, dict[str, Any]]:
    """The (friendly name, types) of a create request, or ContentError where Twilio would refuse it."""
    if not isinstance(request, dict):
        raise ContentError(21655, "the request body must be a JSON object")
    name = _text(request.get("friendly_name"), "friendly_name", 450)
    types = request.get("types")
    if not isinstance(types, dict):
        raise ContentError(21655, "types is required")
    given = {key: value for key, value in types.items() if value is not None}
    if not given or any(key not in KNOWN_TYPES for key in given):
        raise ContentError(21655, f"types must name one of {', '.join(KNOWN_TYPES)}")
    for kind, spec in given.items():
        if not isinstance(spec, dict):
            raise ContentError(21655, f"{kind} must be an object")
        _text(spec.get("body"), f"{kind} body", BODY_LIMIT)
        if kind == QUICK_REPLY:
            actions = spec.get("actions")
            if not isinstance(actions, list) or not 1 <= len(actions) <= MAX_OPTIONS:
                raise ContentError(21655, f"{kind} needs 1 to {MAX_OPTIONS} actions")
            for action in actions:
                if not isinstance(action, dict):
                    raise ContentError(21655, "an action must be an object")
                _text(action.get("title"), "a quick reply title", TITLE_LIMIT)
                _text(action.get("id"), "a quick reply id", ID_LIMIT)
        elif kind == LIST_PICKER:
            _text(spec.get("button"), "the list button", TITLE_LIMIT)
            items = spec.get("items")
            if not isinstance(items, list) or not 1 <= len(items) <= MAX_OPTIONS:
                raise ContentError(21655, f"{kind} needs 1 to {MAX_OPTIONS} items")
            for item in items:
                if not isinstance(item, dict):
                    raise ContentError(21655, "an item must be an object")
                _text(item.get("item"), "a list item", ITEM_LIMIT)
                _text(item.get("id"), "a list item id", ID_LIMIT)
                _text(item.get("description"), "a list item description", DESCRIPTION_LIMIT, required=False)
    return name, given


def _fill(template: str, variables: dict[str, str]) -> str:
    """A template string with its {{n}} variables replaced (a missing one is an error, as at Twilio)."""

    def value(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in variables or variables[key] == "":
            raise ContentError(21656, f"ContentVariables has no value for {{{{{key}}}}}")
        return str(variables[key])

    return _VARIABLE.sub(value, template)


def render(types: dict[str, Any], variables: dict[str, str]) -> dict[str, Any]:
    """What the phone shows for a session message: type, body, and its options (title and id each)."""
    shown: dict[str, Any]
    if QUICK_REPLY in types:
        spec = types[QUICK_REPLY]
        actions = spec["actions"]
        if len(actions) > SESSION_QUICK_REPLIES:
            raise ContentError(
                63005, f"a quick reply in a session message takes at most {SESSION_QUICK_REPLIES} buttons"
            )
        options = [{"title": _fill(a["title"], variables), "id": _fill(a["id"], variables)} for a in actions]
        shown = {"type": QUICK_REPLY, "body": _fill(spec["body"], variables), "options": options}
    elif LIST_PICKER in types:
        spec = types[LIST_PICKER]
        options = [{"title": _fill(i["item"], variables), "id": _fill(i["id"], variables)} for i in spec["items"]]
        shown = {
            "type": LIST_PICKER,
            "body": _fill(spec["body"], variables),
            "button": _fill(spec["button"], variables),
            "options": options,
        }
    else:
        shown = {"type": TEXT, "body": _fill(types[TEXT]["body"], variables), "options": []}
    if len(shown["body"]) > BODY_LIMIT:
        raise ContentError(21617, f"the message body exceeds {BODY_LIMIT} characters")
    for option in shown["options"]:
        limit = TITLE_LIMIT if shown["type"] == QUICK_REPLY else ITEM_LIMIT
        if len(option["title"]) > limit or len(option["id"]) > ID_LIMIT:
            raise ContentError(21656, "a button's title or id is too long once its variables are filled")
    return shown

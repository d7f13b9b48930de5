"""GeoReport v2's two formats: JSON, and XML built with the standard library's ElementTree."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from xml.etree import ElementTree

from starlette.responses import Response

JSON = "json"
XML = "xml"
FORMATS = (JSON, XML)
MEDIA_TYPES = {JSON: "application/json", XML: "text/xml; charset=utf-8"}


def _text(value: Any) -> str:
    """A value as XML text: booleans as GeoReport writes them, None as nothing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(parent: ElementTree.Element, key: str, value: Any) -> None:
    """Append `value` under `parent` as the element `key` (lists as repeated children, mappings nested)."""
    element = ElementTree.SubElement(parent, key)
    if isinstance(value, Mapping):
        for name, inner in value.items():
            _fill(element, name, inner)
    elif isinstance(value, list | tuple):
        # A list inside an object (formats, attributes) is written as repeated singular children.
        child = key[:-1] if key.endswith("s") else "item"
        for inner in value:
            _fill(element, child, inner)
    else:
        element.text = _text(value)


def xml_document(root: str, item: str | None, body: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> bytes:
    """An XML document: a list of objects as <root><item>...</item>...</root>, an object as <root>...</root>."""
    element = ElementTree.Element(root)
    if isinstance(body, Mapping):
        for name, value in body.items():
            _fill(element, name, value)
    else:
        assert item is not None
        for entry in body:
            _fill(element, item, entry)
    body_bytes: bytes = ElementTree.tostring(element, encoding="utf-8")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body_bytes


def respond(
    fmt: str,
    body: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    root: str,
    item: str | None = None,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A GeoReport answer in the format asked for."""
    if fmt == XML:
        content = xml_document(root, item, body)
    else:
        content = json.dumps(body, ensure_ascii=False).encode()
    return Response(content, status_code=status, media_type=MEDIA_TYPES[fmt], headers=dict(headers or {}))


def errors(fmt: str, status: int, descriptions: Sequence[str]) -> Response:
    """GeoReport's error list: [{"code": 400, "description": "..."}] or <errors><error>...</error></errors>."""
    body = [{"code": status, "description": text} for text in descriptions]
    return respond(fmt, body, root="errors", item="error", status=status)

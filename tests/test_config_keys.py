"""Every configuration key the loader knows is shown, with its default, in config.example.toml."""

from __future__ import annotations

import tomllib

from pydantic import BaseModel

from bot.config import Settings
from tests.conftest import ROOT


def test_every_key_of_every_section_is_in_the_example() -> None:
    example = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    missing = []
    for name, field in Settings.model_fields.items():
        section = field.annotation
        if name == "opd" or not (isinstance(section, type) and issubclass(section, BaseModel)):
            continue
        for key in section.model_fields:
            if key not in example.get(name, {}):
                missing.append(f"[{name}] {key}")
    assert missing == []

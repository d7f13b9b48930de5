"""Durations as people read them: "1 hari 3 jam", "5 jam 10 menit", "45 menit"."""

from __future__ import annotations

from datetime import timedelta


def duration(delta: timedelta) -> str:
    """A short Indonesian rendering of a duration (two largest units)."""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [(days, "hari"), (hours, "jam"), (minutes, "menit")]
    shown = [f"{value} {unit}" for value, unit in parts if value]
    if not shown:
        return f"{seconds} detik"
    return " ".join(shown[:2])


def hours(delta: timedelta) -> str:
    """Hours with one decimal, Indonesian style: "5,2 jam"."""
    return f"{delta.total_seconds() / 3600:.1f}".replace(".", ",") + " jam"

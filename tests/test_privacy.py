"""Citizens' data stays where it belongs (issue 13): unit-level checks, one or more per point.

The end-to-end checks, across real HTTP, are in tests/test_privacy_e2e.py.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from handlers.reports import export_csv
from storage.reports import ExportRow
from tests.test_reports import DESK

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _row(n: int, description: str, location: str | None = None, category: str | None = None) -> ExportRow:
    return ExportRow(
        id=n,
        created_at=NOW,
        channel="whatsapp",
        opd_code="DLHK",
        category=category,
        status="open",
        description=description,
        location_text=location,
        location_lat=-3.9778,
        location_lon=122.5151,
        due_at=NOW + timedelta(hours=24),
        answered_at=None,
        closed_at=None,
        rating=None,
    )


# -- 1. CSV formula injection -------------------------------------------------------------------

FORMULAS = ["=HYPERLINK(\"http://x\",\"klik\")", "+1+1", "-2+3", "@SUM(A1)", "\tsampah", "\r=1+1"]


def test_1_no_text_cell_of_the_export_starts_like_a_formula() -> None:
    rows = [_row(n, text, location=text, category=text) for n, text in enumerate(FORMULAS, start=1)]
    rows.append(_row(99, "Sampah menumpuk di pasar", location="Jl. Mawar"))
    parsed = list(csv.DictReader(io.StringIO(export_csv(DESK, rows).decode("utf-8-sig"))))
    for record, text in zip(parsed, FORMULAS, strict=False):
        for column in ("uraian", "lokasi", "kategori"):
            assert record[column] == "'" + text, (column, record[column])
    # Readable: ordinary text untouched, coordinates still numbers (a negative latitude is no formula).
    assert parsed[-1]["uraian"] == "Sampah menumpuk di pasar" and parsed[-1]["lokasi"] == "Jl. Mawar"
    assert parsed[-1]["lintang"] == "-3.977800" and float(parsed[-1]["bujur"]) == pytest.approx(122.5151)

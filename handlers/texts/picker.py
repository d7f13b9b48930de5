"""Words on messengers' own button widgets (WhatsApp's list picker opens with a button of its own)."""

from __future__ import annotations

# The button that opens a list of choices (a rating 1-5, the fields to change): at most 20 characters.
LIST_BUTTON = "Pilih"

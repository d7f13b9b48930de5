"""Texts of the privacy features (issue 13): where humas commands work, forgetting a citizen, groups.

Kept apart from handlers/texts/__init__.py so that other work on the desk's texts does not collide.
"""

from __future__ import annotations

# A failed delivery, as the humas group reads it: who, by name, never by number.
RECIPIENT_CITIZEN = "pelapor {name} ({channel})"
RECIPIENT_CHAT = "{channel} {chat_id}"
NO_NAME = "Warga"

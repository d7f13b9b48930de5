"""Texts of the privacy features (issue 13): where humas commands work, forgetting a citizen, groups.

Kept apart from handlers/texts/__init__.py so that other work on the desk's texts does not collide.
"""

from __future__ import annotations

from markupsafe import Markup

# A failed delivery, as the humas group reads it: who, by name, never by number.
RECIPIENT_CITIZEN = "pelapor {name} ({channel})"
RECIPIENT_CHAT = "{channel} {chat_id}"
NO_NAME = "Warga"

# Humas commands answer in the humas group and in an admin's private chat only.
HUMAS_CHATS_ONLY = "Perintah humas hanya bisa dipakai di grup humas atau di chat pribadi dengan bot."
# /lihat in the humas group: who, without the contact (that is for an admin's private chat).
LIHAT_CITIZEN_NO_CONTACT = Markup("<b>Pelapor:</b> {name} · {channel} (kontak: lihat di chat pribadi dengan bot)")
# A staff chat (agency group, humas group, admin) that writes too much too fast.
STAFF_FLOOD_NOTICE = (
    "Pesan di chat ini terlalu banyak dalam waktu singkat sehingga sebagian tidak diproses. "
    "Mohon tunggu sekitar satu menit, lalu kirim ulang yang belum ditanggapi."
)

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

# /lupakan: forget a citizen (UU 27/2022), with a confirmation.
FORGET_USAGE = "Cara pakai: /lupakan {prefix}-0042, lalu konfirmasi dengan /lupakan {prefix}-0042 ya"
FORGET_CONFIRM = (
    "⚠️ Ini menghapus nama, kontak, pesan, dan foto pelapor aduan {ticket}, di semua aduannya ({tickets}). "
    "Aduannya tetap tercatat tanpa identitas untuk statistik. Tidak bisa dibatalkan.\n"
    "Ketik /lupakan {ticket} ya untuk melanjutkan."
)
FORGET_DONE = (
    "✅ Data pelapor aduan {ticket} sudah dihapus: {complaints} aduan dianonimkan, {photos} foto dihapus. "
    "Pelapor diberi tahu."
)
FORGET_ALREADY = "Data pelapor aduan {ticket} sudah dihapus sebelumnya."
FORGOTTEN_TO_CITIZEN = (
    "Sesuai permintaan Anda, data pribadi Anda di layanan aduan E-Humas {city} (nama, kontak, pesan, dan foto) "
    "telah dihapus. Aduan Anda tetap tercatat tanpa identitas untuk statistik. Terima kasih."
)
# What stays in place of an erased text.
ERASED = "[dihapus atas permintaan pelapor]"

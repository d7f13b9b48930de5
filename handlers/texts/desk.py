"""What the bot says about the web desk (/masuk): short, polite Bahasa Indonesia."""

from __future__ import annotations

from markupsafe import Markup

# The one-time login link, in a private chat.
LOGIN_LINK = Markup(
    "🔐 <b>Masuk ke desk web E-Humas</b>{scope}\n"
    '<a href="{url}">Buka desk</a> — tautan ini berlaku {minutes} menit dan hanya sekali pakai.\n'
    "Jangan teruskan tautan ini kepada orang lain."
)
LOGIN_SCOPE_HUMAS = Markup(" — humas (semua aduan)")
LOGIN_SCOPE_AGENCY = Markup(" — {code} (aduan {code} saja)")
# Anyone who is neither a humas admin nor a member of an agency's group.
LOGIN_REFUSED = "Maaf, desk web khusus untuk petugas humas dan petugas dinas."
# /masuk in a group: a link there would let the whole group in.
LOGIN_PRIVATE_ONLY = "Kirim /masuk lewat chat pribadi dengan bot; tautan masuk tidak dikirim di grup."
DESK_OFF = "Desk web E-Humas belum diaktifkan. Hubungi humas."

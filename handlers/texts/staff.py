"""What agency clerks and humas read about their own work: cards, queues, hand-overs, help, alerts.

Same rules as handlers.texts: Telegram HTML texts are `Markup` templates (arguments escaped by
construction); every prompt names the real ticket it is about, never an example number.
"""

from __future__ import annotations

from markupsafe import Markup

# -- the ticket card ----------------------------------------------------------------------------

# The place on the card: what the citizen wrote (or "titik peta"), and a link to the map.
CARD_POINT_ONLY = "titik peta"
CARD_MAP_LINK = Markup(' · <a href="{url}">buka peta</a>')
# A card for a group that takes over a ticket from another one.
CARD_REROUTED = Markup("\n\n↪️ Dialihkan humas dari {old}.")
CARD_REROUTED_ANSWERED = Markup(
    "\n\n↪️ Dialihkan humas dari {old}; tanggapan {old} sebelumnya sudah diteruskan ke pelapor."
)
# Photos that do not ride on the card (the second and later, or all when the card is too long for a
# caption). The head matches the card's ("🆕 Aduan KDI-0042" / "📷 Aduan KDI-0042"): a reply to
# the photo names its ticket even where the outbox cannot tell.
CARD_PHOTO = "📷 Aduan {ticket} · foto {n} dari {total}. Balas pesan ini untuk menanggapi."

# -- help that names a real ticket ----------------------------------------------------------------

# Where no ticket is known (a group with nothing open).
TICKET_PLACEHOLDER = "{prefix}-nomor"
HELP_EXAMPLE_FROM_QUEUE = "(Contoh di bawah memakai {ticket}, aduan grup ini yang paling mendesak.)\n"
ADMIN_HELP_PRIVATE = (
    "\n\nPesan biasa (bukan perintah) di chat ini dicatat sebagai aduan warga. "
    "Di grup OPD, petugas memakai /daftar, /selesai dan /bukan."
)

# -- reminders ------------------------------------------------------------------------------------

REMINDER_HOWTO_ONE = Markup("Balas kartu aduannya atau ketik <code>#{ticket} tanggapan</code>.")
REMINDER_HOWTO_MANY = Markup(
    "Balas kartu masing-masing aduan, atau ketik nomornya diikuti tanggapan, "
    "misalnya <code>#{ticket} tanggapan</code>. Semua aduan terbuka: /daftar"
)

# -- /daftar: an agency's open tickets -------------------------------------------------------------

DAFTAR_HEAD = Markup("📋 <b>Aduan terbuka {owner}</b> — per {now}")
DAFTAR_WAITING = Markup("\n<b>Belum ditanggapi</b> ({count}), yang paling mendesak dulu:")
DAFTAR_LINE = Markup("• <b>{ticket}</b>{category} — batas {deadline}, {left}\n   {snippet}")
DAFTAR_LEFT = "sisa {left}"
DAFTAR_LATE = Markup("<b>terlambat {late}</b> ⚠️")
DAFTAR_MORE = Markup("… dan {count} aduan lain yang batasnya lebih longgar.")
DAFTAR_ANSWERED = Markup("\n<b>Sudah ditanggapi, belum selesai</b> ({count}): {tickets}")
DAFTAR_ANSWERED_MORE = " dan {count} lainnya"
DAFTAR_FOOT = Markup(
    "\nBalas kartunya atau ketik <code>#{ticket} tanggapan</code>; tutup dengan <code>/selesai {ticket}</code>."
)
DAFTAR_EMPTY = "✅ Tidak ada aduan terbuka untuk {owner}."
DAFTAR_HUMAS = "humas (belum diteruskan)"

# -- /pindah and /tolak: each group learns what happened to its work ---------------------------------

REROUTED_OLD_GROUP = (
    "↪️ Aduan {ticket} dialihkan humas ke {code}. Grup ini tidak perlu menanggapinya lagi; "
    "tanggapan untuk aduan ini tidak lagi diteruskan dari grup ini."
)
REROUTED_OLD_GROUP_ANSWERED = (
    "↪️ Aduan {ticket} dialihkan humas ke {code}. Tanggapan grup ini sebelumnya sudah diteruskan ke "
    "pelapor; selanjutnya {code} yang menindaklanjuti, grup ini tidak perlu menanggapinya lagi."
)
REROUTED_HUMAS_NOTE = "↪️ {ticket} dialihkan ke {code} oleh {admin}. Batas tanggapan baru: {deadline}."
REJECTED_OLD_GROUP = "🚫 Aduan {ticket} ditolak humas. Alasan: {reason}\nGrup ini tidak perlu menanggapinya lagi."
REJECTED_OLD_GROUP_ANSWERED = (
    "🚫 Aduan {ticket} ditolak humas. Alasan: {reason}\n"
    "Tanggapan grup ini sebelumnya sudah diteruskan ke pelapor; tidak perlu tindak lanjut lagi."
)
REJECTED_HUMAS_NOTE = "🚫 {ticket} ditolak oleh {admin}. Alasan: {reason}\nPelapor sudah diberi tahu."

# -- the deadline sweep's one summary for humas ------------------------------------------------------

SWEEP_HEAD = Markup("🚨 <b>{count} aduan melewati batas tanggapan</b> — per {now}")
SWEEP_AGENCY = Markup("\n<b>{name}</b> ({count}) — teguran sudah dikirim ke grup {code}")
SWEEP_UNROUTED = Markup(
    "\n<b>Belum diteruskan</b> ({count}) — teruskan dengan <code>/pindah {ticket} KODE</code> ({codes})"
)
SWEEP_LINE = Markup("• {ticket} · batas {deadline} · terlambat {late}")
SWEEP_MORE = Markup("• … dan {count} lainnya")
SWEEP_FOOT = Markup("\nPelapor sudah diberi tahu. Semua aduan terlambat: /overdue")

# -- /overdue at any scale -----------------------------------------------------------------------------

OVERDUE_MORE = Markup("• … dan {count} lainnya")
OVERDUE_CSV_NOTE = Markup("\nDaftar lengkap ({count} aduan) ada di berkas CSV terlampir.")
OVERDUE_SHORTENED = Markup("\n(Daftar dipersingkat: {shown} aduan teratas per dinas.)")
OVERDUE_CSV_CAPTION = "Aduan melewati batas{scope}, per {now}: {count} aduan."
OVERDUE_CSV_COLUMNS = ["tiket", "opd", "kategori", "dicatat", "batas", "terlambat_jam"]

# -- people's contacts (humas admins in a private chat only) ----------------------------------------------

CONTACT_ID = "{channel} id {id}"
CONTACT_HANDLE = "@{handle} ({channel} id {id})"
CONTACT_PHONE = "{phone} ({channel})"
LIHAT_CITIZEN_GROUP = Markup("<b>Pelapor:</b> {name} · {channel} (kontak hanya ditampilkan di chat pribadi admin)")
LIHAT_CITIZEN_PRIVATE = Markup("<b>Pelapor:</b> {name} · {contact}")
# Who did it, in /lihat's history: the deadline sweep and the citizen by name.
ACTOR_NAMES = {"sla": "sistem (batas waktu)", "citizen": "warga"}
# The owner of a complaint no agency has yet, in the CSV files (the export, the overdue list).
NOT_ROUTED = "belum diteruskan"

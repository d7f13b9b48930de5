"""What citizens, agency staff and humas read: short, polite Bahasa Indonesia in one place.

Texts shown as Telegram HTML are `Markup` templates: `Markup(...).format(...)` escapes every
argument that is not itself Markup, so what a citizen or clerk typed can never break a message.
"""

from __future__ import annotations

from markupsafe import Markup

# Words a citizen may type instead of pressing a button (compared after lower-casing).
YES = frozenset({"ya", "y", "iya", "iye", "yes", "ok", "oke", "kirim", "benar", "betul", "setuju", "lanjut"})
CANCEL = frozenset({"batal", "batalkan", "cancel", "/batal"})
SKIP = frozenset({"lewati", "lewat", "skip", "tidak ada", "tdk ada", "gak ada", "ga ada", "nggak ada", "tidak"})

GREETING = (
    "Selamat datang di layanan aduan E-Humas {city}. 🙏\n"
    "Silakan tuliskan masalah yang ingin Anda laporkan, misalnya: sampah belum diangkut, "
    "jalan berlubang, atau KTP belum jadi."
)
DESCRIPTION_TOO_SHORT = "Mohon jelaskan masalahnya sedikit lebih lengkap: apa yang terjadi, di mana, dan sejak kapan."
ASK_LOCATION = (
    'Terima kasih. Di mana lokasinya?\nKirim lokasi (📎 → Lokasi) atau ketik alamatnya. Ketik "lewati" jika tidak ada.'
)
ASK_PHOTO = 'Ada foto? Kirim fotonya sekarang, atau ketik "lewati".'
PHOTO_RECEIVED = "📷 Foto diterima."
DESCRIBE_PROBLEM = "Terima kasih. Ceritakan masalahnya: apa yang terjadi, di mana, dan sejak kapan."
# The history line of a filed complaint (/lihat).
FILED_EVENT = "diteruskan ke {owner} (keyakinan {confidence})"
LOCATION_RECEIVED = "📍 Lokasi diterima."
TOO_MANY_PHOTOS = "Cukup {max} foto untuk satu aduan; foto berikutnya tidak kami simpan."
SUMMARY = (
    "Mohon periksa aduan Anda:\n\n"
    "📝 {description}\n"
    "📍 {location}\n"
    "📷 {photos}\n"
    "🏢 Diteruskan ke: {agency}\n\n"
    'Ketik "ya" untuk mengirim, "ubah" untuk mengubah, atau "batal" untuk membatalkan.'
)
SUMMARY_TO_HUMAS = "Humas {city} (akan diteruskan ke dinas terkait)"
NO_LOCATION = "tanpa lokasi"
NO_PHOTO = "tanpa foto"
CONFIRM_AGAIN = 'Ketik "ya" untuk mengirim aduan, "ubah" untuk mengubahnya, atau "batal" untuk membatalkan.'
FILED = (
    "✅ Aduan Anda tercatat dengan nomor {ticket}.\n"
    "{agency} akan menanggapi paling lambat {deadline}.\n"
    "Ketik /status {ticket} untuk melihat perkembangannya."
)
FILED_TO_HUMAS = (
    "✅ Aduan Anda tercatat dengan nomor {ticket}.\n"
    "Humas akan meneruskannya ke dinas terkait; tanggapan paling lambat {deadline}.\n"
    "Ketik /status {ticket} untuk melihat perkembangannya."
)
CANCELLED = "Aduan dibatalkan. Kirim pesan kapan saja untuk membuat aduan baru."
NOTHING_TO_CANCEL = "Tidak ada aduan yang sedang dibuat. Tuliskan masalah Anda untuk membuat aduan baru."
UNSUPPORTED = "Maaf, {what} belum bisa kami terima. Kirim teks, lokasi, atau foto."
UNSUPPORTED_NAMES = {
    "sticker": "stiker",
    "voice": "pesan suara",
    "audio": "audio",
    "video": "video",
    "video_note": "video",
    "animation": "GIF",
    "document": "dokumen",
    "contact": "kontak",
    "poll": "polling",
    "dice": "dadu",
}
HELP = (
    "Layanan aduan E-Humas {city}.\n\n"
    "• Tuliskan masalah Anda, lalu ikuti langkahnya: lokasi, foto, konfirmasi.\n"
    "• Setiap aduan mendapat nomor tiket dan ditanggapi dinas terkait paling lambat {hours} jam.\n"
    "• /status — daftar aduan Anda yang masih berjalan\n"
    "• /status {prefix}-0042 — rincian satu aduan\n"
    "• /batal — batalkan aduan yang sedang dibuat"
)
STATUS_NONE = "Anda tidak punya aduan yang masih berjalan. Tuliskan masalah Anda untuk membuat aduan baru."
STATUS_HEADER = "Aduan Anda yang masih berjalan:"
STATUS_LINE = "• {ticket} — {state}"
STATUS_NOT_FOUND = "Nomor aduan {ticket} tidak ditemukan di antara aduan Anda."
STATUS_DETAIL = "Aduan {ticket}\n📝 {description}\n🏢 {agency}\n📌 Status: {state}\n🕒 Dicatat {created}"
STATUS_LAST_ANSWER = "\n💬 Tanggapan terakhir: {answer}"
STATE_OPEN = "menunggu tanggapan (batas {deadline})"
STATE_OVERDUE = "terlambat ditanggapi (batas {deadline}); humas sudah diberi tahu"
STATE_ANSWERED = "sudah ditanggapi"
STATE_CLOSED = "selesai"
STATE_REJECTED = "ditolak"
UNKNOWN_COMMAND = "Perintah itu tidak dikenal. Ketik /bantuan untuk melihat yang bisa dilakukan."
FLOOD_NOTICE = (
    "Mohon maaf, pesan Anda terlalu banyak dalam waktu singkat sehingga sebagian tidak kami proses. "
    "Mohon tunggu sekitar satu menit, lalu kirim kembali pesan yang belum kami tanggapi."
)
PROCESSING_FAILED = "Maaf, pesan Anda belum bisa kami proses karena gangguan. Silakan kirim ulang sebentar lagi."

# Agency groups
CARD = Markup(
    "🆕 <b>Aduan {ticket}</b>{category}\n"
    "<b>Pelapor:</b> {citizen}\n"
    "<b>Lokasi:</b> {location}\n"
    "<b>Batas tanggapan:</b> {deadline}\n\n"
    "{description}\n\n"
    "Balas pesan ini untuk menanggapi, atau ketik <code>#{ticket} tanggapan</code>.\n"
    "<code>/selesai {ticket}</code> · <code>/bukan {ticket} alasan</code>"
)
CARD_UNROUTED = Markup(
    "\n\n❓ Belum jelas dinas mana yang berwenang. Teruskan dengan <code>/pindah {ticket} KODE</code> ({codes})."
)
CARD_PHOTO_CAPTION = "Foto aduan {ticket}"
ANSWER_PHOTO_CAPTION = "Foto tanggapan {ticket}"
ANSWER_TO_CITIZEN = "💬 Tanggapan {agency} atas aduan {ticket}:\n\n{text}"
ANSWER_RELAYED = "✅ Tanggapan diteruskan ke pelapor {ticket}."
ANSWER_EMPTY = "Tanggapan untuk {ticket} harus berupa teks. Tulis tanggapannya sebagai balasan."
NOT_YOUR_TICKET = "⛔ Aduan {ticket} bukan milik {owner}; pesan ini tidak diteruskan ke pelapor."
TICKET_NOT_FOUND = "Aduan {ticket} tidak ditemukan."
TICKET_REJECTED = "Aduan {ticket} sudah ditolak humas; tanggapan tidak diteruskan."
UNKNOWN_GROUP = (
    "Grup ini belum terdaftar sebagai grup OPD di E-Humas, jadi pesan ini tidak diproses. "
    "Hubungi humas bila grup ini seharusnya menerima aduan."
)
BOT_ADDED_UNKNOWN = Markup(
    "Halo! Saya bot E-Humas. ID grup ini: <code>{chat_id}</code>.\n"
    "Agar grup ini menerima aduan, admin memasukkan ID tersebut ke konfigurasi "
    "(<code>telegram_chat_id</code> pada [[opd]]) lalu menjalankan ulang bot."
)
BOT_ADDED_KNOWN = "Halo {name}! Tiket aduan warga akan dikirim ke grup ini. Ketik /bantuan untuk petunjuk."
GROUP_HELP = (
    "Petunjuk untuk petugas:\n"
    "• Balas kartu aduan untuk menanggapi; tanggapan diteruskan ke pelapor.\n"
    "• Atau ketik #{ticket} diikuti tanggapan.\n"
    "• /selesai {ticket} [catatan] — aduan selesai ditangani.\n"
    "• /bukan {ticket} [alasan] — aduan bukan kewenangan dinas ini (humas meneruskan).\n"
    "• /daftar — aduan grup ini yang masih terbuka, dengan batas waktunya.\n"
    "• /gabung NOMOR-SALINAN NOMOR-UTAMA — gabungkan aduan yang sama; pelapornya ikut memantau aduan utama.\n"
    "Tanggapan pertama harus masuk paling lambat {hours} jam setelah aduan dicatat."
)
USAGE_SELESAI = "Cara pakai: /selesai {ticket} [catatan]"
USAGE_BUKAN = "Cara pakai: /bukan {ticket} [alasan]"
CLOSED_TO_CITIZEN = "✅ Aduan {ticket} dinyatakan selesai oleh {agency}.{note}\nTerima kasih atas laporan Anda."
CLOSED_IN_GROUP = "✅ Aduan {ticket} ditutup. Pelapor sudah diberi tahu."
ALREADY_CLOSED = "Aduan {ticket} sudah {state}."
DISOWNED_TO_CITIZEN = "Aduan {ticket} sedang diteruskan oleh humas ke instansi yang berwenang. Mohon ditunggu."
DISOWNED_IN_GROUP = "↪️ Aduan {ticket} dikembalikan ke humas untuk diteruskan."
DISOWNED_TO_HUMAS = Markup(
    "↪️ {agency} menyatakan aduan <b>{ticket}</b> bukan kewenangannya.\n"
    "Alasan: {reason}\n"
    "Teruskan dengan <code>/pindah {ticket} KODE</code> ({codes})."
)
NO_REASON = "(tanpa alasan)"
DELIVERY_FAILED_TO_HUMAS = (
    "⚠️ Pesan E-Humas gagal terkirim setelah beberapa kali dicoba.\n"
    "Tujuan: {target}\nAduan: {ticket}\nKeterangan: {error}"
)

# Deadlines (SLA)
REMINDER = Markup(
    "⏰ <b>Pengingat {agency}</b>\nAduan berikut belum ditanggapi dan akan melewati batas 1×24 jam:\n{lines}\n{howto}"
)
REMINDER_LINE = Markup("• <b>{ticket}</b> — batas {deadline} (sisa {left})")
TEGURAN = Markup(
    "⚠️ <b>TEGURAN HUMAS</b>\n"
    "Aduan <b>{ticket}</b> belum ditanggapi {agency} melewati batas waktu ({deadline}), "
    "terlambat {late}.\nMohon segera ditindaklanjuti dan dibalas."
)
OVERDUE_TO_CITIZEN = (
    "Mohon maaf, aduan {ticket} belum ditanggapi {agency} dalam batas waktu. "
    "Humas {city} telah menegur dinas tersebut agar segera menindaklanjuti."
)
OVERDUE_UNROUTED_TO_CITIZEN = (
    "Mohon maaf, aduan {ticket} belum ditanggapi dalam batas waktu. Humas {city} sedang menindaklanjutinya."
)

# Rating
RATE_PROMPT = "Bagaimana penanganan aduan {ticket}? Beri nilai 1 (buruk) sampai 5 (sangat baik)."
RATE_PROMPT_TYPED = " Ketik angka 1–5."
RATE_THANKS = "Terima kasih atas penilaian Anda ({stars}) untuk aduan {ticket}. 🙏"
RATE_ALREADY = "Aduan {ticket} sudah Anda nilai. Terima kasih."

# Humas admin
ADMIN_ONLY = "Maaf, perintah ini khusus untuk petugas humas."
ADMIN_HELP = (
    "Perintah humas:\n"
    "• /overdue [KODE] — aduan yang melewati batas\n"
    "• /stats [7d|30d|bulan|all] — rekap per dinas\n"
    "• /lihat {prefix}-0042 — rincian lengkap satu aduan\n"
    "• /pindah {prefix}-0042 KODE — teruskan ke dinas lain\n"
    "• /tolak {prefix}-0042 alasan — tolak aduan (spam / bukan urusan pemkot)\n"
    "• /tegur KODE [pesan] — kirim teguran ke grup dinas\n"
    "• /export [30d] — unduh CSV aduan\n"
    "• /lupakan {prefix}-0042 — hapus data pribadi pelapor (dengan konfirmasi)\n"
    "• /gabung {prefix}-0051 {prefix}-0042 — gabungkan aduan yang sama (0051 ikut memantau 0042)\n"
    "Kode dinas: {codes}"
)
OVERDUE_SCOPE = " untuk {scope}"
STATS_UNROUTED = "Belum diteruskan (humas)"
# A citizen with no usable name, as agencies see them.
CITIZEN_DEFAULT_NAME = "Warga"
# Yes/no cells of the export.
YES_WORD = "ya"
NO_WORD = "tidak"
OVERDUE_NONE = Markup("✅ Tidak ada aduan yang melewati batas waktu{scope}.")
OVERDUE_HEADER = Markup("🚨 <b>Aduan melewati batas</b>{scope} — per {now}")
OVERDUE_GROUP = Markup("\n<b>{name}</b> ({count})")
OVERDUE_UNROUTED_GROUP = Markup("\n<b>Belum diteruskan</b> ({count})")
OVERDUE_LINE = Markup("• {ticket} · umur {age} · terlambat {late}{category}")
OVERDUE_TOTAL = Markup("\nTotal: <b>{count}</b> aduan terlambat.")
UNKNOWN_AGENCY = "Kode dinas {code} tidak dikenal. Pilihan: {codes}."
STATS_HEADER = Markup("📊 <b>Rekap aduan {period}</b>")
STATS_PERIODS = {"7d": "7 hari terakhir", "30d": "30 hari terakhir", "bulan": "bulan ini", "all": "sejak awal"}
# Each agency is measured against its own deadline while the ticket was its own (README, "Angka").
STATS_BLOCK = Markup(
    "\n<b>{name}</b>\n"
    "  masuk {received} · dijawab {answered} · tepat waktu {on_time}\n"
    "  dijawab terlambat {late} · lewat batas {overdue}{missed}\n"
    "  median jawab {median} · masih buka {open}{rating}"
)
STATS_MISSED = Markup(" · dialihkan setelah lewat batas {missed}")
STATS_USAGE = "Cara pakai: /stats [7d|30d|bulan|all]"
USAGE_LIHAT = "Cara pakai: /lihat {prefix}-0042"
USAGE_PINDAH = "Cara pakai: /pindah {prefix}-0042 KODE"
USAGE_TOLAK = "Cara pakai: /tolak {prefix}-0042 alasan"
USAGE_TEGUR = "Cara pakai: /tegur KODE [pesan]"
USAGE_EXPORT = "Cara pakai: /export [7d|30d|bulan|all]"
REROUTED_TO_CITIZEN = "Aduan {ticket} diteruskan ke {agency}. Tanggapan paling lambat {deadline}."
REROUTED_DONE = "✅ {ticket} dialihkan ke {code}. Batas baru: {deadline}."
REROUTE_SAME = "Aduan {ticket} sudah ditangani {code}."
REJECTED_TO_CITIZEN = "Mohon maaf, aduan {ticket} tidak dapat kami proses. Alasan: {reason}"
REJECTED_DONE = "🚫 {ticket} ditolak. Pelapor sudah diberi tahu."
TEGURAN_MANUAL = Markup("⚠️ <b>TEGURAN HUMAS untuk {agency}</b>\n{text}")
TEGURAN_MANUAL_DEFAULT = "Mohon aduan warga yang masih terbuka segera ditanggapi sesuai batas 1×24 jam."
# /lihat: the whole story of one complaint, for humas.
LIHAT_HEAD = Markup("🔎 <b>Aduan {ticket}</b> · {category}")
LIHAT_STATUS = Markup("<b>Status:</b> {status} · <b>OPD:</b> {owner}")
LIHAT_DATES = Markup("<b>Dicatat:</b> {created} · <b>Batas:</b> {deadline}")
LIHAT_LOCATION = Markup("<b>Lokasi:</b> {location}{point}")
LIHAT_POINT = " ({lat:.5f}, {lon:.5f})"
LIHAT_PHOTOS = Markup("<b>Foto:</b> {count}")
LIHAT_CONVERSATION = Markup("<b>Percakapan:</b>")
LIHAT_MESSAGE = Markup("• {at} {who} ({label}): {text}")
LIHAT_HISTORY = Markup("<b>Riwayat:</b>")
LIHAT_EVENT = Markup("• {at} {kind} ({actor}){detail}")
LIHAT_EVENT_DETAIL = " — {detail}"
NOT_ROUTED_YET = "belum diteruskan"
AUTHOR_NAMES = {"citizen": "Warga", "opd": "OPD", "humas": "Humas", "bot": "Bot"}
# A complaint's status and history as humas reads them (/lihat, the export).
STATUS_NAMES = {"open": "terbuka", "answered": "dijawab", "closed": "selesai", "rejected": "ditolak"}
EVENT_NAMES = {
    "filed": "dicatat",
    "routed": "diteruskan",
    "answered": "dijawab",
    "closed": "selesai",
    "rejected": "ditolak",
    "disowned": "dikembalikan ke humas",
    "rerouted": "dialihkan",
    "reminded": "diingatkan",
    "reprimanded": "ditegur",
    "rated": "dinilai",
    "addition": "tambahan pelapor",
    "disputed": "keberatan pelapor",
    # "Already reported?" and "sudah beres?" (issue 17).
    "followed": "diikuti warga lain",
    "merged": "digabung",
    "merged_in": "aduan lain digabung",
    "confirmed": "dikonfirmasi beres",
    "reopened": "dibuka kembali",
}
# The card's category after the ticket number.
CARD_CATEGORY = Markup(" · {category}")
# The group id a bot added to an unknown group tells (/id).
GROUP_ID = "ID grup ini: {chat_id}"

TEGURAN_SENT = "✅ Teguran dikirim ke {code}."
EXPORT_CAPTION = "Ekspor aduan {period}: {count} baris."
EXPORT_EMPTY = "Tidak ada aduan pada periode {period}."


# -- delivery notices (the messenger adapters) --------------------------------------------------

# The citizen's photo could not be downloaded from the messenger.
PHOTO_NOT_RECEIVED = "Maaf, foto Anda tidak berhasil kami terima. Mohon kirim ulang fotonya."
# For humas: a message waits for the citizen's WhatsApp window and no template is configured.
HELD_TO_HUMAS = (
    "⚠️ Pesan untuk pelapor aduan {ticket} (WhatsApp) belum bisa dikirim: pelapor tidak menulis "
    "dalam 24 jam terakhir dan template balasan WhatsApp belum diatur.\n"
    "Pesan akan terkirim otomatis begitu pelapor menulis lagi. Bila mendesak, mohon hubungi "
    "pelapor lewat jalur lain."
)

"""What citizens, agency staff and humas read about reports of the same problem and confirming a fix (issue 17)."""

from __future__ import annotations

# -- the offer, in the intake dialog --------------------------------------------------------------------------
OFFER_HEAD = "🔎 Masalah serupa sudah dilaporkan warga lain dan sedang ditangani:"
OFFER_LINE = "{n}. {ticket} · {category} · {where}{age} · {status}\n   “{text}”"
OFFER_DISTANCE = "±{meters} m dari lokasi Anda · "
OFFER_AGE_DAYS = "{days} hari lalu"
OFFER_AGE_TODAY = "hari ini"
OFFER_FOOT = (
    "Apakah ini masalah yang sama? Ketik nomor urutnya (1–{count}) atau nomor tiketnya untuk ikut memantau "
    'aduan itu (Anda akan menerima setiap tanggapannya), atau ketik "baru" untuk tetap membuat aduan baru.'
)
OFFER_AGAIN = (
    'Ketik nomor urut (1–{count}) atau nomor tiket dari daftar di atas untuk ikut memantau, atau "baru" untuk '
    "membuat aduan baru."
)
OFFER_STATUS = {"open": "menunggu tanggapan", "answered": "sudah ditanggapi"}
NO_CATEGORY = "umum"
BUTTON_FOLLOW = "Ikuti {n}"
BUTTON_NEW = "Lapor baru"
OFFER_GONE = "Aduan {ticket} sudah tidak terbuka lagi. Kami lanjutkan aduan Anda sebagai aduan baru."

# -- following -----------------------------------------------------------------------------------------------
FOLLOWING = (
    "✅ Anda kini ikut memantau aduan {ticket} ({agency}). Setiap tanggapan dan hasilnya akan kami kirimkan "
    "kepada Anda.\nKetik /status untuk melihat perkembangannya."
)
ALREADY_FOLLOWING = "Anda sudah memantau aduan {ticket}. Kami kabari setiap perkembangannya."
FOLLOWERS_IN_GROUP = "👥 {ticket} kini dilaporkan {count} warga."
FOLLOWER_PHOTO_CAPTION = "📷 Foto tambahan dari warga yang juga melaporkan {ticket}"
FOLLOWED_HEADER = "Aduan warga lain yang Anda pantau:"
FOLLOWED_NOTE = " (Anda ikut memantau aduan ini)"

# -- merging by hand: /gabung KDI-0051 KDI-0042 ---------------------------------------------------------------
USAGE_GABUNG = (
    "Format: /gabung {prefix}-0051 {prefix}-0042 — aduan pertama digabung ke aduan kedua (masalah yang sama); "
    "pelapornya ikut memantau aduan kedua."
)
MERGE_SAME = "Aduan tidak bisa digabung dengan dirinya sendiri."
MERGE_NOT_OPEN = "Aduan {ticket} sudah {state}; hanya aduan yang masih berjalan yang bisa digabung."
MERGE_OTHER_AGENCY = "Aduan {first} dan {second} ditangani instansi berbeda; gabungkan hanya aduan instansi yang sama."
MERGE_DONE = (
    "🔗 Aduan {first} digabung ke {second}. Pelapor {first} kini memantau {second}; batas waktu {first} berakhir."
)
MERGE_TO_CITIZEN = (
    "🔗 Aduan Anda {first} ternyata sama dengan aduan {second} yang sedang ditangani {agency}, sehingga digabung. "
    "Setiap tanggapan atas {second} akan kami kirimkan kepada Anda.\nKetik /status untuk melihat perkembangannya."
)
MERGED_EVENT = "digabung ke {second}"
MERGED_IN_EVENT = "{first} digabung ke aduan ini"
STATE_MERGED = "digabung ke {ticket}"

# -- the citizen confirms the fix -----------------------------------------------------------------------------
VERIFY_QUESTION = (
    "Apakah masalahnya sudah beres? (aduan {ticket})\n"
    'Ketik "ya" bila sudah, atau "belum" bila masalahnya masih ada (boleh ditambah alasannya).'
)
BUTTON_FIXED = "✅ Ya, sudah beres"
BUTTON_NOT_FIXED = "❌ Belum"
VERIFY_TYPED = ' Ketik "ya" atau "belum".'
VERIFY_THANKS_FOLLOWER = "Terima kasih atas konfirmasinya untuk aduan {ticket}. 🙏"
VERIFY_ASK_AGAIN = 'Mohon jawab: apakah masalah aduan {ticket} sudah beres? Ketik "ya" atau "belum".'
REOPENED_TO_CITIZEN = (
    "🔁 Aduan {ticket} dibuka kembali dan diteruskan lagi ke {agency}. Tanggapan paling lambat {deadline}."
)
REOPENED_CARD = (
    "🔁 Aduan {ticket} DIBUKA KEMBALI: warga menyatakan masalahnya belum beres.\n"
    "Alasan: {reason}\nBatas tanggapan baru: {deadline}"
)
REOPENED_TO_HUMAS = "🔁 Aduan {ticket} ({agency}) dibuka kembali (ke-{count}). Alasan warga: {reason}"
REOPEN_LIMIT_TO_CITIZEN = (
    "Aduan {ticket} sudah {count} kali dibuka kembali. Kini Humas {city} menanganinya langsung; "
    "tanggapan paling lambat {deadline}."
)
REOPEN_LIMIT_TO_HUMAS = (
    "⚠️ Aduan {ticket} ({agency}) dinyatakan belum beres lagi setelah {count} kali dibuka kembali; kini di tangan "
    "humas. Alasan warga: {reason}\nTeruskan dengan /pindah {ticket} KODE bila perlu."
)
NOT_FIXED_BY_FOLLOWER = (
    "Terima kasih. Pelapor utama aduan {ticket} akan memastikan bersama instansi; kami catat jawaban Anda."
)
NO_REASON = "(tanpa alasan)"
EVENT_REOPENED = "dibuka kembali"
EVENT_CONFIRMED = "dikonfirmasi beres oleh warga"
VERIFY_TOO_LATE = (
    "Aduan {ticket} sudah ditutup lebih dari batas konfirmasi. Bila masalahnya masih ada, tuliskan sebagai "
    "aduan baru agar ditangani dengan batas waktu baru."
)
# /stats: one line under the figures.
STATS_LINE = "🔁 Dibuka ulang karena belum beres: {reopened} kali · 🔗 aduan digabung: {merged}"

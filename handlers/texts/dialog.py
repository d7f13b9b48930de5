"""What the citizen reads in the conversation beyond filing a draft: follow-ups, clarifications, buttons."""

from __future__ import annotations

# When the bot is unsure what a message means: one short question, never a guess.
CLARIFY_NEW = (
    "Maaf, saya belum yakin maksud Anda. Apakah ini laporan masalah baru?\n"
    'Ketik "ya" untuk melapor, atau tulis masalahnya dengan lebih jelas (apa, di mana, sejak kapan).'
)
CLARIFY_WITH_TICKETS = (
    "Maaf, saya belum yakin maksud Anda.\n"
    "• Ketik status untuk melihat aduan {ticket}\n"
    "• Ketik tambahan {ticket}: <keterangan> untuk menambah keterangan\n"
    "• Atau tuliskan masalah baru dengan jelas (apa, di mana, sejak kapan)."
)
CLARIFY_CLERK = "Untuk aduan mana tanggapan ini? Balas kartu aduannya, atau tulis #{prefix}-NOMOR lalu tanggapannya."
DESCRIPTION_TOO_SHORT = "Mohon jelaskan masalahnya sedikit lebih lengkap: apa yang terjadi, di mana, dan sejak kapan."

# Answers after filing.
THANKS_REPLY = "Sama-sama 🙏. Semoga masalahnya segera beres."
THANKS_REPLY_OPEN = "Sama-sama 🙏. Kami kabari begitu ada tanggapan untuk {ticket}."
GREETING_OPEN = "Halo! 🙏 Aduan Anda {ticket}: {state}.\nTulis status untuk rinciannya, atau tuliskan masalah baru."
SMALLTALK_REPLY = "🙏 Bila ada masalah yang ingin dilaporkan, tuliskan saja: apa, di mana, dan sejak kapan."

# Additions to a filed ticket.
ADDITION_TO_CITIZEN = "➕ Tambahan untuk {ticket} sudah kami teruskan ke {agency}. Batas tanggapan tetap {deadline}."
ADDITION_CLOSED = (
    "Aduan {ticket} sudah {state}. Bila masalahnya muncul lagi, tuliskan sebagai aduan baru agar "
    "ditangani dengan batas waktu baru."
)
ADDITION_EMPTY = "Apa yang ingin ditambahkan untuk {ticket}? Tulis keterangannya, atau kirim foto atau lokasinya."
ADDITION_TO_GROUP = "➕ Tambahan dari pelapor {ticket}:\n{text}"
ADDITION_PHOTO_CAPTION = "➕ Foto tambahan dari pelapor {ticket}"
ADDITION_LOCATION_TO_GROUP = "➕ Lokasi dari pelapor {ticket}: {place}"
ADDITION_TOO_MANY_PHOTOS = "Aduan {ticket} sudah memuat {max} foto; foto berikutnya tidak kami simpan."

# Disputes of an answer.
DISPUTE_TO_CITIZEN = (
    "Keberatan Anda atas tanggapan {ticket} sudah kami catat dan teruskan ke {agency} serta humas. Mohon ditunggu."
)
DISPUTE_TO_GROUP = "⚠️ Pelapor {ticket} belum puas dengan tanggapan:\n{text}\nMohon ditindaklanjuti."
DISPUTE_TO_HUMAS = "⚠️ Pelapor {ticket} ({agency}) belum puas dengan tanggapan:\n{text}"
DISPUTE_OPEN = "Aduan {ticket} belum ditanggapi; keterangan Anda kami teruskan sebagai tambahan."

# Cancelling a filed ticket is not possible; the citizen is told what happens instead.
CANCEL_FILED = (
    "Aduan {ticket} sudah tercatat dan tidak bisa dibatalkan dari sini. Bila masalahnya sudah beres, "
    "tulis tambahan {ticket}: sudah beres — dinas dan humas akan menutupnya."
)

# Ratings.
RATE_NONE = "Tidak ada aduan yang sedang menunggu penilaian dari Anda."
RATE_ASK_AGAIN = "Beri nilai dengan angka 1 (buruk) sampai 5 (sangat baik) untuk {ticket}, atau ketik nanti."
RATE_LATER = "Baik, tidak apa-apa. Terima kasih 🙏."

# The location step.
LOCATION_FILLER = (
    "Mohon tuliskan lokasinya, misalnya: depan SD 5 Baruga, atau Jl. Malaka lorong 3 dekat masjid. "
    "Bisa juga kirim titik lokasi (📎 → Lokasi). Ketik lewati bila tidak ada."
)
LOCATION_PROPOSE = "📍 Lokasi: {place} — benar?\nKetik ya, atau tuliskan lokasi yang benar."
ONE_AT_A_TIME = (
    "Satu aduan untuk satu masalah 🙏. Selesaikan dulu aduan ini; setelah terkirim, tuliskan masalah "
    "berikutnya sebagai aduan baru."
)
HELP_LOCATION = (
    "Lokasi membantu petugas menemukan masalahnya. Ketik alamat atau patokannya, atau kirim titik lokasi "
    "(📎 → Lokasi). Ketik lewati bila tidak ada."
)
HELP_PHOTO = "Foto tidak wajib, tetapi membantu petugas. Kirim fotonya sekarang, atau ketik lewati."
PHOTO_NOT_YET = 'Kirim fotonya kapan saja sebelum mengirim aduan, atau ketik "lewati".'

# Changing a draft at the confirmation step.
EDIT_WHAT = "Apa yang ingin diubah? Ketik 1 untuk uraian, 2 untuk lokasi, 3 untuk foto."
EDIT_DESCRIPTION = "Tuliskan uraian masalah yang baru."
EDIT_LOCATION = "Tuliskan lokasi yang baru, atau kirim titik lokasi (📎 → Lokasi)."
EDIT_PHOTO = 'Kirim foto yang baru (foto lama diganti), atau ketik "hapus" untuk aduan tanpa foto.'
NOT_SENT_YET = 'Aduan belum dikirim. Ketik "kirim" untuk mengirim, "ubah" untuk mengubah, atau "batal".'

# Buttons.
BUTTON_SEND = "Kirim"
BUTTON_EDIT = "Ubah"
BUTTON_CANCEL = "Batal"
BUTTON_SKIP = "Lewati"
BUTTON_YES = "Ya, benar"
BUTTON_NEW = "Ya, aduan baru"
BUTTON_STATUS = "Cek status"
EDIT_CHOICES = (("Uraian", "1"), ("Lokasi", "2"), ("Foto", "3"))
STALE_BUTTON = "Tombol ini sudah tidak berlaku."
# The words the summary offers for typing instead of pressing.
TYPE_SEND_EDIT_CANCEL = ' Ketik "kirim", "ubah", atau "batal".'

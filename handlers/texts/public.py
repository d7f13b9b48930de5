"""Texts of the public page and the Open311 API (issue 16): what the public and partner apps read.

Kept apart from handlers/texts/__init__.py so that other work on the desk's texts does not collide.
"""

from __future__ import annotations

# What replaces personal details in a public text (handlers.masking).
MASK_NIK = "[NIK disembunyikan]"
MASK_PHONE = "[nomor disembunyikan]"
MASK_NUMBER = "[angka disembunyikan]"
MASK_EMAIL = "[email disembunyikan]"
MASK_HANDLE = "[akun disembunyikan]"
MASK_NAME = "[nama]"

# One line of the intake summary, shown only while the public page is on.
SUMMARY_PUBLIC = (
    "🌐 Kategori, wilayah dan waktu tanggapan aduan ini tampil di halaman publik, tanpa nama dan nomor Anda."
)
SUMMARY_PUBLIC_TEXT = (
    "🌐 Aduan ini dan jawaban dinas tampil di halaman publik; nama, nomor telepon, email dan NIK disamarkan."
)

# The public page.
PERIOD_30D = "30 hari terakhir"
PERIOD_LAUNCH = "Sejak peluncuran"
PERIOD_ALL = "Sejak awal"
UNROUTED = "Belum diteruskan"
NO_AREA = "-"
NOT_FOUND_TITLE = "Aduan tidak ditemukan"
NOT_FOUND_TEXT = "Tidak ada aduan dengan nomor itu. Periksa kembali nomor tiketnya, misalnya {example}."
PUBLIC_STATUS = {
    "open": "Menunggu jawaban",
    "answered": "Dijawab",
    "closed": "Selesai",
    "rejected": "Ditolak",
}

# Open311: the description a service carries, and what the partner app's filer is called.
SERVICE_DESCRIPTION = "Aduan {category} untuk {agency}"
SERVICE_WHOLE_AGENCY = "Aduan lain untuk {agency}"
OPEN311_CITIZEN = "Pelapor Open311"
# The status notes of a request that is still waiting.
STATUS_NOTES_WAITING = ""

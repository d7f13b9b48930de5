"""What humas and agency staff read about routing: why a complaint came, who it might be for."""

from __future__ import annotations

# On an agency's ticket card: the words that sent the complaint there.
CARD_ROUTE = "🔎 <i>Diteruskan ke sini karena kata: {words}</i>"
# ... when the learned second opinion sent it: the words that count most for this agency.
CARD_ROUTE_LEARNED = "🔎 <i>Diteruskan ke sini karena mirip aduan-aduan untuk dinas ini (kata: {words})</i>"
# ... or that humas sent it there by hand.
CARD_ROUTE_BY_HUMAS = "🔎 <i>Diteruskan ke sini oleh humas.</i>"

# For humas, on a complaint the classifier was unsure of (or an agency refused).
TRIAGE_GUESS = "🧭 Mungkin <b>{code}</b>: {words}"
TRIAGE_ALSO = " · atau <b>{code}</b>: {words}"
TRIAGE_OTHER = "🧭 Tampaknya bukan urusan OPD: {name}"
# The words pointed to an agency, but the text is not like that agency's complaints.
TRIAGE_OVERRULED = "🧭 Kata-katanya menunjuk ke <b>{code}</b>, tetapi isinya tidak mirip aduan untuk dinas itu."
TRIAGE_NOTHING = "🧭 Tidak ada kata yang menunjuk ke dinas mana pun."
TRIAGE_TAP = "Ketuk dinasnya untuk meneruskan (sama dengan /pindah)."
# A triage button of a complaint that was routed meanwhile (by another tap or a /pindah).
TRIAGE_STALE = "Tombol untuk {ticket} sudah tidak berlaku: aduan itu sudah diteruskan ke {code}."

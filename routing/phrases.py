"""The words and phrases the understanding layer listens for, grouped by what they mean.

Written from how people in Kendari write to a city account (Indonesian chat spelling, local
particles, English of students and visitors); not tuned to any test corpus. Single words are
compared after squeezing repeated letters ("yaaa" -> "ya") and tolerate one typo when they are
long enough to make that safe; phrases are matched as whole words inside the message.
"""

from __future__ import annotations

# Words that confirm (send the draft, accept a proposal).
YES = frozenset(
    "ya y iya iy iye yes yep yup ok oke okay okey okeh kirim krim send lanjut lanjutkan betul benar bener setuju "
    "siap sip boleh gas mantap".split()
)
YES_PHRASES = (
    "sudah benar",
    "sdh benar",
    "udah benar",
    "udh benar",
    "sudah betul",
    "ya kirim",
    "iya kirim",
    "ok kirim",
    "oke kirim",
    "kirim saja",
    "kirim aja",
    "silakan kirim",
    "silahkan kirim",
    "go ahead",
    "send it",
    "sudah sesuai",
    "sdh sesuai",
    "betul semua",
    "benar semua",
)
# Words that stop the draft in progress.
CANCEL = frozenset("batal batalkan btal btl cancel cancelled stop hapus".split())
CANCEL_PHRASES = (
    "gak jadi",
    "ga jadi",
    "gk jadi",
    "nggak jadi",
    "ngga jadi",
    "enggak jadi",
    "tidak jadi",
    "tdk jadi",
    "tak jadi",
    "ndak jadi",
    "ndk jadi",
    "nda jadi",
    "never mind",
    "nevermind",
    "jangan dikirim",
    "jgn dikirim",
    "tidak usah",
    "tdk usah",
    "gak usah",
    "ga usah",
    "gk usah",
    "nggak usah",
    "batalkan saja",
    "batal saja",
    "batal aja",
    "hapus saja",
)
# Words that skip an optional step (the photo, the location).
SKIP = frozenset("lewati lewat lwti skip skp next".split())
SKIP_PHRASES = (
    "tidak ada",
    "tdk ada",
    "gak ada",
    "ga ada",
    "gk ada",
    "nggak ada",
    "ngga ada",
    "enggak ada",
    "nda ada",
    "ndak ada",
    "tak ada",
    "no photo",
    "no picture",
    "no pic",
    "tanpa foto",
    "tidak punya foto",
    "gak punya foto",
    "ga punya foto",
    "tdk punya foto",
    "tidak sempat foto",
    "gak sempat foto",
    "tidak bisa foto",
    "gak bisa foto",
    "hp tidak bisa foto",
    "tidak tahu lokasinya",
    "lupa lokasinya",
)
# Words that refuse.
NO = frozenset("tidak tdk gak ga gk nggak ngga enggak nda ndak no nope jangan jgn belum blm".split())
# Words that ask to change the draft.
EDIT = frozenset("ubah ganti edit koreksi ralat revisi perbaiki betulkan change salah".split())
EDIT_PHRASES = (
    "mau ubah",
    "mau ganti",
    "mau edit",
    "ada yang salah",
    "ada yg salah",
    "salah tulis",
    "salah ketik",
    "mau diperbaiki",
    "mau dikoreksi",
)

# Greetings and the particles that go with them.
GREETING = frozenset(
    "halo hallo haloo helo hai hay hi hello hey p ping pagi siang sore malam selamat assalamualaikum "
    "assalamualaikum assalamu alaikum salam permisi shalom om swastiastu tabe".split()
)
# Words that only address someone or soften a message.
PARTICLES = frozenset(
    "min admin mimin kak ka kk pak bapak bpk bu ibu mas mbak bang abang dik sir madam maam miss mister tim "
    "bot humas pemkot dong deh yah ah nih sih kok lah loh lho mi pale kodong e eh wah wow "
    "sekali banget bgt sangat amat semua nya juga".split()
)
THANKS = frozenset("terima makasih mksh makasi mks trims trimakasih tengkyu thanks thank thx tq ty tks".split())
THANKS_PHRASES = ("terima kasih", "trima kasih", "terimakasih", "thank you", "thanks a lot", "matur nuwun")
SMALLTALK = frozenset(
    "ok oke okay okey oke sip siap baik noted hehe haha wkwk wkwkwk hihi lol mantul sabar ditunggu tunggu "
    "nanti sebentar bentar otw".split()
)
SMALLTALK_PHRASES = (
    "ok siap",
    "oke siap",
    "baik pak",
    "baik bu",
    "siap pak",
    "siap bu",
    "siap min",
    "ok pak",
    "oke pak",
    "ditunggu ya",
    "saya tunggu",
    "sy tunggu",
    "kami tunggu",
    "good morning",
    "good afternoon",
    "good evening",
    "selamat bekerja",
    "semangat",
    "sehat selalu",
    "semoga sehat",
    "tunggu sebentar",
    "sebentar ya",
    "bentar ya",
    "saya ambil dulu",
    "sy ambil dulu",
    "lagi ambil foto",
)
HELP_PHRASES = (
    "cara lapor",
    "cara melapor",
    "cara mengadu",
    "cara pakai",
    "cara menggunakan",
    "bagaimana cara",
    "gimana cara",
    "gmn cara",
    "gimana caranya",
    "bagaimana caranya",
    "bisa lapor apa",
    "bisa bantu apa",
    "ini bot apa",
    "ini apa",
    "apa ini",
    "fungsi bot",
    "how does this work",
    "how do i",
    "how to report",
    "what can you do",
    "apa yang bisa",
    "apa saja yang bisa",
    "menu",
    "panduan",
    "petunjuk",
    "bantuan",
    "help",
    "tolong jelaskan cara",
    "lapor kemana",
    "lapor ke mana",
)

# Asking where a ticket stands.
STATUS_PHRASES = (
    "kapan dijawab",
    "kapan ditanggapi",
    "kapan dibalas",
    "kapan direspon",
    "kapan ditindak",
    "kapan ditindaklanjuti",
    "kapan diproses",
    "kapan dikerjakan",
    "kapan diperbaiki",
    "kapan diangkut",
    "kapan selesai",
    "kapan beres",
    "kapan jadi",
    "kapan ada",
    "sampai mana",
    "sampe mana",
    "smp mana",
    "sdh sampai mana",
    "sejauh mana",
    "bagaimana laporan",
    "gimana laporan",
    "gmn laporan",
    "bagaimana aduan",
    "gimana aduan",
    "bagaimana kelanjutan",
    "gimana kelanjutan",
    "bagaimana perkembangan",
    "gimana perkembangan",
    "perkembangan laporan",
    "perkembangan aduan",
    "kelanjutan laporan",
    "kelanjutan aduan",
    "status laporan",
    "status aduan",
    "status tiket",
    "cek status",
    "cek laporan",
    "cek aduan",
    "cek tiket",
    "belum ada respon",
    "blm ada respon",
    "belum ada tanggapan",
    "blm ada tanggapan",
    "belum ada jawaban",
    "blm ada jawaban",
    "belum ada balasan",
    "blm ada balasan",
    "belum dijawab",
    "blm dijawab",
    "belum ditanggapi",
    "blm ditanggapi",
    "belum dibalas",
    "blm dibalas",
    "belum direspon",
    "blm direspon",
    "tidak ada respon",
    "tdk ada respon",
    "gak ada respon",
    "ga ada respon",
    "kok lama",
    "lama sekali",
    "lama banget",
    "lama bgt",
    "any update",
    "any news",
    "what's the status",
    "whats the status",
    "what is the status",
    "status of my",
    "is there an update",
    "how long",
    "still waiting",
    "no response",
    "no reply",
    "ada kabar",
    "ada update",
    "sudah diproses",
    "sdh diproses",
    "udah diproses",
    "sudah ditindaklanjuti",
    "sudah ditanggapi",
    "sudah dibaca",
    "diproses belum",
    "sudah sampai",
)
STATUS_WORDS = frozenset("status progres progress update kabar perkembangan kelanjutan".split())

# Taking issue with an answer, or saying the problem is still there.
DISPUTE_PHRASES = (
    "tidak puas",
    "tdk puas",
    "gak puas",
    "ga puas",
    "gk puas",
    "kurang puas",
    "belum puas",
    "blm puas",
    "not satisfied",
    "unsatisfied",
    "belum diangkut",
    "blm diangkut",
    "belum diperbaiki",
    "blm diperbaiki",
    "belum dikerjakan",
    "blm dikerjakan",
    "belum ditindaklanjuti",
    "belum beres",
    "blm beres",
    "belum selesai",
    "blm selesai",
    "belum ada yang datang",
    "blm ada yg datang",
    "belum ada petugas",
    "blm ada petugas",
    "tidak ada petugas",
    "tdk ada petugas",
    "gak ada petugas",
    "tidak ada yang datang",
    "tdk ada yg datang",
    "gak ada yang datang",
    "ga ada yg datang",
    "tidak ada tindakan",
    "tdk ada tindakan",
    "belum ada tindakan",
    "blm ada tindakan",
    "tidak ada perubahan",
    "tdk ada perubahan",
    "belum ada perubahan",
    "blm ada perubahan",
    "sama saja",
    "sama aja",
    "masih sama",
    "masih ada",
    "masih numpuk",
    "masih menumpuk",
    "masih rusak",
    "masih berlubang",
    "masih banjir",
    "masih mampet",
    "masih bau",
    "masih belum",
    "tetap saja",
    "tetap belum",
    "cuma janji",
    "hanya janji",
    "janji saja",
    "janji doang",
    "omong kosong",
    "bohong",
    "tidak benar",
    "tdk benar",
    "gak benar",
    "not fixed",
    "still not",
    "still there",
    "nothing happened",
    "nothing changed",
    "nobody came",
    "no one came",
    "not true",
    "didn't come",
    "did not come",
    "never came",
    "belum juga",
    "blm juga",
    "juga belum",
    "jg belum",
    "jg blm",
    "juga blm",
)
# Adding to a ticket that is already filed.
ADDITION_PHRASES = (
    "tambahan",
    "tambahan info",
    "info tambahan",
    "informasi tambahan",
    "keterangan tambahan",
    "tambah info",
    "tambah keterangan",
    "mau tambah",
    "mau menambahkan",
    "menambahkan",
    "sekalian",
    "lupa bilang",
    "lupa sampaikan",
    "satu lagi",
    "additional info",
    "additional information",
    "to add",
    "also",
    "update:",
    "makin banyak",
    "makin parah",
    "makin bau",
    "semakin banyak",
    "semakin parah",
    "tambah parah",
    "tambah banyak",
    "tambah bau",
    "sekarang sudah",
    "skrg sdh",
    "sekarang makin",
    "getting worse",
    "even worse",
    "dipercepat",
    "mohon segera",
    "tolong segera",
    "harap segera",
    "segera ditindaklanjuti",
    "segera diangkut",
    "segera diperbaiki",
    "cepat ditangani",
    "please hurry",
)
# Rating words and the stars they mean.
RATING_PHRASES = (
    ("sangat puas", 5),
    ("puas sekali", 5),
    ("sangat bagus", 5),
    ("bagus sekali", 5),
    ("sangat baik", 5),
    ("baik sekali", 5),
    ("luar biasa", 5),
    ("mantap sekali", 5),
    ("mantap", 5),
    ("mantul", 5),
    ("keren", 5),
    ("top", 5),
    ("excellent", 5),
    ("perfect", 5),
    ("sempurna", 5),
    ("very good", 5),
    ("puas", 4),
    ("bagus", 4),
    ("good", 4),
    ("oke lah", 3),
    ("lumayan", 3),
    ("cukup", 3),
    ("biasa saja", 3),
    ("biasa aja", 3),
    ("biasa", 3),
    ("standar", 3),
    ("so so", 3),
    ("okay lah", 3),
    ("average", 3),
    ("kurang bagus", 2),
    ("kurang baik", 2),
    ("kurang", 2),
    ("lambat", 2),
    ("lelet", 2),
    ("not good", 2),
    ("poor", 2),
    ("jelek sekali", 1),
    ("sangat jelek", 1),
    ("sangat buruk", 1),
    ("buruk sekali", 1),
    ("parah", 1),
    ("jelek", 1),
    ("buruk", 1),
    ("kecewa", 1),
    ("mengecewakan", 1),
    ("terrible", 1),
    ("bad", 1),
    ("awful", 1),
)
NUMBER_WORDS = {"satu": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5, "one": 1, "two": 2, "three": 3, "four": 4}
NUMBER_WORDS["five"] = 5

# What tells that a text describes a place.
PLACE_WORDS = frozenset(
    "jl jln jalan lorong lr lrg gang gg depan dpn dekat dkt samping smpg sebelah sblh seberang sbrg belakang blkg "
    "pinggir ujung pertigaan perempatan simpang bundaran kel kelurahan kec kecamatan desa rt rw blok no nomor "
    "pasar psr masjid mesjid musholla gereja sekolah sd smp sma smk mts madrasah kampus kantor puskesmas rs "
    "perumahan perum btn kompleks komplek asrama pantai terminal pelabuhan bandara jembatan lapangan taman "
    "alun kos kost ruko toko hotel mall plaza tps tpa pertokoan near street road avenue beside behind front "
    "opposite corner km poros lingkungan dusun kompleks tikungan".split()
)
# Kendari's districts (kecamatan) and other well-known places a one-word answer may name.
PLACE_NAMES = frozenset(
    "abeli baruga kadia kambu mandonga poasia puuwatu wua wuawua nambo lepo lepolepo anduonohu bonggoeya "
    "lalolara kemaraya tipulu punggaloba bungkutoko sodohoa korumba lahundape lalodati andounohu rahandouna "
    "wundudopi tobuuha bende anawai mokoau kambu benua benubenua watulondo sanua mangga dua lapulu talia "
    "purirano tondonggeu petoaha sambuli bungggasi bunggasi labibia watubangga wolasi mataiwoi anggoeya "
    "kendari".split()
)
# Too vague to be a location on their own.
VAGUE_PLACES = frozenset("kendari rumah rmh sini situ sana disini disitu disana tempat lokasi kota".split())

# What tells that a text reports a problem (for a new complaint).
PROBLEM_WORDS = frozenset(
    "rusak berlubang lubang lobang bolong retak amblas ambles ambrol ambruk roboh runtuh longsor hancur "
    "mampet tersumbat sumbat buntu meluap meluber banjir tergenang genangan becek kubangan tumpah bocor "
    "sampah smph smpah numpuk menumpuk tumpukan menggunung berserakan bau busuk menyengat kotor jorok lalat "
    "bakar dibakar asap limbah bangkai tps tpa diangkut angkut truk gerobak "
    "ktp ektp kk akta akte kia nik blanko blangko perekaman rekam dukcapil disdukcapil capil domisili pindah "
    "jalan jln jembatan selokan got parit paret gorong drainase saluran trotoar aspal talud tanggul "
    "mati padam macet liar rawan bahaya berbahaya pungli calo antri antrian antre lambat lama belum blm "
    "tidak tdk gak ga gk nggak keluhan mengeluh komplain complain lapor laporkan melaporkan aduan mengadu "
    "tolong tlg mohon mhn minta please pls help garbage trash rubbish pothole potholes flood flooding "
    "flooded drain drains gutter sewer broken damaged smell smells stinks dirty road bridge sidewalk "
    "card certificate registry".split()
)
REQUEST_WORDS = frozenset("tolong tlg tolonggg mohon mhn minta please pls lapor laporkan melaporkan".split())

# Words a clerk uses when asking which tickets are open.
LIST_PHRASES = (
    "daftar",
    "list",
    "tiket apa saja",
    "tiket apa aja",
    "aduan apa saja",
    "aduan apa aja",
    "laporan apa saja",
    "laporan apa aja",
    "yang belum dijawab",
    "yg belum dijawab",
    "yg blm dijawab",
    "yang belum ditanggapi",
    "yg blm ditanggapi",
    "yang masih terbuka",
    "yg masih terbuka",
    "yang masih open",
    "yg masih open",
    "masih ada tiket",
    "masih ada aduan",
    "masih ada laporan",
    "ada berapa tiket",
    "ada berapa aduan",
    "berapa aduan",
    "berapa tiket",
    "open tickets",
    "open complaints",
    "tiket terbuka",
    "aduan terbuka",
    "tunggakan",
    "pending",
    "mana saja yang belum",
    "mana saja yg belum",
    "mana aja yg blm",
)
# Words in a clerk's message that read like an answer to a ticket.
ANSWER_WORDS = frozenset(
    "sudah sdh udah udh telah sedang sdg akan kami tim petugas diangkut diperbaiki ditangani ditindaklanjuti "
    "dijadwalkan dikerjakan selesai beres done fixed handled scheduled".split()
)

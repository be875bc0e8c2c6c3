"""Synthetic conferences of any size, in the input format of docs/inputs.md.

``generate(folder, cities=, participants=, sessions=, seed=)`` writes a complete input
folder (conference.toml and the six CSV files) that loads without errors and can be
scheduled: the same kinds of variety as the bundled sample (German and Turkish cities
with and without the Fronleichnam holiday, partnerships, youth with afternoon-only
hours, bilingual people, interpreted sessions, capacities, youth-only audiences,
absences, preferences, a pinned opening plenary), with rooms and interpreters scaled
to the amount of events so that the timetable is feasible but not roomy.

Everybody in a generated conference is invented: names are drawn from lists of
common German and Turkish first and last names, cities are made-up names.

The same arguments and seed give byte-identical files: every random choice comes from
one ``random.Random(seed)`` and nothing depends on set or dict iteration order of
anything but insertion.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from scheduler.errors import UserError
from scheduler.model import can_follow

# ------------------------------------------------------------------------------ constants

CONFERENCE_START = date(2020, 6, 3)  # Wednesday; the window has 10 weekdays
CONFERENCE_END = date(2020, 6, 16)
OPENING_START = "2020-06-03T09:00:00+02:00"  # 09:00 Berlin, 10:00 Istanbul
MEETING_MINUTES = 45
NEW_CONTACTS_PER_CITY = 2
MAX_WANTED_SESSIONS = 20  # so that everybody could, in principle, attend what they want
MAX_SESSIONS_PER_HOST = 2
MAX_DELEGATES_PER_CITY = 3  # further administration staff are marked "not a delegate"
SESSIONS_PER_THEME = 10  # big conferences get more, narrower themes
# Room-hours one room offers over the window, counted with slack: 10 weekdays of which
# only about six hours suit German and Turkish attendees at once, minus breaks.
ROOM_HOURS = 40

# Fronleichnam (Thu 11 June 2020) is a public holiday in these states, not in the others.
DE_REGIONS_WITH_HOLIDAY = ("DE-BW", "DE-BY", "DE-HE", "DE-NW", "DE-RP", "DE-SL")
DE_REGIONS_WITHOUT_HOLIDAY = (
    "DE-BB", "DE-BE", "DE-HB", "DE-HH", "DE-MV", "DE-NI", "DE-SH", "DE-SN", "DE-ST", "DE-TH",
)  # fmt: skip
TR_PROVINCES = 81  # ISO 3166-2:TR codes TR-01 ... TR-81

# Themes: the four of the 2020 conference first, then narrower ones from the same four
# areas, in an order that keeps the areas balanced when only the first few are used.
# (id, area, de, tr, en)
THEMES: tuple[tuple[str, str, str, str, str], ...] = (
    ("digital", "digital", "Digitalisierung", "Dijitalleşme", "Digitalisation"),
    ("urban", "urban", "Nachhaltige Stadtentwicklung", "Sürdürülebilir kentsel gelişim",
     "Sustainable urban development"),
    ("inclusion", "inclusion", "Schutz von marginalisierten Gruppen und Geflüchteten",
     "Dezavantajlı grupların ve mültecilerin korunması",
     "Protection of marginalised groups and refugees"),
    ("youth", "youth", "Jugendpartizipation", "Gençlerin katılımı", "Youth participation"),
    ("open-data", "digital", "Offene Daten", "Açık veri", "Open data"),
    ("climate", "urban", "Klimaschutz", "İklim koruma", "Climate protection"),
    ("refugees", "inclusion", "Geflüchtete in der Kommune", "Yerelde mülteciler",
     "Refugees in the municipality"),
    ("youth-exchange", "youth", "Jugendaustausch", "Gençlik değişimi", "Youth exchange"),
    ("e-government", "digital", "E-Government", "E-devlet", "E-government"),
    ("mobility", "urban", "Mobilität", "Ulaşım", "Mobility"),
    ("women", "inclusion", "Frauenförderung", "Kadınların güçlendirilmesi", "Empowering women"),
    ("youth-councils", "youth", "Jugendparlamente", "Gençlik meclisleri", "Youth councils"),
    ("smart-city", "digital", "Smart City", "Akıllı şehir", "Smart city"),
    ("circular-economy", "urban", "Kreislaufwirtschaft", "Döngüsel ekonomi", "Circular economy"),
    ("integration", "inclusion", "Integration", "Uyum", "Integration"),
    ("volunteering", "youth", "Ehrenamt", "Gönüllülük", "Volunteering"),
    ("digital-education", "digital", "Digitale Bildung", "Dijital eğitim", "Digital education"),
    ("water", "urban", "Wasserwirtschaft", "Su yönetimi", "Water management"),
    ("accessibility", "inclusion", "Barrierefreiheit", "Erişilebilirlik", "Accessibility"),
    ("sport-culture", "youth", "Sport und Kultur", "Spor ve kültür", "Sport and culture"),
    ("data-protection", "digital", "Datenschutz", "Veri koruma", "Data protection"),
    ("energy", "urban", "Energiewende", "Enerji dönüşümü", "Energy transition"),
    ("labour-market", "inclusion", "Arbeitsmarkt", "İstihdam", "Labour market"),
    ("media-literacy", "youth", "Medienkompetenz", "Medya okuryazarlığı", "Media literacy"),
    ("start-ups", "digital", "Start-ups und Innovation", "Girişimcilik ve yenilik",
     "Start-ups and innovation"),
    ("heritage", "urban", "Denkmalschutz", "Kültürel miras", "Heritage"),
    ("older-people", "inclusion", "Ältere Menschen", "Yaşlılar", "Older people"),
    ("school-partnerships", "youth", "Schulpartnerschaften", "Okul ortaklıkları",
     "School partnerships"),
    ("e-participation", "digital", "Online-Bürgerbeteiligung", "Çevrimiçi katılım",
     "E-participation"),
    ("disaster-management", "urban", "Katastrophenschutz", "Afet yönetimi",
     "Disaster management"),
    ("health", "inclusion", "Gesundheit", "Sağlık", "Health"),
    ("youth-climate", "youth", "Jugend und Klima", "Gençlik ve iklim", "Youth and climate"),
    ("broadband", "digital", "Breitbandausbau", "Genişbant altyapısı", "Broadband"),
    ("housing", "urban", "Wohnungsbau", "Konut", "Housing"),
    ("anti-discrimination", "inclusion", "Antidiskriminierung", "Ayrımcılıkla mücadele",
     "Anti-discrimination"),
    ("vocational-training", "youth", "Berufsausbildung", "Mesleki eğitim",
     "Vocational training"),
    ("cyber-security", "digital", "IT-Sicherheit", "Siber güvenlik", "Cyber security"),
    ("green-spaces", "urban", "Stadtgrün", "Kentsel yeşil alanlar", "Urban green spaces"),
    ("social-services", "inclusion", "Soziale Dienste", "Sosyal hizmetler", "Social services"),
    ("youth-media", "youth", "Jugendmedien", "Gençlik medyası", "Youth media"),
)  # fmt: skip

# Session title patterns (de, tr, en); "{}" is the theme's name in that language.
WORKSHOP_TITLES = (
    ("{}: Praxisbeispiele", "{}: Uygulama örnekleri", "{}: practical examples"),
    ("{}: Erfahrungsaustausch", "{}: Deneyim paylaşımı", "{}: exchange of experience"),
    ("{}: Fördermöglichkeiten", "{}: Destek olanakları", "{}: funding opportunities"),
    ("{}: Strategien für Kommunen", "{}: Belediyeler için stratejiler",
     "{}: strategies for municipalities"),
    ("{}: gemeinsame Projekte", "{}: Ortak projeler", "{}: joint projects"),
    ("{}: eine Einführung", "{}: Giriş", "{}: an introduction"),
    ("{}: Lehren aus der Pandemie", "{}: Salgından dersler", "{}: lessons from the pandemic"),
    ("{}: Werkstatt", "{}: Atölye", "{}: workshop"),
)  # fmt: skip
PLENARY_TITLE = ("Plenum: {}", "Genel oturum: {}", "Plenary: {}")
OPENING_TITLES = (
    "Eröffnung der Konferenz",
    "Konferansın açılışı",
    "Opening of the conference",
)

DE_FIRST = (
    "Anna", "Katrin", "Sabine", "Claudia", "Lena", "Miriam", "Jana", "Sophie", "Ursula",
    "Birgit", "Franziska", "Hannah", "Dörte", "Annegret", "Lea", "Marie", "Gisela", "Svenja",
    "Judith", "Nora", "Bärbel", "Jörg", "Jürgen", "Björn", "Thomas", "Stefan", "Matthias",
    "Jan", "Lukas", "Felix", "Günter", "Ralf", "Tobias", "Uwe", "Sebastian", "Andreas",
    "Hendrik", "Moritz", "Kai", "Frank", "Malte", "Jonas", "Till", "Volker", "Sören",
)  # fmt: skip
DE_LAST = (
    "Weiß", "Müller", "Schröder", "Groß", "Köhler", "Krüger", "Hoffmann", "Schäfer", "Jäger",
    "Strauß", "Meißner", "Bäumer", "Lehmann", "Wagner", "Becker", "Schulz", "Fischer", "Vogel",
    "Böhm", "Kühn", "Brandt", "Franke", "Hübner", "Lorenz", "Pohl", "Möller", "Schütz",
    "Sauer", "Voß", "Dietrich", "Hartmann", "Winkler", "Seidel", "Kaiser", "Rößler", "Thiele",
)  # fmt: skip
TR_FIRST = (
    "Şule", "Ayşe", "Elif", "Zeynep", "Özge", "Çağla", "Büşra", "Tuğba", "Hülya", "Gülşen",
    "Yağmur", "Ebru", "Dilek", "Nesrin", "Merve", "İpek", "Aslı", "Gökçe", "Şebnem", "Pınar",
    "Mehmet", "Ömer", "Gökhan", "Emre", "Oğuz", "Şükrü", "Ümit", "İbrahim", "Mustafa",
    "Burak", "Can", "Serkan", "Tolga", "Hakan", "Kerem", "Barış", "Özgür", "Cem", "İlker",
    "Murat", "Levent", "Uğur", "Deniz", "Aylin", "Selin", "Yusuf",
)  # fmt: skip
TR_LAST = (
    "Işık", "Yılmaz", "Kaya", "Demir", "Çelik", "Şahin", "Yıldız", "Öztürk", "Aydın",
    "Arslan", "Doğan", "Kılıç", "Aslan", "Çetin", "Koç", "Kurt", "Özdemir", "Ünal", "Güneş",
    "Aksoy", "Karataş", "Keskin", "Polat", "Uçar", "Tekin", "Başaran", "Sönmez", "Güler",
    "Akın", "Eren", "Yüksel", "Erdem", "Gündüz", "Ateş", "Altıntaş", "Özkan", "Bulut",
)  # fmt: skip

DE_CITY_ROOTS = (
    "Linden", "Eichen", "Buchen", "Birken", "Tannen", "Rosen", "Falken", "Adler", "Stein",
    "Hohen", "Neu", "Alt", "Kirch", "Mühl", "Wald", "Wiesen", "Sonnen", "Kranich", "Hirsch",
    "Fuchs", "Eschen", "Ulmen", "Wolfs", "Bären", "Schön", "Grün", "Lauter", "Oster",
    "Wester", "Königs",
)  # fmt: skip
DE_CITY_ENDINGS = (
    "bach", "berg", "burg", "dorf", "feld", "hausen", "heim", "stadt", "au", "brück", "hagen",
    "rode", "tal", "furt",
)  # fmt: skip
TR_CITY_ROOTS = (
    "Kara", "Ak", "Yeşil", "Göl", "Kızıl", "Çam", "Taş", "Su", "Yeni", "Eski", "Gök", "Ulu",
    "Bağ", "Demir", "Gül", "Köprü", "Kum", "Deniz", "Dağ", "Altın", "Çınar", "Ova", "Erik",
    "Elma", "Sarı", "Boz", "Orta", "Kaya", "Yıldız", "İnce",
)  # fmt: skip
TR_CITY_ENDINGS = (
    "köy", "pınar", "dere", "tepe", "ova", "yurt", "kent", "bahçe", "hisar", "yazı", "kaya",
    "çay", "ören", "su",
)  # fmt: skip

_ASCII_DE = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe",
                           "Ü": "ue"})  # fmt: skip
_ASCII_TR = str.maketrans({"ç": "c", "ğ": "g", "ı": "i", "İ": "i", "ö": "o", "ş": "s", "ü": "u",
                           "Ç": "c", "Ğ": "g", "Ö": "o", "Ş": "s", "Ü": "u"})  # fmt: skip


def _ascii(text: str, country: str) -> str:
    """An ASCII slug for ids and e-mail addresses (no case folding of Turkish letters:
    they are transliterated first)."""
    table = _ASCII_TR if country == "TR" else _ASCII_DE
    text = text.translate(table).translate(_ASCII_TR)
    return "".join(ch for ch in text if ch.isascii() and (ch.isalnum() or ch == "-")).lower()


# ------------------------------------------------------------------------------ shape


@dataclass(frozen=True)
class Shape:
    """What kind of conference to write, beyond its size. The defaults are the shape the
    generator has always written: the same seed gives byte-identical files with them.

    - ``themes_per_person``: relative weights of wanting 1, 2, 3, … themes (youth always
      get one youth theme among them);
    - ``interest_weights``: the interest (1–3) of each theme after a person's first
      (which is 3), drawn from this list;
    - ``capacity_percent`` / ``capacity_seats``: the share of workshops with limited
      seats, and the seats beyond the hosts they get (drawn from the list);
    - ``interpreted_percent``: the share of workshops interpreted de-tr (plenaries
      always are); the rest are German, Turkish and English as 4 : 4 : 3;
    - ``youth_percent``: the share of youth among participants after each city's first
      (administration and experts share the rest as 35 : 40);
    - ``youth_only_percent``: the share of youth-theme workshops open to youth only
      (a further 10 % are for youth and administration);
    - ``room_hours`` / ``interpreter_hours``: the event hours one room / interpreter is
      counted to cover over the window (higher: fewer rooms, scarcer interpreters);
    - ``max_wanted``: the most sessions one person wants (interests are lowered to it).
    """

    themes_per_person: tuple[int, ...] = (40, 48, 12)
    interest_weights: tuple[int, ...] = (1, 2, 2, 3)
    capacity_percent: float = 30
    capacity_seats: tuple[int, ...] = (10, 15, 20, 30)
    interpreted_percent: float = 45
    youth_percent: float = 25
    youth_only_percent: float = 30
    room_hours: float = ROOM_HOURS
    interpreter_hours: float = ROOM_HOURS
    max_wanted: int = MAX_WANTED_SESSIONS

    def problems(self) -> list[str]:
        """What makes no conference, as messages naming the option."""
        found = []
        if (
            not self.themes_per_person
            or min(self.themes_per_person) < 0
            or not any(self.themes_per_person)
        ):
            found.append("--themes-per-person needs non-negative weights, one of them > 0")
        if not self.interest_weights or any(w not in (1, 2, 3) for w in self.interest_weights):
            found.append("--interest-weights takes interests 1, 2 or 3")
        if not self.capacity_seats or min(self.capacity_seats) < 1:
            found.append("--capacity-seats takes seat counts of at least 1")
        for name, value in (
            ("--capacity-percent", self.capacity_percent),
            ("--interpreted-percent", self.interpreted_percent),
            ("--youth-percent", self.youth_percent),
            ("--youth-only-percent", self.youth_only_percent),
        ):
            if not 0 <= value <= 100:
                found.append(f"{name} must be between 0 and 100, not {value:g}")
        if self.youth_only_percent > 90:
            found.append("--youth-only-percent must be at most 90 (10 % are youth+administration)")
        for name, value in (
            ("--room-hours", self.room_hours),
            ("--interpreter-hours", self.interpreter_hours),
        ):
            if not value > 0:
                found.append(f"{name} must be positive, not {value:g}")
        if self.max_wanted < 1:
            found.append(f"--max-wanted must be at least 1, not {self.max_wanted}")
        return found


def _numbers(text: str) -> tuple[int, ...]:
    """A comma-separated list of whole numbers (an argparse type)."""
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of whole numbers"
        ) from None


def add_shape_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``scheduler generate`` that set the conference's ``Shape``."""
    default = Shape()
    group = parser.add_argument_group(
        "shape", "what kind of conference (the defaults give the same files as ever)"
    )

    def listed(values: tuple[int, ...]) -> str:
        return ",".join(str(v) for v in values)

    group.add_argument(
        "--themes-per-person",
        type=_numbers,
        default=default.themes_per_person,
        metavar="W1,W2,...",
        help="relative weights of a person wanting 1, 2, 3, ... themes, e.g. 0,0,1,2 for "
        f"mostly four (default: {listed(default.themes_per_person)})",
    )
    group.add_argument(
        "--interest-weights",
        type=_numbers,
        default=default.interest_weights,
        metavar="I,...",
        help="how strongly: interests (1-3) drawn for each theme after a person's first, "
        f"which is 3 (default: {listed(default.interest_weights)})",
    )
    group.add_argument(
        "--capacity-percent",
        type=float,
        default=default.capacity_percent,
        metavar="P",
        help=f"share of workshops with limited seats (default: {default.capacity_percent:g})",
    )
    group.add_argument(
        "--capacity-seats",
        type=_numbers,
        default=default.capacity_seats,
        metavar="N,...",
        help="seats besides the hosts of a limited workshop, drawn from this list "
        f"(default: {listed(default.capacity_seats)})",
    )
    group.add_argument(
        "--interpreted-percent",
        type=float,
        default=default.interpreted_percent,
        metavar="P",
        help="share of workshops interpreted German-Turkish; plenaries always are "
        f"(default: {default.interpreted_percent:g})",
    )
    group.add_argument(
        "--youth-percent",
        type=float,
        default=default.youth_percent,
        metavar="P",
        help="share of youth among participants; youth take part from 14:00 only "
        f"(default: {default.youth_percent:g})",
    )
    group.add_argument(
        "--youth-only-percent",
        type=float,
        default=default.youth_only_percent,
        metavar="P",
        help="share of youth-theme workshops for youth only, at most 90 "
        f"(default: {default.youth_only_percent:g})",
    )
    group.add_argument(
        "--room-hours",
        type=float,
        default=default.room_hours,
        metavar="H",
        help="event hours one room is counted to cover: rooms = all event hours / H + 1; "
        f"higher means fewer rooms (default: {default.room_hours:g})",
    )
    group.add_argument(
        "--interpreter-hours",
        type=float,
        default=default.interpreter_hours,
        metavar="H",
        help="interpreted event hours one interpreter is counted to cover; higher means "
        f"fewer interpreters (default: {default.interpreter_hours:g})",
    )
    group.add_argument(
        "--max-wanted", type=int, default=default.max_wanted, metavar="N",
        help="the most sessions one participant wants: sessions per participant "
        f"(default: {default.max_wanted})",
    )  # fmt: skip


def shape_from_args(args: argparse.Namespace) -> Shape:
    """The ``Shape`` that ``add_shape_arguments``' options describe."""
    return Shape(
        themes_per_person=tuple(args.themes_per_person),
        interest_weights=tuple(args.interest_weights),
        capacity_percent=args.capacity_percent,
        capacity_seats=tuple(args.capacity_seats),
        interpreted_percent=args.interpreted_percent,
        youth_percent=args.youth_percent,
        youth_only_percent=args.youth_only_percent,
        room_hours=args.room_hours,
        interpreter_hours=args.interpreter_hours,
        max_wanted=args.max_wanted,
    )


# ------------------------------------------------------------------------------ records


@dataclass(eq=False)
class _City:
    id: str
    name: str
    country: str  # "DE" or "TR"
    region: str
    partnered: bool = False


@dataclass(eq=False)
class _Person:
    id: str
    name: str
    email: str
    city: _City
    organisation: str
    role: str
    languages: tuple[str, ...]  # as written; empty = the city's language
    delegate: str  # cell text; "" = the default for the role (docs/inputs.md)
    interests: dict[str, int] = field(default_factory=dict)
    hosting: int = 0

    @property
    def spoken(self) -> frozenset[str]:
        if self.languages:
            return frozenset(self.languages)
        return frozenset({"de" if self.city.country == "DE" else "tr"})

    def can_follow(self, language: str) -> bool:
        return can_follow(self.spoken, language)


@dataclass(eq=False)
class _Session:
    id: str
    theme: str
    titles: tuple[str, str, str]
    kind: str
    duration: int
    language: str
    capacity: int | None = None
    hosts: list[_Person] = field(default_factory=list)
    audience: tuple[str, ...] = ()
    not_before: date | None = None
    not_after: date | None = None
    fixed_start: str = ""

    def admits(self, person: _Person) -> bool:
        """Whether the person could want this session (language and audience)."""
        if self.audience and person.role not in self.audience:
            return False
        return person.can_follow(self.language)


# ------------------------------------------------------------------------------ generation


def generate(
    folder: Path,
    *,
    cities: int,
    participants: int,
    sessions: int,
    seed: int,
    shape: Shape | None = None,
    force: bool = False,
) -> None:
    """Write a valid, schedulable synthetic conference into ``folder`` (created if needed;
    a folder that is not empty only with ``force``: it may hold the user's own files).

    Half the cities are German, half Turkish; about ``cities / 2`` German–Turkish
    partnerships; every city with a partnership has a delegate. Rooms and interpreters
    grow with the number of events. Up to about 40 sessions use the four themes of 2020;
    bigger conferences get narrower themes too (about ten sessions a theme), so that
    nobody wants more sessions than fit in ten days. The same arguments give
    byte-identical files. ``shape`` changes what kind of conference it is (``Shape``).
    Raises UserError for sizes or shapes that make no conference.
    """
    shape = shape or Shape()
    _check_sizes(cities, participants, sessions, shape)
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder} exists and is not a folder: choose another output folder")
    if not force and folder.is_dir() and any(folder.iterdir()):
        held = ", ".join(sorted(entry.name for entry in folder.iterdir()))
        raise UserError(
            f"{folder} is not empty (it holds {held}); "
            "generate writes conference.toml and CSV files there: choose an empty or new "
            "folder, or add --force to overwrite files of the same names"
        )
    rng = random.Random(seed)
    themes = THEMES[: min(len(THEMES), max(4, round(sessions / SESSIONS_PER_THEME)))]

    city_list = _make_cities(rng, cities)
    partnerships = _make_partnerships(rng, city_list)
    people = _make_people(rng, city_list, participants, themes, shape)
    session_list = _make_sessions(rng, sessions, themes, people, shape)
    _limit_wanted(people, session_list, themes, shape.max_wanted)
    preferences = _make_preferences(rng, people, session_list)
    absences = _make_absences(rng, people)
    rooms, interpreters = _resources(session_list, partnerships, len(city_list), shape)

    folder.mkdir(parents=True, exist_ok=True)
    _write_toml(folder / "conference.toml", themes, rooms, interpreters, seed)
    _write_csv(
        folder / "cities.csv",
        ["city_id", "name", "country", "region", "timezone", "language"],
        [[c.id, c.name, c.country, c.region, "", ""] for c in city_list],
    )
    _write_csv(
        folder / "partnerships.csv",
        ["city_a", "city_b", "since"],
        [[a.id, b.id, since] for a, b, since in partnerships],
    )
    _write_csv(
        folder / "participants.csv",
        ["participant_id", "name", "email", "city_id", "organisation", "role", "languages",
         "delegate"] + [f"interest_{t[0]}" for t in themes],
        [
            [p.id, p.name, p.email, p.city.id, p.organisation, p.role, "|".join(p.languages),
             p.delegate] + [str(p.interests[t[0]]) for t in themes]
            for p in people
        ],
    )  # fmt: skip
    _write_csv(
        folder / "unavailability.csv", ["participant_id", "start", "end", "reason"], absences
    )
    _write_csv(
        folder / "sessions.csv",
        ["session_id", "theme", "title_de", "title_tr", "title_en", "kind", "duration_minutes",
         "language", "capacity", "hosts", "audience", "not_before", "not_after", "fixed_start"],
        [
            [s.id, s.theme, *s.titles, s.kind, str(s.duration), s.language,
             "" if s.capacity is None else str(s.capacity), "|".join(h.id for h in s.hosts),
             "|".join(s.audience), _iso(s.not_before), _iso(s.not_after), s.fixed_start]
            for s in session_list
        ],
    )  # fmt: skip
    _write_csv(folder / "preferences.csv", ["participant_id", "session_id", "weight"], preferences)


def _check_sizes(cities: int, participants: int, sessions: int, shape: Shape) -> None:
    problems = shape.problems()
    if cities < 2:
        problems.append(f"--cities must be at least 2 (one German, one Turkish), not {cities}")
    if participants < max(cities, 2):
        problems.append(
            f"--participants must be at least the number of cities ({cities}): every city "
            f"needs somebody, not {participants}"
        )
    if sessions < 1:
        problems.append(f"--sessions must be at least 1 (the opening plenary), not {sessions}")
    elif sessions > participants * MAX_SESSIONS_PER_HOST:
        problems.append(
            f"--sessions ({sessions}) needs hosts: at most {MAX_SESSIONS_PER_HOST} sessions per "
            f"participant, so at most {participants * MAX_SESSIONS_PER_HOST} sessions for "
            f"{participants} participants"
        )
    if problems:
        raise UserError("cannot generate this conference: " + "; ".join(problems))


def _make_cities(rng: random.Random, count: int) -> list[_City]:
    """Half German (alternating states with and without Fronleichnam), half Turkish."""
    german = (count + 1) // 2
    names = {
        "DE": _city_names(rng, DE_CITY_ROOTS, DE_CITY_ENDINGS, german),
        "TR": _city_names(rng, TR_CITY_ROOTS, TR_CITY_ENDINGS, count - german),
    }
    result: list[_City] = []
    used_ids: set[str] = set()
    for country in ("DE", "TR"):
        for name in names[country]:
            if country == "DE":
                # about half the German cities have the holiday on 11 June
                group = (
                    DE_REGIONS_WITH_HOLIDAY if rng.random() < 0.5 else DE_REGIONS_WITHOUT_HOLIDAY
                )
                region = rng.choice(group)
            else:
                region = f"TR-{rng.randint(1, TR_PROVINCES):02d}"
            result.append(_City(_unique(_ascii(name, country), used_ids), name, country, region))
    return result


def _city_names(
    rng: random.Random, roots: Sequence[str], endings: Sequence[str], count: int
) -> list[str]:
    """``count`` distinct invented city names; numbered once the combinations run out."""
    combos = [root + ending for root in roots for ending in endings]
    rng.shuffle(combos)
    names = combos[:count]
    round_ = 2
    while len(names) < count:
        names += [f"{c} {round_}" for c in combos[: count - len(names)]]
        round_ += 1
    return names


def _unique(base: str, used: set[str]) -> str:
    candidate, n = base, 2
    while candidate in used:
        candidate = f"{base}-{n}"
        n += 1
    used.add(candidate)
    return candidate


def _make_partnerships(rng: random.Random, cities: list[_City]) -> list[tuple[_City, _City, str]]:
    """``len(cities) // 2`` German–Turkish pairs; a few Turkish cities get a second German
    partner (as İstanbul has Berlin and Köln), which leaves some cities looking for one."""
    german = [c for c in cities if c.country == "DE"]
    turkish = [c for c in cities if c.country == "TR"]
    rng.shuffle(turkish)
    pairs: list[tuple[_City, _City, str]] = []
    taken: list[_City] = []
    unused = list(turkish)
    for de_city in german[: len(cities) // 2]:
        if taken and len(turkish) >= 4 and rng.random() < 0.1:
            tr_city = rng.choice(taken)
        elif unused:
            tr_city = unused.pop()
        else:
            tr_city = rng.choice(taken)
        taken.append(tr_city)
        since = str(rng.randint(1967, 2019)) if rng.random() < 0.6 else ""
        de_city.partnered = tr_city.partnered = True
        pairs.append((de_city, tr_city, since))
    return pairs


def _make_people(
    rng: random.Random,
    cities: list[_City],
    count: int,
    themes: Sequence[tuple[str, str, str, str, str]],
    shape: Shape,
) -> list[_Person]:
    """Everybody, city by city. The first person of each city works in its
    administration and is its delegate; cities differ a lot in size."""
    weights = [min(rng.paretovariate(1.3), 12.0) for _ in cities]
    sizes = [1] * len(cities)
    for index in rng.choices(range(len(cities)), weights=weights, k=count - len(cities)):
        sizes[index] += 1
    used_emails: set[str] = set()
    people: list[_Person] = []
    for city, size in zip(cities, sizes, strict=True):
        delegates = 0
        for position in range(size):
            if position == 0:
                role = "administration"
            else:
                rest = 100 - shape.youth_percent  # 75 by default: exactly 40 and 35
                shares = (rest * 40 / 75, rest * 35 / 75, shape.youth_percent)
                role = rng.choices(("expert", "administration", "youth"), shares)[0]
            person = _make_person(rng, city, role, len(people) + 1, used_emails, themes, shape)
            # the default makes administration delegates; keep meetings a sensible size
            if role == "administration":
                if delegates >= MAX_DELEGATES_PER_CITY or (position > 0 and rng.random() < 0.3):
                    person.delegate = "nein" if city.country == "DE" else "hayır"
                else:
                    delegates += 1
            elif role == "expert" and delegates < MAX_DELEGATES_PER_CITY and rng.random() < 0.04:
                person.delegate = "ja" if city.country == "DE" else "evet"
                delegates += 1
            people.append(person)
    return people


def _make_person(
    rng: random.Random,
    city: _City,
    role: str,
    number: int,
    used_emails: set[str],
    themes: Sequence[tuple[str, str, str, str, str]],
    shape: Shape,
) -> _Person:
    german_name = city.country == "DE" and rng.random() < 0.88
    first, last = (
        (rng.choice(DE_FIRST), rng.choice(DE_LAST))
        if german_name
        else (rng.choice(TR_FIRST), rng.choice(TR_LAST))
    )
    name_country = "DE" if german_name else "TR"
    languages: tuple[str, ...]
    roll = rng.random()
    if city.country == "DE":
        if not german_name:  # grew up bilingual
            languages = ("de", "tr") if roll < 0.8 else ("de", "tr", "en")
        else:
            languages = ("de",) if roll < 0.6 else ("de", "en") if roll < 0.92 else ()
    else:
        english = 0.45 if role == "youth" else 0.25
        languages = (
            ("tr", "en")
            if roll < english
            else ("tr", "de")
            if roll < english + 0.1
            else ()
            if roll < english + 0.15
            else ("tr",)
        )
    organisation, domain = _organisation(rng, city, role)
    local = f"{_ascii(first, name_country)}.{_ascii(last, name_country)}"
    email = f"{local}@{domain}"
    n = 2
    while email.lower() in used_emails:
        email = f"{local}{n}@{domain}"
        n += 1
    used_emails.add(email.lower())
    person = _Person(
        id=f"p{number:05d}",
        name=f"{first} {last}",
        email=email,
        city=city,
        organisation=organisation,
        role=role,
        languages=languages,
        delegate="",
    )
    person.interests = _interests(rng, role, themes, shape)
    return person


def _organisation(rng: random.Random, city: _City, role: str) -> tuple[str, str]:
    """(organisation, e-mail domain) — all domains are under example.org / example.com.tr."""
    slug = city.id
    if city.country == "DE":
        kind, prefix = {
            "administration": (("Stadt {}", "stadt"),),
            "youth": (("Stadtjugendring {}", "sjr"), ("Jugendparlament {}", "jupa")),
            "expert": (("Stadtwerke {}", "sw"), ("Volkshochschule {}", "vhs"),
                       ("Caritasverband {}", "caritas"), ("Hochschule {}", "hs"),
                       ("Integrationsrat {}", "integrationsrat")),
        }[role][0 if role == "administration" else rng.randrange(5 if role == "expert" else 2)]  # fmt: skip
        return kind.format(city.name), f"{prefix}-{slug}.example.org"
    kind, prefix = {
        "administration": (("{} Belediyesi", "bel"),),
        "youth": (("{} Gençlik Meclisi", "genc"), ("{} Gençlik Merkezi", "genclik")),
        "expert": (("{} Kent Konseyi", "kentkonseyi"), ("{} Ticaret Odası", "to"),
                   ("{} Göç ve Uyum Derneği", "gocuyum"), ("{} Kadın Kooperatifi", "kadinkoop"),
                   ("{} Kalkınma Ajansı", "ajans")),
    }[role][0 if role == "administration" else rng.randrange(5 if role == "expert" else 2)]  # fmt: skip
    return kind.format(city.name), f"{prefix}-{slug}.example.com.tr"


def _interests(
    rng: random.Random,
    role: str,
    themes: Sequence[tuple[str, str, str, str, str]],
    shape: Shape,
) -> dict[str, int]:
    """0–3 per theme: by default interest in one or two themes, rarely three; youth lean
    to youth."""
    interests = {t[0]: 0 for t in themes}
    counts = range(1, len(shape.themes_per_person) + 1)
    how_many = rng.choices(counts, shape.themes_per_person)[0]
    if role == "youth":
        youth_themes = [t[0] for t in themes if t[1] == "youth"]
        chosen = [rng.choice(youth_themes)]
    else:
        chosen = []
    others = [t[0] for t in themes if t[0] not in chosen]
    chosen += rng.sample(others, min(len(others), how_many - len(chosen)))
    for rank, theme in enumerate(chosen):
        interests[theme] = 3 if rank == 0 else rng.choice(shape.interest_weights)
    return interests


def _make_sessions(
    rng: random.Random,
    count: int,
    themes: Sequence[tuple[str, str, str, str, str]],
    people: list[_Person],
    shape: Shape,
) -> list[_Session]:
    """The pinned opening plenary, then sessions round the themes: a plenary now and then,
    mostly workshops; by default about 45 % interpreted (de-tr)."""
    rest = 100 - shape.interpreted_percent  # 55 by default: exactly 20, 20 and 15
    languages = (shape.interpreted_percent, rest * 4 / 11, rest * 4 / 11, rest * 3 / 11)
    youth_only = shape.youth_only_percent / 100
    # The opening: one German and one Turkish head of administration, who are never
    # absent on the first day (absences skip 3 June).
    heads = [p for p in people if p.role == "administration" and p.hosting == 0]
    german_head = next(p for p in heads if p.city.country == "DE")
    turkish_head = next(p for p in heads if p.city.country == "TR")
    opening = _Session(
        "opening", themes[0][0], OPENING_TITLES, "plenary", 90, "de-tr",
        hosts=[german_head, turkish_head], fixed_start=OPENING_START,
    )  # fmt: skip
    german_head.hosting += 1
    turkish_head.hosting += 1
    result = [opening]

    by_theme_area = {t[0]: t[1] for t in themes}
    for number in range(1, count):
        theme = themes[number % len(themes)]
        theme_id, area = theme[0], by_theme_area[theme[0]]
        plenary = number <= len(themes)  # one plenary per theme, the rest workshops
        kind = "plenary" if plenary else "workshop"
        duration = rng.choice((90, 120)) if plenary else rng.choice((60, 60, 75, 90, 90, 105, 120))
        language = "de-tr" if plenary else rng.choices(("de-tr", "de", "tr", "en"), languages)[0]
        audience: tuple[str, ...] = ()
        if area == "youth" and not plenary:
            roll = rng.random()
            audience = (
                ("youth",)
                if roll < youth_only
                else ("youth", "administration")
                if roll < youth_only + 0.1
                else ()
            )
        youth_hosts = audience == ("youth",) or (area == "youth" and rng.random() < 0.4)
        host_roles: tuple[str, ...] = ("youth",) if youth_hosts else ("expert", "administration")
        # hosts belong to the audience they speak to
        host_roles = tuple(r for r in host_roles if not audience or r in audience) or audience
        hosts = _pick_hosts(rng, people, language, host_roles)
        if not hosts:
            # nobody free speaks that language: make it interpreted, everybody follows that
            language = "de-tr"
            hosts = _pick_hosts(rng, people, language, host_roles)
        for host in hosts:
            host.hosting += 1
        capacity = None
        if not plenary and rng.random() < shape.capacity_percent / 100:
            capacity = len(hosts) + rng.choice(shape.capacity_seats)
        not_before = not_after = None
        if rng.random() < 0.1:
            if rng.random() < 0.5:
                not_before = date(2020, 6, 8)  # the second week
            else:
                not_after = date(2020, 6, 12)  # before the last Monday
        pattern = PLENARY_TITLE if plenary else rng.choice(WORKSHOP_TITLES)
        titles = tuple(pattern[i].format(theme[2 + i]) for i in range(3))
        result.append(
            _Session(
                f"s{number:04d}", theme_id, titles, kind, duration, language,  # type: ignore[arg-type]
                capacity, hosts, audience, not_before, not_after,
            )
        )  # fmt: skip
    return result


def _pick_hosts(
    rng: random.Random, people: list[_Person], language: str, roles: tuple[str, ...]
) -> list[_Person]:
    """One or two hosts of those roles who follow the language and host fewer than two
    sessions; for an interpreted session one from each country when possible."""
    want = 2 if language == "de-tr" or rng.random() < 0.3 else 1
    chosen: list[_Person] = []
    countries = ["DE", "TR"] if language == "de-tr" else [None, None]
    rng.shuffle(countries)
    for country in countries[:want]:
        person = _free_host(rng, people, language, roles, country, chosen)
        if person is None:
            person = _free_host(rng, people, language, roles, None, chosen)
        if person is not None:
            chosen.append(person)
    return chosen


def _free_host(
    rng: random.Random,
    people: list[_Person],
    language: str,
    roles: tuple[str, ...],
    country: str | None,
    exclude: list[_Person],
) -> _Person | None:
    # A few random tries keep generation fast at 5000 participants; a full scan is the
    # fallback that guarantees a host is found whenever one exists.
    def fits(p: _Person) -> bool:
        return (
            p.hosting < MAX_SESSIONS_PER_HOST
            and p.role in roles
            and (country is None or p.city.country == country)
            and p.can_follow(language)
            and p not in exclude
        )

    for _ in range(30):
        candidate = people[rng.randrange(len(people))]
        if fits(candidate):
            return candidate
    return next((p for p in people if fits(p)), None)


def _limit_wanted(
    people: list[_Person],
    sessions: list[_Session],
    themes: Sequence[tuple[str, str, str, str, str]],
    most: int,
) -> None:
    """Lower interests until nobody wants more than ``most`` sessions (by default
    MAX_WANTED_SESSIONS, so that in principle everybody could attend everything they
    want, at most 3 a day)."""
    by_theme: dict[str, list[_Session]] = {t[0]: [] for t in themes}
    for session in sessions:
        by_theme[session.theme].append(session)
    counts: dict[tuple[str, frozenset[str], str], int] = {}

    def followable(theme: str, person: _Person) -> int:
        key = (theme, person.spoken, person.role)
        if key not in counts:
            counts[key] = sum(1 for s in by_theme[theme] if s.admits(person))
        return counts[key]

    for person in people:
        themes_wanted = [t for t in by_theme if person.interests[t] > 0]
        while sum(followable(t, person) for t in themes_wanted) > most:
            weakest = min(themes_wanted, key=lambda t: (person.interests[t], t))
            person.interests[weakest] = 0
            themes_wanted.remove(weakest)


def _make_preferences(
    rng: random.Random, people: list[_Person], sessions: list[_Session]
) -> list[list[str]]:
    """About one participant in ten states a preference for one session: 0 (not wanted
    after all) for a session of a theme they like, else 2–3."""
    rows: list[list[str]] = []
    for person in people:
        if rng.random() >= 0.1:
            continue
        for _ in range(10):
            session = sessions[rng.randrange(len(sessions))]
            if session.admits(person) and person not in session.hosts:
                weight = 0 if person.interests[session.theme] > 0 else rng.choice((2, 3))
                rows.append([person.id, session.id, str(weight)])
                break
    return rows


def _make_absences(rng: random.Random, people: list[_Person]) -> list[list[str]]:
    """About one participant in fifteen is away: whole days, two days, or a few local
    hours. Never on 3 June (the pinned opening); hosts only for a few hours."""
    days = [
        CONFERENCE_START + timedelta(days=i)
        for i in range(1, (CONFERENCE_END - CONFERENCE_START).days + 1)
        if (CONFERENCE_START + timedelta(days=i)).weekday() < 5
    ]
    reasons = {
        "DE": ("Urlaub", "Ratssitzung", "Dienstreise", "Fortbildung", "Prüfung"),
        "TR": ("Yıllık izin", "Meclis toplantısı", "Görev seyahati", "Eğitim programı", "Sınav"),
    }
    rows: list[list[str]] = []
    for person in people:
        if rng.random() >= 1 / 15:
            continue
        day = rng.choice(days)
        reason = rng.choice(reasons[person.city.country])
        kind = 0 if person.hosting else rng.randrange(3)
        if kind == 0:
            hour = rng.choice((9, 10, 13, 14))
            start, end = f"{day.isoformat()}T{hour:02d}:00", f"{day.isoformat()}T{hour + 3:02d}:00"
        elif kind == 1:
            start = end = day.isoformat()
        else:
            following = day + timedelta(days=1)
            start, end = day.isoformat(), min(following, CONFERENCE_END).isoformat()
        rows.append([person.id, start, end, reason])
    return rows


def _resources(
    sessions: list[_Session],
    partnerships: list[tuple[_City, _City, str]],
    cities: int,
    shape: Shape,
) -> tuple[int, int]:
    """Rooms and interpreters for the expected amount of events, with some slack."""
    meetings = len(partnerships) + NEW_CONTACTS_PER_CITY * cities // 2
    meeting_hours = meetings * MEETING_MINUTES / 60
    session_hours = sum(s.duration for s in sessions) / 60
    interpreted_hours = sum(s.duration for s in sessions if s.language == "de-tr") / 60
    rooms = math.ceil((session_hours + meeting_hours) / shape.room_hours) + 1
    # meetings between German and Turkish delegates are mostly interpreted
    interpreters = max(1, math.ceil((interpreted_hours + meeting_hours) / shape.interpreter_hours))
    return rooms, min(rooms, interpreters)


# ------------------------------------------------------------------------------ writing


def _iso(day: date | None) -> str:
    return "" if day is None else day.isoformat()


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _write_toml(
    path: Path,
    themes: Sequence[tuple[str, str, str, str, str]],
    rooms: int,
    interpreters: int,
    seed: int,
) -> None:
    theme_tables = "".join(
        f'\n[[themes]]\nid = "{t[0]}"\nde = "{t[2]}"\ntr = "{t[3]}"\nen = "{t[4]}"\n'
        for t in themes
    )
    path.write_text(
        f"""# A synthetic conference written by `scheduler generate` (seed {seed}).
# Every city and person in it is invented.

[conference]
name = "Synthetische Städtepartnerschaftskonferenz"
start = {CONFERENCE_START.isoformat()}
end = {CONFERENCE_END.isoformat()}
timezone = "Europe/Berlin"
organizer = {{ name = "Konferenzbüro", email = "konferenz@example.org" }}
meeting_url = "https://meet.example.org/{{event_id}}"

[calendar]
weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri"]
day_start = "09:00"
day_end = "18:00"
grid_minutes = 15
buffer_minutes = 15
max_events_per_day = 3
public_holidays = true

[resources]
rooms = {rooms}
interpreters = {interpreters}

[matchmaking]
partner_meetings = true
new_contacts_per_city = {NEW_CONTACTS_PER_CITY}
meeting_minutes = {MEETING_MINUTES}
min_score = 0.5
{theme_tables}
[[rules]]
role = "youth"
day_start = "14:00"
""",
        encoding="utf-8",
    )

"""Cells: the text policy every cell and TOML string passes, parsers of cell values,
and the checks of ids, e-mail addresses, meeting links, time zones and encodings.

Pure functions: each takes a value and returns it parsed, or why it is refused.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache
from urllib.parse import urlsplit

ID_PATTERN = re.compile(r"[A-Za-z0-9_.\-]+")
# ASCII digits only: \d would also take ٦٠ or ６０, which int() reads as 60.
HHMM_PATTERN = re.compile(r"(\d{1,2}):(\d{2})", re.ASCII)
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
INTEGER_PATTERN = re.compile(r"[+-]?\d+(\.0*)?", re.ASCII)  # "2.0" is what Excel makes of 2

# Booleans as organisers type them in German, Turkish and English spreadsheets.
TRUE_WORDS = frozenset({"true", "yes", "ja", "evet", "1"})
FALSE_WORDS = frozenset({"false", "no", "nein", "hayır", "hayir", "0"})
BOOLEAN_HELP = "true/false, yes/no, ja/nein, evet/hayır or 1/0"


def parse_bool(text: str) -> bool | None:
    """true/yes/ja/evet/1 or false/no/nein/hayır/0, any case; None when it is none of them.

    Turkish upper case has dotless I (HAYIR) and dotted İ; str.lower() maps "I" to "i" and
    "İ" to "i̇", so both readings are tried instead of trusting one locale's rule.
    """
    plain = text.strip().lower()
    turkish = text.strip().replace("İ", "i").replace("I", "ı").lower()
    for word in (plain, turkish):
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    return None


def parse_int(text: str) -> int | None:
    """An integer; "2.0" (what Excel makes of 2) counts as 2. None when not an integer."""
    text = text.strip()
    if len(text) > 1000 or not INTEGER_PATTERN.fullmatch(text):
        return None
    return int(text.split(".", 1)[0])  # no float(): "1" + 400 zeros + ".0" is no infinity


def parse_hhmm(text: str) -> time | None:
    match = HHMM_PATTERN.fullmatch(text.strip())
    if not match:
        return None
    hour, minute = int(match[1]), int(match[2])
    if hour == 24 and minute == 0:
        return time.max  # "24:00": the end of the day
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def parse_date(text: str) -> date | None:
    if not DATE_PATTERN.fullmatch(text.strip()):
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def parse_datetime(text: str) -> datetime | None:
    """An ISO 8601 date-time ("2020-06-03T10:00", "2020-06-03 10:00", "...+02:00", "...Z")."""
    text = text.strip()
    if DATE_PATTERN.fullmatch(text) or not DATE_PATTERN.match(text):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def pipe_list(text: str) -> list[str]:
    """A `|`-separated cell as its non-blank items."""
    return [item.strip() for item in text.split("|") if item.strip()]


@cache
def holiday_regions() -> dict[str, list[str]]:
    """Countries the `holidays` package knows, with their subdivision codes."""
    import holidays

    return {
        country: list(subdivs) for country, subdivs in holidays.list_supported_countries().items()
    }


ID_HELP = "only ASCII letters, digits, '_', '-' and '.' (ids become file names)"
ID_MAX = 64  # characters; meeting ids join two city ids: pm-<64>-<64>.ics stays far below 255

# Names Windows keeps for devices: no file may be called so, whatever its extension.
WINDOWS_DEVICES = frozenset(
    {"con", "prn", "aux", "nul"} | {f"{port}{n}" for port in ("com", "lpt") for n in range(10)}
)


def id_problem(value: str) -> str | None:
    """Why ``value`` cannot be an id (ids become file names on every system), or None."""
    if value in (".", ".."):
        return f"{value!r} cannot be an id: '.' and '..' name folders, and ids become file names"
    if len(value) > ID_MAX:
        return (
            f"{shorten(value)!r} is {len(value)} characters long: an id may have at most {ID_MAX}"
        )
    if not ID_PATTERN.fullmatch(value):
        return f"{value!r} is not a valid id: {ID_HELP}"
    if value.startswith("."):
        return f"{value!r} is not a valid id: it must not start with '.' (a hidden file)"
    if value.startswith("-"):
        return (
            f"{value!r} is not a valid id: it must not start with '-' (command-line tools "
            "read such a file name as an option)"
        )
    if value.endswith("."):
        return f"{value!r} is not a valid id: it must not end with '.' (Windows drops it)"
    if value.split(".", 1)[0].lower() in WINDOWS_DEVICES:
        return (
            f"{value!r} is not a valid id: {value.split('.', 1)[0]} is a device name on Windows "
            "(CON, PRN, AUX, NUL, COM0-9, LPT0-9, with any extension), where no file can "
            "have that name"
        )
    return None


def meeting_id_clashes(city_ids: Iterable[str]) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """Two pairs of cities whose meeting ids (pm-<a>-<b>, nc-<a>-<b>, the pair sorted)
    would be equal whatever the capitals, such as osn + a-b and osn-a + b.

    Only ids holding '-' can clash: a-b equals c-d for a ≠ c only when c = a-m and
    b = m-d, so every split of a hyphenated id is tried instead of every pair.
    """
    by_fold = {city.casefold(): city for city in city_ids}
    tails: dict[str, list[str]] = {}  # x -> every y for which x-y is a city (folded)
    for folded in by_fold:
        for at, char in enumerate(folded):
            if char == "-":
                tails.setdefault(folded[:at], []).append(folded[at + 1 :])
    clashes: list[tuple[tuple[str, str], tuple[str, str]]] = []
    for head, middles in tails.items():
        if head not in by_fold:
            continue
        for middle in middles:  # c = head-middle is a city
            for tail in tails.get(middle, ()):  # b = middle-tail is a city
                if tail not in by_fold:
                    continue
                pair_one = sorted((by_fold[head], by_fold[f"{middle}-{tail}"]))
                pair_two = sorted((by_fold[f"{head}-{middle}"], by_fold[tail]))
                if (
                    len(set(pair_one)) == len(set(pair_two)) == 2
                    and pair_one != pair_two
                    and "-".join(pair_one).casefold() == "-".join(pair_two).casefold()
                ):
                    clashes.append(((pair_one[0], pair_one[1]), (pair_two[0], pair_two[1])))
    return clashes


# --------------------------------------------------------------------------- the text policy
# Every cell of every table and every string of conference.toml passes through
# ``clean_text`` once, before anything else reads it (see docs/inputs.md).


@dataclass(frozen=True)
class TextRule:
    """How one kind of text is checked: at most ``limit`` characters; ``fold``: free text,
    where line breaks and tabs become one space (with a warning) instead of an error."""

    limit: int
    what: str
    fold: bool = False


ID_TEXT = TextRule(ID_MAX, "an id")
NAME_TEXT = TextRule(200, "a name", fold=True)
TITLE_TEXT = TextRule(300, "a title", fold=True)
NOTE_TEXT = TextRule(500, "a note", fold=True)
LIST_TEXT = TextRule(5000, "a list")
EMAIL_TEXT = TextRule(254, "an e-mail address")
URL_TEXT = TextRule(2000, "a URL")
CODE_TEXT = TextRule(64, "this value")  # numbers, dates, codes, zones, yes/no

COLUMN_TEXT: dict[str, TextRule] = {
    **dict.fromkeys(
        ("city_id", "participant_id", "session_id", "city_a", "city_b", "theme"), ID_TEXT
    ),
    "name": NAME_TEXT,
    "organisation": NAME_TEXT,
    **dict.fromkeys(("title_de", "title_tr", "title_en"), TITLE_TEXT),
    "reason": NOTE_TEXT,
    "hosts": LIST_TEXT,
    "email": EMAIL_TEXT,
}  # every other column: CODE_TEXT

TOML_TEXT: dict[str, TextRule] = {
    "conference.name": NAME_TEXT,
    "conference.organizer.name": NAME_TEXT,
    "conference.organizer.email": EMAIL_TEXT,
    "conference.meeting_url": URL_TEXT,
    "themes.id": ID_TEXT,
    **dict.fromkeys(("themes.de", "themes.tr", "themes.en"), NAME_TEXT),
}  # every other string: CODE_TEXT

# Line breaks as Excel (Alt+Enter), Word and web forms write them, and tabs.
_BREAKS = "\t\n\v\f\r\x85\u2028\u2029"
_BREAK_RUN = re.compile(f"[ {_BREAKS}]*[{_BREAKS}][ {_BREAKS}]*")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # C0, DEL, C1


@dataclass(frozen=True)
class CleanText:
    """A text after the policy: the value to use, and what to tell the organiser."""

    value: str
    folded: bool = False  # line breaks or tabs became spaces
    problem: str | None = None  # why the text is refused


def clean_text(text: str, rule: TextRule) -> CleanText:
    """Apply the text policy to one stripped cell or TOML string.

    Free text has its line breaks and tabs folded to one space; elsewhere they are an
    error. Other control characters (NUL, ESC, DEL, C1) are always an error: they
    could end a calendar line or hide text. The refused value is returned with each
    control character replaced by U+FFFD, so no message prints one.
    """
    folded = False
    if _BREAK_RUN.search(text):
        if rule.fold:
            text, folded = _BREAK_RUN.sub(" ", text), True
        else:
            shown = _CONTROL.sub("\ufffd", _BREAK_RUN.sub("\ufffd", text))
            return CleanText(
                shown,
                problem=f"{shorten(shown)!r} holds a line break or tab: {rule.what} is one line",
            )
    control = _CONTROL.search(text)
    if control:
        shown = _CONTROL.sub("\ufffd", text)
        return CleanText(
            shown,
            problem=f"{shorten(shown)!r} holds the control character U+{ord(control[0]):04X} "
            f"(at character {control.start() + 1}): remove it",
        )
    if len(text) > rule.limit:
        hint = " (is a double quote left open above?)" if folded else ""
        return CleanText(
            text,
            folded,
            f"{shorten(text)!r} is {len(text)} characters long: {rule.what} may have at "
            f"most {rule.limit}{hint}",
        )
    return CleanText(text, folded)


def shorten(text: str, keep: int = 40) -> str:
    return text if len(text) <= keep else text[:keep] + "…"


def printable(text: str) -> str:
    """A name read from a file as a message may show it: as is when it is plain and
    short, else shortened, and as its repr when it holds anything not printable."""
    return shorten(text) if text.isprintable() else repr(shorten(text))


# --------------------------------------------------------------------------- numbers
# Sane ranges: far beyond any real conference, far below what overflows a solver or a
# calendar (a count of 1e20 or a year 1 would crash only after minutes of solving).

MINUTES_PER_DAY = 1440
FIRST_YEAR, LAST_YEAR = 1900, 2100  # of every date and date-time
MAX_WINDOW_DAYS = 366  # conference.start to conference.end, inclusive
MAX_ROOMS = 1000
MAX_INTERPRETERS = 1000
MAX_CONTACTS_PER_CITY = 1000
MAX_CAPACITY = 100_000
SINCE_YEARS = (800, 2100)  # Paderborn and Le Mans are partners since 836


def in_years(moment: date) -> bool:
    """Whether a date (or date-time) lies in the years the tool can plan."""
    return FIRST_YEAR <= moment.year <= LAST_YEAR


YEARS_HELP = f"dates must lie in the years {FIRST_YEAR} to {LAST_YEAR}"


# --------------------------------------------------------------------------- e-mail, URL, zone


# Before the @, besides letters and digits, only these: the others (?, %, &, #, /, =, …)
# have a meaning in a mailto: link or a mail header.
_EMAIL_LOCAL_PUNCTUATION = frozenset("._-+'")


def email_problem(address: str) -> str | None:
    """Why ``address`` is not a usable e-mail address, or None.

    Checked by the email-validator package (syntax only, no DNS look-up), then its part
    before the @ is held to letters, digits and . _ - + ' so that it is written into a
    calendar's mailto: as it stands.
    """
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as error:
        return f"{address!r} is not a valid e-mail address like name@example.org: {error}"
    local = address.rsplit("@", 1)[0]
    odd = [c for c in local if not c.isalnum() and c not in _EMAIL_LOCAL_PUNCTUATION]
    if odd:
        return (
            f"{address!r} is not a valid e-mail address like name@example.org: {odd[0]!r} "
            "before the @ is not accepted (only letters, digits and . _ - + ')"
        )
    return None


URL_PLACEHOLDER = "{event_id}"
_URL_FORBIDDEN = frozenset(' "<>\\^`{}|')


def meeting_url_problem(url: str) -> str | None:
    """Why ``url`` is not a meeting link, or None: http(s) only, one line, no spaces;
    ``{event_id}`` is the only placeholder."""
    probe = url.replace(URL_PLACEHOLDER, "event")
    # not printable: spaces, and marks such as U+202E that would show the link reversed
    odd = next((c for c in probe if c in _URL_FORBIDDEN or not c.isprintable()), None)
    if odd is not None:
        return (
            f"{shorten(url)!r} holds {odd!r}, which a link cannot hold (the only "
            f"placeholder is {URL_PLACEHOLDER})"
        )
    parts = urlsplit(probe)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return (
            f"{shorten(url)!r} is not an http:// or https:// address, e.g. "
            '"https://meet.example.org/{event_id}"'
        )
    return None


@cache
def _zone_names() -> tuple[frozenset[str], dict[str, str]]:
    """The time-zone database of the tzdata package: its zones (with the names zone.tab
    gives each country) and its old names (links) with the zone each stands for."""
    import importlib.resources

    data = importlib.resources.files("tzdata").joinpath("zoneinfo")
    zones = {"UTC"}
    links: dict[str, str] = {}
    for line in data.joinpath("tzdata.zi").read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "Z":
            zones.add(fields[1])
        elif len(fields) == 3 and fields[0] == "L":
            links[fields[2]] = fields[1]
    for line in data.joinpath("zone.tab").read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if not line.startswith("#") and len(fields) >= 3:
            zones.add(fields[2])  # e.g. Europe/Amsterdam, a link since 2022 but a country's
    zones.discard("Factory")  # a placeholder zone of the database, no place
    return frozenset(zones), {k: v for k, v in links.items() if k not in zones}


def zone_problem(name: str) -> str | None:
    """Why ``name`` is not an IANA time zone this tool accepts, or None.

    Accepted: the database's zones, the zone names zone.tab lists per country and UTC.
    Old names (Turkey, Asia/Istanbul, US/Eastern) are refused with the current one, so
    every feed names a zone that every calendar client knows. ``localtime``, ``Factory``,
    ``posixrules``, ``posix/…`` and ``right/…`` are files of the machine, not zones.
    """
    zones, links = _zone_names()
    if name in zones:
        return None
    if name in links:
        target = links[name]
        while target in links:
            target = links[target]
        return (
            f"{name!r} is an old name in the IANA time-zone database; write its current "
            f"name {target}"
        )
    near = [zone for zone in zones if zone.lower() == name.lower()]
    hint = f"; did you mean {near[0]}?" if near else ", e.g. Europe/Berlin or Europe/Istanbul"
    return f"{name!r} is not a known IANA time zone{hint}"


# Python codecs that decode bytes but are no character set of a file.
_NOT_FILE_ENCODINGS = frozenset(
    {"unicode_escape", "raw_unicode_escape", "idna", "punycode", "undefined"}
)


def encoding_problem(name: str) -> str | None:
    """Why ``name`` is not an encoding to read CSV files with, or None."""
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return f"{name!r} is not an encoding name Python knows, e.g. utf-8, cp1254, cp1252, latin-1"
    try:
        "a".encode(codec)  # refuses a codec that is not a text encoding
    except LookupError:  # rot13, base64, hex, zlib: bytes-to-bytes or text-to-text codecs
        return f"{name!r} is not a text encoding; name the file's character set, e.g. cp1254"
    if codec.replace("-", "_") in _NOT_FILE_ENCODINGS:
        return f"{name!r} is not the character set of a file; name one, e.g. cp1254"
    return None

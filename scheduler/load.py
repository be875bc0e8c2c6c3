"""Read an input folder into a validated :class:`~scheduler.model.Conference`.

Only this module reads the organisers' files. It never writes anything. Every problem
found is gathered (file, spreadsheet row, column, what is expected) and raised together
as :class:`~scheduler.errors.InputErrors`, so an organiser fixes a file once, not once
per mistake. Defaults the contract names (city time zone and language, participant
languages, delegate flag) are filled in here, so later stages never guess.

See docs/inputs.md for the format in the organisers' words.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import os
import re
import stat
import tomllib
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from scheduler.errors import InputErrors, Problem, UserError
from scheduler.model import (
    EVENT_LANGUAGES,
    INTERPRETED,
    LANGUAGES,
    ROLES,
    SESSION_KINDS,
    CalendarRules,
    City,
    Conference,
    MatchmakingRules,
    Organizer,
    Participant,
    Partnership,
    Resources,
    RoleRule,
    Session,
    Theme,
    Unavailability,
    can_follow,
)

T = TypeVar("T")

TOML_FILE = "conference.toml"

# Columns per file: (required, optional). interest_<theme_id> columns are added per theme.
COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "cities": (("city_id", "name", "country"), ("region", "timezone", "language")),
    "partnerships": (("city_a", "city_b"), ("since",)),
    "participants": (
        ("participant_id", "name", "email", "city_id", "role"),
        ("organisation", "languages", "delegate"),
    ),
    "unavailability": (("participant_id", "start", "end"), ("reason",)),
    "sessions": (
        ("session_id", "theme", "title_de", "title_tr", "kind", "duration_minutes", "language"),
        ("title_en", "capacity", "hosts", "audience", "not_before", "not_after", "fixed_start"),
    ),
    "preferences": (("participant_id", "session_id", "weight"), ()),
}
OPTIONAL_FILES = frozenset({"unavailability", "preferences"})

# Names of files the exporter writes beside those named by ids (scheduler/export):
# calendars/<participant_id>.ics beside calendars/conference.ics, and
# agendas/<city_id>.html|.pdf beside agendas/index.html. Sessions share
# invites/<participant_id>/ only with the meetings (pm-…, nc-…, see GENERATED_PREFIXES).
RESERVED_PARTICIPANTS = {"conference": "calendars/conference.ics is the whole conference's feed"}
RESERVED_CITIES = {"index": "agendas/index.html is the page that links every city's agenda"}

DEFAULT_TIMEZONE = {"DE": "Europe/Berlin", "TR": "Europe/Istanbul"}
DEFAULT_LANGUAGE = {"DE": "de", "TR": "tr"}

ID_PATTERN = re.compile(r"[A-Za-z0-9_.\-]+")
HHMM_PATTERN = re.compile(r"(\d{1,2}):(\d{2})")
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
INTEGER_PATTERN = re.compile(r"[+-]?\d+(\.0*)?")  # "2.0" is what Excel makes of 2
GENERATED_PREFIXES = ("pm-", "nc-")  # partner and new-contact meeting ids

# Booleans as organisers type them in German, Turkish and English spreadsheets.
TRUE_WORDS = frozenset({"true", "yes", "ja", "evet", "1"})
FALSE_WORDS = frozenset({"false", "no", "nein", "hayır", "hayir", "0"})
BOOLEAN_HELP = "true/false, yes/no, ja/nein, evet/hayır or 1/0"

WEEKDAY_NAMES = {
    name: index
    for index, names in enumerate(
        [
            ("mon", "monday"),
            ("tue", "tuesday"),
            ("wed", "wednesday"),
            ("thu", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        ]
    )
    for name in names
}

TOML_KEYS: dict[str, tuple[str, ...]] = {
    "conference": ("name", "start", "end", "timezone", "organizer", "meeting_url"),
    "calendar": (
        "weekdays",
        "day_start",
        "day_end",
        "grid_minutes",
        "buffer_minutes",
        "max_events_per_day",
        "public_holidays",
    ),
    "resources": ("rooms", "interpreters"),
    "matchmaking": ("partner_meetings", "new_contacts_per_city", "meeting_minutes", "min_score"),
    "inputs": ("encoding",),
}
# Every key of conference.toml whose strings the text policy checks (unknown keys are
# ignored, so their text is not looked at).
TOML_STRING_KEYS = frozenset(
    [f"{section}.{key}" for section, keys in TOML_KEYS.items() for key in keys]
    + ["conference.organizer.name", "conference.organizer.email"]
    + [f"themes.{key}" for key in ("id", "de", "tr", "en")]
    + [f"rules.{key}" for key in ("role", "day_start", "day_end")]
)


def load_conference(folder: Path) -> tuple[Conference, list[str]]:
    """Read and validate every file of an input folder.

    Returns the resolved conference and a list of warnings (unused columns, ...).
    Raises UserError when the folder does not exist and InputErrors listing every
    problem when any file is wrong.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        what = "a file" if folder.is_file() else "not a folder"
        raise UserError(f"{folder} is {what}; give the input folder that holds conference.toml")
    if not folder.is_dir():
        raise UserError(
            f"input folder {folder} does not exist (expected a folder with "
            "conference.toml, cities.csv, partnerships.csv, participants.csv, sessions.csv)"
        )
    if not os.access(folder, os.R_OK | os.X_OK):
        raise UserError(f"input folder {folder} cannot be read: permission denied")
    return _Loader(folder).load()


# --------------------------------------------------------------------------- reading


@dataclass
class Table:
    """One input sheet: cells as strings, rows numbered as a spreadsheet shows them."""

    file: str  # the file name in the input folder, e.g. "cities.csv"
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (spreadsheet row, column -> stripped text)
    overflow: dict[int, str]  # row -> first non-empty cell beyond the header's columns


MAX_FILE_BYTES = 50 * 1024 * 1024  # far above any conference; a bigger file is a mistake
MAX_UNPACKED_BYTES = 500 * 1024 * 1024  # what a workbook's zip may unpack to


def read_input_file(path: Path) -> bytes | str:
    """The bytes of an input file, or why they cannot be read (the file is named by the
    caller). A folder, a pipe, a device or a dangling link is refused before it is
    opened, so reading never blocks."""
    try:
        if path.is_symlink() and not path.exists():
            return f"is a link to {os.readlink(path)}, which does not exist"
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            return "is a folder, not a file"
        if not stat.S_ISREG(info.st_mode):
            return "is not a regular file (a pipe, socket or device); put the file itself there"
        if info.st_size > MAX_FILE_BYTES:
            return f"is {info.st_size // 2**20} MB large: at most {MAX_FILE_BYTES // 2**20} MB"
        # O_NONBLOCK: should a pipe take the file's place after the check, open() and
        # read() return at once instead of waiting for a writer.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(descriptor, "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                return "is not a regular file (a pipe, socket or device)"
            data = file.read(MAX_FILE_BYTES + 1)
    except PermissionError:
        return "cannot be read: permission denied (check the file's permissions)"
    except OSError as error:
        return f"cannot be read: {error.strerror or error}"
    if len(data) > MAX_FILE_BYTES:
        return f"is larger than {MAX_FILE_BYTES // 2**20} MB"
    return data


_UNICODE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def _wide_unicode(data: bytes) -> str | None:
    """The name "UTF-16" or "UTF-32" when the bytes are so encoded (by their byte-order mark, or
    by the zero bytes of mostly-ASCII text without one), else None."""
    for bom, name in _UNICODE_BOMS:
        if data.startswith(bom):
            return name
    head = data[:400]
    if len(head) >= 8 and head.count(0) * 3 >= len(head):
        return "UTF-32" if head.count(0) * 4 >= len(head) * 3 else "UTF-16"
    return None


def _decode_problem(file: str, data: bytes, error: UnicodeDecodeError, encoding: str) -> Problem:
    line = data[: error.start].count(b"\n") + 1
    byte = data[error.start : error.start + 1].hex()
    return Problem(
        file,
        line,
        None,
        f"line {line} holds a byte (0x{byte}) that is not valid {encoding}. Save the file "
        'as "CSV UTF-8" (Excel: File > Save As > CSV UTF-8 (comma delimited)), or name '
        'its encoding in conference.toml, e.g. [inputs] encoding = "cp1254"',
    )


def _sniff_delimiter(header_line: str) -> str:
    """Excel in German and Turkish locales writes ';'; elsewhere ','."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


def read_csv(path: Path, encoding: str | None) -> Table | Problem:
    """Read a CSV file as strings; a Problem when it cannot be read or decoded."""
    data = read_input_file(path)
    if isinstance(data, str):
        return Problem(path.name, None, None, f"{path.name} {data}")
    codec = encoding or "utf-8"
    wide = _wide_unicode(data)
    if wide and not codecs.lookup(codec).name.startswith(wide.lower()):
        return Problem(
            path.name,
            None,
            None,
            f'{path.name} is saved as {wide} (Excel\'s "Unicode Text"); save it as '
            '"CSV UTF-8" (Excel: File > Save As > CSV UTF-8 (comma delimited))',
        )
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as error:
        return _decode_problem(path.name, data, error, codec)
    text = text.removeprefix("\ufeff")  # the BOM Excel writes in "CSV UTF-8"
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = _sniff_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = list(reader)
    except csv.Error as error:
        return Problem(path.name, reader.line_num, None, f"not a readable CSV file: {error}")
    mixed = _mixed_separators(path.name, records, delimiter)
    return mixed or _table(path.name, records)


def _mixed_separators(file: str, records: list[list[str]], delimiter: str) -> Problem | None:
    """A Problem at the first row that is separated by the other separator than the
    header (a file pasted together from two spreadsheets)."""
    other = "," if delimiter == ";" else ";"
    header = [cell for cell in (records[0] if records else []) if cell.strip()]
    if len(header) < 2:
        return None
    for number, record in enumerate(records[1:], start=2):
        cells = [cell for cell in record if cell.strip()]
        if len(cells) == 1 and len(record) < len(header) and other in cells[0]:
            return Problem(
                file,
                number,
                None,
                f"this row is separated by {other!r} but the header row by {delimiter!r}: "
                "use one separator in the whole file (save it again as CSV)",
            )
    return None


def _xlsx_text(value: Any) -> str:
    """A cell as the text an organiser sees; 2.0 becomes "2" so ids and numbers read alike."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        if value.time() == time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def read_xlsx(path: Path) -> Table | Problem:
    """Read the first sheet of an Excel workbook as strings."""
    import openpyxl  # imported here: only needed for .xlsx inputs

    data = read_input_file(path)
    if isinstance(data, str):
        return Problem(path.name, None, None, f"{path.name} {data}")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        return Problem(
            path.name, None, None, "not an Excel workbook (.xlsx): the file is not a zip archive"
        )
    try:
        unpacked = sum(item.file_size for item in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        return Problem(path.name, None, None, f"cannot open as an Excel workbook (.xlsx): {error}")
    if unpacked > MAX_UNPACKED_BYTES:
        return Problem(
            path.name,
            None,
            None,
            f"unpacks to {unpacked // 2**20} MB: at most {MAX_UNPACKED_BYTES // 2**20} MB "
            "(is it really a table of a conference?)",
        )
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            records = [
                [_xlsx_text(value) for value in row]
                for row in sheet.iter_rows(min_row=1, values_only=True)
            ]
        finally:
            workbook.close()
    except Exception as error:  # noqa: BLE001  # a damaged workbook fails anywhere in openpyxl
        return Problem(path.name, None, None, f"cannot open as an Excel workbook (.xlsx): {error}")
    return _table(path.name, records)


def _table(file: str, records: list[list[str]]) -> Table | Problem:
    if not records or not any(cell.strip() for cell in records[0]):
        return Problem(file, 1, None, "the first row must be the header row (column names)")
    header = [cell.strip() for cell in records[0]]
    # Trailing empty header cells come from spreadsheets with formatted empty columns.
    while header and not header[-1]:
        header.pop()
    rows: list[tuple[int, dict[str, str]]] = []
    overflow: dict[int, str] = {}
    for number, record in enumerate(records[1:], start=2):
        cells = [cell.strip() for cell in record]
        if not any(cells):
            continue  # blank lines, and the ";;;;" rows Excel leaves at the end
        rows.append(
            (number, {name: cells[i] if i < len(cells) else "" for i, name in enumerate(header)})
        )
        extra = [cell for cell in cells[len(header) :] if cell]
        if extra:
            overflow[number] = extra[0]
    return Table(file, header, rows, overflow)


# --------------------------------------------------------------------------- parsing cells


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
            f"{_shorten(value)!r} is {len(value)} characters long: an id may have at most {ID_MAX}"
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
                problem=f"{_shorten(shown)!r} holds a line break or tab: {rule.what} is one line",
            )
    control = _CONTROL.search(text)
    if control:
        shown = _CONTROL.sub("\ufffd", text)
        return CleanText(
            shown,
            problem=f"{_shorten(shown)!r} holds the control character U+{ord(control[0]):04X} "
            f"(at character {control.start() + 1}): remove it",
        )
    if len(text) > rule.limit:
        hint = " (is a double quote left open above?)" if folded else ""
        return CleanText(
            text,
            folded,
            f"{_shorten(text)!r} is {len(text)} characters long: {rule.what} may have at "
            f"most {rule.limit}{hint}",
        )
    return CleanText(text, folded)


def _shorten(text: str, keep: int = 40) -> str:
    return text if len(text) <= keep else text[:keep] + "…"


def printable(text: str) -> str:
    """``text`` as is when it is plain, else its repr: for names in warnings."""
    return text if text.isprintable() else repr(text)


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
    odd = next((c for c in probe if c in _URL_FORBIDDEN or c.isspace()), None)
    if odd is not None:
        return (
            f"{_shorten(url)!r} holds {odd!r}, which a link cannot hold (the only "
            f"placeholder is {URL_PLACEHOLDER})"
        )
    parts = urlsplit(probe)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return (
            f"{_shorten(url)!r} is not an http:// or https:// address, e.g. "
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


# --------------------------------------------------------------------------- TOML helpers


def _toml_lines(text: str) -> dict[str, int]:
    """Best-effort line numbers of keys: "calendar.grid_minutes" -> line.

    tomllib gives no positions, but organisers need a line to look at. The n-th table
    of an array ([[themes]]) is "themes[n]" (from 0), its keys "themes[n].id".
    """
    lines: dict[str, int] = {}
    counts: dict[str, int] = {}
    table = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        array = re.fullmatch(r"\[\[\s*([\w.\-]+)\s*\]\]\s*(#.*)?", line)
        plain = re.fullmatch(r"\[\s*([\w.\-]+)\s*\]\s*(#.*)?", line)
        if array:
            index = counts.get(array[1], 0)
            counts[array[1]] = index + 1
            table = f"{array[1]}[{index}]"
            lines.setdefault(array[1], number)
            lines[table] = number
            continue
        if plain:
            table = plain[1]
            lines.setdefault(table, number)
            continue
        key = re.match(r"([A-Za-z0-9_\-]+)\s*=", line)
        if key:
            lines.setdefault(f"{table}.{key[1]}" if table else key[1], number)
    return lines


class _Loader:
    """One load of one folder: gathers problems and warnings while it reads."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.problems: list[Problem] = []
        self.warnings: list[str] = []
        self.toml_lines: dict[str, int] = {}
        self.readable: set[str] = set()  # stems whose file was read (others are not cross-checked)
        # Cells the text policy refused: one problem per cell, not one per later check;
        # and their rows, which become no city, participant or session.
        self.refused: set[tuple[str, int | None, str | None]] = set()
        self.refused_rows: set[tuple[str, int | None]] = set()

    # ---------------------------------------------------------------- reporting

    def problem(self, file: str, row: int | None, column: str | None, message: str) -> None:
        if (file, row, column) not in self.refused:
            self.problems.append(Problem(file, row, column, message))

    def text(self, file: str, row: int | None, column: str, value: str, rule: TextRule) -> str:
        """The text policy for one cell or TOML string (the one place it is applied):
        folds, refuses, or passes the value; returns the value later checks see."""
        cleaned = clean_text(value, rule)
        if cleaned.problem:
            self.problem(file, row, column, cleaned.problem)
            self.refused.add((file, row, column))
            self.refused_rows.add((file, row))
        elif cleaned.folded:
            where = f"{file}, row {row}" if row is not None else file
            self.warnings.append(
                f"{where}, column {column}: line breaks or tabs in {rule.what} became spaces"
            )
        return cleaned.value

    def toml_problem(self, key: str, message: str, index: int | None = None) -> None:
        """A problem in conference.toml at the key's line (else its table's), when known.

        ``index`` is the position of the table in an array of tables ([[themes]]).
        """
        self.problem(TOML_FILE, self.toml_line(key, index), key, message)

    def toml_line(self, key: str, index: int | None = None) -> int | None:
        """The line of a key of conference.toml (else of its table), when known."""
        section, _, rest = key.partition(".")
        candidate = section if index is None else f"{section}[{index}]"
        candidate = f"{candidate}.{rest}" if rest else candidate
        while candidate not in self.toml_lines and "." in candidate:
            candidate = candidate.rsplit(".", 1)[0]
        return self.toml_lines.get(candidate)

    def row_ok(self, table: Table, row: int, problems_before: int) -> bool:
        """Whether a row added no problem since ``problems_before`` and holds no refused cell."""
        return len(self.problems) == problems_before and (table.file, row) not in self.refused_rows

    def known(self, stem: str, value: str, ids: dict[str, Any]) -> bool:
        """Whether a reference resolves; references into an unreadable file are not
        reported again (its own problem already is)."""
        return value in ids or stem not in self.readable

    # ---------------------------------------------------------------- the whole folder

    def load(self) -> tuple[Conference, list[str]]:
        settings = self.read_settings()
        encoding = settings.get("encoding")
        tables = {stem: self.read_table(stem, encoding) for stem in COLUMNS}

        themes = settings.get("themes") or ()
        theme_ids = {theme.id for theme in themes}
        grid = settings.get("grid_minutes")

        cities = self.cities(tables["cities"])
        partnerships = self.partnerships(tables["partnerships"], cities)
        participants = self.participants(tables["participants"], cities, themes)
        unavailability = self.unavailability(tables["unavailability"], participants, cities)
        sessions = self.sessions(
            tables["sessions"],
            participants,
            theme_ids if "themes" in settings else None,
            grid,
            settings,
        )
        preferences = self.preferences(tables["preferences"], participants, sessions)

        if self.problems:
            # File by file, in the order organisers fill them in; within a file as found.
            order = [TOML_FILE] + [f"{stem}.{ext}" for stem in COLUMNS for ext in ("csv", "xlsx")]
            self.problems.sort(key=lambda p: order.index(p.file) if p.file in order else 0)
            raise InputErrors(self.problems)
        conference = Conference(
            name=settings["name"],
            start=settings["start"],
            end=settings["end"],
            timezone=settings["timezone"],
            organizer=settings["organizer"],
            meeting_url=settings.get("meeting_url"),
            calendar=settings["calendar"],
            resources=settings["resources"],
            matchmaking=settings["matchmaking"],
            themes=tuple(themes),
            role_rules=tuple(settings.get("rules", ())),
            cities=tuple(cities.values()),
            partnerships=tuple(partnerships),
            participants=tuple(participants.values()),
            unavailability=tuple(unavailability),
            sessions=tuple(sessions.values()),
            preferences=preferences,
        )
        return conference, self.warnings

    def read_table(self, stem: str, encoding: str | None) -> Table | None:
        """The .csv or .xlsx of a stem, its columns checked; None when missing or unreadable."""
        csv_path, xlsx_path = self.folder / f"{stem}.csv", self.folder / f"{stem}.xlsx"
        csv_there, xlsx_there = os.path.lexists(csv_path), os.path.lexists(xlsx_path)
        if csv_there and xlsx_there:
            self.problem(
                csv_path.name,
                None,
                None,
                f"both {csv_path.name} and {xlsx_path.name} exist; keep only one of them",
            )
            return None
        if not csv_there and not xlsx_there:
            if stem not in OPTIONAL_FILES:
                self.problem(
                    csv_path.name,
                    None,
                    None,
                    f"missing: the input folder needs {csv_path.name} (or {xlsx_path.name})",
                )
            return None
        result = read_csv(csv_path, encoding) if csv_there else read_xlsx(xlsx_path)
        if isinstance(result, Problem):
            self.problems.append(result)
            return None
        self.apply_text_policy(stem, result)
        seen: set[str] = set()
        for column in result.columns:
            if column and column in seen:
                self.problem(result.file, 1, column, "this column appears twice; keep one")
            seen.add(column)
        required, optional = COLUMNS[stem]
        missing = [c for c in required if c not in result.columns]
        for column in missing:
            self.problem(result.file, 1, column, f"missing required column {column}")
        if missing:
            return None
        for column in result.columns:
            interest = stem == "participants" and column.startswith("interest_")
            if column and column not in required and column not in optional and not interest:
                self.warnings.append(f"{result.file}: column {column!r} is not used and is ignored")
        for row, extra in result.overflow.items():
            self.problem(
                result.file,
                row,
                None,
                f"this row has more cells than the header has columns (extra cell {extra!r}); "
                "a cell that contains the separator (',' or ';') must be in double quotes",
            )
        self.readable.add(stem)
        return result

    def apply_text_policy(self, stem: str, table: Table) -> None:
        """Every cell of the columns this tool reads through ``text``, in place."""
        required, optional = COLUMNS[stem]
        used = set(required) | set(optional)
        for row, cells in table.rows:
            for column, value in cells.items():
                if column in used or (stem == "participants" and column.startswith("interest_")):
                    rule = COLUMN_TEXT.get(column, CODE_TEXT)
                    cells[column] = self.text(table.file, row, column, value, rule)

    # ---------------------------------------------------------------- conference.toml

    def read_settings(self) -> dict[str, Any]:
        """conference.toml, checked key by key; whatever is valid is returned."""
        path = self.folder / TOML_FILE
        out: dict[str, Any] = {}
        if not os.path.lexists(path):
            self.problem(TOML_FILE, None, None, "missing: the input folder needs conference.toml")
            return out
        data = read_input_file(path)
        if isinstance(data, str):
            self.problem(TOML_FILE, None, None, f"{TOML_FILE} {data}")
            return out
        try:
            text = data.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            wide = _wide_unicode(data)
            fix = f"it is saved as {wide}; " if wide else ""
            self.problem(
                TOML_FILE, line, None, f"not valid UTF-8; {fix}save conference.toml as UTF-8"
            )
            return out
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            where = re.search(r"line (\d+)", str(error))
            self.problem(
                TOML_FILE,
                int(where[1]) if where else None,
                None,
                f"not valid TOML: {error}",
            )
            return out
        except (ValueError, RecursionError) as error:  # a number of 5000 digits, deep nesting
            self.problem(TOML_FILE, None, None, f"not valid TOML: {str(error)[:200]}")
            return out
        self.toml_lines = _toml_lines(text)
        known = set(TOML_KEYS) | {"themes", "rules"}
        for section in document:
            if section not in known:
                self.warnings.append(
                    f"{TOML_FILE}: unknown table [{printable(section)}] is ignored"
                )
        for section, keys in TOML_KEYS.items():
            table = document.get(section, {})
            if isinstance(table, dict):
                for key in table:
                    if key not in keys:
                        self.warnings.append(
                            f"{TOML_FILE}: unknown key {section}.{printable(key)} is ignored"
                        )
        for section, value in document.items():
            document[section] = self.toml_text(section, value, None)

        self.conference_section(document, out)
        self.calendar_section(document, out)
        self.resources_section(document, out)
        self.matchmaking_section(document, out)
        self.themes_section(document, out)
        self.rules_section(document, out)
        self.inputs_section(document, out)
        return out

    def toml_text(self, dotted: str, value: Any, index: int | None) -> Any:
        """The text policy for every string of a known key of conference.toml (in tables,
        arrays and arrays of tables); returns the value with its strings cleaned."""
        if isinstance(value, dict):
            return {
                key: self.toml_text(f"{dotted}.{key}", item, index) for key, item in value.items()
            }
        if isinstance(value, list):
            tables = all(isinstance(item, dict) for item in value)
            return [
                self.toml_text(dotted, item, number if tables else index)
                for number, item in enumerate(value)
            ]
        if isinstance(value, str) and dotted in TOML_STRING_KEYS:
            line = self.toml_line(dotted, index)
            return self.text(
                TOML_FILE, line, dotted, value.strip(), TOML_TEXT.get(dotted, CODE_TEXT)
            )
        return value

    def section(self, document: dict[str, Any], name: str, required: bool = True) -> dict[str, Any]:
        table = document.get(name)
        if table is None:
            if required:
                self.toml_problem(name, f"missing table [{name}]")
            return {}
        if not isinstance(table, dict):
            self.toml_problem(name, f"[{name}] must be a table")
            return {}
        return table

    def key(
        self,
        table: dict[str, Any],
        dotted: str,
        convert: Callable[[Any], T | None],
        expected: str,
        default: Any = ...,
    ) -> T | None:
        """One key of a table converted, or a problem saying what is expected."""
        name = dotted.rsplit(".", 1)[-1]
        if name not in table:
            if default is not ...:
                return default  # type: ignore[no-any-return]
            self.toml_problem(dotted, f"missing key {name}: {expected}")
            return None
        try:
            value = convert(table[name])
        except Refused as refusal:
            self.toml_problem(dotted, str(refusal))
            return None
        if value is None:
            self.toml_problem(dotted, f"{_shorten(repr(table[name]), 60)} is not valid: {expected}")
        return value

    def conference_section(self, document: dict[str, Any], out: dict[str, Any]) -> None:
        table = self.section(document, "conference")
        if not table:
            return
        name = self.key(table, "conference.name", _nonempty_str, "a non-empty name")
        start = self.key(table, "conference.start", _toml_date, "a date like 2020-06-03")
        end = self.key(table, "conference.end", _toml_date, "a date like 2020-06-16")
        zone = self.key(
            table, "conference.timezone", _timezone, "an IANA time zone like Europe/Berlin"
        )
        url = self.key(
            table, "conference.meeting_url", _meeting_url, "an https:// address", default=None
        )
        for key, day in (("conference.start", start), ("conference.end", end)):
            if day and not in_years(day):
                self.toml_problem(key, f"{day} is not valid: {YEARS_HELP}")
                start = end = None
        if start and end and end < start:
            self.toml_problem(
                "conference.end", f"the conference ends ({end}) before it starts ({start})"
            )
            start = end = None
        elif start and end and (end - start).days >= MAX_WINDOW_DAYS:
            self.toml_problem(
                "conference.end",
                f"the conference lasts {(end - start).days + 1} days: at most {MAX_WINDOW_DAYS}",
            )
            start = end = None
        organizer = None
        raw = table.get("organizer")
        if raw is None:
            self.toml_problem(
                "conference.organizer", 'missing key organizer: { name = "...", email = "..." }'
            )
        elif not isinstance(raw, dict):
            self.toml_problem("conference.organizer", 'expected { name = "...", email = "..." }')
        else:
            org_name = self.key(
                raw, "conference.organizer.name", _nonempty_str, "the organiser's name"
            )
            email = self.key(
                raw,
                "conference.organizer.email",
                _email,
                "an e-mail address like konferenz@example.org",
            )
            if org_name and email:
                organizer = Organizer(org_name, email)
        # Kept one by one: sessions.csv is checked against whichever of them are valid.
        found = {"name": name, "start": start, "end": end, "timezone": zone, "organizer": organizer}
        out.update({key: value for key, value in found.items() if value is not None})
        out["meeting_url"] = url

    def calendar_section(self, document: dict[str, Any], out: dict[str, Any]) -> None:
        table = self.section(document, "calendar")
        if not table:
            return
        weekdays = self.key(
            table,
            "calendar.weekdays",
            _weekdays,
            'a list of day names like ["Mon", "Tue"] (Mon, Tue, Wed, Thu, Fri, Sat, Sun)',
        )
        day_start = self.key(table, "calendar.day_start", _toml_time, 'a time "HH:MM" like "09:00"')
        day_end = self.key(table, "calendar.day_end", _toml_time, 'a time "HH:MM" like "18:00"')
        grid = self.key(
            table,
            "calendar.grid_minutes",
            _grid,
            "a whole number of minutes that divides a day (1440), e.g. 5, 10, 15, 30, 60",
        )
        buffer = self.key(
            table,
            "calendar.buffer_minutes",
            _whole(0, MINUTES_PER_DAY),
            f"a whole number of minutes >= 0 (at most {MINUTES_PER_DAY}, a day)",
        )
        per_day = self.key(
            table,
            "calendar.max_events_per_day",
            _whole(1, MINUTES_PER_DAY),
            f"a whole number >= 1 (at most {MINUTES_PER_DAY})",
        )
        holidays_ = self.key(table, "calendar.public_holidays", _toml_bool, "true or false")
        if day_start and day_end and day_start >= day_end:
            self.toml_problem(
                "calendar.day_end", f"day_end must be after day_start ({day_start:%H:%M})"
            )
        elif None not in (weekdays, day_start, day_end, grid, buffer, per_day, holidays_):
            out["calendar"] = CalendarRules(
                weekdays=weekdays,  # type: ignore[arg-type]
                day_start=day_start,  # type: ignore[arg-type]
                day_end=day_end,  # type: ignore[arg-type]
                grid_minutes=grid,  # type: ignore[arg-type]
                buffer_minutes=buffer,  # type: ignore[arg-type]
                max_events_per_day=per_day,  # type: ignore[arg-type]
                public_holidays=holidays_,  # type: ignore[arg-type]
            )
        if grid:
            out["grid_minutes"] = grid
        out["day_start"], out["day_end"] = day_start, day_end

    def resources_section(self, document: dict[str, Any], out: dict[str, Any]) -> None:
        table = self.section(document, "resources")
        if not table:
            return
        rooms = self.key(
            table,
            "resources.rooms",
            _whole(1, MAX_ROOMS),
            f"a whole number >= 1 (at most {MAX_ROOMS})",
        )
        interpreters = self.key(
            table,
            "resources.interpreters",
            _whole(0, MAX_INTERPRETERS),
            f"a whole number >= 0 (at most {MAX_INTERPRETERS})",
        )
        if rooms is not None and interpreters is not None:
            out["resources"] = Resources(rooms=rooms, interpreters=interpreters)

    def matchmaking_section(self, document: dict[str, Any], out: dict[str, Any]) -> None:
        table = self.section(document, "matchmaking")
        if not table:
            return
        partner = self.key(table, "matchmaking.partner_meetings", _toml_bool, "true or false")
        contacts = self.key(
            table,
            "matchmaking.new_contacts_per_city",
            _whole(0, MAX_CONTACTS_PER_CITY),
            f"a whole number >= 0 (at most {MAX_CONTACTS_PER_CITY})",
        )
        minutes = self.key(
            table,
            "matchmaking.meeting_minutes",
            _whole(1, MINUTES_PER_DAY),
            f"a positive whole number of minutes (at most {MINUTES_PER_DAY}, a day)",
        )
        score = self.key(table, "matchmaking.min_score", _score, "a number from 0 to 1")
        grid = out.get("grid_minutes")
        if minutes and grid and minutes % grid:
            self.toml_problem(
                "matchmaking.meeting_minutes",
                f"{minutes} is not a multiple of calendar.grid_minutes ({grid})",
            )
        elif None not in (partner, contacts, minutes, score):
            out["matchmaking"] = MatchmakingRules(
                partner_meetings=partner,  # type: ignore[arg-type]
                new_contacts_per_city=contacts,  # type: ignore[arg-type]
                meeting_minutes=minutes,  # type: ignore[arg-type]
                min_score=score,  # type: ignore[arg-type]
            )

    def themes_section(self, document: dict[str, Any], out: dict[str, Any]) -> None:
        raw = document.get("themes")
        if not isinstance(raw, list) or not raw or not all(isinstance(t, dict) for t in raw):
            self.toml_problem(
                "themes",
                "expected at least one [[themes]] table with id, de, tr (and en), e.g. "
                '[[themes]] id = "digital" de = "Digitalisierung" tr = "Dijitalleşme"',
            )
            return
        themes: list[Theme] = []
        seen: set[str] = set()
        for index, table in enumerate(raw):
            theme_id = self.key_at(table, "themes.id", index, _nonempty_str, "a theme id")
            names = {}
            for language in ("de", "tr", "en"):
                name = self.key_at(
                    table,
                    f"themes.{language}",
                    index,
                    _nonempty_str,
                    f"the theme's name in {language}",
                    optional=language == "en",
                )
                if name:
                    names[language] = name
            for key in table:
                if key not in ("id", "de", "tr", "en"):
                    self.warnings.append(f"{TOML_FILE}: unknown key themes.{key} is ignored")
            if theme_id is None:
                continue
            if wrong := id_problem(theme_id):
                self.toml_problem("themes.id", wrong, index)
            elif theme_id.casefold() in seen:
                self.toml_problem(
                    "themes.id",
                    f"theme {theme_id!r} is defined twice (ids are the same whatever their "
                    "capitals)",
                    index,
                )
            seen.add(theme_id.casefold())
            themes.append(Theme(theme_id, names))
        out["themes"] = themes

    def key_at(
        self,
        table: dict[str, Any],
        dotted: str,
        index: int,
        convert: Callable[[Any], T | None],
        expected: str,
        optional: bool = False,
    ) -> T | None:
        """A key of the index-th table of an array of tables ([[themes]], [[rules]])."""
        name = dotted.rsplit(".", 1)[-1]
        if name not in table:
            if not optional:
                section = dotted.split(".")[0]
                self.toml_problem(
                    dotted, f"[[{section}]] number {index + 1} has no {name}: {expected}", index
                )
            return None
        try:
            value = convert(table[name])
        except Refused as refusal:
            self.toml_problem(dotted, str(refusal), index)
            return None
        if value is None:
            self.toml_problem(
                dotted, f"{_shorten(repr(table[name]), 60)} is not valid: {expected}", index
            )
        return value

    def rules_section(self, document: dict[str, Any], out: dict[str, Any]) -> None:
        raw = document.get("rules", [])
        if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
            self.toml_problem(
                "rules", 'expected [[rules]] tables with role = "..." and day_start/day_end'
            )
            return
        rules: list[RoleRule] = []
        seen: set[str] = set()
        day_start, day_end = out.get("day_start"), out.get("day_end")
        for index, table in enumerate(raw):
            role = self.key_at(
                table, "rules.role", index, _choice(ROLES), "one of " + ", ".join(ROLES)
            )
            start = self.key_at(
                table, "rules.day_start", index, _toml_time, 'a time "HH:MM"', optional=True
            )
            end = self.key_at(
                table, "rules.day_end", index, _toml_time, 'a time "HH:MM"', optional=True
            )
            for key in table:
                if key not in ("role", "day_start", "day_end"):
                    self.warnings.append(f"{TOML_FILE}: unknown key rules.{key} is ignored")
            if role is None:
                continue
            if role in seen:
                self.toml_problem(
                    "rules.role", f"a second rule for role {role}; merge them into one", index
                )
            seen.add(role)
            effective_start = start or day_start
            effective_end = end or day_end
            if effective_start and effective_end and effective_start >= effective_end:
                self.toml_problem(
                    "rules.day_start",
                    f"the rule for {role} leaves no time: day_start {effective_start:%H:%M} "
                    f"is not before day_end {effective_end:%H:%M}",
                    index,
                )
            rules.append(RoleRule(role, start, end))  # type: ignore[arg-type]
        out["rules"] = rules

    def inputs_section(self, document: dict[str, Any], out: dict[str, Any]) -> None:
        table = self.section(document, "inputs", required=False)
        if "encoding" in table:
            encoding = self.key(
                table, "inputs.encoding", _encoding, 'an encoding name like "utf-8" or "cp1254"'
            )
            if encoding:
                out["encoding"] = encoding

    # ---------------------------------------------------------------- cities.csv

    def cities(self, table: Table | None) -> dict[str, City]:
        cities: dict[str, City] = {}
        if table is None:
            return cities
        first_row: dict[str, tuple[str, int]] = {}
        unknown_countries: set[str] = set()
        for row, cells in table.rows:
            problems_before = len(self.problems)
            city_id = self.identifier(
                table, row, cells, "city_id", first_row, "city", RESERVED_CITIES
            )
            name = self.required_text(table, row, cells, "name")
            country = cells["country"].upper()
            if not re.fullmatch(r"[A-Z]{2}", country):
                self.problem(
                    table.file,
                    row,
                    "country",
                    f"{cells['country']!r} is not a 2-letter country code (ISO 3166-1), e.g. DE or TR",
                )
                country = ""
            if country and country not in holiday_regions() and country not in unknown_countries:
                unknown_countries.add(country)
                self.warnings.append(
                    f"{table.file}, row {row}: the holidays package knows no public holidays "
                    f"of country {country}; none are kept free there"
                )
            region = cells.get("region", "").upper() or None
            if region and country:
                region = self.region(table, row, country, region)
            zone = cells.get("timezone", "") or DEFAULT_TIMEZONE.get(country, "")
            if not zone:
                if country:
                    self.problem(
                        table.file,
                        row,
                        "timezone",
                        f"required for a city outside DE and TR (country {country}): an IANA zone like Europe/Vienna",
                    )
            elif zone_wrong := zone_problem(zone):
                self.problem(table.file, row, "timezone", zone_wrong)
            language = cells.get("language", "").lower() or DEFAULT_LANGUAGE.get(country, "en")
            if language not in LANGUAGES:
                self.problem(
                    table.file,
                    row,
                    "language",
                    f"{cells['language']!r} is not an agenda language: expected de, tr or en",
                )
            if city_id and self.row_ok(table, row, problems_before):
                cities[city_id] = City(city_id, name, country, region, zone, language)  # type: ignore[arg-type]
            elif city_id:
                cities.setdefault(city_id, None)  # type: ignore[arg-type]  # known, but broken
        rows = {city_id: row for city_id, row in first_row.values()}
        for (a, b), (c, d) in meeting_id_clashes(rows):
            self.problem(
                table.file,
                rows[c] if "-" in c else rows[d],
                "city_id",
                f"the meetings of {a} with {b} and of {c} with {d} would both be "
                f"called pm-{a}-{b} (a file name): city ids joined by '-' must not read "
                "alike; rename one of them",
            )
        return cities

    def region(self, table: Table, row: int, country: str, region: str) -> str | None:
        """An ISO 3166-2 code of the city's country that the holidays package accepts."""
        prefix, _, code = region.partition("-")
        if prefix != country or not re.fullmatch(r"[A-Z0-9]{1,3}", code):
            self.problem(
                table.file,
                row,
                "region",
                f"{region!r} is not a region of country {country}: expected an ISO 3166-2 "
                f"code like {country}-XX",
            )
            return None
        known = [c for c in holiday_regions().get(country, []) if c.isupper() or c.isdigit()]
        # Countries without subdivisions in the package (Turkey) have only country-wide
        # holidays, so any well-formed code is accepted there.
        if known and code not in known:
            self.problem(
                table.file,
                row,
                "region",
                f"{region!r} is not a region known for public holidays of {country}: expected "
                "one of " + ", ".join(f"{country}-{c}" for c in known),
            )
            return None
        return region

    # ---------------------------------------------------------------- partnerships.csv

    def partnerships(self, table: Table | None, cities: dict[str, City]) -> list[Partnership]:
        partnerships: list[Partnership] = []
        if table is None:
            return partnerships
        seen: dict[frozenset[str], int] = {}
        for row, cells in table.rows:
            a, b = cells["city_a"], cells["city_b"]
            ok = True
            for column, city in (("city_a", a), ("city_b", b)):
                if not city:
                    self.problem(table.file, row, column, "required: a city_id from cities.csv")
                    ok = False
                elif not self.known("cities", city, cities):
                    self.problem(
                        table.file,
                        row,
                        column,
                        f"unknown city {city!r}: expected a city_id from cities.csv",
                    )
                    ok = False
            since = None
            if cells.get("since"):
                since = parse_int(cells["since"])
                if since is None or not SINCE_YEARS[0] <= since <= SINCE_YEARS[1]:
                    self.problem(
                        table.file,
                        row,
                        "since",
                        f"{cells['since']!r} is not a year like 1988 "
                        f"({SINCE_YEARS[0]} to {SINCE_YEARS[1]})",
                    )
                    ok = False
            if not ok:
                continue
            if a == b:
                self.problem(table.file, row, "city_b", f"a city cannot be its own partner ({a})")
                continue
            pair = frozenset((a, b))
            if pair in seen:
                self.problem(
                    table.file,
                    row,
                    "city_b",
                    f"the partnership {a}–{b} is already listed in row {seen[pair]}",
                )
                continue
            seen[pair] = row
            first, second = sorted((a, b))
            partnerships.append(Partnership(first, second, since))
        return partnerships

    # ---------------------------------------------------------------- participants.csv

    def participants(
        self, table: Table | None, cities: dict[str, City], themes: Iterable[Theme]
    ) -> dict[str, Participant]:
        participants: dict[str, Participant] = {}
        if table is None:
            return participants
        themes = list(themes)
        theme_ids = {theme.id for theme in themes}
        for theme in themes:
            column = f"interest_{theme.id}"
            if column not in table.columns:
                self.problem(
                    table.file,
                    1,
                    column,
                    f"missing required column {column} (0-3: interest in the theme {theme.id})",
                )
        for column in table.columns:
            if (
                column.startswith("interest_")
                and column.removeprefix("interest_") not in theme_ids
                and themes
            ):
                self.warnings.append(
                    f"{table.file}: column {column!r} names no theme of conference.toml and is ignored"
                )
        first_row: dict[str, tuple[str, int]] = {}
        emails: dict[str, int] = {}
        for row, cells in table.rows:
            problems_before = len(self.problems)
            pid = self.identifier(
                table, row, cells, "participant_id", first_row, "participant", RESERVED_PARTICIPANTS
            )
            name = self.required_text(table, row, cells, "name")
            email = cells["email"]
            email_wrong = email_problem(email)
            if email_wrong:
                self.problem(table.file, row, "email", email_wrong)
            else:
                key = email.casefold()
                if key in emails:
                    self.problem(
                        table.file,
                        row,
                        "email",
                        f"{email} is already used in row {emails[key]} (e-mail addresses must be unique, whatever their case)",
                    )
                emails.setdefault(key, row)
            city_id = cells["city_id"]
            city = cities.get(city_id)
            if not city_id:
                self.problem(table.file, row, "city_id", "required: a city_id from cities.csv")
            elif not self.known("cities", city_id, cities):
                self.problem(
                    table.file,
                    row,
                    "city_id",
                    f"unknown city {city_id!r}: expected a city_id from cities.csv",
                )
            role = cells["role"].lower()
            if role not in ROLES:
                self.problem(
                    table.file,
                    row,
                    "role",
                    f"{cells['role']!r} is not a role: expected " + ", ".join(ROLES),
                )
            languages = self.languages(table, row, cells.get("languages", ""))
            if not languages and city:
                languages = frozenset({city.language})
            delegate = role == "administration"
            if cells.get("delegate"):
                parsed = parse_bool(cells["delegate"])
                if parsed is None:
                    self.problem(
                        table.file,
                        row,
                        "delegate",
                        f"{cells['delegate']!r} is not a yes/no value: expected {BOOLEAN_HELP}",
                    )
                else:
                    delegate = parsed
            interests: dict[str, int] = {}
            for theme in themes:
                column = f"interest_{theme.id}"
                if column not in cells:
                    continue
                value = self.level(table, row, cells, column, "interest")
                if value is not None:
                    interests[theme.id] = value
            # Someone of a broken city is broken too: their languages may come from it.
            city_broken = city is None and city_id in cities
            if pid and self.row_ok(table, row, problems_before) and not city_broken:
                participants[pid] = Participant(
                    id=pid,
                    name=name,
                    email=email,
                    city_id=city_id,
                    organisation=cells.get("organisation", ""),
                    role=role,  # type: ignore[arg-type]
                    languages=languages,
                    delegate=delegate,
                    interests=interests,
                )
            elif pid:
                participants.setdefault(pid, None)  # type: ignore[arg-type]  # known, but broken
        return participants

    def languages(self, table: Table, row: int, text: str) -> frozenset[str]:
        items = [item.lower() for item in pipe_list(text)]
        bad = [item for item in items if item not in LANGUAGES]
        if bad:
            hint = (
                " (for both German and Turkish write de|tr)"
                if any(b == INTERPRETED for b in bad)
                else ""
            )
            self.problem(
                table.file,
                row,
                "languages",
                f"unknown language {bad[0]!r}: expected a |-list of de, tr, en{hint}",
            )
        return frozenset(item for item in items if item in LANGUAGES)

    # ---------------------------------------------------------------- unavailability.csv

    def unavailability(
        self, table: Table | None, participants: dict[str, Participant], cities: dict[str, City]
    ) -> list[Unavailability]:
        periods: list[Unavailability] = []
        if table is None:
            return periods
        for row, cells in table.rows:
            pid = cells["participant_id"]
            participant = participants.get(pid)
            if not self.known("participants", pid, participants):
                self.problem(
                    table.file,
                    row,
                    "participant_id",
                    f"unknown participant {pid!r}: expected a participant_id from participants.csv",
                )
            city = cities.get(participant.city_id) if participant else None
            zone = ZoneInfo(city.timezone) if city else None
            start = self.moment(table, row, cells, "start", zone, is_end=False)
            end = self.moment(table, row, cells, "end", zone, is_end=True)
            if start and end and end <= start:
                self.problem(
                    table.file,
                    row,
                    "end",
                    f"the period ends ({cells['end']}) before it starts ({cells['start']})",
                )
            elif start and end:
                periods.append(Unavailability(pid, start, end, cells.get("reason", "")))
        return periods

    def moment(
        self,
        table: Table,
        row: int,
        cells: dict[str, str],
        column: str,
        zone: ZoneInfo | None,
        *,
        is_end: bool,
    ) -> datetime | None:
        """A date (whole local day) or a local date-time, as a UTC instant."""
        text = cells[column]
        day = parse_date(text)
        moment = parse_datetime(text) if day is None else None
        if day is None and moment is None:
            self.problem(
                table.file,
                row,
                column,
                f"{text!r} is not a date (2020-06-03) or a date-time (2020-06-03T14:30)",
            )
            return None
        if not in_years(day or moment):  # type: ignore[arg-type]  # one of them is set
            self.problem(table.file, row, column, f"{text!r} is not valid: {YEARS_HELP}")
            return None
        if zone is None:
            return None  # the participant is unknown; that problem is reported already
        if day is not None:
            # An end date is inclusive: the period runs to the next local midnight.
            day = day + timedelta(days=1) if is_end else day
            moment = datetime.combine(day, time(0), tzinfo=zone)
        elif moment is not None and moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        assert moment is not None
        return moment.astimezone(UTC)

    # ---------------------------------------------------------------- sessions.csv

    def sessions(
        self,
        table: Table | None,
        participants: dict[str, Participant],
        theme_ids: set[str] | None,
        grid: int | None,
        settings: dict[str, Any],
    ) -> dict[str, Session]:
        sessions: dict[str, Session] = {}
        if table is None:
            return sessions
        first_row: dict[str, tuple[str, int]] = {}
        window_start, window_end = settings.get("start"), settings.get("end")
        organiser_zone = ZoneInfo(settings["timezone"]) if settings.get("timezone") else None
        for row, cells in table.rows:
            problems_before = len(self.problems)
            sid = self.identifier(table, row, cells, "session_id", first_row, "session")
            if sid and sid.lower().startswith(GENERATED_PREFIXES):
                self.problem(
                    table.file,
                    row,
                    "session_id",
                    f"{sid!r} starts with pm- or nc-, which are reserved for generated partner and new-contact meetings; choose another id",
                )
            theme = cells["theme"]
            if not theme:
                self.problem(table.file, row, "theme", "required: a theme id from conference.toml")
            elif theme_ids is not None and theme not in theme_ids:
                self.problem(
                    table.file,
                    row,
                    "theme",
                    f"unknown theme {theme!r}: expected one of " + ", ".join(sorted(theme_ids)),
                )
            titles = {
                "de": self.required_text(table, row, cells, "title_de"),
                "tr": self.required_text(table, row, cells, "title_tr"),
            }
            if cells.get("title_en"):
                titles["en"] = cells["title_en"]
            kind = cells["kind"].lower()
            if kind not in SESSION_KINDS:
                self.problem(
                    table.file,
                    row,
                    "kind",
                    f"{cells['kind']!r} is not a session kind: expected plenary or workshop",
                )
            duration = parse_int(cells["duration_minutes"])
            if duration is None or duration <= 0:
                self.problem(
                    table.file,
                    row,
                    "duration_minutes",
                    f"{cells['duration_minutes']!r} is not a positive whole number of minutes",
                )
            elif duration > MINUTES_PER_DAY:
                self.problem(
                    table.file,
                    row,
                    "duration_minutes",
                    f"{duration} minutes is longer than a day (at most {MINUTES_PER_DAY})",
                )
            elif grid and duration % grid:
                self.problem(
                    table.file,
                    row,
                    "duration_minutes",
                    f"{duration} is not a multiple of calendar.grid_minutes ({grid}) in conference.toml",
                )
            language = cells["language"].lower()
            if language not in EVENT_LANGUAGES:
                self.problem(
                    table.file,
                    row,
                    "language",
                    f"{cells['language']!r} is not a session language: expected de, tr, en or de-tr (interpreted)",
                )
            capacity = None
            if cells.get("capacity"):
                capacity = parse_int(cells["capacity"])
                if capacity is not None and capacity > MAX_CAPACITY:
                    self.problem(
                        table.file,
                        row,
                        "capacity",
                        f"{capacity} is too large: at most {MAX_CAPACITY} (leave it blank for no limit)",
                    )
                    capacity = None
                elif capacity is None or capacity <= 0:
                    self.problem(
                        table.file,
                        row,
                        "capacity",
                        f"{cells['capacity']!r} is not a positive whole number (leave it blank for no limit)",
                    )
                    capacity = None
            hosts = tuple(pipe_list(cells.get("hosts", "")))
            for host in hosts:
                if not self.known("participants", host, participants):
                    self.problem(
                        table.file,
                        row,
                        "hosts",
                        f"unknown host {host!r}: expected participant_ids from participants.csv, separated by |",
                    )
                elif (
                    participants.get(host)
                    and language in EVENT_LANGUAGES
                    and not can_follow(participants[host].languages, language)
                ):
                    self.problem(
                        table.file,
                        row,
                        "hosts",
                        f"host {host} cannot follow a session in {language} (speaks {'|'.join(sorted(participants[host].languages))})",
                    )
            if len(set(hosts)) < len(hosts):
                self.problem(table.file, row, "hosts", "a host is listed twice")
            if capacity is not None and len(set(hosts)) > capacity:
                self.problem(
                    table.file,
                    row,
                    "capacity",
                    f"the {len(set(hosts))} hosts alone exceed the capacity of {capacity}",
                )
            audience = None
            if cells.get("audience"):
                roles = [r.lower() for r in pipe_list(cells["audience"])]
                bad = [r for r in roles if r not in ROLES]
                if bad:
                    self.problem(
                        table.file,
                        row,
                        "audience",
                        f"unknown role {bad[0]!r}: expected a |-list of "
                        + ", ".join(ROLES)
                        + " (blank = everyone)",
                    )
                audience = frozenset(r for r in roles if r in ROLES) or None
            not_before = self.session_date(
                table, row, cells, "not_before", window_start, window_end
            )
            not_after = self.session_date(table, row, cells, "not_after", window_start, window_end)
            if not_before and not_after and not_before > not_after:
                self.problem(
                    table.file,
                    row,
                    "not_after",
                    f"not_after ({not_after}) is before not_before ({not_before})",
                )
            fixed_start = None
            if cells.get("fixed_start"):
                fixed_start = self.fixed_start(
                    table,
                    row,
                    cells["fixed_start"],
                    grid,
                    organiser_zone,
                    window_start,
                    window_end,
                    not_before,
                    not_after,
                )
            if sid and self.row_ok(table, row, problems_before):
                sessions[sid] = Session(
                    id=sid,
                    theme=theme,
                    titles=titles,
                    kind=kind,  # type: ignore[arg-type]
                    duration_minutes=duration,  # type: ignore[arg-type]
                    language=language,  # type: ignore[arg-type]
                    capacity=capacity,
                    hosts=hosts,
                    audience=audience,
                    not_before=not_before,
                    not_after=not_after,
                    fixed_start=fixed_start,
                )
            elif sid:
                sessions.setdefault(sid, None)  # type: ignore[arg-type]  # known, but broken
        return sessions

    def session_date(
        self,
        table: Table,
        row: int,
        cells: dict[str, str],
        column: str,
        first: date | None,
        last: date | None,
    ) -> date | None:
        text = cells.get(column, "")
        if not text:
            return None
        day = parse_date(text)
        if day is None:
            self.problem(table.file, row, column, f"{text!r} is not a date like 2020-06-03")
        elif not in_years(day):
            self.problem(table.file, row, column, f"{text!r} is not valid: {YEARS_HELP}")
            return None
        elif first and last and not first <= day <= last:
            self.problem(
                table.file, row, column, f"{day} is outside the conference ({first} to {last})"
            )
        return day

    def fixed_start(
        self,
        table: Table,
        row: int,
        text: str,
        grid: int | None,
        zone: ZoneInfo | None,
        first: date | None,
        last: date | None,
        not_before: date | None,
        not_after: date | None,
    ) -> datetime | None:
        moment = parse_datetime(text)
        if moment is None:
            self.problem(
                table.file,
                row,
                "fixed_start",
                f"{text!r} is not a date-time with offset like 2020-06-04T10:00+02:00",
            )
            return None
        if moment.tzinfo is None:
            self.problem(
                table.file,
                row,
                "fixed_start",
                f"{text!r} has no UTC offset: write it like 2020-06-04T10:00+02:00 (Berlin summer time) or +03:00 (Istanbul)",
            )
            return None
        if not in_years(moment):
            self.problem(table.file, row, "fixed_start", f"{text!r} is not valid: {YEARS_HELP}")
            return None
        if zone is not None:
            day = moment.astimezone(zone).date()
            if first and last and not first <= day <= last:
                self.problem(
                    table.file,
                    row,
                    "fixed_start",
                    f"{text} is outside the conference ({first} to {last})",
                )
            elif (not_before and day < not_before) or (not_after and day > not_after):
                self.problem(
                    table.file,
                    row,
                    "fixed_start",
                    f"{text} is outside the session's own not_before/not_after dates",
                )
        utc = moment.astimezone(UTC)
        minutes = utc.hour * 60 + utc.minute
        if grid and (minutes % grid or utc.second or utc.microsecond):
            self.problem(
                table.file,
                row,
                "fixed_start",
                f"{text} is not on the {grid}-minute grid (starts must be a multiple of {grid} minutes after a full hour in UTC)",
            )
        return utc  # inside, times are UTC (docs/architecture.md)

    # ---------------------------------------------------------------- preferences.csv

    def preferences(
        self,
        table: Table | None,
        participants: dict[str, Participant],
        sessions: dict[str, Session],
    ) -> dict[tuple[str, str], int]:
        weights: dict[tuple[str, str], int] = {}
        if table is None:
            return weights
        seen: dict[tuple[str, str], int] = {}
        for row, cells in table.rows:
            pid, sid = cells["participant_id"], cells["session_id"]
            ok = True
            if not self.known("participants", pid, participants):
                self.problem(
                    table.file,
                    row,
                    "participant_id",
                    f"unknown participant {pid!r}: expected a participant_id from participants.csv",
                )
                ok = False
            if not self.known("sessions", sid, sessions):
                self.problem(
                    table.file,
                    row,
                    "session_id",
                    f"unknown session {sid!r}: expected a session_id from sessions.csv",
                )
                ok = False
            weight = self.level(table, row, cells, "weight", "weight")
            if (pid, sid) in seen:
                self.problem(
                    table.file,
                    row,
                    "session_id",
                    f"a second preference of {pid} for {sid} (first in row {seen[(pid, sid)]}); keep one",
                )
                continue
            seen[(pid, sid)] = row
            if ok and weight is not None:
                weights[(pid, sid)] = weight
        return weights

    # ---------------------------------------------------------------- shared cell checks

    def identifier(
        self,
        table: Table,
        row: int,
        cells: dict[str, str],
        column: str,
        first_row: dict[str, tuple[str, int]],
        what: str,
        reserved: Mapping[str, str] | None = None,
    ) -> str | None:
        """A new id of a table: valid as a file name, not reserved, and unique in the table
        whatever its capitals (``first_row``: case-folded id -> (id, row))."""
        value = cells[column]
        if not value:
            self.problem(table.file, row, column, f"required: a unique {what} id")
            return None
        wrong = id_problem(value)
        if wrong:
            self.problem(table.file, row, column, wrong)
            return None
        folded = value.casefold()
        if reserved and folded in reserved:
            self.problem(
                table.file,
                row,
                column,
                f"{value!r} is reserved ({reserved[folded]}), in any capitals; choose another id",
            )
            return None
        if folded in first_row:
            first, first_number = first_row[folded]
            if first == value:
                message = f"duplicate {what} id {value!r} (first in row {first_number})"
            else:
                message = (
                    f"{value!r} differs only in capitals from {first!r} in row {first_number}: "
                    "on Windows and macOS their files (calendars, invites, agendas) would be "
                    "one file, so ids must differ in more than capitals"
                )
            self.problem(table.file, row, column, message)
            # A twin is known (its references are not reported again), but broken.
            return None if first == value else value
        first_row[folded] = (value, row)
        return value

    def required_text(self, table: Table, row: int, cells: dict[str, str], column: str) -> str:
        value = cells[column]
        if not value:
            self.problem(table.file, row, column, "required: this cell must not be empty")
        return value

    def level(
        self, table: Table, row: int, cells: dict[str, str], column: str, what: str
    ) -> int | None:
        value = parse_int(cells[column])
        if value is None or not 0 <= value <= 3:
            self.problem(
                table.file,
                row,
                column,
                f"{cells[column]!r} is not a valid {what}: expected a whole number 0, 1, 2 or 3",
            )
            return None
        return value


# --------------------------------------------------------------------------- TOML value converters
# Each returns the converted value or None when the value is not acceptable.


def _nonempty_str(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


class Refused(ValueError):
    """A TOML value refused with a message of its own (it names the value)."""


def _checked_text(why_not: Callable[[str], str | None]) -> Callable[[Any], str | None]:
    """A converter of a text that ``why_not`` checks (its answer names what is wrong)."""

    def convert(value: Any) -> str | None:
        if not isinstance(value, str) or not value:
            return None
        problem = why_not(value)
        if problem:
            raise Refused(problem)
        return value

    return convert


_email = _checked_text(email_problem)
_meeting_url = _checked_text(meeting_url_problem)
_timezone = _checked_text(zone_problem)
_encoding = _checked_text(encoding_problem)


def _toml_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return None  # a date-time where a day is meant
    if isinstance(value, date):
        return value
    return parse_date(value) if isinstance(value, str) else None


def _toml_time(value: Any) -> time | None:
    if isinstance(value, time):
        # 09:00 as TOML writes a time; seconds would put the day off every grid
        return value if not (value.second or value.microsecond or value.tzinfo) else None
    return parse_hhmm(value) if isinstance(value, str) else None


def _toml_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    return parse_bool(value) if isinstance(value, str) else None


def _toml_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None  # bool is an int in Python, but "true" is no number of rooms
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return parse_int(value) if isinstance(value, str) else None


def _whole(low: int, high: int) -> Callable[[Any], int | None]:
    def convert(value: Any) -> int | None:
        number = _toml_int(value)
        return number if number is not None and low <= number <= high else None

    return convert


def _grid(value: Any) -> int | None:
    number = _toml_int(value)
    return number if number is not None and number > 0 and 1440 % number == 0 else None


def _score(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) and 0 <= value <= 1 else None


def _weekdays(value: Any) -> frozenset[int] | None:
    """Day names as weekday numbers (0 = Monday): "Mon" or "Monday", any case."""
    if not isinstance(value, list) or not value:
        return None
    days = [
        WEEKDAY_NAMES.get(item.strip().lower()) if isinstance(item, str) else None for item in value
    ]
    if any(day is None for day in days):
        return None
    return frozenset(day for day in days if day is not None)


def _choice(options: Iterable[str]) -> Callable[[Any], str | None]:
    allowed = tuple(options)

    def convert(value: Any) -> str | None:
        # case as in participants.csv, where "Youth" is accepted too
        if not isinstance(value, str):
            return None
        value = value.strip().lower()
        return value if value in allowed else None

    return convert

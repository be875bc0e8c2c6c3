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
import re
import tomllib
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, available_timezones

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

DEFAULT_TIMEZONE = {"DE": "Europe/Berlin", "TR": "Europe/Istanbul"}
DEFAULT_LANGUAGE = {"DE": "de", "TR": "tr"}

ID_PATTERN = re.compile(r"[A-Za-z0-9_.\-]+")
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
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


def load_conference(folder: Path) -> tuple[Conference, list[str]]:
    """Read and validate every file of an input folder.

    Returns the resolved conference and a list of warnings (unused columns, ...).
    Raises UserError when the folder does not exist and InputErrors listing every
    problem when any file is wrong.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder} is a file; give the input folder that holds conference.toml")
    if not folder.is_dir():
        raise UserError(
            f"input folder {folder} does not exist (expected a folder with "
            "conference.toml, cities.csv, partnerships.csv, participants.csv, sessions.csv)"
        )
    return _Loader(folder).load()


# --------------------------------------------------------------------------- reading


@dataclass
class Table:
    """One input sheet: cells as strings, rows numbered as a spreadsheet shows them."""

    file: str  # the file name in the input folder, e.g. "cities.csv"
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (spreadsheet row, column -> stripped text)
    overflow: dict[int, str]  # row -> first non-empty cell beyond the header's columns


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
    """Read a CSV file as strings; a Problem when it cannot be decoded."""
    data = path.read_bytes()
    codec = encoding or "utf-8"
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as error:
        return _decode_problem(path.name, data, error, codec)
    text = text.removeprefix("\ufeff")  # the BOM Excel writes in "CSV UTF-8"
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(first_line))
    try:
        records = list(reader)
    except csv.Error as error:
        return Problem(path.name, reader.line_num, None, f"not a readable CSV file: {error}")
    return _table(path.name, records)


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
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, InvalidFileException) as error:
        return Problem(path.name, None, None, f"cannot open as an Excel workbook (.xlsx): {error}")
    try:
        sheet = workbook.worksheets[0]
        records = [
            [_xlsx_text(value) for value in row]
            for row in sheet.iter_rows(min_row=1, values_only=True)
        ]
    finally:
        workbook.close()
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
    if not INTEGER_PATTERN.fullmatch(text.strip()):
        return None
    return int(float(text)) if "." in text else int(text)


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
def known_timezones() -> frozenset[str]:
    return frozenset(available_timezones())


@cache
def holiday_regions() -> dict[str, list[str]]:
    """Countries the `holidays` package knows, with their subdivision codes."""
    import holidays

    return {
        country: list(subdivs) for country, subdivs in holidays.list_supported_countries().items()
    }


def valid_id(value: str) -> bool:
    return bool(ID_PATTERN.fullmatch(value)) and value.strip(".") != ""


ID_HELP = "only ASCII letters, digits, '_', '-' and '.' (ids become file names)"


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

    # ---------------------------------------------------------------- reporting

    def problem(self, file: str, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(Problem(file, row, column, message))

    def toml_problem(self, key: str, message: str, index: int | None = None) -> None:
        """A problem in conference.toml at the key's line (else its table's), when known.

        ``index`` is the position of the table in an array of tables ([[themes]]).
        """
        section, _, rest = key.partition(".")
        candidate = section if index is None else f"{section}[{index}]"
        candidate = f"{candidate}.{rest}" if rest else candidate
        while candidate not in self.toml_lines and "." in candidate:
            candidate = candidate.rsplit(".", 1)[0]
        self.problem(TOML_FILE, self.toml_lines.get(candidate), key, message)

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
        if csv_path.exists() and xlsx_path.exists():
            self.problem(
                csv_path.name,
                None,
                None,
                f"both {csv_path.name} and {xlsx_path.name} exist; keep only one of them",
            )
            return None
        if not csv_path.exists() and not xlsx_path.exists():
            if stem not in OPTIONAL_FILES:
                self.problem(
                    csv_path.name,
                    None,
                    None,
                    f"missing: the input folder needs {csv_path.name} (or {xlsx_path.name})",
                )
            return None
        result = read_csv(csv_path, encoding) if csv_path.exists() else read_xlsx(xlsx_path)
        if isinstance(result, Problem):
            self.problems.append(result)
            return None
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

    # ---------------------------------------------------------------- conference.toml

    def read_settings(self) -> dict[str, Any]:
        """conference.toml, checked key by key; whatever is valid is returned."""
        path = self.folder / TOML_FILE
        out: dict[str, Any] = {}
        if not path.exists():
            self.problem(TOML_FILE, None, None, "missing: the input folder needs conference.toml")
            return out
        try:
            text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError as error:
            data = path.read_bytes()
            line = data[: error.start].count(b"\n") + 1
            self.problem(TOML_FILE, line, None, "not valid UTF-8; save conference.toml as UTF-8")
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
        self.toml_lines = _toml_lines(text)
        known = set(TOML_KEYS) | {"themes", "rules"}
        for section in document:
            if section not in known:
                self.warnings.append(f"{TOML_FILE}: unknown table [{section}] is ignored")
        for section, keys in TOML_KEYS.items():
            table = document.get(section, {})
            if isinstance(table, dict):
                for key in table:
                    if key not in keys:
                        self.warnings.append(f"{TOML_FILE}: unknown key {section}.{key} is ignored")

        self.conference_section(document, out)
        self.calendar_section(document, out)
        self.resources_section(document, out)
        self.matchmaking_section(document, out)
        self.themes_section(document, out)
        self.rules_section(document, out)
        self.inputs_section(document, out)
        return out

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
        value = convert(table[name])
        if value is None:
            self.toml_problem(dotted, f"{table[name]!r} is not valid: {expected}")
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
        url = self.key(table, "conference.meeting_url", _nonempty_str, "a URL", default=None)
        if start and end and end < start:
            self.toml_problem(
                "conference.end", f"the conference ends ({end}) before it starts ({start})"
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
            table, "calendar.buffer_minutes", _at_least(0), "a whole number of minutes >= 0"
        )
        per_day = self.key(
            table, "calendar.max_events_per_day", _at_least(1), "a whole number >= 1"
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
        rooms = self.key(table, "resources.rooms", _at_least(1), "a whole number >= 1")
        interpreters = self.key(
            table, "resources.interpreters", _at_least(0), "a whole number >= 0"
        )
        if rooms is not None and interpreters is not None:
            out["resources"] = Resources(rooms=rooms, interpreters=interpreters)

    def matchmaking_section(self, document: dict[str, Any], out: dict[str, Any]) -> None:
        table = self.section(document, "matchmaking")
        if not table:
            return
        partner = self.key(table, "matchmaking.partner_meetings", _toml_bool, "true or false")
        contacts = self.key(
            table, "matchmaking.new_contacts_per_city", _at_least(0), "a whole number >= 0"
        )
        minutes = self.key(
            table, "matchmaking.meeting_minutes", _at_least(1), "a positive whole number of minutes"
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
            if not valid_id(theme_id):
                self.toml_problem("themes.id", f"{theme_id!r} is not a valid id: {ID_HELP}", index)
            elif theme_id in seen:
                self.toml_problem("themes.id", f"theme {theme_id!r} is defined twice", index)
            seen.add(theme_id)
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
        value = convert(table[name])
        if value is None:
            self.toml_problem(dotted, f"{table[name]!r} is not valid: {expected}", index)
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
        first_row: dict[str, int] = {}
        unknown_countries: set[str] = set()
        for row, cells in table.rows:
            problems_before = len(self.problems)
            city_id = self.identifier(table, row, cells, "city_id", first_row, "city")
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
            elif zone not in known_timezones():
                self.problem(
                    table.file,
                    row,
                    "timezone",
                    f"{zone!r} is not a known IANA time zone, e.g. Europe/Berlin or Europe/Istanbul",
                )
            language = cells.get("language", "").lower() or DEFAULT_LANGUAGE.get(country, "en")
            if language not in LANGUAGES:
                self.problem(
                    table.file,
                    row,
                    "language",
                    f"{cells['language']!r} is not an agenda language: expected de, tr or en",
                )
            if city_id and len(self.problems) == problems_before:
                cities[city_id] = City(city_id, name, country, region, zone, language)  # type: ignore[arg-type]
            elif city_id:
                cities.setdefault(city_id, None)  # type: ignore[arg-type]  # known, but broken
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
                if since is None:
                    self.problem(
                        table.file, row, "since", f"{cells['since']!r} is not a year like 1988"
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
        first_row: dict[str, int] = {}
        emails: dict[str, int] = {}
        for row, cells in table.rows:
            problems_before = len(self.problems)
            pid = self.identifier(table, row, cells, "participant_id", first_row, "participant")
            if pid and pid.lower() == "conference":
                # calendars/conference.ics is the whole conference's feed.
                self.problem(
                    table.file,
                    row,
                    "participant_id",
                    "'conference' is reserved (calendars/conference.ics); choose another id",
                )
            name = self.required_text(table, row, cells, "name")
            email = cells["email"]
            if not _email(email):
                self.problem(
                    table.file,
                    row,
                    "email",
                    f"{email!r} is not a valid e-mail address like name@example.org",
                )
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
            if pid and len(self.problems) == problems_before:
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
        first_row: dict[str, int] = {}
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
                if capacity is None or capacity <= 0:
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
            if sid and len(self.problems) == problems_before:
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
        first_row: dict[str, int],
        what: str,
    ) -> str | None:
        value = cells[column]
        if not value:
            self.problem(table.file, row, column, f"required: a unique {what} id")
            return None
        if not valid_id(value):
            self.problem(table.file, row, column, f"{value!r} is not a valid id: {ID_HELP}")
            return None
        if value in first_row:
            self.problem(
                table.file,
                row,
                column,
                f"duplicate {what} id {value!r} (first in row {first_row[value]})",
            )
            return None
        # Ids hold no spaces, so " " + lower-case id cannot clash with a real id.
        twin_row = first_row.get(" " + value.lower())
        if twin_row:
            self.warnings.append(
                f"{table.file}, row {row}: id {value!r} differs only in case from the id in row "
                f"{twin_row}; their files (calendars, invites) collide on Windows and macOS"
            )
        first_row[value] = row
        first_row.setdefault(" " + value.lower(), row)
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


def _email(value: Any) -> str | None:
    return value if isinstance(value, str) and EMAIL_PATTERN.fullmatch(value) else None


def _toml_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return None  # a date-time where a day is meant
    if isinstance(value, date):
        return value
    return parse_date(value) if isinstance(value, str) else None


def _toml_time(value: Any) -> time | None:
    if isinstance(value, time):
        return value
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


def _at_least(minimum: int) -> Callable[[Any], int | None]:
    def convert(value: Any) -> int | None:
        number = _toml_int(value)
        return number if number is not None and number >= minimum else None

    return convert


def _grid(value: Any) -> int | None:
    number = _toml_int(value)
    return number if number is not None and number > 0 and 1440 % number == 0 else None


def _score(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) and 0 <= value <= 1 else None


def _timezone(value: Any) -> str | None:
    return value if isinstance(value, str) and value in known_timezones() else None


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


def _encoding(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return codecs.lookup(value).name
    except LookupError:
        return None

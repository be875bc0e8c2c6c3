"""Settings: conference.toml, checked key by key, each problem at its key's line."""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path
from types import EllipsisType
from typing import Any, TypeVar

from scheduler.load.cells import (
    CODE_TEXT,
    MAX_CONTACTS_PER_CITY,
    MAX_INTERPRETERS,
    MAX_ROOMS,
    MAX_WINDOW_DAYS,
    MINUTES_PER_DAY,
    TOML_TEXT,
    YEARS_HELP,
    email_problem,
    encoding_problem,
    id_problem,
    in_years,
    meeting_url_problem,
    parse_bool,
    parse_date,
    parse_hhmm,
    parse_int,
    printable,
    shorten,
    zone_problem,
)
from scheduler.load.files import read_input_file, wide_unicode
from scheduler.load.problems import TOML_FILE, Problems
from scheduler.model import (
    ROLES,
    CalendarRules,
    MatchmakingRules,
    Organizer,
    Resources,
    Role,
    RoleRule,
    Theme,
)

T = TypeVar("T")

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


def read_settings(problems: Problems, folder: Path) -> dict[str, Any]:
    """conference.toml, checked key by key; whatever is valid is returned."""
    out: dict[str, Any] = {}
    document = read_document(problems, folder / TOML_FILE)
    if document is None:
        return out
    warn_unknown_keys(problems, document)
    for section, value in document.items():
        document[section] = toml_text(problems, section, value, None)

    conference_section(problems, document, out)
    calendar_section(problems, document, out)
    resources_section(problems, document, out)
    matchmaking_section(problems, document, out)
    themes_section(problems, document, out)
    rules_section(problems, document, out)
    inputs_section(problems, document, out)
    return out


def read_document(problems: Problems, path: Path) -> dict[str, Any] | None:
    """conference.toml read as UTF-8 TOML (the lines of its keys noted for messages);
    None, with the problem, when it is missing or cannot be read."""
    if not os.path.lexists(path):
        problems.problem(TOML_FILE, None, None, "missing: the input folder needs conference.toml")
        return None
    data = read_input_file(path)
    if isinstance(data, str):
        problems.problem(TOML_FILE, None, None, f"{TOML_FILE} {data}")
        return None
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        wide = wide_unicode(data)
        fix = f"it is saved as {wide}; " if wide else ""
        problems.problem(
            TOML_FILE, line, None, f"not valid UTF-8; {fix}save conference.toml as UTF-8"
        )
        return None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        where = re.search(r"line (\d+)", str(error))
        problems.problem(
            TOML_FILE,
            int(where[1]) if where else None,
            None,
            f"not valid TOML: {error}",
        )
        return None
    except (ValueError, RecursionError) as error:  # a number of 5000 digits, deep nesting
        problems.problem(TOML_FILE, None, None, f"not valid TOML: {str(error)[:200]}")
        return None
    problems.toml_lines = _toml_lines(text)
    return document


def warn_unknown_keys(problems: Problems, document: dict[str, Any]) -> None:
    """A warning for each table and key this tool does not read (it is ignored)."""
    known = set(TOML_KEYS) | {"themes", "rules"}
    for section in document:
        if section not in known:
            problems.warnings.append(
                f"{TOML_FILE}: unknown table [{printable(section)}] is ignored"
            )
    for section, keys in TOML_KEYS.items():
        table = document.get(section, {})
        if isinstance(table, dict):
            for key in table:
                if key not in keys:
                    problems.warnings.append(
                        f"{TOML_FILE}: unknown key {section}.{printable(key)} is ignored"
                    )


def toml_text(problems: Problems, dotted: str, value: Any, index: int | None) -> Any:
    """The text policy for every string of a known key of conference.toml (in tables,
    arrays and arrays of tables); returns the value with its strings cleaned."""
    if isinstance(value, dict):
        return {
            key: toml_text(problems, f"{dotted}.{key}", item, index) for key, item in value.items()
        }
    if isinstance(value, list):
        tables = all(isinstance(item, dict) for item in value)
        return [
            toml_text(problems, dotted, item, number if tables else index)
            for number, item in enumerate(value)
        ]
    if isinstance(value, str) and dotted in TOML_STRING_KEYS:
        line = problems.toml_line(dotted, index)
        return problems.text(
            TOML_FILE, line, dotted, value.strip(), TOML_TEXT.get(dotted, CODE_TEXT)
        )
    return value


def toml_section(
    problems: Problems, document: dict[str, Any], name: str, required: bool = True
) -> dict[str, Any]:
    table = document.get(name)
    if table is None:
        if required:
            problems.toml_problem(name, f"missing table [{name}]")
        return {}
    if not isinstance(table, dict):
        problems.toml_problem(name, f"[{name}] must be a table")
        return {}
    return table


def toml_key(
    problems: Problems,
    table: dict[str, Any],
    dotted: str,
    convert: Callable[[Any], T | None],
    expected: str,
    default: T | None | EllipsisType = ...,
) -> T | None:
    """One key of a table converted, or a problem saying what is expected (``default``,
    when given, for a missing key)."""
    name = dotted.rsplit(".", 1)[-1]
    if name not in table:
        if not isinstance(default, EllipsisType):
            return default
        problems.toml_problem(dotted, f"missing key {name}: {expected}")
        return None
    try:
        value = convert(table[name])
    except Refused as refusal:
        problems.toml_problem(dotted, str(refusal))
        return None
    if value is None:
        problems.toml_problem(dotted, f"{shorten(repr(table[name]), 60)} is not valid: {expected}")
    return value


def conference_section(problems: Problems, document: dict[str, Any], out: dict[str, Any]) -> None:
    table = toml_section(problems, document, "conference")
    if not table:
        return
    name = toml_key(problems, table, "conference.name", _nonempty_str, "a non-empty name")
    start = toml_key(problems, table, "conference.start", _toml_date, "a date like 2020-06-03")
    end = toml_key(problems, table, "conference.end", _toml_date, "a date like 2020-06-16")
    zone = toml_key(
        problems, table, "conference.timezone", _timezone, "an IANA time zone like Europe/Berlin"
    )
    url = toml_key(
        problems, table, "conference.meeting_url", _meeting_url, "an https:// address", default=None
    )
    for key, day in (("conference.start", start), ("conference.end", end)):
        if day and not in_years(day):
            problems.toml_problem(key, f"{day} is not valid: {YEARS_HELP}")
            start = end = None
    if start and end and end < start:
        problems.toml_problem(
            "conference.end", f"the conference ends ({end}) before it starts ({start})"
        )
        start = end = None
    elif start and end and (end - start).days >= MAX_WINDOW_DAYS:
        problems.toml_problem(
            "conference.end",
            f"the conference lasts {(end - start).days + 1} days: at most {MAX_WINDOW_DAYS}",
        )
        start = end = None
    organizer = None
    raw = table.get("organizer")
    if raw is None:
        problems.toml_problem(
            "conference.organizer", 'missing key organizer: { name = "...", email = "..." }'
        )
    elif not isinstance(raw, dict):
        problems.toml_problem("conference.organizer", 'expected { name = "...", email = "..." }')
    else:
        org_name = toml_key(
            problems, raw, "conference.organizer.name", _nonempty_str, "the organiser's name"
        )
        email = toml_key(
            problems,
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


def calendar_section(problems: Problems, document: dict[str, Any], out: dict[str, Any]) -> None:
    table = toml_section(problems, document, "calendar")
    if not table:
        return
    weekdays = toml_key(
        problems,
        table,
        "calendar.weekdays",
        _weekdays,
        'a list of day names like ["Mon", "Tue"] (Mon, Tue, Wed, Thu, Fri, Sat, Sun)',
    )
    day_start = toml_key(
        problems, table, "calendar.day_start", _toml_time, 'a time "HH:MM" like "09:00"'
    )
    day_end = toml_key(
        problems, table, "calendar.day_end", _toml_time, 'a time "HH:MM" like "18:00"'
    )
    grid = toml_key(
        problems,
        table,
        "calendar.grid_minutes",
        _grid,
        "a whole number of minutes that divides a day (1440), e.g. 5, 10, 15, 30, 60",
    )
    buffer = toml_key(
        problems,
        table,
        "calendar.buffer_minutes",
        _whole(0, MINUTES_PER_DAY),
        f"a whole number of minutes >= 0 (at most {MINUTES_PER_DAY}, a day)",
    )
    per_day = toml_key(
        problems,
        table,
        "calendar.max_events_per_day",
        _whole(1, MINUTES_PER_DAY),
        f"a whole number >= 1 (at most {MINUTES_PER_DAY})",
    )
    holidays_ = toml_key(problems, table, "calendar.public_holidays", _toml_bool, "true or false")
    if day_start and day_end and day_start >= day_end:
        problems.toml_problem(
            "calendar.day_end", f"day_end must be after day_start ({day_start:%H:%M})"
        )
    elif (
        weekdays is not None
        and day_start is not None
        and day_end is not None
        and grid is not None
        and buffer is not None
        and per_day is not None
        and holidays_ is not None
    ):
        out["calendar"] = CalendarRules(
            weekdays=weekdays,
            day_start=day_start,
            day_end=day_end,
            grid_minutes=grid,
            buffer_minutes=buffer,
            max_events_per_day=per_day,
            public_holidays=holidays_,
        )
    if grid:
        out["grid_minutes"] = grid
    out["day_start"], out["day_end"] = day_start, day_end


def resources_section(problems: Problems, document: dict[str, Any], out: dict[str, Any]) -> None:
    table = toml_section(problems, document, "resources")
    if not table:
        return
    rooms = toml_key(
        problems,
        table,
        "resources.rooms",
        _whole(1, MAX_ROOMS),
        f"a whole number >= 1 (at most {MAX_ROOMS})",
    )
    interpreters = toml_key(
        problems,
        table,
        "resources.interpreters",
        _whole(0, MAX_INTERPRETERS),
        f"a whole number >= 0 (at most {MAX_INTERPRETERS})",
    )
    if rooms is not None and interpreters is not None:
        out["resources"] = Resources(rooms=rooms, interpreters=interpreters)


def matchmaking_section(problems: Problems, document: dict[str, Any], out: dict[str, Any]) -> None:
    table = toml_section(problems, document, "matchmaking")
    if not table:
        return
    partner = toml_key(problems, table, "matchmaking.partner_meetings", _toml_bool, "true or false")
    contacts = toml_key(
        problems,
        table,
        "matchmaking.new_contacts_per_city",
        _whole(0, MAX_CONTACTS_PER_CITY),
        f"a whole number >= 0 (at most {MAX_CONTACTS_PER_CITY})",
    )
    minutes = toml_key(
        problems,
        table,
        "matchmaking.meeting_minutes",
        _whole(1, MINUTES_PER_DAY),
        f"a positive whole number of minutes (at most {MINUTES_PER_DAY}, a day)",
    )
    score = toml_key(problems, table, "matchmaking.min_score", _score, "a number from 0 to 1")
    grid = out.get("grid_minutes")
    if minutes and grid and minutes % grid:
        problems.toml_problem(
            "matchmaking.meeting_minutes",
            f"{minutes} is not a multiple of calendar.grid_minutes ({grid})",
        )
    elif partner is not None and contacts is not None and minutes is not None and score is not None:
        out["matchmaking"] = MatchmakingRules(
            partner_meetings=partner,
            new_contacts_per_city=contacts,
            meeting_minutes=minutes,
            min_score=score,
        )


def themes_section(problems: Problems, document: dict[str, Any], out: dict[str, Any]) -> None:
    raw = document.get("themes")
    if not isinstance(raw, list) or not raw or not all(isinstance(t, dict) for t in raw):
        problems.toml_problem(
            "themes",
            "expected at least one [[themes]] table with id, de, tr (and en), e.g. "
            '[[themes]] id = "digital" de = "Digitalisierung" tr = "Dijitalleşme"',
        )
        return
    themes: list[Theme] = []
    seen: set[str] = set()
    for index, table in enumerate(raw):
        theme_id = toml_key_at(problems, table, "themes.id", index, _nonempty_str, "a theme id")
        names = {}
        for language in ("de", "tr", "en"):
            name = toml_key_at(
                problems,
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
                problems.warnings.append(
                    f"{TOML_FILE}: unknown key themes.{printable(key)} is ignored"
                )
        if theme_id is None:
            continue
        if wrong := id_problem(theme_id):
            problems.toml_problem("themes.id", wrong, index)
        elif theme_id.casefold() in seen:
            problems.toml_problem(
                "themes.id",
                f"theme {theme_id!r} is defined twice (ids are the same whatever their capitals)",
                index,
            )
        seen.add(theme_id.casefold())
        themes.append(Theme(theme_id, names))
    out["themes"] = themes


def toml_key_at(
    problems: Problems,
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
            problems.toml_problem(
                dotted, f"[[{section}]] number {index + 1} has no {name}: {expected}", index
            )
        return None
    try:
        value = convert(table[name])
    except Refused as refusal:
        problems.toml_problem(dotted, str(refusal), index)
        return None
    if value is None:
        problems.toml_problem(
            dotted, f"{shorten(repr(table[name]), 60)} is not valid: {expected}", index
        )
    return value


def rules_section(problems: Problems, document: dict[str, Any], out: dict[str, Any]) -> None:
    raw = document.get("rules", [])
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        problems.toml_problem(
            "rules", 'expected [[rules]] tables with role = "..." and day_start/day_end'
        )
        return
    rules: list[RoleRule] = []
    seen: set[str] = set()
    day_start, day_end = out.get("day_start"), out.get("day_end")
    for index, table in enumerate(raw):
        role: Role | None = toml_key_at(
            problems, table, "rules.role", index, _choice(ROLES), "one of " + ", ".join(ROLES)
        )
        start = toml_key_at(
            problems, table, "rules.day_start", index, _toml_time, 'a time "HH:MM"', optional=True
        )
        end = toml_key_at(
            problems, table, "rules.day_end", index, _toml_time, 'a time "HH:MM"', optional=True
        )
        for key in table:
            if key not in ("role", "day_start", "day_end"):
                problems.warnings.append(
                    f"{TOML_FILE}: unknown key rules.{printable(key)} is ignored"
                )
        if role is None:
            continue
        if role in seen:
            problems.toml_problem(
                "rules.role", f"a second rule for role {role}; merge them into one", index
            )
        seen.add(role)
        effective_start = start or day_start
        effective_end = end or day_end
        if effective_start and effective_end and effective_start >= effective_end:
            problems.toml_problem(
                "rules.day_start",
                f"the rule for {role} leaves no time: day_start {effective_start:%H:%M} "
                f"is not before day_end {effective_end:%H:%M}",
                index,
            )
        rules.append(RoleRule(role, start, end))
    out["rules"] = rules


def inputs_section(problems: Problems, document: dict[str, Any], out: dict[str, Any]) -> None:
    table = toml_section(problems, document, "inputs", required=False)
    if "encoding" in table:
        encoding = toml_key(
            problems,
            table,
            "inputs.encoding",
            _encoding,
            'an encoding name like "utf-8" or "cp1254"',
        )
        if encoding:
            out["encoding"] = encoding


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


def _choice(options: tuple[T, ...]) -> Callable[[Any], T | None]:
    def convert(value: Any) -> T | None:
        # case as in participants.csv, where "Youth" is accepted too
        if not isinstance(value, str):
            return None
        value = value.strip().lower()
        return next((option for option in options if option == value), None)

    return convert

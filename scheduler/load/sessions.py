"""sessions.csv and preferences.csv."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.load.cells import (
    MAX_CAPACITY,
    MINUTES_PER_DAY,
    YEARS_HELP,
    in_years,
    parse_date,
    parse_datetime,
    parse_int,
    pipe_list,
)
from scheduler.load.files import Table
from scheduler.load.problems import (
    Problems,
    Row,
    Sheet,
    identifier,
    level,
    one_of,
    reference,
    required_text,
)
from scheduler.model import (
    EVENT_LANGUAGES,
    ROLES,
    SESSION_KINDS,
    EventLanguage,
    Participant,
    Role,
    Session,
    can_follow,
)

GENERATED_PREFIXES = ("pm-", "nc-")  # partner and new-contact meeting ids


@dataclass(frozen=True)
class Frame:
    """What conference.toml sets for sessions.csv, as far as it is valid: the
    conference's days, the organiser's time zone and the grid."""

    first: date | None
    last: date | None
    zone: ZoneInfo | None
    grid: int | None


def read_sessions(
    problems: Problems,
    table: Table | None,
    participants: Sheet[Participant],
    theme_ids: set[str] | None,
    grid: int | None,
    settings: dict[str, Any],
) -> Sheet[Session]:
    """sessions.csv, row by row: the valid sessions, and the ids of broken ones."""
    sessions: Sheet[Session] = Sheet()
    if table is None:
        return sessions
    zone = ZoneInfo(settings["timezone"]) if settings.get("timezone") else None
    frame = Frame(settings.get("start"), settings.get("end"), zone, grid)
    first_row: dict[str, tuple[str, int]] = {}
    for row in problems.rows(table):
        sid = session_identifier(row, first_row)
        session = read_session(row, sid, participants, theme_ids, frame)
        if session and row.ok():
            sessions.valid[session.id] = session
        elif sid:
            sessions.broken.add(sid)  # known, but broken
    return sessions


def read_session(
    row: Row,
    sid: str | None,
    participants: Sheet[Participant],
    theme_ids: set[str] | None,
    frame: Frame,
) -> Session | None:
    """One row of sessions.csv checked column by column; None when it is no session."""
    theme = session_theme(row, theme_ids)
    titles = session_titles(row)
    kind = one_of(row, "kind", SESSION_KINDS, "a session kind: expected plenary or workshop")
    duration = session_duration(row, frame.grid)
    language = one_of(
        row,
        "language",
        EVENT_LANGUAGES,
        "a session language: expected de, tr, en or de-tr (interpreted)",
    )
    capacity = session_capacity(row)
    hosts = session_hosts(row, participants, language)
    if capacity is not None and len(set(hosts)) > capacity:
        row.problem(
            "capacity",
            f"the {len(set(hosts))} hosts alone exceed the capacity of {capacity}",
        )
    audience = session_audience(row)
    not_before = session_date(row, "not_before", frame)
    not_after = session_date(row, "not_after", frame)
    if not_before and not_after and not_before > not_after:
        row.problem("not_after", f"not_after ({not_after}) is before not_before ({not_before})")
    fixed_start = None
    if row.get("fixed_start"):
        fixed_start = checked_fixed_start(row, frame, not_before, not_after)
    if sid is None or kind is None or duration is None or language is None:
        return None
    return Session(
        id=sid,
        theme=theme,
        titles=titles,
        kind=kind,
        duration_minutes=duration,
        language=language,
        capacity=capacity,
        hosts=hosts,
        audience=audience,
        not_before=not_before,
        not_after=not_after,
        fixed_start=fixed_start,
    )


def session_identifier(row: Row, first_row: dict[str, tuple[str, int]]) -> str | None:
    """A new session id, not one of the generated meetings' (pm-, nc-)."""
    sid = identifier(row, "session_id", first_row, "session")
    if sid and sid.lower().startswith(GENERATED_PREFIXES):
        row.problem(
            "session_id",
            f"{sid!r} starts with pm- or nc-, which are reserved for generated partner and new-contact meetings; choose another id",
        )
    return sid


def session_theme(row: Row, theme_ids: set[str] | None) -> str:
    """A theme id of conference.toml (checked against them when they are valid)."""
    theme = row["theme"]
    if not theme:
        row.problem("theme", "required: a theme id from conference.toml")
    elif theme_ids is not None and theme not in theme_ids:
        row.problem(
            "theme",
            f"unknown theme {theme!r}: expected one of " + ", ".join(sorted(theme_ids)),
        )
    return theme


def session_titles(row: Row) -> dict[str, str]:
    """The German and Turkish titles (required) and the English one (optional)."""
    titles = {"de": required_text(row, "title_de"), "tr": required_text(row, "title_tr")}
    if row.get("title_en"):
        titles["en"] = row["title_en"]
    return titles


def session_duration(row: Row, grid: int | None) -> int | None:
    """Minutes: positive, at most a day, a multiple of the grid."""
    duration = parse_int(row["duration_minutes"])
    if duration is None or duration <= 0:
        row.problem(
            "duration_minutes",
            f"{row['duration_minutes']!r} is not a positive whole number of minutes",
        )
        return None
    if duration > MINUTES_PER_DAY:
        row.problem(
            "duration_minutes",
            f"{duration} minutes is longer than a day (at most {MINUTES_PER_DAY})",
        )
    elif grid and duration % grid:
        row.problem(
            "duration_minutes",
            f"{duration} is not a multiple of calendar.grid_minutes ({grid}) in conference.toml",
        )
    return duration


def session_capacity(row: Row) -> int | None:
    """A positive seat limit, or None (blank: no limit; wrong: reported)."""
    if not row.get("capacity"):
        return None
    capacity = parse_int(row["capacity"])
    if capacity is not None and capacity > MAX_CAPACITY:
        row.problem(
            "capacity",
            f"{capacity} is too large: at most {MAX_CAPACITY} (leave it blank for no limit)",
        )
        return None
    if capacity is None or capacity <= 0:
        row.problem(
            "capacity",
            f"{row['capacity']!r} is not a positive whole number (leave it blank for no limit)",
        )
        return None
    return capacity


def session_hosts(
    row: Row, participants: Sheet[Participant], language: EventLanguage | None
) -> tuple[str, ...]:
    """Participants of participants.csv, each once, each able to follow the language."""
    hosts = tuple(pipe_list(row.get("hosts")))
    for host in hosts:
        participant = participants.get(host)
        if not row.problems.known("participants", host, participants):
            row.problem(
                "hosts",
                f"unknown host {host!r}: expected participant_ids from participants.csv, separated by |",
            )
        elif participant and language and not can_follow(participant.languages, language):
            row.problem(
                "hosts",
                f"host {host} cannot follow a session in {language} (speaks {'|'.join(sorted(participant.languages))})",
            )
    if len(set(hosts)) < len(hosts):
        row.problem("hosts", "a host is listed twice")
    return hosts


def session_audience(row: Row) -> frozenset[Role] | None:
    """The roles a session is for (None: everyone)."""
    if not row.get("audience"):
        return None
    words = [word.lower() for word in pipe_list(row["audience"])]
    bad = [word for word in words if word not in ROLES]
    if bad:
        row.problem(
            "audience",
            f"unknown role {bad[0]!r}: expected a |-list of "
            + ", ".join(ROLES)
            + " (blank = everyone)",
        )
    return frozenset(role for role in ROLES if role in words) or None


def session_date(row: Row, column: str, frame: Frame) -> date | None:
    """not_before or not_after: a day of the conference (None when blank)."""
    text = row.get(column)
    if not text:
        return None
    day = parse_date(text)
    if day is None:
        row.problem(column, f"{text!r} is not a date like 2020-06-03")
    elif not in_years(day):
        row.problem(column, f"{text!r} is not valid: {YEARS_HELP}")
        return None
    elif frame.first and frame.last and not frame.first <= day <= frame.last:
        row.problem(column, f"{day} is outside the conference ({frame.first} to {frame.last})")
    return day


def checked_fixed_start(
    row: Row, frame: Frame, not_before: date | None, not_after: date | None
) -> datetime | None:
    """fixed_start: a date-time with offset, as UTC, inside the conference and the
    session's own dates, on the grid."""
    text = row["fixed_start"]
    moment = parse_datetime(text)
    if moment is None:
        row.problem(
            "fixed_start",
            f"{text!r} is not a date-time with offset like 2020-06-04T10:00+02:00",
        )
        return None
    if moment.tzinfo is None:
        row.problem(
            "fixed_start",
            f"{text!r} has no UTC offset: write it like 2020-06-04T10:00+02:00 (Berlin summer time) or +03:00 (Istanbul)",
        )
        return None
    if not in_years(moment):
        row.problem("fixed_start", f"{text!r} is not valid: {YEARS_HELP}")
        return None
    if frame.zone is not None:
        day = moment.astimezone(frame.zone).date()
        if frame.first and frame.last and not frame.first <= day <= frame.last:
            row.problem(
                "fixed_start",
                f"{text} is outside the conference ({frame.first} to {frame.last})",
            )
        elif (not_before and day < not_before) or (not_after and day > not_after):
            row.problem(
                "fixed_start",
                f"{text} is outside the session's own not_before/not_after dates",
            )
    utc = moment.astimezone(UTC)
    minutes = utc.hour * 60 + utc.minute
    grid = frame.grid
    if grid and (minutes % grid or utc.second or utc.microsecond):
        row.problem(
            "fixed_start",
            f"{text} is not on the {grid}-minute grid (starts must be a multiple of {grid} minutes after a full hour in UTC)",
        )
    return utc  # inside, times are UTC (docs/architecture.md)


def read_preferences(
    problems: Problems,
    table: Table | None,
    participants: Sheet[Participant],
    sessions: Sheet[Session],
) -> dict[tuple[str, str], int]:
    """preferences.csv: the weight of each (participant, session), each pair once."""
    weights: dict[tuple[str, str], int] = {}
    if table is None:
        return weights
    seen: dict[tuple[str, str], int] = {}
    for row in problems.rows(table):
        pid, sid = row["participant_id"], row["session_id"]
        ok = reference(row, "participant_id", "participants", participants)
        ok = reference(row, "session_id", "sessions", sessions) and ok
        weight = level(row, "weight", "weight")
        if (pid, sid) in seen:
            row.problem(
                "session_id",
                f"a second preference of {pid} for {sid} (first in row {seen[(pid, sid)]}); keep one",
            )
            continue
        seen[(pid, sid)] = row.number
        if ok and weight is not None:
            weights[(pid, sid)] = weight
    return weights

"""sessions.csv and preferences.csv."""

from __future__ import annotations

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
from scheduler.load.problems import Problems, Sheet, identifier, level, required_text
from scheduler.model import (
    EVENT_LANGUAGES,
    ROLES,
    SESSION_KINDS,
    Participant,
    Session,
    can_follow,
)

GENERATED_PREFIXES = ("pm-", "nc-")  # partner and new-contact meeting ids


def read_sessions(
    problems: Problems,
    table: Table | None,
    participants: Sheet[Participant],
    theme_ids: set[str] | None,
    grid: int | None,
    settings: dict[str, Any],
) -> Sheet[Session]:
    sessions: Sheet[Session] = Sheet()
    if table is None:
        return sessions
    first_row: dict[str, tuple[str, int]] = {}
    window_start, window_end = settings.get("start"), settings.get("end")
    organiser_zone = ZoneInfo(settings["timezone"]) if settings.get("timezone") else None
    for row, cells in table.rows:
        at = problems.at(table, row)
        problems_before = len(problems.problems)
        sid = identifier(problems, table, row, cells, "session_id", first_row, "session")
        if sid and sid.lower().startswith(GENERATED_PREFIXES):
            at(
                "session_id",
                f"{sid!r} starts with pm- or nc-, which are reserved for generated partner and new-contact meetings; choose another id",
            )
        theme = cells["theme"]
        if not theme:
            at("theme", "required: a theme id from conference.toml")
        elif theme_ids is not None and theme not in theme_ids:
            at(
                "theme",
                f"unknown theme {theme!r}: expected one of " + ", ".join(sorted(theme_ids)),
            )
        titles = {
            "de": required_text(problems, table, row, cells, "title_de"),
            "tr": required_text(problems, table, row, cells, "title_tr"),
        }
        if cells.get("title_en"):
            titles["en"] = cells["title_en"]
        kind = cells["kind"].lower()
        if kind not in SESSION_KINDS:
            at(
                "kind",
                f"{cells['kind']!r} is not a session kind: expected plenary or workshop",
            )
        duration = parse_int(cells["duration_minutes"])
        if duration is None or duration <= 0:
            at(
                "duration_minutes",
                f"{cells['duration_minutes']!r} is not a positive whole number of minutes",
            )
        elif duration > MINUTES_PER_DAY:
            at(
                "duration_minutes",
                f"{duration} minutes is longer than a day (at most {MINUTES_PER_DAY})",
            )
        elif grid and duration % grid:
            at(
                "duration_minutes",
                f"{duration} is not a multiple of calendar.grid_minutes ({grid}) in conference.toml",
            )
        language = cells["language"].lower()
        if language not in EVENT_LANGUAGES:
            at(
                "language",
                f"{cells['language']!r} is not a session language: expected de, tr, en or de-tr (interpreted)",
            )
        capacity = None
        if cells.get("capacity"):
            capacity = parse_int(cells["capacity"])
            if capacity is not None and capacity > MAX_CAPACITY:
                at(
                    "capacity",
                    f"{capacity} is too large: at most {MAX_CAPACITY} (leave it blank for no limit)",
                )
                capacity = None
            elif capacity is None or capacity <= 0:
                at(
                    "capacity",
                    f"{cells['capacity']!r} is not a positive whole number (leave it blank for no limit)",
                )
                capacity = None
        hosts = tuple(pipe_list(cells.get("hosts", "")))
        for host in hosts:
            if not problems.known("participants", host, participants):
                at(
                    "hosts",
                    f"unknown host {host!r}: expected participant_ids from participants.csv, separated by |",
                )
            elif (
                participants.get(host)
                and language in EVENT_LANGUAGES
                and not can_follow(participants[host].languages, language)
            ):
                at(
                    "hosts",
                    f"host {host} cannot follow a session in {language} (speaks {'|'.join(sorted(participants[host].languages))})",
                )
        if len(set(hosts)) < len(hosts):
            at("hosts", "a host is listed twice")
        if capacity is not None and len(set(hosts)) > capacity:
            at(
                "capacity",
                f"the {len(set(hosts))} hosts alone exceed the capacity of {capacity}",
            )
        audience = None
        if cells.get("audience"):
            roles = [r.lower() for r in pipe_list(cells["audience"])]
            bad = [r for r in roles if r not in ROLES]
            if bad:
                at(
                    "audience",
                    f"unknown role {bad[0]!r}: expected a |-list of "
                    + ", ".join(ROLES)
                    + " (blank = everyone)",
                )
            audience = frozenset(r for r in roles if r in ROLES) or None
        not_before = session_date(
            problems, table, row, cells, "not_before", window_start, window_end
        )
        not_after = session_date(problems, table, row, cells, "not_after", window_start, window_end)
        if not_before and not_after and not_before > not_after:
            at(
                "not_after",
                f"not_after ({not_after}) is before not_before ({not_before})",
            )
        fixed_start = None
        if cells.get("fixed_start"):
            fixed_start = checked_fixed_start(
                problems,
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
        if sid and problems.row_ok(table, row, problems_before):
            sessions.valid[sid] = Session(
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
            sessions.broken.add(sid)  # known, but broken
    return sessions


def session_date(
    problems: Problems,
    table: Table,
    row: int,
    cells: dict[str, str],
    column: str,
    first: date | None,
    last: date | None,
) -> date | None:
    at = problems.at(table, row)
    text = cells.get(column, "")
    if not text:
        return None
    day = parse_date(text)
    if day is None:
        at(column, f"{text!r} is not a date like 2020-06-03")
    elif not in_years(day):
        at(column, f"{text!r} is not valid: {YEARS_HELP}")
        return None
    elif first and last and not first <= day <= last:
        at(column, f"{day} is outside the conference ({first} to {last})")
    return day


def checked_fixed_start(
    problems: Problems,
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
    at = problems.at(table, row)
    moment = parse_datetime(text)
    if moment is None:
        at(
            "fixed_start",
            f"{text!r} is not a date-time with offset like 2020-06-04T10:00+02:00",
        )
        return None
    if moment.tzinfo is None:
        at(
            "fixed_start",
            f"{text!r} has no UTC offset: write it like 2020-06-04T10:00+02:00 (Berlin summer time) or +03:00 (Istanbul)",
        )
        return None
    if not in_years(moment):
        at("fixed_start", f"{text!r} is not valid: {YEARS_HELP}")
        return None
    if zone is not None:
        day = moment.astimezone(zone).date()
        if first and last and not first <= day <= last:
            at(
                "fixed_start",
                f"{text} is outside the conference ({first} to {last})",
            )
        elif (not_before and day < not_before) or (not_after and day > not_after):
            at(
                "fixed_start",
                f"{text} is outside the session's own not_before/not_after dates",
            )
    utc = moment.astimezone(UTC)
    minutes = utc.hour * 60 + utc.minute
    if grid and (minutes % grid or utc.second or utc.microsecond):
        at(
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
    weights: dict[tuple[str, str], int] = {}
    if table is None:
        return weights
    seen: dict[tuple[str, str], int] = {}
    for row, cells in table.rows:
        at = problems.at(table, row)
        pid, sid = cells["participant_id"], cells["session_id"]
        ok = True
        if not problems.known("participants", pid, participants):
            at(
                "participant_id",
                f"unknown participant {pid!r}: expected a participant_id from participants.csv",
            )
            ok = False
        if not problems.known("sessions", sid, sessions):
            at(
                "session_id",
                f"unknown session {sid!r}: expected a session_id from sessions.csv",
            )
            ok = False
        weight = level(problems, table, row, cells, "weight", "weight")
        if (pid, sid) in seen:
            at(
                "session_id",
                f"a second preference of {pid} for {sid} (first in row {seen[(pid, sid)]}); keep one",
            )
            continue
        seen[(pid, sid)] = row
        if ok and weight is not None:
            weights[(pid, sid)] = weight
    return weights

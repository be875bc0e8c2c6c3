"""participants.csv and unavailability.csv."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.load.cells import (
    BOOLEAN_HELP,
    YEARS_HELP,
    email_problem,
    in_years,
    parse_bool,
    parse_date,
    parse_datetime,
    pipe_list,
    shorten,
)
from scheduler.load.files import Table
from scheduler.load.problems import Problems, Sheet, identifier, level, required_text
from scheduler.model import INTERPRETED, LANGUAGES, ROLES, City, Participant, Theme, Unavailability

RESERVED_PARTICIPANTS = {"conference": "calendars/conference.ics is the whole conference's feed"}


def read_participants(
    problems: Problems, table: Table | None, cities: Sheet[City], themes: Iterable[Theme]
) -> Sheet[Participant]:
    participants: Sheet[Participant] = Sheet()
    if table is None:
        return participants
    themes = list(themes)
    theme_ids = {theme.id for theme in themes}
    for theme in themes:
        column = f"interest_{theme.id}"
        if column not in table.columns:
            problems.problem(
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
            problems.warnings.append(
                f"{table.file}: column {shorten(column)!r} names no theme of conference.toml "
                "and is ignored"
            )
    first_row: dict[str, tuple[str, int]] = {}
    emails: dict[str, int] = {}
    for row, cells in table.rows:
        at = problems.at(table, row)
        problems_before = len(problems.problems)
        pid = identifier(
            problems,
            table,
            row,
            cells,
            "participant_id",
            first_row,
            "participant",
            RESERVED_PARTICIPANTS,
        )
        name = required_text(problems, table, row, cells, "name")
        email = cells["email"]
        email_wrong = email_problem(email)
        if email_wrong:
            at("email", email_wrong)
        else:
            key = email.casefold()
            if key in emails:
                at(
                    "email",
                    f"{email} is already used in row {emails[key]} (e-mail addresses must be unique, whatever their case)",
                )
            emails.setdefault(key, row)
        city_id = cells["city_id"]
        city = cities.get(city_id)
        if not city_id:
            at("city_id", "required: a city_id from cities.csv")
        elif not problems.known("cities", city_id, cities):
            at(
                "city_id",
                f"unknown city {city_id!r}: expected a city_id from cities.csv",
            )
        role = cells["role"].lower()
        if role not in ROLES:
            at(
                "role",
                f"{cells['role']!r} is not a role: expected " + ", ".join(ROLES),
            )
        languages = spoken_languages(problems, table, row, cells.get("languages", ""))
        if not languages and city:
            languages = frozenset({city.language})
        delegate = role == "administration"
        if cells.get("delegate"):
            parsed = parse_bool(cells["delegate"])
            if parsed is None:
                at(
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
            value = level(problems, table, row, cells, column, "interest")
            if value is not None:
                interests[theme.id] = value
        # Someone of a broken city is broken too: their languages may come from it.
        city_broken = city is None and city_id in cities
        if pid and problems.row_ok(table, row, problems_before) and not city_broken:
            participants.valid[pid] = Participant(
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
            participants.broken.add(pid)  # known, but broken
    return participants


def spoken_languages(problems: Problems, table: Table, row: int, text: str) -> frozenset[str]:
    at = problems.at(table, row)
    items = [item.lower() for item in pipe_list(text)]
    bad = [item for item in items if item not in LANGUAGES]
    if bad:
        hint = (
            " (for both German and Turkish write de|tr)"
            if any(b == INTERPRETED for b in bad)
            else ""
        )
        at(
            "languages",
            f"unknown language {bad[0]!r}: expected a |-list of de, tr, en{hint}",
        )
    return frozenset(item for item in items if item in LANGUAGES)


def read_unavailability(
    problems: Problems,
    table: Table | None,
    participants: Sheet[Participant],
    cities: Sheet[City],
) -> list[Unavailability]:
    periods: list[Unavailability] = []
    if table is None:
        return periods
    for row, cells in table.rows:
        at = problems.at(table, row)
        pid = cells["participant_id"]
        participant = participants.get(pid)
        if not problems.known("participants", pid, participants):
            at(
                "participant_id",
                f"unknown participant {pid!r}: expected a participant_id from participants.csv",
            )
        city = cities.get(participant.city_id) if participant else None
        zone = ZoneInfo(city.timezone) if city else None
        start = period_moment(problems, table, row, cells, "start", zone, is_end=False)
        end = period_moment(problems, table, row, cells, "end", zone, is_end=True)
        if start and end and end <= start:
            at(
                "end",
                f"the period ends ({cells['end']}) before it starts ({cells['start']})",
            )
        elif start and end:
            periods.append(Unavailability(pid, start, end, cells.get("reason", "")))
    return periods


def period_moment(
    problems: Problems,
    table: Table,
    row: int,
    cells: dict[str, str],
    column: str,
    zone: ZoneInfo | None,
    *,
    is_end: bool,
) -> datetime | None:
    """A date (whole local day) or a local date-time, as a UTC instant."""
    at = problems.at(table, row)
    text = cells[column]
    day = parse_date(text)
    moment = parse_datetime(text) if day is None else None
    if day is None and moment is None:
        at(
            column,
            f"{text!r} is not a date (2020-06-03) or a date-time (2020-06-03T14:30)",
        )
        return None
    if not in_years(day or moment):  # type: ignore[arg-type]  # one of them is set
        at(column, f"{text!r} is not valid: {YEARS_HELP}")
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

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
    INTERPRETED,
    LANGUAGES,
    ROLES,
    City,
    Language,
    Participant,
    Role,
    Theme,
    Unavailability,
)

RESERVED_PARTICIPANTS = {"conference": "calendars/conference.ics is the whole conference's feed"}


def read_participants(
    problems: Problems, table: Table | None, cities: Sheet[City], themes: Iterable[Theme]
) -> Sheet[Participant]:
    """participants.csv, row by row: the valid participants, and the ids of broken ones."""
    participants: Sheet[Participant] = Sheet()
    if table is None:
        return participants
    themes = list(themes)
    check_interest_columns(problems, table, themes)
    first_row: dict[str, tuple[str, int]] = {}
    emails: dict[str, int] = {}  # case-folded address -> its first row
    for row in problems.rows(table):
        pid = identifier(row, "participant_id", first_row, "participant", RESERVED_PARTICIPANTS)
        participant = read_participant(row, pid, cities, themes, emails)
        if participant and row.ok():
            participants.valid[participant.id] = participant
        elif pid:
            participants.broken.add(pid)  # known, but broken
    return participants


def check_interest_columns(problems: Problems, table: Table, themes: list[Theme]) -> None:
    """An interest_<theme> column per theme of conference.toml; a warning for others."""
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


def read_participant(
    row: Row,
    pid: str | None,
    cities: Sheet[City],
    themes: list[Theme],
    emails: dict[str, int],
) -> Participant | None:
    """One row of participants.csv checked column by column; None when it is no
    participant (someone of a broken city is none either: their languages may come
    from it)."""
    name = required_text(row, "name")
    email = participant_email(row, emails)
    city_id = participant_city(row, cities)
    city = cities.get(city_id)
    role = one_of(row, "role", ROLES, "a role: expected " + ", ".join(ROLES))
    languages = spoken_languages(row)
    if not languages and city:
        languages = frozenset({city.language})
    delegate = participant_delegate(row, role)
    interests = participant_interests(row, themes)
    if pid is None or role is None or city_id in cities.broken:
        return None
    return Participant(
        id=pid,
        name=name,
        email=email,
        city_id=city_id,
        organisation=row.get("organisation"),
        role=role,
        languages=languages,
        delegate=delegate,
        interests=interests,
    )


def participant_city(row: Row, cities: Sheet[City]) -> str:
    """The city_id, which must name a city of cities.csv."""
    city_id = row["city_id"]
    if not city_id:
        row.problem("city_id", "required: a city_id from cities.csv")
    else:
        reference(row, "city_id", "cities", cities)
    return city_id


def participant_email(row: Row, emails: dict[str, int]) -> str:
    """A valid e-mail address, unique whatever its case."""
    email = row["email"]
    email_wrong = email_problem(email)
    if email_wrong:
        row.problem("email", email_wrong)
        return email
    key = email.casefold()
    if key in emails:
        row.problem(
            "email",
            f"{email} is already used in row {emails[key]} (e-mail addresses must be unique, whatever their case)",
        )
    emails.setdefault(key, row.number)
    return email


def participant_delegate(row: Row, role: Role | None) -> bool:
    """Whether the participant speaks for the city: the cell, else whether the role is
    administration."""
    if not row.get("delegate"):
        return role == "administration"
    parsed = parse_bool(row["delegate"])
    if parsed is None:
        row.problem(
            "delegate",
            f"{row['delegate']!r} is not a yes/no value: expected {BOOLEAN_HELP}",
        )
        return role == "administration"
    return parsed


def participant_interests(row: Row, themes: list[Theme]) -> dict[str, int]:
    """Interest 0-3 per theme (a theme whose column is missing is reported once, above)."""
    interests: dict[str, int] = {}
    for theme in themes:
        column = f"interest_{theme.id}"
        if column not in row.cells:
            continue
        value = level(row, column, "interest")
        if value is not None:
            interests[theme.id] = value
    return interests


def spoken_languages(row: Row) -> frozenset[Language]:
    """The |-list of languages the participant follows (empty when blank)."""
    items = [item.lower() for item in pipe_list(row.get("languages"))]
    bad = [item for item in items if item not in LANGUAGES]
    if bad:
        hint = (
            " (for both German and Turkish write de|tr)"
            if any(b == INTERPRETED for b in bad)
            else ""
        )
        row.problem(
            "languages",
            f"unknown language {bad[0]!r}: expected a |-list of de, tr, en{hint}",
        )
    return frozenset(language for language in LANGUAGES if language in items)


def read_unavailability(
    problems: Problems,
    table: Table | None,
    participants: Sheet[Participant],
    cities: Sheet[City],
) -> list[Unavailability]:
    """unavailability.csv: periods of known participants, in their city's local time."""
    periods: list[Unavailability] = []
    if table is None:
        return periods
    for row in problems.rows(table):
        pid = row["participant_id"]
        participant = participants.get(pid)
        reference(row, "participant_id", "participants", participants)
        city = cities.get(participant.city_id) if participant else None
        zone = ZoneInfo(city.timezone) if city else None
        start = period_moment(row, "start", zone, is_end=False)
        end = period_moment(row, "end", zone, is_end=True)
        if start and end and end <= start:
            row.problem(
                "end",
                f"the period ends ({row['end']}) before it starts ({row['start']})",
            )
        elif start and end:
            periods.append(Unavailability(pid, start, end, row.get("reason")))
    return periods


def period_moment(row: Row, column: str, zone: ZoneInfo | None, *, is_end: bool) -> datetime | None:
    """A date (whole local day) or a local date-time, as a UTC instant."""
    text = row[column]
    day = parse_date(text)
    moment = parse_datetime(text) if day is None else None
    when = day or moment
    if when is None:
        row.problem(
            column,
            f"{text!r} is not a date (2020-06-03) or a date-time (2020-06-03T14:30)",
        )
        return None
    if not in_years(when):
        row.problem(column, f"{text!r} is not valid: {YEARS_HELP}")
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

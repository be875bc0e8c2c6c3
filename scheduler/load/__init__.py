"""Read an input folder into a validated :class:`~scheduler.model.Conference`.

Only this package reads the organisers' files. It never writes anything. Every problem
found is gathered (file, spreadsheet row, column, what is expected) and raised together
as :class:`~scheduler.errors.InputErrors`, so an organiser fixes a file once, not once
per mistake. Defaults docs/inputs.md names (city time zone and language, participant
languages, delegate flag) are filled in here, so later stages never guess.

    files         reading a file safely; CSV and .xlsx sheets as strings
    cells         the text policy, cell parsers, checks of ids, e-mail, links, zones
    problems      the collector of problems and warnings; shared cell checks
    settings      conference.toml
    cities        cities.csv, partnerships.csv
    participants  participants.csv, unavailability.csv
    sessions      sessions.csv, preferences.csv
    holidays      each city's public holidays, resolved once onto the model

See docs/inputs.md for the format in the organisers' words.
"""

from __future__ import annotations

import os
from pathlib import Path

from scheduler.errors import InputErrors, Problem, UserError
from scheduler.load.cells import CODE_TEXT, COLUMN_TEXT, id_problem, printable, shorten
from scheduler.load.cities import read_cities, read_partnerships
from scheduler.load.files import Table, read_csv, read_xlsx
from scheduler.load.holidays import with_holidays
from scheduler.load.participants import read_participants, read_unavailability
from scheduler.load.problems import TOML_FILE, Problems
from scheduler.load.sessions import read_preferences, read_sessions
from scheduler.load.settings import read_settings
from scheduler.model import Conference

__all__ = ["COLUMNS", "TOML_FILE", "id_problem", "load_conference"]

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
    return load(Problems(), folder)


def load(problems: Problems, folder: Path) -> tuple[Conference, list[str]]:
    """Every file of ``folder`` read and checked, problems gathered in ``problems``."""
    settings = read_settings(problems, folder)
    encoding = settings.get("encoding")
    tables = {stem: read_table(problems, folder, stem, encoding) for stem in COLUMNS}

    themes = settings.get("themes") or ()
    theme_ids = {theme.id for theme in themes}
    grid = settings.get("grid_minutes")

    cities = read_cities(problems, tables["cities"])
    partnerships = read_partnerships(problems, tables["partnerships"], cities)
    participants = read_participants(problems, tables["participants"], cities, themes)
    unavailability = read_unavailability(problems, tables["unavailability"], participants, cities)
    sessions = read_sessions(
        problems,
        tables["sessions"],
        participants,
        theme_ids if "themes" in settings else None,
        grid,
        settings,
    )
    preferences = read_preferences(problems, tables["preferences"], participants, sessions)

    if problems.problems:
        # File by file, in the order organisers fill them in; within a file as found.
        order = [TOML_FILE] + [f"{stem}.{ext}" for stem in COLUMNS for ext in ("csv", "xlsx")]
        problems.problems.sort(key=lambda p: order.index(p.file) if p.file in order else 0)
        raise InputErrors(problems.problems)
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
        cities=tuple(cities.valid.values()),
        partnerships=tuple(partnerships),
        participants=tuple(participants.valid.values()),
        unavailability=tuple(unavailability),
        sessions=tuple(sessions.valid.values()),
        preferences=preferences,
    )
    return with_holidays(conference), problems.warnings


def read_table(problems: Problems, folder: Path, stem: str, encoding: str | None) -> Table | None:
    """The .csv or .xlsx of a stem, its columns checked; None when missing or unreadable."""
    csv_path, xlsx_path = folder / f"{stem}.csv", folder / f"{stem}.xlsx"
    csv_there, xlsx_there = os.path.lexists(csv_path), os.path.lexists(xlsx_path)
    if csv_there and xlsx_there:
        problems.problem(
            csv_path.name,
            None,
            None,
            f"both {csv_path.name} and {xlsx_path.name} exist; keep only one of them",
        )
        return None
    if not csv_there and not xlsx_there:
        if stem not in OPTIONAL_FILES:
            problems.problem(
                csv_path.name,
                None,
                None,
                f"missing: the input folder needs {csv_path.name} (or {xlsx_path.name})",
            )
        return None
    result = read_csv(csv_path, encoding) if csv_there else read_xlsx(xlsx_path)
    if isinstance(result, Problem):
        problems.problems.append(result)
        return None
    apply_text_policy(problems, stem, result)
    seen: set[str] = set()
    for column in result.columns:
        if column and column in seen:
            problems.problem(
                result.file, 1, printable(column), "this column appears twice; keep one"
            )
        seen.add(column)
    required, optional = COLUMNS[stem]
    missing = [c for c in required if c not in result.columns]
    for column in missing:
        problems.problem(result.file, 1, column, f"missing required column {column}")
    if missing:
        return None
    for column in result.columns:
        interest = stem == "participants" and column.startswith("interest_")
        if column and column not in required and column not in optional and not interest:
            problems.warnings.append(
                f"{result.file}: column {shorten(column)!r} is not used and is ignored"
            )
    for row, extra in result.overflow.items():
        problems.problem(
            result.file,
            row,
            None,
            f"this row has more cells than the header has columns (extra cell {extra!r}); "
            "a cell that contains the separator (',' or ';') must be in double quotes",
        )
    problems.readable.add(stem)
    return result


def apply_text_policy(problems: Problems, stem: str, table: Table) -> None:
    """Every cell of the columns this tool reads through ``text``, in place."""
    required, optional = COLUMNS[stem]
    used = set(required) | set(optional)
    for row, cells in table.rows:
        for column, value in cells.items():
            if column in used or (stem == "participants" and column.startswith("interest_")):
                rule = COLUMN_TEXT.get(column, CODE_TEXT)
                cells[column] = problems.text(table.file, row, column, value, rule)

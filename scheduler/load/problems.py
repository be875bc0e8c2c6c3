"""Problems: the collector of one load's problems and warnings, and the cell checks
shared by every sheet (a new id, a required text, a 0-3 level)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from scheduler.errors import Problem
from scheduler.load.cells import TextRule, clean_text, id_problem, parse_int
from scheduler.load.files import Table

T = TypeVar("T")

TOML_FILE = "conference.toml"


@dataclass
class Sheet(Generic[T]):
    """What a sheet defines, by id: the valid rows, and the ids of broken rows (known,
    so that references to them are not reported again, but not usable)."""

    valid: dict[str, T] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)

    def __contains__(self, key: object) -> bool:
        return key in self.valid or key in self.broken

    def get(self, key: str) -> T | None:
        return self.valid.get(key)

    def __getitem__(self, key: str) -> T:
        return self.valid[key]


class Problems:
    """One load of one folder: gathers problems and warnings while it reads."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.warnings: list[str] = []
        self.toml_lines: dict[str, int] = {}
        self.readable: set[str] = set()  # stems whose file was read (others are not cross-checked)
        # Cells the text policy refused: one problem per cell, not one per later check;
        # and their rows, which become no city, participant or session.
        self.refused: set[tuple[str, int | None, str | None]] = set()
        self.refused_rows: set[tuple[str, int | None]] = set()

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

    def known(self, stem: str, value: str, ids: Sheet[Any] | dict[str, Any]) -> bool:
        """Whether a reference resolves; references into an unreadable file are not
        reported again (its own problem already is)."""
        return value in ids or stem not in self.readable

    def at(self, table: Table, row: int) -> Callable[[str | None, str], None]:
        """A reporter for one row: ``at(column, message)``."""

        def report(column: str | None, message: str) -> None:
            self.problem(table.file, row, column, message)

        return report


def identifier(
    problems: Problems,
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
    at = problems.at(table, row)
    value = cells[column]
    if not value:
        at(column, f"required: a unique {what} id")
        return None
    wrong = id_problem(value)
    if wrong:
        at(column, wrong)
        return None
    folded = value.casefold()
    if reserved and folded in reserved:
        at(
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
        at(column, message)
        # A twin is known (its references are not reported again), but broken.
        return None if first == value else value
    first_row[folded] = (value, row)
    return value


def required_text(
    problems: Problems, table: Table, row: int, cells: dict[str, str], column: str
) -> str:
    at = problems.at(table, row)
    value = cells[column]
    if not value:
        at(column, "required: this cell must not be empty")
    return value


def level(
    problems: Problems, table: Table, row: int, cells: dict[str, str], column: str, what: str
) -> int | None:
    at = problems.at(table, row)
    value = parse_int(cells[column])
    if value is None or not 0 <= value <= 3:
        at(
            column,
            f"{cells[column]!r} is not a valid {what}: expected a whole number 0, 1, 2 or 3",
        )
        return None
    return value

"""Problems: the collector of one load's problems and warnings, the row being read,
and the cell validators shared by every sheet (a new id, a required text, a 0-3 level,
one of a few words, a reference into another sheet).

A validator takes the :class:`Row`, reports what is wrong at the row's file, row and
column itself, and returns the parsed value or None.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
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

    def known(self, stem: str, value: str, ids: Sheet[Any] | dict[str, Any]) -> bool:
        """Whether a reference resolves; references into an unreadable file are not
        reported again (its own problem already is)."""
        return value in ids or stem not in self.readable

    def rows(self, table: Table) -> Iterator[Row]:
        """The rows of a sheet, one at a time, each knowing which problems are its own."""
        for number, cells in table.rows:
            yield Row(self, table, number, cells, len(self.problems))


@dataclass
class Row:
    """One row of a sheet while it is read: its cells, and where its problems go."""

    problems: Problems
    table: Table
    number: int  # as the spreadsheet shows it
    cells: dict[str, str]
    problems_before: int  # how many problems the load had before this row

    def __getitem__(self, column: str) -> str:
        return self.cells[column]

    def get(self, column: str) -> str:
        """A cell of an optional column ("" when the sheet has no such column)."""
        return self.cells.get(column, "")

    def problem(self, column: str | None, message: str) -> None:
        """A problem in this row, at ``column``."""
        self.problems.problem(self.table.file, self.number, column, message)

    def ok(self) -> bool:
        """Whether the row added no problem and holds no refused cell."""
        return (
            len(self.problems.problems) == self.problems_before
            and (self.table.file, self.number) not in self.problems.refused_rows
        )


# --------------------------------------------------------------------------- cell validators

# A sheet's references: the stem they point into -> (what is referred to, its id column).
REFERENCED = {
    "cities": ("city", "city_id"),
    "participants": ("participant", "participant_id"),
    "sessions": ("session", "session_id"),
}


def identifier(
    row: Row,
    column: str,
    first_row: dict[str, tuple[str, int]],
    what: str,
    reserved: Mapping[str, str] | None = None,
) -> str | None:
    """A new id of a table: valid as a file name, not reserved, and unique in the table
    whatever its capitals (``first_row``: case-folded id -> (id, row))."""
    value = row[column]
    if not value:
        row.problem(column, f"required: a unique {what} id")
        return None
    wrong = id_problem(value)
    if wrong:
        row.problem(column, wrong)
        return None
    folded = value.casefold()
    if reserved and folded in reserved:
        row.problem(
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
        row.problem(column, message)
        # A twin is known (its references are not reported again), but broken.
        return None if first == value else value
    first_row[folded] = (value, row.number)
    return value


def required_text(row: Row, column: str) -> str:
    """A cell that must not be empty (returned as it is, empty or not)."""
    value = row[column]
    if not value:
        row.problem(column, "required: this cell must not be empty")
    return value


def level(row: Row, column: str, what: str) -> int | None:
    """A whole number 0 to 3 (a weight, an interest)."""
    value = parse_int(row[column])
    if value is None or not 0 <= value <= 3:
        row.problem(
            column,
            f"{row[column]!r} is not a valid {what}: expected a whole number 0, 1, 2 or 3",
        )
        return None
    return value


def one_of(row: Row, column: str, options: tuple[T, ...], what: str, default: str = "") -> T | None:
    """One of a few words, any case (``default`` for a blank cell): "{cell!r} is not {what}"."""
    text = row.get(column).lower() or default
    chosen = next((option for option in options if option == text), None)
    if chosen is None:
        row.problem(column, f"{row.get(column)!r} is not {what}")
    return chosen


def reference(row: Row, column: str, stem: str, ids: Sheet[Any]) -> bool:
    """Whether the cell names a row of another sheet (``stem``); says so when not."""
    value = row[column]
    if row.problems.known(stem, value, ids):
        return True
    what, id_column = REFERENCED[stem]
    row.problem(column, f"unknown {what} {value!r}: expected a {id_column} from {stem}.csv")
    return False

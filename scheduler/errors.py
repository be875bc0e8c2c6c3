"""User errors: problems in the organisers' files, reported all together."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong in an input file, located as a spreadsheet shows it."""

    file: str  # file name as in the input folder, e.g. "participants.csv"
    row: int | None  # spreadsheet row (header = 1); None for whole-file problems
    column: str | None  # column name (or TOML key); None when not about one column
    message: str  # what is wrong and what is expected

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


class UserError(Exception):
    """An error the user can fix; the CLI prints it and exits with code 2, no traceback."""


class InputErrors(UserError):
    """Every problem found in an input folder."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(
            f"{len(problems)} problem(s) in the inputs:\n" + "\n".join(f"  - {p}" for p in problems)
        )

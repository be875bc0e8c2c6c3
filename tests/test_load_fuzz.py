"""Fuzzing the loader (issue 11): whatever bytes or cell values an input file holds, loading
gives a valid Conference or a UserError (InputErrors) whose problems name the file and,
for a cell, its row; never another exception, never a control character in a message.

Examples per test: 20 by default (the file stays well under a minute on a busy machine);
``SCHEDULER_FUZZ_EXAMPLES=2000`` runs many more (docs/inputs.md).
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_load import CONFERENCE_TOML, Rows, csv_text, valid_tables, write_inputs

from scheduler.errors import InputErrors, UserError
from scheduler.load import COLUMNS, TOML_FILE, id_problem, load_conference
from scheduler.model import Conference

EXAMPLES = int(os.environ.get("SCHEDULER_FUZZ_EXAMPLES", "20"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 20,  # CI: the same examples every run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FILES = {TOML_FILE} | {f"{stem}.{ext}" for stem in COLUMNS for ext in ("csv", "xlsx")}
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")

# Text from every plane, control characters, bidi and combining marks, Turkish letters.
ANY_TEXT = st.text(
    st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(
            "\x00\t\n\r\x0b\x0c\x1b\x7f\x85\x9b\u2028\u2029\u202e\u200f\u0301İıŞş;,\"'|=+-@"
        ),
    ),
    max_size=80,
)


@contextmanager
def folder() -> Iterator[Path]:
    """A fresh valid input folder (hypothesis runs many examples per test)."""
    with tempfile.TemporaryDirectory(prefix="fuzz-") as scratch:
        yield write_inputs(Path(scratch) / "in")


def outcome(path: Path, *, cells: bool) -> Conference | InputErrors:
    """Load ``path``; only a UserError may be raised. Every problem names an input file,
    ``cells``: a row too (the fuzzing changed cells, not the structure of a file)."""
    try:
        conference, warnings = load_conference(path)
    except InputErrors as errors:
        for problem in errors.problems:
            assert problem.file in FILES, problem
            assert str(problem).startswith(problem.file)
            if cells and problem.file != TOML_FILE:
                assert problem.row is not None and problem.row >= 1, problem
            assert problem.row is None or f"row {problem.row}" in str(problem)
            assert not CONTROL.search(str(problem)), problem
            assert len(str(problem)) < 1000, problem
        return errors
    except UserError as error:
        assert not CONTROL.search(str(error))
        raise AssertionError(f"a whole-folder error for a file's content: {error}") from error
    for warning in warnings:
        assert not CONTROL.search(warning) and len(warning) < 1000, warning
    assert_clean(conference)
    return conference


def assert_clean(conference: Conference) -> None:
    """What the exporters rely on: ids safe as file names and unique whatever their case,
    no control character or line break in any text."""
    for rows in (conference.cities, conference.participants, conference.sessions):
        ids = [item.id for item in rows]
        assert all(id_problem(i) is None for i in ids), ids
        assert len({i.casefold() for i in ids}) == len(ids), ids
    texts = [conference.name, conference.organizer.name, conference.organizer.email]
    texts += [city.name for city in conference.cities]
    texts += [p.name for p in conference.participants] + [p.email for p in conference.participants]
    texts += [p.organisation for p in conference.participants]
    texts += [title for s in conference.sessions for title in s.titles.values()]
    texts += [name for theme in conference.themes for name in theme.names.values()]
    for text in texts:
        assert not CONTROL.search(text) and "\u2028" not in text and "\u2029" not in text, text
        assert len(text) <= 300


# --------------------------------------------------------------------------- random bytes


@FUZZ
@given(
    name=st.sampled_from(sorted([f"{stem}.csv" for stem in COLUMNS] + [TOML_FILE])),
    data=st.one_of(
        st.binary(max_size=600),
        st.text(max_size=300).map(lambda t: t.encode("utf-8")),
    ),
)
def test_random_bytes_in_any_file(name: str, data: bytes) -> None:
    with folder() as path:
        (path / name).write_bytes(data)
        outcome(path, cells=False)


@FUZZ
@given(data=st.binary(max_size=400), prefix=st.sampled_from([b"", b"PK\x03\x04"]))
def test_random_bytes_as_a_workbook(data: bytes, prefix: bytes) -> None:
    with folder() as path:
        (path / "sessions.csv").unlink()
        (path / "sessions.xlsx").write_bytes(prefix + data)
        assert isinstance(outcome(path, cells=False), InputErrors)


@FUZZ
@given(
    name=st.sampled_from(sorted(COLUMNS)),
    lines=st.lists(st.integers(0, 5), max_size=4),
    cut=st.integers(0, 400),
    junk=st.binary(max_size=20),
)
def test_a_valid_file_mangled(name: str, lines: list[int], cut: int, junk: bytes) -> None:
    """A real file cut short, with junk spliced in: closer to a damaged upload."""
    with folder() as path:
        data = (path / f"{name}.csv").read_bytes()
        data = data[:cut] + junk + data[cut:]
        for line in lines:
            parts = data.split(b"\n")
            data = b"\n".join(parts[:line] + parts[line + 1 :])
        (path / f"{name}.csv").write_bytes(data)
        outcome(path, cells=False)


# --------------------------------------------------------------------------- random cell values


@st.composite
def changed_tables(draw: st.DrawFn) -> dict[str, Rows]:
    """The valid tables with a few cells replaced by random text."""
    tables = valid_tables()
    for _ in range(draw(st.integers(1, 4))):
        stem = draw(st.sampled_from(sorted(tables)))
        row = draw(st.sampled_from(tables[stem]))
        column = draw(st.sampled_from(sorted(row)))
        row[column] = draw(
            st.one_of(
                ANY_TEXT,
                st.integers().map(str),
                st.floats().map(str),
                st.sampled_from(["", "p1", "osn", "CON", "..", "index", "1e20", "0001-01-01"]),
            )
        )
    return tables


@FUZZ
@given(tables=changed_tables(), delimiter=st.sampled_from([",", ";"]))
def test_random_cells_in_every_table(tables: dict[str, Rows], delimiter: str) -> None:
    with folder() as path:
        for stem, rows in tables.items():
            text = csv_text(rows, delimiter=delimiter)
            (path / f"{stem}.csv").write_text(text, encoding="utf-8", newline="")
        outcome(path, cells=True)


# --------------------------------------------------------------------------- random TOML values


def toml_literal(value: Any) -> str:
    """A Python value as a TOML literal (what an organiser might have typed)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        escaped = "".join(
            "\\" + c if c in '"\\' else f"\\u{ord(c):04x}" if ord(c) < 32 or ord(c) == 127 else c
            for c in value
        )
        return f'"{escaped}"'
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (int, date, datetime, time)):
        return value.isoformat() if not isinstance(value, int) else str(value)
    if isinstance(value, list):
        return "[" + ", ".join(map(toml_literal, value)) + "]"
    raise TypeError(value)


TOML_VALUES = st.recursive(
    st.one_of(
        ANY_TEXT,
        st.integers(),
        st.integers(-(10**30), 10**30),
        st.floats(),
        st.booleans(),
        st.dates(),
        st.times(),
        st.sampled_from(["localtime", "Turkey", "rot13", "javascript:x", 'a"b@x.org']),
    ),
    lambda inner: st.lists(inner, max_size=3),
    max_leaves=4,
)
TOML_KEY_LINE = re.compile(r"^(\s*)([a-z_]+) = (.*)$", re.MULTILINE)


@FUZZ
@given(
    choices=st.lists(st.tuples(st.integers(0, 100), TOML_VALUES), min_size=1, max_size=3),
)
def test_random_values_in_conference_toml(choices: list[tuple[int, Any]]) -> None:
    lines = CONFERENCE_TOML.splitlines()
    keyed = [n for n, line in enumerate(lines) if TOML_KEY_LINE.match(line)]
    for pick, value in choices:
        number = keyed[pick % len(keyed)]
        match = TOML_KEY_LINE.match(lines[number])
        assert match
        lines[number] = f"{match[1]}{match[2]} = {toml_literal(value)}"
    with folder() as path:
        (path / TOML_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
        outcome(path, cells=True)

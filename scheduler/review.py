"""The notebook API: read a written run, compare runs, and say why a participant misses a
session they want.

The review notebooks (notebooks/review.ipynb, notebooks/what_if.ipynb) and an organiser's
own analysis in Python use these functions; the CLI uses `summary`.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scheduler.errors import UserError
from scheduler.model import Conference, satisfaction

if TYPE_CHECKING:
    import pandas as pd

    from scheduler.pipeline import Result


def read_outputs(folder: Path) -> dict[str, pd.DataFrame]:
    """The tables of a written run as typed DataFrames: ``schedule``, ``attendance``,
    ``matches``, ``unscheduled`` (start/end as UTC timestamps)."""
    from scheduler.export.tables import read_tables

    _require_outputs(Path(folder))
    return read_tables(Path(folder))


def _require_outputs(folder: Path) -> None:
    if not (folder / "report.json").is_file():
        raise UserError(
            f"no outputs in {folder}: run `make run` (or `scheduler run INPUTS --out {folder}`) "
            "first, or point SCHEDULER_OUTPUTS at the output folder of a run"
        )


def read_report(folder: Path) -> dict[str, Any]:
    """report.json of a written run."""
    from scheduler.export.tables import read_report as _read_report

    _require_outputs(Path(folder))
    return _read_report(Path(folder))


def read_changes(folder: Path) -> pd.DataFrame:
    """changes.csv of a written run (a re-plan): who is affected by what, and why."""
    from scheduler.export.tables import read_changes as _read_changes

    _require_outputs(Path(folder))
    return _read_changes(Path(folder))


def read_outbox(folder: Path) -> pd.DataFrame:
    """outbox.csv of a written run: the messages `scheduler send` delivers."""
    from scheduler.export.tables import read_outbox as _read_outbox

    _require_outputs(Path(folder))
    return _read_outbox(Path(folder))


def tables(result: Result) -> dict[str, pd.DataFrame]:
    """The tables of an in-memory run, exactly as `export` would write them."""
    from scheduler.export.tables import table_frames

    return table_frames(result.conference, result.matchmaking, result.schedule)


def summary(result: Result) -> dict[str, Any]:
    """The numbers an organiser looks at first, by label (used by `compare` and the CLI)."""
    conference, matchmaking, schedule = result.conference, result.matchmaking, result.schedule
    placed = {e.event_id for e in schedule.events}
    kinds = [e.kind for e in schedule.events]
    meetings = matchmaking.meetings
    happy = satisfaction(conference, schedule)
    worst = happy.worst_city
    worst_name = ""
    if worst is not None:
        city = conference.cities_by_id.get(worst[0])
        worst_name = f"{city.name if city else worst[0]} ({worst[1]:.1%})"
    partner = [m for m in meetings if m.kind == "partner_meeting"]
    contacts = [m for m in meetings if m.kind == "new_contact_meeting"]
    partner_wanted = len(partner) + sum(
        1 for i in matchmaking.impossible if i.kind == "partner_meeting"
    )
    return {
        "events placed": len(schedule.events),
        "sessions placed": f"{sum(k in ('plenary', 'workshop') for k in kinds)} of "
        f"{len(conference.sessions)}",
        "partner meetings placed": f"{sum(m.id in placed for m in partner)} of {partner_wanted}",
        "new contacts placed": f"{sum(m.id in placed for m in contacts)} of {len(contacts)}",
        "unscheduled": len(schedule.unscheduled),
        "satisfaction": round(happy.overall, 4),
        "worst city": worst_name,
        "objective": schedule.objective,
        "bound": schedule.bound,
        "gap": round(schedule.gap, 4),
        "status": schedule.status,
        "solve seconds": round(schedule.solve_seconds, 1),
    }


def compare(
    result_a: Result, result_b: Result, *, names: tuple[str, str] = ("before", "after")
) -> pd.DataFrame:
    """Two runs side by side: events placed, meetings, satisfaction, worst city,
    objective, bound, gap, solve time (one row per measure, one column per run)."""
    import pandas as pd

    first, second = summary(result_a), summary(result_b)
    return pd.DataFrame({names[0]: first, names[1]: second}, dtype=object)


def notebook_folders() -> tuple[Path, Path]:
    """The input and output folders a notebook works on: ``SCHEDULER_INPUTS`` and
    ``SCHEDULER_OUTPUTS`` when set, else ``inputs/`` and ``outputs/`` of the checkout
    (found from the working directory, e.g. ``notebooks/``, or from this package)."""
    import scheduler

    candidates = [Path.cwd(), *Path.cwd().parents, Path(scheduler.__file__).resolve().parent.parent]
    root = next(
        (c for c in candidates if (c / "pyproject.toml").is_file() and (c / "inputs").is_dir()),
        candidates[-1],
    )
    inputs = Path(os.environ.get("SCHEDULER_INPUTS") or root / "inputs")
    outputs = Path(os.environ.get("SCHEDULER_OUTPUTS") or root / "outputs")
    return inputs, outputs


def wanted_sessions(conference: Conference, frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per participant and session they want (w > 0), from a run's tables
    (`read_outputs` or `tables`): ``participant_id, name, city_id, role, session_id,
    theme, weight, attended`` and ``why_missed``, the first rule that explains a missed
    session, in words ("" when attended).

    Satisfaction by participant, city or theme is a group-by of this table (attended
    weight over weight), the same measure as report.json.
    """
    import pandas as pd

    schedule = frames["schedule"]
    spans = {
        row.event_id: (row.start.to_pydatetime(), row.end.to_pydatetime(), int(row.attendees))
        for row in schedule.itertuples()
    }
    not_placed = dict(zip(frames["unscheduled"]["item_id"], frames["unscheduled"]["reason"]))
    agenda: dict[str, set[str]] = {}
    for row in frames["attendance"].itertuples():
        agenda.setdefault(row.participant_id, set()).add(row.event_id)
    absences: dict[str, list[Any]] = {}
    for absence in conference.unavailability:
        absences.setdefault(absence.participant_id, []).append(absence)

    rows = []
    for person in conference.participants:
        mine = agenda.get(person.id, set())
        for session in conference.sessions:
            weight = conference.wanted_weight(person, session)
            if weight <= 0:
                continue
            attended = session.id in mine
            why = (
                ""
                if attended
                else _why_missed(
                    conference,
                    person,
                    session,
                    spans,
                    not_placed,
                    mine,
                    absences.get(person.id, []),
                )
            )
            rows.append(
                {
                    "participant_id": person.id,
                    "name": person.name,
                    "city_id": person.city_id,
                    "role": person.role,
                    "session_id": session.id,
                    "theme": session.theme,
                    "weight": weight,
                    "attended": attended,
                    "why_missed": why,
                }
            )
    columns = ["participant_id", "name", "city_id", "role", "session_id", "theme", "weight"]
    return pd.DataFrame(rows, columns=[*columns, "attended", "why_missed"])


def _why_missed(
    conference: Conference,
    person: Any,
    session: Any,
    spans: dict[str, tuple[datetime, datetime, int]],
    not_placed: dict[str, str],
    mine: set[str],
    absences: list[Any],
) -> str:
    """The first reason, in the order an organiser would look, why a participant does not
    attend a session they want. A diagnosis for people, not a rule: check.py is the rule."""
    from scheduler.solve.availability import local_day_hours

    if session.id not in spans:
        return f"not scheduled: {not_placed.get(session.id, 'no reason given')}"
    start, end, attendees = spans[session.id]
    rules = conference.calendar
    city = conference.city_of(person)
    # first their own time: absent, outside their hours, not a working day there
    for absence in absences:
        if absence.start < end and start < absence.end:
            return f"unavailable ({absence.reason})" if absence.reason else "unavailable"
    local_start, local_end = start.astimezone(city.zone), end.astimezone(city.zone)
    day = local_start.date()
    day_start, day_end = local_day_hours(conference, person.role)
    if local_start.time() < day_start or local_end.date() > day or local_end.time() > day_end:
        return f"outside their hours ({day_start:%H:%M}-{day_end:%H:%M} local)"
    if local_start.weekday() not in rules.weekdays:
        return "not a conference weekday where they live"
    holiday = rules.public_holidays and city.holiday(day)
    if holiday:
        return f"public holiday where they live ({holiday.name})"
    # then their agenda: another event at that time, the day already full
    gap = timedelta(minutes=rules.buffer_minutes)
    for event_id in sorted(mine & spans.keys()):
        other_start, other_end, _ = spans[event_id]
        if other_start < end + gap and start < other_end + gap:
            return f"clashes with {event_id}"
    same_day = [e for e in mine & spans.keys() if spans[e][0].astimezone(city.zone).date() == day]
    if len(same_day) >= rules.max_events_per_day:
        return f"day full ({len(same_day)} events on {day.isoformat()})"
    # then the session itself
    if session.capacity is not None and attendees >= session.capacity:
        return f"session full ({attendees} of {session.capacity})"
    return "not chosen (no rule found that blocks it: a longer solve may add it)"

"""The notebook API: read a written run, compare runs, and say why a participant misses a
session they want.

The review notebooks (notebooks/review.ipynb, notebooks/what_if.ipynb) and an organiser's
own analysis in Python use these functions; the CLI uses `summary`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scheduler import check
from scheduler.errors import UserError
from scheduler.model import (
    Attendance,
    Conference,
    Participant,
    Schedule,
    ScheduledEvent,
    satisfaction,
)

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

    events = {
        row.event_id: ScheduledEvent(
            row.event_id,
            row.kind,
            row.theme or None,
            {"de": row.title_de, "tr": row.title_tr},
            row.start.to_pydatetime(),
            row.end.to_pydatetime(),
            row.language,
            int(row.room),
        )
        for row in frames["schedule"].itertuples()
    }
    not_placed = dict(
        zip(frames["unscheduled"]["item_id"], frames["unscheduled"]["reason"], strict=True)
    )
    attendance: dict[str, list[Attendance]] = {}
    agenda: dict[str, set[str]] = {}
    for row in frames["attendance"].itertuples():
        attendance.setdefault(row.event_id, []).append(
            Attendance(row.event_id, row.participant_id, row.role)
        )
        agenda.setdefault(row.participant_id, set()).add(row.event_id)

    rows = []
    for person, session, weight in conference.wanted_pairs:
        mine = agenda.get(person.id, set())
        attended = session.id in mine
        if attended:
            why = ""
        elif session.id not in events:
            why = f"not scheduled: {not_placed.get(session.id, 'no reason given')}"
        else:
            others = [events[e] for e in sorted(mine) if e in events]
            trial = _Trial(conference, person, events[session.id], others)
            why = _why_missed(trial, attendance.get(session.id, []))
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


@dataclass(frozen=True)
class _Trial:
    """A participant who would also attend a session they miss: what the checker's rules
    say of that agenda is why they miss it."""

    conference: Conference
    person: Participant
    event: ScheduledEvent  # the session they miss
    others: list[ScheduledEvent]  # their agenda

    def days(self, others: list[ScheduledEvent]) -> list[str]:
        """The checker's rules of a participant's days for the session and ``others``."""
        events = [self.event, *others]
        rows = tuple(Attendance(e.event_id, self.person.id, "attendee") for e in events)
        schedule = Schedule(tuple(events), rows, (), "FEASIBLE", 0.0, 0.0, 0.0)
        return check._check_participants_days(self.conference, schedule, events)


# The checker's words for a rule of a participant's own time, and how the review says it,
# in the order an organiser looks: absent, outside their hours, not a working day there.
_OWN_TIME = (
    (" is unavailable from ", "unavailable"),
    (" before the day start ", "outside their hours"),
    (" after the day end ", "outside their hours"),
    (", not a conference weekday", "not a conference weekday where they live"),
    (", a public holiday there ", "public holiday where they live"),
)


def _why_missed(trial: _Trial, attendees: list[Attendance]) -> str:
    """The first reason, in the order an organiser would look, why a participant does not
    attend a scheduled session they want: the first of the checker's rules (check.py) that
    attending it would break. A diagnosis for people: check.py holds the rules."""
    conference, person, event = trial.conference, trial.person, trial.event
    # first their own time: absent, outside their hours, not a working day there
    own_time = trial.days([])
    for phrase, label in _OWN_TIME:
        for violation in own_time:
            if phrase in violation:
                return _own_time_reason(conference, person, violation, label)
    # then their agenda: another event at that time, the day already full
    for other in trial.others:
        pair = sorted((event, other), key=lambda e: (e.start, e.event_id))
        if check._check_buffers(conference, person.id, pair):
            return f"clashes with {other.event_id}"
    if any(" per day" in v for v in trial.days(trial.others)):
        zone = conference.city_of(person).zone
        day = event.start.astimezone(zone).date()
        same_day = [e for e in trial.others if e.start.astimezone(zone).date() == day]
        return f"day full ({len(same_day)} events on {day.isoformat()})"
    # then the session itself
    session = conference.sessions_by_id[event.event_id]
    joined = [*attendees, Attendance(event.event_id, person.id, "attendee")]
    found = check._check_session_attendance(conference, session, joined)
    if any(" but capacity is " in v for v in found):
        return f"session full ({len(attendees)} of {session.capacity})"
    return "not chosen (no rule found that blocks it: a longer solve may add it)"


def _own_time_reason(
    conference: Conference, person: Participant, violation: str, label: str
) -> str:
    """The review's words for the checker's sentence on a rule of the person's own time."""
    if label == "outside their hours":
        day_start, day_end = check._local_day(conference, person)
        return f"{label} ({day_start:%H:%M}-{day_end:%H:%M} local)"
    if label == "unavailable":
        reason = violation.split(" local time", 1)[-1].strip()  # "(dentist)" or ""
        return f"{label} {reason}" if reason else label
    if label.startswith("public holiday"):
        return f"{label} {violation.split(_OWN_TIME[-1][0], 1)[-1].strip()}"
    return label

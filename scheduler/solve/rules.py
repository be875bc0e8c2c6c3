"""The hard rules of the solver, each written once and named after the checker's.

Every rule takes up to three forms, side by side in its section below:

- the CP-SAT form (``add_…``), posted by the placement model (placement.py), the
  rearrangements (rearrange.py) and the attendance polish (attendance.py);
- the array or interval form ("does this start fit", "which cells does this event keep
  busy"), used by the greedy (greedy.py), the local search (improve.py), phase 2
  (attendance.py), the bounds (bound.py) and the reasons (reasons.py);
- the plain-words label that becomes the reason in ``unscheduled.csv``.

The independent checker (scheduler/check.py) re-derives each rule on its own from the
schedule; docs/solver.md has the table of which checker rule is which function here.

Times on the grid are cells (availability.TimeGrid); times in phase 2 are minutes from the
grid's base. A person's event *keeps them busy* for its duration and the buffer after it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

import numpy as np
from ortools.sat.python import cp_model

from scheduler.model import Conference, Participant
from scheduler.solve.availability import TimeGrid
from scheduler.solve.events import PlannedEvent

CpLiteral = cp_model.IntVar | bool  # a CP-SAT literal, or a truth already known
Key = TypeVar("Key", bound=Hashable)


# --- participants' days: weekdays, holidays, day hours, unavailability --------------------
# checker: _check_participants_days (and _check_window for the conference's days; the
# window, not_before/not_after and fixed_start are resolved onto each event's allowed
# starts in events.py, with the reason in words when none is left: events.why_not_free)


def free_to_start(grid: TimeGrid, person: Participant, length: int) -> np.ndarray:
    """Array form: per cell, may this person be in an event of ``length`` cells starting
    there (inside their local day hours, on a conference weekday that is no public
    holiday of theirs, clear of their unavailability)."""
    return grid.allowed_starts(grid.profile(person), length)


def add_only_at(
    model: cp_model.CpModel,
    start: cp_model.LinearExprT,
    cells: Sequence[int],
    when: cp_model.IntVar | None = None,
) -> None:
    """CP-SAT form: ``start`` takes one of ``cells`` (only when ``when`` holds, if given)."""
    constraint = model.add_linear_expression_in_domain(
        start, cp_model.Domain.from_values(list(cells))
    )
    if when is not None:
        constraint.only_enforce_if(when)


# --- rooms (checker: _check_rooms) and interpreters (checker: _check_simultaneous) ---------


def add_rooms(model: cp_model.CpModel, spans: list[cp_model.IntervalVar], rooms: int) -> None:
    """CP-SAT form: at most ``rooms`` events at once."""
    if spans:
        model.add_cumulative(spans, [1] * len(spans), rooms)


def add_interpreters(
    model: cp_model.CpModel, spans: list[cp_model.IntervalVar], interpreters: int
) -> None:
    """CP-SAT form: at most ``interpreters`` interpreted (de-tr) events at once."""
    if spans:
        model.add_cumulative(spans, [1] * len(spans), interpreters)


class RoomsInUse:
    """Array form of both: how many events, and how many interpreted ones, run in each
    cell, and whether one more fits."""

    def __init__(self, conference: Conference, cells: int):
        self.rooms = np.zeros(cells, dtype=np.int32)
        self.interpreters = np.zeros(cells, dtype=np.int32)
        self.room_count = conference.resources.rooms
        self.interpreter_count = conference.resources.interpreters

    def put(self, event: PlannedEvent, cell: int, count: int = 1) -> None:
        """The event runs from ``cell`` (``count`` = -1 takes it out again)."""
        self.rooms[cell : cell + event.length] += count
        if event.interpreted:
            self.interpreters[cell : cell + event.length] += count

    def room_free(self, event: PlannedEvent, starts: np.ndarray) -> np.ndarray:
        """Per start: a room is free during the whole event."""
        ok = np.ones(len(starts), dtype=bool)
        for offset in range(event.length):
            ok &= self.rooms[starts + offset] < self.room_count
        return ok

    def interpreter_free(self, event: PlannedEvent, starts: np.ndarray) -> np.ndarray:
        """Per start: an interpreter is free during the whole event (always, when it needs
        none)."""
        ok = np.ones(len(starts), dtype=bool)
        if event.interpreted:
            for offset in range(event.length):
                ok &= self.interpreters[starts + offset] < self.interpreter_count
        return ok

    def fits(self, event: PlannedEvent, starts: np.ndarray) -> np.ndarray:
        """Per start: a room and, when it is interpreted, an interpreter are free."""
        return self.room_free(event, starts) & self.interpreter_free(event, starts)


def rooms_label(rooms: int) -> str:
    """Label: why an event found no room."""
    return "room capacity: " + ("1 room is full" if rooms == 1 else f"{rooms} rooms are full")


def interpreters_label(interpreters: int) -> str:
    """Label: why an interpreted event found no interpreter."""
    return "interpreters: " + (
        "1 interpreter is busy" if interpreters == 1 else f"{interpreters} interpreters are busy"
    )


# --- buffers: one thing at a time, buffer_minutes apart (checker: _check_buffers) ----------


def buffer_after(grid: TimeGrid) -> int:
    """The minutes a person needs free after each of their events (buffer_minutes)."""
    return grid.conference.calendar.buffer_minutes


def busy_minutes(grid: TimeGrid, duration: int) -> int:
    """The minutes an event of ``duration`` minutes keeps each of its people busy, the
    buffer after it included."""
    return duration + buffer_after(grid)


def busy_cells(grid: TimeGrid, duration: int) -> int:
    """Array form: the cells an event of ``duration`` minutes keeps each of its people
    busy, the buffer after it included: ceil((duration + buffer) / grid). Two events of
    one person are apart by the buffer iff these spans do not overlap."""
    return grid.cells_for(busy_minutes(grid, duration))


def most_in_run(grid: TimeGrid, cells: int, duration: int) -> int:
    """Bound form: how many events of ``duration`` minutes, each a buffer after the one
    before, fit in a run of ``cells`` free cells (the last one's buffer may lie beyond)."""
    return (cells * grid.grid + buffer_after(grid)) // busy_minutes(grid, duration)


def most_busy_minutes(grid: TimeGrid, runs: Sequence[int]) -> int:
    """Bound form: the most minutes a day's events, each with its buffer, can take in runs
    of free cells of these lengths: the free minutes, and the buffer after the last event
    of a run, which may reach past its end."""
    return sum(runs) * grid.grid + buffer_after(grid) * len(runs)


def spans_overlap(
    a_start: np.ndarray | int,
    a_cells: np.ndarray | int,
    b_start: np.ndarray | int,
    b_cells: np.ndarray | int,
) -> np.ndarray | bool:
    """Array form: events starting at ``a_start`` and ``b_start`` (cells) whose busy
    spans (``busy_cells``) overlap, i.e. they are *not* apart by the buffer (numpy
    broadcasting applies)."""
    return (a_start < b_start + b_cells) & (b_start < a_start + a_cells)


def clear_of(busy_run: np.ndarray, starts: np.ndarray, cells: int) -> np.ndarray:
    """Array form: per start, the span of ``cells`` from it holds none of a person's busy
    cells (``busy_run``: the cumulative count of their busy cells, one longer)."""
    ends = np.minimum(starts + cells, len(busy_run) - 1)
    return (busy_run[ends] - busy_run[starts]) == 0


def free_again(end: int, buffer: int) -> int:
    """Minute form: the earliest start of a person's next event after one ending at
    ``end``."""
    return end + buffer


def too_close(begin: int, end: int, other_begin: int, other_end: int, buffer: int) -> bool:
    """Minute form: two events of one person, [begin, end) and [other_begin, other_end),
    are not apart by the buffer."""
    return other_begin < free_again(end, buffer) and begin < free_again(other_end, buffer)


def add_apart_by_buffer(model: cp_model.CpModel, spans: list[cp_model.IntervalVar]) -> None:
    """CP-SAT form: one person's events (intervals of ``busy_cells``) are pairwise apart
    by the buffer."""
    if len(spans) > 1:
        model.add_no_overlap(spans)


def add_either_order(
    model: cp_model.CpModel,
    a: cp_model.LinearExprT,
    a_cells: int,
    b: cp_model.LinearExprT,
    b_cells: int,
    name: str,
) -> tuple[cp_model.IntVar, cp_model.IntVar]:
    """CP-SAT form, reified: two literals, "a ends (buffer included) before b starts"
    and "b before a"; apart by the buffer iff one of them holds."""
    before = model.new_bool_var(f"{name}: first before second")
    after = model.new_bool_var(f"{name}: second before first")
    model.add(a + a_cells <= b).only_enforce_if(before)
    model.add(b + b_cells <= a).only_enforce_if(after)
    return before, after


def add_apart_if(model: cp_model.CpModel, apart: CpLiteral, *attending: cp_model.IntVar) -> None:
    """CP-SAT form: when everything ``attending`` holds (someone attends both, or one
    while bound to the other), the two events are ``apart`` (``add_either_order``'s
    literal, or a truth known when both are fixed). With nothing attending: they must be."""
    if apart is True:
        return
    if apart is False:
        if len(attending) == 1:
            model.add(attending[0] == 0)
        else:
            model.add_bool_or([x.Not() for x in attending])
        return
    if len(attending) == 1:
        model.add_implication(attending[0], apart)
    else:
        model.add_bool_or([x.Not() for x in attending] + [apart])


def add_one_at_a_time(
    model: cp_model.CpModel, options: Sequence[tuple[int, int, cp_model.IntVar]], buffer: int
) -> None:
    """CP-SAT form for an attendee whose options' times are fixed: of the options
    (start, end in minutes, literal "attends") covering one moment, buffer included, at
    most one is taken (a sweep over the starts gives every such clique once)."""
    seen: set[tuple[int, ...]] = set()
    for point in sorted({start for start, _, _ in options}):
        clique = tuple(
            i
            for i, (start, end, _) in enumerate(options)
            if start <= point < free_again(end, buffer)
        )
        if len(clique) > 1 and clique not in seen:
            seen.add(clique)
            model.add_at_most_one(options[i][2] for i in clique)


def booked_label(role: str, pid: str, noun: str, eid: str, when: str) -> str:
    """Label: a host or delegate is already booked by another event then."""
    return f"{role} {pid} is already booked by the {noun} {eid} at {when}"


# --- events per day: at most max_events_per_day a local day (checker: _check_participants_days)


def day_full(count: int, cap: int) -> bool:
    """Array form: a person with ``count`` events on a local day can take no more."""
    return count >= cap


def add_daily_cap(model: cp_model.CpModel, items: Sequence[CpLiteral], cap: int) -> None:
    """CP-SAT form: at most ``cap`` of these (an event on the day, or attending it then)."""
    if len(items) > cap:
        model.add(sum(items) <= cap)


def add_date_literals(
    model: cp_model.CpModel,
    start: cp_model.LinearExprT,
    cells: Sequence[int],
    date_of: Callable[[int], Key],
    present: CpLiteral,
    name: str,
) -> dict[Key, CpLiteral]:
    """CP-SAT form of "on which local date": a literal per date (``date_of`` of a start
    cell) the event may fall on, exactly one of them true when it is ``present``. An event
    that can fall on one date only gets ``present`` itself."""
    groups: dict[Key, list[int]] = defaultdict(list)
    for cell in cells:
        groups[date_of(cell)].append(cell)
    if len(groups) == 1:
        return {next(iter(groups)): present}
    literals: dict[Key, CpLiteral] = {}
    for key, group in sorted(groups.items()):  # type: ignore[type-var]
        literal = model.new_bool_var(f"{name} on {key}")
        add_only_at(model, start, group, literal)
        literals[key] = literal
    if present is True:
        model.add_exactly_one(literals.values())  # type: ignore[arg-type]
    else:
        model.add(sum(literals.values()) == present)
    return literals


def add_both(
    model: cp_model.CpModel, attends: cp_model.IntVar, on_date: cp_model.IntVar, name: str
) -> cp_model.IntVar:
    """CP-SAT form: a literal that must hold when someone attends a session and it falls on
    that date (what the daily cap counts for an attendee)."""
    both = model.new_bool_var(name)
    model.add_bool_or([attends.Not(), on_date.Not(), both])
    return both


def daily_cap_label(role: str, pid: str, cap: int, day: str) -> str:
    """Label: a host or delegate has no place left that day."""
    return f"{role} {pid} already has {cap} events (max_events_per_day) on {day}"


# --- seats: at most capacity attendees, hosts included (checker: _check_session_attendance)


def add_seats(
    model: cp_model.CpModel, takers: Sequence[cp_model.IntVar], seats: int | None
) -> None:
    """CP-SAT form: at most ``seats`` of these attend (PlannedEvent.seats: the capacity
    less the hosts; None: no limit)."""
    if seats is not None and len(takers) > seats:
        model.add(sum(takers) <= seats)


def over_seats(takers: int, seats: int | None) -> bool:
    """Array form: more attendees than the session has seats."""
    return seats is not None and takers > seats


def full(takers: int, seats: int | None) -> bool:
    """Array form: no seat left."""
    return seats is not None and takers >= seats


# --- the solver's own label ----------------------------------------------------------------

NO_PLACE_FOUND = (
    "the solver found no place for it within the time limit (a longer time limit may place it)"
)

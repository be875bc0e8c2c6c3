"""Phase 1: when does each session and meeting take place (CP-SAT).

One optional interval per event over its allowed starts; rooms and interpreters are
cumulative resources; every host and delegate has a no-overlap over their events
(lengthened by the buffer) and a per-local-day count (each rule posted from rules.py).
The objective places partner meetings first, then new-contact meetings, then sessions,
then an estimate of the attended weight: for each session and start, the weight of
everyone who wants it and is free then, minus a penalty for sessions with a shared
audience that overlap.
"""

from __future__ import annotations

import time as clock
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
from ortools.sat.python import cp_model

from scheduler.model import Conference
from scheduler.solve.availability import Profile, TimeGrid
from scheduler.solve.cpsat import new_solver
from scheduler.solve.events import PlannedEvent
from scheduler.solve.greedy import GreedyPlacer
from scheduler.solve.rules import (
    CpLiteral,
    add_apart_by_buffer,
    add_daily_cap,
    add_date_literals,
    add_either_order,
    add_interpreters,
    add_rooms,
    busy_cells,
)


@dataclass
class PlacementResult:
    starts: dict[str, int]  # event id -> start cell, placed events only
    estimate: float  # the attendance estimate of this placement (proxy units)


def candidate_cells(grid: TimeGrid, event: PlannedEvent, step_minutes: int) -> list[int]:
    """The starts offered to the model: allowed cells on a coarser step when asked (any
    subset of the allowed starts keeps the schedule valid), all allowed cells otherwise."""
    cells = np.flatnonzero(event.allowed)
    if step_minutes > grid.grid and len(cells) > 1:
        aligned = cells[(cells * grid.grid) % step_minutes == 0]
        if len(aligned):
            cells = aligned
    return [int(c) for c in cells]


class _Reporter(cp_model.CpSolverSolutionCallback):
    """Reports each solution; with ``settle`` set, stops that many seconds after the first
    solution (a quick first placement, improved later with it as a hint)."""

    def __init__(self, notify: Callable[[float, float], None] | None, settle: float | None):
        super().__init__()
        self.notify = notify
        self.settle = settle
        self.first: float | None = None

    def on_solution_callback(self) -> None:
        now = clock.monotonic()
        if self.first is None:
            self.first = now
        if self.notify is not None:
            self.notify(self.objective_value, self.best_objective_bound)
        if self.settle is not None and now - self.first >= self.settle:
            self.stop_search()


class PlacementModel:
    """The phase-1 CP-SAT model, built once and solved in rounds with hints."""

    def __init__(
        self,
        conference: Conference,
        grid: TimeGrid,
        events: list[PlannedEvent],
        wanted: dict[str, list[tuple[str, int]]],
        step_minutes: int,
        conflict_pairs_per_session: int,
    ):
        self.conference = conference
        self.grid = grid
        self.events = events
        self.model = cp_model.CpModel()
        self.presence: dict[str, cp_model.IntVar] = {}
        self.start: dict[str, cp_model.IntVar] = {}
        self.cands: dict[str, list[int]] = {}
        self.values: dict[str, list[int]] = {}
        self._estimate_terms: list[tuple[int, cp_model.IntVar]] = []
        self.shared: dict[tuple[str, str], int] = {}
        for event in events:
            self.cands[event.id] = candidate_cells(grid, event, step_minutes)
        self.tables = self._attendance_tables(wanted)
        sessions = [e for e in events if e.session is not None]
        self._pairs = self._shared_audience(wanted, sessions, conflict_pairs_per_session)
        self._built = False

    def _ensure_built(self) -> None:
        """The CP-SAT model is built only when it is used (the greedy often suffices)."""
        if not self._built:
            self._build()
            self._built = True

    # -- building -------------------------------------------------------------------------
    def _build(self) -> None:
        """Post the hard rules (rules.py) over one optional interval per event."""
        m = self.model
        resources = self.conference.resources
        rooms: list[cp_model.IntervalVar] = []
        interpreted: list[cp_model.IntervalVar] = []
        busy: dict[str, list[cp_model.IntervalVar]] = defaultdict(list)
        per_day: dict[tuple[str, object], list[CpLiteral]] = defaultdict(list)
        for event in self.events:
            room_span, person_span = self._event_vars(event)
            rooms.append(room_span)
            if event.interpreted:
                interpreted.append(room_span)
            for pid in event.people:
                busy[pid].append(person_span)
            for key, literal in self._local_dates(event):
                per_day[key].append(literal)
        add_rooms(m, rooms, resources.rooms)
        add_interpreters(m, interpreted, resources.interpreters)
        for spans in busy.values():
            add_apart_by_buffer(m, spans)
        for literals in per_day.values():
            add_daily_cap(m, literals, self.conference.calendar.max_events_per_day)
        self._objective()

    def _event_vars(self, event: PlannedEvent) -> tuple[cp_model.IntervalVar, cp_model.IntervalVar]:
        """An event's presence and start, the interval it takes a room for, and the one
        it keeps its hosts or delegates busy (the buffer after it included)."""
        m = self.model
        present = m.new_bool_var(f"placed {event.id}")
        start = m.new_int_var_from_domain(
            cp_model.Domain.from_values(self.cands[event.id]), f"start {event.id}"
        )
        self.presence[event.id] = present
        self.start[event.id] = start
        room_span = m.new_optional_fixed_size_interval_var(
            start, event.length, present, f"in a room {event.id}"
        )
        person_span = m.new_optional_fixed_size_interval_var(
            start, busy_cells(self.grid, event.duration), present, f"busy {event.id}"
        )
        return room_span, person_span

    def _local_dates(self, event: PlannedEvent) -> list[tuple[tuple[str, object], CpLiteral]]:
        """Per host or delegate, a literal for each local date (in their zone) the event
        may fall on: what their daily cap counts."""
        people = self.conference.participants_by_id
        zones = sorted(
            {self.conference.city_of(people[p]).timezone for p in event.people if p in people}
        )
        if not zones:
            return []
        tzs = [ZoneInfo(z) for z in zones]
        literals = add_date_literals(
            self.model,
            self.start[event.id],
            self.cands[event.id],
            lambda cell: tuple(self.grid.local_date(cell, tz) for tz in tzs),
            self.presence[event.id],
            event.id,
        )
        found: list[tuple[tuple[str, object], CpLiteral]] = []
        for pid in event.people:
            if pid not in people:
                continue
            zone_index = zones.index(self.conference.city_of(people[pid]).timezone)
            for key, literal in literals.items():
                found.append(((pid, key[zone_index]), literal))
        return found

    def _attendance_tables(self, wanted: dict[str, list[tuple[str, int]]]) -> dict[str, np.ndarray]:
        """Per session: for every cell, the weight of the people who want it and are free."""
        grid = self.grid
        people = self.conference.participants_by_id
        tables: dict[str, np.ndarray] = {}
        for event in self.events:
            if event.session is None:
                continue
            by_profile: dict[Profile, int] = defaultdict(int)
            for pid, w in wanted.get(event.id, []):
                by_profile[grid.profile(people[pid])] += w
            table = np.zeros(grid.cells, dtype=np.int64)
            for profile, weight in by_profile.items():
                table += weight * grid.allowed_starts(profile, event.length)
            tables[event.id] = table
        return tables

    def _objective(self) -> None:
        m = self.model
        sessions = [e for e in self.events if e.session is not None]
        tables = self.tables
        terms: list[tuple[int, cp_model.IntVar]] = []
        value_total = 0
        for event in sessions:
            cands = self.cands[event.id]
            values = [int(tables[event.id][c]) for c in cands]
            self.values[event.id] = values
            top = max(values) if values else 0
            value_total += top
            if top == 0:
                continue
            value = m.new_int_var(0, top, f"estimate {event.id}")
            if len(cands) == 1:
                m.add(value == values[0]).only_enforce_if(self.presence[event.id])
            else:
                index = m.new_int_var(0, len(cands) - 1, f"start index {event.id}")
                m.add_element(index, cands, self.start[event.id])
                raw = m.new_int_var(0, top, f"estimate if placed {event.id}")
                m.add_element(index, values, raw)
                m.add(value <= raw)
            m.add(value <= top * self.presence[event.id])
            terms.append((1, value))
        penalty_total = 0
        for (a, b), shared in self._pairs:
            overlap = self._overlap_literal(a, b)
            terms.append((-shared, overlap))
            penalty_total += shared
        self._estimate_terms = list(terms)
        session_weight = value_total + penalty_total + 1
        contact_weight = session_weight * (len(sessions) + 1)
        nc = [e for e in self.events if e.kind == "new_contact_meeting"]
        partner_weight = contact_weight * (len(nc) + 1)
        for event in self.events:
            weight = {
                "partner_meeting": partner_weight,
                "new_contact_meeting": contact_weight,
            }.get(event.kind, session_weight)
            terms.append((weight, self.presence[event.id]))
        m.maximize(sum(c * v for c, v in terms))

    def _shared_audience(
        self,
        wanted: dict[str, list[tuple[str, int]]],
        sessions: list[PlannedEvent],
        per_session: int,
    ) -> list[tuple[tuple[PlannedEvent, PlannedEvent], int]]:
        """Pairs of sessions and Σ min(w_a, w_b) over people who want both: what is lost,
        at most, when they overlap. Only the strongest pairs per session are kept."""
        if len(sessions) < 2:
            return []
        index = {pid: i for i, pid in enumerate(sorted(self.conference.participants_by_id))}
        weights = np.zeros((len(index), len(sessions)), dtype=np.int32)
        for j, event in enumerate(sessions):
            for pid, w in wanted.get(event.id, []):
                weights[index[pid], j] = w
        shared = np.zeros((len(sessions), len(sessions)), dtype=np.int64)
        for level in range(1, int(weights.max(initial=0)) + 1):
            at_least = (weights >= level).astype(np.float32)
            shared += np.rint(at_least.T @ at_least).astype(np.int64)
        np.fill_diagonal(shared, 0)
        self.shared = {
            (sessions[i].id, sessions[j].id): int(shared[i, j])
            for i, j in zip(*np.nonzero(shared), strict=True)
        }
        chosen: set[tuple[int, int]] = set()
        for i in range(len(sessions)):
            order = np.argsort(-shared[i], kind="stable")[:per_session]
            for j in order:
                if shared[i, j] > 0:
                    chosen.add((min(i, int(j)), max(i, int(j))))
        return [((sessions[i], sessions[j]), int(shared[i, j])) for i, j in sorted(chosen)]

    def _overlap_literal(self, a: PlannedEvent, b: PlannedEvent) -> cp_model.IntVar:
        """True when a and b are not apart by the buffer (both placed)."""
        m = self.model
        before, after = add_either_order(
            m,
            self.start[a.id],
            busy_cells(self.grid, a.duration),
            self.start[b.id],
            busy_cells(self.grid, b.duration),
            f"{a.id} and {b.id}",
        )
        overlap = m.new_bool_var(f"{a.id} overlaps {b.id}")
        m.add_bool_or(
            [before, after, overlap, self.presence[a.id].negated(), self.presence[b.id].negated()]
        )
        return overlap

    # -- solving --------------------------------------------------------------------------
    def solve(
        self,
        seconds: float,
        workers: int,
        seed: int,
        deterministic: bool,
        hint: dict[str, int] | None,
        notify: Callable[[float, float], None] | None = None,
        settle: float | None = None,
    ) -> PlacementResult | None:
        self._ensure_built()
        self.model.clear_hints()
        if hint:
            for event in self.events:
                cell = hint.get(event.id)
                self.model.add_hint(self.presence[event.id], cell is not None)
                if cell is not None:
                    self.model.add_hint(self.start[event.id], cell)
        solver = new_solver(
            workers=workers, seed=seed, deterministic=deterministic, seconds=max(0.5, seconds)
        )
        status = solver.solve(self.model, _Reporter(notify, None if deterministic else settle))
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        starts = {
            e.id: int(solver.value(self.start[e.id]))
            for e in self.events
            if solver.boolean_value(self.presence[e.id])
        }
        estimate = float(sum(c * solver.value(v) for c, v in self._estimate_terms))
        return PlacementResult(starts=starts, estimate=estimate)

    def placer(self, wanted: dict[str, list[tuple[str, int]]], step_minutes: int) -> GreedyPlacer:
        """A greedy placer with the same estimate (greedy.py); it is fast enough to look at
        a finer step of starts than the CP-SAT model."""
        cands = {e.id: candidate_cells(self.grid, e, step_minutes) for e in self.events}
        return GreedyPlacer(
            self.conference, self.grid, self.events, cands, self.tables, self.shared, wanted
        )

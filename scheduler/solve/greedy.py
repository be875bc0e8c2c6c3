"""A quick placement that is good on its own: the first complete schedule within seconds,
and the hint CP-SAT starts from.

Events are put one by one at their best feasible start (hard rules, in their array form
from rules.py: rooms, interpreters, hosts'/delegates' buffers and per-day counts), then
each is taken out and put back at its best start given all the others, for a few passes
(never worse by the same measure). The measure estimates the attended weight:

- a session earns the weight of the people who want it and are free then (their local
  day, holidays, unavailability), less the weight of those among them already busy then
  (their meetings and hosted sessions), less Σ min(w_a, w_b) over people wanting it and an
  overlapping session (they can attend only one), less a little for sessions of a shared
  audience on the same day (the per-day cap);
- a meeting loses the weight of the sessions its delegates want that it would clash with.
"""

from __future__ import annotations

import time as clock
from collections import defaultdict
from zoneinfo import ZoneInfo

import numpy as np

from scheduler.model import Conference
from scheduler.solve.availability import TimeGrid
from scheduler.solve.events import PlannedEvent
from scheduler.solve.rules import RoomsInUse, busy_cells, clear_of, day_full, spans_overlap

SAME_DAY_SHARE = 0.15  # of the shared audience weight, per pair of sessions on one day
PASSES = 25


class GreedyPlacer:
    def __init__(
        self,
        conference: Conference,
        grid: TimeGrid,
        events: list[PlannedEvent],
        cands: dict[str, list[int]],
        tables: dict[str, np.ndarray],
        shared: dict[tuple[str, str], int],
        wanted: dict[str, list[tuple[str, int]]],
    ):
        self.conference = conference
        self.grid = grid
        self.events = {e.id: e for e in events}
        self.cands = {eid: np.array(c, dtype=np.int64) for eid, c in cands.items()}
        self.tables = tables
        # sessions as rows of a dense shared-audience matrix, for vectorised scoring
        self.session_ids = sorted(e.id for e in events if e.session is not None)
        self.session_index = {sid: i for i, sid in enumerate(self.session_ids)}
        self.shared_matrix = np.zeros((len(self.session_ids), len(self.session_ids)))
        for (a, b), weight in shared.items():
            if a in self.session_index and b in self.session_index:
                self.shared_matrix[self.session_index[a], self.session_index[b]] = weight
        self.session_cell = np.full(len(self.session_ids), -1, dtype=np.int64)
        self._runs: dict[str, np.ndarray] = {}
        self.max_per_day = conference.calendar.max_events_per_day
        self.people = conference.participants_by_id
        # the cells each event keeps its people busy, the buffer after it included
        self.personal = {e.id: busy_cells(grid, e.duration) for e in events}
        self.session_personal = np.array(
            [self.personal[sid] for sid in self.session_ids], dtype=np.int64
        )
        n = grid.cells + 1
        self.n = n
        self.in_use = RoomsInUse(conference, n)
        self.busy: dict[str, np.ndarray] = {}
        self.per_day: dict[tuple[str, int], int] = defaultdict(int)
        self.placed: dict[str, int] = {}
        self._zone_dates: dict[str, np.ndarray] = {}
        self.organiser_dates = self.dates_in(conference.timezone)
        # who must be somewhere (hosts, delegates) and what they want: their busy times
        # cost the sessions they want
        self.bound_people = sorted({p for e in events for p in e.people if p in self.people})
        bound = set(self.bound_people)
        self.busy_wanting: dict[str, list[tuple[str, int]]] = defaultdict(list)
        self.wants_of: dict[str, dict[str, int]] = defaultdict(dict)
        for sid, rows in wanted.items():
            for pid, w in rows:
                if pid in bound:
                    self.busy_wanting[sid].append((pid, w))
                    self.wants_of[pid][sid] = w
        for pid in self.bound_people:
            self.busy[pid] = np.zeros(n, dtype=bool)

    @property
    def rooms(self) -> np.ndarray:
        """Per cell, how many events run then."""
        return self.in_use.rooms

    @property
    def interpreters(self) -> np.ndarray:
        """Per cell, how many interpreted events run then."""
        return self.in_use.interpreters

    def dates_in(self, zone: str) -> np.ndarray:
        dates = self._zone_dates.get(zone)
        if dates is None:
            tz = ZoneInfo(zone)
            dates = np.array(
                [self.grid.local_date(c, tz).toordinal() for c in range(self.grid.cells + 1)],
                dtype=np.int64,
            )
            self._zone_dates[zone] = dates
        return dates

    def zone_of(self, pid: str) -> str:
        return self.conference.city_of(self.people[pid]).timezone

    def busy_run(self, pid: str) -> np.ndarray:
        """Cumulative count of a person's busy cells (cached until they change)."""
        run = self._runs.get(pid)
        if run is None:
            run = np.concatenate(([0], np.cumsum(self.busy[pid])))
            self._runs[pid] = run
        return run

    # -- hard rules ---------------------------------------------------------------------
    def feasible(self, event: PlannedEvent, cands: np.ndarray) -> np.ndarray:
        """Per candidate start: does the event fit beside what is placed (a room, an
        interpreter, its people free by the buffer, a place left in their day)."""
        ok = self.in_use.fits(event, cands)
        personal = self.personal[event.id]
        for pid in event.people:
            if pid not in self.busy:
                continue
            ok &= clear_of(self.busy_run(pid), cands, personal)
            days = self.dates_in(self.zone_of(pid))[cands]
            full = np.array([day_full(self.per_day[(pid, int(d))], self.max_per_day) for d in days])
            if len(full):
                ok &= ~full
        return ok

    def put(self, eid: str, cell: int) -> None:
        event = self.events[eid]
        self.placed[eid] = cell
        if eid in self.session_index:
            self.session_cell[self.session_index[eid]] = cell
        self.in_use.put(event, cell)
        for pid in event.people:
            if pid in self.busy:
                self._runs.pop(pid, None)
                self.busy[pid][cell : cell + self.personal[eid]] = True
                self.per_day[(pid, int(self.dates_in(self.zone_of(pid))[cell]))] += 1

    def take(self, eid: str) -> None:
        event = self.events[eid]
        cell = self.placed.pop(eid)
        if eid in self.session_index:
            self.session_cell[self.session_index[eid]] = -1
        self.in_use.put(event, cell, -1)
        for pid in event.people:
            if pid in self.busy:
                self._runs.pop(pid, None)
                self.busy[pid][cell : cell + self.personal[eid]] = False
                self.per_day[(pid, int(self.dates_in(self.zone_of(pid))[cell]))] -= 1

    # -- the measure --------------------------------------------------------------------
    def score(self, event: PlannedEvent, cands: np.ndarray) -> np.ndarray:
        personal = self.personal[event.id]
        if event.session is not None:
            score = self.tables[event.id][cands].astype(np.float64)
            for pid, w in self.busy_wanting.get(event.id, ()):
                if pid in event.people:
                    continue
                score -= w * ~clear_of(self.busy_run(pid), cands, personal)
            row = self.shared_matrix[self.session_index[event.id]]
            mask = (self.session_cell >= 0) & (row > 0)
            if mask.any():
                cells = self.session_cell[mask]
                lengths = self.session_personal[mask]
                weights = row[mask]
                overlapping = np.asarray(
                    spans_overlap(cands[:, None], personal, cells[None, :], lengths[None, :])
                )
                same_day = (
                    self.organiser_dates[cands][:, None] == self.organiser_dates[cells][None, :]
                )
                score -= overlapping.astype(np.float64) @ weights
                score -= SAME_DAY_SHARE * (same_day.astype(np.float64) @ weights)
            return score
        score = np.zeros(len(cands))
        for pid in event.people:
            for sid, w in self.wants_of.get(pid, {}).items():
                cell = self.placed.get(sid)
                if cell is None:
                    continue
                score -= w * spans_overlap(cands, personal, cell, self.personal[sid])
        for offset in range(event.length):
            score -= 1e-3 * self.rooms[cands + offset]
        return score

    def best_start(self, event: PlannedEvent) -> int | None:
        cands = self.cands[event.id]
        if not len(cands):
            return None
        ok = self.feasible(event, cands)
        if not ok.any():
            return None
        score = np.where(ok, self.score(event, cands), -np.inf)
        return int(cands[int(np.argmax(score))])  # the earliest of the best

    # -- the placement ------------------------------------------------------------------
    def order(self) -> list[PlannedEvent]:
        """Pinned sessions, partner meetings, new contacts, then sessions by how much
        they are wanted (the most constrained first among equals)."""
        kinds = {"partner_meeting": 1, "new_contact_meeting": 2}
        top = {eid: float(t.max(initial=0)) for eid, t in self.tables.items()}

        def priority(event: PlannedEvent) -> tuple:
            pinned = 0 if event.fixed_cell is not None else 1
            return (
                pinned,
                kinds.get(event.kind, 3),
                -top.get(event.id, 0.0),
                len(self.cands[event.id]),
                event.id,
            )

        return sorted(self.events.values(), key=priority)

    def run(self) -> dict[str, int]:
        """Put every event, in order, at its best start."""
        for event in self.order():
            cell = self.best_start(event)
            if cell is not None:
                self.put(event.id, cell)
        return dict(self.placed)

    def improve(self, deadline: float | None, passes: int = PASSES) -> dict[str, int]:
        """Take each event out and put it back at its best start, for a few passes; also
        tries again the events left out. Stops at ``deadline`` (None: no clock)."""
        for _ in range(passes):
            moved = 0
            for event in self.order():
                if deadline is not None and clock.monotonic() > deadline:
                    return dict(self.placed)
                if event.fixed_cell is not None and event.id in self.placed:
                    continue
                was = self.placed.get(event.id)
                if was is not None:
                    self.take(event.id)
                cell = self.best_start(event)
                if cell is None:
                    if was is not None:
                        self.put(event.id, was)
                    continue
                if was is not None:
                    pair = np.array([was, cell], dtype=np.int64)
                    scores = self.score(event, pair)
                    if scores[0] >= scores[1]:
                        cell = was  # keep unless strictly better
                self.put(event.id, cell)
                moved += cell != was
            if not moved:
                break
        return dict(self.placed)

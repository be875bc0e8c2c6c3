"""Phase 1, after the local search: CP-SAT rearranges a few sessions and meetings at once.

The local search moves one event at a time and stops in schedules where only a joint move
helps (two sessions trading places, a meeting stepping aside so that a session fits). Here
a handful of movable events placed on one or two organiser days are freed at once; CP-SAT
chooses their new starts within those days together with who attends the sessions of
those days, under the hard rules of the placement (posted from rules.py):

- rooms and interpreters (cumulative, with every other event as it is);
- hosts and delegates: no overlap including the buffer, the per-local-day count;
- attendees: only starts they are free at, one thing at a time including the buffer,
  the per-local-day count.

Everybody else's attendance stays as it is. CP-SAT maximises the local search's measure
(attended weight, capacities ignored but sessions with few seats weighted by their share,
improve.py) over the sessions in play; the result is then re-checked with the placer's
hard rules and taken only when that measure rises (never a step back). A small
conference is taken whole (``WHOLE_PROBLEM``).
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from scheduler.solve.cpsat import new_solver
from scheduler.solve.improve import LocalSearch
from scheduler.solve.rules import (
    CpLiteral,
    add_apart_if,
    add_both,
    add_daily_cap,
    add_date_literals,
    add_either_order,
    add_interpreters,
    add_only_at,
    add_rooms,
    add_seats,
    clear_of,
    spans_overlap,
)

# how many movable events are freed at once (their days' other sessions stay in play)
FREED = 12
# up to this many movable events, a rearrangement frees them all (CP-SAT then often
# proves the optimum of the local search's measure: bench/bench_exact.py)
WHOLE_PROBLEM = 50
# the local search's weights (seats folded in as a share) as whole numbers for CP-SAT
WEIGHT_SCALE = 100


@dataclass
class Neighbourhood:
    """What one rearrangement frees, and what it decides with them."""

    free: list[str]  # the events whose starts CP-SAT chooses
    days: set[int]  # the organiser days (ordinals) they may move within
    people: set[str]  # who wants a freed session or is bound to a freed event
    in_play: set[str]  # the freed events and every session of those days they want
    whole: bool  # every movable event freed, at any of its starts (the whole problem)


class Rearranger:
    """Large-neighbourhood steps on a placement kept by a LocalSearch."""

    def __init__(self, search: LocalSearch, seed: int):
        self.search = search
        self.placer = search.placer
        self.events = search.events
        self.random = random.Random(seed)
        self.rooms = search.conference.resources.rooms
        self.interpreters = search.conference.resources.interpreters
        self.work = 0.0  # CP-SAT's deterministic time spent so far (work, not seconds)
        self.last: cp_model.CpSolver | None = None  # the last solve, for its bound
        # a rearrangement of every movable event at once was solved to optimality: the
        # local search's measure cannot rise any more (a re-plan that moves one event)
        self.proven = False
        self.movable = sorted(e.id for e in self.events.values() if e.fixed_cell is None)
        self.wanting = search.wanting

    def day_of_event(self, eid: str) -> int:
        return int(self.placer.organiser_dates[self.placer.placed[eid]])

    def pick(self) -> list[str]:
        """A neighbourhood: up to FREED movable events of one or two organiser days, drawn
        at random (seeded)."""
        placed = [e for e in self.movable if e in self.placer.placed]
        if not placed:
            return []
        days = sorted({self.day_of_event(e) for e in placed})
        chosen_days = self.random.sample(days, min(len(days), self.random.choice((1, 2))))
        pool = [e for e in placed if self.day_of_event(e) in chosen_days]
        self.random.shuffle(pool)
        return sorted(pool[:FREED])

    def step(self, seconds: float, workers: int, seed: int, deterministic: bool) -> bool:
        """One neighbourhood: free it, solve, keep the result when it is better. A small
        conference is taken whole: every movable event at any of its starts."""
        placed = [e for e in self.movable if e in self.placer.placed]
        if self.proven:
            return False
        if 0 < len(placed) <= WHOLE_PROBLEM:
            return self.rearrange(placed, seconds, workers, seed, deterministic, anywhere=True)
        free = self.pick()
        if not free:
            return False
        return self.rearrange(free, seconds, workers, seed, deterministic)

    def rearrange(
        self,
        free: list[str],
        seconds: float,
        workers: int,
        seed: int,
        deterministic: bool,
        anywhere: bool = False,
    ) -> bool:
        """Free these events within their organiser days (``anywhere``: at any of their
        starts, every session in play: with every movable event freed this is the whole
        problem, seats as the local search keeps them; bench/bench_exact.py).
        Choose the neighbourhood, post the rules, read the new starts back; keep them
        when the local search's measure rises."""
        posted = RearrangeModel(self, self.neighbourhood(free, anywhere))
        if not posted.post():
            if posted.nothing_to_gain:
                self.proven = anywhere  # nobody wants what may move: nothing to gain
            return False
        new = self.read_back(posted, seconds, workers, seed, deterministic)
        return new is not None and self.apply(new)

    def neighbourhood(self, free: list[str], anywhere: bool) -> Neighbourhood:
        """The days the freed events may move within, and the sessions in play: the freed
        ones and every other session of those days that someone wanting a freed session
        (or bound to a freed event) also wants."""
        search, placer, events = self.search, self.placer, self.events
        days = (
            {int(d) for d in placer.organiser_dates}
            if anywhere
            else {self.day_of_event(e) for e in free}
        )
        free_set = set(free)
        people: set[str] = set()
        for eid in free:
            people.update(p for p, _ in self.wanting.get(eid, ()))
            people.update(p for p in events[eid].people if p in search.people)
        in_play = set(free)
        for sid, rows in self.wanting.items():
            if (
                sid in placer.placed
                and sid not in free_set
                and self.day_of_event(sid) in days
                and any(p in people for p, _ in rows)
            ):
                in_play.add(sid)
        return Neighbourhood(free, days, people, in_play, anywhere)

    def read_back(
        self, posted: RearrangeModel, seconds: float, workers: int, seed: int, deterministic: bool
    ) -> dict[str, int] | None:
        """Solve; the freed events' new starts when CP-SAT found a better measure."""
        solver = new_solver(
            workers=workers, seed=seed, deterministic=deterministic, seconds=seconds
        )
        status = solver.solve(posted.model)
        self.work += solver.response_proto.deterministic_time
        self.last = solver
        self.proven = posted.hood.whole and status == cp_model.OPTIMAL
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        if solver.objective_value <= posted.before_value + 0.5:
            return None
        return {eid: int(solver.value(posted.start[eid])) for eid in posted.hood.free}

    def apply(self, new: dict[str, int]) -> bool:
        """Move the events, checked against the placer's hard rules, and keep the move
        only when the local search's measure rises."""
        search, placer = self.search, self.placer
        old = {eid: placer.placed[eid] for eid in new}
        before = search.total()
        saved = search.snapshot()
        for eid in sorted(new):
            placer.take(eid)
        put: list[str] = []
        ok = True
        for eid in sorted(new, key=lambda e: (new[e], e)):
            at = np.array([new[eid]], dtype=np.int64)
            if not placer.feasible(self.events[eid], at)[0]:
                ok = False
                break
            placer.put(eid, new[eid])
            put.append(eid)
        if ok:
            keys: set[tuple[str, int]] = set()
            for eid, cell in new.items():
                keys.update(search.days_touched(eid, search.touched(eid), [old[eid], cell]))
            search.refresh(keys, sorted(new))
            if search.total() > before + 1e-9:
                return True
        for eid in put:
            placer.take(eid)
        for eid in sorted(old):
            placer.put(eid, old[eid])
        search.reset(saved)
        return False


class RearrangeModel:
    """The CP-SAT model of one neighbourhood, its hard rules posted from rules.py:
    rooms and interpreters over every event of its days; for hosts and delegates, apart by
    the buffer and the daily cap; for attendees, only starts they are free at, apart by
    the buffer, the daily cap. Everyone's other choices stay as the local search has
    them. The objective is the local search's measure over the sessions in play."""

    def __init__(self, rearranger: Rearranger, hood: Neighbourhood):
        self.search = rearranger.search
        self.placer = rearranger.placer
        self.events = rearranger.events
        self.room_count = rearranger.rooms
        self.interpreter_count = rearranger.interpreters
        self.hood = hood
        self.free_set = set(hood.free)
        self.model = cp_model.CpModel()
        self.start: dict[str, cp_model.LinearExprT] = {}
        self.cands: dict[str, list[int]] = {}
        self.attends: dict[str, set[str]] = {}
        self.separated: dict[tuple[str, str], CpLiteral] = {}
        self.date_literals: dict[tuple[str, str], dict[int, CpLiteral]] = {}
        self.objective: list[cp_model.LinearExprT] = []
        self.before_value = 0  # the measure of the current placement, in its units
        self.seat_takers: dict[str, list[cp_model.IntVar]] = defaultdict(list)
        self.nothing_to_gain = False  # nobody in play wants anything that may move

    def post(self) -> bool:
        """Build the model; False when there is nothing to gain (or, which cannot happen
        for a valid placement, the current one breaks a rule)."""
        self._starts()
        self._current_choices()
        self._rooms_and_interpreters()
        for pid in sorted(self.hood.people):
            if not self._person(pid):
                return False
        for sid, takers in sorted(self.seat_takers.items()):
            add_seats(self.model, takers, self.search.scarce[sid])
        if not self.objective:
            self.nothing_to_gain = True
            return False
        self.model.maximize(sum(self.objective))
        return True

    def personal(self, eid: str) -> int:
        return int(self.placer.personal[eid])

    # -- the events -----------------------------------------------------------------------
    def _starts(self) -> None:
        """A start variable for each freed event, over its candidate starts on the days in
        play (its current one among them, as a hint); the other events as they are."""
        placer, model = self.placer, self.model
        for eid in sorted(self.hood.in_play | self.free_set):
            now = placer.placed[eid]
            if eid not in self.free_set:
                self.start[eid] = now
                self.cands[eid] = [now]
                continue
            cells = [
                int(c)
                for c in placer.cands[eid]
                if int(placer.organiser_dates[c]) in self.hood.days
            ]
            if now not in cells:
                cells.append(now)
            self.cands[eid] = sorted(cells)
            var = model.new_int_var_from_domain(
                cp_model.Domain.from_values(self.cands[eid]), f"start {eid}"
            )
            model.add_hint(var, now)
            self.start[eid] = var

    def _current_choices(self) -> None:
        """Every person's current choices on the days in play (the local search's plan),
        for hints and for what stays fixed outside the play."""
        search, events = self.search, self.events
        lo = min(min(c) for c in self.cands.values())
        hi = max(max(c) + events[e].length for e, c in self.cands.items())
        self.lo, self.hi = lo, hi
        for pid in self.hood.people:
            self.attends[pid] = set()
            first, last = search.day_of(pid, lo), search.day_of(pid, hi)
            for day in search.days_with_options(pid):
                if first <= day <= last:
                    self.attends[pid].update(search.day_plan(pid, day)[1])

    def _rooms_and_interpreters(self) -> None:
        """Rooms and interpreters: freed events as intervals, the others of the time in
        play as they are."""
        model = self.model
        rooms, interpreted = [], []
        for eid, cell in self.placer.placed.items():
            event = self.events[eid]
            if eid in self.free_set:
                interval = model.new_fixed_size_interval_var(self.start[eid], event.length, eid)
            elif cell < self.hi and cell + event.length > self.lo:
                interval = model.new_fixed_size_interval_var(cell, event.length, eid)
            else:
                continue
            rooms.append(interval)
            if event.interpreted:
                interpreted.append(interval)
        add_rooms(model, rooms, self.room_count)
        add_interpreters(model, interpreted, self.interpreter_count)

    def apart(self, a: str, b: str) -> CpLiteral:
        """A literal true when a and b are apart by the buffer (true/false when fixed)."""
        key = (a, b) if a < b else (b, a)
        if key in self.separated:
            return self.separated[key]
        a, b = key
        value: CpLiteral
        if a not in self.free_set and b not in self.free_set:
            ca, cb = self.placer.placed[a], self.placer.placed[b]
            value = not spans_overlap(ca, self.personal(a), cb, self.personal(b))
        else:
            before, after = add_either_order(
                self.model,
                self.start[a],
                self.personal(a),
                self.start[b],
                self.personal(b),
                f"{a} and {b}",
            )
            value = self.model.new_bool_var(f"{a} apart from {b}")
            self.model.add_bool_or([before, after]).only_enforce_if(value)
        self.separated[key] = value
        return value

    def on_date(self, eid: str, pid: str) -> dict[int, CpLiteral]:
        """The local dates (in the person's zone) the event may fall on, as literals."""
        zone = self.placer.zone_of(pid)
        key = (eid, zone)
        if key not in self.date_literals:
            self.date_literals[key] = add_date_literals(
                self.model,
                self.start[eid],
                self.cands[eid],
                lambda cell: self.search.day_of(pid, cell),
                True,
                f"{eid} in {zone}",
            )
        return self.date_literals[key]

    # -- one person ------------------------------------------------------------------------
    def _person(self, pid: str) -> bool:
        """Post one person's rules; False when their current placement already breaks one
        (which cannot happen: the placement is valid)."""
        in_play = self.hood.in_play
        bound_to = [e for e in self.search.events_of.get(pid, ()) if e in in_play]
        run, fixed_count = self._kept_busy(pid)
        options = self._attend_options(pid, run)
        if not self._own_events_clear(bound_to, run):
            return False
        if not self._apart_by_buffer(bound_to, options):
            return False
        self._daily_cap(pid, bound_to, options, fixed_count)
        return True

    def _kept_busy(self, pid: str) -> tuple[np.ndarray, dict[int, int]]:
        """What stays fixed for a person outside the play (their other hosted or delegated
        events, the sessions they attend and keep): the cumulative count of its busy cells
        and how many of them fall on each local day."""
        placer, search, in_play = self.placer, self.search, self.hood.in_play
        kept = [
            eid
            for eid in search.events_of.get(pid, ())
            if eid not in self.free_set and eid not in in_play and eid in placer.placed
        ]
        kept += [
            sid for sid in self.attends[pid] if sid not in in_play and sid not in self.free_set
        ]
        busy = np.zeros(placer.n, dtype=bool)
        fixed_count: dict[int, int] = defaultdict(int)
        for eid in kept:
            cell = placer.placed[eid]
            busy[cell : cell + self.personal(eid)] = True
            fixed_count[search.day_of(pid, cell)] += 1
        return np.concatenate(([0], np.cumsum(busy))), fixed_count

    def _attend_options(self, pid: str, run: np.ndarray) -> list[tuple[str, cp_model.IntVar]]:
        """A literal "attends" for each session in play the person wants, allowed only at
        the starts they are free at (and clear of what they keep). Seats as the local
        search keeps them: a freed session with few seats gives them to any who want it
        (all of them are in play), one that stays keeps them for their holders."""
        search, model = self.search, self.model
        wants = search.wants_of.get(pid, {})
        options: list[tuple[str, cp_model.IntVar]] = []
        for sid in sorted(s for s in wants if s in self.hood.in_play):
            scarce = sid in search.scarce
            if scarce and sid not in self.free_set and pid not in search.holders[sid]:
                continue
            w = round(WEIGHT_SCALE * wants[sid])
            if not w:
                continue
            cands = np.array(self.cands[sid], dtype=np.int64)
            free = search.allowed(pid, self.events[sid].length)[cands]
            ok = cands[free & clear_of(run, cands, self.personal(sid))].tolist()
            if not ok:
                continue
            literal = model.new_bool_var(f"{pid} attends {sid}")
            if len(ok) < len(cands):
                add_only_at(model, self.start[sid], ok, literal)
            current = sid in self.attends[pid]
            model.add_hint(literal, current)
            self.before_value += w * current
            self.objective.append(w * literal)
            options.append((sid, literal))
            if scarce:
                self.seat_takers[sid].append(literal)
        return options

    def _own_events_clear(self, bound_to: list[str], run: np.ndarray) -> bool:
        """A host's or delegate's freed events only at starts clear of what they keep."""
        for eid in bound_to:
            if eid in self.free_set:
                cands = np.array(self.cands[eid], dtype=np.int64)
                ok = cands[clear_of(run, cands, self.personal(eid))].tolist()
                if not ok:
                    return False  # cannot happen: where it is now is clear of them
                add_only_at(self.model, self.start[eid], ok)
        return True

    def _apart_by_buffer(
        self, bound_to: list[str], options: list[tuple[str, cp_model.IntVar]]
    ) -> bool:
        """A person's own events apart from each other; what they attend apart from each
        other and from their own events."""
        for i, a in enumerate(bound_to):
            for b in bound_to[i + 1 :]:
                literal = self.apart(a, b)
                if literal is False:
                    return False  # cannot happen: the current placement is valid
                add_apart_if(self.model, literal)
        for i, (a, la) in enumerate(options):
            for b, lb in options[i + 1 :]:
                add_apart_if(self.model, self.apart(a, b), la, lb)
            for b in bound_to:
                add_apart_if(self.model, self.apart(a, b), la)
        return True

    def _daily_cap(
        self,
        pid: str,
        bound_to: list[str],
        options: list[tuple[str, cp_model.IntVar]],
        fixed_count: dict[int, int],
    ) -> None:
        """Per local day at most max_events_per_day, what they keep included."""
        per_day: dict[int, list[CpLiteral]] = defaultdict(list)
        for eid in bound_to:
            for day, literal in self.on_date(eid, pid).items():
                per_day[day].append(literal)
        for sid, attends in options:
            for day, literal in self.on_date(sid, pid).items():
                if isinstance(literal, bool):  # it can fall on this day only
                    per_day[day].append(attends)
                else:
                    name = f"{pid} attends {sid} on {day}"
                    per_day[day].append(add_both(self.model, attends, literal, name))
        for day, items in per_day.items():
            add_daily_cap(self.model, items, self.search.max_per_day - fixed_count.get(day, 0))


__all__ = ["Neighbourhood", "RearrangeModel", "Rearranger"]

"""Phase 1, after the local search: CP-SAT rearranges a few sessions and meetings at once.

The local search moves one event at a time and stops in schedules where only a joint move
helps (two sessions trading places, a meeting stepping aside so that a session fits). Here
a handful of movable events placed on one or two organiser days are freed at once; CP-SAT
chooses their new starts within those days together with who attends the sessions of
those days, under the hard rules of the placement:

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

import numpy as np
from ortools.sat.python import cp_model

from scheduler.solve.cpsat import new_solver
from scheduler.solve.improve import LocalSearch

# how many movable events are freed at once (their days' other sessions stay in play)
FREED = 12
# up to this many movable events, a rearrangement frees them all (CP-SAT then often
# proves the optimum of the local search's measure: bench/bench_exact.py)
WHOLE_PROBLEM = 50
# the local search's weights (seats folded in as a share) as whole numbers for CP-SAT
WEIGHT_SCALE = 100


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
        problem, capacities as the local search weighs them; bench/bench_exact.py)."""
        search, placer, events = self.search, self.placer, self.events
        days = (
            {int(d) for d in placer.organiser_dates}
            if anywhere
            else {self.day_of_event(e) for e in free}
        )
        free_set = set(free)
        # sessions in play: the freed ones and every other session of those days that
        # someone wanting a freed session (or bound to a freed event) also wants
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
        model = cp_model.CpModel()
        start: dict[str, cp_model.IntVar | int] = {}
        cands: dict[str, list[int]] = {}
        for eid in sorted(in_play | free_set):
            if eid in free_set:
                cells = [
                    int(c) for c in placer.cands[eid] if int(placer.organiser_dates[c]) in days
                ]
                if placer.placed[eid] not in cells:
                    cells.append(placer.placed[eid])
                cands[eid] = sorted(cells)
                var = model.new_int_var_from_domain(
                    cp_model.Domain.from_values(cands[eid]), f"start {eid}"
                )
                model.add_hint(var, placer.placed[eid])
                start[eid] = var
            else:
                start[eid] = placer.placed[eid]
                cands[eid] = [placer.placed[eid]]

        lo = min(min(c) for c in cands.values())
        hi = max(max(c) + events[e].length for e, c in cands.items())
        # every person's current choices on the days in play (the local search's plan),
        # for hints and for what stays fixed outside the play
        attends: dict[str, set[str]] = {}
        for pid in people:
            attends[pid] = set()
            first, last = search.day_of(pid, lo), search.day_of(pid, hi)
            for day in search.days_with_options(pid):
                if first <= day <= last:
                    attends[pid].update(search.day_plan(pid, day)[1])

        # rooms and interpreters: freed events as intervals, the others as they are
        room_intervals, interpreter_intervals = [], []
        for eid, cell in placer.placed.items():
            event = events[eid]
            if eid in free_set:
                interval = model.new_fixed_size_interval_var(start[eid], event.length, f"{eid}")
            elif cell < hi and cell + event.length > lo:
                interval = model.new_fixed_size_interval_var(cell, event.length, f"{eid}")
            else:
                continue
            room_intervals.append(interval)
            if event.interpreted:
                interpreter_intervals.append(interval)
        model.add_cumulative(room_intervals, [1] * len(room_intervals), self.rooms)
        if interpreter_intervals:
            model.add_cumulative(
                interpreter_intervals, [1] * len(interpreter_intervals), self.interpreters
            )

        def personal(eid: str) -> int:
            return int(placer.personal[eid])

        separated: dict[tuple[str, str], cp_model.IntVar | bool] = {}

        def apart(a: str, b: str) -> cp_model.IntVar | bool:
            """A literal true when a and b are apart by the buffer (true/false when fixed)."""
            key = (a, b) if a < b else (b, a)
            if key in separated:
                return separated[key]
            a, b = key
            if a not in free_set and b not in free_set:
                ca, cb = int(start[a]), int(start[b])
                value: cp_model.IntVar | bool = ca + personal(a) <= cb or cb + personal(b) <= ca
            else:
                before = model.new_bool_var(f"{a} before {b}")
                after = model.new_bool_var(f"{b} before {a}")
                model.add(start[a] + personal(a) <= start[b]).only_enforce_if(before)
                model.add(start[b] + personal(b) <= start[a]).only_enforce_if(after)
                value = model.new_bool_var(f"{a} apart from {b}")
                model.add_bool_or([before, after]).only_enforce_if(value)
            separated[key] = value
            return value

        date_literals: dict[tuple[str, str], dict[int, cp_model.IntVar | bool]] = {}

        def on_date(eid: str, pid: str) -> dict[int, cp_model.IntVar | bool]:
            """The local dates (in the person's zone) the event may fall on, as literals."""
            zone = placer.zone_of(pid)
            out = date_literals.get((eid, zone))
            if out is not None:
                return out
            dates = [search.day_of(pid, c) for c in cands[eid]]
            distinct = sorted(set(dates))
            if len(distinct) == 1:
                out = {distinct[0]: True}
            else:
                out = {}
                for day in distinct:
                    lit = model.new_bool_var(f"{eid} on {day} in {zone}")
                    cells = [c for c, d in zip(cands[eid], dates, strict=True) if d == day]
                    model.add_linear_expression_in_domain(
                        start[eid], cp_model.Domain.from_values(cells)
                    ).only_enforce_if(lit)
                    out[day] = lit
                model.add_exactly_one(out.values())
            date_literals[(eid, zone)] = out
            return out

        objective = []
        before_value = 0
        for pid in sorted(people):
            bound_to = [e for e in search.events_of.get(pid, ()) if e in in_play]
            # fixed busy times outside the play: their other hosted/delegated events and
            # the sessions they attend and keep
            busy = np.zeros(placer.n + 1, dtype=bool)
            fixed_count: dict[int, int] = defaultdict(int)
            for eid in search.events_of.get(pid, ()):
                if eid in free_set or eid in in_play or eid not in placer.placed:
                    continue
                cell = placer.placed[eid]
                busy[cell : cell + personal(eid)] = True
                fixed_count[search.day_of(pid, cell)] += 1
            for sid in attends[pid]:
                if sid in in_play or sid in free_set:
                    continue
                cell = placer.placed[sid]
                busy[cell : cell + personal(sid)] = True
                fixed_count[search.day_of(pid, cell)] += 1
            run = np.concatenate(([0], np.cumsum(busy)))
            options: list[tuple[str, cp_model.IntVar]] = []
            wants = search.wants_of.get(pid, {})
            for sid in sorted(s for s in wants if s in in_play):
                w = round(WEIGHT_SCALE * wants[sid])
                if not w:
                    continue
                length = events[sid].length
                allowed = search.allowed(pid, length)
                ok = [
                    c
                    for c in cands[sid]
                    if allowed[c] and run[min(c + personal(sid), placer.n)] == run[c]
                ]
                if not ok:
                    continue
                lit = model.new_bool_var(f"{pid} attends {sid}")
                if len(ok) < len(cands[sid]):
                    model.add_linear_expression_in_domain(
                        start[sid], cp_model.Domain.from_values(ok)
                    ).only_enforce_if(lit)
                model.add_hint(lit, sid in attends[pid])
                before_value += w * (sid in attends[pid])
                objective.append(w * lit)
                options.append((sid, lit))
            # the person's own events: apart from each other, and clear of what they keep
            for eid in bound_to:
                if eid in free_set:
                    ok = [c for c in cands[eid] if run[min(c + personal(eid), placer.n)] == run[c]]
                    if not ok:
                        return False  # cannot happen: where it is now is clear of them
                    model.add_linear_expression_in_domain(
                        start[eid], cp_model.Domain.from_values(ok)
                    )
            for i, a in enumerate(bound_to):
                for b in bound_to[i + 1 :]:
                    lit = apart(a, b)
                    if lit is False:
                        return False  # cannot happen: the current placement is valid
                    if lit is not True:
                        model.add_bool_or([lit])
            for i, (a, la) in enumerate(options):
                for b, lb in options[i + 1 :]:
                    lit = apart(a, b)
                    if lit is False:
                        model.add_bool_or([la.Not(), lb.Not()])
                    elif lit is not True:
                        model.add_bool_or([la.Not(), lb.Not(), lit])
                for b in bound_to:
                    lit = apart(a, b)
                    if lit is False:
                        model.add(la == 0)
                    elif lit is not True:
                        model.add_implication(la, lit)
            # per local day: at most max_events_per_day events
            per_day: dict[int, list] = defaultdict(list)
            for eid in bound_to:
                for day, lit in on_date(eid, pid).items():
                    per_day[day].append(lit)
            for sid, la in options:
                for day, lit in on_date(sid, pid).items():
                    if lit is True:
                        per_day[day].append(la)
                    else:
                        both = model.new_bool_var(f"{pid} attends {sid} on {day}")
                        model.add_bool_or([la.Not(), lit.Not(), both])
                        per_day[day].append(both)
            for day, items in per_day.items():
                room = search.max_per_day - fixed_count.get(day, 0)
                if len(items) > room:
                    model.add(sum(items) <= room)
        if not objective:
            self.proven = anywhere  # nobody wants what may move: nothing to gain
            return False
        model.maximize(sum(objective))
        solver = new_solver(
            workers=workers, seed=seed, deterministic=deterministic, seconds=seconds
        )
        status = solver.solve(model)
        self.work += solver.response_proto.deterministic_time
        self.last = solver
        self.proven = anywhere and status == cp_model.OPTIMAL
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return False
        if solver.objective_value <= before_value + 0.5:
            return False
        new = {eid: int(solver.value(start[eid])) for eid in free}
        return self.apply(new)

    def apply(self, new: dict[str, int]) -> bool:
        """Move the events, checked against the placer's hard rules, and keep the move
        only when the local search's measure rises."""
        search, placer = self.search, self.placer
        old = {eid: placer.placed[eid] for eid in new}
        before = search.total()
        saved = dict(search.value)
        for eid in sorted(new):
            placer.take(eid)
        put: list[str] = []
        ok = True
        for eid in sorted(new, key=lambda e: (new[e], e)):
            cell = np.array([new[eid]], dtype=np.int64)
            if not placer.feasible(self.events[eid], cell)[0]:
                ok = False
                break
            placer.put(eid, new[eid])
            put.append(eid)
        if ok:
            keys: set[tuple[str, int]] = set()
            for eid, cell in new.items():
                keys.update(search.days_touched(eid, search.touched(eid), [old[eid], cell]))
            search.set_values({key: search.day_value(*key) for key in sorted(keys)})
            if search.total() > before + 1e-9:
                return True
        for eid in put:
            placer.take(eid)
        for eid in sorted(old):
            placer.put(eid, old[eid])
        search.value = saved
        search.recount()
        return False


__all__ = ["Rearranger"]

"""Phase 2: with every time fixed, who attends which session.

Without capacities the problem falls apart into one small problem per participant and
local day: choose at most (max_events_per_day − their fixed events that day) sessions,
pairwise separated by the buffer and clear of their fixed events, of greatest weight. A
dynamic programme over the day's sessions sorted by end solves it exactly. Capacities
couple participants: full sessions are repaired by keeping the attendees who would lose
most elsewhere (ties: the less satisfied city first), and, when the model is small
enough, a CP-SAT model over every feasible (participant, session) pair improves the
result and then raises the worst city's satisfaction without giving up total weight.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from ortools.sat.python import cp_model

from scheduler.model import Conference
from scheduler.solve.availability import TimeGrid
from scheduler.solve.cpsat import new_solver
from scheduler.solve.events import PlannedEvent
from scheduler.solve.rules import (
    add_daily_cap,
    add_one_at_a_time,
    add_seats,
    day_full,
    free_again,
    free_to_start,
    full,
    over_seats,
    too_close,
)

# More than any day's attended weight (weights are at most 3, a day holds few events): a
# re-plan drops an entry someone already has only when it cannot stay.
KEEP_BONUS = 1000


@dataclass(frozen=True)
class Option:
    """A session a participant could attend: times in minutes from the grid's base."""

    session: str
    start: int
    end: int
    weight: int
    kept: bool = False  # on this person's published calendar, at the same time (re-plan)

    @property
    def gain(self) -> int:
        """What the day's plan earns by it: its weight, and far more when it was already on
        the person's calendar, so that a re-plan keeps every entry that still fits."""
        return self.weight + (KEEP_BONUS if self.kept else 0)


@dataclass
class PersonDay:
    """One participant's local day: what they could attend and how many more events fit."""

    participant: str
    city: str
    day: date
    room_left: int
    options: list[Option] = field(default_factory=list)


def person_days(
    conference: Conference,
    grid: TimeGrid,
    events: dict[str, PlannedEvent],
    starts: dict[str, int],
    wanted: dict[str, list[tuple[str, int]]],
    keep: frozenset[tuple[str, str]] = frozenset(),
) -> tuple[list[PersonDay], int]:
    """Every participant-day with options, and the weight hosts bring to their own sessions.
    ``keep`` holds the (participant, session) pairs a re-plan should keep (see Option.kept)."""
    people = conference.participants_by_id
    fixed: dict[str, list[tuple[int, int]]] = defaultdict(list)
    host_weight = 0
    for eid, cell in starts.items():
        event = events[eid]
        begin = cell * grid.grid
        for pid in event.people:
            fixed[pid].append((begin, begin + event.duration))
            if event.session is not None and pid in people:
                host_weight += conference.wanted_weight(people[pid], event.session)
    options = _options(conference, grid, events, starts, wanted, keep, fixed)
    fixed_per_day: dict[tuple[str, date], int] = defaultdict(int)
    for pid, spans in fixed.items():
        if pid not in people:
            continue
        zone = ZoneInfo(conference.city_of(people[pid]).timezone)
        for begin, _end in spans:
            fixed_per_day[(pid, grid.local_date(begin // grid.grid, zone))] += 1
    cap = conference.calendar.max_events_per_day
    days = []
    for (pid, day), opts in sorted(options.items()):
        count = fixed_per_day.get((pid, day), 0)
        if not day_full(count, cap):
            opts.sort(key=lambda o: (o.end, o.start, o.session))
            days.append(PersonDay(pid, people[pid].city_id, day, cap - count, opts))
    return days, host_weight


def _options(
    conference: Conference,
    grid: TimeGrid,
    events: dict[str, PlannedEvent],
    starts: dict[str, int],
    wanted: dict[str, list[tuple[str, int]]],
    keep: frozenset[tuple[str, str]],
    fixed: dict[str, list[tuple[int, int]]],
) -> dict[tuple[str, date], list[Option]]:
    """Per participant and local day, the placed sessions they want and could attend:
    free then, and apart by the buffer from their own (hosted, delegated) events."""
    buffer = conference.calendar.buffer_minutes
    people = conference.participants_by_id
    options: dict[tuple[str, date], list[Option]] = defaultdict(list)
    for eid in sorted(starts):
        event = events[eid]
        if event.session is None:
            continue
        cell = starts[eid]
        begin = cell * grid.grid
        end = begin + event.duration
        for pid, w in wanted.get(eid, []):
            person = people[pid]
            if not free_to_start(grid, person, event.length)[cell]:
                continue
            if any(too_close(begin, end, b, e, buffer) for b, e in fixed.get(pid, ())):
                continue
            zone = ZoneInfo(conference.city_of(person).timezone)
            options[(pid, grid.local_date(cell, zone))].append(
                Option(eid, begin, end, w, (pid, eid) in keep)
            )
    return options


def best_day(
    day: PersonDay, buffer: int, banned: set[str], price: Callable[[Option], float] | None = None
) -> tuple[float, list[str]]:
    """The heaviest set of at most ``room_left`` options, pairwise separated by the
    buffer (dynamic programme over options sorted by end)."""
    opts = [o for o in day.options if o.session not in banned]
    if not opts:
        return 0.0, []
    ends = [free_again(o.end, buffer) for o in opts]
    cap = day.room_left
    n = len(opts)
    # value[i][k]: best weight using the first i options and at most k of them
    value = [[0.0] * (cap + 1) for _ in range(n + 1)]
    take = [[False] * (cap + 1) for _ in range(n + 1)]
    previous = [bisect.bisect_right(ends, o.start) for o in opts]
    for i, option in enumerate(opts, start=1):
        gain = option.gain if price is None else price(option)
        row, before = value[i], value[i - 1]
        compatible = value[previous[i - 1]]
        for k in range(cap + 1):
            best = before[k]
            if k and gain > 0 and compatible[k - 1] + gain > best:
                row[k] = compatible[k - 1] + gain
                take[i][k] = True
            else:
                row[k] = best
    chosen: list[str] = []
    i, k = n, cap
    while i > 0 and k > 0:
        if take[i][k]:
            chosen.append(opts[i - 1].session)
            i, k = previous[i - 1], k - 1
        else:
            i -= 1
    return value[n][cap], sorted(chosen)


def assign(
    conference: Conference,
    events: dict[str, PlannedEvent],
    days: list[PersonDay],
    wanted_by_city: dict[str, int],
    host_weight_by_city: dict[str, int],
) -> dict[tuple[str, date], list[str]]:
    """Each participant's best days, then full sessions repaired (see module doc)."""
    seats = {eid: e.seats for eid, e in events.items() if e.seats is not None}
    repair = _SeatRepair(
        conference.calendar.buffer_minutes, days, seats, wanted_by_city, host_weight_by_city
    )
    return repair.run()


class _SeatRepair:
    """Sessions over their seats keep the attendees who would lose most elsewhere (ties:
    the city with less without it); the others re-plan without it, and full sessions are
    closed to later re-plans."""

    def __init__(
        self,
        buffer: int,
        days: list[PersonDay],
        seats: dict[str, int],
        wanted_by_city: dict[str, int],
        host_weight_by_city: dict[str, int],
    ):
        self.buffer = buffer
        self.seats = seats
        self.wanted_by_city = wanted_by_city
        self.host_weight_by_city = host_weight_by_city
        self.weight_of = {(d.participant, o.session): o.weight for d in days for o in d.options}
        self.gain_of = {(d.participant, o.session): o.gain for d in days for o in d.options}
        self.by_key = {(d.participant, d.day): d for d in days}
        self.banned: dict[tuple[str, date], set[str]] = defaultdict(set)
        self.closed: set[str] = set()
        self.plan: dict[tuple[str, date], list[str]] = {}
        for d in days:
            self.plan[(d.participant, d.day)] = best_day(d, buffer, set())[1]

    def run(self) -> dict[tuple[str, date], list[str]]:
        for _round in range(1000):
            load: dict[str, list[tuple[str, date]]] = defaultdict(list)
            for key, chosen in self.plan.items():
                for sid in chosen:
                    load[sid].append(key)
            over = sorted(
                sid for sid, keys in load.items() if over_seats(len(keys), self.seats.get(sid))
            )
            self.closed.update(
                sid for sid, keys in load.items() if full(len(keys), self.seats.get(sid))
            )
            if not over:
                break
            changed: set[tuple[str, date]] = set()
            attended_by_city = self._attended_by_city()
            for sid in over:
                changed |= self._give_up_seats(sid, load[sid], attended_by_city)
            # re-plan the changed days so they do not take seats in sessions already full
            for key in sorted(changed):
                keep = set(self.plan[key])
                self.plan[key] = best_day(
                    self.by_key[key], self.buffer, self.banned[key] | (self.closed - keep)
                )[1]
        self._drop_lightest()
        return self.plan

    def _attended_by_city(self) -> dict[str, int]:
        attended: dict[str, int] = defaultdict(int, self.host_weight_by_city)
        for (pid, day), chosen in self.plan.items():
            for sid in chosen:
                attended[self.by_key[(pid, day)].city] += self.weight_of[(pid, sid)]
        return attended

    def _give_up_seats(
        self, sid: str, keys: list[tuple[str, date]], attended_by_city: dict[str, int]
    ) -> set[tuple[str, date]]:
        """Keep the session's seats for those who would lose most without it; the others
        take their best plan without it. The days changed."""
        # the cities' shares without this session, so that a tie goes to the city that
        # has less without it
        share_base = dict(attended_by_city)
        for key in keys:
            share_base[self.by_key[key].city] -= self.weight_of[(key[0], sid)]
        ranked = []
        for key in keys:
            d = self.by_key[key]
            closed = self.closed - set(self.plan[key])
            now, _ = best_day(d, self.buffer, self.banned[key] | closed)
            without, alternative = best_day(d, self.buffer, self.banned[key] | {sid} | closed)
            city_share = share_base[d.city] / max(1, self.wanted_by_city.get(d.city, 1))
            ranked.append((-(now - without), city_share, key, alternative))
        ranked.sort(key=lambda r: (r[0], r[1], r[2]))
        changed = set()
        for _loss, _share, key, alternative in ranked[self.seats[sid] :]:
            self.banned[key].add(sid)
            self.plan[key] = alternative
            changed.add(key)
        return changed

    def _drop_lightest(self) -> None:
        """Safety net, should the repair not settle: drop the lightest attendees of full
        sessions."""
        seated: dict[str, list[tuple[int, tuple[str, date]]]] = defaultdict(list)
        for key, chosen in self.plan.items():
            for sid in chosen:
                seated[sid].append((self.gain_of[(key[0], sid)], key))
        for sid, rows in sorted(seated.items()):
            if over_seats(len(rows), self.seats.get(sid)):
                rows.sort(key=lambda r: (-r[0], r[1]))
                for _w, key in rows[self.seats[sid] :]:
                    self.plan[key] = [s for s in self.plan[key] if s != sid]


@dataclass
class _AttendanceModel:
    """The exact phase-2 model: a literal per (participant, day, session) option."""

    model: cp_model.CpModel
    chosen: dict[tuple[str, date, str], cp_model.IntVar]
    by_city: dict[str, list[tuple[int, cp_model.IntVar]]]
    total: cp_model.LinearExpr  # the attended weight
    kept: cp_model.LinearExpr  # how many published entries stay (a re-plan)


def _attendance_model(
    events: dict[str, PlannedEvent], days: list[PersonDay], buffer: int
) -> _AttendanceModel:
    """Post the rules for every attendee (the daily cap, one thing at a time buffer
    included) and every session (its seats)."""
    model = cp_model.CpModel()
    chosen: dict[tuple[str, date, str], cp_model.IntVar] = {}
    per_session: dict[str, list[cp_model.IntVar]] = defaultdict(list)
    by_city: dict[str, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
    total_terms = []
    kept_terms = []
    for d in days:
        lits = []
        for o in d.options:
            lit = model.new_bool_var(f"{d.participant} attends {o.session}")
            chosen[(d.participant, d.day, o.session)] = lit
            per_session[o.session].append(lit)
            by_city[d.city].append((o.weight, lit))
            total_terms.append((o.weight, lit))
            if o.kept:
                kept_terms.append(lit)
            lits.append((o.start, o.end, lit))
        add_daily_cap(model, [lit for _, _, lit in lits], d.room_left)
        add_one_at_a_time(model, lits, buffer)
    for sid, takers in per_session.items():
        add_seats(model, takers, events[sid].seats)
    total = cp_model.LinearExpr.weighted_sum(
        [lit for _, lit in total_terms], [w for w, _ in total_terms]
    )
    kept = cp_model.LinearExpr.sum(kept_terms)
    return _AttendanceModel(model, chosen, by_city, total, kept)


def improve_with_cp_sat(
    conference: Conference,
    events: dict[str, PlannedEvent],
    days: list[PersonDay],
    plan: dict[tuple[str, date], list[str]],
    host_weight_by_city: dict[str, int],
    wanted_by_city: dict[str, int],
    seconds: float,
    workers: int,
    seed: int,
    deterministic: bool,
    notify: Callable[[float], None] | None,
) -> dict[tuple[str, date], list[str]]:
    """Maximise attended weight with capacities exactly, then the worst city's
    satisfaction with the total held at the best found (a lexicographic second stage)."""
    posted = _attendance_model(events, days, conference.calendar.buffer_minutes)
    model, chosen, total, kept = posted.model, posted.chosen, posted.total, posted.kept
    for (pid, day, sid), lit in chosen.items():
        model.add_hint(lit, sid in plan.get((pid, day), ()))
    # a re-plan keeps what people already have first (as Option.gain does)
    model.maximize(total + KEEP_BONUS * kept)

    class Reporter(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            if notify is not None:
                notify(self.value(total))

    def run(share: float, report: bool = True) -> cp_model.CpSolver | None:
        solver = new_solver(
            workers=workers,
            seed=seed,
            deterministic=deterministic,
            seconds=max(0.2, seconds * share),
        )
        status = solver.solve(model, Reporter() if report else None)
        return solver if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None

    solver = run(0.7)
    if solver is None:
        return plan
    values = {key: solver.boolean_value(lit) for key, lit in chosen.items()}
    # second stage: the worst city as well off as possible, total weight kept
    if _fairest(posted, round(solver.objective_value), values, host_weight_by_city, wanted_by_city):
        second = run(0.3, report=False)  # its objective is not attended weight
        if second is not None:
            values = {key: second.boolean_value(lit) for key, lit in chosen.items()}
    result: dict[tuple[str, date], list[str]] = defaultdict(list)
    for (pid, day, sid), on in values.items():
        if on:
            result[(pid, day)].append(sid)
    return {key: sorted(v) for key, v in result.items()}


def _fairest(
    posted: _AttendanceModel,
    best: int,
    values: dict[tuple[str, date, str], bool],
    host_weight_by_city: dict[str, int],
    wanted_by_city: dict[str, int],
) -> bool:
    """Turn the model into its second stage: the worst city's satisfaction (scaled to
    1/10 000) maximised, the first stage's objective held at ``best``, hinted with its
    solution. False when there is no city to be fair to."""
    cities = sorted(c for c in wanted_by_city if wanted_by_city[c] > 0)
    if not cities:
        return False
    model = posted.model
    scale = 10_000
    worst = model.new_int_var(0, scale, "worst city satisfaction")
    for city in cities:
        attended = sum(
            w * lit for w, lit in posted.by_city.get(city, [])
        ) + host_weight_by_city.get(city, 0)
        model.add(worst * wanted_by_city[city] <= scale * attended)
    model.add(posted.total + KEEP_BONUS * posted.kept >= best)
    model.clear_hints()
    for key, lit in posted.chosen.items():
        model.add_hint(lit, values[key])
    model.maximize(worst)
    return True


def plan_weight(days: list[PersonDay], plan: dict[tuple[str, date], list[str]]) -> int:
    weights = {(d.participant, d.day, o.session): o.weight for d in days for o in d.options}
    return sum(weights[(pid, day, sid)] for (pid, day), sids in plan.items() for sid in sids)

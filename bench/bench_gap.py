"""Where does a schedule fall short of its bound?

    .venv/bin/python bench/bench_gap.py --size S --time-limit 300

Solves a generated conference (sizes of bench_solver.py; the schedule is checked by the
independent checker), then compares it with an optimal solution of the bound's
relaxation (bound.py): every (participant, session) pair the relaxation attends and the
schedule does not is put down to why, by role: the participant is not free when the
session was placed (their day hours, holidays, absences), the session's seats went to
others, or they are free but busy with another event or their day is full. Pairs the
schedule attends and the relaxation does not are counted against it; the net equals
bound − objective. The relaxation's optimum is one of possibly many, so the split
between kinds is indicative, the total is exact.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_solver import SIZES

KINDS = ("not free then", "seats went to others", "busy or day full")


def main() -> None:
    from scheduler.check import check
    from scheduler.generate import generate
    from scheduler.load import load_conference
    from scheduler.matchmaking import match
    from scheduler.solve import SolveOptions, solve
    from scheduler.solve.availability import TimeGrid
    from scheduler.solve.bound import attendance_bound
    from scheduler.solve.events import plan_events, wanted

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="S", choices=sorted(SIZES))
    parser.add_argument("--time-limit", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    cities, participants, sessions = SIZES[args.size]
    with tempfile.TemporaryDirectory() as tmp:
        generate(
            Path(tmp),
            cities=cities,
            participants=participants,
            sessions=sessions,
            seed=args.seed,
        )
        conference, _warnings = load_conference(Path(tmp))
    matchmaking = match(conference)
    schedule = solve(
        conference, matchmaking, SolveOptions(time_limit=args.time_limit, seed=args.seed)
    )
    assert check(conference, matchmaking, schedule) == []

    grid = TimeGrid(conference)
    planned = {e.id: e for e in plan_events(conference, matchmaking, grid)}
    placeable = [e for e in planned.values() if e.problem is None and e.is_session]
    meetings = [e for e in planned.values() if not e.is_session and e.id in schedule.events_by_id]
    wants = wanted(conference)
    weight = {(pid, sid): w for sid, rows in wants.items() for pid, w in rows}
    relaxed: set[tuple[str, str]] = set()
    bound = attendance_bound(conference, grid, placeable, meetings, wants, relaxed)
    attended = {(a.participant_id, a.event_id) for a in schedule.attendance if a.role == "attendee"}
    taken = defaultdict(int)
    for _pid, sid in attended:
        taken[sid] += 1
    people = conference.participants_by_id
    short: dict[tuple[str, str], int] = defaultdict(int)
    for pid, sid in sorted(relaxed - attended):
        event = planned[sid]
        placed = schedule.events_by_id.get(sid)
        person = people[pid]
        if placed is None:
            kind = "not free then"  # left out: nobody attends it
        elif not grid.allowed_starts(grid.profile(person), event.length)[
            round(grid.cell_at(placed.start))
        ]:
            kind = "not free then"
        elif event.seats is not None and taken[sid] >= event.seats:
            kind = "seats went to others"
        else:
            kind = "busy or day full"
        short[(person.role, kind)] += weight[(pid, sid)]
    beyond = sum(weight[pair] for pair in attended - relaxed)
    roles = sorted({role for role, _ in short})
    print(
        f"{args.size}: objective {schedule.objective:.0f}, bound {bound} "
        f"(reported {schedule.bound:.0f}), gap {schedule.gap:.2%}, {args.time_limit:.0f} s"
    )
    print("| role | " + " | ".join(KINDS) + " |")
    print("|---|" + "---|" * len(KINDS))
    for role in roles:
        print(f"| {role} | " + " | ".join(str(short.get((role, k), 0)) for k in KINDS) + " |")
    print(
        "| all | " + " | ".join(str(sum(short.get((r, k), 0) for r in roles)) for k in KINDS) + " |"
    )
    print(
        f"attended by the schedule, not by the relaxation: {beyond}; net shortfall "
        f"{sum(short.values()) - beyond} = bound − objective "
        f"{bound - schedule.objective:.0f}"
    )


if __name__ == "__main__":
    main()

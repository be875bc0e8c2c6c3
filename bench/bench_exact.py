"""How far is the solver from the true optimum, and how far is its bound?

    .venv/bin/python bench/bench_exact.py

On generated conferences small enough for CP-SAT to solve the whole problem (every
session and meeting free at every allowed start, every participant's attendance, the
buffer and per-day counts), with capacities removed so that the local search's measure is
exactly the attended weight: the solver's schedule (time limit ``--time-limit``, checked
by the independent checker) against CP-SAT's best schedule and proven bound for the same
conference (``--exact-seconds``, starting from the solver's schedule), and the solver's
own bound (bound.py). The last size is the S conference of bench_solver.py without
capacities, where CP-SAT cannot finish.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = [(12, 80, 12), (16, 120, 16), (20, 150, 20), (40, 300, 40)]


def run(cities: int, participants: int, sessions: int, seed: int, limit: float, exact: float):
    from scheduler.check import check
    from scheduler.generate import generate
    from scheduler.load import load_conference
    from scheduler.matchmaking import match
    from scheduler.solve import SolveOptions, solve
    from scheduler.solve.attendance import person_days
    from scheduler.solve.availability import TimeGrid
    from scheduler.solve.events import plan_events, wanted
    from scheduler.solve.improve import LocalSearch
    from scheduler.solve.placement import PlacementModel
    from scheduler.solve.rearrange import WEIGHT_SCALE, Rearranger

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        generate(folder, cities=cities, participants=participants, sessions=sessions, seed=seed)
        path = folder / "sessions.csv"
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        for row in rows:
            row["capacity"] = ""
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        conference, _warnings = load_conference(folder)
    matchmaking = match(conference)
    schedule = solve(conference, matchmaking, SolveOptions(time_limit=limit, seed=seed))
    violations = len(check(conference, matchmaking, schedule))

    # the whole problem as one CP-SAT model, from the solver's schedule
    grid = TimeGrid(conference)
    planned = [e for e in plan_events(conference, matchmaking, grid) if e.problem is None]
    wants = wanted(conference)
    model = PlacementModel(
        conference, grid, planned, wants, step_minutes=grid.grid, conflict_pairs_per_session=0
    )
    placer = model.placer(wants, grid.grid)
    for event in schedule.events:
        placer.put(event.event_id, round(grid.cell_at(event.start)))
    # hosts' weight on their own sessions: the same for every placement of all sessions
    _days, hosts_own = person_days(
        conference, grid, {e.id: e for e in planned}, dict(placer.placed), wants
    )
    search = LocalSearch(conference, placer, wants, seed)
    rearranger = Rearranger(search, seed)
    movable = sorted(e.id for e in planned if e.fixed_cell is None and e.id in placer.placed)
    started = time.monotonic()
    rearranger.rearrange(movable, exact, 2, seed, False, anywhere=True)
    solver = rearranger.last
    assert solver is not None
    best = max(schedule.objective, solver.objective_value / WEIGHT_SCALE + hosts_own)
    proven = solver.best_objective_bound / WEIGHT_SCALE + hosts_own
    return {
        "size": f"{cities} / {participants} / {sessions}",
        "events": len(planned),
        "objective": schedule.objective,
        "flow bound": schedule.bound,
        "violations": violations,
        "status": solver.status_name(solver.response_proto.status),
        "best": best,
        "proven": min(proven, schedule.bound),
        "seconds": time.monotonic() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--exact-seconds", type=float, default=180.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(
        "| cities / participants / sessions | events | solver | its bound | gap "
        "| CP-SAT whole problem | best known | proven bound | solver vs proven "
        "| its bound vs proven | violations |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for cities, participants, sessions in SIZES:
        r = run(cities, participants, sessions, args.seed, args.time_limit, args.exact_seconds)
        gap = (r["flow bound"] - r["objective"]) / r["flow bound"]
        behind = (r["proven"] - r["objective"]) / r["proven"]
        loose = (r["flow bound"] - r["proven"]) / r["proven"]
        print(
            f"| {r['size']} | {r['events']} | {r['objective']:.0f} | {r['flow bound']:.0f} "
            f"| {gap:.2%} | {r['status']} in {r['seconds']:.0f} s | {r['best']:.0f} "
            f"| {r['proven']:.0f} | ≤ {behind:.2%} | {loose:.2%} | {r['violations']} |",
            flush=True,
        )


if __name__ == "__main__":
    main()

"""Benchmark the solver on generated conferences (sizes S, M, L).

    .venv/bin/python bench/bench_solver.py --sizes S,M --time-limit 60

Each size runs in its own process (so peak memory is that size's), generates a
conference with scheduler.generate, solves it with the given time limit and records
every complete schedule the solver reports. Printed per size: time to the first
complete schedule, objective / bound / gap of the best schedule known at 10, 60 and
300 s (or the time limit), satisfaction, worst city, peak memory, checker violations.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# BENCH_CODE: solve with the scheduler package of another checkout (bench_shapes.py --code)
sys.path.insert(0, os.environ.get("BENCH_CODE") or str(ROOT))

SIZES = {"S": (40, 300, 40), "M": (160, 1000, 120), "L": (400, 5000, 400)}
MARKS = (10.0, 60.0, 300.0)
COMPLETE = ("schedule", "attendance", "done")


def run_one(size: str, time_limit: float, seed: int, workers: int | None, skip_check: bool) -> dict:
    from scheduler.generate import generate

    cities, participants, sessions = SIZES[size]
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp), cities=cities, participants=participants, sessions=sessions, seed=seed)
        result = solve_folder(Path(tmp), time_limit, seed, workers, skip_check)
    return {"size": size, **result}


def solve_folder(
    folder: Path, time_limit: float, seed: int, workers: int | None, skip_check: bool
) -> dict:
    """Load, match and solve one input folder; the figures every benchmark table shows."""
    from scheduler.check import check
    from scheduler.load import load_conference
    from scheduler.matchmaking import match
    from scheduler.model import satisfaction
    from scheduler.solve import Progress, SolveOptions, solve

    conference, _warnings = load_conference(folder)
    matchmaking = match(conference)
    lines: list[Progress] = []
    options = SolveOptions(time_limit=time_limit, seed=seed, progress=lines.append)
    if workers:
        options = SolveOptions(
            time_limit=time_limit, seed=seed, workers=workers, progress=lines.append
        )
    started = time.monotonic()
    schedule = solve(conference, matchmaking, options)
    wall = time.monotonic() - started
    complete = [p for p in lines if p.phase in COMPLETE]
    marks = {}
    for mark in [m for m in MARKS if m <= time_limit + 1]:
        known = [p for p in complete if p.elapsed <= mark]
        if known:
            # the best schedule known then, against the best bound proven by then
            best = max(known, key=lambda p: p.objective)
            bound = min(p.bound for p in known)
            marks[str(int(mark))] = {
                "objective": best.objective,
                "bound": bound,
                "gap": 0.0 if bound <= 0 else max(0.0, (bound - best.objective) / bound),
            }
    sat = satisfaction(conference, schedule)
    worst = sat.worst_city
    violations = None if skip_check else len(check(conference, matchmaking, schedule))
    return {
        "events": len(conference.sessions) + len(matchmaking.meetings),
        "meetings": len(matchmaking.meetings),
        "rooms": conference.resources.rooms,
        "interpreters": conference.resources.interpreters,
        "unscheduled": len(schedule.unscheduled),
        "first_schedule_s": complete[0].elapsed if complete else None,
        "wall_s": wall,
        "objective": schedule.objective,
        "bound": schedule.bound,
        "gap": schedule.gap,
        "status": schedule.status,
        "marks": marks,
        "satisfaction": sat.overall,
        "worst_city": f"{worst[0]} {worst[1]:.3f}" if worst else "-",
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "violations": violations,
    }


def table(results: list[dict]) -> str:
    head = (
        "| size | events (meetings) | unscheduled | first schedule | objective | bound | gap "
        "| gap@10s | gap@60s | gap@300s | satisfaction | worst city | peak MiB | violations |"
    )
    rows = [head, "|" + "---|" * 14]
    for r in results:
        gaps = [
            f"{r['marks'][m]['gap']:.2%}" if m in r["marks"] else "-" for m in ("10", "60", "300")
        ]
        first = f"{r['first_schedule_s']:.1f} s" if r["first_schedule_s"] is not None else "-"
        rows.append(
            f"| {r['size']} | {r['events']} ({r['meetings']}) | {r['unscheduled']} | {first} "
            f"| {r['objective']:.0f} | {r['bound']:.0f} | {r['gap']:.2%} | {' | '.join(gaps)} "
            f"| {r['satisfaction']:.3f} | {r['worst_city']} | {r['peak_mib']:.0f} "
            f"| {r['violations'] if r['violations'] is not None else '-'} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="S,M,L", help="comma-separated, of S, M, L")
    parser.add_argument("--time-limit", type=float, default=300.0, help="seconds per solve")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--skip-check", action="store_true", help="do not run the checker")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)  # for bench_shapes.py
    args = parser.parse_args()
    if args.folder:
        print(
            json.dumps(
                solve_folder(args.folder, args.time_limit, args.seed, args.workers, args.skip_check)
            )
        )
        return
    if args.one:
        print(
            json.dumps(run_one(args.one, args.time_limit, args.seed, args.workers, args.skip_check))
        )
        return
    results = []
    for size in [s.strip().upper() for s in args.sizes.split(",") if s.strip()]:
        if size not in SIZES:
            parser.error(f"unknown size {size!r}: choose from {', '.join(SIZES)}")
        command = [sys.executable, __file__, "--one", size, "--time-limit", str(args.time_limit)]
        command += ["--seed", str(args.seed)]
        if args.workers:
            command += ["--workers", str(args.workers)]
        if args.skip_check:
            command.append("--skip-check")
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"size {size} failed:\n{done.stderr}", file=sys.stderr)
            continue
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"{size}: done in {results[-1]['wall_s']:.0f} s", file=sys.stderr)
    print(f"time limit {args.time_limit:.0f} s per solve, seed {args.seed}")
    print(table(results))


if __name__ == "__main__":
    main()

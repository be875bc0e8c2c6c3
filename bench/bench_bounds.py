"""The proven bounds side by side on conferences of many shapes (bench_shapes.py's).

    .venv/bin/python bench/bench_bounds.py --sizes S --seeds 1 --lagrange-seconds 20

For each shape x size x seed: the transportation bound (min-cost flow), the capacity LP
(GLOP) and the Lagrangian (subgradient steps for the given seconds from the
transportation dual, towards 90 % of the transportation bound: no schedule is computed
here; --step scales the first steps), each with its time. Every meeting that can be placed is taken as held. Every
figure is a bound valid for every schedule holding those meetings (docs/solver.md).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_shapes import SHAPES, SIZES

from scheduler.generate import generate
from scheduler.load import load_conference
from scheduler.matchmaking import match
from scheduler.solve.availability import TimeGrid
from scheduler.solve.bound import attendance_bound, capacity_bound
from scheduler.solve.events import plan_events, wanted
from scheduler.solve.lagrange import LagrangianBound


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--sizes", default="S")
    parser.add_argument("--seeds", default="1")
    parser.add_argument("--lagrange-seconds", type=float, default=20.0)
    parser.add_argument(
        "--step", type=float, default=1.0, help="the Lagrangian's first share of Polyak's step"
    )
    args = parser.parse_args()
    print(
        "| shape | size | seed | transportation | s | capacity LP | s "
        "| Lagrangian (iterations) | s |"
    )
    print("|" + "---|" * 9)
    for size in [s.strip().upper() for s in args.sizes.split(",")]:
        for shape in [s.strip() for s in args.shapes.split(",")]:
            for seed in [int(s) for s in args.seeds.split(",")]:
                cities, participants, sessions = SIZES[size]
                with tempfile.TemporaryDirectory() as tmp:
                    generate(
                        Path(tmp),
                        cities=cities,
                        participants=participants,
                        sessions=sessions,
                        seed=seed,
                        shape=SHAPES[shape],
                    )
                    conference, _ = load_conference(Path(tmp))
                grid = TimeGrid(conference)
                planned = plan_events(conference, match(conference), grid)
                placeable = [e for e in planned if e.problem is None]
                held = [e for e in placeable if not e.is_session]
                chosen = [e for e in placeable if e.is_session]
                wants = wanted(conference)
                figures = []
                started = time.monotonic()
                transport = attendance_bound(conference, grid, chosen, held, wants)
                figures += [f"{transport}", f"{time.monotonic() - started:.1f}"]
                started = time.monotonic()
                capacity = capacity_bound(conference, grid, chosen, held, wants)
                figures += [f"{capacity}", f"{time.monotonic() - started:.1f}"]
                started = time.monotonic()
                lagrangian = LagrangianBound(conference, grid, chosen, held, wants)
                result = lagrangian.run(
                    target=0.9 * transport, seconds=args.lagrange_seconds, step=args.step
                )
                figures += [
                    f"{result.bound} ({result.iterations})",
                    f"{time.monotonic() - started:.1f}",
                ]
                print(f"| {shape} | {size} | {seed} | " + " | ".join(figures) + " |", flush=True)


if __name__ == "__main__":
    main()

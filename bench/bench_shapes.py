"""Benchmark the solver on conferences of many shapes (`scheduler generate`'s options).

    .venv/bin/python bench/bench_shapes.py                       # the whole suite
    .venv/bin/python bench/bench_shapes.py --sizes S --seeds 1 --time-limit 30
    .venv/bin/python bench/bench_shapes.py --code /work/main     # another checkout's solver
    .venv/bin/python bench/bench_shapes.py --compare before.json after.json

Every shape x size x seed is generated with this checkout's generator into a temporary
folder and solved in its own process (so the peak memory is that run's), by this
checkout's solver or, with --code, by the scheduler package of another checkout (to put
today's solver beside a new one on the same conferences). From one run's progress trace:
the gap of the best schedule known at 10 / 60 / 300 s against the best bound proven by
then, the time to the first complete schedule; then the final objective, bound and gap,
satisfaction, worst city, peak memory and the checker's violations. One table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scheduler.generate import Shape, generate

SIZES = {"S": (40, 300, 40), "M": (160, 1000, 120), "L": (400, 5000, 400)}  # bench_solver's

DEFAULT = Shape()
SHAPES: dict[str, Shape] = {
    # the generator as it always was
    "default": DEFAULT,
    # most people want most themes (weights 1-3), seats limited on most workshops, 60 %
    # interpreted, youth-only workshops: the shape of the issue's 20 % conference
    "keen": replace(
        DEFAULT,
        themes_per_person=(0, 0, 1, 2, 2),
        interest_weights=(1, 2, 3),
        capacity_percent=80,
        capacity_seats=(10, 15, 20),
        interpreted_percent=60,
        youth_only_percent=60,
        max_wanted=30,
    ),
    # half as many rooms and fewer interpreters for the same events
    "scarce": replace(DEFAULT, room_hours=80, interpreter_hours=90),
    # half the participants youth (afternoons only), most youth workshops youth-only
    "youth": replace(DEFAULT, youth_percent=50, youth_only_percent=60),
    # nearly every workshop has few seats
    "seats": replace(DEFAULT, capacity_percent=90, capacity_seats=(5, 8, 12)),
    # everybody wants one theme, few sessions, mostly single-language workshops
    "light": replace(DEFAULT, themes_per_person=(1,), max_wanted=8, interpreted_percent=20),
}
MARKS = ("10", "60", "300")


def table(results: list[dict]) -> str:
    head = (
        "| shape | size | seed | rooms / interpreters | first schedule | objective | bound "
        "| gap | gap@10s | gap@60s | gap@300s | satisfaction | worst city | peak MiB "
        "| unscheduled | violations |"
    )
    rows = [head, "|" + "---|" * 16]
    for r in results:
        gaps = [f"{r['marks'][m]['gap']:.2%}" if m in r["marks"] else "-" for m in MARKS]
        first = f"{r['first_schedule_s']:.1f} s" if r["first_schedule_s"] is not None else "-"
        rows.append(
            f"| {r['shape']} | {r['size']} | {r['seed']} | {r['rooms']} / {r['interpreters']} "
            f"| {first} | {r['objective']:.0f} | {r['bound']:.0f} | {r['gap']:.2%} "
            f"| {' | '.join(gaps)} | {r['satisfaction']:.3f} | {r['worst_city']} "
            f"| {r['peak_mib']:.0f} | {r['unscheduled']} "
            f"| {r['violations'] if r['violations'] is not None else '-'} |"
        )
    return "\n".join(rows)


def compare(before: list[dict], after: list[dict]) -> str:
    """Two runs of the suite side by side (before → after), matched by shape, size, seed."""
    head = (
        "| shape | size | seed | objective | bound | gap | gap@10s | gap@60s | gap@300s "
        "| first schedule | satisfaction | worst city | peak MiB | unscheduled |"
    )
    rows = [head, "|" + "---|" * 14]
    earlier = {(r["shape"], r["size"], r["seed"]): r for r in before}
    for r in after:
        b = earlier.get((r["shape"], r["size"], r["seed"]))
        if b is None:
            continue

        def both(key: str, form: str, a: dict = b, n: dict = r) -> str:
            return f"{format(a[key], form)} → {format(n[key], form)}"

        def mark(m: str, a: dict = b, n: dict = r) -> str:
            if m not in a["marks"] or m not in n["marks"]:
                return "-"
            return f"{a['marks'][m]['gap']:.2%} → {n['marks'][m]['gap']:.2%}"

        rows.append(
            f"| {r['shape']} | {r['size']} | {r['seed']} | {both('objective', '.0f')} "
            f"| {both('bound', '.0f')} | {both('gap', '.2%')} | {mark('10')} | {mark('60')} "
            f"| {mark('300')} | {both('first_schedule_s', '.1f')} s "
            f"| {both('satisfaction', '.3f')} | {b['worst_city']} → {r['worst_city']} "
            f"| {both('peak_mib', '.0f')} | {both('unscheduled', 'd')} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated")
    parser.add_argument("--sizes", default="S,M", help="comma-separated, of S, M, L")
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds")
    parser.add_argument(
        "--large-shape", default="keen", help="the shape also run at L ('' for none)"
    )
    parser.add_argument(
        "--time-limit",
        default="S=30,M=60,L=300",
        help="seconds per solve: one number, or per size as S=30,M=60,L=300",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-check", action="store_true", help="do not run the checker")
    parser.add_argument("--code", type=Path, help="solve with the scheduler of this checkout")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument(
        "--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"),
        help="print two --json files side by side instead of running",
    )  # fmt: skip
    args = parser.parse_args()
    if args.compare:
        before, after = (json.loads(f.read_text(encoding="utf-8")) for f in args.compare)
        print(compare(before, after))
        return
    limits = _limits(args.time_limit, parser)
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    for name in shapes + ([args.large_shape] if args.large_shape else []):
        if name not in SHAPES:
            parser.error(f"unknown shape {name!r}: choose from {', '.join(SHAPES)}")
    sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    runs = [(shape, size) for size in sizes if size != "L" for shape in shapes]
    if args.large_shape and "L" in sizes:
        runs.append((args.large_shape, "L"))
    results = []
    for shape, size in runs:
        for seed in [int(s) for s in args.seeds.split(",") if s.strip()]:
            result = _run(shape, size, seed, limits[size], args)
            if result is not None:
                results.append(result)
                print(
                    f"{shape} {size} seed {seed}: gap {result['gap']:.2%} "
                    f"in {result['wall_s']:.0f} s",
                    file=sys.stderr,
                )
    code = args.code or ROOT
    print(f"solver of {code}; time limits {args.time_limit}; {args.workers} workers")
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


def _limits(text: str, parser: argparse.ArgumentParser) -> dict[str, float]:
    try:
        if "=" not in text:
            return dict.fromkeys(SIZES, float(text))
        limits = {k.strip().upper(): float(v) for k, v in (p.split("=") for p in text.split(","))}
    except ValueError:
        parser.error(f"--time-limit {text!r}: a number or S=30,M=60,L=300")
    return {size: limits.get(size, 300.0) for size in SIZES}


def _run(shape: str, size: str, seed: int, limit: float, args: argparse.Namespace) -> dict | None:
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
        command = [sys.executable, str(ROOT / "bench" / "bench_solver.py"), "--folder", tmp]
        command += ["--time-limit", str(limit), "--seed", str(seed), "--workers", str(args.workers)]
        if args.skip_check:
            command.append("--skip-check")
        env = dict(os.environ, BENCH_CODE=str(args.code.resolve())) if args.code else None
        done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        print(f"{shape} {size} seed {seed} failed:\n{done.stderr}", file=sys.stderr)
        return None
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {"shape": shape, "size": size, "seed": seed, **result}


if __name__ == "__main__":
    main()

"""Benchmark the export: agendas, calendars, invites and the check of the written files.

    .venv/bin/python bench/bench_export.py --sizes sample,M,L
    .venv/bin/python bench/bench_export.py --sizes sample,M --code /work/main   # "before"

Each size is solved once, with a short time limit, and the solved run is kept as a pickle
under ``--cache`` (default ``bench/.cache``), so every measurement exports the very same
schedule and no solve is timed. Then, each in its own process (so the peak memory is that
measurement's) and with the scheduler package taken from ``--code`` (default: this
checkout):

- ``export``: tables, calendars and agendas written into an empty folder, no check;
- ``export + check``: ``pipeline.export`` into a new folder: the same, the check of the
  written tables and the atomic publish;
- ``re-run``: ``pipeline.export`` again into that folder, inputs unchanged (the files the
  run would have written identically are carried over; counted: files rewritten).

Before each measurement the file system writes out what is pending (``sync``). Printed
per size and measurement: wall seconds, CPU seconds (this process and the
helpers it started), peak memory (``ru_maxrss`` of this process and of its largest
helper, which run side by side), files written and files rewritten (a new inode).
Sizes: ``sample`` (inputs/), ``S``, ``M``, ``L`` as in bench_solver.py.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"S": (40, 300, 40), "M": (160, 1000, 120), "L": (400, 5000, 400)}
SOLVE_SECONDS = {"sample": 20.0, "S": 20.0, "M": 30.0, "L": 60.0}


def prepare(size: str, cache: Path) -> Path:
    """The solved run of ``size``, pickled once (solving with this checkout's code)."""
    path = cache / f"{size}.pickle"
    if path.exists():
        return path
    sys.path.insert(0, str(ROOT))
    from scheduler.generate import generate
    from scheduler.pipeline import Result, check, load, match, solve

    with tempfile.TemporaryDirectory() as tmp:
        inputs = ROOT / "inputs"
        if size != "sample":
            cities, participants, sessions = SIZES[size]
            inputs = Path(tmp)
            generate(inputs, cities=cities, participants=participants, sessions=sessions, seed=1)
        conference, warnings = load(inputs)
    matchmaking = match(conference)
    schedule = solve(conference, matchmaking, time_limit=SOLVE_SECONDS[size], deterministic=True)
    assert not check(conference, matchmaking, schedule), "the benchmark's schedule breaks a rule"
    cache.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        pickle.dump(Result(conference, matchmaking, schedule, tuple(warnings)), file)
    return path


def count_files(folder: Path) -> tuple[int, int]:
    """(files, bytes) under ``folder``."""
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def measure(kind: str, pickle_path: Path, folder: Path) -> dict:
    """One measurement in this process (the scheduler package comes from sys.path)."""
    from datetime import UTC, datetime, timedelta

    from scheduler import pipeline

    with pickle_path.open("rb") as file:
        result = pickle.load(file)
    conference, matchmaking, schedule = result.conference, result.matchmaking, result.schedule
    stamp = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    before = {p: p.stat().st_ino for p in folder.rglob("*") if p.is_file()}
    started, times = time.perf_counter(), os.times()
    if kind == "export":
        from scheduler.export.agendas import write_agendas
        from scheduler.export.ical import write_calendars
        from scheduler.export.tables import write_tables

        folder.mkdir(parents=True, exist_ok=True)
        write_tables(conference, matchmaking, schedule, folder)
        write_calendars(conference, matchmaking, schedule, folder, stamp=stamp)
        write_agendas(conference, matchmaking, schedule, folder)
    elif kind == "export+check":  # into a new folder
        pipeline.export(result, folder, stamp=stamp)
    else:  # "rerun": into the folder of an earlier export+check, an hour later that day
        # (every DTSTAMP is new; the agendas' version line keeps its date: a re-run on
        # another day changes that line on every agenda, and they are rendered again)
        pipeline.export(result, folder, stamp=stamp + timedelta(hours=1))
    seconds = time.perf_counter() - started
    now = os.times()
    # CPU time of this process and of the helpers it waited for: less blurred than wall
    # time on a machine shared with other jobs.
    cpu = sum(now[:4]) - sum(times[:4])
    files, size = count_files(folder)
    # A file carried over from the earlier run keeps its inode (hard link) or at least its
    # bytes; a rewritten one is new.
    after = {p: p.stat().st_ino for p in folder.rglob("*") if p.is_file()}
    rewritten = sum(1 for p, inode in after.items() if before.get(p) != inode)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # The largest helper process (the agendas' process, a PDF helper): they run beside it.
    helper_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_mib": peak_kib / 1024,
        "helper_peak_mib": helper_kib / 1024,
        "files": files,
        "megabytes": size / 1e6,
        "new_inodes": rewritten,
    }


def run_measurement(kind: str, pickle_path: Path, folder: Path, code: Path) -> dict:
    """``measure`` in a fresh interpreter whose scheduler package is that of ``code``.
    The file system first writes out what the measurement before left in memory (some
    200 MB at L), so that no measurement waits for the previous one's disk writes."""
    os.sync()
    env = dict(os.environ, PYTHONPATH=str(code))
    # That checkout's own environment (its dependencies), started in that checkout (a
    # helper started with `python -c` finds the package of its working directory first).
    python = code / ".venv" / "bin" / "python"
    command = [
        str(python if python.exists() else sys.executable),
        __file__,
        "--measure",
        kind,
        "--pickle",
        str(pickle_path),
        "--folder",
        str(folder),
    ]
    done = subprocess.run(command, env=env, cwd=code, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="sample,M")
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose code to time")
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / ".cache")
    parser.add_argument("--prepare-only", action="store_true")
    parser.add_argument(
        "--only", default="export,export+check,rerun", help="measurements to take, in order"
    )
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--pickle", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.pickle, args.folder)))
        return
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    pickles = {size: prepare(size, args.cache) for size in sizes}
    if args.prepare_only:
        return
    code = args.code.resolve()
    print(f"code: {code}")
    print(
        "| size | measurement | seconds | CPU s | peak MiB (main / largest helper) "
        "| files | MB | files rewritten |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix=f"bench-export-{size}-") as tmp:
            rows = [
                ("export", Path(tmp) / "alone"),
                ("export+check", Path(tmp) / "published"),
                ("rerun", Path(tmp) / "published"),
            ]
            wanted = args.only.split(",")
            for kind, folder in [row for row in rows if row[0] in wanted]:
                r = run_measurement(kind, pickles[size], folder, code)
                print(
                    f"| {size} | {kind} | {r['seconds']:.1f} | {r['cpu_seconds']:.1f} | "
                    f"{r['peak_mib']:.0f} / {r['helper_peak_mib']:.0f} | "
                    f"{r['files']} | {r['megabytes']:.1f} | {r['new_inodes']} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()

"""`--deterministic` reads no clock: a slow or busy machine gives the same schedule."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scheduler import pipeline
from scheduler.check import check, check_outputs
from scheduler.generate import generate
from scheduler.load import load_conference
from scheduler.matchmaking import match
from scheduler.solve import SolveOptions, solve

BUSY = "import time\nend = time.monotonic() + 120\nwhile time.monotonic() < end:\n    pass\n"


def seats_that_bind(folder: Path) -> Path:
    """A generated conference whose sessions have seats for a few besides their hosts, so
    that the attendance polish (the phase whose budget used to follow the clock) runs."""
    generate(folder, cities=8, participants=80, sessions=12, seed=5)
    sessions = folder / "sessions.csv"
    with sessions.open(encoding="utf-8", newline="") as handle:
        table = list(csv.DictReader(handle))
    for row in table:
        row["capacity"] = str(len(row["hosts"].split("|")) + 4)
    with sessions.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(table)
    return folder


def test_a_deterministic_solve_does_not_depend_on_the_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clock racing ahead 50 s at every reading (a machine very much slower) changes
    nothing: no phase is skipped or shortened by what the clock says."""
    conf, _ = load_conference(seats_that_bind(tmp_path))
    mm = match(conf)
    options = SolveOptions(time_limit=4, deterministic=True, workers=1)
    calm = solve(conf, mm, options)
    assert check(conf, mm, calm) == []
    real = time.monotonic
    ahead = [0.0]

    def racing() -> float:
        ahead[0] += 50.0
        return real() + ahead[0]

    monkeypatch.setattr(time, "monotonic", racing)
    rushed = solve(conf, mm, options)
    monkeypatch.setattr(time, "monotonic", real)
    assert rushed.events == calm.events
    assert rushed.attendance == calm.attendance
    assert (rushed.objective, rushed.bound) == (calm.objective, calm.bound)


def files(folder: Path) -> dict[str, bytes]:
    """Every file of an output folder; report.json without its wall-clock figure."""
    found = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        content = path.read_bytes()
        if path.name == "report.json":
            report = json.loads(content)
            report.pop("solve_seconds")
            content = json.dumps(report, sort_keys=True).encode()
        found[str(path.relative_to(folder))] = content
    return found


def test_a_busy_machine_writes_the_same_files(tmp_path: Path) -> None:
    """The whole run, once on a quiet machine and once with both cores kept busy by two
    other processes: the same files, byte for byte (report.json's solve_seconds aside)."""
    inputs = seats_that_bind(tmp_path / "inputs")
    quiet = pipeline.run(inputs, tmp_path / "quiet", time_limit=4, deterministic=True)
    hogs = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(2)]
    try:
        busy = pipeline.run(inputs, tmp_path / "busy", time_limit=4, deterministic=True)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert check_outputs(inputs, tmp_path / "quiet") == []
    assert quiet.schedule.attendance == busy.schedule.attendance
    assert files(tmp_path / "quiet") == files(tmp_path / "busy")

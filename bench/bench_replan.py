"""Benchmark re-planning against solving from scratch on generated conferences (S, M).

    .venv/bin/python bench/bench_replan.py --sizes S,M --time-limit 60

Each size runs in its own process. It generates a conference with scheduler.generate
(the sizes of bench_solver.py), publishes version 1 once (`pipeline.run` with the time
limit), then for each kind of change applies the change to a copy of the inputs and

- re-plans it against a copy of version 1 (`pipeline.run(..., previous=out)`, the usual
  case where the published folder is also the output folder), and
- solves the changed inputs from scratch into another folder, same time limit.

Printed per change: events moved; participants disturbed (a row in changes.csv other
than `added`; for the solve from scratch the same thing computed from its schedule.csv
and attendance.csv against version 1's: an entry moved, removed or cancelled); the
bound the re-plan must stay within (the people the change itself touches plus everyone
who had an event it displaced or cancelled, see README); participants with any message
(outbox.csv; for the solve from scratch the messages it would need as version 2,
computed with `replan.next_version` against version 1); attended weight (report.json
`objective`) of both and their relative difference; the re-plan's wall time; and the
violations `check_outputs` (both outputs) and `check_replan` (the re-plan) find.
"""

from __future__ import annotations

import argparse
import csv
import inspect
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_shapes import SHAPES  # conferences of other shapes
from bench.bench_solver import SIZES  # the same S, M, L

# Tiny, for trying the benchmark itself out (not in --sizes' help).
SIZES = {**SIZES, "XS": (8, 60, 8)}
TARGET_RATIO = 10.0  # at least this many times fewer people disturbed than from scratch
TARGET_WEIGHT = -0.02  # attended weight at most 2 % below the solve from scratch
TARGET_SECONDS = {"M": 60.0}  # re-plan wall time


# --- reading and writing the folders ------------------------------------------------------


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, table: list[dict[str, str]], columns: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(table)


def edit_rows(path: Path, edit: Callable[[list[dict[str, str]]], list[dict[str, str]]]) -> None:
    """Rewrite a CSV input with ``edit`` applied to its rows, header unchanged."""
    with path.open(encoding="utf-8", newline="") as handle:
        columns = next(csv.reader(handle))
    write_rows(path, edit(rows(path)), columns)


def set_toml(path: Path, key: str, value: object) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(rf"(?m)^{key} = .*$", f"{key} = {value}", text), encoding="utf-8")


def toml_int(path: Path, key: str) -> int:
    found = re.search(rf"(?m)^{key} = (\d+)", path.read_text(encoding="utf-8"))
    assert found, f"{key} not in {path}"
    return int(found.group(1))


@dataclass(frozen=True)
class Published:
    """What a folder publishes, as its tables say."""

    times: dict[str, tuple[str, str]]  # event -> (start, end)
    entries: dict[str, set[str]]  # participant -> events
    roles: dict[str, set[str]]  # participant -> roles
    members: dict[str, set[str]]  # event -> participants
    kinds: dict[str, str]  # event -> kind

    @classmethod
    def read(cls, folder: Path) -> Published:
        schedule = rows(folder / "schedule.csv")
        entries: dict[str, set[str]] = {}
        roles: dict[str, set[str]] = {}
        members: dict[str, set[str]] = {}
        for row in rows(folder / "attendance.csv"):
            entries.setdefault(row["participant_id"], set()).add(row["event_id"])
            roles.setdefault(row["participant_id"], set()).add(row["role"])
            members.setdefault(row["event_id"], set()).add(row["participant_id"])
        return cls(
            {r["event_id"]: (r["start"], r["end"]) for r in schedule},
            entries,
            roles,
            members,
            {r["event_id"]: r["kind"] for r in schedule},
        )


def moved_events(before: Published, after: Published) -> set[str]:
    """Events in both versions whose time changed."""
    return {
        e for e in before.times.keys() & after.times.keys() if before.times[e] != after.times[e]
    }


def hosts_of_new_events(before: Published, folder: Path) -> set[str]:
    """The hosts and delegates of events in ``folder``'s schedule that ``before`` did not
    have: a new session, or one that could not be placed before and now can. Hosting it,
    they may lose an entry it clashes with (docs/workflow.md, re-planning rule 4): the
    change touches them as it touches a new session's hosts."""
    return {
        r["participant_id"]
        for r in rows(folder / "attendance.csv")
        if r["event_id"] not in before.times and r["role"] in ("host", "delegate")
    }


def disturbed(before: Published, after: Published) -> set[str]:
    """Participants with an entry of ``before`` that moved, was cancelled, or that they no
    longer attend in ``after``: what changes.csv would list other than `added`."""
    moved = moved_events(before, after)
    return {
        pid
        for pid, events in before.entries.items()
        if any(e in moved or e not in after.entries.get(pid, ()) for e in events)
    }


def recorder(steps: list[tuple[float, str]]) -> Callable[[str], None]:
    """A `step` callback that notes when each stage of a run began."""
    return lambda text: steps.append((time.monotonic(), text))


# --- the changes --------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One kind of change: applied to a copy of the inputs, it returns what it did and
    the participants it touches itself."""

    name: str
    apply: Callable[[Path, Published, random.Random], tuple[str, set[str]]]


def plain_attendees(first: Published, inputs: Path) -> list[str]:
    """Participants who only attend (no host, no delegate) with two entries or more."""
    hosts = {h for s in rows(inputs / "sessions.csv") for h in s["hosts"].split("|") if h}
    return sorted(
        pid
        for pid, roles in first.roles.items()
        if roles == {"attendee"} and len(first.entries[pid]) >= 2 and pid not in hosts
    )


def host_unavailable(inputs: Path, first: Published, rng: random.Random) -> tuple[str, set[str]]:
    """A host of a published session is unavailable the whole day of it."""
    hosted = sorted(
        (eid, pid)
        for eid, people in first.members.items()
        for pid in people
        if eid != "opening"
        and "host" in first.roles[pid]
        and first.kinds[eid] in ("plenary", "workshop")
    )
    hosts_of = {s["session_id"]: s["hosts"].split("|") for s in rows(inputs / "sessions.csv")}
    eid, host = rng.choice([(e, p) for e, p in hosted if p in hosts_of.get(e, ())])
    day = datetime.fromisoformat(first.times[eid][0]).date().isoformat()

    def add(table: list[dict[str, str]]) -> list[dict[str, str]]:
        return [*table, {"participant_id": host, "start": day, "end": day, "reason": "krank"}]

    edit_rows(inputs / "unavailability.csv", add)
    return f"{host} (host of {eid}) away {day}", {host}


def new_session(inputs: Path, first: Published, rng: random.Random) -> tuple[str, set[str]]:
    """A session more, a copy of a published one under a new id, hosts the same."""
    sessions = rows(inputs / "sessions.csv")
    model = dict(rng.choice([s for s in sessions if s["session_id"] != "opening"]))
    like = model["session_id"]
    model.update(session_id="s-new", title_en="New workshop", capacity="", fixed_start="")
    model.update(title_de="Neue Werkstatt", title_tr="Yeni atölye")
    edit_rows(inputs / "sessions.csv", lambda table: [*table, model])
    return f"s-new, a copy of {like}", {h for h in model["hosts"].split("|") if h}


def room_fewer(inputs: Path, first: Published, rng: random.Random) -> tuple[str, set[str]]:
    path = inputs / "conference.toml"
    rooms = toml_int(path, "rooms")
    set_toml(path, "rooms", rooms - 1)
    return f"rooms {rooms} -> {rooms - 1}", set()


def interpreter_fewer(inputs: Path, first: Published, rng: random.Random) -> tuple[str, set[str]]:
    path = inputs / "conference.toml"
    interpreters = toml_int(path, "interpreters")
    set_toml(path, "interpreters", interpreters - 1)
    return f"interpreters {interpreters} -> {interpreters - 1}", set()


def withdrawn(inputs: Path, first: Published, rng: random.Random) -> tuple[str, set[str]]:
    """A participant who only attends withdraws: gone from every input that names them."""
    gone = rng.choice(plain_attendees(first, inputs))
    for name in ("participants.csv", "preferences.csv", "unavailability.csv"):
        edit_rows(inputs / name, lambda table: [r for r in table if r["participant_id"] != gone])
    return f"{gone} ({len(first.entries[gone])} entries)", {gone}


def delegate_changed(inputs: Path, first: Published, rng: random.Random) -> tuple[str, set[str]]:
    """A city names another delegate: one of its published delegates hands over to a
    participant of the same city who is no delegate."""
    people = rows(inputs / "participants.csv")
    city_of = {p["participant_id"]: p["city_id"] for p in people}
    delegates = {pid for pid, roles in first.roles.items() if "delegate" in roles}
    old, new = rng.choice(
        sorted(
            (d, p["participant_id"])
            for d in delegates
            for p in people
            if p["city_id"] == city_of.get(d) and p["participant_id"] not in delegates
        )
    )

    def hand_over(table: list[dict[str, str]]) -> list[dict[str, str]]:
        for person in table:
            if person["participant_id"] == old:
                person["delegate"] = "false"
            if person["participant_id"] == new:
                person["delegate"] = "true"
        return table

    edit_rows(inputs / "participants.csv", hand_over)
    meetings = sum(1 for e in first.entries[old] if first.kinds[e].endswith("meeting"))
    return f"{old} -> {new} ({meetings} meetings)", {old, new}


def capacity_lowered(inputs: Path, first: Published, rng: random.Random) -> tuple[str, set[str]]:
    """The published session with the most attendees gets a capacity 10 % (at least 2)
    below them."""
    sessions = {s["session_id"]: s for s in rows(inputs / "sessions.csv")}
    target = max(
        (e for e in first.members if e in sessions and e != "opening"),
        key=lambda e: (len(first.members[e]), e),
    )
    count = len(first.members[target])
    capacity = count - max(2, count // 10)

    def lower(table: list[dict[str, str]]) -> list[dict[str, str]]:
        for row in table:
            if row["session_id"] == target:
                row["capacity"] = str(capacity)
        return table

    edit_rows(inputs / "sessions.csv", lower)
    return f"{target} {count} -> {capacity}", set(first.members[target])


def absence_added(inputs: Path, first: Published, rng: random.Random) -> tuple[str, set[str]]:
    """A participant who only attends is away the whole day of one of their events."""
    person = rng.choice(plain_attendees(first, inputs))
    event = rng.choice(sorted(first.entries[person]))
    day = datetime.fromisoformat(first.times[event][0]).date().isoformat()

    def add(table: list[dict[str, str]]) -> list[dict[str, str]]:
        return [*table, {"participant_id": person, "start": day, "end": day, "reason": "Urlaub"}]

    edit_rows(inputs / "unavailability.csv", add)
    return f"{person} away {day}", {person}


def unchanged(inputs: Path, first: Published, rng: random.Random) -> tuple[str, set[str]]:
    return "-", set()


CHANGES = (
    Change("host unavailable that day", host_unavailable),
    Change("new session", new_session),
    Change("rooms - 1", room_fewer),
    Change("interpreters - 1", interpreter_fewer),
    Change("participant withdrawn", withdrawn),
    Change("delegate changed", delegate_changed),
    Change("capacity below attendees", capacity_lowered),
    Change("absence added", absence_added),
    Change("unchanged inputs", unchanged),
)


# --- one size -----------------------------------------------------------------------------


def run_size(
    size: str, time_limit: float, seed: int, moves: int | None, only: str, shape: str
) -> dict:
    from scheduler import pipeline, review
    from scheduler.check import check_outputs
    from scheduler.check_replan import check_replan
    from scheduler.errors import UserError
    from scheduler.generate import generate
    from scheduler.replan import next_version, read_published

    extra: dict[str, Any] = {}
    if moves is not None:
        if "moves" not in inspect.signature(pipeline.run).parameters:
            raise SystemExit("this version of pipeline.run has no `moves`: leave out --moves")
        extra["moves"] = moves
    cities, participants, sessions = SIZES[size]
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        inputs = root / "inputs"
        generate(
            inputs,
            cities=cities,
            participants=participants,
            sessions=sessions,
            seed=seed,
            shape=SHAPES[shape],
        )
        first_out = root / "v1"
        started = time.monotonic()
        pipeline.run(inputs, first_out, time_limit=time_limit, seed=seed)
        first_seconds = time.monotonic() - started
        first_violations = len(check_outputs(inputs, first_out))
        first = Published.read(first_out)
        first_weight = review.read_report(first_out)["objective"]
        for number, change in enumerate(CHANGES):
            if only and str(number + 1) not in only.split(","):
                continue
            work = root / f"change-{number}"
            changed = work / "inputs"
            shutil.copytree(inputs, changed)
            done, touched = change.apply(changed, first, random.Random(seed * 100 + number))
            before = work / "v1"  # version 1 as published, for the checker
            shutil.copytree(first_out, before)
            out = work / "replan"
            shutil.copytree(first_out, out)
            scratch = work / "scratch"
            try:
                steps: list[tuple[float, str]] = []
                started = time.monotonic()
                result = pipeline.run(
                    changed,
                    out,
                    time_limit=time_limit,
                    seed=seed,
                    previous=out,
                    step=recorder(steps),
                    **extra,
                )
                replan_seconds = time.monotonic() - started
                writing = next(t for t, text in steps if text.startswith("writing outputs"))
                write_seconds = started + replan_seconds - writing
                started = time.monotonic()
                fresh = pipeline.run(changed, scratch, time_limit=time_limit, seed=seed)
                scratch_seconds = time.monotonic() - started
            except UserError as error:  # a refused re-plan is a finding: keep going
                results.append({"change": change.name, "done": done, "error": str(error)})
                print(f"{size} {change.name}: {error}", file=sys.stderr, flush=True)
                shutil.rmtree(work)
                continue

            replanned, solved = Published.read(out), Published.read(scratch)
            listed = {
                r["participant_id"] for r in rows(out / "changes.csv") if r["change"] != "added"
            }
            displaced = set(result.schedule.displaced) | (
                first.times.keys() - replanned.times.keys()
            )
            bound = touched | {p for e in displaced for p in first.members.get(e, ())}
            bound |= hosts_of_new_events(first, out)
            as_version_2 = next_version(
                read_published(before), fresh.conference, fresh.matchmaking, fresh.schedule
            )
            report = review.read_report(out)
            violations = [
                *(f"re-plan: {v}" for v in check_outputs(changed, out)),
                *(f"from scratch: {v}" for v in check_outputs(changed, scratch)),
                *(f"check_replan: {v}" for v in check_replan(result.conference, before, out)),
            ]
            results.append(
                {
                    "change": change.name,
                    "done": done,
                    "touched": len(touched),
                    "displaced": len(displaced),
                    "bound": len(bound),
                    "replan_moved": len(moved_events(first, replanned)),
                    "report_moved": report["events_moved"],
                    "scratch_moved": len(moved_events(first, solved)),
                    "replan_disturbed": len(listed),
                    "replan_disturbed_tables": len(disturbed(first, replanned)),
                    "outside_bound": sorted(listed - bound),
                    # what happened to them, to explain it (changes.csv's rows)
                    "outside_rows": [
                        r
                        for r in rows(out / "changes.csv")
                        if r["participant_id"] in listed - bound
                    ],
                    "scratch_disturbed": len(disturbed(first, solved)),
                    "replan_messaged": len({r["participant_id"] for r in rows(out / "outbox.csv")}),
                    "scratch_messaged": as_version_2.participants_affected,
                    "replan_weight": report["objective"],
                    "scratch_weight": review.read_report(scratch)["objective"],
                    "replan_s": replan_seconds,
                    "scratch_s": scratch_seconds,
                    "write_s": write_seconds,
                    "violations": violations,
                }
            )
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)  # survives a kill
            shutil.rmtree(work)
    return {
        "size": size,
        "events": len(first.times),
        "participants": len(first.entries),
        "first_weight": first_weight,
        "first_s": first_seconds,
        "first_violations": first_violations,
        "shape": shape,
        "changes": results,
    }


# --- the table ----------------------------------------------------------------------------


def ratio(replan: int, scratch: int) -> str:
    if replan == 0:
        return "∞" if scratch else "-"
    return f"{scratch / replan:.1f}×"


def targets(size: str, r: dict) -> str:
    """Which of the benchmark's targets this change misses ('ok' when none)."""
    missed = []
    if r["outside_bound"]:
        missed.append(f"{len(r['outside_bound'])} outside bound")
    if r["replan_disturbed"] and r["scratch_disturbed"] < TARGET_RATIO * r["replan_disturbed"]:
        missed.append("< 10× fewer")
    if relative(r) < TARGET_WEIGHT:
        missed.append("weight")
    if size in TARGET_SECONDS and r["replan_s"] > TARGET_SECONDS[size]:
        missed.append("time")
    if r["violations"]:
        missed.append("violations")
    return ", ".join(missed) or "ok"


def relative(r: dict) -> float:
    return (r["replan_weight"] - r["scratch_weight"]) / r["scratch_weight"]


def table(result: dict) -> str:
    size = result["size"]
    head = (
        "| change | what | events moved: re-plan / scratch | disturbed: re-plan / scratch "
        "| ratio | bound (touched + displaced events' people) | with a message: re-plan / "
        "scratch | attended weight: re-plan / scratch | Δ | re-plan s (writing) | scratch s "
        "| violations | targets |"
    )
    lines = [head, "|" + "---|" * 13]
    for r in result["changes"]:
        if "error" in r:
            first_line = r["error"].splitlines()[0].replace("|", "/")
            lines.append(f"| {r['change']} | {r['done']} | failed: {first_line} |" + " |" * 10)
            continue
        lines.append(
            f"| {r['change']} | {r['done']} | {r['replan_moved']} / {r['scratch_moved']} "
            f"| {r['replan_disturbed']} / {r['scratch_disturbed']} "
            f"| {ratio(r['replan_disturbed'], r['scratch_disturbed'])} "
            f"| {r['bound']} ({r['touched']} + {r['displaced']} events) "
            f"| {r['replan_messaged']} / {r['scratch_messaged']} "
            f"| {r['replan_weight']:.0f} / {r['scratch_weight']:.0f} | {relative(r):+.2%} "
            f"| {r['replan_s']:.0f} ({r['write_s']:.0f}) | {r['scratch_s']:.0f} | {len(r['violations'])} "
            f"| {targets(size, r)} |"
        )
    notes = (
        [
            f"{r['change']}: changes.csv lists {r['replan_disturbed']} disturbed, the tables "
            f"say {r['replan_disturbed_tables']}; report.json moved {r['report_moved']}, "
            f"the tables {r['replan_moved']}"
            for r in result["changes"]
            if "error" not in r
            and (r["replan_disturbed"], r["report_moved"])
            != (r["replan_disturbed_tables"], r["replan_moved"])
        ]
        + [
            f"{r['change']}: disturbed outside the bound: {', '.join(r['outside_bound'][:10])}"
            for r in result["changes"]
            if r.get("outside_bound")
        ]
        + [
            f"{r['change']}: {len(r['violations'])} violations, e.g. "
            + "; ".join(f"`{v}`" for v in r["violations"][:3])
            for r in result["changes"]
            if r.get("violations")
        ]
    )
    title = (
        f"{size}: {result['events']} events, {result['participants']} participants on an "
        f"agenda; version 1 attended weight {result['first_weight']:.0f} in "
        f"{result['first_s']:.0f} s, {result['first_violations']} violations"
        + f"; shape {result['shape']}"
    )
    return "\n".join([title, "", *lines, *[f"\n- {n}" for n in notes]])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="S,M", help="comma-separated, of S, M")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--moves", type=int, default=None, help="run --moves N (default: 0)")
    parser.add_argument(
        "--changes", default="", help="comma-separated numbers of the changes to run (1-9)"
    )
    parser.add_argument(
        "--shape", default="default", choices=sorted(SHAPES), help="bench_shapes.py's shapes"
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        result = run_size(
            args.one, args.time_limit, args.seed, args.moves, args.changes, args.shape
        )
        print(json.dumps(result))
        return
    results = []
    for size in [s.strip().upper() for s in args.sizes.split(",") if s.strip()]:
        if size not in SIZES:
            parser.error(f"unknown size {size!r}: choose from S, M")
        command = [sys.executable, __file__, "--one", size, "--time-limit", str(args.time_limit)]
        command += ["--seed", str(args.seed)]
        if args.moves is not None:
            command += ["--moves", str(args.moves)]
        if args.changes:
            command += ["--changes", args.changes]
        command += ["--shape", args.shape]
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
        if done.returncode != 0:
            print(f"size {size} failed", file=sys.stderr)
            continue
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    moves = args.moves if args.moves is not None else 0
    print(f"time limit {args.time_limit:g} s per solve, seed {args.seed}, --moves {moves}")
    for result in results:
        print()
        print(table(result))


if __name__ == "__main__":
    main()

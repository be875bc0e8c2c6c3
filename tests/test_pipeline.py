"""The organiser's run: the whole pipeline publishes checked outputs, and never leaves a
half-written or broken output folder behind (invalid inputs, Ctrl-C mid-solve or
mid-write)."""

from __future__ import annotations

import hashlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scheduler import cli, pipeline, review, worker
from scheduler.check import check_outputs
from scheduler.errors import UserError
from scheduler.export.tables import table_frames
from scheduler.generate import generate
from scheduler.model import (
    Attendance,
    Matchmaking,
    Schedule,
    ScheduledEvent,
    UnscheduledItem,
    satisfaction,
)
from tests.builders import conference, participant, session, unavailable
from tests.conftest import ROOT

CONTRACT_FILES = (
    "schedule.csv",
    "attendance.csv",
    "matches.csv",
    "unscheduled.csv",
    "report.json",
    "calendars/conference.ics",
)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file of a folder by relative path, with a hash of its bytes."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def leftovers(out: Path) -> list[str]:
    """Temporary or set-aside siblings of an output folder, or its lock (there must be
    none once a run has ended)."""
    return sorted(
        p.name
        for p in out.parent.iterdir()
        if p.name.startswith((f"{out.name}.", f".{out.name}-", f".{out.name}."))
        or "-tmp-" in p.name
    )


@pytest.fixture(scope="module")
def small_inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("small") / "inputs"
    generate(folder, cities=4, participants=16, sessions=6, seed=1)
    return folder


@pytest.fixture(scope="module")
def published(small_inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> pipeline.Result:
    out = tmp_path_factory.mktemp("run") / "outputs"
    steps: list[str] = []
    result = pipeline.run(small_inputs, out, time_limit=20, seed=0, step=steps.append)
    assert any("solving" in s for s in steps)
    return result


@pytest.fixture
def earlier_outputs(published: pipeline.Result, tmp_path: Path) -> Path:
    """An output folder holding a previous run's outputs."""
    assert published.folder is not None
    out = tmp_path / "outputs"
    shutil.copytree(published.folder, out)
    return out


def test_run_publishes_every_output_and_they_pass_the_check(
    published: pipeline.Result, small_inputs: Path
) -> None:
    out = published.folder
    assert out is not None
    for name in CONTRACT_FILES:
        assert (out / name).is_file(), name
    assert list((out / "agendas").glob("*.html"))
    assert check_outputs(small_inputs, out) == []
    assert leftovers(out) == []
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["events_scheduled"] == len(published.schedule.events) > 0
    assert report["violations"] == []


def test_read_outputs_gives_the_tables_of_the_run(published: pipeline.Result) -> None:
    assert published.folder is not None
    frames = review.read_outputs(published.folder)
    assert set(frames) == {"schedule", "attendance", "matches", "unscheduled"}
    assert frames["schedule"]["event_id"].tolist() == [
        e.event_id for e in published.schedule.events
    ]
    assert len(frames["attendance"]) == len(published.schedule.attendance)
    for name, frame in review.tables(published).items():
        assert frame.equals(frames[name]), name


def test_compare_puts_two_runs_side_by_side(published: pipeline.Result) -> None:
    # a second, different run: the same conference with one session less
    conf = replace(published.conference, sessions=published.conference.sessions[:-1])
    matchmaking = pipeline.match(conf)
    schedule = pipeline.solve(conf, matchmaking, time_limit=5, deterministic=True)
    assert pipeline.check(conf, matchmaking, schedule) == []
    smaller = pipeline.Result(conf, matchmaking, schedule)

    table = review.compare(published, smaller, names=("as planned", "one session less"))

    assert list(table.columns) == ["as planned", "one session less"]
    # each column holds its own run's numbers, in the order given
    assert table["as planned"].to_dict() == review.summary(published)
    assert table["one session less"].to_dict() == review.summary(smaller)
    total = len(published.conference.sessions)
    assert table.loc["sessions placed", "as planned"].endswith(f" of {total}")
    assert table.loc["sessions placed", "one session less"].endswith(f" of {total - 1}")
    assert table.loc["events placed", "one session less"] == len(schedule.events)


def test_the_end_of_run_summary_names_what_organisers_look_at(
    published: pipeline.Result,
) -> None:
    text = "\n".join(cli.report_lines(published))
    schedule = published.schedule
    assert f"events placed            {len(schedule.events)} " in text
    for measure in ("partner meetings placed", "new contacts placed", "worst city", "unscheduled"):
        assert measure in text
    assert f"gap to the bound         {schedule.gap:.2%}" in text


def test_progress_in_a_log_is_a_plain_line_per_phase_not_per_report() -> None:
    import io

    from scheduler.solve import Progress

    log = io.StringIO()  # not a terminal
    line = cli._ProgressLine(log)
    for objective in (10, 11, 12):
        line.progress(Progress("placement", objective, 20, 1.0))
    line.progress(Progress("attendance", 15, 20, 65.0))
    line.end_line()
    assert log.getvalue().splitlines() == [
        "  placement: model objective 10 (its bound 20), 0:01",
        "  attendance: attended weight 15, bound 20, gap 25.0%, 1:05",
    ]


def test_invalid_inputs_leave_the_outputs_byte_identical(
    small_inputs: Path, earlier_outputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(small_inputs, broken)
    sessions = broken / "sessions.csv"
    lines = sessions.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("kind")] = "lecture"  # not plenary or workshop
    sessions.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n", encoding="utf-8")
    before = snapshot(earlier_outputs)

    code = cli.main(["run", str(broken), "--out", str(earlier_outputs), "--time-limit", "5"])

    assert code == 2
    assert "sessions.csv" in capsys.readouterr().err
    assert snapshot(earlier_outputs) == before
    assert leftovers(earlier_outputs) == []


def test_a_folder_that_holds_other_files_is_not_replaced(
    published: pipeline.Result, tmp_path: Path
) -> None:
    foreign = tmp_path / "documents"
    foreign.mkdir()
    (foreign / "minutes.docx").write_bytes(b"do not delete")
    with pytest.raises(UserError, match="replaced as a whole"):
        pipeline.export(published, foreign)
    assert (foreign / "minutes.docx").read_bytes() == b"do not delete"


def test_a_rejected_schedule_leaves_the_earlier_outputs_byte_identical(
    published: pipeline.Result, earlier_outputs: Path
) -> None:
    first, *rest = published.schedule.events
    broken = replace(published.schedule, events=(replace(first, room=99), *rest))  # no room 99
    before = snapshot(earlier_outputs)
    with pytest.raises(pipeline.ScheduleRejected, match="room"):
        pipeline.export(replace(published, schedule=broken), earlier_outputs)
    assert snapshot(earlier_outputs) == before
    assert leftovers(earlier_outputs) == []


def test_export_tidies_what_a_killed_run_left_behind(
    published: pipeline.Result, earlier_outputs: Path
) -> None:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()  # its pid now belongs to no process
    # killed mid-write: a half-written folder; killed mid-swap: the previous outputs set aside
    half_written = earlier_outputs.with_name(f".{earlier_outputs.name}-tmp-{finished.pid}")
    half_written.mkdir()
    (half_written / "schedule.csv").write_text("event_id\n", encoding="utf-8")
    set_aside = earlier_outputs.with_name(f".{earlier_outputs.name}-old-{finished.pid}")
    shutil.copytree(earlier_outputs, set_aside)
    pipeline.export(published, earlier_outputs)
    assert leftovers(earlier_outputs) == []
    assert (earlier_outputs / "schedule.csv").is_file()


def test_deterministic_runs_write_identical_files(small_inputs: Path, tmp_path: Path) -> None:
    first = pipeline.run(small_inputs, tmp_path / "a", time_limit=20, deterministic=True)
    second = pipeline.run(small_inputs, tmp_path / "b", time_limit=20, deterministic=True)
    assert first.folder is not None and second.folder is not None
    a, b = snapshot(first.folder), snapshot(second.folder)
    # report.json says how long the solve took, the one thing a clock decides
    del a["report.json"], b["report.json"]
    assert a == b
    stamp = pipeline.deterministic_stamp(first.conference).strftime("%Y%m%dT%H%M%SZ")
    feed = (first.folder / "calendars" / "conference.ics").read_text(encoding="utf-8")
    assert f"DTSTAMP:{stamp}" in feed


# --- Ctrl-C ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Big enough that solving and writing take seconds, not milliseconds."""
    folder = tmp_path_factory.mktemp("big") / "inputs"
    generate(folder, cities=20, participants=200, sessions=30, seed=2)
    return folder


# `scheduler run` that stops in the middle of writing the outputs (tables and calendars
# written, agendas not yet) until a signal arrives: Ctrl-C at a known point, no sleeping;
# SIGUSR1 lets it carry on.
PAUSE_MID_WRITE = """
import signal, sys
signal.signal(signal.SIGUSR1, lambda *_: None)
import scheduler.export.agendas as agendas
write_agendas = agendas.write_agendas
def paused(*args, **kwargs):
    print("paused mid-write", file=sys.stderr, flush=True)
    signal.pause()
    return write_agendas(*args, **kwargs)
agendas.write_agendas = paused
from scheduler.cli import main
sys.exit(main(sys.argv[1:]))
"""


END = ""  # put into the queue when the child's stderr is closed


def start_run(
    inputs: Path, out: Path, *, pause_mid_write: bool = False, time_limit: float = 60
) -> tuple[subprocess.Popen[str], queue.Queue[str]]:
    """`scheduler run` in a child process, its stderr lines arriving in a queue."""
    command = ["-c", PAUSE_MID_WRITE] if pause_mid_write else ["-m", "scheduler.cli"]
    process = subprocess.Popen(
        [sys.executable, *command, "run", str(inputs), "--out", str(out)] + ["--time-limit", "60"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        # a test runner may ignore SIGINT; the organiser's shell does not
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
    )
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.put(line)
        lines.put(END)

    threading.Thread(target=read, daemon=True).start()
    return process, lines


def wait_for(lines: queue.Queue[str], text: str, seen: list[str], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=deadline - time.monotonic())
        except queue.Empty:
            break
        if line == END:
            break
        seen.append(line)
        if text in line:
            return
    pytest.fail(f"never saw {text!r}; stderr so far:\n{''.join(seen)}")


def rest_of(lines: queue.Queue[str]) -> list[str]:
    """The lines still to come, up to the end of the child's stderr."""
    rest = []
    while (line := lines.get(timeout=30)) != END:
        rest.append(line)
    return rest


@pytest.mark.parametrize(
    ("moment", "stop"),
    [
        # the solver's first progress line: mid-solve
        ("attended weight", signal.SIGINT),
        # tables and calendars written, agendas not yet
        ("paused mid-write", signal.SIGINT),
        # a job scheduler ending the run is treated like Ctrl-C
        ("attended weight", signal.SIGTERM),
    ],
    ids=["ctrl-c-mid-solve", "ctrl-c-mid-write", "sigterm-mid-solve"],
)
def test_an_interrupted_run_leaves_the_earlier_outputs_untouched(
    small_inputs: Path,
    big_inputs: Path,
    earlier_outputs: Path,
    moment: str,
    stop: signal.Signals,
) -> None:
    before = snapshot(earlier_outputs)
    mid_write = moment == "paused mid-write"
    # mid-solve: big inputs and a long time limit, so the solve still runs when the signal
    # comes; mid-write: the run waits for the signal, so small inputs and a short solve
    inputs, time_limit = (small_inputs, 3) if mid_write else (big_inputs, 60)
    process, lines = start_run(
        inputs, earlier_outputs, pause_mid_write=mid_write, time_limit=time_limit
    )
    seen: list[str] = []
    try:
        wait_for(lines, moment, seen)
        if mid_write:  # the new version is half written beside the old one
            temp = earlier_outputs.with_name(f".{earlier_outputs.name}-tmp-{process.pid}")
            assert (temp / "schedule.csv").is_file() and (temp / "calendars").is_dir()
            assert not (temp / "agendas").exists()
        process.send_signal(stop)
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    seen += rest_of(lines)
    assert code == 130, "".join(seen)
    assert "interrupted" in "".join(seen)
    assert snapshot(earlier_outputs) == before
    assert leftovers(earlier_outputs) == []


def test_two_runs_into_one_folder_at_once_the_second_is_told_and_changes_nothing(
    small_inputs: Path, tmp_path: Path
) -> None:
    out = tmp_path / "outputs"
    first, lines = start_run(small_inputs, out, pause_mid_write=True, time_limit=3)
    seen: list[str] = []
    try:
        wait_for(lines, "paused mid-write", seen)  # the first run is swapping in soon
        second = subprocess.run(
            [sys.executable, "-m", "scheduler.cli", "run", str(small_inputs), "--out", str(out)]
            + ["--time-limit", "3"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=120,
            check=False,
        )
        assert second.returncode == 2, second.stderr
        assert "another run is writing into" in second.stderr
        assert "Traceback" not in second.stderr and "Directory not empty" not in second.stderr
        first.send_signal(signal.SIGUSR1)  # the first run carries on
        assert first.wait(timeout=120) == 0, "".join(seen + rest_of(lines))
    finally:
        if first.poll() is None:
            first.kill()
    assert check_outputs(small_inputs, out) == []
    assert leftovers(out) == []


# --- the solver's child process ends with its parent -------------------------------------


def children_of(pid: int) -> list[int]:
    """The pids of a process's children (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(encoding="utf-8").rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def gone(pid: int) -> bool:
    """The process has ended (a zombie nobody reaped yet counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the child in /proc")
@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGHUP], ids=["sigkill", "sighup"])
def test_the_solver_process_ends_silently_when_the_run_is_killed(
    big_inputs: Path, tmp_path: Path, stop: signal.Signals
) -> None:
    process, lines = start_run(big_inputs, tmp_path / "outputs")
    seen: list[str] = []
    try:
        wait_for(lines, "attended weight", seen)  # the solver child is at work
        (solver,) = children_of(process.pid)
        process.send_signal(stop)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    deadline = time.monotonic() + 5
    while not gone(solver) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert gone(solver), "the solver process outlived the run by 5 seconds"
    finally:
        if not gone(solver):
            os.kill(solver, signal.SIGKILL)
    # the child shares the run's stderr: after the kill nothing more was written
    assert rest_of(lines) == []
    assert not (tmp_path / "outputs").exists()


def test_the_solver_process_ends_when_the_request_pipe_closes(
    published: pipeline.Result, capfd: pytest.CaptureFixture[str]
) -> None:
    """The portable fallback, without the kernel's help: the parent is alive, but the pipe
    it would talk through has reached its end."""
    child, requests, replies = worker.start_child()
    try:
        options = {"time_limit": 60.0, "seed": 0, "deterministic": False}
        requests.send((published.conference, published.matchmaking, options))
        assert replies.recv()[0] == "progress"  # at work
        requests.close()
        assert child.wait(timeout=10) == 0
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        replies.close()
    assert capfd.readouterr().err == ""


def test_the_solver_process_says_nothing_when_nobody_listens(
    published: pipeline.Result, capfd: pytest.CaptureFixture[str]
) -> None:
    """Its replies find a closed pipe (BrokenPipeError): it ends without a traceback."""
    child, requests, replies = worker.start_child()
    try:
        replies.close()
        options = {"time_limit": 2.0, "seed": 0, "deterministic": False}
        requests.send((published.conference, published.matchmaking, options))
        assert child.wait(timeout=60) == 0
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        requests.close()
    assert capfd.readouterr().err == ""


# --- why a participant misses a session they want ---------------------------------------


def test_wanted_sessions_say_why_each_wanted_session_is_missed() -> None:
    def at(hour: int) -> datetime:
        return datetime(2020, 6, 3, hour, 0, tzinfo=UTC)  # a Wednesday; Berlin is UTC+2

    conf = conference(
        participants=[
            participant("ana", interests={"digital": 3}),
            participant("ben", interests={"digital": 2}),
            participant("cem", interests={"digital": 1, "urban": 2}),
            participant("dora", interests={"digital": 2}),
            participant("eva", interests={"digital": 1}),
            participant("fritz", role="youth", interests={"digital": 2}),
        ],
        sessions=[
            session("s1", capacity=2),
            session("s2", theme="urban"),
            session("s3"),
        ],
        unavailability=[unavailable("ben", at(0), at(22), "dentist")],
    )

    def event(eid: str, theme: str, room: int) -> ScheduledEvent:
        return ScheduledEvent(eid, "workshop", theme, {"de": eid}, at(7), at(8), "de", room)

    schedule = Schedule(
        events=(event("s1", "digital", 1), event("s2", "urban", 2)),
        attendance=(
            Attendance("s1", "ana", "attendee"),
            Attendance("s1", "eva", "attendee"),
            Attendance("s2", "cem", "attendee"),
        ),
        unscheduled=(UnscheduledItem("s3", "workshop", "no free room"),),
        status="OPTIMAL",
        objective=6,
        bound=6,
        solve_seconds=0.1,
    )
    frames = table_frames(conf, Matchmaking((), (), ()), schedule)

    wants = review.wanted_sessions(conf, frames).set_index(["participant_id", "session_id"])

    why = wants["why_missed"].to_dict()
    assert why[("ana", "s1")] == "" and bool(wants.loc[("ana", "s1"), "attended"])
    assert why[("ana", "s3")] == "not scheduled: no free room"
    assert why[("ben", "s1")] == "unavailable (dentist)"
    assert why[("cem", "s1")] == "clashes with s2"
    assert why[("dora", "s1")] == "session full (2 of 2)"
    assert why[("fritz", "s1")] == "outside their hours (14:00-18:00 local)"
    # the same measure as report.json: attended weight over wanted weight
    attended = (wants["weight"] * wants["attended"]).sum() / wants["weight"].sum()
    assert attended == pytest.approx(satisfaction(conf, schedule).overall)

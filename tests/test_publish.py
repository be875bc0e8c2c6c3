"""The output folder is the tool's own: a run replaces only an empty folder or one it wrote
itself (its marker lists every file), one run at a time, through a symlink, carrying over
what other commands of the tool keep there, and never deletes a file it did not write."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from scheduler import publish
from scheduler.cli import main
from scheduler.errors import UserError
from scheduler.generate import generate
from tests.conftest import ROOT
from tests.test_pipeline import snapshot


def hidden_siblings(folder: Path) -> list[str]:
    """What a run may leave beside an output folder (there must be nothing)."""
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith("."))


def writer(version: str) -> Callable[[Path], None]:
    """A new version of the outputs: a table and a calendar in a subfolder."""

    def write(folder: Path) -> None:
        (folder / "schedule.csv").write_text(f"event_id\n{version}\n", encoding="utf-8")
        (folder / "calendars").mkdir()
        (folder / "calendars" / "conference.ics").write_text(version, encoding="utf-8")

    return write


@pytest.fixture
def outputs(tmp_path: Path) -> Path:
    """An outputs folder holding a first version."""
    out = tmp_path / "outputs"
    publish.publish(out, writer("first"))
    return out


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("publish") / "inputs"
    generate(folder, cities=4, participants=8, sessions=3, seed=1)
    return folder


def test_the_marker_lists_every_file_the_run_wrote(outputs: Path) -> None:
    marker = json.loads((outputs / publish.MARKER).read_text(encoding="utf-8"))
    assert marker["files"] == ["calendars/conference.ics", "schedule.csv"]
    publish.publish(outputs, writer("second"))
    assert (outputs / "schedule.csv").read_text(encoding="utf-8") == "event_id\nsecond\n"
    assert hidden_siblings(outputs) == []


def test_the_inputs_folder_given_as_out_is_refused_and_untouched(
    inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the example: an inputs folder that happens to hold a schedule.csv
    folder = tmp_path / "conference"
    folder.mkdir()
    for file in inputs.iterdir():
        (folder / file.name).write_bytes(file.read_bytes())
    (folder / "schedule.csv").write_text("event_id\n", encoding="utf-8")
    before = snapshot(folder)

    code = main(["run", str(folder), "--out", str(folder), "--time-limit", "5"])

    err = capsys.readouterr().err
    assert code == 2
    assert "is no outputs folder of this tool" in err
    assert "conference.toml" in err and "cities.csv" in err
    assert snapshot(folder) == before
    assert hidden_siblings(folder) == []


@pytest.mark.parametrize(
    "intruder", ["minutes.docx", "agendas/notes.txt", "calendars/mine.ics", "keys/id_rsa"]
)
def test_a_file_the_tool_did_not_write_is_named_and_nothing_is_replaced(
    outputs: Path, intruder: str
) -> None:
    (outputs / intruder).parent.mkdir(exist_ok=True)
    (outputs / intruder).write_bytes(b"do not delete")
    before = snapshot(outputs)
    with pytest.raises(UserError, match="holds files this tool did not write") as refused:
        publish.publish(outputs, writer("second"))
    assert intruder.split("/")[0] in str(refused.value)
    assert snapshot(outputs) == before
    assert hidden_siblings(outputs) == []


def test_a_marker_never_makes_the_tool_delete_outside_its_folder(
    outputs: Path, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"mine")
    marker = outputs / publish.MARKER
    listed = json.loads(marker.read_text(encoding="utf-8"))
    listed["files"] += ["../victim.txt", str(victim)]
    marker.write_text(json.dumps(listed), encoding="utf-8")
    publish.publish(outputs, writer("second"))
    assert victim.read_bytes() == b"mine"
    assert (outputs / "schedule.csv").read_text(encoding="utf-8") == "event_id\nsecond\n"


def test_a_folder_of_documents_is_refused(tmp_path: Path) -> None:
    documents = tmp_path / "documents"
    documents.mkdir()
    (documents / "report.json").write_text("{}", encoding="utf-8")  # looked like outputs once
    (documents / "minutes.docx").write_bytes(b"do not delete")
    before = snapshot(documents)
    with pytest.raises(UserError, match="minutes.docx"):
        publish.publish(documents, writer("first"))
    assert snapshot(documents) == before


def test_files_of_other_commands_are_carried_over_into_the_new_version(outputs: Path) -> None:
    ledger = sqlite3.connect(outputs / "delivery.sqlite")
    ledger.execute("create table sent (message text)")
    ledger.execute("insert into sent values ('p001/s004')")
    ledger.commit()
    ledger.close()
    (outputs / "outbox").mkdir()
    (outputs / "outbox" / "p001-s004.eml").write_text("Subject: invite\n", encoding="utf-8")

    publish.publish(outputs, writer("second"))

    assert (outputs / "schedule.csv").read_text(encoding="utf-8") == "event_id\nsecond\n"
    with sqlite3.connect(outputs / "delivery.sqlite") as ledger:
        assert ledger.execute("select message from sent").fetchall() == [("p001/s004",)]
    assert (outputs / "outbox" / "p001-s004.eml").read_text(encoding="utf-8") == (
        "Subject: invite\n"
    )
    marker = json.loads((outputs / publish.MARKER).read_text(encoding="utf-8"))
    assert "delivery.sqlite" not in marker["files"]  # not written by run, yet its own
    assert hidden_siblings(outputs) == []


def test_a_failed_or_interrupted_write_leaves_the_previous_version(outputs: Path) -> None:
    before = snapshot(outputs)
    (outputs / "delivery.sqlite").write_bytes(b"ledger")
    before = snapshot(outputs)

    def fails(folder: Path) -> None:
        writer("second")(folder)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        publish.publish(outputs, fails)
    assert snapshot(outputs) == before
    assert hidden_siblings(outputs) == []


def test_a_symlinked_folder_is_published_through_and_stays_a_link(
    outputs: Path, tmp_path: Path
) -> None:
    link = tmp_path / "link"
    link.symlink_to(outputs, target_is_directory=True)
    publish.publish(link, writer("second"))
    assert link.is_symlink() and link.resolve() == outputs
    assert (outputs / "schedule.csv").read_text(encoding="utf-8") == "event_id\nsecond\n"
    assert hidden_siblings(outputs) == []  # no `.link-old-*`, nothing else


def test_a_dangling_link_is_published_through_to_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "target")
    publish.publish(link, writer("first"))
    assert link.is_symlink()
    assert (tmp_path / "target" / "schedule.csv").is_file()


# --- one run at a time ------------------------------------------------------------------


def test_a_second_run_into_the_same_folder_is_refused_while_the_first_writes(
    outputs: Path, inputs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(outputs)
    with publish.claimed(outputs):
        code = main(["run", str(inputs), "--out", str(outputs), "--time-limit", "5"])
        assert code == 2
        assert "another run is writing into" in capsys.readouterr().err
        assert snapshot(outputs) == before


def test_the_lock_holds_across_the_swap(outputs: Path) -> None:
    with publish.claimed(outputs) as claim:
        claim.publish(writer("second"))  # the folder was replaced ...
        with pytest.raises(UserError, match="another run is writing"):
            publish.publish(outputs, writer("third"))  # ... and is still locked
    assert (outputs / "schedule.csv").read_text(encoding="utf-8") == "event_id\nsecond\n"
    publish.publish(outputs, writer("third"))
    assert hidden_siblings(outputs) == []


def test_a_killed_run_leaves_no_stale_lock(outputs: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time; from scheduler import publish\n"
                "with publish.claimed(sys.argv[1]):\n"
                "    print('locked', flush=True); time.sleep(60)"
            ),
            str(outputs),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        with pytest.raises(UserError, match="another run is writing"):
            publish.publish(outputs, writer("second"))
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    publish.publish(outputs, writer("second"))
    assert (outputs / "schedule.csv").read_text(encoding="utf-8") == "event_id\nsecond\n"
    assert hidden_siblings(outputs) == []


# --- every path problem is a message ------------------------------------------------------


def run_cli(inputs: Path, out: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["run", str(inputs), "--out", out, "--time-limit", "5"])
    return code, capsys.readouterr().err


def test_out_through_a_folder_that_does_not_exist_is_a_message(
    inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run_cli(inputs, str(tmp_path / "dd" / "Y" / ".."), capsys)
    assert code == 2
    assert "goes up ('..')" in err and "dd/Y" in err
    assert not (tmp_path / "dd").exists()


def test_out_an_existing_file_is_a_message(
    inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "outputs"
    file.write_bytes(b"mine")
    code, err = run_cli(inputs, str(file), capsys)
    assert (code, file.read_bytes()) == (2, b"mine")
    assert "is a file, not an output folder" in err
    code, err = run_cli(inputs, str(file / "inside"), capsys)
    assert code == 2 and "a part of its path is a file" in err


def test_a_pipe_as_inputs_or_out_is_a_message_and_never_waited_on(
    inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    code, err = run_cli(inputs, str(fifo), capsys)
    assert code == 2 and "is a device, pipe or socket, not an output folder" in err
    code, err = run_cli(fifo, str(tmp_path / "outputs"), capsys)
    assert code == 2 and "is a device, pipe or socket, not an input folder" in err


def test_out_in_a_folder_nobody_may_write_in_is_a_message(
    inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if os.geteuid() == 0:  # root writes everywhere but in the kernel's own folders
        parent = Path("/sys")
    else:
        parent = tmp_path / "read-only"
        parent.mkdir(mode=0o555)
    code, err = run_cli(inputs, str(parent / "outputs"), capsys)
    assert code == 2
    assert f"cannot write in {parent}" in err


def test_inputs_that_is_a_file_is_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "conference.toml"
    file.write_text("", encoding="utf-8")
    code, err = run_cli(file, str(tmp_path / "outputs"), capsys)
    assert code == 2
    assert "is a file, not an input folder" in err
    assert main(["check", str(file), str(tmp_path)]) == 2
    assert "is a file, not an input folder" in capsys.readouterr().err


def test_check_of_outputs_that_are_a_file_or_missing_is_a_message(
    inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "outputs"
    file.write_bytes(b"")
    for outputs in (file, tmp_path / "missing"):
        code = main(["check", str(inputs), str(outputs)])
        err = capsys.readouterr().err
        assert code == 2, err
        assert str(outputs) in err


def test_generate_refuses_a_folder_with_the_users_files_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "conference"
    folder.mkdir()
    (folder / "cities.csv").write_text("my own cities\n", encoding="utf-8")
    arguments = ["generate", str(folder), "--cities", "4", "--participants", "8"]
    arguments += ["--sessions", "3"]

    assert main(arguments) == 2
    err = capsys.readouterr().err
    assert "is not empty" in err and "--force" in err and "cities.csv" in err
    assert (folder / "cities.csv").read_text(encoding="utf-8") == "my own cities\n"

    assert main([*arguments, "--force"]) == 0
    assert (folder / "cities.csv").read_text(encoding="utf-8") != "my own cities\n"

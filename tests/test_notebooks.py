"""The organiser's notebooks run top to bottom against a fresh run, and are committed
without outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from scheduler import pipeline
from scheduler.generate import generate
from tests.conftest import ROOT

NOTEBOOKS = ROOT / "notebooks"


@pytest.fixture(scope="module")
def fresh_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small generated conference, solved and published: (inputs, outputs)."""
    base = tmp_path_factory.mktemp("notebooks")
    inputs, outputs = base / "inputs", base / "outputs"
    generate(inputs, cities=4, participants=16, sessions=6, seed=3)
    pipeline.run(inputs, outputs, time_limit=10)
    return inputs, outputs


@pytest.fixture(scope="module")
def replanned(
    fresh_run: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """The same conference with one room less, re-planned from the first run."""
    import shutil

    inputs, first = fresh_run
    base = tmp_path_factory.mktemp("replanned")
    changed, outputs = base / "inputs", base / "outputs"
    shutil.copytree(inputs, changed)
    shutil.copytree(first, outputs)
    toml = changed / "conference.toml"
    text = toml.read_text(encoding="utf-8")
    rooms = int(text.split("rooms = ", 1)[1].split()[0])
    toml.write_text(text.replace(f"rooms = {rooms}", f"rooms = {max(1, rooms - 1)}"), "utf-8")
    pipeline.run(changed, outputs, time_limit=10, previous=outputs)
    return changed, outputs


@pytest.mark.parametrize("name", ["review", "what_if", "changes"])
def test_notebook_runs_every_cell(
    name: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs, outputs = request.getfixturevalue("replanned" if name == "changes" else "fresh_run")
    # the kernel inherits this process's environment
    monkeypatch.setenv("SCHEDULER_INPUTS", str(inputs))
    monkeypatch.setenv("SCHEDULER_OUTPUTS", str(outputs))
    monkeypatch.setenv("SCHEDULER_TIME_LIMIT", "5")
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, when one fails
    shown = [
        output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    ]
    assert not [o for o in shown if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in shown), "no chart was drawn"


@pytest.mark.parametrize("name", ["review", "what_if", "changes"])
def test_notebook_is_committed_without_outputs(name: str) -> None:
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None

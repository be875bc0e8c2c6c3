"""Publishing a run: the output folder is replaced as a whole, atomically.

A new version is written into a temporary sibling folder, checked by the caller, and only
then swapped in. On any failure or Ctrl-C the temporary folder is removed and the output
folder is untouched. What a run killed outright left next to the folder is tidied by the
next run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from scheduler.errors import UserError

# The files that mark a folder as one this tool wrote: only such a folder (or an empty
# one) is replaced as a whole.
_OUTPUT_MARKERS = ("report.json", "schedule.csv")


def refuse_foreign_folder(out: Path) -> None:
    """The output folder is replaced as a whole: refuse one that holds anything else."""
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} is a file, not an output folder")
    looks_like_outputs = any((out / marker).is_file() for marker in _OUTPUT_MARKERS)
    if out.is_dir() and any(out.iterdir()) and not looks_like_outputs:
        raise UserError(
            f"{out} is not empty and holds no earlier outputs (no report.json); the "
            "output folder is replaced as a whole, so choose an empty or new folder"
        )


def publish(folder: Path, write: Callable[[Path], None]) -> Path:
    """Replace ``folder`` by what ``write`` puts into a fresh temporary folder.

    ``write`` gets the temporary folder and raises to abandon the new version; then (and on
    Ctrl-C) the temporary folder is removed and ``folder`` stays as it was. Returns the
    absolute output folder.
    """
    out = Path(folder).absolute()
    refuse_foreign_folder(out)
    _clean_up_after_dead_runs(out)
    temp = out.with_name(f".{out.name}-tmp-{os.getpid()}")  # hidden; .gitignore knows it
    shutil.rmtree(temp, ignore_errors=True)
    try:
        temp.mkdir(parents=True)
        write(temp)
        _swap_in(temp, out)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return out


def _swap_in(temp: Path, out: Path) -> None:
    """Move ``temp`` into the place of ``out``: two renames, the old folder restored if the
    second one fails, so ``out`` is always either the old or the new outputs."""
    old = out.with_name(f".{out.name}-old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    had_old = out.exists()
    if had_old:
        os.replace(out, old)
    try:
        os.replace(temp, out)
    except BaseException:
        if had_old and not out.exists():
            os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _clean_up_after_dead_runs(out: Path) -> None:
    """Tidy what a run killed outright (power cut, SIGKILL) left next to ``out``: its
    half-written folder goes; previous outputs it had set aside come back if ``out`` is
    missing. Folders of runs still alive (another run into the same folder) stay."""
    for sibling in sorted(out.parent.glob(f".{out.name}-*-*")):
        kind, _, pid = sibling.name[len(out.name) + 2 :].partition("-")
        if kind not in ("tmp", "old") or not pid.isdigit() or _alive(int(pid)):
            continue
        if kind == "old" and not out.exists():
            os.replace(sibling, out)
        else:
            shutil.rmtree(sibling, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # somebody else's process
    return True

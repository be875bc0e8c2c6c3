"""The output folder is the tool's own: a marker, a lock and an atomic swap.

- **Marker.** Every outputs folder holds `MARKER`, a JSON file listing every file the
  run wrote. A folder is replaced only when it is empty or carries the marker and holds
  nothing else than the listed files and the names in `CARRIED_OVER`; anything else is
  named in the refusal, and nothing is touched. The tool never deletes a file it did not
  write.
- **Carried over.** Other commands of the tool keep their own files in the outputs folder
  (the delivery ledger ``delivery.sqlite``, the ``outbox/`` of messages). They count as
  the tool's own and are carried into every new version (hard links, else copies), so a
  new run never loses them. A command that adds such a file adds its name to
  `CARRIED_OVER` and writes it while holding `locked`.
- **Lock.** One run at a time writes into a folder: `claimed` takes an exclusive
  ``flock`` on ``.NAME.lock`` beside the folder for the whole run, the swap included. The
  kernel releases it when the process dies, so a killed run leaves no stale lock.
- **Atomic swap.** A new version is written into ``.NAME-tmp-PID`` beside the folder,
  checked by the caller, and swapped in by two renames. Invalid inputs, a rejected
  schedule, an error or Ctrl-C leave the previous version as it was. What a run killed
  outright left beside the folder is tidied by the next run.
- **Links.** A symlinked output folder is published through: the link's target receives
  the outputs, the link stays a link.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISLNK, S_ISREG

from scheduler.errors import UserError

# The marker of an outputs folder: which files the run wrote.
MARKER = ".scheduler-outputs.json"

# Files and folders that other commands of the tool write into an outputs folder: they are
# the tool's own and are carried over into each new version by `run` (top-level names).
CARRIED_OVER = (
    "delivery.sqlite",
    "delivery.sqlite-journal",
    "delivery.sqlite-wal",
    "delivery.sqlite-shm",
    "outbox",
)

# How many entries a refusal names before it only counts.
_NAMED = 8


def output_folder(folder: Path | str) -> Path:
    """Where outputs given as ``folder`` go: an absolute path through any symlink (a
    linked folder is published through). A ``..`` must follow an existing folder, as it
    does for the operating system; raises UserError for a path that names no folder."""
    given = Path(folder)
    parts = given.parts
    if ".." in parts:
        last = len(parts) - 1 - parts[::-1].index("..")
        before = Path(*parts[:last]) if last else Path(".")
        if not before.is_dir():
            raise UserError(
                f"the output folder {given} goes up ('..') from {before}, which is not an "
                "existing folder: give the output folder without '..', or create it first"
            )
    out = Path(os.path.realpath(given))
    if out.is_symlink():
        raise UserError(f"the output folder {given} is a symbolic link that leads nowhere (a loop)")
    if out == out.parent:
        raise UserError(f"the output folder {given} is the root of the file system")
    return out


def check_replaceable(out: Path) -> None:
    """Raise UserError, naming what is in the way, unless ``out`` may be replaced by a new
    version of the outputs: it does not exist, is empty, or carries the marker and holds
    nothing but its listed files and the carried-over names."""
    if not out.exists() and not out.is_symlink():
        return
    if not out.is_dir():
        kind = "a file" if out.is_file() else "a device, pipe or socket"
        raise UserError(f"{out} is {kind}, not an output folder: choose another --out")
    foreign = _foreign_entries(out)
    if not foreign:
        return
    shown = ", ".join(foreign[:_NAMED]) + (
        f" and {len(foreign) - _NAMED} more" if len(foreign) > _NAMED else ""
    )
    if not (out / MARKER).is_file():
        raise UserError(
            f"{out} is not empty and is no outputs folder of this tool (it has no {MARKER}); "
            f"it holds {shown}. The output folder is replaced as a whole, so choose an empty "
            "or new folder (outputs of an earlier version of the tool: delete the folder once)"
        )
    raise UserError(
        f"{out} holds files this tool did not write: {shown}. The output folder is replaced "
        "as a whole: move them elsewhere, or choose another folder"
    )


def _written_files(out: Path) -> set[str] | None:
    """The files the marker of ``out`` lists (relative, with /), or None without one."""
    try:
        marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
        files = marker["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(files, list):
        return None
    # only names inside the folder: a marker edited to list "../x" deletes nothing outside
    return {f for f in files if isinstance(f, str) and f and not _OUTSIDE.search(f)}


# A path that is absolute or has an empty, "." or ".." part: it may lead outside.
_OUTSIDE = re.compile(r"(?:^|/)\.{0,2}(?:/|$)")


def _foreign_entries(out: Path) -> list[str]:
    """Everything in ``out`` the tool did not write (relative paths, sorted): every entry
    of a folder without a marker; else what the marker does not list and is not carried
    over."""
    written = _written_files(out)
    if written is None:
        return sorted(entry.name for entry in out.iterdir())
    # every folder on the way to a listed file ("a/b/c.ics": "a", "a/b"), by string
    # operations: a Path per file costs seconds at tens of thousands of files
    folders: set[str] = set()
    for name in written:
        end = name.rfind("/")
        while end > 0 and name[:end] not in folders:  # its parents are in once it is
            folders.add(name[:end])
            end = name.rfind("/", 0, end)
    foreign: list[str] = []

    def walk(folder: Path, prefix: str) -> None:
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            name = prefix + entry.name
            if not prefix and (entry.name == MARKER or entry.name in CARRIED_OVER):
                continue
            if entry.is_dir(follow_symlinks=False):
                if name in folders:
                    walk(Path(entry.path), name + "/")
                else:
                    foreign.append(name + "/")
            elif name not in written:
                foreign.append(name)

    walk(out, "")
    return foreign


@contextmanager
def locked(folder: Path | str) -> Iterator[None]:
    """Hold the lock of an output folder while the block runs (other commands of the tool
    hold it while they write their files there); raises UserError at once when another
    run holds it. Creates the folder's parents."""
    out = output_folder(folder)
    _make_parents(out)
    lock = out.with_name(f".{out.name}.lock")
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise UserError(
                f"cannot write in {out.parent} ({error.strerror}), so not into {out} either"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UserError(
                f"another run is writing into {out} right now; wait for it to end, or choose "
                "another output folder"
            ) from None
        # the file may have been removed by the run that held it just before: lock anew
        try:
            if os.stat(lock).st_ino == os.fstat(fd).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)  # still holding the lock: nobody else locks this file now
        os.close(fd)


def _make_parents(out: Path) -> None:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise UserError(
            f"cannot create the output folder {out}: a part of its path is a file"
        ) from None
    except OSError as error:
        raise UserError(f"cannot create the output folder {out}: {error.strerror}") from None
    if not os.access(out.parent, os.W_OK | os.X_OK):
        raise UserError(f"cannot write in {out.parent}: permission denied")


@dataclass(frozen=True)
class Claim:
    """An output folder this process holds the lock of (see `claimed`)."""

    folder: Path  # absolute, through symlinks

    def publish(self, write: Callable[[Path], None]) -> Path:
        """Replace the folder by what ``write`` puts into a fresh temporary folder.

        ``write`` gets the temporary folder and raises to abandon the new version; then (and
        on Ctrl-C) the temporary folder is removed and the folder stays as it was. The
        marker is added, the carried-over files of the previous version are brought in,
        and the two are swapped. Returns the folder.
        """
        out = self.folder
        _clean_up_after_dead_runs(out)
        temp = out.with_name(f".{out.name}-tmp-{os.getpid()}")  # hidden; .gitignore knows it
        try:
            temp.mkdir()
            write(temp)
            _write_marker(temp)
            _carry_over(out, temp)
            check_replaceable(out)  # again: the user may have added a file meanwhile
            _swap_in(temp, out)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        return out


@contextmanager
def claimed(folder: Path | str) -> Iterator[Claim]:
    """The output folder, checked (`check_replaceable`) and locked for as long as the block
    runs: a run claims it before the solve, so a second run into it is refused at once,
    and publishes at the end."""
    out = output_folder(folder)
    check_replaceable(out)
    with locked(out):
        yield Claim(out)


def publish(folder: Path | str, write: Callable[[Path], None]) -> Path:
    """Claim ``folder`` and publish what ``write`` puts into the new version."""
    with claimed(folder) as claim:
        return claim.publish(write)


def _files_under(top: Path, prefix: str = "") -> Iterator[str]:
    """Every file (and symbolic link) under ``top``, relative, with ``/``."""
    for entry in os.scandir(top):
        if entry.is_dir(follow_symlinks=False):
            yield from _files_under(Path(entry.path), f"{prefix}{entry.name}/")
        else:
            yield prefix + entry.name


def _write_marker(temp: Path) -> None:
    files = sorted(_files_under(temp))
    text = json.dumps(
        {
            "written_by": "scheduler run",
            "about": "An outputs folder of the scheduler: a new run replaces it as a whole. "
            "Keep no files of your own in it.",
            "files": files,
        },
        ensure_ascii=False,
        indent=2,
    )
    (temp / MARKER).write_text(text + "\n", encoding="utf-8")


def _carry_over(out: Path, temp: Path) -> None:
    """Bring the carried-over files of the previous version into the new one. Hard links
    where the file system has them (instant, and the previous version keeps its own until
    the swap), copies elsewhere."""
    for name in CARRIED_OVER:
        source, target = out / name, temp / name
        if not (source.exists() or source.is_symlink()) or target.exists():
            continue
        if source.is_dir() and not source.is_symlink():
            shutil.copytree(source, target, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(str(source), str(target))


def _link_or_copy(source: str, target: str) -> None:
    if os.path.islink(source):
        os.symlink(os.readlink(source), target)
        return
    try:
        os.link(source, target)
    except OSError as error:
        if error.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
        shutil.copy2(source, target)


def _swap_in(temp: Path, out: Path) -> None:
    """Move ``temp`` into the place of ``out``: two renames, the old folder restored if the
    second one fails, so ``out`` is always either the old or the new outputs."""
    old = out.with_name(f".{out.name}-old-{os.getpid()}")
    _remove_old(old)
    had_old = out.exists()
    if had_old:
        os.replace(out, old)
    try:
        os.replace(temp, out)
    except BaseException:
        if had_old and not out.exists():
            os.replace(old, out)
        raise
    _remove_old(old)


def _remove_empty_folders(top: str) -> None:
    """Remove the folders under ``top`` that hold nothing (once their own are removed)."""
    for folder, _subfolders, files in os.walk(top, topdown=False):
        if folder != top and not files:
            try:
                os.rmdir(folder)  # empty now unless a folder in it was kept
            except OSError as error:
                if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise


def _remove_old(old: Path) -> None:
    """Remove a previous version set aside: only what the tool wrote (its marker's files,
    the carried-over names, which the new version holds, and empty folders)."""
    if not old.exists():
        return
    written = _written_files(old) or set()
    top = str(old)
    for name in written:  # strings, not Paths: tens of thousands of files
        listed = f"{top}/{name}"
        try:
            kind = os.lstat(listed).st_mode
        except OSError:
            continue  # gone already
        if S_ISLNK(kind) or S_ISREG(kind):
            os.unlink(listed)
    for name in CARRIED_OVER:
        path = old / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    _remove_empty_folders(top)
    (old / MARKER).unlink(missing_ok=True)
    if not any(old.iterdir()):
        old.rmdir()


def _clean_up_after_dead_runs(out: Path) -> None:
    """Tidy what a run killed outright (power cut, SIGKILL) left next to ``out``: its
    half-written folder goes; previous outputs it had set aside come back if ``out`` is
    missing. The caller holds the lock, so no other run is writing there now."""
    for sibling in sorted(out.parent.glob(f".{out.name}-*-*")):
        kind, _, pid = sibling.name[len(out.name) + 2 :].partition("-")
        if kind not in ("tmp", "old") or not pid.isdigit():
            continue
        if sibling.is_symlink() or not sibling.is_dir():
            continue  # not a folder a run made
        if kind == "old" and not out.exists():
            os.replace(sibling, out)
        elif kind == "old":
            _remove_old(sibling)
        else:
            shutil.rmtree(sibling, ignore_errors=True)

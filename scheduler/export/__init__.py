"""Exporters: present a Schedule as files. They decide nothing the Schedule does not say.

    write_presentations(conference, matchmaking, schedule, folder, stamp=..., previous=...)
      -> calendars/, invites/ (ical.py) and agendas/ (agendas.py) in ``folder``

Only what changed is made again: every calendar, invite and agenda file is listed in
``manifest.json`` of its outputs folder with a key, the hash of what the file is made
from. Given the previous outputs, a file whose key is unchanged is carried over (a hard
link, else a copy) instead of being rendered and written again. See docs/agendas.md.
"""

from __future__ import annotations

import dataclasses
import fcntl
import functools
import hashlib
import json
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from stat import S_ISREG
from typing import TYPE_CHECKING, Any

from scheduler.publish import MARKER

if TYPE_CHECKING:
    from scheduler.export.agendas import AgendaVersion
    from scheduler.export.ical import Cancellation
    from scheduler.model import Conference, Matchmaking, Schedule

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1

# Told what is being written and how far: (what, done, total), e.g. ("agendas", 40, 160).
Progress = Callable[[str, int, int], None]


def write_presentations(
    conference: Conference,
    matchmaking: Matchmaking,
    schedule: Schedule,
    folder: Path,
    *,
    stamp: datetime,
    sequences: Mapping[str, int] | None = None,
    cancellations: Iterable[Cancellation] = (),
    previous: Path | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    version: AgendaVersion | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> None:
    """Write the calendars, invites and agendas of a schedule into ``folder``.

    ``stamp``, ``sequences`` and ``cancellations`` are those of `write_calendars`.

    ``previous`` is the folder of the last published outputs (or None): its files whose
    content would not change are carried over, so a re-run of unchanged inputs renders
    and writes none of them again (and they keep their DTSTAMP). ``progress`` is told
    what is being written and how far. With two or more ``workers`` (default: one per
    CPU) and enough cities, a second process writes the agendas (and starts PDF helpers
    of its own) while this one writes the calendars: each holds its own copy of the
    conference and schedule, some 100-300 MB at 5,000 participants (not when the
    agendas are unchanged: then this process carries them over). ``meanwhile`` is called
    once the calendars and invites are written, while the agendas may still be (to check
    what is written so far: the agendas take longest).
    """
    from scheduler.export.agendas import agendas_key, write_agendas
    from scheduler.export.ical import write_calendars

    drawn = drawn_from(conference, matchmaking, schedule)

    def calendars(told: Progress | None) -> None:
        write_calendars(
            conference,
            matchmaking,
            schedule,
            folder,
            stamp=stamp,
            sequences=sequences,
            cancellations=cancellations,
            previous=previous,
            progress=told,
            drawn=drawn,
        )

    cores = workers or os.cpu_count() or 1
    unchanged = previous is not None and (
        _read(Path(previous))[1].get(AGENDAS) == agendas_key(drawn, pdf=True, version=version)
    )
    if cores < 2 or len(conference.cities) < AGENDAS_APART_FROM or unchanged:
        calendars(progress)
        if meanwhile is not None:
            meanwhile()
        write_agendas(
            conference,
            matchmaking,
            schedule,
            folder,
            previous=previous,
            progress=progress,
            workers=cores,
            version=version,
            drawn=drawn,
        )
        return
    told = _serialised(progress)
    with tempfile.TemporaryDirectory(prefix="export-") as scratch:
        job = Path(scratch) / "agendas.pickle"
        with job.open("wb") as file:
            work = (conference, matchmaking, schedule, str(folder), previous, cores, version, drawn)
            pickle.dump(work, file, protocol=pickle.HIGHEST_PROTOCOL)
        log = Path(scratch) / "agendas.log"
        with log.open("w", encoding="utf-8") as stderr:
            child = subprocess.Popen(
                [sys.executable, "-P", "-c", _AGENDAS_CHILD, str(job)],
                stdout=subprocess.PIPE,
                stderr=stderr,
                env=child_environment(),
                text=True,
                encoding="utf-8",
                start_new_session=True,  # its own process group: it and its helpers end together
            )
        assert child.stdout is not None
        relay = threading.Thread(target=_relay, args=(child.stdout, told), daemon=True)
        relay.start()
        try:
            calendars(told)
            if meanwhile is not None:
                meanwhile()
            code = child.wait()
            relay.join()
        finally:
            if child.poll() is None:  # an error here or Ctrl-C: nothing left writing
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
            child.stdout.close()
        if code != 0:
            tail = log.read_text("utf-8", errors="replace")[-3000:]
            raise RuntimeError(f"writing the agendas failed:\n{tail}")


# From this many cities on, the agendas are written by a second process (see above).
AGENDAS_APART_FROM = 16

_AGENDAS_CHILD = """
import pickle, sys
from pathlib import Path
from scheduler.export.agendas import write_agendas
with open(sys.argv[1], "rb") as file:
    conference, matchmaking, schedule, folder, previous, workers, version, drawn = pickle.load(file)
def progress(what, done, total):
    print(f"{what}\\t{done}\\t{total}", flush=True)
write_agendas(conference, matchmaking, schedule, Path(folder), previous=previous,
              progress=progress, workers=workers, version=version, drawn=drawn)
"""


def child_environment() -> dict[str, str]:
    """This environment, with this package importable in a fresh interpreter."""
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    return env


def _relay(lines: Iterable[str], progress: Progress | None) -> None:
    """The child's progress lines (what, done, total) to ``progress``."""
    for line in lines:
        what, done, total = line.rstrip("\n").rsplit("\t", 2)
        if progress is not None:
            progress(what, int(done), int(total))


def _serialised(progress: Progress | None) -> Progress | None:
    """``progress`` callable from two threads, one call at a time."""
    if progress is None:
        return None
    lock = threading.Lock()

    def told(what: str, done: int, total: int) -> None:
        with lock:
            progress(what, done, total)

    return told


def key_of(*parts: bytes | str) -> str:
    """The key of a file: a hash of everything it is made from (128 bits, in hex)."""
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(part.encode("utf-8") if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()


class OutputFiles:
    """The files one writer puts into an outputs folder, under its own sub-folders.

    ``manifest.json`` maps each path to ``[key, size, digest of the bytes]``, and each
    writer's whole set of files to the key of everything it was made from (``sets``).
    ``carry_all(key)`` carries the whole previous set over when that key is unchanged
    (a re-run of unchanged inputs: nothing is even rendered); else
    ``carry_over(path, key)`` brings the previous outputs' file at ``path`` into the new
    folder when it was made from the same key and is as the tool left it (same size and
    bytes); ``write(path, content, key)`` writes a new one. ``save()`` records
    both in ``manifest.json`` (the entries of other writers stay). Paths are relative to
    the outputs folder, with ``/``.
    """

    def __init__(self, folder: Path, previous: Path | None, prefixes: Iterable[str]) -> None:
        self.folder = Path(folder)
        self.prefixes = tuple(prefixes)
        self.previous = Path(previous) if previous is not None else None
        self.name = ",".join(self.prefixes)  # of the set, in the manifest: CALENDARS, AGENDAS
        old = _read(self.previous) if self.previous is not None else ({}, {})
        self.old, self.old_sets = old
        self.untouched_since = _published_at(self.previous) if self.previous else None
        self.entries: dict[str, list[Any]] = {}  # path -> [key, size, digest]
        self.whole = ""  # the key of the whole set, once known
        self.made: set[str] = set()  # folders known to exist

    def carry_all(self, key: str) -> bool:
        """True when the previous outputs' whole set was made from ``key`` and every file
        of it is now also in the new folder (else carry or make them one by one)."""
        self.whole = key
        if self.old_sets.get(self.name) != key:
            return False
        mine = [(p, e) for p, e in self.old.items() if p.startswith(self.prefixes)]
        return all(self.carry_over(path, entry[0]) for path, entry in mine)

    def carry_over(self, path: str, key: str) -> bool:
        """True when the previous file made from ``key`` is now also in the new folder.
        (Strings, not Paths, and one read per file: a re-run carries tens of thousands.)"""
        entry = self.old.get(path)
        if self.previous is None or entry is None or entry[0] != key:
            return False
        source = f"{self.previous}/{path}"
        if not self._as_left(source, entry):
            return False  # gone, unreadable or changed since the tool wrote it: make it again
        target = f"{self.folder}/{path}"
        if target != source:
            self._parent(target)
            try:
                os.link(source, target)
            except FileExistsError:
                os.unlink(target)
                os.link(source, target)
            except OSError:
                shutil.copy2(source, target)  # another file system, or no hard links
        self.entries[path] = entry
        return True

    def _as_left(self, source: str, entry: list[Any]) -> bool:
        """Is the previous file as the tool wrote it? A regular file of the recorded size
        not modified after the previous version was published is (see `_published_at`);
        any other is read and its digest compared."""
        try:
            stat = os.lstat(source)
        except OSError:
            return False
        if not S_ISREG(stat.st_mode) or stat.st_size != entry[1]:
            return False
        if self.untouched_since is not None and stat.st_mtime_ns <= self.untouched_since:
            return True
        try:
            content = _read_bytes(source)
        except OSError:
            return False
        return len(content) == entry[1] and _digest(content) == entry[2]

    def write(self, path: str, content: bytes, key: str) -> None:
        """Write a file made from ``key``: a new inode (never through a hard link to the
        previous outputs), in four system calls."""
        target = f"{self.folder}/{path}"  # strings, not Paths: tens of thousands of files
        self._parent(target)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(target, flags, 0o644)
        except FileExistsError:
            os.unlink(target)
            fd = os.open(target, flags, 0o644)
        try:
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        self.entries[path] = [key, len(content), _digest(content)]

    def record(self, path: str, key: str) -> None:
        """Note a file just written into the new folder by someone else (a helper)."""
        content = (self.folder / path).read_bytes()
        self.entries[path] = [key, len(content), _digest(content)]

    def save(self) -> None:
        """Record this writer's files in the folder's manifest, replacing its old entries
        (under a lock: the calendars and the agendas may be written at the same time)."""
        with open(self.folder / MANIFEST, "a+", encoding="utf-8") as file:
            fcntl.flock(file, fcntl.LOCK_EX)  # released when the file is closed
            file.seek(0)
            files, sets = _parse(file.read())
            kept = {p: e for p, e in files.items() if not p.startswith(self.prefixes)}
            kept.update(self.entries)
            sets = {n: k for n, k in sets.items() if n != self.name}
            if self.whole:
                sets[self.name] = self.whole
            manifest = {
                "version": MANIFEST_VERSION,
                "sets": dict(sorted(sets.items())),
                "files": dict(sorted(kept.items())),
            }
            text = json.dumps(manifest, ensure_ascii=False, separators=(",", ":"))
            file.seek(0)
            file.truncate()
            file.write(text.replace('],"', '],\n"') + "\n")  # a line per file

    def _parent(self, target: Path | str) -> None:
        parent = os.path.dirname(target)
        if parent not in self.made:
            os.makedirs(parent, exist_ok=True)
            self.made.add(parent)


def _read(folder: Path) -> tuple[dict[str, list[Any]], dict[str, str]]:
    """(files, sets) of the manifest in ``folder``; the last one read is kept, and used
    again while the file is unchanged (a publish reads the previous one several times)."""
    path = Path(folder) / MANIFEST
    try:
        stat = os.stat(path)
        seen = (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if _last_manifest and _last_manifest[0] == seen:
            files, sets = _last_manifest[1]
        else:
            files, sets = _parse(path.read_text("utf-8"))
            _last_manifest[:] = [seen, (files, sets)]
    except OSError:
        return {}, {}
    return dict(files), dict(sets)  # the caller's own copies


_last_manifest: list[Any] = []  # [(path, inode, size, mtime), (files, sets)]


def _published_at(folder: Path) -> int | None:
    """The time (ns) the outputs in ``folder`` were published, when it can be trusted: the
    manifest is saved after every file it lists, and the publish writes its marker after
    the manifest. A file modified later has a later mtime and is read in full; so is every
    file when the manifest was touched after the marker (or either is missing). Someone
    who edits a file and then sets its mtime back deliberately is not guarded against."""
    try:
        manifest = os.stat(folder / MANIFEST).st_mtime_ns
        marker = os.stat(folder / MARKER).st_mtime_ns
    except OSError:
        return None
    return manifest if manifest <= marker else None


def _parse(text: str) -> tuple[dict[str, list[Any]], dict[str, str]]:
    """(files, sets) of a manifest's text; nothing of one this version did not write."""
    try:
        manifest = json.loads(text)
    except ValueError:
        return {}, {}
    if not isinstance(manifest, dict) or manifest.get("version") != MANIFEST_VERSION:
        return {}, {}
    files, sets = manifest.get("files"), manifest.get("sets")
    if not isinstance(files, dict) or not isinstance(sets, dict):
        return {}, {}
    return {
        path: entry
        for path, entry in files.items()
        if isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], str)
    }, {name: key for name, key in sets.items() if isinstance(key, str)}


def code_version(source: str, *packages: str) -> str:
    """What a writer's files depend on beside its data: its source and the versions of
    the packages it uses (and of the zone data)."""
    from importlib.metadata import PackageNotFoundError, version

    parts = [Path(source).read_bytes()]
    for package in (*packages, "tzdata"):
        try:
            parts.append(f"{package} {version(package)}".encode())
        except PackageNotFoundError:
            parts.append(package.encode())
    return key_of(*parts)


# The sets of files each writer keeps in the manifest (named by their folders).
CALENDARS = "calendars/,invites/"
AGENDAS = "agendas/"


def drawn_from(conference: Conference, matchmaking: Matchmaking, schedule: Schedule) -> str:
    """The key of everything the calendars and agendas are drawn from (computed once for
    both: at 5,000 participants it takes about a second)."""
    shown = (schedule.events, schedule.attendance, schedule.unscheduled)  # not solve times
    return fingerprint(conference, matchmaking, shown)


def fingerprint(*values: object) -> str:
    """A key of data (the model's frozen dataclasses, mappings, sets, times): the same for
    equal data in every process (sets are sorted: their order depends on the process).
    The pieces are gathered as text and hashed once (a conference at M is some hundred
    thousand of them)."""
    parts: list[str] = []
    _feed(parts, values)
    text = "".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=16).hexdigest()


def _feed(parts: list[str], value: object) -> None:
    if isinstance(value, (str, int, float, bool)) or value is None:
        parts.append(f"{type(value).__name__}:{value!r};")
    elif isinstance(value, (list, tuple)):
        parts.append("[")
        for item in value:
            _feed(parts, item)
        parts.append("]")
    elif isinstance(value, (set, frozenset)):
        _feed(parts, sorted(value, key=repr))
    elif isinstance(value, Mapping):
        parts.append("{")
        for key in sorted(value, key=repr):
            _feed(parts, key)
            _feed(parts, value[key])
        parts.append("}")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        parts.append(type(value).__name__)
        _feed(parts, [getattr(value, name) for name in field_names(type(value))])
    else:  # datetimes, dates, zones: their repr says all (ZoneInfo's names the key)
        parts.append(f"{type(value).__name__}:{value!r};")


@functools.cache
def field_names(kind: type) -> tuple[str, ...]:
    """The field names of a dataclass, looked up once per class (data of thousands)."""
    return tuple(f.name for f in dataclasses.fields(kind))


def _digest(content: bytes) -> str:
    return hashlib.blake2b(content, digest_size=16).hexdigest()


def _read_bytes(path: str) -> bytes:
    """A whole file in a few system calls (no Python file object)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        size = os.fstat(fd).st_size
        chunks = [os.read(fd, size + 1)]
        while chunks[-1]:
            chunks.append(os.read(fd, 1 << 20))
        return b"".join(chunks)
    finally:
        os.close(fd)


class Ticker:
    """Calls ``progress`` as work goes on: at the start, then at most every two seconds,
    and at the end; cheap enough to call once per file."""

    EVERY_SECONDS = 2.0

    def __init__(self, progress: Progress | None, what: str, total: int) -> None:
        self.progress, self.what, self.total = progress, what, total
        self.done = 0
        self.last = time.monotonic()
        if progress is not None:
            progress(what, 0, total)

    def tick(self, count: int = 1) -> None:
        self.done += count
        if self.progress is None:
            return
        now = time.monotonic()
        if self.done >= self.total or now - self.last >= self.EVERY_SECONDS:
            self.last = now
            self.progress(self.what, self.done, self.total)


# -- text that is safe to write ------------------------------------------------------------


def plain_text(text: str, *, newlines: bool = False) -> str:
    """``text`` without control characters: line breaks become ``\\n`` when ``newlines``,
    else a space; tabs a space; NUL, every other control character and lone surrogates
    are dropped.

    Every string from the organisers' data goes through this before it is written into a
    calendar, a page or a PDF, whatever the loader let through."""
    if not _UNSAFE.search(text):
        return text  # the usual case, and fast
    text = _BREAKS.sub("\n" if newlines else " ", text.replace("\t", " "))
    return _DROPPED.sub("", text)


# Line breaks of every kind a cell or a TOML string may hold (CRLF as one).
_BREAKS = re.compile("\r\n|[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# What never reaches a file: the other control characters (Unicode's Cc) and surrogates.
_DROPPED = re.compile("[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\ud800-\udfff]")
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")

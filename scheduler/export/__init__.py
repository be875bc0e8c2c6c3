"""Exporters: present a Schedule as files. They decide nothing the Schedule does not say.

    write_presentations(conference, matchmaking, schedule, folder, stamp=..., previous=...)
      -> calendars/, invites/ (ical.py) and agendas/ (agendas.py) in ``folder``

Only what changed is made again: every calendar, invite and agenda file is listed in
``manifest.json`` of its outputs folder with a key, the hash of what the file is made
from. Given the previous outputs, a file whose key is unchanged is carried over (a hard
link, else a copy) instead of being rendered and written again. See docs/agendas.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import unicodedata
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    previous: Path | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> None:
    """Write the calendars, invites and agendas of a schedule into ``folder``.

    ``previous`` is the folder of the last published outputs (or None): its files whose
    content would not change are carried over, so a re-run of unchanged inputs renders
    and writes none of them again (and they keep their DTSTAMP). ``progress`` is told
    what is being written and how far; ``workers`` bounds the processes rendering PDFs.
    """
    from scheduler.export.agendas import write_agendas
    from scheduler.export.ical import write_calendars

    write_calendars(
        conference, matchmaking, schedule, folder, stamp=stamp, previous=previous, progress=progress
    )
    write_agendas(
        conference,
        matchmaking,
        schedule,
        folder,
        previous=previous,
        progress=progress,
        workers=workers,
    )


def key_of(*parts: bytes | str) -> str:
    """The key of a file: a hash of everything it is made from (128 bits, in hex)."""
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(part.encode("utf-8") if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()


class OutputFiles:
    """The files one writer puts into an outputs folder, under its own sub-folders.

    ``manifest.json`` maps each path to ``[key, size, digest of the bytes]``.
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
        self.old = read_manifest(self.previous) if self.previous is not None else {}
        self.entries: dict[str, list[Any]] = {}  # path -> [key, size, digest]
        self.carried = 0
        self.written = 0
        self.made: set[str] = set()  # folders known to exist

    def carry_over(self, path: str, key: str) -> bool:
        """True when the previous file made from ``key`` is now also in the new folder."""
        entry = self.old.get(path)
        if self.previous is None or entry is None or entry[0] != key:
            return False
        source = self.previous / path
        try:
            stat = source.stat()
        except OSError:
            return False  # gone (or unreadable): make it again
        if stat.st_size != entry[1] or _digest_of(source) != entry[2]:
            return False  # changed since the tool wrote it: make it again
        target = self.folder / path
        if target != source:
            self._parent(target)
            _remove(target)
            try:
                os.link(source, target)
            except OSError:
                shutil.copy2(source, target)  # another file system, or no hard links
        self.entries[path] = entry
        self.carried += 1
        return True

    def write(self, path: str, content: bytes, key: str) -> None:
        """Write a file made from ``key``: a new inode (never through a hard link to the
        previous outputs), in four system calls."""
        target = self.folder / path
        self._parent(target)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(target, flags, 0o644)
        except FileExistsError:
            target.unlink()
            fd = os.open(target, flags, 0o644)
        try:
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        self.entries[path] = [key, len(content), _digest(content)]
        self.written += 1

    def record(self, path: str, key: str) -> None:
        """Note a file just written into the new folder by someone else (a helper)."""
        content = (self.folder / path).read_bytes()
        self.entries[path] = [key, len(content), _digest(content)]
        self.written += 1

    def save(self) -> None:
        """Record this writer's files in the folder's manifest, replacing its old entries."""
        kept = {
            path: entry
            for path, entry in read_manifest(self.folder).items()
            if not path.startswith(self.prefixes)
        }
        kept.update(self.entries)
        manifest = {"version": MANIFEST_VERSION, "files": dict(sorted(kept.items()))}
        target = self.folder / MANIFEST
        _remove(target)
        text = json.dumps(manifest, ensure_ascii=False, separators=(",", ":"))
        target.write_text(text.replace('],"', '],\n"') + "\n", "utf-8")  # a line per file

    def _parent(self, target: Path) -> None:
        parent = str(target.parent)
        if parent not in self.made:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.made.add(parent)


def read_manifest(folder: Path) -> dict[str, list[Any]]:
    """The files of an outputs folder's manifest (empty when there is none or it is not
    one this version wrote: then every file is made anew)."""
    try:
        manifest = json.loads((Path(folder) / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(manifest, dict) or manifest.get("version") != MANIFEST_VERSION:
        return {}
    files = manifest.get("files")
    if not isinstance(files, dict):
        return {}
    return {
        path: entry
        for path, entry in files.items()
        if isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], str)
    }


def _digest(content: bytes) -> str:
    return hashlib.blake2b(content, digest_size=16).hexdigest()


def _digest_of(path: Path) -> str:
    with open(path, "rb", buffering=0) as file:
        return _digest(file.read())


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


class Ticker:
    """Calls ``progress`` as work goes on: at the start, then at most every half second,
    and at the end; cheap enough to call once per file."""

    EVERY_SECONDS = 0.5

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

# Line breaks of every kind a cell or a TOML string may hold.
_LINE_BREAKS = ("\r\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def plain_text(text: str, *, newlines: bool = False) -> str:
    """``text`` without control characters: line breaks become ``\\n`` when ``newlines``,
    else a space; tabs a space; NUL, every other control character and lone surrogates
    are dropped.

    Every string from the organisers' data goes through this before it is written into a
    calendar, a page or a PDF, whatever the loader let through."""
    if text.isprintable():
        return text  # the usual case, and fast
    for mark in _LINE_BREAKS:
        text = text.replace(mark, "\n")
    text = text.replace("\t", " ")
    kept = []
    for char in text:
        if char == "\n":
            kept.append("\n" if newlines else " ")
        elif unicodedata.category(char) not in ("Cc", "Cs"):
            kept.append(char)
    return "".join(kept)

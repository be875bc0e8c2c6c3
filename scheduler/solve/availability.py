"""When can a person take part in an event? The time grid and availability profiles.

Time is counted in *cells* of ``grid_minutes`` from a base instant (00:00 UTC of the day
before the conference), so every cell start is a multiple of the grid from 00:00 UTC, as
the inputs require (docs/inputs.md). A person's *free cells* are the cells that lie wholly inside their
local day hours (role rules applied) on an allowed weekday that is not a public holiday
of their region, and that do not touch their unavailability. An event of k cells may
start at cell i for that person when cells i..i+k-1 are all free: free cells of two
different local dates are never adjacent (day_start < day_end), so the event then starts
and ends on the same local date, inside the day hours.

Most people share the same zone, region, role and have no unavailability, so everything
is computed once per *availability profile* and cached.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from scheduler.model import Conference, Participant


@dataclass(frozen=True)
class Profile:
    """Everything that decides when a person is free. People with equal profiles are
    interchangeable for the calendar."""

    timezone: str
    holidays: frozenset[date]  # the local dates off (none when holidays do not apply)
    day_start: time
    day_end: time
    unavailable: tuple[tuple[datetime, datetime], ...]  # UTC [start, end)


def local_day_hours(conference: Conference, role: str) -> tuple[time, time]:
    """The calendar's day hours narrowed by the role rules for that role."""
    start, end = conference.calendar.day_start, conference.calendar.day_end
    for rule in conference.role_rules:
        if rule.role != role:
            continue
        if rule.day_start is not None:
            start = max(start, rule.day_start)
        if rule.day_end is not None:
            end = min(end, rule.day_end)
    return start, end


class TimeGrid:
    """Cells of ``grid_minutes`` covering the conference window with a day's margin on
    both sides (zones east and west of the organiser)."""

    def __init__(self, conference: Conference):
        self.conference = conference
        self.grid = conference.calendar.grid_minutes
        self.base = datetime.combine(conference.start - timedelta(days=1), time(0), tzinfo=UTC)
        days = (conference.end - conference.start).days + 3
        self.cells = days * 1440 // self.grid
        self._profiles: dict[str, Profile] = {}
        self._free: dict[Profile, np.ndarray] = {}
        self._starts: dict[tuple[Profile, int], np.ndarray] = {}
        self._unavailable: dict[str, list[tuple[datetime, datetime]]] = {}
        for item in conference.unavailability:
            self._unavailable.setdefault(item.participant_id, []).append((item.start, item.end))

    # -- conversions ------------------------------------------------------------------
    def instant(self, cell: int) -> datetime:
        """The UTC instant at which a cell starts."""
        return self.base + timedelta(minutes=cell * self.grid)

    def cell_at(self, moment: datetime) -> float:
        """The (possibly fractional) cell index of an instant."""
        return (moment - self.base).total_seconds() / 60 / self.grid

    def cells_for(self, minutes: int) -> int:
        """How many cells an event of that length occupies (rounded up)."""
        return -(-minutes // self.grid)

    def local_date(self, cell: int, zone: ZoneInfo) -> date:
        return self.instant(cell).astimezone(zone).date()

    # -- profiles ---------------------------------------------------------------------
    def profile(self, person: Participant) -> Profile:
        cached = self._profiles.get(person.id)
        if cached is not None:
            return cached
        city = self.conference.city_of(person)
        day_start, day_end = local_day_hours(self.conference, person.role)
        profile = Profile(
            timezone=city.timezone,
            holidays=frozenset(h.day for h in city.holidays)
            if self.conference.calendar.public_holidays
            else frozenset(),
            day_start=day_start,
            day_end=day_end,
            unavailable=tuple(sorted(self._unavailable.get(person.id, []))),
        )
        self._profiles[person.id] = profile
        return profile

    def free_cells(self, profile: Profile) -> np.ndarray:
        """Boolean per cell: the person may be in an event during the whole cell."""
        cached = self._free.get(profile)
        if cached is not None:
            return cached
        rules = self.conference.calendar
        zone = ZoneInfo(profile.timezone)
        free = np.zeros(self.cells, dtype=bool)
        first = self.conference.start - timedelta(days=2)
        for offset in range((self.conference.end - self.conference.start).days + 5):
            day = first + timedelta(days=offset)
            if day.weekday() not in rules.weekdays:
                continue
            if day in profile.holidays:
                continue
            opens = datetime.combine(day, profile.day_start, tzinfo=zone)
            closes = datetime.combine(day, profile.day_end, tzinfo=zone)
            lo = max(0, int(np.ceil(self.cell_at(opens) - 1e-9)))
            hi = min(self.cells, int(np.floor(self.cell_at(closes) + 1e-9)))
            if hi > lo:
                free[lo:hi] = True
        for start, end in profile.unavailable:
            lo = max(0, int(np.floor(self.cell_at(start) + 1e-9)))
            hi = min(self.cells, int(np.ceil(self.cell_at(end) - 1e-9)))
            if hi > lo:
                free[lo:hi] = False
        self._free[profile] = free
        return free

    def allowed_starts(self, profile: Profile, length: int) -> np.ndarray:
        """Boolean per cell: an event of ``length`` cells may start there for this person."""
        key = (profile, length)
        cached = self._starts.get(key)
        if cached is not None:
            return cached
        free = self.free_cells(profile).astype(np.int32)
        run = np.concatenate(([0], np.cumsum(free)))
        starts = np.zeros(self.cells, dtype=bool)
        if length <= self.cells:
            starts[: self.cells - length + 1] = (run[length:] - run[:-length]) == length
        self._starts[key] = starts
        return starts

    def window_starts(self, length_minutes: int, first_day: date, last_day: date) -> np.ndarray:
        """Boolean per cell: an event of that length starting there starts and ends on
        organiser-zone dates within [first_day, last_day] (its end taken as its last
        instant, so an event may end exactly at midnight)."""
        zone = self.conference.zone
        starts = np.zeros(self.cells, dtype=bool)
        if last_day < first_day:
            return starts
        opens = datetime.combine(first_day, time(0), tzinfo=zone)
        closes = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=zone)
        lo = max(0, int(np.ceil(self.cell_at(opens) - 1e-9)))
        latest_end = self.cell_at(closes) * self.grid  # in minutes from base
        hi = int(np.floor((latest_end - length_minutes) / self.grid + 1e-9)) + 1
        hi = min(self.cells, hi)
        if hi > lo:
            starts[lo:hi] = True
        return starts

    def everyone_starts(self, people: Iterable[Participant], length: int) -> np.ndarray:
        """Cells where at least one of these people could start an event of ``length``."""
        union = np.zeros(self.cells, dtype=bool)
        for profile in {self.profile(p) for p in people}:
            union |= self.allowed_starts(profile, length)
        return union

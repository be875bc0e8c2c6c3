"""Per-city agendas: one HTML page and one PDF per city, in the city's language and zone.

    write_agendas(conference, matchmaking, schedule, folder)
      -> folder/agendas/<city_id>.html, folder/agendas/<city_id>.pdf, folder/agendas/index.html

The exporter decides nothing: who meets whom, when, who attends and what could not be
placed all come from the Conference, the Matchmaking and the Schedule. This module only
gathers, per city, what concerns that city, translates the fixed words (``WORDS`` of
scheduler/export/words.py, the glossary the calendars share), formats
dates and times with Babel in the city's locale and zone, and hands the result, one plain
dictionary per page (``city_view``), to both templates in ``templates/``: ``city.html``
(Jinja2, autoescaped) and ``agenda.typ`` (Typst, which reads the same dictionary as JSON
data, so no title can become markup or code). What a page says is decided once, here; the
templates only lay it out, so the HTML page and the PDF cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from jinja2 import Environment, FileSystemLoader

from scheduler.export import (
    OutputFiles,
    Progress,
    Ticker,
    child_environment,
    code_version,
    drawn_from,
    field_names,
    fingerprint,
    key_of,
    plain_text,
)
from scheduler.export.words import BABEL_LOCALE, WORDS, language_name
from scheduler.model import (
    City,
    Conference,
    Match,
    Matchmaking,
    Meeting,
    Partnership,
    Schedule,
    ScheduledEvent,
    pick_title,
)

TEMPLATES = Path(__file__).resolve().parent / "templates"

# Below this many PDFs to render they are rendered in this process: Typst takes some
# 20-100 ms per agenda, starting a helper process about half a second.
PARALLEL_PDFS_FROM = 16
# The fonts of the PDFs: DejaVu Sans (fonts-dejavu-core) where the system has it, else
# Libertinus Serif, which the Typst wheel embeds; both have every Turkish and German letter.
FONT_FOLDERS = ("/usr/share/fonts/truetype/dejavu",)

# Babel patterns that read well in each language (the "full" formats include seconds).
DATE_FORMAT = {"de": "EEEE, d. MMMM y", "tr": "d MMMM y EEEE", "en": "EEEE d MMMM y"}
SHORT_DATE_FORMAT = {"de": "d. MMMM y", "tr": "d MMMM y", "en": "d MMMM y"}
TIME_FORMAT = {"de": "HH:mm", "tr": "HH:mm", "en": "HH:mm"}
TIME_SUFFIX = {"de": " Uhr", "tr": "", "en": ""}


@dataclass(frozen=True)
class EventView:
    """One event as a city's page shows it (every string already in the page's language)."""

    event_id: str
    title: str
    kind: str
    theme: str
    language: str
    interpreted: bool
    date: str
    time: str
    zone: str
    other_time: str  # meetings: the other city's local time; "" otherwise
    attendees: tuple[str, ...]
    url: str | None
    change: str = ""  # what changed since the previous version, in words; "" when nothing


@dataclass(frozen=True)
class DayView:
    date: str
    events: tuple[EventView, ...]


@dataclass(frozen=True)
class MeetingView:
    """A match of this city (partner or new contact) and what became of its meeting."""

    other_city: str
    kind: str
    since: str
    reasons: str
    delegates_here: tuple[str, ...]
    delegates_there: tuple[str, ...]
    who_there: str  # "Delegation aus <the other city>"
    event: EventView | None
    unscheduled_reason: str  # as unscheduled.csv says it (English); "" when none is given


@dataclass(frozen=True)
class PersonView:
    name: str
    organisation: str
    anchor: str
    calendar: str | None  # relative link to their .ics, only when they have events
    events: tuple[EventView, ...]


@dataclass(frozen=True)
class UnscheduledView:
    title: str
    kind: str
    reason: str
    wanted_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class HolidayView:
    date: str
    name: str


@dataclass(frozen=True)
class CityPage:
    lang: str
    words: Mapping[str, str]
    labels: Mapping[str, str]  # the fixed words that name this city, filled in
    conference_name: str
    window: str
    city: str
    city_id: str
    zone: str
    partner_cities: tuple[str, ...]
    meetings: tuple[MeetingView, ...]
    days: tuple[DayView, ...]
    region: str
    holidays: tuple[HolidayView, ...]
    people: tuple[PersonView, ...]
    unscheduled: tuple[UnscheduledView, ...]
    version: str = ""  # "Version 2 of 8 May 2020"


@dataclass(frozen=True)
class AgendaVersion:
    """Which version of the conference the agendas show and what changed since the one
    before: events new in it, and the earlier start of every event that moved."""

    number: int
    published: date  # the organisers' date of this version
    added: frozenset[str] = frozenset()
    moved: Mapping[str, datetime] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class ProgrammeRow:
    date: str
    time: str
    title_de: str
    title_tr: str
    kind: str
    theme: str
    language: str
    url: str | None


@dataclass(frozen=True)
class IndexPage:
    lang: str
    words: Mapping[str, str]
    conference_name: str
    window: str
    zone: str
    cities: tuple[tuple[str, str, str], ...]  # (city_id, name, agenda language name)
    programme: tuple[ProgrammeRow, ...]


def write_agendas(
    conference: Conference,
    matchmaking: Matchmaking,
    schedule: Schedule,
    folder: Path,
    *,
    workers: int | None = None,
    pdf: bool = True,
    previous: Path | None = None,
    progress: Progress | None = None,
    version: AgendaVersion | None = None,
    drawn: str | None = None,
) -> None:
    """Write ``agendas/<city_id>.html`` and ``.pdf`` for every city and ``agendas/index.html``.
    With ``version`` each page says which version it is and marks what changed since the
    previous one.

    Each city's page is in the city's language, every time in the city's zone (meetings
    also in the other city's). The index links every city and lists the public programme
    in the organisers' zone. PDFs are laid out by Typst, by up to ``workers`` processes
    (default: one per CPU) when there are many; ``pdf=False`` writes the HTML pages only
    (a quick preview). A page whose content is unchanged against the outputs in
    ``previous`` is carried over from there, not rendered again (see OutputFiles).
    ``drawn`` is `scheduler.export.drawn_from` of the three, when already known.
    """
    out = Path(folder) / "agendas"
    out.mkdir(parents=True, exist_ok=True)
    files = OutputFiles(folder, previous, prefixes=("agendas/",))
    layout = templates_version()
    drawn = drawn or drawn_from(conference, matchmaking, schedule)
    if files.carry_all(agendas_key(drawn, pdf=pdf, version=version)):
        Ticker(progress, "agendas (unchanged)", 1).tick()
        files.save()
        return
    env = template_environment()
    city_template = env.get_template("city.html")
    cities = sorted(conference.cities, key=lambda c: c.id)
    ticker = Ticker(progress, "agendas (HTML)", len(cities) + 1)
    pdf_jobs: list[tuple[str, str, str]] = []  # (view as JSON, path, key)
    for city in cities:
        view, data = _view_and_json(city_page(conference, matchmaking, schedule, city, version))
        key = key_of(layout, data)
        path = f"agendas/{city.id}.html"
        if not files.carry_over(path, key):
            files.write(path, city_template.render(page=view, w=view["words"]).encode(), key)
        if pdf and not files.carry_over(f"agendas/{city.id}.pdf", key):
            pdf_jobs.append((data, str(Path(folder) / f"agendas/{city.id}.pdf"), key))
        ticker.tick()
    index, data = _view_and_json(index_page(conference, schedule))
    key = key_of(layout, data)
    if not files.carry_over("agendas/index.html", key):
        html = env.get_template("index.html").render(page=index, w=index["words"])
        files.write("agendas/index.html", html.encode(), key)
    ticker.tick()
    if pdf_jobs:
        render_pdfs([(data, path) for data, path, _ in pdf_jobs], workers, progress)
        for _, path, key in pdf_jobs:
            files.record(Path(path).relative_to(folder).as_posix(), key)
    for old in [*out.glob("*.html"), *out.glob("*.pdf")]:
        if f"agendas/{old.name}" not in files.entries:
            old.unlink()  # a city that is gone keeps no stale page
    files.save()


def agendas_key(drawn: str, *, pdf: bool, version: AgendaVersion | None) -> str:
    """The key of the whole set of agendas: what they are drawn from (`drawn_from`), the
    version they show, whether there are PDFs, and the templates and code that make them."""
    code = code_version(__file__, "babel", "jinja2"), WORDS
    return fingerprint(templates_version(), code, pdf, drawn, version)


def templates_version() -> str:
    """What the pages depend on beside their data: the templates and the Typst version."""
    import typst

    parts = [getattr(typst, "__version__", "")]
    for template in sorted(TEMPLATES.iterdir()):
        parts += [template.name, template.read_text("utf-8")]
    return key_of(*parts)


def city_view(
    conference: Conference, matchmaking: Matchmaking, schedule: Schedule, city: City
) -> dict[str, Any]:
    """Everything ``city``'s agenda shows, as plain data for both templates (`city_page`,
    with every string made plain text: no control characters reach a page or a PDF)."""
    return _view_and_json(city_page(conference, matchmaking, schedule, city))[0]


def _view_and_json(page: CityPage | IndexPage) -> tuple[dict[str, Any], str]:
    """A page as plain data (dicts, lists, strings without control characters) and as
    the JSON text Typst reads. Most pages hold no control character, which one look at
    the JSON text tells (json escapes them all, bar DEL to U+009F and U+2028/9)."""
    view = _data(page, plain=False)
    text = json.dumps(view, ensure_ascii=False, sort_keys=True)
    if _MAYBE_UNSAFE.search(text):
        view = _data(page, plain=True)
        text = json.dumps(view, ensure_ascii=False, sort_keys=True)
    return view, text


_MAYBE_UNSAFE = re.compile(
    r"\\u00[01]|\\u007f|\\[nrtbf]|\\ud[89a-f]|[\x7f-\x9f\u2028\u2029\ud800-\udfff]"
)


def _data(value: Any, plain: bool) -> Any:
    """A view as plain data: dataclasses and mappings as dicts, tuples as lists, every
    string made plain text when ``plain``: the form JSON and both templates read."""
    if isinstance(value, str):
        return plain_text(value) if plain else value
    if isinstance(value, (list, tuple)):
        return [_data(item, plain) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: _data(getattr(value, name), plain) for name in field_names(type(value))}
    if isinstance(value, Mapping):
        return {key: _data(item, plain) for key, item in value.items()}
    return value


def render_pdfs(
    jobs: Sequence[tuple[str, str]],
    workers: int | None = None,
    progress: Progress | None = None,
) -> None:
    """Render each (view as JSON, pdf_path) with Typst, in parallel when worth it.

    Helpers are plain ``python -c`` processes given their share in a JSON file: unlike
    multiprocessing's "spawn" they do not re-run the caller's main script (which breaks
    scripts without a ``__main__`` guard), and unlike "fork" they are safe when the caller
    has threads (the solver's). This process renders the first share meanwhile. Each
    helper holds one Typst compiler and its fonts, some 100 MB.
    """
    ticker = Ticker(progress, "agendas (PDF)", len(jobs))
    workers = min(len(jobs), workers or os.cpu_count() or 1)
    if workers <= 1 or len(jobs) < PARALLEL_PDFS_FROM:
        write_pdfs(jobs, ticker.tick)
        return
    shares = [list(jobs[i::workers]) for i in range(workers)]
    env = child_environment()
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="agendas-") as scratch:
        helpers: list[tuple[subprocess.Popen[bytes], Path, int]] = []
        try:
            for number, share in enumerate(shares[1:], start=1):
                share_file = Path(scratch) / f"share-{number}.json"
                share_file.write_text(json.dumps(share), encoding="utf-8")
                log = Path(scratch) / f"share-{number}.log"
                with log.open("w", encoding="utf-8") as stderr:
                    command = [sys.executable, "-P", "-c", _HELPER, str(share_file)]
                    process = subprocess.Popen(command, env=env, stderr=stderr)
                    helpers.append((process, log, len(share)))
            write_pdfs(shares[0], ticker.tick)
            for helper, log, count in helpers:
                if helper.wait() != 0:
                    failures.append(log.read_text(encoding="utf-8")[-2000:])
                ticker.tick(count)
        finally:
            # On an error here or Ctrl-C, no helper is left writing into the outputs.
            for helper, _, _ in helpers:
                if helper.poll() is None:
                    helper.kill()
                    helper.wait()
    if failures:
        raise RuntimeError("rendering agenda PDFs failed:\n" + "\n".join(failures))


_HELPER = """
import json, sys
from scheduler.export.agendas import write_pdfs
write_pdfs(json.load(open(sys.argv[1], encoding="utf-8")))
"""


def write_pdfs(
    jobs: Iterable[tuple[str, str] | list[str]], done: Callable[[], None] | None = None
) -> None:
    """Lay out each (view as JSON, pdf_path) with Typst from ``agenda.typ``: the view is
    handed over as data (``sys.inputs``), never pasted into markup."""
    import typst

    compiler = typst.Compiler(
        font_paths=[f for f in FONT_FOLDERS if Path(f).is_dir()], ignore_system_fonts=True
    )
    source = (TEMPLATES / "agenda.typ").read_bytes()
    for data, path in jobs:
        pdf = compiler.compile(input=source, sys_inputs={"page": data}, timestamp=0)
        assert isinstance(pdf, bytes)
        target = Path(path)
        target.unlink(missing_ok=True)  # a new file, never through a hard link
        target.write_bytes(pdf)
        if done is not None:
            done()


def template_environment() -> Environment:
    """The Jinja2 environment of the agendas: autoescape always on (titles are data)."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # templates do not change during a run: no stat per include
    )


# --- formatting -------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def format_day(day: date, lang: str) -> str:
    """A calendar day in words, e.g. "Mittwoch, 3. Juni 2020" / "3 Haziran 2020 Çarşamba"."""
    return format_date(day, DATE_FORMAT[lang], locale=BABEL_LOCALE[lang])


def format_clock(moment: datetime, zone: ZoneInfo, lang: str) -> str:
    """A time of day in ``zone`` (Babel reads a naive datetime as UTC, so pass aware ones)."""
    return format_time(moment.astimezone(zone), TIME_FORMAT[lang], locale=BABEL_LOCALE[lang])


@lru_cache(maxsize=4096)
def format_span(start: datetime, end: datetime, zone: ZoneInfo, lang: str) -> str:
    """A start–end span in ``zone``, e.g. "09:00–10:00 Uhr"."""
    return f"{format_clock(start, zone, lang)}–{format_clock(end, zone, lang)}{TIME_SUFFIX[lang]}"


@lru_cache(maxsize=4096)
def zone_abbreviation(moment: datetime, zone: ZoneInfo, lang: str) -> str:
    """A short name of the zone at that moment in the page's language ("MESZ", "TSİ");
    the GMT offset where the locale has no abbreviation."""
    local = moment.astimezone(zone)
    short = format_datetime(local, "z", locale=BABEL_LOCALE[lang])
    if short[:1] in "+-" or not short:
        return format_datetime(local, "ZZZZ", locale=BABEL_LOCALE[lang])
    return short


def format_window(conference: Conference, lang: str) -> str:
    """The conference's first and last day ("3. Juni 2020 – 16. Juni 2020"); written out in
    full because Babel's interval skeletons abbreviate Turkish months ("Haz")."""
    locale = BABEL_LOCALE[lang]
    first = format_date(conference.start, SHORT_DATE_FORMAT[lang], locale=locale)
    last = format_date(conference.end, SHORT_DATE_FORMAT[lang], locale=locale)
    return first if first == last else f"{first} – {last}"


# --- gathering ---------------------------------------------------------------------------


def _event_shown(
    conference: Conference, event: ScheduledEvent, city: City, lang: str, other_city: City | None
) -> dict[str, Any]:
    """What ``city``'s page shows of an event beside who attends and what changed: the
    same wherever the page lists it (the day's list, a person's, a meeting)."""
    words = WORDS[lang]
    zone = city.zone
    theme = conference.themes_by_id.get(event.theme) if event.theme else None
    other_time = ""
    if other_city is not None:
        there = format_span(event.start, event.end, other_city.zone, lang)
        other_day = event.start.astimezone(other_city.zone).date()
        if other_day != event.start.astimezone(zone).date():
            there = f"{format_day(other_day, lang)}, {there}"
        other_time = words["local_time_there"].format(
            time=there, city=other_city.name, zone=other_city.timezone
        )
    return {
        "event_id": event.event_id,
        "title": event.title(lang),
        "kind": words[event.kind],
        "theme": theme.name(lang) if theme else "",
        "language": language_name(event.language, lang),
        "interpreted": event.interpreted,
        "date": format_day(event.start.astimezone(zone).date(), lang),
        "time": format_span(event.start, event.end, zone, lang),
        "zone": zone_abbreviation(event.start, zone, lang),
        "other_time": other_time,
        "url": web_link(conference.meeting_url_for(event.event_id)),
    }


def _attendee_names(
    conference: Conference, host_ids: frozenset[str], attendee_ids: Iterable[str], lang: str
) -> tuple[str, ...]:
    """The people to list at an event, by name, hosts marked as such."""
    people = sorted(
        (conference.participants_by_id[pid] for pid in set(attendee_ids)),
        key=lambda p: (p.name, p.id),
    )
    host = WORDS[lang]["host"]
    return tuple(f"{p.name} ({host})" if p.id in host_ids else p.name for p in people)


def web_link(url: str | None) -> str | None:
    """The meeting link when it is one a page may link to (http or https), else None."""
    if url and url.strip().lower().startswith(("https://", "http://")):
        return url
    return None


def city_page(
    conference: Conference,
    matchmaking: Matchmaking,
    schedule: Schedule,
    city: City,
    version: AgendaVersion | None = None,
) -> CityPage:
    """Everything ``city``'s agenda shows, gathered from the three inputs and translated;
    with ``version``, which version it is and what changed since the one before."""
    lang = city.language if city.language in WORDS else "en"
    words = WORDS[lang]
    cities = conference.cities_by_id
    here = conference.participants_by_city.get(city.id, ())
    other_city_of_event = _other_city_of_meetings(matchmaking, city)
    index = _index_of(schedule)
    shown_of: dict[str, dict[str, Any]] = {}  # event id -> what every list shows of it

    def view(event: ScheduledEvent, attendee_ids: Iterable[str]) -> EventView:
        shown = shown_of.get(event.event_id)
        if shown is None:
            other_id = other_city_of_event.get(event.event_id)
            other = cities.get(other_id) if other_id else None
            shown = _event_shown(conference, event, city, lang, other)
            shown["change"] = _change(version, event, city, lang)
            shown_of[event.event_id] = shown
        hosts = index.hosts.get(event.event_id, frozenset())
        return EventView(**shown, attendees=_attendee_names(conference, hosts, attendee_ids, lang))

    # Day by day: every event one of the city's people attends, grouped by local day.
    attendees_here: dict[str, list[str]] = {}
    for participant_id in sorted(p.id for p in here):
        for event_id in index.events_of.get(participant_id, ()):
            attendees_here.setdefault(event_id, []).append(participant_id)
    days: dict[date, list[EventView]] = {}
    for event in index.ordered:
        if event.event_id in attendees_here:
            day = event.start.astimezone(city.zone).date()
            days.setdefault(day, []).append(view(event, attendees_here[event.event_id]))
    day_views = tuple(
        DayView(format_day(day, lang), tuple(events)) for day, events in sorted(days.items())
    )

    meetings = tuple(
        _meeting_view(conference, matchmaking, schedule, city, lang, match, view)
        for match in sorted(
            (m for m in matchmaking.matches if city.id in (m.city_a, m.city_b)),
            key=lambda m: (m.kind != "partner", _other(m, city.id), m.kind),
        )
    )

    people = []
    for person in sorted(here, key=lambda p: (p.name, p.id)):
        own = index.events_of.get(person.id, frozenset())
        places = sorted(index.position[e] for e in own if e in index.position)
        events = tuple(view(index.ordered[i], [person.id]) for i in places)
        people.append(
            PersonView(
                name=person.name,
                organisation=person.organisation,
                anchor=f"person-{person.id}",
                calendar=f"../calendars/{person.id}.ics" if events else None,
                events=events,
            )
        )

    partner_ids = sorted(_other(p, city.id) for p in _partnerships_of(conference, city.id))
    zone_label = _zone_label(city, conference, lang)
    region = _region_label(city)
    by_city = ("agenda_of", "no_meetings", "who_here", "no_events", "attendees")
    labels = {name: words[name].format(city=city.name) for name in by_city}
    labels |= {
        "times_in": words["times_in"].format(zone=zone_label),
        "holidays_intro": words["holidays_intro"].format(region=region),
        "no_holidays": words["no_holidays"].format(region=region),
        "no_participants": words["no_participants"].format(city=city.name),
        "unscheduled_none": words["unscheduled_none"].format(city=city.name),
    }
    return CityPage(
        lang=lang,
        words=words,
        labels=labels,
        conference_name=conference.name,
        window=format_window(conference, lang),
        city=city.name,
        city_id=city.id,
        zone=zone_label,
        partner_cities=tuple(cities[c].name if c in cities else c for c in partner_ids),
        meetings=meetings,
        days=day_views,
        region=region,
        holidays=holidays_in_window(conference, city, lang),
        people=tuple(people),
        unscheduled=_unscheduled_for(conference, matchmaking, schedule, city, lang),
        version=_version_line(version, lang),
    )


@dataclass(frozen=True)
class _ScheduleIndex:
    """Who attends what, looked up instead of scanned (a schedule has thousands of rows)."""

    events_of: Mapping[str, frozenset[str]]  # participant -> event ids
    attendees_of: Mapping[str, tuple[str, ...]]  # event -> participant ids, as listed
    hosts: Mapping[str, frozenset[str]]  # event -> its hosts
    ordered: tuple[ScheduledEvent, ...]  # the events by start (then id): as pages list them
    position: Mapping[str, int]  # event id -> its place in ``ordered``


_last_index: list[tuple[Schedule, _ScheduleIndex]] = []  # the schedule being written


def _index_of(schedule: Schedule) -> _ScheduleIndex:
    """The index of ``schedule``, built once for all the cities' pages."""
    if _last_index and _last_index[0][0] is schedule:
        return _last_index[0][1]
    events_of: dict[str, set[str]] = {}
    attendees_of: dict[str, list[str]] = {}
    hosts: dict[str, set[str]] = {}
    for a in schedule.attendance:
        events_of.setdefault(a.participant_id, set()).add(a.event_id)
        attendees_of.setdefault(a.event_id, []).append(a.participant_id)
        if a.role == "host":
            hosts.setdefault(a.event_id, set()).add(a.participant_id)
    ordered = tuple(sorted(schedule.events, key=lambda e: (e.start, e.event_id)))
    index = _ScheduleIndex(
        events_of={p: frozenset(e) for p, e in events_of.items()},
        attendees_of={e: tuple(p) for e, p in attendees_of.items()},
        hosts={e: frozenset(h) for e, h in hosts.items()},
        ordered=ordered,
        position={e.event_id: i for i, e in enumerate(ordered)},
    )
    _last_index[:] = [(schedule, index)]
    return index


def _version_line(version: AgendaVersion | None, lang: str) -> str:
    """ "Version 2 of 8 May 2020" in the page's language; "" without a version."""
    if version is None:
        return ""
    when = format_day(version.published, lang)
    return WORDS[lang]["version"].format(number=version.number, date=when)


def _change(version: AgendaVersion | None, event: ScheduledEvent, city: City, lang: str) -> str:
    """What changed of an event since the previous version, in the page's language."""
    if version is None or version.number < 2:
        return ""
    if event.event_id in version.added:
        return WORDS[lang]["new_since"]
    before = version.moved.get(event.event_id)
    if before is None:
        return ""
    zone = city.zone
    when = f"{format_day(before.astimezone(zone).date(), lang)}, {format_clock(before, zone, lang)}"
    return WORDS[lang]["moved_from"].format(when=when)


def _other(pair: Match | Meeting | Partnership, city_id: str) -> str:
    """The other city of a pair that involves ``city_id``."""
    return pair.city_b if pair.city_a == city_id else pair.city_a


def _partnerships_of(conference: Conference, city_id: str) -> list[Partnership]:
    return [p for p in conference.partnerships if city_id in (p.city_a, p.city_b)]


def _other_city_of_meetings(matchmaking: Matchmaking, city: City) -> dict[str, str]:
    """Meeting id -> the other city, for this city's meetings (planned or impossible)."""
    return {
        match.meeting_id: _other(match, city.id)
        for match in matchmaking.matches
        if match.meeting_id and city.id in (match.city_a, match.city_b)
    }


def _meeting_view(
    conference: Conference,
    matchmaking: Matchmaking,
    schedule: Schedule,
    city: City,
    lang: str,
    match: Match,
    view: Callable[[ScheduledEvent, Iterable[str]], EventView],
) -> MeetingView:
    words = WORDS[lang]
    other_id = _other(match, city.id)
    other = conference.cities_by_id.get(other_id)
    meeting_id = match.meeting_id or ""  # "" when no meeting is wanted: nothing is found
    event = schedule.events_by_id.get(meeting_id)
    if event is not None:
        delegate_ids = list(_index_of(schedule).attendees_of.get(meeting_id, ()))
    elif meeting_id in matchmaking.meetings_by_id:
        delegate_ids = list(matchmaking.meetings_by_id[meeting_id].delegates)
    else:
        delegate_ids = []
    participants = conference.participants_by_id

    def names(city_id: str) -> tuple[str, ...]:
        chosen = [participants[d] for d in delegate_ids if participants[d].city_id == city_id]
        return tuple(p.name for p in sorted(chosen, key=lambda p: (p.name, p.id)))

    since = ""
    for partnership in _partnerships_of(conference, city.id):
        if other_id in (partnership.city_a, partnership.city_b) and partnership.since:
            since = words["since"].format(year=partnership.since)
    item = schedule.unscheduled_by_id.get(meeting_id) if event is None else None
    other_name = other.name if other else other_id
    return MeetingView(
        other_city=other_name,
        kind=words["partner"] if match.kind == "partner" else words["new_contact"],
        since=since,
        reasons=pick_title(match.reasons, lang),
        delegates_here=names(city.id),
        delegates_there=names(other_id),
        who_there=words["who_there"].format(city=other_name),
        event=view(event, [d for d in delegate_ids if participants[d].city_id == city.id])
        if event
        else None,
        unscheduled_reason=item.reason if item else "",
    )


def _unscheduled_for(
    conference: Conference, matchmaking: Matchmaking, schedule: Schedule, city: City, lang: str
) -> tuple[UnscheduledView, ...]:
    """Items not placed that concern the city: its meetings, and sessions its people wanted
    (or host)."""
    words = WORDS[lang]
    meeting_ids = {
        m.meeting_id for m in matchmaking.matches if city.id in (m.city_a, m.city_b)
    }  # the city's meetings, planned or impossible (matchmaking names them all)
    here = conference.participants_by_city.get(city.id, ())
    found: list[UnscheduledView] = []
    for item in schedule.unscheduled:
        if item.item_id in meeting_ids:
            meeting = matchmaking.meetings_by_id.get(item.item_id)
            title = meeting.title(lang) if meeting else item.item_id
            found.append(UnscheduledView(title, words[item.kind], item.reason))
            continue
        session = conference.sessions_by_id.get(item.item_id)
        if session is None:
            continue
        wanting = [
            p for p in here if p.id in session.hosts or conference.wanted_weight(p, session) > 0
        ]
        if wanting:
            found.append(
                UnscheduledView(
                    session.title(lang),
                    words[session.kind],
                    item.reason,
                    tuple(p.name for p in sorted(wanting, key=lambda p: (p.name, p.id))),
                )
            )
    return tuple(found)


def _region_label(city: City) -> str:
    return f"{city.name} ({city.region})" if city.region else city.name


def _zone_label(city: City, conference: Conference, lang: str) -> str:
    """The zone named twice: its IANA name and the locale's name for it at the conference."""
    moment = datetime.combine(conference.start, datetime.min.time(), tzinfo=city.zone)
    short = zone_abbreviation(moment, city.zone, lang)
    return f"{city.timezone} ({short})"


def holidays_in_window(conference: Conference, city: City, lang: str) -> tuple[HolidayView, ...]:
    """Public holidays of the city's region (country-wide ones too) on the conference's
    days, named in the city's language where the ``holidays`` package has it."""
    return tuple(
        HolidayView(format_day(h.day, lang), h.local_name)
        for h in city.holidays
        if conference.start <= h.day <= conference.end
    )


# --- index --------------------------------------------------------------------------------


def index_page(conference: Conference, schedule: Schedule) -> IndexPage:
    """The overview: every city's agenda and the public programme in the organisers' zone.

    It serves every city, so it is in English, with each title in German and Turkish."""
    lang = "en"
    words = WORDS[lang]
    zone = conference.zone
    rows = []
    for event in sorted(schedule.events, key=lambda e: (e.start, e.event_id)):
        theme = conference.themes_by_id.get(event.theme) if event.theme else None
        rows.append(
            ProgrammeRow(
                date=format_day(event.start.astimezone(zone).date(), lang),
                time=f"{format_span(event.start, event.end, zone, lang)} "
                f"{zone_abbreviation(event.start, zone, lang)}",
                title_de=event.title("de"),
                title_tr=event.title("tr"),
                kind=words[event.kind],
                theme=theme.name(lang) if theme else "",
                language=language_name(event.language, lang),
                url=web_link(conference.meeting_url_for(event.event_id)),
            )
        )
    names = Locale.parse(BABEL_LOCALE[lang]).languages
    moment = datetime.combine(conference.start, datetime.min.time(), tzinfo=zone)
    return IndexPage(
        lang=lang,
        words=words,
        conference_name=conference.name,
        window=format_window(conference, lang),
        zone=f"{conference.timezone} ({zone_abbreviation(moment, zone, lang)})",
        cities=tuple(
            (c.id, c.name, names.get(c.language, c.language))
            for c in sorted(conference.cities, key=lambda c: c.id)
        ),
        programme=tuple(rows),
    )

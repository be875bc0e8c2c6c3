"""Calendars as users receive them: personal feeds, the conference feed and invitations,
read back by icalendar and by real clients (ical.js, libical, a CalDAV server)."""

from __future__ import annotations

import dataclasses
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest

from scheduler.export.ical import Cancellation, uid, vtimezone, write_calendars
from scheduler.matchmaking import match
from scheduler.model import (
    Attendance,
    Conference,
    Matchmaking,
    Meeting,
    Partnership,
    Schedule,
    ScheduledEvent,
)
from scheduler.publish import publish
from scheduler.solve import SolveOptions, solve
from tests.builders import (
    CANAKKALE,
    KILIS,
    MANNHEIM,
    OSNABRUECK,
    conference,
    participant,
    session,
)
from tests.conftest import require

CLIENTS = Path(__file__).resolve().parent / "clients"
SYSTEM_PYTHON = Path("/usr/bin/python3")
STAMP = datetime(2020, 5, 20, 12, 0, tzinfo=UTC)

TRICKY_DE = "Straße & <Plätze>: Çanakkale, İzmir und Groß-Gerau im Gespräch über şehir"
TRICKY_TR = "Sokak & <meydanlar>: Çanakkale, İzmir ve Osnabrück'te dijital şehir ÇŞİĞÜÖ"


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2020, 6, day, hour, minute, tzinfo=UTC)


def example() -> tuple[Conference, Matchmaking, Schedule]:
    """Osnabrück (Berlin) and Çanakkale (Istanbul): an interpreted plenary with a tricky
    title, their partner meeting, a German workshop; one participant without events."""
    people = [
        participant(
            "osn-admin",
            "osn",
            role="administration",
            name="Jürgen Groß",
            email="juergen.gross@osnabrueck.example",
        ),
        participant("osn-expert", "osn", name="Käthe Müller", email="kaethe@osnabrueck.example"),
        participant(
            "can-admin",
            "can",
            role="administration",
            languages=("tr",),
            name="Ayşe Yılmaz",
            email="ayse@canakkale.example",
        ),
        participant(
            "can-youth",
            "can",
            role="youth",
            languages=("tr",),
            name="İsmail Çelik",
            email="ismail@canakkale.example",
        ),
        participant("can-idle", "can", languages=("tr",), email="idle@canakkale.example"),
    ]
    sessions = [
        session(
            "s-digital",
            kind="plenary",
            language="de-tr",
            titles={"de": TRICKY_DE, "tr": TRICKY_TR},
            hosts=("osn-expert",),
        ),
        session("s-urban", theme="urban", language="de"),
    ]
    conf = conference(participants=people, sessions=sessions)
    meeting = Meeting(
        id="pm-can-osn",
        kind="partner_meeting",
        city_a="can",
        city_b="osn",
        delegates=("can-admin", "osn-admin"),
        language="de-tr",
        duration_minutes=45,
        titles={
            "de": "Partnertreffen Çanakkale – Osnabrück",
            "tr": "Kardeş şehir toplantısı: Çanakkale – Osnabrück",
            "en": "Partner meeting Çanakkale – Osnabrück",
        },
        score=0.9,
        reasons={
            "de": "Beide Städte: Digitalisierung",
            "tr": "İki şehir de: Dijitalleşme",
            "en": "Both cities: Digitalisation",
        },
    )
    matchmaking = Matchmaking(meetings=(meeting,), matches=(), impossible=())
    events = (
        ScheduledEvent(
            "s-digital", "plenary", "digital", sessions[0].titles, utc(3, 8), utc(3, 9), "de-tr", 1
        ),
        ScheduledEvent(
            "pm-can-osn",
            "partner_meeting",
            None,
            meeting.titles,
            utc(4, 9),
            utc(4, 9, 45),
            "de-tr",
            1,
        ),
        ScheduledEvent(
            "s-urban", "workshop", "urban", sessions[1].titles, utc(5, 12), utc(5, 13), "de", 2
        ),
    )
    attendance = (
        Attendance("pm-can-osn", "can-admin", "delegate"),
        Attendance("pm-can-osn", "osn-admin", "delegate"),
        Attendance("s-digital", "can-youth", "attendee"),
        Attendance("s-digital", "osn-admin", "attendee"),
        Attendance("s-digital", "osn-expert", "host"),
        Attendance("s-urban", "osn-admin", "attendee"),
        Attendance("s-urban", "osn-expert", "attendee"),
    )
    schedule = Schedule(events, attendance, (), "OPTIMAL", 10.0, 10.0, 0.1)
    return conf, matchmaking, schedule


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("outputs")
    write_calendars(*example(), folder, stamp=STAMP)
    return folder


# Read back as Any: icalendar types a property as a union of some 30 value types, so
# reading `.dt` or `.params` would need a cast at every line of these tests.
def read(path: Path) -> Any:
    return icalendar.Calendar.from_ical(path.read_bytes())


def vevents(cal: icalendar.Calendar) -> list[Any]:
    return list(cal.walk("VEVENT"))


def all_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.ics"))


def publish_files(folder: Path) -> list[Path]:
    return sorted((folder / "calendars").glob("*.ics"))


def invite_files(folder: Path) -> list[Path]:
    return sorted((folder / "invites").rglob("*.ics"))


# -- what is written -------------------------------------------------------------------------


def test_writes_feeds_and_one_invite_per_person_and_event(written: Path) -> None:
    _, _, schedule = example()
    expected = {"calendars/conference.ics"}
    for a in schedule.attendance:
        expected.add(f"calendars/{a.participant_id}.ics")
        expected.add(f"invites/{a.participant_id}/{a.event_id}.ics")
    assert {str(p.relative_to(written)) for p in all_files(written)} == expected
    # A participant without events gets no calendar and no invites.
    assert not (written / "calendars" / "can-idle.ics").exists()
    assert not (written / "invites" / "can-idle").exists()


def test_personal_feed_holds_exactly_that_persons_events(written: Path) -> None:
    conf, _, schedule = example()
    for person in {a.participant_id for a in schedule.attendance}:
        cal = read(written / "calendars" / f"{person}.ics")
        assert cal["METHOD"] == "PUBLISH"
        wanted = {uid(conf, a.event_id) for a in schedule.attendance_of(person)}
        assert {str(e["UID"]) for e in vevents(cal)} == wanted
        name = conf.participants_by_id[person].name
        assert conf.name in str(cal["X-WR-CALNAME"]) and name in str(cal["X-WR-CALNAME"])


def test_conference_feed_holds_every_event_without_people(written: Path) -> None:
    conf, _, schedule = example()
    cal = read(written / "calendars" / "conference.ics")
    assert cal["METHOD"] == "PUBLISH"
    events = vevents(cal)
    assert [str(e["UID"]) for e in events] == [uid(conf, e.event_id) for e in schedule.events]
    for event in events:
        assert "ATTENDEE" not in event and "ORGANIZER" not in event
        assert event["DTSTART"].params["TZID"] == "Europe/Berlin"


def test_calendar_header(written: Path) -> None:
    for path in all_files(written):
        cal = read(path)
        assert cal["VERSION"] == "2.0"
        assert cal["CALSCALE"] == "GREGORIAN"
        assert str(cal["PRODID"]).startswith("-//")


def test_every_event_carries_what_clients_show(written: Path) -> None:
    _, _, schedule = example()
    for path in all_files(written):
        for event in vevents(read(path)):
            event_id = str(event["UID"]).split("@")[0]
            assert str(event["UID"]) == f"{event_id}@example.org"
            assert event["DTSTAMP"].dt == STAMP
            assert event["SEQUENCE"] == 0
            assert event["STATUS"] == "CONFIRMED"
            scheduled = schedule.events_by_id[event_id]
            assert event["DTSTART"].dt == scheduled.start
            assert event["DTEND"].dt == scheduled.end
            url = f"https://meet.example.org/{event_id}"
            assert str(event["URL"]) == url and str(event["LOCATION"]) == url
            assert url in str(event["DESCRIPTION"])
            (alarm,) = event.walk("VALARM")
            assert alarm["ACTION"] == "DISPLAY"
            assert alarm["TRIGGER"].dt == -timedelta(minutes=15)


def test_times_are_in_the_readers_city_zone_with_a_vtimezone(written: Path) -> None:
    conf, _, _ = example()
    for path in all_files(written):
        cal = read(path)
        defined = {str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")}
        for event in vevents(cal):
            for name in ("DTSTART", "DTEND"):
                assert event[name].params["TZID"] in defined, (path, name)
        if path.parent.name == "calendars" and path.stem != "conference":
            person = conf.participants_by_id[path.stem]
            zone = conf.city_of(person).timezone
            assert {e["DTSTART"].params["TZID"] for e in vevents(cal)} == {zone}
    # 08:00 UTC is 11:00 in Çanakkale, written as such.
    text = (written / "calendars" / "can-youth.ics").read_text("utf-8")
    assert "DTSTART;TZID=Europe/Istanbul:20200603T110000" in text


def test_summary_and_description_in_the_readers_language(written: Path) -> None:
    german = vevents(read(written / "calendars" / "osn-admin.ics"))
    turkish = vevents(read(written / "calendars" / "can-youth.ics"))
    by_uid = {str(e["UID"]): e for e in german}
    plenary_de = by_uid["s-digital@example.org"]
    assert str(plenary_de["SUMMARY"]) == TRICKY_DE
    assert "Thema: Digitalisierung" in str(plenary_de["DESCRIPTION"])
    assert "Deutsch/Türkisch, mit Simultandolmetschung" in str(plenary_de["DESCRIPTION"])
    assert plenary_de["CATEGORIES"].cats == ["Digitalisierung"]

    (plenary_tr,) = turkish
    assert str(plenary_tr["SUMMARY"]) == TRICKY_TR
    description = str(plenary_tr["DESCRIPTION"])
    assert "Tema: Dijitalleşme" in description
    # The reader's own time first, then the organiser's.
    assert "11:00–12:00 Çanakkale / 10:00–11:00 Berlin" in description
    assert plenary_tr["CATEGORIES"].cats == ["Dijitalleşme"]

    # A session in the reader's own zone shows one time only.
    workshop = str(by_uid["s-urban@example.org"]["DESCRIPTION"])
    assert "Zeit: 14:00–15:00 Osnabrück\n" in workshop


def test_places_on_the_same_clock_share_one_time(tmp_path: Path) -> None:
    """Vienna and Berlin differ in zone but not in time: one time, both places."""
    vienna = dataclasses.replace(OSNABRUECK, id="wien", name="Wien", timezone="Europe/Vienna")
    conf, matchmaking, schedule = example()
    conf = dataclasses.replace(conf, cities=(vienna, CANAKKALE))
    people = tuple(
        dataclasses.replace(p, city_id="wien") if p.city_id == "osn" else p
        for p in conf.participants
    )
    conf = dataclasses.replace(conf, participants=people)
    write_calendars(conf, matchmaking, schedule, tmp_path, stamp=STAMP)
    feed = vevents(read(tmp_path / "calendars" / "osn-expert.ics"))
    plenary = next(e for e in feed if str(e["UID"]).startswith("s-digital"))
    assert "Zeit: 10:00–11:00 Wien, Berlin\n" in str(plenary["DESCRIPTION"])
    assert plenary["DTSTART"].params["TZID"] == "Europe/Vienna"


def test_meeting_description_names_delegations_reasons_and_both_local_times(written: Path) -> None:
    for person, reasons, times in (
        (
            "osn-admin",
            "Beide Städte: Digitalisierung",
            "11:00–11:45 Osnabrück / 12:00–12:45 Çanakkale",
        ),
        (
            "can-admin",
            "İki şehir de: Dijitalleşme",
            "12:00–12:45 Çanakkale / 11:00–11:45 Osnabrück",
        ),
    ):
        for path in (
            written / "calendars" / f"{person}.ics",
            written / "invites" / person / "pm-can-osn.ics",
        ):
            (meeting,) = [e for e in vevents(read(path)) if str(e["UID"]).startswith("pm-")]
            description = str(meeting["DESCRIPTION"])
            assert "Çanakkale: Ayşe Yılmaz" in description
            assert "Osnabrück: Jürgen Groß" in description
            assert reasons in description
            assert times in description
            assert "@" not in description  # names, never addresses


def test_conference_feed_names_no_person(written: Path) -> None:
    conf, _, _ = example()
    feed = vevents(read(written / "calendars" / "conference.ics"))
    (meeting,) = [e for e in feed if e["UID"].startswith("pm-")]
    text = str(meeting["DESCRIPTION"])
    assert "Çanakkale" in text and "Osnabrück" in text and "Beide Städte" in text
    for person in conf.participants:
        assert person.name not in text


def test_invites_are_itip_requests_with_one_event(written: Path) -> None:
    conf, _, schedule = example()
    for path in invite_files(written):
        cal = read(path)
        assert cal["METHOD"] == "REQUEST"
        (event,) = vevents(cal)
        assert str(event["UID"]) == uid(conf, path.stem)
        assert "DTSTAMP" in event
        organizer = event["ORGANIZER"]
        assert str(organizer) == "mailto:konferenz@example.org"
        assert organizer.params["CN"] == "Konferenzbüro"
        attendees = event.get("ATTENDEE")
        attendees = attendees if isinstance(attendees, list) else [attendees]
        assert attendees
        for attendee in attendees:
            assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
            assert attendee.params["RSVP"] == "TRUE"
            assert attendee.params["CUTYPE"] == "INDIVIDUAL"
            assert attendee.params["CN"]
        recipient = conf.participants_by_id[path.parent.name]
        addresses = {str(a).removeprefix("mailto:"): a for a in attendees}
        assert recipient.email in addresses
        role = {a.participant_id: a.role for a in schedule.attendees_of(path.stem)}
        expected_role = "OPT-PARTICIPANT" if role[recipient.id] == "attendee" else "REQ-PARTICIPANT"
        assert addresses[recipient.email].params["ROLE"] == expected_role


def test_session_invite_names_only_its_recipient(written: Path) -> None:
    conf, _, _ = example()
    for person in ("osn-expert", "osn-admin", "can-youth"):
        text = (written / "invites" / person / "s-digital.ics").read_text("utf-8")
        event = vevents(icalendar.Calendar.from_ical(text))[0]
        assert str(event["ATTENDEE"]) == f"mailto:{conf.participants_by_id[person].email}"
        for other in conf.participants:
            if other.id != person:
                assert other.email not in text


def test_meeting_invite_names_every_member(written: Path) -> None:
    for person in ("osn-admin", "can-admin"):
        event = vevents(read(written / "invites" / person / "pm-can-osn.ics"))[0]
        assert sorted(str(a) for a in event["ATTENDEE"]) == [
            "mailto:ayse@canakkale.example",
            "mailto:juergen.gross@osnabrueck.example",
        ]
        assert {a.params["ROLE"] for a in event["ATTENDEE"]} == {"REQ-PARTICIPANT"}


def test_no_email_address_in_any_published_feed(written: Path) -> None:
    conf, _, _ = example()
    for path in publish_files(written):
        text = path.read_text("utf-8")
        assert "mailto:" not in text and "ATTENDEE" not in text
        for person in conf.participants:
            assert person.email not in text
        assert conf.organizer.email not in text


def test_lines_are_crlf_folded_at_75_octets_utf8(written: Path) -> None:
    for path in all_files(written):
        data = path.read_bytes()
        data.decode("utf-8")
        assert data.endswith(b"\r\n")
        lines = data.split(b"\r\n")[:-1]
        assert all(b"\n" not in line and b"\r" not in line for line in lines), path
        assert max(len(line) for line in lines) <= 75, path
    # Folding never splits a character: the tricky title survives every file.
    assert TRICKY_TR in str(vevents(read(written / "calendars" / "can-youth.ics"))[0]["SUMMARY"])


def test_without_meeting_url_no_link_is_written(tmp_path: Path) -> None:
    conf, matchmaking, schedule = example()
    conf = dataclasses.replace(conf, meeting_url=None)
    write_calendars(conf, matchmaking, schedule, tmp_path, stamp=STAMP)
    for path in all_files(tmp_path):
        for event in vevents(read(path)):
            assert "URL" not in event and "LOCATION" not in event
            assert "https://" not in str(event["DESCRIPTION"])


def test_same_schedule_and_stamp_write_identical_files(tmp_path: Path) -> None:
    write_calendars(*example(), tmp_path / "a", stamp=STAMP)
    write_calendars(*example(), tmp_path / "b", stamp=STAMP)
    write_calendars(*example(), tmp_path / "c", stamp=STAMP + timedelta(days=3))
    files_a, files_b = all_files(tmp_path / "a"), all_files(tmp_path / "b")
    assert [p.relative_to(tmp_path / "a") for p in files_a] == [
        p.relative_to(tmp_path / "b") for p in files_b
    ]
    for a, b in zip(files_a, files_b, strict=True):
        assert a.read_bytes() == b.read_bytes()
    # Another run (another stamp): the same UIDs, so clients update instead of duplicating.
    for a in files_a:
        c = tmp_path / "c" / a.relative_to(tmp_path / "a")
        assert [e["UID"] for e in vevents(read(a))] == [e["UID"] for e in vevents(read(c))]


def test_rewriting_removes_calendars_of_a_previous_schedule(tmp_path: Path) -> None:
    conf, matchmaking, schedule = example()
    write_calendars(conf, matchmaking, schedule, tmp_path, stamp=STAMP)
    fewer = Schedule(
        tuple(e for e in schedule.events if e.event_id != "s-digital"),
        tuple(a for a in schedule.attendance if a.event_id != "s-digital"),
        (),
        "OPTIMAL",
        0.0,
        0.0,
        0.1,
    )
    write_calendars(conf, matchmaking, fewer, tmp_path, stamp=STAMP)
    assert not (tmp_path / "calendars" / "can-youth.ics").exists()
    assert not (tmp_path / "invites" / "can-youth").exists()
    assert not (tmp_path / "invites" / "osn-admin" / "s-digital.ics").exists()


# -- real clients ------------------------------------------------------------------------------


def ical_js(paths: list[Path]) -> list[dict]:
    """Every VEVENT as ical.js (Thunderbird's parser) reads it, times in UTC."""
    node = shutil.which("node")
    require(
        node is not None and (CLIENTS / "node_modules" / "ical.js").is_dir(),
        "ical.js (node; `make clients` installs it into tests/clients)",
    )
    done = subprocess.run(
        [str(node), str(CLIENTS / "ical_times.mjs"), *map(str, paths)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_ical_js_reads_every_time_as_scheduled(written: Path) -> None:
    _, _, schedule = example()
    files = all_files(written)
    rows = ical_js(files)
    assert {Path(r["file"]) for r in rows} == set(files)
    for row in rows:
        event = schedule.events_by_id[row["uid"].split("@")[0]]
        assert (row["start"], row["end"]) == (iso(event.start), iso(event.end)), row
        tzid_start, zone_start, tzid_end, zone_end = row["zones"]
        assert zone_start == tzid_start and zone_end == tzid_end  # not floating
    # Both zones were exercised.
    assert {r["zones"][0] for r in rows} == {"Europe/Berlin", "Europe/Istanbul"}


@pytest.mark.parametrize(
    "zone",
    [
        "Europe/Berlin",
        "Europe/Istanbul",
        "America/New_York",
        "Australia/Sydney",
        "Asia/Jerusalem",
        "Asia/Tehran",  # 2020: DST on fixed Persian dates, no yearly weekday rule
    ],
)
def test_ical_js_reads_our_vtimezones_like_tzdata(zone: str, tmp_path: Path) -> None:
    """Local times on every day of the conference year (RRULE zones) or of the window (the
    others), every hour on days the offset changes, read back by ical.js to the minute."""
    first, last = date(2020, 3, 20), date(2020, 4, 10)  # spans Europe's change in March
    tz = vtimezone(zone, first, last)
    observances: list[Any] = list(tz.subcomponents)
    has_rules = any("RRULE" in sub for sub in observances)
    fixed = all(sub["TZOFFSETFROM"].td == sub["TZOFFSETTO"].td for sub in observances)
    if has_rules or fixed:
        days = [date(2020, 1, 1) + timedelta(days=n) for n in range(366)]
    else:
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    cal = icalendar.Calendar()
    cal.add("PRODID", "-//test//EN")
    cal.add("VERSION", "2.0")
    cal.add_component(tz)
    zoneinfo = ZoneInfo(zone)
    expected = {}
    for n, day in enumerate(days):
        # Every hour on the days an offset changes, one time on the other days.
        midnight = datetime(day.year, day.month, day.day, tzinfo=zoneinfo)
        changes = midnight.utcoffset() != (midnight + timedelta(days=1)).utcoffset()
        for hour in range(24) if changes else (10,):
            local = datetime(day.year, day.month, day.day, hour, 30, tzinfo=zoneinfo)
            if not unambiguous(local):
                continue
            event = icalendar.Event()
            event_uid = f"{n}-{hour}@test"
            event.add("UID", event_uid)
            event.add("DTSTAMP", STAMP)
            event.add("DTSTART", local)
            event.add("DTEND", local + timedelta(minutes=30))
            cal.add_component(event)
            expected[event_uid] = iso(local)
    path = tmp_path / "zone.ics"
    path.write_bytes(cal.to_ical())
    rows = ical_js([path])
    assert len(rows) == len(expected)
    wrong = {r["uid"]: r["start"] for r in rows if r["start"] != expected[r["uid"]]}
    assert not wrong


def unambiguous(local: datetime) -> bool:
    """A wall-clock time that exists exactly once (not skipped or repeated by DST)."""
    round_trip = local.astimezone(UTC).astimezone(local.tzinfo)
    exists = round_trip.replace(tzinfo=None) == local.replace(tzinfo=None)
    return exists and local.replace(fold=1).utcoffset() == local.utcoffset()


def libical(paths: list[Path]) -> dict[str, dict]:
    available = SYSTEM_PYTHON.exists() and (
        subprocess.run(
            [str(SYSTEM_PYTHON), "-c", "import gi; gi.require_version('ICalGLib', '3.0')"],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    require(available, "libical (python3-gi + gir1.2-ical-3.0 for /usr/bin/python3)")
    done = subprocess.run(
        [str(SYSTEM_PYTHON), str(CLIENTS / "libical_check.py"), *map(str, paths)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout)


def test_libical_accepts_every_invite(written: Path) -> None:
    results = libical(invite_files(written))
    assert len(results) == len(invite_files(written))
    bad = {
        path: result
        for path, result in results.items()
        if not result["ok"] or result["parse_errors"] or result["itip_errors"]
    }
    assert not bad


def test_libical_reads_every_feed_without_errors(written: Path) -> None:
    """Feeds parse cleanly. As iTIP PUBLISH messages they lack only ORGANIZER, on purpose:
    it would be an e-mail address, and a feed to import is not a message from anyone."""
    results = libical(publish_files(written))
    assert len(results) == len(publish_files(written))
    for path, result in results.items():
        assert not result["parse_errors"], path
        for error in result["itip_errors"]:
            assert "ORGANIZER property" in error, (path, error)


def test_libical_rejects_an_invite_without_organizer(written: Path, tmp_path: Path) -> None:
    """The check has teeth: the same invite without ORGANIZER fails it."""
    source = written / "invites" / "can-youth" / "s-digital.ics"
    cal = read(source)
    event = vevents(cal)[0]
    del event["ORGANIZER"]
    broken = tmp_path / "broken.ics"
    broken.write_bytes(cal.to_ical())
    result = libical([broken])[str(broken)]
    assert not result["ok"] and any("ORGANIZER" in e for e in result["itip_errors"])


# -- CalDAV ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def radicale(tmp_path: Path):
    """A Radicale server on a free loopback port, no authentication, storage in tmp."""
    port = free_port()
    config = tmp_path / "radicale.conf"
    config.write_text(
        "[server]\n"
        f"hosts = 127.0.0.1:{port}\n"
        "[auth]\n"
        "type = none\n"
        "[rights]\n"
        "type = owner_only\n"
        "[storage]\n"
        f"filesystem_folder = {tmp_path / 'collections'}\n"
        "[logging]\n"
        "level = warning\n",
        encoding="utf-8",
    )
    log = tmp_path / "radicale.log"
    url = f"http://127.0.0.1:{port}/"
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    with urllib.request.urlopen(url, timeout=1):
                        break
                except OSError as error:
                    if server.poll() is not None or time.monotonic() > deadline:
                        message = log.read_text("utf-8", errors="replace")
                        raise RuntimeError(f"Radicale did not start:\n{message}") from error
                    time.sleep(0.1)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=10)


def one_resource_per_event(feed: icalendar.Calendar) -> list[icalendar.Calendar]:
    """What a CalDAV client stores: one event per resource, with its VTIMEZONE, no METHOD."""
    resources = []
    for event in vevents(feed):
        resource = icalendar.Calendar()
        resource.add("PRODID", feed["PRODID"])
        resource.add("VERSION", "2.0")
        for tz in feed.walk("VTIMEZONE"):
            resource.add_component(tz)
        resource.add_component(event)
        resources.append(resource)
    return resources


def test_caldav_server_stores_and_returns_every_personal_event(
    written: Path, radicale: str
) -> None:
    from caldav.davclient import DAVClient

    conf, _, schedule = example()
    people = sorted({a.participant_id for a in schedule.attendance})
    with DAVClient(url=radicale, username="organiser", password="unused") as client:
        principal = client.principal()
        for person in people:
            feed = read(written / "calendars" / f"{person}.ics")
            collection = principal.make_calendar(name=person, cal_id=person)
            for resource in one_resource_per_event(feed):
                collection.save_event(resource.to_ical().decode("utf-8"))
        for person in people:
            stored = principal.calendar(cal_id=person)
            got = {}
            for item in stored.events():
                (event,) = vevents(icalendar.Calendar.from_ical(item.data))
                got[str(event["UID"])] = (
                    event["DTSTART"].dt.astimezone(UTC),
                    event["DTEND"].dt.astimezone(UTC),
                    str(event["SUMMARY"]),
                )
            language = conf.city_of(conf.participants_by_id[person]).language
            expected = {
                uid(conf, a.event_id): (
                    schedule.events_by_id[a.event_id].start,
                    schedule.events_by_id[a.event_id].end,
                    schedule.events_by_id[a.event_id].title(language),
                )
                for a in schedule.attendance_of(person)
            }
            assert got == expected, person


# -- a solved conference ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Conference, Schedule, Path]:
    """Four cities (two partnerships, two new contacts), three sessions, solved for real."""
    people = [
        participant("osn-a", "osn", role="administration", name="Jürgen Groß"),
        participant("osn-e", "osn", interests={"digital": 3, "urban": 2}),
        participant("man-a", "man", role="administration", languages=("de", "en")),
        participant("can-a", "can", role="administration", languages=("tr",), name="Ayşe Yılmaz"),
        participant(
            "can-y", "can", role="youth", languages=("tr",), interests={"digital": 3, "youth": 3}
        ),
        participant("kil-a", "kil", role="administration", languages=("tr", "en")),
    ]
    sessions = [
        session(
            "s-digital",
            kind="plenary",
            language="de-tr",
            titles={"de": "Digitale Straße & <Çanakkale>", "tr": "Dijital şehir & <İzmir>"},
        ),
        session("s-urban", theme="urban", language="de"),
        session("s-youth", theme="youth", language="tr", duration=90),
    ]
    conf = conference(
        cities=(OSNABRUECK, CANAKKALE, MANNHEIM, KILIS),
        partnerships=(Partnership("can", "osn"), Partnership("kil", "man")),
        participants=people,
        sessions=sessions,
    )
    matchmaking = match(conf)
    schedule = solve(conf, matchmaking, SolveOptions(time_limit=20, deterministic=True, workers=1))
    folder = tmp_path_factory.mktemp("solved")
    write_calendars(conf, matchmaking, schedule, folder, stamp=STAMP)
    return conf, schedule, folder


def test_solved_conference_calendars_follow_the_schedule(
    solved: tuple[Conference, Schedule, Path],
) -> None:
    conf, schedule, folder = solved
    assert any(e.kind == "new_contact_meeting" for e in schedule.events)
    everything = vevents(read(folder / "calendars" / "conference.ics"))
    assert len(everything) == len(schedule.events)
    people = {a.participant_id for a in schedule.attendance}
    assert {p.stem for p in publish_files(folder)} == people | {"conference"}
    for person in people:
        feed = vevents(read(folder / "calendars" / f"{person}.ics"))
        mine = schedule.attendance_of(person)
        assert {str(e["UID"]) for e in feed} == {uid(conf, a.event_id) for a in mine}
        for attendance in mine:
            invite = vevents(read(folder / "invites" / person / f"{attendance.event_id}.ics"))[0]
            invited = (
                invite["ATTENDEE"] if isinstance(invite["ATTENDEE"], list) else [invite["ATTENDEE"]]
            )
            members = schedule.attendees_of(attendance.event_id)
            if schedule.events_by_id[attendance.event_id].kind in ("plenary", "workshop"):
                members = (attendance,)
            expected = {
                f"mailto:{conf.participants_by_id[m.participant_id].email}" for m in members
            }
            assert {str(a) for a in invited} == expected


def test_solved_conference_calendars_read_right_in_ical_js_and_libical(
    solved: tuple[Conference, Schedule, Path],
) -> None:
    _, schedule, folder = solved
    for row in ical_js(all_files(folder)):
        event = schedule.events_by_id[row["uid"].split("@")[0]]
        assert (row["start"], row["end"]) == (iso(event.start), iso(event.end)), row
    for path, result in libical(invite_files(folder)).items():
        assert result["ok"] and not result["parse_errors"] and not result["itip_errors"], path


# -- only what changed is written again ------------------------------------------------------


def inodes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_ino for p in all_files(folder)}


def test_a_rerun_carries_over_every_unchanged_file(tmp_path: Path) -> None:
    write_calendars(*example(), tmp_path / "a", stamp=STAMP)
    later = STAMP + timedelta(days=3)
    write_calendars(*example(), tmp_path / "b", stamp=later, previous=tmp_path / "a")
    first, second = inodes(tmp_path / "a"), inodes(tmp_path / "b")
    assert first == second  # the same files, every one a hard link to the previous one
    # Carried over with the DTSTAMP of the version that wrote them.
    for event in vevents(read(tmp_path / "b" / "calendars" / "conference.ics")):
        assert event["DTSTAMP"].dt == STAMP


def test_a_moved_event_rewrites_exactly_the_files_that_show_it(tmp_path: Path) -> None:
    conf, matchmaking, schedule = example()
    write_calendars(conf, matchmaking, schedule, tmp_path / "a", stamp=STAMP)
    moved = dataclasses.replace(
        schedule,
        events=tuple(
            dataclasses.replace(
                e, start=e.start + timedelta(hours=1), end=e.end + timedelta(hours=1)
            )
            if e.event_id == "s-urban"
            else e
            for e in schedule.events
        ),
    )
    later = STAMP + timedelta(days=3)
    write_calendars(conf, matchmaking, moved, tmp_path / "b", stamp=later, previous=tmp_path / "a")
    first, second = inodes(tmp_path / "a"), inodes(tmp_path / "b")
    assert first.keys() == second.keys()
    rewritten = {path for path in second if second[path] != first[path]}
    assert rewritten == {
        "calendars/conference.ics",
        "calendars/osn-admin.ics",
        "calendars/osn-expert.ics",
        "invites/osn-admin/s-urban.ics",
        "invites/osn-expert/s-urban.ics",
    }
    for path in rewritten:
        stamps = {e["DTSTAMP"].dt for e in vevents(read(tmp_path / "b" / path))}
        assert stamps == {later}, path
    urban = [e for e in vevents(read(tmp_path / "b" / "invites/osn-admin/s-urban.ics"))]
    assert urban[0]["DTSTART"].dt == utc(5, 13)


def test_a_file_edited_since_is_written_anew(tmp_path: Path) -> None:
    write_calendars(*example(), tmp_path / "a", stamp=STAMP)
    edited = tmp_path / "a" / "invites" / "can-youth" / "s-digital.ics"
    original = edited.read_bytes()
    edited.write_bytes(original.replace(b"SEQUENCE:0", b"SEQUENCE:7"))  # same size
    write_calendars(*example(), tmp_path / "b", stamp=STAMP, previous=tmp_path / "a")
    again = tmp_path / "b" / "invites" / "can-youth" / "s-digital.ics"
    assert again.read_bytes() == original
    assert again.stat().st_ino != edited.stat().st_ino


def published_calendars(out: Path) -> Callable[[], None]:
    """Publish the example's calendars into ``out`` as a run does (manifest, then marker);
    the function returned publishes them again there, from the folder as it is then."""

    def again() -> None:
        publish(out, lambda temp: write_calendars(*example(), temp, stamp=STAMP, previous=out))

    again()
    return again


def test_a_published_file_edited_since_is_written_anew(tmp_path: Path) -> None:
    """A re-run trusts a file's size and time only when nobody touched it after the
    publish: an edit of the same size is noticed by its later modification time."""
    out = tmp_path / "out"
    again = published_calendars(out)
    edited = out / "invites" / "can-youth" / "s-digital.ics"
    untouched = out / "calendars" / "conference.ics"
    original, kept = edited.read_bytes(), untouched.stat().st_ino
    time.sleep(0.01)  # a later mtime than the publish's, on any file system clock
    edited.write_bytes(original.replace(b"SEQUENCE:0", b"SEQUENCE:7"))  # same size
    again()
    assert edited.read_bytes() == original
    assert untouched.stat().st_ino == kept  # carried over, not rewritten


def test_a_file_edited_before_the_manifest_was_touched_is_still_noticed(tmp_path: Path) -> None:
    """Touching manifest.json after an edit makes the edit look older than the manifest:
    then no file's time is trusted and every file is read."""
    out = tmp_path / "out"
    again = published_calendars(out)
    edited = out / "invites" / "can-youth" / "s-digital.ics"
    original = edited.read_bytes()
    time.sleep(0.01)
    edited.write_bytes(original.replace(b"SEQUENCE:0", b"SEQUENCE:7"))
    time.sleep(0.01)
    (out / "manifest.json").touch()
    again()
    assert edited.read_bytes() == original


def test_rewriting_in_place_never_writes_through_a_hard_link(tmp_path: Path) -> None:
    """A new version written into a folder whose files are hard links to the previous
    outputs leaves the previous files as they were."""
    conf, matchmaking, schedule = example()
    write_calendars(conf, matchmaking, schedule, tmp_path / "a", stamp=STAMP)
    before = {p: p.read_bytes() for p in all_files(tmp_path / "a")}
    write_calendars(
        conf, matchmaking, schedule, tmp_path / "b", stamp=STAMP, previous=tmp_path / "a"
    )
    later = STAMP + timedelta(days=1)
    write_calendars(conf, matchmaking, schedule, tmp_path / "b", stamp=later)
    assert {p: p.read_bytes() for p in all_files(tmp_path / "a")} == before
    assert b"DTSTAMP:20200521T120000Z" in (tmp_path / "b/calendars/conference.ics").read_bytes()


# -- versions: SEQUENCE and CANCEL -----------------------------------------------------------


def test_an_events_sequence_is_the_same_in_every_file(written: Path, tmp_path: Path) -> None:
    write_calendars(*example(), tmp_path, stamp=STAMP, sequences={"s-digital": 3})
    for path in all_files(tmp_path):
        for event in vevents(read(path)):
            expected = 3 if str(event["UID"]).startswith("s-digital@") else 0
            assert event["SEQUENCE"] == expected, path


def cancellation_of(person: Any, event: ScheduledEvent, sequence: int) -> Cancellation:
    return Cancellation(
        person.id,
        event.event_id,
        sequence,
        event.start,
        event.end,
        event.title("tr"),
        person.name,
        person.email,
    )


def test_cancel_messages_are_itip_cancels_that_libical_accepts(tmp_path: Path) -> None:
    conf, matchmaking, schedule = example()
    # can-youth no longer attends the plenary; a withdrawn participant (gone from the
    # conference) loses the partner meeting of the previous version.
    kept = dataclasses.replace(
        schedule,
        attendance=tuple(
            a
            for a in schedule.attendance
            if (a.participant_id, a.event_id) != ("can-youth", "s-digital")
        ),
    )
    youth = conf.participants_by_id["can-youth"]
    gone = participant("osn-gone", "osn", name="Gone\r\nPerson", email="gone@osnabrueck.example")
    cancellations = [
        cancellation_of(youth, schedule.events_by_id["s-digital"], 1),
        cancellation_of(gone, schedule.events_by_id["pm-can-osn"], 2),
    ]
    write_calendars(
        conf,
        matchmaking,
        kept,
        tmp_path,
        stamp=STAMP,
        sequences={"s-digital": 1},
        cancellations=cancellations,
    )
    files = [
        tmp_path / "invites/can-youth/s-digital.ics",
        tmp_path / "invites/osn-gone/pm-can-osn.ics",
    ]
    for path, cancellation in zip(files, cancellations, strict=True):
        cal = read(path)
        assert cal["METHOD"] == "CANCEL"
        (event,) = vevents(cal)
        assert str(event["UID"]) == uid(conf, cancellation.event_id)
        assert event["SEQUENCE"] == cancellation.sequence
        assert event["STATUS"] == "CANCELLED"
        assert event["DTSTART"].dt == cancellation.start
        assert str(event["ATTENDEE"]) == f"mailto:{cancellation.email}"
        assert str(event["ORGANIZER"]) == "mailto:konferenz@example.org"
    results = libical(files)
    for name, result in results.items():
        assert result["ok"] and not result["parse_errors"] and not result["itip_errors"], name
    rows = ical_js(files)
    assert {(r["uid"], r["start"]) for r in rows} == {
        (uid(conf, c.event_id), iso(c.start)) for c in cancellations
    }
    # The feeds carry the current state: can-youth's plenary is gone from theirs.
    assert not (tmp_path / "calendars" / "can-youth.ics").exists()


def test_libical_rejects_a_cancel_without_its_uid(tmp_path: Path) -> None:
    """The check has teeth for CANCEL too."""
    conf, matchmaking, schedule = example()
    youth = conf.participants_by_id["can-youth"]
    cancel = cancellation_of(youth, schedule.events_by_id["s-urban"], 1)
    write_calendars(conf, matchmaking, schedule, tmp_path, stamp=STAMP, cancellations=[cancel])
    cal = read(tmp_path / "invites/can-youth/s-urban.ics")
    del vevents(cal)[0]["UID"]
    broken = tmp_path / "broken.ics"
    broken.write_bytes(cal.to_ical())
    assert not libical([broken])[str(broken)]["ok"]


# -- hostile text ----------------------------------------------------------------------------

INJECTION = "\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil@attacker.example\r\nSUMMARY:x"


def test_no_text_in_the_model_can_add_a_line_to_a_calendar(tmp_path: Path) -> None:
    """CR, LF, CRLF, NUL and other control characters in the conference's name, a
    participant's name and a title (built in code, past the loader): every content line
    stays valid, libical and ical.js read the same events and no injected one."""
    conf, matchmaking, schedule = example()
    conf = dataclasses.replace(
        conf,
        name=f"Konferenz\r{INJECTION}\x00\x1b",
        participants=tuple(
            dataclasses.replace(p, name=f"{p.name}\r{INJECTION}\n\x00") for p in conf.participants
        ),
        meeting_url="https://meet.example.org/{event_id}\r\nX-EVIL:1",
    )
    schedule = dataclasses.replace(
        schedule,
        events=tuple(
            dataclasses.replace(
                e, titles={k: f"{v}\r\n{INJECTION}\x07" for k, v in e.titles.items()}
            )
            for e in schedule.events
        ),
    )
    write_calendars(conf, matchmaking, schedule, tmp_path, stamp=STAMP)
    files = all_files(tmp_path)
    expected = {uid(conf, e.event_id) for e in schedule.events}
    for path in files:
        data = path.read_bytes()
        lines = data.split(b"\r\n")[:-1]
        for line in lines:
            assert not any(byte < 0x20 and byte != 0x09 or byte == 0x7F for byte in line), (
                path,
                line,
            )
            assert len(line) <= 75, (path, line)
        data.decode("utf-8")
        assert b"\nUID:evil" not in data and b"\nX-EVIL" not in data, path
    rows = ical_js(files)
    assert {r["uid"] for r in rows} == expected
    assert len(rows) == sum(len(vevents(read(p))) for p in files)
    for name, result in libical(files).items():
        assert not result["parse_errors"], (name, result)
        if name.split("/")[-3:-2] == ["invites"] or "/invites/" in name:
            assert result["ok"] and not result["itip_errors"], (name, result)
    for path in files:
        for event in vevents(read(path)):
            assert str(event["UID"]) in expected
    feed = read(tmp_path / "calendars" / "conference.ics")
    # The name survives as text on one line: the break is a space, the NUL is gone.
    assert str(feed["X-WR-CALNAME"]).startswith("Konferenz  END:VEVENT BEGIN:VEVENT")

"""Re-planning a published conference: each kind of change, re-planned with `--previous`,
checked by both checkers, and its outcome asserted (docs/workflow.md, "Re-planning")."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest

from scheduler import pipeline, review
from scheduler.check import check_outputs
from scheduler.check_replan import check_replan
from scheduler.errors import UserError
from scheduler.generate import generate
from scheduler.model import Matchmaking
from tests.test_ical import ical_js, libical, radicale  # noqa: F401 - radicale: a fixture

FIRST = datetime(2020, 5, 1, 8, 0, tzinfo=UTC)
SECOND = datetime(2020, 5, 8, 8, 0, tzinfo=UTC)


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


def write_rows(path: Path, table: list[dict[str, str]], columns: list[str] | None = None) -> None:
    columns = columns or (list(table[0]) if table else [])
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(table)


def set_capacity(inputs: Path, session_id: str, capacity: int) -> None:
    """Give one session of sessions.csv a capacity."""
    table = rows(inputs / "sessions.csv")
    for row in table:
        if row["session_id"] == session_id:
            row["capacity"] = str(capacity)
    write_rows(inputs / "sessions.csv", table)


def set_toml(path: Path, key: str, value: object) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(rf"(?m)^{key} = .*$", f"{key} = {value}", text), encoding="utf-8")


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small generated conference over two days (so that events overlap), with three
    rooms and two interpreters: version 1."""
    root = tmp_path_factory.mktemp("published")
    inputs = root / "inputs"
    generate(inputs, cities=4, participants=16, sessions=6, seed=1)
    set_toml(inputs / "conference.toml", "end", "2020-06-04")
    set_toml(inputs / "conference.toml", "rooms", 3)
    set_toml(inputs / "conference.toml", "interpreters", 2)
    out = root / "v1"
    pipeline.run(inputs, out, time_limit=10, deterministic=True, stamp=FIRST)
    assert check_outputs(inputs, out) == []
    return inputs, out


@dataclass
class Replanned:
    inputs: Path
    before: Path  # a copy of version 1
    out: Path  # version 2
    result: pipeline.Result

    def changes(self) -> list[dict[str, str]]:
        return rows(self.out / "changes.csv")

    def outbox(self) -> list[dict[str, str]]:
        return rows(self.out / "outbox.csv")

    def moved(self) -> set[str]:
        old = {r["event_id"]: r["start"] for r in rows(self.before / "schedule.csv")}
        new = {r["event_id"]: r["start"] for r in rows(self.out / "schedule.csv")}
        return {eid for eid in old.keys() & new.keys() if old[eid] != new[eid]}


def replan(
    published: tuple[Path, Path], tmp_path: Path, change: Callable[[Path, Path], None]
) -> Replanned:
    """Copy version 1, change its inputs, re-plan into the same folder (the usual case)
    and check the result with both independent checkers."""
    inputs, first = published
    changed = tmp_path / "inputs"
    shutil.copytree(inputs, changed)
    before = tmp_path / "v1"
    shutil.copytree(first, before)
    out = tmp_path / "outputs"
    shutil.copytree(first, out)
    change(changed, before)
    result = pipeline.run(
        changed, out, time_limit=10, deterministic=True, stamp=SECOND, previous=out
    )
    assert check_outputs(changed, out) == []
    assert check_replan(result.conference, before, out) == []
    return Replanned(changed, before, out, result)


def entries(folder: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for row in rows(folder / "attendance.csv"):
        found.setdefault(row["participant_id"], set()).add(row["event_id"])
    return found


def events(folder: Path) -> dict[str, dict[str, str]]:
    return {r["event_id"]: r for r in rows(folder / "schedule.csv")}


def sequence(path: Path) -> int:
    (event,) = icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")
    return int(event.decoded("SEQUENCE"))


# -- each kind of change --------------------------------------------------------------------


def test_unchanged_inputs_change_nothing_and_send_nothing(published, tmp_path: Path) -> None:
    done = replan(published, tmp_path, lambda inputs, before: None)
    assert done.changes() == [] and done.outbox() == []
    assert (done.out / "schedule.csv").read_bytes() == (done.before / "schedule.csv").read_bytes()
    assert entries(done.out) == entries(done.before)
    report = review.read_report(done.out)
    assert report["version"] == 2
    assert (report["events_moved"], report["events_cancelled"], report["events_added"]) == (0, 0, 0)
    assert report["participants_affected"] == 0
    assert report["attended_weight_before"] == report["attended_weight_after"]


def test_a_host_unavailable_on_the_day_of_their_session_moves_only_that_session(
    published, tmp_path: Path
) -> None:
    _inputs, first = published
    schedule = events(first)
    session = next(
        row
        for eid, row in sorted(schedule.items())
        if row["kind"] == "plenary" and eid != "opening"
    )
    host = next(
        r["participant_id"]
        for r in rows(first / "attendance.csv")
        if r["event_id"] == session["event_id"] and r["role"] == "host"
    )
    day = datetime.fromisoformat(session["start"]).astimezone(UTC).date()
    # everything the host must attend that day has to move with it, nothing else
    same_day = {
        r["event_id"]
        for r in rows(first / "attendance.csv")
        if r["participant_id"] == host
        and r["role"] in ("host", "delegate")
        and datetime.fromisoformat(schedule[r["event_id"]]["start"]).date() == day
    }

    def ill(inputs: Path, _before: Path) -> None:
        table = rows(inputs / "unavailability.csv")
        table.append(
            {
                "participant_id": host,
                "start": day.isoformat(),
                "end": day.isoformat(),
                "reason": "krank",
            }
        )
        write_rows(inputs / "unavailability.csv", table)

    done = replan(published, tmp_path, ill)
    moved = done.moved()
    assert session["event_id"] in moved
    # besides the host's own events that day, only what one of them needs room for moves
    why = {r["event_id"]: r["reason"] for r in done.changes() if r["change"] == "moved"}
    for eid in moved - same_day:
        room_for = why[eid].removeprefix("moved to make room for the ").split()[-1]
        assert why[eid].startswith("moved to make room for the") and room_for in same_day
    for eid in moved & same_day:
        assert host in why[eid] and "unavailable" in why[eid]
    assert set(why) == moved
    # the moved session's invitations go out again with a raised SEQUENCE
    for row in done.outbox():
        if row["event_id"] == session["event_id"] and row["method"] == "REQUEST":
            assert int(row["sequence"]) == 1


def test_a_new_session_moves_nothing(published, tmp_path: Path) -> None:
    def add(inputs: Path, _before: Path) -> None:
        table = rows(inputs / "sessions.csv")
        new = dict(table[-1])
        new.update(
            session_id="s-neu",
            title_de="Neue Werkstatt",
            title_tr="Yeni atölye",
            title_en="New workshop",
            hosts=new["hosts"],
            capacity="",
        )
        write_rows(inputs / "sessions.csv", [*table, new])

    done = replan(published, tmp_path, add)
    assert done.moved() == set()
    assert "s-neu" in events(done.out)
    assert {row["change"] for row in done.changes()} == {"added"}
    assert {row["method"] for row in done.outbox()} == {"REQUEST"}
    assert all(int(row["sequence"]) == 0 for row in done.outbox())


def overlapping(folder: Path) -> int:
    """The most events at one moment in a published schedule."""
    spans = [(r["start"], r["end"]) for r in rows(folder / "schedule.csv")]
    return max(sum(1 for s, e in spans if s <= start < e) for start, _ in spans)


def test_a_room_fewer_moves_only_events_that_no_longer_fit(published, tmp_path: Path) -> None:
    _inputs, first = published
    most = overlapping(first)
    assert most >= 2, "the fixture must use two rooms at once somewhere"
    done = replan(
        published,
        tmp_path,
        lambda inputs, _: set_toml(inputs / "conference.toml", "rooms", most - 1),
    )
    moved = done.moved()
    assert moved, "some event had to move"
    for row in done.changes():
        if row["change"] == "moved":
            assert "no room left" in row["reason"]
    assert overlapping(done.out) <= most - 1
    assert all(int(r["room"]) <= most - 1 for r in rows(done.out / "schedule.csv"))


def test_an_interpreter_fewer_moves_only_interpreted_events(published, tmp_path: Path) -> None:
    done = replan(
        published,
        tmp_path,
        lambda inputs, _: set_toml(inputs / "conference.toml", "interpreters", 1),
    )
    schedule = events(done.before)
    for eid in done.moved():
        assert schedule[eid]["interpreted"] == "true"
    for row in done.changes():
        if row["change"] == "moved":
            assert "interpreter" in row["reason"]


def plain_attendee(folder: Path) -> str:
    """A participant who only attends (no host, no delegate) and has two entries or more."""
    roles: dict[str, set[str]] = {}
    for row in rows(folder / "attendance.csv"):
        roles.setdefault(row["participant_id"], set()).add(row["role"])
    found = entries(folder)
    return next(pid for pid in sorted(roles) if roles[pid] == {"attendee"} and len(found[pid]) >= 2)


def withdrawing(gone: str) -> Callable[[Path, Path], None]:
    """A change: ``gone`` withdraws (out of participants, preferences, unavailability)."""

    def withdraw(inputs: Path, _before: Path) -> None:
        for name in ("participants.csv", "preferences.csv", "unavailability.csv"):
            path = inputs / name
            kept = [r for r in rows(path) if r["participant_id"] != gone]
            write_rows(path, kept, header(path))

    return withdraw


def test_a_withdrawn_participant_gets_a_cancel_for_each_entry_and_nobody_else_anything(
    published, tmp_path: Path
) -> None:
    _inputs, first = published
    gone = plain_attendee(first)

    done = replan(published, tmp_path, withdrawing(gone))
    had = entries(first)[gone]
    theirs = {(r["event_id"], r["method"]) for r in done.outbox() if r["participant_id"] == gone}
    assert theirs == {(eid, "CANCEL") for eid in had}
    # the others hear only of what they can see change: their city's meetings, whose
    # "why these cities meet" follows the city's interests, which the person was part of
    city = next(
        p["city_id"] for p in rows(_inputs / "participants.csv") if p["participant_id"] == gone
    )
    meetings_of_city = {
        eid for eid in events(first) if eid.startswith(("pm-", "nc-")) and city in eid
    }
    for row in done.outbox():
        if row["participant_id"] != gone:
            assert row["method"] == "REQUEST" and row["event_id"] in meetings_of_city
    assert {(r["event_id"], r["change"]) for r in done.changes()} == {
        (eid, "removed_from") for eid in had
    }
    for eid in had:
        cancel = icalendar.Calendar.from_ical((done.out / f"invites/{gone}/{eid}.ics").read_bytes())
        (event,) = cancel.walk("VEVENT")
        assert str(cancel["METHOD"]) == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
        assert str(event["ATTENDEE"]).endswith(".example.org")  # their address, from v1
        assert int(event.decoded("SEQUENCE")) == 1
    assert done.moved() == set()


def test_a_new_delegate_gets_the_meeting_the_old_one_a_cancel(published, tmp_path: Path) -> None:
    _inputs, first = published
    people = rows(_inputs / "participants.csv")
    attendance = rows(first / "attendance.csv")
    delegates = {r["participant_id"] for r in attendance if r["role"] == "delegate"}
    city_of = {p["participant_id"]: p["city_id"] for p in people}
    old, new = next(
        (d, p["participant_id"])
        for d in sorted(delegates)
        for p in people
        if p["city_id"] == city_of[d] and p["participant_id"] not in delegates
    )
    meetings = {
        r["event_id"] for r in attendance if r["participant_id"] == old and r["role"] == "delegate"
    }

    def hand_over(inputs: Path, _before: Path) -> None:
        table = rows(inputs / "participants.csv")
        for person in table:
            if person["participant_id"] == old:
                person["delegate"] = "false"
            if person["participant_id"] == new:
                person["delegate"] = "true"
        write_rows(inputs / "participants.csv", table)

    done = replan(published, tmp_path, hand_over)
    sent = {(r["participant_id"], r["event_id"]): r for r in done.outbox()}
    now = entries(done.out)
    for meeting in meetings:
        if meeting not in events(done.out):
            continue
        assert sent[(old, meeting)]["method"] == "CANCEL"
        assert sent[(new, meeting)]["method"] == "REQUEST"
        for member in now:
            if meeting in now[member] and member != new:
                assert sent[(member, meeting)]["method"] == "REQUEST"
                assert int(sent[(member, meeting)]["sequence"]) == 1
        invite = icalendar.Calendar.from_ical(
            (done.out / f"invites/{new}/{meeting}.ics").read_bytes()
        )
        (event,) = invite.walk("VEVENT")
        addresses = {str(a) for a in event.get("ATTENDEE")}
        assert not any(old in address for address in addresses)


def test_a_capacity_below_the_attendees_removes_the_fewest(published, tmp_path: Path) -> None:
    _inputs, first = published
    attendance = rows(first / "attendance.csv")
    count: dict[str, int] = {}
    for row in attendance:
        count[row["event_id"]] = count.get(row["event_id"], 0) + 1
    sessions = {r["session_id"]: r for r in rows(_inputs / "sessions.csv")}
    target = max(
        (sid for sid in sessions if sid in count and sid != "opening"), key=lambda s: count[s]
    )
    hosts = len(sessions[target]["hosts"].split("|"))
    assert count[target] - 2 >= hosts

    def smaller(inputs: Path, _before: Path) -> None:
        set_capacity(inputs, target, count[target] - 2)

    done = replan(published, tmp_path, smaller)
    lost = [r for r in done.changes() if r["event_id"] == target]
    assert len(lost) == 2 and {r["change"] for r in lost} == {"removed_from"}
    assert {
        (r["participant_id"], r["method"]) for r in done.outbox() if r["event_id"] == target
    } == {(r["participant_id"], "CANCEL") for r in lost}
    assert target not in done.moved()


def test_an_absence_removes_only_that_entry(published, tmp_path: Path) -> None:
    _inputs, first = published
    person = plain_attendee(first)
    schedule = events(first)
    eid = min(entries(first)[person])
    start = datetime.fromisoformat(schedule[eid]["start"])

    def away(inputs: Path, _before: Path) -> None:
        city = next(
            p["city_id"] for p in rows(inputs / "participants.csv") if p["participant_id"] == person
        )
        del city  # the absence is given in UTC-free local time of the city: a whole day
        table = rows(inputs / "unavailability.csv")
        table.append(
            {
                "participant_id": person,
                "start": start.date().isoformat(),
                "end": start.date().isoformat(),
                "reason": "Urlaub",
            }
        )
        write_rows(inputs / "unavailability.csv", table)

    done = replan(published, tmp_path, away)
    same_day = {
        e
        for e in entries(first)[person]
        if datetime.fromisoformat(schedule[e]["start"]).date() == start.date()
    }
    assert {(r["participant_id"], r["event_id"], r["change"]) for r in done.changes()} == {
        (person, e, "removed_from") for e in same_day
    }
    assert done.moved() == set()


# -- three versions in a row, and what real clients make of them -----------------------------


def test_three_versions_in_a_row_each_tell_exactly_what_changed(published, tmp_path: Path) -> None:
    inputs, first = published
    work = tmp_path / "inputs"
    shutil.copytree(inputs, work)
    out = tmp_path / "out"
    shutil.copytree(first, out)
    previous = tmp_path / "previous"
    stamps = [SECOND, SECOND + timedelta(days=1), SECOND + timedelta(days=2)]
    changes = [
        lambda: set_toml(work / "conference.toml", "interpreters", 1),
        lambda: set_toml(work / "conference.toml", "rooms", 2),
        lambda: None,
    ]
    for number, (change, stamp) in enumerate(zip(changes, stamps, strict=True), start=2):
        shutil.rmtree(previous, ignore_errors=True)
        shutil.copytree(out, previous)
        change()
        result = pipeline.run(
            work, out, time_limit=10, deterministic=True, stamp=stamp, previous=out
        )
        assert review.read_report(out)["version"] == number
        assert check_outputs(work, out) == []
        assert check_replan(result.conference, previous, out) == []
    assert rows(out / "outbox.csv") == []  # the third: nothing changed


def test_real_clients_apply_the_update(published, tmp_path: Path) -> None:
    """ical.js reads the moved event at its new time under the same UID, and libical's iTIP
    check accepts every REQUEST and CANCEL of the re-plan."""

    def fewer_rooms(inputs: Path, _before: Path) -> None:
        set_toml(inputs / "conference.toml", "rooms", overlapping(published[1]) - 1)

    done = replan(published, tmp_path, fewer_rooms)
    messages = [done.out / r["file"] for r in done.outbox()]
    assert any(r["method"] == "CANCEL" for r in done.outbox()) or messages
    results = libical(messages)
    bad = {p: r for p, r in results.items() if not r["ok"] or r["parse_errors"] or r["itip_errors"]}
    assert not bad
    moved = done.moved()
    schedule = events(done.out)
    for eid in moved:
        keeper = next(pid for pid, has in entries(done.out).items() if eid in has)
        read = ical_js([done.out / "calendars" / f"{keeper}.ics"])
        (entry,) = [e for e in read if e["uid"].startswith(f"{eid}@")]
        assert entry["start"] == schedule[eid]["start"]


def test_a_folder_the_tool_did_not_publish_is_refused(published, tmp_path: Path) -> None:
    inputs, first = published
    stray = tmp_path / "stray"
    stray.mkdir()
    with pytest.raises(UserError, match="state.json"):
        pipeline.run(inputs, tmp_path / "out", time_limit=5, previous=stray)
    edited = tmp_path / "edited"
    shutil.copytree(first, edited)
    table = rows(edited / "schedule.csv")
    table[0]["start"] = "2020-06-05T07:00:00Z"
    write_rows(edited / "schedule.csv", table)
    with pytest.raises(UserError, match="does not match schedule.csv"):
        pipeline.run(inputs, tmp_path / "out", time_limit=5, previous=edited)


# -- the solver's side: what stays, what moves ---------------------------------------------


def test_a_new_partner_meeting_outranks_keeping_a_session_in_place() -> None:
    """The host of a published session is also the delegate of a new partnership, and the
    other city's delegate is free only at the session's time: the session moves."""
    from scheduler.check import check
    from scheduler.matchmaking import match
    from scheduler.model import MatchmakingRules, Partnership, PublishedPlan
    from scheduler.solve import SolveOptions, solve
    from tests.builders import CANAKKALE, OSNABRUECK, conference, participant, session, unavailable

    def utc(hour: int) -> datetime:
        return datetime(2020, 6, 3, hour, tzinfo=UTC)

    host = participant("osn-admin", "osn", role="administration", interests={"digital": 1})
    guest = participant("can-admin", "can", role="administration", languages=("tr", "de"))
    base = dict(  # noqa: C408 - keyword arguments of conference()
        matchmaking=MatchmakingRules(True, 0, 45, 0.5),
        end=datetime(2020, 6, 3).date(),
        cities=(OSNABRUECK, CANAKKALE),
        participants=(host, guest),
        sessions=(session("s1", hosts=("osn-admin",), duration=60),),
        unavailability=(
            unavailable("osn-admin", utc(0), utc(10)),
            unavailable("osn-admin", utc(11), utc(12)),
            unavailable("osn-admin", utc(13), utc(23)),
            unavailable("can-admin", utc(0), utc(10)),
            unavailable("can-admin", utc(11), utc(23)),
        ),
    )
    before = conference(partnerships=(), **base)
    after = conference(partnerships=(Partnership("can", "osn"),), **base)
    published = PublishedPlan({"s1": utc(10)}, {"s1": 1}, frozenset({("osn-admin", "s1")}))
    meetings = match(after)
    assert [m.id for m in match(before).meetings] == []
    schedule = solve(after, meetings, SolveOptions(time_limit=2, workers=1, published=published))
    assert check(after, meetings, schedule) == []
    events = schedule.events_by_id
    assert events["pm-can-osn"].start == utc(10)
    assert events["s1"].start == utc(12)
    assert schedule.displaced["s1"] == "moved to make room for the partner meeting pm-can-osn"


def test_published_events_keep_their_room_where_it_is_free() -> None:
    from scheduler.check import check
    from scheduler.model import PublishedPlan
    from scheduler.solve import SolveOptions, solve
    from tests.builders import conference, participant, session

    people = [participant(f"p{i}", interests={"digital": 3}) for i in range(4)]
    sessions = [session(f"s{i}", hosts=(f"p{i}",), duration=60) for i in range(3)]
    conf = conference(participants=people, sessions=sessions, partnerships=())
    mm = Matchmaking(meetings=(), matches=(), impossible=())
    start = datetime(2020, 6, 3, 8, tzinfo=UTC)
    published = PublishedPlan(
        {"s0": start, "s1": start, "s2": start},
        {"s0": 3, "s1": 1, "s2": 2},
        frozenset(),
    )
    schedule = solve(conf, mm, SolveOptions(time_limit=2, workers=1, published=published))
    assert check(conf, mm, schedule) == []
    assert {e.event_id: (e.start, e.room) for e in schedule.events} == {
        "s0": (start, 3),
        "s1": (start, 1),
        "s2": (start, 2),
    }


def test_extra_moves_are_taken_only_when_allowed_and_say_what_they_bought() -> None:
    """Two sessions wanted by the same people were published at the same time: with
    --moves 0 both stay (people can attend one), with --moves 1 one moves and everybody
    attends both."""
    from scheduler.check import check
    from scheduler.model import PublishedPlan
    from scheduler.solve import SolveOptions, solve
    from tests.builders import conference, participant, session

    hosts = [participant("h1"), participant("h2")]
    people = [participant(f"p{i}", interests={"digital": 3}) for i in range(4)]
    sessions = [session("s1", hosts=("h1",)), session("s2", hosts=("h2",))]
    conf = conference(participants=[*hosts, *people], sessions=sessions, partnerships=())
    mm = Matchmaking(meetings=(), matches=(), impossible=())
    start = datetime(2020, 6, 3, 8, tzinfo=UTC)
    entries = frozenset({(f"p{i}", "s1") for i in range(4)} | {("h1", "s1"), ("h2", "s2")})
    published = PublishedPlan({"s1": start, "s2": start}, {"s1": 1, "s2": 2}, entries)

    stay = solve(conf, mm, SolveOptions(time_limit=2, workers=1, published=published))
    assert check(conf, mm, stay) == []
    assert {e.start for e in stay.events} == {start} and stay.extra_moves == {}
    assert {a.participant_id for a in stay.attendees_of("s1")} >= {f"p{i}" for i in range(4)}

    moved = solve(conf, mm, SolveOptions(time_limit=2, workers=1, published=published, moves=1))
    assert check(conf, mm, moved) == []
    assert list(moved.extra_moves) == ["s2"]
    # the four attend both now, and so do the hosts (they want the other session too)
    assert moved.extra_moves["s2"] == moved.objective - stay.objective == 4 * 3 + 2 * 2
    assert moved.events_by_id["s1"].start == start != moved.events_by_id["s2"].start
    assert "--moves" in moved.displaced["s2"]
    # the bound of a re-plan with --moves lets every kept event move: here both attend both
    assert moved.bound >= moved.objective and stay.bound >= stay.objective


def test_a_caldav_server_follows_the_messages_from_version_1_to_version_2(
    published, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Radicale holds each participant's version 1; applying their messages (a REQUEST
    replaces the resource of the same UID, a CANCEL deletes it) leaves exactly version 2."""
    from caldav.davclient import DAVClient

    from tests.test_ical import one_resource_per_event

    attendance = rows(published[1] / "attendance.csv")
    count: dict[str, int] = {}
    for row in attendance:
        count[row["event_id"]] = count.get(row["event_id"], 0) + 1
    target = max((e for e in count if e.startswith("s0")), key=lambda e: count[e])

    def rooms_and_seats(inputs: Path, _before: Path) -> None:
        set_toml(inputs / "conference.toml", "rooms", overlapping(published[1]) - 1)
        set_capacity(inputs, target, count[target] - 1)

    done = replan(published, tmp_path, rooms_and_seats)
    by_person: dict[str, list[dict[str, str]]] = {}
    for row in done.outbox():
        by_person.setdefault(row["participant_id"], []).append(row)
    assert any(r["method"] == "CANCEL" for r in done.outbox())
    assert any(r["method"] == "REQUEST" for r in done.outbox())

    server = request.getfixturevalue("radicale")
    with DAVClient(url=server, username="organiser", password="unused") as client:
        principal = client.principal()
        for person, messages in sorted(by_person.items()):
            collection = principal.make_calendar(name=person, cal_id=person)
            first = icalendar.Calendar.from_ical(
                (done.before / "calendars" / f"{person}.ics").read_bytes()
            )
            for resource in one_resource_per_event(first):
                _put(collection, resource.to_ical())
            for message in messages:
                _apply_message(collection, done.out / message["file"], message["method"])
            expected = (
                _feed(done.out / "calendars" / f"{person}.ics")
                if (done.out / "calendars" / f"{person}.ics").exists()
                else {}
            )
            assert _stored(principal.calendar(cal_id=person)) == expected, person


def _put(collection, data: bytes) -> None:
    """A new resource, stored as sent: the client must not raise SEQUENCE itself (caldav
    does by default)."""
    from caldav.calendarobjectresource import Event

    Event(collection.client, data=data.decode("utf-8"), parent=collection).save(
        increase_seqno=False
    )


def _apply_message(collection, file: Path, method: str) -> None:
    """What a calendar client does with an iTIP message: a CANCEL deletes the resource
    of its UID, a REQUEST replaces it (or adds it when there is none)."""
    sent = icalendar.Calendar.from_ical(file.read_bytes())
    (event,) = sent.walk("VEVENT")
    (item,) = [i for i in collection.events() if str(event["UID"]) in i.data] or [None]
    if method == "CANCEL":
        assert item is not None
        item.delete()
        return
    del sent["METHOD"]  # RFC 4791: no METHOD in a stored object
    if item is None:
        _put(collection, sent.to_ical())
    else:
        item.data = sent.to_ical().decode("utf-8")
        item.save(increase_seqno=False)  # the same resource, a new version


def _stored(collection) -> dict[str, tuple[int, datetime]]:
    """UID -> (SEQUENCE, start) of every resource the server holds in a collection."""
    found = {}
    for item in collection.events():
        (event,) = icalendar.Calendar.from_ical(item.data).walk("VEVENT")
        found[str(event["UID"])] = (
            int(event.decoded("SEQUENCE")),
            event.decoded("DTSTART").astimezone(UTC),
        )
    return found


def _feed(path: Path) -> dict[str, tuple[int, datetime]]:
    """UID -> (SEQUENCE, start) of every event of a feed file."""
    cal = icalendar.Calendar.from_ical(path.read_bytes())
    return {
        str(e["UID"]): (int(e.decoded("SEQUENCE")), e.decoded("DTSTART").astimezone(UTC))
        for e in cal.walk("VEVENT")
    }


def test_the_re_plan_checker_rejects_a_version_that_misinforms(published, tmp_path: Path) -> None:
    """check_replan has teeth: a CANCEL left out, a message for an unchanged entry, a wrong
    change and a SEQUENCE not raised are each named."""
    _inputs, first = published
    gone = plain_attendee(first)

    done = replan(published, tmp_path, withdrawing(gone))
    conference = done.result.conference
    outbox, changes = done.outbox(), done.changes()
    cancel = next(r for r in outbox if r["method"] == "CANCEL")
    someone = next(
        (pid, eid) for pid, has in entries(done.out).items() for eid in sorted(has) if pid != gone
    )

    def broken(edit: Callable[[Path], None]) -> list[str]:
        copy = tmp_path / f"broken-{len(list(tmp_path.glob('broken-*')))}"
        shutil.copytree(done.out, copy)
        edit(copy)
        return check_replan(conference, done.before, copy)

    no_cancel = broken(
        lambda f: write_rows(
            f / "outbox.csv", [r for r in outbox if r != cancel], header(f / "outbox.csv")
        )
    )
    assert any(f"no CANCEL to {gone} for {cancel['event_id']}" in v for v in no_cancel)
    extra = {
        "participant_id": someone[0],
        "event_id": someone[1],
        "method": "REQUEST",
        "sequence": "0",
        "file": f"invites/{someone[0]}/{someone[1]}.ics",
    }
    spurious = broken(
        lambda f: write_rows(f / "outbox.csv", [*outbox, extra], header(f / "outbox.csv"))
    )
    assert any("where nothing changed" in v for v in spurious)
    wrong = [dict(r, change="cancelled") if r == changes[0] else r for r in changes]
    lie = broken(lambda f: write_rows(f / "changes.csv", wrong, header(f / "changes.csv")))
    assert any(f"event {changes[0]['event_id']}" in v and "removed_from" in v for v in lie)

    def stale_sequence(folder: Path) -> None:
        path = folder / cancel["file"]
        path.write_bytes(path.read_bytes().replace(b"SEQUENCE:1", b"SEQUENCE:0"))

    assert any("SEQUENCE" in v for v in broken(stale_sequence))


def test_the_agendas_say_the_version_and_mark_what_moved(published, tmp_path: Path) -> None:
    """Each city's agenda (HTML and PDF) says which version it is, of which date, and marks
    an event that moved with its earlier time, in the city's language."""
    _inputs, first = published
    most = overlapping(first)
    done = replan(
        published,
        tmp_path,
        lambda inputs, _: set_toml(inputs / "conference.toml", "rooms", most - 1),
    )
    moved = sorted(done.moved())
    assert moved
    eid = moved[0]
    keeper = next(pid for pid, has in entries(done.out).items() if eid in has)
    conference = done.result.conference
    city = conference.participants_by_id[keeper].city_id
    marks = {
        "de": ("Fassung 2 vom", "Verschoben (vorher"),
        "tr": ("2. sürüm", "Taşındı (önceki zaman:"),
        "en": ("Version 2 of", "Moved (was"),
    }
    version_words, moved_words = marks[conference.cities_by_id[city].language]
    html = (done.out / "agendas" / f"{city}.html").read_text(encoding="utf-8")
    assert version_words in html and moved_words in html
    first_html = (done.before / "agendas" / f"{city}.html").read_text(encoding="utf-8")
    assert "Verschoben" not in first_html and "Taşındı" not in first_html
    pdf = subprocess.run(
        ["pdftotext", str(done.out / "agendas" / f"{city}.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert (version_words in pdf or "Version 2" in pdf) and (
        moved_words.split(" (")[0] in pdf or "Moved" in pdf
    )

"""The independent checker: a valid schedule passes, and every rule broken on its own is
named in plain words (event, participant, the rule)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from scheduler.check import check, check_outputs, check_written
from scheduler.cli import main
from scheduler.errors import UserError
from scheduler.model import (
    Attendance,
    Conference,
    Match,
    Matchmaking,
    Meeting,
    Resources,
    RoleRule,
    Schedule,
    ScheduledEvent,
    UnscheduledItem,
)
from tests.builders import (
    CANAKKALE,
    MANNHEIM,
    OSNABRUECK,
    calendar,
    conference,
    participant,
    session,
    unavailable,
)


def utc(text: str) -> datetime:
    """'2020-06-03 07:00' as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def meeting(
    city_a: str = "can", city_b: str = "osn", delegates: tuple[str, ...] = ("ca", "oa")
) -> Meeting:
    return Meeting(
        id=f"pm-{city_a}-{city_b}",
        kind="partner_meeting",
        city_a=city_a,
        city_b=city_b,
        delegates=delegates,
        language="de-tr",
        duration_minutes=45,
        titles={"de": "Partnertreffen", "tr": "Ortaklık toplantısı", "en": "Partner meeting"},
        score=0.8,
        reasons={},
    )


def matchmaking(*meetings: Meeting, impossible: tuple[UnscheduledItem, ...] = ()) -> Matchmaking:
    matches = tuple(
        Match(m.city_a, m.city_b, "partner" if m.kind == "partner_meeting" else "new", m.score,
              m.reasons, m.id)
        for m in meetings
    )  # fmt: skip
    return Matchmaking(meetings=meetings, matches=matches, impossible=impossible)


NO_MEETINGS = Matchmaking(meetings=(), matches=(), impossible=())


def place(
    conf: Conference, plan: Matchmaking, event_id: str, start: str, room: int = 1
) -> ScheduledEvent:
    """The event as a correct solver would write it, starting at `start` (UTC)."""
    begin = utc(start)
    if event_id in conf.sessions_by_id:
        s = conf.sessions_by_id[event_id]
        return ScheduledEvent(
            event_id, s.kind, s.theme, s.titles, begin,
            begin + timedelta(minutes=s.duration_minutes), s.language, room,
        )  # fmt: skip
    m = plan.meetings_by_id[event_id]
    return ScheduledEvent(
        event_id, m.kind, None, m.titles, begin,
        begin + timedelta(minutes=m.duration_minutes), m.language, room,
    )  # fmt: skip


def attend(event_id: str, *people: str, role: str = "attendee") -> list[Attendance]:
    return [Attendance(event_id, pid, role) for pid in people]  # type: ignore[arg-type]


def schedule(
    events: list[ScheduledEvent],
    attendance: list[Attendance],
    unscheduled: list[UnscheduledItem] | None = None,
    objective: float = 0.0,
    bound: float | None = None,
    status: str = "FEASIBLE",
) -> Schedule:
    return Schedule(
        events=tuple(sorted(events, key=lambda e: (e.start, e.event_id))),
        attendance=tuple(sorted(attendance, key=lambda a: (a.event_id, a.participant_id))),
        unscheduled=tuple(unscheduled or ()),
        status=status,  # type: ignore[arg-type]
        objective=objective,
        bound=objective if bound is None else bound,
        solve_seconds=1.0,
    )


# The base case: Osnabrück–Çanakkale, one interpreted workshop hosted by o1 and wanted by
# c1 (w = 2 + 3 = 5), and the partner meeting of both cities' delegates.
PEOPLE = [
    participant("o1", "osn", interests={"digital": 2}),
    participant("c1", "can", languages=("tr",), interests={"digital": 3}),
    participant("oa", "osn", role="administration", interests={"digital": 0}),
    participant("ca", "can", role="administration", languages=("tr",), interests={"digital": 0}),
]
BASE = conference(participants=PEOPLE, sessions=[session("s1", language="de-tr", hosts=("o1",))])
BASE_PLAN = matchmaking(meeting())


def base_schedule(**changes: Any) -> Schedule:
    """Wednesday 3 June 2020: s1 09:00–10:00 Berlin (10:00 Istanbul), then the meeting."""
    values: dict[str, Any] = dict(  # noqa: C408 (reads like the builders)
        events=[
            place(BASE, BASE_PLAN, "s1", "2020-06-03 07:00"),
            place(BASE, BASE_PLAN, "pm-can-osn", "2020-06-03 08:15"),
        ],
        attendance=attend("s1", "o1", role="host")
        + attend("s1", "c1")
        + attend("pm-can-osn", "ca", "oa", role="delegate"),
        objective=5.0,
        status="OPTIMAL",
    )
    values.update(changes)
    return schedule(**values)


def one_violation(found: list[str], *words: str) -> str:
    assert len(found) == 1, found
    for word in words:
        assert word in found[0], (word, found[0])
    return found[0]


def test_a_valid_schedule_has_no_violations() -> None:
    assert check(BASE, BASE_PLAN, base_schedule()) == []


def test_an_event_may_end_exactly_at_day_end_and_follow_after_exactly_the_buffer() -> None:
    # 14:00–15:00 UTC ends 18:00 Istanbul; the meeting starts 15 minutes after s1 ends
    events = [
        place(BASE, BASE_PLAN, "pm-can-osn", "2020-06-03 13:00"),
        place(BASE, BASE_PLAN, "s1", "2020-06-03 14:00"),
    ]
    assert check(BASE, BASE_PLAN, base_schedule(events=events)) == []


# --- each participant's day, in their own zone ----------------------------------------------


def test_berlin_participant_before_day_start() -> None:
    # 06:30 UTC is 08:30 in Berlin (CEST), 09:30 in Istanbul
    conf = conference(participants=PEOPLE[:1], sessions=[session("s1", hosts=("o1",))])
    sched = schedule(
        [place(conf, NO_MEETINGS, "s1", "2020-06-03 06:30")], attend("s1", "o1", role="host"),
        objective=2,
    )  # fmt: skip
    one_violation(
        check(conf, NO_MEETINGS, sched), "s1", "o1", "08:30", "before the day start 09:00"
    )


def test_istanbul_participant_after_day_end() -> None:
    # 14:30–15:30 UTC is 16:30–17:30 in Berlin (fine) but 17:30–18:30 in Istanbul
    events = [
        place(BASE, BASE_PLAN, "pm-can-osn", "2020-06-03 07:00"),
        place(BASE, BASE_PLAN, "s1", "2020-06-03 14:30"),
    ]
    found = check(BASE, BASE_PLAN, base_schedule(events=events))
    one_violation(found, "s1", "participant c1", "Europe/Istanbul", "18:30", "after the day end")


def test_event_running_past_local_midnight_ends_after_day_end() -> None:
    # 21:00–22:00 UTC is 23:00–00:00 in Berlin: starts late enough, ends the next day
    conf = conference(participants=PEOPLE[:1], sessions=[session("s1")])
    sched = schedule(
        [place(conf, NO_MEETINGS, "s1", "2020-06-03 21:00")], attend("s1", "o1"), objective=2
    )
    one_violation(check(conf, NO_MEETINGS, sched), "s1", "o1", "00:00", "after the day end 18:00")


def test_youth_only_after_school() -> None:
    # 10:00 UTC is 12:00 in Osnabrück: fine for o1, too early for youth y1
    people = [PEOPLE[0], participant("y1", "osn", role="youth", interests={"digital": 3})]
    conf = conference(participants=people, sessions=[session("s1", hosts=("o1",))])
    sched = schedule(
        [place(conf, NO_MEETINGS, "s1", "2020-06-03 10:00")],
        attend("s1", "o1", role="host") + attend("s1", "y1"),
        objective=5,
    )
    one_violation(
        check(conf, NO_MEETINGS, sched), "s1", "participant y1", "12:00", "14:00", "youth"
    )
    later = replace(sched, events=(place(conf, NO_MEETINGS, "s1", "2020-06-03 12:00"),))
    assert check(conf, NO_MEETINGS, later) == []


def test_role_rule_narrows_day_end_too() -> None:
    conf = conference(
        participants=[participant("y1", "osn", role="youth")],
        sessions=[session("s1")],
        role_rules=(RoleRule("youth", day_end=time(12, 0)),),
    )
    sched = schedule(
        [place(conf, NO_MEETINGS, "s1", "2020-06-03 09:30")], attend("s1", "y1"), objective=2
    )  # 11:30–12:30 in Osnabrück
    one_violation(check(conf, NO_MEETINGS, sched), "s1", "y1", "12:30", "day end 12:00")


def test_public_holiday_of_the_region_only() -> None:
    # 11 June 2020 is Fronleichnam (Corpus Christi) in Baden-Württemberg, not in Lower Saxony
    people = [participant("m1", "man"), participant("o1", "osn")]
    conf = conference(
        cities=(OSNABRUECK, MANNHEIM, CANAKKALE), participants=people, sessions=[session("s1")]
    )
    sched = schedule(
        [place(conf, NO_MEETINGS, "s1", "2020-06-11 07:00")], attend("s1", "m1", "o1"),
        objective=4,
    )  # fmt: skip
    one_violation(check(conf, NO_MEETINGS, sched), "s1", "m1", "Mannheim", "2020-06-11", "holiday")
    # with public_holidays = false the same day is fine
    relaxed = replace(conf, calendar=calendar(public_holidays=False))
    assert check(relaxed, NO_MEETINGS, sched) == []


def test_turkish_holiday_country_wide() -> None:
    # 19 May 2020 (Tuesday) is Youth and Sports Day in all of Turkey
    conf = conference(
        start=date(2020, 5, 18),
        participants=[participant("c1", "can", languages=("tr",))],
        sessions=[session("s1", language="tr")],
    )
    sched = schedule(
        [place(conf, NO_MEETINGS, "s1", "2020-05-19 07:00")], attend("s1", "c1"), objective=2
    )
    one_violation(check(conf, NO_MEETINGS, sched), "s1", "c1", "2020-05-19", "holiday")


def test_weekend() -> None:
    sched = base_schedule(
        events=[
            place(BASE, BASE_PLAN, "s1", "2020-06-06 07:00"),  # Saturday
            place(BASE, BASE_PLAN, "pm-can-osn", "2020-06-03 08:15"),
        ]
    )
    found = check(BASE, BASE_PLAN, sched)
    assert len(found) == 2, found  # host and attendee
    assert all("s1" in v and "Sat 2020-06-06" in v and "weekday" in v for v in found)


def test_buffer_between_two_events_of_one_participant() -> None:
    conf = conference(
        participants=PEOPLE[:1], sessions=[session("s1", duration=50), session("s2", duration=50)]
    )
    sched = schedule(
        [
            place(conf, NO_MEETINGS, "s1", "2020-06-03 07:00"),  # ends 07:50
            place(conf, NO_MEETINGS, "s2", "2020-06-03 08:00", room=2),
        ],
        attend("s1", "o1") + attend("s2", "o1"),
        objective=4,
    )
    one_violation(
        check(conf, NO_MEETINGS, sched), "o1", "only 10 minutes between s1 and s2", "15 needed"
    )


def test_overlap_of_two_events_of_one_participant() -> None:
    conf = conference(
        participants=PEOPLE[:1], sessions=[session("s1", duration=120), session("s2")]
    )
    sched = schedule(
        [
            place(conf, NO_MEETINGS, "s1", "2020-06-03 07:00"),
            place(conf, NO_MEETINGS, "s2", "2020-06-03 07:30", room=2),
        ],
        attend("s1", "o1") + attend("s2", "o1"),
        objective=4,
    )
    one_violation(check(conf, NO_MEETINGS, sched), "o1", "s1", "s2", "overlap")


def test_too_many_events_in_one_local_day() -> None:
    sessions = [session(f"s{i}") for i in range(1, 5)]
    conf = conference(participants=PEOPLE[:1], sessions=sessions)
    starts = ["07:00", "08:15", "09:30", "10:45"]
    sched = schedule(
        [place(conf, NO_MEETINGS, f"s{i}", f"2020-06-03 {t}") for i, t in enumerate(starts, 1)],
        [a for i in range(1, 5) for a in attend(f"s{i}", "o1")],
        objective=8,
    )
    one_violation(check(conf, NO_MEETINGS, sched), "o1", "4 events on 2020-06-03", "at most 3")


def test_unavailability() -> None:
    away = unavailable("c1", utc("2020-06-03 06:00"), utc("2020-06-03 07:30"), "Ratssitzung")
    conf = replace(BASE, unavailability=(away,))
    one_violation(
        check(conf, BASE_PLAN, base_schedule()),
        "s1",
        "participant c1",
        "unavailable",
        "Ratssitzung",
    )


# --- each event --------------------------------------------------------------------------------


def test_start_off_the_grid() -> None:
    events = [
        place(BASE, BASE_PLAN, "s1", "2020-06-03 07:05"),
        place(BASE, BASE_PLAN, "pm-can-osn", "2020-06-03 08:30"),
    ]
    one_violation(check(BASE, BASE_PLAN, base_schedule(events=events)), "s1", "15-minute grid")


def test_wrong_duration_room_and_language() -> None:
    good = place(BASE, BASE_PLAN, "s1", "2020-06-03 07:00")
    bad = replace(good, end=good.end + timedelta(minutes=15), room=5, language="de")
    found = check(BASE, BASE_PLAN, base_schedule(events=[bad, base_schedule().events[1]]))
    assert any("s1: lasts 75 minutes" in v for v in found), found
    assert any("s1: room 5 does not exist" in v for v in found), found
    assert any("s1: language is 'de'" in v for v in found), found


def test_fixed_start_honoured() -> None:
    fixed = session("s1", language="de-tr", hosts=("o1",), fixed_start=utc("2020-06-04 07:00"))
    conf = replace(BASE, sessions=(fixed,))
    one_violation(check(conf, BASE_PLAN, base_schedule()), "s1", "fixed to start at 2020-06-04")


def test_window_and_not_after_in_the_organisers_zone() -> None:
    late = session("s1", language="de-tr", hosts=("o1",), not_after=date(2020, 6, 2))
    conf = replace(BASE, sessions=(late,))
    found = check(conf, BASE_PLAN, base_schedule())
    assert len(found) == 2, found  # its start and its end day
    assert all("s1" in v and "not_before/not_after" in v for v in found)

    early = replace(BASE, start=date(2020, 6, 4))
    found = check(early, BASE_PLAN, base_schedule())
    assert {v.split(":")[0] for v in found} == {"s1", "pm-can-osn"}, found
    assert all("outside the conference window" in v for v in found)


def test_naive_time_is_flagged() -> None:
    good = place(BASE, BASE_PLAN, "s1", "2020-06-03 07:00")
    naive = replace(good, start=good.start.replace(tzinfo=None))
    sched = replace(base_schedule(), events=(naive, base_schedule().events[1]))
    found = check(BASE, BASE_PLAN, sched)
    assert any("s1: start" in v and "no time zone" in v for v in found), found


# --- resources ---------------------------------------------------------------------------------


def test_more_events_at_once_than_rooms() -> None:
    sessions = [session(f"s{i}") for i in range(1, 6)]
    conf = conference(sessions=sessions, resources=Resources(rooms=4, interpreters=2))
    rooms = [1, 2, 3, 4, 1]  # with only four rooms, the fifth event must share one
    sched = schedule(
        [place(conf, NO_MEETINGS, f"s{i}", "2020-06-03 07:00", room=r) for i, r in
         enumerate(rooms, 1)],
        [],
    )  # fmt: skip
    found = check(conf, NO_MEETINGS, sched)
    assert any("room 1: s1" in v and "s5" in v and "overlap" in v for v in found), found
    assert any("5 events run at once" in v and "only 4 rooms" in v for v in found), found


def test_two_events_in_one_room_overlap() -> None:
    conf = conference(sessions=[session("s1"), session("s2")])
    sched = schedule(
        [
            place(conf, NO_MEETINGS, "s1", "2020-06-03 07:00"),
            place(conf, NO_MEETINGS, "s2", "2020-06-03 07:45"),
        ],
        [],
    )
    one_violation(check(conf, NO_MEETINGS, sched), "room 1", "s1", "s2", "overlap")


def test_more_interpreted_events_at_once_than_interpreters() -> None:
    sessions = [session(f"s{i}", language="de-tr") for i in range(1, 4)]
    conf = conference(sessions=sessions, resources=Resources(rooms=4, interpreters=2))
    sched = schedule(
        [place(conf, NO_MEETINGS, f"s{i}", "2020-06-03 07:00", room=i) for i in range(1, 4)], []
    )
    one_violation(check(conf, NO_MEETINGS, sched), "3 interpreted events", "only 2 interpreters")
    # an interpreted meeting takes an interpreter too
    conf2 = replace(conf, sessions=tuple(sessions[:2]), participants=tuple(PEOPLE))
    sched2 = schedule(
        [place(conf2, BASE_PLAN, f"s{i}", "2020-06-03 07:00", room=i) for i in (1, 2)]
        + [place(conf2, BASE_PLAN, "pm-can-osn", "2020-06-03 07:15", room=3)],
        attend("pm-can-osn", "ca", "oa", role="delegate"),
    )
    one_violation(check(conf2, BASE_PLAN, sched2), "pm-can-osn", "only 2 interpreters")


# --- attendance --------------------------------------------------------------------------------


def test_capacity_counts_hosts() -> None:
    small = session("s1", language="de-tr", hosts=("o1",), capacity=1)
    conf = replace(BASE, sessions=(small,))
    one_violation(check(conf, BASE_PLAN, base_schedule()), "s1", "2 attendees", "capacity is 1")


def test_host_missing() -> None:
    sched = base_schedule(
        attendance=attend("s1", "c1") + attend("pm-can-osn", "ca", "oa", role="delegate"),
        objective=3,
    )
    one_violation(check(BASE, BASE_PLAN, sched), "s1", "host o1 does not attend")


def test_delegate_missing_and_outsider_at_a_meeting() -> None:
    sched = base_schedule(
        attendance=attend("s1", "o1", role="host")
        + attend("s1", "c1")
        + attend("pm-can-osn", "ca", role="delegate")
        + attend("pm-can-osn", "c1", role="delegate")
    )
    found = check(BASE, BASE_PLAN, sched)
    assert len(found) == 2, found
    assert "pm-can-osn: delegate oa does not attend" in found
    assert any("pm-can-osn: participant c1 attends" in v and "delegates" in v for v in found)


def test_attendee_who_does_not_want_the_session() -> None:
    # the administration delegates have interest 0 in digital: w = 0
    sched = base_schedule(
        attendance=list(base_schedule().attendance) + attend("s1", "oa"),
        events=[
            place(BASE, BASE_PLAN, "s1", "2020-06-03 07:00"),
            place(BASE, BASE_PLAN, "pm-can-osn", "2020-06-03 09:00"),
        ],
    )
    one_violation(check(BASE, BASE_PLAN, sched), "s1", "participant oa", "does not want it")


def test_attendee_who_cannot_follow_the_language() -> None:
    turkish_only = replace(BASE, sessions=(session("s1", language="tr", hosts=("c1",)),))
    sched = base_schedule(
        attendance=attend("s1", "c1", role="host")
        + attend("s1", "o1")
        + attend("pm-can-osn", "ca", "oa", role="delegate")
    )
    found = check(turkish_only, BASE_PLAN, sched)
    assert any("participant o1" in v and "cannot follow language tr" in v for v in found), found


def test_participant_twice_in_one_event_and_unknown_participant() -> None:
    sched = base_schedule(
        attendance=list(base_schedule().attendance) + attend("s1", "c1") + attend("s1", "zz")
    )
    found = check(BASE, BASE_PLAN, sched)
    assert any("s1: participant c1 is listed 2 times" in v for v in found), found
    assert any("s1: unknown participant zz" in v for v in found), found


# --- what is planned ---------------------------------------------------------------------------


def test_session_neither_scheduled_nor_unscheduled() -> None:
    conf = replace(BASE, sessions=(*BASE.sessions, session("s2")))
    one_violation(check(conf, BASE_PLAN, base_schedule()), "s2", "neither scheduled nor")
    listed = base_schedule(unscheduled=[UnscheduledItem("s2", "workshop", "no room left")])
    assert check(conf, BASE_PLAN, listed) == []


def test_unknown_and_doubly_placed_events() -> None:
    sched = base_schedule(
        unscheduled=[
            UnscheduledItem("s1", "workshop", "no time"),
            UnscheduledItem("s9", "workshop", "no time"),
        ]
    )
    found = check(BASE, BASE_PLAN, sched)
    assert "s1: both scheduled and listed as unscheduled" in found
    assert any(v.startswith("s9: listed as unscheduled, but no such") for v in found), found


def test_impossible_meeting_must_be_listed_unscheduled() -> None:
    no_delegates = UnscheduledItem("pm-kil-man", "partner_meeting", "Kilis has no delegate")
    plan = matchmaking(meeting(), impossible=(no_delegates,))
    one_violation(check(BASE, plan, base_schedule()), "pm-kil-man", "missing from the unscheduled")
    assert check(BASE, plan, base_schedule(unscheduled=[no_delegates])) == []


def test_meeting_id_follows_the_contract() -> None:
    wrong = replace(meeting(), id="pm-osn-can")
    found = check(BASE, matchmaking(wrong), base_schedule())
    assert any("its id should be pm-can-osn" in v for v in found), found


# --- the numbers -------------------------------------------------------------------------------


def test_objective_must_be_the_attended_weight_hosts_included() -> None:
    found = check(BASE, BASE_PLAN, base_schedule(objective=3.0, bound=5.0, status="FEASIBLE"))
    one_violation(found, "objective is 3", "attended weight is 5")


def test_bound_below_objective_and_optimal_with_a_gap() -> None:
    found = check(BASE, BASE_PLAN, base_schedule(bound=4.0, status="FEASIBLE"))
    one_violation(found, "bound 4 is below the objective 5")
    found = check(BASE, BASE_PLAN, base_schedule(bound=6.0, status="OPTIMAL"))
    one_violation(found, "OPTIMAL", "bound 6")
    assert check(BASE, BASE_PLAN, base_schedule(bound=6.0, status="FEASIBLE")) == []


# --- written outputs ---------------------------------------------------------------------------


def write_outputs(folder: Path, sched: Schedule, plan: Matchmaking = BASE_PLAN) -> None:
    """Write the tables and report by hand in the documented format (not with the exporter)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["event_id,kind,theme,title_de,title_tr,start,end,language,interpreted,room,attendees"]
    for e in sched.events:
        count = len(sched.attendees_of(e.event_id))
        lines.append(
            f"{e.event_id},{e.kind},{e.theme or ''},{e.titles['de']},{e.titles['tr']},"
            f"{e.start:%Y-%m-%dT%H:%M:%SZ},{e.end:%Y-%m-%dT%H:%M:%SZ},{e.language},"
            f"{'true' if e.interpreted else 'false'},{e.room},{count}"
        )
    (folder / "schedule.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = ["event_id,participant_id,role"]
    rows += [f"{a.event_id},{a.participant_id},{a.role}" for a in sched.attendance]
    (folder / "attendance.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    items = ["item_id,kind,reason"] + [
        f"{u.item_id},{u.kind},{u.reason}" for u in sched.unscheduled
    ]
    (folder / "unscheduled.csv").write_text("\n".join(items) + "\n", encoding="utf-8")
    matches = ["city_a,city_b,kind,score,reasons,event_id"]
    for m in plan.matches:
        event_id = m.meeting_id if m.meeting_id in sched.events_by_id else ""
        matches.append(f"{m.city_a},{m.city_b},{m.kind},{m.score:.3f},shared themes,{event_id}")
    (folder / "matches.csv").write_text("\n".join(matches) + "\n", encoding="utf-8")
    report: dict[str, Any] = {
        "status": sched.status,
        "objective": sched.objective,
        "bound": sched.bound,
        "gap": sched.gap,
        "solve_seconds": 1.2,
        # o1 wants 2 and gets 2 (host); c1 wants 3 and gets 3
        "satisfaction": 1.0,
        "satisfaction_by_city": {"can": 1.0, "osn": 1.0},
        "events_scheduled": len(sched.events),
        "meetings_scheduled": sum(1 for e in sched.events if e.kind.endswith("meeting")),
        "violations": [],
    }
    (folder / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")


def test_written_outputs_pass(tmp_path: Path) -> None:
    write_outputs(tmp_path, base_schedule())
    assert check_written(BASE, BASE_PLAN, tmp_path) == []


def test_tampered_start_is_detected(tmp_path: Path) -> None:
    write_outputs(tmp_path, base_schedule())
    table = tmp_path / "schedule.csv"
    table.write_text(table.read_text().replace("2020-06-03T07:00:00Z", "2020-06-03T06:00:00Z"))
    found = check_written(BASE, BASE_PLAN, tmp_path)
    assert any("s1: lasts 120 minutes" in v for v in found), found
    assert any("o1" in v and "08:00" in v and "before the day start" in v for v in found), found


def test_tampered_attendance_and_report_are_detected(tmp_path: Path) -> None:
    write_outputs(tmp_path, base_schedule())
    table = tmp_path / "attendance.csv"
    table.write_text(table.read_text().replace("s1,c1,attendee\n", ""))
    found = check_written(BASE, BASE_PLAN, tmp_path)
    assert "schedule.csv: s1 says 2 attendees, but attendance.csv has 1 rows for it" in found
    assert "objective is 5, but the attended weight is 2" in found
    assert any("satisfaction_by_city.can is 1" in v for v in found), found

    write_outputs(tmp_path, base_schedule())
    report = json.loads((tmp_path / "report.json").read_text())
    report.update(gap=0.5, events_scheduled=3, violations=["x"])
    (tmp_path / "report.json").write_text(json.dumps(report))
    found = check_written(BASE, BASE_PLAN, tmp_path)
    assert len(found) == 3, found
    assert any("gap is 0.5" in v for v in found)
    assert any("events_scheduled is 3" in v for v in found)


def test_matches_table_is_checked(tmp_path: Path) -> None:
    write_outputs(tmp_path, base_schedule())
    table = tmp_path / "matches.csv"
    table.write_text(table.read_text().replace(",pm-can-osn", ",") + "kil,man,new,0.9,x,\n")
    found = check_written(BASE, BASE_PLAN, tmp_path)
    assert len(found) == 2, found
    assert any("(can–osn): event_id ''" in v and "'pm-can-osn'" in v for v in found)
    assert any("(kil–man): neither a partnership" in v for v in found)


def test_badly_formatted_cells_are_named(tmp_path: Path) -> None:
    write_outputs(tmp_path, base_schedule())
    table = tmp_path / "schedule.csv"
    text = table.read_text().replace("2020-06-03T07:00:00Z", "2020-06-03 09:00+02:00")
    table.write_text(text.replace(",true,", ",yes,", 1))
    found = check_written(BASE, BASE_PLAN, tmp_path)
    assert any("row 2 (s1): start '2020-06-03 09:00+02:00' is not a UTC time" in v for v in found)
    assert any("interpreted 'yes' is not true/false" in v for v in found), found


def test_missing_output_files_are_named(tmp_path: Path) -> None:
    write_outputs(tmp_path, base_schedule())
    (tmp_path / "attendance.csv").unlink()
    (tmp_path / "report.json").unlink()
    found = check_written(BASE, BASE_PLAN, tmp_path)
    assert "attendance.csv is missing from the output folder" in found
    assert "report.json is missing from the output folder" in found
    with pytest.raises(UserError, match="does not exist"):
        check_outputs(tmp_path, tmp_path / "nowhere")


TINY_TOML = """\
[conference]
name = "Mini"
start = 2020-06-03
end = 2020-06-16
timezone = "Europe/Berlin"
organizer = { name = "Konferenzbüro", email = "konferenz@example.org" }

[calendar]
weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri"]
day_start = "09:00"
day_end = "18:00"
grid_minutes = 15
buffer_minutes = 15
max_events_per_day = 3
public_holidays = true

[resources]
rooms = 4
interpreters = 2

[matchmaking]
partner_meetings = true
new_contacts_per_city = 2
meeting_minutes = 45
min_score = 0.5

[[themes]]
id = "digital"
de = "Digitalisierung"
tr = "Dijitalleşme"
en = "Digitalisation"
"""


def test_check_outputs_and_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "conference.toml").write_text(TINY_TOML, encoding="utf-8")
    (inputs / "cities.csv").write_text(
        "city_id,name,country,region\nosn,Osnabrück,DE,DE-NI\ncan,Çanakkale,TR,TR-17\n",
        encoding="utf-8",
    )
    (inputs / "partnerships.csv").write_text("city_a,city_b\ncan,osn\n", encoding="utf-8")
    (inputs / "participants.csv").write_text(
        "participant_id,name,email,city_id,role,languages,interest_digital\n"
        "o1,Anna,o1@example.org,osn,expert,de,2\n"
        "c1,Cem,c1@example.org,can,expert,tr,3\n"
        "oa,Olaf,oa@example.org,osn,administration,de,0\n"
        "ca,Cansu,ca@example.org,can,administration,tr,0\n",
        encoding="utf-8",
    )
    (inputs / "sessions.csv").write_text(
        "session_id,theme,title_de,title_tr,kind,duration_minutes,language,hosts\n"
        "s1,digital,Sitzung s1,Oturum s1,workshop,60,de-tr,o1\n",
        encoding="utf-8",
    )
    from scheduler.load import load_conference
    from scheduler.matchmaking import match

    conf, _ = load_conference(inputs)
    plan = match(conf)
    assert [m.id for m in plan.meetings] == ["pm-can-osn"]
    events = [
        place(conf, plan, "s1", "2020-06-03 07:00"),
        place(conf, plan, "pm-can-osn", "2020-06-03 08:15"),
    ]
    delegates = attend("pm-can-osn", *plan.meetings[0].delegates, role="delegate")
    good = base_schedule(
        events=events, attendance=attend("s1", "o1", role="host") + attend("s1", "c1") + delegates
    )
    outputs = tmp_path / "outputs"
    write_outputs(outputs, good, plan)
    assert check_outputs(inputs, outputs) == []
    assert main(["check", str(inputs), str(outputs)]) == 0
    assert "no violations" in capsys.readouterr().out

    table = outputs / "schedule.csv"
    table.write_text(table.read_text().replace(",1,2\n", ",7,2\n"))
    found = check_outputs(inputs, outputs)
    assert any("s1: room 7 does not exist" in v for v in found), found
    assert main(["check", str(inputs), str(outputs)]) == 1
    assert "room 7 does not exist" in capsys.readouterr().out
    assert main(["check", str(inputs), str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_tables_written_by_the_exporter_pass(tmp_path: Path) -> None:
    # the checker and the exporter were written apart: they must agree on the formats
    tables = pytest.importorskip("scheduler.export.tables")
    tables.write_tables(BASE, BASE_PLAN, base_schedule(), tmp_path)
    assert check_written(BASE, BASE_PLAN, tmp_path) == []

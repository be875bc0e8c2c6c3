"""The synthetic generator: what the benchmarks and the CLI's `generate` rely on."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from scheduler.cli import main
from scheduler.errors import UserError
from scheduler.generate import Shape, generate
from scheduler.load import load_conference
from scheduler.model import Conference

FILES = (
    "conference.toml",
    "cities.csv",
    "partnerships.csv",
    "participants.csv",
    "unavailability.csv",
    "sessions.csv",
    "preferences.csv",
)


def _generated(folder: Path, cities: int, participants: int, sessions: int, seed: int = 7):
    generate(folder, cities=cities, participants=participants, sessions=sessions, seed=seed)
    return load_conference(folder)


@pytest.mark.parametrize(
    ("cities", "participants", "sessions"), [(2, 2, 1), (4, 20, 6), (40, 300, 40), (160, 1000, 120)]
)
def test_generated_conference_loads_without_errors_or_warnings(
    tmp_path: Path, cities: int, participants: int, sessions: int
) -> None:
    conference, warnings = _generated(tmp_path, cities, participants, sessions)
    assert warnings == []
    assert len(conference.cities) == cities
    assert len(conference.participants) == participants
    assert len(conference.sessions) == sessions
    assert len(conference.partnerships) == cities // 2


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    generate(tmp_path / "a", cities=40, participants=300, sessions=40, seed=3)
    generate(tmp_path / "b", cities=40, participants=300, sessions=40, seed=3)
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_different_seed_gives_a_different_conference(tmp_path: Path) -> None:
    generate(tmp_path / "a", cities=40, participants=300, sessions=40, seed=3)
    generate(tmp_path / "b", cities=40, participants=300, sessions=40, seed=4)
    for name in ("cities.csv", "participants.csv", "sessions.csv"):
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "b" / name).read_bytes(), name


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Conference:
    """The benchmark size S: 40 cities, 300 participants, 40 sessions."""
    conference, _ = _generated(tmp_path_factory.mktemp("S"), 40, 300, 40, seed=11)
    return conference


def test_has_the_variety_of_the_sample(small: Conference) -> None:
    conf = small
    assert {c.country for c in conf.cities} == {"DE", "TR"}
    countries = [c.country for c in conf.cities]
    assert countries.count("DE") == countries.count("TR") == 20
    regions = {c.region for c in conf.cities}
    assert regions & {"DE-BW", "DE-BY", "DE-HE", "DE-NW", "DE-RP", "DE-SL"}, "Fronleichnam"
    assert regions & {"DE-NI", "DE-BE", "DE-HH", "DE-HB", "DE-SH", "DE-SN"}, "no Fronleichnam"
    for p in conf.partnerships:
        assert {conf.cities_by_id[p.city_a].country, conf.cities_by_id[p.city_b].country} == {
            "DE",
            "TR",
        }
    roles = {
        r: sum(1 for p in conf.participants if p.role == r)
        for r in ("expert", "administration", "youth")
    }
    assert all(count > 0.15 * len(conf.participants) for count in roles.values()), roles
    assert any({"de", "tr"} <= p.languages for p in conf.participants), "bilingual people"
    assert any("en" in p.languages for p in conf.participants)
    assert sum(s.interpreted for s in conf.sessions) >= 5
    assert {s.language for s in conf.sessions} >= {"de", "tr", "de-tr"}
    assert any(s.capacity is not None for s in conf.sessions)
    assert any(s.audience == frozenset({"youth"}) for s in conf.sessions)
    assert any(s.not_before or s.not_after for s in conf.sessions)
    assert len(conf.unavailability) >= 5
    assert len(conf.preferences) >= 5
    assert [r.role for r in conf.role_rules] == ["youth"]


def test_opening_is_pinned_and_its_hosts_are_free_then(small: Conference) -> None:
    pinned = [s for s in small.sessions if s.fixed_start is not None]
    assert [s.id for s in pinned] == ["opening"]
    start = pinned[0].fixed_start
    assert start == datetime.fromisoformat("2020-06-03T09:00:00+02:00")
    for host in pinned[0].hosts:
        assert small.participants_by_id[host].role != "youth"  # youth only from 14:00
        for away in small.unavailability:
            assert away.participant_id != host or not (away.start <= start < away.end)


def test_every_partnered_city_has_a_delegate(small: Conference) -> None:
    partnered = {c for p in small.partnerships for c in (p.city_a, p.city_b)}
    with_delegate = {p.city_id for p in small.participants if p.delegate}
    assert partnered <= with_delegate


def test_hosts_follow_their_session_and_host_at_most_two(small: Conference) -> None:
    hosting: dict[str, int] = {}
    for session in small.sessions:
        assert session.hosts, session.id
        for host in session.hosts:
            assert small.participants_by_id[host].can_follow(session.language), session.id
            hosting[host] = hosting.get(host, 0) + 1
        if session.audience is not None:
            for host in session.hosts:
                assert small.participants_by_id[host].role in session.audience
    assert max(hosting.values()) <= 2


def test_nobody_wants_more_than_they_could_attend(small: Conference) -> None:
    wanted = [
        sum(1 for s in small.sessions if small.wanted_weight(p, s) > 0) for p in small.participants
    ]
    # 10 weekdays x at most 3 events a day; a preference may add one session
    assert max(wanted) <= 21
    assert sum(wanted) / len(wanted) >= 5  # but people do want sessions


def test_resources_grow_with_the_size(tmp_path: Path, small: Conference) -> None:
    medium, _ = _generated(tmp_path, 160, 1000, 120)
    assert small.resources.rooms >= 3
    assert medium.resources.rooms > small.resources.rooms
    assert medium.resources.interpreters > small.resources.interpreters


def test_large_conference_is_generated_quickly(tmp_path: Path) -> None:
    import time

    started = time.perf_counter()
    generate(tmp_path, cities=400, participants=5000, sessions=400, seed=1)
    assert time.perf_counter() - started < 5
    assert (tmp_path / "participants.csv").read_text(encoding="utf-8").count("\n") == 5001


@pytest.mark.parametrize(
    ("cities", "participants", "sessions"),
    [(1, 10, 5), (10, 5, 5), (4, 20, 0), (4, 20, 100)],
)
def test_nonsense_sizes_are_refused_with_a_message(
    tmp_path: Path, cities: int, participants: int, sessions: int
) -> None:
    with pytest.raises(UserError, match="cannot generate"):
        generate(tmp_path, cities=cities, participants=participants, sessions=sessions, seed=0)
    assert not any(tmp_path.iterdir()), "nothing is written"


def test_cli_generate_writes_a_loadable_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "conf"
    assert (
        main(
            [
                "generate",
                str(out),
                "--cities",
                "6",
                "--participants",
                "30",
                "--sessions",
                "8",
                "--seed",
                "5",
            ]
        )
        == 0
    )
    conference, warnings = load_conference(out)
    assert len(conference.cities) == 6 and warnings == []
    assert (
        main(["generate", str(out), "--cities", "1", "--participants", "30", "--sessions", "8"])
        == 2
    )
    assert "--cities must be at least 2" in capsys.readouterr().err


# ---------------------------------------------------------------------------- shapes

# sha256 of the seven files (in FILES order) written before the shape options existed:
# the defaults must keep writing exactly these conferences
BEFORE_SHAPES = {
    (4, 20, 6, 1): "65057a3b9167a8776e224205ec4a75eb250b0e17caf557369c78f88efd8a3f11",
    (40, 300, 40, 3): "0257b7f6f42ac2174740b9a175b1c41261cfe4907e7f15b6df3e3d8956eef079",
}


def _digest(folder: Path) -> str:
    import hashlib

    return hashlib.sha256(b"".join((folder / name).read_bytes() for name in FILES)).hexdigest()


@pytest.mark.parametrize("size", sorted(BEFORE_SHAPES))
def test_default_shape_writes_the_same_files_as_before(
    tmp_path: Path, size: tuple[int, int, int, int]
) -> None:
    cities, participants, sessions, seed = size
    generate(tmp_path / "a", cities=cities, participants=participants, sessions=sessions, seed=seed)
    assert _digest(tmp_path / "a") == BEFORE_SHAPES[size]
    generate(
        tmp_path / "b",
        cities=cities,
        participants=participants,
        sessions=sessions,
        seed=seed,
        shape=Shape(),
    )
    assert _digest(tmp_path / "b") == BEFORE_SHAPES[size]


def test_shape_options_change_the_conference_as_documented(tmp_path: Path) -> None:
    plain, _ = _generated(tmp_path / "plain", 40, 300, 40, seed=4)
    shape = Shape(
        themes_per_person=(0, 0, 0, 1),
        interest_weights=(3,),
        capacity_percent=100,
        capacity_seats=(7,),
        interpreted_percent=100,
        youth_percent=60,
        youth_only_percent=90,
        room_hours=80,
        interpreter_hours=120,
        max_wanted=30,
    )
    generate(tmp_path / "keen", cities=40, participants=300, sessions=40, seed=4, shape=shape)
    keen, warnings = load_conference(tmp_path / "keen")
    assert warnings == []
    workshops = [s for s in keen.sessions if s.kind == "workshop"]
    assert workshops and all(s.capacity == len(s.hosts) + 7 for s in workshops)
    assert all(s.language == "de-tr" for s in keen.sessions)
    youth = sum(p.role == "youth" for p in keen.participants) / len(keen.participants)
    assert 0.45 < youth < 0.7  # 60 % after each city's first (administration) person
    youth_workshops = [s for s in workshops if s.theme in {"youth", "youth-exchange"}]
    only = [s for s in youth_workshops if s.audience == frozenset({"youth"})]
    assert len(only) >= 0.6 * len(youth_workshops)
    assert keen.resources.rooms < plain.resources.rooms
    assert keen.resources.interpreters <= plain.resources.interpreters

    def wanted_per_person(conf: Conference) -> float:
        return sum(
            1 for p in conf.participants for s in conf.sessions if conf.wanted_weight(p, s) > 0
        ) / len(conf.participants)

    assert wanted_per_person(keen) > 1.5 * wanted_per_person(plain)
    assert (
        max(
            sum(1 for s in keen.sessions if keen.wanted_weight(p, s) > 0) for p in keen.participants
        )
        <= 31
    )  # max_wanted, a preference may add one


def test_cli_shape_options_reach_the_generator(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    size = ["--cities", "6", "--participants", "30", "--sessions", "8", "--seed", "5"]
    out = tmp_path / "conf"
    assert main(["generate", str(out), *size, "--capacity-percent", "100"]) == 0
    conference, _ = load_conference(out)
    assert all(s.capacity is not None for s in conference.sessions if s.kind == "workshop")
    assert main(["generate", str(tmp_path / "bad"), *size, "--youth-only-percent", "95"]) == 2
    assert "--youth-only-percent must be at most 90" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()
    with pytest.raises(SystemExit):
        main(["generate", str(tmp_path / "bad"), *size, "--capacity-seats", "ten"])
    assert "comma-separated list of whole numbers" in capsys.readouterr().err

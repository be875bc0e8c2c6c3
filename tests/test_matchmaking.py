"""Matchmaking: partner meetings, the exact choice of new contacts, languages, reasons."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from itertools import combinations

import pytest

from scheduler.matchmaking import (
    best_new_contacts,
    city_profiles,
    delegates_by_city,
    match,
    new_contact_candidates,
)
from scheduler.model import City, Conference, MatchmakingRules, Partnership
from tests.builders import (
    CANAKKALE,
    KILIS,
    MANNHEIM,
    OSNABRUECK,
    THEMES,
    conference,
    participant,
)

FOUR_CITIES = (OSNABRUECK, CANAKKALE, MANNHEIM, KILIS)


def rules(**overrides: object) -> MatchmakingRules:
    """The example [matchmaking] table of docs/inputs.md, with overrides."""
    defaults = MatchmakingRules(
        partner_meetings=True, new_contacts_per_city=2, meeting_minutes=45, min_score=0.5
    )
    return replace(defaults, **overrides)  # type: ignore[arg-type]


# --- an independent reference: profiles, scores and a brute-force optimum -------------


def reference_scores(conf: Conference) -> dict[tuple[str, str], int]:
    """Rounded cosine scores (micro-units) of every pair of cities with participants,
    computed here without the module's code."""
    vectors: dict[str, list[list[int]]] = {}
    for p in conf.participants:
        vectors.setdefault(p.city_id, []).append([p.interests[t.id] for t in conf.themes])
    means = {
        c: [sum(col) / len(rows) for col in zip(*rows, strict=True)] for c, rows in vectors.items()
    }
    scores = {}
    for a, b in combinations(sorted(means), 2):
        dot = sum(x * y for x, y in zip(means[a], means[b], strict=True))
        norms = math.hypot(*means[a]) * math.hypot(*means[b])
        scores[(a, b)] = round(dot / norms * 1_000_000) if norms else 0
    return scores


def reference_candidates(conf: Conference) -> dict[tuple[str, str], int]:
    """Pairs allowed as new contacts, by the issue's rules, with their scores."""
    country = {c.id: c.country for c in conf.cities}
    has_delegate = {p.city_id for p in conf.participants if p.delegate}
    partnered = {tuple(sorted((p.city_a, p.city_b))) for p in conf.partnerships}
    return {
        pair: units
        for pair, units in reference_scores(conf).items()
        if country[pair[0]] != country[pair[1]]
        and pair not in partnered
        and pair[0] in has_delegate
        and pair[1] in has_delegate
        and units / 1_000_000 >= conf.matchmaking.min_score
    }


def brute_force_best(edges: dict[tuple[str, str], int], per_city: int) -> int:
    """The best total over every subset of edges with at most per_city per city."""
    items = sorted(edges.items())
    best = 0
    degree: dict[str, int] = {}

    def walk(i: int, total: int) -> None:
        nonlocal best
        if i == len(items):
            best = max(best, total)
            return
        (a, b), units = items[i]
        walk(i + 1, total)
        if degree.get(a, 0) < per_city and degree.get(b, 0) < per_city:
            degree[a] = degree.get(a, 0) + 1
            degree[b] = degree.get(b, 0) + 1
            walk(i + 1, total + units)
            degree[a] -= 1
            degree[b] -= 1

    walk(0, 0)
    return best


def random_conference(rng: random.Random) -> Conference:
    """4-9 cities in 2 or 3 countries, random partnerships, people, interests, limits."""
    countries = ["DE", "TR"] + (["AT"] if rng.random() < 0.3 else [])
    cities = [
        City(f"c{i}", f"City {i}", rng.choice(countries), None, "Europe/Berlin", "de")
        for i in range(rng.randint(4, 9))
    ]
    partnerships = []
    for a, b in combinations(cities, 2):
        if a.country != b.country and rng.random() < 0.15:
            partnerships.append(Partnership(a.id, b.id))
    people = []
    for city in cities:
        for k in range(rng.choice([0, 1, 1, 2, 3])):
            people.append(
                participant(
                    f"{city.id}p{k}",
                    city.id,
                    delegate=rng.random() < 0.7,
                    interests={t.id: rng.randint(0, 3) for t in THEMES},
                )
            )
    return conference(
        cities=cities,
        partnerships=partnerships,
        participants=people,
        matchmaking=rules(
            new_contacts_per_city=rng.randint(1, 3),
            min_score=rng.choice([0.0, 0.3, 0.5, 0.7, 0.9]),
        ),
    )


def test_new_contacts_are_optimal_and_follow_every_rule_on_random_conferences() -> None:
    rng = random.Random(20200603)
    for _ in range(200):
        conf = random_conference(rng)
        result = match(conf)
        allowed = reference_candidates(conf)
        per_city = conf.matchmaking.new_contacts_per_city
        chosen = [m for m in result.matches if m.kind == "new"]

        for m in chosen:
            assert (m.city_a, m.city_b) in allowed  # countries, partnership, delegates, min_score
            assert m.score == allowed[(m.city_a, m.city_b)] / 1_000_000
        count: dict[str, int] = {}
        for m in chosen:
            count[m.city_a] = count.get(m.city_a, 0) + 1
            count[m.city_b] = count.get(m.city_b, 0) + 1
        assert max(count.values(), default=0) <= per_city

        total = sum(allowed[(m.city_a, m.city_b)] for m in chosen)
        assert total == brute_force_best(allowed, per_city), conf


def test_min_cost_flow_and_cp_sat_agree_with_brute_force_and_each_other() -> None:
    rng = random.Random(7)
    for _ in range(60):
        conf = random_conference(rng)
        profiles = city_profiles(conf)
        delegates = delegates_by_city(conf)
        partnered = {tuple(sorted((p.city_a, p.city_b))) for p in conf.partnerships}
        candidates = new_contact_candidates(conf, profiles, delegates, partnered)  # type: ignore[arg-type]
        per_city = conf.matchmaking.new_contacts_per_city
        auto = best_new_contacts(candidates, per_city)
        cp_sat = best_new_contacts(candidates, per_city, always_cp_sat=True)
        best = brute_force_best(reference_candidates(conf), per_city)
        assert auto.status == cp_sat.status == "OPTIMAL"
        assert auto.total_units == cp_sat.total_units == best
        # The same deterministic tie-break in both: the very same pairs.
        assert auto.pairs == cp_sat.pairs


def test_cp_sat_with_its_lp_pruning_matches_the_min_cost_flow_on_a_larger_conference() -> None:
    # 60 German and Turkish cities: large enough that the LP bound drops most pairs before
    # CP-SAT runs; the flow is an independent exact method on the same (bipartite) pairs.
    rng = random.Random(11)
    cities = [
        City(f"k{i:02d}", f"K{i}", "DE" if i % 2 else "TR", None, "Europe/Berlin", "de")
        for i in range(60)
    ]
    people = [
        participant(
            f"{c.id}p{k}",
            c.id,
            role="administration",
            interests={t.id: rng.randint(0, 3) for t in THEMES},
        )
        for c in cities
        for k in range(3)
    ]
    conf = conference(cities=cities, partnerships=[], participants=people)
    candidates = new_contact_candidates(conf, city_profiles(conf), delegates_by_city(conf), set())
    assert len(candidates) > 500
    for per_city in (1, 2, 3):
        by_flow = best_new_contacts(candidates, per_city)
        by_cp_sat = best_new_contacts(candidates, per_city, always_cp_sat=True)
        assert (by_flow.method, by_cp_sat.method) == ("min-cost flow", "CP-SAT")
        assert by_cp_sat.total_units == by_flow.total_units
        assert by_cp_sat.pairs == by_flow.pairs


def test_equal_scores_are_broken_the_same_way_every_time() -> None:
    # Eight cities with identical profiles: every German-Turkish pair scores 1.0, many
    # optimal sets exist; the choice must depend neither on the method, the solver's luck
    # nor the input order.
    cities = [City(f"d{i}", f"D{i}", "DE", None, "Europe/Berlin", "de") for i in range(4)] + [
        City(f"t{i}", f"T{i}", "TR", None, "Europe/Istanbul", "tr") for i in range(4)
    ]
    people = [participant(f"{c.id}x", c.id, role="administration") for c in cities]
    conf = conference(cities=cities, partnerships=[], participants=people)
    first = match(conf)
    assert len([m for m in first.matches if m.kind == "new"]) == 8  # 4 x 2, all at 1.0
    candidates = new_contact_candidates(conf, city_profiles(conf), delegates_by_city(conf), set())
    by_flow = best_new_contacts(candidates, 2)
    for _ in range(3):
        assert best_new_contacts(candidates, 2, always_cp_sat=True).pairs == by_flow.pairs
    for seed in range(5):
        shuffled = list(people)
        random.Random(seed).shuffle(shuffled)
        again = replace(conf, participants=tuple(shuffled), cities=tuple(reversed(cities)))
        assert match(again) == first


# --- partner meetings ----------------------------------------------------------------


def four_city_conference(**overrides: object) -> Conference:
    """Osnabrück–Çanakkale and Mannheim–Kilis; Kilis has no delegate."""
    defaults: dict[str, object] = {
        "cities": FOUR_CITIES,
        "partnerships": [Partnership("osn", "can"), Partnership("man", "kil")],
        "participants": [
            participant("o1", "osn", role="administration", interests={"digital": 3, "youth": 3}),
            participant("o2", "osn", role="expert", interests={"digital": 3, "youth": 2}),
            participant(
                "c1", "can", role="administration", languages=["tr"], interests={"youth": 3}
            ),
            participant("m1", "man", role="administration", interests={"digital": 3, "urban": 2}),
            participant("k1", "kil", role="youth", languages=["tr"], interests={"urban": 3}),
        ],
        "matchmaking": rules(min_score=0.1),
    }
    return conference(**(defaults | overrides))


def test_partner_meeting_between_all_delegates_with_sorted_ids_titles_and_duration() -> None:
    conf = four_city_conference(
        participants=[
            participant("o9", "osn", role="administration"),
            participant("o1", "osn", role="expert", delegate=True),  # explicit delegate
            participant("o2", "osn", role="expert"),  # experts are not delegates by default
            participant("o3", "osn", role="administration", delegate=False),  # opted out
            participant("c1", "can", role="youth", delegate=True, languages=["tr"]),
        ],
        matchmaking=rules(meeting_minutes=60, new_contacts_per_city=0),
    )
    result = match(conf)
    (meeting,) = result.meetings
    assert meeting.id == "pm-can-osn"  # partnership listed as osn, can: ids sorted
    assert (meeting.city_a, meeting.city_b) == ("can", "osn")
    assert meeting.kind == "partner_meeting"
    assert meeting.delegates == ("c1", "o1", "o9")
    assert meeting.duration_minutes == 60
    assert meeting.titles == {
        "de": "Partnertreffen Çanakkale – Osnabrück",
        "tr": "Kardeş şehir toplantısı: Çanakkale – Osnabrück",
        "en": "Partner meeting Çanakkale – Osnabrück",
    }


def test_ids_are_sorted_as_plain_strings() -> None:
    upper = City("Zeta", "Zeta", "DE", None, "Europe/Berlin", "de")
    lower = City("alpha", "Alpha", "TR", None, "Europe/Istanbul", "tr")
    conf = conference(
        cities=[lower, upper],
        partnerships=[Partnership("alpha", "Zeta")],
        participants=[
            participant("z", "Zeta", role="administration"),
            participant("a", "alpha", role="administration"),
        ],
    )
    (meeting,) = match(conf).meetings
    assert meeting.id == "pm-Zeta-alpha"  # "Z" < "a"
    assert (meeting.city_a, meeting.city_b) == ("Zeta", "alpha")


def test_city_without_delegate_makes_its_partner_meeting_impossible() -> None:
    result = match(four_city_conference())
    assert [m.id for m in result.meetings if m.kind == "partner_meeting"] == ["pm-can-osn"]
    (item,) = result.impossible
    assert item.item_id == "pm-kil-man"
    assert item.kind == "partner_meeting"
    assert item.reason == "Kilis has no delegate"
    row = next(m for m in result.matches if (m.city_a, m.city_b) == ("kil", "man"))
    # the match names the meeting's id all the same: its reason is listed under it
    assert row.kind == "partner" and row.meeting_id == "pm-kil-man"
    # Kilis cannot meet, so it gets no new contact either.
    assert all("kil" not in (m.city_a, m.city_b) for m in result.matches if m.kind == "new")


def test_both_cities_without_delegate_are_both_named() -> None:
    conf = four_city_conference(
        participants=[participant("k1", "kil"), participant("m1", "man")]  # experts only
    )
    (item,) = [i for i in match(conf).impossible if i.item_id == "pm-kil-man"]
    assert item.reason == "Kilis and Mannheim have no delegate"


def test_no_partner_meetings_when_switched_off_but_rows_stay() -> None:
    result = match(four_city_conference(matchmaking=rules(partner_meetings=False, min_score=0.1)))
    assert not [m for m in result.meetings if m.kind == "partner_meeting"]
    assert result.impossible == ()
    partners = [m for m in result.matches if m.kind == "partner"]
    assert [(m.city_a, m.city_b, m.meeting_id) for m in partners] == [
        ("can", "osn", None),
        ("kil", "man", None),
    ]


def test_city_without_participants_has_no_profile_score_zero_and_no_contact() -> None:
    conf = four_city_conference(
        participants=[
            participant("o1", "osn", role="administration"),
            participant("m1", "man", role="administration"),
            participant("k1", "kil", role="administration"),
        ],
        matchmaking=rules(min_score=0.0),
    )
    result = match(conf)
    row = next(m for m in result.matches if m.city_a == "can")
    assert (row.kind, row.score, row.meeting_id) == ("partner", 0.0, "pm-can-osn")
    assert row.reasons["en"] == "No shared focus themes"
    assert result.impossible[0].reason == "Çanakkale has no delegate"
    assert all("can" not in (m.city_a, m.city_b) for m in result.matches if m.kind == "new")


# --- new contacts ----------------------------------------------------------------------


def test_new_contacts_only_across_countries_without_partnership_and_above_min_score() -> None:
    conf = four_city_conference(
        participants=[
            participant("o1", "osn", role="administration", interests={"digital": 3}),
            participant("c1", "can", role="administration", interests={"digital": 3}),
            participant("m1", "man", role="administration", interests={"digital": 3}),
            participant("k1", "kil", role="administration", interests={"youth": 3}),
        ],
        matchmaking=rules(min_score=0.5),
    )
    result = match(conf)
    new = [(m.city_a, m.city_b) for m in result.matches if m.kind == "new"]
    # osn-man: same country; osn-can, kil-man: partners; osn-kil: score 0 < 0.5.
    assert new == [("can", "man")]
    meeting = result.meetings_by_id["nc-can-man"]
    assert meeting.kind == "new_contact_meeting"
    assert meeting.score == 1.0  # identical profiles score exactly 1.0
    assert meeting.titles["de"] == "Neuer Kontakt: Çanakkale – Mannheim"
    assert meeting.titles["tr"] == "Yeni bağlantı: Çanakkale – Mannheim"
    assert meeting.titles["en"] == "New contact: Çanakkale – Mannheim"


def test_min_score_is_inclusive_and_limit_zero_means_no_new_contacts() -> None:
    same = [
        participant("m1", "man", role="administration"),
        participant("k1", "kil", role="administration"),
    ]
    conf = conference(cities=[MANNHEIM, KILIS], partnerships=[], participants=same)
    assert [m.id for m in match(replace(conf, matchmaking=rules(min_score=1.0))).meetings] == [
        "nc-kil-man"
    ]
    assert match(replace(conf, matchmaking=rules(new_contacts_per_city=0))).meetings == ()


def test_the_per_city_limit_picks_the_best_total_not_the_greedy_pair() -> None:
    # Greedy would take the single best pair a-x (1.0) and block both; the best total with
    # one contact per city is a-y + b-x.
    cities = [
        City("a", "A", "DE", None, "Europe/Berlin", "de"),
        City("b", "B", "DE", None, "Europe/Berlin", "de"),
        City("x", "X", "TR", None, "Europe/Istanbul", "tr"),
        City("y", "Y", "TR", None, "Europe/Istanbul", "tr"),
    ]
    interests = {
        "a": {"digital": 3, "urban": 3},
        "x": {"digital": 3, "urban": 3},
        "b": {"digital": 3, "urban": 1},
        "y": {"digital": 1, "urban": 3},
    }
    people = [participant(c, c, role="administration", interests=i) for c, i in interests.items()]
    conf = conference(
        cities=cities,
        partnerships=[],
        participants=people,
        matchmaking=rules(new_contacts_per_city=1, min_score=0.0),
    )
    assert [m.id for m in match(conf).meetings] == ["nc-a-y", "nc-b-x"]


def test_match_rows_partners_first_then_new_sorted_and_meetings_carry_the_same_data() -> None:
    result = match(four_city_conference())
    kinds = [m.kind for m in result.matches]
    assert kinds == sorted(kinds, key=lambda k: k != "partner")
    for kind in ("partner", "new"):
        pairs = [(m.city_a, m.city_b) for m in result.matches if m.kind == kind]
        assert pairs == sorted(pairs)
        assert all(a < b for a, b in pairs)
    impossible = {item.item_id for item in result.impossible}
    for row in result.matches:
        assert row.meeting_id is not None  # partner meetings are on: every match has one
        if row.meeting_id not in impossible:
            meeting = result.meetings_by_id[row.meeting_id]
            assert (meeting.city_a, meeting.city_b) == (row.city_a, row.city_b)
            assert meeting.score == row.score
            assert meeting.reasons == row.reasons
    assert len(result.meetings) == len({m.id for m in result.meetings})


# --- language, reasons, determinism ----------------------------------------------------


@pytest.mark.parametrize(
    ("osn_languages", "can_languages", "expected"),
    [
        (["de"], ["de", "tr"], "de"),
        (["de", "tr"], ["de", "tr", "en"], "de"),  # de is preferred when everyone has it
        (["tr", "en"], ["tr"], "tr"),
        (["de", "en"], ["tr", "en"], "en"),
        (["de"], ["tr"], "de-tr"),
        (["de"], ["tr", "en"], "de-tr"),
    ],
)
def test_meeting_language_is_the_first_every_delegate_speaks(
    osn_languages: list[str], can_languages: list[str], expected: str
) -> None:
    conf = conference(
        participants=[
            participant("o1", "osn", role="administration", languages=osn_languages),
            participant("o2", "osn", role="administration", languages=osn_languages),
            participant("c1", "can", role="administration", languages=can_languages),
            # Not a delegate: their languages do not count.
            participant("c2", "can", role="expert", languages=["en"]),
        ]
    )
    (meeting,) = match(conf).meetings
    assert meeting.language == expected
    assert meeting.interpreted == (expected == "de-tr")


def test_reasons_name_the_shared_themes_in_three_languages() -> None:
    conf = conference(
        participants=[
            participant(
                "o1", "osn", role="administration", interests={"digital": 3, "youth": 2, "urban": 3}
            ),
            participant(
                "c1", "can", role="administration", interests={"digital": 2, "youth": 3, "urban": 0}
            ),
        ]
    )
    (row,) = match(conf).matches
    # digital and youth are shared (both >= 1), urban is only Osnabrück's; equal
    # products (6 and 6) keep the conference's theme order.
    assert row.reasons == {
        "de": "Beide Städte: Digitalisierung, Jugendpartizipation",
        "tr": "İki şehir de: Dijitalleşme, Gençlerin katılımı",
        "en": "Both cities: Digitalisation, Youth participation",
    }


def test_reasons_put_the_strongest_shared_theme_first_and_name_at_most_three() -> None:
    everything = {"digital": 2, "urban": 3, "inclusion": 2, "youth": 3}
    conf = conference(
        participants=[
            participant("o1", "osn", role="administration", interests=everything),
            participant("c1", "can", role="administration", interests=everything),
        ]
    )
    (row,) = match(conf).matches
    assert row.reasons["en"] == (
        "Both cities: Sustainable urban development, Youth participation, Digitalisation"
    )


def test_a_shared_theme_needs_a_mean_interest_of_at_least_one_in_both_cities() -> None:
    conf = conference(
        participants=[
            participant("o1", "osn", role="administration", interests={"urban": 1, "youth": 1}),
            participant("o2", "osn", interests={"urban": 1, "youth": 0}),  # youth: mean 0.5
            participant("c1", "can", role="administration", interests={"urban": 1, "youth": 3}),
        ]
    )
    (row,) = match(conf).matches
    assert row.reasons["en"] == "Both cities: Sustainable urban development"
    assert row.reasons["de"] == "Beide Städte: Nachhaltige Stadtentwicklung"
    assert row.reasons["tr"] == "İki şehir de: Sürdürülebilir kentsel gelişim"


def test_reasons_say_so_in_words_when_nothing_is_shared() -> None:
    conf = conference(
        participants=[
            participant("o1", "osn", role="administration", interests={"digital": 3}),
            participant("c1", "can", role="administration", interests={"youth": 3}),
        ]
    )
    (row,) = match(conf).matches
    assert row.score == 0.0
    assert row.reasons == {
        "de": "Keine gemeinsamen Schwerpunkte",
        "tr": "Ortak öncelikli tema yok",
        "en": "No shared focus themes",
    }


def test_profiles_are_city_means_over_all_participants() -> None:
    conf = conference(
        participants=[
            participant("o1", "osn", role="administration", interests={"digital": 3}),
            participant("o2", "osn", interests={"digital": 1, "youth": 2}),
            participant("c1", "can", role="administration", interests={"digital": 2}),
        ]
    )
    assert city_profiles(conf) == {"osn": (2.0, 0.0, 0.0, 1.0), "can": (2.0, 0.0, 0.0, 0.0)}
    (row,) = match(conf).matches
    assert row.score == round(2 / math.sqrt(5), 6)


def test_same_input_gives_the_same_result_whatever_the_order() -> None:
    # The first random conference with several new contacts and partner meetings.
    conf, first = next(
        (conf, result)
        for conf in (random_conference(random.Random(seed)) for seed in range(1000))
        for result in [match(conf)]
        if len([m for m in result.matches if m.kind == "new"]) >= 3 and result.meetings
    )
    assert match(conf) == first
    rng = random.Random(0)
    for _ in range(3):
        people, cities, partners = (
            list(conf.participants),
            list(conf.cities),
            list(conf.partnerships),
        )
        rng.shuffle(people)
        rng.shuffle(cities)
        rng.shuffle(partners)
        partners = [Partnership(p.city_b, p.city_a) for p in partners]  # unordered pairs
        shuffled = replace(
            conf,
            participants=tuple(people),
            cities=tuple(cities),
            partnerships=tuple(partners),
        )
        assert match(shuffled) == first


def test_reasons_name_the_strongest_common_theme_when_none_is_strong() -> None:
    # Mean interests below 1.0 on both sides: still a common theme worth naming.
    conf = conference(
        participants=[
            participant("o1", "osn", role="administration", interests={"urban": 1}),
            participant("o2", "osn", interests={"digital": 0}),
            participant("c1", "can", role="administration", interests={"urban": 1, "youth": 1}),
            participant("c2", "can", interests={"digital": 0}),
        ]
    )
    (row,) = match(conf).matches
    assert row.score > 0
    assert row.reasons["en"] == "Both cities: Sustainable urban development"
    assert row.reasons["tr"] == "İki şehir de: Sürdürülebilir kentsel gelişim"

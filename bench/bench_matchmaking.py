"""Benchmark: matchmaking for a large conference.

400 cities (200 DE, 200 TR), ~200 partnerships, ~5 participants per city with random
interests, new_contacts_per_city=2, min_score=0.5. Prints the time of ``match`` and the
solver's proof for the new contacts.

    .venv/bin/python bench/bench_matchmaking.py [--cities 400] [--seed 0] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date
from datetime import time as clock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scheduler.matchmaking import (
    best_new_contacts,
    city_profiles,
    delegates_by_city,
    match,
    new_contact_candidates,
)
from scheduler.model import (
    CalendarRules,
    City,
    Conference,
    MatchmakingRules,
    Organizer,
    Participant,
    Partnership,
    Resources,
    Theme,
)

THEMES = (
    Theme("digital", {"de": "Digitalisierung", "tr": "Dijitalleşme", "en": "Digitalisation"}),
    Theme("urban", {"de": "Stadtentwicklung", "tr": "Kentsel gelişim", "en": "Urban development"}),
    Theme("inclusion", {"de": "Inklusion", "tr": "Kapsayıcılık", "en": "Inclusion"}),
    Theme("youth", {"de": "Jugend", "tr": "Gençlik", "en": "Youth"}),
)
ROLES = ("expert", "administration", "youth")


def build(cities: int, seed: int, third_country: bool = False) -> Conference:
    """A random conference: half the cities in DE, half in TR, one partnership per DE city
    (to a random TR city, no repeats), 3-7 participants per city. With ``third_country``
    every third Turkish city is moved to AT (the graph of candidates is then no longer
    bipartite, so CP-SAT decides)."""
    rng = random.Random(seed)
    half = cities // 2
    city_list = [
        City(f"de{i:03d}", f"Stadt {i}", "DE", None, "Europe/Berlin", "de") for i in range(half)
    ] + [
        City(
            f"tr{i:03d}",
            f"Şehir {i}",
            "AT" if third_country and i % 3 == 0 else "TR",
            None,
            "Europe/Istanbul",
            "tr",
        )
        for i in range(cities - half)
    ]
    turkish = [c.id for c in city_list if c.country != "DE"]
    rng.shuffle(turkish)
    partnerships = [Partnership(f"de{i:03d}", turkish[i]) for i in range(min(half, len(turkish)))]
    participants = []
    for city in city_list:
        for k in range(rng.randint(3, 7)):
            role = rng.choice(ROLES)
            languages = {city.language} | ({"en"} if rng.random() < 0.3 else set())
            participants.append(
                Participant(
                    id=f"{city.id}-p{k}",
                    name=f"Person {k} ({city.name})",
                    email=f"{city.id}-p{k}@example.org",
                    city_id=city.id,
                    organisation="",
                    role=role,  # type: ignore[arg-type]
                    languages=frozenset(languages),
                    delegate=role == "administration",
                    interests={t.id: rng.randint(0, 3) for t in THEMES},
                )
            )
    return Conference(
        name="Bench",
        start=date(2020, 6, 3),
        end=date(2020, 6, 16),
        timezone="Europe/Berlin",
        organizer=Organizer("Konferenzbüro", "konferenz@example.org"),
        meeting_url=None,
        calendar=CalendarRules(frozenset(range(5)), clock(9), clock(18), 15, 15, 3, True),
        resources=Resources(rooms=4, interpreters=2),
        matchmaking=MatchmakingRules(
            partner_meetings=True, new_contacts_per_city=2, meeting_minutes=45, min_score=0.5
        ),
        themes=THEMES,
        role_rules=(),
        cities=tuple(city_list),
        partnerships=tuple(partnerships),
        participants=tuple(participants),
        unavailability=(),
        sessions=(),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cities", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--third-country", action="store_true", help="move every third TR city to AT"
    )
    args = parser.parse_args()

    conference = build(args.cities, args.seed, args.third_country)
    profiles = city_profiles(conference)
    delegates = delegates_by_city(conference)
    partnered = {tuple(sorted((p.city_a, p.city_b))) for p in conference.partnerships}
    candidates = new_contact_candidates(conference, profiles, delegates, partnered)  # type: ignore[arg-type]
    with_delegate = sum(1 for c in conference.cities if delegates.get(c.id))
    countries = sorted({c.country for c in conference.cities})
    print(
        f"{len(conference.cities)} cities in {', '.join(countries)} ({with_delegate} with a delegate), "
        f"{len(conference.partnerships)} partnerships, {len(conference.participants)} "
        f"participants, {len(candidates)} candidate new contacts (score >= 0.5)"
    )
    choice = best_new_contacts(candidates, conference.matchmaking.new_contacts_per_city)
    print(
        f"new contacts: status {choice.status} ({choice.method}), {len(choice.pairs)} chosen, total score "
        f"{choice.total_units / 1e6:.6f}, solve time {choice.solve_seconds:.2f} s"
    )
    cp_sat = best_new_contacts(
        candidates, conference.matchmaking.new_contacts_per_city, always_cp_sat=True
    )
    print(
        f"same choice by CP-SAT (as used with 3+ countries): status {cp_sat.status}, "
        f"total score {cp_sat.total_units / 1e6:.6f}, same pairs: {cp_sat.pairs == choice.pairs}, "
        f"solve time {cp_sat.solve_seconds:.2f} s"
    )
    timings = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        result = match(conference)
        timings.append(time.perf_counter() - started)
    print(
        f"match(): {len(result.meetings)} meetings, {len(result.matches)} match rows, "
        f"{len(result.impossible)} impossible; time "
        + ", ".join(f"{t:.2f} s" for t in timings)
        + f" (best {min(timings):.2f} s)"
    )


if __name__ == "__main__":
    main()

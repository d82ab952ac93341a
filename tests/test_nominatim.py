"""The optional Nominatim geocoder, against a local HTTP server that answers like Nominatim.

There is no internet here, so the online service is the one thing these tests stand in for:
`FakeNominatim` serves `/search` with Nominatim's JSON shape (jsonv2 fields geopy reads). The
client, the rate limiter, the cache and the fallback are the real ones.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from newsmap.dataset import read_table
from newsmap.geoparser.gazetteer import NominatimGeocoder
from newsmap.library.pipeline import build

PLACES = {  # name -> (lat, lon, country code, addresstype, osm id)
    "Bishkek": (42.8765615, 74.6037019, "kg", "city", 1),
    "Kant": (42.8897, 74.8513, "kg", "town", 2),
    "Osh": (40.5140, 72.8161, "kg", "city", 3),
    "Sochi": (43.5854, 39.7231, "ru", "city", 4),
    "Moscow": (55.7504461, 37.6174943, "ru", "city", 5),
    "Kyrgyzstan": (41.5089, 74.7241, "kg", "country", 6),
    "Kyrgyz Republic": (41.5089, 74.7241, "kg", "country", 6),
    "Russia": (64.6863, 97.7453, "ru", "country", 7),
    "Russian Federation": (64.6863, 97.7453, "ru", "country", 7),
    "Uzbekistan": (41.3237, 63.9528, "uz", "country", 8),
    "China": (35.0001, 103.0, "cn", "country", 9),
}


class FakeNominatim(ThreadingHTTPServer):
    mode = "ok"
    requests: list[str]

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: FakeNominatim

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        query = parse_qs(urlparse(self.path).query)
        name = query.get("q", [""])[0]
        self.server.requests.append(name)
        if self.server.mode == "500":
            self.send_error(500, "Internal Server Error")
            return
        if self.server.mode == "slow":
            time.sleep(2)
        if self.server.mode == "garbage":
            body = b"<html>not json"
        else:
            hits = []
            if name in PLACES:
                lat, lon, cc, kind, osm_id = PLACES[name]
                hits.append({
                    "place_id": osm_id, "osm_type": "relation", "osm_id": osm_id, "lat": str(lat), "lon": str(lon),
                    "display_name": f"{name}, somewhere", "name": name, "addresstype": kind, "importance": 0.7,
                    "address": {"country_code": cc},
                })  # fmt: skip
            body = json.dumps(hits).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)  # in "slow" mode the client has given up: that is the point


@pytest.fixture()
def nominatim(monkeypatch, tmp_path):
    server = FakeNominatim()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("NEWSMAP_NOMINATIM_DELAY", "0")  # a local server needs no politeness delay
    monkeypatch.setenv("NEWSMAP_NOMINATIM_TIMEOUT", "1")
    monkeypatch.setenv("NEWSMAP_NOMINATIM_CACHE", str(tmp_path / "nominatim.json"))
    yield server
    server.shutdown()


def run_build(workdir: Path, url: str) -> tuple[list[str], list[dict[str, str]]]:
    lines: list[str] = []
    build(workdir / "seeds", workdir / "data", geocoder_name="nominatim", nominatim_url=url, echo=lines.append)
    return lines, read_table(workdir / "data" / "locations.csv")


def test_nominatim_places_names_and_curated_rows_still_win(workdir, nominatim):
    lines, rows = run_build(workdir, nominatim.url)
    by_id = {row["id"]: row for row in rows}
    assert "[nominatim]" in lines[0]
    assert by_id["bishkek"]["source"].startswith("Nominatim (OpenStreetMap relation 1)")
    assert by_id["bishkek"]["lat"] == "42.87656"
    # Facilities come from the cited curated gazetteer whichever geocoder places the towns.
    assert by_id["kant-air-base"]["source"].startswith("Wikipedia")
    assert by_id["kant-air-base"]["precision"] == "facility"
    assert len(rows) == 18


def test_nominatim_answers_are_cached_on_disk(workdir, nominatim):
    run_build(workdir, nominatim.url)
    asked = len(nominatim.requests)
    assert asked > 5 and len(set(nominatim.requests)) == asked  # each name asked once
    run_build(workdir, nominatim.url)
    assert len(nominatim.requests) == asked


@pytest.mark.parametrize("mode", ["500", "garbage", "slow"])
def test_nominatim_failure_falls_back_to_offline_whole(workdir, nominatim, mode):
    nominatim.mode = mode
    offline = read_table(workdir / "data" / "locations.csv")  # the offline build of the same seeds
    lines, rows = run_build(workdir, nominatim.url)
    assert any(
        line.startswith("warning: Nominatim failed") and "falls back to the offline gazetteer" in line for line in lines
    )
    assert "[offline]" in lines[-2]
    assert rows == offline  # the same dataset as an offline build: nothing half online


def test_rate_limit_defaults_to_one_request_a_second(tmp_path):
    geocoder = NominatimGeocoder(tmp_path / "cache.json")
    assert geocoder.limited.min_delay_seconds == 1.0
    assert "newsmap" in geocoder.client.headers["User-Agent"]

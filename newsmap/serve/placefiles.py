"""A place's downloads: every mention of it across the library, as CSV, GeoJSON, KML and JSON.

One row per mention (the article, its date, the place's row in that article, the mention and its
sentence), in the place page's order: oldest article first, undated last, then the article's own
order. The same columns in all four files, so a spreadsheet, a GIS tool and Google Earth (whose
time slider reads each placemark's `TimeStamp`) hold the same thing. Their size grows with the
articles that name the place: a small one is built once per library revision and cached, gzipped,
with an ETag; a large one is streamed from the database as the client reads it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Request, Response

from newsmap.dataset import KML_TAIL, format_value, iter_csv, kml_html_text, xml_text
from newsmap.placequeries import MENTION_FIELDS, count_rows, iter_mentions
from newsmap.serve.assets import Asset
from newsmap.serve.placelinks import file_stem
from newsmap.serve.site import CSV, GEOJSON, JSON, KML, Built, Site, _time, attachment
from newsmap.store import Store

FILES = ("mentions.csv", "mentions.geojson", "mentions.kml", "mentions.json")
SMALL_ROWS = 500  # a place named by up to this many articles has its downloads built once and cached


def iter_geojson(rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """A FeatureCollection: a Point per mention (the place where that article puts it)."""
    yield b'{"type": "FeatureCollection", "features": ['
    separator = b"\n"
    for n, row in enumerate(rows):
        feature = {
            "type": "Feature",
            "id": f"{row['article']}#{row['place_id']}/{n}",
            "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
            "properties": row,
        }
        yield separator + json.dumps(feature, ensure_ascii=False).encode("utf-8")
        separator = b",\n"
    yield b"\n]}\n"


def iter_kml(rows: Iterable[dict[str, Any]], title: str) -> Iterator[bytes]:
    """KML 2.2: a Placemark per mention named after its article, its sentence as the description
    (escaped for HTML as well as XML: Google Earth renders it), dated for Google Earth's time slider."""
    yield (
        '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2">\n<Document>\n'
        f"<name>{xml_text(title)}</name>\n"
    ).encode()
    for row in rows:
        data = "".join(
            f'<Data name="{field}"><value>{xml_text(format_value(field, row[field]))}</value></Data>'
            for field in MENTION_FIELDS
        )
        when = f"<TimeStamp><when>{xml_text(row['published'])}</when></TimeStamp>" if row["published"] else ""
        yield (
            f"<Placemark><name>{xml_text(row['title'])}</name>{when}"
            f"<description>{kml_html_text(row['quote'])}</description><ExtendedData>{data}</ExtendedData>"
            f"<Point><coordinates>{row['lon']:.5f},{row['lat']:.5f}</coordinates></Point></Placemark>\n"
        ).encode()
    yield KML_TAIL.encode("utf-8")


def iter_json(rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    yield b"["
    separator = b"\n"
    for row in rows:
        yield separator + json.dumps(row, ensure_ascii=False).encode("utf-8")
        separator = b",\n"
    yield b"\n]\n"


def encoder(name: str, title: str) -> tuple[str, Callable[[Iterable[dict[str, Any]]], Iterator[bytes]]]:
    """(content type, writer) of one of FILES."""
    writers: dict[str, tuple[str, Callable[[Iterable[dict[str, Any]]], Iterator[bytes]]]] = {
        "mentions.csv": (CSV, lambda rows: iter_csv(rows, MENTION_FIELDS)),
        "mentions.geojson": (GEOJSON, iter_geojson),
        "mentions.kml": (KML, lambda rows: iter_kml(rows, title)),
        "mentions.json": (JSON, iter_json),
    }
    return writers[name]


def file_bytes(store: Store, key: str, name: str, title: str, only: frozenset[str] | None = None) -> Iterator[bytes]:
    """The file's bytes, written row by row (a static export writes them so)."""
    return encoder(name, title)[1](iter_mentions(store.conn, key, only))


def respond(site: Site, key: str, name: str, title: str, request: Request) -> Response:
    """A download: from the cache when the place is named by few articles, else streamed; either
    way with an ETag of the library's revision, so a revalidation costs one lookup."""
    store = site.store()
    revision = store.revision()
    kind, _ = encoder(name, title)
    headers = attachment(f"{file_stem(key)}-{name}")
    if count_rows(store.conn, key, site.config.only) <= SMALL_ROWS:

        def build() -> Built:
            built = Built()
            body = b"".join(file_bytes(store, key, name, title, site.config.only))
            built.assets[name] = Asset.make(body, kind, _time(store.meta("updated_at") or ""), headers=headers)
            return built

        cached = site.cache.get(("place-file", revision, key, name), lambda: site._read(lambda _: build()))
        return cached.assets[name].respond(request)

    def rows() -> Iterator[bytes]:  # runs only if the body is sent: a 304 or a HEAD reads no row
        store.conn.execute("BEGIN")
        try:
            yield from file_bytes(store, key, name, title, site.config.only)
        finally:
            store.conn.execute("COMMIT")

    response = Response(rows(), status=200, content_type=kind, headers=headers)
    response.implicit_sequence_conversion = False
    response.set_etag(f"place-{revision}-{file_stem(key)}-{name}")
    response.last_modified = _time(store.meta("updated_at") or "")
    response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)

"""The dataset's schema, and the only code that reads, checks and writes it.

Two tables, both CSV in the data folder:

- `locations.csv`: one row per place an article names.
- `mentions.csv`: one row per span of article text that refers to one of those places.

Every output (the page, the CSV downloads, GeoJSON, KML, the JSON API) is produced from the
rows this module reads, through the functions here, so a column added here reaches them all.
"""

from __future__ import annotations

import csv
import html
import io
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from newsmap.atomic import atomic_write_bytes, commit_files, recover
from newsmap.schema import (
    COLUMN_TYPES,
    FAMILIES,
    ID_PATTERN,
    LOCATION_FIELDS,
    MENTION_FIELDS,
    ROW_PRECISIONS,
    category_family,
)
from newsmap.textfile import read_utf8

ELLIPSIS = "…"

LOCATIONS_FILE = "locations.csv"
MENTIONS_FILE = "mentions.csv"
_TYPES = COLUMN_TYPES
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class DatasetError(ValueError):
    """The dataset cannot be read at all; the message is one line for the user."""


@dataclass(frozen=True)
class Problem:
    file: str
    row: int  # 1-based data row number; the header is row 0, so row N is line N+1 of a plain file
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row else "header"
        return f"{self.file} {where}: {self.message}"


# --------------------------------------------------------------------------- writing


def format_value(column: str, value: Any) -> str:
    """Floats with 5 decimals; strings (as read from a file) exactly as they are."""
    if _TYPES.get(column) == "float" and isinstance(value, int | float):
        return f"{value:.5f}"
    return str(value)


def encode_csv(
    rows: list[dict[str, Any]], fields: tuple[str, ...], *, formula_safe: bool = False, header: bool = True
) -> bytes:
    """CSV bytes, `\n` line ends, a field quoted only when it must be: byte-identical on rerun.

    Written by hand because Python's csv module, with `\n` line ends, leaves a lone `\r`
    unquoted, which every reader then takes for a line break: a corrupted row.

    With `formula_safe`, text cells a spreadsheet would run as a formula (starting with = + - @,
    tab or CR) get a leading apostrophe (OWASP's advice); numeric columns are left as they are.
    """
    lines = [",".join(_csv_cell(field) for field in fields)] if header else []
    for row in rows:
        cells = []
        for field in fields:
            cell = format_value(field, row[field])
            if formula_safe and _TYPES.get(field, "text") == "text" and cell.startswith(_FORMULA_START):
                cell = "'" + cell
            cells.append(_csv_cell(cell))
        lines.append(",".join(cells))
    return "".join(line + "\n" for line in lines).encode("utf-8")


def _csv_cell(cell: str) -> str:
    if any(ch in cell for ch in ',"\r\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def write_table(path: Path, rows: list[dict[str, Any]], fields: tuple[str, ...]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, encode_csv(rows, fields))


def write_dataset(data_dir: Path, locations: list[dict[str, Any]], mentions: list[dict[str, Any]]) -> dict[str, int]:
    """Both tables as one commit: a crash leaves the old pair or the new pair, never a mix.

    Returns each file's size.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    files = {
        MENTIONS_FILE: encode_csv(mentions, MENTION_FIELDS),
        LOCATIONS_FILE: encode_csv(locations, LOCATION_FIELDS),
    }
    commit_files(data_dir, files)
    return {name: len(data) for name, data in files.items()}


# --------------------------------------------------------------------------- reading


def read_csv(path: Path, max_bytes: int | None = None) -> tuple[list[str], list[dict[str, str]]]:
    """The header and the rows of a CSV as strings, or a DatasetError saying in one line why not."""
    text = read_utf8(
        path,
        error=DatasetError,
        missing="file not found (run `make data` to build it)",
        empty="the file is empty",
        max_bytes=max_bytes,
    )
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        rows = list(reader)
    except csv.Error as error:
        raise DatasetError(f"{path}: not valid CSV ({error})") from None
    return list(reader.fieldnames or []), rows


def read_table(path: Path, max_bytes: int | None = None) -> list[dict[str, str]]:
    """The rows of a CSV as strings (see `read_csv`)."""
    return read_csv(path, max_bytes)[1]


def check_locations(
    rows: list[dict[str, str]], fields: list[str], articles: dict[str, str] | None, file: str = LOCATIONS_FILE
) -> list[Problem]:
    """Every problem of the locations table, each with its row number.

    `articles` maps slug -> text; when given, each quote must appear verbatim in its article.
    """
    problems: list[Problem] = []
    missing = [f for f in LOCATION_FIELDS if f not in fields]
    if missing:
        problems.append(Problem(file, 0, f"missing columns: {', '.join(missing)}"))
        return problems
    seen: dict[tuple[str, str], int] = {}  # (article, id) -> row: ids are unique within their article
    for number, row in enumerate(rows, start=1):

        def bad(message: str, number: int = number) -> None:
            problems.append(Problem(file, number, message))

        if None in row:
            bad("more cells than columns")
        place_id = row["id"] or ""
        if not ID_PATTERN.fullmatch(place_id):
            bad(f"id {place_id!r} is not a slug (lower-case letters, digits, hyphens)")
        elif (row["article"], place_id) in seen:
            bad(f"id {place_id!r} repeats row {seen[row['article'], place_id]} of article {row['article']!r}")
        else:
            seen[row["article"], place_id] = number
        for column, low, high in (("lat", -90.0, 90.0), ("lon", -180.0, 180.0)):
            value = row[column]
            try:
                number_value = float(value)
            except (TypeError, ValueError):
                bad(f"{column} {value!r} is not a number")
                continue
            if not low <= number_value <= high:  # also refuses nan
                bad(f"{column} {value} is outside [{low:g}, {high:g}]")
        if row["precision"] not in ROW_PRECISIONS:
            bad(f"precision {row['precision']!r} is not one of {', '.join(ROW_PRECISIONS)}")
        if not (row["mentions"] or "").isdigit() or int(row["mentions"]) < 1:
            bad(f"mentions {row['mentions']!r} is not a whole number of at least 1")
        for column in ("name", "quote", "source", "article", "category"):
            if not (row[column] or "").strip():
                bad(f"{column} is empty")
        if articles is not None and row["article"]:
            text = articles.get(row["article"])
            if text is None:
                bad(f"article {row['article']!r} is not among the seeds")
            elif row["quote"] and quote_core(row["quote"]) not in text:
                bad("quote is not found verbatim in its article")
    return problems


def quote_core(quote: str) -> str:
    """The verbatim part of a quote: a long sentence is cut around its mention, with "…" at each cut."""
    return quote.removeprefix(ELLIPSIS).removesuffix(ELLIPSIS)


def check_mentions(
    rows: list[dict[str, str]],
    fields: list[str],
    place_ids: set[tuple[str, str]],
    articles: dict[str, str] | None,
    file: str = MENTIONS_FILE,
) -> list[Problem]:
    problems: list[Problem] = []
    missing = [f for f in MENTION_FIELDS if f not in fields]
    if missing:
        return [Problem(file, 0, f"missing columns: {', '.join(missing)}")]
    for number, row in enumerate(rows, start=1):
        if (row["article"], row["place_id"]) not in place_ids:
            problems.append(
                Problem(
                    file,
                    number,
                    f"place_id {row['place_id']!r} of article {row['article']!r} is not in {LOCATIONS_FILE}",
                )
            )
        offsets = [row[c] for c in ("sentence", "sentence_start", "sentence_end", "start", "end")]
        if not all((o or "").isdigit() for o in offsets):
            problems.append(Problem(file, number, "offsets must be whole numbers"))
            continue
        _, s_start, s_end, start, end = (int(o) for o in offsets)
        if not s_start <= start < end <= s_end:
            problems.append(Problem(file, number, f"span {start}-{end} is not inside its sentence {s_start}-{s_end}"))
            continue
        text = (articles or {}).get(row["article"])
        if articles is not None and text is None:
            problems.append(Problem(file, number, f"article {row['article']!r} is not among the seeds"))
        elif text is not None and text[start:end] != row["text"]:
            problems.append(
                Problem(file, number, f"text {row['text']!r} is not what the article holds at {start}-{end}")
            )
    return problems


def check(
    data_dir: Path, articles: dict[str, str] | None, max_bytes: int | None = None
) -> tuple[list[dict[str, str]], list[dict[str, str]], list[Problem]]:
    """Both tables, read once, and all their problems; DatasetError when a file cannot be read at all."""
    locations_path, mentions_path = data_dir / LOCATIONS_FILE, data_dir / MENTIONS_FILE
    try:
        recover(data_dir, sweep=False)  # a build killed mid-commit is finished first
    except OSError as error:
        raise DatasetError(
            f"{data_dir}: an interrupted build left work to finish and it cannot be finished here ({error.strerror}); run the build again"
        ) from None
    fields, locations = read_csv(locations_path, max_bytes)
    problems = check_locations(locations, fields, articles)
    mentions: list[dict[str, str]] = []
    if mentions_path.exists():
        fields, mentions = read_csv(mentions_path, max_bytes)
        ids = {(row.get("article") or "", row.get("id") or "") for row in locations}
        problems += check_mentions(mentions, fields, ids, articles)
    return locations, mentions, problems


def validate(data_dir: Path, articles: dict[str, str] | None, max_bytes: int | None = None) -> list[Problem]:
    """All problems of both tables; raises DatasetError when a file cannot be read at all."""
    return check(data_dir, articles, max_bytes)[2]


@dataclass(frozen=True)
class Dataset:
    """The validated tables, typed, as the app and the exports use them."""

    locations: tuple[dict[str, Any], ...]
    mentions: tuple[dict[str, Any], ...]

    @classmethod
    def load(cls, data_dir: Path, articles: dict[str, str] | None = None, max_bytes: int | None = None) -> Dataset:
        """Read and check both tables; any problem is a DatasetError naming the first of them."""
        locations, mentions, problems = check(data_dir, articles, max_bytes)
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise DatasetError(f"{data_dir}: {problems[0]}{more}; run `python -m newsmap validate` for all")
        return cls.from_rows(locations, mentions)

    @classmethod
    def from_rows(cls, locations: list[dict[str, str]], mentions: list[dict[str, str]]) -> Dataset:
        """Typed tables from rows that `check` found valid."""
        return cls(
            tuple(_typed(row, LOCATION_FIELDS) for row in locations),
            tuple(_typed(row, MENTION_FIELDS) for row in mentions),
        )

    def frame(self) -> Any:
        """The places as a typed pandas DataFrame indexed by (article, id), for analysis in a notebook."""
        import pandas

        frame = pandas.DataFrame(list(self.locations), columns=list(LOCATION_FIELDS))
        return frame.astype({"lat": "float64", "lon": "float64", "mentions": "int64"}).set_index(["article", "id"])

    def summary(self) -> str:
        """Places by category and precision, the table `validate` prints."""
        import pandas

        frame = self.frame()
        table = pandas.crosstab(frame["category"], frame["precision"], margins=True, margins_name="all")
        order = [p for p in ROW_PRECISIONS if p in table.columns] + ["all"]
        return table[order].to_string()


def _typed(row: dict[str, str], fields: tuple[str, ...]) -> dict[str, Any]:
    typed: dict[str, Any] = {}
    for field in fields:
        kind = _TYPES[field]
        typed[field] = float(row[field]) if kind == "float" else int(row[field]) if kind == "int" else row[field]
    return typed


# --------------------------------------------------------------------------- exports


def to_geojson(locations: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> dict[str, Any]:
    """An RFC 7946 FeatureCollection: a Point per place, [lon, lat], the CSV columns as properties."""
    return {"type": "FeatureCollection", "features": [_feature(row, row["id"]) for row in locations]}


def _feature(row: dict[str, Any], feature_id: str) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": feature_id,
        "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
        "properties": {field: row[field] for field in LOCATION_FIELDS},
    }


# XML 1.0 forbids these characters (C0 controls but tab and line ends, lone surrogates, U+FFFE and U+FFFF):
# a file holding one is not well-formed, and a lone surrogate cannot even be encoded as UTF-8.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str, replacement: str = "\ufffd") -> str:
    """Escaped for XML text and attributes, with the characters XML 1.0 forbids replaced, so the file
    stays well-formed whatever an article holds (KML marks them with U+FFFD; the Atom feed drops them)."""
    return xml_escape(_XML_INVALID.sub(replacement, value), {'"': "&quot;"})


def _xml_id(row: dict[str, Any]) -> str:
    """A Placemark id unique in a library-wide file and valid as an XML ID (which may not start with a digit)."""
    return f"p-{row['article']}.{row['id']}"


# The map's marker colours (static/mapcore.css: --military, --proposed, --meeting, --other) and
# shapes (diamond, square, circle, circle), so Google Earth shows a place as the map does. The
# icons are Google's standard white shapes, which IconStyle's colour tints.
KML_ICONS = "http://maps.google.com/mapfiles/kml/shapes/"
KML_STYLES: dict[str, tuple[str, str]] = {  # family -> (CSS colour, icon)
    "military": ("#b3261e", "open-diamond.png"),
    "proposed": ("#b35300", "placemark_square.png"),
    "meeting": ("#1f5fa8", "placemark_circle.png"),
    "other": ("#59636e", "placemark_circle.png"),
}
KML_TAIL = "</Document>\n</kml>\n"
# Google Earth's balloon: the description only (its default adds the name, the data columns and
# driving directions; the first two are plain text, see `_kml_style`).
KML_BALLOON = "$[description]"


def kml_colour(css: str) -> str:
    """ "#b3261e" -> "ff1e26b3": KML writes colours alpha first and blue before red (aabbggrr)."""
    red, green, blue = css[1:3], css[3:5], css[5:7]
    return f"ff{blue}{green}{red}".lower()


def _style_id(family: str) -> str:
    """One Style per family, as the map has one marker style per family (ids apart from placemarks' "p-")."""
    return f"family-{family}"


def to_kml(locations: tuple[dict[str, Any], ...] | list[dict[str, Any]], title: str = "newsmap places") -> bytes:
    """KML 2.2 of one article: a Folder per category, in legend order, of a styled Placemark per place
    (the quote as its description, the columns as ExtendedData): Google Earth's sidebar then reads
    like the map's legend."""
    return "\n".join([_kml_head(title), *_category_folders(locations), KML_TAIL]).encode("utf-8")


def _kml_head(title: str) -> str:
    return "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<kml xmlns="http://www.opengis.net/kml/2.2">',
            "<Document>",
            f"<name>{xml_text(title)}</name>",
            *(_kml_style(family) for family in FAMILIES),
        ]
    )


def _kml_style(family: str) -> str:
    """An icon tinted the family's map colour, centred on the point as the map's markers are.

    The balloon is the description alone (`KML_BALLOON`): Google Earth's default balloon would
    also paste the name and the ExtendedData columns into its HTML, and those are plain text
    (the article's own characters, kept exact for GIS tools), not escaped for HTML."""
    css, icon = KML_STYLES[family]
    return (
        f'<Style id="{_style_id(family)}"><IconStyle><color>{kml_colour(css)}</color><scale>1.1</scale>'
        f"<Icon><href>{KML_ICONS}{icon}</href></Icon>"
        '<hotSpot x="0.5" y="0.5" xunits="fraction" yunits="fraction"/></IconStyle>'
        f"<LabelStyle><scale>0.8</scale></LabelStyle><BalloonStyle><text>{KML_BALLOON}</text></BalloonStyle></Style>"
    )


def kml_html_text(value: str) -> str:
    """Text for a KML element Google Earth renders as HTML (`<description>`): escaped for HTML, then
    for XML, so an `<img onerror=…>` an article quotes is shown as those characters, never run.
    Escaping for XML alone is undone by the XML parser and leaves the markup for the HTML renderer."""
    return xml_text(html.escape(value, quote=False))


def legend_rank(label: str) -> tuple[int, str]:
    """Where a category comes in the legend: by family (military, proposed, meeting, other), then by
    label, so "Chinese military facility" and "Russian military facility" keep one order on every run."""
    return (FAMILIES.index(category_family(label)), label)


def _category_folders(rows: Iterable[dict[str, Any]]) -> list[str]:
    """A Folder per category, in legend order, holding its places in the order the article gives them."""
    by_label: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_label.setdefault(row["category"], []).append(row)
    return [
        f"<Folder><name>{xml_text(label)}</name>\n"
        + "\n".join(_placemark(row) for row in by_label[label])
        + "\n</Folder>"
        for label in sorted(by_label, key=legend_rank)
    ]


def _placemark(row: dict[str, Any]) -> str:
    data = "".join(
        f'<Data name="{field}"><value>{xml_text(format_value(field, row[field]))}</value></Data>'
        for field in LOCATION_FIELDS
    )
    return (
        f'<Placemark id="{xml_text(_xml_id(row))}"><name>{xml_text(row["name"])}</name>'
        f"<description>{kml_html_text(row['quote'])}</description>"
        f"<styleUrl>#{_style_id(category_family(row['category']))}</styleUrl>"
        f"<ExtendedData>{data}</ExtendedData>"
        f"<Point><coordinates>{row['lon']:.5f},{row['lat']:.5f}</coordinates></Point></Placemark>"
    )


# --------------------------------------------------------------------------- streamed exports
# The whole library's downloads are written row by row from the database (`Store.iter_places`):
# their size grows with the library, so they are never held in memory whole.


def iter_csv(rows: Iterable[dict[str, Any]], fields: tuple[str, ...], *, formula_safe: bool = True) -> Iterator[bytes]:
    """The bytes of `encode_csv(rows, fields)`, in chunks of a few hundred rows."""
    yield encode_csv([], fields, formula_safe=formula_safe)
    for batch in _batches(rows):
        yield encode_csv(batch, fields, formula_safe=formula_safe, header=False)


def iter_geojson(rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """A FeatureCollection of every place, a feature id "<article>#<id>" (unique in the library)."""
    yield b'{"type": "FeatureCollection", "features": ['
    yield from _json_items(_feature(row, f"{row['article']}#{row['id']}") for row in rows)
    yield b"]}\n"


def iter_kml(rows: Iterable[dict[str, Any]], title: str = "newsmap places") -> Iterator[bytes]:
    """KML 2.2 of the whole library, a chunk per article: a Folder named after each article holding
    its category folders as `to_kml` writes them, so an article reads the same in both files.

    `rows` must come grouped by article (as `Store.iter_places` gives them, by article then
    position): only one article's rows are held at a time, however large the library.
    """
    yield _kml_head(title).encode("utf-8")
    for article, places in itertools.groupby(rows, key=lambda row: row["article"]):
        folders = "\n".join(_category_folders(places))
        yield f"\n<Folder><name>{xml_text(article)}</name>\n{folders}\n</Folder>".encode()
    yield ("\n" + KML_TAIL).encode("utf-8")


def iter_json_list(rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    yield b"["
    yield from _json_items(rows, first=b"\n")
    yield b"\n]\n"


def _json_items(items: Iterable[Any], first: bytes = b"") -> Iterator[bytes]:
    """JSON values joined by ",\n" (`first` before the first), a few hundred to a chunk."""
    separator = first
    for batch in _batches(items):
        yield separator + ",\n".join(json.dumps(item, ensure_ascii=False) for item in batch).encode("utf-8")
        separator = b",\n"


def _batches(rows: Iterable[Any], size: int = 500) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def to_json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=False).encode("utf-8")

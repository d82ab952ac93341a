"""`newsmap export OUT/`: the library as a static site, for any web host or CDN, for years.

The pages are the server's own, built by the same `Site` from the same database in its export
mode (no editor links, no search box, no calls to the API), then written as files whose links
are relative: the folder works wherever it is put, under any path, and from `file://` where a
browser allows it. Scripts and stylesheets get content-hashed names (`newsmap.3f2a1c9b0d.js`),
so a CDN may cache them for ever. The same data exported twice gives the same bytes.

Layout: `index.html` and `pages/<n>.html` (the library; its map's data, every place of the exported
articles, in `library/map.json` and, past `Config.map_limit` places, the tiles it gathers them in,
`library/map/<z>/<x>/<y>.json`), `articles/<slug>/index.html` with the
article's downloads beside it (`locations.csv`, `locations-excel.csv`, `mentions.csv`,
`locations.geojson`, `locations.kml`, `article.json`, `places.json`, `corrections.csv`,
`corrections.json`, `basemap.geojson`, and `embed/index.html`), `collections/index.html` and
`collections/<slug>/` (each collection's page, its downloads, `embed/index.html` and, with a base
URL, `feed.atom`), `places/<key>/` (a place two or more exported articles name: its pages `index.html` and
`pages/<n>.html`, their JSON `place.json` and `pages/<n>.json`, and every mention of it, `mentions.csv`,
`.geojson`, `.kml` and `.json`), `data/` (the whole library's
CSV, GeoJSON and KML), `articles.json`, `feed.atom`, `static/`, `vendor/`, and `basemap/<level>/<x>/<y>.json`:
the offline basemap's cells, each written once for all the articles whose pages may ask for it.

OUT is the user's folder too: a host's `CNAME`, a `.git/`, a README may sit beside the export.
So the export lists the files it wrote in a manifest (`.newsmap-export.json`: each path with
its size and SHA-256), and a later export replaces or removes only files that manifest lists;
anything else is kept untouched. A non-empty OUT with no manifest (not made by newsmap) is
refused, and so is a file of the user's at a path the export would write: both say which
and change nothing.

Crash safety: every file is rendered into a folder beside OUT first (a failure there leaves OUT
as it was); then each is renamed into place (a reader sees the old file or the new, never
half), scripts, data and basemap cells before the pages that link to them. The manifest on disk
always lists every file newsmap may have put in OUT (the old and new lists together while files
move), so an interrupted export is finished by the next one instead of leaving files it no
longer recognises; the final manifest is written last. Files whose bytes did not change are
left as they are (same mtime), so a sync to a host sends only what changed.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import posixpath
import re
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

from jinja2 import Environment

from newsmap.atomic import replace_file
from newsmap.dataset import LOCATION_FIELDS, MENTION_FIELDS, iter_csv, iter_geojson, iter_kml
from newsmap.placequeries import key_candidates, place_name, shared_keys
from newsmap.schema import key_slug
from newsmap.serve import basemap
from newsmap.serve.collection_pages import export_collections
from newsmap.serve.collection_pages import export_target as collection_target
from newsmap.serve.embed import render_embed
from newsmap.serve.librarymap import Filter, export_map
from newsmap.serve.pages import csp_without
from newsmap.serve.placefiles import FILES as PLACE_FILES
from newsmap.serve.placefiles import file_bytes as place_file_bytes
from newsmap.serve.placepage import export_files as place_export_files
from newsmap.serve.site import Config, Site
from newsmap.store import Store, StoreError

MANIFEST = ".newsmap-export.json"  # in every export: the files the next export may replace or remove
MANIFEST_FORMAT = "newsmap-export/1"
# Exports made before the manifest marked themselves with this file alone (and were swapped in
# whole): such a folder is adopted (see `_previous_export`) and the mark removed.
LEGACY_MARK = ".newsmap-export"
_ATTRIBUTE = re.compile(r'(\s(?:href|src|data-page|data-embed|data-path|data-basemap-script|data-phone-script|data-details-script|data-details|data-script|data-tiles-script)=")(/[^"/][^"]*|/)(")')
_CANONICAL = re.compile(r'<link rel="canonical" href="[^"]*">\n?')
_OEMBED = re.compile(r'<link rel="alternate" type="application/json\+oembed"[^>]*>\n?')
_FEED_LINK = re.compile(r'<link rel="alternate" type="application/atom\+xml"[^>]*>\n?| · <a href="(?:/collections/[^"/]+)?/feed.atom">[^<]*</a>')
_CHARSET = '<meta charset="utf-8">'
ARTICLE_FILES = {  # server path under /articles/<slug>/ -> file beside the article's page
    "locations.csv": "locations.csv",
    "locations.csv?bom=1": "locations-excel.csv",
    "mentions.csv": "mentions.csv",
    "locations.geojson": "locations.geojson",
    "locations.kml": "locations.kml",
    "basemap.geojson": "basemap.geojson",
    "corrections.csv": "corrections.csv",
    "corrections.json": "corrections.json",
}


class ExportError(RuntimeError):
    """The export cannot be made; one line for the user."""


FileEntry = dict[str, int | str]  # a manifest row: {"bytes": size, "sha256": hex digest}


@dataclass
class _Previous:
    """What an earlier export left in OUT: the files newsmap may replace or remove there."""

    files: dict[str, FileEntry] = field(default_factory=dict)
    adopted: bool = False  # an export from before the manifest: its files are not listed


@dataclass
class Exported:
    out: Path
    articles: int = 0
    files: int = 0
    bytes: int = 0
    unmapped: list[str] = field(default_factory=list)  # links to server-only pages, left out


def target(url: str) -> str | None:
    """The export's file for a server URL (path, query and fragment), or None for a server-only page."""
    parts = urlsplit(url)
    path, query, fragment = parts.path, parse_qs(parts.query), f"#{parts.fragment}" if parts.fragment else ""
    segments = [s for s in path.split("/") if s]
    found: str | None = None
    if path == "/":
        page = query.get("page", ["1"])[0]
        found = "index.html" if page in ("", "1") else f"pages/{int(page)}.html" if page.isdigit() else None
    elif len(segments) == 2 and segments[0] == "articles":
        found = f"articles/{segments[1]}/index.html"
    elif len(segments) == 3 and segments[0] == "articles":
        name = segments[2] + ("?bom=1" if query.get("bom") == ["1"] else "")
        found = f"articles/{segments[1]}/{ARTICLE_FILES[name]}" if name in ARTICLE_FILES else None
        found = f"articles/{segments[1]}/embed/index.html" if segments[2] == "embed" else found
    elif segments[:2] == ["api", "articles"]:
        found = {2: "articles.json"}.get(len(segments))
        if len(segments) in (3, 4) and segments[3:] in ([], ["places"], ["corrections"]):
            name = {(): "article.json", ("places",): "places.json", ("corrections",): "corrections.json"}
            found = f"articles/{segments[2]}/{name[tuple(segments[3:])]}"
    elif segments[:1] == ["places"] or segments[:2] == ["api", "places"]:
        found = _place_target(segments, query)
    elif segments and segments[0] == "data" and len(segments) == 2:
        found = f"data/{segments[1]}"
    elif path in ("/feed.atom", "/favicon.ico"):
        found = path[1:]
    elif segments[:1] == ["collections"]:
        found = collection_target(segments, query.get("bom") == ["1"])
    return found + fragment if found is not None else None


def _place_target(segments: list[str], query: dict[str, list[str]]) -> str | None:
    """A place's page (`/places/<key>?page=n`), its JSON twin (`/api/places/<key>`) or its downloads,
    as files under `places/<key>/` (`index.html`, `pages/<n>.html`, `place.json`, `pages/<n>.json`)."""
    api = segments[0] == "api"
    rest = [unquote(s) for s in segments[2 if api else 1 :]]
    page = query.get("page", ["1"])[0]
    if not rest or not key_candidates(rest[0]) or not page.isdigit() or int(page) < 1:
        return None  # not a key (`/api/places/<id>` of an old link: the server's alone)
    folder = f"places/{rest[0]}"
    if len(rest) == 1:
        name = ("place.json" if api else "index.html") if int(page) == 1 else f"pages/{int(page)}.{'json' if api else 'html'}"
        return f"{folder}/{name}"
    return f"{folder}/{rest[1]}" if not api and len(rest) == 2 and rest[1] in PLACE_FILES else None


def relative(file: str, page: str) -> str:
    """`file` as a link from `page` (both relative to the export's root)."""
    return posixpath.relpath(file, posixpath.dirname(page) or ".")


class _Writer:
    """Files written into the folder being made, with the static files they link to, hashed."""

    def __init__(self, root: Path, static: dict[str, bytes], base_url: str) -> None:
        self.root = root
        self.static = static
        self.base_url = base_url.rstrip("/") + "/" if base_url else ""
        self.hashed: dict[str, str] = {}
        self.result = Exported(root)
        self.files: dict[str, FileEntry] = {}  # what the manifest will list, hashed as written

    def write(self, name: str, body: bytes | Iterable[bytes]) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        with open(path, "wb") as handle:
            for chunk in [body] if isinstance(body, bytes) else body:
                handle.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        self.result.bytes += size
        self.result.files += 1
        self.files[name] = {"bytes": size, "sha256": digest.hexdigest()}

    def page(self, name: str, html: bytes, csp: str) -> None:
        """A page with relative links, its CSP as a `<meta>` (a static host sends no headers)."""
        text = html.decode("utf-8")
        canonical = target_of_canonical(text)
        text = _CANONICAL.sub("", text)
        text = _OEMBED.sub("", text)
        if not self.base_url:  # a feed needs the site's address: without --base-url there is none
            text = _FEED_LINK.sub("", text)
        if self.base_url and canonical is not None:
            absolute = self.base_url + canonical.removesuffix("index.html")
            text = text.replace(_CHARSET, f'{_CHARSET}\n<link rel="canonical" href="{absolute}">', 1)
        policy = csp_without(csp, "frame-ancestors")
        meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        text = text.replace(_CHARSET, f"{_CHARSET}\n{meta}", 1)
        text = _ATTRIBUTE.sub(lambda m: m[1] + self._link(m[2], name) + m[3], text)
        self.write(name, text.encode("utf-8"))

    def _link(self, url: str, page: str) -> str:
        if url.startswith(("/static/", "/vendor/")) and url in self.static:
            return relative(self._hashed(url), page)
        found = target(url)
        if found is None:
            self.result.unmapped.append(url)
            return "#"
        return quote(relative(found, page), safe="/#:")  # a key may hold a space: written %20 in a link

    def _hashed(self, url: str) -> str:
        """`/static/newsmap.js` -> `static/newsmap.<hash>.js`, written once. Leaflet's images keep
        their names: its stylesheet asks for them as `images/<name>`."""
        if url not in self.hashed:
            body = self.static[url]
            name = url.lstrip("/")
            if "/images/" not in url:
                stem, dot, suffix = name.rpartition(".")
                name = f"{stem}.{hashlib.sha256(body).hexdigest()[:10]}{dot}{suffix}"
            self.hashed[url] = name
            self.write(name, body)
            if url.endswith("leaflet.css"):
                for image in sorted(u for u in self.static if u.startswith("/vendor/leaflet/images/")):
                    self._hashed(image)
        return self.hashed[url]


def target_of_canonical(html: str) -> str | None:
    match = _CANONICAL.search(html)
    if match is None:
        return None
    return target(match[0].split('href="', 1)[1].split('"', 1)[0])


def export_site(
    db: Path,
    out: Path,
    templates: Environment,
    static_dir: Path,
    vendor_files: dict[str, Path],
    *,
    slugs: list[str] | None = None,
    base_url: str = "",
    tiles: str = "offline",
    tiles_attribution: str = "",
    progress: Callable[[str], None] = lambda _: None,
) -> Exported:
    """Write the library (or the articles `slugs` names) as a static site into `out`, keeping
    whatever in `out` an earlier export did not write."""
    previous = _previous_export(out)
    try:
        store = Store.open(db, create=False)
    except StoreError as error:
        raise ExportError(str(error)) from None
    try:
        chosen = sorted(set(slugs)) if slugs else [info.slug for info in store.infos()]
        unknown = [slug for slug in chosen if store.info(slug) is None]
        if unknown:
            raise ExportError(f"no article {unknown[0]!r} in the library")
        config = Config(
            db=db, tiles=tiles, tiles_attribution=tiles_attribution, exported=True, cache_entries=1, cache_bytes=1,
            only=frozenset(chosen) if slugs else None,
        )  # fmt: skip
        site = Site(config, templates, static_dir, vendor_files)
        static = {url: asset.body for url, asset in site.static_assets.items()}
        building = out.parent / f".{out.name}.partial-{os.getpid()}"
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir(parents=True)
        try:
            writer = _Writer(building, static, base_url)
            _write_all(site, store, writer, chosen, progress)
            _commit(building, out, writer.files, previous)
        finally:
            shutil.rmtree(building, ignore_errors=True)
            site.reset()
    finally:
        store.close()
    writer.result.out = out
    writer.result.articles = len(chosen)
    return writer.result


def _write_all(site: Site, store: Store, writer: _Writer, chosen: list[str], progress: Callable[[str], None]) -> None:
    for number, slug in enumerate(chosen, start=1):
        _write_article(site, writer, slug)
        if number % 100 == 0:
            progress(f"{number} of {len(chosen)} articles")
    pages = max(1, -(-store.count("", site.config.only) // site.config.page_size))
    for page in range(1, pages + 1):
        built = site.library(Filter(), page)
        writer.page("index.html" if page == 1 else f"pages/{page}.html", built.assets["/"].body, built.csp["/"])
    keep = set(chosen)
    places = lambda: (row for row in store.iter_places() if row["article"] in keep)  # noqa: E731
    mentions = (row for row in store.iter_mentions() if row["article"] in keep)
    writer.write("data/locations.csv", iter_csv(places(), LOCATION_FIELDS))
    writer.write("data/mentions.csv", iter_csv(mentions, MENTION_FIELDS))
    writer.write("data/locations.geojson", iter_geojson(places()))
    writer.write("data/locations.kml", iter_kml(places()))
    writer.write("articles.json", site.library_index().assets["/api/articles"].body)
    writer.write("favicon.ico", writer.static["/static/favicon.ico"])  # where browsers ask for it at a site's root
    export_map(site, writer.write)  # the library's map: every place of the exported articles
    collection_pages = export_collections(site, store, writer)  # their pages, downloads, embeds and feeds
    _write_basemap(writer, [store.places(slug) for slug in chosen] + [list(places())] + collection_pages)
    _write_places(site, store, writer)
    if writer.base_url:  # links in a feed must be absolute to be followed from a feed reader
        writer.write("feed.atom", site.feed(writer.base_url.rstrip("/")).assets["/feed.atom"].body)


def _write_article(site: Site, writer: _Writer, slug: str) -> None:
    built = site.article(slug)
    if built is None:
        return
    base, api = f"/articles/{slug}", f"/api/articles/{slug}"
    writer.page(f"articles/{slug}/index.html", built.assets[base].body, built.csp[base])
    for path, name in ARTICLE_FILES.items():
        asset = built.assets.get(f"{base}/{path}")
        if asset is not None:
            writer.write(f"articles/{slug}/{name}", asset.body)
    writer.write(f"articles/{slug}/article.json", built.assets[api].body)
    writer.write(f"articles/{slug}/places.json", built.assets[f"{api}/places"].body)
    embed = render_embed(site, slug)
    if embed is not None:
        writer.page(f"articles/{slug}/embed/index.html", *embed)


def _write_places(site: Site, store: Store, writer: _Writer) -> None:
    """The page (and JSON twin) of every place two or more exported articles name, with its downloads:
    exactly the places whose article pages link a place page ("Also in N other articles"). A place one
    article names has nothing its article's page does not show, and a page per place would double
    the files of an export."""
    for key in shared_keys(store.conn, site.config.only):
        for name, body, csp in place_export_files(site, store, key):
            if csp:
                writer.page(name, body, csp)
            else:
                writer.write(name, body)
        title = f"{place_name(store.conn, key)} across the library"
        for name in PLACE_FILES:
            writer.write(f"places/{key_slug(key)}/{name}", place_file_bytes(store, key, name, title, site.config.only))


def _write_basemap(writer: _Writer, places_by_page: list[list[dict]]) -> None:
    """The offline basemap's cells the pages may ask for (`basemap.spec`: every world and region cell,
    the detail cells around each page's places), once each, at the root (`basemap/`, `../../basemap`
    from an article's page), not once per article."""
    for level, x, y in basemap.export_cells(places_by_page):
        body = basemap.cell_body(level, x, y)
        if body is not None:
            writer.write(f"basemap/{level}/{x}/{y}.json", body)


def _previous_export(out: Path) -> _Previous:
    """The files an earlier export wrote into `out`, read before any work (a refusal costs nothing)."""
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out}: is a file, not a folder")
    if not out.is_dir():
        return _Previous()
    if (out / MANIFEST).is_file():
        return _Previous(_read_manifest(out))
    if (out / LEGACY_MARK).is_file():
        # Made by a newsmap that swapped the whole folder in, so what sits at the paths this export
        # writes is taken to be its own; the rest is kept, as files a user added would be.
        return _Previous({LEGACY_MARK: _entry(out / LEGACY_MARK)}, adopted=True)
    if any(not _manifest_temporary(child.name) for child in out.iterdir()):
        raise ExportError(
            f"{out}: holds other files and is not an earlier export (no {MANIFEST}): choose an empty or new "
            "folder; files you add beside an export later are kept"
        )
    return _Previous()


def _read_manifest(out: Path) -> dict[str, FileEntry]:
    """The manifest's files, checked: its paths are deleted from, so none may leave `out`."""
    path = out / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data["files"] if isinstance(data, dict) and data.get("format") == MANIFEST_FORMAT else None
        if not isinstance(files, dict):
            raise ValueError(f"not a {MANIFEST_FORMAT} manifest")
        for name, entry in files.items():
            if not _inside(name):
                raise ValueError(f"it lists {name!r}, outside the folder")
            if not isinstance(entry, dict) or not isinstance(entry.get("bytes"), int) or "sha256" not in entry:
                raise ValueError(f"its entry for {name!r} has no size and hash")
    except (OSError, UnicodeDecodeError, ValueError, KeyError) as error:
        raise ExportError(f"{path}: unreadable ({error}): repair or remove it; nothing was changed") from None
    return files


def _inside(name: str) -> bool:
    """A relative POSIX path that stays inside the folder (no absolute path, `..`, `.` or empty part)."""
    parts = name.split("/")
    return bool(name) and name != MANIFEST and "\\" not in name and all(part not in ("", ".", "..") for part in parts)


def _manifest_temporary(name: str) -> bool:
    """A temporary file `replace_file` left beside the manifest when a run was killed: ours to sweep."""
    return name.startswith(f".{MANIFEST}.") and name.endswith(".tmp")


def _entry(path: Path) -> FileEntry:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def _clashes(out: Path, new: dict[str, FileEntry], previous: _Previous) -> dict[str, str]:
    """Paths the export would write (or make a folder at) that hold something it did not write,
    each with why; checked before anything in `out` changes."""
    found: dict[str, str] = {}
    for name in sorted(new):
        target = out / name
        if target.is_dir() and not target.is_symlink():
            found[name] = "a folder where the export writes a file"
        elif (target.exists() or target.is_symlink()) and name not in previous.files and not previous.adopted:
            found[name] = "the export would overwrite it"
        parents = name.split("/")[:-1]
        for depth in range(1, len(parents) + 1):
            folder = "/".join(parents[:depth])
            if (out / folder).exists() and not (out / folder).is_dir() and folder not in previous.files:
                found[folder] = "a file where the export needs a folder"
    return found


def _commit(building: Path, out: Path, new: dict[str, FileEntry], previous: _Previous) -> None:
    """Move the files made in `building` into `out`; remove the earlier export's files this one no
    longer writes; leave every other file in `out` as it is."""
    clashes = _clashes(out, new, previous)
    if clashes:
        name, why = next(iter(clashes.items()))
        more = f" (and {len(clashes) - 1} more)" if len(clashes) > 1 else ""
        raise ExportError(
            f"{out / name}: not written by an earlier export, and {why}{more}: move it away or export into "
            "another folder; nothing was changed"
        )
    out.mkdir(parents=True, exist_ok=True)
    for child in out.iterdir():
        if _manifest_temporary(child.name) and child.is_file():
            child.unlink()
    if not new.keys() <= previous.files.keys():  # the manifest must name a file before it can appear
        _write_manifest(out, {**previous.files, **new})
    # Scripts, data and cells first, pages after them, the front page last: a reader who gets a new
    # page finds what it links to.
    for name in sorted(new, key=lambda n: (n.endswith(".html"), n == "index.html", n)):
        _place(building / name, out, name, new[name], previous.files)
    for name in sorted(previous.files.keys() - new.keys()):
        _remove(out, name)
    _write_manifest(out, new)


def _place(source: Path, out: Path, name: str, entry: FileEntry, earlier: dict[str, FileEntry]) -> None:
    """One file into place by a rename; an unchanged file is left alone (its mtime too)."""
    target = out / name
    unchanged = earlier.get(name) == entry and target.is_file() and target.stat().st_size == entry["bytes"]
    if unchanged and _entry(target) == entry:  # read only when it is likely the same
        return
    parents = name.split("/")[:-1]
    for depth in range(1, len(parents) + 1):  # an earlier export's file where this one needs a folder
        folder = "/".join(parents[:depth])
        if folder in earlier and (out / folder).is_file():
            (out / folder).unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(source, target)
    except OSError as error:
        if error.errno != errno.EXDEV:  # OUT on another file system than the folder beside it
            raise
        temporary = target.with_name(f".{target.name}.newsmap-{os.getpid()}.tmp")
        try:
            shutil.copyfile(source, temporary)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink()  # never left among the user's files
            raise


def _remove(out: Path, name: str) -> None:
    """An earlier export's file this one does not write, then its folders if that left them empty."""
    path = out / name
    if path.is_dir() and not path.is_symlink():
        return  # a user's folder now stands there: not ours
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    folder = path.parent
    while folder != out:
        try:
            folder.rmdir()  # only if empty: a file the user put there keeps its folder
        except OSError:
            return
        folder = folder.parent


def _write_manifest(out: Path, files: dict[str, FileEntry]) -> None:
    """The same files give the same bytes (sorted, no dates), so two exports of the same data match."""
    data = {
        "format": MANIFEST_FORMAT,
        "about": "The files `newsmap export` wrote here: the next export replaces or removes only these "
        "and keeps every other file in this folder.",
        "files": {name: files[name] for name in sorted(files)},
    }
    body = (json.dumps(data, indent=1, sort_keys=True) + "\n").encode("utf-8")
    path = out / MANIFEST
    if not (path.is_file() and path.stat().st_size == len(body) and path.read_bytes() == body):
        replace_file(path, body)  # unchanged, it keeps its date like the files it lists


def iter_files(root: Path) -> Iterator[Path]:
    """Every file of an export, in a stable order (for checks and benchmarks)."""
    return iter(sorted(p for p in root.rglob("*") if p.is_file()))

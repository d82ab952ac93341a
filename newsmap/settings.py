"""Every setting newsmap reads from the environment, in one place.

`SETTINGS` is the table the README's configuration section mirrors (a test compares them);
`Settings.from_env()` turns the environment into typed values. No other module reads
`os.environ`, so what can be configured is exactly what this file lists.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'


@dataclass(frozen=True)
class Setting:
    env: str
    default: str  # as the README shows it; "" means unset
    meaning: str


SETTINGS: tuple[Setting, ...] = (
    Setting("HOST", "127.0.0.1", "Where `make run`, `make serve`, `newsmap run` and `newsmap serve` listen."),
    Setting("PORT", "5000", "The port they listen on."),
    Setting("NEWSMAP_DATA_DIR", "data", "Folder of the exports `locations.csv` and `mentions.csv` that `newsmap build` writes, relative to the current folder."),
    Setting("NEWSMAP_DB", "data/newsmap.db", "The SQLite database (WAL) that holds every article, place, mention and editor; the app reads and writes only this. Unset: `newsmap.db` in `NEWSMAP_DATA_DIR`."),
    Setting("NEWSMAP_SEEDS_DIR", "seeds", "Folder of articles: `<slug>.txt`, with optional `<slug>.json` metadata (`title`, `publisher`, `published`, `url`)."),
    Setting("NEWSMAP_HOME_ARTICLE", "", "Slug of an article `/` shows instead of the library (a site for one story); unset, `/` is the library."),
    Setting("NEWSMAP_TILES", OSM_TILES, "Tile URL template, or `offline` for newsmap's own basemap only (land, water, boundaries, towns; no other origin asked)."),
    Setting("NEWSMAP_TILES_ATTRIBUTION", "OpenStreetMap's", "Attribution shown for those tiles."),
    Setting("NEWSMAP_GEOCODER", "offline", "`offline` or `nominatim` for the build (same as `--geocoder`)."),
    Setting("NEWSMAP_GAZETTEER", "data/gazetteer.csv", "The curated gazetteer the build reads (same as `--gazetteer`); the default is the copy shipped with newsmap."),
    Setting("NEWSMAP_NOMINATIM_URL", "https://nominatim.openstreetmap.org", "Nominatim server for `--geocoder nominatim`."),
    Setting("NEWSMAP_NOMINATIM_DELAY", "1.0", "Seconds between Nominatim requests (the public server allows one a second)."),
    Setting("NEWSMAP_NOMINATIM_TIMEOUT", "10", "Seconds to wait for a Nominatim answer."),
    Setting("NEWSMAP_NOMINATIM_CACHE", "", "On-disk cache of Nominatim answers; unset, `nominatim.json` in the cache folder."),
    Setting("NEWSMAP_CACHE_DIR", "~/.cache/newsmap", "Where the GeoNames index (SQLite, built once, ~50 MB) is kept, shared by every folder you build in (`$XDG_CACHE_HOME/newsmap` when `XDG_CACHE_HOME` is set)."),
    Setting("NEWSMAP_MAX_ARTICLE_KB", "500", "Largest article the build (and later the web and API) accepts, in kilobytes of UTF-8; a bigger one is skipped with a one-line reason."),
    Setting("NEWSMAP_MAX_PLACES", "1000", "Most places one article may name; an article with more is skipped with a one-line reason."),
    Setting("NEWSMAP_MAX_MENTIONS", "10000", "Most place mentions one article may hold; likewise."),
    Setting("NEWSMAP_GEOPARSE_TIMEOUT", "30", "Seconds an article added from the web, the API or `newsmap add` may take to geoparse (in a child process beside the server); past it the add fails with a message and changes nothing."),
    Setting("NEWSMAP_SECRET_KEY", "", "Key that signs session cookies and CSRF tokens; unset, a random key is made once in the file `secret_key` (mode 0600) in the database's folder, shared by every worker. Never kept in the database."),
    Setting("NEWSMAP_HTTPS", "0", "`1` when served over HTTPS: session cookies get `Secure`. Which proxy headers to trust is `NEWSMAP_PROXIES`."),
    Setting("NEWSMAP_PROXIES", "0", "How many reverse proxies stand in front of newsmap, each appending to `X-Forwarded-For` and setting `X-Forwarded-Proto`: the client's address (which rate limits count by) and scheme are taken from the last that many. `0` trusts no such header (a client could name any address); `1` behind one nginx as shown above."),
    Setting("NEWSMAP_WRITE_LIMIT", "30 per hour;200 per day", "Rate limit on adding and deleting articles, per editor and per address (Flask-Limiter syntax; counted in `limits.db` beside the database, shared by every worker)."),
    Setting("NEWSMAP_EDIT_LIMIT", "300 per hour;2000 per day", "Rate limit on editors' corrections (moving, editing, adding and removing places and mentions, undo, revert), per editor and per address, counted like `NEWSMAP_WRITE_LIMIT`."),
    Setting("NEWSMAP_ALLOW_PRIVATE_URLS", "0", "`1` lets URL import fetch private, loopback and link-local addresses (never on a public server)."),
    Setting("NEWSMAP_URL_TIMEOUT", "10", "Seconds a URL import may take to answer."),
    Setting("NEWSMAP_EMBED_ORIGINS", "*", "Sites whose pages may show `/articles/<slug>/embed` in an `<iframe>`: `*` for any, or origins such as `https://news.example.org` separated by spaces or commas; set but empty (or `none`), no site may. Every other page refuses to be framed."),
)  # fmt: skip


def bundled(relative: str) -> Path:
    """A file shipped with newsmap: inside the installed package, or at the top of a source checkout.

    The wheel puts `templates/`, `static/` and `data/gazetteer.csv` inside the package
    (pyproject's force-include); a checkout keeps them at the top level, as the design card says.
    """
    inside = PACKAGE_DIR / relative
    return inside if inside.exists() else PACKAGE_DIR.parent / relative


def _positive(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not number > 0:
        raise ValueError(f"{name} must be a positive number, not {value!r}")
    return number


def _flag(name: str, value: str) -> bool:
    if value not in ("0", "1"):
        raise ValueError(f"{name} must be 0 or 1, not {value!r}")
    return value == "1"


def _count(name: str, value: str) -> int:
    if not value.isdigit() or int(value) > 10:
        raise ValueError(f"{name} must be a number of proxies from 0 to 10, not {value!r}")
    return int(value)


ORIGIN = re.compile(r"https?://(\*\.)?([a-z0-9-]+(\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(:[0-9]{1,5})?")


def embed_origins(value: str) -> tuple[str, ...]:
    """NEWSMAP_EMBED_ORIGINS as CSP `frame-ancestors` sources: ("*",), (), or checked origins.

    Each origin is `http(s)://host[:port]` (a leading `*.` allows its subdomains), nothing more:
    a path, a quote or a semicolon would change what the page's CSP says, so it is refused here.
    """
    words = [word.rstrip("/").lower() for word in value.replace(",", " ").split()]
    if words == ["*"]:
        return ("*",)
    if words in ([], ["none"], ["'none'"]):
        return ()
    for word in words:
        if not ORIGIN.fullmatch(word):
            raise ValueError(
                f"NEWSMAP_EMBED_ORIGINS must be *, empty, or origins like https://news.example.org, not {word!r}"
            )
    return tuple(dict.fromkeys(words))


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    data_dir: Path
    db: Path
    seeds_dir: Path
    home_article: str
    tiles: str
    tiles_attribution: str
    geocoder: str
    gazetteer: Path
    nominatim_url: str
    nominatim_delay: float
    nominatim_timeout: float
    nominatim_cache: Path | None  # None: nominatim.json in the build's cache folder
    cache_dir: Path
    max_article_kb: float
    max_places: int
    max_mentions: int
    geoparse_timeout: float
    secret_key: str
    https: bool
    proxies: int  # trusted reverse proxies in front (X-Forwarded-For/-Proto); 0: none
    write_limit: str
    edit_limit: str
    allow_private_urls: bool
    url_timeout: float
    embed_origins: tuple[str, ...]  # ("*",): any site may frame the embed pages; (): none may

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Typed settings; an unset or empty variable takes its default (but NEWSMAP_EMBED_ORIGINS set
        empty means what it says: no site may frame the embeds)."""
        env = os.environ if environ is None else environ
        raw = {s.env: (env.get(s.env) or s.default) for s in SETTINGS}
        if env.get("NEWSMAP_CACHE_DIR") or not env.get("XDG_CACHE_HOME"):
            cache_dir = Path(raw["NEWSMAP_CACHE_DIR"]).expanduser()
        else:
            cache_dir = Path(env["XDG_CACHE_HOME"]) / "newsmap"
        port = raw["PORT"]
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"PORT must be a port number, not {port!r}")
        return cls(
            host=raw["HOST"],
            port=int(port),
            data_dir=Path(raw["NEWSMAP_DATA_DIR"]),
            db=Path(env["NEWSMAP_DB"]) if env.get("NEWSMAP_DB") else Path(raw["NEWSMAP_DATA_DIR"]) / "newsmap.db",
            seeds_dir=Path(raw["NEWSMAP_SEEDS_DIR"]),
            home_article=raw["NEWSMAP_HOME_ARTICLE"],
            tiles=raw["NEWSMAP_TILES"],
            tiles_attribution=env.get("NEWSMAP_TILES_ATTRIBUTION") or OSM_ATTRIBUTION,
            geocoder=raw["NEWSMAP_GEOCODER"],
            gazetteer=Path(env["NEWSMAP_GAZETTEER"]) if env.get("NEWSMAP_GAZETTEER") else bundled("data/gazetteer.csv"),
            nominatim_url=raw["NEWSMAP_NOMINATIM_URL"],
            nominatim_delay=float(raw["NEWSMAP_NOMINATIM_DELAY"]),
            nominatim_timeout=_positive("NEWSMAP_NOMINATIM_TIMEOUT", raw["NEWSMAP_NOMINATIM_TIMEOUT"]),
            nominatim_cache=Path(env["NEWSMAP_NOMINATIM_CACHE"]) if env.get("NEWSMAP_NOMINATIM_CACHE") else None,
            cache_dir=cache_dir,
            max_article_kb=_positive("NEWSMAP_MAX_ARTICLE_KB", raw["NEWSMAP_MAX_ARTICLE_KB"]),
            max_places=int(_positive("NEWSMAP_MAX_PLACES", raw["NEWSMAP_MAX_PLACES"])),
            max_mentions=int(_positive("NEWSMAP_MAX_MENTIONS", raw["NEWSMAP_MAX_MENTIONS"])),
            geoparse_timeout=_positive("NEWSMAP_GEOPARSE_TIMEOUT", raw["NEWSMAP_GEOPARSE_TIMEOUT"]),
            secret_key=raw["NEWSMAP_SECRET_KEY"],
            https=_flag("NEWSMAP_HTTPS", raw["NEWSMAP_HTTPS"]),
            proxies=_count("NEWSMAP_PROXIES", raw["NEWSMAP_PROXIES"]),
            write_limit=raw["NEWSMAP_WRITE_LIMIT"],
            edit_limit=raw["NEWSMAP_EDIT_LIMIT"],
            allow_private_urls=_flag("NEWSMAP_ALLOW_PRIVATE_URLS", raw["NEWSMAP_ALLOW_PRIVATE_URLS"]),
            url_timeout=_positive("NEWSMAP_URL_TIMEOUT", raw["NEWSMAP_URL_TIMEOUT"]),
            # Set but empty means "no site", not the default: the one setting where empty is a value.
            embed_origins=embed_origins(env.get("NEWSMAP_EMBED_ORIGINS", "*")),
        )
